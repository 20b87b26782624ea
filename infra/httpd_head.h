/*
 * httpd_head.h: parsing a request's head for infra/httpd.c: the request line and the
 * header lines, strictly (no obsolete line folding, no control characters, tokens where
 * tokens belong).
 */
#ifndef SIGNPOST_HTTPD_HEAD_H
#define SIGNPOST_HTTPD_HEAD_H

#include "infra/httpd.h"

/* Fills method, target, path, query and headers from head (n bytes); -1 when malformed. */
int httpd_head_parse(struct httpd_req *req, const char *head, size_t n, bool *http11) WUR;
/* Two Content-Length headers that differ leave the body's end ambiguous. */
bool httpd_head_lengths_disagree(const struct httpd_req *req);

#endif
