/*
 * api.h: routing, authentication and JSON helpers for the HTTP API and webhooks.
 *
 * Every /v1 route names the roles that may call it; webhooks and health checks are
 * public (webhooks authenticate through their provider's signature). Handlers answer
 * exactly once through api_reply*, which also frees the context: touch nothing after.
 */
#ifndef SIGNPOST_API_H
#define SIGNPOST_API_H

#include <json-c/json.h>

#include "gateway/app.h"
#include "gateway/auth.h"
#include "infra/db.h"
#include "infra/httpd.h"

#define API_JSON_LIMIT (1u << 20)
#define API_CSV_LIMIT (50u << 20)
#define API_WEBHOOK_LIMIT (256u << 10) /* providers' webhooks, whose texts are short */

#define API_STAFF (AUTH_ROLE_ADMIN | AUTH_ROLE_OFFICER)
#define API_ALL (API_STAFF | AUTH_ROLE_PARTNER)


enum api_body {
	API_BODY_NONE,   /* a body, if any, is read and ignored (up to the JSON limit) */
	API_BODY_JSON,   /* parsed into ctx->json; 400 when invalid */
	API_BODY_RAW,    /* kept as bytes in ctx->req->body (webhooks) */
	API_BODY_STREAM, /* handed to route->on_body as it arrives */
};

struct api_ctx;

struct api_route {
	const char *method;
	/* "/v1/tenants/{}": {} captures one path segment; a final {*} the rest of the path */
	const char *pattern;
	unsigned roles;      /* 0: no key needed */
	enum api_body body;
	void (*handle)(struct api_ctx *ctx);
	int (*on_body)(struct api_ctx *ctx, const char *data, size_t len);
};

struct api_ctx {
	struct app *app;
	struct httpd_req *req;
	const struct api_route *route;
	char *params[3];
	int nparams;
	enum auth_role role;
	int64_t key_id;     /* the API key that authenticated the request, or 0 */
	int64_t user_id;    /* the console user whose session did, or 0 */
	int64_t partner_id;
	/* A bound officer's landlord, or 0: every statement through api_db is scoped to it. */
	int64_t landlord_id;
	char csrf[72];      /* the session's CSRF token (console users) */
	char actor[160];    /* who is asking, for records: the user's email or "API key 7" */
	struct json_object *json;
	void *state;
	void (*state_free)(void *state);
};

/* Every route, in the order they are tried (test_routes holds docs/openapi.json to it). */
const struct api_route *api_route_table(size_t *n);
/* The route the daemon would choose for method and path, or NULL when none takes them. */
const struct api_route *api_route_lookup(const char *method, const char *path);

void api_init(struct app *app);
/* The route table's i-th route, or NULL past its end (for /metrics' labels). */
const struct api_route *api_route_at(size_t i);
void api_shutdown(struct app *app);

void api_reply(struct api_ctx *ctx, int status, const char *content_type, const char *body,
	       size_t len);
/* Takes ownership of obj. */
void api_reply_json(struct api_ctx *ctx, int status, struct json_object *obj);
/* Ends an answer streamed with httpd_reply_start/_chunk (see httpd.h) and frees the context. */
void api_reply_end(struct api_ctx *ctx, bool complete);
/* {"error": {"code": code, "message": ..., "field": field}}; field may be NULL. */
void api_error(struct api_ctx *ctx, int status, const char *code, const char *field,
	       const char *fmt, ...) PRINTF_LIKE(5, 6);
/* 503 when the database is unreachable, 500 otherwise; logs the cause. */
void api_db_error(struct api_ctx *ctx, const struct db_result *r);
/*
 * Answers row 0, column 0 (JSON text) with status; 404 when there is no row, saying
 * "no <what> with id <id>" (or the path when what is NULL).
 */
void api_reply_row(struct api_ctx *ctx, const struct db_result *r, int status, const char *what);
/* GET of one resource: sql with $1 the id in the path, answered by api_reply_row. */
void api_get_by_id(struct api_ctx *ctx, const char *sql, const char *what);
/*
 * Every statement of a request goes through here: a bound officer's (ctx->landlord_id) is
 * scoped to that landlord's rows by the database (db_query_scoped), anyone else's is not.
 * Handlers never call db_query themselves, so none can forget the scope.
 */
void api_db(struct api_ctx *ctx, const char *sql, int nparams, const char *const *params,
	    db_cb *cb, void *arg);
/* Answers {"items": <row 0, column 0>}. */
void api_reply_items(struct api_ctx *ctx, const struct db_result *r);
/* The same as a statement's callback, arg the api_ctx. */
void api_items_done(const struct db_result *r, void *arg);
/* 422 with the message of a failed data check, naming the field it starts with. */
void api_error_from_message(struct api_ctx *ctx, const char *message);

/* Path parameter i as a positive id; answers 404 and returns false otherwise. */
bool api_param_id(struct api_ctx *ctx, int i, int64_t *out) WUR;
/* Paging: ?limit=N (1-500, default 100) and ?before=ID. Answers 422 and returns false on bad values. */
bool api_page(struct api_ctx *ctx, const char **before, char limit[16]) WUR;
/*
 * A list page: checks ?limit and ?before, runs sql with them as $1 and $2 (the SQL gives
 * one JSON array) and answers {"items": [...]}.
 */
void api_list(struct api_ctx *ctx, const char *sql);
/* A query-string parameter (decoded) or NULL; the string lives as long as ctx. */
const char *api_query(struct api_ctx *ctx, const char *name);
/* Every query-string parameter (decoded), as parsed once for the request; lives as long as ctx. */
const struct kvlist *api_query_all(struct api_ctx *ctx);

/*
 * JSON field checks: each answers 422 naming the field and returns false when the value
 * is wrong. A missing optional field leaves *out untouched and returns true.
 */
bool api_field_string(struct api_ctx *ctx, struct json_object *obj, const char *key,
		      bool required, size_t max_len, const char **out) WUR;
bool api_field_string_array(struct api_ctx *ctx, struct json_object *obj, const char *key,
			    size_t max_items, size_t max_len, struct json_object **out) WUR;
/* An optional whole number from min to max, written to out as text. */
bool api_field_int(struct api_ctx *ctx, struct json_object *obj, const char *key,
		   int64_t min, int64_t max, char out[16]) WUR;
bool api_field_object(struct api_ctx *ctx, struct json_object *obj, const char *key,
		      bool required, struct json_object **out) WUR;
/* Answers 422 for a key outside known[]. */
bool api_known_keys(struct api_ctx *ctx, struct json_object *obj, const char *prefix,
		    const char *const *known, size_t n) WUR;

#endif
