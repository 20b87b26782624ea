/*
 * session.c: console sign-in, sign-out and session look-ups (see session.h). Handlers:
 * POST /v1/session (sign in), GET /v1/session (who am I), DELETE /v1/session (sign out).
 */
#include "gateway/session.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "common/password.h"
#include "gateway/api_handlers.h"
#include "infra/kdf.h"
#include "infra/log.h"

#define SESSION_MAX_EMAIL 254

/* $1 token hash, $2 idle seconds. Slides the expiry at most once a minute. */
static const char session_lookup_sql[] =
	"WITH s AS ("
	"  SELECT s.token_hash, s.csrf_token, u.id, u.role, coalesce(u.partner_id, 0) AS partner, "
	"    u.email, coalesce(u.landlord_id, 0) AS landlord, "
	"    s.last_seen_at < now() - interval '1 minute' AS stale "
	"  FROM sessions s JOIN users u ON u.id = s.user_id "
	"  LEFT JOIN partners p ON p.id = u.partner_id "
	"  WHERE s.token_hash = $1 AND s.expires_at > now() AND u.active AND coalesce(p.active, true)"
	"), touch AS ("
	"  UPDATE sessions SET last_seen_at = now(), "
	"    expires_at = now() + make_interval(secs => $2::int) "
	"  WHERE token_hash = (SELECT token_hash FROM s WHERE stale)"
	") SELECT id, role, partner, csrf_token, email, landlord FROM s";

/*
 * $1 email. Recent failures (the newest five), when the oldest of them stops counting,
 * and the password hash of the active user with that email (NULL: none).
 */
static const char session_check_sql[] =
	"WITH f AS (SELECT at FROM sign_in_failures WHERE email = $1 "
	"  AND at > now() - make_interval(secs => $2::int) ORDER BY at DESC LIMIT $3::int) "
	"SELECT (SELECT count(*) FROM f), "
	"  to_char(((SELECT min(at) FROM f) + make_interval(secs => $2::int)) "
	"    AT TIME ZONE 'Europe/London', 'HH24:MI'), "
	"  ceil(extract(epoch FROM (SELECT min(at) FROM f) + make_interval(secs => $2::int) "
	"    - now()))::bigint, "
	"  (SELECT u.id FROM users u LEFT JOIN partners p ON p.id = u.partner_id "
	"    WHERE u.email = $1 AND u.active AND coalesce(p.active, true) "
	"    AND u.password_hash IS NOT NULL), "
	"  (SELECT u.password_hash FROM users u LEFT JOIN partners p ON p.id = u.partner_id "
	"    WHERE u.email = $1 AND u.active AND coalesce(p.active, true))";

enum { SC_FAILURES, SC_RETRY_AT, SC_RETRY_S, SC_USER_ID, SC_HASH };

/* Old failures go in retention passes (retention.c). */
static const char session_failed_sql[] = "INSERT INTO sign_in_failures (email) VALUES ($1)";

/* $1 user, $2 token hash, $3 CSRF token, $4 idle seconds, $5 email. */
static const char session_insert_sql[] =
	"WITH s AS (INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) "
	"  VALUES ($2, $1, $3, now() + make_interval(secs => $4::int)) RETURNING expires_at), "
	"f AS (DELETE FROM sign_in_failures WHERE email = $5), "
	"u AS (UPDATE users SET last_sign_in_at = now() WHERE id = $1 RETURNING *) "
	"SELECT jsonb_build_object('user', signpost_user_json(u), 'csrf_token', $3::text, "
	"  'expires_at', (SELECT expires_at FROM s), 'org_name', $6::text)::text FROM u";

static const char session_delete_sql[] = "DELETE FROM sessions WHERE token_hash = $1";

/* $1 user, $2 CSRF token, $3 org name. */
static const char session_get_sql[] =
	"SELECT jsonb_build_object('user', signpost_user_json(u), 'csrf_token', $2::text, "
	"'org_name', $3::text)::text FROM users u WHERE u.id = $1";

