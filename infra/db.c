#include "infra/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/log.h"

#define DB_MAX_INFLIGHT 64
#define DB_RECONNECT_MIN_MS 100
#define DB_RECONNECT_MAX_MS 2000
#define DB_CONNECT_TIMEOUT_MS 10000
#define DB_QUEUE_TIMEOUT_MS 15000
#define DB_GROUP_MAX 256
#define DB_STUCK_MS 5000 /* a connection whose oldest statement waits longer is not answering */

enum db_phase {
	DB_PHASE_SCOPE,   /* waiting for the set_config of a scoped statement */
	DB_PHASE_PREPARE, /* waiting for the PQsendPrepare result */
	DB_PHASE_QUERY,   /* collecting the query's results */
	DB_PHASE_SYNC,    /* waiting for the pipeline sync */
};

/*
 * Statements sent between two pipeline syncs share one implicit transaction, committed
 * at the sync when all of them succeeded and rolled back otherwise.
 */
enum db_job_kind {
	DB_JOB_SOLO,   /* its own transaction: followed by a sync */
	DB_JOB_MEMBER, /* in a shared transaction, not the last */
	DB_JOB_LAST,   /* the last of a shared transaction: followed by a sync */
};

struct db_job {
	struct db_job *next;
	struct db *db;
	enum db_job_kind kind;
	const char *sql;
	int stmt;
	int nparams;
	char **params;
	db_cb *cb;
	void *arg;
	int64_t scope;   /* the landlord the statement is scoped to, or 0 */
	bool preparing;  /* sent with its PQsendPrepare */
	enum db_phase phase;
	PGresult *res;
	int64_t queued_at;
	int64_t sent_at;
	char request_id[LOG_REQUEST_ID_SIZE]; /* the request it was queued for, "" for none */
};

struct db_queue {
	struct db_job *head, *tail;
	size_t len;
};

enum db_conn_state {
	DB_CONN_DOWN,
	DB_CONN_CONNECTING,
	DB_CONN_SETUP, /* session connection: running its setup SQL */
	DB_CONN_READY,
};

struct db_conn {
	struct db *db;
	PGconn *pg;
	int turn;  /* how far the host list is turned: one more after each connect timeout */
	bool lost; /* was up, went down: say so when it is back */
	struct event *io;
	short io_what;
	struct event *timer; /* reconnect backoff, or connect timeout */
	enum db_conn_state state;
	bool session;
	struct db_queue sent; /* in flight, oldest first */
	struct db_queue held; /* members of the open shared transaction, read, awaiting the sync */
	unsigned char *prepared;
	size_t prepared_len;
	int64_t backoff_ms;
};

struct db {
	struct event_base *base;
	char *conninfo;
	PQconninfoOption *options; /* conninfo read by libpq, or NULL when it cannot be */
	int64_t connect_timeout_ms; /* per attempt: the conninfo's connect_timeout, else 10 s */
	struct db_conn *conns;
	int nconns;
	struct db_queue queue;   /* statements that run alone */
	struct db_queue grouped; /* statements that may share a transaction */
	/*
	 * The connection running the one shared transaction in flight, or NULL. One at a time:
	 * two could each wait for a row the other has written, a deadlock PostgreSQL only
	 * breaks after a second.
	 */
	struct db_conn *group_conn;
	const char **stmts;
	int nstmts, capstmts;
	struct event *kick;
	struct event *tick;
	struct db_conn session;
	char *session_sql;
	db_notify_cb *notify_cb;
	void *notify_arg;
	struct db_stats stats;
};

static void db_conn_connect(struct db_conn *c);
static void db_conn_io_cb(evutil_socket_t fd, short what, void *arg);

static const char *db_conn_label(const struct db_conn *c)
{
	return c->session ? "session" : "pool";
}

/* ---- queues ---- */

static void db_queue_push(struct db_queue *q, struct db_job *j)
{
	j->next = NULL;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	q->len++;
}

/* Puts all of from, in order, in front of q. */
static void db_queue_prepend(struct db_queue *q, struct db_queue *from)
{
	if (!from->head)
		return;
	from->tail->next = q->head;
	if (!q->tail)
		q->tail = from->tail;
	q->head = from->head;
	q->len += from->len;
	*from = (struct db_queue){ 0 };
}

static struct db_job *db_queue_pop(struct db_queue *q)
{
	struct db_job *j = q->head;

