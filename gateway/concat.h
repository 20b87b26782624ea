/*
 * concat.h: reassembly of concatenated inbound texts that a provider delivers one
 * webhook per part (Vonage's concat-ref, concat-total, concat-part).
 *
 * Parts are stored in PostgreSQL (table inbound_parts, migration 0004) before the
 * webhook is answered, so a restart loses none. When the last part of a series arrives
 * the whole text, in part order, is handed on once under the provider id of its first
 * part; repeated parts change nothing (routing deduplicates by that id).
 */
#ifndef SIGNPOST_CONCAT_H
#define SIGNPOST_CONCAT_H

#include "gateway/api.h"
#include "providers/provider.h"

/*
 * Called once the part is stored: complete is true when sms now holds the whole text
 * (provider_id, text replaced, concat fields cleared), false when parts are still
 * missing. Not called on a database error: the webhook has been answered with 5xx.
 */
typedef void concat_cb(struct api_ctx *ctx, bool complete);

/* Stores the part sms (concat_total > 1) from the sender from (E.164). */
void concat_collect(struct api_ctx *ctx, const char *provider, const char *from,
		    struct sms_in *sms, concat_cb *done);

#endif
