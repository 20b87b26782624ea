/*
 * fake_hub.c: the far end of the generic "webhook" provider on 127.0.0.1: an SMS hub that
 * takes Standard Webhooks-signed JSON sends at POST /messages and posts signed JSON
 * receipts and inbound texts back (the protocol at the top of providers/webhook.c).
 *
 * usage: fake_hub --port N --secret whsec_... [--webhook-base URL] ...
 * See tests/fake/README.md.
 */
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/stdwebhook.h"
#include "tests/fake/fake_common.h"

struct hub_fake {
	const char *secret;
};

static void hub_answer_error(struct evhttp_request *req, int status, const char *code,
			     const char *text)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "description", json_object_new_string(text));
	json_object_object_add(o, "error", e);
	fake_reply(req, status, o);
}

static void hub_error(struct fake *f, struct evhttp_request *req, int status, int code)
{
	if (code > 0 || (f->mode == FAKE_CODE && status == f->code_status))
		hub_answer_error(req, status, f->code_text ? f->code_text : "rejected",
				 "Error injected by the fake");
	else if (status == 401)
		hub_answer_error(req, 401, "unauthorized", "bad or missing webhook signature");
	else if (status == 429)
		hub_answer_error(req, 429, "throttled", "slow down");
	else
		hub_answer_error(req, status, "error", "the hub could not take the message");
}

static bool hub_send_path(const struct fake *f, const char *path)
{
	(void)f;
	return strcmp(path, "/messages") == 0;
}

static bool hub_authorized(const struct fake *f, struct evhttp_request *req, const char *path,
			   const struct kvlist *fields)
{
	const struct hub_fake *h = f->priv;
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct kvlist headers;
	struct sbuf err;
	size_t len;
	char *body = fake_body(req, &len);
	bool ok;

	(void)path, (void)fields;
	kvlist_init(&headers);
	sbuf_init(&err);
	for (struct evkeyval *kv = in->tqh_first; kv; kv = kv->next.tqe_next)
		kvlist_add(&headers, kv->key, kv->value);
	ok = stdwebhook_verify_headers(h->secret, &headers, body, len, clock_wall_ms() / 1000,
				       &err) == 0;
	kvlist_free(&headers);
	sbuf_free(&err);
	free(body);
	return ok;
}

static int hub_parse(struct evhttp_request *req, const char *body, size_t len,
		     struct kvlist *fields)
{
	struct json_object *o = provider_json_parse(body, len);

	(void)req;
	if (!o)
		return -1;
	json_object_object_foreach(o, key, v) {
		if (v && json_object_is_type(v, json_type_string))
			kvlist_add(fields, key, json_object_get_string(v));
	}
	json_object_put(o);
	return 0;
}

static void hub_recipient(const struct kvlist *fields, char *out, size_t size)
{
	provider_copy(out, size, kvlist_get(fields, "to"));
}

static int hub_check(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	const char *url = kvlist_get(fields, "status_url");

	(void)f;
	if (!kvlist_get(fields, "to") || !kvlist_get(fields, "text") ||
	    (url && !fake_abs_url(url))) {
		hub_answer_error(req, 400, "invalid", "to and text are required");
		return -1;
	}
	return 0;
}

static void hub_new_id(struct fake *f, char *id, size_t size)
{
	fake_make_id(f, "hub_", 16, false, id, size);
}

static void hub_accepted(struct fake *f, struct evhttp_request *req, const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();

	(void)f;
	json_object_object_add(o, "id", json_object_new_string(m->id));
	json_object_object_add(o, "segments",
			       json_object_new_int(fake_segments(FAKE_FIELD(m, "text"))));
	fake_reply(req, 200, o);
}

static const char *hub_status_url(const struct fake_msg *m)
{
	return FAKE_FIELD(m, "status_url");
}

