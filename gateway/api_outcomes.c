/*
 * api_outcomes.c: the evidence a consortium reports to its board and funders.
 * GET /v1/outcomes and GET /v1/outcomes/report.csv (officers and admins) count, over a
 * range of Europe/London days, the tenants texted, the numbers that replied, the help
 * requests made and what became of them (a cohort by the day each was made) and the
 * opt-outs, grouped by month, borough, landlord, category or partner.
 *
 * Each request is one statement, one per grouping, so each reads only the tables its
 * grouping needs. The range and its defaults are worked out in PostgreSQL (today is a
 * Europe/London day), which also says when the range is wrong. Months are found by
 * comparing each timestamp with the instants the range's months begin (width_bucket),
 * not by converting a million timestamps to local time, and the tenants texted in each
 * month are counted once each through a bit mask of their months: campaign texts are
 * read in tenant order off messages_tenant_recent, with no index of their own.
 */
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "gateway/api_handlers.h"

/*
 * $1 from, $2 to (NULL: the defaults). p holds the range as days (f, t) and as instants
 * (f_ts inclusive, t_ts exclusive), bad (NULL, 'from_after_to' or 'too_long') and the
 * instants its months begin in Europe/London (bounds; the first is f_ts).
 */
#define OUTCOMES_RANGE                                                                          \
	"WITH r0 AS ("                                                                          \
	"  SELECT coalesce($1::date, (date_trunc('month', t::timestamp) "                       \
	"    - interval '11 months')::date) AS f, t "                                           \
	"  FROM (SELECT coalesce($2::date, (now() AT TIME ZONE 'Europe/London')::date) AS t) a" \
	"), r1 AS ("                                                                            \
	"  SELECT f, t, CASE WHEN f > t THEN 'from_after_to' "                                  \
	"    WHEN t >= f + interval '5 years' THEN 'too_long' END AS bad FROM r0"               \
	"), p AS MATERIALIZED ("                                                                \
	"  SELECT f, t, bad, f::timestamp AT TIME ZONE 'Europe/London' AS f_ts, "               \
	"    (t + 1)::timestamp AT TIME ZONE 'Europe/London' AS t_ts, "                         \
	"    ARRAY(SELECT greatest(m, f::timestamp) AT TIME ZONE 'Europe/London' "              \
	"      FROM generate_series(date_trunc('month', f::timestamp), "                        \
	"        CASE WHEN bad IS NULL THEN t::timestamp END, interval '1 month') m "           \
	"      ORDER BY m) AS bounds "                                                          \
	"  FROM r1"                                                                             \
	"), "

/* col falls in the range, and the range is good (otherwise nothing is read). */
#define OUTCOMES_IN(col)                                                                        \
	col " >= (SELECT f_ts FROM p) AND " col " < (SELECT t_ts FROM p) "                      \
	"AND (SELECT bad FROM p) IS NULL"

/* Which month of the range col falls in, from 1. */
#define OUTCOMES_MONTH(col) "width_bucket(" col ", (SELECT bounds FROM p))"

/* Texts in; their senders count once per tenant, or once per number when no tenant's. */
#define OUTCOMES_REPLIES                                                                        \
	"inbound_messages i WHERE " OUTCOMES_IN("i.received_at")                                \
	" AND (i.tenant_id IS NOT NULL OR i.from_phone IS NOT NULL)"
#define OUTCOMES_REPLIER "i.tenant_id, CASE WHEN i.tenant_id IS NULL THEN i.from_phone END"

/*
 * src: what each source adds to each grouping value as stored (raw). Every grouping has
 * help requests (a cohort by the day each was made) as a source; all but category and
 * partner have the others.
 */
#define OUTCOMES_SRC                                                                            \
	"src (raw, texted, replied, referred, contacted, helped, opted_out, fy, fn) AS ("
#define OUTCOMES_REQUESTS(raw, join)                                                            \
	"SELECT " raw ", 0, 0, count(*), count(h.contacted_at), "                               \
	"count(*) FILTER (WHERE h.outcome = 'helped'), 0, "                                     \
	"count(*) FILTER (WHERE h.followup_outcome = 'yes'), "                                  \
	"count(*) FILTER (WHERE h.followup_outcome = 'no') "                                    \
	"FROM help_requests h " join " WHERE " OUTCOMES_IN("h.created_at") " GROUP BY 1"
