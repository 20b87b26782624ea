/*
 * metrics.h: the Prometheus text exposition format (0.0.4) and OpenMetrics 1.0, and
 * histograms cheap enough for hot paths.
 *
 * Counting is the caller's: plain integers in fixed arrays, bumped on the event loop (no
 * lock, no allocation). This module only writes families out at scrape time. Label
 * values are escaped here; names are the caller's constants.
 */
#ifndef SIGNPOST_METRICS_H
#define SIGNPOST_METRICS_H

#include <stdint.h>

#include "common/util.h"

/* Upper bounds in seconds: Prometheus' default buckets. */
#define METRICS_BUCKETS 11

struct metrics_hist {
	uint64_t bucket[METRICS_BUCKETS]; /* observations in each bucket alone (not cumulative) */
	uint64_t count;
	uint64_t sum_ms;
};

/* One observation of ms milliseconds (negative counts as 0). */
void metrics_observe_ms(struct metrics_hist *h, int64_t ms);

enum metrics_format {
	METRICS_TEXT,        /* text/plain; version=0.0.4 */
	METRICS_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* OpenMetrics when the Accept header names application/openmetrics-text, else text. */
enum metrics_format metrics_negotiate(const char *accept);
const char *metrics_content_type(enum metrics_format f);

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

struct metrics_out {
	struct sbuf *b;
	enum metrics_format format;
	enum metrics_type type; /* of the family being written */
	const char *name;       /* of the family being written, without _total */
};

/* Starts a family: its HELP and TYPE lines. A counter's name is given without _total. */
void metrics_family(struct metrics_out *o, enum metrics_type type, const char *name,
		    const char *help);
/*
 * Label sets: "k1", v1, "k2", v2, ... NULL; written escaped into out (cleared first),
 * ready for metrics_value or metrics_histogram.
 */
void metrics_labels(struct sbuf *out, ...);
/* A sample of the current family (a counter's gets _total); labels may be NULL or "". */
void metrics_value(struct metrics_out *o, const char *labels, double v);
void metrics_value_u64(struct metrics_out *o, const char *labels, uint64_t v);
/* A family of one sample without labels. */
void metrics_single(struct metrics_out *o, enum metrics_type type, const char *name,
		    const char *help, double v);
/* The _bucket, _sum and _count samples of the current (histogram) family. */
void metrics_histogram(struct metrics_out *o, const char *labels, const struct metrics_hist *h);
/* Ends the exposition ("# EOF" in OpenMetrics). */
void metrics_end(struct metrics_out *o);

#endif
