/*
 * keyword_json.c: a keyword set read from its JSON form and checked as a whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "triage/keyword_impl.h"

#define KEYWORD_TEXT_MAX 640  /* a reply: four concatenated GSM-7 segments and a bit */
#define KEYWORD_LABEL_MAX 200 /* a label: part of one sentence */

/* The forms of the entries read so far, folded, and whose they are. */
struct keyword_seen {
	char **folded;
	size_t *owner;
	size_t n, cap;
};

static void keyword_seen_free(struct keyword_seen *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->folded[i]);
	free(s->folded);
	free(s->owner);
}

/* Parser state for one entry of "keywords". */
struct keyword_entry_json {
	const struct keyword_set *set;
	struct keyword k;
	size_t index;
	bool has_action;
	char label[96]; /* "keywords[2] (MONEY)" */
	struct keyword_seen *seen;
	struct sbuf *err;
};

/* A form used nowhere else in the set, nor twice in this entry. */
static WUR int keyword_entry_unique(struct keyword_entry_json *e, const char *form)
{
	struct keyword_seen *s = e->seen;
	struct sbuf f;
	int rc = -1;

	sbuf_init(&f);
	keyword_fold(form, &f);
	for (size_t i = 0; i < s->n; i++) {
		if (strcmp(s->folded[i], sbuf_str(&f)) != 0)
			continue;
		if (s->owner[i] == e->index)
			sbuf_printf(e->err, "%s: \"%s\" appears twice", e->label, form);
		else
			sbuf_printf(e->err, "%s: \"%s\" is already used by keywords[%zu] (%s)",
				    e->label, form, s->owner[i], e->set->items[s->owner[i]].word);
		goto out;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->folded = xrealloc(s->folded, s->cap * sizeof(*s->folded));
		s->owner = xrealloc(s->owner, s->cap * sizeof(*s->owner));
	}
	s->owner[s->n] = e->index;
	s->folded[s->n++] = sbuf_detach(&f);
	rc = 0;
out:
	sbuf_free(&f);
	return rc;
}

static WUR int keyword_form_from_json(struct keyword_entry_json *e, struct json_object *v,
				      const char *what, size_t max_words, char **out)
{
	struct keyword_text t;
	int rc = -1;

	keyword_text_init(&t, json_object_is_type(v, json_type_string) ? json_object_get_string(v)
								      : "");
	if (t.n == 0 || t.n > max_words) {
		sbuf_printf(e->err, "%s: %s must be a word (or a phrase of up to %s words) of "
			    "letters and digits, such as \"SKILLS\"", e->label, what,
			    max_words == KEYWORD_WORD_MAX_WORDS ? "four" : "eight");
		goto out;
	}
	if (keyword_base_reserves(e->set->base, t.norm.data)) {
		sbuf_printf(e->err, "%s: %s \"%s\" is built in (an opt-out or opt-in word, or a "
			    "courtesy word such as PLEASE) and cannot be a keyword", e->label, what,
			    t.norm.data);
		goto out;
	}
	if (keyword_entry_unique(e, t.norm.data) < 0)
		goto out;
	*out = sbuf_detach(&t.norm);
	rc = 0;
out:
	keyword_text_free(&t);
	return rc;
}

static WUR int keyword_forms_from_json(struct keyword_entry_json *e, struct json_object *v,
				       const char *what, char ***list, size_t *n)
{
	size_t len = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

	if (!json_object_is_type(v, json_type_array)) {
		sbuf_printf(e->err, "%s: %s must be a list of words, such as [\"SKILL\"]", e->label,
			    what);
		return -1;
	}
	*list = xcalloc(len + 1, sizeof(char *));
	for (size_t i = 0; i < len; i++) {
		char each[64];
		snprintf(each, sizeof(each), "%s[%zu]", what, i);
		if (keyword_form_from_json(e, json_object_array_get_idx(v, i), each,
					   KEYWORD_ALIAS_MAX_WORDS, &(*list)[i]) < 0)
			return -1;
		(*n)++;
	}
	return 0;
}

/* "words": {"pl": ["POMOC"], "ro": ["AJUTOR"]} */
static WUR int keyword_langs_from_json(struct keyword_entry_json *e, struct json_object *v)
{
	struct keyword *k = &e->k;

	if (!json_object_is_type(v, json_type_object)) {
		sbuf_printf(e->err, "%s: words must be lists of words by language, such as "
			    "{\"pl\": [\"POMOC\"]}", e->label);
		return -1;
	}
	k->langs = xcalloc((size_t)json_object_object_length(v) + 1, sizeof(*k->langs));
	json_object_object_foreach(v, lang, list) {
		struct keyword_lang_forms *l = &k->langs[k->nlangs];
		char what[48];
		if (!texts_lang_valid(lang) || strlen(lang) >= TEXTS_LANG_MAX || !strcmp(lang, "en")) {
			sbuf_printf(e->err, "%s: words: \"%s\" is not a language code other than en "
				    "(English words are aliases)", e->label, lang);
			return -1;
		}
		snprintf(l->lang, sizeof(l->lang), "%s", lang);
		k->nlangs++;
		snprintf(what, sizeof(what), "words.%s", lang);
		if (keyword_forms_from_json(e, list, what, &l->forms, &l->n) < 0)
			return -1;
	}
	return 0;
}