/* Opt-outs belong to numbers, not landlords: a bound officer counts its tenants' numbers. */
#define OUTCOMES_OPT_OUTS(raw, join)                                                            \
	"SELECT " raw ", 0, 0, 0, 0, 0, count(*), 0, 0 FROM opt_outs o " join                   \
	" WHERE " OUTCOMES_IN("o.created_at") " AND (signpost_scope() IS NULL OR EXISTS ("      \
	"SELECT 1 FROM tenants st WHERE st.phone = o.phone)) GROUP BY 1"

/* g: the sums per grouping value, merged as norm says. */
#define OUTCOMES_GROUPS(norm)                                                                   \
	"), g AS (SELECT " norm " AS g, sum(texted)::bigint AS texted, "                        \
	"  sum(replied)::bigint AS replied, sum(referred)::bigint AS referred, "                \
	"  sum(contacted)::bigint AS contacted, sum(helped)::bigint AS helped, "                \
	"  sum(opted_out)::bigint AS opted_out, sum(fy)::bigint AS fy, sum(fn)::bigint AS fn "  \
	"  FROM src GROUP BY 1) "

/*
 * The answer: the verdict on the range, the range, and when it is good the JSON. rows
 * gives r (key, label, texted, replied, referred, contacted, helped, opted_out, fy, fn);
 * texted, replied and opted_out are the totals of those three.
 */
#define OUTCOMES_ANSWER(by, rows, order, texted, replied, opted_out, not_applicable)            \
	"SELECT p.bad, to_char(p.f, 'YYYY-MM-DD'), to_char(p.t, 'YYYY-MM-DD'), "                \
	"  CASE WHEN p.bad IS NULL THEN json_build_object('by', '" by "', "                     \
	"  'from', to_char(p.f, 'YYYY-MM-DD'), 'to', to_char(p.t, 'YYYY-MM-DD'), "              \
	"  'rows', (SELECT coalesce(json_agg(json_build_object('key', r.key, "                  \
	"    'label', r.label, 'texted', r.texted, 'replied', r.replied, "                      \
	"    'referred', r.referred, 'contacted', r.contacted, 'helped', r.helped, "            \
	"    'opted_out', r.opted_out, 'followup_yes', r.fy, 'followup_no', r.fn) "             \
	"    ORDER BY " order "), '[]') FROM (" rows ") r), "                                   \
	"  'totals', (SELECT json_build_object('texted', " texted ", "                          \
	"    'replied', " replied ", 'referred', coalesce(sum(referred), 0), "                  \
	"    'contacted', coalesce(sum(contacted), 0), 'helped', coalesce(sum(helped), 0), "    \
	"    'opted_out', " opted_out ", 'followup_yes', coalesce(sum(fy), 0), "                \
	"    'followup_no', coalesce(sum(fn), 0)) FROM g), "                                    \
	"  'not_applicable', json_build_array(" not_applicable "))::text END "                  \
	"FROM p"

/*
 * By month: tm and rm count, for each set of months (a bit mask: at most 61 months),
 * the tenants texted (senders of texts) in exactly those months, so that each is counted
 * once a month and once in the totals. Campaign texts come in tenant order off
 * messages_tenant_recent, so grouping them by tenant needs no sort.
 */
#define OUTCOMES_MASKS(name, at, from, who)                                                     \
	name " AS (SELECT mask, count(*) AS n FROM (SELECT bit_or(1::bigint << ("               \
	OUTCOMES_MONTH(at) " - 1)) AS mask FROM " from " GROUP BY " who ") x "                  \
	"GROUP BY mask), "
#define OUTCOMES_EACH_MONTH(mask)                                                               \
	"generate_series(1, cardinality((SELECT bounds FROM p))) b "                            \
	"WHERE " mask " & (1::bigint << (b - 1)) <> 0 GROUP BY b"
