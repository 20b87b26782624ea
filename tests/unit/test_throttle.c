/*
 * test_throttle.c: token buckets, throttling and the circuit breaker, on a clock the test
 * moves by hand.
 */
#include "gateway/throttle.h"
#include "tests/check.h"

TEST(bucket_unlimited)
{
	struct throttle_bucket b;

	throttle_bucket_init(&b, 0, 0);
	CHECK_INT(throttle_bucket_available(&b, 0), INT32_MAX);
	throttle_bucket_take(&b, 1000, 0);
	CHECK_INT(throttle_bucket_available(&b, 0), INT32_MAX);
	CHECK_INT(throttle_bucket_wait_ms(&b, 0), 0);
}

TEST(bucket_rate_and_debt)
{
	struct throttle_bucket b;

	throttle_bucket_init(&b, 10, 1000);
	CHECK_INT(throttle_bucket_available(&b, 1000), 10); /* starts full: one second's worth */
	throttle_bucket_take(&b, 10, 1000);
	CHECK_INT(throttle_bucket_available(&b, 1000), 0);
	CHECK_INT(throttle_bucket_wait_ms(&b, 1000), 100);
	CHECK_INT(throttle_bucket_available(&b, 1100), 1);
	CHECK_INT(throttle_bucket_available(&b, 1550), 5);
	CHECK_INT(throttle_bucket_available(&b, 9000), 10); /* never above the burst */
	/* a long text puts the bucket into debt: 4 segments over the 10 held */
	throttle_bucket_take(&b, 14, 9000);
	CHECK_INT(throttle_bucket_available(&b, 9000), 0);
	CHECK_INT(throttle_bucket_wait_ms(&b, 9000), 500);
	CHECK_INT(throttle_bucket_available(&b, 9499), 0);
	CHECK_INT(throttle_bucket_available(&b, 9500), 1);
}

TEST(bucket_slow_rate)
{
	struct throttle_bucket b;

	/* 6 texts a minute: one every 10 s, burst of one */
	throttle_bucket_init(&b, 0.1, 0);
	CHECK_INT(throttle_bucket_available(&b, 0), 1);
	throttle_bucket_take(&b, 1, 0);
	CHECK_INT(throttle_bucket_wait_ms(&b, 0), 10000);
	CHECK_INT(throttle_bucket_available(&b, 9999), 0);
	CHECK_INT(throttle_bucket_available(&b, 10000), 1);
	CHECK_INT(throttle_bucket_available(&b, 60000), 1);
}

TEST(window_limits_budget)
{
	struct throttle f;

	throttle_init(&f, 0, 64, 0);
	CHECK_INT(throttle_budget(&f, 0, 0), 64);
	CHECK_INT(throttle_budget(&f, 60, 0), 4);
	CHECK_INT(throttle_budget(&f, 64, 0), 0);
	CHECK_INT(throttle_wait_ms(&f, 0), THROTTLE_NO_WAIT);
}

TEST(rate_limits_budget_and_segments_cost)
{
	struct throttle f;

	throttle_init(&f, 5, 64, 0);
	CHECK_INT(throttle_budget(&f, 0, 0), 5);
	throttle_claimed(&f, 2, 0);
	CHECK_INT(throttle_budget(&f, 2, 0), 3);
	throttle_segments(&f, 3, 0); /* a three-part text costs two more */
	CHECK_INT(throttle_budget(&f, 2, 0), 1);
	throttle_unclaimed(&f, 1, 0); /* claimed two, got one */
	CHECK_INT(throttle_budget(&f, 1, 0), 2);
	throttle_claimed(&f, 2, 0);
	CHECK_INT(throttle_budget(&f, 3, 0), 0);
	CHECK_INT(throttle_wait_ms(&f, 0), 200);
	CHECK_INT(throttle_budget(&f, 3, 200), 1);
}

TEST(throttle_pauses_and_halves)
{
	struct throttle f;

	throttle_init(&f, 100, 64, 0);
	CHECK(!throttle_result(&f, THROTTLE_THROTTLED, 3, 1000));
	CHECK_INT(throttle_budget(&f, 0, 1000), 0);
	CHECK_INT(throttle_wait_ms(&f, 1000), 3000);
	CHECK_INT(throttle_budget(&f, 0, 3999), 0);
	CHECK(throttle_budget(&f, 0, 4000) > 0);
	CHECK_INT((int)f.window, 32);
	CHECK(f.bucket.rate < 100 && f.bucket.rate >= 100.0 / 16);
	/* repeated throttling bottoms out, it never stops sending altogether */
	for (int i = 0; i < 20; i++)
		throttle_result(&f, THROTTLE_THROTTLED, 0, 5000);
	CHECK_INT((int)f.window, 1);
	CHECK(f.bucket.rate >= 100.0 / 16);
	CHECK_INT(throttle_wait_ms(&f, 5000), 1000); /* no Retry-After: pause a second */
	/* successes bring the window and the rate back */
	for (int i = 0; i < 5000; i++)
		throttle_result(&f, THROTTLE_OK, 0, 7000);
	CHECK_INT((int)f.window, 64);
	CHECK(f.bucket.rate == 100);
}

