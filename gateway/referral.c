#include "gateway/referral.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns/window.h"
#include "common/stdwebhook.h"
#include "gateway/counters.h"
#include "gateway/lifecycle.h"
#include "gateway/partner_url.h"
#include "gateway/rules.h"
#include "infra/db.h"
#include "infra/httpc.h"
#include "infra/log.h"

#define REFERRAL_OUTBOX_BATCH 20
#define REFERRAL_MAX_SENDS 200 /* webhook requests in flight at once */
#define REFERRAL_CONNECT_TIMEOUT_MS 5000
#define REFERRAL_TIMEOUT_MS 15000
#define REFERRAL_ASSIGN_MAX 1000 /* per tick */
#define REFERRAL_ASSIGN_BATCH 100 /* per transaction */
#define REFERRAL_ACCEPT_DAYS 2    /* working days for a partner to accept */

struct referral_send {
	struct referral *r;
	struct referral_send *next;
	char id[24];
	char partner[24];
};

struct referral {
	struct app *app;
	int busy;            /* queries in flight */
	int assigned;        /* this tick */
	int nsends;
	struct referral_send *sends;
};

/* $1 reminder after (s). Expires conversations, sends one reminder of the open question. */
static const char referral_conversations_sql[] =
	"WITH exp AS ("
	"  UPDATE conversations SET state = 'expired', closed_at = now() "
	"  WHERE state = 'open' AND expires_at <= now() RETURNING id"
	"), rem AS ("
	"  UPDATE conversations c SET reminded_at = now() FROM flows f "
	"  WHERE c.state = 'open' AND c.reminded_at IS NULL AND c.expires_at > now() "
	"    AND c.last_inbound_at <= now() - make_interval(secs => $1::int) AND f.name = c.flow "
	"  RETURNING c.tenant_id, c.phone, c.provider, c.last_inbound_at, c.expires_at, "
	"    (SELECT s->>'question' FROM jsonb_array_elements(f.body->'steps') s "
	"     WHERE s->>'id' = c.step) AS q"
	"), msg AS ("
	"  INSERT INTO messages (kind, tenant_id, to_phone, body, provider, next_attempt_at, "
	"    expires_at) "
	"  SELECT 'reply', tenant_id, phone, 'Reminder: ' || q, provider, "
	"    signpost_reply_at(now(), last_inbound_at), expires_at FROM rem "
	"  WHERE q IS NOT NULL AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = rem.phone) "
	"  RETURNING id"
	") SELECT (SELECT count(*) FROM exp), (SELECT count(*) FROM msg), "
	"CASE WHEN EXISTS (SELECT 1 FROM msg) THEN pg_notify('signpost_work', 'reply') END";

/*
 * $1 accept deadline (Unix time), $2 webhook give-up (s), $3 how many. Assigns the oldest
 * unassigned requests; what the partner's webhook carries depends on the tenant's consent
 * (schema/0007_assign_in_batches.sql).
 */
static const char referral_assign_sql[] =
	"SELECT request_id, assigned_partner, webhooks "
	"FROM signpost_assign_help_requests($3::int, to_timestamp($1::bigint), $2::int)";

/*
 * $1 follow-up after (s), $2 conversation lifetime (s). Escalates requests past their
 * deadline or whose webhook gave up; sends the follow-up question after a resolve.
 */
