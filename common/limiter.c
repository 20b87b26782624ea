#include "common/limiter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMITER_PROBES 8 /* slots a key may use, from its hash on */

struct limiter_slot {
	char key[LIMITER_KEY_MAX + 1];
	int64_t start_ms; /* when the window opened; 0: a free slot */
	int count;
};

struct limiter {
	struct limiter_slot *slots;
	size_t nslots;
	int limit;
	int64_t window_ms;
};

struct limiter *limiter_new(size_t slots, int limit, int64_t window_ms)
{
	struct limiter *l = xcalloc(1, sizeof(*l));

	l->nslots = MAX(slots, (size_t)LIMITER_PROBES);
	l->slots = xcalloc(l->nslots, sizeof(*l->slots));
	l->limit = limit;
	l->window_ms = window_ms;
	return l;
}

void limiter_free(struct limiter *l)
{
	if (!l)
		return;
	free(l->slots);
	free(l);
}

/* FNV-1a over the key as stored (cut to LIMITER_KEY_MAX). */
static size_t limiter_hash(const char *key)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; key[i] && i < LIMITER_KEY_MAX; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h;
}

static bool limiter_open(const struct limiter *l, const struct limiter_slot *s, int64_t now_ms)
{
	return s->start_ms && now_ms - s->start_ms < l->window_ms;
}

static bool limiter_same(const struct limiter_slot *s, const char *key)
{
	return strncmp(s->key, key, LIMITER_KEY_MAX) == 0;
}

/* The key's slot with an open window, or NULL. */
static struct limiter_slot *limiter_find(const struct limiter *l, const char *key, int64_t now_ms)
{
	size_t h = limiter_hash(key);

	for (size_t i = 0; i < LIMITER_PROBES; i++) {
		struct limiter_slot *s = &l->slots[(h + i) % l->nslots];
		if (limiter_open(l, s, now_ms) && limiter_same(s, key))
			return s;
	}
	return NULL;
}

/* A slot for a new window: a closed one, else the one opened longest ago. */
static struct limiter_slot *limiter_take(struct limiter *l, const char *key, int64_t now_ms)
{
	size_t h = limiter_hash(key);
	struct limiter_slot *oldest = NULL;

	for (size_t i = 0; i < LIMITER_PROBES; i++) {
		struct limiter_slot *s = &l->slots[(h + i) % l->nslots];
		if (!limiter_open(l, s, now_ms))
			return s;
		if (!oldest || s->start_ms < oldest->start_ms)
			oldest = s;
	}
	return oldest;
}

void limiter_hit(struct limiter *l, const char *key, int64_t now_ms)
{
	struct limiter_slot *s = limiter_find(l, key, now_ms);

	if (!s) {
		s = limiter_take(l, key, now_ms);
		snprintf(s->key, sizeof(s->key), "%s", key);
		s->start_ms = MAX(now_ms, 1);
		s->count = 0;
	}
	s->count++;
}

int64_t limiter_wait_ms(const struct limiter *l, const char *key, int64_t now_ms)
{
	const struct limiter_slot *s = l->limit ? limiter_find(l, key, now_ms) : NULL;

	if (!s || s->count < l->limit)
		return 0;
	return s->start_ms + l->window_ms - now_ms;
}
