/*
 * replay.c: replay ids of signed webhooks, recorded once (see replay.h).
 */
#include "gateway/replay.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define REPLAY_CONSTRAINT "webhook_replays_pkey"

/* $1 provider, $2 replay id, $3 until (unix seconds) */
static const char replay_record_sql[] = "WITH " REPLAY_CTE("$1", "$2", "$3") " SELECT 1";

const char replay_purge_sql[] = "DELETE FROM webhook_replays WHERE expires_at < now()";

bool replay_has(const struct verify_result *v)
{
	return v->replay_id[0] != '\0';
}

void replay_params(const struct verify_result *v, struct replay_params *out)
{
	memset(out, 0, sizeof(*out));
	if (!replay_has(v))
		return;
	snprintf(out->until_buf, sizeof(out->until_buf), "%" PRId64, v->replay_until);
	out->id = v->replay_id;
	out->until = out->until_buf;
}

void replay_record(struct db *db, const char *provider, const struct verify_result *v,
		   db_cb *done, void *arg)
{
	struct replay_params p;

	replay_params(v, &p);
	const char *params[] = { provider, p.id, p.until };
	db_query(db, replay_record_sql, 3, params, done, arg);
}

bool replay_refused(const struct db_result *r)
{
	return r->error && db_is_unique_violation(r) &&
	       strcmp(r->constraint, REPLAY_CONSTRAINT) == 0;
}