static const char referral_deadlines_sql[] =
	"WITH late AS ("
	"  UPDATE help_requests SET escalated_at = now(), escalation_reason = 'not_accepted', "
	"    updated_at = now() "
	"  WHERE state = 'assigned' AND escalated_at IS NULL AND deadline_at <= now() RETURNING id"
	"), gave_up AS ("
	"  UPDATE partner_outbox SET failed_at = now() "
	"  WHERE delivered_at IS NULL AND failed_at IS NULL AND give_up_at <= now() "
	"  RETURNING help_request_id"
	"), lost AS ("
	"  UPDATE help_requests h SET escalated_at = now(), escalation_reason = 'webhook_failed', "
	"    updated_at = now() FROM gave_up g "
	"  WHERE h.id = g.help_request_id AND h.escalated_at IS NULL RETURNING h.id"
	"), fu AS ("
	"  UPDATE help_requests h SET followup_sent_at = now(), updated_at = now() "
	"  WHERE h.state = 'resolved' AND h.followup_sent_at IS NULL AND h.phone IS NOT NULL "
	"    AND h.resolved_at <= now() - make_interval(secs => $1::int) "
	"    AND NOT EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = h.phone) "
	"    AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.phone = h.phone "
	"      AND c.state = 'open') "
	"  RETURNING h.id, h.tenant_id, h.phone, (SELECT i.provider FROM inbound_messages i "
	"    WHERE i.id = h.inbound_message_id) AS provider, (SELECT max(i.received_at) "
	"    FROM inbound_messages i WHERE i.from_phone = h.phone) AS last_in"
	"), fq AS ("
	"  SELECT f.body->>'start' AS step, s->>'question' AS question FROM flows f, "
	"    jsonb_array_elements(f.body->'steps') s "
	"  WHERE f.name = 'followup' AND s->>'id' = f.body->>'start'"
	"), fu_conv AS ("
	"  INSERT INTO conversations (phone, tenant_id, provider, flow, step, help_request_id, "
	"    reminded_at, expires_at) "
	"  SELECT fu.phone, fu.tenant_id, fu.provider, 'followup', fq.step, fu.id, now(), "
	"    now() + make_interval(secs => $2::int) FROM fu, fq WHERE fu.provider IS NOT NULL "
	"  RETURNING id"
	"), fu_msg AS ("
	"  INSERT INTO messages (kind, tenant_id, to_phone, body, provider, next_attempt_at, "
	"    expires_at) "
	"  SELECT 'reply', fu.tenant_id, fu.phone, fq.question, fu.provider, "
	"    signpost_reply_at(now(), fu.last_in), now() + make_interval(secs => $2::int) "
	"  FROM fu, fq WHERE fu.provider IS NOT NULL RETURNING id"
	") SELECT (SELECT count(*) FROM late), (SELECT count(*) FROM lost), "
	"(SELECT count(*) FROM fu_msg), "
	"CASE WHEN EXISTS (SELECT 1 FROM fu_msg) THEN pg_notify('signpost_work', 'reply') END";

/* Claims due webhooks: each is leased for two minutes while its request is in flight. */
static const char referral_outbox_claim_sql[] =
	"WITH due AS ("
	"  SELECT id FROM partner_outbox WHERE delivered_at IS NULL AND failed_at IS NULL "
	"    AND next_attempt_at <= now() ORDER BY next_attempt_at, id LIMIT $1 "
	"  FOR UPDATE SKIP LOCKED"
	") UPDATE partner_outbox o SET next_attempt_at = now() + interval '2 minutes', "
	"  attempts = o.attempts + 1 FROM due, partners p "
	"WHERE o.id = due.id AND p.id = o.partner_id "
	"RETURNING o.id, o.partner_id, o.payload::text, p.webhook_url, p.webhook_secret, "
	"  o.attempts, extract(epoch FROM now())::bigint";

/* $1 id, $2 HTTP status (NULL: transport failure), $3 error, $4 first delay, $5 longest. */
static const char referral_outbox_done_sql[] =
	"UPDATE partner_outbox SET last_status = $2::int, last_error = $3, "
	"  delivered_at = CASE WHEN $2::int BETWEEN 200 AND 299 THEN now() END, "
	"  next_attempt_at = now() + make_interval(secs => least($5::int, "
	"    $4::int * power(2, least(attempts - 1, 20)))::int) "
	"WHERE id = $1 AND delivered_at IS NULL";

static void referral_log_error(const char *what, const struct db_result *res)
{
	if (res->error)
		log_error("referral %s failed error=\"%.*s\"", what, (int)strcspn(res->error, "\n"),
			  res->error);
}

/* ---- lifetime ---- */

struct referral *referral_new(struct app *app)
{
	struct referral *r = xcalloc(1, sizeof(*r));

	r->app = app;
	return r;
}

void referral_free(struct referral *r)
{
	if (!r)
		return;
	while (r->sends) {
		struct referral_send *s = r->sends;
		r->sends = s->next;
		free(s);
	}
	free(r);
}

bool referral_idle(const struct referral *r)
{
	return !r || (r->busy == 0 && !r->sends);
}

/* ---- conversations, assignment, deadlines ---- */

static void referral_conversations_done(const struct db_result *res, void *arg)
{
	struct referral *r = arg;

	r->busy--;
	referral_log_error("conversation timers", res);
	if (!res->error && (db_get_i64(res, 0, 0) || db_get_i64(res, 0, 1)))
		log_info("conversations expired=%s reminded=%s", db_get(res, 0, 0), db_get(res, 0, 1));
}

