#include "gateway/inbound.h"

#include <stdlib.h>
#include <string.h>

#include "campaigns/phone.h"
#include "common/codec.h"
#include "gateway/api_handlers.h"
#include "gateway/concat.h"
#include "gateway/lifecycle.h"
#include "gateway/log.h"
#include "gateway/router.h"

/*
 * $1 provider, $2 provider message id, $3 our reference, $4 state, $5 raw status,
 * $6 error code, $7 error text, $8 opted out, $9 whether to read the state before (for the
 * debug log). A message still 'sending' is left alone: its send result will pick the
 * receipt up from the receipts table. A receipt only ever raises a text's rank
 * (gateway/lifecycle.c). Returns whether the receipt was new, how many texts it moved, and
 * one of them with its state before.
 */
static const char receipt_sql[] =
	"WITH rc AS ("
	"  INSERT INTO receipts (provider, provider_msg_id, reference, state, raw_status, "
	"    error_code, error_text) VALUES ($1, $2, $3, $4, $5, $6, $7) "
	"  ON CONFLICT DO NOTHING RETURNING 1"
	"), m AS ("
	"  UPDATE messages m SET state = $4, raw_status = $5, "
	"    error_code = coalesce(nullif($6, ''), m.error_code), "
	"    error_text = coalesce($7, m.error_text), "
	"    provider_msg_id = coalesce(m.provider_msg_id, $2), "
	"    final_at = CASE WHEN signpost_state_rank($4) >= 5 THEN now() ELSE m.final_at END, "
	"    updated_at = now() "
	"  WHERE m.provider = $1 AND (m.provider_msg_id = $2 OR (m.provider_msg_id IS NULL "
	"    AND m.id = $3::bigint)) AND m.state <> 'sending' "
	"    AND signpost_state_rank(m.state) < signpost_state_rank($4) "
	"  RETURNING m.id, m.to_phone, "
	"    CASE WHEN $9 THEN (SELECT o.state FROM messages o WHERE o.id = m.id) END AS was"
	"), opt AS ("
	"  INSERT INTO opt_outs (phone, source) SELECT to_phone, 'provider' FROM m "
	"  WHERE $8 AND to_phone IS NOT NULL ON CONFLICT DO NOTHING"
	") SELECT (SELECT count(*) FROM rc), (SELECT count(*) FROM m), "
	"(SELECT id FROM m LIMIT 1), (SELECT was FROM m LIMIT 1)";

/* 255 parts of 67 UTF-16 units, each at most 4 bytes of UTF-8, with room to spare. */
#define INBOUND_MAX_TEXT (80u << 10)

struct inbound {
	struct provider_cfg *provider;
	struct sms_in sms;
	struct status_in status;
	struct router_decision decision;
	bool sync_reply;
};

static void inbound_free(void *p)
{
	struct inbound *in = p;

	sms_in_free(&in->sms);
	router_decision_free(&in->decision);
	free(in);
}

bool inbound_reference_ok(const char *ref)
{
	int64_t v;
	return ref && str_to_i64(ref, 1, INT64_MAX, &v);
}

/* Finds the provider, checks the signature and fills http_in. Answers on failure. */
static struct inbound *inbound_open(struct api_ctx *ctx, struct http_in *hin, char **url)
{
	struct httpd_req *req = ctx->req;
	struct inbound *in;
	struct sbuf err;

