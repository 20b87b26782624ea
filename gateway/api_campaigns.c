/*
 * api_campaigns.c: creating, scheduling and watching campaigns.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/template.h"
#include "campaigns/window.h"
#include "gateway/api_handlers.h"
#include "gateway/log.h"

#define CAMPAIGN_MAX_NAME 200
#define CAMPAIGN_MAX_BODY 1600
#define CAMPAIGN_MAX_RULES 200

/* Placeholders a campaign text may use. */
static const char *const campaign_fields[] = { "first_name", "borough", "landlord" };

#define CAMPAIGN_COUNTS                                                                      \
	"(SELECT jsonb_build_object('queued', 0, 'retry', 0, 'sending', 0, 'unknown', 0, "      \
	"'submitted', 0, 'enroute', 0, 'delivered', 0, 'undelivered', 0, 'failed', 0, "         \
	"'rejected', 0, 'expired', 0, 'cancelled', 0, 'skipped_opted_out', 0) "                 \
	"|| coalesce(jsonb_object_agg(k, n), '{}') "                                            \
	"|| jsonb_build_object('total', coalesce(sum(n), 0)) FROM (SELECT CASE WHEN "           \
	"state = 'skipped' THEN 'skipped_' || coalesce(skip_reason, 'other') ELSE state END "   \
	"AS k, count(*) AS n FROM messages WHERE campaign_id = c.id AND kind = 'campaign' "      \
	"GROUP BY 1) x)"

#define CAMPAIGN_JSON                                                                        \
	"json_build_object('id', c.id, 'name', c.name, 'body', c.body, 'state', c.state, "     \
	"'audience', c.audience, 'provider', c.provider, 'send_window', c.send_window, "       \
	"'start_at', c.start_at, 'created_at', c.created_at, 'scheduled_at', c.scheduled_at, " \
	"'started_at', c.started_at, 'completed_at', c.completed_at, 'counts', "               \
	CAMPAIGN_COUNTS ")::text"

static const char campaign_insert_sql[] =
	"WITH c AS (INSERT INTO campaigns (name, body, audience, provider, send_window) "
	"VALUES ($1, $2, $3::jsonb, $4, $5::jsonb) RETURNING *) SELECT " CAMPAIGN_JSON " FROM c";

static const char campaign_get_sql[] = "SELECT " CAMPAIGN_JSON " FROM campaigns c WHERE c.id = $1";

static const char campaign_list_sql[] =
	"SELECT coalesce(json_agg(j ORDER BY id DESC), '[]')::text FROM (SELECT c.id, "
	CAMPAIGN_JSON "::json AS j FROM campaigns c WHERE $1::bigint IS NULL OR c.id < $1 "
	"ORDER BY c.id DESC LIMIT $2) x";

static const char campaign_schedule_sql[] =
	"WITH before AS (SELECT state FROM campaigns WHERE id = $1), "
	"c AS (UPDATE campaigns SET state = 'scheduled', start_at = coalesce($2::timestamptz, "
	"now()), scheduled_at = now(), updated_at = now() WHERE id = $1 AND state = 'draft' "
	"RETURNING *) "
	"SELECT (SELECT state FROM before), (SELECT " CAMPAIGN_JSON " FROM c), "
	"pg_notify('signpost_work', 'campaign')";

/* ---- POST /v1/campaigns ---- */

static bool campaign_audience(struct api_ctx *ctx, struct json_object *in, struct sbuf *out)
{
	static const char *const known[] = { "boroughs", "landlords", "tags", "all" };
	static const char *const lists[] = { "boroughs", "landlords", "tags" };
	struct json_object *norm = json_object_new_object(), *v;
	bool any = false, ok = false;

	if (!api_known_keys(ctx, in, "audience.", known, ARRAY_LEN(known)))
		goto out;
	for (size_t i = 0; i < ARRAY_LEN(lists); i++) {
		struct json_object *arr = NULL, *lower = json_object_new_array();
		char field[32];
		snprintf(field, sizeof(field), "audience.%s", lists[i]);
		if (json_object_object_get_ex(in, lists[i], &v) && !json_object_is_type(v, json_type_array)) {
			api_error(ctx, 422, "invalid", field, "%s must be an array of strings", field);
			json_object_put(lower);
			goto out;
		}
		if (!api_field_string_array(ctx, in, lists[i], CAMPAIGN_MAX_RULES, 100, &arr)) {
			json_object_put(lower);
			goto out;
		}
		for (size_t j = 0; arr && j < json_object_array_length(arr); j++) {
			char *s = xstrdup(json_object_get_string(json_object_array_get_idx(arr, j)));
			for (char *p = s; *p; p++)
				*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
			json_object_array_add(lower, json_object_new_string(s));
			free(s);
		}
		any = any || json_object_array_length(lower) > 0;
		json_object_object_add(norm, lists[i], lower);
	}
	if (json_object_object_get_ex(in, "all", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			api_error(ctx, 422, "invalid", "audience.all", "audience.all must be true or false");
			goto out;
		}
		if (json_object_get_boolean(v)) {
			any = true;
			json_object_object_add(norm, "all", json_object_new_boolean(1));
		}
	}
	if (!any) {
		api_error(ctx, 422, "invalid", "audience",
			  "audience: name at least one of boroughs, landlords or tags (or set "
			  "\"all\": true to text every tenant)");
		goto out;
	}
	sbuf_adds(out, json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN));
	ok = true;
out:
	json_object_put(norm);
	return ok;
}