	if (j) {
		q->head = j->next;
		if (!q->head)
			q->tail = NULL;
		q->len--;
		j->next = NULL;
	}
	return j;
}

/* ---- jobs ---- */

static struct db_job *db_job_new(const char *sql, int nparams, const char *const *params,
				 db_cb *cb, void *arg)
{
	size_t bytes = 0;
	for (int i = 0; i < nparams; i++)
		bytes += params[i] ? strlen(params[i]) + 1 : 0;
	struct db_job *j = xcalloc(1, sizeof(*j) + (size_t)nparams * sizeof(char *) + bytes);
	char **slots = (char **)(j + 1);
	char *p = (char *)(slots + nparams);

	for (int i = 0; i < nparams; i++) {
		slots[i] = NULL;
		if (params[i]) {
			size_t n = strlen(params[i]) + 1;
			memcpy(p, params[i], n);
			slots[i] = p;
			p += n;
		}
	}
	j->sql = sql;
	j->nparams = nparams;
	j->params = slots;
	j->cb = cb;
	j->arg = arg;
	j->queued_at = clock_mono_ms();
	snprintf(j->request_id, sizeof(j->request_id), "%s", log_request());
	return j;
}

/* A result that is not an error (NULL is one). */
static bool db_res_ok(const PGresult *r)
{
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	return st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK;
}

static void db_job_finish(struct db_job *j, const char *error, bool indeterminate)
{
	struct db_result r = { .pg = j->res, .error = error, .sqlstate = "", .constraint = "",
			       .indeterminate = indeterminate };
	char prev[LOG_REQUEST_ID_SIZE];

	if (!error && j->res) {
		if (!db_res_ok(j->res)) {
			const char *state = PQresultErrorField(j->res, PG_DIAG_SQLSTATE);
			const char *constraint = PQresultErrorField(j->res, PG_DIAG_CONSTRAINT_NAME);
			r.error = PQresultErrorMessage(j->res);
			r.sqlstate = state ? state : "";
			r.constraint = constraint ? constraint : "";
			if (!*r.error)
				r.error = PQresStatus(PQresultStatus(j->res));
		}
	} else if (!error) {
		r.error = "no result";
	}
	log_request_enter(j->request_id, prev); /* lines the callback writes are the request's */
	if (r.error)
		j->db->stats.errors++;
	if (r.error)
		log_debug("db query failed sqlstate=%s error=\"%.*s\"", r.sqlstate,
			  (int)strcspn(r.error, "\n"), r.error);
	if (j->cb)
		j->cb(&r, j->arg);
	log_request_leave(prev);
	PQclear(j->res);
	free(j);
}

static bool db_job_syncs(const struct db_job *j)
{
	return j->kind != DB_JOB_MEMBER;
}

static void db_job_fail_all(struct db_queue *q, const char *why, bool indeterminate)
{
	struct db_job *j;

	while ((j = db_queue_pop(q)) != NULL)
		db_job_finish(j, why, indeterminate);
}

static int db_stmt_id(struct db *db, const char *sql)
{
	for (int i = 0; i < db->nstmts; i++)
		if (db->stmts[i] == sql)
			return i;
	if (db->nstmts == db->capstmts) {
		db->capstmts = db->capstmts ? db->capstmts * 2 : 64;
		db->stmts = xrealloc(db->stmts, (size_t)db->capstmts * sizeof(*db->stmts));
	}
	db->stmts[db->nstmts] = sql;
	return db->nstmts++;
}

/* ---- connection plumbing ---- */

static void db_conn_watch(struct db_conn *c, short what)
{
	if (c->io && c->io_what == what)
		return;
	if (c->io)
		event_free(c->io);
	c->io = NULL;
	c->io_what = what;
	if (!what)
		return;
	c->io = event_new(c->db->base, PQsocket(c->pg), what | EV_PERSIST, db_conn_io_cb, c);
	event_add(c->io, NULL);
}

static void db_conn_fail_jobs(struct db_conn *c, const char *why)
{
	if (c->db->group_conn == c)
		c->db->group_conn = NULL;
	db_job_fail_all(&c->held, why, true);
	db_job_fail_all(&c->sent, why, true);
}

static void db_conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	db_conn_connect(arg);
}

