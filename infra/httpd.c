#include "infra/httpd.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/crypto.h"
#include "infra/httpd_head.h"
#include "infra/log.h"

#define HTTPD_MAX_HEAD 16384
#define HTTPD_MAX_CONNS 4096
#define HTTPD_IDLE_TIMEOUT_S 60
#define HTTPD_MAX_PIPELINED 65536
#define HTTPD_CHUNK 65536
#define HTTPD_HEAD_TIMEOUT_MS 15000 /* a head sent a byte at a time holds a slot no longer */
#define HTTPD_REQUEST_MS 30000 /* the default deadline for a request's head and body */
#define HTTPD_CONNS_PER_PEER 64 /* the default cap on one address's connections */
#define HTTPD_LINGER_MS 2000 /* how long a closing connection's unread body is drained */
#define HTTPD_STREAM_BACKLOG 16384 /* a streamed answer waits while more is unsent */
#define HTTPD_MAX_UNSENT 65536 /* answers a client has not read before its next request is */
#define HTTPD_CHUNKED SIZE_MAX       /* httpd_write_head: a chunked body follows */

enum httpd_conn_state {
	HTTPD_READ_HEAD,
	HTTPD_READ_BODY,
	HTTPD_WAIT_REPLY, /* body in (or abandoned), handler working */
	HTTPD_CLOSING,    /* flushing the last answer */
	HTTPD_LINGER,     /* answered and shut for writing; what still comes is dropped */
};

enum httpd_chunk_state {
	HTTPD_CHUNK_SIZE,
	HTTPD_CHUNK_DATA,
	HTTPD_CHUNK_DATA_END,
	HTTPD_CHUNK_TRAILER,
};

struct httpd_conn {
	struct httpd *h;
	struct bufferevent *bev;
	struct event *resume;
	struct httpd_req *req;
	enum httpd_conn_state state;
	bool chunked;
	enum httpd_chunk_state chunk_state;
	uint64_t remaining;
	bool keep_alive;
	bool body_abandoned;
	int64_t head_started_ms; /* when the first byte of a head still incomplete came, or 0 */
	struct event *timer;      /* the head's or body's deadline, or the end of lingering */
	int64_t deadline_ms;      /* when the request's head and body must be in */
	int64_t deadline_left_ms; /* what was left of it when the request was paused */
	unsigned char addr[16];   /* the client's address, IPv4 mapped into IPv6 */
	char peer[INET6_ADDRSTRLEN];
	bool exempt;              /* the address is one the per-address limits spare */
	struct httpd_conn *prev, *next;
};

struct httpd {
	struct event_base *base;
	struct evconnlistener *listener;
	struct httpd_handlers handlers;
	void *arg;
	struct httpd_conn *conns;
	size_t nconns;
	size_t nreqs;
	struct httpd_limits limits;
	unsigned char (*exempt)[16];
	size_t nexempt;
};

static void httpd_conn_process(struct httpd_conn *c);
static bool httpd_body_empty(const struct httpd_conn *c);
static void httpd_conn_free(struct httpd_conn *c);
static void httpd_read_cb(struct bufferevent *bev, void *arg);
static void httpd_event_cb(struct bufferevent *bev, short what, void *arg);
static void httpd_wait_drained(struct httpd_conn *c);
static void httpd_timer_at(struct httpd_conn *c, int64_t at_ms);

