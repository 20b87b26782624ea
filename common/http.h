/*
 * http.h: an outbound HTTP request as plain data. Provider adapters and the core build
 * one; infra/httpc.c performs it.
 */
#ifndef SIGNPOST_HTTP_H
#define SIGNPOST_HTTP_H

#include "common/util.h"

struct http_req {
	const char *method; /* "GET" or "POST" (static string) */
	char *url;
	struct kvlist headers;
	struct sbuf body;
};

void http_req_init(struct http_req *r);
void http_req_free(struct http_req *r);
/* "Basic base64(user:password)", an Authorization value to free (and clear) after use. */
char *http_basic_auth(const char *user, const char *password);
/* Sets Authorization: Basic base64(user:password). */
void http_req_basic_auth(struct http_req *r, const char *user, const char *password);

#endif
