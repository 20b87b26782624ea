#include "infra/log.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"

static enum log_level log_current = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;
static char log_request_id[LOG_REQUEST_ID_SIZE];
static const char *const log_names[] = { "error", "warn", "info", "debug" };

const char *log_level_str(enum log_level l)
{
	return l <= LOG_DEBUG ? log_names[l] : "?";
}

bool log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_LEN(log_names); i++) {
		if (strcmp(s, log_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0 || strcmp(s, "json") == 0) {
		*out = s[0] == 'j' ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
		return true;
	}
	return false;
}

void log_set_format(enum log_format f)
{
	log_format = f;
}

void log_request_enter(const char *id, char prev[LOG_REQUEST_ID_SIZE])
{
	memcpy(prev, log_request_id, LOG_REQUEST_ID_SIZE);
	snprintf(log_request_id, sizeof(log_request_id), "%s", id ? id : "");
}

void log_request_leave(const char prev[LOG_REQUEST_ID_SIZE])
{
	memcpy(log_request_id, prev, LOG_REQUEST_ID_SIZE);
	log_request_id[LOG_REQUEST_ID_SIZE - 1] = 0;
}

const char *log_request(void)
{
	return log_request_id;
}

bool log_request_id_ok(const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n >= LOG_REQUEST_ID_SIZE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("-_.:/+=", id[i]))
			return false;
	return true;
}

void log_set_level(enum log_level l)
{
	log_current = l;
}

bool log_enabled(enum log_level l)
{
	return l <= log_current;
}

/* How a byte that cannot be written as it is looks in the log: \n, \r, \t or \xNN. */
static size_t log_escape_byte(unsigned char c, char out[4])
{
	static const char hex[] = "0123456789abcdef";
	char named = c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : 0;

	out[0] = '\\';
	if (named) {
		out[1] = named;
		return 2;
	}
	out[1] = 'x';
	out[2] = hex[c >> 4];
	out[3] = hex[c & 15];
	return 4;
}

size_t log_escape(char *dst, size_t cap, const char *src, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)src[i];
		size_t w = c >= 0x20 && c < 0x7f ? 1 : c >= 0x80 ? codec_utf8_char(src + i, len - i) : 0;
		char esc[4];
		const char *from = src + i;

		if (w == 0) { /* C0, DEL or a byte of malformed UTF-8 */
			w = log_escape_byte(c, esc);
			from = esc;
		}
		if (n + w > cap)
			break; /* cut between characters, never inside one or inside an escape */
		memcpy(dst + n, from, w);
		n += w;
		i += from == esc ? 1 : w;
	}
	return n;
}

/* ---- JSON lines ---- */

/* Strings stop growing a JSON line past this many bytes (its message is 2047 at most). */
#define LOG_JSON_CUT 6144

/* A key=value pair starting at s[i]: the key's length, else 0. */
static size_t log_key_len(const char *s, size_t i, size_t len)
{
	size_t k = i;

	if (i >= len || !isalpha((unsigned char)s[i]))
		return 0;
	while (k < len && (isalnum((unsigned char)s[k]) || s[k] == '_' || s[k] == '.'))
		k++;
	return k < len && s[k] == '=' ? k - i : 0;
}

/* Where the pair or message running from s[i] ends: before " key=", or at len. */
static size_t log_span_end(const char *s, size_t i, size_t len)
{
	for (size_t k = i; k < len; k++)
		if (s[k] == ' ' && log_key_len(s, k + 1, len) > 0)
			return k;
	return len;
}

/* s[0..len) as a JSON string, with its quotes; cut (between characters) once the line is long. */
static void log_json_string(struct sbuf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	sbuf_addc(b, '"');
	for (size_t i = 0; i < len && b->len < LOG_JSON_CUT;) {
		unsigned char c = (unsigned char)s[i];
		size_t w = c >= 0x80 ? codec_utf8_char(s + i, len - i) : 1;
		char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };

		if (c == '"' || c == '\\')
			sbuf_addc(b, '\\'), sbuf_addc(b, (char)c);
		else if (c == '\n' || c == '\r' || c == '\t')
			sbuf_addc(b, '\\'), sbuf_addc(b, c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else if (c < 0x20 || c == 0x7f)
			sbuf_add(b, esc, 6);
		else if (w == 0) /* not well-formed UTF-8: the text \xNN */
			sbuf_adds(b, "\\\\x"), sbuf_add(b, esc + 4, 2);
		else
			sbuf_add(b, s + i, w);
		i += w ? w : 1;
	}
	sbuf_addc(b, '"');
}

/* A quoted value loses its quotes. */
static void log_json_value(struct sbuf *b, const char *v, size_t n)
{
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
		v++, n -= 2;
	log_json_string(b, v, n);
}

static void log_json_fields(struct sbuf *b, const char *msg, size_t i, size_t len)
{
	const char *rid = log_request();
	bool first = true;

	sbuf_adds(b, ",\"fields\":{");
	while (i < len) {
		size_t k = log_key_len(msg, i, len), end = log_span_end(msg, i + k + 1, len);
		sbuf_adds(b, first ? "" : ",");
		log_json_string(b, msg + i, k);
		sbuf_addc(b, ':');
		log_json_value(b, msg + i + k + 1, end - i - k - 1);
		first = false;
		i = end + 1;
	}
	if (*rid) {
		sbuf_printf(b, "%s\"request_id\":", first ? "" : ",");
		log_json_string(b, rid, strlen(rid));
	}
	sbuf_adds(b, "}}\n");
}

static void log_json_line(const char *stamp, enum log_level l, const char *msg, size_t len)
{
	struct sbuf b;
	size_t end = log_key_len(msg, 0, len) ? 0 : log_span_end(msg, 0, len);

	sbuf_init(&b);
	sbuf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"message\":", stamp, log_level_str(l));
	log_json_string(&b, msg, end);
	log_json_fields(&b, msg, end < len ? end + 1 : len, len);
	fwrite(b.data, 1, b.len, stderr);
	sbuf_free(&b);
}

/* ---- writing ---- */

static void log_text_line(const char *stamp, enum log_level l, const char *msg, size_t len)
{
	char line[4096];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s %s ", stamp, log_level_str(l));

	n += log_escape(line + n, sizeof(line) - n - 1, msg, len);
	if (*log_request_id)
		n += (size_t)snprintf(line + n, sizeof(line) - n - 1, " request=%s", log_request_id);
	n = MIN(n, sizeof(line) - 2);
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	char stamp[40], msg[2048];
	struct tm tm;
	int64_t ms = clock_wall_ms();
	time_t sec = (time_t)(ms / 1000);
	va_list ap;

	if (!log_enabled(l))
		return;
	gmtime_r(&sec, &tm);
	size_t n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ", (int)(ms % 1000));
	va_start(ap, fmt);
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m = MAX(0, MIN(m, (int)sizeof(msg) - 1));
	if (log_format == LOG_FORMAT_JSON)
		log_json_line(stamp, l, msg, (size_t)m);
	else
		log_text_line(stamp, l, msg, (size_t)m);
}
