#include "infra/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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

void log_msg(enum log_level l, const char *fmt, ...)
{
	char line[2048];
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
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n = MIN(n + (size_t)m, sizeof(line) - 2);
	line[n++] = '\n';
	fwrite(line, 1, n, stderr);
}
