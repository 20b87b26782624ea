/*
 * fake_messagebird.c: a stand-in for MessageBird's REST API (POST /messages) on 127.0.0.1.
 *
 * usage: fake_messagebird --port N --access-key KEY --signing-key KEY
 *                         [--webhook-format get|json] [--webhook-base URL] ...
 * Status reports are GETs to the message's reportUrl; inbound texts are GETs (or JSON
 * POSTs) to {webhook-base}/inbound; both carry a MessageBird-Signature-JWT. See
 * tests/fake/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "providers/messagebird.h"
#include "tests/fake/fake_common.h"

struct mb_fake {
	const char *key, *signing_key, *format;
};

static void mb_errors(struct evhttp_request *req, int status, int code, const char *text,
		      const char *param)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "description", json_object_new_string(text));
	json_object_object_add(e, "parameter", param ? json_object_new_string(param) : NULL);
	json_object_array_add(list, e);
	json_object_object_add(o, "errors", list);
	fake_reply(req, status, o);
}

static void mb_error(struct fake *f, struct evhttp_request *req, int status, int code)
{
	(void)f;
	if (code > 0)
		mb_errors(req, status, code, "Error injected by the fake", NULL);
	else if (status == 401)
		mb_errors(req, 401, 2, "Request not allowed (incorrect access_key)", "access_key");
	else if (status == 404 || status == 405)
		mb_errors(req, status, 20, "Resource not found", NULL);
	else if (status == 429)
		mb_errors(req, 429, 429, "Too many requests", NULL);
	else
		mb_errors(req, status, 99, "Internal error", NULL);
}

static bool mb_send_path(const struct fake *f, const char *path)
{
	(void)f;
	return strcmp(path, "/messages") == 0;
}

static bool mb_authorized(const struct fake *f, struct evhttp_request *req, const char *path,
			  const struct kvlist *fields)
{
	const struct mb_fake *m = f->priv;
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Authorization");

	(void)path, (void)fields;
	return auth && str_startswith(auth, "AccessKey ") && strcmp(auth + 10, m->key) == 0;
}

/* The JSON body's scalar members as fields; recipients joined by ','. */
static int mb_parse(struct evhttp_request *req, const char *body, size_t len,
		    struct kvlist *fields)
{
	struct json_object *o = provider_json_parse(body, len), *list;
	struct sbuf rcpt;

	(void)req;
	if (!o)
		return -1;
	sbuf_init(&rcpt);
	json_object_object_foreach(o, key, v) {
		if (v && !json_object_is_type(v, json_type_array) &&
		    !json_object_is_type(v, json_type_object))
			kvlist_add(fields, key, json_object_get_string(v));
	}
	if (json_object_object_get_ex(o, "recipients", &list) &&
	    json_object_is_type(list, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(list); i++)
			sbuf_printf(&rcpt, "%s%s", i ? "," : "",
				    json_object_get_string(json_object_array_get_idx(list, i)));
		kvlist_add(fields, "recipients", sbuf_str(&rcpt));
	}
	sbuf_free(&rcpt);
	json_object_put(o);
	return 0;
}

static void mb_recipient(const struct kvlist *fields, char *out, size_t size)
{
	const char *r = kvlist_get(fields, "recipients");

	snprintf(out, size, "+%.*s", (int)(r ? strcspn(r, ",") : 0), r ? r : "");
}

static int mb_check(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	const char *r = kvlist_get(fields, "recipients"), *url = kvlist_get(fields, "reportUrl");
	static const char *const required[] = { "originator", "body", "recipients" };

	(void)f;
	for (size_t i = 0; i < ARRAY_LEN(required); i++) {
		const char *v = kvlist_get(fields, required[i]);
		if (!v || !*v) {
			mb_errors(req, 422, 9, "no (correct) value given", required[i]);
			return -1;
		}
	}
	if (strspn(r, "0123456789,") != strlen(r)) {
		mb_errors(req, 422, 9, "no (correct) recipients found", "recipients");
		return -1;
	}
	if (url && !fake_abs_url(url)) {
		mb_errors(req, 422, 10, "reportUrl is not a valid URL", "reportUrl");
		return -1;
	}
	return 0;
}

static void mb_new_id(struct fake *f, char *id, size_t size)
{
	fake_make_id(f, "", 32, false, id, size);
}

static struct json_object *mb_recipients(const struct fake_msg *m, const char *when)
{
	struct json_object *r = json_object_new_object(), *items = json_object_new_array();
	struct json_object *item = json_object_new_object();

	json_object_object_add(item, "recipient",
			       json_object_new_int64(atoll(FAKE_FIELD(m, "recipients"))));
	json_object_object_add(item, "status", json_object_new_string("sent"));
	json_object_object_add(item, "statusDatetime", json_object_new_string(when));
	json_object_array_add(items, item);
	json_object_object_add(r, "totalCount", json_object_new_int(1));
	json_object_object_add(r, "totalSentCount", json_object_new_int(1));
	json_object_object_add(r, "items", items);
	return r;
}

static void mb_accepted(struct fake *f, struct evhttp_request *req, const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40], href[96];

	(void)f;
	fake_time_iso(m->received_ms, when, sizeof(when));
	snprintf(href, sizeof(href), "https://rest.messagebird.com/messages/%s", m->id);
	const char *kv[] = { "id", m->id, "href", href, "direction", "mt", "type", "sms",
			     "originator", FAKE_FIELD(m, "originator"), "body", FAKE_FIELD(m, "body"),
			     "reference", FAKE_FIELD(m, "reference"),
			     "datacoding", FAKE_FIELD(m, "datacoding"), "createdDatetime", when };
	fake_json_add(o, kv, ARRAY_LEN(kv));
	json_object_object_add(o, "recipients", mb_recipients(m, when));
	fake_reply(req, 201, o);
}

