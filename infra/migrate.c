#include "infra/migrate.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/db.h"
#include "infra/log.h"


const char migrate_version_sql[] =
	"SELECT coalesce((SELECT max(version) FROM schema_migrations), 0)";

int migrate_latest(void)
{
	return migrations_count ? migrations[migrations_count - 1].version : 0;
}

static int migrate_exec(PGconn *pg, const char *sql, int nparams, const char *const *params,
			PGresult **out, struct sbuf *err)
{
	PGresult *r = PQexecParams(pg, sql, nparams, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		sbuf_printf(err, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

static int migrate_one(PGconn *pg, const struct migration *m, bool *applied, struct sbuf *err)
{
	char version[16];
	const char *params[] = { version, m->name };
	PGresult *r = NULL;
	int rc = -1;

	snprintf(version, sizeof(version), "%d", m->version);
	*applied = false;
	if (migrate_exec(pg, "BEGIN", 0, NULL, NULL, err) < 0 ||
	    migrate_exec(pg, "SELECT pg_advisory_xact_lock(21328, 0)" /* 21328: "SP" */, 0, NULL, NULL, err) < 0 ||
	    migrate_exec(pg, "SELECT 1 FROM schema_migrations WHERE version = $1", 1, params, &r,
			 err) < 0)
		goto out;
	if (PQntuples(r) == 0) {
		PGresult *res = PQexec(pg, m->sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
			sbuf_printf(err, "migration %s failed: %s", m->name, PQresultErrorMessage(res));
			PQclear(res);
			goto out;
		}
		PQclear(res);
		if (migrate_exec(pg, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
				 2, params, NULL, err) < 0)
			goto out;
		*applied = true;
	}
	rc = migrate_exec(pg, "COMMIT", 0, NULL, NULL, err);
out:
	if (rc < 0)
		PQclear(PQexec(pg, "ROLLBACK"));
	PQclear(r);
	return rc;
}

/* Row-level security does not hold for a superuser or a role with BYPASSRLS: say so. */
static void migrate_check_role(PGconn *pg)
{
	PGresult *res = PQexec(pg, "SELECT current_user FROM pg_roles "
				   "WHERE rolname = current_user AND (rolsuper OR rolbypassrls)");

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		log_warn("db role=%s bypasses row-level security (a superuser or BYPASSRLS): "
			 "every statement sees every landlord's rows, so officers bound to a landlord "
			 "would too; connect as the database's owner, a role that is neither (README, "
			 "\"A consortium\")", PQgetvalue(res, 0, 0));
	PQclear(res);
}

int migrate_run(const char *conninfo, struct sbuf *err)
{
	PGconn *pg = db_connect_blocking(conninfo);
	int rc = -1;

	if (PQstatus(pg) != CONNECTION_OK) {
		sbuf_printf(err, "cannot connect to the database (SIGNPOST_DATABASE_URL): %s",
			    PQerrorMessage(pg));
		goto out;
	}
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	if (migrate_exec(pg, "CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, "
			 "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
			 0, NULL, NULL, err) < 0)
		goto out;
	for (size_t i = 0; i < migrations_count; i++) {
		bool applied;
		if (migrate_one(pg, &migrations[i], &applied, err) < 0)
			goto out;
		if (applied)
			log_info("migration applied name=%s", migrations[i].name);
	}
	migrate_check_role(pg);
	rc = 0;
out:
	PQfinish(pg);
	return rc;
}