const char *httpd_status_text(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* ---- requests ---- */

static void httpd_req_free(struct httpd_req *req)
{
	req->httpd->nreqs--;
	free(req->target);
	free(req->path);
	free(req->query);
	kvlist_free(&req->headers);
	kvlist_free(&req->reply_headers);
	sbuf_free(&req->body);
	free(req);
}

_Static_assert(sizeof(((struct httpd_req *)0)->request_id) == LOG_REQUEST_ID_SIZE,
	       "httpd_req.request_id");

/* The request's id: the client's X-Request-Id when it is sane, else 32 random hex digits. */
static void httpd_req_id(struct httpd_req *req)
{
	const char *given = httpd_req_header(req, "X-Request-Id");

	if (given && log_request_id_ok(given))
		snprintf(req->request_id, sizeof(req->request_id), "%s", given);
	else
		crypto_random_hex(req->request_id, 16);
}

/* The body has ended (normally or not): hand the request to the handler once. */
static void httpd_req_body_end(struct httpd_req *req)
{
	char prev[LOG_REQUEST_ID_SIZE];

	req->body_done = true;
	if (req->replied || !req->httpd->handlers.on_complete)
		return;
	log_request_enter(req->request_id, prev);
	req->httpd->handlers.on_complete(req, req->httpd->arg);
	log_request_leave(prev);
}

const char *httpd_req_header(const struct httpd_req *req, const char *name)
{
	return kvlist_get_ci(&req->headers, name);
}

void httpd_req_buffer_body(struct httpd_req *req, size_t limit)
{
	req->body_mode_set = true;
	req->streaming = false;
	req->body_limit = limit;
}

void httpd_req_stream_body(struct httpd_req *req)
{
	req->body_mode_set = true;
	req->streaming = true;
}

/*
 * While the request waits (for its key to be looked up, for a batch to be stored) the
 * socket is not read either: what the client sends meanwhile waits in its own buffers,
 * not in ours.
 */
void httpd_req_pause(struct httpd_req *req)
{
	struct httpd_conn *c = req->conn;

	if (req->paused || !c || c->state != HTTPD_READ_BODY) {
		req->paused = true;
		return;
	}
	req->paused = true;
	bufferevent_disable(c->bev, EV_READ);
	/* The deadline is the client's: the time we make it wait is not counted. */
	c->deadline_left_ms = c->deadline_ms - clock_mono_ms();
	evtimer_del(c->timer);
}

void httpd_req_resume(struct httpd_req *req)
{
	struct httpd_conn *c = req->conn;
	bool was_paused = req->paused;

	req->paused = false;
	if (!c || c->state != HTTPD_READ_BODY)
		return;
	if (was_paused) {
		c->deadline_ms = clock_mono_ms() + c->deadline_left_ms;
		httpd_timer_at(c, c->deadline_ms);
	}
	bufferevent_enable(c->bev, EV_READ);
	event_active(c->resume, EV_TIMEOUT, 0);
}

void httpd_req_set_deadline(struct httpd_req *req, int ms)
{
	struct httpd_conn *c = req->conn;

	req->deadline_ms = ms;
	if (c && c->state == HTTPD_READ_BODY && !req->paused) {
		c->deadline_ms = req->started_ms + ms;
		httpd_timer_at(c, c->deadline_ms);
	}
}

void httpd_add_header(struct httpd_req *req, const char *name, const char *value)
{
	kvlist_add(&req->reply_headers, name, value);
}

/* ---- answering ---- */

/* Whether the answer carries a body: not for HEAD. */
static bool httpd_req_has_body(const struct httpd_req *req)
{
	return strcmp(req->method, "HEAD") != 0;
}

static void httpd_write_head(struct httpd_conn *c, struct httpd_req *req, int status,
			     const char *content_type, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
			    httpd_status_text(status), date);
	if (len == HTTPD_CHUNKED)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	else if (status != 204 && status != 304) /* these never have a body or its length */
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
	evbuffer_add_printf(out, "Connection: %s\r\n", c->keep_alive ? "keep-alive" : "close");
	if (content_type)
		evbuffer_add_printf(out, "Content-Type: %s\r\n", content_type);
	if (req->request_id[0])
		evbuffer_add_printf(out, "X-Request-Id: %s\r\n", req->request_id);
	for (size_t i = 0; i < req->reply_headers.n; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", req->reply_headers.items[i].key,
				    req->reply_headers.items[i].value);
	evbuffer_add(out, "\r\n", 2);
}

static void httpd_linger_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

/*
 * The last answer has gone out but the client may still be sending a body nobody read.
 * Closing with unread input resets the connection, and a reset can destroy the answer
 * before the client reads it; so the connection is shut for writing and what still
 * comes is dropped, until the client closes or HTTPD_LINGER_MS have passed.
 */