static void db_conn_schedule_retry(struct db_conn *c)
{
	struct timeval tv = { (time_t)(c->backoff_ms / 1000), (suseconds_t)(c->backoff_ms % 1000) * 1000 };

	evtimer_assign(c->timer, c->db->base, db_conn_retry_cb, c);
	evtimer_add(c->timer, &tv);
	c->backoff_ms = MIN(c->backoff_ms * 2, DB_RECONNECT_MAX_MS);
}

static void db_conn_fail(struct db_conn *c, const char *why)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "database connection lost: %s",
		 c->pg ? PQerrorMessage(c->pg) : why);
	msg[strcspn(msg, "\n")] = '\0';
	if (c->state == DB_CONN_READY || c->state == DB_CONN_SETUP) {
		log_warn("db connection lost conn=%s reason=\"%s\"", db_conn_label(c), msg);
		c->lost = true;
	}
	db_conn_watch(c, 0);
	evtimer_del(c->timer);
	PQfinish(c->pg);
	c->pg = NULL;
	c->state = DB_CONN_DOWN;
	if (c->prepared) /* statements are prepared again on the next connection */
		memset(c->prepared, 0, c->prepared_len);
	db_conn_fail_jobs(c, msg);
	db_conn_schedule_retry(c);
}

static bool db_conn_prepared(struct db_conn *c, int stmt)
{
	size_t byte = (size_t)stmt / 8;
	if (byte >= c->prepared_len) {
		size_t n = MAX(byte + 1, c->prepared_len * 2);
		c->prepared = xrealloc(c->prepared, n);
		memset(c->prepared + c->prepared_len, 0, n - c->prepared_len);
		c->prepared_len = n;
	}
	return c->prepared[byte] & (1u << (stmt % 8));
}

static void db_conn_set_prepared(struct db_conn *c, int stmt, bool on)
{
	(void)db_conn_prepared(c, stmt);
	if (on)
		c->prepared[stmt / 8] |= (unsigned char)(1u << (stmt % 8));
	else
		c->prepared[stmt / 8] &= (unsigned char)~(1u << (stmt % 8));
}

static void db_conn_flush(struct db_conn *c)
{
	int r = PQflush(c->pg);
	if (r < 0)
		db_conn_fail(c, "flush failed");
	else
		db_conn_watch(c, r ? EV_READ | EV_WRITE : EV_READ);
}

/* ---- pool: sending ---- */

/*
 * A scoped statement is preceded, in its own transaction, by a transaction-local
 * set_config of signpost.landlord: the scope cannot outlive the statement, whether it
 * commits or not, so no statement after it needs a reset, and when the set_config fails
 * the statement does not run.
 */
static int db_conn_send_scope(struct db_conn *c, const struct db_job *j)
{
	static const char sql[] = "SELECT set_config('signpost.landlord', $1, true)";
	char scope[24];
	const char *params[] = { scope };

	snprintf(scope, sizeof(scope), "%lld", (long long)j->scope);
	return PQsendQueryParams(c->pg, sql, 1, NULL, params, NULL, NULL, 0) ? 0 : -1;
}

static int db_conn_send(struct db_conn *c, struct db_job *j)
{
	char name[16];

	snprintf(name, sizeof(name), "s%d", j->stmt);
	j->preparing = !db_conn_prepared(c, j->stmt);
	j->phase = j->preparing ? DB_PHASE_PREPARE : DB_PHASE_QUERY;
	if (j->scope) {
		if (db_conn_send_scope(c, j) < 0)
			return -1;
		j->phase = DB_PHASE_SCOPE;
	}
	if (j->preparing) {
		if (!PQsendPrepare(c->pg, name, j->sql, j->nparams, NULL))
			return -1;
		db_conn_set_prepared(c, j->stmt, true);
	}
	if (!PQsendQueryPrepared(c->pg, name, j->nparams, (const char *const *)j->params, NULL,
				 NULL, 0) ||
	    (db_job_syncs(j) && !PQpipelineSync(c->pg)))
		return -1;
	j->sent_at = clock_mono_ms();
	metrics_observe_ms(&c->db->stats.queue_wait, j->sent_at - j->queued_at);
	db_queue_push(&c->sent, j);
	return 0;
}

/*
 * Sends the queued grouped statements (up to DB_GROUP_MAX) with one sync after the last,
 * so one transaction, and one wait for the disk at its commit, covers them all.
 */
