/*
 * texts.h: a text in several languages, as data: {"pl": "...", "ro": "..."}.
 *
 * Replies (keywords' and the standard ones), flow questions and keyword labels can carry
 * texts for other languages beside their English one. A language is a lower-case code
 * such as "pl", "ro" or "ku" (two or three letters, optionally a subtag: "pt-br"), the
 * codes tenants' `language` and campaigns' `bodies` use.
 */
#ifndef SIGNPOST_TEXTS_H
#define SIGNPOST_TEXTS_H

#include <json-c/json.h>

#include "common/util.h"

#define TEXTS_LANG_MAX 16 /* a language code and its NUL */

struct texts_item {
	char lang[TEXTS_LANG_MAX];
	char *text;
};

struct texts {
	struct texts_item *items;
	size_t n;
};

/* True for a language code: two or three letters a-z, optionally "-" and 2-8 letters or digits. */
bool texts_lang_valid(const char *code);
/* The text in lang, or NULL (lang may be NULL). */
const char *texts_get(const struct texts *t, const char *lang);
void texts_clear(struct texts *t);
/*
 * Reads {"pl": "text", ...} into t (cleared first): each key a language code (allow_en:
 * "en" too), each value a non-empty string of at most max_len bytes. -1 with a message
 * naming where ("keywords[0] (SKILLS).replies") otherwise.
 */
int texts_from_json(struct texts *t, struct json_object *obj, const char *where, bool allow_en,
		    size_t max_len, struct sbuf *err) WUR;
/* The texts as a JSON object, in the order read; NULL when there are none. */
struct json_object *texts_to_json(const struct texts *t);

#endif
