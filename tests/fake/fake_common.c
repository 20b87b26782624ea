/*
 * fake_common.c: the machinery every fake provider server shares (see fake_common.h and
 * tests/fake/README.md).
 */
#include "tests/fake/fake_common.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "common/codec.h"
#include "common/crypto.h"

#define FAKE_MAX_BODY (64 * 1024)
#define FAKE_MAX_PENDING 100000 /* outgoing posts waiting or in flight */
#define FAKE_MAX_HANGING 100    /* each holds a socket until the fake exits */
#define FAKE_MAX_PARTS 16

/* An outgoing webhook (receipt or inbound text): waits on timer, then in flight, then freed. */
struct fake_out {
	struct fake *fake;
	struct event *timer;
	struct evhttp_connection *conn;
	struct http_req req;
	bool inbound, done;
	struct fake_out *prev, *next;
};

/* A send request answered after delay_ms. */
struct fake_later {
	struct fake *fake;
	struct event *timer;
	struct evhttp_request *req;
	struct evhttp_connection *conn;
	struct fake_later *prev, *next;
};

static void fake_send(struct fake *f, struct evhttp_request *req);

/* ---- small utilities ---- */

void fake_reply(struct evhttp_request *req, int status, struct json_object *obj)
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

char *fake_body(struct evhttp_request *req, size_t *len)
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

	if (!key || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return def;
	return json_object_get_int64(v);
}

static bool fake_json_bool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

void fake_make_id(struct fake *f, const char *prefix, size_t n, bool upper, char *id,
		  size_t size)
{
	unsigned char rnd[32];
	struct sbuf s;

	sbuf_init(&s);
	crypto_random(rnd, sizeof(rnd));
	sbuf_printf(&s, upper ? "%s%08" PRIX32 : "%s%08" PRIx32, prefix, ++f->seq);
	codec_hex_encode(&s, rnd, sizeof(rnd), upper);
	snprintf(id, size, "%.*s", (int)(strlen(prefix) + MAX(n, 8)), sbuf_str(&s));
	sbuf_free(&s);
}

void fake_json_add(struct json_object *o, const char *const *kv, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		json_object_object_add(o, kv[i],
				       kv[i + 1] ? json_object_new_string(kv[i + 1]) : NULL);
}

void fake_time_iso(int64_t ms, char *out, size_t size)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&secs, &tm);
	size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, size - n, ".%03dZ", (int)(ms % 1000));
}

bool fake_basic_ok(struct evhttp_request *req, const char *user, const char *password)
{
	const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req),
					      "Authorization");
	struct sbuf plain, want;
	bool ok = false;

	sbuf_init(&plain);
	sbuf_init(&want);
	sbuf_printf(&want, "%s:%s", user, password);
	if (auth && strncasecmp(auth, "Basic ", 6) == 0 &&
	    codec_base64_decode(&plain, auth + 6, strlen(auth + 6)) == 0)
		ok = crypto_equal(plain.data, plain.len, want.data, want.len);
	sbuf_free(&plain);
	sbuf_free(&want);
	return ok;
}

size_t fake_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int fake_segments(const char *body)
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

bool fake_abs_url(const char *s)
{
	struct evhttp_uri *u = s ? evhttp_uri_parse(s) : NULL;
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
	bool ok = scheme && (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
		  evhttp_uri_get_host(u) && *evhttp_uri_get_host(u);

	if (u)
		evhttp_uri_free(u);
	return ok;
}

bool fake_opt(const char *name, const char *want, const char *value, const char **out)
{
	if (strcmp(name, want) != 0)
		return false;
	*out = value;
	return true;
}

/* ---- outgoing webhooks ---- */

static void fake_out_free(struct fake_out *o)
{
	struct fake *f = o->fake;

	if (o->prev)
		o->prev->next = o->next;
	else
		f->outs = o->next;
	if (o->next)
		o->next->prev = o->prev;
	f->stats.callbacks_pending -= !o->inbound;
	event_free(o->timer);
	if (o->conn)
		evhttp_connection_free(o->conn);
	http_req_free(&o->req);
	free(o);
}

static void fake_out_done(struct evhttp_request *req, void *arg)
{
	struct fake_out *o = arg;
	int status = req ? evhttp_request_get_response_code(req) : 0;
	bool ok = status >= 200 && status < 300;
	static const struct timeval now = { 0, 0 };

	if (o->fake->stopping)
		return;
	if (o->inbound)
		*(ok ? &o->fake->stats.inbound_ok : &o->fake->stats.inbound_failed) += 1;
	else
		*(ok ? &o->fake->stats.callbacks_ok : &o->fake->stats.callbacks_failed) += 1;
	/* Free the connection once libevent has left this callback. */
	o->done = true;
	evtimer_add(o->timer, &now);
}

static void fake_out_headers(struct fake_out *o, struct evhttp_request *r, const char *host)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r);

	evhttp_add_header(h, "Host", host);
	for (size_t i = 0; i < o->req.headers.n; i++)
		evhttp_add_header(h, o->req.headers.items[i].key, o->req.headers.items[i].value);
}

