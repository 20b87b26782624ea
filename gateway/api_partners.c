/*
 * api_partners.c: partner organisations (admin): POST/GET /v1/partners,
 * GET/PUT /v1/partners/{id}. Webhook secrets are write-only: one signpost generates is
 * shown once, in the answer to the request that asked for it. A webhook URL is saved
 * only once its host is resolved to addresses partners may be reached at
 * (gateway/partner_url.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "common/stdwebhook.h"
#include "gateway/api_handlers.h"
#include "gateway/partner_url.h"

#define PARTNER_MAX_NAME 200
#define PARTNER_MAX_ITEMS 100
#define PARTNER_MAX_URL 2000
#define PARTNER_SECRET_BYTES 24

#define PARTNER_JSON                                                                         \
	"json_build_object('id', p.id, 'name', p.name, 'categories', p.categories, "            \
	"'boroughs', p.boroughs, 'capacity', p.capacity, 'webhook_url', p.webhook_url, "        \
	"'has_webhook_secret', p.webhook_secret IS NOT NULL, 'active', p.active, "              \
	"'open_requests', (SELECT count(*) FROM help_requests h WHERE h.partner_id = p.id "     \
	"AND h.state IN ('assigned', 'accepted', 'contacted')), 'created_at', p.created_at, "   \
	"'updated_at', p.updated_at)"

/*
 * Requests waiting for officers only because no partner covered them are matched again
 * when a partner that covers them is saved.
 */
#define PARTNER_REMATCH                                                                      \
	"rematch AS (UPDATE help_requests h SET escalated_at = NULL, escalation_reason = NULL, " \
	"updated_at = now() FROM p WHERE p.active AND h.escalation_reason = 'no_partner' "     \
	"AND h.state = 'new' AND h.partner_id IS NULL AND h.category = ANY (p.categories) "     \
	"AND lower(h.borough) IN (SELECT lower(b) FROM unnest(p.boroughs) b) RETURNING 1) "

/* $1 name, $2 categories, $3 boroughs, $4 capacity, $5 url, $6 secret, $7 active */
static const char partner_insert_sql[] =
	"WITH p AS (INSERT INTO partners (name, categories, boroughs, capacity, webhook_url, "
	"webhook_secret, active) VALUES ($1, coalesce($2::text[], '{}'), coalesce($3::text[], '{}'), "
	"coalesce($4::int, 10), $5, $6, coalesce($7::bool, true)) RETURNING *), " PARTNER_REMATCH
	"SELECT " PARTNER_JSON "::text FROM p";

/*
 * $8 id; a field left out keeps its value. Deactivating tells every daemon to forget
 * cached keys, so the partner's keys stop at once (auth.h).
 */
static const char partner_update_sql[] =
	"WITH p AS (UPDATE partners SET name = coalesce($1, name), "
	"categories = coalesce($2::text[], categories), boroughs = coalesce($3::text[], boroughs), "
	"capacity = coalesce($4::int, capacity), webhook_url = coalesce($5, webhook_url), "
	"webhook_secret = coalesce($6, webhook_secret), active = coalesce($7::bool, active), "
	"updated_at = now() WHERE id = $8 RETURNING *), " PARTNER_REMATCH
	"SELECT " PARTNER_JSON "::text, CASE WHEN NOT p.active THEN "
	"pg_notify('signpost_work', '" AUTH_NOTIFY "') END FROM p";

static const char partner_get_sql[] =
	"SELECT " PARTNER_JSON "::text FROM partners p WHERE p.id = $1";

static const char partner_list_sql[] =
	"SELECT coalesce(json_agg(" PARTNER_JSON " ORDER BY p.id), '[]')::text FROM partners p";

struct partner_input {
	const char *name, *url, *secret;
	struct sbuf categories, boroughs;
	bool has_categories, has_boroughs;
	char capacity[16], active[8], generate[8];
};

