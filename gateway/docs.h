/*
 * docs.h: the API reference, built into the binary (scripts/embed-console.sh --docs): the
 * OpenAPI 3.1 description docs/openapi.json at GET /v1/openapi.json, and the HTML page
 * scripts/openapi-html.py makes from it at GET /v1/docs, with its stylesheet. No key; each
 * is revalidated by ETag. The page has no script and no inline style, so it is served with
 * the same Content-Security-Policy as everything else.
 */
#ifndef SIGNPOST_DOCS_H
#define SIGNPOST_DOCS_H

#include "gateway/console.h"

extern const struct console_file docs_files[];
extern const size_t docs_files_count;

/* GET /v1/openapi.json */
void docs_openapi(struct api_ctx *ctx);
/* GET /v1/docs */
void docs_page(struct api_ctx *ctx);
/* GET /v1/docs/docs.css */
void docs_stylesheet(struct api_ctx *ctx);

#endif
