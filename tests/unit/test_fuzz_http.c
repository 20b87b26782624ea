/*
 * test_fuzz_http.c: the HTTP/1.1 server's parser (infra/httpd.c) fed bytes through a
 * bufferevent pair, without sockets: request lines and headers, Content-Length and
 * chunked bodies, pipelined requests, Expect: 100-continue, bodies buffered, streamed,
 * paused and refused, answers whole and streamed. Options (iterations, seed, corpus
 * directory) are described in tests/unit/fuzz.h; built with FUZZ_TARGET=http it is the
 * libFuzzer target `http`.
 *
 * An input is what a client sends on one connection. The path of each request picks how
 * the handler treats it (the handler below): "/stream" streams the body, "/stop" streams
 * and refuses it after its first part, "/pause" pauses at each part and resumes on the
 * next turn of the loop, "/small" buffers at most 16 bytes, "/early" answers before the
 * body, "/chunked" answers in chunks, anything else buffers up to 1 MiB.
 *
 * Checks: the same bytes sent whole and in pieces of random sizes give the same requests,
 * bodies and answers (the parser does not depend on how reads split the input); every
 * answer is well-formed HTTP/1.1 with a body its head describes; every request the handler
 * saw has a method of token characters, a target starting with '/' and no control
 * characters in it or in header values, and a buffered body no longer than its limit;
 * every request and the connection are freed once the client has gone.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "infra/httpd.h"
#include "tests/unit/fuzz.h"

#define SMALL_LIMIT 16
#define LOOP_TURNS 10000

static struct event_base *base;
static struct httpd *server;
static struct sbuf *trace; /* what the handler saw, for comparing two feedings */
static bool client_gone;   /* the client has closed its end */

struct handling {
	struct sbuf body; /* a streamed body */
	size_t parts;
};

static bool token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= 32 || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s))
			return false;
	return true;
}

static void check_head(const struct httpd_req *req)
{
	CHECK(token(req->method));
	CHECK(req->target && req->target[0] == '/' && req->path && req->path[0] == '/');
	for (const char *p = req->target; p && *p; p++)
		CHECK((unsigned char)*p > 32 && *p != 127);
	CHECK(strncmp(req->target, req->path, strlen(req->path)) == 0);
	CHECK(!req->query || strchr(req->target, '?'));
	for (size_t i = 0; i < req->headers.n; i++) {
		CHECK(token(req->headers.items[i].key));
		for (const char *v = req->headers.items[i].value; *v; v++)
			CHECK((unsigned char)*v >= 32 || *v == '\t');
	}
}

static void on_headers(struct httpd_req *req, void *arg)
{
	struct handling *hd = xcalloc(1, sizeof(*hd));
	(void)arg;

	check_head(req);
	sbuf_init(&hd->body);
	req->data = hd;
	sbuf_printf(trace, "head %s %s headers=%zu\n", req->method, req->target, req->headers.n);
	if (str_startswith(req->path, "/early")) {
		sbuf_adds(trace, "early answer\n");
		free(hd);
		req->data = NULL;
		httpd_reply(req, 202, "text/plain", "early", 5);
	} else if (str_startswith(req->path, "/stream") || str_startswith(req->path, "/stop") ||
		   str_startswith(req->path, "/pause")) {
		httpd_req_stream_body(req);
	} else {
		httpd_req_buffer_body(req, str_startswith(req->path, "/small") ? SMALL_LIMIT : 1 << 20);
	}
}

static int on_body(struct httpd_req *req, const char *data, size_t len, void *arg)
{
	struct handling *hd = req->data;
	(void)arg;

	CHECK(req->streaming && len > 0);
	sbuf_add(&hd->body, data, len);
	hd->parts++;
	if (str_startswith(req->path, "/stop")) {
		sbuf_adds(trace, "refused the body\n");
		return -1;
	}
	if (str_startswith(req->path, "/pause")) {
		httpd_req_pause(req);
		httpd_req_resume(req);
	}
	return 0;
}

static uint64_t fnv(const char *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * 0x100000001b3ull;
	return h;
}

