/*
 * api_campaigns.c: creating, changing, scheduling and watching campaigns.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/audience.h"
#include "campaigns/render.h"
#include "campaigns/template.h"
#include "campaigns/window.h"
#include "gateway/api_campaign.h"
#include "gateway/api_handlers.h"
#include "gateway/lifecycle.h"
#include "gateway/sched.h"
#include "infra/log.h"

#define CAMPAIGN_MAX_NAME 200
#define CAMPAIGN_MAX_BODY 1600
#define CAMPAIGN_MAX_LANGUAGES 20
#define CAMPAIGN_MAX_RATE 100000

#define CAMPAIGN_COUNTS                                                                      \
	"(SELECT jsonb_build_object('queued', 0, 'retry', 0, 'sending', 0, 'unknown', 0, "      \
	"'submitted', 0, 'enroute', 0, 'delivered', 0, 'undelivered', 0, 'failed', 0, "         \
	"'rejected', 0, 'expired', 0, 'cancelled', 0, 'skipped_opted_out', 0, "                 \
	"'skipped_suppressed', 0, 'skipped_no_consent', 0, 'skipped_erased', 0) "               \
	"|| coalesce(jsonb_object_agg(k, n), '{}') "                                            \
	"|| jsonb_build_object('total', coalesce(sum(n), 0)) FROM (SELECT CASE WHEN "           \
	"state = 'skipped' THEN 'skipped_' || coalesce(skip_reason, 'other') ELSE state END "   \
	"AS k, count(*) AS n FROM messages WHERE campaign_id = c.id AND kind = 'campaign' "      \
	"GROUP BY 1) x)"

#define CAMPAIGN_JSON                                                                        \
	"json_build_object('id', c.id, 'name', c.name, 'body', c.body, 'state', c.state, "     \
	"'audience', c.audience, 'landlord_id', c.landlord_id, 'provider', c.provider, "       \
	"'send_window', c.send_window, "                                                        \
	"'fallback_provider', c.fallback_provider, 'rate_per_minute', c.rate_per_minute, "     \
	"'smart_encoding', c.smart_encoding, 'purpose', c.purpose, 'bodies', c.bodies, "        \
	"'paused_at', c.paused_at, 'cancelled_at', c.cancelled_at, "                             \
	"'start_at', c.start_at, 'created_at', c.created_at, 'scheduled_at', c.scheduled_at, " \
	"'started_at', c.started_at, 'completed_at', c.completed_at, 'counts', "               \
	CAMPAIGN_COUNTS ")::text"

/* What the campaign caused, and texts sent per hour, for GET /v1/campaigns/{id}. */
/* What a campaign caused: replies, opt-outs, help requests and how many were helped. */
#define CAMPAIGN_RESULTS                                                                     \
	"jsonb_build_object('replies', (SELECT count(*) FROM inbound_messages i "               \
	"WHERE i.campaign_id = c.id), 'opt_outs', (SELECT count(*) FROM inbound_messages i "     \
	"WHERE i.campaign_id = c.id AND i.action = 'opt_out'), 'help_requests', (SELECT "       \
	"count(*) FROM help_requests h WHERE h.campaign_id = c.id), 'helped', (SELECT "         \
	"count(*) FROM help_requests h WHERE h.campaign_id = c.id AND h.outcome = 'helped'))"

#define CAMPAIGN_PROGRESS                                                                    \
	CAMPAIGN_RESULTS " || jsonb_build_object('per_hour', (SELECT "                         \
	"coalesce(jsonb_agg(jsonb_build_object('hour', h, 'sent', n, 'delivered', d, 'failed', " \
	"f) ORDER BY h), '[]') FROM (SELECT date_trunc('hour', m.submitted_at) AS h, count(*) "  \
	"AS n, count(*) FILTER (WHERE m.state = 'delivered') AS d, count(*) FILTER (WHERE "      \
	"m.state IN ('failed', 'rejected', 'undelivered', 'expired')) AS f FROM messages m "    \
	"WHERE m.campaign_id = c.id AND m.kind = 'campaign' AND m.submitted_at IS NOT NULL "    \
	"GROUP BY 1) x))"