static bool campaign_body(struct api_ctx *ctx, const char *body)
{
	struct sbuf err;
	bool ok;

	sbuf_init(&err);
	ok = template_validate(body, campaign_fields, ARRAY_LEN(campaign_fields), &err) == 0;
	if (!ok)
		api_error(ctx, 422, "invalid", "body", "body: %s", err.data);
	else if (!*body)
		api_error(ctx, 422, "required", "body", "body must not be empty");
	sbuf_free(&err);
	return ok && *body;
}

static bool campaign_window(struct api_ctx *ctx, struct sbuf *out)
{
	struct json_object *in = NULL, *norm;
	struct send_window w;
	struct sbuf err;

	window_default(&w);
	if (!api_field_object(ctx, ctx->json, "send_window", false, &in))
		return false;
	sbuf_init(&err);
	if (in && window_from_json(in, &w, &err) < 0) {
		const char *colon = strchr(sbuf_str(&err), ':');
		char *field = xstrndup(sbuf_str(&err), colon ? (size_t)(colon - err.data) : 11);
		api_error(ctx, 422, "invalid", field, "%s", err.data);
		free(field);
		sbuf_free(&err);
		return false;
	}
	sbuf_free(&err);
	norm = window_to_json(&w);
	sbuf_adds(out, json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN));
	json_object_put(norm);
	return true;
}

static bool campaign_check_provider(struct api_ctx *ctx, const char *field, const char *name)
{
	const struct config *cfg = &ctx->app->cfg;
	struct sbuf names;

	if (!name || config_provider(cfg, name))
		return true;
	sbuf_init(&names);
	for (size_t i = 0; i < cfg->nproviders; i++)
		sbuf_printf(&names, "%s%s", i ? ", " : "", cfg->providers[i].name);
	api_error(ctx, 422, "invalid", field, "%s: \"%s\" is not a configured provider (configured: %s)",
		  field, name, names.data);
	sbuf_free(&names);
	return false;
}

static void campaign_reply_row(const struct db_result *r, void *arg, int status)
{
	struct api_ctx *ctx = arg;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_rows(r) == 0) {
		api_error(ctx, 404, "not_found", NULL, "no campaign with id %s", ctx->params[0]);
		return;
	}
	api_reply(ctx, status, "application/json", db_get(r, 0, 0), strlen(db_get(r, 0, 0)));
}

static void campaign_created(const struct db_result *r, void *arg)
{
	campaign_reply_row(r, arg, 201);
}

void api_campaign_create(struct api_ctx *ctx)
{
	static const char *const known[] = { "name", "body", "audience", "provider", "send_window" };
	const char *name = NULL, *body = NULL, *provider = NULL;
	struct json_object *audience = NULL;
	struct sbuf aud, window;

	sbuf_init(&aud);
	sbuf_init(&window);
	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "name", true, CAMPAIGN_MAX_NAME, &name) ||
	    !api_field_string(ctx, ctx->json, "body", true, CAMPAIGN_MAX_BODY, &body) ||
	    !campaign_body(ctx, body) ||
	    !api_field_object(ctx, ctx->json, "audience", true, &audience) ||
	    !campaign_audience(ctx, audience, &aud) ||
	    !api_field_string(ctx, ctx->json, "provider", false, 100, &provider) ||
	    !campaign_check_provider(ctx, "provider", provider) || !campaign_window(ctx, &window))
		goto out;
	if (!*name) {
		api_error(ctx, 422, "required", "name", "name must not be empty");
		goto out;
	}
	const char *params[] = { name, body, aud.data, provider, window.data };
	db_query(ctx->app->db, campaign_insert_sql, 5, params, campaign_created, ctx);
out:
	sbuf_free(&aud);
	sbuf_free(&window);
}

/* ---- GET ---- */

static void campaign_got(const struct db_result *r, void *arg)
{
	campaign_reply_row(r, arg, 200);
}

void api_campaign_get(struct api_ctx *ctx)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { ctx->params[0] };
	db_query(ctx->app->db, campaign_get_sql, 1, params, campaign_got, ctx);
}

static void campaign_listed(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
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

void api_campaign_list(struct api_ctx *ctx)
{
	const char *before;
	char limit[16];

	if (!api_page(ctx, &before, limit))
		return;
	const char *params[] = { before, limit };
	db_query(ctx->app->db, campaign_list_sql, 2, params, campaign_listed, ctx);
}

/* ---- POST /v1/campaigns/{id}/schedule ---- */

static void campaign_scheduled(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const char *before;

	if (r->error && (strcmp(r->sqlstate, "22007") == 0 || strcmp(r->sqlstate, "22008") == 0)) {
		api_error(ctx, 422, "invalid", "start_at",
			  "start_at is not a valid time; use ISO 8601, for example 2026-12-01T09:30:00Z");
		return;
	}
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	before = db_get(r, 0, 0);
	if (!before) {
		api_error(ctx, 404, "not_found", NULL, "no campaign with id %s", ctx->params[0]);
		return;
	}
	if (!db_get(r, 0, 1)) {
		api_error(ctx, 409, "invalid_state", "state",
			  "only a draft campaign can be scheduled; this one is %s", before);
		return;
	}
	log_info("campaign scheduled id=%s", ctx->params[0]);
	api_reply(ctx, 200, "application/json", db_get(r, 0, 1), strlen(db_get(r, 0, 1)));
}

void api_campaign_schedule(struct api_ctx *ctx)
{
	static const char *const known[] = { "start_at" };
	const char *start_at = NULL;
	int64_t id;

	if (!api_param_id(ctx, 0, &id) ||
	    !api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "start_at", false, 64, &start_at))
		return;
	const char *params[] = { ctx->params[0], start_at };
	db_query(ctx->app->db, campaign_schedule_sql, 2, params, campaign_scheduled, ctx);
}
