/*
 * http.c: outbound HTTP requests as plain data (see http.h).
 */
#include "common/http.h"

#include <stdlib.h>
#include <string.h>

#include "common/codec.h"

void http_req_init(struct http_req *r)
{
	r->method = "POST";
	r->url = NULL;
	kvlist_init(&r->headers);
	sbuf_init(&r->body);
}

void http_req_free(struct http_req *r)
{
	free(r->url);
	kvlist_free(&r->headers);
	sbuf_free(&r->body);
	http_req_init(r);
}

char *http_basic_auth(const char *user, const char *password)
{
	struct sbuf plain, header;

	sbuf_init(&plain);
	sbuf_init(&header);
	sbuf_printf(&plain, "%s:%s", user, password);
	sbuf_adds(&header, "Basic ");
	codec_base64_encode(&header, plain.data, plain.len);
	/* The credentials were in plain text: do not leave them in freed memory. */
	memset(plain.data, 0, plain.len);
	sbuf_free(&plain);
	return sbuf_detach(&header);
}

void http_req_basic_auth(struct http_req *r, const char *user, const char *password)
{
	char *value = http_basic_auth(user, password);

	kvlist_add(&r->headers, "Authorization", value);
	memset(value, 0, strlen(value));
	free(value);
}