#define OUTCOMES_MONTH_ROWS                                                                     \
	"SELECT to_char(x.m, 'YYYY-MM') AS key, to_char(x.m, 'FMMonth YYYY') AS label, "        \
	"coalesce(g.texted, 0) AS texted, coalesce(g.replied, 0) AS replied, "                  \
	"coalesce(g.referred, 0) AS referred, coalesce(g.contacted, 0) AS contacted, "          \
	"coalesce(g.helped, 0) AS helped, coalesce(g.opted_out, 0) AS opted_out, "              \
	"coalesce(g.fy, 0) AS fy, coalesce(g.fn, 0) AS fn "                                     \
	"FROM (SELECT b, p.bounds[b] AT TIME ZONE 'Europe/London' AS m "                        \
	"  FROM generate_series(1, cardinality(p.bounds)) b) x LEFT JOIN g ON g.g = x.b"

static const char outcomes_month_sql[] =
	OUTCOMES_RANGE
	OUTCOMES_MASKS("tm", "m.submitted_at", "messages m WHERE m.kind = 'campaign' AND "
		       OUTCOMES_IN("m.submitted_at"), "m.tenant_id")
	OUTCOMES_MASKS("rm", "i.received_at", OUTCOMES_REPLIES, OUTCOMES_REPLIER)
	OUTCOMES_SRC
	"  SELECT b, sum(tm.n), 0, 0, 0, 0, 0, 0, 0 FROM tm, " OUTCOMES_EACH_MONTH("tm.mask")
	"  UNION ALL SELECT b, 0, sum(rm.n), 0, 0, 0, 0, 0, 0 FROM rm, "
	OUTCOMES_EACH_MONTH("rm.mask")
	"  UNION ALL " OUTCOMES_REQUESTS(OUTCOMES_MONTH("h.created_at"), "")
	"  UNION ALL " OUTCOMES_OPT_OUTS(OUTCOMES_MONTH("o.created_at"), "")
	OUTCOMES_GROUPS("raw")
	OUTCOMES_ANSWER("month", OUTCOMES_MONTH_ROWS, "r.key",
			"(SELECT coalesce(sum(n), 0)::bigint FROM tm)",
			"(SELECT coalesce(sum(n), 0)::bigint FROM rm)",
			"coalesce(sum(opted_out), 0)", "");

/* In label order whatever the database's collation: case aside, then by case, then key. */
#define OUTCOMES_BY_LABEL                                                                       \
	"lower(r.label) COLLATE \"C\", r.label COLLATE \"C\", r.key NULLS FIRST"

/*
 * By borough or landlord (col): the tenant's now, and for help requests req_col.
 * Spellings that differ only in case or surrounding spaces are one row, keyed by the
 * spelling counted most (ties: the first in code point order); no value, or an empty
 * one, is the row with key null, "Not recorded". A tenant is in one row only, so the
 * totals are the sums.
 */
#define OUTCOMES_NORM "nullif(lower(btrim(raw)), '')"
#define OUTCOMES_TENANT_SQL(by, col, req_col, req_join)                                         \
	OUTCOMES_RANGE OUTCOMES_SRC                                                             \
	"  SELECT t." col ", count(*), 0, 0, 0, 0, 0, 0, 0 FROM tenants t WHERE t.id IN ("      \
	"    SELECT m.tenant_id FROM messages m WHERE m.kind = 'campaign' AND "                 \
	OUTCOMES_IN("m.submitted_at") ") GROUP BY 1 "                                           \
	"  UNION ALL SELECT t." col ", 0, count(*), 0, 0, 0, 0, 0, 0 "                          \
	"    FROM (SELECT DISTINCT " OUTCOMES_REPLIER " AS phone FROM " OUTCOMES_REPLIES ") i " \
	"    LEFT JOIN tenants t ON t.id = i.tenant_id GROUP BY 1 "                             \
	"  UNION ALL " OUTCOMES_REQUESTS(req_col, req_join)                                     \
	"  UNION ALL " OUTCOMES_OPT_OUTS("t." col, "LEFT JOIN tenants t ON t.phone = o.phone")  \
	OUTCOMES_GROUPS(OUTCOMES_NORM)                                                          \
	", sp AS (SELECT DISTINCT ON (g) g, k FROM (SELECT " OUTCOMES_NORM " AS g, "            \
	"  btrim(raw) AS k, sum(texted + replied + referred + opted_out) AS w "                 \
	"  FROM src GROUP BY 1, 2) s WHERE g IS NOT NULL ORDER BY g, w DESC, k COLLATE \"C\") " \
	OUTCOMES_ANSWER(by, "SELECT sp.k AS key, coalesce(sp.k, 'Not recorded') AS label, "     \
			"g.* FROM g LEFT JOIN sp ON sp.g = g.g", OUTCOMES_BY_LABEL,             \
			"coalesce(sum(texted), 0)", "coalesce(sum(replied), 0)",                \
			"coalesce(sum(opted_out), 0)", "")

