#include "gateway/api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/keys.h"
#include "common/limiter.h"
#include "gateway/api_handlers.h"
#include "gateway/auth.h"
#include "gateway/console.h"
#include "gateway/counters.h"
#include "gateway/dispatch.h"
#include "gateway/docs.h"
#include "gateway/session.h"
#include "infra/log.h"
#include "infra/migrate.h"

#define API_WEBHOOK (AUTH_ROLE_NONE)
#define API_SCHEMA_REREAD_MS 10000
#define API_PEERS_COUNTED 4096 /* client addresses whose failed look-ups are remembered */
#define API_FAILURE_WINDOW_MS 60000 /* http.auth_failures_per_minute: a minute */

static const struct api_route api_routes[] = {
	{ "GET", "/healthz", AUTH_ROLE_NONE, API_BODY_NONE, api_healthz, NULL },
	{ "GET", "/readyz", AUTH_ROLE_NONE, API_BODY_NONE, api_readyz, NULL },
	{ "GET", "/metrics", AUTH_ROLE_ADMIN, API_BODY_NONE, counters_api, NULL },
	{ "GET", "/", AUTH_ROLE_NONE, API_BODY_NONE, console_redirect, NULL },
	{ "GET", "/console", AUTH_ROLE_NONE, API_BODY_NONE, console_redirect, NULL },
	{ "GET", "/console/{*}", AUTH_ROLE_NONE, API_BODY_NONE, console_serve, NULL },
	{ "GET", "/v1/openapi.json", AUTH_ROLE_NONE, API_BODY_NONE, docs_openapi, NULL },
	{ "GET", "/v1/docs", AUTH_ROLE_NONE, API_BODY_NONE, docs_page, NULL },
	{ "GET", "/v1/docs/docs.css", AUTH_ROLE_NONE, API_BODY_NONE, docs_stylesheet, NULL },
	{ "POST", "/v1/session", AUTH_ROLE_NONE, API_BODY_JSON, api_session_create, NULL },
	{ "GET", "/v1/session", API_ALL, API_BODY_NONE, api_session_get, NULL },
	{ "DELETE", "/v1/session", API_ALL, API_BODY_NONE, api_session_delete, NULL },
	{ "POST", "/v1/invites/check", AUTH_ROLE_NONE, API_BODY_JSON, api_invite_check, NULL },
	{ "POST", "/v1/invites/accept", AUTH_ROLE_NONE, API_BODY_JSON, api_invite_accept, NULL },
	{ "GET", "/v1/users", AUTH_ROLE_ADMIN, API_BODY_NONE, api_user_list, NULL },
	{ "POST", "/v1/users", AUTH_ROLE_ADMIN, API_BODY_JSON, api_user_create, NULL },
	{ "GET", "/v1/users/{}", AUTH_ROLE_ADMIN, API_BODY_NONE, api_user_get, NULL },
	{ "PUT", "/v1/users/{}", AUTH_ROLE_ADMIN, API_BODY_JSON, api_user_update, NULL },
	{ "POST", "/v1/users/{}/invite", AUTH_ROLE_ADMIN, API_BODY_JSON, api_user_invite, NULL },
	{ "POST", "/v1/tenants", API_STAFF, API_BODY_JSON, api_tenant_create, NULL },
	{ "GET", "/v1/tenants", API_STAFF, API_BODY_NONE, api_tenant_list, NULL },
	{ "POST", "/v1/tenants/import", API_STAFF, API_BODY_STREAM, api_tenant_import,
	  api_tenant_import_body },
	{ "GET", "/v1/tenants/suppressed", API_STAFF, API_BODY_NONE, api_tenant_suppressed, NULL },
	{ "GET", "/v1/tenants/facets", API_STAFF, API_BODY_NONE, api_tenant_facets, NULL },
	{ "GET", "/v1/tenants/{}", API_STAFF, API_BODY_NONE, api_tenant_get, NULL },
	{ "GET", "/v1/tenants/{}/texts", API_STAFF, API_BODY_NONE, api_tenant_texts, NULL },
	{ "GET", "/v1/tenants/{}/export", API_STAFF, API_BODY_NONE, api_tenant_export, NULL },
	{ "PATCH", "/v1/tenants/{}", API_STAFF, API_BODY_JSON, api_tenant_update, NULL },
	{ "DELETE", "/v1/tenants/{}", API_STAFF, API_BODY_NONE, api_tenant_erase, NULL },
	{ "POST", "/v1/tenants/{}/opt-out", API_STAFF, API_BODY_JSON, api_tenant_opt_out, NULL },
	{ "POST", "/v1/tenants/{}/unsuppress", API_STAFF, API_BODY_JSON, api_tenant_unsuppress, NULL },
	{ "POST", "/v1/campaigns", API_STAFF, API_BODY_JSON, api_campaign_create, NULL },
	{ "GET", "/v1/campaigns", API_STAFF, API_BODY_NONE, api_campaign_list, NULL },
	{ "POST", "/v1/campaigns/preview", API_STAFF, API_BODY_JSON, api_campaign_preview_unsaved,
	  NULL },
	{ "GET", "/v1/campaigns/{}", API_STAFF, API_BODY_NONE, api_campaign_get, NULL },
	{ "PUT", "/v1/campaigns/{}", API_STAFF, API_BODY_JSON, api_campaign_update, NULL },
	{ "POST", "/v1/campaigns/{}/schedule", API_STAFF, API_BODY_JSON, api_campaign_schedule,
	  NULL },
	{ "POST", "/v1/campaigns/{}/preview", API_STAFF, API_BODY_JSON, api_campaign_preview, NULL },
	{ "POST", "/v1/campaigns/{}/pause", API_STAFF, API_BODY_JSON, api_campaign_pause, NULL },
	{ "POST", "/v1/campaigns/{}/resume", API_STAFF, API_BODY_JSON, api_campaign_resume, NULL },
	{ "POST", "/v1/campaigns/{}/cancel", API_STAFF, API_BODY_JSON, api_campaign_cancel, NULL },
	{ "POST", "/v1/campaigns/{}/test", API_STAFF, API_BODY_JSON, api_campaign_test, NULL },
	{ "GET", "/v1/campaigns/{}/messages", API_STAFF, API_BODY_NONE, api_campaign_messages, NULL },
	{ "GET", "/v1/campaigns/{}/report.csv", API_STAFF, API_BODY_NONE, api_campaign_report, NULL },
	{ "GET", "/v1/help-requests", API_STAFF | AUTH_ROLE_PARTNER, API_BODY_NONE, api_help_list,
	  NULL },
	{ "GET", "/v1/help-requests/report.csv", API_STAFF, API_BODY_NONE, api_help_report, NULL },
	{ "GET", "/v1/help-requests/{}", API_STAFF | AUTH_ROLE_PARTNER, API_BODY_NONE, api_help_get,
	  NULL },
	{ "POST", "/v1/help-requests/{}/{}", API_STAFF | AUTH_ROLE_PARTNER, API_BODY_JSON,
	  api_help_move, NULL },
	{ "GET", "/v1/outcomes/report.csv", API_STAFF, API_BODY_NONE, api_outcomes_report, NULL },
	{ "GET", "/v1/outcomes", API_STAFF, API_BODY_NONE, api_outcomes, NULL },
	{ "POST", "/v1/referrals", API_ALL, API_BODY_JSON, api_referral_create, NULL },
	{ "POST", "/v1/landlords", AUTH_ROLE_ADMIN, API_BODY_JSON, api_landlord_create, NULL },
	{ "GET", "/v1/landlords", API_STAFF, API_BODY_NONE, api_landlord_list, NULL },
	{ "GET", "/v1/landlords/{}", API_STAFF, API_BODY_NONE, api_landlord_get, NULL },
	{ "PUT", "/v1/landlords/{}", AUTH_ROLE_ADMIN, API_BODY_JSON, api_landlord_update, NULL },
	{ "POST", "/v1/partners", AUTH_ROLE_ADMIN, API_BODY_JSON, api_partner_create, NULL },
	{ "GET", "/v1/partners", API_STAFF, API_BODY_NONE, api_partner_list, NULL },
	{ "GET", "/v1/partners/{}", API_STAFF, API_BODY_NONE, api_partner_get, NULL },
	{ "PUT", "/v1/partners/{}", AUTH_ROLE_ADMIN, API_BODY_JSON, api_partner_update, NULL },
	{ "GET", "/v1/keywords", API_STAFF, API_BODY_NONE, api_keywords_get, NULL },
	{ "PUT", "/v1/keywords", AUTH_ROLE_ADMIN, API_BODY_JSON, api_keywords_put, NULL },
	{ "GET", "/v1/replies/explain", API_STAFF, API_BODY_NONE, api_replies_explain, NULL },
	{ "GET", "/v1/replies/unrecognised", API_STAFF, API_BODY_NONE, api_replies_unrecognised,
	  NULL },
	{ "POST", "/v1/replies/unrecognised/{}/map", AUTH_ROLE_ADMIN, API_BODY_JSON,
	  api_replies_map, NULL },
	{ "GET", "/v1/flows", API_ALL, API_BODY_NONE, api_flow_list, NULL },
	{ "GET", "/v1/flows/{}", API_ALL, API_BODY_NONE, api_flow_get, NULL },
	{ "PUT", "/v1/flows/{}", AUTH_ROLE_ADMIN, API_BODY_JSON, api_flow_put, NULL },
	{ "GET", "/v1/providers", API_STAFF, API_BODY_NONE, api_providers_list, NULL },
	{ "POST", "/v1/providers/{}/inbound", API_WEBHOOK, API_BODY_RAW, inbound_webhook, NULL },
	{ "GET", "/v1/providers/{}/inbound", API_WEBHOOK, API_BODY_RAW, inbound_webhook, NULL },
	{ "POST", "/v1/providers/{}/status", API_WEBHOOK, API_BODY_RAW, receipts_webhook,
	  NULL },
	{ "GET", "/v1/providers/{}/status", API_WEBHOOK, API_BODY_RAW, receipts_webhook,
	  NULL },
	{ "POST", "/sim/messages", API_WEBHOOK, API_BODY_RAW, sim_server_accept, NULL },
	{ "POST", "/v1/sim/inbound", API_STAFF, API_BODY_JSON, sim_server_tenant_texts, NULL },
	{ "GET", "/v1/sim/messages", API_STAFF, API_BODY_NONE, sim_server_list, NULL },
	{ "GET", "/v1/keys", AUTH_ROLE_ADMIN, API_BODY_NONE, api_key_list, NULL },
	{ "DELETE", "/v1/keys/{}", AUTH_ROLE_ADMIN, API_BODY_NONE, api_key_revoke, NULL },
};

