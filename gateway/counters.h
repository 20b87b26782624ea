/*
 * counters.h: signpost's figures for Prometheus, and GET /metrics.
 *
 * What happens on the hot paths (texts sent, webhooks, HTTP requests, statements) is
 * counted in fixed arrays indexed by provider, state, action and route: a plain
 * increment on the event loop, no lock, no allocation, no query. Figures that live in
 * PostgreSQL (help requests, campaigns, texts waiting) are read by one statement per
 * scrape. One daemon a process: the counters are the process's.
 *
 * /metrics is served without a key on SIGNPOST_METRICS_LISTEN when it is set (a listener
 * of its own), else on the main listener to admin keys (the route in api.c).
 */
#ifndef SIGNPOST_COUNTERS_H
#define SIGNPOST_COUNTERS_H

#include "gateway/api.h"
#include "gateway/triage.h"

#define COUNTERS_PROVIDERS_MAX 16 /* providers past this are not counted */
#define COUNTERS_ROUTES_MAX 128   /* api.c's routes; one more slot for unknown paths */

/* How a send attempt ended. */
enum counters_send {
	COUNTERS_SEND_ACCEPTED,
	COUNTERS_SEND_TEMPORARY,   /* to be retried */
	COUNTERS_SEND_PERMANENT,   /* refused for good */
	COUNTERS_SEND_UNREACHABLE, /* no answer, and the request surely not delivered */
	COUNTERS_SEND_UNKNOWN,     /* no complete answer: the text may have gone */
	COUNTERS_SEND__COUNT
};

/* Webhooks that are not texts from tenants (those count their triage action). */
enum counters_webhook {
	COUNTERS_WEBHOOK_RECEIPT, /* a delivery receipt */
	COUNTERS_WEBHOOK_IGNORED, /* checked, nothing to store (a ping, a repeat, a part) */
	COUNTERS_WEBHOOK__COUNT
};

enum counters_refusal {
	COUNTERS_REFUSED_BAD_SIGNATURE,
	COUNTERS_REFUSED_REPLAYED,
	COUNTERS_REFUSED_TOO_LARGE,
	COUNTERS_REFUSED_UNKNOWN_PROVIDER,
	COUNTERS_REFUSED_MALFORMED,
	COUNTERS_REFUSED__COUNT
};

enum counters_partner {
	COUNTERS_PARTNER_DELIVERED,
	COUNTERS_PARTNER_FAILED,   /* an answer other than 2xx, or none: retried later */
	COUNTERS_PARTNER_NOT_SENT, /* no usable URL or secret */
	COUNTERS_PARTNER__COUNT
};

/* Remembers the configured providers, the start time, and opens SIGNPOST_METRICS_LISTEN. */
int counters_start(struct app *app, struct sbuf *err) WUR;
/* Stops accepting on the metrics listener; counters_free closes it. */
void counters_stop(void);
void counters_free(void);

/* A send attempt through p and what it became (final states only are counted as texts). */
void counters_send(const struct provider_cfg *p, enum counters_send outcome, long http_status,
		   int64_t elapsed_ms, enum msg_state state);
/* A delivery receipt moved a text of p to state. */
void counters_text(const struct provider_cfg *p, enum msg_state state);
void counters_inbound(const struct provider_cfg *p, enum triage_action action);
void counters_webhook(const struct provider_cfg *p, enum counters_webhook kind);
void counters_refused(enum counters_refusal reason);
void counters_partner(enum counters_partner outcome);
/* An HTTP answer: route is api.c's index, -1 for none; route_webhook its body is raw. */
void counters_http(int route, bool route_webhook, int status, int64_t elapsed_ms);

/* GET /metrics on the main listener (admin keys). */
void counters_api(struct api_ctx *ctx);

#endif
