#include "triage/keyword.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "sms/utf8.h"
#include "triage/keyword_text.h"

struct keyword_set {
	struct keyword *items;
	size_t n, cap;
};

/* Built-in opt-out and opt-in words: no keyword set can take them over. */
static struct keyword keyword_builtins[] = {
	{.word = "STOP", .action = KEYWORD_OPT_OUT},
	{.word = "STOPALL", .action = KEYWORD_OPT_OUT},
	{.word = "UNSUBSCRIBE", .action = KEYWORD_OPT_OUT},
	{.word = "END", .action = KEYWORD_OPT_OUT},
	{.word = "CANCEL", .action = KEYWORD_OPT_OUT},
	{.word = "QUIT", .action = KEYWORD_OPT_OUT},
	{.word = "START", .action = KEYWORD_OPT_IN},
	{.word = "UNSTOP", .action = KEYWORD_OPT_IN},
};

struct keyword_phrase {
	const char *phrase;
	const char *word; /* the built-in keyword it stands for */
};

/* Whole messages (once courtesy words are set aside) that mean a built-in keyword. */
static const struct keyword_phrase keyword_whole_phrases[] = {
	{"STOP ALL", "STOPALL"}, {"STOP IT", "STOP"}, {"STOP TEXTS", "STOP"},
	{"STOP MESSAGES", "STOP"}, {"UNSUBSCRIBE ME", "UNSUBSCRIBE"}, {"OPT OUT", "STOP"},
	{"OPT-OUT", "STOP"}, {"OPTOUT", "STOP"}, {"NO MORE", "STOP"}, {"START AGAIN", "START"},
	{"OPT IN", "START"}, {"OPT-IN", "START"}, {"OPTIN", "START"}, {"RESUBSCRIBE", "START"},
};

/*
 * Opt-out phrases that count anywhere in a message, unless a negation such as "don't"
 * comes shortly before them in the same clause. Each is about the texts themselves.
 */
static const struct keyword_phrase keyword_opt_out_phrases[] = {
	{"STOP TEXTING", "STOP"}, {"STOP MESSAGING", "STOP"}, {"STOP SENDING", "STOP"},
	{"STOP CONTACTING", "STOP"}, {"STOP TEXTS", "STOP"}, {"STOP THE TEXTS", "STOP"},
	{"STOP THESE TEXTS", "STOP"}, {"STOP YOUR TEXTS", "STOP"}, {"STOP ALL TEXTS", "STOP"},
	{"STOP THE MESSAGES", "STOP"}, {"STOP THESE MESSAGES", "STOP"},
	{"STOP ALL MESSAGES", "STOP"}, {"QUIT TEXTING", "STOP"}, {"REMOVE ME", "STOP"},
	{"TAKE ME OFF", "STOP"}, {"UNSUBSCRIBE", "UNSUBSCRIBE"}, {"STOPALL", "STOPALL"},
	{"NO MORE TEXTS", "STOP"}, {"NO MORE MESSAGES", "STOP"}, {"OPT OUT", "STOP"},
	{"OPT-OUT", "STOP"}, {"OPTOUT", "STOP"}, {"DON'T TEXT ME", "STOP"},
	{"DONT TEXT ME", "STOP"}, {"DO NOT TEXT ME", "STOP"}, {"DON'T MESSAGE ME", "STOP"},
	{"DONT MESSAGE ME", "STOP"}, {"DO NOT MESSAGE ME", "STOP"},
	{"DON'T CONTACT ME", "STOP"}, {"DONT CONTACT ME", "STOP"},
	{"DO NOT CONTACT ME", "STOP"}, {"LEAVE ME ALONE", "STOP"},
};

