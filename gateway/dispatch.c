#include "gateway/dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns/render.h"
#include "common/crypto.h"
#include "gateway/lifecycle.h"
#include "gateway/counters.h"
#include "gateway/throttle.h"
#include "infra/db.h"
#include "infra/httpc.h"
#include "infra/log.h"
#include "sms/gsm.h"

#define DISPATCH_FLUSH_MAX 500
#define DISPATCH_LEASE_MARGIN_S 60
#define DISPATCH_BACKOFF_BASE_S 5
#define DISPATCH_BACKOFF_CAP_S 900

/*
 * Columns of both claim statements; CLAIM_SMART and CLAIM_SENDER (the sender ID of the
 * tenant's landlord, or NULL) only in campaign claims (CLAIM_IS_TEMPLATE).
 */
enum {
	CLAIM_ID,
	CLAIM_TO,
	CLAIM_ATTEMPTS,
	CLAIM_EXPIRES,
	CLAIM_FIRST_NAME,
	CLAIM_BOROUGH,
	CLAIM_LANDLORD,
	CLAIM_TEXT,
	CLAIM_STATE,
	CLAIM_IS_TEMPLATE,
	CLAIM_SMART,
	CLAIM_SENDER,
};

/*
 * Claims due texts of one running campaign. The same statement skips, for good, texts
 * to numbers that opted out, tenants suppressed after repeated permanent failures and,
 * for a marketing campaign, tenants without recorded consent: whatever happened since
 * expansion. A tenant gets the body in their language when the campaign has one.
 */
static const char claim_campaign_sql[] =
	"WITH due AS ("
	"  SELECT m.id, CASE "
	"    WHEN EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = m.to_phone) THEN 'opted_out' "
	"    WHEN t.suppressed_at IS NOT NULL THEN 'suppressed' "
	"    WHEN t.erased_at IS NOT NULL OR m.to_phone IS NULL THEN 'erased' "
	"    WHEN c.purpose = 'marketing' AND t.consent_at IS NULL THEN 'no_consent' END AS skip "
	"  FROM messages m JOIN campaigns c ON c.id = m.campaign_id "
	"    LEFT JOIN tenants t ON t.id = m.tenant_id "
	"  WHERE m.campaign_id = $1 AND m.kind = 'campaign' AND m.state IN ('queued', 'retry') "
	"    AND m.next_attempt_at <= now() AND c.state = 'running' "
	"  ORDER BY m.next_attempt_at, m.id LIMIT $2 FOR UPDATE OF m SKIP LOCKED"
	"), upd AS ("
	"  UPDATE messages m SET "
	"    state = CASE WHEN due.skip IS NOT NULL THEN 'skipped' ELSE 'sending' END, "
	"    skip_reason = due.skip, "
	"    final_at = CASE WHEN due.skip IS NOT NULL THEN now() END, "
	"    claimed_by = CASE WHEN due.skip IS NOT NULL THEN NULL ELSE $3::bigint END, "
	"    lease_until = CASE WHEN due.skip IS NOT NULL THEN NULL "
	"      ELSE now() + make_interval(secs => $4) END, "
	"    attempts = m.attempts + CASE WHEN due.skip IS NOT NULL THEN 0 ELSE 1 END, "
	"    expires_at = coalesce(m.expires_at, now() + make_interval(secs => $6)), "
	"    provider = $5, updated_at = now() "
	"  FROM due WHERE m.id = due.id "
	"  RETURNING m.id, m.state, m.tenant_id, m.to_phone, m.attempts, m.expires_at"
	") "
	"SELECT u.id, u.to_phone, u.attempts, extract(epoch FROM u.expires_at)::bigint, "
	"  t.first_name, t.borough, t.landlord, coalesce(c.bodies ->> t.language, c.body), "
	"  u.state, true, c.smart_encoding, l.sender_id "
	"FROM upd u LEFT JOIN tenants t ON t.id = u.tenant_id JOIN campaigns c ON c.id = $1 "
	"LEFT JOIN landlords l ON l.id = t.landlord_id";

static const char claim_other_sql[] =
	"WITH due AS ("
	"  SELECT m.id FROM messages m "
	"  WHERE m.kind <> 'campaign' AND m.provider = $1 AND m.state IN ('queued', 'retry') "
	"    AND m.next_attempt_at <= now() "
	"  ORDER BY m.next_attempt_at, m.id LIMIT $2 FOR UPDATE SKIP LOCKED"
	"), upd AS ("
	"  UPDATE messages m SET state = 'sending', claimed_by = $3, "
	"    lease_until = now() + make_interval(secs => $4), attempts = m.attempts + 1, "
	"    expires_at = coalesce(m.expires_at, now() + make_interval(secs => $5)), "
	"    updated_at = now() "
	"  FROM due WHERE m.id = due.id "
	"  RETURNING m.id, m.to_phone, m.attempts, m.expires_at, m.body, m.state"
	") "
	"SELECT id, to_phone, attempts, extract(epoch FROM expires_at)::bigint, NULL, NULL, NULL, "
	"  body, state, false FROM upd";

