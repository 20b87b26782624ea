/*
 * session.h: people signed in to the console.
 *
 * Signing in (POST /v1/session) checks the password on the KDF thread and stores a
 * session row: the browser gets a random token in the cookie signpost_session (HttpOnly,
 * SameSite=Lax, Secure behind https), the database keeps its SHA-256 and a CSRF token.
 * Every request that carries the cookie and no Authorization header is looked up here,
 * which also slides the idle expiry; api.c then applies the same role check as for keys.
 * Requests that change anything must also send the CSRF token (X-CSRF-Token) and a
 * same-origin Origin.
 *
 * Five failed sign-ins for one email within 15 minutes refuse further tries (429) until
 * the oldest of them is 15 minutes old; an unknown email is refused after the same work
 * as a wrong password.
 */
#ifndef SIGNPOST_SESSION_H
#define SIGNPOST_SESSION_H

#include "gateway/api.h"

#define SESSION_COOKIE "signpost_session"
#define SESSION_TOKEN_HEX 64
#define SESSION_CSRF_HEADER "X-CSRF-Token"
#define SESSION_MAX_FAILURES 5
#define SESSION_FAILURE_WINDOW_S (15 * 60)

struct session_user {
	int64_t user_id;
	enum auth_role role;
	int64_t partner_id; /* 0 unless role is partner */
	int64_t landlord_id; /* an officer bound to a landlord, or 0 */
	char csrf[SESSION_TOKEN_HEX + 1];
	char email[256];
};

/* user NULL: no live session for the token. unavailable: the database could not be asked. */
typedef void session_cb(const struct session_user *user, bool unavailable, void *arg);

/* The session token from the request's Cookie header; false when there is none. */
bool session_cookie(const struct httpd_req *req, char token[SESSION_TOKEN_HEX + 1]) WUR;
/* Looks the token up (and slides its expiry); cb runs later. */
void session_lookup(struct app *app, const char *token, session_cb *cb, void *arg);
/* Adds the Set-Cookie header that ends the browser's session. */
void session_clear_cookie(struct api_ctx *ctx);
/*
 * Whether a request that changes something came from the console's own pages: its Origin
 * is this service's (SIGNPOST_PUBLIC_URL's, or the Host it was sent to) and, when
 * csrf is given, it carries that token. Answers 403 and returns false otherwise.
 */
bool session_same_origin(struct api_ctx *ctx, const char *csrf) WUR;

/*
 * Starts a session for user_id and answers 201 with {"user", "csrf_token", "expires_at",
 * "org_name"} and the cookie. Used by sign-in and by taking up an invitation.
 */
void session_start(struct api_ctx *ctx, int64_t user_id, const char *email);

#endif
