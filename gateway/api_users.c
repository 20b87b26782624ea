/*
 * api_users.c: console users (admin): GET/POST /v1/users, GET/PUT /v1/users/{id},
 * POST /v1/users/{id}/invite; and taking up an invitation, which needs no key:
 * POST /v1/invites/check and POST /v1/invites/accept.
 *
 * An admin invites a person by email and role; signpost answers with a one-time link,
 * valid for USERS_INVITE_HOURS, that the admin passes on. The link carries its token after
 * '#', so it never reaches a server log; the page posts it back with the new password.
 * Deactivating a user ends their sessions and unused links at once.
 */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/password.h"
#include "gateway/api_handlers.h"
#include "gateway/data.h"
#include "gateway/session.h"
#include "infra/kdf.h"
#include "infra/log.h"

#define USERS_INVITE_HOURS "72"
#define USERS_MAX_EMAIL 254
#define USERS_MAX_NAME 200
#define USERS_TOKEN_HEX CRYPTO_SHA256_HEX

static const char users_list_sql[] =
	"SELECT coalesce(jsonb_agg(signpost_user_json(u) ORDER BY u.active DESC, u.email), "
	"'[]')::text FROM users u";

static const char users_get_sql[] =
	"SELECT signpost_user_json(u)::text FROM users u WHERE u.id = $1";

/*
 * $1 email, $2 name, $3 role, $4 partner, $5 token hash, $6 invitation link, $7 the code
 * of a bound officer's landlord. Columns: the user (NULL: the email is taken), and whether
 * the landlord is known.
 */
static const char users_insert_sql[] =
	"WITH l AS (SELECT id FROM landlords WHERE code = upper($7::text)), "
	"u AS (INSERT INTO users (email, name, role, partner_id, landlord_id) "
	"  SELECT $1, $2, $3, $4::bigint, (SELECT id FROM l) "
	"  WHERE $7::text IS NULL OR EXISTS (SELECT 1 FROM l) "
	"  ON CONFLICT (email) DO NOTHING RETURNING *), "
	"i AS (INSERT INTO user_invites (token_hash, user_id, expires_at) "
	"  SELECT $5, id, now() + interval '" USERS_INVITE_HOURS " hours' FROM u "
	"  RETURNING expires_at) "
	"SELECT (SELECT (signpost_user_json(u) || jsonb_build_object('invite_url', $6::text, "
	"'invite_expires_at', (SELECT expires_at FROM i)))::text FROM u), "
	"$7::text IS NULL OR EXISTS (SELECT 1 FROM l)";

/* $1 id, $2 name, $3 active. Deactivating ends sessions and unused invitations. */
static const char users_update_sql[] =
	"WITH u AS (UPDATE users SET name = coalesce($2, name), "
	"  active = coalesce($3::bool, active), deactivated_at = CASE "
	"    WHEN $3::bool = false THEN coalesce(deactivated_at, now()) "
	"    WHEN $3::bool THEN NULL ELSE deactivated_at END, updated_at = now() "
	"  WHERE id = $1 RETURNING *), "
	"s AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM u WHERE NOT active)), "
	"i AS (DELETE FROM user_invites WHERE used_at IS NULL "
	"  AND user_id = (SELECT id FROM u WHERE NOT active)) "
	"SELECT signpost_user_json(u)::text FROM u";

/* $1 id, $2 token hash, $3 link. */
static const char users_invite_sql[] =
	"WITH i AS (INSERT INTO user_invites (token_hash, user_id, expires_at) "
	"  SELECT $2, id, now() + interval '" USERS_INVITE_HOURS " hours' FROM users "
	"  WHERE id = $1 AND active RETURNING user_id, expires_at) "
	"SELECT (signpost_user_json(u) || jsonb_build_object('invite_url', $3::text, "
	"'invite_expires_at', i.expires_at))::text FROM i JOIN users u ON u.id = i.user_id";

static const char invites_check_sql[] =
	"SELECT jsonb_build_object('email', u.email, 'name', u.name, 'role', u.role, "
	"'expires_at', i.expires_at)::text FROM user_invites i JOIN users u ON u.id = i.user_id "
	"WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > now() AND u.active";

/* $1 token hash, $2 password hash. A new password ends the user's other sessions. */
static const char invites_accept_sql[] =
	"WITH i AS (UPDATE user_invites SET used_at = now() WHERE token_hash = $1 "
	"  AND used_at IS NULL AND expires_at > now() RETURNING user_id), "
	"u AS (UPDATE users SET password_hash = $2, updated_at = now() "
	"  WHERE id = (SELECT user_id FROM i) AND active RETURNING id, email), "
	"s AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM u)) "
	"SELECT id, email FROM u";

