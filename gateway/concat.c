/*
 * concat.c: concatenated inbound texts, reassembled in PostgreSQL (see concat.h and
 * schema/0004_inbound_parts.sql).
 */
#include "gateway/concat.h"

#include <stdio.h>
#include <stdlib.h>

#include "gateway/log.h"

static const char concat_part_sql[] =
	"SELECT message_id, body FROM signpost_inbound_part($1, $2, $3, $4, $5, $6::int, "
	"$7::int, $8)";

struct concat_job {
	struct api_ctx *ctx;
	struct sms_in *sms;
	concat_cb *done;
};

static void concat_stored(const struct db_result *r, void *arg)
{
	struct concat_job *job = arg;
	struct api_ctx *ctx = job->ctx;
	struct sms_in *sms = job->sms;
	concat_cb *done = job->done;

	free(job);
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_rows(r) == 0 || !db_get(r, 0, 0)) {
		log_debug("inbound part stored ref=%s part=%d/%d", sms->concat_ref,
			  sms->concat_part, sms->concat_total);
		done(ctx, false);
		return;
	}
	provider_copy(sms->provider_id, sizeof(sms->provider_id), db_get(r, 0, 0));
	sbuf_reset(&sms->text);
	sbuf_adds(&sms->text, db_get(r, 0, 1) ? db_get(r, 0, 1) : "");
	log_debug("inbound parts complete ref=%s parts=%d id=%s", sms->concat_ref,
		  sms->concat_total, sms->provider_id);
	sms->concat_ref[0] = '\0';
	sms->concat_total = sms->concat_part = 0;
	done(ctx, true);
}

void concat_collect(struct api_ctx *ctx, const char *provider, const char *from,
		    struct sms_in *sms, concat_cb *done)
{
	struct concat_job *job = xcalloc(1, sizeof(*job));
	char total[16], part[16];

	job->ctx = ctx;
	job->sms = sms;
	job->done = done;
	snprintf(total, sizeof(total), "%d", sms->concat_total);
	snprintf(part, sizeof(part), "%d", sms->concat_part);
	const char *params[] = { provider, sms->provider_id, from, sms->to, sms->concat_ref,
				 total, part, sbuf_str(&sms->text) };
	db_query(ctx->app->db, concat_part_sql, 8, params, concat_stored, job);
}
