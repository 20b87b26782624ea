/*
 * api_replies.c: how tenants' replies are read. GET /v1/replies/explain?text= (staff) says
 * what a reply would do and which rule decided; GET /v1/replies/unrecognised (staff) groups
 * the replies that got the general answer by their core; POST
 * /v1/replies/unrecognised/{key}/map (admins) teaches one of them as a keyword's alias.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/api_handlers.h"
#include "gateway/triage.h"
#include "infra/log.h"

#define REPLIES_DAYS_DEFAULT 30
#define REPLIES_DAYS_MAX 365
#define REPLIES_LIMIT_DEFAULT 100
#define REPLIES_LIMIT_MAX 500
#define REPLIES_EXPLAIN_MAX 1600 /* ten parts of a long text */
#define REPLIES_KEY_LEN 32       /* an md5 in hex */

/* $1 days: the texts that got the general answer, by core, newest first. */
static const char replies_unrecognised_sql[] =
	"SELECT md5(i.core), i.core, count(*), "
	"  (array_agg(i.body ORDER BY i.received_at DESC))[1], "
	"  to_char(max(i.received_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"  to_char(min(i.received_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"FROM inbound_messages i "
	"WHERE i.action = 'none' AND i.core <> '' "
	"  AND i.received_at > now() - make_interval(days => $1::int) "
	"GROUP BY i.core ORDER BY max(i.received_at) DESC, i.core LIMIT 2000";

/* $1 key: the core it stands for. */
static const char replies_core_sql[] =
	"SELECT i.core FROM inbound_messages i WHERE i.action = 'none' AND md5(i.core) = $1 "
	"  AND i.received_at > now() - make_interval(days => $2::int) LIMIT 1";

static void replies_add_string(struct json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value && *value ? json_object_new_string(value) : NULL);
}

/* ---- explain ---- */

static struct json_object *replies_match_json(const struct keyword_match *m)
{
	struct json_object *o = json_object_new_object();
	struct sbuf why;

	sbuf_init(&why);
	keyword_explain(m, &why);
	replies_add_string(o, "match", keyword_match_kind_str(m->kind));
	replies_add_string(o, "rule", keyword_rule_str(m->rule));
	replies_add_string(o, "explanation", sbuf_str(&why));
	replies_add_string(o, "keyword", m->keyword ? m->keyword->word : NULL);
	replies_add_string(o, "keyword_action",
			   m->keyword ? keyword_action_str(m->keyword->action) : NULL);
	replies_add_string(o, "words", m->form);
	replies_add_string(o, "language", m->language);
	sbuf_free(&why);
	return o;
}

static struct json_object *replies_decision_json(const struct triage_decision *d)
{
	struct json_object *o = json_object_new_object();

	replies_add_string(o, "action", triage_action_str(d->action));
	replies_add_string(o, "reply", d->reply);
	replies_add_string(o, "reply_language", d->lang[0] ? d->lang : "en");
	replies_add_string(o, "category", d->category);
	replies_add_string(o, "flow", d->conv_op == TRIAGE_CONV_START ? d->conv_flow : NULL);
	replies_add_string(o, "step", d->conv_op == TRIAGE_CONV_START ? d->conv_step : NULL);
	return o;
}

/* ?text= (required) and ?language= (the tenant's, optional); answers 422 when wrong. */
static bool replies_explain_query(struct api_ctx *ctx, const char **text, const char **lang)
{
	*text = api_query(ctx, "text");
	*lang = api_query(ctx, "language");
	if (!*text || !**text) {
		api_error(ctx, 422, "required", "text", "text is required: the reply to explain, "
			  "as ?text=...");
		return false;
	}
	if (strlen(*text) > REPLIES_EXPLAIN_MAX) {
		api_error(ctx, 422, "invalid", "text", "text must be at most %d bytes",
			  REPLIES_EXPLAIN_MAX);
		return false;
	}
	if (*lang && !texts_lang_valid(*lang)) {
		api_error(ctx, 422, "invalid", "language", "language must be a language code such "
			  "as \"pl\" (two or three lower-case letters)");
		return false;
	}
	return true;
}

void api_replies_explain(struct api_ctx *ctx)
{
	const char *text, *lang;
	struct triage_sender who = { .known_tenant = true };
	struct triage_decision d;
	struct keyword_match m;
	struct json_object *o;
	struct sbuf norm;

	if (!replies_explain_query(ctx, &text, &lang))
		return;
	who.language = lang;
	sbuf_init(&norm);
	keyword_normalise(text, &norm);
	keyword_match(ctx->app->keywords, text, &m);
	triage_decide(ctx->app, text, &who, &d);
	o = json_object_new_object();
	replies_add_string(o, "text", text);
	json_object_object_add(o, "normalised", json_object_new_string(sbuf_str(&norm)));
	json_object_object_add(o, "core", json_object_new_string(d.core ? d.core : ""));
	json_object_object_add(o, "match", replies_match_json(&m));
	json_object_object_add(o, "decision", replies_decision_json(&d));
	api_reply_json(ctx, 200, o);
	triage_decision_free(&d);
	sbuf_free(&norm);
}

/* ---- unrecognised ---- */

/* Optional ?name=N from 1 to max, else def; answers 422 and returns -1 when wrong. */
static int replies_int_query(struct api_ctx *ctx, const char *name, int def, int max)
{
	const char *s = api_query(ctx, name);
	char *end;
	long v;

	if (!s)
		return def;
	v = strtol(s, &end, 10);
	if (!*s || *end || v < 1 || v > max) {
		api_error(ctx, 422, "invalid", name, "%s must be a whole number from 1 to %d", name,
			  max);
		return -1;
	}
	return (int)v;
}

/* One group of replies, unless the rules read it now (it was mapped since). */
static void replies_group_add(const struct app *app, const struct db_result *r, int row,
			      struct json_object *items)
{
	struct keyword_match m;
	struct json_object *o;

	keyword_match(app->keywords, db_get(r, row, 1), &m);
	if (m.kind != KEYWORD_MATCH_NONE)
		return;
	o = json_object_new_object();
	replies_add_string(o, "key", db_get(r, row, 0));
	replies_add_string(o, "text", db_get(r, row, 1));
	json_object_object_add(o, "count", json_object_new_int64(db_get_i64(r, row, 2)));
	replies_add_string(o, "example", db_get(r, row, 3));
	replies_add_string(o, "last_received_at", db_get(r, row, 4));
	replies_add_string(o, "first_received_at", db_get(r, row, 5));
	json_object_array_add(items, o);
}

static void replies_unrecognised_loaded(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	int limit = *(int *)ctx->state;
	struct json_object *items, *o;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	items = json_object_new_array();
	for (int i = 0; i < db_rows(r) && (int)json_object_array_length(items) < limit; i++)
		replies_group_add(ctx->app, r, i, items);
	o = json_object_new_object();
	json_object_object_add(o, "items", items);
	api_reply_json(ctx, 200, o);
}

void api_replies_unrecognised(struct api_ctx *ctx)
{
	int days = replies_int_query(ctx, "days", REPLIES_DAYS_DEFAULT, REPLIES_DAYS_MAX);
	int limit = days < 0 ? -1 : replies_int_query(ctx, "limit", REPLIES_LIMIT_DEFAULT,
						      REPLIES_LIMIT_MAX);
	char daystr[16];
	const char *params[] = { daystr };

	if (days < 0 || limit < 0)
		return;
	snprintf(daystr, sizeof(daystr), "%d", days);
	ctx->state = xmalloc(sizeof(int));
	*(int *)ctx->state = limit;
	ctx->state_free = free;
	api_db(ctx, replies_unrecognised_sql, 1, params, replies_unrecognised_loaded, ctx);
}

/* ---- teaching one ---- */

static bool replies_key_valid(const char *key)
{
	return strlen(key) == REPLIES_KEY_LEN && strspn(key, "0123456789abcdef") == REPLIES_KEY_LEN;
}

/* The set keyword named by the request's "keyword"; answers 422 and returns NULL otherwise. */
static const struct keyword *replies_target(struct api_ctx *ctx)
{
	static const char *const known[] = { "keyword" };
	const char *word = NULL;
	const struct keyword *k;
	struct sbuf norm;

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "keyword", true, 100, &word))
		return NULL;
	sbuf_init(&norm);
	keyword_normalise(word, &norm);
	k = keyword_set_find(ctx->app->keywords, sbuf_str(&norm));
	if (!k)
		api_error(ctx, 422, "invalid", "keyword", "keyword \"%s\" is not in the keyword set "
			  "(GET /v1/keywords lists them)", word);
	else if (keyword_builtin(k->word) == k)
		api_error(ctx, 422, "invalid", "keyword", "keyword %s is built in: its words are "
			  "data, not aliases (data/builtin-words.json)", k->word);
	sbuf_free(&norm);
	return k && keyword_builtin(k->word) != k ? k : NULL;
}