/* A new invitation token (into token, its hash into hash) and the link that carries it. */
static char *users_new_invite(struct api_ctx *ctx, char token[USERS_TOKEN_HEX + 1],
			      char hash[USERS_TOKEN_HEX + 1])
{
	crypto_random_hex(token, USERS_TOKEN_HEX / 2);
	crypto_token_hash(token, hash);
	return xasprintf("%s/console/invite#%s", ctx->app->cfg.public_url, token);
}

static void users_answer(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	api_reply_row(ctx, r, strcmp(ctx->req->method, "POST") == 0 ? 201 : 200, "user");
}

void api_user_list(struct api_ctx *ctx)
{
	api_db(ctx, users_list_sql, 0, NULL, api_items_done, ctx);
}

void api_user_get(struct api_ctx *ctx)
{
	api_get_by_id(ctx, users_get_sql, "user");
}

/* An email address as people write them: something@domain, no spaces; lower-cased. */
static bool users_email(struct api_ctx *ctx, const char *in, char **out)
{
	const char *at = strchr(in, '@');

	if (!*in) {
		api_error(ctx, 422, "required", "email", "Enter an email address");
		return false;
	}
	if (!at || at == in || !at[1] || strchr(at + 1, '@') || !strchr(at + 1, '.') ||
	    strpbrk(in, " \t\r\n<>\",;")) {
		api_error(ctx, 422, "invalid", "email", "Enter an email address in the correct "
			  "format, like name@example.org");
		return false;
	}
	*out = xstrdup(in);
	for (char *c = *out; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	return true;
}

static void users_created(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error && strcmp(r->sqlstate, "23503") == 0) {
		api_error(ctx, 422, "invalid", "partner_id", "partner_id: there is no such partner");
		return;
	}
	if (!r->error && !db_get_bool(r, 0, 1)) {
		api_error(ctx, 422, "invalid", "landlord", "landlord: no landlord has the code \"%s\" "
			  "(GET /v1/landlords lists them)",
			  json_object_get_string(json_object_object_get(ctx->json, "landlord")));
		return;
	}
	if (!r->error && !db_get(r, 0, 0)) {
		api_error(ctx, 409, "conflict", "email", "A user with this email address already "
			  "exists");
		return;
	}
	if (!r->error)
		log_info("user invited by=\"%s\"", ctx->actor);
	users_answer(r, arg);
}

static bool users_role(struct api_ctx *ctx, const char **role, char partner[16],
		       const char **landlord)
{
	enum auth_role r;

	if (!api_field_string(ctx, ctx->json, "role", true, 20, role) ||
	    !api_field_int(ctx, ctx->json, "partner_id", 1, INT64_MAX, partner) ||
	    !api_field_string(ctx, ctx->json, "landlord", false, 20, landlord))
		return false;
	if (!auth_role_parse(*role, &r)) {
		api_error(ctx, 422, "invalid", "role", "Choose a role: admin, officer or partner");
		return false;
	}
	if ((r == AUTH_ROLE_PARTNER) != (partner[0] != '\0')) {
		api_error(ctx, 422, r == AUTH_ROLE_PARTNER ? "required" : "invalid", "partner_id",
			  r == AUTH_ROLE_PARTNER ? "Choose the partner this person works for"
						: "Only partner users belong to a partner");
		return false;
	}
	if (*landlord && !**landlord)
		*landlord = NULL;
	if (*landlord && r != AUTH_ROLE_OFFICER) {
		api_error(ctx, 422, "invalid", "landlord", "Only officers are bound to a landlord");
		return false;
	}
	return true;
}

void api_user_create(struct api_ctx *ctx)
{
	static const char *const known[] = { "email", "name", "role", "partner_id", "landlord" };
	const char *email = NULL, *name = NULL, *role = NULL, *landlord = NULL;
	char partner[16] = "", token[USERS_TOKEN_HEX + 1], hash[USERS_TOKEN_HEX + 1];
	char *lower = NULL, *link;

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "email", true, USERS_MAX_EMAIL, &email) ||
	    !api_field_string(ctx, ctx->json, "name", false, USERS_MAX_NAME, &name) ||
	    !users_role(ctx, &role, partner, &landlord) || !users_email(ctx, email, &lower))
		return;
	link = users_new_invite(ctx, token, hash);
	const char *params[] = { lower, name && *name ? name : NULL, role,
				 partner[0] ? partner : NULL, hash, link, landlord };
	api_db(ctx, users_insert_sql, 7, params, users_created, ctx);
	OPENSSL_cleanse(token, sizeof(token));
	free(link);
	free(lower);
}

