/*
 * httpd.h: a small HTTP/1.1 server on libevent bufferevents.
 *
 * evhttp in libevent 2.1 reads every request body whole before its callback runs; signpost
 * needs to stream large CSV uploads, refuse bodies by route before reading them, and
 * pause reading while the database catches up, so it parses HTTP itself.
 *
 * Per request: on_headers runs once the head is parsed and decides how the body is read
 * (httpd_req_buffer_body or httpd_req_stream_body) or answers at once; on_body runs for
 * each chunk of a streamed body; on_complete runs when the body is in. The handler answers
 * exactly once with httpd_reply (or a streamed answer), possibly much later. A request whose client went away is
 * kept until it is answered (the answer is then dropped): handlers never see a freed request.
 *
 * What one client can make the server hold is bounded: a paused request reads nothing
 * more from its socket, a client that does not read its answers sends no further request
 * until it does, a request's head and body must arrive within a deadline (the time it is
 * paused is not counted), and one address may hold only so many connections. A
 * connection closed with a body unread is drained for a moment first, so the client
 * reads the answer rather than a reset.
 */
#ifndef SIGNPOST_HTTPD_H
#define SIGNPOST_HTTPD_H

#include <event2/event.h>
#include <sys/socket.h>

#include "common/util.h"

struct bufferevent;
struct httpd;
struct httpd_req;

struct httpd_handlers {
	void (*on_headers)(struct httpd_req *req, void *arg);
	/* Return -1 to stop reading (the handler then answers). */
	int (*on_body)(struct httpd_req *req, const char *data, size_t len, void *arg);
	void (*on_complete)(struct httpd_req *req, void *arg);
};

struct httpd_req {
	char method[12];
	char peer[46];         /* the client's address, as text (INET6_ADDRSTRLEN) */
	bool peer_exempt;      /* an address the per-address limits spare (httpd_limits.exempt) */
	char *target;  /* raw request-target */
	char *path;    /* target up to '?' */
	char *query;   /* raw text after '?', or NULL */
	struct kvlist headers;
	struct sbuf body;      /* the buffered body (buffer mode) */
	size_t body_limit;
	bool body_too_large;   /* buffer mode: the body went past body_limit */
	bool body_aborted;     /* the client went away or sent a malformed body */
	bool body_late;        /* ... or did not send it within its deadline (body_aborted too) */
	int deadline_ms;       /* for the head and body, from the head's first byte */
	bool streaming;
	bool reply_started;    /* httpd_reply_start was called */
	int64_t started_ms;
	/* From a sane X-Request-Id (log_request_id_ok), else made up; sent back in the answer. */
	char request_id[65];
	void *data;            /* the handler's own state */
	/* private */
	struct httpd_conn *conn;
	struct httpd *httpd;
	struct kvlist reply_headers;
	bool body_mode_set;
	bool replied;
	bool body_done;
	bool paused;
	bool expect_continue;
	void (*drain_cb)(void *arg);
	void *drain_arg;
};

/* What one client may take. */
struct httpd_limits {
	int request_ms;            /* head and body arrive within this (default 30000) */
	size_t conns_per_peer;     /* connections at once from one address, 0: no cap (default 64) */
	const char *const *exempt; /* addresses no cap applies to, NULL-terminated (default none) */
};

struct httpd *httpd_new(struct event_base *base, const struct httpd_handlers *h, void *arg);
/* Replaces the defaults; exempt is read now and not kept. */
void httpd_set_limits(struct httpd *h, const struct httpd_limits *limits);
/* An IPv4 or IPv6 address in text, as the 16 bytes of its IPv6 form; false when it is not one. */
bool httpd_addr_parse(const char *text, unsigned char out[16]) WUR;
/* Binds and listens; -1 with a message in err. */
int httpd_listen(struct httpd *h, const char *host, int port, struct sbuf *err) WUR;
/*
 * Serves a connection made elsewhere, as one accepted: how tests and the fuzzer feed the
 * parser bytes through a bufferevent pair, without sockets. The server owns bev; peer is
 * the client's address as accepting would have given it (no per-address cap applies).
 */
void httpd_adopt(struct httpd *h, struct bufferevent *bev, const struct sockaddr *peer);
/* Stops accepting; open connections finish their current request. */
void httpd_stop_accepting(struct httpd *h);
void httpd_free(struct httpd *h);
size_t httpd_open_requests(const struct httpd *h);

/* In on_headers: how to read the body. */
void httpd_req_buffer_body(struct httpd_req *req, size_t limit);
void httpd_req_stream_body(struct httpd_req *req);
/* In on_headers, before any pause: another deadline than httpd_limits.request_ms. */
void httpd_req_set_deadline(struct httpd_req *req, int ms);
/* Back-pressure: while a request is paused nothing more is read from its client. */
void httpd_req_pause(struct httpd_req *req);
void httpd_req_resume(struct httpd_req *req);

const char *httpd_req_header(const struct httpd_req *req, const char *name);
void httpd_add_header(struct httpd_req *req, const char *name, const char *value);
/* Answers and, once the body is read, frees the request. */
void httpd_reply(struct httpd_req *req, int status, const char *content_type,
		 const char *body, size_t len);
/*
 * A streamed answer, for bodies too large to hold: httpd_reply_start sends the head (the
 * body goes chunked), httpd_reply_chunk each part (false once the client has gone: stop
 * producing), and httpd_reply_end finishes and frees the request (complete false cuts the
 * body short, so the client knows it is incomplete). Between parts, httpd_reply_when_drained
 * calls cb once the client has read most of what was sent, or has gone.
 */
void httpd_reply_start(struct httpd_req *req, int status, const char *content_type);
bool httpd_reply_chunk(struct httpd_req *req, const char *data, size_t len);
void httpd_reply_when_drained(struct httpd_req *req, void (*cb)(void *arg), void *arg);
void httpd_reply_end(struct httpd_req *req, bool complete);

const char *httpd_status_text(int status);

#endif
