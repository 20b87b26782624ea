/*
 * db.h: asynchronous PostgreSQL on a small pool of connections watched by libevent.
 *
 * Every connection runs in libpq pipeline mode: queries are sent back to back without
 * waiting, each followed by a sync so each query is its own transaction, except grouped
 * statements (db_query_grouped), which share a transaction and its commit. Statements are
 * prepared once per connection, keyed by the address of their SQL text, so pass string
 * literals (or strings that outlive the pool). Parameters are copied; the result handed to
 * a callback is freed when the callback returns.
 *
 * A separate "session" connection (not pipelined) runs setup SQL every time it connects
 * (advisory locks, LISTEN) and delivers notifications.
 *
 * Connections that break are made again, with backoff (0.1 s doubling to 2 s), to the
 * conninfo's primary: with several hosts (host=a,b or postgresql://a,b/db) libpq takes the
 * first that accepts writes, so after a failover the pool, statements (prepared again on
 * each new connection) and the session's setup follow the promoted server. Statements in
 * flight on a broken connection fail with indeterminate set; queued ones wait for a
 * connection (up to 15 s). An attempt gives up after the conninfo's connect_timeout
 * (default 10 s), and the next starts from the next host, so a host that never answers
 * (a machine gone rather than a server refusing) delays the others only so long.
 */
#ifndef SIGNPOST_DB_H
#define SIGNPOST_DB_H

#include <event2/event.h>
#include <libpq-fe.h>

#include "common/util.h"
#include "infra/metrics.h"

struct db;

struct db_result {
	PGresult *pg;          /* NULL when the query did not run */
	const char *error;     /* NULL on success */
	const char *sqlstate;  /* "" unless the server reported an error */
	const char *constraint; /* the violated constraint's name, or "" */
	bool indeterminate;    /* connection lost after sending: the commit may have happened */
};

typedef void db_cb(const struct db_result *r, void *arg);
/*
 * A notification on a channel the session connection LISTENs to; channel and payload are
 * NULL each time the session connection (re)connects and has run its setup, since
 * notifications sent while it was down are lost: anything may be due.
 */
typedef void db_notify_cb(const char *channel, const char *payload, void *arg);

struct db *db_new(struct event_base *base, const char *conninfo, int pool_size);
/* Fails every queued and in-flight query, closes connections. NULL is a no-op. */
void db_free(struct db *db);

/* Queues one statement. params[i] NULL is SQL NULL. cb may be NULL. */
void db_query(struct db *db, const char *sql, int nparams, const char *const *params,
	      db_cb *cb, void *arg);

/*
 * Like db_query, for a statement that may see and write only the rows of one landlord
 * (the row-level security of schema/0017_landlords.sql): signpost.landlord is set for it
 * alone, in its transaction. landlord_id 0 is unscoped, as db_query.
 */
void db_query_scoped(struct db *db, int64_t landlord_id, const char *sql, int nparams,
		     const char *const *params, db_cb *cb, void *arg);

/*
 * Like db_query, for statements that may share one transaction with other grouped
 * statements queued meanwhile, so that one commit covers them all; cb runs after that
 * commit. When the shared transaction fails nothing of it is kept and each statement runs
 * again alone, so only the statement at fault sees an error: a grouped statement must be
 * safe to run again after a rollback.
 */
void db_query_grouped(struct db *db, const char *sql, int nparams, const char *const *params,
		      db_cb *cb, void *arg);

/*
 * Sets the session connection's setup SQL (run on every connect, may hold several
 * statements) and notification callback, and starts it.
 */
void db_session_start(struct db *db, const char *setup_sql, db_notify_cb *cb, void *arg);
/* True while the session connection is up and its setup has run. */
bool db_session_up(const struct db *db);

/* Connections currently usable / queries waiting for a connection. */
int db_ready_count(const struct db *db);
/*
 * True when at least one connection is ready and none of what it was sent has waited
 * more than 5 s for an answer: the pool can run a statement now. Asks nothing.
 */
bool db_healthy(const struct db *db);
size_t db_queue_len(const struct db *db);

/* What the pool has done since start, for /metrics. */
struct db_stats {
	struct metrics_hist queue_wait; /* from a statement's db_query to its sending */
	uint64_t errors;                /* statements that failed, whatever the cause */
};

const struct db_stats *db_stats(const struct db *db);
/* Connections in the pool, and those with statements in flight. */
int db_pool_size(const struct db *db);
int db_busy_count(const struct db *db);

/*
 * A blocking connection for the command line and start-up: the conninfo over defaults
 * (a standby is passed over, 10 s to connect to each host). Check PQstatus.
 */
PGconn *db_connect_blocking(const char *conninfo);

/*
 * Runs one statement on a connection of its own, blocking: for the command line, before
 * any event loop. Returns the rows it affected or returned, or -1 with the server's
 * message in err and its SQLSTATE in sqlstate ("" when it did not run).
 */
int db_exec_blocking(const char *conninfo, const char *sql, int nparams,
		     const char *const *params, struct sbuf *err, char sqlstate[6]) WUR;

/* Accessors over a successful result. */
int db_rows(const struct db_result *r);
const char *db_get(const struct db_result *r, int row, int col); /* NULL for SQL NULL */
int64_t db_get_i64(const struct db_result *r, int row, int col);   /* 0 for NULL */
bool db_get_bool(const struct db_result *r, int row, int col);
/* SQLSTATE 23505 (unique violation) and friends. */
bool db_is_unique_violation(const struct db_result *r);

/*
 * Builds SQL array literals for array parameters ("{1,2}", "{\"a b\",NULL}"): start with
 * an empty sbuf, add values, then db_array_end. value NULL is SQL NULL.
 */
void db_array_add(struct sbuf *out, const char *value, size_t len);
void db_array_end(struct sbuf *out);

#endif
