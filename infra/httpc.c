#include "infra/httpc.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/log.h"

#define HTTPC_MAX_BODY (1 << 20)
#define HTTPC_FREE_HANDLES 256

struct httpc_sock {
	struct event *ev; /* reassigned when curl wants other events */
	curl_socket_t fd;
};

struct httpc_xfer {
	struct httpc *c;
	CURL *easy;
	struct curl_slist *headers; /* nodes of one allocation, lines in header_lines */
	struct sbuf header_lines;
	struct http_req req;
	struct httpc_response resp;
	httpc_cb *cb;
	void *arg;
	char request_id[LOG_REQUEST_ID_SIZE]; /* the HTTP request it was sent for, "" for none */
	httpc_addr_check *check; /* NULL: any address */
	void *check_arg;
	struct sbuf refused;      /* why check refused the last address it refused */
	bool body_overflow;
	struct httpc_xfer *next; /* pending start */
	struct httpc_xfer *active_prev, *active_next;
};

struct httpc {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct event *start;
	struct httpc_xfer *pending;
	struct httpc_xfer *active;
	CURL *free_handles[HTTPC_FREE_HANDLES];
	size_t nfree;
	size_t inflight;
};

static void httpc_check_done(struct httpc *c);

static void httpc_xfer_free(struct httpc_xfer *x)
{
	struct httpc *c = x->c;

	if (x->active_prev)
		x->active_prev->active_next = x->active_next;
	else if (c->active == x)
		c->active = x->active_next;
	if (x->active_next)
		x->active_next->active_prev = x->active_prev;

	if (x->easy) {
		if (c->nfree < HTTPC_FREE_HANDLES) {
			c->free_handles[c->nfree++] = x->easy;
		} else {
			curl_easy_cleanup(x->easy);
		}
	}
	free(x->headers);
	sbuf_free(&x->header_lines);
	sbuf_free(&x->refused);
	http_req_free(&x->req);
	kvlist_free(&x->resp.headers);
	sbuf_free(&x->resp.body);
	free(x);
}

static size_t httpc_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct httpc_xfer *x = arg;
	size_t len = size * n;

	if (x->resp.body.len + len > HTTPC_MAX_BODY) {
		x->body_overflow = true;
		return 0;
	}
	sbuf_add(&x->resp.body, data, len);
	return len;
}

static size_t httpc_header_cb(char *data, size_t size, size_t n, void *arg)
{
	struct httpc_xfer *x = arg;
	size_t len = size * n, end = len;
	const char *colon = memchr(data, ':', len);

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		kvlist_free(&x->resp.headers); /* a new response (after 100 Continue, say) */
		return len;
	}
	while (end > 0 && (data[end - 1] == '\r' || data[end - 1] == '\n'))
		end--;
	if (colon && (size_t)(colon - data) < end) {
		const char *v = colon + 1;
		while (v < data + end && (*v == ' ' || *v == '\t'))
			v++;
		kvlist_addn(&x->resp.headers, data, (size_t)(colon - data), v,
			    (size_t)(data + end - v));
	}
	return len;
}

/* Opens the socket for a connection curl is about to make, unless the check refuses it. */
static curl_socket_t httpc_open_socket(void *arg, curlsocktype purpose,
				       struct curl_sockaddr *address)
{
	struct httpc_xfer *x = arg;

	(void)purpose;
	if (x->check) {
		sbuf_reset(&x->refused);
		if (x->check(&address->addr, x->check_arg, &x->refused) < 0) {
			log_debug("httpc connection refused reason=\"%s\"", sbuf_str(&x->refused));
			return CURL_SOCKET_BAD;
		}
		sbuf_reset(&x->refused);
	}
	return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

/*
 * A handle from the free list, or a new one with the options every transfer shares. A
 * reused handle keeps them (curl_easy_reset would clear them only to have them set again);
 * httpc_setup sets every option that differs between transfers, each time.
 */
static CURL *httpc_easy(struct httpc *c)
{
	CURL *e;

	if (c->nfree)
		return c->free_handles[--c->nfree];
	e = curl_easy_init();
	if (!e)
		abort();
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, httpc_write_cb);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, httpc_header_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, httpc_open_socket);
	return e;
}

/* The request's headers as "Key: value" lines in one buffer, listed for curl. */
static void httpc_headers(struct httpc_xfer *x)
{
	const struct kvlist *h = &x->req.headers;
	size_t n = h->n + 1, at = 0;

	sbuf_init(&x->header_lines);
	for (size_t i = 0; i < h->n; i++) {
		sbuf_adds(&x->header_lines, h->items[i].key);
		sbuf_add(&x->header_lines, ": ", 2);
		sbuf_add(&x->header_lines, h->items[i].value, h->items[i].value_len);
		sbuf_add(&x->header_lines, "", 1);
	}
	sbuf_add(&x->header_lines, "Expect:", 8); /* no 100-continue round trip */
	x->headers = xmalloc(n * sizeof(*x->headers));
	for (size_t i = 0; i < n; i++) {
		x->headers[i].data = x->header_lines.data + at;
		x->headers[i].next = i + 1 < n ? &x->headers[i + 1] : NULL;
		at += strlen(x->headers[i].data) + 1;
	}
}

static void httpc_setup(struct httpc_xfer *x, long connect_timeout_ms, long timeout_ms)
{
	CURL *e = x->easy;

	httpc_headers(x);
	curl_easy_setopt(e, CURLOPT_URL, x->req.url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, x->check ? 1L : 0L);
	if (strcmp(x->req.method, "POST") == 0) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->req.body.len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, sbuf_str(&x->req.body));
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST,
				 strcmp(x->req.method, "GET") == 0 ? NULL : x->req.method);
	}
}