bool session_cookie(const struct httpd_req *req, char token[SESSION_TOKEN_HEX + 1])
{
	const char *h = httpd_req_header(req, "Cookie");
	const size_t name_len = strlen(SESSION_COOKIE);

	for (const char *p = h; p && *p; p += strcspn(p, ";"), p += *p == ';') {
		p += strspn(p, " \t");
		if (strncmp(p, SESSION_COOKIE "=", name_len + 1) != 0)
			continue;
		p += name_len + 1;
		size_t n = strcspn(p, "; \t");
		if (n != SESSION_TOKEN_HEX)
			return false;
		for (size_t i = 0; i < n; i++)
			if (codec_hex_value(p[i]) < 0)
				return false;
		memcpy(token, p, n);
		token[n] = '\0';
		return true;
	}
	return false;
}

/* ---- looking a session up ---- */

struct session_pending {
	session_cb *cb;
	void *arg;
};

static void session_looked_up(const struct db_result *r, void *arg)
{
	struct session_pending *p = arg;
	struct session_user u;
	bool found = !r->error && db_rows(r) == 1 && auth_role_parse(db_get(r, 0, 1), &u.role);

	if (found) {
		u.user_id = db_get_i64(r, 0, 0);
		u.partner_id = db_get_i64(r, 0, 2);
		snprintf(u.csrf, sizeof(u.csrf), "%s", db_get(r, 0, 3));
		snprintf(u.email, sizeof(u.email), "%s", db_get(r, 0, 4));
		u.landlord_id = db_get_i64(r, 0, 5);
	}
	p->cb(found ? &u : NULL, r->error != NULL, p->arg);
	free(p);
}

void session_lookup(struct app *app, const char *token, session_cb *cb, void *arg)
{
	struct session_pending *p = xcalloc(1, sizeof(*p));
	char hash[SESSION_TOKEN_HEX + 1], idle[16];

	p->cb = cb;
	p->arg = arg;
	crypto_token_hash(token, hash);
	snprintf(idle, sizeof(idle), "%d", app->cfg.session_idle_s);
	const char *params[] = { hash, idle };
	db_query(app->db, session_lookup_sql, 2, params, session_looked_up, p);
}

/* ---- cookies and origins ---- */

static void session_set_cookie(struct api_ctx *ctx, const char *value, bool clear)
{
	bool secure = str_startswith(ctx->app->cfg.public_url, "https://");
	char *c = xasprintf("%s=%s; Path=/; HttpOnly; SameSite=Lax%s%s", SESSION_COOKIE, value,
			    clear ? "; Max-Age=0" : "", secure ? "; Secure" : "");

	httpd_add_header(ctx->req, "Set-Cookie", c);
	free(c);
}

void session_clear_cookie(struct api_ctx *ctx)
{
	session_set_cookie(ctx, "", true);
}

/* scheme://host[:port] of url (which starts with http:// or https://): its length. */
static size_t session_origin_len(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	return (size_t)(host - url) + strcspn(host, "/");
}

static bool session_origin_ok(struct api_ctx *ctx, const char *origin)
{
	const char *public_url = ctx->app->cfg.public_url;
	const char *host = httpd_req_header(ctx->req, "Host");
	size_t n = session_origin_len(public_url), scheme = (size_t)(strstr(public_url, "://") -
								     public_url) + 3;

	if (strlen(origin) == n && strncasecmp(origin, public_url, n) == 0)
		return true;
	/* The same scheme, at the host the browser used (localhost for 127.0.0.1, say). */
	return host && strncasecmp(origin, public_url, scheme) == 0 &&
	       str_ieq(origin + scheme, host);
}