static WUR int keyword_action_from_json(struct keyword_entry_json *e, struct json_object *v)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";

	for (int i = KEYWORD_OPT_OUT; i <= KEYWORD_HELP_REQUEST; i++) {
		if (strcmp(s, keyword_action_str((enum keyword_action)i)) == 0) {
			e->k.action = (enum keyword_action)i;
			e->has_action = true;
			return 0;
		}
	}
	sbuf_printf(e->err, "%s: action must be \"opt_out\", \"opt_in\", \"info\", \"flow\" or "
		    "\"help_request\"", e->label);
	return -1;
}

/* A non-empty string of at most max bytes (0: any), or null. */
static WUR int keyword_string_from_json(struct keyword_entry_json *e, struct json_object *v,
					const char *key, size_t max, char **out)
{
	if (json_object_is_type(v, json_type_null))
		return 0;
	if (json_object_is_type(v, json_type_string) && json_object_get_string_len(v) > 0 &&
	    (!max || (size_t)json_object_get_string_len(v) <= max)) {
		free(*out);
		*out = xstrdup(json_object_get_string(v));
		return 0;
	}
	if (max)
		sbuf_printf(e->err, "%s: %s must be a non-empty string of at most %zu bytes (or "
			    "left out)", e->label, key, max);
	else
		sbuf_printf(e->err, "%s: %s must be a non-empty string (or left out)", e->label, key);
	return -1;
}

static WUR int keyword_texts_from_json(struct keyword_entry_json *e, struct json_object *v,
				       const char *key, size_t max, struct texts *out)
{
	char where[128];

	snprintf(where, sizeof(where), "%s.%s", e->label, key);
	return texts_from_json(out, v, where, false, max, e->err);
}

static WUR int keyword_broad_from_json(struct keyword_entry_json *e, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_boolean)) {
		sbuf_printf(e->err, "%s: broad must be true or false", e->label);
		return -1;
	}
	e->k.broad = json_object_get_boolean(v);
	return 0;
}

static const char *const keyword_keys[] = { "word", "aliases", "words", "hints", "action",
					    "target", "answer", "broad", "reply", "replies",
					    "label", "labels" };

static WUR int keyword_key_from_json(struct keyword_entry_json *e, const char *key,
				     struct json_object *v)
{
	struct keyword *k = &e->k;

	if (strcmp(key, "word") == 0)
		return keyword_form_from_json(e, v, "word", KEYWORD_WORD_MAX_WORDS, &k->word);
	if (strcmp(key, "aliases") == 0)
		return keyword_forms_from_json(e, v, "aliases", &k->aliases, &k->naliases);
	if (strcmp(key, "words") == 0)
		return keyword_langs_from_json(e, v);
	if (strcmp(key, "hints") == 0)
		return keyword_forms_from_json(e, v, "hints", &k->hints, &k->nhints);
	if (strcmp(key, "action") == 0)
		return keyword_action_from_json(e, v);
	if (strcmp(key, "target") == 0 || strcmp(key, "answer") == 0 || strcmp(key, "reply") == 0)
		return keyword_string_from_json(e, v, key, 0, key[0] == 't' ? &k->target
							      : key[0] == 'a' ? &k->answer
									      : &k->reply);
	if (strcmp(key, "label") == 0)
		return keyword_string_from_json(e, v, key, KEYWORD_LABEL_MAX, &k->label);
	if (strcmp(key, "broad") == 0)
		return keyword_broad_from_json(e, v);
	if (strcmp(key, "replies") == 0)
		return keyword_texts_from_json(e, v, key, KEYWORD_TEXT_MAX, &k->replies);
	if (strcmp(key, "labels") == 0)
		return keyword_texts_from_json(e, v, key, KEYWORD_LABEL_MAX, &k->labels);
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

static WUR int keyword_entry_check(struct keyword_entry_json *e)
{
	const struct keyword *k = &e->k;

	if (!k->word) {
		sbuf_printf(e->err, "%s: word is missing", e->label);
		return -1;
	}
	if (!e->has_action) {
		sbuf_printf(e->err, "%s: action is missing; use \"opt_out\", \"opt_in\", "
			    "\"info\", \"flow\" or \"help_request\"", e->label);
		return -1;
	}
	if (k->action == KEYWORD_FLOW && (!k->target || !keyword_target_ok(k->target, true))) {
		sbuf_printf(e->err, "%s: a flow keyword needs a target naming the flow, such as "
			    "\"digital_skills\" or \"digital_skills:money\"", e->label);
		return -1;
	}
	if (k->action == KEYWORD_HELP_REQUEST &&
	    (!k->target || !keyword_target_ok(k->target, false))) {
		sbuf_printf(e->err, "%s: a help_request keyword needs a target naming the "
			    "category, such as \"digital_skills\"", e->label);
		return -1;
	}
	if (k->answer && k->action != KEYWORD_FLOW) {
		sbuf_printf(e->err, "%s: only a flow keyword takes an answer", e->label);
		return -1;
	}
	return 0;
}

static WUR int keyword_entry_from_json(struct keyword_entry_json *e, struct json_object *obj,
				       size_t i)
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
	/* the word first, so that an alias repeating it is the alias's fault */
	if (w && keyword_key_from_json(e, "word", w) < 0)
		return -1;
	json_object_object_foreach(obj, key, val) {
		if (strcmp(key, "word") != 0 && keyword_key_from_json(e, key, val) < 0)
			return -1;
	}
	return keyword_entry_check(e);
}

