#include "gateway/lifecycle.h"

#include <stdlib.h>
#include <string.h>

#include "infra/db.h"
#include "infra/log.h"

static const char *const campaign_state_names[CAMPAIGN__COUNT] = {
	[CAMPAIGN_DRAFT] = "draft",         [CAMPAIGN_SCHEDULED] = "scheduled",
	[CAMPAIGN_RUNNING] = "running",     [CAMPAIGN_PAUSED] = "paused",
	[CAMPAIGN_COMPLETED] = "completed", [CAMPAIGN_CANCELLED] = "cancelled",
};

static const char *const help_state_names[HELP__COUNT] = {
	[HELP_NEW] = "new",             [HELP_ASSIGNED] = "assigned",
	[HELP_ACCEPTED] = "accepted",   [HELP_CONTACTED] = "contacted",
	[HELP_RESOLVED] = "resolved",   [HELP_CLOSED_NO_CONTACT] = "closed_no_contact",
};

/* Filled from msg_state_str, which owns the names of text states (providers/provider.c). */
static const char *message_state_names[MSG__COUNT];

/*
 * A text: queued by expansion, a reply or a test send; claimed by one daemon; answered by
 * the provider (the answer may carry a delivery receipt that came first); then moved on
 * by receipts, which only ever raise its rank (msg_state_rank). Without an answer it is
 * unknown and never resent automatically.
 */
static const struct lifecycle_transition message_moves[] = {
	{ MSG_QUEUED, MSG_SENDING, "claimed" },
	{ MSG_RETRY, MSG_SENDING, "claimed" },
	{ MSG_QUEUED, MSG_SKIPPED, "opted out, suppressed, erased or without consent" },
	{ MSG_RETRY, MSG_SKIPPED, "opted out, suppressed, erased or without consent" },
	{ MSG_QUEUED, MSG_EXPIRED, "not sent within its validity" },
	{ MSG_RETRY, MSG_EXPIRED, "not sent within its validity" },
	{ MSG_QUEUED, MSG_CANCELLED, "campaign cancelled or tenant erased" },
	{ MSG_RETRY, MSG_CANCELLED, "campaign cancelled or tenant erased" },
	{ MSG_SENDING, MSG_UNKNOWN, "no answer from the provider, or the daemon stopped" },
	{ MSG_SENDING, MSG_RETRY, "temporary failure" },
	{ MSG_UNKNOWN, MSG_RETRY, "late answer: temporary failure" },
	{ MSG_SENDING, MSG_EXPIRED, "temporary failure past its validity" },
	{ MSG_SENDING, MSG_FAILED, "permanent failure" },
	{ MSG_SENDING, MSG_SUBMITTED, "accepted by the provider" },
	{ MSG_UNKNOWN, MSG_SUBMITTED, "late answer: accepted by the provider" },
	/* and every move a delivery receipt makes: see message_receipt_moves */
};

static const enum msg_state message_receipt_states[] = {
	MSG_SUBMITTED, MSG_ENROUTE, MSG_DELIVERED, MSG_UNDELIVERED, MSG_FAILED, MSG_REJECTED,
	MSG_EXPIRED, MSG_CANCELLED,
};

static const struct lifecycle_transition campaign_moves[] = {
	{ CAMPAIGN_DRAFT, CAMPAIGN_SCHEDULED, "scheduled" },
	{ CAMPAIGN_DRAFT, CAMPAIGN_CANCELLED, "cancelled" },
	{ CAMPAIGN_SCHEDULED, CAMPAIGN_RUNNING, "start time reached" },
	{ CAMPAIGN_SCHEDULED, CAMPAIGN_PAUSED, "paused" },
	{ CAMPAIGN_RUNNING, CAMPAIGN_PAUSED, "paused" },
	{ CAMPAIGN_PAUSED, CAMPAIGN_SCHEDULED, "resumed before it started" },
	{ CAMPAIGN_PAUSED, CAMPAIGN_RUNNING, "resumed" },
	{ CAMPAIGN_SCHEDULED, CAMPAIGN_CANCELLED, "cancelled" },
	{ CAMPAIGN_RUNNING, CAMPAIGN_CANCELLED, "cancelled" },
	{ CAMPAIGN_PAUSED, CAMPAIGN_CANCELLED, "cancelled" },
	{ CAMPAIGN_RUNNING, CAMPAIGN_COMPLETED, "every text handed over or finished" },
};

