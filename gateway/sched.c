#include "gateway/sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns/window.h"
#include "gateway/dispatch.h"
#include "gateway/janitor.h"
#include "gateway/lifecycle.h"
#include "gateway/referral.h"
#include "gateway/rules.h"
#include "infra/db.h"
#include "infra/log.h"

#define SCHED_TICK_MS 1000
#define SCHED_EXPAND_BATCH "50000"
#define SCHED_EXPAND_SHARDS 2
#define SCHED_JANITOR_EVERY 10
#define SCHED_LEASE_RENEW_MS 10000 /* the lease itself lasts 60 s */

static const char sched_running_sql[] =
	"SELECT id, coalesce(provider, $1), send_window::text, fallback_provider, "
	"coalesce(rate_per_minute, 0), smart_encoding FROM campaigns "
	"WHERE state = 'running' ORDER BY id";

/*
 * $1 shards. Takes a lease on one campaign whose audience still needs expanding and makes
 * sure its shards' cursors exist (schema/0008_expansion_shards.sql).
 */
static const char sched_expand_claim_sql[] =
	"WITH claim AS ("
	"  UPDATE campaigns c SET state = CASE WHEN c.state = 'scheduled' THEN 'running' "
	"  ELSE c.state END, started_at = coalesce(c.started_at, now()), "
	"  expand_lease_until = now() + interval '60 seconds', updated_at = now() "
	"  WHERE c.id = (SELECT id FROM campaigns WHERE state IN ('scheduled', 'running', 'paused') "
	"  AND start_at <= now() AND expanded_at IS NULL "
	"  AND (expand_lease_until IS NULL OR expand_lease_until < now()) "
	"  ORDER BY start_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	"  RETURNING c.id, c.state, (SELECT o.state FROM campaigns o WHERE o.id = c.id) AS was"
	"), shards AS ("
	"  INSERT INTO campaign_expansion (campaign_id, shard) "
	"  SELECT claim.id, g FROM claim, generate_series(0, $1::int - 1) g ON CONFLICT DO NOTHING"
	") SELECT id, was, state FROM claim";

static const char sched_expand_lease_sql[] =
	"UPDATE campaigns SET expand_lease_until = now() + interval '60 seconds' WHERE id = $1";

/*
 * $1 campaign, $2 shard, $3 default provider, $4 batch size, $5 shards. One batch of one
 * shard: its next tenants by id after its cursor that match the audience (signpost_audience)
 * become queued messages (with the tenant's landlord, for its scope), and the cursor
 * moves in the same transaction, so a batch is
 * never done twice. Should two daemons ever expand the same batch at once, the unique
 * index on (campaign, tenant) fails the later one whole. A cancelled campaign's shards end
 * at their next batch (the janitor cancels what a batch under way at the cancel queued).
 * Returns the rows added and whether the shard is done.
 */
static const char sched_expand_sql[] =
	"WITH c AS ("
	"  SELECT id, coalesce(provider, $3) AS provider FROM campaigns WHERE id = $1 "
	"  AND state IN ('scheduled', 'running', 'paused') AND expanded_at IS NULL"
	"), sh AS ("
	"  SELECT cursor FROM campaign_expansion, c WHERE campaign_id = $1 AND shard = $2 "
	"  AND NOT done"
	"), t AS ("
	"  SELECT a.id, a.phone, a.landlord_id FROM sh, "
	"    signpost_audience($1, sh.cursor, $4, $5, $2) a"
	"), ins AS ("
	"  INSERT INTO messages (kind, campaign_id, tenant_id, to_phone, provider, landlord_id) "
	"  SELECT 'campaign', c.id, t.id, t.phone, c.provider, t.landlord_id FROM t, c"
	"), cur AS ("
	"  UPDATE campaign_expansion e SET cursor = coalesce(b.last, e.cursor), done = b.n < $4 "
	"  FROM (SELECT max(id) AS last, count(*) AS n FROM t) b "
	"  WHERE e.campaign_id = $1 AND e.shard = $2 AND NOT e.done RETURNING b.n, e.done"
	") SELECT coalesce((SELECT n FROM cur), 0), coalesce((SELECT done FROM cur), true)";

/* $1 campaign. Marks it expanded once every shard is done. */
static const char sched_expanded_sql[] =
	"UPDATE campaigns SET expanded_at = now(), updated_at = now() "
	"WHERE id = $1 AND expanded_at IS NULL AND NOT EXISTS ("
	"  SELECT 1 FROM campaign_expansion WHERE campaign_id = $1 AND NOT done) RETURNING id";

