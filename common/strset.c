#include "common/strset.h"

#include <stdlib.h>
#include <string.h>

static uint64_t strset_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void strset_init(struct strset *s)
{
	s->slots = NULL;
	s->cap = 0;
	s->n = 0;
}

void strset_clear(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++) {
		free(s->slots[i]);
		s->slots[i] = NULL;
	}
	s->n = 0;
}

void strset_free(struct strset *s)
{
	strset_clear(s);
	free(s->slots);
	strset_init(s);
}

static size_t strset_find(const struct strset *s, const char *str)
{
	size_t i = (size_t)(strset_hash(str) & (s->cap - 1));
	while (s->slots[i] && strcmp(s->slots[i], str) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void strset_grow(struct strset *s)
{
	struct strset bigger = { xcalloc(s->cap ? s->cap * 2 : 64, sizeof(char *)),
				 s->cap ? s->cap * 2 : 64, s->n };

	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			bigger.slots[strset_find(&bigger, s->slots[i])] = s->slots[i];
	free(s->slots);
	*s = bigger;
}

bool strset_add(struct strset *s, const char *str)
{
	if ((s->n + 1) * 2 > s->cap)
		strset_grow(s);
	size_t i = strset_find(s, str);
	if (s->slots[i])
		return false;
	s->slots[i] = xstrdup(str);
	s->n++;
	return true;
}

bool strset_has(const struct strset *s, const char *str)
{
	return s->cap && s->slots[strset_find(s, str)] != NULL;
}
