#include "gateway/flowctl.h"

#include <math.h>

#include "common/util.h"

/* ---- token bucket ---- */

static void flowctl_bucket_refill(struct flowctl_bucket *b, int64_t now_ms)
{
	if (now_ms > b->at_ms)
		b->tokens = MIN(b->burst, b->tokens + b->rate * (double)(now_ms - b->at_ms) / 1000.0);
	b->at_ms = now_ms;
}

void flowctl_bucket_init(struct flowctl_bucket *b, double rate, int64_t now_ms)
{
	b->rate = rate > 0 ? rate : 0;
	b->burst = b->rate > 0 ? MAX(1.0, b->rate) : 0;
	b->tokens = b->burst;
	b->at_ms = now_ms;
}

void flowctl_bucket_set_rate(struct flowctl_bucket *b, double rate, int64_t now_ms)
{
	flowctl_bucket_refill(b, now_ms);
	b->rate = rate;
	b->burst = MAX(1.0, rate);
	b->tokens = MIN(b->tokens, b->burst);
}

int flowctl_bucket_available(struct flowctl_bucket *b, int64_t now_ms)
{
	if (b->rate <= 0)
		return INT32_MAX;
	flowctl_bucket_refill(b, now_ms);
	return b->tokens >= 1 ? (int)MIN(b->tokens, (double)INT32_MAX) : 0;
}

void flowctl_bucket_take(struct flowctl_bucket *b, double n, int64_t now_ms)
{
	if (b->rate <= 0)
		return;
	flowctl_bucket_refill(b, now_ms);
	b->tokens = MIN(b->burst, b->tokens - n);
}

int64_t flowctl_bucket_wait_ms(struct flowctl_bucket *b, int64_t now_ms)
{
	if (b->rate <= 0)
		return 0;
	flowctl_bucket_refill(b, now_ms);
	if (b->tokens >= 1)
		return 0;
	return (int64_t)ceil((1.0 - b->tokens) * 1000.0 / b->rate);
}

/* ---- provider flow control ---- */

const char *flowctl_breaker_str(enum flowctl_breaker b)
{
	switch (b) {
	case FLOWCTL_CLOSED:
		return "closed";
	case FLOWCTL_OPEN:
		return "open";
	case FLOWCTL_HALF_OPEN:
		return "half-open";
	}
	return "?";
}

void flowctl_init(struct flowctl *f, double segments_per_second, int max_window, int64_t now_ms)
{
	*f = (struct flowctl){
		.rate = segments_per_second > 0 ? segments_per_second : 0,
		.window = max_window,
		.max_window = max_window,
		.breaker = FLOWCTL_CLOSED,
		.cooldown_ms = FLOWCTL_COOLDOWN_MIN_MS,
	};
	flowctl_bucket_init(&f->bucket, f->rate, now_ms);
}

static void flowctl_breaker_tick(struct flowctl *f, int64_t now_ms)
{
	if (f->breaker == FLOWCTL_OPEN && now_ms >= f->open_until_ms) {
		f->breaker = FLOWCTL_HALF_OPEN;
		f->probing = false;
	}
}

bool flowctl_refusing(struct flowctl *f, int64_t now_ms)
{
	flowctl_breaker_tick(f, now_ms);
	return f->breaker == FLOWCTL_OPEN || (f->breaker == FLOWCTL_HALF_OPEN && f->probing);
}

int flowctl_budget(struct flowctl *f, int inflight, int64_t now_ms)
{
	if (flowctl_refusing(f, now_ms) || now_ms < f->paused_until_ms)
		return 0;
	int n = MIN((int)f->window - inflight, flowctl_bucket_available(&f->bucket, now_ms));
	if (f->breaker == FLOWCTL_HALF_OPEN)
		n = MIN(n, 1);
	return MAX(n, 0);
}

void flowctl_claimed(struct flowctl *f, int n, int64_t now_ms)
{
	flowctl_bucket_take(&f->bucket, n, now_ms);
	if (n > 0 && f->breaker == FLOWCTL_HALF_OPEN)
		f->probing = true;
}

void flowctl_unclaimed(struct flowctl *f, int n, int64_t now_ms)
{
	flowctl_bucket_take(&f->bucket, -n, now_ms);
	if (n > 0 && f->breaker == FLOWCTL_HALF_OPEN)
		f->probing = false;
}

void flowctl_segments(struct flowctl *f, int segments, int64_t now_ms)
{
	if (segments > 1)
		flowctl_bucket_take(&f->bucket, segments - 1, now_ms);
}

static bool flowctl_close(struct flowctl *f)
{
	f->failures = 0;
	f->probing = false;
	if (f->breaker == FLOWCTL_CLOSED)
		return false;
	f->breaker = FLOWCTL_CLOSED;
	f->cooldown_ms = FLOWCTL_COOLDOWN_MIN_MS;
	return true;
}

static bool flowctl_fail(struct flowctl *f, int64_t now_ms)
{
	f->failures++;
	if (f->breaker == FLOWCTL_HALF_OPEN)
		f->cooldown_ms = MIN(f->cooldown_ms * 2, (int64_t)FLOWCTL_COOLDOWN_MAX_MS);
	else if (f->breaker == FLOWCTL_OPEN || f->failures < FLOWCTL_BREAKER_THRESHOLD)
		return false;
	f->breaker = FLOWCTL_OPEN;
	f->probing = false;
	f->open_until_ms = now_ms + f->cooldown_ms;
	return true;
}

bool flowctl_result(struct flowctl *f, enum flowctl_outcome o, int retry_after_s,
		    int64_t now_ms)
{
	switch (o) {
	case FLOWCTL_OK:
		f->window = MIN(f->window + 1.0 / f->window, (double)f->max_window);
		if (f->rate > 0 && f->bucket.rate < f->rate)
			flowctl_bucket_set_rate(&f->bucket, MIN(f->rate, f->bucket.rate + f->rate / 64),
						now_ms);
		return flowctl_close(f);
	case FLOWCTL_THROTTLED:
		/* The provider is alive and answering: slow down, but the breaker need not open. */
		f->paused_until_ms = MAX(f->paused_until_ms, now_ms + MAX(retry_after_s, 1) * 1000LL);
		f->window = MAX(1.0, f->window / 2);
		if (f->rate > 0)
			flowctl_bucket_set_rate(&f->bucket, MAX(f->rate / 16, f->bucket.rate / 2),
						now_ms);
		return flowctl_close(f);
	case FLOWCTL_FAILED:
		return flowctl_fail(f, now_ms);
	}
	return false;
}

int64_t flowctl_wait_ms(struct flowctl *f, int64_t now_ms)
{
	int64_t w = 0;

	flowctl_breaker_tick(f, now_ms);
	if (f->breaker == FLOWCTL_OPEN)
		w = f->open_until_ms - now_ms;
	if (now_ms < f->paused_until_ms)
		w = MAX(w, f->paused_until_ms - now_ms);
	w = MAX(w, flowctl_bucket_wait_ms(&f->bucket, now_ms));
	return w > 0 ? w : FLOWCTL_NO_WAIT;
}