/* Starts the request; false when it cannot be made (the URL is https, say). */
static bool fake_out_start(struct fake_out *o)
{
	struct evhttp_uri *u = evhttp_uri_parse(o->req.url);
	const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL, *host = NULL;
	bool ok = false, get = strcmp(o->req.method, "GET") == 0;

	if (!scheme || strcmp(scheme, "http") != 0 || !(host = evhttp_uri_get_host(u)))
		goto out;
	int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
	const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
	char *target = xasprintf("%s%s%s", path && *path ? path : "/", query ? "?" : "",
				 query ? query : "");
	o->conn = evhttp_connection_base_new(o->fake->base, NULL, host, (ev_uint16_t)port);
	evhttp_connection_set_timeout(o->conn, 10);
	struct evhttp_request *r = evhttp_request_new(fake_out_done, o);
	fake_out_headers(o, r, host);
	if (!get)
		evbuffer_add(evhttp_request_get_output_buffer(r), sbuf_str(&o->req.body),
			     o->req.body.len);
	ok = evhttp_make_request(o->conn, r, get ? EVHTTP_REQ_GET : EVHTTP_REQ_POST, target) == 0;
	free(target);
out:
	if (u)
		evhttp_uri_free(u);
	return ok;
}

static void fake_out_fire(evutil_socket_t fd, short what, void *arg)
{
	struct fake_out *o = arg;

	(void)fd, (void)what;
	if (o->done) {
		fake_out_free(o);
		return;
	}
	*(o->inbound ? &o->fake->stats.inbound_sent : &o->fake->stats.callbacks_sent) += 1;
	if (!fake_out_start(o)) {
		if (o->inbound)
			o->fake->stats.inbound_failed++;
		else
			o->fake->stats.callbacks_failed++;
		fake_out_free(o);
	}
}

/* Queues req (taken over) to go out after delay_ms. */
static void fake_out_queue(struct fake *f, struct http_req *req, bool inbound, int delay_ms)
{
	int ms = MIN(MAX(delay_ms, 0), 3600 * 1000);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	struct fake_out *o = xcalloc(1, sizeof(*o));

	o->fake = f;
	o->req = *req;
	http_req_init(req);
	o->inbound = inbound;
	o->timer = evtimer_new(f->base, fake_out_fire, o);
	o->next = f->outs;
	if (f->outs)
		f->outs->prev = o;
	f->outs = o;
	f->stats.callbacks_pending += !inbound;
	evtimer_add(o->timer, &tv);
}

/* Queues one receipt for m; false when m has no status URL or too many wait. */
static bool fake_callback_add(struct fake *f, const struct fake_msg *m,
			      const struct fake_hook *h, int delay_ms)
{
	struct http_req req;
	bool ok = false;

	if (!f->p->status_url(m) || f->stats.callbacks_pending >= FAKE_MAX_PENDING)
		return false;
	http_req_init(&req);
	if (f->p->callback(f, m, h, &req) == 0) {
		fake_out_queue(f, &req, false, delay_ms);
		ok = true;
	}
	http_req_free(&req);
	return ok;
}

static void fake_auto_callbacks(struct fake *f, const struct fake_msg *m)
{
	for (size_t i = 0; i < f->nauto; i++) {
		struct fake_hook h = { f->auto_statuses[i], f->auto_error, NULL, false };
		fake_callback_add(f, m, &h, f->auto_delay_ms * (int)(i + 1));
	}
}

