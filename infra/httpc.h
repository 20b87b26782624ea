/*
 * httpc.h: outbound HTTP through the libcurl multi interface driven by libevent.
 *
 * Connections are kept alive and reused per host. Each request has a connect timeout and a
 * total timeout. A transport failure says whether the request may have reached the server
 * (maybe_sent): a text that may have been accepted must not be sent again.
 */
#ifndef SIGNPOST_HTTPC_H
#define SIGNPOST_HTTPC_H

#include <event2/event.h>
#include <sys/socket.h>

#include "common/http.h"
#include "common/util.h"

struct httpc;

struct httpc_response {
	long status;          /* 0 on transport failure */
	const char *error;    /* transport failure, NULL otherwise */
	bool maybe_sent;      /* transport failure after the request may have been delivered */
	bool timed_out;
	bool bad_url;         /* the URL could not be used: malformed, or not http(s) */
	struct kvlist headers;
	struct sbuf body;
	int64_t elapsed_ms;
};

typedef void httpc_cb(struct httpc_response *resp, void *arg);

struct httpc *httpc_new(struct event_base *base, long max_host_connections);
/* Aborts transfers in flight without calling their callbacks. NULL is a no-op. */
void httpc_free(struct httpc *c);
/* Takes over req's contents (req is left empty). cb runs exactly once, never from inside this call. */
void httpc_send(struct httpc *c, struct http_req *req, long connect_timeout_ms,
		long timeout_ms, httpc_cb *cb, void *arg);
/*
 * Whether a transfer may connect to addr (an AF_INET or AF_INET6 sockaddr): 0 allows it;
 * -1 refuses it, with the reason in why.
 */
typedef int httpc_addr_check(const struct sockaddr *addr, void *arg, struct sbuf *why);

/*
 * httpc_send, for a URL someone else chose: check sees every address the transfer is about
 * to connect to, as resolved for the connection itself (so a name cannot resolve to one
 * address when checked and another when used), and a refused one is never connected to.
 * The transfer always opens a connection of its own rather than reuse one made without
 * the check. When every address was refused the response's error says why ("refused to
 * connect to 10.0.0.5: ..."). With a proxy in the environment, the address checked is
 * the proxy's. check_arg must outlive the transfer.
 */
void httpc_send_checked(struct httpc *c, struct http_req *req, httpc_addr_check *check,
			void *check_arg, long connect_timeout_ms, long timeout_ms, httpc_cb *cb,
			void *arg);
size_t httpc_inflight(const struct httpc *c);

#endif
