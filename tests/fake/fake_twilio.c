/*
 * fake_twilio.c: a stand-in for Twilio's Messages API on 127.0.0.1, for integration tests
 * and benchmarks.
 *
 * usage: fake_twilio --port N --account-sid AC... --auth-token TOKEN
 *                    [--callbacks sent,delivered] [--callback-delay-ms 50]
 *                    [--max-messages 200000]
 * --port 0 picks a free port; the first line on stdout is always "port=N".
 *
 * It checks POST /2010-04-01/Accounts/{sid}/Messages.json as Twilio does (Basic auth,
 * To, From or MessagingServiceSid, Body, StatusCallback, ValidityPeriod), answers in
 * Twilio's JSON, records what it accepted, injects faults on request and posts signed
 * status callbacks. Its control API (/_fake/...) and every answer are described in
 * tests/fake/README.md.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "providers/twilio.h"

#define FAKE_MAX_BODY (64 * 1024)
#define FAKE_MAX_PENDING 100000 /* callbacks waiting or in flight */
#define FAKE_MAX_HANGING 100 /* each holds a socket until the fake exits */
#define FAKE_SENDER "+447700900000"

enum fake_mode { FAKE_OK, FAKE_ERROR500, FAKE_HANG, FAKE_THROTTLE429, FAKE_CODE };

struct fake_msg {
	char sid[35];
	struct kvlist fields; /* To, From, MessagingServiceSid, Body, StatusCallback, ... */
	int64_t received_ms;
};

#define FAKE_FIELD(m, name) kvlist_get(&(m)->fields, name)

struct fake_stats {
	long requests, accepted, rejected, auth_failures, injected, hanging;
	long callbacks_sent, callbacks_ok, callbacks_failed, callbacks_pending;
};

struct fake;

/* A status callback: waits on timer, then is in flight on conn, then is freed. */
struct fake_callback {
	struct fake *fake;
	struct event *timer;
	struct evhttp_connection *conn;
	char *url, *form, *signature;
	bool done;
	struct fake_callback *prev, *next;
};

struct fake {
	struct event_base *base;
	struct evhttp *http;
	const char *sid, *token;
	struct fake_msg *msgs;
	size_t nmsgs, cap, max_msgs;
	uint32_t seq;
	enum fake_mode mode;
	long mode_count;
	int retry_after, code, code_status;
	char *mode_to;
	char **auto_statuses;
	size_t nauto;
	int auto_delay_ms;
	char *auto_error;
	struct fake_callback *callbacks;
	struct fake_stats stats;
	bool stopping;
};

/* Sends obj as the JSON answer and releases it. */
static void fake_reply(struct evhttp_request *req, int status, struct json_object *obj)
{
	struct evbuffer *buf = evbuffer_new();
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);

	evbuffer_add(buf, text, strlen(text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "application/json");
	/* NULL: libevent's reason phrase, which lacks one for 429. */
	evhttp_send_reply(req, status, status == 429 ? "Too Many Requests" : NULL, buf);
	evbuffer_free(buf);
	json_object_put(obj);
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

static void fake_error(struct evhttp_request *req, int status, int code)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "code", json_object_new_int(code));
	json_object_object_add(o, "message", json_object_new_string(fake_error_message(code)));
	char *url = xasprintf("https://www.twilio.com/docs/errors/%d", code);
	json_object_object_add(o, "more_info", json_object_new_string(url));
	free(url);
	json_object_object_add(o, "status", json_object_new_int(status));
	fake_reply(req, status, o);
}

/* The request body, NUL-terminated; *len is its length. */
static char *fake_body(struct evhttp_request *req, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	char *body;

	*len = evbuffer_get_length(in);
	body = xmalloc(*len + 1);
	evbuffer_copyout(in, body, *len);
	body[*len] = '\0';
	return body;
}

static struct json_object *fake_json_body(struct evhttp_request *req)
{
	size_t len;
	char *body = fake_body(req, &len);
	struct json_object *obj = len ? provider_json_parse(body, len) : json_object_new_object();

	free(body);
	return obj;
}