static const char sched_complete_sql[] =
	"UPDATE campaigns c SET state = 'completed', completed_at = now(), updated_at = now() "
	"WHERE c.state = 'running' AND c.expanded_at IS NOT NULL AND NOT EXISTS ("
	"  SELECT 1 FROM messages m WHERE m.campaign_id = c.id AND m.kind = 'campaign' "
	"  AND m.state IN ('queued', 'retry')) AND NOT EXISTS ("
	"  SELECT 1 FROM messages m WHERE m.state = 'sending' AND m.campaign_id = c.id) "
	"RETURNING c.id";

struct sched {
	struct app *app;
	struct event *tick;
	struct event *poke;
	int queries;
	bool expanding;
	bool refreshing;
	bool stopped;
	unsigned ticks;
	int64_t expand_id;
	int expand_shards_busy; /* shards with a batch in flight */
	int64_t expand_lease_ms; /* when the lease was last renewed */
	bool expand_failed;
	int64_t expanded_rows;
	struct sched_shard {
		struct sched *s;
		int index;
	} shards[SCHED_EXPAND_SHARDS];
};

static void sched_expand_next(struct sched_shard *sh);

static void sched_log_error(const char *what, const struct db_result *r)
{
	if (r->error)
		log_error("scheduler %s failed error=\"%.*s\"", what, (int)strcspn(r->error, "\n"),
			  r->error);
}

/* ---- running campaigns ---- */

static bool sched_window_open(struct app *app, const char *json)
{
	struct send_window w;
	struct sbuf err;
	struct json_object *o = json ? json_tokener_parse(json) : NULL;
	bool ok;

	window_default(&w);
	sbuf_init(&err);
	ok = !o || window_from_json(o, &w, &err) == 0;
	if (!ok)
		log_error("campaign send window unreadable error=\"%s\"", err.data);
	json_object_put(o);
	sbuf_free(&err);
	return ok && window_is_open(&w, &app->holidays, time(NULL));
}

static void sched_running_done(const struct db_result *r, void *arg)
{
	struct sched *s = arg;
	int n = db_rows(r);
	struct dispatch_campaign *list = xcalloc((size_t)n, sizeof(*list));

	s->queries--;
	s->refreshing = false;
	sched_log_error("campaign refresh", r);
	if (r->error) {
		free(list);
		return;
	}
	for (int i = 0; i < n; i++) {
		list[i].id = db_get_i64(r, i, 0);
		list[i].provider = db_get(r, i, 1);
		list[i].open = sched_window_open(s->app, db_get(r, i, 2));
		list[i].fallback_provider = db_get(r, i, 3);
		list[i].rate_per_minute = (int)db_get_i64(r, i, 4);
		list[i].smart_encoding = db_get_bool(r, i, 5);
	}
	dispatch_set_campaigns(s->app->dispatch, list, (size_t)n);
	free(list);
}

static void sched_refresh(struct sched *s)
{
	if (s->refreshing)
		return;
	s->refreshing = true;
	s->queries++;
	const char *params[] = { s->app->cfg.default_provider->name };
	db_query(s->app->db, sched_running_sql, 1, params, sched_running_done, s);
}

/* ---- expansion ---- */

static void sched_expand_finished(const struct db_result *r, void *arg)
{
	struct sched *s = arg;

	s->queries--;
	s->expanding = false;
	sched_log_error("expansion end", r);
	if (db_rows(r))
		log_info("campaign expanded id=%lld messages=%lld", (long long)s->expand_id,
			 (long long)s->expanded_rows);
	sched_refresh(s);
	sched_poke(s);
}

/* A shard has stopped: done, failed, or the daemon is stopping. */
static void sched_expand_shard_end(struct sched *s)
{
	char id[24];

	if (--s->expand_shards_busy > 0)
		return;
	if (s->expand_failed || s->stopped) {
		s->expanding = false;
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)s->expand_id);
	const char *params[] = { id };
	s->queries++;
	db_query(s->app->db, sched_expanded_sql, 1, params, sched_expand_finished, s);
}

static void sched_expand_batch_done(const struct db_result *r, void *arg)
{
	struct sched_shard *sh = arg;
	struct sched *s = sh->s;

	s->queries--;
	if (r->error && db_is_unique_violation(r))
		log_info("campaign expansion batch done by another daemon id=%lld",
			 (long long)s->expand_id);
	else
		sched_log_error("expansion", r);
	if (r->error)
		s->expand_failed = true;
	if (r->error || s->stopped || db_get_bool(r, 0, 1)) {
		sched_expand_shard_end(s);
		return;
	}
	s->expanded_rows += db_get_i64(r, 0, 0);
	sched_expand_next(sh);
}

static void sched_expand_next(struct sched_shard *sh)
{
	struct sched *s = sh->s;
	char id[24], shard[16], shards[16];

	snprintf(id, sizeof(id), "%lld", (long long)s->expand_id);
	snprintf(shard, sizeof(shard), "%d", sh->index);
	snprintf(shards, sizeof(shards), "%d", SCHED_EXPAND_SHARDS);
	const char *params[] = { id, shard, s->app->cfg.default_provider->name,
				 SCHED_EXPAND_BATCH, shards };
	s->queries++;
	db_query(s->app->db, sched_expand_sql, 5, params, sched_expand_batch_done, sh);
}

