#include "gateway/inbound.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/api_handlers.h"
#include "gateway/concat.h"
#include "gateway/counters.h"
#include "gateway/replay.h"
#include "gateway/triage.h"
#include "infra/log.h"

static void inbound_free(void *p)
{
	struct inbound *in = p;

	sms_in_free(&in->sms);
	free(in);
}

struct inbound *inbound_open(struct api_ctx *ctx, struct http_in *hin, char **url)
{
	struct httpd_req *req = ctx->req;
	struct inbound *in;
	struct sbuf err;

	struct provider_cfg *p = config_provider(&ctx->app->cfg, ctx->params[0]);
	if (!p) {
		counters_refused(COUNTERS_REFUSED_UNKNOWN_PROVIDER);
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
	if (provider_verify(p->ops, p->priv, hin, &in->auth, &err) < 0) {
		log_warn("webhook refused provider=%s path=%s reason=\"%s\"", p->name, req->path,
			 sbuf_str(&err));
		counters_refused(COUNTERS_REFUSED_BAD_SIGNATURE);
		api_error(ctx, 403, "bad_signature", NULL,
			  "the webhook signature or credentials do not match this provider's configuration");
		sbuf_free(&err);
		return NULL;
	}
	sbuf_free(&err);
	return in;
}

void inbound_malformed(struct api_ctx *ctx, const struct sbuf *err)
{
	counters_refused(COUNTERS_REFUSED_MALFORMED);
	api_error(ctx, 400, "bad_request", NULL, "%s", sbuf_str(err));
}

void inbound_db_error(struct api_ctx *ctx, const struct db_result *r)
{
	struct inbound *in = ctx->state;

	if (!replay_refused(r)) {
		api_db_error(ctx, r);
		return;
	}
	log_warn("webhook refused provider=%s path=%s reason=\"a repeat: replay id %s was "
		 "received before\"", in->provider->name, ctx->req->path, in->auth.replay_id);
	counters_refused(COUNTERS_REFUSED_REPLAYED);
	api_error(ctx, 403, "replayed", NULL, "this signed webhook was received before; each is "
		  "accepted once");
}

static void inbound_replay_recorded(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct inbound *in = ctx->state;

	if (r->error)
		inbound_db_error(ctx, r);
	else
		in->answer(ctx);
}

void inbound_unstored(struct api_ctx *ctx, void (*answer)(struct api_ctx *ctx))
{
	struct inbound *in = ctx->state;

	counters_webhook(in->provider, COUNTERS_WEBHOOK_IGNORED);
	if (!replay_has(&in->auth)) {
		answer(ctx);
		return;
	}
	in->answer = answer;
	replay_record(ctx->app->db, in->provider->name, &in->auth, inbound_replay_recorded, ctx);
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

/* The answer to a webhook that brought no new text. */
static void inbound_answer_empty(struct api_ctx *ctx)
{
	inbound_answer(ctx, NULL);
}

/* ---- inbound texts ---- */

static void inbound_routed(const struct triage_result *res, void *arg)
{
	struct api_ctx *ctx = arg;

	if (res->failed)
		inbound_db_error(ctx, res->failed);
	else if (res->repeat)
		inbound_unstored(ctx, inbound_answer_empty);
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
		inbound_db_error(ctx, res->failed);
		return;
	case CONCAT_WAITING:
		counters_webhook(in->provider, COUNTERS_WEBHOOK_IGNORED);
		inbound_answer(ctx, NULL);
		return;
	case CONCAT_COMPLETE:
		break;
	}
	in->auth.replay_id[0] = '\0'; /* recorded with the part: the whole text records none */
	provider_copy(in->sms.provider_id, sizeof(in->sms.provider_id), res->provider_id);
	sbuf_reset(&in->sms.text);
	sbuf_adds(&in->sms.text, res->text);
	in->text.provider_id = in->sms.provider_id;
	in->text.text = sbuf_str(&in->sms.text);
	triage_route(ctx->app, &in->text, inbound_routed, ctx);
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
	if (rc > 0 && triage_text_from_sms(&in->text, p->name, p->ops->sync_reply, &in->sms,
					 &err) < 0)
		rc = -1;
	in->text.auth = &in->auth;
	if (rc < 0)
		inbound_malformed(ctx, &err);
	else if (rc == 0)
		inbound_unstored(ctx, inbound_answer_empty);
	else if (in->sms.concat_total > 1)
		concat_collect(ctx->app->db, p->name, &in->sms, &in->auth, inbound_part_stored, ctx);
	else
		triage_route(ctx->app, &in->text, inbound_routed, ctx);
out:
	sbuf_free(&err);
	free(url);
}
