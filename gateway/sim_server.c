#include "gateway/sim_server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "common/stdwebhook.h"
#include "gateway/api_handlers.h"
#include "infra/db.h"
#include "infra/httpc.h"
#include "infra/log.h"
#include "sms/phone.h"

#define SIM_KEEP 200
#define SIM_RECEIPT_DELAY_MS 200

struct sim_text {
	char id[40];
	char to[32];
	char from[32];
	char *text;
	char reference[32];
	int64_t at_ms;
};

struct sim_receipt {
	struct sim_server *sim;
	struct event *ev;
	char *url;
	char *body;
	struct sim_receipt *prev, *next;
};

struct sim_server {
	struct app *app;
	struct sim_text ring[SIM_KEEP];
	size_t next;
	size_t count;
	struct sim_receipt *pending; /* receipts waiting for their moment */
};

/* ---- receipts back to the daemon ---- */

static void sim_post_done(struct httpc_response *resp, void *arg)
{
	(void)arg;
	if (resp->status < 200 || resp->status > 299)
		log_warn("simulator callback refused status=%ld error=%s", resp->status,
			 resp->error ? resp->error : "-");
}

/* Posts body to url signed with the simulator's secret, as a provider would. */
static void sim_post(struct sim_server *s, const char *url, const char *body, httpc_cb *cb,
		     void *arg)
{
	struct http_req req;
	unsigned char rnd[8];
	struct sbuf id;

	sbuf_init(&id);
	sbuf_adds(&id, "msg_sim");
	crypto_random(rnd, sizeof(rnd));
	codec_hex_encode(&id, rnd, sizeof(rnd), false);
	http_req_init(&req);
	req.method = "POST";
	req.url = xstrdup(url);
	sbuf_adds(&req.body, body);
	kvlist_add(&req.headers, "Content-Type", "application/json");
	if (stdwebhook_add_headers(&req.headers, s->app->cfg.sim_secret, id.data,
				   clock_wall_ms() / 1000, req.body.data, req.body.len) < 0)
		abort(); /* the secret is generated or checked at start-up */
	httpc_send(s->app->httpc, &req, 5000, 30000, cb, arg);
	http_req_free(&req);
	sbuf_free(&id);
}

static void sim_receipt_free(struct sim_receipt *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		r->sim->pending = r->next;
	if (r->next)
		r->next->prev = r->prev;
	event_free(r->ev);
	free(r->url);
	free(r->body);
	free(r);
}

static void sim_receipt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sim_receipt *r = arg;
	(void)fd, (void)what;

	sim_post(r->sim, r->url, r->body, sim_post_done, NULL);
	sim_receipt_free(r);
}

static void sim_schedule_receipt(struct sim_server *s, const char *url, const char *id,
				 const char *reference, const char *to)
{
	struct sim_receipt *r = xcalloc(1, sizeof(*r));
	struct timeval delay = { 0, SIM_RECEIPT_DELAY_MS * 1000 };
	struct json_object *o = json_object_new_object(), *data = json_object_new_object();

	json_object_object_add(data, "message_id", json_object_new_string(id));
	json_object_object_add(data, "reference", json_object_new_string(reference ? reference : ""));
	json_object_object_add(data, "to", json_object_new_string(to));
	json_object_object_add(data, "status", json_object_new_string("delivered"));
	json_object_object_add(o, "type", json_object_new_string("sms.delivered"));
	json_object_object_add(o, "data", data);
	r->sim = s;
	r->url = xstrdup(url);
	r->body = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	r->next = s->pending;
	if (s->pending)
		s->pending->prev = r;
	s->pending = r;
	r->ev = evtimer_new(s->app->base, sim_receipt_cb, r);
	evtimer_add(r->ev, &delay);
}

/* ---- POST /sim/messages ---- */

static void sim_keep(struct sim_server *s, const char *id, struct json_object *o)
{
	struct sim_text *t = &s->ring[s->next];

	free(t->text);
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "%s", id);
	snprintf(t->to, sizeof(t->to), "%s", json_object_get_string(json_object_object_get(o, "to")));
	snprintf(t->from, sizeof(t->from), "%s",
		 json_object_get_string(json_object_object_get(o, "from")));
	snprintf(t->reference, sizeof(t->reference), "%s",
		 json_object_get_string(json_object_object_get(o, "reference")));
	t->text = xstrdup(json_object_get_string(json_object_object_get(o, "text")));
	t->at_ms = clock_wall_ms();
	s->next = (s->next + 1) % SIM_KEEP;
	s->count = MIN(s->count + 1, SIM_KEEP);
}

