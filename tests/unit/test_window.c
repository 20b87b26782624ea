/*
 * test_window.c: send windows in Europe/London across clock changes and bank holidays.
 *
 * Expected instants are written in UTC and converted with timegm(), which does not use
 * the time zone, so the checks do not share code with what they check. In 2026 British
 * Summer Time starts on Sunday 29 March and ends on Sunday 25 October, at 01:00 UTC.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaigns/window.h"
#include "common/util.h"
#include "tests/check.h"

static struct holidays hol;

static time_t utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			.tm_min = mi};

	return timegm(&tm);
}

/* "2026-03-30 08:00" in UTC, for readable failures. */
static const char *fmt(time_t t)
{
	static char buf[4][32];
	static int k;
	struct tm tm;

	k = (k + 1) % 4;
	if (t == (time_t)-1)
		return "never";
	gmtime_r(&t, &tm);
	strftime(buf[k], sizeof(buf[k]), "%Y-%m-%d %H:%M:%S", &tm);
	return buf[k];
}

#define CHECK_T(actual, expected) CHECK_STR(fmt(actual), fmt(expected))

static struct send_window win(unsigned days, int start, int end, bool skip)
{
	struct send_window w = {.days = days, .start_min = start, .end_min = end,
				.skip_holidays = skip};
	return w;
}

TEST(defaults)
{
	struct send_window w;

	window_default(&w);
	CHECK_INT(w.days, 0x3f);
	CHECK_INT(w.start_min, 540);
	CHECK_INT(w.end_min, 1200);
	CHECK(w.skip_holidays);
}

TEST(open_and_close_in_summer_and_winter)
{
	struct send_window w;

	window_default(&w);
	/* Monday 30 March 2026, BST: 09:00-20:00 local is 08:00-19:00 UTC. */
	CHECK(!window_is_open(&w, &hol, utc(2026, 3, 30, 7, 59)));
	CHECK(window_is_open(&w, &hol, utc(2026, 3, 30, 8, 0)));
	CHECK(window_is_open(&w, &hol, utc(2026, 3, 30, 18, 59)));
	CHECK(window_is_open(&w, &hol, utc(2026, 3, 30, 19, 0) - 1));
	CHECK(!window_is_open(&w, &hol, utc(2026, 3, 30, 19, 0)));
	CHECK_T(window_next_close(&w, &hol, utc(2026, 3, 30, 10, 0)), utc(2026, 3, 30, 19, 0));
	CHECK_T(window_next_close(&w, &hol, utc(2026, 3, 30, 19, 30)), utc(2026, 3, 30, 19, 30));
	CHECK_T(window_next_open(&w, &hol, utc(2026, 3, 30, 10, 0)), utc(2026, 3, 30, 10, 0));
	/* Friday 27 March 2026, GMT: local is UTC. */
	CHECK(!window_is_open(&w, &hol, utc(2026, 3, 27, 8, 59)));
	CHECK(window_is_open(&w, &hol, utc(2026, 3, 27, 9, 0)));
	CHECK(window_is_open(&w, &hol, utc(2026, 3, 27, 19, 59)));
	CHECK(!window_is_open(&w, &hol, utc(2026, 3, 27, 20, 0)));
	/* Sunday is not in the default window. */
	CHECK(!window_is_open(&w, &hol, utc(2026, 3, 29, 12, 0)));
}

