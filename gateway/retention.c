/*
 * retention.c: passes that clear data older than its retention period (retention.h).
 * Each statement takes $1 the period in days and $2 the most rows to touch, and returns
 * the rows it cleared and whether to run it again at once (its batch was full).
 */
#include "gateway/retention.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/db.h"
#include "infra/log.h"

#define RETENTION_AGE(col) col " < now() - make_interval(days => $1::int)"

/*
 * Campaign texts, a campaign at a time: those of a campaign finished (completed or
 * cancelled) more than $1 days ago lose their bodies, in tenant order from the cursor
 * ($3 campaign, $4 last tenant done) through messages_campaign_tenant; a batch that
 * comes back short marks the campaign done. Another index over every campaign text would
 * cost each send an index entry. Also returns the campaign and the last tenant read.
 */
static const char retention_campaign_sql[] =
	"WITH c AS (SELECT id FROM campaigns WHERE bodies_cleared_at IS NULL "
	"  AND state IN ('completed', 'cancelled') "
	"  AND " RETENTION_AGE("coalesce(completed_at, cancelled_at, updated_at)")
	"  ORDER BY id LIMIT 1"
	"), b AS (SELECT m.id, m.tenant_id FROM messages m, c WHERE m.campaign_id = c.id "
	"  AND m.kind = 'campaign' AND m.tenant_id > CASE WHEN c.id = $3::bigint THEN $4::bigint "
	"  ELSE 0 END ORDER BY m.tenant_id LIMIT $2"
	"), u AS (UPDATE messages m SET body = NULL FROM b WHERE m.id = b.id AND m.body IS NOT NULL "
	"  RETURNING 1"
	"), d AS (UPDATE campaigns SET bodies_cleared_at = now() FROM c WHERE campaigns.id = c.id "
	"  AND (SELECT count(*) FROM b) < $2 RETURNING 1"
	") SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM c), (SELECT id FROM c), "
	"(SELECT max(tenant_id) FROM b)";

/* Replies, reminders, follow-ups and test sends (messages_other_body_kept). */
static const char retention_texts_sql[] =
	"WITH b AS (SELECT id FROM messages WHERE body IS NOT NULL AND kind <> 'campaign' "
	"  AND " RETENTION_AGE("created_at") " ORDER BY created_at LIMIT $2 "
	"  FOR UPDATE SKIP LOCKED"
	"), u AS (UPDATE messages m SET body = NULL FROM b WHERE m.id = b.id RETURNING 1) "
	"SELECT count(*), count(*) = $2 FROM u";

/* Texts received (inbound_messages_body_kept). */
static const char retention_inbound_sql[] =
	"WITH b AS (SELECT id FROM inbound_messages WHERE body IS NOT NULL "
	"  AND " RETENTION_AGE("received_at") " ORDER BY received_at LIMIT $2 "
	"  FOR UPDATE SKIP LOCKED"
	"), u AS (UPDATE inbound_messages i SET body = NULL FROM b WHERE i.id = b.id RETURNING 1) "
	"SELECT count(*), count(*) = $2 FROM u";

/*
 * Parts of long texts: after two days (when signpost_inbound_part drops them as well) or
 * the inbound period, whichever is shorter.
 */
static const char retention_parts_sql[] =
	"WITH d AS (DELETE FROM inbound_parts WHERE (provider, provider_msg_id) IN ("
	"  SELECT provider, provider_msg_id FROM inbound_parts "
	"  WHERE received_at < now() - make_interval(days => least($1::int, 2)) LIMIT $2 "
	"  FOR UPDATE SKIP LOCKED) RETURNING 1"
	") SELECT count(*), count(*) = $2 FROM d";

/* Closed conversations: the answers (a request made from them has its own) and the number. */
static const char retention_conversations_sql[] =
	"WITH b AS (SELECT id FROM conversations WHERE state <> 'open' "
	"  AND (phone IS NOT NULL OR answers <> '{}') "
	"  AND " RETENTION_AGE("coalesce(closed_at, created_at)") " LIMIT $2 FOR UPDATE SKIP LOCKED"
	"), u AS (UPDATE conversations c SET phone = NULL, answers = '{}' FROM b WHERE c.id = b.id "
	"  RETURNING 1"
	") SELECT count(*), count(*) = $2 FROM u";

