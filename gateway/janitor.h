/*
 * janitor.h: looks after work that nobody else will finish.
 *
 * Each daemon holds an advisory lock on its session connection for as long as it lives.
 * A daemon whose lock is gone has died: texts it had in flight become 'unknown' (the
 * provider may have accepted them; they are never resent automatically), as do texts whose
 * lease ran out. Texts that could not be sent within their validity period expire. And
 * it starts passes that clear data past its retention period (retention.h).
 */
#ifndef SIGNPOST_JANITOR_H
#define SIGNPOST_JANITOR_H

#include "gateway/app.h"

/* The advisory lock's first key: pg_advisory_lock(JANITOR_LOCK_CLASS, daemon id). */
#define JANITOR_LOCK_CLASS 21328
#define JANITOR_LOCK_CLASS_SQL "21328"

void janitor_run(struct app *app);
/* Blocking, at start-up: a new daemon id (0 on error). */
int64_t janitor_reserve_id(const char *conninfo, struct sbuf *err);
/*
 * The session connection's setup: take the liveness lock first, then record the daemon,
 * so no janitor ever sees this daemon's row without its lock; then LISTEN for work, and
 * tell every daemon to forget cached keys, since revocations notified while this
 * connection was down never reached it. Run again on every reconnect. The caller frees
 * the string.
 */
char *janitor_session_sql(int64_t id);

#endif
