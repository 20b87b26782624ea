/*
 * api_help.c: help requests as officers see them.
 */
#include <string.h>

#include "gateway/api_handlers.h"

static const char help_list_sql[] =
	"SELECT coalesce(json_agg(json_build_object('id', h.id, 'tenant_id', h.tenant_id, "
	"'category', h.category, 'state', h.state, 'campaign_id', h.campaign_id, "
	"'inbound_message_id', h.inbound_message_id, 'borough', h.borough, 'answers', h.answers, "
	"'partner_id', h.partner_id, 'created_at', h.created_at, 'updated_at', h.updated_at) "
	"ORDER BY h.id DESC), '[]')::text FROM (SELECT * FROM help_requests h "
	"WHERE ($1::bigint IS NULL OR h.id < $1) AND ($3::text IS NULL OR h.state = $3) "
	"AND ($4::text IS NULL OR h.category = $4) AND ($5::text IS NULL OR lower(h.borough) = lower($5)) "
	"AND ($6::bigint IS NULL OR h.campaign_id = $6) ORDER BY h.id DESC LIMIT $2) h";

static void help_listed(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct sbuf body;

	if (r->error && strcmp(r->sqlstate, "22P02") == 0) {
		api_error(ctx, 422, "invalid", "campaign_id", "campaign_id must be a number");
		return;
	}
	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	sbuf_init(&body);
	sbuf_printf(&body, "{\"items\": %s}", db_get(r, 0, 0));
	api_reply(ctx, 200, "application/json", body.data, body.len);
	sbuf_free(&body);
}

void api_help_list(struct api_ctx *ctx)
{
	const char *before;
	char limit[16];

	if (!api_page(ctx, &before, limit))
		return;
	const char *params[] = { before, limit, api_query(ctx, "state"), api_query(ctx, "category"),
				 api_query(ctx, "borough"), api_query(ctx, "campaign_id") };
	db_query(ctx->app->db, help_list_sql, 6, params, help_listed, ctx);
}
