/*
 * fake_vonage.c: a stand-in for Vonage's SMS API (POST /sms/json) on 127.0.0.1.
 *
 * usage: fake_vonage --port N --api-key KEY --api-secret SECRET
 *                    --signature-secret S [--signature-method md5hash]
 *                    [--webhook-format get|form|json] [--webhook-base URL] ...
 * Answers HTTP 200 with a status per message as Vonage does, and posts receipts and
 * inbound texts (in concatenated parts when asked) signed with "sig". See
 * tests/fake/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "providers/vonage.h"
#include "tests/fake/fake_common.h"

struct vonage_fake {
	const char *key, *secret, *sig_secret, *method_name, *format;
	enum vonage_sig_method method;
};

static const char *vg_status_text(int status)
{
	static const char *const texts[] = {
		[1] = "Throttled", [2] = "Missing Parameters", [3] = "Invalid Parameters",
		[4] = "Bad Credentials", [5] = "Internal Error", [6] = "Invalid Message",
		[7] = "Number Barred", [8] = "Partner Account Barred",
		[9] = "Partner Quota Violation",
	};

	return status > 0 && status < (int)ARRAY_LEN(texts) && texts[status] ? texts[status]
									     : "Error";
}

/* HTTP 200 with one failed message, as Vonage answers refusals. */
static void vg_refuse(struct evhttp_request *req, int status)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	struct json_object *m = json_object_new_object();
	char code[16];

	snprintf(code, sizeof(code), "%d", status);
	json_object_object_add(m, "status", json_object_new_string(code));
	json_object_object_add(m, "error-text", json_object_new_string(vg_status_text(status)));
	json_object_array_add(list, m);
	json_object_object_add(o, "message-count", json_object_new_string("1"));
	json_object_object_add(o, "messages", list);
	fake_reply(req, 200, o);
}

static void vg_error(struct fake *f, struct evhttp_request *req, int status, int code)
{
	struct json_object *o;

	(void)f;
	if (code > 0 || status == 401) {
		vg_refuse(req, code > 0 ? code : 4);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "type",
			       json_object_new_string("https://developer.nexmo.com/api-errors"));
	json_object_object_add(o, "title", json_object_new_string(status == 429 ? "Throttled"
									       : "Error"));
	fake_reply(req, status, o);
}

static bool vg_send_path(const struct fake *f, const char *path)
{
	(void)f;
	return strcmp(path, "/sms/json") == 0;
}

static bool vg_authorized(const struct fake *f, struct evhttp_request *req, const char *path,
			  const struct kvlist *fields)
{
	const struct vonage_fake *v = f->priv;
	const char *key = kvlist_get(fields, "api_key"), *secret = kvlist_get(fields, "api_secret");

	(void)path;
	if (!key && !secret)
		return fake_basic_ok(req, v->key, v->secret);
	return key && secret && strcmp(key, v->key) == 0 && strcmp(secret, v->secret) == 0;
}

static int vg_parse(struct evhttp_request *req, const char *body, size_t len,
		    struct kvlist *fields)
{
	(void)req;
	return codec_form_parse(fields, body, len);
}

static void vg_recipient(const struct kvlist *fields, char *out, size_t size)
{
	const char *to = kvlist_get(fields, "to");

	snprintf(out, size, "+%s", to ? to : "");
}

static int vg_check(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	const char *to = kvlist_get(fields, "to"), *text = kvlist_get(fields, "text");
	const char *from = kvlist_get(fields, "from"), *cb = kvlist_get(fields, "callback");
	const char *type = kvlist_get(fields, "type");
	size_t digits = to ? strspn(to, "0123456789") : 0;

	(void)f;
	if (!to || !from || !text) {
		vg_refuse(req, 2);
		return -1;
	}
	if (digits != strlen(to) || digits < 7 || digits > 15 || (cb && !fake_abs_url(cb)) ||
	    (type && strcmp(type, "text") != 0 && strcmp(type, "unicode") != 0)) {
		vg_refuse(req, 3);
		return -1;
	}
	return 0;
}

static void vg_new_id(struct fake *f, char *id, size_t size)
{
	fake_make_id(f, "", 16, true, id, size);
}