/*
 * Writes a batch of send results back: one statement for up to DISPATCH_FLUSH_MAX texts of
 * one provider (dispatch_flush_cb). $1 is the provider's name; $2 to $10 are arrays with
 * one element per result, in the same order: message id, new state, the provider's id for
 * the text (set for every accepted text: dispatch_classify makes one up, "<provider>-<id>",
 * when the provider gave none), the text as sent, segments, error code, error text,
 * seconds until a retry, and whether the provider said the recipient has unsubscribed;
 * $11 is this daemon's id.
 *
 * r    unnest zips the nine arrays back into one row per result.
 * r2   adds st, the state to write: the result's own, unless a delivery receipt stored
 *      for this provider under the text's provider id ranks higher
 *      (signpost_state_rank: queued and retry 0, sending 1, unknown 2, submitted 3,
 *      enroute 4, the other final states 5, delivered 6). A provider can post a receipt
 *      before its answer to the send has been read or written back; receipt_sql leaves a
 *      text that is still 'sending' alone and only stores the receipt, so this is where
 *      such a receipt takes effect. Of several stored receipts the highest-ranked counts,
 *      so a text never moves backwards. Only the receipt's state is taken: its error code
 *      and text stay in receipts. Only accepted texts have a provider id, so a retry, a
 *      failure or an unknown outcome matches no receipt.
 * upd  writes the results, but only to rows this daemon still holds: claimed by $11 and
 *      either 'sending' or 'unknown'. The janitor makes a text 'unknown' when its lease
 *      runs out and leaves claimed_by as it was, so an answer that comes after the lease
 *      still lands, and what is now known replaces "may have been sent". A restarted
 *      daemon has a new id and never writes over what its former self was sending. A
 *      result whose row has moved on meanwhile (a receipt took an 'unknown' text further)
 *      changes nothing and is dropped. In each row written:
 *        state            st;
 *        provider_msg_id  the result's provider id when it has one, else as it was;
 *        body, segments   the text as rendered for this attempt when there is one, else
 *                         as they were (campaign texts are inserted without a body and
 *                         rendered when claimed, so this is where their text is stored);
 *                         no body for a text without a number: its tenant was erased
 *                         while it was in flight, and erasure is for good;
 *        error_code/text  the result's, so a success clears an earlier attempt's error
 *                         (no error text, which may quote the number, for an erased
 *                         tenant's text);
 *        next_attempt_at  for 'retry', now plus the delay worked out by
 *                         dispatch_backoff_s (backoff with jitter, at least the provider's
 *                         Retry-After); otherwise as it was;
 *        submitted_at     now, when the text was accepted (it has a provider id);
 *        final_at         now, when st is a final state (rank 5 or more);
 *        claimed_by, lease_until  cleared: the claim ends whatever the outcome.
 * opt  records an opt-out (source 'provider') for the number of each row written whose
 *      provider said the recipient has unsubscribed, unless the number has one already;
 *      a text to an erased tenant has no number and records nothing. Joining upd means a
 *      dropped result records nothing either. PostgreSQL carries out a data-modifying
 *      WITH clause even though the final SELECT does not read it.
 * The statement returns how many rows it wrote; dispatch_flushed only looks at whether it
 * failed, and then queues the whole batch again and retries it a second later (a failed
 * statement has written nothing).
 */
static const char result_sql[] =
	"WITH r AS ("
	"  SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::int[], "
	"    $7::text[], $8::text[], $9::int[], $10::bool[]) "
	"    AS r(id, state, pid, body, segments, code, reason, delay, opted_out)"
	"), r2 AS ("
	"  SELECT r.*, CASE WHEN rc.state IS NOT NULL AND signpost_state_rank(rc.state) > "
	"    signpost_state_rank(r.state) THEN rc.state ELSE r.state END AS st "
	"  FROM r LEFT JOIN LATERAL (SELECT x.state FROM receipts x WHERE x.provider = $1 "
	"    AND x.provider_msg_id = r.pid ORDER BY signpost_state_rank(x.state) DESC LIMIT 1) rc "
	"    ON true"
	"), upd AS ("
	"  UPDATE messages m SET state = r2.st, "
	"    provider_msg_id = coalesce(r2.pid, m.provider_msg_id), "
	"    body = CASE WHEN m.to_phone IS NOT NULL THEN coalesce(r2.body, m.body) END, "
	"    segments = coalesce(r2.segments, m.segments), error_code = r2.code, "
	"    error_text = CASE WHEN m.to_phone IS NOT NULL THEN r2.reason END, "
	"    next_attempt_at = CASE WHEN r2.st = 'retry' "
	"      THEN now() + make_interval(secs => r2.delay) ELSE m.next_attempt_at END, "
	"    submitted_at = CASE WHEN r2.pid IS NOT NULL THEN now() ELSE m.submitted_at END, "
	"    final_at = CASE WHEN signpost_state_rank(r2.st) >= 5 THEN now() ELSE m.final_at END, "
	"    claimed_by = NULL, lease_until = NULL, updated_at = now() "
	"  FROM r2 WHERE m.id = r2.id AND m.claimed_by = $11 AND m.state IN ('sending', 'unknown') "
	"  RETURNING m.id, m.to_phone"
	"), opt AS ("
	"  INSERT INTO opt_outs (phone, source) "
	"  SELECT u.to_phone, 'provider' FROM upd u JOIN r ON r.id = u.id "
	"  WHERE r.opted_out AND u.to_phone IS NOT NULL ON CONFLICT DO NOTHING"
	") SELECT count(*) FROM upd";

