/*
 * api_tenants.c: POST /v1/tenants, GET /v1/tenants/{id}, POST /v1/tenants/import.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/audience.h"
#include "campaigns/phone.h"
#include "common/codec.h"
#include "gateway/api_handlers.h"
#include "gateway/log.h"
#include "gateway/tenant.h"

#define TENANT_MAX_TEXT 100
#define TENANT_MAX_TAG 50

#define TENANT_JSON                                                                          \
	"json_build_object('id', t.id, 'external_ref', t.external_ref, 'first_name', "         \
	"t.first_name, 'phone', t.phone, 'borough', t.borough, 'landlord', t.landlord, "        \
	"'tags', t.tags, 'opted_out', EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = "        \
	"t.phone), 'conversation', (SELECT json_build_object('flow', c.flow, 'step', c.step, "  \
	"'expires_at', c.expires_at) FROM conversations c WHERE c.phone = t.phone AND "         \
	"c.state = 'open' AND c.expires_at > now()), "                                          \
	"'language', t.language, 'consent', CASE WHEN t.consent_at IS NOT NULL THEN "        \
	"json_build_object('source', t.consent_source, 'at', t.consent_at, 'wording', "         \
	"t.consent_wording) END, 'suppressed_at', t.suppressed_at, 'perm_fail_streak', "        \
	"t.perm_fail_streak, 'erased_at', t.erased_at, "                                         \
	"'created_at', t.created_at, 'updated_at', t.updated_at)::text"

const char tenant_json_sql[] = TENANT_JSON;

/* $7 is the checked {"language", "consent"} object (see tenant_extra). */
#define TENANT_EXTRA_SET(p)                                                                  \
	"language = CASE WHEN " p "::jsonb ? 'language' THEN " p "::jsonb->>'language' "        \
	"ELSE t.language END, consent_source = CASE WHEN " p "::jsonb ? 'consent' THEN "        \
	p "::jsonb->'consent'->>'source' ELSE t.consent_source END, consent_wording = CASE "    \
	"WHEN " p "::jsonb ? 'consent' THEN " p "::jsonb->'consent'->>'wording' ELSE "          \
	"t.consent_wording END, consent_at = CASE WHEN " p "::jsonb ? 'consent' THEN "          \
	"CASE WHEN jsonb_typeof(" p "::jsonb->'consent') = 'object' THEN coalesce(("          \
	p "::jsonb->'consent'->>'at')::timestamptz, now()) END ELSE t.consent_at END"

static const char tenant_insert_sql[] =
	"WITH t AS (INSERT INTO tenants (external_ref, first_name, phone, borough, landlord, tags, "
	"language, consent_source, consent_wording, consent_at) "
	"VALUES ($1, $2, $3, $4, $5, string_to_array($6, ';'), $7::jsonb->>'language', "
	"$7::jsonb->'consent'->>'source', $7::jsonb->'consent'->>'wording', "
	"CASE WHEN jsonb_typeof($7::jsonb->'consent') = 'object' THEN "
	"coalesce(($7::jsonb->'consent'->>'at')::timestamptz, now()) END) RETURNING *) "
	"SELECT " TENANT_JSON " FROM t";

static const char tenant_update_sql[] =
	"WITH t AS (UPDATE tenants t SET " TENANT_EXTRA_SET("$2") ", updated_at = now() "
	"WHERE t.id = $1 AND t.erased_at IS NULL RETURNING t.*) SELECT " TENANT_JSON " FROM t";

/* Personal fields go; messages stay for statistics, without number or body. */
static const char tenant_erase_sql[] =
	"WITH t AS (UPDATE tenants t SET external_ref = NULL, first_name = NULL, phone = NULL, "
	"borough = NULL, landlord = NULL, tags = '{}', language = NULL, consent_source = NULL, "
	"consent_at = NULL, consent_wording = NULL, erased_at = coalesce(erased_at, now()), "
	"updated_at = now() WHERE t.id = $1 RETURNING t.*), "
	"m AS (UPDATE messages SET to_phone = NULL, body = NULL, state = CASE WHEN state IN "
	"('queued', 'retry') THEN 'cancelled' ELSE state END, updated_at = now() "
	"WHERE tenant_id = (SELECT id FROM t)), "
	"i AS (UPDATE inbound_messages SET from_phone = NULL, body = NULL "
	"WHERE tenant_id = (SELECT id FROM t)), "
	"c AS (UPDATE conversations SET state = 'cancelled' "
	"WHERE tenant_id = (SELECT id FROM t) AND state = 'open') SELECT " TENANT_JSON " FROM t";