/* Courtesy words set aside at either end of a message ("STOP please", "yes SKILLS x"). */
static const char *const keyword_courtesy[] = {
	"PLEASE", "PLS", "PLZ", "THANKS", "THANK YOU", "THANKYOU", "MANY THANKS",
	"THX", "TA", "CHEERS", "OK", "OKAY", "YES", "YEAH", "YEP", "HI", "HELLO", "HEY",
	"NOW", "X", "XX", "XXX", "DIOLCH", "PLIS", "OS GWELWCH YN DDA", "DZIĘKUJĘ", "DZIEKUJE",
	"PROSZĘ", "PROSZE",
};

/* Words that undo an opt-out phrase that follows them ("please don't stop texting me"). */
static const char *const keyword_opt_out_negations[] = {
	"NOT", "DON'T", "DONT", "NEVER", "DIDN'T", "DIDNT", "WOULDN'T", "WOULDNT",
};

/* Words that undo a keyword inside a sentence ("I don't need money help"). */
static const char *const keyword_negations[] = {
	"NOT", "DON'T", "DONT", "NEVER", "DIDN'T", "DIDNT", "NO", "WOULDN'T", "WOULDNT",
};

/* How far back, in words and within the clause, a negation reaches. */
#define KEYWORD_NEGATION_REACH 3
/* Longest message in which a flow or help-request keyword is looked for among other words. */
#define KEYWORD_SENTENCE_MAX_WORDS 12
/* Typos: one edit, the longer word at least 5 characters and the shorter at least 4. */
#define KEYWORD_TYPO_LONGER 5
#define KEYWORD_TYPO_SHORTER 4

const char *keyword_action_str(enum keyword_action a)
{
	switch (a) {
	case KEYWORD_OPT_OUT: return "opt_out";
	case KEYWORD_OPT_IN: return "opt_in";
	case KEYWORD_INFO: return "info";
	case KEYWORD_FLOW: return "flow";
	case KEYWORD_HELP_REQUEST: return "help_request";
	}
	return "unknown";
}

const char *keyword_match_kind_str(enum keyword_match_kind k)
{
	switch (k) {
	case KEYWORD_MATCH_NONE: return "none";
	case KEYWORD_MATCH_EXACT: return "exact";
	case KEYWORD_MATCH_TYPO: return "typo";
	}
	return "unknown";
}

const struct keyword *keyword_builtin(const char *word)
{
	for (size_t i = 0; i < ARRAY_LEN(keyword_builtins); i++)
		if (strcmp(keyword_builtins[i].word, word) == 0)
			return &keyword_builtins[i];
	return NULL;
}

bool keyword_is_reserved(const char *phrase)
{
	if (keyword_builtin(phrase))
		return true;
	for (size_t i = 0; i < ARRAY_LEN(keyword_courtesy); i++)
		if (strcmp(keyword_courtesy[i], phrase) == 0)
			return true;
	for (size_t i = 0; i < ARRAY_LEN(keyword_whole_phrases); i++)
		if (strcmp(keyword_whole_phrases[i].phrase, phrase) == 0)
			return true;
	return false;
}

struct keyword_set *keyword_set_new(void)
{
	return xcalloc(1, sizeof(struct keyword_set));
}

static void keyword_clear(struct keyword *k)
{
	free(k->word);
	for (size_t i = 0; i < k->naliases; i++)
		free(k->aliases[i]);
	free(k->aliases);
	free(k->target);
	free(k->reply);
	memset(k, 0, sizeof(*k));
}

void keyword_set_free(struct keyword_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		keyword_clear(&set->items[i]);
	free(set->items);
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

/* Appends k to the set, taking ownership of its strings. */
static void keyword_set_add(struct keyword_set *set, struct keyword *k)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->items = xrealloc(set->items, set->cap * sizeof(*set->items));
	}
	set->items[set->n++] = *k;
	memset(k, 0, sizeof(*k));
}

void keyword_normalise(const char *text, struct sbuf *out)
{
	struct keyword_text t;

	keyword_text_init(&t, text);
	sbuf_add(out, sbuf_str(&t.norm), t.norm.len);
	keyword_text_free(&t);
}

/* ---- matching ---- */