/* ---- the set ---- */

static void keyword_set_add(struct keyword_set *set, struct keyword *k)
{
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->items = xrealloc(set->items, set->cap * sizeof(*set->items));
	}
	set->items[set->n++] = *k;
	memset(k, 0, sizeof(*k));
}

static WUR int keyword_replies_from_json(struct keyword_set *set, struct json_object *v,
					 struct sbuf *err)
{
	static const char *names[KEYWORD_REPLY_COUNT];

	for (size_t i = 0; i < KEYWORD_REPLY_COUNT; i++)
		names[i] = keyword_reply_str((enum keyword_reply)i);
	if (!json_object_is_type(v, json_type_object)) {
		sbuf_adds(err, "replies: must be an object of replies by name, such as "
			  "{\"opt_out\": {\"en\": \"...\"}}");
		return -1;
	}
	json_object_object_foreach(v, name, texts) {
		size_t r = 0;
		char where[64];
		while (r < KEYWORD_REPLY_COUNT && strcmp(names[r], name) != 0)
			r++;
		if (r == KEYWORD_REPLY_COUNT) {
			keys_error(err, "replies", name, names, KEYWORD_REPLY_COUNT, NULL);
			return -1;
		}
		snprintf(where, sizeof(where), "replies.%s", name);
		if (texts_from_json(&set->replies[r], texts, where, true, KEYWORD_TEXT_MAX, err) < 0)
			return -1;
	}
	return 0;
}

static WUR int keyword_not_typos_from_json(struct keyword_set *set, struct json_object *v,
					   struct sbuf *err)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;

	if (!json_object_is_type(v, json_type_array)) {
		sbuf_adds(err, "not_typos: must be a list of words, such as [\"MONKEY\"]");
		return -1;
	}
	set->not_typos = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *w = json_object_array_get_idx(v, i);
		struct keyword_text t;
		keyword_text_init(&t, json_object_is_type(w, json_type_string)
					      ? json_object_get_string(w) : "");
		if (t.n != 1) {
			keyword_text_free(&t);
			sbuf_printf(err, "not_typos[%zu]: must be one word", i);
			return -1;
		}
		set->not_typos[set->nnot_typos++] = sbuf_detach(&t.norm);
		keyword_text_free(&t);
	}
	return 0;
}

static WUR int keyword_set_parse(struct keyword_set *set, struct json_object *obj,
				 struct keyword_seen *seen, struct sbuf *err)
{
	static const char *const set_keys[] = { "keywords", "replies", "not_typos" };
	struct json_object *list = NULL, *v = NULL;

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "keywords: the set must be an object {\"keywords\": [...]}");
		return -1;
	}
	if (keys_check(obj, "", set_keys, ARRAY_LEN(set_keys), err) < 0)
		return -1;
	json_object_object_get_ex(obj, "keywords", &list);
	if (!json_object_is_type(list, json_type_array)) {
		sbuf_adds(err, "keywords: must be a list of keywords");
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct keyword_entry_json e = {.set = set, .index = i, .seen = seen, .err = err};
		int rc = keyword_entry_from_json(&e, json_object_array_get_idx(list, i), i);
		keyword_set_add(set, &e.k); /* freed with the set, whatever happened */
		if (rc < 0)
			return -1;
	}
	if (json_object_object_get_ex(obj, "replies", &v) && keyword_replies_from_json(set, v, err) < 0)
		return -1;
	if (json_object_object_get_ex(obj, "not_typos", &v) &&
	    keyword_not_typos_from_json(set, v, err) < 0)
		return -1;
	return 0;
}

struct keyword_set *keyword_set_from_json(const struct keyword_base *base,
					  struct json_object *obj, struct sbuf *err)
{
	struct keyword_set *set = xcalloc(1, sizeof(*set));
	struct keyword_seen seen = { 0 };
	int rc;

	set->base = base;
	rc = keyword_set_parse(set, obj, &seen, err);
	keyword_seen_free(&seen);
	if (rc < 0) {
		keyword_set_free(set);
		return NULL;
	}
	keyword_set_compile(set);
	return set;
}