static int db_conn_send_group(struct db_conn *c)
{
	struct db *db = c->db;
	struct db_job *j;

	for (int n = 0; n < DB_GROUP_MAX && (j = db_queue_pop(&db->grouped)) != NULL; n++) {
		bool last = n + 1 == DB_GROUP_MAX || !db->grouped.head;
		j->kind = last ? (n ? DB_JOB_LAST : DB_JOB_SOLO) : DB_JOB_MEMBER;
		if (db_conn_send(c, j) < 0) {
			j->kind = DB_JOB_SOLO;
			db_queue_push(&db->queue, j);
			return -1;
		}
		if (j->kind != DB_JOB_SOLO)
			db->group_conn = c;
	}
	return 0;
}

static struct db_conn *db_pick(struct db *db)
{
	struct db_conn *best = NULL;
	for (int i = 0; i < db->nconns; i++) {
		struct db_conn *c = &db->conns[i];
		if (c->state == DB_CONN_READY && (int)c->sent.len < DB_MAX_INFLIGHT &&
		    (!best || c->sent.len < best->sent.len))
			best = c;
	}
	return best;
}

static void db_dispatch(struct db *db)
{
	struct db_conn *c;

	while (db->grouped.head && !db->group_conn && (c = db_pick(db))) {
		if (db_conn_send_group(c) < 0)
			db_conn_fail(c, "send failed");
		else
			db_conn_flush(c);
	}
	while (db->queue.head && (c = db_pick(db))) {
		struct db_job *j = db_queue_pop(&db->queue);
		if (db_conn_send(c, j) < 0) {
			struct db_queue back = { j, j, 1 };
			db_queue_prepend(&db->queue, &back);
			db_conn_fail(c, "send failed");
			continue;
		}
		db_conn_flush(c);
	}
}

static void db_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	db_dispatch(arg);
}

static void db_enqueue(struct db *db, struct db_queue *q, int64_t scope, const char *sql,
		       int nparams, const char *const *params, db_cb *cb, void *arg)
{
	struct db_job *j = db_job_new(sql, nparams, params, cb, arg);

	j->db = db;
	j->stmt = db_stmt_id(db, sql);
	j->scope = scope;
	db_queue_push(q, j);
	event_active(db->kick, EV_TIMEOUT, 0);
}

void db_query(struct db *db, const char *sql, int nparams, const char *const *params,
	      db_cb *cb, void *arg)
{
	db_enqueue(db, &db->queue, 0, sql, nparams, params, cb, arg);
}

void db_query_scoped(struct db *db, int64_t landlord_id, const char *sql, int nparams,
		     const char *const *params, db_cb *cb, void *arg)
{
	db_enqueue(db, &db->queue, landlord_id > 0 ? landlord_id : 0, sql, nparams, params, cb,
		   arg);
}

void db_query_grouped(struct db *db, const char *sql, int nparams, const char *const *params,
		      db_cb *cb, void *arg)
{
	db_enqueue(db, &db->grouped, 0, sql, nparams, params, cb, arg);
}

/* ---- pool: receiving ---- */

static void db_job_take_result(struct db_job *j, PGresult *r)
{
	if (j->res && !db_res_ok(j->res)) {
		PQclear(r); /* keep the first error */
		return;
	}
	if (j->phase != DB_PHASE_QUERY && db_res_ok(r)) {
		PQclear(r);
		return;
	}
	PQclear(j->res);
	j->res = r;
}

/*
 * A shared transaction's sync has come back. When every statement in it succeeded it was
 * committed and each callback gets its result; otherwise it was rolled back and every
 * statement runs again alone, so one statement's error reaches only its own caller.
 */
static void db_conn_group_done(struct db_conn *c)
{
	struct db *db = c->db;
	struct db_queue again = { 0 };
	struct db_job *j;
	bool ok = true;

	for (j = c->held.head; j && ok; j = j->next)
		ok = db_res_ok(j->res);
	if (!ok)
		log_debug("db shared transaction failed statements=%zu, running them one by one",
			  c->held.len);
	while ((j = db_queue_pop(&c->held)) != NULL) {
		if (ok) {
			db_job_finish(j, NULL, false);
			continue;
		}
		PQclear(j->res);
		j->res = NULL;
		j->kind = DB_JOB_SOLO;
		db_queue_push(&again, j);
	}
	db_queue_prepend(&db->queue, &again);
	db->group_conn = NULL;
	event_active(db->kick, EV_TIMEOUT, 0);
}

