#include "gateway/rules.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/data.h"
#include "infra/db.h"
#include "infra/log.h"
#include "triage/flow.h"

struct rules {
	struct app *app;
	bool seeded;
	char *stamp; /* what the copies were loaded from */
	int busy;    /* queries in flight */
};

/* $1 keyword set JSON, $2 JSON array of flows: stored unless admins already saved theirs. */
static const char rules_seed_sql[] =
	"WITH k AS (INSERT INTO keyword_sets (id, body) VALUES (1, $1::jsonb) "
	"  ON CONFLICT DO NOTHING RETURNING 1"
	"), f AS (INSERT INTO flows (name, body) SELECT e->>'name', e "
	"  FROM jsonb_array_elements($2::jsonb) e ON CONFLICT DO NOTHING RETURNING 1"
	") SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM f)";

/* $1 the stamp of the copies held: rows (stamp, kind, body) only when it changed. */
static const char rules_load_sql[] =
	"WITH s AS (SELECT coalesce((SELECT updated_at::text FROM keyword_sets), '') || '/' || "
	"  (SELECT coalesce(max(updated_at)::text, '') || '/' || count(*) FROM flows) AS stamp) "
	"SELECT s.stamp, NULL, NULL FROM s WHERE s.stamp = $1 "
	"UNION ALL SELECT s.stamp, 'keywords', k.body::text FROM s, keyword_sets k "
	"  WHERE s.stamp IS DISTINCT FROM $1 "
	"UNION ALL SELECT s.stamp, 'flow', f.body::text FROM s, flows f "
	"  WHERE s.stamp IS DISTINCT FROM $1";

static const char *const rules_shipped_flows[] = { data_digital_skills_json,
						      data_followup_json };

struct rules *rules_new(struct app *app, struct sbuf *err)
{
	struct rules *r = xcalloc(1, sizeof(*r));

	r->app = app;
	app->flows = flow_set_new();
	for (size_t i = 0; i < ARRAY_LEN(rules_shipped_flows); i++) {
		struct json_object *o = json_tokener_parse(rules_shipped_flows[i]);
		struct flow *f = o ? flow_from_json(o, err) : NULL;
		json_object_put(o);
		if (!f) {
			sbuf_printf(err, " (built-in flow %zu)", i);
			rules_free(r);
			return NULL;
		}
		flow_set_put(app->flows, f);
	}
	return r;
}

void rules_free(struct rules *r)
{
	if (!r)
		return;
	flow_set_free(r->app->flows);
	r->app->flows = NULL;
	free(r->stamp);
	free(r);
}

bool rules_idle(const struct rules *r)
{
	return !r || r->busy == 0;
}

bool rules_ready(const struct rules *r)
{
	return r && r->seeded;
}

static void rules_log_error(const char *what, const struct db_result *res)
{
	if (res->error)
		log_error("rules %s failed error=\"%.*s\"", what, (int)strcspn(res->error, "\n"),
			  res->error);
}

static void rules_load_row(const struct app *app, const char *kind, const char *body,
			   struct keyword_set **kw, struct flow_set *flows)
{
	struct json_object *o = json_tokener_parse(body);
	struct sbuf err;

	sbuf_init(&err);
	if (strcmp(kind, "keywords") == 0) {
		*kw = o ? keyword_set_from_json(app->keyword_base, o, &err) : NULL;
		if (!*kw)
			log_error("stored keyword set refused: %s", sbuf_str(&err));
	} else {
		struct flow *f = o ? flow_from_json(o, &err) : NULL;
		if (f)
			flow_set_put(flows, f);
		else
			log_error("stored flow refused: %s", sbuf_str(&err));
	}
	json_object_put(o);
	sbuf_free(&err);
}

static void rules_data_loaded(const struct db_result *res, void *arg)
{
	struct rules *r = arg;
	struct app *app = r->app;
	struct keyword_set *kw = NULL;
	struct flow_set *flows;

	r->busy--;
	rules_log_error("data reload", res);
	if (res->error || db_rows(res) == 0 || !db_get(res, 0, 1))
		return;
	flows = flow_set_new();
	for (int i = 0; i < db_rows(res); i++)
		rules_load_row(app, db_get(res, i, 1), db_get(res, i, 2), &kw, flows);
	if (kw) {
		keyword_set_free(app->keywords);
		app->keywords = kw;
	}
	if (flow_set_count(flows) == 0) { /* nothing usable stored: keep what we have */
		flow_set_free(flows);
	} else {
		flow_set_free(app->flows);
		app->flows = flows;
	}
	free(r->stamp);
	r->stamp = xstrdup(db_get(res, 0, 0));
	log_info("keywords and flows loaded keywords=%zu flows=%zu", keyword_set_count(app->keywords),
		 flow_set_count(app->flows));
}

static void rules_seeded(const struct db_result *res, void *arg)
{
	struct rules *r = arg;

	r->busy--;
	rules_log_error("seeding keywords and flows", res);
	if (!res->error)
		r->seeded = true;
}

static void rules_seed(struct rules *r)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < ARRAY_LEN(rules_shipped_flows); i++)
		json_object_array_add(arr, json_tokener_parse(rules_shipped_flows[i]));
	const char *params[] = { data_keywords_json,
				 json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN) };
	r->busy++;
	db_query(r->app->db, rules_seed_sql, 2, params, rules_seeded, r);
	json_object_put(arr);
}

static void rules_reload(struct rules *r)
{
	const char *params[] = { r->stamp };

	r->busy++;
	db_query(r->app->db, rules_load_sql, 1, params, rules_data_loaded, r);
}

void rules_tick(struct app *app)
{
	struct rules *r = app->rules;

	if (!r || r->busy || app->stopping)
		return;
	if (!r->seeded)
		rules_seed(r);
	else
		rules_reload(r);
}