bool session_same_origin(struct api_ctx *ctx, const char *csrf)
{
	const char *origin = httpd_req_header(ctx->req, "Origin");
	const char *token = httpd_req_header(ctx->req, SESSION_CSRF_HEADER);

	if (!origin || !session_origin_ok(ctx, origin)) {
		api_error(ctx, 403, "bad_origin", NULL, "this request did not come from the "
			  "console's own pages (its Origin header is %s); reload the console and try "
			  "again", origin ? "another site's" : "missing");
		return false;
	}
	if (csrf && !(token && crypto_equal(token, strlen(token), csrf, strlen(csrf)))) {
		api_error(ctx, 403, "bad_csrf_token", NULL, "this request lacks the session's "
			  "CSRF token (header " SESSION_CSRF_HEADER "); reload the console and try "
			  "again");
		return false;
	}
	return true;
}

/* ---- starting a session ---- */

struct session_new {
	struct api_ctx *ctx;
	char token[SESSION_TOKEN_HEX + 1];
};

static void session_started(const struct db_result *r, void *arg)
{
	struct session_new *sn = arg;

	if (!r->error && db_rows(r) == 1)
		session_set_cookie(sn->ctx, sn->token, false);
	api_reply_row(sn->ctx, r, 201, "user");
	OPENSSL_cleanse(sn, sizeof(*sn));
	free(sn);
}

void session_start(struct api_ctx *ctx, int64_t user_id, const char *email)
{
	struct session_new *sn = xcalloc(1, sizeof(*sn));
	char hash[SESSION_TOKEN_HEX + 1], csrf[SESSION_TOKEN_HEX + 1], id[24], idle[16];

	sn->ctx = ctx;
	crypto_random_hex(sn->token, SESSION_TOKEN_HEX / 2);
	crypto_random_hex(csrf, SESSION_TOKEN_HEX / 2);
	crypto_token_hash(sn->token, hash);
	snprintf(id, sizeof(id), "%lld", (long long)user_id);
	snprintf(idle, sizeof(idle), "%d", ctx->app->cfg.session_idle_s);
	log_info("session started user=%s", id);
	const char *params[] = { id, hash, csrf, idle, email, ctx->app->cfg.org_name };
	api_db(ctx, session_insert_sql, 6, params, session_started, sn);
}

/* ---- POST /v1/session: signing in ---- */

struct sign_in {
	struct api_ctx *ctx;
	char *email; /* lower case */
	char *password;
	int64_t user_id;
	int64_t failures;
};

static void sign_in_free(void *arg)
{
	struct sign_in *si = arg;

	OPENSSL_cleanse(si->password, strlen(si->password));
	free(si->password);
	free(si->email);
	free(si);
}

static void sign_in_refused(const struct db_result *r, void *arg)
{
	struct sign_in *si = arg;
	(void)r; /* the refusal stands even if it could not be counted */

	log_info("sign-in refused");
	if (si->failures + 1 >= SESSION_MAX_FAILURES)
		api_error(si->ctx, 401, "sign_in_failed", "email", "Enter a correct email address "
			  "and password. That was the %dth wrong try in %d minutes, so signing in "
			  "with this email address is now blocked for %d minutes.",
			  SESSION_MAX_FAILURES, SESSION_FAILURE_WINDOW_S / 60,
			  SESSION_FAILURE_WINDOW_S / 60);
	else
		api_error(si->ctx, 401, "sign_in_failed", "email",
			  "Enter a correct email address and password");
}

static void sign_in_verified(enum kdf_status status, bool match, const char *hash, void *arg)
{
	struct sign_in *si = arg;
	(void)hash;

	if (status == KDF_ABANDONED) {
		api_error(si->ctx, 503, "unavailable", NULL, "signpost is stopping; try again shortly");
	} else if (match && si->user_id) {
		session_start(si->ctx, si->user_id, si->email);
	} else {
		const char *params[] = { si->email };
		api_db(si->ctx, session_failed_sql, 1, params, sign_in_refused, si);
	}
}