struct api_query_cache {
	struct kvlist kv;
	bool parsed;
	bool bad; /* a malformed %-escape, a NUL or bytes that are not UTF-8 */
};

/* ---- context and replies ---- */

struct api_ctx_private {
	struct api_ctx pub;
	struct api_query_cache query;
	bool auth_pending;
	bool complete_pending;
};

static void api_ctx_free(struct api_ctx *ctx)
{
	struct api_ctx_private *p = (struct api_ctx_private *)ctx;

	for (int i = 0; i < ctx->nparams; i++)
		free(ctx->params[i]);
	json_object_put(ctx->json);
	if (ctx->state_free)
		ctx->state_free(ctx->state);
	kvlist_free(&p->query.kv);
	free(p);
}

const struct api_route *api_route_at(size_t i)
{
	return i < ARRAY_LEN(api_routes) ? &api_routes[i] : NULL;
}

static void api_count(const struct api_ctx *ctx, int status)
{
	const struct api_route *r = ctx->route;

	counters_http(r ? (int)(r - api_routes) : -1, r && r->body == API_BODY_RAW, status,
		      clock_mono_ms() - ctx->req->started_ms);
}

void api_reply(struct api_ctx *ctx, int status, const char *content_type, const char *body,
	       size_t len)
{
	struct httpd_req *req = ctx->req;

	api_count(ctx, status);
	if (status >= 500 || log_enabled(LOG_DEBUG))
		log_msg(status >= 500 ? LOG_WARN : LOG_DEBUG,
			"http method=%s path=%s status=%d ms=%lld", req->method, req->path, status,
			(long long)(clock_mono_ms() - req->started_ms));
	api_ctx_free(ctx);
	httpd_reply(req, status, content_type, body, len);
}