/* The magic numbers' answers; 0 for an ordinary accepted text. */
static int sim_magic(struct api_ctx *ctx, const char *to)
{
	if (strcmp(to, "+447700900002") == 0) {
		api_error(ctx, 400, "invalid_number", "to", "the simulator treats this number as "
			  "permanently unreachable");
		return 1;
	}
	if (strcmp(to, "+447700900003") == 0) {
		api_error(ctx, 503, "unavailable", NULL, "the simulator fails this number temporarily");
		return 1;
	}
	if (strcmp(to, "+447700900004") == 0) {
		api_error(ctx, 400, "opted_out", "to", "the recipient has unsubscribed at the provider");
		return 1;
	}
	return 0;
}

void sim_server_accept(struct api_ctx *ctx)
{
	struct sim_server *s = ctx->app->sim_server;
	struct httpd_req *req = ctx->req;
	struct json_object *o = NULL, *status_url;
	unsigned char rnd[16];
	struct sbuf id, err;

	sbuf_init(&id);
	sbuf_init(&err);
	if (stdwebhook_verify_headers(ctx->app->cfg.sim_secret, &req->headers, sbuf_str(&req->body),
				      req->body.len, clock_wall_ms() / 1000, &err) < 0) {
		api_error(ctx, 403, "bad_signature", NULL, "%s", sbuf_str(&err));
		goto out;
	}
	o = json_tokener_parse(sbuf_str(&req->body));
	const char *to = o ? json_object_get_string(json_object_object_get(o, "to")) : NULL;
	if (!to || !json_object_object_get(o, "text")) {
		api_error(ctx, 400, "bad_request", NULL, "send {\"to\", \"text\", ...}");
		goto out;
	}
	if (sim_magic(ctx, to))
		goto out;
	sbuf_adds(&id, "SIM");
	crypto_random(rnd, sizeof(rnd));
	codec_hex_encode(&id, rnd, sizeof(rnd), false);
	sim_keep(s, id.data, o);
	if (json_object_object_get_ex(o, "status_url", &status_url))
		sim_schedule_receipt(s, json_object_get_string(status_url), id.data,
				     json_object_get_string(json_object_object_get(o, "reference")), to);
	struct json_object *ans = json_object_new_object();
	json_object_object_add(ans, "id", json_object_new_string(id.data));
	api_reply_json(ctx, 201, ans);
out:
	json_object_put(o);
	sbuf_free(&id);
	sbuf_free(&err);
}

/* ---- GET /v1/sim/messages ---- */

void sim_server_list(struct api_ctx *ctx)
{
	struct sim_server *s = ctx->app->sim_server;
	struct json_object *items = json_object_new_array(), *root = json_object_new_object();

	for (size_t i = 0; i < s->count; i++) {
		const struct sim_text *t = &s->ring[(s->next + SIM_KEEP - 1 - i) % SIM_KEEP];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_string(t->id));
		json_object_object_add(o, "to", json_object_new_string(t->to));
		json_object_object_add(o, "from", json_object_new_string(t->from));
		json_object_object_add(o, "text", json_object_new_string(t->text));
		json_object_object_add(o, "reference", json_object_new_string(t->reference));
		json_object_object_add(o, "at_ms", json_object_new_int64(t->at_ms));
		json_object_array_add(items, o);
	}
	json_object_object_add(root, "items", items);
	api_reply_json(ctx, 200, root);
}

/* ---- POST /v1/sim/inbound: a tenant texts in ---- */

/* What a tenant texting in will post, kept while the number is checked. */
struct sim_inbound {
	const struct provider_cfg *provider;
	char from[PHONE_E164_MAX];
	char *text;
	char id[72]; /* the provider's message id: a text posted again keeps it, stored once */
};

static void sim_inbound_free(void *p)
{
	struct sim_inbound *in = p;

	free(in->text);
	free(in);
}

static void sim_inbound_done(struct httpc_response *resp, void *arg)
{
	struct api_ctx *ctx = arg;
	const struct sim_inbound *in = ctx->state;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(in->id));
	json_object_object_add(o, "status", json_object_new_int((int)resp->status));
	json_object_object_add(o, "answer", json_object_new_string(sbuf_str(&resp->body)));
	api_reply_json(ctx, resp->status >= 200 && resp->status < 300 ? 202 : 502, o);
}

/* A message id given by the caller: letters, digits, '-' and '_'. */
static bool sim_id_ok(const char *id)
{
	return *id && strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "0123456789-_") == strlen(id);
}