static void httpd_linger(struct httpd_conn *c)
{
	c->state = HTTPD_LINGER;
	shutdown(bufferevent_getfd(c->bev), SHUT_WR);
	httpd_linger_read_cb(c->bev, c);
	bufferevent_setcb(c->bev, httpd_linger_read_cb, NULL, httpd_event_cb, c);
	bufferevent_enable(c->bev, EV_READ);
	httpd_timer_at(c, clock_mono_ms() + HTTPD_LINGER_MS);
}

static void httpd_closing_write_cb(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;
	(void)bev;

	if (c->body_abandoned)
		httpd_linger(c);
	else
		httpd_conn_free(c);
}

/* Reads the next request, which may be waiting in the input already. */
static void httpd_read_next(struct httpd_conn *c)
{
	bufferevent_enable(c->bev, EV_READ);
	event_active(c->resume, EV_TIMEOUT, 0);
}

/*
 * Marks the request answered. False when there is nothing to write: it was answered
 * already, or its client has gone (the request is then freed).
 */
static bool httpd_reply_once(struct httpd_req *req)
{
	if (req->replied)
		return false;
	req->replied = true;
	if (!req->conn) {
		httpd_req_free(req);
		return false;
	}
	return true;
}

/* Before an answer's head: a body the handler did not read means closing after it. */
static void httpd_reply_begin(struct httpd_conn *c, struct httpd_req *req)
{
	if (!req->body_done && !(c->state == HTTPD_READ_BODY && httpd_body_empty(c)))
		c->body_abandoned = true;
	if (c->body_abandoned)
		c->keep_alive = false;
}

/* After an answer's body: free the request, then close or read the next one. */
static void httpd_reply_done(struct httpd_conn *c, struct httpd_req *req)
{
	c->req = NULL;
	req->conn = NULL;
	httpd_req_free(req);
	evtimer_del(c->timer);
	if (!c->keep_alive) {
		c->state = HTTPD_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_setcb(c->bev, NULL, httpd_closing_write_cb, NULL, c);
		return;
	}
	c->state = HTTPD_READ_HEAD;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > HTTPD_MAX_UNSENT) {
		httpd_wait_drained(c);
		return;
	}
	httpd_read_next(c);
}

void httpd_reply(struct httpd_req *req, int status, const char *content_type,
		 const char *body, size_t len)
{
	struct httpd_conn *c = req->conn;

	if (req->reply_started) { /* a second head cannot follow: cut the stream short */
		httpd_reply_end(req, false);
		return;
	}
	if (!httpd_reply_once(req))
		return;
	httpd_reply_begin(c, req);
	httpd_write_head(c, req, status, content_type, len);
	if (httpd_req_has_body(req) && len)
		evbuffer_add(bufferevent_get_output(c->bev), body, len);
	httpd_reply_done(c, req);
}

void httpd_reply_start(struct httpd_req *req, int status, const char *content_type)
{
	struct httpd_conn *c = req->conn;

	req->reply_started = true;
	if (!c)
		return;
	httpd_reply_begin(c, req);
	httpd_write_head(c, req, status, content_type, HTTPD_CHUNKED);
}

bool httpd_reply_chunk(struct httpd_req *req, const char *data, size_t len)
{
	struct httpd_conn *c = req->conn;

	if (!c)
		return false;
	if (len && httpd_req_has_body(req)) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		evbuffer_add_printf(out, "%zx\r\n", len);
		evbuffer_add(out, data, len);
		evbuffer_add(out, "\r\n", 2);
	}
	return true;
}

/* Runs the callback a streamed answer waits on, if any, once. */
static void httpd_req_drained(struct httpd_req *req)
{
	void (*cb)(void *) = req->drain_cb;
	char prev[LOG_REQUEST_ID_SIZE];

	req->drain_cb = NULL;
	if (!cb)
		return;
	log_request_enter(req->request_id, prev);
	cb(req->drain_arg);
	log_request_leave(prev);
}

