/*
 * fake_twilio.c: a stand-in for Twilio's Messages API on 127.0.0.1, for integration tests
 * and benchmarks.
 *
 * usage: fake_twilio --port N --account-sid AC... --auth-token TOKEN
 *                    [--webhook-base URL] [--callbacks sent,delivered]
 *                    [--callback-delay-ms 50] [--max-messages 200000]
 * --port 0 picks a free port; the first line on stdout is always "port=N".
 *
 * It checks POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio does (Basic auth,
 * To, From or MessagingServiceSid, Body, StatusCallback, ValidityPeriod), answers in
 * Twilio's JSON, records what it accepted, injects faults on request and posts signed
 * status callbacks and inbound texts. Its control API (/_fake/...) and every answer are
 * described in tests/fake/README.md.
 *
 * It also takes GET or POST /kannel/send with to, from and text (query or form), without
 * credentials, answering 200 "Sent": the send-url of Kannel's generic HTTP SMSC, so that
 * bench/kannel.sh measures Kannel against the same server as signpost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/buffer.h>

#include "common/codec.h"
#include "providers/twilio.h"
#include "tests/fake/fake_common.h"

#define TW_KANNEL_PATH "/kannel/send"

struct twilio_fake {
	const char *sid, *token;
};

static bool tw_kannel(struct evhttp_request *req)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));

	return path && strcmp(path, TW_KANNEL_PATH) == 0;
}

/* A Twilio field, or the generic route's lower-case one. */
static const char *tw_field(const struct kvlist *fields, const char *name, const char *generic)
{
	const char *v = kvlist_get(fields, name);

	return v ? v : kvlist_get(fields, generic);
}

static void tw_text(struct evhttp_request *req, int status, const char *text)
{
	struct evbuffer *buf = evbuffer_new();

	evbuffer_add(buf, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain");
	evhttp_send_reply(req, status, NULL, buf);
	evbuffer_free(buf);
}

static const char *fake_error_message(int code)
{
	static const struct {
		int code;
		const char *text;
	} texts[] = {
		{ 20003, "Authenticate" }, { 20004, "Method not allowed" },
		{ 20404, "The requested resource was not found" },
		{ 20429, "Too Many Requests" }, { 20500, "Internal Server Error" },
		{ 21211, "The 'To' number is not a valid phone number." },
		{ 21602, "Message body is required." },
		{ 21603, "A 'From' or 'MessagingServiceSid' parameter is required." },
		{ 21604, "A 'To' phone number is required." },
		{ 21609, "Invalid StatusCallback url." },
		{ 21610, "Attempt to send to unsubscribed recipient" },
		{ 21617, "The concatenated message body exceeds the 1600 character limit." },
	};

	for (size_t i = 0; i < ARRAY_LEN(texts); i++)
		if (texts[i].code == code)
			return texts[i].text;
	return "Invalid parameter";
}

static void tw_error(struct fake *f, struct evhttp_request *req, int status, int code)
{
	struct json_object *o = json_object_new_object();

	(void)f;
	if (code == 0)
		code = status == 401 ? 20003 : status == 404 ? 20404 : status == 405 ? 20004
		     : status == 429 ? 20429 : status == 400 ? 20001 : 20500;
	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "message", json_object_new_string(fake_error_message(code)));
	char *url = xasprintf("https://www.twilio.com/docs/errors/%d", code);
	json_object_object_add(o, "more_info", json_object_new_string(url));
	free(url);
	json_object_object_add(o, "status", json_object_new_int(status));
	fake_reply(req, status, o);
}

/* Matches /2010-04-01/Accounts/{sid}/Messages.json, copying the sid. */
static bool tw_messages_path(const char *path, char *sid, size_t size)
{
	static const char prefix[] = "/" TWILIO_API_VERSION "/Accounts/", suffix[] = "/Messages.json";
	size_t n = strlen(path), plen = strlen(prefix), xlen = strlen(suffix);

	if (!str_startswith(path, prefix) || n <= plen + xlen || n - plen - xlen >= size ||
	    strcmp(path + n - xlen, suffix) != 0 || memchr(path + plen, '/', n - plen - xlen))
		return false;
	memcpy(sid, path + plen, n - plen - xlen);
	sid[n - plen - xlen] = '\0';
	return true;
}

static bool tw_send_path(const struct fake *f, const char *path)
{
	char sid[40];

	(void)f;
	return strcmp(path, TW_KANNEL_PATH) == 0 || tw_messages_path(path, sid, sizeof(sid));
}

static bool tw_send_get(const struct fake *f, const char *path)
{
	(void)f;
	return strcmp(path, TW_KANNEL_PATH) == 0;
}

