/*
 * test_metrics.c: the exposition formats (text 0.0.4 and OpenMetrics) and histograms.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "infra/metrics.h"
#include "tests/check.h"

TEST(histogram_buckets_are_cumulative_in_seconds)
{
	struct metrics_hist h = { { 0 }, 0, 0 };
	struct sbuf b;
	struct metrics_out o = { .b = &b, .format = METRICS_TEXT };

	sbuf_init(&b);
	metrics_observe_ms(&h, 3);     /* <= 0.005 */
	metrics_observe_ms(&h, 5);     /* <= 0.005: bounds are inclusive */
	metrics_observe_ms(&h, 6);     /* <= 0.01 */
	metrics_observe_ms(&h, 20000); /* past the last bound: +Inf only */
	metrics_observe_ms(&h, -4);    /* a clock step back counts as 0 */
	metrics_family(&o, METRICS_HISTOGRAM, "x_seconds", "Time.");
	metrics_histogram(&o, "p=\"a\"", &h);
	CHECK(strstr(b.data, "# TYPE x_seconds histogram\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_bucket{p=\"a\",le=\"0.005\"} 3\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_bucket{p=\"a\",le=\"0.01\"} 4\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_bucket{p=\"a\",le=\"10\"} 4\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_bucket{p=\"a\",le=\"+Inf\"} 5\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_sum{p=\"a\"} 20.014\n") != NULL);
	CHECK(strstr(b.data, "x_seconds_count{p=\"a\"} 5\n") != NULL);
	sbuf_free(&b);
}

TEST(counters_named_by_format)
{
	struct sbuf b;
	struct metrics_out text = { .b = &b, .format = METRICS_TEXT };
	struct metrics_out om = { .b = &b, .format = METRICS_OPENMETRICS };

	sbuf_init(&b);
	metrics_family(&text, METRICS_COUNTER, "t", "Things.");
	metrics_value_u64(&text, NULL, 7);
	metrics_end(&text);
	CHECK_STR(b.data, "# HELP t_total Things.\n# TYPE t_total counter\nt_total 7\n");
	sbuf_reset(&b);
	metrics_family(&om, METRICS_COUNTER, "t", "Things.");
	metrics_value_u64(&om, "", 7);
	metrics_end(&om);
	CHECK_STR(b.data, "# HELP t Things.\n# TYPE t counter\nt_total 7\n# EOF\n");
	sbuf_free(&b);
}

TEST(label_values_and_help_escaped)
{
	struct sbuf b, l;
	struct metrics_out o = { .b = &b, .format = METRICS_TEXT };

	sbuf_init(&b);
	sbuf_init(&l);
	metrics_labels(&l, "partner", "Age \"UK\"\\Kent\nEast", "state", "new", NULL);
	CHECK_STR(sbuf_str(&l), "partner=\"Age \\\"UK\\\"\\\\Kent\\nEast\",state=\"new\"");
	metrics_family(&o, METRICS_GAUGE, "g", "A \\ and\na line");
	metrics_value(&o, sbuf_str(&l), 1.5);
	metrics_value(&o, NULL, -INFINITY);
	CHECK_STR(b.data, "# HELP g A \\\\ and\\na line\n# TYPE g gauge\n"
			  "g{partner=\"Age \\\"UK\\\"\\\\Kent\\nEast\",state=\"new\"} 1.5\ng -Inf\n");
	sbuf_free(&l);
	sbuf_free(&b);
}

TEST(openmetrics_only_when_asked)
{
	CHECK_INT(metrics_negotiate(NULL), METRICS_TEXT);
	CHECK_INT(metrics_negotiate("text/plain;version=0.0.4;q=0.5,*/*;q=0.1"), METRICS_TEXT);
	CHECK_INT(metrics_negotiate("application/openmetrics-text;version=1.0.0,text/plain;q=0.5"),
		  METRICS_OPENMETRICS);
	CHECK(strncmp(metrics_content_type(METRICS_TEXT), "text/plain; version=0.0.4", 25) == 0);
}

int main(void)
{
	RUN(histogram_buckets_are_cumulative_in_seconds);
	RUN(counters_named_by_format);
	RUN(label_values_and_help_escaped);
	RUN(openmetrics_only_when_asked);
	return check_summary("metrics");
}