static const char tenant_opt_out_sql[] =
	"WITH o AS (INSERT INTO opt_outs (phone, source) SELECT phone, 'officer' FROM tenants "
	"WHERE id = $1 AND phone IS NOT NULL ON CONFLICT DO NOTHING) "
	"SELECT t.phone IS NOT NULL, ((" TENANT_JSON ")::jsonb || jsonb_build_object('opted_out', "
	"t.phone IS NOT NULL))::text FROM tenants t WHERE t.id = $1";

static const char tenant_unsuppress_sql[] =
	"WITH t AS (UPDATE tenants t SET suppressed_at = NULL, perm_fail_streak = 0, "
	"updated_at = now() WHERE t.id = $1 RETURNING t.*) SELECT " TENANT_JSON " FROM t";

static const char tenant_suppressed_sql[] =
	"SELECT coalesce(json_agg(x ORDER BY x.id DESC), '[]')::text FROM ("
	"  SELECT t.id, t.external_ref, t.first_name, t.phone, t.suppressed_at, t.perm_fail_streak, "
	"    (SELECT m.error_text FROM messages m WHERE m.tenant_id = t.id AND m.kind = 'campaign' "
	"     AND m.state IN ('failed', 'rejected') ORDER BY m.final_at DESC NULLS LAST LIMIT 1) "
	"    AS last_error "
	"  FROM tenants t WHERE t.suppressed_at IS NOT NULL "
	"    AND ($1::bigint IS NULL OR t.id < $1) ORDER BY t.id DESC LIMIT $2) x";

static const char tenant_get_sql[] = "SELECT " TENANT_JSON " FROM tenants t WHERE t.id = $1";

static const char tenant_owner_sql[] =
	"SELECT id FROM tenants WHERE external_ref = $1 OR phone = $2 ORDER BY external_ref = $1 DESC";

/* ---- field checks ---- */

void tenant_input_init(struct tenant_input *t)
{
	memset(t, 0, sizeof(*t));
	sbuf_init(&t->tags_out);
}

void tenant_input_free(struct tenant_input *t)
{
	sbuf_free(&t->tags_out);
}

static int tenant_text(const char *name, const char *value, bool required, const char **field,
		       struct sbuf *msg)
{
	size_t n = value ? strlen(value) : 0;

	*field = name;
	if (!n && required) {
		sbuf_printf(msg, "%s is required", name);
		return -1;
	}
	if (n > TENANT_MAX_TEXT) {
		sbuf_printf(msg, "%s is too long (%zu characters, at most %d)", name, n,
			    TENANT_MAX_TEXT);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)value[i] < 32) {
			sbuf_printf(msg, "%s contains a control character", name);
			return -1;
		}
	}
	if (n && !codec_utf8_valid(value, n)) {
		sbuf_printf(msg, "%s is not valid UTF-8 text", name);
		return -1;
	}
	return 0;
}

static int tenant_tag(struct tenant_input *t, const char *tag, size_t n, struct sbuf *msg)
{
	while (n && (*tag == ' ' || *tag == '\t'))
		tag++, n--;
	while (n && (tag[n - 1] == ' ' || tag[n - 1] == '\t'))
		n--;
	if (!n)
		return 0;
	if (n > TENANT_MAX_TAG || memchr(tag, ';', n)) {
		sbuf_printf(msg, "tags: \"%.*s\" is not a valid tag (at most %d characters, no ';')",
			    (int)MIN(n, 60), tag, TENANT_MAX_TAG);
		return -1;
	}
	if (t->tags_out.len)
		sbuf_addc(&t->tags_out, ';');
	for (size_t i = 0; i < n; i++)
		sbuf_addc(&t->tags_out, (char)(tag[i] >= 'A' && tag[i] <= 'Z' ? tag[i] + 32 : tag[i]));
	return 0;
}