static void referral_assign(struct referral *r);

static void referral_assigned(const struct db_result *res, void *arg)
{
	struct referral *r = arg;
	int n = db_rows(res);

	r->busy--;
	referral_log_error("assignment", res);
	for (int i = 0; i < n; i++) {
		if (db_get(res, i, 1)) {
			log_info("help request assigned id=%s partner=%s webhooks=%s",
				 db_get(res, i, 0), db_get(res, i, 1), db_get(res, i, 2));
			lifecycle_log(LIFECYCLE_HELP_REQUEST, db_get_i64(res, i, 0), HELP_NEW,
				      HELP_ASSIGNED);
		} else
			log_info("help request to officers id=%s reason=no_partner",
				 db_get(res, i, 0));
	}
	r->assigned += n;
	if (n == REFERRAL_ASSIGN_BATCH && r->assigned < REFERRAL_ASSIGN_MAX && !r->app->stopping)
		referral_assign(r);
}

static void referral_assign(struct referral *r)
{
	int seconds = r->app->cfg.triage.accept_deadline_s;
	time_t now = time(NULL);
	char deadline[24], give_up[16], batch[16];

	snprintf(deadline, sizeof(deadline), "%lld", (long long)(seconds > 0 ? now + seconds
		 : window_working_days_later(&r->app->holidays, now, REFERRAL_ACCEPT_DAYS)));
	snprintf(give_up, sizeof(give_up), "%d", r->app->cfg.triage.partner_give_up_s);
	snprintf(batch, sizeof(batch), "%d", REFERRAL_ASSIGN_BATCH);
	const char *params[] = { deadline, give_up, batch };
	r->busy++;
	db_query(r->app->db, referral_assign_sql, 3, params, referral_assigned, r);
}

static void referral_deadlines_done(const struct db_result *res, void *arg)
{
	struct referral *r = arg;

	r->busy--;
	referral_log_error("deadlines", res);
	if (!res->error && (db_get_i64(res, 0, 0) || db_get_i64(res, 0, 1) || db_get_i64(res, 0, 2)))
		log_info("help requests escalated_late=%s escalated_webhook=%s followups=%s",
			 db_get(res, 0, 0), db_get(res, 0, 1), db_get(res, 0, 2));
}

/* ---- the partner webhook outbox ---- */

static void referral_send_unlink(struct referral_send *s)
{
	struct referral_send **p = &s->r->sends;

	while (*p != s)
		p = &(*p)->next;
	*p = s->next;
}

static void referral_outbox_recorded(const struct db_result *res, void *arg)
{
	struct referral *r = arg;

	r->busy--;
	referral_log_error("webhook result", res);
}

/* Records one attempt: delivered on a 2xx, otherwise retried after a doubling delay. */
static void referral_record(struct referral *r, const char *id, long status, const char *error)
{
	struct triage_cfg *t = &r->app->cfg.triage;
	char st[16], first[16], longest[16];

	snprintf(st, sizeof(st), "%ld", status);
	snprintf(first, sizeof(first), "%d", t->partner_retry_s);
	snprintf(longest, sizeof(longest), "%d", t->partner_retry_max_s);
	const char *params[] = { id, status ? st : NULL, error, first, longest };
	r->busy++;
	db_query(r->app->db, referral_outbox_done_sql, 5, params, referral_outbox_recorded, r);
}

static void referral_sent(struct httpc_response *resp, void *arg)
{
	struct referral_send *s = arg;
	struct referral *r = s->r;

	bool ok = resp->status >= 200 && resp->status < 300;

	counters_partner(ok ? COUNTERS_PARTNER_DELIVERED : COUNTERS_PARTNER_FAILED);
	if (ok)
		log_info("partner webhook delivered outbox=%s partner=%s status=%ld", s->id,
			 s->partner, resp->status);
	else
		log_warn("partner webhook failed outbox=%s partner=%s status=%ld error=\"%s\"", s->id,
			 s->partner, resp->status, resp->error ? resp->error : "");
	referral_record(r, s->id, resp->status, resp->error);
	referral_send_unlink(s);
	r->nsends--;
	free(s);
}