static bool partner_bool(struct api_ctx *ctx, const char *key, char out[8])
{
	struct json_object *v;

	if (!json_object_object_get_ex(ctx->json, key, &v) || json_object_is_type(v, json_type_null))
		return true;
	if (!json_object_is_type(v, json_type_boolean)) {
		api_error(ctx, 422, "invalid", key, "%s must be true or false", key);
		return false;
	}
	snprintf(out, 8, "%s", json_object_get_boolean(v) ? "true" : "false");
	return true;
}

/* A string array as an SQL array literal; categories are lower-cased names. */
static bool partner_list(struct api_ctx *ctx, const char *key, bool names, struct sbuf *out,
			 bool *given)
{
	struct json_object *arr = NULL;

	if (!api_field_string_array(ctx, ctx->json, key, PARTNER_MAX_ITEMS, 100, &arr))
		return false;
	*given = arr != NULL;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		for (const char *c = s; names && *c; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) {
				api_error(ctx, 422, "invalid", key, "%s[%zu]: a category is lower-case "
					  "letters, digits and _ (such as \"money\")", key, i);
				return false;
			}
		}
		db_array_add(out, s, strlen(s));
	}
	if (*given)
		db_array_end(out);
	return true;
}

/* The state of a save that generated a secret: it goes into the answer, once. */
static void partner_secret_free(void *p)
{
	struct sbuf *secret = p;

	explicit_bzero(secret->data, secret->cap);
	sbuf_free(secret);
	free(secret);
}

/* "whsec_" + base64 of random bytes, kept in ctx->state until the answer. */
static const char *partner_secret_generate(struct api_ctx *ctx)
{
	unsigned char raw[PARTNER_SECRET_BYTES];
	struct sbuf *secret = xcalloc(1, sizeof(*secret));

	sbuf_init(secret);
	crypto_random(raw, sizeof(raw));
	sbuf_adds(secret, "whsec_");
	codec_base64_encode(secret, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	ctx->state = secret;
	ctx->state_free = partner_secret_free;
	return secret->data;
}

static bool partner_webhook(struct api_ctx *ctx, struct partner_input *in, bool creating)
{
	if (!api_field_string(ctx, ctx->json, "webhook_url", false, PARTNER_MAX_URL, &in->url) ||
	    !api_field_string(ctx, ctx->json, "webhook_secret", false, 200, &in->secret) ||
	    !partner_bool(ctx, "generate_webhook_secret", in->generate))
		return false;
	if (in->secret && strcmp(in->generate, "true") == 0) {
		api_error(ctx, 422, "invalid", "generate_webhook_secret", "give webhook_secret or "
			  "generate_webhook_secret, not both");
		return false;
	}
	if (in->url) {
		struct sbuf err;
		sbuf_init(&err);
		bool ok = partner_url_form(&ctx->app->cfg, in->url, &err) == 0;
		if (!ok)
			api_error(ctx, 422, "invalid", "webhook_url", "%s", sbuf_str(&err));
		sbuf_free(&err);
		if (!ok)
			return false;
	}
	if (in->secret && !stdwebhook_secret_valid(in->secret)) {
		api_error(ctx, 422, "invalid", "webhook_secret", "webhook_secret must be \"whsec_\" "
			  "followed by base64 of at least %d random bytes", STDWEBHOOK_MIN_KEY);
		return false;
	}
	if (strcmp(in->generate, "true") == 0)
		in->secret = partner_secret_generate(ctx);
	if (creating && in->url && !in->secret) {
		api_error(ctx, 422, "required", "webhook_secret", "a webhook_url needs a "
			  "webhook_secret to sign with (or \"generate_webhook_secret\": true)");
		return false;
	}
	return true;
}

static bool partner_input(struct api_ctx *ctx, struct partner_input *in, bool creating)
{
	static const char *const known[] = { "name", "categories", "boroughs", "capacity",
					     "webhook_url", "webhook_secret",
					     "generate_webhook_secret", "active" };

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "name", creating, PARTNER_MAX_NAME, &in->name))
		return false;
	if (in->name && !*in->name) {
		api_error(ctx, 422, "required", "name", "name must not be empty");
		return false;
	}
	return partner_list(ctx, "categories", true, &in->categories, &in->has_categories) &&
	       partner_list(ctx, "boroughs", false, &in->boroughs, &in->has_boroughs) &&
	       api_field_int(ctx, ctx->json, "capacity", 0, 100000, in->capacity) &&
	       partner_webhook(ctx, in, creating) && partner_bool(ctx, "active", in->active);
}