	struct provider_cfg *p = config_provider(&ctx->app->cfg, ctx->params[0]);
	if (!p) {
		api_error(ctx, 404, "not_found", NULL, "no provider named \"%s\" is configured",
			  ctx->params[0]);
		return NULL;
	}
	in = xcalloc(1, sizeof(*in));
	in->provider = p;
	sms_in_init(&in->sms);
	ctx->state = in;
	ctx->state_free = inbound_free;
	*url = xasprintf("%s%s", ctx->app->cfg.public_url, req->target);
	*hin = (struct http_in){ .method = req->method, .url = *url, .query = api_query_all(ctx),
				 .headers = &req->headers, .body = sbuf_str(&req->body),
				 .body_len = req->body.len, .now = clock_wall_ms() / 1000 };
	sbuf_init(&err);
	if (provider_verify(p->ops, p->priv, hin, &err) < 0) {
		log_warn("webhook refused provider=%s path=%s reason=\"%s\"", p->name, req->path,
			 sbuf_str(&err));
		api_error(ctx, 403, "bad_signature", NULL,
			  "the webhook signature or credentials do not match this provider's configuration");
		sbuf_free(&err);
		return NULL;
	}
	sbuf_free(&err);
	return in;
}

static void inbound_answer(struct api_ctx *ctx, const char *reply)
{
	struct inbound *in = ctx->state;
	struct http_answer a = { .status = 200, .content_type = "application/json" };

	sbuf_init(&a.body);
	provider_inbound_answer(in->provider->ops, in->provider->priv, reply, &a);
	api_reply(ctx, a.status, a.content_type, sbuf_str(&a.body), a.body.len);
	sbuf_free(&a.body);
}

/* ---- inbound texts ---- */

static void inbound_applied(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct inbound *in = ctx->state;
	char masked[32];

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (!db_get(r, 0, 0)) { /* a repeat of a webhook we already stored */
		inbound_answer(ctx, NULL);
		return;
	}
	bool fresh = db_get_bool(r, 0, 1);
	phone_mask(in->sms.from, masked, sizeof(masked));
	log_info("inbound stored id=%s provider=%s from=%s action=%s%s help_request=%s",
		 db_get(r, 0, 0), in->provider->name, masked,
		 router_action_str(in->decision.action), fresh ? "" : " (repeat)",
		 db_get(r, 0, 2) ? db_get(r, 0, 2) : "-");
	if (in->decision.conv_op != ROUTER_CONV_KEEP)
		log_debug("conversation from=%s op=%s flow=%s step=%s%s%s", masked,
			  router_conv_op_str(in->decision.conv_op), in->decision.conv_flow,
			  in->decision.conv_step, in->decision.close_state ? " -> " : "",
			  in->decision.close_state ? in->decision.close_state : "");
	inbound_answer(ctx, fresh ? in->decision.reply : in->decision.reply_repeat);
}

static void inbound_looked_up(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct inbound *in = ctx->state;
	struct router_decision *d = &in->decision;
	struct router_sender who;
	char ttl[16];

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_get_bool(r, 0, 2)) {
		inbound_answer(ctx, NULL);
		return;
	}
	router_sender_from_row(r, &who);
	router_decide(ctx->app, sbuf_str(&in->sms.text), &who, d);
	snprintf(ttl, sizeof(ttl), "%d", ctx->app->cfg.triage.conversation_ttl_s);
	const char *params[] = {
		in->provider->name, in->sms.provider_id, in->sms.from, in->sms.to, sbuf_str(&in->sms.text),
		db_get(r, 0, 0), db_get(r, 0, 1), router_action_str(d->action), d->keyword,
		in->sync_reply ? NULL : d->reply, in->sync_reply ? NULL : d->reply_repeat,
		d->category, router_conv_op_str(d->conv_op), d->conv_flow, d->conv_step, d->answers,
		d->conv_category, d->close_state, ttl, d->needs_call ? "true" : "false",
		d->consent ? "true" : "false", who.conv_id, d->record_value, who.conv_help_request,
	};
	db_query_grouped(ctx->app->db, router_apply_sql(d, !in->sync_reply), 24, params,
			 inbound_applied, ctx);
}

static void inbound_route(struct api_ctx *ctx)
{
	struct inbound *in = ctx->state;

	const char *params[] = { in->sms.from, in->provider->name, in->sms.provider_id };
	db_query(ctx->app->db, router_lookup_sql, 3, params, inbound_looked_up, ctx);
}