/*
 * Gives back what a lost claim may have taken. A claim whose answer was lost with the
 * database connection may have been committed all the same, leaving texts 'sending' in
 * this daemon's name that it never had. Once the provider has nothing of this daemon's in
 * flight and no result waiting to be written, any text still 'sending' in its name through
 * that provider was never handed over: it is retried now, rather than called 'unknown'
 * by the janitor when its lease runs out. $1 the daemon, $2 the provider.
 */
static const char release_sql[] =
	"WITH r AS ("
	"  UPDATE messages SET state = 'retry', lease_until = NULL, next_attempt_at = now(), "
	"    updated_at = now(), error_text = 'claimed as the database connection was lost, "
	"and not sent' "
	"  WHERE state = 'sending' AND claimed_by = $1 AND provider = $2 RETURNING id"
	") SELECT count(*) FROM r";

struct dispatch_source {
	int64_t campaign_id;
	struct dispatch_provider *primary;
	struct dispatch_provider *fallback; /* NULL when the campaign names none */
	struct throttle_bucket rate;         /* the campaign's texts per minute */
	bool open;
	bool has_work;
	bool claiming;
};

struct dispatch_result {
	int64_t id;
	enum msg_state state;
	char *provider_id;
	char *body;
	int segments;
	char *error_code;
	char *error_text;
	int delay_s;
	bool opted_out;
};

struct dispatch_provider {
	struct dispatch *d;
	struct provider_cfg *cfg;
	struct throttle fc;
	size_t next_source; /* where the next round of campaign claims starts */
	int inflight;
	int claimed;
	int claims;
	bool claim_lost; /* a claim's outcome is unknown: no claims until release_sql has run */
	bool releasing;
	bool other_work;
	struct dispatch_result *results;
	size_t nresults, capresults;
	int flushing;
	struct event *flush_ev;
};

struct dispatch {
	struct app *app;
	struct dispatch_provider *providers;
	size_t nproviders;
	struct dispatch_source *sources;
	size_t nsources;
	struct event *kick_ev;
	struct event *timer_ev; /* wakes the claims when a limit lifts with time */
	char daemon_id[24];
	bool stopped;
};

struct dispatch_claim {
	struct dispatch_provider *p;
	int64_t campaign_id; /* 0: replies and tests */
	int limit;
	int64_t at_ms;
};

struct dispatch_send {
	struct dispatch_provider *p;
	int64_t id;
	int attempts;
	int64_t expires_at;
	char *body;
	int segments;
};

/* ---- results ---- */

static void dispatch_result_free(struct dispatch_result *r)
{
	free(r->provider_id);
	free(r->body);
	free(r->error_code);
	free(r->error_text);
}

static char *dispatch_strdup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static void dispatch_push(struct dispatch_provider *p, const struct dispatch_result *r)
{
	if (p->nresults == p->capresults) {
		p->capresults = p->capresults ? p->capresults * 2 : 64;
		p->results = xrealloc(p->results, p->capresults * sizeof(*p->results));
	}
	p->results[p->nresults++] = *r;
	event_active(p->flush_ev, EV_TIMEOUT, 0);
}

struct dispatch_flush {
	struct dispatch_provider *p;
	struct dispatch_result *batch;
	size_t n;
};

static void dispatch_flushed(const struct db_result *r, void *arg)
{
	struct dispatch_flush *f = arg;
	struct dispatch_provider *p = f->p;
	struct timeval second = { 1, 0 };

	p->flushing--;
	if (r->error) {
		log_warn("dispatch result update failed provider=%s count=%zu, retrying error=\"%.*s\"",
			 p->cfg->name, f->n, (int)strcspn(r->error, "\n"), r->error);
		for (size_t i = 0; i < f->n; i++)
			dispatch_push(p, &f->batch[i]);
		event_del(p->flush_ev);
		event_add(p->flush_ev, &second);
	} else {
		for (size_t i = 0; i < f->n; i++)
			dispatch_result_free(&f->batch[i]);
		if (p->nresults)
			event_active(p->flush_ev, EV_TIMEOUT, 0);
		else if (p->claim_lost)
			dispatch_kick(p->d); /* the release may be able to run now */
	}
	free(f->batch);
	free(f);
}

static void dispatch_array_int(struct sbuf *b, int64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%lld", (long long)v);
	db_array_add(b, num, strlen(num));
}