static int64_t fake_json_int(struct json_object *o, const char *key, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return def;
	return json_object_get_int64(v);
}

static bool fake_authorized(const struct fake *f, struct evhttp_request *req, const char *sid)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Authorization");
	struct sbuf plain, want;
	bool ok = false;

	sbuf_init(&plain);
	sbuf_init(&want);
	sbuf_printf(&want, "%s:%s", f->sid, f->token);
	if (auth && strncasecmp(auth, "Basic ", 6) == 0 &&
	    codec_base64_decode(&plain, auth + 6, strlen(auth + 6)) == 0)
		ok = crypto_equal(plain.data, plain.len, want.data, want.len) &&
		     strcmp(sid, f->sid) == 0;
	sbuf_free(&plain);
	sbuf_free(&want);
	return ok;
}

static bool fake_e164(const char *s)
{
	size_t digits = s ? strspn(s + (s[0] == '+'), "0123456789") : 0;

	return s && s[0] == '+' && s[1] >= '1' && s[1] <= '9' && digits >= 7 && digits <= 15 &&
	       s[1 + digits] == '\0';
}

static bool fake_abs_url(const char *s)
{
	struct evhttp_uri *u = evhttp_uri_parse(s);
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
	bool ok = scheme && (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
		  evhttp_uri_get_host(u) && *evhttp_uri_get_host(u);

	if (u)
		evhttp_uri_free(u);
	return ok;
}

/* Code points in s (its length in characters). */
static size_t fake_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Twilio's checks of a send; 0 when acceptable, else the error code (*status set). */
static int fake_check_send(const struct kvlist *f, int *status)
{
	const char *to = kvlist_get(f, "To"), *body = kvlist_get(f, "Body");
	const char *cb = kvlist_get(f, "StatusCallback"), *vp = kvlist_get(f, "ValidityPeriod");
	int64_t v;

	*status = 400;
	if (!to)
		return 21604;
	if (!fake_e164(to))
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

static int fake_segments(const char *body)
{
	size_t units = 0;
	bool ascii = true;

	for (const unsigned char *p = (const unsigned char *)body; *p; p++) {
		ascii &= *p < 0x80;
		units += (*p & 0xc0) != 0x80;
		units += (*p & 0xf8) == 0xf0; /* a surrogate pair in UTF-16 */
	}
	size_t single = ascii ? 160 : 70, part = ascii ? 153 : 67;
	return units <= single ? 1 : (int)((units + part - 1) / part);
}

static struct fake_msg *fake_store(struct fake *f, const struct kvlist *fields)
{
	unsigned char rnd[12];
	struct sbuf hex;
	struct fake_msg *m;

	if (f->nmsgs == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->msgs = xrealloc(f->msgs, f->cap * sizeof(*f->msgs));
	}
	m = &f->msgs[f->nmsgs++];
	sbuf_init(&hex);
	crypto_random(rnd, sizeof(rnd));
	codec_hex_encode(&hex, rnd, sizeof(rnd), false);
	snprintf(m->sid, sizeof(m->sid), "SM%08" PRIx32 "%s", ++f->seq, sbuf_str(&hex));
	sbuf_free(&hex);
	kvlist_init(&m->fields);
	for (size_t i = 0; i < fields->n; i++)
		kvlist_add(&m->fields, fields->items[i].key, fields->items[i].value);
	m->received_ms = clock_wall_ms();
	return m;
}

static void fake_msg_free(struct fake_msg *m)
{
	kvlist_free(&m->fields);
}

/* RFC 2822 as in Twilio's resources, or ISO 8601 with milliseconds. */
static void fake_time(int64_t ms, bool iso, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	if (!iso) {
		strftime(out, size, "%a, %d %b %Y %H:%M:%S +0000", &tm);
		return;
	}
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%03dZ", (int)(ms % 1000));
}

/* Adds the members kv[0]: kv[1], kv[2]: kv[3], ...; a NULL value gives null. */
static void fake_json_add(struct json_object *o, const char *const *kv, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		json_object_object_add(o, kv[i], kv[i + 1] ? json_object_new_string(kv[i + 1]) : NULL);
}

static void fake_created(const struct fake *f, struct evhttp_request *req,
			 const struct fake_msg *m)
{
	const char *from = FAKE_FIELD(m, "From"), *service = FAKE_FIELD(m, "MessagingServiceSid");
	char date[64], uri[128], segs[16];

	fake_time(m->received_ms, false, date, sizeof(date));
	snprintf(uri, sizeof(uri), "/" TWILIO_API_VERSION "/Accounts/%s/Messages/%s.json", f->sid,
		 m->sid);
	snprintf(segs, sizeof(segs), "%d", fake_segments(FAKE_FIELD(m, "Body")));
	const char *kv[] = {
		"account_sid", f->sid, "api_version", TWILIO_API_VERSION,
		"body", FAKE_FIELD(m, "Body"), "date_created", date, "date_sent", NULL,
		"date_updated", date, "direction", "outbound-api", "error_code", NULL,
		"error_message", NULL, "from", from, "messaging_service_sid", service,
		"num_media", "0", "num_segments", segs, "price", NULL, "price_unit", "USD",
		"sid", m->sid, "status", from || !service ? "queued" : "accepted",
		"to", FAKE_FIELD(m, "To"), "uri", uri,
	};
	struct json_object *o = json_object_new_object();
	fake_json_add(o, kv, ARRAY_LEN(kv));
	fake_reply(req, 201, o);
}

static void fake_callback_free(struct fake_callback *cb)
{
	struct fake *f = cb->fake;

	if (cb->prev)
		cb->prev->next = cb->next;
	else
		f->callbacks = cb->next;
	if (cb->next)
		cb->next->prev = cb->prev;
	f->stats.callbacks_pending--;
	event_free(cb->timer);
	if (cb->conn)
		evhttp_connection_free(cb->conn);
	free(cb->url);
	free(cb->form);
	free(cb->signature);
	free(cb);
}

static void fake_callback_done(struct evhttp_request *req, void *arg)
{
	struct fake_callback *cb = arg;
	int status = req ? evhttp_request_get_response_code(req) : 0;
	static const struct timeval now = { 0, 0 };

	if (cb->fake->stopping)
		return;
	if (status >= 200 && status < 300)
		cb->fake->stats.callbacks_ok++;
	else
		cb->fake->stats.callbacks_failed++;
	/* Free the connection once libevent has left this callback. */
	cb->done = true;
	evtimer_add(cb->timer, &now);
}

/* Starts the POST; false when it cannot be made (the URL is https, say). */
static bool fake_callback_start(struct fake_callback *cb)
{
	struct evhttp_uri *u = evhttp_uri_parse(cb->url);
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL, *host = NULL;
	bool ok = false;

	if (!scheme || strcmp(scheme, "http") != 0 || !(host = evhttp_uri_get_host(u)))
		goto out;
	int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
	const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
	char *target = xasprintf("%s%s%s", path && *path ? path : "/", query ? "?" : "",
				 query ? query : "");
	cb->conn = evhttp_connection_base_new(cb->fake->base, NULL, host, (ev_uint16_t)port);
	evhttp_connection_set_timeout(cb->conn, 10);
	struct evhttp_request *req = evhttp_request_new(fake_callback_done, cb);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", host);
	evhttp_add_header(h, "Content-Type", "application/x-www-form-urlencoded");
	evhttp_add_header(h, "User-Agent", "TwilioProxy/1.1");
	evhttp_add_header(h, "X-Twilio-Signature", cb->signature);
	evbuffer_add(evhttp_request_get_output_buffer(req), cb->form, strlen(cb->form));
	ok = evhttp_make_request(cb->conn, req, EVHTTP_REQ_POST, target) == 0;
	free(target);
out:
	if (u)
		evhttp_uri_free(u);
	return ok;
}

static void fake_callback_fire(evutil_socket_t fd, short what, void *arg)
{
	struct fake_callback *cb = arg;

	(void)fd, (void)what;
	if (cb->done) {
		fake_callback_free(cb);
		return;
	}
	cb->fake->stats.callbacks_sent++;
	if (!fake_callback_start(cb)) {
		cb->fake->stats.callbacks_failed++;
		fake_callback_free(cb);
	}
}

static void fake_callback_fields(const struct fake *f, const struct fake_msg *m,
				 const char *status, const char *error, struct kvlist *l)
{
	bool failed = strcmp(status, "failed") == 0 || strcmp(status, "undelivered") == 0;
	const char *from = FAKE_FIELD(m, "From"), *service = FAKE_FIELD(m, "MessagingServiceSid");

	kvlist_add(l, "MessageSid", m->sid);
	kvlist_add(l, "MessageStatus", status);
	kvlist_add(l, "SmsSid", m->sid);
	kvlist_add(l, "SmsStatus", status);
	kvlist_add(l, "AccountSid", f->sid);
	kvlist_add(l, "From", from ? from : FAKE_SENDER);
	kvlist_add(l, "To", FAKE_FIELD(m, "To"));
	kvlist_add(l, "ApiVersion", TWILIO_API_VERSION);
	if (service)
		kvlist_add(l, "MessagingServiceSid", service);
	if (error || failed)
		kvlist_add(l, "ErrorCode", error ? error : "30003");
}

/* Queues one callback for m; false when m has no StatusCallback or too many wait. */
static bool fake_callback_add(struct fake *f, const struct fake_msg *m, const char *status,
			      const char *error, int delay_ms, bool bad_signature)
{
	int ms = MIN(MAX(delay_ms, 0), 3600 * 1000);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	const char *url = FAKE_FIELD(m, "StatusCallback");
	struct kvlist fields;
	struct sbuf form, sig;

	if (!url || f->stats.callbacks_pending >= FAKE_MAX_PENDING)
		return false;
	struct fake_callback *cb = xcalloc(1, sizeof(*cb));
	kvlist_init(&fields);
	sbuf_init(&form);
	sbuf_init(&sig);
	fake_callback_fields(f, m, status, error, &fields);
	codec_form_build(&form, &fields);
	twilio_signature(bad_signature ? "not the auth token" : f->token, url, &fields, &sig);
	cb->fake = f;
	cb->url = xstrdup(url);
	cb->form = sbuf_detach(&form);
	cb->signature = sbuf_detach(&sig);
	cb->timer = evtimer_new(f->base, fake_callback_fire, cb);
	cb->next = f->callbacks;
	if (f->callbacks)
		f->callbacks->prev = cb;
	f->callbacks = cb;
	f->stats.callbacks_pending++;
	evtimer_add(cb->timer, &tv);
	kvlist_free(&fields);
	return true;
}

static void fake_hung_closed(struct evhttp_connection *conn, void *arg)
{
	struct fake *f = arg;

	(void)conn;
	f->stats.hanging--;
}

/*
 * Holds req unanswered until its client goes away; libevent frees it then, or when the
 * server is freed at exit.
 */
static void fake_hang(struct fake *f, struct evhttp_request *req)
{
	if (f->stats.hanging >= FAKE_MAX_HANGING) {
		fake_error(req, 500, 20500);
		return;
	}
	f->stats.hanging++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), fake_hung_closed, f);
}