TEST(breaker_opens_probes_and_closes)
{
	struct throttle f;

	throttle_init(&f, 0, 64, 0);
	for (int i = 0; i < THROTTLE_BREAKER_THRESHOLD - 1; i++)
		CHECK(!throttle_result(&f, THROTTLE_FAILED, 0, 0));
	CHECK(!throttle_refusing(&f, 0));
	CHECK(throttle_result(&f, THROTTLE_FAILED, 0, 0));
	CHECK_STR(throttle_breaker_str(f.breaker), "open");
	CHECK(throttle_refusing(&f, 0));
	CHECK_INT(throttle_budget(&f, 0, 0), 0);
	CHECK_INT(throttle_wait_ms(&f, 0), THROTTLE_COOLDOWN_MIN_MS);
	/* cooled down: exactly one probe */
	CHECK(!throttle_refusing(&f, THROTTLE_COOLDOWN_MIN_MS));
	CHECK_STR(throttle_breaker_str(f.breaker), "half-open");
	CHECK_INT(throttle_budget(&f, 0, THROTTLE_COOLDOWN_MIN_MS), 1);
	throttle_claimed(&f, 1, THROTTLE_COOLDOWN_MIN_MS);
	CHECK(throttle_refusing(&f, THROTTLE_COOLDOWN_MIN_MS));
	CHECK_INT(throttle_budget(&f, 1, THROTTLE_COOLDOWN_MIN_MS), 0);
	/* the probe fails: open again, twice as long */
	int64_t t = THROTTLE_COOLDOWN_MIN_MS + 10;
	CHECK(throttle_result(&f, THROTTLE_FAILED, 0, t));
	CHECK_STR(throttle_breaker_str(f.breaker), "open");
	CHECK_INT(throttle_wait_ms(&f, t), 2 * THROTTLE_COOLDOWN_MIN_MS);
	t += 2 * THROTTLE_COOLDOWN_MIN_MS;
	CHECK_INT(throttle_budget(&f, 0, t), 1);
	throttle_claimed(&f, 1, t);
	/* the probe succeeds: closed, full budget */
	CHECK(throttle_result(&f, THROTTLE_OK, 0, t + 5));
	CHECK_STR(throttle_breaker_str(f.breaker), "closed");
	CHECK_INT(throttle_budget(&f, 0, t + 5), 64);
	CHECK_INT(f.cooldown_ms, THROTTLE_COOLDOWN_MIN_MS);
}

TEST(breaker_probe_slot_returned_when_nothing_claimed)
{
	struct throttle f;

	throttle_init(&f, 0, 64, 0);
	for (int i = 0; i < THROTTLE_BREAKER_THRESHOLD; i++)
		throttle_result(&f, THROTTLE_FAILED, 0, 0);
	int64_t t = THROTTLE_COOLDOWN_MIN_MS;
	CHECK_INT(throttle_budget(&f, 0, t), 1);
	throttle_claimed(&f, 1, t);
	throttle_unclaimed(&f, 1, t); /* nothing was due */
	CHECK_INT(throttle_budget(&f, 0, t), 1);
}

TEST(cooldown_is_capped)
{
	struct throttle f;
	int64_t t = 0;

	throttle_init(&f, 0, 64, 0);
	for (int i = 0; i < THROTTLE_BREAKER_THRESHOLD; i++)
		throttle_result(&f, THROTTLE_FAILED, 0, t);
	for (int i = 0; i < 12; i++) {
		t += f.cooldown_ms;
		CHECK(!throttle_refusing(&f, t));
		throttle_claimed(&f, 1, t);
		throttle_result(&f, THROTTLE_FAILED, 0, t);
	}
	CHECK_INT(f.cooldown_ms, THROTTLE_COOLDOWN_MAX_MS);
}

TEST(successes_reset_the_failure_count)
{
	struct throttle f;

	throttle_init(&f, 0, 64, 0);
	for (int round = 0; round < 10; round++) {
		for (int i = 0; i < THROTTLE_BREAKER_THRESHOLD - 1; i++)
			throttle_result(&f, THROTTLE_FAILED, 0, 0);
		throttle_result(&f, THROTTLE_OK, 0, 0);
	}
	CHECK_STR(throttle_breaker_str(f.breaker), "closed");
}

/* A reload changes the rate and the window cap; an open breaker stays open. */
TEST(configure_keeps_the_breaker)
{
	struct throttle f;

	throttle_init(&f, 5, 64, 0);
	for (int i = 0; i < THROTTLE_BREAKER_THRESHOLD; i++)
		throttle_result(&f, THROTTLE_FAILED, 0, 0);
	CHECK_STR(throttle_breaker_str(f.breaker), "open");
	throttle_configure(&f, 50, 8, 0);
	CHECK_STR(throttle_breaker_str(f.breaker), "open");
	CHECK(throttle_refusing(&f, 0));
	CHECK(f.rate == 50);
	CHECK_INT(f.max_window, 8);

	throttle_init(&f, 5, 64, 0);
	throttle_configure(&f, 50, 8, 0); /* the window was at its cap: the new cap */
	CHECK_INT(throttle_budget(&f, 0, 0), 5); /* the tokens it had ... */
	CHECK_INT(throttle_budget(&f, 0, 1000), 8); /* ... filling at the new rate */
	CHECK_INT(throttle_budget(&f, 6, 1000), 2);
	throttle_configure(&f, 0, 100, 0); /* no rate of ours, a larger cap */
	CHECK_INT(throttle_budget(&f, 0, 0), 100);
	CHECK_INT(throttle_wait_ms(&f, 0), THROTTLE_NO_WAIT);
}

int main(void)
{
	RUN(bucket_unlimited);
	RUN(bucket_rate_and_debt);
	RUN(bucket_slow_rate);
	RUN(window_limits_budget);
	RUN(rate_limits_budget_and_segments_cost);
	RUN(throttle_pauses_and_halves);
	RUN(breaker_opens_probes_and_closes);
	RUN(breaker_probe_slot_returned_when_nothing_claimed);
	RUN(cooldown_is_capped);
	RUN(successes_reset_the_failure_count);
	RUN(configure_keeps_the_breaker);
	return check_summary("throttle");
}