void api_user_update(struct api_ctx *ctx)
{
	static const char *const known[] = { "name", "active" };
	const char *name = NULL, *active = NULL;
	struct json_object *v;
	int64_t id;

	if (!api_param_id(ctx, 0, &id) ||
	    !api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "name", false, USERS_MAX_NAME, &name))
		return;
	if (json_object_object_get_ex(ctx->json, "active", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			api_error(ctx, 422, "invalid", "active", "active must be true or false");
			return;
		}
		active = json_object_get_boolean(v) ? "true" : "false";
	}
	if (active && !strcmp(active, "false") && id == ctx->user_id) {
		api_error(ctx, 422, "invalid", "active", "You cannot deactivate your own account");
		return;
	}
	const char *params[] = { ctx->params[0], name, active };
	api_db(ctx, users_update_sql, 3, params, users_answer, ctx);
}

void api_user_invite(struct api_ctx *ctx)
{
	char token[USERS_TOKEN_HEX + 1], hash[USERS_TOKEN_HEX + 1];
	char *link;
	int64_t id;

	if (!api_param_id(ctx, 0, &id) || !api_known_keys(ctx, ctx->json, "", NULL, 0))
		return;
	link = users_new_invite(ctx, token, hash);
	const char *params[] = { ctx->params[0], hash, link };
	api_db(ctx, users_invite_sql, 3, params, users_answer, ctx);
	OPENSSL_cleanse(token, sizeof(token));
	free(link);
}

/* ---- taking up an invitation ---- */

static bool invites_token(struct api_ctx *ctx, char hash[USERS_TOKEN_HEX + 1])
{
	const char *token = NULL;

	if (!api_field_string(ctx, ctx->json, "token", true, 200, &token))
		return false;
	crypto_token_hash(token, hash);
	return true;
}

static void invites_checked(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (!r->error && db_rows(r) == 0) {
		api_error(ctx, 404, "invite_invalid", "token", "This link does not work: it may "
			  "have expired or been used already. Ask an administrator for a new one.");
		return;
	}
	api_reply_row(ctx, r, 200, "user");
}

void api_invite_check(struct api_ctx *ctx)
{
	static const char *const known[] = { "token" };
	char hash[USERS_TOKEN_HEX + 1];

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !invites_token(ctx, hash))
		return;
	const char *params[] = { hash };
	api_db(ctx, invites_check_sql, 1, params, invites_checked, ctx);
}

static void invites_accepted(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error) {
		api_db_error(ctx, r);
	} else if (db_rows(r) == 0) {
		invites_checked(r, ctx);
	} else {
		log_info("user set a password user=%s", db_get(r, 0, 0));
		session_start(ctx, db_get_i64(r, 0, 0), db_get(r, 0, 1));
	}
}

static void invites_hashed(enum kdf_status status, bool match, const char *hash, void *arg)
{
	struct api_ctx *ctx = arg;
	(void)match;

	if (status == KDF_ABANDONED) {
		api_error(ctx, 503, "unavailable", NULL, "signpost is stopping; try again shortly");
		return;
	}
	const char *params[] = { ctx->state, hash };
	api_db(ctx, invites_accept_sql, 2, params, invites_accepted, ctx);
}

void api_invite_accept(struct api_ctx *ctx)
{
	static const char *const known[] = { "token", "password" };
	const char *password = NULL, *problem;
	char hash[USERS_TOKEN_HEX + 1];

	if (httpd_req_header(ctx->req, "Origin") && !session_same_origin(ctx, NULL))
		return;
	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !invites_token(ctx, hash) ||
	    !api_field_string(ctx, ctx->json, "password", true, 1024, &password))
		return;
	problem = password_problem(password, data_common_passwords_txt);
	if (problem) {
		api_error(ctx, 422, "invalid", "password", "%s", problem);
		return;
	}
	ctx->state = xstrdup(hash);
	ctx->state_free = free;
	if (kdf_hash(ctx->app->kdf, password, invites_hashed, ctx) < 0)
		api_error(ctx, 503, "busy", NULL, "too many people are signing in at once; try "
			  "again in a few seconds");
}
