#include "infra/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const int64_t metrics_bounds_ms[METRICS_BUCKETS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
};
static const char *const metrics_bounds_text[METRICS_BUCKETS] = {
	"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
};

void metrics_observe_ms(struct metrics_hist *h, int64_t ms)
{
	int i = 0;

	if (ms < 0)
		ms = 0;
	while (i < METRICS_BUCKETS && ms > metrics_bounds_ms[i])
		i++;
	if (i < METRICS_BUCKETS)
		h->bucket[i]++;
	h->count++;
	h->sum_ms += (uint64_t)ms;
}

enum metrics_format metrics_negotiate(const char *accept)
{
	return accept && strcasestr(accept, "application/openmetrics-text") ? METRICS_OPENMETRICS
									     : METRICS_TEXT;
}

const char *metrics_content_type(enum metrics_format f)
{
	return f == METRICS_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
					: "text/plain; version=0.0.4; charset=utf-8";
}

static const char *metrics_type_str(enum metrics_type t)
{
	switch (t) {
	case METRICS_COUNTER: return "counter";
	case METRICS_GAUGE: return "gauge";
	case METRICS_HISTOGRAM: return "histogram";
	}
	return "untyped";
}

/* HELP text: backslash and newline escaped (OpenMetrics escapes double quotes too). */
static void metrics_help_escape(struct sbuf *b, const char *s, bool quotes)
{
	for (; *s; s++) {
		if (*s == '\\')
			sbuf_adds(b, "\\\\");
		else if (*s == '\n')
			sbuf_adds(b, "\\n");
		else if (*s == '"' && quotes)
			sbuf_adds(b, "\\\"");
		else
			sbuf_addc(b, *s);
	}
}

void metrics_family(struct metrics_out *o, enum metrics_type type, const char *name,
		    const char *help)
{
	/* The text format names a counter's family with _total; OpenMetrics without. */
	const char *suffix = type == METRICS_COUNTER && o->format == METRICS_TEXT ? "_total" : "";

	o->type = type;
	o->name = name;
	sbuf_printf(o->b, "# HELP %s%s ", name, suffix);
	metrics_help_escape(o->b, help, o->format == METRICS_OPENMETRICS);
	sbuf_printf(o->b, "\n# TYPE %s%s %s\n", name, suffix, metrics_type_str(type));
}

void metrics_labels(struct sbuf *out, ...)
{
	va_list ap;
	const char *k;

	sbuf_reset(out);
	va_start(ap, out);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);
		sbuf_printf(out, "%s%s=\"", out->len ? "," : "", k);
		metrics_help_escape(out, v ? v : "", true);
		sbuf_addc(out, '"');
	}
	va_end(ap);
}

static void metrics_sample_name(struct metrics_out *o, const char *suffix, const char *labels,
				const char *extra)
{
	bool any = (labels && *labels) || extra;

	sbuf_printf(o->b, "%s%s", o->name, suffix);
	if (!any)
		return;
	sbuf_printf(o->b, "{%s%s%s}", labels ? labels : "", labels && *labels && extra ? "," : "",
		    extra ? extra : "");
}

void metrics_value(struct metrics_out *o, const char *labels, double v)
{
	metrics_sample_name(o, o->type == METRICS_COUNTER ? "_total" : "", labels, NULL);
	if (isnan(v))
		sbuf_adds(o->b, " NaN\n");
	else if (isinf(v))
		sbuf_adds(o->b, v > 0 ? " +Inf\n" : " -Inf\n");
	else
		sbuf_printf(o->b, " %.17g\n", v);
}

void metrics_value_u64(struct metrics_out *o, const char *labels, uint64_t v)
{
	metrics_sample_name(o, o->type == METRICS_COUNTER ? "_total" : "", labels, NULL);
	sbuf_printf(o->b, " %llu\n", (unsigned long long)v);
}

void metrics_single(struct metrics_out *o, enum metrics_type type, const char *name,
		    const char *help, double v)
{
	metrics_family(o, type, name, help);
	metrics_value(o, NULL, v);
}

void metrics_histogram(struct metrics_out *o, const char *labels, const struct metrics_hist *h)
{
	uint64_t cumulative = 0;
	char le[32];

	for (int i = 0; i < METRICS_BUCKETS; i++) {
		cumulative += h->bucket[i];
		snprintf(le, sizeof(le), "le=\"%s\"", metrics_bounds_text[i]);
		metrics_sample_name(o, "_bucket", labels, le);
		sbuf_printf(o->b, " %llu\n", (unsigned long long)cumulative);
	}
	metrics_sample_name(o, "_bucket", labels, "le=\"+Inf\"");
	sbuf_printf(o->b, " %llu\n", (unsigned long long)h->count);
	metrics_sample_name(o, "_sum", labels, NULL);
	sbuf_printf(o->b, " %.3f\n", (double)h->sum_ms / 1000.0);
	metrics_sample_name(o, "_count", labels, NULL);
	sbuf_printf(o->b, " %llu\n", (unsigned long long)h->count);
}

void metrics_end(struct metrics_out *o)
{
	if (o->format == METRICS_OPENMETRICS)
		sbuf_adds(o->b, "# EOF\n");
}
