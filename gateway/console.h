/*
 * console.h: the web console's files, built into the binary (scripts/embed-console.sh)
 * and served at /console/. Every path under /console/ that is not an asset gets the
 * console's one page (its script then shows the page the path names), with the
 * configured org_name in its header. Assets live under /console/assets/<build id>/ and
 * may be cached for a year; the page itself is revalidated by ETag.
 */
#ifndef SIGNPOST_CONSOLE_H
#define SIGNPOST_CONSOLE_H

#include <stddef.h>

struct api_ctx;
struct config;

struct console_file {
	const char *path; /* relative to console/, such as "js/app.js" */
	const char *type;
	const unsigned char *data;
	size_t len;
	const unsigned char *gz; /* a gzip copy, or NULL */
	size_t gz_len;
	const char *etag; /* quoted */
};

extern const struct console_file console_files[];
extern const size_t console_files_count;
extern const char console_build_id[];

struct console;

/* Renders the page once for this configuration. */
struct console *console_new(const struct config *cfg);
void console_free(struct console *c);

/* GET / and GET /console: to /console/. */
void console_redirect(struct api_ctx *ctx);
/* GET /console/{*}: an asset, or the page. */
void console_serve(struct api_ctx *ctx);
/* One embedded file with its ETag (304 when it matches), gzip when accepted. */
void console_send_file(struct api_ctx *ctx, const struct console_file *f,
		       const char *cache_control);

#endif
