#include "gateway/console.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "gateway/api.h"

#define CONSOLE_PAGE "index.html"
#define CONSOLE_ASSETS "assets/"

struct console {
	struct sbuf page;
	char etag[40];
};

static const struct console_file *console_find(const char *path)
{
	for (size_t i = 0; i < console_files_count; i++)
		if (strcmp(console_files[i].path, path) == 0)
			return &console_files[i];
	return NULL;
}

/* The page with {{org_name}} and {{assets}} filled in. */
struct console *console_new(const struct config *cfg)
{
	const struct console_file *f = console_find(CONSOLE_PAGE);
	struct console *c = xcalloc(1, sizeof(*c));
	const char *s = (const char *)f->data, *end = s + f->len;
	struct sbuf sum;

	sbuf_init(&c->page);
	while (s < end) {
		const char *open = strstr(s, "{{");
		if (!open) {
			sbuf_add(&c->page, s, (size_t)(end - s));
			break;
		}
		sbuf_add(&c->page, s, (size_t)(open - s));
		if (str_startswith(open, "{{org_name}}")) {
			codec_xml_escape(&c->page, cfg->org_name); /* HTML needs the same */
			s = open + strlen("{{org_name}}");
		} else if (str_startswith(open, "{{assets}}")) {
			sbuf_printf(&c->page, "/console/" CONSOLE_ASSETS "%s", console_build_id);
			s = open + strlen("{{assets}}");
		} else {
			sbuf_add(&c->page, open, 2);
			s = open + 2;
		}
	}
	sbuf_init(&sum);
	crypto_sha256_hex(&sum, c->page.data, c->page.len);
	snprintf(c->etag, sizeof(c->etag), "\"%.20s\"", sum.data);
	sbuf_free(&sum);
	return c;
}

void console_free(struct console *c)
{
	if (!c)
		return;
	sbuf_free(&c->page);
	free(c);
}

void console_redirect(struct api_ctx *ctx)
{
	httpd_add_header(ctx->req, "Location", "/console/");
	api_reply(ctx, 302, "text/plain; charset=utf-8", "See /console/\n", 14);
}

static bool console_not_modified(struct api_ctx *ctx, const char *etag)
{
	const char *inm = httpd_req_header(ctx->req, "If-None-Match");

	httpd_add_header(ctx->req, "ETag", etag);
	if (!inm || (!strstr(inm, etag) && strcmp(inm, "*") != 0))
		return false;
	api_reply(ctx, 304, NULL, NULL, 0);
	return true;
}

static bool console_accepts_gzip(struct api_ctx *ctx)
{
	const char *ae = httpd_req_header(ctx->req, "Accept-Encoding");
	return ae && strstr(ae, "gzip") && !strstr(ae, "gzip;q=0");
}

void console_send_file(struct api_ctx *ctx, const struct console_file *f,
		       const char *cache_control)
{
	bool gz = f->gz && console_accepts_gzip(ctx);
	char etag[48];

	snprintf(etag, sizeof(etag), "%.*s%s\"", (int)strlen(f->etag) - 1, f->etag,
		 gz ? "-gz" : "");
	httpd_add_header(ctx->req, "Cache-Control", cache_control);
	if (f->gz)
		httpd_add_header(ctx->req, "Vary", "Accept-Encoding");
	if (console_not_modified(ctx, etag))
		return;
	if (gz)
		httpd_add_header(ctx->req, "Content-Encoding", "gzip");
	api_reply(ctx, 200, f->type, (const char *)(gz ? f->gz : f->data), gz ? f->gz_len : f->len);
}

static void console_asset(struct api_ctx *ctx, const char *rest)
{
	size_t id_len = strlen(console_build_id);
	const struct console_file *f = NULL;

	if (strncmp(rest, console_build_id, id_len) == 0 && rest[id_len] == '/' &&
	    strcmp(rest + id_len + 1, CONSOLE_PAGE) != 0)
		f = console_find(rest + id_len + 1);
	if (!f) {
		api_error(ctx, 404, "not_found", NULL, "no such console file: %s (the console may "
			  "have been updated: reload the page)", ctx->req->path);
		return;
	}
	console_send_file(ctx, f, "public, max-age=31536000, immutable");
}

void console_serve(struct api_ctx *ctx)
{
	const struct console *c = ctx->app->console;
	const char *rest = ctx->params[ctx->nparams - 1];

	if (str_startswith(rest, CONSOLE_ASSETS)) {
		console_asset(ctx, rest + strlen(CONSOLE_ASSETS));
		return;
	}
	httpd_add_header(ctx->req, "Cache-Control", "no-cache");
	if (console_not_modified(ctx, c->etag))
		return;
	api_reply(ctx, 200, "text/html; charset=utf-8", c->page.data, c->page.len);
}
