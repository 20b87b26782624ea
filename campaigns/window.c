#include "campaigns/window.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/keys.h"

#define WINDOW_DAY_MINUTES 1440
#define WINDOW_ALL_DAYS 0x7fu
/* How far ahead to look for an opening: a year, plus slack for holidays. */
#define WINDOW_SEARCH_DAYS 400

static const char *const window_day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* A calendar date in Europe/London. */
struct window_date {
	int year, month, mday; /* month 1-12 */
};

void window_tz_init(void)
{
	setenv("TZ", "Europe/London", 1);
	tzset();
}

void window_default(struct send_window *w)
{
	w->days = 0x3f; /* Monday to Saturday */
	w->start_min = 9 * 60;
	w->end_min = 20 * 60;
	w->skip_holidays = true;
}

/* Parses "HH:MM" or "H:MM" (24-hour clock, "24:00" allowed as the end of the day). */
static bool window_parse_hhmm(const char *s, int *out)
{
	size_t hl = strspn(s, "0123456789");
	int h, m;

	if (hl < 1 || hl > 2 || s[hl] != ':' || strspn(s + hl + 1, "0123456789") != 2 ||
	    s[hl + 3] != '\0')
		return false;
	h = atoi(s);
	m = atoi(s + hl + 1);
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*out = h * 60 + m;
	return true;
}

static WUR int window_parse_time(struct json_object *v, const char *key, int *out, struct sbuf *err)
{
	const char *s = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;

	if (s && window_parse_hhmm(s, out))
		return 0;
	sbuf_printf(err, "send_window.%s: %s%s%s is not a time; write it as \"HH:MM\" on the "
		    "24-hour clock, for example \"09:00\" or \"20:00\"", key, s ? "\"" : "",
		    s ? s : json_object_to_json_string(v), s ? "\"" : "");
	return -1;
}

/* "mon" or "monday", in any case. */
static int window_day_index(const char *s)
{
	static const char *const full[7] = {"monday", "tuesday", "wednesday", "thursday",
					    "friday", "saturday", "sunday"};

	for (int i = 0; i < 7; i++)
		if (strcasecmp(s, window_day_names[i]) == 0 || strcasecmp(s, full[i]) == 0)
			return i;
	return -1;
}

static WUR int window_parse_days(struct json_object *v, unsigned *days, struct sbuf *err)
{
	size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
	unsigned bits = 0;
	int rc = -1;

	if (n == 0) {
		sbuf_adds(err, "send_window.days: must be a non-empty list of days, for example "
			  "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *d = json_object_array_get_idx(v, i);
		const char *s = json_object_is_type(d, json_type_string) ? json_object_get_string(d)
									 : "";
		int idx = window_day_index(s);
		if (idx < 0) {
			sbuf_printf(err, "send_window.days[%zu]: %s is not a day; use mon, tue, wed, "
				    "thu, fri, sat or sun", i, json_object_to_json_string(d));
			goto out;
		}
		bits |= 1u << idx;
	}
	*days = bits;
	rc = 0;
out:
	return rc;
}

static const char *const window_keys[] = { "days", "start", "end", "skip_holidays" };

static WUR int window_parse_key(const char *key, struct json_object *v, struct send_window *w,
			    struct sbuf *err)
{
	if (strcmp(key, "days") == 0)
		return window_parse_days(v, &w->days, err);
	if (strcmp(key, "start") == 0)
		return window_parse_time(v, key, &w->start_min, err);
	if (strcmp(key, "end") == 0)
		return window_parse_time(v, key, &w->end_min, err);
	if (strcmp(key, "skip_holidays") == 0) {
		if (json_object_is_type(v, json_type_boolean)) {
			w->skip_holidays = json_object_get_boolean(v);
			return 0;
		}
		sbuf_adds(err, "send_window.skip_holidays: must be true or false");
		return -1;
	}
	keys_error(err, "send_window", key, window_keys, ARRAY_LEN(window_keys), NULL);
	return -1;
}

int window_from_json(struct json_object *obj, struct send_window *w, struct sbuf *err)
{
	struct send_window nw = *w;
	int rc = -1;

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "send_window: must be an object such as {\"days\": [\"mon\", \"tue\"], "
			  "\"start\": \"09:00\", \"end\": \"20:00\"}");
		goto out;
	}
	json_object_object_foreach(obj, key, val) {
		if (window_parse_key(key, val, &nw, err) < 0)
			goto out;
	}
	if (nw.start_min >= nw.end_min || nw.start_min >= WINDOW_DAY_MINUTES) {
		sbuf_printf(err, "send_window.end: must be later than send_window.start "
			    "(%02d:%02d); a window cannot run past midnight",
			    nw.start_min / 60, nw.start_min % 60);
		goto out;
	}
	*w = nw;
	rc = 0;