static int tenant_tags(struct tenant_input *t, struct sbuf *msg)
{
	size_t count = 0;

	for (size_t i = 0; i < t->ntags; i++) {
		const char *s = t->tags[i];
		if (!t->tags_joined) {
			count++;
			if (tenant_tag(t, s, strlen(s), msg) < 0)
				return -1;
			continue;
		}
		for (const char *end; *s; s = *end ? end + 1 : end) {
			end = s + strcspn(s, ";");
			count++;
			if (tenant_tag(t, s, (size_t)(end - s), msg) < 0)
				return -1;
		}
	}
	if (count > TENANT_MAX_TAGS) {
		sbuf_printf(msg, "tags: at most %d tags", TENANT_MAX_TAGS);
		return -1;
	}
	return 0;
}

int tenant_check(struct tenant_input *t, const char **field, struct sbuf *msg)
{
	enum phone_status ps;

	if (tenant_text("external_ref", t->external_ref, true, field, msg) < 0 ||
	    tenant_text("first_name", t->first_name, false, field, msg) < 0 ||
	    tenant_text("phone", t->phone, true, field, msg) < 0 ||
	    tenant_text("borough", t->borough, false, field, msg) < 0 ||
	    tenant_text("landlord", t->landlord, false, field, msg) < 0)
		return -1;
	ps = phone_uk_mobile(t->phone, t->e164);
	if (ps != PHONE_OK) {
		*field = "phone";
		sbuf_printf(msg, "phone: %s", phone_status_message(ps));
		return -1;
	}
	*field = "tags";
	return tenant_tags(t, msg);
}

static const char *tenant_nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

/* ---- language and consent ---- */