static void dispatch_array_str(struct sbuf *b, const char *s)
{
	db_array_add(b, s, s ? strlen(s) : 0);
}

static void dispatch_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dispatch_provider *p = arg;
	struct sbuf a[9];
	const char *params[11];
	(void)fd, (void)what;

	if (!p->nresults || p->flushing >= 2)
		return;
	struct dispatch_flush *f = xcalloc(1, sizeof(*f));
	f->p = p;
	f->n = MIN(p->nresults, (size_t)DISPATCH_FLUSH_MAX);
	f->batch = xmalloc(f->n * sizeof(*f->batch));
	memcpy(f->batch, p->results, f->n * sizeof(*f->batch));
	memmove(p->results, p->results + f->n, (p->nresults - f->n) * sizeof(*p->results));
	p->nresults -= f->n;
	for (size_t i = 0; i < ARRAY_LEN(a); i++)
		sbuf_init(&a[i]);
	for (size_t i = 0; i < f->n; i++) {
		const struct dispatch_result *r = &f->batch[i];
		dispatch_array_int(&a[0], r->id);
		dispatch_array_str(&a[1], msg_state_str(r->state));
		dispatch_array_str(&a[2], r->provider_id);
		dispatch_array_str(&a[3], r->body);
		if (r->segments)
			dispatch_array_int(&a[4], r->segments);
		else
			dispatch_array_str(&a[4], NULL);
		dispatch_array_str(&a[5], r->error_code);
		dispatch_array_str(&a[6], r->error_text);
		dispatch_array_int(&a[7], r->delay_s);
		dispatch_array_str(&a[8], r->opted_out ? "t" : "f");
	}
	params[0] = p->cfg->name;
	for (size_t i = 0; i < ARRAY_LEN(a); i++) {
		db_array_end(&a[i]);
		params[i + 1] = a[i].data;
	}
	params[10] = p->d->daemon_id;
	p->flushing++;
	db_query(p->d->app->db, result_sql, 11, params, dispatch_flushed, f);
	for (size_t i = 0; i < ARRAY_LEN(a); i++)
		sbuf_free(&a[i]);
}

/* ---- sending ---- */

static int dispatch_backoff_s(int attempts, int retry_after)
{
	int shift = MIN(MAX(attempts - 1, 0), 20);
	int64_t base = MIN((int64_t)DISPATCH_BACKOFF_BASE_S << shift, DISPATCH_BACKOFF_CAP_S);
	uint32_t r;

	crypto_random(&r, sizeof(r));
	/* full jitter over the upper half: between base/2 and base */
	int delay = (int)(base / 2 + (int64_t)(r % (uint32_t)(base / 2 + 1)));
	return MAX(delay, retry_after);
}

static void dispatch_classify(struct dispatch_send *s, const struct send_result *sr,
			      struct dispatch_result *out)
{
	int64_t now = clock_wall_ms() / 1000;

	out->error_code = dispatch_strdup_or_null(sr->error_code);
	out->error_text = dispatch_strdup_or_null(sr->reason);
	out->opted_out = sr->opted_out;
	switch (sr->outcome) {
	case SEND_OK:
		out->state = msg_state_rank(sr->state) >= msg_state_rank(MSG_SUBMITTED) ? sr->state
											: MSG_SUBMITTED;
		out->provider_id = dispatch_strdup_or_null(sr->provider_id);
		if (!out->provider_id)
			out->provider_id = xasprintf("%s-%lld", s->p->cfg->name, (long long)s->id);
		break;
	case SEND_TEMPFAIL:
		out->delay_s = dispatch_backoff_s(s->attempts, sr->retry_after_s);
		out->state = now + out->delay_s > s->expires_at ? MSG_EXPIRED : MSG_RETRY;
		break;
	case SEND_PERMFAIL:
		out->state = MSG_FAILED;
		break;
	}
}

static enum throttle_outcome dispatch_flow_outcome(const struct httpc_response *resp,
						 const struct send_result *sr)
{
	if (resp->status == 0)
		return THROTTLE_FAILED;
	if (sr->throttled)
		return THROTTLE_THROTTLED;
	return sr->outcome == SEND_TEMPFAIL ? THROTTLE_FAILED : THROTTLE_OK;
}

static void dispatch_flow_result(struct dispatch_provider *p, enum throttle_outcome o,
				 int retry_after_s)
{
	int64_t now = clock_mono_ms();
	bool was_paused = now < p->fc.paused_until_ms;
	enum throttle_breaker before = p->fc.breaker;

	if (throttle_result(&p->fc, o, retry_after_s, now))
		log_warn("provider circuit breaker provider=%s %s -> %s failures=%d cooldown_ms=%lld",
			 p->cfg->name, throttle_breaker_str(before),
			 throttle_breaker_str(p->fc.breaker), p->fc.failures,
			 (long long)p->fc.cooldown_ms);
	if (o == THROTTLE_THROTTLED && !was_paused)
		log_warn("provider asked us to slow down provider=%s pause_ms=%lld window=%d "
			 "segments_per_second=%g", p->cfg->name,
			 (long long)(p->fc.paused_until_ms - now), (int)p->fc.window,
			 p->fc.bucket.rate);
}

