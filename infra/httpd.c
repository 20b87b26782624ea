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

#include "infra/log.h"

#define HTTPD_MAX_HEAD 16384
#define HTTPD_MAX_HEADERS 100
#define HTTPD_MAX_CONNS 4096
#define HTTPD_IDLE_TIMEOUT_S 60
#define HTTPD_MAX_PIPELINED 65536
#define HTTPD_CHUNK 65536
#define HTTPD_HEAD_TIMEOUT_MS 15000 /* a head sent a byte at a time holds a slot no longer */
#define HTTPD_STREAM_BACKLOG 16384 /* a streamed answer waits while more is unsent */
#define HTTPD_CHUNKED SIZE_MAX       /* httpd_write_head: a chunked body follows */

enum httpd_conn_state {
	HTTPD_READ_HEAD,
	HTTPD_READ_BODY,
	HTTPD_WAIT_REPLY, /* body in (or abandoned), handler working */
	HTTPD_CLOSING,    /* flushing the last answer */
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
};

static void httpd_conn_process(struct httpd_conn *c);
static bool httpd_body_empty(const struct httpd_conn *c);
static void httpd_conn_free(struct httpd_conn *c);
static void httpd_read_cb(struct bufferevent *bev, void *arg);
static void httpd_event_cb(struct bufferevent *bev, short what, void *arg);

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

/* The body has ended (normally or not): hand the request to the handler once. */
static void httpd_req_body_end(struct httpd_req *req)
{
	req->body_done = true;
	if (!req->replied && req->httpd->handlers.on_complete)
		req->httpd->handlers.on_complete(req, req->httpd->arg);
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

void httpd_req_pause(struct httpd_req *req)
{
	req->paused = true;
}

void httpd_req_resume(struct httpd_req *req)
{
	req->paused = false;
	if (req->conn)
		event_active(req->conn->resume, EV_TIMEOUT, 0);
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
	for (size_t i = 0; i < req->reply_headers.n; i++)
		evbuffer_add_printf(out, "%s: %s\r\n", req->reply_headers.items[i].key,
				    req->reply_headers.items[i].value);
	evbuffer_add(out, "\r\n", 2);
}

static void httpd_closing_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	httpd_conn_free(arg);
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
	if (!c->keep_alive) {
		c->state = HTTPD_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		bufferevent_setcb(c->bev, NULL, httpd_closing_write_cb, NULL, c);
		return;
	}
	c->state = HTTPD_READ_HEAD;
	bufferevent_enable(c->bev, EV_READ);
	event_active(c->resume, EV_TIMEOUT, 0);
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

	req->drain_cb = NULL;
	if (cb)
		cb(req->drain_arg);
}

static void httpd_drain_write_cb(struct bufferevent *bev, void *arg)
{
	struct httpd_conn *c = arg;
	struct httpd_req *req = c->req;
	(void)bev;

	bufferevent_setcb(c->bev, httpd_read_cb, NULL, httpd_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (req)
		httpd_req_drained(req);
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
	bufferevent_setwatermark(c->bev, EV_WRITE, HTTPD_STREAM_BACKLOG, 0);
	bufferevent_setcb(c->bev, httpd_read_cb, httpd_drain_write_cb, httpd_event_cb, c);
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

/* An answer from the parser itself, before any handler saw the request. */
static void httpd_conn_error(struct httpd_conn *c, int status, const char *message)
{
	struct httpd_req *req = c->req;
	struct sbuf body;

	sbuf_init(&body);
	sbuf_printf(&body, "{\"error\": {\"code\": \"bad_request\", \"message\": \"%s\"}}", message);
	c->keep_alive = false;
	c->body_abandoned = true;
	if (!req) {
		req = xcalloc(1, sizeof(*req));
		req->httpd = c->h;
		c->h->nreqs++;
		req->conn = c;
		c->req = req;
	}
	httpd_reply(req, status, "application/json", body.data, body.len);
	sbuf_free(&body);
}

/* ---- parsing the head ---- */

static bool httpd_token_char(char ch)
{
	return ch > 32 && ch < 127 && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

static int httpd_parse_request_line(struct httpd_req *req, const char *line, size_t n,
				    bool *http11)
{
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;

	if (!sp1 || !sp2 || sp1 == line || (size_t)(sp1 - line) >= sizeof(req->method) ||
	    sp2 == sp1 + 1)
		return -1;
	for (const char *p = line; p < sp1; p++)
		if (!httpd_token_char(*p))
			return -1;
	memcpy(req->method, line, (size_t)(sp1 - line));
	const char *version = sp2 + 1;
	size_t vlen = n - (size_t)(version - line);
	if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1'))
		return -1;
	*http11 = version[7] == '1';
	req->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	if (req->target[0] != '/')
		return -1;
	for (const char *p = sp1 + 1; p < sp2; p++) /* no NUL, controls or spaces */
		if ((unsigned char)*p <= 32 || *p == 127)
			return -1;
	const char *q = strchr(req->target, '?');
	req->path = q ? xstrndup(req->target, (size_t)(q - req->target)) : xstrdup(req->target);
	req->query = q ? xstrdup(q + 1) : NULL;
	return 0;
}

static int httpd_parse_header_line(struct httpd_req *req, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);

	if (!colon || colon == line || req->headers.n >= HTTPD_MAX_HEADERS)
		return -1;
	for (const char *p = line; p < colon; p++)
		if (!httpd_token_char(*p))
			return -1;
	const char *v = colon + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *p = v; p < end; p++)
		if ((unsigned char)*p < 32 && *p != '\t')
			return -1;
	kvlist_addn(&req->headers, line, (size_t)(colon - line), v, (size_t)(end - v));
	return 0;
}

static int httpd_parse_head(struct httpd_req *req, const char *head, size_t n, bool *http11)
{
	size_t pos = 0;
	bool first = true;

	while (pos < n) {
		const char *eol = memchr(head + pos, '\n', n - pos);
		size_t len = (size_t)(eol - (head + pos));
		if (len > 0 && head[pos + len - 1] == '\r')
			len--;
		if (len == 0)
			break;
		if (head[pos] == ' ' || head[pos] == '\t')
			return -1; /* obsolete line folding */
		int rc = first ? httpd_parse_request_line(req, head + pos, len, http11)
			       : httpd_parse_header_line(req, head + pos, len);
		if (rc < 0)
			return -1;
		first = false;
		pos = (size_t)(eol - head) + 1;
	}
	return first ? -1 : 0;
}

/* Two Content-Length headers that differ leave the body's end ambiguous. */
static bool httpd_lengths_disagree(const struct httpd_req *req)
{
	const char *first = NULL;

	for (size_t i = 0; i < req->headers.n; i++) {
		const struct kv *h = &req->headers.items[i];
		if (!str_ieq(h->key, "Content-Length"))
			continue;
		if (first && strcmp(first, h->value) != 0)
			return true;
		first = h->value;
	}
	return false;
}

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
	if (httpd_lengths_disagree(req)) {
		httpd_conn_error(c, 400, "Content-Length is given twice with different values");
		return -1;
	}
	c->remaining = (uint64_t)len;
	req->expect_continue = expect && str_ieq(expect, "100-continue") && http11;
	return 0;
}

