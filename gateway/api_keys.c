/*
 * api_keys.c: API keys (admin): GET /v1/keys lists them, newest first, and
 * DELETE /v1/keys/{id} revokes one. Neither ever shows a key or its hash; keys are made
 * with `signpostd keys create`, which shows the key once.
 */
#include <string.h>

#include "gateway/api_handlers.h"
#include "infra/log.h"

/* $1 before, $2 limit. */
static const char keys_list_sql[] =
	"SELECT coalesce(json_agg(" AUTH_KEY_JSON " ORDER BY k.id DESC), '[]')::text "
	"FROM (SELECT * FROM api_keys WHERE $1::bigint IS NULL OR id < $1 "
	"  ORDER BY id DESC LIMIT $2) k LEFT JOIN partners p ON p.id = k.partner_id";

void api_key_list(struct api_ctx *ctx)
{
	api_list(ctx, keys_list_sql);
}

/* Every daemon forgets cached keys through the notification; this one at once too. */
static void keys_revoked(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (!r->error && db_rows(r)) {
		auth_forget(ctx->app->auth);
		log_info("api key revoked id=%s by=\"%s\"", ctx->params[0], ctx->actor);
	}
	api_reply_row(ctx, r, 200, "key");
}

void api_key_revoke(struct api_ctx *ctx)
{
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { ctx->params[0] };
	api_db(ctx, auth_revoke_sql, 1, params, keys_revoked, ctx);
}