out:
	return rc;
}

static struct json_object *window_time_json(int min)
{
	char buf[8];

	snprintf(buf, sizeof(buf), "%02d:%02d", (min / 60) % 100, min % 60);
	return json_object_new_string(buf);
}

struct json_object *window_to_json(const struct send_window *w)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *days = json_object_new_array();

	for (int i = 0; i < 7; i++)
		if (w->days & (1u << i))
			json_object_array_add(days, json_object_new_string(window_day_names[i]));
	json_object_object_add(obj, "days", days);
	json_object_object_add(obj, "start", window_time_json(w->start_min));
	json_object_object_add(obj, "end", window_time_json(w->end_min));
	json_object_object_add(obj, "skip_holidays", json_object_new_boolean(w->skip_holidays));
	return obj;
}

static bool window_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int window_month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && window_leap(y) ? 29 : days[m - 1];
}

/* Parses "YYYY-MM-DD" into yyyymmdd. */
static bool window_parse_date(const char *s, int32_t *out)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || strspn(s, "0123456789") != 4 ||
	    strspn(s + 5, "0123456789") != 2 || strspn(s + 8, "0123456789") != 2)
		return false;
	y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > window_month_days(y, m))
		return false;
	*out = y * 10000 + m * 100 + d;
	return true;
}

static int window_cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return (x > y) - (x < y);
}

/* Reads one "events"[i] entry. */
static WUR int holidays_event(struct json_object *ev, size_t i, int32_t *out, struct sbuf *err)
{
	struct json_object *date = NULL;
	const char *s = NULL;

	if (json_object_object_get_ex(ev, "date", &date) &&
	    json_object_is_type(date, json_type_string))
		s = json_object_get_string(date);
	if (s && window_parse_date(s, out))
		return 0;
	sbuf_printf(err, "events[%zu].date: %s%s%s is not a date; write it as \"YYYY-MM-DD\"", i,
		    s ? "\"" : "", s ? s : "missing or not a string", s ? "\"" : "");
	return -1;
}

int holidays_from_json(struct json_object *obj, struct holidays *h, struct sbuf *err)
{
	struct json_object *events = NULL;
	int rc = -1;

	h->days = NULL;
	h->n = 0;
	if (!json_object_object_get_ex(obj, "events", &events) ||
	    !json_object_is_type(events, json_type_array)) {
		sbuf_adds(err, "events: missing; the bank-holiday file needs an \"events\" list of "
			  "{\"date\": \"YYYY-MM-DD\"}");
		goto out;
	}
	size_t n = json_object_array_length(events);
	h->days = xcalloc(n, sizeof(*h->days));
	for (size_t i = 0; i < n; i++) {
		if (holidays_event(json_object_array_get_idx(events, i), i, &h->days[i], err) < 0)
			goto out;
	}
	qsort(h->days, n, sizeof(*h->days), window_cmp_i32);
	for (size_t i = 0; i < n; i++) /* drop duplicates */
		if (h->n == 0 || h->days[h->n - 1] != h->days[i])
			h->days[h->n++] = h->days[i];
	rc = 0;
out:
	if (rc < 0)
		holidays_free(h);
	return rc;
}

void holidays_free(struct holidays *h)
{
	if (!h)
		return;
	free(h->days);
	h->days = NULL;
	h->n = 0;
}

static bool window_is_holiday(const struct holidays *h, const struct window_date *d)
{
	int32_t key = d->year * 10000 + d->month * 100 + d->mday;

	if (!h || h->n == 0)
		return false;
	return bsearch(&key, h->days, h->n, sizeof(*h->days), window_cmp_i32) != NULL;
}

static void window_date_of(time_t t, struct window_date *d)
{
	struct tm tm;

	localtime_r(&t, &tm);
	d->year = tm.tm_year + 1900;
	d->month = tm.tm_mon + 1;
	d->mday = tm.tm_mday;
}

static void window_date_add_day(struct window_date *d)
{
	if (++d->mday > window_month_days(d->year, d->month)) {
		d->mday = 1;
		if (++d->month > 12)
			d->month = 1, d->year++;
	}
}

/* Monday 0 ... Sunday 6 (Sakamoto's method). */
static int window_weekday(const struct window_date *d)
{
	static const int off[12] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
	int y = d->year - (d->month < 3);
	int sunday0 = (y + y / 4 - y / 100 + y / 400 + off[d->month - 1] + d->mday) % 7;

	return (sunday0 + 6) % 7;
}

