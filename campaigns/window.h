/*
 * window.h: send windows and quiet hours in Europe/London.
 *
 * Local time comes from the system tz database: call window_tz_init() once at start-up
 * (it sets TZ=Europe/London for the process; logs use UTC and are unaffected).
 */
#ifndef SIGNPOST_WINDOW_H
#define SIGNPOST_WINDOW_H

#include <json-c/json.h>
#include <time.h>

#include "common/util.h"

struct send_window {
	unsigned days;  /* bit 0 Monday ... bit 6 Sunday */
	int start_min;  /* minutes after local midnight */
	int end_min;    /* exclusive; start_min < end_min */
	bool skip_holidays;
};

/* Sorted bank-holiday dates as yyyymmdd. */
struct holidays {
	int32_t *days;
	size_t n;
};

void window_tz_init(void);
/* 09:00-20:00 Monday to Saturday, never on bank holidays. */
void window_default(struct send_window *w);
/*
 * Parses {"days": ["mon", ...], "start": "09:00", "end": "20:00", "skip_holidays": true};
 * missing keys keep the values already in w (call window_default first). Days are "mon" ...
 * "sun" or full names in any case; times are "HH:MM" or "H:MM", end may be "24:00" and
 * must be later than start. Errors name the key ("send_window.start: ...") and say what to
 * write; w is left unchanged on error.
 */
int window_from_json(struct json_object *obj, struct send_window *w, struct sbuf *err) WUR;
struct json_object *window_to_json(const struct send_window *w);

/* Reads the GOV.UK-format file's "events"[].date. */
int holidays_from_json(struct json_object *obj, struct holidays *h, struct sbuf *err) WUR;
void holidays_free(struct holidays *h);

/*
 * The window on a day opens at the first instant the local clock reads start_min and closes
 * at the first instant it reads end_min. A time skipped when the clocks go forward maps to
 * the moment of the change; a time repeated when they go back is taken the first time. h
 * may be NULL (no holidays).
 */
bool window_is_open(const struct send_window *w, const struct holidays *h, time_t t);
/* t itself when open at t; otherwise the next opening. (time_t)-1 when the window never opens. */
time_t window_next_open(const struct send_window *w, const struct holidays *h, time_t t);
/*
 * When the window that is open at t closes; t when closed at t. A window running to
 * midnight and one opening at midnight the next day are one window; (time_t)-1 when it
 * does not close within a year.
 */
time_t window_next_close(const struct send_window *w, const struct holidays *h, time_t t);
/*
 * The instant at which `seconds` of open window time have passed, starting from t. The
 * result is always inside the window: when the time runs out exactly at a close, it is the
 * next opening. seconds <= 0 gives window_next_open(t); (time_t)-1 when the window never
 * opens.
 */
time_t window_after_open_seconds(const struct send_window *w, const struct holidays *h,
				 time_t t, int64_t seconds);
/*
 * The instant `days` whole working days after t: Monday to Friday, not on bank holidays,
 * counting only working time (Friday 15:00 plus two is Tuesday 15:00; from a Saturday it
 * is the end of Tuesday).
 */
time_t window_working_days_later(const struct holidays *h, time_t t, int days);

#endif