/* The current set with alias added to the keyword word, or NULL with the reason in err. */
static struct keyword_set *replies_set_with(const struct app *app, const char *word,
					    const char *alias, struct sbuf *err)
{
	struct json_object *o = keyword_set_to_json(app->keywords);
	struct json_object *list = NULL, *aliases;
	struct keyword_set *set;

	json_object_object_get_ex(o, "keywords", &list);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *k = json_object_array_get_idx(list, i), *w;
		if (!json_object_object_get_ex(k, "word", &w) ||
		    strcmp(json_object_get_string(w), word) != 0)
			continue;
		if (!json_object_object_get_ex(k, "aliases", &aliases)) {
			aliases = json_object_new_array();
			json_object_object_add(k, "aliases", aliases);
		}
		json_object_array_add(aliases, json_object_new_string(alias));
	}
	set = keyword_set_from_json(app->keyword_base, o, err);
	json_object_put(o);
	return set;
}

static void replies_mapped(struct api_ctx *ctx)
{
	struct json_object *o = json_object_new_object(), *v;

	json_object_object_add(o, "key", json_object_new_string(ctx->params[0]));
	json_object_object_get_ex(ctx->json, "alias", &v);
	json_object_object_add(o, "text", json_object_get(v));
	json_object_object_get_ex(ctx->json, "word", &v);
	json_object_object_add(o, "keyword", json_object_get(v));
	log_info("unrecognised reply mapped key=%s keyword=%s", ctx->params[0],
		 json_object_get_string(v));
	api_reply_json(ctx, 200, o);
}

