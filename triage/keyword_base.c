/*
 * keyword_base.c: the built-in words (data/builtin-words.json) read into one lexicon.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/keys.h"
#include "triage/keyword_impl.h"

/* Most words in a built-in phrase. */
#define KEYWORD_BASE_MAX_WORDS 12

/* A list of phrases by language and what its phrases mean. */
struct keyword_base_list {
	const char *path;  /* "opt_out.phrases" */
	enum keyword_sense sense;
};

static const struct keyword_base_list keyword_base_lists[] = {
	{ "opt_out.words", KEYWORD_SENSE_OPT_OUT_WORD },
	{ "opt_out.clauses", KEYWORD_SENSE_OPT_OUT_CLAUSE },
	{ "opt_out.phrases", KEYWORD_SENSE_OPT_OUT_PHRASE },
	{ "opt_out.exceptions", KEYWORD_SENSE_NOT_OPT_OUT },
	{ "opt_in.words", KEYWORD_SENSE_OPT_IN_WORD },
	{ "courtesy", KEYWORD_SENSE_COURTESY },
	{ "negations", KEYWORD_SENSE_NEGATION },
	{ "need_negations", KEYWORD_SENSE_NEED_NEGATION },
	{ "barriers", KEYWORD_SENSE_BARRIER },
	{ "yes", KEYWORD_SENSE_YES },
	{ "not_typos", KEYWORD_SENSE_NOT_TYPO },
};

void keyword_base_free(struct keyword_base *base)
{
	if (!base)
		return;
	keyword_lex_free(&base->lex);
	for (size_t i = 0; i < base->nlangs; i++) {
		free(base->langs[i].name);
		free(base->langs[i].ranges);
	}
	free(base->langs);
	free(base);
}

/* The built-in keyword an opt-out or opt-in phrase stands for: its first built-in word. */
static const struct keyword *keyword_base_means(const char *phrase, enum keyword_action action)
{
	struct sbuf f;
	const struct keyword *k = NULL;

	sbuf_init(&f);
	keyword_fold(phrase, &f);
	for (const char *w = sbuf_str(&f); *w && !k; w += strspn(w, " ")) {
		size_t n = strcspn(w, " ");
		char word[32];
		snprintf(word, sizeof(word), "%.*s", (int)MIN(n, sizeof(word) - 1), w);
		const struct keyword *b = keyword_builtin(word);
		if (b && b->action == action)
			k = b;
		w += n;
	}
	sbuf_free(&f);
	return k ? k : keyword_builtin(action == KEYWORD_OPT_OUT ? "STOP" : "START");
}

static WUR int keyword_base_phrases(struct keyword_base *base, struct json_object *arr,
				    enum keyword_sense sense, const char *lang, const char *where,
				    struct sbuf *err)
{
	if (!json_object_is_type(arr, json_type_array)) {
		sbuf_printf(err, "%s: must be a list of phrases", where);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		const char *s = json_object_get_string(v);
		const struct keyword *k = NULL;
		if (!json_object_is_type(v, json_type_string)) {
			sbuf_printf(err, "%s[%zu]: must be a string", where, i);
			return -1;
		}
		if (sense == KEYWORD_SENSE_OPT_OUT_WORD || sense == KEYWORD_SENSE_OPT_OUT_CLAUSE ||
		    sense == KEYWORD_SENSE_OPT_OUT_PHRASE)
			k = keyword_base_means(s, KEYWORD_OPT_OUT);
		else if (sense == KEYWORD_SENSE_OPT_IN_WORD)
			k = keyword_base_means(s, KEYWORD_OPT_IN);
		if (keyword_lex_add(&base->lex, s, true, sense, k, lang, KEYWORD_BASE_MAX_WORDS,
				    err) < 0) {
			sbuf_printf(err, " at %s[%zu]", where, i);
			return -1;
		}
	}
	return 0;
}

/* {"en": [...], "pl": [...]}: "en" and "any" belong to no one language. */
static WUR int keyword_base_by_lang(struct keyword_base *base, struct json_object *obj,
				    enum keyword_sense sense, const char *path, struct sbuf *err)
{
	char where[96];

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_printf(err, "%s: must be an object of lists by language, such as "
			    "{\"en\": [...]}", path);
		return -1;
	}
	json_object_object_foreach(obj, lang, arr) {
		bool none = strcmp(lang, "en") == 0 || strcmp(lang, "any") == 0;
		snprintf(where, sizeof(where), "%s.%s", path, lang);
		if (!none && (!texts_lang_valid(lang) || strlen(lang) >= TEXTS_LANG_MAX)) {
			sbuf_printf(err, "%s: not a language code", where);
			return -1;
		}
		if (keyword_base_phrases(base, arr, sense, none ? NULL : lang, where, err) < 0)
			return -1;
	}
	return 0;
}

/* Looks "opt_out.phrases" up in obj; NULL when absent. */
static struct json_object *keyword_base_at(struct json_object *obj, const char *path)
{
	char head[32];
	const char *dot = strchr(path, '.');
	struct json_object *v = NULL;