/* Applies the fault mode; true when it answered (or held) the request. */
static bool fake_inject(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	const char *to = kvlist_get(fields, "To");

	if (f->mode == FAKE_OK || (f->mode_to && (!to || strcmp(to, f->mode_to) != 0)))
		return false;
	f->stats.injected++;
	if (f->mode == FAKE_ERROR500) {
		fake_error(req, 500, 20500);
	} else if (f->mode == FAKE_THROTTLE429) {
		if (f->retry_after > 0) {
			char v[16];
			snprintf(v, sizeof(v), "%d", f->retry_after);
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", v);
		}
		fake_error(req, 429, 20429);
	} else if (f->mode == FAKE_CODE) {
		fake_error(req, f->code_status, f->code);
	} else {
		fake_hang(f, req);
	}
	if (f->mode_count > 0 && --f->mode_count == 0)
		f->mode = FAKE_OK;
	return true;
}

static void fake_auto_callbacks(struct fake *f, const struct fake_msg *m)
{
	for (size_t i = 0; i < f->nauto; i++)
		fake_callback_add(f, m, f->auto_statuses[i], f->auto_error,
				  f->auto_delay_ms * (int)(i + 1), false);
}

/* POST /2010-04-01/Accounts/{sid}/Messages.json after the path and method checks. */
static void fake_send(struct fake *f, struct evhttp_request *req, const char *sid)
{
	const char *type = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Content-Type");
	struct kvlist fields;
	size_t len;
	char *body = fake_body(req, &len);
	int code, status;

	kvlist_init(&fields);
	if (!fake_authorized(f, req, sid)) {
		f->stats.auth_failures++;
		fake_error(req, 401, 20003);
		goto out;
	}
	/* Twilio reads only form bodies: anything else has no fields. */
	if (type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0 &&
	    codec_form_parse(&fields, body, len) < 0)
		kvlist_free(&fields);
	if (fake_inject(f, req, &fields))
		goto out;
	if ((code = fake_check_send(&fields, &status)) != 0) {
		f->stats.rejected++;
		fake_error(req, status, code);
	} else if (f->nmsgs >= f->max_msgs) {
		fake_error(req, 500, 20500);
	} else {
		struct fake_msg *m = fake_store(f, &fields);
		f->stats.accepted++;
		fake_created(f, req, m);
		fake_auto_callbacks(f, m);
	}
out:
	kvlist_free(&fields);
	free(body);
}

