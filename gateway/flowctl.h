/*
 * flowctl.h: how fast and whether to send through one provider.
 *
 * Three mechanisms, all driven by the caller's monotonic clock so they can be tested
 * without an event loop:
 * - a token bucket in segments per second (a long text costs its segment count; the
 *   bucket may go into debt, which delays the next claims);
 * - a concurrency window that halves when the provider throttles (HTTP 429 or its own
 *   "throttled" answer) and grows back by one request per window of successes, with a
 *   pause for the provider's Retry-After;
 * - a circuit breaker: FLOWCTL_BREAKER_THRESHOLD failures in a row (errors, 5xx, timeouts)
 *   open it; after a cool-down one probe request is let through (half-open); its success
 *   closes the breaker, its failure opens it again for twice as long.
 *
 * A token bucket alone (flowctl_bucket) also limits a campaign's texts per minute.
 */
#ifndef SIGNPOST_FLOWCTL_H
#define SIGNPOST_FLOWCTL_H

#include <stdbool.h>
#include <stdint.h>

#define FLOWCTL_BREAKER_THRESHOLD 5
#define FLOWCTL_COOLDOWN_MIN_MS 2000
#define FLOWCTL_COOLDOWN_MAX_MS 60000
#define FLOWCTL_NO_WAIT INT64_MAX

struct flowctl_bucket {
	double rate;   /* tokens per second; 0 means unlimited */
	double burst;  /* most tokens held */
	double tokens; /* may be negative: debt */
	int64_t at_ms; /* when tokens was last brought up to date */
};

/* rate 0: unlimited. The bucket starts full. */
void flowctl_bucket_init(struct flowctl_bucket *b, double rate, int64_t now_ms);
/* Changes the rate, keeping the tokens held (capped to the new burst). */
void flowctl_bucket_set_rate(struct flowctl_bucket *b, double rate, int64_t now_ms);
/* Whole tokens available now (INT32_MAX when unlimited, 0 when in debt). */
int flowctl_bucket_available(struct flowctl_bucket *b, int64_t now_ms);
void flowctl_bucket_take(struct flowctl_bucket *b, double n, int64_t now_ms);
/* Milliseconds until at least one whole token is available; 0 when one is now. */
int64_t flowctl_bucket_wait_ms(struct flowctl_bucket *b, int64_t now_ms);

enum flowctl_breaker {
	FLOWCTL_CLOSED,
	FLOWCTL_OPEN,
	FLOWCTL_HALF_OPEN,
};

const char *flowctl_breaker_str(enum flowctl_breaker b);

enum flowctl_outcome {
	FLOWCTL_OK,        /* the provider answered (accepted, or refused the message itself) */
	FLOWCTL_FAILED,    /* error, 5xx, timeout, unreachable */
	FLOWCTL_THROTTLED, /* asked us to slow down */
};

struct flowctl {
	double rate;             /* configured segments per second; 0: no limit of ours */
	struct flowctl_bucket bucket; /* at the effective rate, lowered while throttled */
	double window;           /* requests allowed in flight */
	int max_window;
	int64_t paused_until_ms; /* Retry-After */
	enum flowctl_breaker breaker;
	int failures;            /* in a row */
	int64_t cooldown_ms;
	int64_t open_until_ms;
	bool probing;            /* the half-open probe is in flight */
};

void flowctl_init(struct flowctl *f, double segments_per_second, int max_window, int64_t now_ms);
/* How many more messages may be claimed now with inflight requests outstanding. */
int flowctl_budget(struct flowctl *f, int inflight, int64_t now_ms);
/* n messages were claimed for sending: spends a token each and takes the probe slot. */
void flowctl_claimed(struct flowctl *f, int n, int64_t now_ms);
/* Texts claimed but not sent (an empty claim, a render failure) give their token back. */
void flowctl_unclaimed(struct flowctl *f, int n, int64_t now_ms);
/* A text of segments parts is going out: spends what its first token did not cover. */
void flowctl_segments(struct flowctl *f, int segments, int64_t now_ms);
/* Records the outcome of one request. Returns true when the breaker changed state. */
bool flowctl_result(struct flowctl *f, enum flowctl_outcome o, int retry_after_s,
		    int64_t now_ms);
/* True while the breaker refuses new work (open, or half-open with its probe out). */
bool flowctl_refusing(struct flowctl *f, int64_t now_ms);
/*
 * Milliseconds until the budget may grow by the passage of time alone (a pause ending,
 * the breaker cooling down, tokens refilling); FLOWCTL_NO_WAIT when only a finishing
 * request can help.
 */
int64_t flowctl_wait_ms(struct flowctl *f, int64_t now_ms);

#endif