static void replies_core_found(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	const struct keyword *k;
	struct keyword_set *set;
	struct sbuf err;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_rows(r) == 0) {
		api_error(ctx, 404, "not_found", NULL, "no unrecognised reply with key %s in the last "
			  "%d days", ctx->params[0], REPLIES_DAYS_MAX);
		return;
	}
	if (!(k = replies_target(ctx))) /* the set may have changed meanwhile */
		return;
	sbuf_init(&err);
	set = replies_set_with(ctx->app, k->word, db_get(r, 0, 0), &err);
	if (!set) {
		api_error(ctx, 422, "invalid", "keyword", "\"%s\" cannot be an alias of %s: %s",
			  db_get(r, 0, 0), k->word, sbuf_str(&err));
	} else {
		json_object_object_add(ctx->json, "alias", json_object_new_string(db_get(r, 0, 0)));
		json_object_object_add(ctx->json, "word", json_object_new_string(k->word));
		api_keywords_save(ctx, set, replies_mapped);
	}
	sbuf_free(&err);
}

void api_replies_map(struct api_ctx *ctx)
{
	char days[16];
	const char *params[] = { ctx->params[0], days };

	if (!replies_key_valid(ctx->params[0])) {
		api_error(ctx, 404, "not_found", NULL, "no unrecognised reply with key %s",
			  ctx->params[0]);
		return;
	}
	if (!replies_target(ctx))
		return;
	snprintf(days, sizeof(days), "%d", REPLIES_DAYS_MAX);
	api_db(ctx, replies_core_sql, 2, params, replies_core_found, ctx);
}