static const char campaign_insert_sql[] =
	"WITH c AS (INSERT INTO campaigns (name, body, audience, provider, send_window, "
	"fallback_provider, rate_per_minute, smart_encoding, purpose, bodies) "
	"VALUES ($1, $2, $3::jsonb, coalesce($4, (SELECT l.provider FROM landlords l "
	"WHERE l.id = signpost_scope())), $5::jsonb, $6, $7::int, coalesce($8::bool, true), "
	"coalesce($9, 'service'), coalesce($10::jsonb, '{}')) RETURNING *) "
	"SELECT " CAMPAIGN_JSON " FROM c";

static const char campaign_get_sql[] =
	"SELECT ((" CAMPAIGN_JSON ")::jsonb || " CAMPAIGN_PROGRESS ")::text "
	"FROM campaigns c WHERE c.id = $1";

static const char campaign_row_sql[] =
	"SELECT id, body, bodies::text, smart_encoding, purpose = 'marketing', "
	"coalesce(provider, $2), state, send_window::text, coalesce(rate_per_minute, 0), "
	"extract(epoch FROM greatest(coalesce(start_at, now()), now()))::bigint, "
	"fallback_provider, (audience || CASE WHEN landlord_id IS NULL THEN '{}'::jsonb "
	"ELSE jsonb_build_object('_landlord', landlord_id) END)::text FROM campaigns WHERE id = $1";

static const char campaign_list_sql[] =
	"SELECT coalesce(json_agg(j ORDER BY id DESC), '[]')::text FROM (SELECT c.id, "
	"(" CAMPAIGN_JSON ")::jsonb || " CAMPAIGN_RESULTS " AS j FROM campaigns c "
	"WHERE $1::bigint IS NULL OR c.id < $1 ORDER BY c.id DESC LIMIT $2) x";

/*
 * The statements that move a campaign (gateway/lifecycle.c has the moves) or change a
 * draft answer three columns (enum campaign_move_col): the state before (NULL: no such
 * campaign), the campaign after as JSON or its id (NULL: the state did not allow it), and
 * the state after.
 */
enum campaign_move_col { MOVE_BEFORE, MOVE_AFTER, MOVE_STATE };

static const char campaign_pause_sql[] =
	"WITH before AS (SELECT state FROM campaigns WHERE id = $1), "
	"c AS (UPDATE campaigns SET state = 'paused', paused_at = now(), updated_at = now() "
	"WHERE id = $1 AND state IN ('scheduled', 'running') RETURNING id, state) "
	"SELECT (SELECT state FROM before), (SELECT id FROM c), (SELECT state FROM c), "
	"pg_notify('signpost_work', 'campaign')";

static const char campaign_resume_sql[] =
	"WITH before AS (SELECT state FROM campaigns WHERE id = $1), "
	"c AS (UPDATE campaigns SET state = CASE WHEN started_at IS NULL THEN 'scheduled' "
	"ELSE 'running' END, paused_at = NULL, updated_at = now() "
	"WHERE id = $1 AND state = 'paused' RETURNING id, state) "
	"SELECT (SELECT state FROM before), (SELECT id FROM c), (SELECT state FROM c), "
	"pg_notify('signpost_work', 'campaign')";

/* Every text not yet handed to a provider is cancelled with the campaign. */
static const char campaign_cancel_sql[] =
	"WITH before AS (SELECT state FROM campaigns WHERE id = $1), "
	"c AS (UPDATE campaigns SET state = 'cancelled', cancelled_at = now(), "
	"expanded_at = coalesce(expanded_at, now()), updated_at = now() "
	"WHERE id = $1 AND state IN ('draft', 'scheduled', 'running', 'paused') "
	"RETURNING id, state), "
	"m AS (UPDATE messages SET state = 'cancelled', final_at = now(), updated_at = now() "
	"WHERE campaign_id = (SELECT id FROM c) AND kind = 'campaign' "
	"AND state IN ('queued', 'retry')) "
	"SELECT (SELECT state FROM before), (SELECT id FROM c), (SELECT state FROM c), "
	"pg_notify('signpost_work', 'campaign')";