	if (!dot)
		return json_object_object_get_ex(obj, path, &v) ? v : NULL;
	snprintf(head, sizeof(head), "%.*s", (int)(dot - path), path);
	if (!json_object_object_get_ex(obj, head, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return keyword_base_at(v, dot + 1);
}

/* "a" or "a-z" (any characters) into a range. */
static bool keyword_base_range(const char *s, uint32_t out[2])
{
	size_t len = strlen(s), i = 0;

	if (len == 0)
		return false;
	out[0] = out[1] = codec_utf8_next(s, len, &i);
	if (i == len)
		return true;
	if (s[i] != '-' || i + 1 == len)
		return false;
	i++;
	out[1] = codec_utf8_next(s, len, &i);
	return i == len && out[1] >= out[0];
}

static WUR int keyword_base_letters(struct keyword_lang *l, struct json_object *arr,
				    struct sbuf *err)
{
	if (!arr)
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		sbuf_printf(err, "languages.%s.letters: must be a list", l->code);
		return -1;
	}
	l->ranges = xcalloc(json_object_array_length(arr) + 1, sizeof(*l->ranges));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !keyword_base_range(json_object_get_string(v), l->ranges[l->nranges])) {
			sbuf_printf(err, "languages.%s.letters[%zu]: must be a letter or a range "
				    "such as \"\\u0900-\\u097f\"", l->code, i);
			return -1;
		}
		l->nranges++;
	}
	return 0;
}

static WUR int keyword_base_lang_from_json(struct keyword_base *base, const char *code,
				     struct json_object *obj, struct sbuf *err)
{
	static const char *const known[] = { "name", "words", "letters" };
	struct json_object *name = NULL, *words = NULL, *letters = NULL;
	struct keyword_lang *l;
	char where[64];

	snprintf(where, sizeof(where), "languages.%s", code);
	if (!texts_lang_valid(code) || strlen(code) >= TEXTS_LANG_MAX ||
	    !json_object_is_type(obj, json_type_object)) {
		sbuf_printf(err, "%s: must be a language code with an object", where);
		return -1;
	}
	if (keys_check(obj, where, known, ARRAY_LEN(known), err) < 0)
		return -1;
	json_object_object_get_ex(obj, "name", &name);
	json_object_object_get_ex(obj, "words", &words);
	json_object_object_get_ex(obj, "letters", &letters);
	base->langs = xrealloc(base->langs, (base->nlangs + 1) * sizeof(*base->langs));
	l = &base->langs[base->nlangs++];
	*l = (struct keyword_lang){ 0 };
	snprintf(l->code, sizeof(l->code), "%s", code);
	l->name = xstrdup(json_object_is_type(name, json_type_string) ? json_object_get_string(name)
								       : code);
	if (keyword_base_letters(l, letters, err) < 0)
		return -1;
	snprintf(where, sizeof(where), "languages.%s.words", code);
	return words ? keyword_base_phrases(base, words, KEYWORD_SENSE_MARKER, code, where, err) : 0;
}

static WUR int keyword_base_parse(struct keyword_base *base, struct json_object *obj,
				  struct sbuf *err)
{
	static const char *const known[] = { "opt_out", "opt_in", "courtesy", "negations",
					     "need_negations", "barriers", "yes", "not_typos",
					     "languages" };
	struct json_object *langs = NULL;

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "the built-in words must be a JSON object");
		return -1;
	}
	if (keys_check(obj, "", known, ARRAY_LEN(known), err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(keyword_base_lists); i++) {
		struct json_object *v = keyword_base_at(obj, keyword_base_lists[i].path);
		if (v && keyword_base_by_lang(base, v, keyword_base_lists[i].sense,
					      keyword_base_lists[i].path, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < keyword_nbuiltins; i++)
		if (keyword_lex_add(&base->lex, keyword_builtins[i].word, false, KEYWORD_SENSE_MENTION,
				    &keyword_builtins[i], NULL, 1, err) < 0)
			return -1;
	if (json_object_object_get_ex(obj, "languages", &langs)) {
		if (!json_object_is_type(langs, json_type_object)) {
			sbuf_adds(err, "languages: must be an object by language code");
			return -1;
		}
		json_object_object_foreach(langs, code, v) {
			if (keyword_base_lang_from_json(base, code, v, err) < 0)
				return -1;
		}
	}
	return 0;
}

struct keyword_base *keyword_base_from_json(struct json_object *obj, struct sbuf *err)
{
	struct keyword_base *base = xcalloc(1, sizeof(*base));

	base->lex.lx = lexicon_new();
	if (keyword_base_parse(base, obj, err) < 0) {
		keyword_base_free(base);
		return NULL;
	}
	return base;
}

bool keyword_base_reserves(const struct keyword_base *base, const char *phrase)
{
	struct keyword_text t;
	size_t idx[KEYWORD_BASE_MAX_WORDS], n = 0, nvals;
	bool reserved = false;

	keyword_text_init(&t, phrase);
	for (size_t i = 0; i < t.n && n < ARRAY_LEN(idx); i++)
		idx[n++] = i;
	const uint32_t *vals = n == t.n ? keyword_lex_whole(&base->lex, &t, idx, n, &nvals) : NULL;
	for (size_t i = 0; vals && i < nvals && !reserved; i++) {
		enum keyword_sense s = base->lex.entries[vals[i]].sense;
		reserved = s == KEYWORD_SENSE_OPT_OUT_WORD || s == KEYWORD_SENSE_OPT_OUT_CLAUSE ||
			   s == KEYWORD_SENSE_OPT_IN_WORD || s == KEYWORD_SENSE_COURTESY ||
			   s == KEYWORD_SENSE_YES || s == KEYWORD_SENSE_MENTION;
	}
	keyword_text_free(&t);
	return reserved;
}

const char *keyword_base_language(const struct keyword_base *base, const char *code)
{
	for (size_t i = 0; base && code && i < base->nlangs; i++)
		if (strcmp(base->langs[i].code, code) == 0)
			return base->langs[i].name;
	return NULL;
}
