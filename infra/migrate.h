/*
 * migrate.h: numbered SQL migrations from schema/, embedded in the binary at build time.
 */
#ifndef SIGNPOST_MIGRATE_H
#define SIGNPOST_MIGRATE_H

#include "common/util.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const size_t migrations_count;

/* The newest schema version this binary knows. */
int migrate_latest(void);
/*
 * Applies pending migrations in order, each in its own transaction under an advisory
 * lock, so several daemons starting at once apply each migration once. Blocking: call it
 * before the event loop runs. Logs what it applied.
 */
int migrate_run(const char *conninfo, struct sbuf *err) WUR;

/* SQL that yields one row with the current schema version (0 when none). */
extern const char migrate_version_sql[];

#endif