TEST(clock_changes)
{
	struct send_window w, all = win(0x7f, 540, 1200, true);

	window_default(&w);
	/* Saturday 28 March (GMT) evening to Monday 30 March (BST) morning. */
	CHECK_T(window_next_open(&w, &hol, utc(2026, 3, 28, 20, 0)), utc(2026, 3, 30, 8, 0));
	CHECK_T(window_next_open(&all, &hol, utc(2026, 3, 28, 20, 30)), utc(2026, 3, 29, 8, 0));
	CHECK_T(window_next_close(&all, &hol, utc(2026, 3, 29, 8, 0)), utc(2026, 3, 29, 19, 0));
	/* Saturday 24 October (BST) to Monday 26 October (GMT). */
	CHECK_T(window_next_open(&w, &hol, utc(2026, 10, 24, 19, 0)), utc(2026, 10, 26, 9, 0));
	CHECK_T(window_next_open(&all, &hol, utc(2026, 10, 24, 19, 0)), utc(2026, 10, 25, 9, 0));
	CHECK_T(window_next_close(&all, &hol, utc(2026, 10, 25, 9, 0)), utc(2026, 10, 25, 20, 0));
	/* Open time is counted in real seconds across the change. */
	CHECK_T(window_after_open_seconds(&w, &hol, utc(2026, 3, 28, 19, 30), 3600),
		utc(2026, 3, 30, 8, 30));
	CHECK_T(window_after_open_seconds(&w, &hol, utc(2026, 10, 24, 18, 0), 7200),
		utc(2026, 10, 26, 10, 0));
	CHECK_T(window_after_open_seconds(&all, &hol, utc(2026, 10, 24, 18, 0), 7200),
		utc(2026, 10, 25, 10, 0));
}

TEST(windows_inside_the_changing_hour)
{
	struct send_window w = win(0x7f, 90, 180, false); /* 01:30-03:00 every day */
	struct send_window day = win(0x40, 0, 1440, false); /* Sundays, all day */

	/* 29 March: 01:30 does not exist; the window opens when the clocks jump (01:00 UTC). */
	CHECK_T(window_next_open(&w, NULL, utc(2026, 3, 28, 12, 0)), utc(2026, 3, 29, 1, 0));
	CHECK(!window_is_open(&w, NULL, utc(2026, 3, 29, 0, 59)));
	CHECK(window_is_open(&w, NULL, utc(2026, 3, 29, 1, 0)));
	CHECK_T(window_next_close(&w, NULL, utc(2026, 3, 29, 1, 0)), utc(2026, 3, 29, 2, 0));
	/* 25 October: 01:30 happens twice; the window opens at the first and runs 2.5 hours. */
	CHECK_T(window_next_open(&w, NULL, utc(2026, 10, 24, 12, 0)), utc(2026, 10, 25, 0, 30));
	CHECK(window_is_open(&w, NULL, utc(2026, 10, 25, 1, 10)));
	CHECK_T(window_next_close(&w, NULL, utc(2026, 10, 25, 0, 30)), utc(2026, 10, 25, 3, 0));
	/* A whole day is 23 hours in March and 25 in October. */
	CHECK_T(window_next_close(&day, NULL, utc(2026, 3, 29, 0, 0)), utc(2026, 3, 29, 23, 0));
	CHECK_T(window_next_close(&day, NULL, utc(2026, 10, 24, 23, 0)), utc(2026, 10, 26, 0, 0));
	CHECK_T(window_after_open_seconds(&day, NULL, utc(2026, 3, 29, 0, 0), 23 * 3600 - 1),
		utc(2026, 3, 29, 23, 0) - 1);
	/* Exactly used up: the result is the next instant inside the window. */
	CHECK_T(window_after_open_seconds(&day, NULL, utc(2026, 3, 29, 0, 0), 23 * 3600),
		utc(2026, 4, 4, 23, 0));
}

