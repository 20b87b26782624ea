/*
 * dispatch.h: claims due messages, sends them through their provider and records what
 * happened.
 *
 * Claims are SQL that locks due rows with FOR UPDATE SKIP LOCKED, re-checks the opt-out
 * list and marks them 'sending' under this daemon's id, all in one statement. Results are
 * written back in batches. A request whose outcome we cannot know (the provider may have
 * accepted it) leaves its message 'unknown' and it is never resent automatically.
 */
#ifndef SIGNPOST_DISPATCH_H
#define SIGNPOST_DISPATCH_H

#include <json-c/json.h>

#include "campaigns/window.h"
#include "gateway/app.h"
#include "gateway/throttle.h"

/* A running campaign as the scheduler sees it. */
struct dispatch_campaign {
	int64_t id;
	const char *provider;          /* config name */
	const char *fallback_provider; /* config name, or NULL */
	bool open;                     /* inside its send window now */
	int rate_per_minute;           /* the campaign's own limit; 0 for none */
	bool smart_encoding;           /* replace look-alikes so texts stay GSM-7 */
};

struct dispatch *dispatch_new(struct app *app);
void dispatch_free(struct dispatch *d);
/* Replaces the set of running campaigns (copied). */
void dispatch_set_campaigns(struct dispatch *d, const struct dispatch_campaign *c, size_t n);
/* Something may be due: claim now. */
void dispatch_kick(struct dispatch *d);
/* Stops claiming new work; sends in flight finish. */
/* The providers' rates and windows changed (a configuration reload): apply them. */
void dispatch_reconfigure(struct dispatch *d);
void dispatch_stop(struct dispatch *d);
/*
 * This daemon's view of each provider: breaker, rates, requests in flight. A new JSON
 * array the caller owns.
 */
struct json_object *dispatch_providers_json(struct dispatch *d);
/* One provider's flow control as /metrics shows it. */
struct dispatch_view {
	const char *name;
	enum throttle_breaker breaker;
	bool limited;  /* it has a rate: tokens means something */
	double tokens; /* segments in its bucket now; negative: debt */
	int inflight;
};

/* The i-th configured provider's view, brought up to date; false past the last. */
bool dispatch_provider_view(struct dispatch *d, size_t i, struct dispatch_view *out);
/* Nothing in flight and nothing waiting to be written. */
bool dispatch_idle(const struct dispatch *d);

#endif