/* A part of a longer text is stored: the whole text is routed once it is complete. */
static void inbound_part_stored(const struct concat_result *res, void *arg)
{
	struct api_ctx *ctx = arg;
	struct inbound *in = ctx->state;

	switch (res->status) {
	case CONCAT_FAILED:
		api_db_error(ctx, res->failed);
		return;
	case CONCAT_WAITING:
		inbound_answer(ctx, NULL);
		return;
	case CONCAT_COMPLETE:
		break;
	}
	provider_copy(in->sms.provider_id, sizeof(in->sms.provider_id), res->provider_id);
	sbuf_reset(&in->sms.text);
	sbuf_adds(&in->sms.text, res->text);
	inbound_route(ctx);
}

void inbound_webhook(struct api_ctx *ctx)
{
	struct http_in hin;
	char *url = NULL;
	struct sbuf err;
	int rc;

	struct inbound *in = inbound_open(ctx, &hin, &url);
	if (!in)
		goto out;
	sbuf_init(&err);
	rc = provider_parse_inbound(in->provider->ops, in->provider->priv, &hin, &in->sms, &err);
	if (rc <= 0) {
		if (rc < 0)
			api_error(ctx, 400, "bad_request", NULL, "%s", sbuf_str(&err));
		else
			inbound_answer(ctx, NULL);
		sbuf_free(&err);
		goto out;
	}
	sbuf_free(&err);
	if (!codec_utf8_valid(in->sms.text.data ? in->sms.text.data : "", in->sms.text.len)) {
		api_error(ctx, 400, "bad_request", NULL, "the text is not valid UTF-8");
		goto out;
	}
	if (in->sms.text.len > INBOUND_MAX_TEXT || !in->sms.from[0] || !in->sms.provider_id[0]) {
		api_error(ctx, 400, "bad_request", NULL, "the text has no sender or id, or is longer "
			  "than an SMS can be");
		goto out;
	}
	in->sync_reply = in->provider->ops->sync_reply;
	if (in->sms.concat_total > 1)
		concat_collect(ctx->app->db, in->provider->name, &in->sms, inbound_part_stored, ctx);
	else
		inbound_route(ctx);
out:
	free(url);
}

/* ---- delivery receipts ---- */

static void inbound_receipt_done(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct inbound *in = ctx->state;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	log_debug("receipt provider=%s id=%s status=%s new=%s moved=%s", in->provider->name,
		  in->status.provider_id, in->status.raw_status, db_get(r, 0, 0), db_get(r, 0, 1));
	if (db_get(r, 0, 3))
		lifecycle_log_names(LIFECYCLE_MESSAGE, db_get(r, 0, 2), db_get(r, 0, 3),
				    msg_state_str(in->status.state));
	api_reply(ctx, 200, "application/json", "{}", 2);
}

void inbound_status_webhook(struct api_ctx *ctx)
{
	struct http_in hin;
	char *url = NULL;
	struct sbuf err;
	int rc;

	struct inbound *in = inbound_open(ctx, &hin, &url);
	if (!in)
		goto out;
	sbuf_init(&err);
	rc = provider_parse_status(in->provider->ops, in->provider->priv, &hin, &in->status, &err);
	if (rc <= 0) {
		if (rc < 0)
			api_error(ctx, 400, "bad_request", NULL, "%s", sbuf_str(&err));
		else
			api_reply(ctx, 200, "application/json", "{}", 2);
		sbuf_free(&err);
		goto out;
	}
	sbuf_free(&err);
	struct status_in *st = &in->status;
	const char *params[] = {
		in->provider->name, st->provider_id,
		inbound_reference_ok(st->reference) ? st->reference : NULL,
		msg_state_str(st->state), st->raw_status, st->error_code,
		st->error_text[0] ? st->error_text : NULL, st->opted_out ? "true" : "false",
		log_enabled(LOG_DEBUG) ? "true" : "false",
	};
	db_query_grouped(ctx->app->db, receipt_sql, 9, params, inbound_receipt_done, ctx);
out:
	free(url);
}