static const char campaign_schedule_sql[] =
	"WITH before AS (SELECT state FROM campaigns WHERE id = $1), "
	"c AS (UPDATE campaigns SET state = 'scheduled', start_at = coalesce($2::timestamptz, "
	"now()), scheduled_at = now(), updated_at = now() WHERE id = $1 AND state = 'draft' "
	"RETURNING *) "
	"SELECT (SELECT state FROM before), (SELECT " CAMPAIGN_JSON " FROM c), "
	"(SELECT state FROM c), pg_notify('signpost_work', 'campaign')";

/*
 * $1-$10 as campaign_insert_sql, $11 the campaign. Only a draft changes, decided in this one
 * statement: the row is locked first (a schedule under way is waited for and its state read),
 * so the state reported when nothing changed is the one that stopped the change.
 */
static const char campaign_update_sql[] =
	"WITH before AS (SELECT id, state FROM campaigns WHERE id = $11 FOR UPDATE), "
	"c AS (UPDATE campaigns u SET name = $1, body = $2, audience = $3::jsonb, provider = $4, "
	"send_window = $5::jsonb, fallback_provider = $6, rate_per_minute = $7::int, "
	"smart_encoding = coalesce($8::bool, true), purpose = coalesce($9, 'service'), "
	"bodies = coalesce($10::jsonb, '{}'), updated_at = now() FROM before b "
	"WHERE u.id = b.id AND b.state = 'draft' RETURNING u.*) "
	"SELECT (SELECT state FROM before), "
	"(SELECT ((" CAMPAIGN_JSON ")::jsonb || " CAMPAIGN_PROGRESS ")::text FROM c), "
	"(SELECT state FROM c)";

/* ---- the fields of POST /v1/campaigns, PUT /v1/campaigns/{id} and previews ---- */

static bool campaign_audience(struct api_ctx *ctx, struct json_object *in, struct sbuf *out)
{
	struct json_object *norm;
	const char *field = "audience";
	struct sbuf err;

	sbuf_init(&err);
	norm = audience_normalise(in, &field, &err);
	if (!norm)
		api_error(ctx, 422, "invalid", field, "%s", sbuf_str(&err));
	else
		sbuf_adds(out, json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN));
	json_object_put(norm);
	sbuf_free(&err);
	return norm != NULL;
}

/* body belongs to ctx->json, which an answer frees: it is not read after one. */
static bool campaign_text(struct api_ctx *ctx, const char *field, const char *body)
{
	bool empty = !*body;
	struct sbuf err;
	bool ok;

	sbuf_init(&err);
	ok = template_validate(body, render_field_names, RENDER_NFIELDS, &err) == 0;
	if (!ok)
		api_error(ctx, 422, "invalid", field, "%s: %s", field, err.data);
	else if (empty)
		api_error(ctx, 422, "required", field, "%s must not be empty", field);
	sbuf_free(&err);
	return ok && !empty;
}

static bool campaign_body(struct api_ctx *ctx, const char *body)
{
	return campaign_text(ctx, "body", body);
}

/* "bodies": {"cy": "...", "pl": "..."}, normalised to lower-case codes. */
static bool campaign_bodies(struct api_ctx *ctx, struct sbuf *out)
{
	struct json_object *in = NULL, *norm;
	bool ok = false;

	if (!api_field_object(ctx, ctx->json, "bodies", false, &in))
		return false;
	if (!in)
		return true;
	norm = json_object_new_object();
	if (json_object_object_length(in) > CAMPAIGN_MAX_LANGUAGES) {
		api_error(ctx, 422, "invalid", "bodies", "bodies: at most %d languages",
			  CAMPAIGN_MAX_LANGUAGES);
		goto out;
	}
	json_object_object_foreach(in, key, val) {
		char field[64], *code = xstrdup(key);
		const char *text = NULL;
		(void)val;
		for (char *p = code; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		snprintf(field, sizeof(field), "bodies.%.40s", key);
		bool good = audience_language_valid(code);
		if (!good)
			api_error(ctx, 422, "invalid", field, "%s: \"%s\" is not a language code "
				  "(write codes such as \"cy\" or \"pl\")", field, key);
		good = good && api_field_string(ctx, in, key, true, CAMPAIGN_MAX_BODY, &text) &&
		       campaign_text(ctx, field, text);
		if (good)
			json_object_object_add(norm, code, json_object_new_string(text));
		free(code);
		if (!good)
			goto out;
	}
	sbuf_adds(out, json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN));
	ok = true;
out:
	json_object_put(norm);
	return ok;
}