/* ---- the send endpoint ---- */

static struct fake_msg *fake_store(struct fake *f, const struct kvlist *fields)
{
	struct fake_msg *m;

	if (f->nmsgs == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->msgs = xrealloc(f->msgs, f->cap * sizeof(*f->msgs));
	}
	m = &f->msgs[f->nmsgs++];
	f->p->new_id(f, m->id, sizeof(m->id));
	kvlist_init(&m->fields);
	for (size_t i = 0; i < fields->n; i++)
		kvlist_addn(&m->fields, fields->items[i].key, strlen(fields->items[i].key),
			    fields->items[i].value, fields->items[i].value_len);
	m->received_ms = clock_wall_ms();
	return m;
}

static void fake_hung_closed(struct evhttp_connection *conn, void *arg)
{
	struct fake *f = arg;

	(void)conn;
	f->stats.hanging--;
}

/* Holds req unanswered until its client goes away (libevent frees it then, or at exit). */
static void fake_hang(struct fake *f, struct evhttp_request *req)
{
	if (f->stats.hanging >= FAKE_MAX_HANGING) {
		f->p->error(f, req, 500, 0);
		return;
	}
	f->stats.hanging++;
	evhttp_connection_set_closecb(evhttp_request_get_connection(req), fake_hung_closed, f);
}

static void fake_fault(struct fake *f, struct evhttp_request *req)
{
	if (f->mode == FAKE_ERROR500) {
		f->p->error(f, req, 500, 0);
	} else if (f->mode == FAKE_THROTTLE429) {
		if (f->retry_after > 0) {
			char v[16];
			snprintf(v, sizeof(v), "%d", f->retry_after);
			evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", v);
		}
		f->p->error(f, req, 429, 0);
	} else if (f->mode == FAKE_CODE) {
		f->p->error(f, req, f->code_status, f->code);
	} else {
		fake_hang(f, req);
	}
}

/* Applies the fault mode; true when it answered (or held) the request. */
static bool fake_inject(struct fake *f, struct evhttp_request *req, const struct kvlist *fields)
{
	char to[40] = "";

	f->p->recipient(fields, to, sizeof(to));
	if (f->mode == FAKE_OK || (f->mode_to && strcmp(to, f->mode_to) != 0))
		return false;
	f->stats.injected++;
	fake_fault(f, req);
	if (f->mode_count > 0 && --f->mode_count == 0)
		f->mode = FAKE_OK;
	return true;
}

static void fake_send(struct fake *f, struct evhttp_request *req)
{
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct kvlist fields;
	size_t len;
	char *body = fake_body(req, &len);

	kvlist_init(&fields);
	if (f->p->parse(req, body, len, &fields) < 0)
		kvlist_free(&fields);
	if (!f->p->authorized(f, req, path ? path : "/", &fields)) {
		f->stats.auth_failures++;
		f->p->error(f, req, 401, 0);
		goto out;
	}
	if (fake_inject(f, req, &fields))
		goto out;
	if (f->p->check(f, req, &fields) < 0) {
		f->stats.rejected++;
	} else if (f->nmsgs >= f->max_msgs) {
		f->p->error(f, req, 500, 0);
	} else {
		struct fake_msg *m = fake_store(f, &fields);
		f->stats.accepted++;
		f->p->accepted(f, req, m);
		fake_auto_callbacks(f, m);
	}
out:
	kvlist_free(&fields);
	free(body);
}

/* ---- delayed answers ---- */

static void fake_later_free(struct fake_later *l)
{
	struct fake *f = l->fake;

	if (l->prev)
		l->prev->next = l->next;
	else
		f->laters = l->next;
	if (l->next)
		l->next->prev = l->prev;
	event_free(l->timer);
	free(l);
}

static void fake_later_fire(evutil_socket_t fd, short what, void *arg)
{
	struct fake_later *l = arg;
	struct fake *f = l->fake;
	struct evhttp_request *req = l->req;

	(void)fd, (void)what;
	evhttp_connection_set_closecb(l->conn, NULL, NULL);
	fake_later_free(l);
	fake_send(f, req);
}