static const struct provider_cfg *sim_provider(const struct config *cfg, const char *name)
{
	if (name)
		return config_provider(cfg, name);
	for (size_t i = 0; i < cfg->nproviders; i++)
		if (strcmp(cfg->providers[i].ops->type, "sim") == 0)
			return &cfg->providers[i];
	return NULL;
}

static void sim_inbound_post(struct api_ctx *ctx)
{
	struct sim_inbound *in = ctx->state;
	char *url;

	struct json_object *o = json_object_new_object(), *data = json_object_new_object();
	json_object_object_add(data, "message_id", json_object_new_string(in->id));
	json_object_object_add(data, "from", json_object_new_string(in->from));
	json_object_object_add(data, "to", json_object_new_string("+447700900000"));
	json_object_object_add(data, "text", json_object_new_string(in->text));
	json_object_object_add(o, "type", json_object_new_string("sms.received"));
	json_object_object_add(o, "data", data);
	url = xasprintf("%s/v1/providers/%s/inbound", ctx->app->cfg.self_url, in->provider->name);
	sim_post(ctx->app->sim_server, url, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		 sim_inbound_done, ctx);
	free(url);
	json_object_put(o);
}

static void sim_inbound_checked(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct sim_inbound *in = ctx->state;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (db_rows(r)) {
		api_error(ctx, 422, "tenant_number", "from", "from: %s is the number of tenant %s, "
			  "who is texted through %s, not the simulator: the simulator cannot text "
			  "in as a tenant", in->from, db_get(r, 0, 0),
			  ctx->app->cfg.default_provider->name);
		return;
	}
	sim_inbound_post(ctx);
}

/* The provider's id for a text: the caller's, so a text posted again is stored once. */
static void sim_inbound_id(struct sim_inbound *in, const char *given)
{
	unsigned char rnd[12];
	struct sbuf id;

	sbuf_init(&id);
	sbuf_adds(&id, "SIMIN");
	if (given) {
		sbuf_adds(&id, given);
	} else {
		crypto_random(rnd, sizeof(rnd));
		codec_hex_encode(&id, rnd, sizeof(rnd), false);
	}
	snprintf(in->id, sizeof(in->id), "%s", id.data);
	sbuf_free(&id);
}

/*
 * Where tenants are texted through a real provider, a text from one of their numbers
 * would be an officer impersonating them (a START lifts an opt-out, a YES gives consent):
 * only a deployment whose default provider is the simulator plays its tenants.
 */
void sim_server_tenant_texts(struct api_ctx *ctx)
{
	static const char *const known[] = { "from", "text", "provider", "id" };
	static const char tenant_sql[] =
		"SELECT id FROM tenants WHERE phone = $1 AND erased_at IS NULL";
	const char *from = NULL, *text = NULL, *name = NULL, *given = NULL;
	char e164[PHONE_E164_MAX];

	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !api_field_string(ctx, ctx->json, "from", true, 32, &from) ||
	    !api_field_string(ctx, ctx->json, "text", true, 1600, &text) ||
	    !api_field_string(ctx, ctx->json, "provider", false, 100, &name) ||
	    !api_field_string(ctx, ctx->json, "id", false, 64, &given))
		return;
	if (given && !sim_id_ok(given)) {
		api_error(ctx, 422, "invalid", "id", "id may hold only letters, digits, - and _");
		return;
	}
	const struct provider_cfg *p = sim_provider(&ctx->app->cfg, name);
	if (!p || strcmp(p->ops->type, "sim") != 0) {
		api_error(ctx, 422, "invalid", "provider", "no simulator provider is configured");
		return;
	}
	if (phone_e164(from, e164) != PHONE_OK) {
		api_error(ctx, 422, "invalid", "from", "from must be a phone number");
		return;
	}
	struct sim_inbound *in = xcalloc(1, sizeof(*in));
	in->provider = p;
	memcpy(in->from, e164, sizeof(in->from));
	in->text = xstrdup(text);
	sim_inbound_id(in, given);
	ctx->state = in;
	ctx->state_free = sim_inbound_free;
	if (p == ctx->app->cfg.default_provider) {
		sim_inbound_post(ctx);
		return;
	}
	const char *params[] = { in->from };
	db_query(ctx->app->db, tenant_sql, 1, params, sim_inbound_checked, ctx);
}

struct sim_server *sim_server_new(struct app *app)
{
	struct sim_server *s = xcalloc(1, sizeof(*s));
	s->app = app;
	return s;
}

void sim_server_free(struct sim_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < SIM_KEEP; i++)
		free(s->ring[i].text);
	while (s->pending)
		sim_receipt_free(s->pending);
	free(s);
}