static void vg_accepted(struct fake *f, struct evhttp_request *req, const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object(), *list = json_object_new_array();
	int parts = fake_segments(FAKE_FIELD(m, "text"));
	char count[16];

	(void)f;
	snprintf(count, sizeof(count), "%d", parts);
	for (int i = 0; i < parts; i++) {
		struct json_object *e = json_object_new_object();
		const char *kv[] = { "to", FAKE_FIELD(m, "to"), "message-id", m->id,
				     "status", "0", "remaining-balance", "3.14",
				     "message-price", "0.0333", "network", "23410" };
		fake_json_add(e, kv, ARRAY_LEN(kv));
		if (FAKE_FIELD(m, "client-ref"))
			json_object_object_add(e, "client-ref",
					       json_object_new_string(FAKE_FIELD(m, "client-ref")));
		json_object_array_add(list, e);
	}
	json_object_object_add(o, "message-count", json_object_new_string(count));
	json_object_object_add(o, "messages", list);
	fake_reply(req, 200, o);
}

static const char *vg_status_url(const struct fake_msg *m)
{
	return FAKE_FIELD(m, "callback");
}

/* Signs fields and puts them in out as a GET query, a form POST or a JSON POST. */
static void vg_signed(const struct vonage_fake *v, const char *url, const char *format,
		      struct kvlist *fields, bool bad, struct http_req *out)
{
	struct sbuf sig;
	char ts[24], nonce[40];
	unsigned char rnd[8];

