/*
 * concat.h: reassembly of concatenated inbound texts that a provider delivers one
 * webhook per part (Vonage's concat-ref, concat-total, concat-part).
 *
 * Parts are stored in PostgreSQL (table inbound_parts, migration 0004) before the
 * webhook is answered, so a restart loses none. When the last part of a series arrives
 * the whole text, in part order, is handed on once under the provider id of its first
 * part; repeated parts change nothing (routing deduplicates by that id). The caller
 * answers the webhook: concatenation only says how storing the part went.
 */
#ifndef SIGNPOST_CONCAT_H
#define SIGNPOST_CONCAT_H

#include "infra/db.h"
#include "providers/provider.h"

enum concat_status {
	CONCAT_COMPLETE, /* the text is whole: provider_id and text */
	CONCAT_WAITING,  /* the part is stored; others are still missing */
	CONCAT_FAILED,   /* the part could not be stored: failed says why */
};

/* How storing a part went; borrowed for the callback. */
struct concat_result {
	enum concat_status status;
	const char *provider_id;        /* CONCAT_COMPLETE: the first part's id */
	const char *text;               /* CONCAT_COMPLETE: the whole text, in part order */
	const struct db_result *failed; /* CONCAT_FAILED: the statement's result */
};

typedef void concat_cb(const struct concat_result *res, void *arg);

/*
 * Stores part (concat_total > 1, checked by the caller: from in E.164, text UTF-8) of a
 * text from provider, recording its webhook's replay id (auth) in the same statement;
 * part stays borrowed until done runs, once.
 */
void concat_collect(struct db *db, const char *provider, const struct sms_in *part,
		    const struct verify_result *auth, concat_cb *done, void *arg);

#endif