/* The client went away while its answer waited: drop it (libevent frees the request). */
static void fake_later_closed(struct evhttp_connection *conn, void *arg)
{
	struct fake *f = arg;

	for (struct fake_later *l = f->laters; l; l = l->next) {
		if (l->conn == conn) {
			fake_later_free(l);
			return;
		}
	}
}

static void fake_later(struct fake *f, struct evhttp_request *req)
{
	struct fake_later *l = xcalloc(1, sizeof(*l));
	struct timeval tv = { f->delay_ms / 1000, (f->delay_ms % 1000) * 1000 };

	l->fake = f;
	l->req = req;
	l->conn = evhttp_request_get_connection(req);
	l->timer = evtimer_new(f->base, fake_later_fire, l);
	l->next = f->laters;
	if (f->laters)
		f->laters->prev = l;
	f->laters = l;
	evhttp_connection_set_closecb(l->conn, fake_later_closed, f);
	evtimer_add(l->timer, &tv);
}

/* ---- control API ---- */

static void fake_bad_request(struct evhttp_request *req, const char *why)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(why));
	fake_reply(req, 400, o);
}

static void fake_get_messages(struct fake *f, struct evhttp_request *req)
{
	struct json_object *list = json_object_new_array_ext((int)f->nmsgs);

	for (size_t i = 0; i < f->nmsgs; i++)
		json_object_array_add(list, f->p->msg_json(&f->msgs[i]));
	fake_reply(req, 200, list);
}

