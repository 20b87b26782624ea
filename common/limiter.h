/*
 * limiter.h: counts events per key (a client's address, say) in fixed windows: a key that
 * has had `limit` events in the window its first event opened is refused until that window
 * ends. The table has a fixed number of slots, so memory does not grow with the number of
 * keys: when the slots a key may use are all taken by open windows, the oldest of them
 * makes room.
 */
#ifndef SIGNPOST_LIMITER_H
#define SIGNPOST_LIMITER_H

#include "common/util.h"

#define LIMITER_KEY_MAX 47 /* longer keys are cut: an IPv6 address in text fits */

struct limiter;

/* limit 0: nothing is ever refused. */
struct limiter *limiter_new(size_t slots, int limit, int64_t window_ms);
void limiter_free(struct limiter *l);
/* Records one event for key. */
void limiter_hit(struct limiter *l, const char *key, int64_t now_ms);
/* How long key is refused for, in ms: 0 when it is not. */
int64_t limiter_wait_ms(const struct limiter *l, const char *key, int64_t now_ms);

#endif
