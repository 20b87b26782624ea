/*
 * fake_common.h: what the fake provider servers share: the HTTP server on 127.0.0.1,
 * the store of accepted messages, fault injection, signed callbacks and inbound texts
 * posted to the daemon, and the control API under /_fake/ (tests/fake/README.md).
 *
 * A fake is a struct fake_provider: the provider's send endpoint, its answers and the
 * shape of its webhooks. fake_main() does everything else.
 */
#ifndef SIGNPOST_FAKE_COMMON_H
#define SIGNPOST_FAKE_COMMON_H

#include <event2/http.h>
#include <json-c/json.h>

#include "providers/provider.h"

#define FAKE_SENDER "+447700900000"

enum fake_mode { FAKE_OK, FAKE_ERROR500, FAKE_HANG, FAKE_THROTTLE429, FAKE_CODE };

/* One accepted message: its id and the fields as the provider received them. */
struct fake_msg {
	char id[48];
	struct kvlist fields;
	int64_t received_ms;
};

#define FAKE_FIELD(m, name) kvlist_get(&(m)->fields, name)

/* A webhook the fake posts: which, and how. */
struct fake_hook {
	const char *status;     /* callbacks: the provider's status word */
	const char *error_code; /* callbacks: an error code, or NULL */
	const char *format;     /* "get", "form" or "json" where the provider varies; NULL: its default */
	bool bad_signature;     /* sign with a wrong key */
};

/* One inbound text (or part) for the provider to post to the daemon. */
struct fake_inbound {
	const char *from, *to, *text;
	char id[48];
	int part, parts; /* 1-based; parts > 1 for a concatenated text */
	const char *ref;
	const char *format; /* as in struct fake_hook */
	bool bad_signature;
};

struct fake;

struct fake_provider {
	const char *name;
	/* Mode "code" default code and the name of its JSON key besides "code". */
	int default_code;
	const char *code_key;
	/* Is path the send endpoint? */
	bool (*send_path)(const struct fake *f, const char *path);
	/* Does the send endpoint at path take GET too (fields in the query)? NULL: POST only. */
	bool (*send_get)(const struct fake *f, const char *path);
	/* Checks credentials (the parsed fields too, for providers that send keys in them). */
	bool (*authorized)(const struct fake *f, struct evhttp_request *req, const char *path,
			   const struct kvlist *fields);
	/* Parses a send body into fields (provider names); -1 when unreadable. */
	int (*parse)(struct evhttp_request *req, const char *body, size_t len,
		     struct kvlist *fields);
	/* The recipient of a send in E.164, for the "to" filter of fault modes. */
	void (*recipient)(const struct kvlist *fields, char *out, size_t size);
	/* 0 when acceptable; otherwise answers the refusal and returns -1. */
	int (*check)(struct fake *f, struct evhttp_request *req, const struct kvlist *fields);
	void (*new_id)(struct fake *f, char *id, size_t size);
	void (*accepted)(struct fake *f, struct evhttp_request *req, const struct fake_msg *m);
	/* Answers an error: HTTP status plus the provider's code (0: its generic one). */
	void (*error)(struct fake *f, struct evhttp_request *req, int status, int code);
	/* The URL receipts for m go to, or NULL. */
	const char *(*status_url)(const struct fake_msg *m);
	/* Builds a receipt for m; -1 when it cannot. */
	int (*callback)(struct fake *f, const struct fake_msg *m, const struct fake_hook *h,
			struct http_req *out);
	/* Builds an inbound post to base (the daemon's /v1/providers/{name}). */
	int (*inbound)(struct fake *f, const char *base, const struct fake_inbound *in,
		       struct http_req *out);
	/* One stored message as /_fake/messages shows it. */
	struct json_object *(*msg_json)(const struct fake_msg *m);
	/* Parses one provider option (--name value); false when unknown. */
	bool (*option)(struct fake *f, const char *name, const char *value);
	/* Checks the options once parsed; false prints usage. */
	bool (*options_ok)(const struct fake *f);
	const char *usage;
};

struct fake {
	const struct fake_provider *p;
	void *priv;     /* the provider's own state */
	struct event_base *base;
	struct evhttp *http;
	char *webhook_base;
	uint32_t seq;
	struct fake_msg *msgs;
	size_t nmsgs, cap, max_msgs;
	enum fake_mode mode;
	long mode_count;
	int retry_after, code, code_status, delay_ms;
	char *code_text; /* mode "code": the code as given (a number or a word) */
	char *mode_to;
	char **auto_statuses;
	size_t nauto;
	int auto_delay_ms;
	char *auto_error;
	struct fake_out *outs;
	struct fake_later *laters;
	struct {
		long requests, accepted, rejected, auth_failures, injected, hanging;
		long callbacks_sent, callbacks_ok, callbacks_failed, callbacks_pending;
		long inbound_sent, inbound_ok, inbound_failed;
	} stats;
	bool stopping;
};

/* Answers obj as JSON and releases it. */
void fake_reply(struct evhttp_request *req, int status, struct json_object *obj);
/* The request body, NUL-terminated; *len is its length. Free it. */
char *fake_body(struct evhttp_request *req, size_t *len);
/* A random lower- or upper-case hex string of n digits, after prefix and a counter. */
void fake_make_id(struct fake *f, const char *prefix, size_t n, bool upper, char *id,
		  size_t size);
/* Adds the members kv[0]: kv[1], ...; a NULL value gives null. */
void fake_json_add(struct json_object *o, const char *const *kv, size_t n);
/* ISO 8601 UTC with milliseconds. */
void fake_time_iso(int64_t ms, char *out, size_t size);
/* Checks an Authorization header against Basic user:password. */
bool fake_basic_ok(struct evhttp_request *req, const char *user, const char *password);
/* Code points in UTF-8 s. */
size_t fake_chars(const char *s);
/* Parts a text needs: GSM-7-ish ASCII 160/153, otherwise UCS-2 70/67. */
int fake_segments(const char *body);
/* True for an absolute http(s) URL with a host. */
bool fake_abs_url(const char *s);
/* The value of a --flag name=value option, for providers' option(). */
bool fake_opt(const char *name, const char *want, const char *value, const char **out);

int fake_main(const struct fake_provider *p, void *priv, int argc, char **argv);

#endif