static void fake_get_stats(struct fake *f, struct evhttp_request *req)
{
	const struct {
		const char *name;
		long value;
	} counts[] = {
		{ "requests", f->stats.requests }, { "accepted", f->stats.accepted },
		{ "rejected", f->stats.rejected }, { "auth_failures", f->stats.auth_failures },
		{ "injected", f->stats.injected }, { "hanging", f->stats.hanging },
		{ "messages", (long)f->nmsgs }, { "callbacks_sent", f->stats.callbacks_sent },
		{ "callbacks_ok", f->stats.callbacks_ok },
		{ "callbacks_failed", f->stats.callbacks_failed },
		{ "callbacks_pending", f->stats.callbacks_pending },
		{ "inbound_sent", f->stats.inbound_sent }, { "inbound_ok", f->stats.inbound_ok },
		{ "inbound_failed", f->stats.inbound_failed },
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
	f->code = (int)fake_json_int(o, "code", fake_json_int(o, f->p->code_key,
								f->p->default_code));
	f->code_status = (int)fake_json_int(o, "http_status", 400);
	free(f->code_text);
	f->code_text = provider_json_str(o, "code") ? xstrdup(provider_json_str(o, "code")) : NULL;
	f->delay_ms = (int)MIN(MAX(fake_json_int(o, "delay_ms", 0), 0), 600000);
	free(f->mode_to);
	f->mode_to = to ? xstrdup(to) : NULL;
	if (f->mode_count == 0)
		f->mode = FAKE_OK;
	fake_reply(req, 200, json_object_get(o));
}

static void fake_post_callbacks(struct fake *f, struct evhttp_request *req,
				struct json_object *o)
{
	const char *id = provider_json_str(o, "id");
	struct fake_hook h = { provider_json_str(o, "status"), provider_json_str(o, "error_code"),
			       provider_json_str(o, "format"), fake_json_bool(o, "bad_signature") };
	struct json_object *answer;
	long n = 0;

	id = id ? id : provider_json_str(o, "sid");
	if (!h.status || !*h.status) {
		fake_bad_request(req, "status is required");
		return;
	}
	for (size_t i = 0; i < f->nmsgs; i++)
		if (!id || strcmp(id, f->msgs[i].id) == 0)
			n += fake_callback_add(f, &f->msgs[i], &h,
					       (int)fake_json_int(o, "delay_ms", 0));
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

/* The order parts go out in: "order" (1-based part numbers, repeats allowed) or 1..n. */
static size_t fake_part_order(struct json_object *o, int parts, int *order)
{
	struct json_object *list = NULL;
	size_t n = 0;

	if (!json_object_object_get_ex(o, "order", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		for (int i = 1; i <= parts; i++)
			order[n++] = i;
		return n;
	}
	for (size_t i = 0; i < json_object_array_length(list) && n < FAKE_MAX_PARTS * 2; i++) {
		int p = json_object_get_int(json_object_array_get_idx(list, i));
		if (p < 1 || p > parts)
			return 0;
		order[n++] = p;
	}
	return n;
}

/* Splits text into parts pieces of about equal length, on UTF-8 boundaries. */
static char *fake_part_text(const char *text, int part, int parts)
{
	size_t len = strlen(text), per = (len + (size_t)parts - 1) / (size_t)parts;
	size_t start = MIN(per * (size_t)(part - 1), len), end = MIN(start + per, len);

	while (start > 0 && start < len && ((unsigned char)text[start] & 0xc0) == 0x80)
		start++;
	while (end < len && ((unsigned char)text[end] & 0xc0) == 0x80)
		end++;
	return xstrndup(text + start, end - start);
}

static int fake_inbound_one(struct fake *f, const struct fake_inbound *tmpl, int part,
			    int delay_ms, const char *id)
{
	struct fake_inbound in = *tmpl;
	struct http_req req;
	char *text = in.parts > 1 ? fake_part_text(tmpl->text, part, in.parts) : NULL;
	int rc;

	in.part = part;
	in.text = text ? text : tmpl->text;
	snprintf(in.id, sizeof(in.id), "%s", id);
	http_req_init(&req);
	rc = f->p->inbound(f, f->webhook_base, &in, &req);
	if (rc == 0)
		fake_out_queue(f, &req, true, delay_ms);
	http_req_free(&req);
	free(text);
	return rc;
}

static void fake_post_inbound(struct fake *f, struct evhttp_request *req, struct json_object *o)
{
	struct fake_inbound in = { provider_json_str(o, "from"), provider_json_str(o, "to"),
				   provider_json_str(o, "text"), "", 1,
				   (int)fake_json_int(o, "parts", 1), NULL,
				   provider_json_str(o, "format"),
				   fake_json_bool(o, "bad_signature") };
	int order[FAKE_MAX_PARTS * 2], delay = (int)fake_json_int(o, "delay_ms", 0);
	char ref[16], ids[FAKE_MAX_PARTS][sizeof(in.id)];
	size_t n = 0;

	in.to = in.to ? in.to : FAKE_SENDER;
	if (!f->webhook_base || !in.from || !in.text || in.parts < 1 || in.parts > FAKE_MAX_PARTS ||
	    !(n = fake_part_order(o, in.parts, order))) {
		fake_bad_request(req, "needs --webhook-base, from, text and parts in 1..16 (and "
				      "order listing part numbers)");
		return;
	}
	if (provider_json_str(o, "ref"))
		snprintf(ref, sizeof(ref), "%.15s", provider_json_str(o, "ref"));
	else
		snprintf(ref, sizeof(ref), "%u", (unsigned)(++f->seq % 256));
	in.ref = ref;
	for (int i = 0; i < in.parts; i++)
		f->p->new_id(f, ids[i], sizeof(ids[i]));
	for (size_t i = 0; i < n; i++)
		fake_inbound_one(f, &in, order[i], delay * (int)i, ids[order[i] - 1]);
	struct json_object *answer = json_object_new_object();
	json_object_object_add(answer, "scheduled", json_object_new_int64((int64_t)n));
	json_object_object_add(answer, "id", json_object_new_string(ids[0]));
	fake_reply(req, 200, answer);
}

static void fake_reset(struct fake *f, struct evhttp_request *req)
{
	long hanging = f->stats.hanging, pending = f->stats.callbacks_pending;

	for (size_t i = 0; i < f->nmsgs; i++)
		kvlist_free(&f->msgs[i].fields);
	f->nmsgs = 0;
	memset(&f->stats, 0, sizeof(f->stats));
	f->stats.hanging = hanging;
	f->stats.callbacks_pending = pending;
	f->mode = FAKE_OK;
	f->delay_ms = 0;
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
		f->p->error(f, req, post ? 400 : 404, 0);
	else if (strcmp(path, "/_fake/mode") == 0)
		fake_post_mode(f, req, o);
	else if (strcmp(path, "/_fake/callbacks") == 0)
		fake_post_callbacks(f, req, o);
	else if (strcmp(path, "/_fake/auto") == 0)
		fake_post_auto(f, req, o);
	else if (strcmp(path, "/_fake/inbound") == 0)
		fake_post_inbound(f, req, o);
	else
		f->p->error(f, req, 404, 0);
	json_object_put(o);
}

static void fake_handle(struct evhttp_request *req, void *arg)
{
	struct fake *f = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	bool post = evhttp_request_get_command(req) == EVHTTP_REQ_POST;

	path = path ? path : "/";
	if (str_startswith(path, "/_fake/")) {
		fake_control(f, req, path, post);
	} else if (!f->p->send_path(f, path)) {
		f->p->error(f, req, 404, 0);
	} else {
		f->stats.requests++;
		if (!post && !(f->p->send_get && f->p->send_get(f, path)))
			f->p->error(f, req, 405, 0);
		else if (f->delay_ms > 0)
			fake_later(f, req);
		else
			fake_send(f, req);
	}
}

/* ---- start and stop ---- */

static void fake_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	event_base_loopexit(arg, NULL);
}

static void fake_free(struct fake *f)
{
	f->stopping = true;
	while (f->laters) {
		evhttp_connection_set_closecb(f->laters->conn, NULL, NULL);
		fake_later_free(f->laters);
	}
	/* Freeing the server closes the connections of held requests. */
	if (f->http)
		evhttp_free(f->http);
	while (f->outs)
		fake_out_free(f->outs);
	for (size_t i = 0; i < f->nmsgs; i++)
		kvlist_free(&f->msgs[i].fields);
	free(f->msgs);
	free(f->mode_to);
	free(f->code_text);
	free(f->webhook_base);
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
		fprintf(stderr, "fake_%s: cannot listen on 127.0.0.1:%d: %s\n", f->p->name, port,
			strerror(errno));
		return -1;
	}
	printf("port=%d\n", ntohs(addr.sin_port));
	fflush(stdout);
	return 0;
}

static bool fake_common_option(struct fake *f, const char *k, char *v, int *port)
{
	if (strcmp(k, "--port") == 0)
		*port = atoi(v);
	else if (strcmp(k, "--callback-delay-ms") == 0)
		f->auto_delay_ms = atoi(v);
	else if (strcmp(k, "--max-messages") == 0)
		f->max_msgs = (size_t)atol(v);
	else if (strcmp(k, "--webhook-base") == 0)
		f->webhook_base = xstrdup(v);
	else if (strcmp(k, "--callbacks") == 0)
		for (char *s = strtok(v, ","); s; s = strtok(NULL, ","))
			fake_auto_add(f, s);
	else
		return false;
	return true;
}

static int fake_args(struct fake *f, int argc, char **argv, int *port)
{
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!fake_common_option(f, argv[i], argv[i + 1], port) &&
		    !(str_startswith(argv[i], "--") && f->p->option(f, argv[i] + 2, argv[i + 1])))
			return -1;
	}
	return argc % 2 == 1 && f->p->options_ok(f) && *port >= 0 && *port < 65536 ? 0 : -1;
}