/* Most of what was sent has been read: a streamed answer goes on, or the next request. */
static void httpd_drain_write_cb(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;
	struct httpd_req *req = c->req;
	(void)bev;

	bufferevent_setcb(c->bev, httpd_read_cb, NULL, httpd_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (req)
		httpd_req_drained(req);
	else if (c->state == HTTPD_READ_HEAD)
		httpd_read_next(c);
}

/* Calls httpd_drain_write_cb once the client has read most of what was sent. */
static void httpd_wait_drained(struct httpd_conn *c)
{
	bufferevent_setwatermark(c->bev, EV_WRITE, HTTPD_STREAM_BACKLOG, 0);
	bufferevent_setcb(c->bev, httpd_read_cb, httpd_drain_write_cb, httpd_event_cb, c);
}

void httpd_reply_when_drained(struct httpd_req *req, void (*cb)(void *arg), void *arg)
{
	struct httpd_conn *c = req->conn;

	if (!c || evbuffer_get_length(bufferevent_get_output(c->bev)) <= HTTPD_STREAM_BACKLOG) {
		cb(arg);
		return;
	}
	req->drain_cb = cb;
	req->drain_arg = arg;
	httpd_wait_drained(c);
}

void httpd_reply_end(struct httpd_req *req, bool complete)
{
	struct httpd_conn *c = req->conn;

	if (!httpd_reply_once(req))
		return;
	if (!complete) /* without the last chunk the client sees the body cut short */
		c->keep_alive = false;
	else if (httpd_req_has_body(req))
		evbuffer_add(bufferevent_get_output(c->bev), "0\r\n\r\n", 5);
	httpd_reply_done(c, req);
}

_Static_assert(sizeof(((struct httpd_req *)0)->peer) == INET6_ADDRSTRLEN, "httpd_req.peer");

static struct httpd_req *httpd_req_new(struct httpd_conn *c)
{
	struct httpd_req *req = xcalloc(1, sizeof(*req));

	req->httpd = c->h;
	req->conn = c;
	req->started_ms = clock_mono_ms();
	memcpy(req->peer, c->peer, sizeof(req->peer));
	req->peer_exempt = c->exempt;
	c->h->nreqs++;
	c->req = req;
	return req;
}

/* An answer from the parser itself, before any handler saw the request. */
static void httpd_conn_error(struct httpd_conn *c, int status, const char *message)
{
	struct httpd_req *req = c->req;
	struct sbuf body;

	sbuf_init(&body);
	sbuf_printf(&body, "{\"error\": {\"code\": \"bad_request\", \"message\": \"%s\"}}", message);
	c->keep_alive = false;
	c->body_abandoned = true;
	if (!req)
		req = httpd_req_new(c);
	httpd_reply(req, status, "application/json", body.data, body.len);
	sbuf_free(&body);
}

/* ---- parsing the head ---- */

/* Reads framing headers; answers and returns -1 on a request we will not take. */
static int httpd_framing(struct httpd_conn *c, bool http11)
{
	struct httpd_req *req = c->req;
	const char *te = httpd_req_header(req, "Transfer-Encoding");
	const char *cl = httpd_req_header(req, "Content-Length");
	const char *conn = httpd_req_header(req, "Connection");
	const char *expect = httpd_req_header(req, "Expect");
	int64_t len = 0;

	c->keep_alive = http11 ? !(conn && str_ieq(conn, "close"))
			       : (conn && str_ieq(conn, "keep-alive"));
	c->chunked = false;
	if (te) {
		if (!str_ieq(te, "chunked")) {
			httpd_conn_error(c, 501, "only chunked transfer encoding is supported");
			return -1;
		}
		c->chunked = true;
		c->chunk_state = HTTPD_CHUNK_SIZE;
		c->keep_alive = c->keep_alive && !cl;
	} else if (cl && !str_to_i64(cl, 0, INT64_MAX, &len)) {
		httpd_conn_error(c, 400, "Content-Length is not a number");
		return -1;
	}
	if (httpd_head_lengths_disagree(req)) {
		httpd_conn_error(c, 400, "Content-Length is given twice with different values");
		return -1;
	}
	c->remaining = (uint64_t)len;
	req->expect_continue = expect && str_ieq(expect, "100-continue") && http11;
	return 0;
}

/*
 * The first byte of a head starts the request's clock: the head must be in within
 * HTTPD_HEAD_TIMEOUT_MS (or the request's deadline, if shorter), the head and body within
 * the deadline (httpd_timer_cb answers 408).
 */
static void httpd_head_begun(struct httpd_conn *c)
{
	if (c->head_started_ms)
		return;
	c->head_started_ms = clock_mono_ms();
	httpd_timer_at(c, c->head_started_ms + MIN(HTTPD_HEAD_TIMEOUT_MS, c->h->limits.request_ms));
}

/* Returns 1 when a head was parsed, 0 when more input is needed, -1 on error (answered). */
static int httpd_read_head(struct httpd_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	bool http11 = true;

	while (evbuffer_get_length(in) >= 2) { /* tolerate empty lines between requests */
		unsigned char *p = evbuffer_pullup(in, 2);
		size_t skip = p[0] == '\n' ? 1 : (p[0] == '\r' && p[1] == '\n') ? 2 : 0;
		if (!skip)
			break;
		evbuffer_drain(in, skip);
	}
	if (evbuffer_get_length(in) == 0)
		return 0;
	httpd_head_begun(c);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > HTTPD_MAX_HEAD) {
			httpd_conn_error(c, 431, "request head too large");
			return -1;
		}
		return 0;
	}
	size_t headlen = (size_t)end.pos + 4;
	if (headlen > HTTPD_MAX_HEAD) {
		httpd_conn_error(c, 431, "request head too large");
		return -1;
	}
	struct httpd_req *req = httpd_req_new(c);
	req->started_ms = c->head_started_ms;
	c->head_started_ms = 0;
	c->body_abandoned = false;
	int rc = httpd_head_parse(req, (const char *)evbuffer_pullup(in, (ev_ssize_t)headlen),
				  headlen, &http11);
	evbuffer_drain(in, headlen);
	if (rc < 0) {
		httpd_conn_error(c, 400, "malformed request head");
		return -1;
	}
	return httpd_framing(c, http11) < 0 ? -1 : 1;
}

