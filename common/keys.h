/*
 * keys.h: refusing unknown keys in JSON objects (the configuration file, API bodies, data
 * such as keywords and flows), with one wording everywhere:
 *   <where>: unknown key "<key>", did you mean "<nearest>"? (the keys are a, b and c)
 * <where> is the object's path ("audience", "keywords[0] (BILLS)"), or the key itself for
 * a top-level object; "did you mean" when a known key is at most two edits away.
 */
#ifndef SIGNPOST_KEYS_H
#define SIGNPOST_KEYS_H

#include <json-c/json.h>

#include "common/util.h"

/*
 * The first member name of obj that is neither in known[0..n) nor accepted by also (which
 * may be NULL); NULL when every name is known.
 */
const char *keys_unknown(struct json_object *obj, const char *const *known, size_t n,
			 bool (*also)(const char *key));
/* Writes the message above to err; more, when not NULL, ends the list of keys. */
void keys_error(struct sbuf *err, const char *where, const char *key, const char *const *known,
		size_t n, const char *more);
/* keys_unknown and keys_error together: -1 with the message when obj has an unknown key. */
int keys_check(struct json_object *obj, const char *where, const char *const *known, size_t n,
	       struct sbuf *err) WUR;

#endif
