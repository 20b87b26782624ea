/*
 * audience.c: checking and normalising a campaign's audience rules.
 */
#include "campaigns/audience.h"

#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/keys.h"
#include "triage/texts.h"

struct audience_list {
	const char *key;   /* key in the input (under "tags" for the tag lists) */
	const char *field; /* as named in errors */
	const char *out;   /* key in the normalised form */
	bool positive;     /* counts as a rule that picks tenants */
};

static const struct audience_list audience_lists[] = {
	{ "boroughs", "audience.boroughs", "boroughs", true },
	{ "landlords", "audience.landlords", "landlords", true },
	{ "languages", "audience.languages", "languages", true },
	{ "all", "audience.tags.all", "tags_all", true },
	{ "any", "audience.tags.any", "tags_any", true },
	{ "none", "audience.tags.none", "tags_none", false },
};

bool audience_language_valid(const char *code)
{
	return texts_lang_valid(code);
}

static char *audience_lower(const char *s)
{
	char *l = xstrdup(s);

	for (char *p = l; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	return l;
}

static int audience_item(const struct audience_list *l, struct json_object *v,
			 struct json_object *out, struct sbuf *err)
{
	const char *s = json_object_get_string(v);
	size_t n = s ? strlen(s) : 0;
	char *low;

	if (!json_object_is_type(v, json_type_string) || n == 0 || n > AUDIENCE_MAX_LEN ||
	    !codec_utf8_valid(s, n)) {
		sbuf_printf(err, "%s must hold non-empty strings of at most %d characters", l->field,
			    AUDIENCE_MAX_LEN);
		return -1;
	}
	low = audience_lower(s);
	if (strcmp(l->out, "languages") == 0 && !audience_language_valid(low)) {
		sbuf_printf(err, "%s: \"%s\" is not a language code (write codes such as \"en\", "
			    "\"cy\" or \"pl\")", l->field, s);
		free(low);
		return -1;
	}
	json_object_array_add(out, json_object_new_string(low));
	free(low);
	return 0;
}

/* Adds list l (from src, may be NULL) to norm; *any is set when it holds items. */
static int audience_list(const struct audience_list *l, struct json_object *src,
			 struct json_object *norm, bool *any, struct sbuf *err)
{
	struct json_object *arr = json_object_new_array();
	size_t n;

	json_object_object_add(norm, l->out, arr);
	if (src && !json_object_is_type(src, json_type_array)) {
		sbuf_printf(err, "%s must be an array of strings", l->field);
		return -1;
	}
	n = src ? json_object_array_length(src) : 0;
	if (n > AUDIENCE_MAX_ITEMS) {
		sbuf_printf(err, "%s: at most %d entries", l->field, AUDIENCE_MAX_ITEMS);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (audience_item(l, json_object_array_get_idx(src, i), arr, err) < 0)
			return -1;
	*any = *any || (l->positive && n > 0);
	return 0;
}

static bool audience_keys_ok(struct json_object *in, const char *const *known, size_t n,
			     const char *prefix, const char **field, struct sbuf *err)
{
	if (keys_check(in, prefix, known, n, err) == 0)
		return true;
	*field = prefix;
	return false;
}

/* The tag lists: a plain array means "any". */
static int audience_tags(struct json_object *tags, struct json_object *norm, bool *any,
			 const char **field, struct sbuf *err)
{
	static const char *const known[] = { "all", "any", "none" };
	bool object = tags && json_object_is_type(tags, json_type_object);

	if (object && !audience_keys_ok(tags, known, ARRAY_LEN(known), "audience.tags", field, err))
		return -1;
	for (size_t i = 3; i < ARRAY_LEN(audience_lists); i++) {
		const struct audience_list *l = &audience_lists[i];
		struct json_object *src = NULL;
		if (object)
			json_object_object_get_ex(tags, l->key, &src);
		else if (tags && i == 4)
			src = tags;
		*field = tags && !object ? "audience.tags" : l->field;
		if (audience_list(l, src, norm, any, err) < 0)
			return -1;
	}
	return 0;
}

static int audience_flags(struct json_object *in, struct json_object *norm, bool *any,
			  const char **field, struct sbuf *err)
{
	struct json_object *v;

	if (json_object_object_get_ex(in, "not_replied_to", &v)) {
		*field = "audience.not_replied_to";
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 1) {
			sbuf_adds(err, "audience.not_replied_to must be a campaign id");
			return -1;
		}
		json_object_object_add(norm, "not_replied_to",
				       json_object_new_int64(json_object_get_int64(v)));
	}
	if (json_object_object_get_ex(in, "all", &v)) {
		*field = "audience.all";
		if (!json_object_is_type(v, json_type_boolean)) {
			sbuf_adds(err, "audience.all must be true or false");
			return -1;
		}
		if (json_object_get_boolean(v)) {
			*any = true;
			json_object_object_add(norm, "all", json_object_new_boolean(1));
		}
	}
	return 0;
}

struct json_object *audience_normalise(struct json_object *in, const char **field,
				       struct sbuf *err)
{
	static const char *const known[] = { "boroughs", "landlords", "languages", "tags",
					     "not_replied_to", "all" };
	struct json_object *norm = json_object_new_object(), *src, *tags = NULL;
	bool any = false;

	if (!json_object_is_type(in, json_type_object)) {
		*field = "audience";
		sbuf_adds(err, "audience must be an object such as {\"boroughs\": [\"Thanet\"]}");
		goto fail;
	}
	if (!audience_keys_ok(in, known, ARRAY_LEN(known), "audience", field, err))
		goto fail;
	for (size_t i = 0; i < 3; i++) {
		src = NULL;
		json_object_object_get_ex(in, audience_lists[i].key, &src);
		*field = audience_lists[i].field;
		if (audience_list(&audience_lists[i], src, norm, &any, err) < 0)
			goto fail;
	}
	json_object_object_get_ex(in, "tags", &tags);
	if (audience_tags(tags, norm, &any, field, err) < 0 ||
	    audience_flags(in, norm, &any, field, err) < 0)
		goto fail;
	if (!any) {
		*field = "audience";
		sbuf_adds(err, "audience: name at least one of boroughs, landlords, languages or tags "
			  "(or set \"all\": true to text every tenant)");
		goto fail;
	}
	return norm;
fail:
	json_object_put(norm);
	return NULL;
}
