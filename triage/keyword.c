/*
 * keyword.c: keyword sets (what they hold, their JSON form written out, their lexicon)
 * and the lexicon entries that base and set share. Reading sets is keyword_json.c, the
 * built-in words keyword_base.c, matching replies keyword_match.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms/utf8.h"
#include "triage/keyword_impl.h"

/* Built-in opt-out and opt-in words: no keyword set can take them over. */
const struct keyword keyword_builtins[] = {
	{.word = "STOP", .action = KEYWORD_OPT_OUT},
	{.word = "STOPALL", .action = KEYWORD_OPT_OUT},
	{.word = "UNSUBSCRIBE", .action = KEYWORD_OPT_OUT},
	{.word = "END", .action = KEYWORD_OPT_OUT},
	{.word = "CANCEL", .action = KEYWORD_OPT_OUT},
	{.word = "QUIT", .action = KEYWORD_OPT_OUT},
	{.word = "START", .action = KEYWORD_OPT_IN},
	{.word = "UNSTOP", .action = KEYWORD_OPT_IN},
};
const size_t keyword_nbuiltins = ARRAY_LEN(keyword_builtins);

static const char *const keyword_action_names[] = {
	[KEYWORD_OPT_OUT] = "opt_out", [KEYWORD_OPT_IN] = "opt_in", [KEYWORD_INFO] = "info",
	[KEYWORD_FLOW] = "flow", [KEYWORD_HELP_REQUEST] = "help_request",
};

const char *keyword_action_str(enum keyword_action a)
{
	return (size_t)a < ARRAY_LEN(keyword_action_names) ? keyword_action_names[a] : "unknown";
}

static const char *const keyword_reply_names[] = {
	[KEYWORD_REPLY_OPT_OUT] = "opt_out",
	[KEYWORD_REPLY_OPT_IN] = "opt_in",
	[KEYWORD_REPLY_INFO] = "info",
	[KEYWORD_REPLY_NOT_UNDERSTOOD] = "not_understood",
	[KEYWORD_REPLY_STRANGER] = "stranger",
	[KEYWORD_REPLY_HELP_REQUEST] = "help_request",
	[KEYWORD_REPLY_HELP_REQUEST_REPEAT] = "help_request_repeat",
	[KEYWORD_REPLY_DID_YOU_MEAN] = "did_you_mean",
	[KEYWORD_REPLY_WOULD_YOU_LIKE] = "would_you_like",
	[KEYWORD_REPLY_NOT_AN_ANSWER] = "not_an_answer",
	[KEYWORD_REPLY_WILL_CALL] = "will_call",
	[KEYWORD_REPLY_THANK_YOU] = "thank_you",
};

_Static_assert(ARRAY_LEN(keyword_reply_names) == KEYWORD_REPLY_COUNT, "a name for each reply");

const char *keyword_reply_str(enum keyword_reply r)
{
	return (size_t)r < ARRAY_LEN(keyword_reply_names) ? keyword_reply_names[r] : "unknown";
}

const struct keyword *keyword_builtin(const char *word)
{
	for (size_t i = 0; word && i < keyword_nbuiltins; i++)
		if (strcmp(keyword_builtins[i].word, word) == 0)
			return &keyword_builtins[i];
	return NULL;
}

/* ---- lexicon entries ---- */

void keyword_fold(const char *phrase, struct sbuf *out)
{
	struct keyword_text t;

	keyword_text_init(&t, phrase);
	for (size_t i = 0; i < t.n; i++) {
		if (!t.words[i].flen)
			continue;
		if (out->len)
			sbuf_addc(out, ' ');
		sbuf_add(out, keyword_text_fold(&t, i), t.words[i].flen);
	}
	keyword_text_free(&t);
}

void keyword_normalise(const char *text, struct sbuf *out)
{
	struct keyword_text t;

	keyword_text_init(&t, text);
	sbuf_add(out, sbuf_str(&t.norm), t.norm.len);
	keyword_text_free(&t);
}

struct keyword_lex_job {
	struct keyword_lex *lex;
	enum keyword_sense sense;
	const struct keyword *keyword;
	const char *lang;
	size_t max_words;
	struct sbuf *err;
};

