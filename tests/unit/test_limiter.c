/*
 * test_limiter.c: events per key in fixed windows, on a clock the test moves by hand.
 */
#include <stdio.h>

#include "common/limiter.h"
#include "tests/check.h"

TEST(refused_after_the_limit_until_the_window_ends)
{
	struct limiter *l = limiter_new(64, 3, 60000);

	limiter_hit(l, "192.0.2.1", 1000);
	limiter_hit(l, "192.0.2.1", 2000);
	CHECK_INT(limiter_wait_ms(l, "192.0.2.1", 2000), 0);
	limiter_hit(l, "192.0.2.1", 3000);
	CHECK_INT(limiter_wait_ms(l, "192.0.2.1", 3000), 58000); /* the window opened at 1000 */
	CHECK_INT(limiter_wait_ms(l, "192.0.2.1", 60999), 1);
	CHECK_INT(limiter_wait_ms(l, "192.0.2.1", 61000), 0);
	limiter_hit(l, "192.0.2.1", 61000); /* a new window, counted from one */
	CHECK_INT(limiter_wait_ms(l, "192.0.2.1", 61000), 0);
	limiter_free(l);
}

TEST(keys_are_counted_apart)
{
	struct limiter *l = limiter_new(64, 2, 1000);

	limiter_hit(l, "192.0.2.1", 10);
	limiter_hit(l, "192.0.2.1", 10);
	limiter_hit(l, "2001:db8::1", 10);
	CHECK(limiter_wait_ms(l, "192.0.2.1", 20) > 0);
	CHECK_INT(limiter_wait_ms(l, "2001:db8::1", 20), 0);
	CHECK_INT(limiter_wait_ms(l, "192.0.2.2", 20), 0);
	limiter_free(l);
}

TEST(limit_zero_refuses_nothing)
{
	struct limiter *l = limiter_new(8, 0, 1000);

	for (int i = 0; i < 100; i++)
		limiter_hit(l, "192.0.2.1", 10);
	CHECK_INT(limiter_wait_ms(l, "192.0.2.1", 10), 0);
	limiter_free(l);
}

/* More keys than slots: the table stays its size and the newest windows are kept. */
TEST(a_full_table_makes_room)
{
	struct limiter *l = limiter_new(16, 1, 60000);
	char key[32];

	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "198.51.100.%d", i);
		limiter_hit(l, key, 1000 + i);
		CHECK(limiter_wait_ms(l, key, 1000 + i) > 0);
	}
	limiter_hit(l, "192.0.2.1", 20000);
	CHECK(limiter_wait_ms(l, "192.0.2.1", 20000) > 0);
	limiter_free(l);
}

TEST(long_keys_are_cut)
{
	struct limiter *l = limiter_new(64, 1, 1000);
	char a[80], b[80];

	snprintf(a, sizeof(a), "%047d-a", 0);
	snprintf(b, sizeof(b), "%047d-b", 0);
	limiter_hit(l, a, 10);
	CHECK(limiter_wait_ms(l, b, 10) > 0);
	limiter_free(l);
}

int main(void)
{
	RUN(refused_after_the_limit_until_the_window_ends);
	RUN(keys_are_counted_apart);
	RUN(limit_zero_refuses_nothing);
	RUN(a_full_table_makes_room);
	RUN(long_keys_are_cut);
	return check_summary("limiter");
}
