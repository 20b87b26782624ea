/*
 * api_tenants.c: the tenant routes but the import and the facets, and the check of a
 * tenant's fields that the CSV import shares (tenant_check, tenant.h):
 *   POST   /v1/tenants                   create one
 *   GET    /v1/tenants                   newest first, or a search with ?q=
 *   GET    /v1/tenants/suppressed        those suppressed after repeated failures
 *   GET    /v1/tenants/{id}              one
 *   GET    /v1/tenants/{id}/texts        their texts, both ways
 *   PATCH  /v1/tenants/{id}              language and consent
 *   DELETE /v1/tenants/{id}              erase
 *   POST   /v1/tenants/{id}/opt-out      opt out for them
 *   POST   /v1/tenants/{id}/unsuppress   lift a suppression
 * POST /v1/tenants/import is in api_import.c, GET /v1/tenants/facets in
 * api_tenant_facets.c.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/audience.h"
#include "common/codec.h"
#include "gateway/api_handlers.h"
#include "gateway/tenant.h"
#include "infra/log.h"
#include "sms/phone.h"

#define TENANT_MAX_TEXT 100
#define TENANT_MAX_TAG 50
#define TENANT_SEARCH_MAX 100   /* bytes of ?q= */
#define TENANT_PHONE_DIGITS 6   /* the fewest digits searched for as a phone number */

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

/*
 * $5 names the landlord by code or name. Columns: the tenant, or NULL with why not:
 * "unknown" (no such landlord) or "other" (a bound officer naming another landlord).
 */
static const char tenant_insert_sql[] =
	"WITH l AS (SELECT signpost_landlord_named($5) AS id), "
	"t AS (INSERT INTO tenants (external_ref, first_name, phone, borough, landlord_id, tags, "
	"language, consent_source, consent_wording, consent_at) "
	"SELECT $1, $2, $3, $4, coalesce(l.id, signpost_scope()), string_to_array($6, ';'), "
	"$7::jsonb->>'language', "
	"$7::jsonb->'consent'->>'source', $7::jsonb->'consent'->>'wording', "
	"CASE WHEN jsonb_typeof($7::jsonb->'consent') = 'object' THEN "
	"coalesce(($7::jsonb->'consent'->>'at')::timestamptz, now()) END FROM l "
	"WHERE ($5 IS NULL OR l.id IS NOT NULL) AND (l.id IS NULL OR signpost_scope() IS NULL "
	"OR l.id = signpost_scope()) RETURNING *) "
	"SELECT (SELECT " TENANT_JSON " FROM t), CASE WHEN l.id IS NULL AND $5 IS NOT NULL "
	"THEN 'unknown' WHEN l.id <> signpost_scope() THEN 'other' END FROM l";

static const char tenant_update_sql[] =
	"WITH t AS (UPDATE tenants t SET " TENANT_EXTRA_SET("$2") ", updated_at = now() "
	"WHERE t.id = $1 AND t.erased_at IS NULL RETURNING t.*) SELECT " TENANT_JSON " FROM t";

/* Everything that identifies the tenant goes; figures stay (schema/0014_data_protection.sql). */
static const char tenant_erase_sql[] =
	"SELECT " TENANT_JSON " FROM signpost_erase_tenant($1) t";

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

/* What a list shows of each tenant. */
#define TENANT_ITEM_JSON                                                                     \
	"json_build_object('id', t.id, 'external_ref', t.external_ref, 'first_name', "         \
	"t.first_name, 'phone', t.phone, 'borough', t.borough, 'landlord', t.landlord, "        \
	"'tags', t.tags, 'language', t.language, 'opted_out', EXISTS (SELECT 1 FROM opt_outs o " \
	"WHERE o.phone = t.phone), 'suppressed_at', t.suppressed_at, 'created_at', t.created_at)"

/*
 * $1 before, $2 limit; $3 first-name pattern (NULL: no search), $4 external_ref prefix,
 * both escaped for LIKE; $5 digits the number ends with (NULL: q is not a number).
 * Each test has its index (schema/0012_console_lookups.sql). PostgreSQL plans every call
 * with its values, so a NULL $5 drops its test and no search drops them all.
 */
static const char tenant_list_sql[] =
	"SELECT coalesce(json_agg(" TENANT_ITEM_JSON " ORDER BY t.id DESC), '[]')::text FROM ("
	"  SELECT * FROM tenants t WHERE t.erased_at IS NULL "
	"  AND ($1::bigint IS NULL OR t.id < $1) "
	"  AND ($3::text IS NULL OR t.first_name ILIKE $3 "
	"    OR lower(t.external_ref) LIKE lower($4::text) || '%' "
	"    OR reverse(t.phone) LIKE reverse($5::text) || '%') "
	"  ORDER BY t.id DESC LIMIT $2) t";

