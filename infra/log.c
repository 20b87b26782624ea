#include "infra/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"

static enum log_level log_current = LOG_INFO;
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

void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[4096], msg[2048];
	struct tm tm;
	int64_t ms = clock_wall_ms();
	time_t sec = (time_t)(ms / 1000);
	va_list ap;

	if (!log_enabled(l))
		return;
	gmtime_r(&sec, &tm);
	size_t n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03dZ %s ", (int)(ms % 1000),
			      log_level_str(l));
	va_start(ap, fmt);
	int m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	m = MAX(0, MIN(m, (int)sizeof(msg) - 1));
	n += log_escape(line + n, sizeof(line) - n - 1, msg, (size_t)m);
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}