/* ---- the body ---- */

static bool httpd_body_empty(const struct httpd_conn *c)
{
	return !c->chunked && c->remaining == 0;
}

/* Hands body bytes to the request; false to stop reading. */
static bool httpd_deliver(struct httpd_conn *c, const char *data, size_t n)
{
	struct httpd_req *req = c->req;

	if (req->streaming) {
		char prev[LOG_REQUEST_ID_SIZE];
		log_request_enter(req->request_id, prev);
		int rc = req->httpd->handlers.on_body(req, data, n, req->httpd->arg);
		log_request_leave(prev);
		if (rc < 0 || c->req != req) {
			c->body_abandoned = true;
			return false;
		}
		return true;
	}
	if (req->body.len + n > req->body_limit) {
		req->body_too_large = true;
		c->body_abandoned = true;
		return false;
	}
	sbuf_add(&req->body, data, n);
	return true;
}

/* Moves up to `want` bytes from the input to the request. */
static bool httpd_move(struct httpd_conn *c, uint64_t want, size_t *moved)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t n = (size_t)MIN((uint64_t)evbuffer_get_length(in), MIN(want, HTTPD_CHUNK));

	*moved = n;
	if (!n)
		return true;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	bool ok = httpd_deliver(c, p, n);
	evbuffer_drain(in, n);
	return ok;
}

/* Reads one line of chunk framing; 1 done, 0 more input needed, -1 too long. */
static int httpd_chunk_line(struct evbuffer *in, char *line, size_t size)
{
	size_t n;
	char *s = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF);

	if (!s)
		return evbuffer_get_length(in) > size ? -1 : 0;
	if (n >= size) {
		free(s);
		return -1;
	}
	memcpy(line, s, n + 1);
	free(s);
	return 1;
}