/* Returns false when the connection broke. */
static bool db_conn_step(struct db_conn *c)
{
	struct db_job *j = c->sent.head;
	PGresult *r = PQgetResult(c->pg);

	if (j->phase != DB_PHASE_SYNC) {
		if (r) {
			db_job_take_result(j, r);
		} else if (j->phase == DB_PHASE_SCOPE) {
			j->phase = j->preparing ? DB_PHASE_PREPARE : DB_PHASE_QUERY;
		} else if (j->phase == DB_PHASE_PREPARE) {
			if (j->res)
				db_conn_set_prepared(c, j->stmt, false);
			j->phase = DB_PHASE_QUERY;
		} else if (db_job_syncs(j)) {
			j->phase = DB_PHASE_SYNC;
		} else {
			db_queue_push(&c->held, db_queue_pop(&c->sent));
		}
		return true;
	}
	if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
		PQclear(r);
		db_conn_fail(c, "pipeline out of step");
		return false;
	}
	PQclear(r);
	db_queue_pop(&c->sent);
	if (j->kind == DB_JOB_LAST) {
		db_queue_push(&c->held, j);
		db_conn_group_done(c);
	} else {
		db_job_finish(j, NULL, false);
	}
	return true;
}

static void db_conn_read(struct db_conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		db_conn_fail(c, "read failed");
		return;
	}
	while (c->sent.head && !PQisBusy(c->pg))
		if (!db_conn_step(c))
			return;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		db_conn_fail(c, "connection closed");
		return;
	}
	if (c->db->queue.head || c->db->grouped.head)
		event_active(c->db->kick, EV_TIMEOUT, 0);
}

/* ---- session connection ---- */

static void db_session_notifies(struct db_conn *c)
{
	PGnotify *n;

	while ((n = PQnotifies(c->pg)) != NULL) {
		if (c->db->notify_cb)
			c->db->notify_cb(n->relname, n->extra, c->db->notify_arg);
		PQfreemem(n);
	}
}

static void db_session_read(struct db_conn *c)
{
	if (!PQconsumeInput(c->pg)) {
		db_conn_fail(c, "read failed");
		return;
	}
	while (c->state == DB_CONN_SETUP && !PQisBusy(c->pg)) {
		PGresult *r = PQgetResult(c->pg);
		if (!r) {
			c->state = DB_CONN_READY;
			log_info("db session ready host=%s port=%s", PQhost(c->pg), PQport(c->pg));
			/* Notifications sent while it was down are lost: say anything may be due. */
			if (c->db->notify_cb)
				c->db->notify_cb(NULL, NULL, c->db->notify_arg);
			break;
		}
		if (!db_res_ok(r))
			log_error("db session setup failed error=\"%.*s\"",
				  (int)strcspn(PQresultErrorMessage(r), "\n"), PQresultErrorMessage(r));
		PQclear(r);
	}
	db_session_notifies(c);
	if (PQstatus(c->pg) == CONNECTION_BAD)
		db_conn_fail(c, "connection closed");
}

/* ---- connecting ---- */

static void db_conn_established(struct db_conn *c)
{
	evtimer_del(c->timer);
	c->backoff_ms = DB_RECONNECT_MIN_MS;
	if (c->lost) /* which server: after a failover, the new primary */
		log_info("db connection back conn=%s host=%s port=%s", db_conn_label(c),
			 PQhost(c->pg), PQport(c->pg));
	c->lost = false;
	if (c->session) {
		c->state = DB_CONN_SETUP;
		if (!PQsendQuery(c->pg, c->db->session_sql)) {
			db_conn_fail(c, "setup failed");
			return;
		}
		db_conn_flush(c);
		return;
	}
	if (!PQenterPipelineMode(c->pg)) {
		db_conn_fail(c, "pipeline mode refused");
		return;
	}
	c->state = DB_CONN_READY;
	db_conn_watch(c, EV_READ);
	log_debug("db connection ready conn=%s", db_conn_label(c));
	event_active(c->db->kick, EV_TIMEOUT, 0);
}

