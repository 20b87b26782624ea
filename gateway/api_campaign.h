/*
 * api_campaign.h: what the campaign handlers (api_campaigns.c, api_campaign_preview.c,
 * api_campaign_messages.c) share: one campaign, stored or not yet, for checks, rendering
 * and previews.
 */
#ifndef SIGNPOST_API_CAMPAIGN_H
#define SIGNPOST_API_CAMPAIGN_H

#include <time.h>

#include "campaigns/window.h"
#include "gateway/api.h"
#include "gateway/lifecycle.h"

struct campaign_row {
	int64_t id;
	char *body;                 /* the default body */
	struct json_object *bodies; /* language code -> body */
	bool smart_encoding;
	bool marketing;
	char *provider;             /* the campaign's, or the default provider */
	char *fallback_provider;    /* or NULL */
	enum campaign_state state;
	struct send_window window;
	int rate_per_minute;        /* 0: none */
	time_t start_at;            /* start_at, or now when unscheduled */
	char *audience;             /* the rules, normalised (campaigns/audience.h), as JSON */
};

/* Reads campaign ctx->params[0]; answers 404 itself (and calls nothing) when there is none. */
void campaign_row_load(struct api_ctx *ctx, db_cb *cb);
/* 0 with c filled from a campaign_row_load result, -1 after answering an error. */
int campaign_row_parse(struct api_ctx *ctx, const struct db_result *r, struct campaign_row *c) WUR;
void campaign_row_free(struct campaign_row *c);
/*
 * 0 with c filled from the request body of a campaign not stored (id 0, a draft starting
 * now), checked as POST /v1/campaigns checks it except that the name may be left out; -1
 * after answering the error.
 */
int campaign_row_from_body(struct api_ctx *ctx, struct campaign_row *c) WUR;
/* true when name is NULL or a configured provider; answers 422 naming field otherwise. */
bool campaign_check_provider(struct api_ctx *ctx, const char *field, const char *name) WUR;
/* The body a tenant with this language (NULL: none) receives. */
const char *campaign_row_body(const struct campaign_row *c, const char *language);
/* Formats t as ISO 8601 UTC ("2026-12-01T09:30:00Z") into buf[32]. */
void campaign_time_iso(time_t t, char buf[32]);

#endif