static enum counters_send dispatch_counted(const struct httpc_response *resp,
					   const struct send_result *sr)
{
	if (resp->status == 0)
		return resp->maybe_sent ? COUNTERS_SEND_UNKNOWN : COUNTERS_SEND_UNREACHABLE;
	switch (sr->outcome) {
	case SEND_OK: return COUNTERS_SEND_ACCEPTED;
	case SEND_TEMPFAIL: return COUNTERS_SEND_TEMPORARY;
	case SEND_PERMFAIL: break;
	}
	return COUNTERS_SEND_PERMANENT;
}

static void dispatch_sent(struct httpc_response *resp, void *arg)
{
	struct dispatch_send *s = arg;
	struct dispatch_provider *p = s->p;
	struct send_result sr = { .outcome = SEND_TEMPFAIL, .state = MSG_SUBMITTED };
	struct dispatch_result r = { .id = s->id, .body = s->body, .segments = s->segments };

	s->body = NULL;
	if (resp->status == 0 && resp->maybe_sent) {
		r.state = MSG_UNKNOWN;
		r.error_text = xasprintf("no complete answer from %s (%s); the text may have been "
					 "sent, so it is not retried automatically", p->cfg->name,
					 resp->error);
	} else {
		if (resp->status == 0)
			snprintf(sr.reason, sizeof(sr.reason), "could not reach %s: %s", p->cfg->name,
				 resp->error);
		else
			provider_parse_send_result(p->cfg->ops, p->cfg->priv, resp->status,
						   &resp->headers, sbuf_str(&resp->body),
						   resp->body.len, &sr);
		dispatch_classify(s, &sr, &r);
	}
	dispatch_flow_result(p, dispatch_flow_outcome(resp, &sr), sr.retry_after_s);
	counters_send(p->cfg, dispatch_counted(resp, &sr), resp->status, resp->elapsed_ms, r.state);
	log_debug("message sent id=%lld provider=%s status=%ld", (long long)s->id, p->cfg->name,
		  resp->status);
	lifecycle_log(LIFECYCLE_MESSAGE, s->id, MSG_SENDING, r.state);
	dispatch_push(p, &r);
	p->inflight--;
	free(s);
	dispatch_kick(p->d);
}

static void dispatch_render(const struct db_result *r, int row, struct sbuf *out,
			    struct gsm_info *gi)
{
	const char *text = db_get(r, row, CLAIM_TEXT);

	if (!db_get_bool(r, row, CLAIM_IS_TEMPLATE)) {
		sbuf_adds(out, text ? text : "");
		gsm_analyze(sbuf_str(out), out->len, gi);
		return;
	}
	struct render_tenant t = { { db_get(r, row, CLAIM_FIRST_NAME), db_get(r, row, CLAIM_BOROUGH),
				     db_get(r, row, CLAIM_LANDLORD) } };
	render_text(text, &t, db_get_bool(r, row, CLAIM_SMART), out, gi);
}

static void dispatch_send_one(struct dispatch_provider *p, const struct db_result *r, int row)
{
	struct dispatch_send *s = xcalloc(1, sizeof(*s));
	struct provider_cfg *cfg = p->cfg;
	struct http_req req;
	struct gsm_info gi;
	struct sbuf text;
	char ref[24], *status_url;

	s->p = p;
	s->id = db_get_i64(r, row, CLAIM_ID);
	s->attempts = (int)db_get_i64(r, row, CLAIM_ATTEMPTS);
	s->expires_at = db_get_i64(r, row, CLAIM_EXPIRES);
	sbuf_init(&text);
	dispatch_render(r, row, &text, &gi);
	s->segments = gi.segments;
	s->body = sbuf_detach(&text);
	throttle_segments(&p->fc, gi.segments, clock_mono_ms());
	snprintf(ref, sizeof(ref), "%lld", (long long)s->id);
	status_url = xasprintf("%s/v1/providers/%s/status?ref=%s", p->d->app->cfg.public_url,
			       cfg->name, ref);
	struct sms_out msg = {
		.reference = ref, .to = db_get(r, row, CLAIM_TO), .text = s->body,
		.unicode = gi.encoding == GSM_ENC_UCS2, .segments = gi.segments,
		.status_url = status_url, .validity_s = cfg->validity_s,
		.now = clock_wall_ms() / 1000,
		.from = db_get_bool(r, row, CLAIM_IS_TEMPLATE) ? db_get(r, row, CLAIM_SENDER) : NULL,
	};
	http_req_init(&req);
	p->inflight++;
	if (!msg.to || provider_build_send(cfg->ops, cfg->priv, &msg, &req) < 0) {
		struct dispatch_result res = { .id = s->id, .state = MSG_FAILED, .body = s->body,
					       .error_text = xstrdup("the message could not be put "
								     "into the provider's format") };
		dispatch_push(p, &res);
		p->inflight--;
		free(s);
	} else {
		httpc_send(p->d->app->httpc, &req, cfg->connect_timeout_ms, cfg->timeout_ms,
			   dispatch_sent, s);
	}
	http_req_free(&req);
	free(status_url);
}

