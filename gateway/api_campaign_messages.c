/*
 * api_campaign_messages.c: a campaign's texts one by one. Test sends to staff numbers,
 * GET /v1/campaigns/{id}/messages (cursor paging) and report.csv.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/audience.h"
#include "campaigns/render.h"
#include "common/csv.h"
#include "gateway/api_campaign.h"
#include "gateway/api_handlers.h"
#include "infra/log.h"

#define MESSAGES_REPORT_PAGE "200"

static const char *const messages_states[] = {
	"queued", "retry", "sending", "unknown", "submitted", "enroute", "delivered",
	"undelivered", "failed", "rejected", "expired", "cancelled", "skipped",
};

static const char messages_test_sql[] =
	"WITH ins AS (INSERT INTO messages (kind, campaign_id, to_phone, body, provider, segments) "
	"SELECT 'test', $1, n, $3, $4, $5::int FROM unnest($2::text[]) AS n RETURNING id) "
	"SELECT count(*), pg_notify('signpost_work', 'reply') FROM ins";

/*
 * Columns: whether the campaign exists, the page as JSON, the cursor for the next page,
 * the page's size. Pages follow the (campaign, tenant) unique index: one text per tenant.
 */
static const char messages_page_sql[] =
	"SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1), "
	"coalesce(json_agg(x ORDER BY x.tenant_id), '[]')::text, max(x.tenant_id), count(*) FROM ("
	"  SELECT m.id, m.tenant_id, m.to_phone AS \"to\", m.state, m.skip_reason, m.error_code, "
	"    m.error_text AS last_error, m.segments, m.attempts, m.provider, m.submitted_at, "
	"    m.final_at, m.updated_at FROM messages m "
	"  WHERE m.campaign_id = $1 AND m.kind = 'campaign' AND m.tenant_id > $2 "
	"    AND ($3::text IS NULL OR m.state = $3) ORDER BY m.tenant_id LIMIT $4) x";

/* Columns: whether the campaign exists, then the report's; ordered by tenant like pages. */
static const char messages_report_sql[] =
	"SELECT EXISTS (SELECT 1 FROM campaigns WHERE id = $1), m.id, m.tenant_id, m.to_phone, "
	"m.state, m.skip_reason, m.error_code, m.error_text, m.segments, m.attempts, m.provider, "
	"to_char(m.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"to_char(m.final_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"FROM (SELECT 1) one LEFT JOIN messages m ON m.campaign_id = $1 AND m.kind = 'campaign' "
	"AND m.tenant_id > $2 ORDER BY m.tenant_id LIMIT $3";

static const char messages_report_header[] =
	"message_id,tenant_id,phone,state,skip_reason,error_code,last_error,segments,attempts,"
	"provider,submitted_at,final_at\r\n";

/* ---- POST /v1/campaigns/{id}/test ---- */

static void messages_test_done(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct json_object *o;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	log_info("campaign test send id=%s texts=%s", ctx->params[0], db_get(r, 0, 0));
	o = json_object_new_object();
	json_object_object_add(o, "queued", json_object_new_int64(db_get_i64(r, 0, 0)));
	api_reply_json(ctx, 202, o);
}

static void messages_test_loaded(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const struct config *cfg = &ctx->app->cfg;
	const char *language = NULL;
	struct campaign_row c;
	struct gsm_info gi;
	struct sbuf text, to;
	char segs[16];

	sbuf_init(&text);
	sbuf_init(&to);
	if (campaign_row_parse(ctx, r, &c) < 0 ||
	    !api_field_string(ctx, ctx->json, "language", false, 20, &language))
		goto out;
	render_text(campaign_row_body(&c, language), NULL, c.smart_encoding, &text, &gi);
	snprintf(segs, sizeof(segs), "%d", gi.segments);
	for (size_t i = 0; i < cfg->nstaff_numbers; i++)
		db_array_add(&to, cfg->staff_numbers[i], strlen(cfg->staff_numbers[i]));
	db_array_end(&to);
	const char *params[] = { ctx->params[0], to.data, text.data, c.provider, segs };
	api_db(ctx, messages_test_sql, 5, params, messages_test_done, ctx);
out:
	campaign_row_free(&c);
	sbuf_free(&text);
	sbuf_free(&to);
}

void api_campaign_test(struct api_ctx *ctx)
{
	static const char *const known[] = { "language" };

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)))
		return;
	if (ctx->app->cfg.nstaff_numbers == 0) {
		api_error(ctx, 409, "no_staff_numbers", "staff_numbers",
			  "no staff_numbers are configured: add the officers' mobiles to the "
			  "configuration file to receive test sends");
		return;
	}
	campaign_row_load(ctx, messages_test_loaded);
}

/* ---- GET /v1/campaigns/{id}/messages ---- */

static bool messages_state_ok(const char *state)
{
	for (size_t i = 0; i < ARRAY_LEN(messages_states); i++)
		if (strcmp(messages_states[i], state) == 0)
			return true;
	return false;
}