static void db_conn_poll(struct db_conn *c)
{
	switch (PQconnectPoll(c->pg)) {
	case PGRES_POLLING_READING:
		db_conn_watch(c, 0);
		db_conn_watch(c, EV_READ);
		break;
	case PGRES_POLLING_WRITING:
		db_conn_watch(c, 0);
		db_conn_watch(c, EV_WRITE);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pg, 1) != 0) {
			db_conn_fail(c, "non-blocking mode refused");
			return;
		}
		db_conn_watch(c, 0);
		db_conn_established(c);
		break;
	default:
		log_warn("db connect failed conn=%s reason=\"%.*s\"", db_conn_label(c),
			 (int)strcspn(PQerrorMessage(c->pg), "\n"), PQerrorMessage(c->pg));
		db_conn_fail(c, "connect failed");
		break;
	}
}

static void db_conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	(void)fd, (void)what;
	log_warn("db connect timed out conn=%s", db_conn_label(c));
	c->turn++; /* a host that does not answer at all: start from the next one */
	db_conn_fail(c, "connect timed out");
}

/*
 * What every connection starts from; the operator's conninfo overrides any of it. A server
 * that takes no writes (a standby) is passed over, so with several hosts listed (host=a,b)
 * each connection goes to whichever is the primary now. Dead peers are noticed by TCP
 * keepalives and unacknowledged writes (tcp_user_timeout) within about 15 s.
 */
static const char *const db_default_keys[] = {
	"fallback_application_name", "options", "keepalives", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "tcp_user_timeout", "target_session_attrs",
};
static const char *const db_default_values[] = {
	"signpostd", "-c TimeZone=UTC", "1", "30", "10", "3", "15000", "read-write",
};

/* How many hosts a conninfo lists (host=a,b or hostaddr=...), at least 1. */
static int db_host_count(const PQconninfoOption *o)
{
	int n = 1;

	for (; o && o->keyword; o++) {
		if (!o->val || (strcmp(o->keyword, "host") != 0 && strcmp(o->keyword, "hostaddr") != 0))
			continue;
		int k = 1;
		for (const char *p = o->val; *p; p++)
			k += *p == ',';
		n = MAX(n, k);
	}
	return n;
}

/* A comma-separated list of n items turned left by turn places; other lists as they are. */
static char *db_turn_list(const char *list, int n, int turn)
{
	int k = 1;
	const char *p = list;
	struct sbuf out;

	for (const char *q = list; *q; q++)
		k += *q == ',';
	if (k != n || turn % n == 0)
		return xstrdup(list);
	for (int i = 0; i < turn % n; i++)
		p = strchr(p, ',') + 1;
	sbuf_init(&out);
	sbuf_adds(&out, p);
	sbuf_addc(&out, ',');
	sbuf_add(&out, list, (size_t)(p - 1 - list));
	return sbuf_detach(&out);
}

/*
 * Starts a connection: the defaults, then the operator's options, with the host list (and
 * hostaddr and port lists of the same length) turned by c->turn, so that after a host
 * timed out the next attempt tries the others first. libpq tries hosts in order and
 * cannot be told to give up on one that never answers.
 */
static PGconn *db_conn_start(struct db_conn *c)
{
	const PQconninfoOption *o = c->db->options;
	size_t nd = ARRAY_LEN(db_default_keys), n = 0, i;
	int hosts = db_host_count(o);
	PGconn *pg;

	while (o && o[n].keyword)
		n++;
	const char **keys = xcalloc(nd + n + 2, sizeof(*keys));
	const char **values = xcalloc(nd + n + 2, sizeof(*values));
	char **owned = xcalloc(n + 1, sizeof(*owned));
	memcpy(keys, db_default_keys, sizeof(db_default_keys));
	memcpy(values, db_default_values, sizeof(db_default_values));
	i = nd;
	if (!o) { /* libpq could not read it: let it say why */
		keys[i] = "dbname";
		values[i++] = c->db->conninfo;
	}
	for (size_t k = 0; k < n; k++) {
		if (!o[k].val)
			continue;
		keys[i] = o[k].keyword;
		values[i] = o[k].val;
		if (hosts > 1 && (strcmp(o[k].keyword, "host") == 0 ||
				  strcmp(o[k].keyword, "hostaddr") == 0 || strcmp(o[k].keyword, "port") == 0))
			values[i] = owned[k] = db_turn_list(o[k].val, hosts, c->turn);
		i++;
	}
	pg = PQconnectStartParams(keys, values, 0);
	for (size_t k = 0; k < n; k++)
		free(owned[k]);
	free(owned);
	free(keys);
	free(values);
	return pg;
}

