/*
 * strset.h: a set of strings (open addressing, FNV-1a), for duplicate checks.
 */
#ifndef SIGNPOST_STRSET_H
#define SIGNPOST_STRSET_H

#include "common/util.h"

struct strset {
	char **slots;
	size_t cap;
	size_t n;
};

void strset_init(struct strset *s);
void strset_free(struct strset *s);
void strset_clear(struct strset *s);
/* Adds s; returns false when it was already there. */
bool strset_add(struct strset *s, const char *str);
bool strset_has(const struct strset *s, const char *str);

#endif