/* ---- claiming ---- */

static struct dispatch_source *dispatch_source_find(struct dispatch *d, int64_t campaign_id)
{
	for (size_t i = 0; i < d->nsources; i++)
		if (d->sources[i].campaign_id == campaign_id)
			return &d->sources[i];
	return NULL;
}

static void dispatch_claimed(const struct db_result *r, void *arg)
{
	struct dispatch_claim *c = arg;
	struct dispatch_provider *p = c->p;
	struct dispatch_source *src = dispatch_source_find(p->d, c->campaign_id);
	int rows = db_rows(r), sending = 0;
	bool more = !r->error && rows >= c->limit;

	p->claims--;
	p->claimed -= c->limit;
	if (r->error)
		log_warn("dispatch claim failed provider=%s%s error=\"%.*s\"", p->cfg->name,
			 r->indeterminate ? " (it may have taken texts: they are given back)" : "",
			 (int)strcspn(r->error, "\n"), r->error);
	p->claim_lost = p->claim_lost || r->indeterminate;
	for (int i = 0; i < rows; i++) {
		enum msg_state st = MSG_SENDING;
		bool claimed = strcmp(db_get(r, i, CLAIM_STATE), "sending") == 0;
		/* A text claimed for its first attempt was queued; a later one, a retry. */
		if (log_enabled(LOG_DEBUG) && msg_state_parse(db_get(r, i, CLAIM_STATE), &st))
			lifecycle_log(LIFECYCLE_MESSAGE, db_get_i64(r, i, CLAIM_ID),
				      db_get_i64(r, i, CLAIM_ATTEMPTS) <= (claimed ? 1 : 0)
					      ? MSG_QUEUED : MSG_RETRY, st);
		if (claimed) {
			dispatch_send_one(p, r, i);
			sending++;
		}
	}
	/* Tokens spent on texts that did not go out come back. */
	throttle_unclaimed(&p->fc, c->limit - sending, clock_mono_ms());
	if (c->campaign_id == 0)
		p->other_work = more;
	else if (src) {
		throttle_bucket_take(&src->rate, sending - c->limit, clock_mono_ms());
		src->has_work = more;
		src->claiming = false;
	}
	free(c);
	if (more)
		dispatch_kick(p->d);
}

static void dispatch_claim(struct dispatch_provider *p, struct dispatch_source *src, int limit)
{
	struct dispatch_claim *c = xcalloc(1, sizeof(*c));
	char lim[16], lease[24], validity[16], campaign[24];
	int64_t now = clock_mono_ms();

	c->p = p;
	c->campaign_id = src ? src->campaign_id : 0;
	c->limit = limit;
	p->claims++;
	p->claimed += limit;
	throttle_claimed(&p->fc, limit, now);
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(lease, sizeof(lease), "%ld", p->cfg->timeout_ms / 1000 + DISPATCH_LEASE_MARGIN_S);
	snprintf(validity, sizeof(validity), "%d", p->cfg->validity_s);
	if (src) {
		src->claiming = true;
		throttle_bucket_take(&src->rate, limit, now);
		snprintf(campaign, sizeof(campaign), "%lld", (long long)src->campaign_id);
		const char *params[] = { campaign, lim, p->d->daemon_id, lease, p->cfg->name, validity };
		db_query(p->d->app->db, claim_campaign_sql, 6, params, dispatch_claimed, c);
	} else {
		const char *params[] = { p->cfg->name, lim, p->d->daemon_id, lease, validity };
		db_query(p->d->app->db, claim_other_sql, 5, params, dispatch_claimed, c);
	}
}

/*
 * Which provider a campaign sends through now: its own, or its fallback while its own
 * provider's circuit breaker refuses work. NULL while neither can take it.
 */
static struct dispatch_provider *dispatch_source_route(struct dispatch_source *s, int64_t now)
{
	if (!s->primary)
		return NULL;
	if (!throttle_refusing(&s->primary->fc, now) || !s->fallback)
		return s->primary;
	return throttle_refusing(&s->fallback->fc, now) ? NULL : s->fallback;
}

/* Texts this campaign may claim through p now. */
static int dispatch_source_budget(struct dispatch_source *s, struct dispatch_provider *p,
				  int64_t now)
{
	if (!s->open || !s->has_work || s->claiming || dispatch_source_route(s, now) != p)
		return 0;
	return throttle_bucket_available(&s->rate, now);
}