static struct json_object *fake_msg_json(const struct fake_msg *m)
{
	struct json_object *o = json_object_new_object();
	char when[40];

	fake_time(m->received_ms, true, when, sizeof(when));
	const char *kv[] = {
		"sid", m->sid, "to", FAKE_FIELD(m, "To"), "from", FAKE_FIELD(m, "From"),
		"messaging_service_sid", FAKE_FIELD(m, "MessagingServiceSid"),
		"body", FAKE_FIELD(m, "Body"), "status_callback", FAKE_FIELD(m, "StatusCallback"),
		"validity_period", FAKE_FIELD(m, "ValidityPeriod"), "received_at", when,
	};
	fake_json_add(o, kv, ARRAY_LEN(kv));
	return o;
}

static void fake_get_messages(struct fake *f, struct evhttp_request *req)
{
	struct json_object *list = json_object_new_array_ext((int)f->nmsgs);

	for (size_t i = 0; i < f->nmsgs; i++)
		json_object_array_add(list, fake_msg_json(&f->msgs[i]));
	fake_reply(req, 200, list);
}

static void fake_get_stats(struct fake *f, struct evhttp_request *req)
{
	const struct fake_stats *s = &f->stats;
	const struct {
		const char *name;
		long value;
	} counts[] = {
		{ "requests", s->requests }, { "accepted", s->accepted },
		{ "rejected", s->rejected }, { "auth_failures", s->auth_failures },
		{ "injected", s->injected }, { "hanging", s->hanging },
		{ "messages", (long)f->nmsgs }, { "callbacks_sent", s->callbacks_sent },
		{ "callbacks_ok", s->callbacks_ok }, { "callbacks_failed", s->callbacks_failed },
		{ "callbacks_pending", s->callbacks_pending },
	};
	struct json_object *o = json_object_new_object();

	for (size_t i = 0; i < ARRAY_LEN(counts); i++)
		json_object_object_add(o, counts[i].name, json_object_new_int64(counts[i].value));
	fake_reply(req, 200, o);
}