static void sign_in_checked(const struct db_result *r, void *arg)
{
	struct sign_in *si = arg;
	struct api_ctx *ctx = si->ctx;

	if (r->error || db_rows(r) != 1) {
		api_db_error(ctx, r);
		return;
	}
	si->failures = db_get_i64(r, 0, SC_FAILURES);
	if (si->failures >= SESSION_MAX_FAILURES) {
		httpd_add_header(ctx->req, "Retry-After", db_get(r, 0, SC_RETRY_S));
		api_error(ctx, 429, "too_many_attempts", "email", "There have been %d wrong tries "
			  "to sign in with this email address in the last %d minutes. Try again "
			  "after %s.", SESSION_MAX_FAILURES, SESSION_FAILURE_WINDOW_S / 60,
			  db_get(r, 0, SC_RETRY_AT));
		return;
	}
	si->user_id = db_get_i64(r, 0, SC_USER_ID);
	if (kdf_verify(ctx->app->kdf, si->password, db_get(r, 0, SC_HASH), sign_in_verified,
		       si) < 0)
		api_error(ctx, 503, "busy", NULL, "too many people are signing in at once; try "
			  "again in a few seconds");
}

void api_session_create(struct api_ctx *ctx)
{
	static const char *const known[] = { "email", "password" };
	const char *email = NULL, *password = NULL;
	char window[16], max[16];
	struct sign_in *si;

	if (httpd_req_header(ctx->req, "Origin") && !session_same_origin(ctx, NULL))
		return;
	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "email", true, SESSION_MAX_EMAIL, &email) ||
	    !api_field_string(ctx, ctx->json, "password", true, PASSWORD_MAX_LEN, &password))
		return;
	if (!*email || !*password) {
		api_error(ctx, 422, "required", *email ? "password" : "email", "Enter your %s",
			  *email ? "password" : "email address");
		return;
	}
	si = xcalloc(1, sizeof(*si));
	si->ctx = ctx;
	si->email = xstrdup(email);
	for (char *c = si->email; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	si->password = xstrdup(password);
	ctx->state = si;
	ctx->state_free = sign_in_free;
	snprintf(window, sizeof(window), "%d", SESSION_FAILURE_WINDOW_S);
	snprintf(max, sizeof(max), "%d", SESSION_MAX_FAILURES);
	const char *params[] = { si->email, window, max };
	api_db(ctx, session_check_sql, 3, params, sign_in_checked, si);
}

/* ---- GET and DELETE /v1/session ---- */

static void session_got(const struct db_result *r, void *arg)
{
	api_reply_row(arg, r, 200, "user");
}

void api_session_get(struct api_ctx *ctx)
{
	char id[24];

	if (!ctx->user_id) { /* an API key: no person, no session */
		struct json_object *o = json_object_new_object(), *k = json_object_new_object();
		json_object_object_add(k, "id", json_object_new_int64(ctx->key_id));
		json_object_object_add(k, "role", json_object_new_string(auth_role_str(ctx->role)));
		json_object_object_add(k, "partner_id", ctx->partner_id ?
				       json_object_new_int64(ctx->partner_id) : NULL);
		json_object_object_add(o, "key", k);
		json_object_object_add(o, "org_name", json_object_new_string(ctx->app->cfg.org_name));
		api_reply_json(ctx, 200, o);
		return;
	}
	snprintf(id, sizeof(id), "%lld", (long long)ctx->user_id);
	const char *params[] = { id, ctx->csrf, ctx->app->cfg.org_name };
	api_db(ctx, session_get_sql, 3, params, session_got, ctx);
}

static void session_deleted(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	log_info("session ended user=%lld", (long long)ctx->user_id);
	session_clear_cookie(ctx);
	api_reply(ctx, 204, NULL, NULL, 0);
}

void api_session_delete(struct api_ctx *ctx)
{
	char token[SESSION_TOKEN_HEX + 1], hash[SESSION_TOKEN_HEX + 1];

	if (!ctx->user_id || !session_cookie(ctx->req, token)) {
		api_error(ctx, 409, "conflict", NULL, "an API key has no session to end; revoke "
			  "the key instead");
		return;
	}
	crypto_token_hash(token, hash);
	const char *params[] = { hash };
	api_db(ctx, session_delete_sql, 1, params, session_deleted, ctx);
}