/* A message being matched: all its words, and its core without courtesy words. */
struct keyword_msg {
	struct keyword_text t;
	size_t *all;  /* 0, 1, ... n - 1 */
	size_t *core; /* courtesy words at the ends removed, repeats ("STOP STOP") folded */
	size_t ncore;
};

static bool keyword_courtesy_at(const struct keyword_msg *m, size_t lo, size_t hi, bool end,
				size_t *len)
{
	/* counted on first use; every phrase has at least one word */
	static size_t words[ARRAY_LEN(keyword_courtesy)];

	for (size_t i = 0; i < ARRAY_LEN(keyword_courtesy); i++) {
		if (!words[i])
			words[i] = keyword_text_count_words(keyword_courtesy[i]);
		size_t k = words[i];
		if (k > hi - lo)
			continue;
		size_t at = end ? hi - k : lo;
		if (keyword_text_phrase_at(&m->t, m->all, hi, at, keyword_courtesy[i]) == k) {
			*len = k;
			return true;
		}
	}
	return false;
}

static void keyword_msg_core(struct keyword_msg *m)
{
	size_t lo = 0, hi = m->t.n, k;

	while (lo < hi && keyword_courtesy_at(m, lo, hi, false, &k))
		lo += k;
	while (lo < hi && keyword_courtesy_at(m, lo, hi, true, &k))
		hi -= k;
	m->ncore = 0;
	for (size_t i = lo; i < hi; i++) {
		const struct keyword_word *w = &m->t.words[i];
		const struct keyword_word *prev = m->ncore ? &m->t.words[m->core[m->ncore - 1]] : NULL;
		if (prev && prev->len == w->len &&
		    memcmp(m->t.norm.data + prev->off, m->t.norm.data + w->off, w->len) == 0)
			continue;
		m->core[m->ncore++] = i;
	}
}

static void keyword_msg_init(struct keyword_msg *m, const char *text)
{
	keyword_text_init(&m->t, text);
	m->all = xcalloc(m->t.n, sizeof(size_t));
	m->core = xcalloc(m->t.n, sizeof(size_t));
	for (size_t i = 0; i < m->t.n; i++)
		m->all[i] = i;
	keyword_msg_core(m);
}

static void keyword_msg_free(struct keyword_msg *m)
{
	keyword_text_free(&m->t);
	free(m->all);
	free(m->core);
}

/* True when the whole core spells phrase. */
static bool keyword_core_is(const struct keyword_msg *m, const char *phrase)
{
	return m->ncore && keyword_text_phrase_at(&m->t, m->core, m->ncore, 0, phrase) == m->ncore;
}

static bool keyword_word_in(const struct keyword_msg *m, size_t i, const char *const *list,
			    size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (keyword_text_word_is(&m->t, i, list[k]))
			return true;
	return false;
}

/* A negation among the few words before word i, in the same clause. */
static bool keyword_negated(const struct keyword_msg *m, size_t i, const char *const *neg,
			    size_t nneg)
{
	for (size_t j = i; j > 0 && i - j < KEYWORD_NEGATION_REACH; j--) {
		if (m->t.words[j].clause_start)
			break;
		if (keyword_word_in(m, j - 1, neg, nneg))
			return true;
	}
	return false;
}

static const struct keyword *keyword_match_opt_words(const struct keyword_msg *m)
{
	for (size_t i = 0; i < ARRAY_LEN(keyword_builtins); i++)
		if (keyword_core_is(m, keyword_builtins[i].word))
			return &keyword_builtins[i];
	for (size_t i = 0; i < ARRAY_LEN(keyword_whole_phrases); i++)
		if (keyword_core_is(m, keyword_whole_phrases[i].phrase))
			return keyword_builtin(keyword_whole_phrases[i].word);
	return NULL;
}