static bool fake_mode_parse(const char *name, enum fake_mode *out)
{
	static const char *const names[] = { "ok", "error500", "hang", "throttle429", "code" };

	for (size_t i = 0; name && i < ARRAY_LEN(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum fake_mode)i;
			return true;
		}
	}
	return false;
}

static void fake_bad_request(struct evhttp_request *req, const char *why)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(why));
	fake_reply(req, 400, o);
}

static void fake_post_mode(struct fake *f, struct evhttp_request *req, struct json_object *o)
{
	enum fake_mode mode;
	const char *to = provider_json_str(o, "to");

	if (!fake_mode_parse(provider_json_str(o, "mode"), &mode)) {
		fake_bad_request(req, "mode must be ok, error500, hang, throttle429 or code");
		return;
	}
	f->mode = mode;
	f->mode_count = fake_json_int(o, "count", -1);
	f->retry_after = (int)fake_json_int(o, "retry_after", 0);
	f->code = (int)fake_json_int(o, "twilio_code", 21211);
	f->code_status = (int)fake_json_int(o, "http_status", 400);
	free(f->mode_to);
	f->mode_to = to ? xstrdup(to) : NULL;
	if (f->mode_count == 0)
		f->mode = FAKE_OK;
	fake_reply(req, 200, json_object_get(o));
}