static int keyword_lex_variant(const char *variant, void *arg)
{
	struct keyword_lex_job *j = arg;
	struct keyword_lex *lex = j->lex;
	struct keyword_text t;
	const char *words[KEYWORD_ALIAS_MAX_WORDS * 2];
	size_t lens[ARRAY_LEN(words)], n = 0;
	int rc = -1;

	keyword_text_init(&t, variant);
	for (size_t i = 0; i < t.n && n < ARRAY_LEN(words); i++) {
		if (!t.words[i].flen)
			continue;
		words[n] = keyword_text_fold(&t, i);
		lens[n++] = t.words[i].flen;
	}
	if (n == 0 || n > j->max_words || t.n > j->max_words) {
		sbuf_printf(j->err, "\"%s\" must have 1 to %zu words of letters or digits", variant,
			    j->max_words);
		goto out;
	}
	if (lex->n == lex->cap) {
		lex->cap = lex->cap ? lex->cap * 2 : 64;
		lex->entries = xrealloc(lex->entries, lex->cap * sizeof(*lex->entries));
	}
	struct keyword_entry *e = &lex->entries[lex->n];
	*e = (struct keyword_entry){ .sense = j->sense, .keyword = j->keyword };
	snprintf(e->lang, sizeof(e->lang), "%s", j->lang ? j->lang : "");
	struct sbuf form;
	sbuf_init(&form);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addc(&form, ' ');
		sbuf_add(&form, words[i], lens[i]);
	}
	e->form = sbuf_detach(&form);
	lexicon_add(lex->lx, words, lens, n, (uint32_t)lex->n);
	lex->n++;
	rc = 0;
out:
	keyword_text_free(&t);
	return rc;
}

int keyword_lex_add(struct keyword_lex *lex, const char *phrase, bool pattern,
		    enum keyword_sense sense, const struct keyword *k, const char *lang,
		    size_t max_words, struct sbuf *err)
{
	struct keyword_lex_job j = { lex, sense, k, lang, max_words, err };

	if (!lex->lx)
		lex->lx = lexicon_new();
	if (!pattern)
		return keyword_lex_variant(phrase, &j);
	if (lexicon_expand(phrase, keyword_lex_variant, &j, err) < 0) {
		sbuf_printf(err, " (in \"%s\")", phrase);
		return -1;
	}
	return 0;
}

void keyword_lex_free(struct keyword_lex *lex)
{
	for (size_t i = 0; i < lex->n; i++)
		free(lex->entries[i].form);
	free(lex->entries);
	lexicon_free(lex->lx);
	memset(lex, 0, sizeof(*lex));
}

const uint32_t *keyword_lex_whole(const struct keyword_lex *lex, const struct keyword_text *t,
				  const size_t *idx, size_t n, size_t *nvals)
{
	uint32_t node = LEXICON_ROOT;

	*nvals = 0;
	if (!lex->lx || n == 0)
		return NULL;
	for (size_t i = 0; i < n && node != LEXICON_NONE; i++)
		node = lexicon_step(lex->lx, node, keyword_text_fold(t, idx[i]), t->words[idx[i]].flen);
	return node == LEXICON_NONE ? NULL : lexicon_values(lex->lx, node, nvals);
}

/* ---- sets ---- */

struct keyword_set *keyword_set_new(const struct keyword_base *base)
{
	struct keyword_set *set = xcalloc(1, sizeof(struct keyword_set));

	set->base = base;
	keyword_set_compile(set);
	return set;
}

static void keyword_free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void keyword_clear(struct keyword *k)
{
	free(k->word);
	keyword_free_list(k->aliases, k->naliases);
	for (size_t i = 0; i < k->nlangs; i++)
		keyword_free_list(k->langs[i].forms, k->langs[i].n);
	free(k->langs);
	keyword_free_list(k->hints, k->nhints);
	free(k->target);
	free(k->answer);
	free(k->reply);
	texts_clear(&k->replies);
	free(k->label);
	texts_clear(&k->labels);
	memset(k, 0, sizeof(*k));
}

void keyword_set_free(struct keyword_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		keyword_clear(&set->items[i]);
	free(set->items);
	for (size_t i = 0; i < KEYWORD_REPLY_COUNT; i++)
		texts_clear(&set->replies[i]);
	keyword_free_list(set->not_typos, set->nnot_typos);
	keyword_lex_free(&set->lex);
	free(set->typos);
	free(set);
}