static const char *mb_status_url(const struct fake_msg *m)
{
	return FAKE_FIELD(m, "reportUrl");
}

/* A GET with fields in the query, or a JSON POST; signed with the JWT. */
static void mb_signed(const struct mb_fake *mb, const char *url, const char *format,
		      const struct kvlist *fields, bool bad, struct http_req *out)
{
	struct sbuf jwt, q;
	bool json = strcmp(format ? format : mb->format, "json") == 0;

	sbuf_init(&jwt);
	sbuf_init(&q);
	out->method = json ? "POST" : "GET";
	if (json) {
		struct json_object *o = json_object_new_object();
		for (size_t i = 0; i < fields->n; i++)
			json_object_object_add(o, fields->items[i].key,
					       json_object_new_string(fields->items[i].value));
		sbuf_adds(&out->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		out->url = xstrdup(url);
		kvlist_add(&out->headers, "Content-Type", "application/json");
	} else {
		codec_form_build(&q, fields);
		out->url = xasprintf("%s%s%s", url, strchr(url, '?') ? "&" : "?", sbuf_str(&q));
	}
	/* Unique, as MessageBird's (UUIDs): the daemon refuses a jti it has seen. */
	static unsigned long long signed_count;
	char jti[48];
	snprintf(jti, sizeof(jti), "%lld-%d-%llu", (long long)clock_wall_ms(), (int)getpid(),
		 ++signed_count);
	if (messagebird_jwt_sign(bad ? "not the signing key" : mb->signing_key, "HS256", out->url,
				 out->body.data, out->body.len, clock_wall_ms() / 1000, jti, &jwt) == 0)
		kvlist_add(&out->headers, MESSAGEBIRD_SIGNATURE_HEADER, sbuf_str(&jwt));
	sbuf_free(&jwt);
	sbuf_free(&q);
}

static int mb_callback(struct fake *f, const struct fake_msg *m, const struct fake_hook *h,
		       struct http_req *out)
{
	const char *ref = FAKE_FIELD(m, "reference");
	char when[40];
	struct kvlist l;

	fake_time_iso(clock_wall_ms(), when, sizeof(when));
	kvlist_init(&l);
	kvlist_add(&l, "id", m->id);
	if (ref)
		kvlist_add(&l, "reference", ref);
	kvlist_add(&l, "recipient", FAKE_FIELD(m, "recipients"));
	kvlist_add(&l, "status", h->status);
	kvlist_add(&l, "statusDatetime", when);
	if (h->error_code)
		kvlist_add(&l, "statusErrorCode", h->error_code);
	mb_signed(f->priv, mb_status_url(m), h->format, &l, h->bad_signature, out);
	kvlist_free(&l);
	return 0;
}

static int mb_inbound(struct fake *f, const char *base, const struct fake_inbound *in,
		      struct http_req *out)
{
	char *url = xasprintf("%s/inbound", base), when[40];
	struct kvlist l;

	fake_time_iso(clock_wall_ms(), when, sizeof(when));
	kvlist_init(&l);
	kvlist_add(&l, "id", in->id);
	kvlist_add(&l, "originator", in->from[0] == '+' ? in->from + 1 : in->from);
	kvlist_add(&l, "recipient", in->to[0] == '+' ? in->to + 1 : in->to);
	kvlist_add(&l, "body", in->text);
	kvlist_add(&l, "createdDatetime", when);
	mb_signed(f->priv, url, in->format, &l, in->bad_signature, out);
	kvlist_free(&l);
	free(url);
	return 0;
}

static struct json_object *mb_msg_json(const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	fake_time_iso(m->received_ms, when, sizeof(when));
	const char *kv[] = {
		"id", m->id, "recipients", FAKE_FIELD(m, "recipients"),
		"originator", FAKE_FIELD(m, "originator"), "body", FAKE_FIELD(m, "body"),
		"reference", FAKE_FIELD(m, "reference"), "report_url", FAKE_FIELD(m, "reportUrl"),
		"datacoding", FAKE_FIELD(m, "datacoding"), "validity", FAKE_FIELD(m, "validity"),
		"received_at", when,
	};
	fake_json_add(o, kv, ARRAY_LEN(kv));
	return o;
}

static bool mb_option(struct fake *f, const char *name, const char *value)
{
	struct mb_fake *m = f->priv;

	return fake_opt(name, "access-key", value, &m->key) ||
	       fake_opt(name, "signing-key", value, &m->signing_key) ||
	       fake_opt(name, "webhook-format", value, &m->format);
}

static bool mb_options_ok(const struct fake *f)
{
	const struct mb_fake *m = f->priv;

	return m->key && m->signing_key &&
	       (strcmp(m->format, "get") == 0 || strcmp(m->format, "json") == 0);
}

static const struct fake_provider mb_fake_provider = {
	.name = "messagebird",
	.default_code = 9,
	.code_key = "messagebird_code",
	.send_path = mb_send_path,
	.authorized = mb_authorized,
	.parse = mb_parse,
	.recipient = mb_recipient,
	.check = mb_check,
	.new_id = mb_new_id,
	.accepted = mb_accepted,
	.error = mb_error,
	.status_url = mb_status_url,
	.callback = mb_callback,
	.inbound = mb_inbound,
	.msg_json = mb_msg_json,
	.option = mb_option,
	.options_ok = mb_options_ok,
	.usage = "--access-key KEY --signing-key KEY [--webhook-format get|json]",
};

int main(int argc, char **argv)
{
	struct mb_fake m = { .format = "get" };

	return fake_main(&mb_fake_provider, &m, argc, argv);
}