static void dispatch_released(const struct db_result *r, void *arg)
{
	struct dispatch_provider *p = arg;
	struct timeval second = { 1, 0 };

	p->releasing = false;
	if (r->error) {
		event_add(p->d->timer_ev, &second); /* the database is still away: again later */
		return;
	}
	p->claim_lost = false;
	if (db_get_i64(r, 0, 0)) {
		log_warn("dispatch texts of a lost claim given back provider=%s count=%s",
			 p->cfg->name, db_get(r, 0, 0));
		log_debug("message n=%s sending -> retry reason=\"%s\"", db_get(r, 0, 0),
			  lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_SENDING, MSG_RETRY));
	}
	dispatch_kick(p->d);
}

/* True while a lost claim's texts are not yet given back: the provider claims nothing. */
static bool dispatch_releasing(struct dispatch_provider *p)
{
	if (!p->claim_lost)
		return false;
	if (!p->releasing && !p->inflight && !p->claims && !p->nresults && !p->flushing) {
		const char *params[] = { p->d->daemon_id, p->cfg->name };
		p->releasing = true;
		db_query(p->d->app->db, release_sql, 2, params, dispatch_released, p);
	}
	return true;
}

static void dispatch_provider_run(struct dispatch_provider *p, int64_t now)
{
	struct dispatch *d = p->d;

	if (dispatch_releasing(p))
		return;
	int busy = p->inflight + p->claimed;
	int cap = throttle_budget(&p->fc, busy, now);
	int nsources = p->other_work ? 1 : 0;

	/* Claim in batches: wait for a quarter of the window to come back first. */
	if (cap <= 0 || ((int)p->fc.window - busy < (int)p->fc.window / 4 && p->inflight > 0))
		return;
	for (size_t i = 0; i < d->nsources; i++)
		nsources += dispatch_source_budget(&d->sources[i], p, now) > 0;
	if (!nsources)
		return;
	int share = MAX(1, cap / nsources), budget = cap;
	if (p->other_work) {
		dispatch_claim(p, NULL, MIN(share, budget));
		budget -= share;
	}
	/* Round robin from where the last run stopped, so a small budget is shared too. */
	for (size_t k = 0; k < d->nsources && budget > 0; k++) {
		size_t i = (p->next_source + k) % d->nsources;
		struct dispatch_source *s = &d->sources[i];
		int n = MIN(MIN(share, budget), dispatch_source_budget(s, p, now));
		if (n > 0) {
			dispatch_claim(p, s, n);
			budget -= n;
			p->next_source = i + 1;
		}
	}
}

/* The soonest a limit that only time lifts (pause, cool-down, tokens) lets work go. */
static int64_t dispatch_wait_ms(struct dispatch *d, int64_t now)
{
	int64_t wait = THROTTLE_NO_WAIT;

	for (size_t i = 0; i < d->nproviders; i++) {
		struct dispatch_provider *p = &d->providers[i];
		if (p->other_work)
			wait = MIN(wait, throttle_wait_ms(&p->fc, now));
	}
	for (size_t i = 0; i < d->nsources; i++) {
		struct dispatch_source *s = &d->sources[i];
		if (!s->open || !s->has_work || !s->primary)
			continue;
		int64_t w = throttle_bucket_wait_ms(&s->rate, now);
		struct dispatch_provider *via = dispatch_source_route(s, now);
		w = MAX(w, via ? throttle_wait_ms(&via->fc, now) : throttle_wait_ms(&s->primary->fc, now));
		wait = MIN(wait, w > 0 ? w : THROTTLE_NO_WAIT);
	}
	return wait;
}

static void dispatch_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dispatch *d = arg;
	int64_t now = clock_mono_ms();
	(void)fd, (void)what;

	if (d->stopped || !db_session_up(d->app->db))
		return; /* no claims until this daemon's liveness lock is held */
	for (size_t i = 0; i < d->nproviders; i++)
		dispatch_provider_run(&d->providers[i], now);
	int64_t wait = dispatch_wait_ms(d, now);
	if (wait != THROTTLE_NO_WAIT) {
		struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };
		event_add(d->timer_ev, &tv);
	}
}

void dispatch_kick(struct dispatch *d)
{
	event_active(d->kick_ev, EV_TIMEOUT, 0);
}

/* ---- lifecycle ---- */

static struct dispatch_provider *dispatch_provider_find(struct dispatch *d, const char *name)
{
	for (size_t i = 0; name && i < d->nproviders; i++)
		if (strcmp(d->providers[i].cfg->name, name) == 0)
			return &d->providers[i];
	return NULL;
}