size_t keyword_set_count(const struct keyword_set *set)
{
	return set ? set->n : 0;
}

const struct keyword *keyword_set_get(const struct keyword_set *set, size_t i)
{
	return set && i < set->n ? &set->items[i] : NULL;
}

const struct keyword *keyword_set_find(const struct keyword_set *set, const char *word)
{
	const struct keyword *k = keyword_builtin(word);

	for (size_t i = 0; !k && word && i < keyword_set_count(set); i++)
		if (strcmp(set->items[i].word, word) == 0)
			k = &set->items[i];
	return k;
}

const struct keyword_base *keyword_set_base(const struct keyword_set *set)
{
	return set ? set->base : NULL;
}

const char *keyword_set_reply(const struct keyword_set *set, enum keyword_reply r,
			      const char *lang)
{
	const char *s;

	if (!set || (size_t)r >= KEYWORD_REPLY_COUNT)
		return NULL;
	s = texts_get(&set->replies[r], lang);
	return s ? s : texts_get(&set->replies[r], "en");
}

const char *keyword_reply_in(const struct keyword *k, const char *lang)
{
	const char *s = texts_get(&k->replies, lang);

	return s ? s : k->reply;
}

const char *keyword_label_in(const struct keyword *k, const char *lang)
{
	const char *s = texts_get(&k->labels, lang);

	return s ? s : k->label;
}

/* Calls fn(form, lang) for each word, alias and word in a language of k. */
static int keyword_each_form(const struct keyword *k, int (*fn)(const char *, const char *, void *),
			     void *arg)
{
	if (fn(k->word, NULL, arg) < 0)
		return -1;
	for (size_t i = 0; i < k->naliases; i++)
		if (fn(k->aliases[i], NULL, arg) < 0)
			return -1;
	for (size_t l = 0; l < k->nlangs; l++)
		for (size_t i = 0; i < k->langs[l].n; i++)
			if (fn(k->langs[l].forms[i], k->langs[l].lang, arg) < 0)
				return -1;
	return 0;
}

struct keyword_compiling {
	struct keyword_set *set;
	const struct keyword *k;
};

static void keyword_typo_add(struct keyword_set *set, const struct keyword *k, const char *form)
{
	size_t len = strlen(form);

	if (strchr(form, ' '))
		return;
	set->typos = xrealloc(set->typos, (set->ntypos + 1) * sizeof(*set->typos));
	set->typos[set->ntypos++] = (struct keyword_typo_form){ k, form, len, utf8_count(form, len) };
}

static int keyword_compile_form(const char *form, const char *lang, void *arg)
{
	struct keyword_compiling *c = arg;
	struct sbuf err;

	sbuf_init(&err);
	/* forms were checked when read: this cannot fail */
	if (keyword_lex_add(&c->set->lex, form, false, KEYWORD_SENSE_FORM, c->k, lang,
			    KEYWORD_ALIAS_MAX_WORDS, &err) == 0)
		keyword_typo_add(c->set, c->k, c->set->lex.entries[c->set->lex.n - 1].form);
	sbuf_free(&err);
	return 0;
}

static void keyword_compile_list(struct keyword_set *set, const struct keyword *k,
				 char *const *list, size_t n, enum keyword_sense sense)
{
	struct sbuf err;

	sbuf_init(&err);
	/* forms were checked when read: adding them cannot fail */
	for (size_t i = 0; i < n; i++)
		if (keyword_lex_add(&set->lex, list[i], false, sense, k, NULL,
				    KEYWORD_ALIAS_MAX_WORDS, &err) < 0)
			break;
	sbuf_free(&err);
}