static void messages_paged(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const char *limit = ctx->state;
	struct sbuf body;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (!db_get_bool(r, 0, 0)) {
		api_error(ctx, 404, "not_found", NULL, "no campaign with id %s", ctx->params[0]);
		return;
	}
	sbuf_init(&body);
	sbuf_printf(&body, "{\"items\": %s, \"next_cursor\": ", db_get(r, 0, 1));
	if (db_get_i64(r, 0, 3) == atoll(limit))
		sbuf_printf(&body, "\"%s\"}", db_get(r, 0, 2));
	else
		sbuf_adds(&body, "null}");
	api_reply(ctx, 200, "application/json", body.data, body.len);
	sbuf_free(&body);
}

void api_campaign_messages(struct api_ctx *ctx)
{
	const char *cursor = api_query(ctx, "cursor"), *state = api_query(ctx, "state");
	const char *l = api_query(ctx, "limit");
	int64_t id, n = 100, after = 0;
	char limit[16], from[24];

	if (!api_param_id(ctx, 0, &id))
		return;
	if (l && !str_to_i64(l, 1, 1000, &n)) {
		api_error(ctx, 422, "invalid", "limit", "limit must be a number from 1 to 1000");
		return;
	}
	if (cursor && !str_to_i64(cursor, 0, INT64_MAX, &after)) {
		api_error(ctx, 422, "invalid", "cursor", "cursor must be the next_cursor of a previous page");
		return;
	}
	if (state && !messages_state_ok(state)) {
		api_error(ctx, 422, "invalid", "state", "state \"%s\" is not a message state", state);
		return;
	}
	snprintf(limit, sizeof(limit), "%lld", (long long)n);
	snprintf(from, sizeof(from), "%lld", (long long)after);
	ctx->state = xstrdup(limit);
	ctx->state_free = free;
	const char *params[] = { ctx->params[0], from, state, limit };
	api_db(ctx, messages_page_sql, 4, params, messages_paged, ctx);
}

/* ---- GET /v1/campaigns/{id}/report.csv ---- */

/*
 * The report goes out a page at a time as a chunked body, the next page read only once
 * the client has taken most of the last: memory stays flat however large the campaign.
 */
struct report {
	struct api_ctx *ctx;
	struct sbuf csv;
	char cursor[24];
};

static void report_free(void *p)
{
	struct report *rp = p;

	sbuf_free(&rp->csv);
	free(rp);
}

static void report_next(void *arg);

static void report_page(const struct db_result *r, void *arg)
{
	struct report *rp = arg;
	struct httpd_req *req = rp->ctx->req;
	int rows = db_rows(r), ncols = 12;

	if (r->error && !req->reply_started) {
		api_db_error(rp->ctx, r);
		return;
	}
	if (r->error) {
		log_warn("campaign report cut short: the database failed error=\"%.*s\"",
			 (int)strcspn(r->error, "\n"), r->error);
		api_reply_end(rp->ctx, false);
		return;
	}
	if (!req->reply_started) {
		if (rows && !db_get_bool(r, 0, 0)) {
			api_error(rp->ctx, 404, "not_found", NULL, "no campaign with id %s",
				  rp->ctx->params[0]);
			return;
		}
		httpd_add_header(req, "Content-Disposition",
				 "attachment; filename=\"campaign-report.csv\"");
		httpd_reply_start(req, 200, "text/csv; charset=utf-8");
		sbuf_adds(&rp->csv, messages_report_header);
	}
	for (int i = 0; i < rows && db_get(r, i, 1); i++) {
		for (int col = 1; col <= ncols; col++) {
			csv_cell(&rp->csv, db_get(r, i, col));
			sbuf_adds(&rp->csv, col == ncols ? "\r\n" : ",");
		}
	}
	bool sent = httpd_reply_chunk(req, rp->csv.data, rp->csv.len);
	sbuf_reset(&rp->csv);
	if (!sent || rows < atoll(MESSAGES_REPORT_PAGE) || !db_get(r, rows - 1, 1)) {
		api_reply_end(rp->ctx, sent);
		return;
	}
	snprintf(rp->cursor, sizeof(rp->cursor), "%s", db_get(r, rows - 1, 2));
	httpd_reply_when_drained(req, report_next, rp);
}

static void report_next(void *arg)
{
	struct report *rp = arg;
	const char *params[] = { rp->ctx->params[0], rp->cursor, MESSAGES_REPORT_PAGE };

	api_db(rp->ctx, messages_report_sql, 3, params, report_page, rp);
}

void api_campaign_report(struct api_ctx *ctx)
{
	struct report *rp;
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	rp = xcalloc(1, sizeof(*rp));
	rp->ctx = ctx;
	sbuf_init(&rp->csv);
	snprintf(rp->cursor, sizeof(rp->cursor), "0");
	ctx->state = rp;
	ctx->state_free = report_free;
	report_next(rp);
}