static bool tw_authorized(const struct fake *f, struct evhttp_request *req, const char *path,
			  const struct kvlist *fields)
{
	const struct twilio_fake *t = f->priv;
	char sid[40];

	(void)fields;
	if (strcmp(path, TW_KANNEL_PATH) == 0)
		return true;
	return tw_messages_path(path, sid, sizeof(sid)) && strcmp(sid, t->sid) == 0 &&
	       fake_basic_ok(req, t->sid, t->token);
}

/* Twilio reads only form bodies: anything else has no fields. The generic route reads
 * the query too. */
static int tw_parse(struct evhttp_request *req, const char *body, size_t len,
		    struct kvlist *fields)
{
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Content-Type");
	const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));

	if (tw_kannel(req) && query && codec_form_parse(fields, query, strlen(query)) < 0)
		return -1;
	if (!type || strncasecmp(type, "application/x-www-form-urlencoded", 33) != 0)
		return 0;
	return codec_form_parse(fields, body, len);
}

static void tw_recipient(const struct kvlist *fields, char *out, size_t size)
{
	provider_copy(out, size, tw_field(fields, "To", "to"));
}

static bool tw_e164(const char *s)
{
	size_t digits = s ? strspn(s + (s[0] == '+'), "0123456789") : 0;

	return s && s[0] == '+' && s[1] >= '1' && s[1] <= '9' && digits >= 7 && digits <= 15 &&
	       s[1 + digits] == '\0';
}

/* Twilio's checks of a send; 0 when acceptable, else the error code. */
static int tw_check_code(const struct kvlist *f)
{
	const char *to = kvlist_get(f, "To"), *body = kvlist_get(f, "Body");
	const char *cb = kvlist_get(f, "StatusCallback"), *vp = kvlist_get(f, "ValidityPeriod");
	int64_t v;

	if (!to)
		return 21604;
	if (!tw_e164(to))
		return 21211;
	if (!kvlist_get(f, "From") && !kvlist_get(f, "MessagingServiceSid"))
		return 21603;
	if (!body || !*body)
		return 21602;
	if (fake_chars(body) > 1600)
		return 21617;
	if (cb && !fake_abs_url(cb))
		return 21609;
	if (vp && !str_to_i64(vp, 1, TWILIO_MAX_VALIDITY_S, &v))
		return 20001;
	return 0;
}

static int tw_check(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	int code;

	if (tw_kannel(req)) {
		if (kvlist_get(fields, "to") && kvlist_get(fields, "text"))
			return 0;
		tw_text(req, 400, "Missing to or text");
		return -1;
	}
	code = tw_check_code(fields);
	if (code == 0)
		return 0;
	tw_error(f, req, 400, code);
	return -1;
}

static void tw_new_id(struct fake *f, char *id, size_t size)
{
	fake_make_id(f, "SM", 32, false, id, size);
}