/* The server's notices and warnings go to the log as one line each, not to stderr raw. */
static void db_conn_notice(void *arg, const char *message)
{
	struct db_conn *c = arg;

	log_warn("db notice conn=%s message=\"%.*s\"", db_conn_label(c),
		 (int)strcspn(message, "\n"), message);
}

/* libpq leaves connect_timeout to programs that connect asynchronously: it is ours. */
static int64_t db_connect_timeout_ms(const PQconninfoOption *o)
{
	int64_t s;

	for (; o && o->keyword; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val &&
		    str_to_i64(o->val, 1, 3600, &s))
			return MAX(s, 2) * 1000; /* as libpq: less than 2 s is 2 s */
	return DB_CONNECT_TIMEOUT_MS;
}

static void db_conn_connect(struct db_conn *c)
{
	struct timeval tv = { (time_t)(c->db->connect_timeout_ms / 1000), 0 };

	c->pg = db_conn_start(c);
	if (c->pg)
		PQsetNoticeProcessor(c->pg, db_conn_notice, c);
	if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) {
		log_warn("db connect failed conn=%s reason=\"%.*s\"", db_conn_label(c),
			 c->pg ? (int)strcspn(PQerrorMessage(c->pg), "\n") : 14,
			 c->pg ? PQerrorMessage(c->pg) : "out of memory");
		db_conn_fail(c, "connect failed");
		return;
	}
	c->state = DB_CONN_CONNECTING;
	evtimer_assign(c->timer, c->db->base, db_conn_timeout_cb, c);
	evtimer_add(c->timer, &tv);
	db_conn_watch(c, EV_WRITE);
}

static void db_conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	(void)fd;

	if (c->state == DB_CONN_CONNECTING) {
		db_conn_poll(c);
		return;
	}
	if (what & EV_WRITE) {
		db_conn_flush(c);
		if (c->state == DB_CONN_DOWN)
			return;
	}
	if (what & EV_READ) {
		if (c->session)
			db_session_read(c);
		else
			db_conn_read(c);
	}
}

static void db_conn_init(struct db *db, struct db_conn *c, bool session)
{
	memset(c, 0, sizeof(*c));
	c->db = db;
	c->session = session;
	c->backoff_ms = DB_RECONNECT_MIN_MS;
	c->timer = evtimer_new(db->base, db_conn_retry_cb, c);
}

static void db_conn_close(struct db_conn *c)
{
	db_conn_watch(c, 0);
	if (c->timer)
		event_free(c->timer);
	PQfinish(c->pg);
	c->pg = NULL;
	db_conn_fail_jobs(c, "shutting down");
	free(c->prepared);
}

/* Fails queries that have waited too long for any connection. */
static void db_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db *db = arg;
	int64_t now = clock_mono_ms();
	(void)fd, (void)what;

	if (db_ready_count(db) > 0)
		return;
	struct db_queue *queues[] = { &db->queue, &db->grouped };
	for (size_t i = 0; i < ARRAY_LEN(queues); i++)
		while (queues[i]->head && now - queues[i]->head->queued_at > DB_QUEUE_TIMEOUT_MS)
			db_job_finish(db_queue_pop(queues[i]), "database unavailable", false);
}

struct db *db_new(struct event_base *base, const char *conninfo, int pool_size)
{
	struct db *db = xcalloc(1, sizeof(*db));
	struct timeval second = { 1, 0 };

	db->base = base;
	db->conninfo = xstrdup(conninfo);
	db->options = PQconninfoParse(conninfo, NULL);
	db->connect_timeout_ms = db_connect_timeout_ms(db->options);
	db->nconns = pool_size;
	db->conns = xcalloc((size_t)pool_size, sizeof(*db->conns));
	db->kick = event_new(base, -1, 0, db_kick_cb, db);
	db->tick = event_new(base, -1, EV_PERSIST, db_tick_cb, db);
	event_add(db->tick, &second);
	for (int i = 0; i < pool_size; i++) {
		db_conn_init(db, &db->conns[i], false);
		db_conn_connect(&db->conns[i]);
	}
	return db;
}

void db_session_start(struct db *db, const char *setup_sql, db_notify_cb *cb, void *arg)
{
	db->session_sql = xstrdup(setup_sql);
	db->notify_cb = cb;
	db->notify_arg = arg;
	db_conn_init(db, &db->session, true);
	db_conn_connect(&db->session);
}