	sbuf_init(&sig);
	snprintf(ts, sizeof(ts), "%lld", (long long)(clock_wall_ms() / 1000));
	crypto_random(rnd, sizeof(rnd));
	snprintf(nonce, sizeof(nonce), "%02x%02x%02x%02x-%02x%02x-%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	kvlist_add(fields, "timestamp", ts);
	kvlist_add(fields, "nonce", nonce);
	vonage_signature(v->method, bad ? "not the signature secret" : v->sig_secret, fields, &sig);
	kvlist_add(fields, "sig", sbuf_str(&sig));
	format = format ? format : v->format;
	if (strcmp(format, "get") == 0) {
		struct sbuf q;
		sbuf_init(&q);
		codec_form_build(&q, fields);
		out->method = "GET";
		out->url = xasprintf("%s%s%s", url, strchr(url, '?') ? "&" : "?", sbuf_str(&q));
		sbuf_free(&q);
	} else if (strcmp(format, "json") == 0) {
		struct json_object *o = json_object_new_object();
		for (size_t i = 0; i < fields->n; i++)
			json_object_object_add(o, fields->items[i].key,
					       json_object_new_string(fields->items[i].value));
		out->method = "POST";
		out->url = xstrdup(url);
		kvlist_add(&out->headers, "Content-Type", "application/json");
		sbuf_adds(&out->body, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		out->method = "POST";
		out->url = xstrdup(url);
		kvlist_add(&out->headers, "Content-Type", "application/x-www-form-urlencoded");
		codec_form_build(&out->body, fields);
	}
	sbuf_free(&sig);
}

static void vg_now(char *out, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static int vg_callback(struct fake *f, const struct fake_msg *m, const struct fake_hook *h,
		       struct http_req *out)
{
	const char *ref = FAKE_FIELD(m, "client-ref");
	bool failed = strcmp(h->status, "failed") == 0 || strcmp(h->status, "rejected") == 0;
	char when[32];
	struct kvlist l;

	vg_now(when, sizeof(when));
	kvlist_init(&l);
	kvlist_add(&l, "msisdn", FAKE_FIELD(m, "to"));
	kvlist_add(&l, "to", FAKE_FIELD(m, "from"));
	kvlist_add(&l, "network-code", "23410");
	kvlist_add(&l, "messageId", m->id);
	kvlist_add(&l, "price", "0.0333");
	kvlist_add(&l, "status", h->status);
	kvlist_add(&l, "scts", "2001011400");
	kvlist_add(&l, "err-code", h->error_code ? h->error_code : failed ? "1" : "0");
	if (ref)
		kvlist_add(&l, "client-ref", ref);
	kvlist_add(&l, "message-timestamp", when);
	vg_signed(f->priv, vg_status_url(m), h->format, &l, h->bad_signature, out);
	kvlist_free(&l);
	return 0;
}

static void vg_keyword(const char *text, char *out, size_t size)
{
	size_t n = strcspn(text, " \t\r\n");

	n = MIN(n, size - 1);
	for (size_t i = 0; i < n; i++)
		out[i] = text[i] >= 'a' && text[i] <= 'z' ? (char)(text[i] - 32) : text[i];
	out[n] = '\0';
}

static int vg_inbound(struct fake *f, const char *base, const struct fake_inbound *in,
		      struct http_req *out)
{
	char *url = xasprintf("%s/inbound", base), when[32], keyword[64], n[16], i[16];
	struct kvlist l;

	vg_now(when, sizeof(when));
	vg_keyword(in->text, keyword, sizeof(keyword));
	kvlist_init(&l);
	kvlist_add(&l, "msisdn", in->from[0] == '+' ? in->from + 1 : in->from);
	kvlist_add(&l, "to", in->to[0] == '+' ? in->to + 1 : in->to);
	kvlist_add(&l, "messageId", in->id);
	kvlist_add(&l, "text", in->text);
	kvlist_add(&l, "type", "text");
	kvlist_add(&l, "keyword", keyword);
	kvlist_add(&l, "message-timestamp", when);
	if (in->parts > 1) {
		snprintf(n, sizeof(n), "%d", in->parts);
		snprintf(i, sizeof(i), "%d", in->part);
		kvlist_add(&l, "concat", "true");
		kvlist_add(&l, "concat-ref", in->ref);
		kvlist_add(&l, "concat-total", n);
		kvlist_add(&l, "concat-part", i);
	}
	vg_signed(f->priv, url, in->format, &l, in->bad_signature, out);
	kvlist_free(&l);
	free(url);
	return 0;
}

static struct json_object *vg_msg_json(const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	fake_time_iso(m->received_ms, when, sizeof(when));
	const char *kv[] = {
		"id", m->id, "to", FAKE_FIELD(m, "to"), "from", FAKE_FIELD(m, "from"),
		"text", FAKE_FIELD(m, "text"), "type", FAKE_FIELD(m, "type"),
		"callback", FAKE_FIELD(m, "callback"), "client_ref", FAKE_FIELD(m, "client-ref"),
		"ttl", FAKE_FIELD(m, "ttl"), "received_at", when,
	};
	fake_json_add(o, kv, ARRAY_LEN(kv));
	return o;
}

static bool vg_option(struct fake *f, const char *name, const char *value)
{
	struct vonage_fake *v = f->priv;

	return fake_opt(name, "api-key", value, &v->key) ||
	       fake_opt(name, "api-secret", value, &v->secret) ||
	       fake_opt(name, "signature-secret", value, &v->sig_secret) ||
	       fake_opt(name, "signature-method", value, &v->method_name) ||
	       fake_opt(name, "webhook-format", value, &v->format);
}

static bool vg_options_ok(const struct fake *f)
{
	struct vonage_fake *v = f->priv;

	return v->key && v->secret && v->sig_secret &&
	       vonage_sig_method_parse(v->method_name, &v->method) &&
	       (strcmp(v->format, "get") == 0 || strcmp(v->format, "form") == 0 ||
		strcmp(v->format, "json") == 0);
}

static const struct fake_provider vonage_fake = {
	.name = "vonage",
	.default_code = 7,
	.code_key = "vonage_status",
	.send_path = vg_send_path,
	.authorized = vg_authorized,
	.parse = vg_parse,
	.recipient = vg_recipient,
	.check = vg_check,
	.new_id = vg_new_id,
	.accepted = vg_accepted,
	.error = vg_error,
	.status_url = vg_status_url,
	.callback = vg_callback,
	.inbound = vg_inbound,
	.msg_json = vg_msg_json,
	.option = vg_option,
	.options_ok = vg_options_ok,
	.usage = "--api-key KEY --api-secret SECRET --signature-secret S "
		 "[--signature-method md5hash|md5|sha1|sha256|sha512] "
		 "[--webhook-format get|form|json]",
};

int main(int argc, char **argv)
{
	struct vonage_fake v = { .method_name = "md5hash", .format = "get" };

	return fake_main(&vonage_fake, &v, argc, argv);
}
