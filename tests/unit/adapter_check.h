/*
 * adapter_check.h: what the adapter unit tests share: building an adapter from config
 * text, a webhook as the daemon would hand it over, a send result, a receipt and an
 * inbound text. Include after tests/check.h.
 */
#ifndef SIGNPOST_ADAPTER_CHECK_H
#define SIGNPOST_ADAPTER_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "providers/provider.h"

/* init with a config given as JSON text; NULL with err filled on failure. */
static inline void *adapter_new(const struct provider_ops *ops, const char *cfg_text,
				struct sbuf *err)
{
	struct json_object *cfg = json_tokener_parse(cfg_text);
	struct provider_env env = { "https://signpost.example", "http://127.0.0.1:8080", NULL };
	void *priv = NULL;

	if (!cfg)
		abort();
	if (provider_init(ops, cfg, &env, &priv, err) < 0)
		priv = NULL;
	json_object_put(cfg);
	return priv;
}

/* adapter_new that must succeed. */
static inline void *adapter_must(const struct provider_ops *ops, const char *cfg_text)
{
	struct sbuf err;
	void *priv;

	sbuf_init(&err);
	priv = adapter_new(ops, cfg_text, &err);
	if (!priv) {
		fprintf(stderr, "%s init: %s\n", ops->type, sbuf_str(&err));
		abort();
	}
	sbuf_free(&err);
	return priv;
}

/* The init error for a config, "" when it is accepted (static buffer). */
static inline const char *adapter_config_error(const struct provider_ops *ops, const char *cfg)
{
	static char msg[512];
	struct sbuf err;
	void *priv;

	sbuf_init(&err);
	priv = adapter_new(ops, cfg, &err);
	snprintf(msg, sizeof(msg), "%s", sbuf_str(&err));
	if (priv)
		provider_destroy(ops, priv);
	sbuf_free(&err);
	return msg;
}

/* A webhook: method, full URL (its query decoded into query), headers and body. */
struct hook {
	struct kvlist headers, query;
	struct http_in in;
};

static inline void hook_init(struct hook *h, const char *method, const char *url,
			     const char *body, int64_t now)
{
	const char *q = strchr(url, '?');

	kvlist_init(&h->headers);
	kvlist_init(&h->query);
	if (q && codec_form_parse(&h->query, q + 1, strlen(q + 1)) < 0)
		abort();
	h->in = (struct http_in){ method, url, &h->query, &h->headers, body,
				  body ? strlen(body) : 0, now };
}

static inline void hook_free(struct hook *h)
{
	kvlist_free(&h->headers);
	kvlist_free(&h->query);
}

/* parse_send_result on an answer with an optional Retry-After. */
static inline void adapter_result(const struct provider_ops *ops, void *priv, long status,
				  const char *retry_after, const char *body,
				  struct send_result *out)
{
	struct kvlist h;

	kvlist_init(&h);
	kvlist_add(&h, "Content-Type", "application/json");
	if (retry_after)
		kvlist_add(&h, "Retry-After", retry_after);
	memset(out, 0x5a, sizeof(*out));
	provider_parse_send_result(ops, priv, status, &h, body, body ? strlen(body) : 0, out);
	kvlist_free(&h);
}

/*
 * The --verify mode of the adapter tests: one case per line on stdin, "1" (accepted) or
 * "0" per line on stdout. verify_line returns 1, 0, or -1 for a malformed case (exit 2).
 */
static inline int adapter_verify_cli(int (*verify_line)(const char *line))
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (getline(&line, &cap, stdin) > 0) {
		int ok = verify_line(line);
		if (ok < 0)
			rc = 2;
		printf("%d\n", ok > 0);
	}
	free(line);
	return rc;
}

/* parse_status on a webhook; checks that err is set exactly on -1. */
static inline int adapter_status(const struct provider_ops *ops, void *priv, const char *method,
				 const char *url, const char *body, struct status_in *out)
{
	struct sbuf err;
	struct hook h;
	int rc;

	sbuf_init(&err);
	hook_init(&h, method, url, body, 0);
	rc = provider_parse_status(ops, priv, &h.in, out, &err);
	CHECK(rc < 0 ? err.len > 0 : err.len == 0);
	hook_free(&h);
	sbuf_free(&err);
	return rc;
}

/* parse_inbound on a webhook; checks that err is set exactly on -1. */
static inline int adapter_inbound(const struct provider_ops *ops, void *priv,
				  const char *method, const char *url, const char *body,
				  struct sms_in *out)
{
	struct sbuf err;
	struct hook h;
	int rc;

	sbuf_init(&err);
	hook_init(&h, method, url, body, 0);
	rc = provider_parse_inbound(ops, priv, &h.in, out, &err);
	CHECK(rc < 0 ? err.len > 0 : err.len == 0);
	hook_free(&h);
	sbuf_free(&err);
	return rc;
}

#endif
