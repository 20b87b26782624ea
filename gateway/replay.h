/*
 * replay.h: refusing a signed webhook that comes a second time.
 *
 * Where a provider signs an id for one request only (MessageBird's JWT jti, Standard
 * Webhooks' webhook-id), its adapter's verify reports it (struct verify_result) and the
 * core records it in webhook_replays (schema/0015_replays.sql) in the same statement
 * that stores what the webhook carried, or in a statement of its own when the webhook
 * stores nothing. A second request with the id breaks the table's unique key: its
 * statement fails, nothing of it is stored, and it is answered 403. A webhook whose
 * statement failed for any other reason left no record, so the provider's retry is
 * taken. The janitor deletes ids whose signatures would be refused as too old anyway.
 */
#ifndef SIGNPOST_REPLAY_H
#define SIGNPOST_REPLAY_H

#include "infra/db.h"
#include "providers/provider.h"

/*
 * A data-modifying CTE, named replay, that records the replay id of provider until (unix
 * seconds); each argument is a parameter reference such as "$1". A NULL id records
 * nothing. A data-modifying CTE always runs, so the statement fails on a repeat.
 */
#define REPLAY_CTE(provider, id, until)                                                     \
	"replay AS (INSERT INTO webhook_replays (provider, replay_id, expires_at) SELECT "  \
	provider ", " id ", to_timestamp(" until "::bigint) WHERE " id "::text IS NOT NULL)"

/* Deletes the ids past their time; for the janitor. */
extern const char replay_purge_sql[];

/* A verify result as statement parameters: both NULL when there is no replay id. */
struct replay_params {
	const char *id;
	const char *until;
	char until_buf[24];
};

void replay_params(const struct verify_result *v, struct replay_params *out);
bool replay_has(const struct verify_result *v);
/* Records v's replay id for provider in a statement of its own; done gets its result. */
void replay_record(struct db *db, const char *provider, const struct verify_result *v,
		   db_cb *done, void *arg);
/* True when r failed because its webhook's replay id was recorded before: a repeat. */
bool replay_refused(const struct db_result *r);

#endif