/* Returns 1 when the chunked body is complete, 0 for more input, -1 on malformed framing. */
static int httpd_read_chunked(struct httpd_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char line[256];
	size_t moved;
	int rc;

	for (;;) {
		switch (c->chunk_state) {
		case HTTPD_CHUNK_SIZE: {
			if ((rc = httpd_chunk_line(in, line, sizeof(line))) <= 0)
				return rc;
			char *end;
			errno = 0;
			unsigned long long size = strtoull(line, &end, 16);
			if (!isxdigit((unsigned char)line[0]) || errno || (*end && *end != ';'))
				return -1; /* also "-1", " 5" and sizes past 64 bits */
			c->remaining = size;
			c->chunk_state = size ? HTTPD_CHUNK_DATA : HTTPD_CHUNK_TRAILER;
			break;
		}
		case HTTPD_CHUNK_DATA:
			if (!httpd_move(c, c->remaining, &moved))
				return 1;
			if (!moved)
				return 0;
			c->remaining -= moved;
			if (!c->remaining)
				c->chunk_state = HTTPD_CHUNK_DATA_END;
			break;
		case HTTPD_CHUNK_DATA_END:
			if ((rc = httpd_chunk_line(in, line, sizeof(line))) <= 0)
				return rc;
			if (*line)
				return -1;
			c->chunk_state = HTTPD_CHUNK_SIZE;
			break;
		case HTTPD_CHUNK_TRAILER:
			if ((rc = httpd_chunk_line(in, line, sizeof(line))) <= 0)
				return rc;
			if (!*line)
				return 1;
			break;
		}
		if (c->req->paused)
			return 0;
	}
}

/* Returns 1 when the body is complete (or abandoned), 0 for more input, -1 on error. */
static int httpd_read_body(struct httpd_conn *c)
{
	size_t moved;

	if (c->chunked)
		return httpd_read_chunked(c);
	while (c->remaining > 0 && !c->req->paused) {
		if (!httpd_move(c, c->remaining, &moved))
			return 1;
		if (!moved)
			return 0;
		c->remaining -= moved;
	}
	return c->remaining == 0 ? 1 : 0;
}

static void httpd_send_continue(struct httpd_conn *c)
{
	if (c->req->expect_continue) {
		c->req->expect_continue = false;
		evbuffer_add(bufferevent_get_output(c->bev), "HTTP/1.1 100 Continue\r\n\r\n", 25);
	}
}

static void httpd_start_request(struct httpd_conn *c)
{
	struct httpd_req *req = c->req;
	char prev[LOG_REQUEST_ID_SIZE];

	c->state = HTTPD_READ_BODY;
	req->body_limit = 1 << 20;
	req->deadline_ms = c->h->limits.request_ms;
	c->deadline_ms = req->started_ms + req->deadline_ms;
	httpd_timer_at(c, c->deadline_ms);
	httpd_req_id(req);
	log_request_enter(req->request_id, prev);
	c->h->handlers.on_headers(req, c->h->arg);
	/* on_headers may have answered already, freeing req and maybe c's request slot. */
	log_request_leave(prev);
}

/* The body is in (or abandoned): the handler has the request. */
static void httpd_body_in(struct httpd_conn *c)
{
	c->state = HTTPD_WAIT_REPLY;
	evtimer_del(c->timer);
	httpd_req_body_end(c->req);
}

/* The body is malformed or late: the request goes to the handler as cut short. */
static void httpd_body_cut(struct httpd_conn *c)
{
	c->body_abandoned = true;
	c->req->body_aborted = true;
	c->keep_alive = false;
	bufferevent_disable(c->bev, EV_READ);
	httpd_body_in(c);
}

static void httpd_body_step(struct httpd_conn *c)
{
	struct httpd_req *req = c->req;

	if (req->paused)
		return;
	httpd_send_continue(c);
	int rc = httpd_read_body(c);
	if (c->req != req)
		return; /* answered from on_body */
	if (rc < 0)
		httpd_body_cut(c);
	else if (rc > 0)
		httpd_body_in(c);
}

static void httpd_conn_process(struct httpd_conn *c)
{
	for (;;) {
		if (c->state == HTTPD_READ_HEAD) {
			if (httpd_read_head(c) <= 0)
				return;
			httpd_start_request(c);
			if (c->state != HTTPD_READ_BODY || !c->req)
				return;
			if (httpd_body_empty(c))
				c->req->expect_continue = false;
		}
		if (c->state == HTTPD_READ_BODY && c->req) {
			httpd_body_step(c);
			return;
		}
		if (c->state == HTTPD_WAIT_REPLY &&
		    evbuffer_get_length(bufferevent_get_input(c->bev)) > HTTPD_MAX_PIPELINED)
			bufferevent_disable(c->bev, EV_READ);
		return;
	}
}