/*
 * $1 tenant, $2 limit: the newest texts each way. Campaign texts count once handed to a
 * provider (messages_tenant_recent), other texts (replies, tests) from when they were
 * made (messages_tenant_other), inbound ones (inbound_messages_tenant) when received.
 */
static const char tenant_texts_sql[] =
	"WITH o AS ("
	"  (SELECT m.id, m.submitted_at AS at, m.kind, m.state, m.body, m.campaign_id "
	"   FROM messages m WHERE m.tenant_id = $1 AND m.kind = 'campaign' "
	"   AND m.submitted_at IS NOT NULL ORDER BY m.submitted_at DESC LIMIT $2) "
	"  UNION ALL "
	"  (SELECT m.id, coalesce(m.submitted_at, m.created_at), m.kind, m.state, m.body, "
	"   m.campaign_id FROM messages m WHERE m.tenant_id = $1 AND m.kind <> 'campaign' "
	"   ORDER BY 2 DESC LIMIT $2)"
	"), i AS ("
	"  SELECT i.id, i.received_at AS at, i.body, i.action, i.keyword, i.campaign_id "
	"  FROM inbound_messages i WHERE i.tenant_id = $1 ORDER BY i.received_at DESC LIMIT $2"
	"), x AS ("
	"  SELECT o.at, 1 AS dir, o.id, json_build_object('direction', 'out', 'id', o.id, "
	"    'at', o.at, 'kind', o.kind, 'state', o.state, 'body', o.body, 'campaign_id', "
	"    o.campaign_id, 'campaign_name', c.name) AS j "
	"  FROM o LEFT JOIN campaigns c ON c.id = o.campaign_id "
	"  UNION ALL "
	"  SELECT i.at, 0, i.id, json_build_object('direction', 'in', 'id', i.id, 'at', i.at, "
	"    'body', i.body, 'action', i.action, 'keyword', i.keyword, 'campaign_id', "
	"    i.campaign_id, 'campaign_name', c.name) "
	"  FROM i LEFT JOIN campaigns c ON c.id = i.campaign_id "
	"  ORDER BY 1 DESC, 2 DESC, 3 DESC LIMIT $2"
	") SELECT EXISTS (SELECT 1 FROM tenants WHERE id = $1), "
	"(SELECT coalesce(json_agg(x.j ORDER BY x.at DESC, x.dir DESC, x.id DESC), '[]') "
	"FROM x)::text";

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

static void tenant_landlord_refused(struct api_ctx *ctx, const char *why)
{
	const char *landlord = json_object_get_string(json_object_object_get(ctx->json, "landlord"));

	if (why && strcmp(why, "other") == 0)
		api_error(ctx, 422, "invalid", "landlord", "landlord: %s is another landlord: you may "
			  "add only your own landlord's tenants", landlord);
	else
		api_error(ctx, 422, "invalid", "landlord", "landlord: no landlord has the code \"%s\" "
			  "(GET /v1/landlords lists them)", landlord);
}

static void tenant_created(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct tenant_create *tc = ctx->state;

	if (r->error && db_is_unique_violation(r)) {
		tc->ref_conflict = strstr(r->constraint, "external_ref") != NULL;
		const char *params[] = { tc->ref_conflict ? tc->external_ref : "",
					 tc->ref_conflict ? "" : tc->phone };
		api_db(ctx, tenant_owner_sql, 2, params, tenant_conflict_done, ctx);
		return;
	}
	if (tenant_bad_time(ctx, r))
		return;
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (!db_get(r, 0, 0)) {
		tenant_landlord_refused(ctx, db_get(r, 0, 1));
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
	api_db(ctx, tenant_insert_sql, 7, params, tenant_created, ctx);
out:
	tenant_input_free(&t);
	sbuf_free(&msg);
	sbuf_free(&extra);
}

/* ---- GET /v1/tenants/{id} ---- */

static void tenant_got(const struct db_result *r, void *arg)
{
	api_reply_row(arg, r, 200, "tenant");
}

void api_tenant_get(struct api_ctx *ctx)
{
	api_get_by_id(ctx, tenant_get_sql, "tenant");
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
		api_db(ctx, tenant_update_sql, 2, params, tenant_one_row, ctx);
	}
	sbuf_free(&extra);
}

