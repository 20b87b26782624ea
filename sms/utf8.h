/*
 * utf8.h: UTF-8 one code point at a time, for the text rules in sms/ and triage/ (keyword
 * matching, template positions). Reading a code point is common/codec.h's codec_utf8_next.
 */
#ifndef SIGNPOST_UTF8_H
#define SIGNPOST_UTF8_H

#include "common/util.h"

/* Appends cp as UTF-8 (U+FFFD for surrogates and values past U+10FFFF). */
void utf8_put(struct sbuf *out, uint32_t cp);
/* Number of code points in s[0..len), counting each malformed byte as one. */
size_t utf8_count(const char *s, size_t len);

#define UTF8_DISTANCE_MAX_CHARS 64

/*
 * Edit distance between two UTF-8 strings counted in code points, where inserting,
 * deleting or substituting a character or swapping two adjacent ones each cost one
 * (optimal string alignment). Strings longer than UTF8_DISTANCE_MAX_CHARS code points
 * compare as SIZE_MAX unless they are byte-for-byte equal.
 */
size_t utf8_distance(const char *a, size_t alen, const char *b, size_t blen);

#endif
