/*
 * test_httpd.c: streamed answers against a real client on 127.0.0.1: a client that reads
 * gets every chunk and the end; one that leaves while the server waits for it to drain
 * ends the stream as cut short, and the request is freed.
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "infra/httpd.h"
#include "tests/check.h"

#define BLOCKS 40
#define BLOCK 65536 /* more than the server lets wait unsent: every block waits to drain */

struct stream {
	struct httpd_req *req;
	int sent, waits;
	bool ended, complete;
};

struct client {
	struct event_base *base;
	struct event *ev;
	evutil_socket_t fd;
	bool leave_after_head;
	size_t got;
	char tail[8];
	bool eof;
};

static char block[BLOCK];
static struct stream st;

static void produce(void *arg)
{
	struct stream *s = arg;

	if (!httpd_reply_chunk(s->req, block, sizeof(block))) {
		s->ended = true;
		httpd_reply_end(s->req, false);
		return;
	}
	if (++s->sent == BLOCKS) {
		s->ended = s->complete = true;
		httpd_reply_end(s->req, true);
		return;
	}
	s->waits++;
	httpd_reply_when_drained(s->req, produce, s);
}

static void on_headers(struct httpd_req *req, void *arg)
{
	(void)arg;
	httpd_req_buffer_body(req, 0);
}

static void on_complete(struct httpd_req *req, void *arg)
{
	(void)arg;
	st.req = req;
	httpd_reply_start(req, 200, "text/plain");
	produce(&st);
}

static void client_read(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf), 0);
	(void)what;

	if (n <= 0 || (c->leave_after_head && memmem(buf, (size_t)n, "\r\n\r\n", 4))) {
		struct timeval later = { 0, 200000 };
		c->eof = n <= 0;
		event_del(c->ev);
		close(fd);
		event_base_loopexit(c->base, &later);
		return;
	}
	c->got += (size_t)n;
	if (n >= 5)
		memcpy(c->tail, buf + n - 5, 5);
}

static void run(struct event_base *base, int port, bool leave)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const char request[] = "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct client c = { .base = base, .leave_after_head = leave };
	int small = 4096;

	memset(&st, 0, sizeof(st));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	CHECK(connect(c.fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(send(c.fd, request, sizeof(request) - 1, 0) == (ssize_t)sizeof(request) - 1);
	evutil_make_socket_nonblocking(c.fd);
	c.ev = event_new(base, c.fd, EV_READ | EV_PERSIST, client_read, &c);
	event_add(c.ev, NULL);
	event_base_dispatch(base);
	event_free(c.ev);
	if (!leave) {
		CHECK(c.eof);
		CHECK(c.got > (size_t)BLOCKS * BLOCK);
		CHECK(memcmp(c.tail, "0\r\n\r\n", 5) == 0);
	}
}

/* A port nothing listens on just now. */
static int free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	getsockname(fd, (struct sockaddr *)&sa, &len);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

TEST(streamed_answers)
{
	struct event_base *base = event_base_new();
	struct httpd_handlers handlers = { on_headers, NULL, on_complete };
	struct httpd *h = httpd_new(base, &handlers, NULL);
	struct sbuf err;
	int port = free_port();

	sbuf_init(&err);
	CHECK(httpd_listen(h, "127.0.0.1", port, &err) == 0);
	run(base, port, false);
	CHECK(st.complete);
	CHECK_INT(st.sent, BLOCKS);
	CHECK(st.waits > 0);
	CHECK_INT(httpd_open_requests(h), 0);

	run(base, port, true);
	CHECK(st.ended && !st.complete);
	CHECK(st.sent < BLOCKS);
	CHECK_INT(httpd_open_requests(h), 0);
	httpd_free(h);
	event_base_free(base);
	sbuf_free(&err);
}

int main(void)
{
	memset(block, 'x', sizeof(block));
	RUN(streamed_answers);
	return check_summary("httpd");
}