void api_reply_end(struct api_ctx *ctx, bool complete)
{
	struct httpd_req *req = ctx->req;

	api_count(ctx, 200);
	if (!complete || log_enabled(LOG_DEBUG))
		log_msg(complete ? LOG_DEBUG : LOG_WARN, "http method=%s path=%s status=200%s ms=%lld",
			req->method, req->path, complete ? "" : " (cut short)",
			(long long)(clock_mono_ms() - req->started_ms));
	api_ctx_free(ctx);
	httpd_reply_end(req, complete);
}

void api_reply_json(struct api_ctx *ctx, int status, struct json_object *obj)
{
	struct sbuf clean;
	size_t len;
	const char *s = json_object_to_json_string_length(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	/* Messages quote paths and values as sent, or cut them short: answer UTF-8 all the same. */
	sbuf_init(&clean);
	if (!codec_utf8_valid(s, len)) {
		codec_utf8_sanitize(&clean, s, len);
		s = clean.data;
		len = clean.len;
	}
	api_reply(ctx, status, "application/json", s, len);
	sbuf_free(&clean);
	json_object_put(obj);
}

static const char *api_error_code_default(int status)
{
	switch (status) {
	case 400: return "bad_request";
	case 401: return "unauthorized";
	case 403: return "forbidden";
	case 404: return "not_found";
	case 405: return "method_not_allowed";
	case 408: return "request_timeout";
	case 409: return "conflict";
	case 413: return "too_large";
	case 415: return "unsupported_media_type";
	case 422: return "invalid";
	case 429: return "too_many_requests";
	case 503: return "unavailable";
	default: return "internal";
	}
}

void api_error(struct api_ctx *ctx, int status, const char *code, const char *field,
	       const char *fmt, ...)
{
	struct json_object *err = json_object_new_object();
	struct json_object *root = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(err, "code", json_object_new_string(code ? code
									: api_error_code_default(status)));
	json_object_object_add(err, "message", json_object_new_string(msg));
	if (field)
		json_object_object_add(err, "field", json_object_new_string(field));
	json_object_object_add(root, "error", err);
	api_reply_json(ctx, status, root);
}

/*
 * Answers row 0, column 0 (JSON text) with status; 404 when there is no such row, naming
 * what was asked for ("no campaign with id 7") or, with what NULL, the path.
 */
void api_reply_row(struct api_ctx *ctx, const struct db_result *r, int status, const char *what)
{
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_rows(r) == 0 || !db_get(r, 0, 0)) {
		if (what && ctx->nparams)
			api_error(ctx, 404, "not_found", NULL, "no %s with id %s", what, ctx->params[0]);
		else
			api_error(ctx, 404, "not_found", NULL, "no such resource: %s", ctx->req->path);
		return;
	}
	api_reply(ctx, status, "application/json", db_get(r, 0, 0), strlen(db_get(r, 0, 0)));
}

void api_db(struct api_ctx *ctx, const char *sql, int nparams, const char *const *params,
	    db_cb *cb, void *arg)
{
	db_query_scoped(ctx->app->db, ctx->landlord_id, sql, nparams, params, cb, arg);
}

static void api_got(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const char *what = ctx->state;

	ctx->state = NULL;
	api_reply_row(ctx, r, 200, what);
}

void api_get_by_id(struct api_ctx *ctx, const char *sql, const char *what)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	ctx->state = (void *)what; /* a static string: no state_free */
	const char *params[] = { ctx->params[0] };
	api_db(ctx, sql, 1, params, api_got, ctx);
}