/* ---- connection events ---- */

static void httpd_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	httpd_conn_process(arg);
}

static void httpd_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn *c = arg;
	(void)fd, (void)what;
	if (c->state == HTTPD_READ_HEAD || c->state == HTTPD_READ_BODY)
		httpd_conn_process(c);
}

static void httpd_timer_at(struct httpd_conn *c, int64_t at_ms)
{
	int64_t ms = MAX(at_ms - clock_mono_ms(), 0);
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(c->timer, &tv);
}

/* A deadline has passed: the head's, the body's, or that of a lingering close. */
static void httpd_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpd_conn *c = arg;
	(void)fd, (void)what;

	if (c->state == HTTPD_READ_HEAD && evbuffer_get_length(bufferevent_get_input(c->bev))) {
		httpd_conn_error(c, 408, "the request head took too long to arrive");
	} else if (c->state == HTTPD_READ_BODY && c->req && !c->req->paused) {
		c->req->body_late = true;
		httpd_body_cut(c);
	} else if (c->state == HTTPD_LINGER) {
		httpd_conn_free(c);
	}
}

static void httpd_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct httpd_conn *c = arg;
	(void)bev;

	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    c->state == HTTPD_WAIT_REPLY) {
		bufferevent_enable(c->bev, EV_READ); /* the handler is still working */
		return;
	}
	httpd_conn_free(c);
}

static void httpd_conn_free(struct httpd_conn *c)
{
	struct httpd_req *req = c->req;

	if (c->prev)
		c->prev->next = c->next;
	else
		c->h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->h->nconns--;
	c->req = NULL;
	bufferevent_free(c->bev);
	event_free(c->resume);
	event_free(c->timer);
	free(c);
	if (!req)
		return;
	req->conn = NULL;
	if (!req->body_done) {
		req->body_aborted = true;
		httpd_req_body_end(req);
	} else {
		httpd_req_drained(req); /* a streamed answer may be waiting for the client that left */
	}
}

/* The address in IPv6 form (IPv4 mapped, as ::ffff:192.0.2.1 is); false when it is neither. */
bool httpd_addr_parse(const char *text, unsigned char out[16])
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };

	memcpy(out, mapped, sizeof(mapped));
	return inet_pton(AF_INET, text, out + 12) == 1 || inet_pton(AF_INET6, text, out) == 1;
}

