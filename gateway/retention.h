/*
 * retention.h: personal data is kept no longer than the configuration's "retention"
 * says (struct retention_cfg). The janitor starts a pass at start-up and then every
 * retention.every_seconds; a pass clears each kind of data in turn (bodies of texts,
 * closed conversations' answers, closed help requests' personal fields and then the
 * requests themselves, receipts, sign-in failures, ended sessions and invitations), one
 * statement of at most retention.batch_rows rows at a time, each its own transaction,
 * repeated while a batch comes back full. So a first pass over a large database holds no
 * lock for longer than one short batch. Several daemons may run passes at once: every
 * statement skips rows another holds and is safe to repeat.
 */
#ifndef SIGNPOST_RETENTION_H
#define SIGNPOST_RETENTION_H

#include "gateway/app.h"

struct retention *retention_new(struct app *app);
void retention_free(struct retention *r);
/* Starts a pass when one is due and none is under way. */
void retention_run(struct retention *r);
/* No statement of a pass in flight. */
bool retention_idle(const struct retention *r);

#endif