static const struct keyword *keyword_match_opt_out_phrase(const struct keyword_msg *m)
{
	for (size_t i = 0; i < m->t.n; i++) {
		for (size_t p = 0; p < ARRAY_LEN(keyword_opt_out_phrases); p++) {
			const struct keyword_phrase *ph = &keyword_opt_out_phrases[p];
			if (!keyword_text_phrase_at(&m->t, m->all, m->t.n, i, ph->phrase))
				continue;
			if (!keyword_negated(m, i, keyword_opt_out_negations,
					     ARRAY_LEN(keyword_opt_out_negations)))
				return keyword_builtin(ph->word);
		}
	}
	return NULL;
}

/* Calls fn for the word and each alias of k until it returns true. */
static bool keyword_any_form(const struct keyword *k, bool (*fn)(const char *, const void *),
			     const void *arg)
{
	if (fn(k->word, arg))
		return true;
	for (size_t i = 0; i < k->naliases; i++)
		if (fn(k->aliases[i], arg))
			return true;
	return false;
}

static bool keyword_form_is_core(const char *form, const void *arg)
{
	return keyword_core_is(arg, form);
}

static const struct keyword *keyword_match_set_core(const struct keyword_set *set,
						    const struct keyword_msg *m)
{
	for (size_t i = 0; i < keyword_set_count(set); i++)
		if (keyword_any_form(&set->items[i], keyword_form_is_core, m))
			return &set->items[i];
	return NULL;
}

/* Any built-in word anywhere in the message: such a message is for a person to read. */
static bool keyword_mentions_builtin(const struct keyword_msg *m)
{
	for (size_t i = 0; i < m->t.n; i++)
		for (size_t k = 0; k < ARRAY_LEN(keyword_builtins); k++)
			if (keyword_text_word_is(&m->t, i, keyword_builtins[k].word))
				return true;
	return false;
}

struct keyword_at {
	const struct keyword_msg *m;
	size_t i;
};

static bool keyword_form_at(const char *form, const void *arg)
{
	const struct keyword_at *at = arg;

	return keyword_text_phrase_at(&at->m->t, at->m->all, at->m->t.n, at->i, form) > 0 &&
	       !keyword_negated(at->m, at->i, keyword_negations, ARRAY_LEN(keyword_negations));
}

/*
 * A flow or help-request keyword among other words of a short message ("I'd like help
 * with money please"). Exactly one distinct keyword must appear; two make it ambiguous.
 */
static const struct keyword *keyword_match_sentence(const struct keyword_set *set,
						    const struct keyword_msg *m)
{
	const struct keyword *found = NULL;

	if (m->t.n > KEYWORD_SENTENCE_MAX_WORDS || keyword_mentions_builtin(m))
		return NULL;
	for (size_t k = 0; k < keyword_set_count(set); k++) {
		const struct keyword *kw = &set->items[k];
		if (kw->action != KEYWORD_FLOW && kw->action != KEYWORD_HELP_REQUEST)
			continue;
		for (size_t i = 0; i < m->t.n; i++) {
			struct keyword_at at = {m, i};
			if (!keyword_any_form(kw, keyword_form_at, &at))
				continue;
			if (found && found != kw)
				return NULL;
			found = kw;
		}
	}
	return found;
}

struct keyword_typo {
	const char *word; /* the single core word */
	size_t len, chars;
	const struct keyword *found;
	bool ambiguous;
};

static bool keyword_typo_close(const struct keyword_typo *ty, const char *form)
{
	size_t flen = strlen(form), fchars = utf8_count(form, flen);
	size_t longer = MAX(ty->chars, fchars), shorter = MIN(ty->chars, fchars);

	if (strchr(form, ' ') || longer < KEYWORD_TYPO_LONGER || shorter < KEYWORD_TYPO_SHORTER)
		return false;
	return utf8_distance(ty->word, ty->len, form, flen) == 1;
}

static bool keyword_typo_form(const char *form, const void *arg)
{
	return keyword_typo_close(arg, form);
}

