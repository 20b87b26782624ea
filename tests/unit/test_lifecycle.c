/*
 * test_lifecycle.c: the three state machines of gateway/lifecycle.c: names round-trip,
 * every state can be reached from where things start, final states are final, receipts
 * only raise a text's rank, and every allowed move has a reason. With SIGNPOST_TEST_PG (a
 * migrated database: test_lifecycle.py) it also checks that PostgreSQL agrees: the names
 * its CHECK constraints allow, signpost_state_rank for each text state, and the table
 * state_transitions that `signpostd migrate` writes.
 */
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/lifecycle.h"
#include "tests/check.h"

/* Whether every state can be reached from start by allowed moves. */
static bool all_reachable(enum lifecycle_machine m, const int *start, size_t nstart)
{
	size_t n, nt;
	const char *const *names = lifecycle_states(m, &n);
	const struct lifecycle_transition *t = lifecycle_transitions(m, &nt);
	bool seen[32] = { false }, grew = true;

	for (size_t i = 0; i < nstart; i++)
		seen[start[i]] = true;
	while (grew) {
		grew = false;
		for (size_t i = 0; i < nt; i++) {
			if (seen[t[i].from] && !seen[t[i].to])
				seen[t[i].to] = grew = true;
		}
	}
	for (size_t s = 0; s < n; s++) {
		if (!seen[s])
			fprintf(stderr, "%s: %s cannot be reached\n", lifecycle_machine_str(m), names[s]);
	}
	for (size_t s = 0; s < n; s++)
		if (!seen[s])
			return false;
	return true;
}

static bool has_moves_from(enum lifecycle_machine m, int from)
{
	size_t nt;
	const struct lifecycle_transition *t = lifecycle_transitions(m, &nt);

	for (size_t i = 0; i < nt; i++)
		if (t[i].from == from)
			return true;
	return false;
}

TEST(names_round_trip)
{
	for (int s = 0; s < CAMPAIGN__COUNT; s++) {
		enum campaign_state back;
		CHECK(campaign_state_parse(campaign_state_str(s), &back) && (int)back == s);
	}
	for (int s = 0; s < HELP__COUNT; s++) {
		enum help_state back;
		CHECK(help_state_parse(help_state_str(s), &back) && (int)back == s);
	}
	enum campaign_state c;
	CHECK(!campaign_state_parse("Draft", &c));
	CHECK(!campaign_state_parse(NULL, &c));
	CHECK_STR(campaign_state_str(CAMPAIGN__COUNT), "invalid");
}

TEST(shapes)
{
	static const int msg_start[] = { MSG_QUEUED };
	static const int campaign_start[] = { CAMPAIGN_DRAFT };
	static const int help_start[] = { HELP_NEW };

	CHECK(all_reachable(LIFECYCLE_MESSAGE, msg_start, 1));
	CHECK(all_reachable(LIFECYCLE_CAMPAIGN, campaign_start, 1));
	CHECK(all_reachable(LIFECYCLE_HELP_REQUEST, help_start, 1));
	CHECK(!has_moves_from(LIFECYCLE_CAMPAIGN, CAMPAIGN_COMPLETED));
	CHECK(!has_moves_from(LIFECYCLE_CAMPAIGN, CAMPAIGN_CANCELLED));
	CHECK(!has_moves_from(LIFECYCLE_HELP_REQUEST, HELP_RESOLVED));
	CHECK(!has_moves_from(LIFECYCLE_HELP_REQUEST, HELP_CLOSED_NO_CONTACT));
	CHECK(!has_moves_from(LIFECYCLE_MESSAGE, MSG_DELIVERED));
	/* never resent without a person deciding: nothing leads from unknown back to sending */
	CHECK(lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_UNKNOWN, MSG_SENDING) == NULL);
	CHECK(lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_UNKNOWN, MSG_QUEUED) == NULL);
	CHECK(lifecycle_allowed(LIFECYCLE_CAMPAIGN, CAMPAIGN_COMPLETED, CAMPAIGN_RUNNING) == NULL);
	CHECK_STR(lifecycle_allowed(LIFECYCLE_CAMPAIGN, CAMPAIGN_DRAFT, CAMPAIGN_SCHEDULED),
		  "scheduled");
}

TEST(moves_are_unique_and_explained)
{
	for (int m = 0; m < LIFECYCLE__COUNT; m++) {
		size_t n, nt;
		(void)lifecycle_states(m, &n);
		const struct lifecycle_transition *t = lifecycle_transitions(m, &nt);
		CHECK(nt > 0);
		for (size_t i = 0; i < nt; i++) {
			CHECK(t[i].from != t[i].to);
			CHECK((size_t)t[i].from < n && (size_t)t[i].to < n);
			CHECK(t[i].reason && *t[i].reason);
			for (size_t j = i + 1; j < nt; j++)
				CHECK(t[i].from != t[j].from || t[i].to != t[j].to);
		}
	}
}