static void tenant_by_id(struct api_ctx *ctx, const char *sql, db_cb *cb)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { ctx->params[0] };
	api_db(ctx, sql, 1, params, cb, ctx);
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

/* ---- GET /v1/tenants: newest first, or a search ---- */

/* Appends s with LIKE's wildcards and escape character made literal. */
static void tenant_like_escape(struct sbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '%' || *s == '_')
			sbuf_addc(out, '\\');
		sbuf_addc(out, *s);
	}
}

static size_t tenant_utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/*
 * When q is written like a phone number (digits and the separators people put in them,
 * at least TENANT_PHONE_DIGITS digits), the digits a stored number must end with: a whole
 * UK mobile number however written ("07700 900123", "+44 7700 900123") as its E.164
 * digits, anything shorter as typed ("900123").
 */
static bool tenant_phone_digits(const char *q, char out[TENANT_SEARCH_MAX + 1])
{
	char e164[PHONE_E164_MAX];
	size_t n = 0;

	for (const char *p = q; *p; p++) {
		if (*p >= '0' && *p <= '9')
			out[n++] = *p;
		else if (!strchr(" +-()./", *p))
			return false;
	}
	out[n] = '\0';
	if (n < TENANT_PHONE_DIGITS)
		return false;
	if (phone_uk_mobile(q, e164) == PHONE_OK)
		snprintf(out, TENANT_SEARCH_MAX + 1, "%s", e164 + 1);
	return true;
}

/* ?q= without surrounding spaces into q (empty: no search); 422 when too long. */
static bool tenant_search_text(struct api_ctx *ctx, char q[TENANT_SEARCH_MAX + 1])
{
	const char *raw = api_query(ctx, "q");
	size_t n;

	q[0] = '\0';
	if (!raw)
		return true;
	while (*raw == ' ' || *raw == '\t')
		raw++;
	n = strlen(raw);
	while (n && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	if (n > TENANT_SEARCH_MAX) {
		api_error(ctx, 422, "invalid", "q", "q is too long (at most %d bytes)",
			  TENANT_SEARCH_MAX);
		return false;
	}
	memcpy(q, raw, n);
	q[n] = '\0';
	return true;
}

/*
 * A name contains q; with one or two characters it starts with them instead, because
 * the trigram index cannot narrow a search for fewer than three characters and a
 * contains-search would then read every tenant.
 */
void api_tenant_list(struct api_ctx *ctx)
{
	char q[TENANT_SEARCH_MAX + 1], digits[TENANT_SEARCH_MAX + 1], limit[16];
	struct sbuf name, ref;
	const char *before;

	sbuf_init(&name);
	sbuf_init(&ref);
	if (!api_page(ctx, &before, limit) || !tenant_search_text(ctx, q))
		goto out;
	if (q[0]) {
		if (tenant_utf8_chars(q) >= 3)
			sbuf_addc(&name, '%');
		tenant_like_escape(&name, q);
		sbuf_addc(&name, '%');
		tenant_like_escape(&ref, q);
	}
	const char *params[] = { before, limit, q[0] ? sbuf_str(&name) : NULL,
				 q[0] ? sbuf_str(&ref) : NULL,
				 tenant_phone_digits(q, digits) ? digits : NULL };
	api_db(ctx, tenant_list_sql, 5, params, api_items_done, ctx);
out:
	sbuf_free(&name);
	sbuf_free(&ref);
}

/* ---- GET /v1/tenants/{id}/texts ---- */

static void tenant_texts_done(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct sbuf body;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (!db_get_bool(r, 0, 0)) {
		api_error(ctx, 404, "not_found", NULL, "no tenant with id %s", ctx->params[0]);
		return;
	}
	sbuf_init(&body);
	sbuf_printf(&body, "{\"items\": %s}", db_get(r, 0, 1));
	api_reply(ctx, 200, "application/json", body.data, body.len);
	sbuf_free(&body);
}

void api_tenant_texts(struct api_ctx *ctx)
{
	const char *l = api_query(ctx, "limit");
	int64_t id, n = 100;
	char limit[16];

	if (!api_param_id(ctx, 0, &id))
		return;
	if (l && !str_to_i64(l, 1, 500, &n)) {
		api_error(ctx, 422, "invalid", "limit", "limit must be a number from 1 to 500");
		return;
	}
	snprintf(limit, sizeof(limit), "%lld", (long long)n);
	const char *params[] = { ctx->params[0], limit };
	api_db(ctx, tenant_texts_sql, 2, params, tenant_texts_done, ctx);
}
