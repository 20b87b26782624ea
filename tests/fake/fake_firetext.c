/*
 * fake_firetext.c: a stand-in for Firetext's API (POST /api/sendsms/json) on 127.0.0.1.
 *
 * usage: fake_firetext --port N --api-key KEY --webhook-user USER --webhook-password PW
 *                      [--webhook-base URL] ...
 * Answers HTTP 200 with a "code" (0 when queued) as Firetext does; receipts and inbound
 * texts are form posts carrying HTTP Basic credentials: those in the receipt URL
 * (user:password@), else the configured ones. See tests/fake/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "tests/fake/fake_common.h"

struct ft_fake {
	const char *key, *user, *password;
};

static void ft_answer(struct evhttp_request *req, int status, int code, const char *text)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "data", json_object_new_array());
	json_object_object_add(o, "description", json_object_new_string(text));
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "responseData", code == 0 ? json_object_new_int(1)
							    : json_object_new_string(""));
	fake_reply(req, status, o);
}

static void ft_error(struct fake *f, struct evhttp_request *req, int status, int code)
{
	(void)f;
	if (code > 0)
		ft_answer(req, 200, code, "Error injected by the fake");
	else if (status == 401)
		ft_answer(req, 200, 1, "Authentication error");
	else
		ft_answer(req, status, 9, status == 429 ? "Too many requests" : "Server error");
}

static bool ft_send_path(const struct fake *f, const char *path)
{
	(void)f;
	return strcmp(path, "/api/sendsms/json") == 0;
}

static bool ft_authorized(const struct fake *f, struct evhttp_request *req, const char *path,
			  const struct kvlist *fields)
{
	const struct ft_fake *ft = f->priv;
	const char *key = kvlist_get(fields, "apiKey");

	(void)req, (void)path;
	return key && strcmp(key, ft->key) == 0;
}

static int ft_parse(struct evhttp_request *req, const char *body, size_t len,
		    struct kvlist *fields)
{
	(void)req;
	return codec_form_parse(fields, body, len);
}

static void ft_recipient(const struct kvlist *fields, char *out, size_t size)
{
	const char *to = kvlist_get(fields, "to");

	snprintf(out, size, "+%s", to ? to : "");
}

static int ft_check(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	const char *to = kvlist_get(fields, "to"), *msg = kvlist_get(fields, "message");
	const char *from = kvlist_get(fields, "from"), *receipt = kvlist_get(fields, "receipt");

	(void)f;
	if (!to || strspn(to, "0123456789") != strlen(to) || strlen(to) < 10) {
		ft_answer(req, 200, 2, "Destination error");
		return -1;
	}
	if (!from || strlen(from) < 3 || strlen(from) > 11) {
		ft_answer(req, 200, 3, "Originator error");
		return -1;
	}
	if (!msg || !*msg || fake_chars(msg) > 612 || (receipt && !fake_abs_url(receipt))) {
		ft_answer(req, 200, 4, "Message error");
		return -1;
	}
	return 0;
}

static void ft_new_id(struct fake *f, char *id, size_t size)
{
	fake_make_id(f, "ft", 16, false, id, size);
}

static void ft_accepted(struct fake *f, struct evhttp_request *req, const struct fake_msg *m)
{
	(void)f, (void)m;
	ft_answer(req, 200, 0, "SMS successfully queued");
}

static const char *ft_status_url(const struct fake_msg *m)
{
	return FAKE_FIELD(m, "receipt");
}

/* Credentials from the URL's user:password@ (as Firetext uses them), else configured. */
static void ft_credentials(const struct ft_fake *ft, const char *url, struct sbuf *user,
			   struct sbuf *password)
{
	struct evhttp_uri *u = evhttp_uri_parse(url);
	const char *info = u ? evhttp_uri_get_userinfo(u) : NULL;
	size_t colon = info ? strcspn(info, ":") : 0;

	if (!info || !info[colon] || codec_url_decode(user, info, colon, false) < 0 ||
	    codec_url_decode(password, info + colon + 1, strlen(info + colon + 1), false) < 0) {
		sbuf_reset(user);
		sbuf_reset(password);
		sbuf_adds(user, ft->user);
		sbuf_adds(password, ft->password);
	}
	if (u)
		evhttp_uri_free(u);
}