TEST(bank_holidays)
{
	struct send_window w, any_day = win(0x7f, 540, 1200, false);

	window_default(&w);
	CHECK_INT(hol.n, 32);
	/* Christmas 2026: Friday 25th, Saturday 26th is a normal Saturday, Monday 28th is the
	 * Boxing Day substitute. */
	CHECK(!window_is_open(&w, &hol, utc(2026, 12, 25, 12, 0)));
	CHECK(window_is_open(&w, &hol, utc(2026, 12, 26, 12, 0)));
	CHECK(!window_is_open(&w, &hol, utc(2026, 12, 28, 12, 0)));
	CHECK(window_is_open(&any_day, &hol, utc(2026, 12, 25, 12, 0)));
	CHECK_T(window_next_open(&w, &hol, utc(2026, 12, 24, 20, 0)), utc(2026, 12, 26, 9, 0));
	CHECK_T(window_next_open(&w, &hol, utc(2026, 12, 26, 20, 0)), utc(2026, 12, 29, 9, 0));
	CHECK_T(window_next_open(&w, NULL, utc(2026, 12, 24, 20, 0)), utc(2026, 12, 25, 9, 0));
	CHECK_T(window_after_open_seconds(&w, &hol, utc(2026, 12, 24, 19, 0), 2 * 3600),
		utc(2026, 12, 26, 10, 0));
	/* Easter 2026 (BST): Good Friday 3 April, Easter Monday 6 April. */
	CHECK_T(window_next_open(&w, &hol, utc(2026, 4, 2, 19, 0)), utc(2026, 4, 4, 8, 0));
	CHECK_T(window_next_open(&w, &hol, utc(2026, 4, 4, 19, 0)), utc(2026, 4, 7, 8, 0));
	CHECK_T(window_after_open_seconds(&w, &hol, utc(2026, 4, 2, 18, 0), 7200),
		utc(2026, 4, 4, 9, 0));
	/* New Year's Day 2027 is a Friday. */
	CHECK_T(window_next_open(&w, &hol, utc(2026, 12, 31, 20, 0)), utc(2027, 1, 2, 9, 0));
	/* An all-day, every-day window closes only for the next holiday (midnight BST). */
	struct send_window always = win(0x7f, 0, 1440, true);
	CHECK_T(window_next_close(&always, &hol, utc(2026, 3, 29, 12, 0)), utc(2026, 4, 2, 23, 0));
	always.skip_holidays = false;
	CHECK_T(window_next_close(&always, &hol, utc(2026, 3, 29, 12, 0)), (time_t)-1);
	CHECK_T(window_after_open_seconds(&always, &hol, utc(2026, 3, 29, 0, 0), 7200),
		utc(2026, 3, 29, 2, 0));
}

TEST(working_days)
{
	/* Friday 15:00 (GMT) plus two working days is Tuesday 15:00. */
	CHECK_T(window_working_days_later(&hol, utc(2026, 11, 27, 15, 0), 2),
		utc(2026, 12, 1, 15, 0));
	/* From a Saturday: Monday and Tuesday, so Wednesday 00:00 local. */
	CHECK_T(window_working_days_later(&hol, utc(2026, 11, 28, 10, 0), 2),
		utc(2026, 12, 2, 0, 0));
	/* Christmas Eve 2026: Friday 25th and Monday 28th are bank holidays. */
	CHECK_T(window_working_days_later(&hol, utc(2026, 12, 24, 10, 0), 2),
		utc(2026, 12, 30, 10, 0));
	CHECK_T(window_working_days_later(NULL, utc(2026, 12, 24, 10, 0), 2),
		utc(2026, 12, 28, 10, 0));
	/* Across Easter 2026 (BST): Good Friday 3 April and Easter Monday 6 April. */
	CHECK_T(window_working_days_later(&hol, utc(2026, 4, 2, 9, 0), 2),
		utc(2026, 4, 8, 9, 0));
}

TEST(never_open)
{
	struct send_window none = win(0, 540, 1200, true);

	CHECK(!window_is_open(&none, &hol, utc(2026, 6, 1, 12, 0)));
	CHECK_T(window_next_open(&none, &hol, utc(2026, 6, 1, 12, 0)), (time_t)-1);
	CHECK_T(window_after_open_seconds(&none, &hol, utc(2026, 6, 1, 12, 0), 60), (time_t)-1);
	CHECK_T(window_next_close(&none, &hol, utc(2026, 6, 1, 12, 0)), utc(2026, 6, 1, 12, 0));
}

/* Open by reading the local clock directly (right outside the hour the clocks change). */
static bool naive_open(const struct send_window *w, time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	int32_t ymd = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	int min = tm.tm_hour * 60 + tm.tm_min;
	bool holiday = false;
	for (size_t i = 0; i < hol.n; i++)
		holiday = holiday || hol.days[i] == ymd;
	return (w->days & (1u << ((tm.tm_wday + 6) % 7))) && !(w->skip_holidays && holiday) &&
	       w->start_min <= min && min < w->end_min;
}

