/*
 * jsonscan.h: named members of a JSON object's top level, read without building the object.
 *
 * A provider answers every text with a JSON object of twenty-odd members of which an
 * adapter needs two or three; json-c would allocate each of them. The scanner checks the
 * whole document against RFC 8259 and points into it.
 */
#ifndef SIGNPOST_JSONSCAN_H
#define SIGNPOST_JSONSCAN_H

#include "common/util.h"

enum jsonscan_kind {
	JSONSCAN_ABSENT, /* no such member */
	JSONSCAN_STRING,
	JSONSCAN_NUMBER,
	JSONSCAN_LITERAL, /* true, false or null */
	JSONSCAN_NESTED,  /* an object or an array */
};

struct jsonscan_member {
	const char *name; /* set by the caller */
	enum jsonscan_kind kind;
	const char *raw; /* the value as written; a string's without its quotes */
	size_t raw_len;
};

/*
 * Finds the named members in s[0..len), which must be exactly one JSON object (whitespace
 * around it allowed); a name given twice in the document counts where it is last. Returns
 * 0, or -1 (every member JSONSCAN_ABSENT) for anything else.
 */
int jsonscan_members(const char *s, size_t len, struct jsonscan_member *m, size_t n) WUR;

/*
 * Copies a string member's value, escapes decoded (a lone surrogate as U+FFFD), or a
 * number as written, into dst (size > 0), always terminated. Returns false, with dst
 * empty, for a member of another kind or a string holding U+0000 (which no C string can
 * carry whole), or with as much as fits when it does not fit.
 */
bool jsonscan_text(const struct jsonscan_member *m, char *dst, size_t size);

#endif
