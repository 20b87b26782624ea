/*
 * throttle.h: how fast and whether to send through one provider.
 *
 * Three mechanisms, all driven by the caller's monotonic clock so they can be tested
 * without an event loop:
 * - a token bucket in segments per second (a long text costs its segment count; the
 *   bucket may go into debt, which delays the next claims);
 * - a concurrency window that halves when the provider throttles (HTTP 429 or its own
 *   "throttled" answer) and grows back by one request per window of successes, with a
 *   pause for the provider's Retry-After;
 * - a circuit breaker: THROTTLE_BREAKER_THRESHOLD failures in a row (errors, 5xx, timeouts)
 *   open it; after a cool-down one probe request is let through (half-open); its success
 *   closes the breaker, its failure opens it again for twice as long.
 *
 * A token bucket alone (throttle_bucket) also limits a campaign's texts per minute.
 */
#ifndef SIGNPOST_THROTTLE_H
#define SIGNPOST_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#define THROTTLE_BREAKER_THRESHOLD 5
#define THROTTLE_COOLDOWN_MIN_MS 2000
#define THROTTLE_COOLDOWN_MAX_MS 60000
#define THROTTLE_NO_WAIT INT64_MAX

struct throttle_bucket {
	double rate;   /* tokens per second; 0 means unlimited */
	double burst;  /* most tokens held */
	double tokens; /* may be negative: debt */
	int64_t at_ms; /* when tokens was last brought up to date */
};

/* rate 0: unlimited. The bucket starts full. */
void throttle_bucket_init(struct throttle_bucket *b, double rate, int64_t now_ms);
/* Changes the rate, keeping the tokens held (capped to the new burst). */
void throttle_bucket_set_rate(struct throttle_bucket *b, double rate, int64_t now_ms);
/* Whole tokens available now (INT32_MAX when unlimited, 0 when in debt). */
int throttle_bucket_available(struct throttle_bucket *b, int64_t now_ms);
void throttle_bucket_take(struct throttle_bucket *b, double n, int64_t now_ms);
/* Milliseconds until at least one whole token is available; 0 when one is now. */
int64_t throttle_bucket_wait_ms(struct throttle_bucket *b, int64_t now_ms);

enum throttle_breaker {
	THROTTLE_CLOSED,
	THROTTLE_OPEN,
	THROTTLE_HALF_OPEN,
};

const char *throttle_breaker_str(enum throttle_breaker b);

enum throttle_outcome {
	THROTTLE_OK,        /* the provider answered (accepted, or refused the message itself) */
	THROTTLE_FAILED,    /* error, 5xx, timeout, unreachable */
	THROTTLE_THROTTLED, /* asked us to slow down */
};

struct throttle {
	double rate;             /* configured segments per second; 0: no limit of ours */
	struct throttle_bucket bucket; /* at the effective rate, lowered while throttled */
	double window;           /* requests allowed in flight */
	int max_window;
	int64_t paused_until_ms; /* Retry-After */
	enum throttle_breaker breaker;
	int failures;            /* in a row */
	int64_t cooldown_ms;
	int64_t open_until_ms;
	bool probing;            /* the half-open probe is in flight */
};

void throttle_init(struct throttle *f, double segments_per_second, int max_window, int64_t now_ms);
/* A reloaded configuration: a new rate and window cap, the breaker's state kept. */
void throttle_configure(struct throttle *f, double segments_per_second, int max_window,
			int64_t now_ms);
/* How many more messages may be claimed now with inflight requests outstanding. */
int throttle_budget(struct throttle *f, int inflight, int64_t now_ms);
/* n messages were claimed for sending: spends a token each and takes the probe slot. */
void throttle_claimed(struct throttle *f, int n, int64_t now_ms);
/* Texts claimed but not sent (an empty claim, a render failure) give their token back. */
void throttle_unclaimed(struct throttle *f, int n, int64_t now_ms);
/* A text of segments parts is going out: spends what its first token did not cover. */
void throttle_segments(struct throttle *f, int segments, int64_t now_ms);
/* Records the outcome of one request. Returns true when the breaker changed state. */
bool throttle_result(struct throttle *f, enum throttle_outcome o, int retry_after_s,
		    int64_t now_ms);
/* True while the breaker refuses new work (open, or half-open with its probe out). */
bool throttle_refusing(struct throttle *f, int64_t now_ms);
/*
 * Milliseconds until the budget may grow by the passage of time alone (a pause ending,
 * the breaker cooling down, tokens refilling); THROTTLE_NO_WAIT when only a finishing
 * request can help.
 */
int64_t throttle_wait_ms(struct throttle *f, int64_t now_ms);

#endif