static void keyword_typo_try(struct keyword_typo *ty, const struct keyword *k)
{
	if (!keyword_any_form(k, keyword_typo_form, ty))
		return;
	if (ty->found && ty->found != k)
		ty->ambiguous = true;
	ty->found = k;
}

/* A one-word message one edit away from exactly one keyword, built-in or from the set. */
static const struct keyword *keyword_match_typo(const struct keyword_set *set,
						const struct keyword_msg *m)
{
	struct keyword_typo ty = {0};

	if (m->ncore != 1)
		return NULL;
	const struct keyword_word *w = &m->t.words[m->core[0]];
	ty.word = m->t.norm.data + w->off;
	ty.len = w->len;
	ty.chars = utf8_count(ty.word, ty.len);
	for (size_t i = 0; i < ARRAY_LEN(keyword_builtins); i++)
		keyword_typo_try(&ty, &keyword_builtins[i]);
	for (size_t i = 0; i < keyword_set_count(set); i++)
		keyword_typo_try(&ty, &set->items[i]);
	return ty.ambiguous ? NULL : ty.found;
}

static const struct keyword *keyword_match_exact(const struct keyword_set *set,
						 const struct keyword_msg *m)
{
	const struct keyword *k = keyword_match_opt_words(m);

	if (!k)
		k = keyword_match_opt_out_phrase(m);
	if (!k)
		k = keyword_match_set_core(set, m);
	if (!k)
		k = keyword_match_sentence(set, m);
	return k;
}

void keyword_match(const struct keyword_set *set, const char *text, struct keyword_match *out)
{
	struct keyword_msg m;

	keyword_msg_init(&m, text);
	out->kind = KEYWORD_MATCH_NONE;
	out->keyword = keyword_match_exact(set, &m);
	if (out->keyword) {
		out->kind = KEYWORD_MATCH_EXACT;
		goto out;
	}
	out->keyword = keyword_match_typo(set, &m);
	if (out->keyword)
		out->kind = KEYWORD_MATCH_TYPO;
out:
	keyword_msg_free(&m);
}

/* ---- JSON ---- */

static const char *const keyword_action_names[] = {
	[KEYWORD_OPT_OUT] = "opt_out", [KEYWORD_OPT_IN] = "opt_in", [KEYWORD_INFO] = "info",
	[KEYWORD_FLOW] = "flow", [KEYWORD_HELP_REQUEST] = "help_request",
};

/* Parser state for one entry of "keywords". */
struct keyword_entry {
	const struct keyword_set *set;
	struct keyword k;
	bool has_action;
	char label[96]; /* "keywords[2] (MONEY)" */
	struct sbuf *err;
};

static WUR int keyword_form_from_json(struct keyword_entry *e, struct json_object *v,
				  const char *what, char **out)
{
	struct keyword_text t;
	int rc = -1;

	keyword_text_init(&t, json_object_is_type(v, json_type_string) ? json_object_get_string(v)
								      : "");
	if (t.n == 0 || t.n > 4) {
		sbuf_printf(e->err, "%s: %s must be a word (or a phrase of up to four words) of "
			    "letters and digits, such as \"SKILLS\"", e->label, what);
		goto out;
	}
	if (keyword_is_reserved(t.norm.data)) {
		sbuf_printf(e->err, "%s: %s \"%s\" is built in (an opt-out or opt-in word, or a "
			    "courtesy word such as PLEASE) and cannot be a keyword", e->label, what,
			    t.norm.data);
		goto out;
	}
	*out = sbuf_detach(&t.norm);
	rc = 0;
out:
	keyword_text_free(&t);
	return rc;
}

static WUR int keyword_aliases_from_json(struct keyword_entry *e, struct json_object *v)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	int rc = -1;

	if (!json_object_is_type(v, json_type_array)) {
		sbuf_printf(e->err, "%s: aliases must be a list of words, such as [\"SKILL\"]",
			    e->label);
		goto out;
	}
	e->k.aliases = xcalloc(n, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		if (keyword_form_from_json(e, json_object_array_get_idx(v, i), "each alias",
					   &e->k.aliases[i]) < 0)
			goto out;
		e->k.naliases++;
	}
	rc = 0;