static bool campaign_bool(struct api_ctx *ctx, const char *key, const char **out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ctx->json, key, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		api_error(ctx, 422, "invalid", key, "%s must be true or false", key);
		return false;
	}
	*out = json_object_get_boolean(v) ? "true" : "false";
	return true;
}

static bool campaign_purpose(struct api_ctx *ctx, const char **purpose)
{
	if (!api_field_string(ctx, ctx->json, "purpose", false, 20, purpose))
		return false;
	if (*purpose && strcmp(*purpose, "service") != 0 && strcmp(*purpose, "marketing") != 0) {
		api_error(ctx, 422, "invalid", "purpose",
			  "purpose must be \"service\" (texts tenants need about their tenancy or "
			  "support) or \"marketing\" (reaches only tenants who consented)");
		return false;
	}
	return true;
}

static bool campaign_window(struct api_ctx *ctx, struct send_window *w, struct sbuf *out)
{
	struct json_object *in = NULL, *norm;
	struct sbuf err;

	window_default(w);
	if (!api_field_object(ctx, ctx->json, "send_window", false, &in))
		return false;
	sbuf_init(&err);
	if (in && window_from_json(in, w, &err) < 0) {
		const char *colon = strchr(sbuf_str(&err), ':');
		char *field = xstrndup(sbuf_str(&err), colon ? (size_t)(colon - err.data) : 11);
		api_error(ctx, 422, "invalid", field, "%s", err.data);
		free(field);
		sbuf_free(&err);
		return false;
	}
	sbuf_free(&err);
	norm = window_to_json(w);
	sbuf_adds(out, json_object_to_json_string_ext(norm, JSON_C_TO_STRING_PLAIN));
	json_object_put(norm);
	return true;
}

bool campaign_check_provider(struct api_ctx *ctx, const char *field, const char *name)
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

static void campaign_created(const struct db_result *r, void *arg)
{
	api_reply_row(arg, r, 201, "campaign");
}

/* A campaign's editable fields, checked; the strings belong to ctx->json. */
struct campaign_input {
	const char *name, *body, *provider, *fallback, *smart, *purpose;
	char rate[16];
	struct sbuf audience, bodies, window; /* normalised JSON; bodies empty when not given */
	struct send_window w;
};

static void campaign_input_init(struct campaign_input *in)
{
	memset(in, 0, sizeof(*in));
	sbuf_init(&in->audience);
	sbuf_init(&in->bodies);
	sbuf_init(&in->window);
}

static void campaign_input_free(struct campaign_input *in)
{
	sbuf_free(&in->audience);
	sbuf_free(&in->bodies);
	sbuf_free(&in->window);
}

static bool campaign_options(struct api_ctx *ctx, struct campaign_input *o)
{
	if (!api_field_string(ctx, ctx->json, "provider", false, 100, &o->provider) ||
	    !campaign_check_provider(ctx, "provider", o->provider) ||
	    !api_field_string(ctx, ctx->json, "fallback_provider", false, 100, &o->fallback) ||
	    !campaign_check_provider(ctx, "fallback_provider", o->fallback) ||
	    !api_field_int(ctx, ctx->json, "rate_per_minute", 1, CAMPAIGN_MAX_RATE, o->rate) ||
	    !campaign_bool(ctx, "smart_encoding", &o->smart) || !campaign_purpose(ctx, &o->purpose) ||
	    !campaign_bodies(ctx, &o->bodies))
		return false;
	if (o->fallback && strcmp(o->fallback, o->provider ? o->provider
				  : ctx->app->cfg.default_provider->name) == 0) {
		api_error(ctx, 422, "invalid", "fallback_provider",
			  "fallback_provider must differ from the campaign's provider");
		return false;
	}
	return true;
}

/*
 * Checks the body of a create, a change or a preview, in that order of fields, so all
 * three refuse a value with the same error. A preview may leave out the name.
 */
