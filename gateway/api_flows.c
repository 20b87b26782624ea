/*
 * api_flows.c: triage flows (GET /v1/flows, GET /v1/flows/{name}; PUT /v1/flows/{name},
 * admin). A flow is checked on save (triage/flow.h says how), stored in PostgreSQL and
 * used at once for new answers; conversations already open carry on with it. Partners
 * read flows too: the console walks one, by its labels, to refer someone.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/api_handlers.h"
#include "infra/log.h"
#include "triage/flow.h"

static const char flows_store_sql[] =
	"INSERT INTO flows (name, body, updated_at) VALUES ($1, $2::jsonb, now()) "
	"ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body, updated_at = now()";

void api_flow_list(struct api_ctx *ctx)
{
	struct json_object *root = json_object_new_object();
	struct json_object *items = json_object_new_array();

	for (size_t i = 0; i < flow_set_count(ctx->app->flows); i++)
		json_object_array_add(items, json_object_get(flow_set_at(ctx->app->flows, i)->json));
	json_object_object_add(root, "items", items);
	api_reply_json(ctx, 200, root);
}

void api_flow_get(struct api_ctx *ctx)
{
	const struct flow *f = flow_set_get(ctx->app->flows, ctx->params[0]);

	if (!f) {
		api_error(ctx, 404, "not_found", NULL, "no flow named \"%s\"", ctx->params[0]);
		return;
	}
	api_reply_json(ctx, 200, json_object_get(f->json));
}

/* Keywords that jump into this flow must still find their step as an entry. */
static bool flows_keywords_ok(struct api_ctx *ctx, const struct flow *f)
{
	size_t n = strlen(f->name);

	for (size_t i = 0; i < keyword_set_count(ctx->app->keywords); i++) {
		const struct keyword *k = keyword_set_get(ctx->app->keywords, i);
		if (k->action != KEYWORD_FLOW || strncmp(k->target, f->name, n) != 0 ||
		    (k->target[n] != ':' && k->target[n] != '\0'))
			continue;
		const char *step = k->target[n] ? k->target + n + 1 : f->start;
		if (!flow_step(f, step) || !flow_is_entry(f, step)) {
			api_error(ctx, 422, "invalid", "entries", "the keyword %s jumps to step \"%s\", "
				  "which must stay in entries", k->word, step);
			return false;
		}
	}
	return true;
}

static void flows_stored(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct flow *f = ctx->state;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	ctx->state = NULL;
	flow_set_put(ctx->app->flows, f);
	log_info("flow saved name=%s steps=%zu", f->name, f->nsteps);
	api_reply_json(ctx, 200, json_object_get(f->json));
}

static void flows_state_free(void *p)
{
	flow_free(p);
}

void api_flow_put(struct api_ctx *ctx)
{
	struct json_object *name;
	struct sbuf err;

	sbuf_init(&err);
	if (!json_object_object_get_ex(ctx->json, "name", &name))
		json_object_object_add(ctx->json, "name", json_object_new_string(ctx->params[0]));
	struct flow *f = flow_from_json(ctx->json, &err);
	if (!f) {
		api_error_from_message(ctx, sbuf_str(&err));
		goto out;
	}
	ctx->state = f;
	ctx->state_free = flows_state_free;
	if (strcmp(f->name, "confirm") == 0) {
		api_error(ctx, 422, "invalid", "name", "\"confirm\" is the name signpost uses for "
			  "\"Did you mean ...? Reply YES\"; choose another");
		goto out;
	}
	if (strcmp(f->name, ctx->params[0]) != 0) {
		api_error(ctx, 422, "invalid", "name", "name must be \"%s\" as in the URL",
			  ctx->params[0]);
		goto out;
	}
	if (!flows_keywords_ok(ctx, f))
		goto out;
	const char *params[] = { f->name, json_object_to_json_string_ext(f->json,
									  JSON_C_TO_STRING_PLAIN) };
	api_db(ctx, flows_store_sql, 2, params, flows_stored, ctx);
out:
	sbuf_free(&err);
}