static const struct lifecycle_transition help_moves[] = {
	{ HELP_NEW, HELP_ASSIGNED, "matched to a partner" },
	{ HELP_NEW, HELP_ACCEPTED, "an officer took it on" },
	{ HELP_ASSIGNED, HELP_ACCEPTED, "accepted" },
	{ HELP_ASSIGNED, HELP_NEW, "declined" },
	{ HELP_ACCEPTED, HELP_NEW, "declined" },
	{ HELP_ACCEPTED, HELP_CONTACTED, "contacted" },
	{ HELP_ACCEPTED, HELP_RESOLVED, "resolved" },
	{ HELP_CONTACTED, HELP_RESOLVED, "resolved" },
	{ HELP_ACCEPTED, HELP_CLOSED_NO_CONTACT, "closed: no contact" },
	{ HELP_CONTACTED, HELP_CLOSED_NO_CONTACT, "closed: no contact" },
};

/* The text machine: its moves above, then a receipt's every rank-raising move. */
static struct lifecycle_transition message_all[MSG__COUNT * MSG__COUNT];
static size_t message_count;

static const struct lifecycle_transition *lifecycle_find(const struct lifecycle_transition *t,
							 size_t n, int from, int to)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].from == from && t[i].to == to)
			return &t[i];
	return NULL;
}

/*
 * A receipt moves a text that is not being sent to any state of higher rank, also when it
 * rides in the send result (a receipt that came before the answer).
 */
static void message_receipt_moves(void)
{
	for (int from = 0; from < MSG__COUNT; from++) {
		for (size_t i = 0; i < ARRAY_LEN(message_receipt_states); i++) {
			int to = (int)message_receipt_states[i];
			if (msg_state_rank(from) >= msg_state_rank(to) ||
			    lifecycle_find(message_all, message_count, from, to))
				continue;
			message_all[message_count++] = (struct lifecycle_transition){
				from, to, from == MSG_SENDING || from == MSG_UNKNOWN
						  ? "the provider's answer, or a receipt that came first"
						  : "delivery receipt" };
		}
	}
}

static void message_init(void)
{
	if (message_count)
		return;
	for (int s = 0; s < MSG__COUNT; s++)
		message_state_names[s] = msg_state_str((enum msg_state)s);
	memcpy(message_all, message_moves, sizeof(message_moves));
	message_count = ARRAY_LEN(message_moves);
	message_receipt_moves();
}

const char *lifecycle_machine_str(enum lifecycle_machine m)
{
	switch (m) {
	case LIFECYCLE_MESSAGE: return "message";
	case LIFECYCLE_CAMPAIGN: return "campaign";
	case LIFECYCLE_HELP_REQUEST: return "help_request";
	case LIFECYCLE__COUNT: break;
	}
	return "invalid";
}

const char *const *lifecycle_states(enum lifecycle_machine m, size_t *n)
{
	switch (m) {
	case LIFECYCLE_MESSAGE:
		message_init();
		*n = MSG__COUNT;
		return message_state_names;
	case LIFECYCLE_CAMPAIGN:
		*n = CAMPAIGN__COUNT;
		return campaign_state_names;
	case LIFECYCLE_HELP_REQUEST:
	case LIFECYCLE__COUNT:
		break;
	}
	*n = HELP__COUNT;
	return help_state_names;
}

const struct lifecycle_transition *lifecycle_transitions(enum lifecycle_machine m, size_t *n)
{
	switch (m) {
	case LIFECYCLE_MESSAGE:
		message_init();
		*n = message_count;
		return message_all;
	case LIFECYCLE_CAMPAIGN:
		*n = ARRAY_LEN(campaign_moves);
		return campaign_moves;
	case LIFECYCLE_HELP_REQUEST:
	case LIFECYCLE__COUNT:
		break;
	}
	*n = ARRAY_LEN(help_moves);
	return help_moves;
}