static void fake_run(struct fake *f, int port, int *rc)
{
	struct event *sigs[2];

	signal(SIGPIPE, SIG_IGN);
	f->base = event_base_new();
	sigs[0] = evsignal_new(f->base, SIGINT, fake_stop, f->base);
	sigs[1] = evsignal_new(f->base, SIGTERM, fake_stop, f->base);
	evsignal_add(sigs[0], NULL);
	evsignal_add(sigs[1], NULL);
	if (fake_listen(f, port) == 0) {
		event_base_dispatch(f->base);
		*rc = 0;
	}
	event_free(sigs[0]);
	event_free(sigs[1]);
}

int fake_main(const struct fake_provider *p, void *priv, int argc, char **argv)
{
	struct fake f = { .p = p, .priv = priv, .auto_delay_ms = 50, .max_msgs = 200000 };
	int port = -1, rc = 1;

	if (fake_args(&f, argc, argv, &port) < 0) {
		fprintf(stderr, "usage: fake_%s --port N %s [--webhook-base URL] [--callbacks "
				"s1,s2] [--callback-delay-ms 50] [--max-messages 200000]\n",
			p->name, p->usage);
		fake_free(&f);
		return 2;
	}
	fake_run(&f, port, &rc);
	fake_free(&f);
	return rc;
}