static const char outcomes_borough_sql[] =
	OUTCOMES_TENANT_SQL("borough", "borough", "h.borough", "");

static const char outcomes_landlord_sql[] =
	OUTCOMES_TENANT_SQL("landlord", "landlord", "t.landlord",
			    "LEFT JOIN tenants t ON t.id = h.tenant_id");

/* By category or partner: only help requests have one. */
#define OUTCOMES_REQUEST_SQL(by, raw, rows)                                                     \
	OUTCOMES_RANGE OUTCOMES_SRC OUTCOMES_REQUESTS(raw, "") OUTCOMES_GROUPS("raw")           \
	OUTCOMES_ANSWER(by, rows, OUTCOMES_BY_LABEL, "NULL", "NULL", "NULL",                    \
			"'texted', 'replied', 'opted_out'")
#define OUTCOMES_REQUEST_FIGURES                                                                \
	"NULL::bigint AS texted, NULL::bigint AS replied, g.referred, g.contacted, "            \
	"g.helped, NULL::bigint AS opted_out, g.fy, g.fn"

/* "universal_credit" is "Universal credit". */
static const char outcomes_category_sql[] =
	OUTCOMES_REQUEST_SQL("category", "h.category",
			     "SELECT g.g AS key, upper(left(replace(g.g, '_', ' '), 1)) || "
			     "substr(replace(g.g, '_', ' '), 2) AS label, "
			     OUTCOMES_REQUEST_FIGURES " FROM g");

/* A request's partner now: "No partner yet" for one that has none, yet or again. */
static const char outcomes_partner_sql[] =
	OUTCOMES_REQUEST_SQL("partner", "h.partner_id",
			     "SELECT g.g AS key, coalesce(pa.name, 'No partner yet') AS label, "
			     OUTCOMES_REQUEST_FIGURES " FROM g "
			     "LEFT JOIN partners pa ON pa.id = g.g");

/* ---- the handlers ---- */

struct outcomes_by {
	const char *name;
	const char *sql;
};

static const struct outcomes_by outcomes_bys[] = {
	{ "month", outcomes_month_sql },
	{ "borough", outcomes_borough_sql },
	{ "landlord", outcomes_landlord_sql },
	{ "category", outcomes_category_sql },
	{ "partner", outcomes_partner_sql },
};

static const char *const outcomes_metrics[] = {
	"texted", "replied", "referred", "contacted", "helped", "opted_out", "followup_yes",
	"followup_no",
};

static const struct outcomes_by *outcomes_by_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(outcomes_bys); i++)
		if (strcmp(name, outcomes_bys[i].name) == 0)
			return &outcomes_bys[i];
	return NULL;
}

/* A real day written YYYY-MM-DD, from 1900 to 9999. */
static bool outcomes_date_ok(const char *s)
{
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y = 0, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days[m - 1])
		return false;
	return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* ?by=, month when there is none. */
static const char *outcomes_by_asked(struct api_ctx *ctx)
{
	const char *by = api_query(ctx, "by");

	return by ? by : "month";
}

/* The grouping asked for, with from and to checked; answers 422 and returns NULL. */
static const struct outcomes_by *outcomes_params(struct api_ctx *ctx)
{
	const struct outcomes_by *by = outcomes_by_named(outcomes_by_asked(ctx));
	static const char *const dates[] = { "from", "to" };

	if (!by) {
		api_error(ctx, 422, "invalid", "by", "by must be month, borough, landlord, "
			  "category or partner");
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_LEN(dates); i++) {
		const char *s = api_query(ctx, dates[i]);
		if (s && !outcomes_date_ok(s)) {
			api_error(ctx, 422, "invalid", dates[i], "%s must be a day written "
				  "YYYY-MM-DD, such as 2026-12-04", dates[i]);
			return NULL;
		}
	}
	return by;
}