static void on_complete(struct httpd_req *req, void *arg)
{
	struct handling *hd = req->data;
	const struct sbuf *body = req->streaming ? &hd->body : &req->body;
	char answer[128];
	int n;
	(void)arg;

	if (!req->streaming)
		CHECK(req->body.len <= req->body_limit);
	/* (How much of a refused body came in depends on how reads split it.) */
	bool refused = req->body_too_large || str_startswith(req->path, "/stop");
	sbuf_printf(trace, "complete %s len=%zu hash=%016llx aborted=%d too_large=%d%s\n",
		    req->target, refused ? 0 : body->len,
		    refused ? 0ull : (unsigned long long)fnv(body->data, body->len),
		    req->body_aborted, req->body_too_large, client_gone ? " gone" : "");
	n = snprintf(answer, sizeof(answer), "{\"len\": %zu}", refused ? 0 : body->len);
	if (req->body_too_large) {
		httpd_reply(req, 413, "application/json", "{}", 2);
	} else if (str_startswith(req->path, "/chunked")) {
		httpd_reply_start(req, 200, "application/json");
		httpd_reply_chunk(req, answer, (size_t)n);
		httpd_reply_chunk(req, "", 0);
		httpd_reply_chunk(req, "\n", 1);
		httpd_reply_end(req, true);
	} else {
		httpd_add_header(req, "X-Method", req->method);
		httpd_reply(req, 200, "application/json", answer, (size_t)n);
	}
	sbuf_free(&hd->body);
	free(hd);
}

/* Runs the loop until nothing is left to do at once (resumed reads, deferred work). */
static void settle(void)
{
	for (int i = 0; i < LOOP_TURNS; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (event_base_get_num_events(base, EVENT_BASE_COUNT_ACTIVE) == 0)
			break;
	}
}

/*
 * The client takes what the server wrote. As with a socket, the server's bytes wait in its
 * output until then, and it learns they have gone on a later turn of the loop (a pair
 * reading all along would move them while the server is still writing, before it has set
 * the callback that waits for them to go).
 */
static void client_reads(struct bufferevent *client)
{
	bufferevent_enable(client, EV_READ);
	settle();
	bufferevent_disable(client, EV_READ);
}

/* Sends data on one connection, whole or in pieces; out gets the answers, Date lines cut. */
static void converse(const char *data, size_t len, bool pieces, struct sbuf *out)
{
	struct bufferevent *pair[2];
	struct evbuffer *got;
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0xc0000201) };

	CHECK(bufferevent_pair_new(base, BEV_OPT_DEFER_CALLBACKS, pair) == 0);
	httpd_adopt(server, pair[0], (const struct sockaddr *)&peer); /* 192.0.2.1 */
	bufferevent_enable(pair[1], EV_WRITE);
	for (size_t off = 0; off < len;) {
		size_t piece = 1 + fuzz_below(fuzz_below(4) ? 16 : 4096); /* MIN evaluates twice */
		size_t n = pieces ? MIN(len - off, piece) : len - off;
		bufferevent_write(pair[1], data + off, n);
		settle();
		client_reads(pair[1]);
		off += n;
	}
	settle();
	client_reads(pair[1]);
	got = bufferevent_get_input(pair[1]);
	sbuf_add(out, (const char *)evbuffer_pullup(got, -1), evbuffer_get_length(got));
	client_gone = true; /* the client goes: the server sees the end */
	bufferevent_flush(pair[1], EV_WRITE, BEV_FINISHED);
	settle();
	/* The server has closed its end: no connection is left behind. */
	CHECK(bufferevent_pair_get_partner(pair[1]) == NULL);
	bufferevent_free(pair[1]);
	settle();
	client_gone = false;
	CHECK_INT(httpd_open_requests(server), 0);
}

/*
 * Removes "Date: ..." and "X-Request-Id: ..." lines, the only parts of an answer that
 * depend on the clock or on chance (an id made up for a request that brought none).
 */
static void undate(struct sbuf *b)
{
	static const char *const names[] = { "\r\nDate: ", "\r\nX-Request-Id: " };
	char *p;

	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		while ((p = memmem(b->data, b->len, names[i], strlen(names[i]))) != NULL) {
			char *eol = memmem(p + 2, b->len - (size_t)(p + 2 - b->data), "\r\n", 2);
			size_t cut = eol ? (size_t)(eol - p) : b->len - (size_t)(p - b->data);
			memmove(p, p + cut, b->len - (size_t)(p - b->data) - cut);
			b->len -= cut;
			b->data[b->len] = '\0';
		}
	}
}