/* True when an incomplete head has been arriving for too long. */
static bool httpd_head_late(struct httpd_conn *c, struct evbuffer *in)
{
	int64_t now = clock_mono_ms();

	if (evbuffer_get_length(in) == 0) {
		c->head_started_ms = 0;
		return false;
	}
	if (!c->head_started_ms)
		c->head_started_ms = now;
	return now - c->head_started_ms > HTTPD_HEAD_TIMEOUT_MS;
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
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (end.pos < 0) {
		if (evbuffer_get_length(in) > HTTPD_MAX_HEAD) {
			httpd_conn_error(c, 431, "request head too large");
			return -1;
		}
		if (httpd_head_late(c, in)) {
			httpd_conn_error(c, 408, "the request head took too long to arrive");
			return -1;
		}
		return 0;
	}
	c->head_started_ms = 0;
	size_t headlen = (size_t)end.pos + 4;
	if (headlen > HTTPD_MAX_HEAD) {
		httpd_conn_error(c, 431, "request head too large");
		return -1;
	}
	struct httpd_req *req = xcalloc(1, sizeof(*req));
	req->httpd = c->h;
	req->conn = c;
	req->started_ms = clock_mono_ms();
	c->h->nreqs++;
	c->req = req;
	c->body_abandoned = false;
	int rc = httpd_parse_head(req, (const char *)evbuffer_pullup(in, (ev_ssize_t)headlen),
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
		if (req->httpd->handlers.on_body(req, data, n, req->httpd->arg) < 0 ||
		    c->req != req) {
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

	c->state = HTTPD_READ_BODY;
	req->body_limit = 1 << 20;
	c->h->handlers.on_headers(req, c->h->arg);
	/* on_headers may have answered already, freeing req and maybe c's request slot. */
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
	if (rc < 0) {
		c->body_abandoned = true;
		req->body_aborted = true;
		c->keep_alive = false;
	}
	if (rc != 0) {
		c->state = HTTPD_WAIT_REPLY;
		httpd_req_body_end(req);
	}
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

static void httpd_accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
			    int socklen, void *arg)
{
	struct httpd *h = arg;
	(void)l, (void)sa, (void)socklen;

	if (h->nconns >= HTTPD_MAX_CONNS) {
		evutil_closesocket(fd);
		return;
	}
	httpd_adopt(h, bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE));
}

void httpd_adopt(struct httpd *h, struct bufferevent *bev)
{
	struct timeval idle = { HTTPD_IDLE_TIMEOUT_S, 0 };
	struct httpd_conn *c = xcalloc(1, sizeof(*c));

	c->h = h;
	c->bev = bev;
	c->resume = event_new(h->base, -1, 0, httpd_resume_cb, c);
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

struct httpd *httpd_new(struct event_base *base, const struct httpd_handlers *handlers, void *arg)
{
	struct httpd *h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->handlers = *handlers;
	h->arg = arg;
	return h;
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
	free(h);
}