#define RETENTION_CLOSED_REQUESTS                                                               \
	"SELECT id FROM help_requests WHERE state IN ('resolved', 'closed_no_contact') "        \
	"AND " RETENTION_AGE("closed_at")

/* Closed help requests keep what counts, not who (signpost_help_requests_forget). */
static const char retention_requests_personal_sql[] =
	"WITH b AS (" RETENTION_CLOSED_REQUESTS " AND (phone IS NOT NULL OR first_name IS NOT NULL "
	"  OR answers <> '{}' OR note IS NOT NULL) ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"
	") SELECT signpost_help_requests_forget(ARRAY(SELECT id FROM b)), "
	"(SELECT count(*) FROM b) = $2";

/* Closed help requests themselves, with their history and webhooks. */
static const char retention_requests_sql[] =
	"WITH b AS (" RETENTION_CLOSED_REQUESTS " ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"
	"), e AS (DELETE FROM help_request_events WHERE help_request_id IN (SELECT id FROM b)"
	"), o AS (DELETE FROM partner_outbox WHERE help_request_id IN (SELECT id FROM b)"
	"), c AS (UPDATE conversations SET help_request_id = NULL "
	"  WHERE help_request_id IN (SELECT id FROM b)"
	"), h AS (DELETE FROM help_requests WHERE id IN (SELECT id FROM b) RETURNING 1"
	") SELECT count(*), count(*) = $2 FROM h";

/*
 * Receipts, oldest first by id: of the $2 oldest, those old enough. Ids follow arrival,
 * so this needs no index on the time, and a batch of receipts not all old enough ends
 * the task until the next pass.
 */
static const char retention_receipts_sql[] =
	"WITH b AS (SELECT id FROM receipts WHERE id IN (SELECT id FROM receipts ORDER BY id "
	"  LIMIT $2) AND " RETENTION_AGE("received_at") " FOR UPDATE SKIP LOCKED"
	"), d AS (DELETE FROM receipts r USING b WHERE r.id = b.id RETURNING 1"
	") SELECT count(*), count(*) = $2 FROM d";

static const char retention_sign_ins_sql[] =
	"WITH d AS (DELETE FROM sign_in_failures WHERE ctid IN (SELECT ctid FROM sign_in_failures "
	"  WHERE " RETENTION_AGE("at") " LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1"
	") SELECT count(*), count(*) = $2 FROM d";

/* Sessions that ended, invitations used or expired. */
static const char retention_sessions_sql[] =
	"WITH s AS (DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions "
	"  WHERE " RETENTION_AGE("expires_at") " LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1"
	"), i AS (DELETE FROM user_invites WHERE token_hash IN (SELECT token_hash FROM user_invites "
	"  WHERE " RETENTION_AGE("coalesce(used_at, expires_at)") " LIMIT $2 FOR UPDATE SKIP LOCKED) "
	"  RETURNING 1"
	") SELECT (SELECT count(*) FROM s) + (SELECT count(*) FROM i), "
	"(SELECT count(*) FROM s) = $2 OR (SELECT count(*) FROM i) = $2";

struct retention_task {
	const char *name; /* in the log */
	const char *sql;
	size_t days;      /* offsetof the period in struct retention_cfg */
};

static const struct retention_task retention_tasks[] = {
	{ "campaign_texts", retention_campaign_sql, offsetof(struct retention_cfg, message_body_days) },
	{ "other_texts", retention_texts_sql, offsetof(struct retention_cfg, message_body_days) },
	{ "inbound_texts", retention_inbound_sql, offsetof(struct retention_cfg, inbound_body_days) },
	{ "inbound_parts", retention_parts_sql, offsetof(struct retention_cfg, inbound_body_days) },
	{ "conversations", retention_conversations_sql,
	  offsetof(struct retention_cfg, conversation_days) },
	{ "help_request_personal", retention_requests_personal_sql,
	  offsetof(struct retention_cfg, help_request_personal_days) },
	{ "help_requests", retention_requests_sql, offsetof(struct retention_cfg, help_request_days) },
	{ "receipts", retention_receipts_sql, offsetof(struct retention_cfg, receipt_days) },
	{ "sign_in_failures", retention_sign_ins_sql,
	  offsetof(struct retention_cfg, sign_in_failure_days) },
	{ "ended_sessions", retention_sessions_sql,
	  offsetof(struct retention_cfg, ended_session_days) },
};

