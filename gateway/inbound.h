/*
 * inbound.h: provider webhooks that bring texts from tenants (inbound_webhook), and what
 * every provider webhook starts with (inbound_open), delivery receipts included
 * (receipts.c).
 *
 * Nothing is stored unless the provider's signature (or configured credential) checks
 * out. The HTTP answer waits until what the webhook carried is committed, so a provider
 * that gets no 2xx can safely retry.
 */
#ifndef SIGNPOST_INBOUND_H
#define SIGNPOST_INBOUND_H

#include "gateway/api.h"

#include "gateway/triage.h"

/* A provider webhook under way (ctx->state): the provider and what the webhook carried. */
struct inbound {
	struct provider_cfg *provider;
	struct verify_result auth; /* its replay id, recorded with what it stores */
	struct sms_in sms;
	struct triage_text text; /* sms, checked once, as triage needs it */
	struct status_in status;
	void (*answer)(struct api_ctx *ctx); /* the answer once nothing needs storing */
};

/*
 * Finds the provider the path names, checks the webhook's signature or credential and
 * fills hin (whose URL, in *url, the caller frees); answers 404 or 403 and returns NULL
 * otherwise.
 */
struct inbound *inbound_open(struct api_ctx *ctx, struct http_in *hin, char **url);
/*
 * Answers a webhook that stores nothing (a repeat, a ping, a status we do not know) with
 * answer, once its replay id (if any) is recorded: a replay of it is refused like any.
 */
void inbound_unstored(struct api_ctx *ctx, void (*answer)(struct api_ctx *ctx));
/* Answers 400 with what the adapter said of a webhook it could not read. */
void inbound_malformed(struct api_ctx *ctx, const struct sbuf *err);
/* Answers a failed statement: 403 for a webhook whose replay id was recorded before. */
void inbound_db_error(struct api_ctx *ctx, const struct db_result *r);

#endif