/* Random windows and instants through 2026 and 2027, minute by minute. */
TEST(agrees_with_the_local_clock)
{
	unsigned seed = 12345;
	int bad = 0;

	for (int k = 0; k < 150 && bad < 5; k++) {
		seed = seed * 1103515245u + 12345u;
		int a = 2 + (int)(seed >> 8) % 22, b = 2 + (int)(seed >> 16) % 23;
		struct send_window w = win(1u + (seed >> 4) % 127, MIN(a, b) * 60 + 15,
					   (MAX(a, b) + 1) * 60 - 15 * (a == b), (seed >> 3) & 1);
		time_t t = utc(2026, 1, 1, 0, 0) + (time_t)((seed >> 2) % (730u * 24 * 60)) * 60;
		time_t open = window_next_open(&w, &hol, t);
		time_t close = window_next_close(&w, &hol, open);
		time_t step = t;
		for (; step < open; step += 60)
			bad += naive_open(&w, step);
		bad += !naive_open(&w, open) || !window_is_open(&w, &hol, open);
		for (step = open; step < close; step += 60)
			bad += !naive_open(&w, step) || !window_is_open(&w, &hol, step);
		bad += naive_open(&w, close) || window_is_open(&w, &hol, close);
		if (bad)
			fprintf(stderr, "window %x %d-%d from %s: open %s close %s\n", w.days,
				w.start_min, w.end_min, fmt(t), fmt(open), fmt(close));
	}
	CHECK_INT(bad, 0);
}

static struct sbuf err;

/* Parses json over the default window; "ok" or the message. */
static const char *parse(const char *json, struct send_window *w)
{
	struct json_object *o = json_tokener_parse(json);

	window_default(w);
	sbuf_reset(&err);
	int rc = window_from_json(o, w, &err);
	json_object_put(o);
	return rc == 0 ? "ok" : sbuf_str(&err);
}

TEST(from_json)
{
	struct send_window w;

	CHECK_STR(parse("{}", &w), "ok");
	CHECK_INT(w.days, 0x3f);
	CHECK_STR(parse("{\"days\": [\"mon\", \"Wed\", \"SUNDAY\"], \"start\": \"9:30\", "
			"\"end\": \"17:45\"}", &w), "ok");
	CHECK_INT(w.days, 0x45);
	CHECK_INT(w.start_min, 570);
	CHECK_INT(w.end_min, 1065);
	CHECK(w.skip_holidays);
	CHECK_STR(parse("{\"start\": \"00:00\", \"end\": \"24:00\", \"skip_holidays\": false}", &w),
		  "ok");
	CHECK_INT(w.end_min, 1440);
	CHECK(!w.skip_holidays);

	CHECK_STR(parse("{\"start\": \"9am\"}", &w),
		  "send_window.start: \"9am\" is not a time; write it as \"HH:MM\" on the 24-hour "
		  "clock, for example \"09:00\" or \"20:00\"");
	CHECK_INT(w.start_min, 540); /* unchanged on error */
	CHECK_STR(parse("{\"end\": 20}", &w),
		  "send_window.end: 20 is not a time; write it as \"HH:MM\" on the 24-hour clock, "
		  "for example \"09:00\" or \"20:00\"");
	CHECK(str_startswith(parse("{\"end\": \"24:01\"}", &w), "send_window.end: \"24:01\""));
	CHECK(str_startswith(parse("{\"end\": \"12:60\"}", &w), "send_window.end: "));
	CHECK(str_startswith(parse("{\"start\": \"0900\"}", &w), "send_window.start: "));
	CHECK(str_startswith(parse("{\"start\": \"123:00\"}", &w), "send_window.start: "));
	CHECK_STR(parse("{\"start\": \"21:00\"}", &w),
		  "send_window.end: must be later than send_window.start (21:00); a window "
		  "cannot run past midnight");
	CHECK_STR(parse("{\"start\": \"10:00\", \"end\": \"10:00\"}", &w),
		  "send_window.end: must be later than send_window.start (10:00); a window "
		  "cannot run past midnight");
	CHECK_STR(parse("{\"days\": []}", &w),
		  "send_window.days: must be a non-empty list of days, for example "
		  "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]");
	CHECK_STR(parse("{\"days\": \"mon\"}", &w),
		  "send_window.days: must be a non-empty list of days, for example "
		  "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]");
	CHECK_STR(parse("{\"days\": [\"mon\", \"thurs\"]}", &w),
		  "send_window.days[1]: \"thurs\" is not a day; use mon, tue, wed, thu, fri, sat "
		  "or sun");
	CHECK_STR(parse("{\"skip_holidays\": \"yes\"}", &w),
		  "send_window.skip_holidays: must be true or false");
	CHECK_STR(parse("{\"stat\": \"09:00\"}", &w),
		  "send_window: unknown key \"stat\", did you mean \"start\"? (the keys are days, "
		  "start, end and skip_holidays)");
	CHECK(str_startswith(parse("[1]", &w), "send_window: must be an object"));
}