/* Compares the local date and minute of t with (d, min): <0, 0 or >0. */
static int window_cmp_local(time_t t, const struct window_date *d, int min)
{
	struct tm tm;

	localtime_r(&t, &tm);
	long a = ((tm.tm_year + 1900L) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday) * 1440L +
		 tm.tm_hour * 60 + tm.tm_min;
	long b = ((long)d->year * 10000 + d->month * 100 + d->mday) * 1440L + min;
	return (a > b) - (a < b);
}

/* mktime for (d, min) read with the given DST flag; true when that reading exists. */
static bool window_mktime(const struct window_date *d, int min, int isdst, time_t *out)
{
	struct tm tm = {
		.tm_year = d->year - 1900, .tm_mon = d->month - 1, .tm_mday = d->mday,
		.tm_hour = min / 60, .tm_min = min % 60, .tm_isdst = isdst,
	};

	*out = mktime(&tm);
	if (*out == (time_t)-1)
		return false;
	return tm.tm_isdst == isdst && window_cmp_local(*out, d, min) == 0;
}

/*
 * The first instant at which the local clock on date d reads min or later (min in
 * [0, 1440]; 1440 is the next midnight). A time repeated when the clocks go back is taken
 * at its first occurrence; a time skipped when they go forward maps to the moment of the
 * change. Both come from the system tz database, not from built-in rules.
 */
static time_t window_wall(const struct window_date *d, int min)
{
	time_t a, b;
	bool ok_dst, ok_std;

	if (min >= WINDOW_DAY_MINUTES) {
		struct window_date next = *d;
		window_date_add_day(&next);
		return window_wall(&next, 0);
	}
	ok_dst = window_mktime(d, min, 1, &a);
	ok_std = window_mktime(d, min, 0, &b);
	if (ok_dst && ok_std)
		return MIN(a, b);
	if (ok_dst || ok_std)
		return ok_dst ? a : b;
	/* In a spring-forward gap: search between the two readings for the change. */
	time_t lo = MIN(a, b), hi = MAX(a, b);
	while (lo < hi) {
		time_t mid = lo + (hi - lo) / 2;
		if (window_cmp_local(mid, d, min) >= 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The open and close instants of the window on date d; false when d has no window. */
static bool window_day_bounds(const struct send_window *w, const struct holidays *h,
			      const struct window_date *d, time_t *open, time_t *close)
{
	if (!(w->days & (1u << window_weekday(d))))
		return false;
	if (w->skip_holidays && window_is_holiday(h, d))
		return false;
	*open = window_wall(d, w->start_min);
	*close = window_wall(d, w->end_min);
	return *open < *close;
}

bool window_is_open(const struct send_window *w, const struct holidays *h, time_t t)
{
	struct window_date d;
	time_t open, close;

	window_date_of(t, &d);
	return window_day_bounds(w, h, &d, &open, &close) && open <= t && t < close;
}

time_t window_next_open(const struct send_window *w, const struct holidays *h, time_t t)
{
	struct window_date d;
	time_t open, close;

	if (!(w->days & WINDOW_ALL_DAYS) || w->start_min >= w->end_min)
		return (time_t)-1;
	window_date_of(t, &d);
	for (int i = 0; i < WINDOW_SEARCH_DAYS; i++, window_date_add_day(&d)) {
		if (!window_day_bounds(w, h, &d, &open, &close) || t >= close)
			continue;
		return open > t ? open : t;
	}
	return (time_t)-1;
}

time_t window_next_close(const struct send_window *w, const struct holidays *h, time_t t)
{
	struct window_date d;
	time_t open, close, end = t;

	if (!window_is_open(w, h, t))
		return t;
	window_date_of(t, &d);
	/* Windows that run to midnight and reopen at once (00:00) are one window. */
	for (int i = 0; i < WINDOW_SEARCH_DAYS; i++, window_date_add_day(&d)) {
		if (!window_day_bounds(w, h, &d, &open, &close) || open > end)
			return end;
		end = close;
	}
	return (time_t)-1;
}

time_t window_after_open_seconds(const struct send_window *w, const struct holidays *h,
				 time_t t, int64_t seconds)
{
	time_t cur = window_next_open(w, h, t);

	while (cur != (time_t)-1 && seconds > 0) {
		time_t close = window_next_close(w, h, cur);
		if (close == (time_t)-1 || seconds < (int64_t)(close - cur))
			return cur + (time_t)seconds;
		seconds -= (int64_t)(close - cur);
		cur = window_next_open(w, h, close);
	}
	return cur;
}

time_t window_working_days_later(const struct holidays *h, time_t t, int days)
{
	struct send_window weekdays = { .days = 0x1f, .start_min = 0, .end_min = 24 * 60,
					.skip_holidays = true };

	return window_after_open_seconds(&weekdays, h, t, (int64_t)days * 24 * 3600);
}