static void ft_post(const struct ft_fake *ft, const char *url, const struct kvlist *fields,
		    bool bad, struct http_req *out)
{
	struct sbuf user, password;

	sbuf_init(&user);
	sbuf_init(&password);
	ft_credentials(ft, url, &user, &password);
	out->method = "POST";
	out->url = xstrdup(url);
	kvlist_add(&out->headers, "Content-Type", "application/x-www-form-urlencoded");
	http_req_basic_auth(out, sbuf_str(&user), bad ? "not the password" : sbuf_str(&password));
	codec_form_build(&out->body, fields);
	sbuf_free(&user);
	sbuf_free(&password);
}

/* UK local time as Firetext writes it. */
static void ft_now(char *out, size_t size)
{
	time_t t = time(NULL);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

static int ft_callback(struct fake *f, const struct fake_msg *m, const struct fake_hook *h,
		       struct http_req *out)
{
	const char *ref = FAKE_FIELD(m, "reference");
	char when[32];
	struct kvlist l;

	ft_now(when, sizeof(when));
	kvlist_init(&l);
	kvlist_add(&l, "mobile", FAKE_FIELD(m, "to"));
	kvlist_add(&l, "status", h->status);
	kvlist_add(&l, "code", h->error_code ? h->error_code
				: strcmp(h->status, "1") == 0 ? "101" : "000");
	kvlist_add(&l, "reference", ref ? ref : "");
	kvlist_add(&l, "time", when);
	ft_post(f->priv, ft_status_url(m), &l, h->bad_signature, out);
	kvlist_free(&l);
	return 0;
}

static int ft_inbound(struct fake *f, const char *base, const struct fake_inbound *in,
		      struct http_req *out)
{
	char *url = xasprintf("%s/inbound", base), when[32];
	struct kvlist l;

	ft_now(when, sizeof(when));
	kvlist_init(&l);
	kvlist_add(&l, "source", in->from[0] == '+' ? in->from + 1 : in->from);
	kvlist_add(&l, "destination", in->to[0] == '+' ? in->to + 1 : in->to);
	kvlist_add(&l, "message", in->text);
	kvlist_add(&l, "time", when);
	ft_post(f->priv, url, &l, in->bad_signature, out);
	kvlist_free(&l);
	free(url);
	return 0;
}

static struct json_object *ft_msg_json(const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	fake_time_iso(m->received_ms, when, sizeof(when));
	const char *kv[] = {
		"id", m->id, "to", FAKE_FIELD(m, "to"), "from", FAKE_FIELD(m, "from"),
		"message", FAKE_FIELD(m, "message"), "reference", FAKE_FIELD(m, "reference"),
		"receipt", FAKE_FIELD(m, "receipt"), "received_at", when,
	};
	fake_json_add(o, kv, ARRAY_LEN(kv));
	return o;
}

static bool ft_option(struct fake *f, const char *name, const char *value)
{
	struct ft_fake *ft = f->priv;

	return fake_opt(name, "api-key", value, &ft->key) ||
	       fake_opt(name, "webhook-user", value, &ft->user) ||
	       fake_opt(name, "webhook-password", value, &ft->password);
}

static bool ft_options_ok(const struct fake *f)
{
	const struct ft_fake *ft = f->priv;

	return ft->key && ft->user && ft->password;
}

static const struct fake_provider ft_fake_provider = {
	.name = "firetext",
	.default_code = 2,
	.code_key = "firetext_code",
	.send_path = ft_send_path,
	.authorized = ft_authorized,
	.parse = ft_parse,
	.recipient = ft_recipient,
	.check = ft_check,
	.new_id = ft_new_id,
	.accepted = ft_accepted,
	.error = ft_error,
	.status_url = ft_status_url,
	.callback = ft_callback,
	.inbound = ft_inbound,
	.msg_json = ft_msg_json,
	.option = ft_option,
	.options_ok = ft_options_ok,
	.usage = "--api-key KEY --webhook-user USER --webhook-password PASSWORD",
};

int main(int argc, char **argv)
{
	struct ft_fake ft = { NULL, NULL, NULL };

	return fake_main(&ft_fake_provider, &ft, argc, argv);
}
