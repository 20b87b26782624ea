/*
 * sched.h: the scheduler. Once a second (and whenever the database signals new work) it
 * starts campaigns whose time has come, expands their audience into messages in
 * set-based batches, tells dispatch which running campaigns are inside their send window,
 * and marks campaigns completed.
 */
#ifndef SIGNPOST_SCHED_H
#define SIGNPOST_SCHED_H

#include "gateway/app.h"

struct sched *sched_new(struct app *app);
void sched_free(struct sched *s);
/* Look for work now rather than at the next tick. */
void sched_poke(struct sched *s);
void sched_stop(struct sched *s);
/* No query of the scheduler's in flight. */
bool sched_idle(const struct sched *s);

#endif
