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
void api_tenant_list(struct api_ctx *ctx);
void api_tenant_texts(struct api_ctx *ctx);
void api_tenant_get(struct api_ctx *ctx);
void api_tenant_update(struct api_ctx *ctx);
void api_tenant_erase(struct api_ctx *ctx);
void api_tenant_opt_out(struct api_ctx *ctx);
void api_tenant_suppressed(struct api_ctx *ctx);
void api_tenant_unsuppress(struct api_ctx *ctx);
void api_tenant_import(struct api_ctx *ctx);
int api_tenant_import_body(struct api_ctx *ctx, const char *data, size_t len);
/* api_tenant_facets.c */
void api_tenant_facets(struct api_ctx *ctx);
/* api_tenant_export.c */
void api_tenant_export(struct api_ctx *ctx);

/* api_campaigns.c */
void api_campaign_create(struct api_ctx *ctx);
void api_campaign_list(struct api_ctx *ctx);
void api_campaign_get(struct api_ctx *ctx);
void api_campaign_update(struct api_ctx *ctx);
void api_campaign_schedule(struct api_ctx *ctx);
void api_campaign_pause(struct api_ctx *ctx);
void api_campaign_resume(struct api_ctx *ctx);
void api_campaign_cancel(struct api_ctx *ctx);
/* api_campaign_preview.c, api_campaign_messages.c */
void api_campaign_preview(struct api_ctx *ctx);
void api_campaign_preview_unsaved(struct api_ctx *ctx);
void api_campaign_test(struct api_ctx *ctx);
void api_campaign_messages(struct api_ctx *ctx);
void api_campaign_report(struct api_ctx *ctx);

/* api_help.c */
void api_help_list(struct api_ctx *ctx);
void api_help_report(struct api_ctx *ctx);
void api_help_get(struct api_ctx *ctx);
void api_help_move(struct api_ctx *ctx);
/* Answers 201 with the request just made, as the caller sees it, wherever it was sent. */
void api_help_made(struct api_ctx *ctx, const char *id);

/* api_referrals.c: help requests made by staff for someone */
void api_referral_create(struct api_ctx *ctx);

/* api_outcomes.c */
void api_outcomes(struct api_ctx *ctx);
void api_outcomes_report(struct api_ctx *ctx);

/* api_landlords.c */
void api_landlord_create(struct api_ctx *ctx);
void api_landlord_list(struct api_ctx *ctx);
void api_landlord_get(struct api_ctx *ctx);
void api_landlord_update(struct api_ctx *ctx);

/* api_partners.c */
void api_partner_create(struct api_ctx *ctx);
void api_partner_list(struct api_ctx *ctx);
void api_partner_get(struct api_ctx *ctx);
void api_partner_update(struct api_ctx *ctx);

/* api_keys.c: listing and revoking API keys */
void api_key_list(struct api_ctx *ctx);
void api_key_revoke(struct api_ctx *ctx);

/* api_keywords.c, api_flows.c */
void api_keywords_get(struct api_ctx *ctx);
void api_keywords_put(struct api_ctx *ctx);
typedef void api_keywords_saved_fn(struct api_ctx *ctx);
/* Stores set (taken) as the keyword set, uses it at once, then calls saved to answer. */
void api_keywords_save(struct api_ctx *ctx, struct keyword_set *set, api_keywords_saved_fn *saved);
void api_flow_list(struct api_ctx *ctx);
void api_flow_get(struct api_ctx *ctx);
void api_flow_put(struct api_ctx *ctx);

/* api_replies.c */
void api_replies_explain(struct api_ctx *ctx);
void api_replies_unrecognised(struct api_ctx *ctx);
void api_replies_map(struct api_ctx *ctx);

/* session.c: console sign-in */
void api_session_create(struct api_ctx *ctx);
void api_session_get(struct api_ctx *ctx);
void api_session_delete(struct api_ctx *ctx);

/* api_users.c: console users and their invitations */
void api_user_list(struct api_ctx *ctx);
void api_user_create(struct api_ctx *ctx);
void api_user_get(struct api_ctx *ctx);
void api_user_update(struct api_ctx *ctx);
void api_user_invite(struct api_ctx *ctx);
void api_invite_check(struct api_ctx *ctx);
void api_invite_accept(struct api_ctx *ctx);

/* inbound.c, receipts.c: provider webhooks */
void inbound_webhook(struct api_ctx *ctx);
void receipts_webhook(struct api_ctx *ctx);

/* sim_server.c: the built-in provider simulator */
void sim_server_accept(struct api_ctx *ctx);
void sim_server_tenant_texts(struct api_ctx *ctx);
void sim_server_list(struct api_ctx *ctx);

#endif
