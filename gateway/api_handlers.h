/*
 * api_handlers.h: the handlers behind the routes in api.c, one group per resource.
 */
#ifndef SIGNPOST_API_HANDLERS_H
#define SIGNPOST_API_HANDLERS_H

#include "gateway/api.h"

/* api.c */
void api_healthz(struct api_ctx *ctx);
void api_readyz(struct api_ctx *ctx);
void api_providers_list(struct api_ctx *ctx);

/* api_tenants.c, api_import.c */
void api_tenant_create(struct api_ctx *ctx);
void api_tenant_get(struct api_ctx *ctx);
void api_tenant_import(struct api_ctx *ctx);
int api_tenant_import_body(struct api_ctx *ctx, const char *data, size_t len);

/* api_campaigns.c */
void api_campaign_create(struct api_ctx *ctx);
void api_campaign_list(struct api_ctx *ctx);
void api_campaign_get(struct api_ctx *ctx);
void api_campaign_schedule(struct api_ctx *ctx);

/* api_help.c */
void api_help_list(struct api_ctx *ctx);

/* inbound.c: provider webhooks */
void inbound_webhook(struct api_ctx *ctx);
void inbound_status_webhook(struct api_ctx *ctx);

/* simulator.c: the built-in provider simulator */
void simulator_accept(struct api_ctx *ctx);
void simulator_tenant_texts(struct api_ctx *ctx);
void simulator_list(struct api_ctx *ctx);

#endif