void api_reply_items(struct api_ctx *ctx, const struct db_result *r)
{
	struct sbuf body;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	sbuf_init(&body);
	sbuf_printf(&body, "{\"items\": %s}", db_get(r, 0, 0));
	api_reply(ctx, 200, "application/json", body.data, body.len);
	sbuf_free(&body);
}

void api_error_from_message(struct api_ctx *ctx, const char *message)
{
	size_t n = strcspn(message, ":.[ ");
	char field[64];

	snprintf(field, sizeof(field), "%.*s", (int)MIN(n, sizeof(field) - 1), message);
	api_error(ctx, 422, "invalid", field, "%s", message);
}

void api_db_error(struct api_ctx *ctx, const struct db_result *r)
{
	if (r->pg == NULL || r->indeterminate) {
		log_warn("api database unavailable path=%s error=\"%.*s\"", ctx->req->path,
			 (int)strcspn(r->error, "\n"), r->error);
		api_error(ctx, 503, "database_unavailable", NULL,
			  "the database is not reachable right now; try again shortly");
		return;
	}
	log_error("api query failed path=%s sqlstate=%s error=\"%.*s\"", ctx->req->path,
		  r->sqlstate, (int)strcspn(r->error, "\n"), r->error);
	api_error(ctx, 500, "internal", NULL, "the request failed inside signpost; see the daemon log");
}

/* ---- parameters ---- */

bool api_param_id(struct api_ctx *ctx, int i, int64_t *out)
{
	if (i < ctx->nparams && str_to_i64(ctx->params[i], 1, INT64_MAX, out))
		return true;
	api_error(ctx, 404, "not_found", NULL, "no such resource: %s", ctx->req->path);
	return false;
}

/* Text PostgreSQL can store: UTF-8 without NUL. */
static bool api_text_ok(const char *s, size_t n)
{
	return strlen(s) == n && codec_utf8_valid(s, n);
}

/* Parses the query string once; false when it is malformed or is not text. */
static bool api_query_parse(struct api_ctx *ctx)
{
	struct api_query_cache *q = &((struct api_ctx_private *)ctx)->query;
	const char *raw = ctx->req->query;

	if (!q->parsed) {
		q->parsed = true;
		q->bad = raw && codec_form_parse(&q->kv, raw, strlen(raw)) < 0;
		for (size_t i = 0; i < q->kv.n && !q->bad; i++) {
			const struct kv *kv = &q->kv.items[i];
			q->bad = !codec_utf8_valid(kv->key, strlen(kv->key)) ||
				 !api_text_ok(kv->value, kv->value_len);
		}
		if (q->bad)
			kvlist_free(&q->kv);
	}
	return !q->bad;
}

const struct kvlist *api_query_all(struct api_ctx *ctx)
{
	struct api_query_cache *q = &((struct api_ctx_private *)ctx)->query;

	(void)api_query_parse(ctx);
	return &q->kv;
}

const char *api_query(struct api_ctx *ctx, const char *name)
{
	return kvlist_get(api_query_all(ctx), name);
}

/* ?limit=N (1-500, default 100) and ?before=ID for the next page. */
bool api_page(struct api_ctx *ctx, const char **before, char limit[16])
{
	const char *l = api_query(ctx, "limit");
	int64_t n = 100, b;

	*before = api_query(ctx, "before");
	if (l && !str_to_i64(l, 1, 500, &n)) {
		api_error(ctx, 422, "invalid", "limit", "limit must be a number from 1 to 500");
		return false;
	}
	if (*before && !str_to_i64(*before, 1, INT64_MAX, &b)) {
		api_error(ctx, 422, "invalid", "before", "before must be an id from a previous page");
		return false;
	}
	snprintf(limit, 16, "%lld", (long long)n);
	return true;
}

void api_items_done(const struct db_result *r, void *arg)
{
	api_reply_items(arg, r);
}

void api_list(struct api_ctx *ctx, const char *sql)
{
	const char *before;
	char limit[16];

	if (!api_page(ctx, &before, limit))
		return;
	const char *params[] = { before, limit };
	api_db(ctx, sql, 2, params, api_items_done, ctx);
}

/* ---- JSON field checks ---- */

static bool api_string_ok(struct api_ctx *ctx, const char *field, struct json_object *v,
			  size_t max_len)
{
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);

	if (strlen(s) != n) {
		api_error(ctx, 422, "invalid", field, "%s must not contain NUL characters", field);
		return false;
	}
	if (!codec_utf8_valid(s, n)) {
		api_error(ctx, 422, "invalid", field, "%s is not valid UTF-8 text", field);
		return false;
	}
	if (n > max_len) {
		api_error(ctx, 422, "invalid", field, "%s is too long (%zu bytes, at most %zu)",
			  field, n, max_len);
		return false;
	}
	return true;
}

bool api_field_string(struct api_ctx *ctx, struct json_object *obj, const char *key,
		      bool required, size_t max_len, const char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			api_error(ctx, 422, "required", key, "%s is required", key);
		return !required;
	}
	if (!json_object_is_type(v, json_type_string)) {
		api_error(ctx, 422, "invalid", key, "%s must be a string", key);
		return false;
	}
	if (!api_string_ok(ctx, key, v, max_len))
		return false;
	*out = json_object_get_string(v);
	return true;
}

