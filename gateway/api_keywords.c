/*
 * api_keywords.c: the keyword set (GET /v1/keywords; PUT /v1/keywords, admin). A new set
 * is checked as a whole, stored in PostgreSQL, and used at once; other daemons pick it
 * up within a second. Opt-out and opt-in words are built in and cannot be changed.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/api_handlers.h"
#include "infra/log.h"
#include "triage/flow.h"

static const char keywords_store_sql[] =
	"INSERT INTO keyword_sets (id, body, updated_at) VALUES (1, $1::jsonb, now()) "
	"ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body, updated_at = now()";

void api_keywords_get(struct api_ctx *ctx)
{
	api_reply_json(ctx, 200, keyword_set_to_json(ctx->app->keywords));
}

/* Flow keywords must name a flow and one of its entry steps. */
static bool keywords_targets_ok(struct api_ctx *ctx, const struct keyword_set *set)
{
	for (size_t i = 0; i < keyword_set_count(set); i++) {
		const struct keyword *k = keyword_set_get(set, i);
		const char *colon = k->action == KEYWORD_FLOW ? strchr(k->target, ':') : NULL;
		char *name;
		if (k->action != KEYWORD_FLOW)
			continue;
		name = xstrndup(k->target, colon ? (size_t)(colon - k->target) : strlen(k->target));
		const struct flow *f = flow_set_get(ctx->app->flows, name);
		free(name);
		if (!f || !flow_step(f, colon ? colon + 1 : f->start) ||
		    !flow_is_entry(f, colon ? colon + 1 : f->start)) {
			api_error(ctx, 422, "invalid", "keywords", "keywords[%zu].target: \"%s\" is not a "
				  "flow, or a flow and one of its entry steps", i, k->target);
			return false;
		}
	}
	return true;
}

/* What api_keywords_save answers once the set is stored and in use. */
struct keywords_saving {
	struct keyword_set *set;
	api_keywords_saved_fn *saved;
};

static void keywords_stored(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct keywords_saving *s = ctx->state;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	keyword_set_free(ctx->app->keywords);
	ctx->app->keywords = s->set;
	s->set = NULL;
	log_info("keyword set replaced keywords=%zu", keyword_set_count(ctx->app->keywords));
	s->saved(ctx);
}

static void keywords_state_free(void *p)
{
	struct keywords_saving *s = p;

	keyword_set_free(s->set);
	free(s);
}

static void keywords_reply_set(struct api_ctx *ctx)
{
	api_reply_json(ctx, 200, keyword_set_to_json(ctx->app->keywords));
}

void api_keywords_save(struct api_ctx *ctx, struct keyword_set *set, api_keywords_saved_fn *saved)
{
	struct keywords_saving *s = xcalloc(1, sizeof(*s));
	struct json_object *canon = keyword_set_to_json(set);
	const char *params[] = { json_object_to_json_string_ext(canon, JSON_C_TO_STRING_PLAIN) };

	*s = (struct keywords_saving){ .set = set, .saved = saved };
	if (ctx->state_free)
		ctx->state_free(ctx->state);
	ctx->state = s;
	ctx->state_free = keywords_state_free;
	api_db(ctx, keywords_store_sql, 1, params, keywords_stored, ctx);
	json_object_put(canon);
}

void api_keywords_put(struct api_ctx *ctx)
{
	struct sbuf err;

	sbuf_init(&err);
	struct keyword_set *set = keyword_set_from_json(ctx->app->keyword_base, ctx->json, &err);
	if (!set)
		api_error_from_message(ctx, sbuf_str(&err));
	else if (!keywords_targets_ok(ctx, set))
		keyword_set_free(set);
	else
		api_keywords_save(ctx, set, keywords_reply_set);
	sbuf_free(&err);
}