TEST(receipts_only_raise_a_texts_rank)
{
	size_t nt;
	const struct lifecycle_transition *t = lifecycle_transitions(LIFECYCLE_MESSAGE, &nt);

	for (size_t i = 0; i < nt; i++) {
		if (strcmp(t[i].reason, "delivery receipt") != 0)
			continue;
		CHECK(msg_state_rank(t[i].from) < msg_state_rank(t[i].to));
		CHECK(t[i].from != MSG_SENDING);
	}
	CHECK_STR(lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_ENROUTE, MSG_DELIVERED), "delivery receipt");
	CHECK(lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_DELIVERED, MSG_ENROUTE) == NULL);
	CHECK(lifecycle_allowed(LIFECYCLE_MESSAGE, MSG_SENDING, MSG_UNKNOWN) != NULL);
}

/* ---- what PostgreSQL says ---- */

static PGconn *pg;

static PGresult *query(PGconn *c, const char *sql, int n, const char *const *params)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fprintf(stderr, "query failed: %s", PQresultErrorMessage(r));
	return r;
}

/* The quoted names in a CHECK (state IN (...)) constraint's definition. */
static void check_names(const char *constraint, enum lifecycle_machine m)
{
	const char *params[] = { constraint };
	PGresult *r = query(pg, "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
			    "WHERE conname = $1", 1, params);
	size_t n, found = 0;
	const char *const *names = lifecycle_states(m, &n);
	const char *def = PQntuples(r) == 1 ? PQgetvalue(r, 0, 0) : "";

	for (const char *q = strchr(def, '\''); q; q = strchr(strchr(q + 1, '\'') + 1, '\'')) {
		size_t len = strcspn(q + 1, "'");
		bool known = false;
		for (size_t i = 0; i < n; i++)
			known = known || (strlen(names[i]) == len && !strncmp(names[i], q + 1, len));
		if (!known)
			fprintf(stderr, "%s allows '%.*s', which C does not know\n", constraint, (int)len,
				q + 1);
		CHECK(known);
		found++;
	}
	CHECK_INT(found, n);
	PQclear(r);
}

TEST(database_agrees)
{
	size_t n;
	const char *const *names = lifecycle_states(LIFECYCLE_MESSAGE, &n);

	check_names("messages_state_check", LIFECYCLE_MESSAGE);
	check_names("campaigns_state_check", LIFECYCLE_CAMPAIGN);
	check_names("help_requests_state_check", LIFECYCLE_HELP_REQUEST);
	for (size_t i = 0; i < n; i++) {
		const char *params[] = { names[i] };
		PGresult *r = query(pg, "SELECT signpost_state_rank($1)", 1, params);
		CHECK(PQntuples(r) == 1 && atoi(PQgetvalue(r, 0, 0)) == msg_state_rank((int)i));
		PQclear(r);
	}
	for (int m = 0; m < LIFECYCLE__COUNT; m++) {
		size_t nt;
		const char *const *states = lifecycle_states(m, &n);
		(void)lifecycle_transitions(m, &nt);
		const char *params[] = { lifecycle_machine_str(m) };
		PGresult *r = query(pg, "SELECT from_state, to_state, reason FROM state_transitions "
				    "WHERE machine = $1", 1, params);
		CHECK_INT(PQntuples(r), nt);
		for (int row = 0; row < PQntuples(r); row++) {
			int from = -1, to = -1;
			for (size_t s = 0; s < n; s++) {
				from = strcmp(states[s], PQgetvalue(r, row, 0)) ? from : (int)s;
				to = strcmp(states[s], PQgetvalue(r, row, 1)) ? to : (int)s;
			}
			const char *reason = lifecycle_allowed(m, from, to);
			CHECK(reason && strcmp(reason, PQgetvalue(r, row, 2)) == 0);
		}
		PQclear(r);
	}
}

int main(void)
{
	const char *conninfo = getenv("SIGNPOST_TEST_PG");

	RUN(names_round_trip);
	RUN(shapes);
	RUN(moves_are_unique_and_explained);
	RUN(receipts_only_raise_a_texts_rank);
	if (conninfo) {
		pg = PQconnectdb(conninfo);
		CHECK(PQstatus(pg) == CONNECTION_OK);
		if (PQstatus(pg) == CONNECTION_OK)
			RUN(database_agrees);
		PQfinish(pg);
	} else {
		printf("test_lifecycle: the database half needs SIGNPOST_TEST_PG; "
		       "test_lifecycle.py runs it\n");
	}
	return check_summary("test_lifecycle");
}
