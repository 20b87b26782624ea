#include "gateway/janitor.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/auth.h"
#include "gateway/lifecycle.h"
#include "gateway/replay.h"
#include "gateway/retention.h"
#include "infra/db.h"
#include "infra/log.h"

static const char janitor_sql[] =
	"WITH dead AS ("
	"  DELETE FROM daemons d WHERE d.id <> $1 AND NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' "
	"    AND l.classid = " JANITOR_LOCK_CLASS_SQL " AND l.objid = d.id::oid AND l.objsubid = 2 AND l.granted) "
	"  RETURNING d.id"
	"), lost AS ("
	"  UPDATE messages m SET state = 'unknown', lease_until = NULL, updated_at = now(), "
	"    error_text = 'the signpostd process sending this text stopped before the provider "
	"answered; the text may have been sent, so it is not retried automatically' "
	"  WHERE m.state = 'sending' AND (m.claimed_by IN (SELECT id FROM dead) "
	"    OR m.lease_until < now()) RETURNING m.id"
	"), expired AS ("
	"  UPDATE messages m SET state = 'expired', final_at = now(), updated_at = now(), "
	"    error_text = coalesce(m.error_text, 'not sent within its validity period') "
	"  WHERE m.state IN ('queued', 'retry') AND m.expires_at < now() RETURNING m.id"
	"), cancelled AS (" /* queued by an expansion batch that was under way at the cancel */
	"  UPDATE messages m SET state = 'cancelled', final_at = now(), updated_at = now() "
	"  WHERE m.kind = 'campaign' AND m.state IN ('queued', 'retry') "
	"  AND m.campaign_id IN (SELECT id FROM campaigns WHERE state = 'cancelled') RETURNING m.id"
	") SELECT (SELECT count(*) FROM dead), (SELECT count(*) FROM lost), "
	"(SELECT count(*) FROM expired), (SELECT count(*) FROM cancelled)";

static void janitor_done(const struct db_result *r, void *arg)
{
	(void)arg;
	if (r->error)
		log_error("janitor failed error=\"%.*s\"", (int)strcspn(r->error, "\n"), r->error);
	if (r->error || db_rows(r) == 0)
		return;
	if (db_get_i64(r, 0, 0) || db_get_i64(r, 0, 1) || db_get_i64(r, 0, 2) ||
	    db_get_i64(r, 0, 3))
		log_warn("janitor dead_daemons=%s lost_in_flight=%s expired=%s cancelled=%s",
			 db_get(r, 0, 0), db_get(r, 0, 1), db_get(r, 0, 2), db_get(r, 0, 3));
	/* sending -> unknown, queued|retry -> expired, queued|retry -> cancelled, by count */
	if (db_get_i64(r, 0, 1))
		log_debug("message n=%s sending -> unknown reason=\"%s\"", db_get(r, 0, 1),
			  lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_SENDING, MSG_UNKNOWN));
	if (db_get_i64(r, 0, 2))
		log_debug("message n=%s queued|retry -> expired reason=\"%s\"", db_get(r, 0, 2),
			  lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_QUEUED, MSG_EXPIRED));
	if (db_get_i64(r, 0, 3))
		log_debug("message n=%s queued|retry -> cancelled reason=\"%s\"", db_get(r, 0, 3),
			  lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_QUEUED, MSG_CANCELLED));
}

static void janitor_done_purge(const struct db_result *r, void *arg)
{
	(void)arg;
	if (r->error)
		log_error("janitor failed to purge replay ids error=\"%.*s\"",
			  (int)strcspn(r->error, "\n"), r->error);
}

void janitor_run(struct app *app)
{
	char id[24];

	snprintf(id, sizeof(id), "%lld", (long long)app->daemon_id);
	const char *params[] = { id };
	db_query(app->db, janitor_sql, 1, params, janitor_done, NULL);
	db_query(app->db, replay_purge_sql, 0, NULL, janitor_done_purge, NULL);
	retention_run(app->retention);
}

int64_t janitor_reserve_id(const char *conninfo, struct sbuf *err)
{
	PGconn *pg = db_connect_blocking(conninfo);
	PGresult *r = NULL;
	int64_t id = 0;

	if (PQstatus(pg) != CONNECTION_OK) {
		sbuf_printf(err, "cannot connect to the database (SIGNPOST_DATABASE_URL): %s",
			    PQerrorMessage(pg));
		goto out;
	}
	r = PQexec(pg, "SELECT nextval('daemons_id_seq')");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		sbuf_printf(err, "cannot register this daemon: %s", PQresultErrorMessage(r));
		goto out;
	}
	id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
out:
	PQclear(r);
	PQfinish(pg);
	return id;
}

char *janitor_session_sql(int64_t id)
{
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++) /* keep it a plain SQL literal */
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
			*p = '_';
	/* Revocations notified while this connection was down were missed: every daemon,
	 * this one included, forgets its cached keys (auth.h). */
	return xasprintf("SELECT pg_advisory_lock(%d, %lld); "
			 "INSERT INTO daemons (id, hostname, pid) VALUES (%lld, '%s', %d) "
			 "ON CONFLICT (id) DO NOTHING; LISTEN signpost_work; "
			 "NOTIFY signpost_work, '" AUTH_NOTIFY "'",
			 JANITOR_LOCK_CLASS, (long long)id, (long long)id, host, (int)getpid());
}