/* RFC 2822 as in Twilio's resources. */
static void tw_time(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

static void tw_accepted(struct fake *f, struct evhttp_request *req, const struct fake_msg *m)
{
	const struct twilio_fake *t = f->priv;
	const char *from = FAKE_FIELD(m, "From"), *service = FAKE_FIELD(m, "MessagingServiceSid");
	char date[64], uri[128], segs[16];

	if (tw_kannel(req)) {
		tw_text(req, 200, "Sent");
		return;
	}
	tw_time(m->received_ms, date, sizeof(date));
	snprintf(uri, sizeof(uri), "/" TWILIO_API_VERSION "/Accounts/%s/Messages/%s.json", t->sid,
		 m->id);
	snprintf(segs, sizeof(segs), "%d", fake_segments(FAKE_FIELD(m, "Body")));
	const char *kv[] = {
		"account_sid", t->sid, "api_version", TWILIO_API_VERSION,
		"body", FAKE_FIELD(m, "Body"), "date_created", date, "date_sent", NULL,
		"date_updated", date, "direction", "outbound-api", "error_code", NULL,
		"error_message", NULL, "from", from, "messaging_service_sid", service,
		"num_media", "0", "num_segments", segs, "price", NULL, "price_unit", "USD",
		"sid", m->id, "status", from || !service ? "queued" : "accepted",
		"to", FAKE_FIELD(m, "To"), "uri", uri,
	};
	struct json_object *o = json_object_new_object();
	fake_json_add(o, kv, ARRAY_LEN(kv));
	fake_reply(req, 201, o);
}

static const char *tw_status_url(const struct fake_msg *m)
{
	return FAKE_FIELD(m, "StatusCallback");
}

/* A form POST to url signed with X-Twilio-Signature, taking fields. */
static void tw_signed_post(const struct twilio_fake *t, const char *url, struct kvlist *fields,
			   bool bad_signature, struct http_req *out)
{
	struct sbuf sig;

	sbuf_init(&sig);
	twilio_signature(bad_signature ? "not the auth token" : t->token, url, fields, &sig);
	out->method = "POST";
	out->url = xstrdup(url);
	kvlist_add(&out->headers, "Content-Type", "application/x-www-form-urlencoded");
	kvlist_add(&out->headers, "User-Agent", "TwilioProxy/1.1");
	kvlist_add(&out->headers, "X-Twilio-Signature", sbuf_str(&sig));
	codec_form_build(&out->body, fields);
	sbuf_free(&sig);
}

static int tw_callback(struct fake *f, const struct fake_msg *m, const struct fake_hook *h,
		       struct http_req *out)
{
	const struct twilio_fake *t = f->priv;
	bool failed = strcmp(h->status, "failed") == 0 || strcmp(h->status, "undelivered") == 0;
	const char *from = FAKE_FIELD(m, "From"), *service = FAKE_FIELD(m, "MessagingServiceSid");
	struct kvlist l;

	kvlist_init(&l);
	kvlist_add(&l, "MessageSid", m->id);
	kvlist_add(&l, "MessageStatus", h->status);
	kvlist_add(&l, "SmsSid", m->id);
	kvlist_add(&l, "SmsStatus", h->status);
	kvlist_add(&l, "AccountSid", t->sid);
	kvlist_add(&l, "From", from ? from : FAKE_SENDER);
	kvlist_add(&l, "To", FAKE_FIELD(m, "To"));
	kvlist_add(&l, "ApiVersion", TWILIO_API_VERSION);
	if (service)
		kvlist_add(&l, "MessagingServiceSid", service);
	if (h->error_code || failed)
		kvlist_add(&l, "ErrorCode", h->error_code ? h->error_code : "30003");
	tw_signed_post(t, tw_status_url(m), &l, h->bad_signature, out);
	kvlist_free(&l);
	return 0;
}

static int tw_inbound(struct fake *f, const char *base, const struct fake_inbound *in,
		      struct http_req *out)
{
	const struct twilio_fake *t = f->priv;
	char *url = xasprintf("%s/inbound", base);
	struct kvlist l;

	kvlist_init(&l);
	kvlist_add(&l, "MessageSid", in->id);
	kvlist_add(&l, "SmsSid", in->id);
	kvlist_add(&l, "AccountSid", t->sid);
	kvlist_add(&l, "From", in->from);
	kvlist_add(&l, "To", in->to);
	kvlist_add(&l, "Body", in->text);
	kvlist_add(&l, "NumMedia", "0");
	tw_signed_post(t, url, &l, in->bad_signature, out);
	kvlist_free(&l);
	free(url);
	return 0;
}

static struct json_object *tw_msg_json(const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	fake_time_iso(m->received_ms, when, sizeof(when));
	const char *kv[] = {
		"sid", m->id, "to", tw_field(&m->fields, "To", "to"),
		"from", tw_field(&m->fields, "From", "from"),
		"messaging_service_sid", FAKE_FIELD(m, "MessagingServiceSid"),
		"body", tw_field(&m->fields, "Body", "text"), "status_callback", FAKE_FIELD(m, "StatusCallback"),
		"validity_period", FAKE_FIELD(m, "ValidityPeriod"), "received_at", when,
	};
	fake_json_add(o, kv, ARRAY_LEN(kv));
	return o;
}

static bool tw_option(struct fake *f, const char *name, const char *value)
{
	struct twilio_fake *t = f->priv;

	return fake_opt(name, "account-sid", value, &t->sid) ||
	       fake_opt(name, "auth-token", value, &t->token);
}

static bool tw_options_ok(const struct fake *f)
{
	const struct twilio_fake *t = f->priv;

	return t->sid && t->token && twilio_sid_valid(t->sid, "AC");
}

static const struct fake_provider twilio_fake = {
	.name = "twilio",
	.default_code = 21211,
	.code_key = "twilio_code",
	.send_path = tw_send_path,
	.send_get = tw_send_get,
	.authorized = tw_authorized,
	.parse = tw_parse,
	.recipient = tw_recipient,
	.check = tw_check,
	.new_id = tw_new_id,
	.accepted = tw_accepted,
	.error = tw_error,
	.status_url = tw_status_url,
	.callback = tw_callback,
	.inbound = tw_inbound,
	.msg_json = tw_msg_json,
	.option = tw_option,
	.options_ok = tw_options_ok,
	.usage = "--account-sid AC<32 hex> --auth-token TOKEN",
};

int main(int argc, char **argv)
{
	struct twilio_fake t = { NULL, NULL };

	return fake_main(&twilio_fake, &t, argc, argv);
}