/* A signed JSON POST of {"type": type, "data": data} (data taken over). */
static int hub_post(struct fake *f, const char *url, const char *type, struct json_object *data,
		    bool bad, struct http_req *out)
{
	const struct hub_fake *h = f->priv;
	struct json_object *o = json_object_new_object();
	char id[48];
	int rc;

	fake_make_id(f, "evt_", 16, false, id, sizeof(id));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "data", data);
	sbuf_adds(&out->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	out->method = "POST";
	out->url = xstrdup(url);
	kvlist_add(&out->headers, "Content-Type", "application/json");
	rc = stdwebhook_add_headers(&out->headers,
				    bad ? "whsec_bm90IHRoZSBodWIgc2VjcmV0IGF0IGFsbA==" : h->secret,
				    id, clock_wall_ms() / 1000, out->body.data, out->body.len);
	return rc;
}

static int hub_callback(struct fake *f, const struct fake_msg *m, const struct fake_hook *h,
			struct http_req *out)
{
	struct json_object *data = json_object_new_object();
	const char *ref = FAKE_FIELD(m, "reference");
	char type[64];

	snprintf(type, sizeof(type), "sms.%s", h->status);
	json_object_object_add(data, "message_id", json_object_new_string(m->id));
	if (ref)
		json_object_object_add(data, "reference", json_object_new_string(ref));
	json_object_object_add(data, "to", json_object_new_string(FAKE_FIELD(m, "to")));
	json_object_object_add(data, "status", json_object_new_string(h->status));
	if (h->error_code) {
		struct json_object *e = json_object_new_object();
		json_object_object_add(e, "code", json_object_new_string(h->error_code));
		json_object_object_add(e, "description", json_object_new_string("from the fake"));
		json_object_object_add(data, "error", e);
	}
	return hub_post(f, hub_status_url(m), type, data, h->bad_signature, out);
}

static int hub_inbound(struct fake *f, const char *base, const struct fake_inbound *in,
		       struct http_req *out)
{
	struct json_object *data = json_object_new_object();
	char *url = xasprintf("%s/inbound", base), when[40];
	int rc;

	fake_time_iso(clock_wall_ms(), when, sizeof(when));
	const char *kv[] = { "message_id", in->id, "from", in->from, "to", in->to,
			     "text", in->text, "received_at", when };
	fake_json_add(data, kv, ARRAY_LEN(kv));
	rc = hub_post(f, url, "sms.received", data, in->bad_signature, out);
	free(url);
	return rc;
}

static struct json_object *hub_msg_json(const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	fake_time_iso(m->received_ms, when, sizeof(when));
	const char *kv[] = {
		"id", m->id, "to", FAKE_FIELD(m, "to"), "from", FAKE_FIELD(m, "from"),
		"text", FAKE_FIELD(m, "text"), "reference", FAKE_FIELD(m, "reference"),
		"status_url", FAKE_FIELD(m, "status_url"), "received_at", when,
	};
	fake_json_add(o, kv, ARRAY_LEN(kv));
	return o;
}

static bool hub_option(struct fake *f, const char *name, const char *value)
{
	struct hub_fake *h = f->priv;

	return fake_opt(name, "secret", value, &h->secret);
}

static bool hub_options_ok(const struct fake *f)
{
	const struct hub_fake *h = f->priv;

	return h->secret && stdwebhook_secret_valid(h->secret);
}

static const struct fake_provider hub_fake_provider = {
	.name = "hub",
	.default_code = 0,
	.code_key = "hub_code",
	.send_path = hub_send_path,
	.authorized = hub_authorized,
	.parse = hub_parse,
	.recipient = hub_recipient,
	.check = hub_check,
	.new_id = hub_new_id,
	.accepted = hub_accepted,
	.error = hub_error,
	.status_url = hub_status_url,
	.callback = hub_callback,
	.inbound = hub_inbound,
	.msg_json = hub_msg_json,
	.option = hub_option,
	.options_ok = hub_options_ok,
	.usage = "--secret whsec_...",
};

int main(int argc, char **argv)
{
	struct hub_fake h = { NULL };

	return fake_main(&hub_fake_provider, &h, argc, argv);
}