static bool campaign_input_parse(struct api_ctx *ctx, bool name_required,
				 struct campaign_input *in)
{
	static const char *const known[] = { "name", "body", "audience", "provider", "send_window",
					     "fallback_provider", "rate_per_minute", "smart_encoding",
					     "purpose", "bodies" };
	struct json_object *audience = NULL;

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "name", name_required, CAMPAIGN_MAX_NAME, &in->name) ||
	    !api_field_string(ctx, ctx->json, "body", true, CAMPAIGN_MAX_BODY, &in->body) ||
	    !campaign_body(ctx, in->body) ||
	    !api_field_object(ctx, ctx->json, "audience", true, &audience) ||
	    !campaign_audience(ctx, audience, &in->audience) || !campaign_options(ctx, in) ||
	    !campaign_window(ctx, &in->w, &in->window))
		return false;
	if (name_required && !*in->name) {
		api_error(ctx, 422, "required", "name", "name must not be empty");
		return false;
	}
	return true;
}

/* $1-$10 of campaign_insert_sql and campaign_update_sql. */
static void campaign_input_params(const struct campaign_input *in, const char *params[10])
{
	const char *values[] = { in->name, in->body, in->audience.data, in->provider,
				 in->window.data, in->fallback, in->rate[0] ? in->rate : NULL,
				 in->smart, in->purpose, in->bodies.len ? in->bodies.data : NULL };

	memcpy(params, values, sizeof(values));
}

void api_campaign_create(struct api_ctx *ctx)
{
	struct campaign_input in;
	const char *params[10];

	campaign_input_init(&in);
	if (campaign_input_parse(ctx, true, &in)) {
		campaign_input_params(&in, params);
		api_db(ctx, campaign_insert_sql, 10, params, campaign_created, ctx);
	}
	campaign_input_free(&in);
}

/* ---- PUT /v1/campaigns/{id} ---- */

/*
 * What a move is called in logs, and the refusal when the state does not allow it:
 * code, and a message made of prefix, the state, suffix.
 */
struct campaign_move {
	const char *verb;
	const char *code;
	const char *prefix, *suffix;
};

/*
 * Answers 404 or 409 (or the database's error) and returns false unless the statement
 * moved or changed the campaign; logs the move. Columns: enum campaign_move_col.
 */
static bool campaign_moved(struct api_ctx *ctx, const struct db_result *r,
			   const struct campaign_move *move)
{
	const char *before;

	if (r->error) {
		api_db_error(ctx, r);
		return false;
	}
	before = db_get(r, 0, MOVE_BEFORE);
	if (!before) {
		api_error(ctx, 404, "not_found", NULL, "no campaign with id %s", ctx->params[0]);
		return false;
	}
	if (!db_get(r, 0, MOVE_AFTER)) {
		api_error(ctx, 409, move->code, "state", "%s%s%s", move->prefix, before,
			  move->suffix);
		return false;
	}
	log_info("campaign %s id=%s", move->verb, ctx->params[0]);
	if (strcmp(before, db_get(r, 0, MOVE_STATE)) != 0)
		lifecycle_log_names(LIFECYCLE_CAMPAIGN, ctx->params[0], before,
				    db_get(r, 0, MOVE_STATE));
	return true;
}

static const struct campaign_move campaign_change = {
	"changed", "conflict", "only a draft campaign can be changed; this one is ", ""
};

static void campaign_updated(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (campaign_moved(ctx, r, &campaign_change))
		api_reply(ctx, 200, "application/json", db_get(r, 0, MOVE_AFTER),
			  strlen(db_get(r, 0, MOVE_AFTER)));
}

/* Every editable field is replaced: one left out goes back to its default, as in a create. */
void api_campaign_update(struct api_ctx *ctx)
{
	struct campaign_input in;
	const char *params[11];
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	campaign_input_init(&in);
	if (campaign_input_parse(ctx, true, &in)) {
		campaign_input_params(&in, params);
		params[10] = ctx->params[0];
		api_db(ctx, campaign_update_sql, 11, params, campaign_updated, ctx);
	}
	campaign_input_free(&in);
}

/* ---- GET ---- */

void api_campaign_get(struct api_ctx *ctx)
{
	api_get_by_id(ctx, campaign_get_sql, "campaign");
}

