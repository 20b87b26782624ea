/*
 * audience.h: who a campaign texts, as rules an officer writes.
 *
 * {"boroughs": [...], "landlords": [...], "languages": [...],
 *  "tags": [...] or {"all": [...], "any": [...], "none": [...]},
 *  "not_replied_to": <campaign id>, "all": true}
 *
 * A tenant is in the audience when they match every rule given: their borough is one of
 * boroughs, their landlord one of landlords, their language one of languages, they carry
 * every tag of tags.all, at least one of tags.any (a plain list means any) and none of
 * tags.none, and they never replied to campaign not_replied_to. At least one of boroughs,
 * landlords, languages, tags.all or tags.any is needed, or "all": true (which drops those
 * positive rules but keeps tags.none, not_replied_to and languages when given), so nobody
 * texts everyone by accident. Case does not matter. A tenant is one row of the audience,
 * however many rules they match.
 */
#ifndef SIGNPOST_AUDIENCE_H
#define SIGNPOST_AUDIENCE_H

#include <json-c/json.h>

#include "common/util.h"

#define AUDIENCE_MAX_ITEMS 200
#define AUDIENCE_MAX_LEN 100

/*
 * Checks rules and returns their normalised form (lower-case lists under "boroughs",
 * "landlords", "languages", "tags_all", "tags_any", "tags_none", plus "not_replied_to" and
 * "all" when given), or NULL with *field set to the offending key ("audience.tags.any")
 * and a sentence in err.
 */
struct json_object *audience_normalise(struct json_object *in, const char **field,
				       struct sbuf *err) WUR;

/* A language code: two or three letters, optionally followed by "-" and a region ("cy", "pt-br"). */
bool audience_language_valid(const char *code);

#endif
