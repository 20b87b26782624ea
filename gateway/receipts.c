/*
 * receipts.c: delivery receipts (POST and GET /v1/providers/{name}/status). A receipt is
 * stored once (a repeat adds nothing) and moves its text on only to a state of higher
 * rank, so receipts in any order leave each text where the furthest of them says.
 */
#include "gateway/api_handlers.h"

#include <string.h>

#include "gateway/counters.h"
#include "gateway/inbound.h"
#include "gateway/lifecycle.h"
#include "gateway/replay.h"
#include "infra/log.h"

/*
 * $1 provider, $2 provider message id, $3 our reference, $4 state, $5 raw status,
 * $6 error code, $7 error text, $8 opted out, $9 whether to read the state before (for the
 * debug log). A message still 'sending' is left alone: its send result will pick the
 * receipt up from the receipts table. A text without a number (its tenant was erased)
 * gets no error text, which may quote the number. A receipt only ever raises a text's rank
 * (gateway/lifecycle.c). Returns whether the receipt was new, how many texts it moved, and
 * one of them with its state before. RECEIPTS_SQL(replay) is that statement with replay's
 * CTEs first: receipts_replay_sql records the webhook's replay id ($10, until $11) too.
 */
#define RECEIPTS_SQL(replay)                                                                \
	"WITH " replay "rc AS ("                                                            \
	"  INSERT INTO receipts (provider, provider_msg_id, reference, state, raw_status, " \
	"    error_code, error_text) VALUES ($1, $2, $3, $4, $5, $6, $7) "                  \
	"  ON CONFLICT DO NOTHING RETURNING 1"                                              \
	"), m AS ("                                                                         \
	"  UPDATE messages m SET state = $4, raw_status = $5, "                             \
	"    error_code = coalesce(nullif($6, ''), m.error_code), "                         \
	"    error_text = CASE WHEN m.to_phone IS NOT NULL THEN coalesce($7, m.error_text) END, " \
	"    provider_msg_id = coalesce(m.provider_msg_id, $2), "                           \
	"    final_at = CASE WHEN signpost_state_rank($4) >= 5 THEN now() ELSE m.final_at END, " \
	"    updated_at = now() "                                                           \
	"  WHERE m.provider = $1 AND (m.provider_msg_id = $2 OR (m.provider_msg_id IS NULL " \
	"    AND m.id = $3::bigint)) AND m.state <> 'sending' "                             \
	"    AND signpost_state_rank(m.state) < signpost_state_rank($4) "                   \
	"  RETURNING m.id, m.to_phone, "                                                    \
	"    CASE WHEN $9 THEN (SELECT o.state FROM messages o WHERE o.id = m.id) END AS was" \
	"), opt AS ("                                                                       \
	"  INSERT INTO opt_outs (phone, source) SELECT to_phone, 'provider' FROM m "        \
	"  WHERE $8 AND to_phone IS NOT NULL ON CONFLICT DO NOTHING"                        \
	") SELECT (SELECT count(*) FROM rc), (SELECT count(*) FROM m), "                    \
	"(SELECT id FROM m LIMIT 1), (SELECT was FROM m LIMIT 1)"

static const char receipts_sql[] = RECEIPTS_SQL("");
static const char receipts_replay_sql[] = RECEIPTS_SQL(REPLAY_CTE("$1", "$10", "$11") ", ");

/* True for one of our references: a message id in decimal. */
static bool receipts_reference_ok(const char *ref)
{
	int64_t v;
	return ref && str_to_i64(ref, 1, INT64_MAX, &v);
}

static void receipts_done(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct inbound *in = ctx->state;

	if (r->error) {
		inbound_db_error(ctx, r);
		return;
	}
	log_debug("receipt provider=%s id=%s status=%s new=%s moved=%s", in->provider->name,
		  in->status.provider_id, in->status.raw_status, db_get(r, 0, 0), db_get(r, 0, 1));
	counters_webhook(in->provider, COUNTERS_WEBHOOK_RECEIPT);
	if (db_get_i64(r, 0, 1) > 0 && msg_state_final(in->status.state))
		counters_text(in->provider, in->status.state);
	if (db_get(r, 0, 3))
		lifecycle_log_names(LIFECYCLE_MESSAGE, db_get(r, 0, 2), db_get(r, 0, 3),
				    msg_state_str(in->status.state));
	api_reply(ctx, 200, "application/json", "{}", 2);
}

static void receipts_answer_empty(struct api_ctx *ctx)
{
	api_reply(ctx, 200, "application/json", "{}", 2);
}

void receipts_webhook(struct api_ctx *ctx)
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
			inbound_malformed(ctx, &err);
		else
			inbound_unstored(ctx, receipts_answer_empty);
		sbuf_free(&err);
		goto out;
	}
	sbuf_free(&err);
	struct status_in *st = &in->status;
	struct replay_params rp;
	replay_params(&in->auth, &rp);
	const char *params[] = {
		in->provider->name, st->provider_id,
		receipts_reference_ok(st->reference) ? st->reference : NULL,
		msg_state_str(st->state), st->raw_status, st->error_code,
		st->error_text[0] ? st->error_text : NULL, st->opted_out ? "true" : "false",
		log_enabled(LOG_DEBUG) ? "true" : "false", rp.id, rp.until,
	};
	if (rp.id)
		db_query_grouped(ctx->app->db, receipts_replay_sql, 11, params, receipts_done, ctx);
	else
		db_query_grouped(ctx->app->db, receipts_sql, 9, params, receipts_done, ctx);
out:
	free(url);
}