bool db_session_up(const struct db *db)
{
	return db->session.state == DB_CONN_READY;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->nconns; i++)
		db_conn_close(&db->conns[i]);
	if (db->session.db)
		db_conn_close(&db->session);
	db_job_fail_all(&db->queue, "shutting down", false);
	db_job_fail_all(&db->grouped, "shutting down", false);
	event_free(db->kick);
	event_free(db->tick);
	free(db->conns);
	free(db->stmts);
	free(db->conninfo);
	PQconninfoFree(db->options);
	free(db->session_sql);
	free(db);
}

int db_ready_count(const struct db *db)
{
	int n = 0;
	for (int i = 0; i < db->nconns; i++)
		n += db->conns[i].state == DB_CONN_READY;
	return n;
}

/*
 * From what the pool knows, without asking: a connection is up and has not been left
 * waiting. A server that stopped answering (stopped, cut off by the network) keeps its
 * connections open, so being connected is not enough.
 */
bool db_healthy(const struct db *db)
{
	int64_t now = clock_mono_ms();

	for (int i = 0; i < db->nconns; i++) {
		const struct db_conn *c = &db->conns[i];
		if (c->state == DB_CONN_READY &&
		    (!c->sent.head || now - c->sent.head->sent_at < DB_STUCK_MS))
			return true;
	}
	return false;
}

const struct db_stats *db_stats(const struct db *db)
{
	return &db->stats;
}

int db_pool_size(const struct db *db)
{
	return db->nconns;
}

int db_busy_count(const struct db *db)
{
	int n = 0;
	for (int i = 0; i < db->nconns; i++)
		n += db->conns[i].state == DB_CONN_READY && db->conns[i].sent.len > 0;
	return n;
}

size_t db_queue_len(const struct db *db)
{
	return db->queue.len + db->grouped.len;
}

int db_rows(const struct db_result *r)
{
	return r->pg && !r->error ? PQntuples(r->pg) : 0;
}

const char *db_get(const struct db_result *r, int row, int col)
{
	return PQgetisnull(r->pg, row, col) ? NULL : PQgetvalue(r->pg, row, col);
}

int64_t db_get_i64(const struct db_result *r, int row, int col)
{
	const char *v = db_get(r, row, col);
	return v ? strtoll(v, NULL, 10) : 0;
}

bool db_get_bool(const struct db_result *r, int row, int col)
{
	const char *v = db_get(r, row, col);
	return v && v[0] == 't';
}

bool db_is_unique_violation(const struct db_result *r)
{
	return strcmp(r->sqlstate, "23505") == 0;
}

void db_array_add(struct sbuf *out, const char *value, size_t len)
{
	if (out->len == 0)
		sbuf_addc(out, '{');
	else if (out->data[out->len - 1] != '{')
		sbuf_addc(out, ',');
	if (!value) {
		sbuf_adds(out, "NULL");
		return;
	}
	sbuf_reserve(out, 2 * len + 2);
	char *o = out->data + out->len;
	*o++ = '"';
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '"' || value[i] == '\\')
			*o++ = '\\';
		*o++ = value[i];
	}
	*o++ = '"';
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

void db_array_end(struct sbuf *out)
{
	if (out->len == 0)
		sbuf_addc(out, '{');
	sbuf_addc(out, '}');
}

PGconn *db_connect_blocking(const char *conninfo)
{
	static const char *const keys[] = { "fallback_application_name", "connect_timeout",
					    "target_session_attrs", "dbname", NULL };
	const char *values[] = { "signpostd", "10", "read-write", conninfo, NULL };

	return PQconnectdbParams(keys, values, 1);
}

int db_exec_blocking(const char *conninfo, const char *sql, int nparams,
		     const char *const *params, struct sbuf *err, char sqlstate[6])
{
	PGconn *pg = db_connect_blocking(conninfo);
	PGresult *r = NULL;
	int rc = -1;

	sqlstate[0] = '\0';
	if (PQstatus(pg) != CONNECTION_OK) {
		sbuf_printf(err, "cannot connect to the database (SIGNPOST_DATABASE_URL): %s",
			    PQerrorMessage(pg));
		goto out;
	}
	r = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(sqlstate, 6, "%s", state ? state : "");
		sbuf_printf(err, "%s", PQresultErrorMessage(r));
		goto out;
	}
	rc = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : atoi(PQcmdTuples(r));
out:
	PQclear(r);
	PQfinish(pg);
	return rc;
}
