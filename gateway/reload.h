/*
 * reload.h: reading the configuration file again (SIGHUP) while the daemon runs.
 *
 * The new file must pass every start-up check, and what cannot change under a running
 * daemon must not have changed: the providers' names and types and their order, the
 * database pool's size, whether the simulator is on, and the HTTP limits. Everything else
 * is taken: each provider's settings (credentials, addresses, segments_per_second,
 * max_in_flight, timeouts, validity, price), the default provider, org_name, log_level,
 * session_idle_seconds, triage timings, staff_numbers, partner URL rules and retention.
 *
 * Nothing in flight is dropped: texts being sent keep their provider's slot (its settings
 * change under it, its old state stays alive), and what the old configuration owned is
 * kept until the daemon stops, so no request or callback is left holding freed memory.
 */
#ifndef SIGNPOST_RELOAD_H
#define SIGNPOST_RELOAD_H

#include "common/util.h"

struct app;

/* 0 when the new file is in force; -1 with the problems (one a line) in err, the old kept. */
int reload_config(struct app *app, struct sbuf *err) WUR;
/* Frees the configurations reloads replaced (at shutdown). */
void reload_free(struct app *app);

#endif
