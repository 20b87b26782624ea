/*
 * api_landlords.c: the landlords of the consortium: POST/GET /v1/landlords,
 * GET/PUT /v1/landlords/{id} (writing is for admins; officers read them to name a
 * tenant's landlord). A landlord has a short code (imports and --landlord name it), a
 * name, and optionally the sender ID and provider its tenants' texts use and the version
 * of its privacy notice, recorded with each consent to share.
 */
#include <string.h>

#include "gateway/api_campaign.h"
#include "gateway/api_handlers.h"

#define LANDLORD_MAX_NAME 200
#define LANDLORD_MAX_CODE 16
#define LANDLORD_MAX_SENDER 15
#define LANDLORD_MAX_NOTICE 100

#define LANDLORD_JSON                                                                        \
	"json_build_object('id', l.id, 'code', l.code, 'name', l.name, 'sender_id', "         \
	"l.sender_id, 'provider', l.provider, 'privacy_notice_version', "                      \
	"l.privacy_notice_version, 'tenants', (SELECT count(*) FROM tenants t WHERE "           \
	"t.landlord_id = l.id AND t.erased_at IS NULL), 'created_at', l.created_at, "           \
	"'updated_at', l.updated_at)"

/* $1 code, $2 name, $3 sender, $4 provider, $5 notice version. */
static const char landlord_insert_sql[] =
	"WITH l AS (INSERT INTO landlords (code, name, sender_id, provider, "
	"privacy_notice_version) VALUES ($1, $2, $3, $4, $5) RETURNING *) "
	"SELECT " LANDLORD_JSON "::text FROM l";

/* $6 id; a field left out keeps its value, "" clears an optional one. */
static const char landlord_update_sql[] =
	"WITH l AS (UPDATE landlords SET code = coalesce($1, code), name = coalesce($2, name), "
	"sender_id = CASE WHEN $3::text IS NULL THEN sender_id ELSE nullif($3, '') END, "
	"provider = CASE WHEN $4::text IS NULL THEN provider ELSE nullif($4, '') END, "
	"privacy_notice_version = CASE WHEN $5::text IS NULL THEN privacy_notice_version "
	"ELSE nullif($5, '') END, updated_at = now() WHERE id = $6 RETURNING *), "
	"names AS (UPDATE tenants t SET landlord = l.name FROM l WHERE t.landlord_id = l.id "
	"AND t.erased_at IS NULL AND t.landlord IS DISTINCT FROM l.name) "
	"SELECT " LANDLORD_JSON "::text FROM l";

static const char landlord_get_sql[] =
	"SELECT " LANDLORD_JSON "::text FROM landlords l WHERE l.id = $1";

static const char landlord_list_sql[] =
	"SELECT coalesce(json_agg(" LANDLORD_JSON " ORDER BY l.code), '[]')::text FROM landlords l";

struct landlord_input {
	const char *code, *name, *sender, *provider, *notice;
	char code_upper[LANDLORD_MAX_CODE + 1];
};

/* A code is 1-16 capital letters, digits and '-', starting with a letter or digit. */
static bool landlord_code(struct api_ctx *ctx, struct landlord_input *in)
{
	size_t n = in->code ? strlen(in->code) : 0;

	if (!in->code)
		return true;
	for (size_t i = 0; i < n && n <= LANDLORD_MAX_CODE; i++) {
		char c = in->code[i];
		c = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c == '-' && i > 0)))
			n = 0;
		in->code_upper[i] = c;
	}
	if (n == 0 || n > LANDLORD_MAX_CODE) {
		api_error(ctx, 422, "invalid", "code", "code must be 1 to %d letters, digits and "
			  "'-' (such as \"ORBIT\" or \"TCHG\")", LANDLORD_MAX_CODE);
		return false;
	}
	in->code_upper[n] = '\0';
	in->code = in->code_upper;
	return true;
}

/* An alphanumeric sender (up to 11 letters, digits and spaces) or a number (+ digits). */
static bool landlord_sender(struct api_ctx *ctx, const char *s)
{
	size_t n = s ? strlen(s) : 0, digits = s && s[0] == '+' ? 1 : 0;
	bool ok = n == 0 || (digits ? n >= 8 : n <= 11);

	for (size_t i = digits; ok && i < n; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || (!digits && ((s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= 'a' && s[i] <= 'z') || s[i] == ' '));
	if (!ok)
		api_error(ctx, 422, "invalid", "sender_id", "sender_id must be up to 11 letters, "
			  "digits and spaces, or a number in international form (+447700900123)");
	return ok;
}

static bool landlord_input(struct api_ctx *ctx, struct landlord_input *in, bool creating)
{
	static const char *const known[] = { "code", "name", "sender_id", "provider",
					     "privacy_notice_version" };

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "code", creating, 100, &in->code) ||
	    !landlord_code(ctx, in) ||
	    !api_field_string(ctx, ctx->json, "name", creating, LANDLORD_MAX_NAME, &in->name) ||
	    !api_field_string(ctx, ctx->json, "sender_id", false, LANDLORD_MAX_SENDER, &in->sender) ||
	    !landlord_sender(ctx, in->sender) ||
	    !api_field_string(ctx, ctx->json, "provider", false, 100, &in->provider) ||
	    !campaign_check_provider(ctx, "provider", in->provider && *in->provider ? in->provider
										    : NULL) ||
	    !api_field_string(ctx, ctx->json, "privacy_notice_version", false,
			      LANDLORD_MAX_NOTICE, &in->notice))
		return false;
	if (in->name && !*in->name) {
		api_error(ctx, 422, "required", "name", "name must not be empty");
		return false;
	}
	return true;
}

static void landlord_saved(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error && db_is_unique_violation(r)) {
		bool code = strstr(r->constraint, "code") != NULL;
		api_error(ctx, 409, "conflict", code ? "code" : "name", "another landlord has this %s",
			  code ? "code" : "name");
		return;
	}
	api_reply_row(ctx, r, strcmp(ctx->req->method, "POST") == 0 ? 201 : 200, "landlord");
}

static void landlord_save(struct api_ctx *ctx, const char *sql, const char *id)
{
	struct landlord_input in;

	memset(&in, 0, sizeof(in));
	if (!landlord_input(ctx, &in, id == NULL))
		return;
	const char *params[] = { in.code, in.name, in.sender, in.provider, in.notice, id };
	api_db(ctx, sql, id ? 6 : 5, params, landlord_saved, ctx);
}

void api_landlord_create(struct api_ctx *ctx)
{
	landlord_save(ctx, landlord_insert_sql, NULL);
}

void api_landlord_update(struct api_ctx *ctx)
{
	int64_t id;

	if (api_param_id(ctx, 0, &id))
		landlord_save(ctx, landlord_update_sql, ctx->params[0]);
}

void api_landlord_get(struct api_ctx *ctx)
{
	api_get_by_id(ctx, landlord_get_sql, "landlord");
}

void api_landlord_list(struct api_ctx *ctx)
{
	api_db(ctx, landlord_list_sql, 0, NULL, api_items_done, ctx);
}