static bool tenant_language(struct api_ctx *ctx, struct json_object *out)
{
	const char *lang = NULL;
	char *low;
	bool ok;

	if (!json_object_object_get_ex(ctx->json, "language", NULL))
		return true;
	if (!api_field_string(ctx, ctx->json, "language", false, 20, &lang))
		return false;
	if (!lang || !*lang) {
		json_object_object_add(out, "language", NULL);
		return true;
	}
	low = xstrdup(lang);
	for (char *p = low; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	ok = audience_language_valid(low);
	if (ok)
		json_object_object_add(out, "language", json_object_new_string(low));
	else
		api_error(ctx, 422, "invalid", "language", "language: \"%s\" is not a language code "
			  "(write codes such as \"en\", \"cy\" or \"pl\")", lang);
	free(low);
	return ok;
}

/* "consent": {"source", "at", "wording"} records consent; null withdraws it. */
static bool tenant_consent(struct api_ctx *ctx, struct json_object *out)
{
	static const char *const known[] = { "source", "at", "wording" };
	struct json_object *in = NULL, *norm;
	const char *source = NULL, *at = NULL, *wording = NULL;

	if (!json_object_object_get_ex(ctx->json, "consent", &in))
		return true;
	if (!in) {
		json_object_object_add(out, "consent", NULL);
		return true;
	}
	if (!api_field_object(ctx, ctx->json, "consent", false, &in) ||
	    !api_known_keys(ctx, in, "consent.", known, ARRAY_LEN(known)))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(known); i++) {
		struct json_object *v = NULL;
		const char **dst = i == 0 ? &source : i == 1 ? &at : &wording;
		json_object_object_get_ex(in, known[i], &v);
		if (v && json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) <= 2000 &&
		    strlen(json_object_get_string(v)) == (size_t)json_object_get_string_len(v) &&
		    codec_utf8_valid(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
			*dst = json_object_get_string(v);
		else if (v || i == 0) {
			api_error(ctx, 422, v ? "invalid" : "required", i == 0 ? "consent.source" :
				  i == 1 ? "consent.at" : "consent.wording",
				  "consent.%s must be a string (consent.source says how consent was "
				  "given: \"tenancy form\", \"phone call\" ...)", known[i]);
			return false;
		}
	}
	if (!*source) {
		api_error(ctx, 422, "required", "consent.source",
			  "consent.source must say how consent was given (\"tenancy form\", \"phone call\" ...)");
		return false;
	}
	norm = json_object_new_object();
	json_object_object_add(norm, "source", json_object_new_string(source));
	if (at)
		json_object_object_add(norm, "at", json_object_new_string(at));
	if (wording)
		json_object_object_add(norm, "wording", json_object_new_string(wording));
	json_object_object_add(out, "consent", norm);
	return true;
}

/* The checked language and consent fields as JSON in out. */
static bool tenant_extra(struct api_ctx *ctx, struct sbuf *out)
{
	struct json_object *o = json_object_new_object();
	bool ok = tenant_language(ctx, o) && tenant_consent(ctx, o);

	if (ok)
		sbuf_adds(out, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return ok;
}

static bool tenant_bad_time(struct api_ctx *ctx, const struct db_result *r)
{
	if (!r->error || (strcmp(r->sqlstate, "22007") != 0 && strcmp(r->sqlstate, "22008") != 0))
		return false;
	api_error(ctx, 422, "invalid", "consent.at",
		  "consent.at is not a valid time; use ISO 8601, for example 2026-03-01T10:00:00Z");
	return true;
}

/* ---- POST /v1/tenants ---- */

struct tenant_create {
	char *external_ref;
	char phone[PHONE_E164_MAX];
	bool ref_conflict;
};

static void tenant_create_free(void *p)
{
	struct tenant_create *tc = p;
	free(tc->external_ref);
	free(tc);
}

static void tenant_conflict_done(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct tenant_create *tc = ctx->state;
	const char *owner = db_rows(r) ? db_get(r, 0, 0) : "unknown";

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (tc->ref_conflict)
		api_error(ctx, 409, "conflict", "external_ref",
			  "a tenant with this external_ref already exists (id %s)", owner);
	else
		api_error(ctx, 409, "conflict", "phone",
			  "this phone number already belongs to another tenant (id %s)", owner);
}

static void tenant_created(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct tenant_create *tc = ctx->state;

	if (r->error && db_is_unique_violation(r)) {
		tc->ref_conflict = strstr(r->constraint, "external_ref") != NULL;
		const char *params[] = { tc->ref_conflict ? tc->external_ref : "",
					 tc->ref_conflict ? "" : tc->phone };
		db_query(ctx->app->db, tenant_owner_sql, 2, params, tenant_conflict_done, ctx);
		return;
	}
	if (tenant_bad_time(ctx, r))
		return;
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	api_reply(ctx, 201, "application/json", db_get(r, 0, 0), strlen(db_get(r, 0, 0)));
}

void api_tenant_create(struct api_ctx *ctx)
{
	static const char *const known[] = { "external_ref", "first_name", "phone", "borough",
					     "landlord", "tags", "language", "consent" };
	struct tenant_input t;
	struct sbuf extra;
	struct json_object *tags = NULL;
	const char *tag_list[TENANT_MAX_TAGS + 1], *field;
	struct sbuf msg;

	tenant_input_init(&t);
	sbuf_init(&msg);
	sbuf_init(&extra);
	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "external_ref", true, 1000, &t.external_ref) ||
	    !api_field_string(ctx, ctx->json, "first_name", false, 1000, &t.first_name) ||
	    !api_field_string(ctx, ctx->json, "phone", true, 1000, &t.phone) ||
	    !api_field_string(ctx, ctx->json, "borough", false, 1000, &t.borough) ||
	    !api_field_string(ctx, ctx->json, "landlord", false, 1000, &t.landlord) ||
	    !api_field_string_array(ctx, ctx->json, "tags", TENANT_MAX_TAGS, 1000, &tags) ||
	    !tenant_extra(ctx, &extra))
		goto out;
	for (size_t i = 0; tags && i < json_object_array_length(tags); i++)
		tag_list[t.ntags++] = json_object_get_string(json_object_array_get_idx(tags, i));
	t.tags = tag_list;
	if (tenant_check(&t, &field, &msg) < 0) {
		api_error(ctx, 422, "invalid", field, "%s", msg.data);
		goto out;
	}
	const char *params[] = { t.external_ref, tenant_nonempty(t.first_name), t.e164,
				 tenant_nonempty(t.borough), tenant_nonempty(t.landlord),
				 sbuf_str(&t.tags_out), extra.data };
	struct tenant_create *tc = xcalloc(1, sizeof(*tc));
	tc->external_ref = xstrdup(t.external_ref);
	memcpy(tc->phone, t.e164, sizeof(tc->phone));
	ctx->state = tc;
	ctx->state_free = tenant_create_free;
	db_query(ctx->app->db, tenant_insert_sql, 7, params, tenant_created, ctx);
out:
	tenant_input_free(&t);
	sbuf_free(&msg);
	sbuf_free(&extra);
}

