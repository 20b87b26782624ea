#include "gateway/inbound.h"

#include <stdlib.h>
#include <string.h>

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

struct inbound {
	struct provider_cfg *provider;
	struct sms_in sms;
	struct router_text text; /* sms, checked once, as the router needs it */
	struct status_in status;
};

static void inbound_free(void *p)
{
	struct inbound *in = p;

	sms_in_free(&in->sms);
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

static void inbound_routed(const struct router_result *res, void *arg)
{
	struct api_ctx *ctx = arg;

	if (res->failed)
		api_db_error(ctx, res->failed);
	else
		inbound_answer(ctx, res->reply);
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
	in->text.provider_id = in->sms.provider_id;
	in->text.text = sbuf_str(&in->sms.text);
	router_route(ctx->app, &in->text, inbound_routed, ctx);
}

void inbound_webhook(struct api_ctx *ctx)
{
	struct http_in hin;
	char *url = NULL;
	struct sbuf err;
	int rc;

	sbuf_init(&err);
	struct inbound *in = inbound_open(ctx, &hin, &url);
	if (!in)
		goto out;
	struct provider_cfg *p = in->provider;
	rc = provider_parse_inbound(p->ops, p->priv, &hin, &in->sms, &err);
	if (rc > 0 && router_text_from_sms(&in->text, p->name, p->ops->sync_reply, &in->sms,
					 &err) < 0)
		rc = -1;
	if (rc < 0)
		api_error(ctx, 400, "bad_request", NULL, "%s", sbuf_str(&err));
	else if (rc == 0)
		inbound_answer(ctx, NULL);
	else if (in->sms.concat_total > 1)
		concat_collect(ctx->app->db, p->name, &in->sms, inbound_part_stored, ctx);
	else
		router_route(ctx->app, &in->text, inbound_routed, ctx);
out:
	sbuf_free(&err);
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