const char *lifecycle_allowed(enum lifecycle_machine m, int from, int to)
{
	size_t n;
	const struct lifecycle_transition *t = lifecycle_transitions(m, &n);
	const struct lifecycle_transition *hit = lifecycle_find(t, n, from, to);

	return hit ? hit->reason : NULL;
}

static bool lifecycle_parse(enum lifecycle_machine m, const char *s, int *out)
{
	size_t n;
	const char *const *names = lifecycle_states(m, &n);

	for (size_t i = 0; s && i < n; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (int)i;
			return true;
		}
	}
	return false;
}

const char *campaign_state_str(enum campaign_state s)
{
	return (unsigned)s < CAMPAIGN__COUNT ? campaign_state_names[s] : "invalid";
}

bool campaign_state_parse(const char *s, enum campaign_state *out)
{
	int v;
	bool ok = lifecycle_parse(LIFECYCLE_CAMPAIGN, s, &v);

	if (ok)
		*out = (enum campaign_state)v;
	return ok;
}

const char *help_state_str(enum help_state s)
{
	return (unsigned)s < HELP__COUNT ? help_state_names[s] : "invalid";
}

bool help_state_parse(const char *s, enum help_state *out)
{
	int v;
	bool ok = lifecycle_parse(LIFECYCLE_HELP_REQUEST, s, &v);

	if (ok)
		*out = (enum help_state)v;
	return ok;
}

void lifecycle_log(enum lifecycle_machine m, int64_t id, int from, int to)
{
	size_t n;
	const char *const *names;
	const char *reason;

	if (!log_enabled(LOG_DEBUG))
		return;
	names = lifecycle_states(m, &n);
	reason = lifecycle_allowed(m, from, to);
	log_debug("%s id=%lld %s -> %s reason=\"%s\"", lifecycle_machine_str(m), (long long)id,
		  (size_t)from < n ? names[from] : "?", (size_t)to < n ? names[to] : "?",
		  reason ? reason : "not an allowed move");
}

void lifecycle_log_names(enum lifecycle_machine m, const char *id, const char *from,
			 const char *to)
{
	int f, t;

	if (!log_enabled(LOG_DEBUG))
		return;
	if (lifecycle_parse(m, from, &f) && lifecycle_parse(m, to, &t))
		lifecycle_log(m, id ? atoll(id) : 0, f, t);
	else
		log_debug("%s id=%s %s -> %s", lifecycle_machine_str(m), id ? id : "?",
			  from ? from : "?", to ? to : "?");
}

int lifecycle_store(const char *conninfo, struct sbuf *err)
{
	struct sbuf cols[4];
	char state[6];
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(cols); i++)
		sbuf_init(&cols[i]);
	for (int m = 0; m < LIFECYCLE__COUNT; m++) {
		size_t n, nt;
		const char *const *names = lifecycle_states(m, &n);
		const struct lifecycle_transition *t = lifecycle_transitions(m, &nt);
		const char *machine = lifecycle_machine_str(m);
		for (size_t i = 0; i < nt; i++) {
			db_array_add(&cols[0], machine, strlen(machine));
			db_array_add(&cols[1], names[t[i].from], strlen(names[t[i].from]));
			db_array_add(&cols[2], names[t[i].to], strlen(names[t[i].to]));
			db_array_add(&cols[3], t[i].reason, strlen(t[i].reason));
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(cols); i++)
		db_array_end(&cols[i]);
	const char *params[] = { cols[0].data, cols[1].data, cols[2].data, cols[3].data };
	rc = db_exec_blocking(conninfo,
			      "WITH t AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], "
			      "  $4::text[]) AS t(machine, from_state, to_state, reason)), "
			      "gone AS (DELETE FROM state_transitions s WHERE NOT EXISTS (SELECT 1 "
			      "  FROM t WHERE (t.machine, t.from_state, t.to_state) = "
			      "  (s.machine, s.from_state, s.to_state))) "
			      "INSERT INTO state_transitions SELECT * FROM t "
			      "ON CONFLICT (machine, from_state, to_state) "
			      "DO UPDATE SET reason = EXCLUDED.reason", 4, params, err, state);
	for (size_t i = 0; i < ARRAY_LEN(cols); i++)
		sbuf_free(&cols[i]);
	return rc < 0 ? -1 : 0;
}