bool api_field_string_array(struct api_ctx *ctx, struct json_object *obj, const char *key,
			    size_t max_items, size_t max_len, struct json_object **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > max_items) {
		api_error(ctx, 422, "invalid", key, "%s must be an array of at most %zu strings", key,
			  max_items);
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *item = json_object_array_get_idx(v, i);
		if (!json_object_is_type(item, json_type_string) ||
		    json_object_get_string_len(item) == 0) {
			api_error(ctx, 422, "invalid", key, "%s[%zu] must be a non-empty string", key, i);
			return false;
		}
		if (!api_string_ok(ctx, key, item, max_len))
			return false;
	}
	*out = v;
	return true;
}

bool api_field_int(struct api_ctx *ctx, struct json_object *obj, const char *key,
		   int64_t min, int64_t max, char out[16])
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < min ||
	    json_object_get_int64(v) > max) {
		api_error(ctx, 422, "invalid", key, "%s must be a whole number from %lld to %lld", key,
			  (long long)min, (long long)max);
		return false;
	}
	snprintf(out, 16, "%lld", (long long)json_object_get_int64(v));
	return true;
}

bool api_field_object(struct api_ctx *ctx, struct json_object *obj, const char *key,
		      bool required, struct json_object **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			api_error(ctx, 422, "required", key, "%s is required", key);
		return !required;
	}
	if (!json_object_is_type(v, json_type_object)) {
		api_error(ctx, 422, "invalid", key, "%s must be an object", key);
		return false;
	}
	*out = v;
	return true;
}

bool api_known_keys(struct api_ctx *ctx, struct json_object *obj, const char *prefix,
		    const char *const *known, size_t n)
{
	const char *key = keys_unknown(obj, known, n, NULL);
	size_t len = strlen(prefix);
	char field[256], where[256];
	struct sbuf msg;

	if (!key)
		return true;
	snprintf(field, sizeof(field), "%s%s", prefix, key);
	snprintf(where, sizeof(where), "%.*s", (int)(len && prefix[len - 1] == '.' ? len - 1 : len),
		 prefix);
	sbuf_init(&msg);
	keys_error(&msg, where, key, known, n, NULL);
	api_error(ctx, 422, "unknown_field", field, "%s", msg.data);
	sbuf_free(&msg);
	return false;
}

/* ---- health ---- */

void api_healthz(struct api_ctx *ctx)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ok"));
	api_reply_json(ctx, 200, o);
}

static void api_schema_read(const struct db_result *r, void *arg)
{
	struct app *app = arg;

	app->schema_reading = false;
	if (!r->error)
		app->schema_version = (int)db_get_i64(r, 0, 0);
}

/*
 * Asks for the schema version in the background, at most every API_SCHEMA_REREAD_MS:
 * readiness answers from the version last read and never waits for a query, so it
 * answers at once when the database does not.
 */
static void api_schema_refresh(struct app *app)
{
	int64_t now = clock_mono_ms();

	if (app->schema_reading ||
	    (app->schema_read_ms && now - app->schema_read_ms < API_SCHEMA_REREAD_MS))
		return;
	app->schema_reading = true;
	app->schema_read_ms = now;
	db_query(app->db, migrate_version_sql, 0, NULL, api_schema_read, app);
}

/* Providers as this daemon sees them now; other daemons keep their own breakers. */
void api_providers_list(struct api_ctx *ctx)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "items", dispatch_providers_json(ctx->app->dispatch));
	api_reply_json(ctx, 200, o);
}

void api_readyz(struct api_ctx *ctx)
{
	struct app *app = ctx->app;
	int latest = migrate_latest();

	if (app->stopping) {
		api_error(ctx, 503, "stopping", NULL, "signpostd is shutting down");
		return;
	}
	if (!db_healthy(app->db) || !db_session_up(app->db)) {
		api_error(ctx, 503, "database_unavailable", NULL, "the database is not reachable");
		return;
	}
	api_schema_refresh(app);
	if (!app->schema_version) {
		api_error(ctx, 503, "starting", NULL, "signpostd has not read the schema version yet");
		return;
	}
	if (app->schema_version != latest) {
		api_error(ctx, 503, "migrations_pending", NULL,
			  "the database schema is at version %d and this signpostd needs %d: run "
			  "`signpostd migrate`", app->schema_version, latest);
		return;
	}
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("ready"));
	json_object_object_add(o, "schema_version", json_object_new_int(latest));
	api_reply_json(ctx, 200, o);
}

/* ---- routing ---- */

static bool api_match(const char *pattern, const char *path, struct api_ctx *ctx)
{
	while (*pattern) {
		if (strcmp(pattern, "{*}") == 0 && ctx->nparams < (int)ARRAY_LEN(ctx->params)) {
			ctx->params[ctx->nparams++] = xstrdup(path);
			return true;
		}
		if (!*path)
			break;
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");
			if (n == 0 || ctx->nparams == (int)ARRAY_LEN(ctx->params))
				return false;
			ctx->params[ctx->nparams++] = xstrndup(path, n);
			path += n;
			pattern += 2;
		} else if (*pattern++ != *path++) {
			return false;
		}
	}
	return !*pattern && !*path;
}