static void referral_send(struct referral *r, const struct db_result *res, int row)
{
	const char *body = db_get(res, row, 2), *secret = db_get(res, row, 4);
	const char *url = db_get(res, row, 3);
	struct referral_send *s;
	struct http_req req;
	struct sbuf err;
	char wid[40];

	snprintf(wid, sizeof(wid), "msg_signpost_%s", db_get(res, row, 0));
	http_req_init(&req);
	sbuf_init(&err);
	/* The configuration may have changed since the URL was saved. */
	if (url && partner_url_form(&r->app->cfg, url, &err) < 0) {
		log_warn("partner webhook not sent partner=%s error=\"%s\"", db_get(res, row, 1),
			 sbuf_str(&err));
		counters_partner(COUNTERS_PARTNER_NOT_SENT);
		referral_record(r, db_get(res, row, 0), 0, sbuf_str(&err));
		goto out;
	}
	if (!url || !secret ||
	    stdwebhook_add_headers(&req.headers, secret, wid, db_get_i64(res, row, 6), body,
				   strlen(body)) < 0) {
		log_error("partner webhook not sent: no URL or no usable secret partner=%s",
			  db_get(res, row, 1));
		counters_partner(COUNTERS_PARTNER_NOT_SENT);
		referral_record(r, db_get(res, row, 0), 0, "the partner has no webhook URL or secret");
		goto out;
	}
	s = xcalloc(1, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", db_get(res, row, 0));
	snprintf(s->partner, sizeof(s->partner), "%s", db_get(res, row, 1));
	req.method = "POST";
	req.url = xstrdup(url);
	kvlist_add(&req.headers, "Content-Type", "application/json");
	sbuf_adds(&req.body, body);
	s->r = r;
	s->next = r->sends;
	r->sends = s;
	r->nsends++;
	httpc_send_checked(r->app->httpc, &req, partner_url_addr_check, &r->app->cfg,
			   REFERRAL_CONNECT_TIMEOUT_MS, REFERRAL_TIMEOUT_MS, referral_sent, s);
out:
	sbuf_free(&err);
	http_req_free(&req);
}

static void referral_outbox_claim(struct referral *r);

static void referral_outbox_claimed(const struct db_result *res, void *arg)
{
	struct referral *r = arg;

	r->busy--;
	referral_log_error("webhook claim", res);
	for (int i = 0; !res->error && i < db_rows(res); i++)
		referral_send(r, res, i);
	if (!res->error && db_rows(res) == REFERRAL_OUTBOX_BATCH && !r->app->stopping &&
	    r->nsends + REFERRAL_OUTBOX_BATCH <= REFERRAL_MAX_SENDS)
		referral_outbox_claim(r); /* a full batch: there may be more due */
}

static void referral_outbox_claim(struct referral *r)
{
	char batch[16];

	snprintf(batch, sizeof(batch), "%d", REFERRAL_OUTBOX_BATCH);
	const char *params[] = { batch };
	r->busy++;
	db_query(r->app->db, referral_outbox_claim_sql, 1, params, referral_outbox_claimed, r);
}

/* ---- the tick ---- */

void referral_poke(struct app *app)
{
	struct referral *r = app->referral;

	/* A round in flight may have looked before the request was there: the next tick will. */
	if (!r || r->busy || !rules_ready(app->rules) || app->stopping)
		return;
	r->assigned = 0;
	referral_assign(r);
}

static void referral_query(struct referral *r, const char *sql, int n, const char *const *params,
			   db_cb *cb)
{
	r->busy++;
	db_query(r->app->db, sql, n, params, cb, r);
}

void referral_tick(struct app *app)
{
	struct referral *r = app->referral;
	struct triage_cfg *t = &app->cfg.triage;
	char reminder[16], followup[16], ttl[16];

	if (!r || r->busy || app->stopping || !rules_ready(app->rules))
		return;
	snprintf(reminder, sizeof(reminder), "%d", t->reminder_after_s);
	snprintf(followup, sizeof(followup), "%d", t->followup_after_s);
	snprintf(ttl, sizeof(ttl), "%d", t->conversation_ttl_s);
	const char *conv_params[] = { reminder };
	const char *dl_params[] = { followup, ttl };
	r->assigned = 0;
	referral_query(r, referral_conversations_sql, 1, conv_params, referral_conversations_done);
	referral_assign(r);
	referral_query(r, referral_deadlines_sql, 2, dl_params, referral_deadlines_done);
	referral_outbox_claim(r);
}