static void fake_post_callbacks(struct fake *f, struct evhttp_request *req,
				struct json_object *o)
{
	const char *status = provider_json_str(o, "status"), *sid = provider_json_str(o, "sid");
	struct json_object *bad = NULL, *answer;
	long n = 0;

	if (!status || !*status) {
		fake_bad_request(req, "status is required");
		return;
	}
	json_object_object_get_ex(o, "bad_signature", &bad);
	for (size_t i = 0; i < f->nmsgs; i++)
		if (!sid || strcmp(sid, f->msgs[i].sid) == 0)
			n += fake_callback_add(f, &f->msgs[i], status,
					       provider_json_str(o, "error_code"),
					       (int)fake_json_int(o, "delay_ms", 0),
					       json_object_get_boolean(bad));
	answer = json_object_new_object();
	json_object_object_add(answer, "scheduled", json_object_new_int64(n));
	fake_reply(req, 200, answer);
}

static void fake_auto_clear(struct fake *f)
{
	for (size_t i = 0; i < f->nauto; i++)
		free(f->auto_statuses[i]);
	free(f->auto_statuses);
	free(f->auto_error);
	f->auto_statuses = NULL;
	f->auto_error = NULL;
	f->nauto = 0;
}

static void fake_auto_add(struct fake *f, const char *status)
{
	f->auto_statuses = xrealloc(f->auto_statuses, (f->nauto + 1) * sizeof(char *));
	f->auto_statuses[f->nauto++] = xstrdup(status);
}

static void fake_post_auto(struct fake *f, struct evhttp_request *req, struct json_object *o)
{
	struct json_object *list = NULL;
	const char *error = provider_json_str(o, "error_code");

	if (!json_object_object_get_ex(o, "statuses", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		fake_bad_request(req, "statuses must be an array of strings");
		return;
	}
	fake_auto_clear(f);
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *status = json_object_array_get_idx(list, i);
		if (json_object_is_type(status, json_type_string))
			fake_auto_add(f, json_object_get_string(status));
	}
	f->auto_delay_ms = (int)fake_json_int(o, "delay_ms", 50);
	f->auto_error = error ? xstrdup(error) : NULL;
	fake_reply(req, 200, json_object_get(o));
}

static void fake_reset(struct fake *f, struct evhttp_request *req)
{
	long hanging = f->stats.hanging, pending = f->stats.callbacks_pending;

	for (size_t i = 0; i < f->nmsgs; i++)
		fake_msg_free(&f->msgs[i]);
	f->nmsgs = 0;
	memset(&f->stats, 0, sizeof(f->stats));
	f->stats.hanging = hanging;
	f->stats.callbacks_pending = pending;
	f->mode = FAKE_OK;
	free(f->mode_to);
	f->mode_to = NULL;
	fake_reply(req, 200, json_object_new_object());
}

static void fake_control(struct fake *f, struct evhttp_request *req, const char *path,
			 bool post)
{
	struct json_object *o = NULL;

	if (!post && strcmp(path, "/_fake/messages") == 0)
		fake_get_messages(f, req);
	else if (!post && strcmp(path, "/_fake/stats") == 0)
		fake_get_stats(f, req);
	else if (post && strcmp(path, "/_fake/reset") == 0)
		fake_reset(f, req);
	else if (!post || !(o = fake_json_body(req)))
		fake_error(req, post ? 400 : 404, post ? 20001 : 20404);
	else if (strcmp(path, "/_fake/mode") == 0)
		fake_post_mode(f, req, o);
	else if (strcmp(path, "/_fake/callbacks") == 0)
		fake_post_callbacks(f, req, o);
	else if (strcmp(path, "/_fake/auto") == 0)
		fake_post_auto(f, req, o);
	else
		fake_error(req, 404, 20404);
	json_object_put(o);
}