struct retention {
	struct app *app;
	bool busy;                 /* a statement of a pass is in flight */
	int64_t next_ms;           /* when the next pass is due (0: at once) */
	int64_t started_ms;
	size_t task;               /* the task under way */
	int64_t cleared[ARRAY_LEN(retention_tasks)];
	char campaign[24], tenant[24]; /* campaign_texts' cursor */
};

struct retention *retention_new(struct app *app)
{
	struct retention *r = xcalloc(1, sizeof(*r));

	r->app = app;
	return r;
}

void retention_free(struct retention *r)
{
	free(r);
}

bool retention_idle(const struct retention *r)
{
	return !r || !r->busy;
}

static void retention_next(struct retention *r);

/* The pass is over: says what it cleared, at info when anything. */
static void retention_finish(struct retention *r)
{
	struct sbuf line;
	int64_t total = 0;

	sbuf_init(&line);
	for (size_t i = 0; i < ARRAY_LEN(retention_tasks); i++) {
		total += r->cleared[i];
		if (r->cleared[i])
			sbuf_printf(&line, " %s=%lld", retention_tasks[i].name, (long long)r->cleared[i]);
	}
	log_msg(total ? LOG_INFO : LOG_DEBUG, "retention pass finished cleared=%lld%s ms=%lld",
		(long long)total, sbuf_str(&line), (long long)(clock_mono_ms() - r->started_ms));
	sbuf_free(&line);
	r->busy = false;
	r->next_ms = clock_mono_ms() + (int64_t)r->app->cfg.retention.every_s * 1000;
}

/* A failed batch ends its task for this pass; the next pass tries again. */
static void retention_done(const struct db_result *res, void *arg)
{
	struct retention *r = arg;
	const struct retention_task *t = &retention_tasks[r->task];
	bool again = false;

	if (res->error) {
		log_error("retention %s failed error=\"%.*s\"", t->name,
			  (int)strcspn(res->error, "\n"), res->error);
	} else if (db_rows(res)) {
		r->cleared[r->task] += db_get_i64(res, 0, 0);
		again = db_get_bool(res, 0, 1);
		log_debug("retention batch task=%s cleared=%s again=%s", t->name, db_get(res, 0, 0),
			  again ? "yes" : "no");
		if (t->sql == retention_campaign_sql) {
			snprintf(r->campaign, sizeof(r->campaign), "%lld",
				 (long long)db_get_i64(res, 0, 2));
			snprintf(r->tenant, sizeof(r->tenant), "%lld", (long long)db_get_i64(res, 0, 3));
		}
	}
	if (!again)
		r->task++;
	retention_next(r);
}

/* Runs the task under way, or the pass ends; a stopping daemon stops between batches. */
static void retention_next(struct retention *r)
{
	const struct retention_cfg *cfg = &r->app->cfg.retention;
	char days[16], rows[16];

	if (r->task == ARRAY_LEN(retention_tasks) || r->app->stopping) {
		retention_finish(r);
		return;
	}
	const struct retention_task *t = &retention_tasks[r->task];
	snprintf(days, sizeof(days), "%d", *(const int *)((const char *)cfg + t->days));
	snprintf(rows, sizeof(rows), "%d", cfg->batch_rows);
	const char *params[] = { days, rows, r->campaign, r->tenant };
	db_query(r->app->db, t->sql, t->sql == retention_campaign_sql ? 4 : 2, params,
		 retention_done, r);
}

void retention_run(struct retention *r)
{
	if (r->busy || clock_mono_ms() < r->next_ms)
		return;
	r->busy = true;
	r->started_ms = clock_mono_ms();
	r->task = 0;
	memset(r->cleared, 0, sizeof(r->cleared));
	snprintf(r->campaign, sizeof(r->campaign), "0");
	snprintf(r->tenant, sizeof(r->tenant), "0");
	log_debug("retention pass started");
	retention_next(r);
}