void api_campaign_list(struct api_ctx *ctx)
{
	api_list(ctx, campaign_list_sql);
}

/* ---- one campaign row ---- */

void campaign_row_load(struct api_ctx *ctx, db_cb *cb)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { ctx->params[0], ctx->app->cfg.default_provider->name };
	api_db(ctx, campaign_row_sql, 2, params, cb, ctx);
}

static char *campaign_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int campaign_row_parse(struct api_ctx *ctx, const struct db_result *r, struct campaign_row *c)
{
	struct json_object *w;
	struct sbuf err;
	int rc;

	memset(c, 0, sizeof(*c));
	if (r->error) {
		api_db_error(ctx, r);
		return -1;
	}
	if (db_rows(r) == 0) {
		api_error(ctx, 404, "not_found", NULL, "no campaign with id %s", ctx->params[0]);
		return -1;
	}
	c->id = db_get_i64(r, 0, 0);
	c->body = campaign_dup(db_get(r, 0, 1));
	c->bodies = json_tokener_parse(db_get(r, 0, 2));
	c->smart_encoding = db_get_bool(r, 0, 3);
	c->marketing = db_get_bool(r, 0, 4);
	c->provider = campaign_dup(db_get(r, 0, 5));
	if (!campaign_state_parse(db_get(r, 0, 6), &c->state))
		c->state = CAMPAIGN__COUNT; /* the schema's CHECK allows no other */
	c->rate_per_minute = (int)db_get_i64(r, 0, 8);
	c->start_at = (time_t)db_get_i64(r, 0, 9);
	c->fallback_provider = campaign_dup(db_get(r, 0, 10));
	c->audience = campaign_dup(db_get(r, 0, 11));
	window_default(&c->window);
	w = json_tokener_parse(db_get(r, 0, 7));
	sbuf_init(&err);
	rc = w && window_from_json(w, &c->window, &err) < 0 ? -1 : 0;
	json_object_put(w);
	sbuf_free(&err);
	if (rc < 0)
		api_error(ctx, 500, "internal", NULL, "the campaign's send window is unreadable");
	return rc;
}

void campaign_row_free(struct campaign_row *c)
{
	free(c->body);
	json_object_put(c->bodies);
	free(c->provider);
	free(c->fallback_provider);
	free(c->audience);
	memset(c, 0, sizeof(*c));
}

int campaign_row_from_body(struct api_ctx *ctx, struct campaign_row *c)
{
	struct campaign_input in;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	campaign_input_init(&in);
	if (!campaign_input_parse(ctx, false, &in))
		goto out;
	c->body = xstrdup(in.body);
	c->bodies = in.bodies.len ? json_tokener_parse(in.bodies.data) : json_object_new_object();
	c->smart_encoding = !in.smart || strcmp(in.smart, "true") == 0;
	c->marketing = in.purpose && strcmp(in.purpose, "marketing") == 0;
	c->provider = xstrdup(in.provider ? in.provider : ctx->app->cfg.default_provider->name);
	c->fallback_provider = campaign_dup(in.fallback);
	c->state = CAMPAIGN_DRAFT;
	c->window = in.w;
	c->rate_per_minute = in.rate[0] ? atoi(in.rate) : 0;
	c->start_at = time(NULL);
	c->audience = xstrdup(sbuf_str(&in.audience));
	rc = 0;
out:
	campaign_input_free(&in);
	return rc;
}

const char *campaign_row_body(const struct campaign_row *c, const char *language)
{
	struct json_object *v;

	if (language && c->bodies && json_object_object_get_ex(c->bodies, language, &v))
		return json_object_get_string(v);
	return c->body;
}