/*
 * The simulator's routes exist only when the configuration says "simulator": true;
 * /metrics only when SIGNPOST_METRICS_LISTEN does not serve it on a listener of its own.
 */
static bool api_route_on(const struct app *app, const struct api_route *r)
{
	if (r->handle == counters_api)
		return !app->cfg.metrics_host;
	return app->cfg.simulator || (r->handle != sim_server_accept &&
				       r->handle != sim_server_tenant_texts &&
				       r->handle != sim_server_list);
}

/*
 * The route for method and path (HEAD takes GET's), its captures in ctx->params; with
 * ctx->app set, only the routes its configuration turns on.
 */
static const struct api_route *api_route_match(const char *method, const char *path,
					       struct api_ctx *ctx, bool *path_known)
{
	bool head = strcmp(method, "HEAD") == 0;

	*path_known = false;
	for (size_t i = 0; i < ARRAY_LEN(api_routes); i++) {
		const struct api_route *r = &api_routes[i];
		for (int p = 0; p < ctx->nparams; p++)
			free(ctx->params[p]);
		ctx->nparams = 0;
		if ((ctx->app && !api_route_on(ctx->app, r)) || !api_match(r->pattern, path, ctx))
			continue;
		*path_known = true;
		if (strcmp(r->method, method) == 0 || (head && strcmp(r->method, "GET") == 0))
			return r;
	}
	return NULL;
}

static const struct api_route *api_route_find(struct api_ctx *ctx, bool *path_known)
{
	return api_route_match(ctx->req->method, ctx->req->path, ctx, path_known);
}

const struct api_route *api_route_table(size_t *n)
{
	*n = ARRAY_LEN(api_routes);
	return api_routes;
}

const struct api_route *api_route_lookup(const char *method, const char *path)
{
	struct api_ctx ctx = { 0 };
	bool path_known;
	const struct api_route *r = api_route_match(method, path, &ctx, &path_known);

	for (int p = 0; p < ctx.nparams; p++)
		free(ctx.params[p]);
	return r;
}

/*
 * The first string (member name or value) that holds a NUL or is not UTF-8, as a field path
 * ("keywords[2].reply") in path; false when there is none. PostgreSQL stores neither.
 */
static bool api_json_bad_text(struct json_object *o, char *path, size_t size, int depth)
{
	size_t len = strlen(path);

	if (json_object_is_type(o, json_type_string)) {
		return !api_text_ok(json_object_get_string(o),
				    (size_t)json_object_get_string_len(o));
	}
	if (depth > 64)
		return false;
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			snprintf(path + len, size - len, "[%zu]", i);
			if (api_json_bad_text(json_object_array_get_idx(o, i), path, size, depth + 1))
				return true;
		}
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, key, v) {
			snprintf(path + len, size - len, "%s%s", len ? "." : "", key);
			if (!codec_utf8_valid(key, strlen(key)) ||
			    api_json_bad_text(v, path, size, depth + 1))
				return true;
		}
	}
	path[len] = '\0';
	return false;
}

/* A \u escape of half a surrogate pair: json-c would quietly make it U+FFFD. */
static bool api_json_lone_surrogate(const char *s, size_t n)
{
	unsigned hi = 0;

	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\\')
			continue;
		unsigned cp = 0;
		if (s[i + 1] != 'u' || i + 6 > n || sscanf(s + i + 2, "%4x", &cp) != 1) {
			if (hi)
				return true;
			i++;
			continue;
		}
		if (cp >= 0xdc00 && cp <= 0xdfff && !hi)
			return true;
		if (hi && !(cp >= 0xdc00 && cp <= 0xdfff))
			return true;
		hi = !hi && cp >= 0xd800 && cp <= 0xdbff;
		i += 5;
	}
	return hi != 0;
}

static void api_run(struct api_ctx *ctx)
{
	struct httpd_req *req = ctx->req;
	enum json_tokener_error jerr;

	if (ctx->route->body == API_BODY_STREAM) {
		ctx->route->handle(ctx); /* the handler owns its stream, aborted or not */
		return;
	}
	if (req->body_late) {
		api_error(ctx, 408, "request_timeout", NULL, "the request body took longer than %d s "
			  "to arrive", req->deadline_ms / 1000);
		return;
	}
	if (req->body_aborted) {
		api_error(ctx, 400, "bad_request", NULL, "the request body was cut short or malformed");
		return;
	}
	if (req->body_too_large) {
		api_error(ctx, 413, "too_large", NULL, "the request body is larger than %zu bytes",
			  req->body_limit);
		return;
	}
	if (!api_query_parse(ctx)) {
		api_error(ctx, 400, "bad_request", "query", "the query string is malformed: write "
			  "name=value pairs separated by &, %%-encoded UTF-8");
		return;
	}
	if (ctx->route->body == API_BODY_JSON && req->body.len == 0) {
		ctx->json = json_object_new_object(); /* no body: no fields */
	} else if (ctx->route->body == API_BODY_JSON) {
		struct json_tokener *tok = json_tokener_new();
		/* RFC 8259 JSON: no single quotes, comments, NaN or trailing commas. */
		json_tokener_set_flags(tok, JSON_TOKENER_VALIDATE_UTF8 | JSON_TOKENER_STRICT);
		ctx->json = json_tokener_parse_ex(tok, sbuf_str(&req->body), (int)req->body.len);
		jerr = json_tokener_get_error(tok);
		if (ctx->json && jerr == json_tokener_success && tok->char_offset < (int)req->body.len)
			jerr = json_tokener_error_parse_unexpected;
		json_tokener_free(tok);
		if (!ctx->json || jerr != json_tokener_success ||
		    !json_object_is_type(ctx->json, json_type_object)) {
			api_error(ctx, 400, "invalid_json", NULL,
				  "the body must be one JSON object (%s)",
				  jerr != json_tokener_success ? json_tokener_error_desc(jerr)
							       : "got another JSON value");
			return;
		}
		if (api_json_lone_surrogate(req->body.data, req->body.len)) {
			api_error(ctx, 400, "invalid_json", NULL, "the body has a \\u escape of half "
				  "a surrogate pair, which is not a character");
			return;
		}
		char path[256] = "";
		if (api_json_bad_text(ctx->json, path, sizeof(path), 0)) {
			api_error(ctx, 422, "invalid", path, "%s: text must be UTF-8 without NUL "
				  "characters", path);
			return;
		}
	}
	ctx->route->handle(ctx);
}