/* Transfers start from a zero-delay event so callbacks never run inside httpc_send. */
static void httpc_start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc *c = arg;
	struct httpc_xfer *x = c->pending;
	(void)fd, (void)what;

	c->pending = NULL;
	while (x) {
		struct httpc_xfer *next = x->next;
		CURLMcode rc = curl_multi_add_handle(c->multi, x->easy);
		if (rc != CURLM_OK) {
			log_error("httpc cannot start transfer error=\"%s\"", curl_multi_strerror(rc));
			abort();
		}
		x = next;
	}
}

void httpc_send_checked(struct httpc *c, struct http_req *req, httpc_addr_check *check,
			void *check_arg, long connect_timeout_ms, long timeout_ms, httpc_cb *cb,
			void *arg)
{
	struct httpc_xfer *x = xcalloc(1, sizeof(*x));

	x->c = c;
	x->req = *req;
	http_req_init(req);
	x->cb = cb;
	x->arg = arg;
	snprintf(x->request_id, sizeof(x->request_id), "%s", log_request());
	x->check = check;
	x->check_arg = check_arg;
	sbuf_init(&x->refused);
	kvlist_init(&x->resp.headers);
	sbuf_init(&x->resp.body);
	x->easy = httpc_easy(c);
	httpc_setup(x, connect_timeout_ms, timeout_ms);
	x->next = c->pending;
	c->pending = x;
	x->active_next = c->active;
	if (c->active)
		c->active->active_prev = x;
	c->active = x;
	c->inflight++;
	event_active(c->start, EV_TIMEOUT, 0);
}

void httpc_send(struct httpc *c, struct http_req *req, long connect_timeout_ms,
		long timeout_ms, httpc_cb *cb, void *arg)
{
	httpc_send_checked(c, req, NULL, NULL, connect_timeout_ms, timeout_ms, cb, arg);
}

/* Whether a failed transfer may have delivered its request. */
static bool httpc_maybe_sent(CURL *e, CURLcode code)
{
	curl_off_t pretransfer = 0;

	if (code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT ||
	    code == CURLE_SSL_CONNECT_ERROR || code == CURLE_UNSUPPORTED_PROTOCOL ||
	    code == CURLE_URL_MALFORMAT)
		return false;
	curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
	return pretransfer > 0;
}

static void httpc_finish(struct httpc *c, CURL *e, CURLcode code)
{
	struct httpc_xfer *x;
	curl_off_t total = 0;

	curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
	curl_multi_remove_handle(c->multi, e);
	curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
	x->resp.elapsed_ms = (int64_t)(total / 1000);
	if (code == CURLE_OK) {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &x->resp.status);
	} else {
		x->resp.status = 0;
		x->resp.error = x->body_overflow ? "response body too large" : curl_easy_strerror(code);
		if (code == CURLE_COULDNT_CONNECT && x->refused.len)
			x->resp.error = sbuf_str(&x->refused);
		x->resp.timed_out = code == CURLE_OPERATION_TIMEDOUT;
		x->resp.maybe_sent = httpc_maybe_sent(e, code);
		x->resp.bad_url = code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL;
	}
	c->inflight--;
	char prev[LOG_REQUEST_ID_SIZE];
	log_request_enter(x->request_id, prev);
	x->cb(&x->resp, x->arg);
	log_request_leave(prev);
	httpc_xfer_free(x);
}

static void httpc_check_done(struct httpc *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE)
			httpc_finish(c, msg->easy_handle, msg->data.result);
}

static void httpc_socket_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc *c = arg;
	int flags = (what & EV_READ ? CURL_CSELECT_IN : 0) | (what & EV_WRITE ? CURL_CSELECT_OUT : 0);
	int running;

	curl_multi_socket_action(c->multi, fd, flags, &running);
	httpc_check_done(c);
}

static void httpc_timer_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct httpc *c = arg;
	int running;
	(void)fd, (void)what;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	httpc_check_done(c);
}

static int httpc_socket_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct httpc *c = arg;
	struct httpc_sock *s = sockp;
	(void)e;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			event_free(s->ev);
			free(s);
		}
		curl_multi_assign(c->multi, fd, NULL);
		return 0;
	}
	short kind = (short)((what & CURL_POLL_IN ? EV_READ : 0) |
			     (what & CURL_POLL_OUT ? EV_WRITE : 0) | EV_PERSIST);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->fd = fd;
		s->ev = event_new(c->base, fd, kind, httpc_socket_event_cb, c);
		curl_multi_assign(c->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, c->base, fd, kind, httpc_socket_event_cb, c);
	}
	event_add(s->ev, NULL);
	return 0;
}

static int httpc_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct httpc *c = arg;
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	(void)multi;

	if (timeout_ms < 0)
		evtimer_del(c->timer);
	else
		evtimer_add(c->timer, &tv);
	return 0;
}

struct httpc *httpc_new(struct event_base *base, long max_host_connections)
{
	struct httpc *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->multi = curl_multi_init();
	if (!c->multi)
		abort();
	c->timer = evtimer_new(base, httpc_timer_event_cb, c);
	c->start = event_new(base, -1, 0, httpc_start_cb, c);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, httpc_socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, httpc_timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_host_connections);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, max_host_connections * 4);
	return c;
}

size_t httpc_inflight(const struct httpc *c)
{
	return c->inflight;
}

void httpc_free(struct httpc *c)
{
	if (!c)
		return;
	httpc_start_cb(-1, 0, c);
	while (c->active) {
		curl_multi_remove_handle(c->multi, c->active->easy);
		httpc_xfer_free(c->active);
	}
	curl_multi_cleanup(c->multi);
	for (size_t i = 0; i < c->nfree; i++)
		curl_easy_cleanup(c->free_handles[i]);
	event_free(c->timer);
	event_free(c->start);
	free(c);
}
