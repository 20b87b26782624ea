#include "infra/httpd_head.h"

#include <string.h>

#include "common/util.h"

#define HTTPD_MAX_HEADERS 100

static bool httpd_head_token_char(char ch)
{
	return ch > 32 && ch < 127 && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

static int httpd_head_request_line(struct httpd_req *req, const char *line, size_t n,
				    bool *http11)
{
	const char *sp1 = memchr(line, ' ', n);
	const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line)) : NULL;

	if (!sp1 || !sp2 || sp1 == line || (size_t)(sp1 - line) >= sizeof(req->method) ||
	    sp2 == sp1 + 1)
		return -1;
	for (const char *p = line; p < sp1; p++)
		if (!httpd_head_token_char(*p))
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

static int httpd_head_header_line(struct httpd_req *req, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);

	if (!colon || colon == line || req->headers.n >= HTTPD_MAX_HEADERS)
		return -1;
	for (const char *p = line; p < colon; p++)
		if (!httpd_head_token_char(*p))
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

int httpd_head_parse(struct httpd_req *req, const char *head, size_t n, bool *http11)
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
		int rc = first ? httpd_head_request_line(req, head + pos, len, http11)
			       : httpd_head_header_line(req, head + pos, len);
		if (rc < 0)
			return -1;
		first = false;
		pos = (size_t)(eol - head) + 1;
	}
	return first ? -1 : 0;
}

bool httpd_head_lengths_disagree(const struct httpd_req *req)
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