/* ---- GET /v1/tenants/{id} ---- */

static void tenant_got(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_rows(r) == 0) {
		api_error(ctx, 404, "not_found", NULL, "no tenant with id %s", ctx->params[0]);
		return;
	}
	api_reply(ctx, 200, "application/json", db_get(r, 0, 0), strlen(db_get(r, 0, 0)));
}

void api_tenant_get(struct api_ctx *ctx)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { ctx->params[0] };
	db_query(ctx->app->db, tenant_get_sql, 1, params, tenant_got, ctx);
}

/* ---- PATCH, DELETE, opt-out and suppression ---- */

static void tenant_one_row(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (tenant_bad_time(ctx, r))
		return;
	tenant_got(r, arg);
}

void api_tenant_update(struct api_ctx *ctx)
{
	static const char *const known[] = { "language", "consent" };
	struct sbuf extra;
	int64_t id;

	sbuf_init(&extra);
	if (api_param_id(ctx, 0, &id) && api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) &&
	    tenant_extra(ctx, &extra)) {
		const char *params[] = { ctx->params[0], extra.data };
		db_query(ctx->app->db, tenant_update_sql, 2, params, tenant_one_row, ctx);
	}
	sbuf_free(&extra);
}

static void tenant_by_id(struct api_ctx *ctx, const char *sql, db_cb *cb)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { ctx->params[0] };
	db_query(ctx->app->db, sql, 1, params, cb, ctx);
}

static void tenant_erased(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (!r->error && db_rows(r))
		log_info("tenant erased id=%s", ctx->params[0]);
	tenant_got(r, arg);
}

void api_tenant_erase(struct api_ctx *ctx)
{
	tenant_by_id(ctx, tenant_erase_sql, tenant_erased);
}

static void tenant_opted_out(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (!r->error && db_rows(r) && !db_get_bool(r, 0, 0)) {
		api_error(ctx, 409, "erased", NULL, "tenant %s has been erased and has no number",
			  ctx->params[0]);
		return;
	}
	if (r->error || db_rows(r) == 0) {
		tenant_got(r, arg);
		return;
	}
	log_info("tenant opted out by an officer id=%s", ctx->params[0]);
	api_reply(ctx, 200, "application/json", db_get(r, 0, 1), strlen(db_get(r, 0, 1)));
}

void api_tenant_opt_out(struct api_ctx *ctx)
{
	if (api_known_keys(ctx, ctx->json, "", NULL, 0))
		tenant_by_id(ctx, tenant_opt_out_sql, tenant_opted_out);
}

void api_tenant_unsuppress(struct api_ctx *ctx)
{
	if (api_known_keys(ctx, ctx->json, "", NULL, 0))
		tenant_by_id(ctx, tenant_unsuppress_sql, tenant_got);
}

void api_tenant_suppressed(struct api_ctx *ctx)
{
	api_list(ctx, tenant_suppressed_sql);
}