/* Reads one answer from s; returns its length, or 0 when it is not well-formed. */
static size_t check_answer(const char *s, size_t len, bool head_request, int *status)
{
	const char *end = memmem(s, len, "\r\n\r\n", 4);
	const char *cl, *p;
	size_t head, body = 0;

	if (len < 17 || memcmp(s, "HTTP/1.1 ", 9) != 0 || !end || !isdigit((unsigned char)s[9]))
		return 0;
	*status = atoi(s + 9);
	head = (size_t)(end - s) + 4;
	if (*status == 100 || head_request)
		return head;
	cl = memmem(s, head, "\r\nContent-Length: ", 18);
	if (cl) {
		body = strtoul(cl + 18, NULL, 10);
		if (head + body <= len)
			return head + body;
		/* The parser's refusal of a request that began "HEAD " has no body. */
		return head == len && *status >= 400 && *status != 413 ? head : 0;
	}
	if (!memmem(s, head, "\r\nTransfer-Encoding: chunked\r\n", 30))
		return *status == 204 || *status == 304 ? head : 0;
	for (p = s + head; p < s + len;) { /* chunks up to the last, empty one */
		char *e;
		unsigned long n = strtoul(p, &e, 16);
		if (e == p || (size_t)(s + len - e) < 2 || memcmp(e, "\r\n", 2) != 0)
			return 0;
		p = e + 2;
		if (n == 0)
			return (size_t)(s + len - p) >= 2 && memcmp(p, "\r\n", 2) == 0
				       ? (size_t)(p + 2 - s) : 0;
		if ((size_t)(s + len - p) < n + 2 || memcmp(p + n, "\r\n", 2) != 0)
			return 0;
		p += n + 2;
	}
	return 0;
}

/* Whether the n-th request the handler saw (from 0) was a HEAD. */
static bool nth_is_head(const struct sbuf *trace_of, size_t n)
{
	const char *p = sbuf_str(trace_of);

	for (size_t i = 0; (p = strstr(p, "head ")) != NULL; p++) {
		if (p != sbuf_str(trace_of) && p[-1] != '\n')
			continue;
		if (i++ == n)
			return strncmp(p, "head HEAD ", 10) == 0;
	}
	return false;
}

static void check_answers(const struct sbuf *out, const struct sbuf *trace_of, size_t requests)
{
	size_t off = 0, finals = 0, n;
	int status = 0;

	while (off < out->len &&
	       (n = check_answer(out->data + off, out->len - off, nth_is_head(trace_of, finals),
				 &status)) > 0) {
		CHECK(status >= 100 && status <= 599);
		finals += status != 100;
		off += n;
	}
	CHECK_INT(off, out->len);
	if (off != out->len)
		fprintf(stderr, "  not HTTP at %zu: %.*s\n", off, (int)MIN(out->len - off, 200),
			out->data + off);
	/* One answer per request the handler saw, and one more when the parser refused one. */
	CHECK(finals == requests || finals == requests + 1);
}

static size_t count(const struct sbuf *b, const char *what)
{
	size_t n = 0;
	for (const char *p = sbuf_str(b); (p = strstr(p, what)) != NULL; p++)
		n += p == sbuf_str(b) || p[-1] == '\n';
	return n;
}

static size_t count_gone(const struct sbuf *b)
{
	size_t n = 0;
	for (const char *p = sbuf_str(b); (p = strstr(p, " gone\n")) != NULL; p++)
		n++;
	return n;
}

