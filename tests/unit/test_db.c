/*
 * test_db.c: the asynchronous PostgreSQL pool against a real server: grouped statements
 * share one transaction, and one failing statement in a group reaches only its caller.
 * Needs SIGNPOST_TEST_PG (a conninfo); without it, it says so and checks nothing, and
 * the integration suite runs it again with a database (test_db.py).
 */
#include <stdlib.h>

#include "infra/db.h"
#include "infra/log.h"
#include "tests/check.h"

#define TEST_DB_ROWS 40

struct test_db_run {
	struct event_base *base;
	struct db *db;
	int pending;
	int ok, failed, unique;
	char txids[TEST_DB_ROWS][32];
	int order[TEST_DB_ROWS + 1];
	int done;
};

struct test_db_call {
	struct test_db_run *run;
	int index;
};

static struct test_db_call test_db_calls[TEST_DB_ROWS + 1];

static void test_db_done(const struct db_result *r, void *arg)
{
	struct test_db_call *c = arg;
	struct test_db_run *run = c->run;

	run->order[run->done++] = c->index;
	if (r->error) {
		run->failed++;
		run->unique += db_is_unique_violation(r);
	} else {
		run->ok++;
		if (c->index < TEST_DB_ROWS && db_rows(r) == 1)
			snprintf(run->txids[c->index], sizeof(run->txids[0]), "%s", db_get(r, 0, 0));
	}
	if (--run->pending == 0)
		event_base_loopbreak(run->base);
}

static void test_db_wait(struct test_db_run *run)
{
	struct timeval limit = { 20, 0 };

	event_base_loopexit(run->base, &limit);
	event_base_dispatch(run->base);
}

static void test_db_plain(struct test_db_run *run, const char *sql)
{
	static struct test_db_call call;

	call = (struct test_db_call){ run, TEST_DB_ROWS };
	run->pending = 1;
	run->done = 0;
	db_query(run->db, sql, 0, NULL, test_db_done, &call);
	test_db_wait(run);
}

static const char test_db_insert_sql[] =
	"INSERT INTO test_db_rows (k) VALUES ($1::int) RETURNING txid_current()::text";

/* Queues rows 0..TEST_DB_ROWS-1 with key k = i, except row `dup`, which repeats key 7. */
static void test_db_insert_all(struct test_db_run *run, int dup)
{
	char key[16];

	run->ok = run->failed = run->unique = run->done = 0;
	memset(run->txids, 0, sizeof(run->txids));
	for (int i = 0; i < TEST_DB_ROWS; i++) {
		snprintf(key, sizeof(key), "%d", i == dup ? 7 : i);
		const char *params[] = { key };
		test_db_calls[i] = (struct test_db_call){ run, i };
		run->pending++;
		db_query_grouped(run->db, test_db_insert_sql, 1, params, test_db_done,
				 &test_db_calls[i]);
	}
	test_db_wait(run);
}

TEST(grouped_share_a_transaction)
{
	struct test_db_run run = { 0 };

	run.base = event_base_new();
	run.db = db_new(run.base, getenv("SIGNPOST_TEST_PG"), 1);
	test_db_plain(&run, "DROP TABLE IF EXISTS test_db_rows");
	test_db_plain(&run, "CREATE TABLE test_db_rows (k int PRIMARY KEY)");

	test_db_insert_all(&run, -1);
	CHECK_INT(run.ok, TEST_DB_ROWS);
	CHECK_INT(run.failed, 0);
	int distinct = 0;
	for (int i = 0; i < TEST_DB_ROWS; i++)
		distinct += i == 0 || strcmp(run.txids[i], run.txids[i - 1]) != 0;
	CHECK_INT(distinct, 1); /* one connection, all queued at once: one transaction */
	for (int i = 0; i < TEST_DB_ROWS; i++)
		CHECK_INT(run.order[i], i);

	/* A repeated key in the middle of a group: only that statement fails. */
	test_db_plain(&run, "TRUNCATE test_db_rows");
	test_db_insert_all(&run, 20);
	CHECK_INT(run.ok, TEST_DB_ROWS - 1);
	CHECK_INT(run.failed, 1);
	CHECK_INT(run.unique, 1);
	CHECK(run.txids[20][0] == '\0');
	CHECK(strcmp(run.txids[7], run.txids[21]) != 0); /* ran again, each alone */

	test_db_plain(&run, "DROP TABLE test_db_rows");
	db_free(run.db);
	event_base_free(run.base);
}

int main(void)
{
	if (!getenv("SIGNPOST_TEST_PG")) {
		printf("test_db: needs SIGNPOST_TEST_PG; runs in the integration suite\n");
		return 0;
	}
	log_set_level(LOG_WARN);
	RUN(grouped_share_a_transaction);
	return check_summary("test_db");
}