TEST(to_json)
{
	struct send_window w = win(0x41, 570, 1440, false), back;
	struct json_object *o = window_to_json(&w);

	CHECK_STR(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		  "{\"days\":[\"mon\",\"sun\"],\"start\":\"09:30\",\"end\":\"24:00\","
		  "\"skip_holidays\":false}");
	window_default(&back);
	sbuf_reset(&err);
	CHECK_INT(window_from_json(o, &back, &err), 0);
	CHECK_INT(back.days, w.days);
	CHECK_INT(back.start_min, w.start_min);
	CHECK_INT(back.end_min, w.end_min);
	CHECK_INT(back.skip_holidays, w.skip_holidays);
	json_object_put(o);
}

static const char *hol_parse(const char *json, struct holidays *h)
{
	struct json_object *o = json_tokener_parse(json);

	sbuf_reset(&err);
	int rc = holidays_from_json(o, h, &err);
	json_object_put(o);
	return rc == 0 ? "ok" : sbuf_str(&err);
}

TEST(holidays_json)
{
	struct holidays h;

	CHECK_STR(hol_parse("{\"events\": [{\"date\": \"2026-12-28\"}, {\"date\": \"2026-12-25\"},"
			    "{\"date\": \"2026-12-25\"}]}", &h), "ok");
	CHECK_INT(h.n, 2);
	CHECK_INT(h.days[0], 20261225);
	CHECK_INT(h.days[1], 20261228);
	holidays_free(&h);
	CHECK(h.days == NULL && h.n == 0);
	holidays_free(&h);
	holidays_free(NULL);
	CHECK_STR(hol_parse("{\"events\": [{\"date\": \"2026-02-29\"}]}", &h),
		  "events[0].date: \"2026-02-29\" is not a date; write it as \"YYYY-MM-DD\"");
	CHECK(h.days == NULL && h.n == 0);
	CHECK_STR(hol_parse("{\"events\": [{\"date\": \"2028-02-29\"}, {\"title\": \"x\"}]}", &h),
		  "events[1].date: missing or not a string is not a date; write it as "
		  "\"YYYY-MM-DD\"");
	CHECK(str_startswith(hol_parse("{\"events\": [{\"date\": \"2026-1-01\"}]}", &h),
			     "events[0].date:"));
	CHECK(str_startswith(hol_parse("{\"events\": [{\"date\": \" 026-01-01\"}]}", &h),
			     "events[0].date:"));
	CHECK(str_startswith(hol_parse("{}", &h), "events: missing"));
}

static int load_holidays(void)
{
	struct json_object *o = json_object_from_file("data/bank-holidays-england-and-wales.json");
	int rc = -1;

	sbuf_reset(&err);
	if (o && holidays_from_json(o, &hol, &err) == 0)
		rc = 0;
	else
		fprintf(stderr, "test_window: cannot load bank holidays (run from the repository "
			"root): %s\n", sbuf_str(&err));
	json_object_put(o);
	return rc;
}

int main(void)
{
	sbuf_init(&err);
	window_tz_init();
	if (load_holidays() < 0)
		return 1;
	RUN(defaults);
	RUN(open_and_close_in_summer_and_winter);
	RUN(clock_changes);
	RUN(windows_inside_the_changing_hour);
	RUN(bank_holidays);
	RUN(working_days);
	RUN(never_open);
	RUN(agrees_with_the_local_clock);
	RUN(from_json);
	RUN(to_json);
	RUN(holidays_json);
	holidays_free(&hol);
	sbuf_free(&err);
	return check_summary("window");
}