static void sched_expand_claimed(const struct db_result *r, void *arg)
{
	struct sched *s = arg;

	s->queries--;
	sched_log_error("expansion claim", r);
	if (r->error || db_rows(r) == 0 || s->stopped) {
		s->expanding = false;
		return;
	}
	s->expand_id = db_get_i64(r, 0, 0);
	s->expanded_rows = 0;
	s->expand_failed = false;
	s->expand_shards_busy = SCHED_EXPAND_SHARDS;
	s->expand_lease_ms = clock_mono_ms();
	log_info("campaign expanding id=%lld shards=%d", (long long)s->expand_id,
		 SCHED_EXPAND_SHARDS);
	if (strcmp(db_get(r, 0, 1), db_get(r, 0, 2)) != 0)
		lifecycle_log_names(LIFECYCLE_CAMPAIGN, db_get(r, 0, 0), db_get(r, 0, 1),
				    db_get(r, 0, 2));
	sched_refresh(s);
	for (int i = 0; i < SCHED_EXPAND_SHARDS; i++) {
		s->shards[i] = (struct sched_shard){ s, i };
		sched_expand_next(&s->shards[i]);
	}
}

static void sched_expand_lease_done(const struct db_result *r, void *arg)
{
	struct sched *s = arg;

	s->queries--;
	sched_log_error("expansion lease", r);
}

/* Claims a campaign to expand, or keeps the lease on the one being expanded. */
static void sched_expand(struct sched *s)
{
	char id[24], shards[16];

	if (s->expanding) {
		if (s->expand_shards_busy == 0 || clock_mono_ms() - s->expand_lease_ms < SCHED_LEASE_RENEW_MS)
			return;
		s->expand_lease_ms = clock_mono_ms();
		snprintf(id, sizeof(id), "%lld", (long long)s->expand_id);
		const char *params[] = { id };
		s->queries++;
		db_query(s->app->db, sched_expand_lease_sql, 1, params, sched_expand_lease_done, s);
		return;
	}
	s->expanding = true;
	snprintf(shards, sizeof(shards), "%d", SCHED_EXPAND_SHARDS);
	const char *params[] = { shards };
	s->queries++;
	db_query(s->app->db, sched_expand_claim_sql, 1, params, sched_expand_claimed, s);
}

/* ---- completion ---- */

static void sched_completed(const struct db_result *r, void *arg)
{
	struct sched *s = arg;

	s->queries--;
	sched_log_error("completion check", r);
	for (int i = 0; i < db_rows(r); i++) {
		log_info("campaign completed id=%s", db_get(r, i, 0));
		lifecycle_log(LIFECYCLE_CAMPAIGN, db_get_i64(r, i, 0), CAMPAIGN_RUNNING,
			      CAMPAIGN_COMPLETED);
	}
	if (db_rows(r))
		sched_refresh(s);
}

/* ---- the tick ---- */

static void sched_run(struct sched *s)
{
	if (s->stopped)
		return;
	sched_expand(s);
	sched_refresh(s);
	s->queries++;
	db_query(s->app->db, sched_complete_sql, 0, NULL, sched_completed, s);
}

static void sched_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;
	(void)fd, (void)what;

	sched_run(s);
	if (!s->stopped) {
		rules_tick(s->app);
		referral_tick(s->app);
	}
	if (s->ticks++ % SCHED_JANITOR_EVERY == 0 && !s->stopped)
		janitor_run(s->app);
}

static void sched_poke_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sched *s = arg;
	(void)fd, (void)what;

	sched_run(s);
	dispatch_kick(s->app->dispatch);
}

void sched_poke(struct sched *s)
{
	event_active(s->poke, EV_TIMEOUT, 0);
}

struct sched *sched_new(struct app *app)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	struct timeval tick = { SCHED_TICK_MS / 1000, (SCHED_TICK_MS % 1000) * 1000 };

	s->app = app;
	s->tick = event_new(app->base, -1, EV_PERSIST, sched_tick_cb, s);
	s->poke = event_new(app->base, -1, 0, sched_poke_cb, s);
	event_add(s->tick, &tick);
	event_active(s->tick, EV_TIMEOUT, 0);
	return s;
}

void sched_stop(struct sched *s)
{
	s->stopped = true;
	event_del(s->tick);
}

bool sched_idle(const struct sched *s)
{
	return s->queries == 0;
}

void sched_free(struct sched *s)
{
	if (!s)
		return;
	event_free(s->tick);
	event_free(s->poke);
	free(s);
}
