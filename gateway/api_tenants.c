/*
 * api_tenants.c: POST /v1/tenants, GET /v1/tenants/{id}, POST /v1/tenants/import.
 */
#include <stdlib.h>
#include <string.h>

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
	"'created_at', t.created_at, 'updated_at', t.updated_at)::text"

const char tenant_json_sql[] = TENANT_JSON;

static const char tenant_insert_sql[] =
	"WITH t AS (INSERT INTO tenants (external_ref, first_name, phone, borough, landlord, tags) "
	"VALUES ($1, $2, $3, $4, $5, string_to_array($6, ';')) RETURNING *) "
	"SELECT " TENANT_JSON " FROM t";

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
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	api_reply(ctx, 201, "application/json", db_get(r, 0, 0), strlen(db_get(r, 0, 0)));
}

void api_tenant_create(struct api_ctx *ctx)
{
	static const char *const known[] = { "external_ref", "first_name", "phone", "borough",
					     "landlord", "tags" };
	struct tenant_input t;
	struct json_object *tags = NULL;
	const char *tag_list[TENANT_MAX_TAGS + 1], *field;
	struct sbuf msg;

	tenant_input_init(&t);
	sbuf_init(&msg);
	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "external_ref", true, 1000, &t.external_ref) ||
	    !api_field_string(ctx, ctx->json, "first_name", false, 1000, &t.first_name) ||
	    !api_field_string(ctx, ctx->json, "phone", true, 1000, &t.phone) ||
	    !api_field_string(ctx, ctx->json, "borough", false, 1000, &t.borough) ||
	    !api_field_string(ctx, ctx->json, "landlord", false, 1000, &t.landlord) ||
	    !api_field_string_array(ctx, ctx->json, "tags", TENANT_MAX_TAGS, 1000, &tags))
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
				 sbuf_str(&t.tags_out) };
	struct tenant_create *tc = xcalloc(1, sizeof(*tc));
	tc->external_ref = xstrdup(t.external_ref);
	memcpy(tc->phone, t.e164, sizeof(tc->phone));
	ctx->state = tc;
	ctx->state_free = tenant_create_free;
	db_query(ctx->app->db, tenant_insert_sql, 6, params, tenant_created, ctx);
out:
	tenant_input_free(&t);
	sbuf_free(&msg);
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
