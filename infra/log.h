/*
 * log.h: one line per event on stderr, "2026-11-25T10:00:00.123Z info msg key=value ...".
 *
 * What a message carries may come from anyone (a webhook's header, a form field's name, a
 * path), so the writer escapes it, in this one place: line feed, carriage return and tab
 * are written \n, \r and \t, other control characters (C0 and DEL) and every byte that is
 * not part of well-formed UTF-8 \xNN. One event can never show as two lines, and the log
 * stays valid UTF-8.
 *
 * With log_set_format(LOG_FORMAT_JSON) (SIGNPOST_LOG_FORMAT=json) each line is instead one
 * JSON object: {"time":..., "level":..., "message":..., "fields":{...}}. The message is the
 * text before the first key=value pair; each pair (value bare or in double quotes) becomes
 * a field, as a string. Strings use JSON's escapes (\n, \", \u001b ...); a byte that is not
 * well-formed UTF-8 is written as the text \xNN, as in the text format.
 *
 * The current request (log_request_enter/leave) tags every line written meanwhile:
 * request=ID in text, fields.request_id in JSON. Whoever runs a callback on a request's
 * behalf (the HTTP server, the database pool) enters the request's id around it.
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

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

/* Room for a request id and its NUL. */
#define LOG_REQUEST_ID_SIZE 65

const char *log_level_str(enum log_level l);
/* Accepts "text", "json". */
bool log_format_parse(const char *s, enum log_format *out) WUR;
void log_set_format(enum log_format f);
/* Makes id (NULL or "" for none) the current request; the previous one is kept in prev. */
void log_request_enter(const char *id, char prev[LOG_REQUEST_ID_SIZE]);
/* Makes prev, as log_request_enter kept it, current again. */
void log_request_leave(const char prev[LOG_REQUEST_ID_SIZE]);
/* The current request's id, "" when none. */
const char *log_request(void);
/*
 * Whether a client's X-Request-Id can be used as it is: 1 to 64 characters, each a letter,
 * a digit or one of - _ . : / + =.
 */
bool log_request_id_ok(const char *id);
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