/* Who is on the other end: the address as a key and as text, and whether it is exempt. */
static void httpd_peer(struct httpd_conn *c, const struct sockaddr *sa)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	const struct httpd *h = c->h;

	memcpy(c->addr, mapped, sizeof(mapped));
	if (sa->sa_family == AF_INET6)
		memcpy(c->addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else if (sa->sa_family == AF_INET)
		memcpy(c->addr + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	if (memcmp(c->addr, mapped, sizeof(mapped)) == 0)
		inet_ntop(AF_INET, c->addr + 12, c->peer, sizeof(c->peer));
	else
		inet_ntop(AF_INET6, c->addr, c->peer, sizeof(c->peer));
	for (size_t i = 0; i < h->nexempt && !c->exempt; i++)
		c->exempt = memcmp(h->exempt[i], c->addr, 16) == 0;
}

/* Whether c's address holds as many connections as it may, c not counted. */
static bool httpd_peer_full(const struct httpd_conn *c)
{
	size_t n = 0;

	if (c->exempt || !c->h->limits.conns_per_peer)
		return false;
	for (const struct httpd_conn *o = c->h->conns; o; o = o->next)
		n += memcmp(o->addr, c->addr, 16) == 0;
	return n >= c->h->limits.conns_per_peer;
}

/*
 * Refuses a connection over its address's cap with a short answer, written without a
 * buffer (a fresh socket takes a few hundred bytes at once). What the client sent already
 * is read first, so that closing does not reset the connection over the answer.
 */
static void httpd_refuse(evutil_socket_t fd, const char *peer)
{
	static const char body[] = "{\"error\": {\"code\": \"too_many_connections\", "
		"\"message\": \"this address has as many connections open as it may\"}}";
	char answer[512], junk[4096];
	int n = snprintf(answer, sizeof(answer), "HTTP/1.1 429 Too Many Requests\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Retry-After: 1\r\nConnection: close\r\n\r\n%s", sizeof(body) - 1, body);

	log_debug("http connection refused peer=%s reason=\"too many connections\"", peer);
	for (int i = 0; i < 16 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
		;
	if (send(fd, answer, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n)
		shutdown(fd, SHUT_WR);
	evutil_closesocket(fd);
}

static void httpd_conn_start(struct httpd_conn *c, struct bufferevent *bev)
{
	struct httpd *h = c->h;
	struct timeval idle = { HTTPD_IDLE_TIMEOUT_S, 0 };

	c->bev = bev;
	c->resume = event_new(h->base, -1, 0, httpd_resume_cb, c);
	c->timer = evtimer_new(h->base, httpd_timer_cb, c);
	c->state = HTTPD_READ_HEAD;
	c->next = h->conns;
	if (h->conns)
		h->conns->prev = c;
	h->conns = c;
	h->nconns++;
	bufferevent_setcb(c->bev, httpd_read_cb, NULL, httpd_event_cb, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void httpd_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int socklen, void *arg)
{
	struct httpd *h = arg;
	struct httpd_conn *c;
	(void)l, (void)socklen;

	if (h->nconns >= HTTPD_MAX_CONNS) {
		evutil_closesocket(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->h = h;
	httpd_peer(c, sa);
	if (httpd_peer_full(c)) {
		httpd_refuse(fd, c->peer);
		free(c);
		return;
	}
	httpd_conn_start(c, bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE));
}

void httpd_adopt(struct httpd *h, struct bufferevent *bev, const struct sockaddr *peer)
{
	struct httpd_conn *c = xcalloc(1, sizeof(*c));

	c->h = h;
	httpd_peer(c, peer);
	httpd_conn_start(c, bev);
}

struct httpd *httpd_new(struct event_base *base, const struct httpd_handlers *handlers, void *arg)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->handlers = *handlers;
	h->arg = arg;
	h->limits = (struct httpd_limits){ HTTPD_REQUEST_MS, HTTPD_CONNS_PER_PEER, NULL };
	return h;
}

void httpd_set_limits(struct httpd *h, const struct httpd_limits *limits)
{
	size_t n = 0;

	while (limits->exempt && limits->exempt[n])
		n++;
	free(h->exempt);
	h->exempt = xcalloc(MAX(n, 1), sizeof(*h->exempt));
	h->nexempt = 0;
	for (size_t i = 0; i < n; i++)
		h->nexempt += httpd_addr_parse(limits->exempt[i], h->exempt[h->nexempt]);
	h->limits = *limits;
	h->limits.exempt = NULL; /* kept parsed, in h->exempt */
}

int httpd_listen(struct httpd *h, const char *host, int port, struct sbuf *err)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr *sa = (struct sockaddr *)&sin;
	int salen = sizeof(sin);

	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		if (inet_pton(AF_INET6, host, &sin6.sin6_addr) != 1) {
			sbuf_printf(err, "SIGNPOST_LISTEN: \"%s\" is not an IP address", host);
			return -1;
		}
		sa = (struct sockaddr *)&sin6;
		salen = sizeof(sin6);
	}
	h->listener = evconnlistener_new_bind(h->base, httpd_accept_cb, h,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024, sa,
					      salen);
	if (!h->listener) {
		sbuf_printf(err, "cannot listen on %s:%d: %s", host, port, strerror(errno));
		return -1;
	}
	return 0;
}

void httpd_stop_accepting(struct httpd *h)
{
	if (h->listener)
		evconnlistener_free(h->listener);
	h->listener = NULL;
}

size_t httpd_open_requests(const struct httpd *h)
{
	return h->nreqs;
}

void httpd_free(struct httpd *h)
{
	if (!h)
		return;
	httpd_stop_accepting(h);
	while (h->conns)
		httpd_conn_free(h->conns);
	free(h->exempt);
	free(h);
}
