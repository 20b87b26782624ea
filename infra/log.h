/*
 * log.h: one line per event on stderr, "2026-11-25T10:00:00.123Z info msg key=value ...".
 *
 * What a message carries may come from anyone (a webhook's header, a form field's name, a
 * path), so the writer escapes it, in this one place: line feed, carriage return and tab
 * are written \n, \r and \t, other control characters (C0 and DEL) and every byte that is
 * not part of well-formed UTF-8 \xNN. One event can never show as two lines, and the log
 * stays valid UTF-8.
 */
#ifndef SIGNPOST_LOG_H
#define SIGNPOST_LOG_H

#include "common/util.h"

enum log_level {
	LOG_ERROR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

const char *log_level_str(enum log_level l);
/* Accepts "error", "warn", "info", "debug". */
bool log_level_parse(const char *s, enum log_level *out) WUR;
void log_set_level(enum log_level l);
bool log_enabled(enum log_level l);
void log_msg(enum log_level l, const char *fmt, ...) PRINTF_LIKE(2, 3);
/*
 * Writes src[0..len) escaped as above into dst, at most cap bytes, cut between characters;
 * returns the bytes written. No NUL is added.
 */
size_t log_escape(char *dst, size_t cap, const char *src, size_t len);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
