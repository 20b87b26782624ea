/*
 * concat.c: concatenated inbound texts, reassembled in PostgreSQL (see concat.h and
 * schema/0004_inbound_parts.sql).
 */
#include "gateway/concat.h"

#include <stdio.h>
#include <stdlib.h>

#include "gateway/replay.h"
#include "infra/log.h"

/* $9 and $10: the webhook's replay id and until when to keep it (NULL: none) */
static const char concat_part_sql[] =
	"WITH " REPLAY_CTE("$1", "$9", "$10") " "
	"SELECT message_id, body FROM signpost_inbound_part($1, $2, $3, $4, $5, $6::int, "
	"$7::int, $8)";

/* Columns of concat_part_sql: a row only when the text is whole. */
enum {
	CONCAT_COL_ID,
	CONCAT_COL_TEXT,
};

struct concat_job {
	const struct sms_in *part;
	concat_cb *done;
	void *arg;
};

static void concat_stored(const struct db_result *r, void *arg)
{
	struct concat_job job = *(struct concat_job *)arg;
	const struct sms_in *part = job.part;
	struct concat_result res = { .status = CONCAT_FAILED, .failed = r };

	free(arg);
	if (!r->error && (db_rows(r) == 0 || !db_get(r, 0, CONCAT_COL_ID))) {
		log_debug("inbound part stored ref=%s part=%d/%d", part->concat_ref,
			  part->concat_part, part->concat_total);
		res = (struct concat_result){ .status = CONCAT_WAITING };
	} else if (!r->error) {
		const char *text = db_get(r, 0, CONCAT_COL_TEXT);
		res = (struct concat_result){ .status = CONCAT_COMPLETE,
					      .provider_id = db_get(r, 0, CONCAT_COL_ID),
					      .text = text ? text : "" };
		log_debug("inbound parts complete ref=%s parts=%d id=%s", part->concat_ref,
			  part->concat_total, res.provider_id);
	}
	job.done(&res, job.arg);
}

void concat_collect(struct db *db, const char *provider, const struct sms_in *part,
		    const struct verify_result *auth, concat_cb *done, void *arg)
{
	struct concat_job *job = xcalloc(1, sizeof(*job));
	struct replay_params rp;
	char total[16], part_no[16];

	*job = (struct concat_job){ part, done, arg };
	snprintf(total, sizeof(total), "%d", part->concat_total);
	snprintf(part_no, sizeof(part_no), "%d", part->concat_part);
	replay_params(auth, &rp);
	const char *params[] = { provider, part->provider_id, part->from, part->to,
				 part->concat_ref, total, part_no, sbuf_str(&part->text), rp.id,
				 rp.until };
	db_query(db, concat_part_sql, 10, params, concat_stored, job);
}