/* Matches /2010-04-01/Accounts/{sid}/Messages.json, copying the sid. */
static bool fake_messages_path(const char *path, char *sid, size_t size)
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

static void fake_handle(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;
	char sid[40];

	path = path ? path : "/";
	if (str_startswith(path, "/_fake/")) {
		fake_control(f, req, path, post);
	} else if (!fake_messages_path(path, sid, sizeof(sid))) {
		fake_error(req, 404, 20404);
	} else {
		f->stats.requests++;
		if (post)
			fake_send(f, req, sid);
		else
			fake_error(req, 405, 20004);
	}
}

static void fake_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	event_base_loopexit(arg, NULL);
}

static void fake_free(struct fake *f)
{
	f->stopping = true;
	/* Freeing the server closes the connections of held requests. */
	if (f->http)
		evhttp_free(f->http);
	while (f->callbacks)
		fake_callback_free(f->callbacks);
	for (size_t i = 0; i < f->nmsgs; i++)
		fake_msg_free(&f->msgs[i]);
	free(f->msgs);
	free(f->mode_to);
	fake_auto_clear(f);
	if (f->base)
		event_base_free(f->base);
}

static int fake_listen(struct fake *f, int port)
{
	struct evhttp_bound_socket *sock;
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);

	f->http = evhttp_new(f->base);
	evhttp_set_max_body_size(f->http, FAKE_MAX_BODY);
	evhttp_set_gencb(f->http, fake_handle, f);
	sock = evhttp_bind_socket_with_handle(f->http, "127.0.0.1", (ev_uint16_t)port);
	if (!sock || getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&addr,
				 &alen) < 0) {
		fprintf(stderr, "fake_twilio: cannot listen on 127.0.0.1:%d: %s\n", port,
			strerror(errno));
		return -1;
	}
	printf("port=%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	return 0;
}

static int fake_args(struct fake *f, int argc, char **argv, int *port)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i];
		char *v = argv[i + 1];
		if (strcmp(k, "--port") == 0)
			*port = atoi(v);
		else if (strcmp(k, "--account-sid") == 0)
			f->sid = v;
		else if (strcmp(k, "--auth-token") == 0)
			f->token = v;
		else if (strcmp(k, "--callback-delay-ms") == 0)
			f->auto_delay_ms = atoi(v);
		else if (strcmp(k, "--max-messages") == 0)
			f->max_msgs = (size_t)atol(v);
		else if (strcmp(k, "--callbacks") == 0)
			for (char *s = strtok(v, ","); s; s = strtok(NULL, ","))
				fake_auto_add(f, s);
		else
			return -1;
	}
	return argc % 2 == 1 && f->sid && f->token && twilio_sid_valid(f->sid, "AC") &&
			       *port >= 0 && *port < 65536 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct fake f = { .auto_delay_ms = 50, .max_msgs = 200000 };
	struct event *sigs[2] = { NULL, NULL };
	int port = -1, rc = 1;

	if (fake_args(&f, argc, argv, &port) < 0) {
		fprintf(stderr, "usage: fake_twilio --port N --account-sid AC<32 hex> "
				"--auth-token TOKEN [--callbacks sent,delivered] "
				"[--callback-delay-ms 50] [--max-messages 200000]\n");
		fake_auto_clear(&f);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	f.base = event_base_new();
	sigs[0] = evsignal_new(f.base, SIGINT, fake_stop, f.base);
	sigs[1] = evsignal_new(f.base, SIGTERM, fake_stop, f.base);
	evsignal_add(sigs[0], NULL);
	evsignal_add(sigs[1], NULL);
	if (fake_listen(&f, port) == 0) {
		event_base_dispatch(f.base);
		rc = 0;
	}
	event_free(sigs[0]);
	event_free(sigs[1]);
	fake_free(&f);
	return rc;
}