void campaign_time_iso(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- POST /v1/campaigns/{id}/pause, resume, cancel, schedule ---- */

static const struct campaign_move campaign_pause = {
	"paused", "invalid_state", "a ", " campaign cannot be paused"
};
static const struct campaign_move campaign_resume = {
	"resumed", "invalid_state", "a ", " campaign cannot be resumed"
};
static const struct campaign_move campaign_cancel = {
	"cancelled", "invalid_state", "a ", " campaign cannot be cancelled"
};
static const struct campaign_move campaign_schedule = {
	"scheduled", "invalid_state", "only a draft campaign can be scheduled; this one is ", ""
};

static void campaign_transition_got(const struct db_result *r, void *arg)
{
	api_reply_row(arg, r, 200, "campaign");
}

/* After a move the campaign is read afresh: its texts' counts then include the move's. */
static void campaign_transitioned(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const struct campaign_move *move = ctx->state;

	ctx->state = NULL;
	if (!campaign_moved(ctx, r, move))
		return;
	sched_poke(ctx->app->sched);
	const char *params[] = { ctx->params[0] };
	api_db(ctx, campaign_get_sql, 1, params, campaign_transition_got, ctx);
}

static void campaign_transition(struct api_ctx *ctx, const char *sql,
				const struct campaign_move *move)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id) || !api_known_keys(ctx, ctx->json, "", NULL, 0))
		return;
	ctx->state = (void *)move; /* a static: no state_free */
	const char *params[] = { ctx->params[0] };
	api_db(ctx, sql, 1, params, campaign_transitioned, ctx);
}

void api_campaign_pause(struct api_ctx *ctx)
{
	campaign_transition(ctx, campaign_pause_sql, &campaign_pause);
}

void api_campaign_resume(struct api_ctx *ctx)
{
	campaign_transition(ctx, campaign_resume_sql, &campaign_resume);
}

void api_campaign_cancel(struct api_ctx *ctx)
{
	campaign_transition(ctx, campaign_cancel_sql, &campaign_cancel);
}

static void campaign_scheduled(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error && (strcmp(r->sqlstate, "22007") == 0 || strcmp(r->sqlstate, "22008") == 0)) {
		api_error(ctx, 422, "invalid", "start_at",
			  "start_at is not a valid time; use ISO 8601, for example 2026-12-01T09:30:00Z");
		return;
	}
	if (campaign_moved(ctx, r, &campaign_schedule))
		api_reply(ctx, 200, "application/json", db_get(r, 0, MOVE_AFTER),
			  strlen(db_get(r, 0, MOVE_AFTER)));
}

/* A text asking for replies cannot go out from a sender tenants cannot reply to. */
static bool campaign_sender_ok(struct api_ctx *ctx, const struct campaign_row *c)
{
	const char *names[] = { c->provider, c->fallback_provider };
	const struct keyword_set *set = ctx->app->keywords;
	bool invites = render_invites_reply(c->body, set);

	json_object_object_foreach(c->bodies, lang, text) {
		(void)lang;
		invites = invites || render_invites_reply(json_object_get_string(text), set);
	}
	for (size_t i = 0; invites && i < ARRAY_LEN(names); i++) {
		const struct provider_cfg *p = names[i] ? config_provider(&ctx->app->cfg, names[i]) : NULL;
		if (p && p->alpha_sender) {
			api_error(ctx, 422, "invalid", "body",
				  "body: the text asks tenants to reply, but provider \"%s\" sends "
				  "from an alphanumeric sender that cannot receive replies; use a "
				  "provider that sends from a phone number", p->name);
			return false;
		}
	}
	return true;
}

static void campaign_schedule_loaded(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct campaign_row c;
	const char *start_at = NULL;

	if (campaign_row_parse(ctx, r, &c) < 0)
		goto out;
	if (c.state != CAMPAIGN_DRAFT) {
		api_error(ctx, 409, "invalid_state", "state",
			  "only a draft campaign can be scheduled; this one is %s",
			  campaign_state_str(c.state));
		goto out;
	}
	if (!campaign_sender_ok(ctx, &c) ||
	    !api_field_string(ctx, ctx->json, "start_at", false, 64, &start_at))
		goto out;
	const char *params[] = { ctx->params[0], start_at };
	api_db(ctx, campaign_schedule_sql, 2, params, campaign_scheduled, ctx);
out:
	campaign_row_free(&c);
}

void api_campaign_schedule(struct api_ctx *ctx)
{
	static const char *const known[] = { "start_at" };
	const char *start_at = NULL;

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "start_at", false, 64, &start_at))
		return;
	campaign_row_load(ctx, campaign_schedule_loaded);
}
