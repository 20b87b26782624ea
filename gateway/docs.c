#include "gateway/docs.h"

#include <string.h>

#include "gateway/api.h"

static void docs_serve(struct api_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < docs_files_count; i++) {
		if (strcmp(docs_files[i].path, name) == 0) {
			console_send_file(ctx, &docs_files[i], "no-cache");
			return;
		}
	}
	api_error(ctx, 404, "not_found", NULL, "no such resource: %s", ctx->req->path);
}

void docs_openapi(struct api_ctx *ctx)
{
	docs_serve(ctx, "openapi.json");
}

void docs_page(struct api_ctx *ctx)
{
	docs_serve(ctx, "api.html");
}

void docs_stylesheet(struct api_ctx *ctx)
{
	docs_serve(ctx, "openapi.css");
}