out:
	return rc;
}

static WUR int keyword_action_from_json(struct keyword_entry *e, struct json_object *v)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	for (size_t i = 0; i < ARRAY_LEN(keyword_action_names); i++) {
		if (keyword_action_names[i] && strcmp(s, keyword_action_names[i]) == 0) {
			e->k.action = (enum keyword_action)i;
			e->has_action = true;
			return 0;
		}
	}
	sbuf_printf(e->err, "%s: action must be \"opt_out\", \"opt_in\", \"info\", \"flow\" or "
		    "\"help_request\"", e->label);
	return -1;
}

static WUR int keyword_string_from_json(struct keyword_entry *e, struct json_object *v,
				    const char *key, char **out)
{
	if (json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0) {
		free(*out);
		*out = xstrdup(json_object_get_string(v));
		return 0;
	}
	sbuf_printf(e->err, "%s: %s must be a non-empty string (or left out)", e->label, key);
	return -1;
}

static const char *const keyword_keys[] = { "word", "aliases", "action", "target", "reply" };

static WUR int keyword_key_from_json(struct keyword_entry *e, const char *key, struct json_object *v)
{
	if (strcmp(key, "word") == 0)
		return keyword_form_from_json(e, v, "word", &e->k.word);
	if (strcmp(key, "aliases") == 0)
		return keyword_aliases_from_json(e, v);
	if (strcmp(key, "action") == 0)
		return keyword_action_from_json(e, v);
	if (strcmp(key, "target") == 0 || strcmp(key, "reply") == 0)
		return keyword_string_from_json(e, v, key, key[0] == 't' ? &e->k.target : &e->k.reply);
	keys_error(e->err, e->label, key, keyword_keys, ARRAY_LEN(keyword_keys), NULL);
	return -1;
}

/* "name" or "name:step", lower-case letters, digits and _. */
static bool keyword_target_ok(const char *s, bool allow_step)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_");

	if (n == 0)
		return false;
	if (s[n] == ':' && allow_step)
		return keyword_target_ok(s + n + 1, false);
	return s[n] == '\0';
}

static WUR int keyword_entry_check(struct keyword_entry *e)
{
	if (!e->k.word) {
		sbuf_printf(e->err, "%s: word is missing", e->label);
		return -1;
	}
	if (!e->has_action) {
		sbuf_printf(e->err, "%s: action is missing; use \"opt_out\", \"opt_in\", "
			    "\"info\", \"flow\" or \"help_request\"", e->label);
		return -1;
	}
	if (e->k.action == KEYWORD_FLOW && (!e->k.target || !keyword_target_ok(e->k.target, true))) {
		sbuf_printf(e->err, "%s: a flow keyword needs a target naming the flow, such as "
			    "\"digital_skills\" or \"digital_skills:money\"", e->label);
		return -1;
	}
	if (e->k.action == KEYWORD_HELP_REQUEST &&
	    (!e->k.target || !keyword_target_ok(e->k.target, false))) {
		sbuf_printf(e->err, "%s: a help_request keyword needs a target naming the "
			    "category, such as \"digital_skills\"", e->label);
		return -1;
	}
	return 0;
}

/* Which entry already uses form: the index in the set, or SIZE_MAX. */
static size_t keyword_set_find_form(const struct keyword_set *set, const char *form)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct keyword *k = &set->items[i];
		if (strcmp(k->word, form) == 0)
			return i;
		for (size_t a = 0; a < k->naliases; a++)
			if (strcmp(k->aliases[a], form) == 0)
				return i;
	}
	return SIZE_MAX;
}