static void api_authorised(struct api_ctx *ctx)
{
	struct api_ctx_private *p = (struct api_ctx_private *)ctx;

	if (p->complete_pending)
		api_run(ctx);
	else
		httpd_req_resume(ctx->req);
}

/* The route's role check, the same for keys and sessions; then the handler may run. */
static void api_admit(struct api_ctx *ctx, enum auth_role role, int64_t partner_id,
		      int64_t landlord_id)
{
	if (!(ctx->route->roles & role)) {
		api_error(ctx, 403, "forbidden", NULL, "a%s %s %s cannot use %s %s",
			  role == AUTH_ROLE_ADMIN || role == AUTH_ROLE_OFFICER ? "n" : "",
			  auth_role_str(role), ctx->user_id ? "user" : "key", ctx->route->method,
			  ctx->route->pattern);
		return;
	}
	ctx->role = role;
	ctx->partner_id = partner_id;
	ctx->landlord_id = landlord_id;
	api_authorised(ctx);
}

/*
 * Failed look-ups of keys and sessions are counted per client address: past
 * http.auth_failures_per_minute its requests with a key or a session are refused (429)
 * without a look-up until its minute is out, which bounds both guessing and the
 * statements made-up keys cost. Addresses in http.exempt_addresses are not counted.
 */
static void api_auth_failed(struct api_ctx *ctx)
{
	if (!ctx->req->peer_exempt)
		limiter_hit(ctx->app->auth_failures, ctx->req->peer, clock_mono_ms());
}

/* Answers 429 and returns true when the client's address may not try a key now. */
static bool api_auth_refused(struct api_ctx *ctx)
{
	int64_t wait = ctx->req->peer_exempt ? 0 : limiter_wait_ms(ctx->app->auth_failures,
								    ctx->req->peer, clock_mono_ms());
	char seconds[24];

	if (!wait)
		return false;
	snprintf(seconds, sizeof(seconds), "%lld", (long long)(wait + 999) / 1000);
	httpd_add_header(ctx->req, "Retry-After", seconds);
	api_error(ctx, 429, "too_many_failures", NULL, "too many requests from your address came "
		  "with a key or session that is not valid; try again in %s s", seconds);
	return true;
}

static void api_auth_unavailable(struct api_ctx *ctx)
{
	api_error(ctx, 503, "database_unavailable", NULL,
		  "the database is not reachable right now; try again shortly");
}

static void api_auth_done(const struct auth_key *key, bool unavailable, void *arg)
{
	struct api_ctx *ctx = arg;
	struct api_ctx_private *p = arg;

	p->auth_pending = false;
	if (unavailable) {
		api_auth_unavailable(ctx);
		return;
	}
	if (!key) {
		api_auth_failed(ctx);
		httpd_add_header(ctx->req, "WWW-Authenticate", "Bearer");
		api_error(ctx, 401, "unauthorized", NULL,
			  "this API key is not valid (it may have been revoked)");
		return;
	}
	ctx->key_id = key->id;
	snprintf(ctx->actor, sizeof(ctx->actor), "API key %lld", (long long)key->id);
	api_admit(ctx, key->role, key->partner_id, key->landlord_id);
}

static bool api_method_safe(const struct httpd_req *req)
{
	return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

static void api_session_done(const struct session_user *u, bool unavailable, void *arg)
{
	struct api_ctx *ctx = arg;
	struct api_ctx_private *p = arg;

	p->auth_pending = false;
	if (unavailable) {
		api_auth_unavailable(ctx);
		return;
	}
	if (!u) {
		api_auth_failed(ctx);
		session_clear_cookie(ctx);
		api_error(ctx, 401, "session_expired", NULL, "you are not signed in (your session "
			  "may have ended after a time without use): sign in again");
		return;
	}
	ctx->user_id = u->user_id;
	snprintf(ctx->csrf, sizeof(ctx->csrf), "%s", u->csrf);
	snprintf(ctx->actor, sizeof(ctx->actor), "%.150s", u->email);
	if (!api_method_safe(ctx->req) && !session_same_origin(ctx, u->csrf))
		return;
	api_admit(ctx, u->role, u->partner_id, u->landlord_id);
}

/*
 * A bearer key when there is an Authorization header, else a console session cookie.
 * Reading stops while the key or session is looked up.
 */
static void api_authenticate(struct api_ctx *ctx)
{
	struct api_ctx_private *p = (struct api_ctx_private *)ctx;
	const char *h = httpd_req_header(ctx->req, "Authorization");
	char token[SESSION_TOKEN_HEX + 1];
	bool cookie = !h && session_cookie(ctx->req, token);

	if ((h || cookie) && api_auth_refused(ctx))
		return;
	if (cookie) {
		p->auth_pending = true;
		httpd_req_pause(ctx->req);
		session_lookup(ctx->app, token, api_session_done, ctx);
		return;
	}
	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		httpd_add_header(ctx->req, "WWW-Authenticate", "Bearer");
		api_error(ctx, 401, "unauthorized", NULL,
			  "send an API key as the header Authorization: Bearer <key>, or sign in "
			  "to the console");
		return;
	}
	p->auth_pending = true;
	httpd_req_pause(ctx->req);
	auth_lookup(ctx->app->auth, h + 7, api_auth_done, ctx);
}