static void fuzz_http(const char *data, size_t len)
{
	struct sbuf whole_trace, split_trace, whole_out, split_out;

	sbuf_init(&whole_trace);
	sbuf_init(&split_trace);
	sbuf_init(&whole_out);
	sbuf_init(&split_out);
	trace = &whole_trace;
	converse(data, len, false, &whole_out);
	trace = &split_trace;
	converse(data, len, true, &split_out);
	trace = NULL;
	undate(&whole_out);
	undate(&split_out);
	CHECK(whole_trace.len == split_trace.len &&
	      memcmp(sbuf_str(&whole_trace), sbuf_str(&split_trace), whole_trace.len) == 0);
	CHECK(whole_out.len == split_out.len &&
	      memcmp(sbuf_str(&whole_out), sbuf_str(&split_out), whole_out.len) == 0);
	if (whole_out.len != split_out.len ||
	    memcmp(sbuf_str(&whole_out), sbuf_str(&split_out), whole_out.len) != 0 ||
	    whole_trace.len != split_trace.len ||
	    memcmp(sbuf_str(&whole_trace), sbuf_str(&split_trace), whole_trace.len) != 0)
		fprintf(stderr, "  whole:\n%s\n%s\n  in pieces:\n%s\n%s\n", sbuf_str(&whole_trace),
			sbuf_str(&whole_out), sbuf_str(&split_trace), sbuf_str(&split_out));
	/* Every head the handler saw is answered, but those the client left before the end of. */
	check_answers(&whole_out, &whole_trace,
		      count(&whole_trace, "head ") - count_gone(&whole_trace));
	sbuf_free(&whole_trace);
	sbuf_free(&split_trace);
	sbuf_free(&whole_out);
	sbuf_free(&split_out);
}

static const char *const http_seeds[] = {
	"GET /v1/campaigns?limit=10 HTTP/1.1\r\nHost: signpost\r\nAuthorization: Bearer sp_x\r\n\r\n",
	"POST /v1/tenants HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
	"Content-Length: 27\r\n\r\n{\"external_ref\": \"T-1\"}    "
	"GET /healthz HTTP/1.1\r\n\r\n",
	"POST /stream/import HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Type: text/csv\r\n\r\n"
	"10\r\nexternal_ref,pho\r\n3;ext=1\r\nne\n\r\n0\r\nX-Trailer: 1\r\n\r\n",
	"PUT /pause HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\nhello world",
	"POST /small HTTP/1.1\r\nContent-Length: 40\r\n\r\n0123456789012345678901234567890123456789",
	"POST /early HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcdeGET / HTTP/1.1\r\n\r\n",
	"POST /stop HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
	"GET /chunked HTTP/1.0\r\nConnection: keep-alive\r\n\r\n\r\nHEAD /chunked HTTP/1.1\r\n\r\n",
	"POST /v1/providers/tw/inbound HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
	"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
	NULL,
};

static const char *const http_dict[] = {
	"\r\n", "\r\n\r\n", " HTTP/1.1\r\n", " HTTP/1.0\r\n", "GET ", "POST ", "HEAD ", "PUT ",
	"Content-Length: ", "Transfer-Encoding: chunked\r\n", "Expect: 100-continue\r\n",
	"Connection: close\r\n", "Connection: keep-alive\r\n", "/stream", "/stop", "/pause",
	"/small", "/early", "/chunked", "0\r\n\r\n", ";ext=", "ffffffffffffffff", "18446744073709551616",
	"-1", " ", "\t", ":", "?", NULL,
};

static const struct fuzz_target suite_targets[] = {
	{ "http", http_seeds, http_dict, fuzz_http },
};

static int fuzz_suite_open(void)
{
	static const struct httpd_handlers handlers = { on_headers, on_body, on_complete };

	base = event_base_new();
	server = httpd_new(base, &handlers, NULL);
	return base && server ? 0 : -1;
}

static size_t fuzz_suite_targets(const struct fuzz_target **targets)
{
	*targets = suite_targets;
	return ARRAY_LEN(suite_targets);
}

static void fuzz_suite_close(void)
{
	httpd_free(server);
	server = NULL;
	if (base)
		event_base_free(base);
	base = NULL;
}

#ifndef FUZZ_TARGET
int main(int argc, char **argv)
{
	const struct fuzz_target *targets;
	size_t n = fuzz_suite_targets(&targets);
	int rc = 1;

	if (fuzz_suite_open() == 0)
		rc = fuzz_main(argc, argv, targets, n, "fuzz_http");
	fuzz_suite_close();
	return rc;
}
#endif