/* Checks that form (the word, or alias number `alias`) is used nowhere else. */
static WUR int keyword_entry_unique(struct keyword_entry *e, const char *form, bool is_alias,
				size_t alias)
{
	size_t other = keyword_set_find_form(e->set, form);
	bool twice = is_alias && strcmp(e->k.word, form) == 0;

	if (other != SIZE_MAX) {
		sbuf_printf(e->err, "%s: \"%s\" is already used by keywords[%zu] (%s)", e->label,
			    form, other, e->set->items[other].word);
		return -1;
	}
	for (size_t a = 0; is_alias && a < alias; a++)
		twice = twice || strcmp(e->k.aliases[a], form) == 0;
	if (twice) {
		sbuf_printf(e->err, "%s: \"%s\" appears twice", e->label, form);
		return -1;
	}
	return 0;
}

static WUR int keyword_entry_from_json(struct keyword_entry *e, struct json_object *obj, size_t i)
{
	struct json_object *w = NULL;

	snprintf(e->label, sizeof(e->label), "keywords[%zu]", i);
	if (json_object_object_get_ex(obj, "word", &w) && json_object_is_type(w, json_type_string))
		snprintf(e->label, sizeof(e->label), "keywords[%zu] (%.60s)", i,
			 json_object_get_string(w));
	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_printf(e->err, "%s: must be an object such as {\"word\": \"SKILLS\", "
			    "\"action\": \"help_request\", \"target\": \"digital_skills\"}", e->label);
		return -1;
	}
	json_object_object_foreach(obj, key, val) {
		if (keyword_key_from_json(e, key, val) < 0)
			return -1;
	}
	if (keyword_entry_check(e) < 0 || keyword_entry_unique(e, e->k.word, false, 0) < 0)
		return -1;
	for (size_t a = 0; a < e->k.naliases; a++)
		if (keyword_entry_unique(e, e->k.aliases[a], true, a) < 0)
			return -1;
	return 0;
}

static struct json_object *keyword_list_from_json(struct json_object *obj, struct sbuf *err)
{
	static const char *const set_keys[] = { "keywords" };
	struct json_object *list = NULL;

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "keywords: the set must be an object {\"keywords\": [...]}");
		return NULL;
	}
	if (keys_check(obj, "", set_keys, ARRAY_LEN(set_keys), err) < 0)
		return NULL;
	json_object_object_get_ex(obj, "keywords", &list);
	if (!json_object_is_type(list, json_type_array)) {
		sbuf_adds(err, "keywords: must be a list of keywords");
		return NULL;
	}
	return list;
}

struct keyword_set *keyword_set_from_json(struct json_object *obj, struct sbuf *err)
{
	struct keyword_set *set = keyword_set_new();
	struct json_object *list = keyword_list_from_json(obj, err);

	if (!list)
		goto fail;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct keyword_entry e = {.set = set, .err = err};
		if (keyword_entry_from_json(&e, json_object_array_get_idx(list, i), i) < 0) {
			keyword_clear(&e.k);
			goto fail;
		}
		keyword_set_add(set, &e.k);
	}
	return set;
fail:
	keyword_set_free(set);
	return NULL;
}

static struct json_object *keyword_to_json(const struct keyword *k)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "word", json_object_new_string(k->word));
	if (k->naliases) {
		struct json_object *a = json_object_new_array();
		for (size_t i = 0; i < k->naliases; i++)
			json_object_array_add(a, json_object_new_string(k->aliases[i]));
		json_object_object_add(o, "aliases", a);
	}
	json_object_object_add(o, "action", json_object_new_string(keyword_action_str(k->action)));
	if (k->target)
		json_object_object_add(o, "target", json_object_new_string(k->target));
	if (k->reply)
		json_object_object_add(o, "reply", json_object_new_string(k->reply));
	return o;
}

struct json_object *keyword_set_to_json(const struct keyword_set *set)
{
	struct json_object *o = json_object_new_object();
	struct json_object *list = json_object_new_array();

	for (size_t i = 0; i < keyword_set_count(set); i++)
		json_object_array_add(list, keyword_to_json(&set->items[i]));
	json_object_object_add(o, "keywords", list);
	return o;
}
