#include "gateway/throttle.h"

#include <math.h>

#include "common/util.h"

/* ---- token bucket ---- */

static void throttle_bucket_refill(struct throttle_bucket *b, int64_t now_ms)
{
	if (now_ms > b->at_ms)
		b->tokens = MIN(b->burst, b->tokens + b->rate * (double)(now_ms - b->at_ms) / 1000.0);
	b->at_ms = now_ms;
}

void throttle_bucket_init(struct throttle_bucket *b, double rate, int64_t now_ms)
{
	b->rate = rate > 0 ? rate : 0;
	b->burst = b->rate > 0 ? MAX(1.0, b->rate) : 0;
	b->tokens = b->burst;
	b->at_ms = now_ms;
}

void throttle_bucket_set_rate(struct throttle_bucket *b, double rate, int64_t now_ms)
{
	throttle_bucket_refill(b, now_ms);
	b->rate = rate;
	b->burst = MAX(1.0, rate);
	b->tokens = MIN(b->tokens, b->burst);
}

int throttle_bucket_available(struct throttle_bucket *b, int64_t now_ms)
{
	if (b->rate <= 0)
		return INT32_MAX;
	throttle_bucket_refill(b, now_ms);
	return b->tokens >= 1 ? (int)MIN(b->tokens, (double)INT32_MAX) : 0;
}

void throttle_bucket_take(struct throttle_bucket *b, double n, int64_t now_ms)
{
	if (b->rate <= 0)
		return;
	throttle_bucket_refill(b, now_ms);
	b->tokens = MIN(b->burst, b->tokens - n);
}

int64_t throttle_bucket_wait_ms(struct throttle_bucket *b, int64_t now_ms)
{
	if (b->rate <= 0)
		return 0;
	throttle_bucket_refill(b, now_ms);
	if (b->tokens >= 1)
		return 0;
	return (int64_t)ceil((1.0 - b->tokens) * 1000.0 / b->rate);
}

/* ---- provider flow control ---- */

const char *throttle_breaker_str(enum throttle_breaker b)
{
	switch (b) {
	case THROTTLE_CLOSED:
		return "closed";
	case THROTTLE_OPEN:
		return "open";
	case THROTTLE_HALF_OPEN:
		return "half-open";
	}
	return "?";
}

void throttle_init(struct throttle *f, double segments_per_second, int max_window, int64_t now_ms)
{
	*f = (struct throttle){
		.rate = segments_per_second > 0 ? segments_per_second : 0,
		.window = max_window,
		.max_window = max_window,
		.breaker = THROTTLE_CLOSED,
		.cooldown_ms = THROTTLE_COOLDOWN_MIN_MS,
	};
	throttle_bucket_init(&f->bucket, f->rate, now_ms);
}

void throttle_configure(struct throttle *f, double segments_per_second, int max_window,
			int64_t now_ms)
{
	bool at_cap = f->window >= f->max_window;

	f->rate = segments_per_second > 0 ? segments_per_second : 0;
	f->max_window = max_window;
	f->window = at_cap ? max_window : MIN(f->window, (double)max_window);
	throttle_bucket_set_rate(&f->bucket, f->rate, now_ms);
}

static void throttle_breaker_tick(struct throttle *f, int64_t now_ms)
{
	if (f->breaker == THROTTLE_OPEN && now_ms >= f->open_until_ms) {
		f->breaker = THROTTLE_HALF_OPEN;
		f->probing = false;
	}
}

bool throttle_refusing(struct throttle *f, int64_t now_ms)
{
	throttle_breaker_tick(f, now_ms);
	return f->breaker == THROTTLE_OPEN || (f->breaker == THROTTLE_HALF_OPEN && f->probing);
}

int throttle_budget(struct throttle *f, int inflight, int64_t now_ms)
{
	if (throttle_refusing(f, now_ms) || now_ms < f->paused_until_ms)
		return 0;
	int n = MIN((int)f->window - inflight, throttle_bucket_available(&f->bucket, now_ms));
	if (f->breaker == THROTTLE_HALF_OPEN)
		n = MIN(n, 1);
	return MAX(n, 0);
}

void throttle_claimed(struct throttle *f, int n, int64_t now_ms)
{
	throttle_bucket_take(&f->bucket, n, now_ms);
	if (n > 0 && f->breaker == THROTTLE_HALF_OPEN)
		f->probing = true;
}

void throttle_unclaimed(struct throttle *f, int n, int64_t now_ms)
{
	throttle_bucket_take(&f->bucket, -n, now_ms);
	if (n > 0 && f->breaker == THROTTLE_HALF_OPEN)
		f->probing = false;
}

void throttle_segments(struct throttle *f, int segments, int64_t now_ms)
{
	if (segments > 1)
		throttle_bucket_take(&f->bucket, segments - 1, now_ms);
}

static bool throttle_close(struct throttle *f)
{
	f->failures = 0;
	f->probing = false;
	if (f->breaker == THROTTLE_CLOSED)
		return false;
	f->breaker = THROTTLE_CLOSED;
	f->cooldown_ms = THROTTLE_COOLDOWN_MIN_MS;
	return true;
}

static bool throttle_fail(struct throttle *f, int64_t now_ms)
{
	f->failures++;
	if (f->breaker == THROTTLE_HALF_OPEN)
		f->cooldown_ms = MIN(f->cooldown_ms * 2, (int64_t)THROTTLE_COOLDOWN_MAX_MS);
	else if (f->breaker == THROTTLE_OPEN || f->failures < THROTTLE_BREAKER_THRESHOLD)
		return false;
	f->breaker = THROTTLE_OPEN;
	f->probing = false;
	f->open_until_ms = now_ms + f->cooldown_ms;
	return true;
}

bool throttle_result(struct throttle *f, enum throttle_outcome o, int retry_after_s,
		    int64_t now_ms)
{
	switch (o) {
	case THROTTLE_OK:
		f->window = MIN(f->window + 1.0 / f->window, (double)f->max_window);
		if (f->rate > 0 && f->bucket.rate < f->rate)
			throttle_bucket_set_rate(&f->bucket, MIN(f->rate, f->bucket.rate + f->rate / 64),
						now_ms);
		return throttle_close(f);
	case THROTTLE_THROTTLED:
		/* The provider is alive and answering: slow down, but the breaker need not open. */
		f->paused_until_ms = MAX(f->paused_until_ms, now_ms + MAX(retry_after_s, 1) * 1000LL);
		f->window = MAX(1.0, f->window / 2);
		if (f->rate > 0)
			throttle_bucket_set_rate(&f->bucket, MAX(f->rate / 16, f->bucket.rate / 2),
						now_ms);
		return throttle_close(f);
	case THROTTLE_FAILED:
		return throttle_fail(f, now_ms);
	}
	return false;
}

int64_t throttle_wait_ms(struct throttle *f, int64_t now_ms)
{
	int64_t w = 0;

	throttle_breaker_tick(f, now_ms);
	if (f->breaker == THROTTLE_OPEN)
		w = f->open_until_ms - now_ms;
	if (now_ms < f->paused_until_ms)
		w = MAX(w, f->paused_until_ms - now_ms);
	w = MAX(w, throttle_bucket_wait_ms(&f->bucket, now_ms));
	return w > 0 ? w : THROTTLE_NO_WAIT;
}
