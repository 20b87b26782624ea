#include "triage/texts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool texts_lang_valid(const char *code)
{
	size_t n = 0;

	while (code[n] >= 'a' && code[n] <= 'z')
		n++;
	if (n < 2 || n > 3)
		return false;
	if (!code[n])
		return true;
	if (code[n] != '-')
		return false;
	code += n + 1;
	for (n = 0; (code[n] >= 'a' && code[n] <= 'z') || (code[n] >= '0' && code[n] <= '9'); n++)
		;
	return n >= 2 && n <= 8 && !code[n];
}

const char *texts_get(const struct texts *t, const char *lang)
{
	for (size_t i = 0; lang && i < t->n; i++)
		if (strcmp(t->items[i].lang, lang) == 0)
			return t->items[i].text;
	return NULL;
}

void texts_clear(struct texts *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->items[i].text);
	free(t->items);
	t->items = NULL;
	t->n = 0;
}

int texts_from_json(struct texts *t, struct json_object *obj, const char *where, bool allow_en,
		    size_t max_len, struct sbuf *err)
{
	texts_clear(t);
	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_printf(err, "%s: must be an object of texts by language, such as "
			    "{\"pl\": \"...\"}", where);
		return -1;
	}
	t->items = xcalloc((size_t)json_object_object_length(obj) + 1, sizeof(*t->items));
	json_object_object_foreach(obj, lang, v) {
		const char *s = json_object_get_string(v);
		if (!texts_lang_valid(lang) || strlen(lang) >= TEXTS_LANG_MAX ||
		    (!allow_en && strcmp(lang, "en") == 0)) {
			sbuf_printf(err, "%s: \"%s\" is not a language code (write codes such as "
				    "\"pl\", \"ro\" or \"ku\"%s)", where, lang,
				    allow_en ? "" : "; the English text has a key of its own");
			return -1;
		}
		if (!json_object_is_type(v, json_type_string) || !*s || strlen(s) > max_len) {
			sbuf_printf(err, "%s.%s: must be a non-empty string of at most %zu bytes",
				    where, lang, max_len);
			return -1;
		}
		snprintf(t->items[t->n].lang, TEXTS_LANG_MAX, "%s", lang);
		t->items[t->n++].text = xstrdup(s);
	}
	return 0;
}

struct json_object *texts_to_json(const struct texts *t)
{
	struct json_object *o;

	if (!t->n)
		return NULL;
	o = json_object_new_object();
	for (size_t i = 0; i < t->n; i++)
		json_object_object_add(o, t->items[i].lang, json_object_new_string(t->items[i].text));
	return o;
}