/*
 * On every answer: no script, style or frame from anywhere but this service and no
 * framing at all (the console has no inline script or style), no type sniffing, and no
 * URL in the Referer to other sites.
 */
static void api_security_headers(struct httpd_req *req)
{
	httpd_add_header(req, "Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'");
	httpd_add_header(req, "X-Content-Type-Options", "nosniff");
	httpd_add_header(req, "Referrer-Policy", "same-origin");
}

/* The Content-Length a request declares (httpd has checked it), 0 when none. */
static int64_t api_declared_length(const struct httpd_req *req)
{
	const char *cl = httpd_req_header(req, "Content-Length");
	int64_t n = 0;

	return cl && str_to_i64(cl, 0, INT64_MAX, &n) ? n : 0;
}

/* The most a route's body may hold: webhooks' texts are short, imports are files. */
static size_t api_body_limit(const struct api_route *route)
{
	switch (route->body) {
	case API_BODY_STREAM: return API_CSV_LIMIT;
	case API_BODY_RAW: return API_WEBHOOK_LIMIT;
	default: return API_JSON_LIMIT;
	}
}

/* A body declared larger than its route takes is refused before any of it is read. */
static void api_too_large(struct api_ctx *ctx)
{
	if (ctx->route->body == API_BODY_STREAM)
		api_error(ctx, 413, "too_large", NULL, "the body is larger than %u MiB; split it "
			  "into parts", API_CSV_LIMIT >> 20);
	else
		api_error(ctx, 413, "too_large", NULL, "the request body is larger than %zu bytes",
			  api_body_limit(ctx->route));
}

static void api_on_headers(struct httpd_req *req, void *arg)
{
	struct api_ctx_private *p = xcalloc(1, sizeof(*p));
	struct api_ctx *ctx = &p->pub;
	bool path_known;

	ctx->app = arg;
	ctx->req = req;
	req->data = ctx;
	api_security_headers(req);
	ctx->route = api_route_find(ctx, &path_known);
	if (!ctx->route) {
		if (path_known)
			api_error(ctx, 405, "method_not_allowed", NULL, "%s is not allowed on %s",
				  req->method, req->path);
		else
			api_error(ctx, 404, "not_found", NULL, "no such resource: %s", req->path);
		return;
	}
	if (api_declared_length(req) > (int64_t)api_body_limit(ctx->route)) {
		api_too_large(ctx);
		return;
	}
	if (ctx->route->body == API_BODY_STREAM) {
		httpd_req_stream_body(req);
		httpd_req_set_deadline(req, ctx->app->cfg.http.import_s * 1000);
	} else {
		httpd_req_buffer_body(req, api_body_limit(ctx->route));
	}
	if (ctx->route->roles)
		api_authenticate(ctx);
}

static int api_on_body(struct httpd_req *req, const char *data, size_t len, void *arg)
{
	struct api_ctx *ctx = req->data;
	(void)arg;
	return ctx->route->on_body(ctx, data, len);
}

static void api_on_complete(struct httpd_req *req, void *arg)
{
	struct api_ctx_private *p = req->data;
	(void)arg;

	if (p->auth_pending) {
		p->complete_pending = true;
		return;
	}
	api_run(&p->pub);
}

void api_init(struct app *app)
{
	static const struct httpd_handlers handlers = {
		.on_headers = api_on_headers,
		.on_body = api_on_body,
		.on_complete = api_on_complete,
	};
	const struct http_cfg *cfg = &app->cfg.http;
	struct httpd_limits limits = {
		.request_ms = cfg->request_s * 1000,
		.conns_per_peer = (size_t)cfg->conns_per_ip,
		.exempt = (const char *const *)cfg->exempt,
	};

	app->httpd = httpd_new(app->base, &handlers, app);
	httpd_set_limits(app->httpd, &limits);
	app->auth = auth_new(app->db);
	app->auth_failures = limiter_new(API_PEERS_COUNTED, cfg->auth_failures_per_min,
					  API_FAILURE_WINDOW_MS);
	api_schema_refresh(app);
}

void api_shutdown(struct app *app)
{
	httpd_free(app->httpd);
	app->httpd = NULL;
	auth_free(app->auth);
	app->auth = NULL;
	limiter_free(app->auth_failures);
	app->auth_failures = NULL;
}