/* The saved partner, with a secret signpost generated for it: the only time it is shown. */
static void partner_reply_secret(struct api_ctx *ctx, const char *row, int status)
{
	struct json_object *o = json_tokener_parse(row);
	const struct sbuf *secret = ctx->state;

	if (!o) {
		api_error(ctx, 500, "internal", NULL, "the saved partner could not be read back");
		return;
	}
	json_object_object_add(o, "webhook_secret", json_object_new_string(secret->data));
	api_reply_json(ctx, status, o);
}

static void partner_saved(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	int status = strcmp(ctx->req->method, "POST") == 0 ? 201 : 200;

	if (status == 200 && !r->error && db_rows(r))
		auth_forget(ctx->app->auth); /* this daemon at once, others by notification */
	if (ctx->state && !r->error && db_rows(r) && db_get(r, 0, 0))
		partner_reply_secret(ctx, db_get(r, 0, 0), status);
	else
		api_reply_row(ctx, r, status, "partner");
}

/* A save under way: its checked input, kept while the webhook URL's host is resolved. */
struct partner_save {
	struct api_ctx *ctx;
	const char *sql;
	const char *id; /* NULL for a new partner */
	struct partner_input in;
};

static void partner_save_free(struct partner_save *s)
{
	sbuf_free(&s->in.categories);
	sbuf_free(&s->in.boroughs);
	free(s);
}

static void partner_write(struct partner_save *s)
{
	struct partner_input *in = &s->in;
	const char *params[] = { in->name, in->has_categories ? in->categories.data : NULL,
				 in->has_boroughs ? in->boroughs.data : NULL,
				 in->capacity[0] ? in->capacity : NULL, in->url, in->secret,
				 in->active[0] ? in->active : NULL, s->id };

	api_db(s->ctx, s->sql, s->id ? 8 : 7, params, partner_saved, s->ctx);
	partner_save_free(s);
}

static void partner_url_checked(const char *problem, void *arg)
{
	struct partner_save *s = arg;

	if (problem) {
		api_error(s->ctx, 422, "invalid", "webhook_url", "%s", problem);
		partner_save_free(s);
		return;
	}
	partner_write(s);
}

static void partner_save(struct api_ctx *ctx, const char *sql, const char *id)
{
	struct partner_save *s = xcalloc(1, sizeof(*s));

	s->ctx = ctx;
	s->sql = sql;
	s->id = id;
	sbuf_init(&s->in.categories);
	sbuf_init(&s->in.boroughs);
	if (!partner_input(ctx, &s->in, id == NULL))
		partner_save_free(s);
	else if (s->in.url)
		partner_url_check(ctx->app, s->in.url, partner_url_checked, s);
	else
		partner_write(s);
}

void api_partner_create(struct api_ctx *ctx)
{
	partner_save(ctx, partner_insert_sql, NULL);
}

void api_partner_update(struct api_ctx *ctx)
{
	int64_t id;

	if (api_param_id(ctx, 0, &id))
		partner_save(ctx, partner_update_sql, ctx->params[0]);
}

void api_partner_get(struct api_ctx *ctx)
{
	api_get_by_id(ctx, partner_get_sql, "partner");
}

void api_partner_list(struct api_ctx *ctx)
{
	api_db(ctx, partner_list_sql, 0, NULL, api_items_done, ctx);
}