void keyword_set_compile(struct keyword_set *set)
{
	keyword_lex_free(&set->lex);
	free(set->typos);
	set->typos = NULL;
	set->ntypos = 0;
	set->lex.lx = lexicon_new();
	for (size_t i = 0; i < keyword_nbuiltins; i++)
		keyword_typo_add(set, &keyword_builtins[i], keyword_builtins[i].word);
	for (size_t i = 0; i < set->n; i++) {
		struct keyword_compiling c = { set, &set->items[i] };
		(void)keyword_each_form(&set->items[i], keyword_compile_form, &c);
		keyword_compile_list(set, &set->items[i], set->items[i].hints, set->items[i].nhints,
				     KEYWORD_SENSE_HINT);
	}
	keyword_compile_list(set, NULL, set->not_typos, set->nnot_typos, KEYWORD_SENSE_NOT_TYPO);
}

struct keyword_owner_search {
	const char *folded;
	bool found;
};

static int keyword_form_is(const char *form, const char *lang, void *arg)
{
	struct keyword_owner_search *s = arg;
	struct sbuf f;

	(void)lang;
	sbuf_init(&f);
	keyword_fold(form, &f);
	s->found = strcmp(sbuf_str(&f), s->folded) == 0;
	sbuf_free(&f);
	return s->found ? -1 : 0;
}

const struct keyword *keyword_set_form_owner(const struct keyword_set *set, const char *form)
{
	struct sbuf folded;
	const struct keyword *owner = NULL;

	sbuf_init(&folded);
	keyword_fold(form, &folded);
	for (size_t i = 0; i < set->n && !owner; i++) {
		const struct keyword *k = &set->items[i];
		struct keyword_owner_search s = { sbuf_str(&folded), false };
		(void)keyword_each_form(k, keyword_form_is, &s);
		for (size_t h = 0; !s.found && h < k->nhints; h++)
			(void)keyword_form_is(k->hints[h], NULL, &s);
		if (s.found)
			owner = k;
	}
	sbuf_free(&folded);
	return owner;
}

/* ---- JSON out ---- */

static struct json_object *keyword_list_json(char *const *list, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(list[i]));
	return a;
}

static void keyword_add_opt(struct json_object *o, const char *key, struct json_object *v)
{
	if (v)
		json_object_object_add(o, key, v);
}

static struct json_object *keyword_to_json(const struct keyword *k)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "word", json_object_new_string(k->word));
	if (k->naliases)
		json_object_object_add(o, "aliases", keyword_list_json(k->aliases, k->naliases));
	if (k->nlangs) {
		struct json_object *w = json_object_new_object();
		for (size_t i = 0; i < k->nlangs; i++)
			json_object_object_add(w, k->langs[i].lang,
					       keyword_list_json(k->langs[i].forms, k->langs[i].n));
		json_object_object_add(o, "words", w);
	}
	if (k->nhints)
		json_object_object_add(o, "hints", keyword_list_json(k->hints, k->nhints));
	json_object_object_add(o, "action", json_object_new_string(keyword_action_str(k->action)));
	keyword_add_opt(o, "target", k->target ? json_object_new_string(k->target) : NULL);
	keyword_add_opt(o, "answer", k->answer ? json_object_new_string(k->answer) : NULL);
	keyword_add_opt(o, "broad", k->broad ? json_object_new_boolean(true) : NULL);
	keyword_add_opt(o, "reply", k->reply ? json_object_new_string(k->reply) : NULL);
	keyword_add_opt(o, "replies", texts_to_json(&k->replies));
	keyword_add_opt(o, "label", k->label ? json_object_new_string(k->label) : NULL);
	keyword_add_opt(o, "labels", texts_to_json(&k->labels));
	return o;
}

struct json_object *keyword_set_to_json(const struct keyword_set *set)
{
	struct json_object *o = json_object_new_object();
	struct json_object *list = json_object_new_array(), *replies = NULL;

	for (size_t i = 0; i < keyword_set_count(set); i++)
		json_object_array_add(list, keyword_to_json(&set->items[i]));
	json_object_object_add(o, "keywords", list);
	for (size_t i = 0; set && i < KEYWORD_REPLY_COUNT; i++) {
		struct json_object *t = texts_to_json(&set->replies[i]);
		if (!t)
			continue;
		if (!replies)
			replies = json_object_new_object();
		json_object_object_add(replies, keyword_reply_names[i], t);
	}
	keyword_add_opt(o, "replies", replies);
	if (set && set->nnot_typos)
		json_object_object_add(o, "not_typos", keyword_list_json(set->not_typos,
									  set->nnot_typos));
	return o;
}