void dispatch_set_campaigns(struct dispatch *d, const struct dispatch_campaign *c, size_t n)
{
	struct dispatch_source *fresh = xcalloc(n, sizeof(*fresh));
	int64_t now = clock_mono_ms();

	for (size_t i = 0; i < n; i++) {
		struct dispatch_source *s = &fresh[i], *old = dispatch_source_find(d, c[i].id);
		double rate = c[i].rate_per_minute > 0 ? c[i].rate_per_minute / 60.0 : 0;
		s->campaign_id = c[i].id;
		s->primary = dispatch_provider_find(d, c[i].provider);
		s->fallback = dispatch_provider_find(d, c[i].fallback_provider);
		if (s->fallback == s->primary)
			s->fallback = NULL;
		s->open = c[i].open;
		s->has_work = true;
		if (old) {
			s->claiming = old->claiming;
			s->rate = old->rate;
			if (s->rate.rate != rate)
				throttle_bucket_set_rate(&s->rate, rate, now);
		} else {
			throttle_bucket_init(&s->rate, rate, now);
		}
		if (!s->primary)
			log_warn("campaign provider is not configured campaign=%lld provider=%s",
				 (long long)c[i].id, c[i].provider ? c[i].provider : "(none)");
	}
	free(d->sources);
	d->sources = fresh;
	d->nsources = n;
	for (size_t i = 0; i < d->nproviders; i++)
		d->providers[i].other_work = true;
	dispatch_kick(d);
}

struct dispatch *dispatch_new(struct app *app)
{
	struct dispatch *d = xcalloc(1, sizeof(*d));

	d->app = app;
	d->nproviders = app->cfg.nproviders;
	d->providers = xcalloc(d->nproviders, sizeof(*d->providers));
	for (size_t i = 0; i < d->nproviders; i++) {
		struct dispatch_provider *p = &d->providers[i];
		p->d = d;
		p->cfg = &app->cfg.providers[i];
		p->other_work = true;
		p->flush_ev = event_new(app->base, -1, 0, dispatch_flush_cb, p);
		throttle_init(&p->fc, p->cfg->segments_per_second, p->cfg->max_in_flight,
			     clock_mono_ms());
	}
	d->kick_ev = event_new(app->base, -1, 0, dispatch_kick_cb, d);
	d->timer_ev = evtimer_new(app->base, dispatch_kick_cb, d);
	snprintf(d->daemon_id, sizeof(d->daemon_id), "%lld", (long long)app->daemon_id);
	return d;
}

void dispatch_reconfigure(struct dispatch *d)
{
	int64_t now = clock_mono_ms();

	for (size_t i = 0; i < d->nproviders; i++) {
		struct dispatch_provider *p = &d->providers[i];
		throttle_configure(&p->fc, p->cfg->segments_per_second, p->cfg->max_in_flight, now);
		p->other_work = true;
	}
	dispatch_kick(d);
}

void dispatch_stop(struct dispatch *d)
{
	d->stopped = true;
}

bool dispatch_idle(const struct dispatch *d)
{
	for (size_t i = 0; i < d->nproviders; i++) {
		const struct dispatch_provider *p = &d->providers[i];
		if (p->inflight || p->claims || p->nresults || p->flushing || p->releasing)
			return false;
	}
	return true;
}

void dispatch_free(struct dispatch *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nproviders; i++) {
		struct dispatch_provider *p = &d->providers[i];
		for (size_t j = 0; j < p->nresults; j++)
			dispatch_result_free(&p->results[j]);
		free(p->results);
		event_free(p->flush_ev);
	}
	free(d->sources);
	free(d->providers);
	event_free(d->kick_ev);
	event_free(d->timer_ev);
	free(d);
}

bool dispatch_provider_view(struct dispatch *d, size_t i, struct dispatch_view *out)
{
	int64_t now = clock_mono_ms();

	if (i >= d->nproviders)
		return false;
	struct dispatch_provider *p = &d->providers[i];
	throttle_refusing(&p->fc, now); /* brings the breaker up to date */
	(void)throttle_bucket_available(&p->fc.bucket, now); /* and the bucket */
	*out = (struct dispatch_view){ .name = p->cfg->name, .breaker = p->fc.breaker,
				       .limited = p->fc.bucket.rate > 0,
				       .tokens = p->fc.bucket.tokens, .inflight = p->inflight };
	return true;
}

struct json_object *dispatch_providers_json(struct dispatch *d)
{
	struct json_object *items = json_object_new_array();
	int64_t now = clock_mono_ms();

	for (size_t i = 0; i < d->nproviders; i++) {
		struct dispatch_provider *p = &d->providers[i];
		struct json_object *o = json_object_new_object();
		throttle_refusing(&p->fc, now); /* brings the breaker up to date */
		json_object_object_add(o, "name", json_object_new_string(p->cfg->name));
		json_object_object_add(o, "type", json_object_new_string(p->cfg->ops->type));
		json_object_object_add(o, "breaker",
				       json_object_new_string(throttle_breaker_str(p->fc.breaker)));
		json_object_object_add(o, "failures_in_a_row", json_object_new_int(p->fc.failures));
		json_object_object_add(o, "segments_per_second",
				       json_object_new_double(p->fc.rate));
		json_object_object_add(o, "current_segments_per_second",
				       json_object_new_double(p->fc.bucket.rate));
		json_object_object_add(o, "in_flight", json_object_new_int(p->inflight));
		json_object_object_add(o, "max_in_flight", json_object_new_int((int)p->fc.window));
		json_object_object_add(o, "paused_ms", json_object_new_int64(
			MAX(0, p->fc.paused_until_ms - now)));
		json_object_array_add(items, o);
	}
	return items;
}
