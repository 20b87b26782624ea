/*
 * lifecycle.h: the three state machines (texts, campaigns, help requests), each written
 * down once, here, as a table of allowed transitions with the reason for each.
 *
 * The states live in PostgreSQL and change in SQL statements (a text changes state about
 * three times on its way, ten thousand times a second, so each change is part of the
 * statement that does the work). These tables are what those statements may do:
 * `signpostd migrate` copies them into the table state_transitions, where triggers refuse
 * any other change of a campaign or help request (schema/0013_lifecycle.sql), and where
 * the integration tests check every change of every text in every test. The unit test
 * test_lifecycle checks the tables against each other and, with a database, that the names
 * and text ranks here are PostgreSQL's.
 *
 * Transitions are logged at debug as "<machine> id=N from -> to reason=..." by
 * lifecycle_log, as OpenSMTPD's enter_state does.
 */
#ifndef SIGNPOST_LIFECYCLE_H
#define SIGNPOST_LIFECYCLE_H

#include "common/util.h"
#include "providers/provider.h"

enum lifecycle_machine {
	LIFECYCLE_MESSAGE,
	LIFECYCLE_CAMPAIGN,
	LIFECYCLE_HELP_REQUEST,
	LIFECYCLE__COUNT
};

enum campaign_state {
	CAMPAIGN_DRAFT,
	CAMPAIGN_SCHEDULED,
	CAMPAIGN_RUNNING,
	CAMPAIGN_PAUSED,
	CAMPAIGN_COMPLETED,
	CAMPAIGN_CANCELLED,
	CAMPAIGN__COUNT
};

enum help_state {
	HELP_NEW,
	HELP_ASSIGNED,
	HELP_ACCEPTED,
	HELP_CONTACTED,
	HELP_RESOLVED,
	HELP_CLOSED_NO_CONTACT,
	HELP__COUNT
};

const char *campaign_state_str(enum campaign_state s);
bool campaign_state_parse(const char *s, enum campaign_state *out) WUR;
const char *help_state_str(enum help_state s);
bool help_state_parse(const char *s, enum help_state *out) WUR;

/* One allowed change: states by their enum value in the machine's enum. */
struct lifecycle_transition {
	int from, to;
	const char *reason;
};

/* "message", "campaign", "help_request": the machine's name in logs and in SQL. */
const char *lifecycle_machine_str(enum lifecycle_machine m);
/* The machine's state names, in enum order, and how many. */
const char *const *lifecycle_states(enum lifecycle_machine m, size_t *n);
/* The machine's transitions, and how many. */
const struct lifecycle_transition *lifecycle_transitions(enum lifecycle_machine m, size_t *n);
/* The reason for moving from -> to, or NULL when the move is not allowed. */
const char *lifecycle_allowed(enum lifecycle_machine m, int from, int to);

/*
 * Writes every machine's transitions into state_transitions (blocking; `signpostd
 * migrate` and start-up run it after the migrations), replacing what was there.
 */
int lifecycle_store(const char *conninfo, struct sbuf *err) WUR;

/* The debug line for a change: "campaign id=7 draft -> scheduled reason=scheduled". */
void lifecycle_log(enum lifecycle_machine m, int64_t id, int from, int to);
/* The same for states given by name (as SQL returns them); unknown names are logged as is. */
void lifecycle_log_names(enum lifecycle_machine m, const char *id, const char *from,
			 const char *to);

#endif