/* False (after answering) when the query failed or the range is wrong. */
static bool outcomes_range_ok(struct api_ctx *ctx, const struct db_result *r)
{
	const char *bad;

	if (r->error) {
		api_db_error(ctx, r);
		return false;
	}
	bad = db_get(r, 0, 0);
	if (bad && strcmp(bad, "from_after_to") == 0) {
		api_error(ctx, 422, "invalid", "from", "from (%s) is after to (%s)",
			  db_get(r, 0, 1), db_get(r, 0, 2));
		return false;
	}
	if (bad) {
		api_error(ctx, 422, "invalid", "from", "from %s to %s is longer than 5 years: "
			  "ask for less at a time", db_get(r, 0, 1), db_get(r, 0, 2));
		return false;
	}
	return true;
}

static void outcomes_run(struct api_ctx *ctx, db_cb *cb)
{
	const struct outcomes_by *by = outcomes_params(ctx);

	if (!by)
		return;
	const char *params[] = { api_query(ctx, "from"), api_query(ctx, "to") };
	api_db(ctx, by->sql, 2, params, cb, ctx);
}

static void outcomes_answered(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const char *json;

	if (!outcomes_range_ok(ctx, r))
		return;
	json = db_get(r, 0, 3);
	api_reply(ctx, 200, "application/json", json, strlen(json));
}

void api_outcomes(struct api_ctx *ctx)
{
	outcomes_run(ctx, outcomes_answered);
}

/* ---- the spreadsheet ---- */

/* One row: its label, then each metric (empty where it does not apply). */
static void outcomes_csv_row(struct sbuf *out, const char *label, struct json_object *o)
{
	struct json_object *v;

	csv_cell(out, label);
	for (size_t i = 0; i < ARRAY_LEN(outcomes_metrics); i++) {
		sbuf_addc(out, ',');
		if (json_object_object_get_ex(o, outcomes_metrics[i], &v) && v)
			sbuf_printf(out, "%lld", (long long)json_object_get_int64(v));
	}
	sbuf_adds(out, "\r\n");
}

static void outcomes_csv(struct sbuf *out, const char *by, struct json_object *answer)
{
	struct json_object *rows = json_object_object_get(answer, "rows");

	sbuf_adds(out, by);
	for (size_t i = 0; i < ARRAY_LEN(outcomes_metrics); i++) {
		sbuf_addc(out, ',');
		sbuf_adds(out, outcomes_metrics[i]);
	}
	sbuf_adds(out, "\r\n");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *row = json_object_array_get_idx(rows, i);
		const char *label = json_object_get_string(json_object_object_get(row, "label"));
		outcomes_csv_row(out, label ? label : "", row);
	}
	outcomes_csv_row(out, "Total", json_object_object_get(answer, "totals"));
}

static void outcomes_reported(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const char *by = outcomes_by_asked(ctx);
	struct json_object *answer;
	char disposition[128];
	struct sbuf csv;

	if (!outcomes_range_ok(ctx, r))
		return;
	answer = json_tokener_parse(db_get(r, 0, 3));
	if (!answer) {
		api_error(ctx, 500, "internal", NULL, "the outcomes could not be read");
		return;
	}
	sbuf_init(&csv);
	outcomes_csv(&csv, by, answer);
	snprintf(disposition, sizeof(disposition),
		 "attachment; filename=\"outcomes-%s-%s-to-%s.csv\"", by, db_get(r, 0, 1),
		 db_get(r, 0, 2));
	httpd_add_header(ctx->req, "Content-Disposition", disposition);
	api_reply(ctx, 200, "text/csv; charset=utf-8", csv.data, csv.len);
	sbuf_free(&csv);
	json_object_put(answer);
}

void api_outcomes_report(struct api_ctx *ctx)
{
	outcomes_run(ctx, outcomes_reported);
}
