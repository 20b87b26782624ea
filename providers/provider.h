/*
 * provider.h: the interface between the core and SMS provider adapters.
 *
 * Adapters are pure translators. They build HTTP requests, parse HTTP responses and
 * webhooks, and verify webhook signatures. They never do I/O, never touch the event loop
 * and never log. Inputs are borrowed for the duration of a call; outputs go into structs
 * the caller owns.
 */
#ifndef SIGNPOST_PROVIDER_H
#define SIGNPOST_PROVIDER_H

#include <json-c/json.h>
#include <string.h>

#include "common/http.h"
#include "common/util.h"

/* Message states. The order of the enum is not the order of progress: see msg_state_rank. */
enum msg_state {
	MSG_QUEUED,
	MSG_RETRY,
	MSG_SENDING,
	MSG_UNKNOWN,
	MSG_SUBMITTED,
	MSG_ENROUTE,
	MSG_DELIVERED,
	MSG_UNDELIVERED,
	MSG_FAILED,
	MSG_REJECTED,
	MSG_EXPIRED,
	MSG_CANCELLED,
	MSG_SKIPPED,
	MSG__COUNT
};

const char *msg_state_str(enum msg_state s);
/* Parses the names msg_state_str gives; false for anything else. */
bool msg_state_parse(const char *s, enum msg_state *out) WUR;
/* Progress rank: a message only ever moves to a state of higher rank. */
int msg_state_rank(enum msg_state s);
bool msg_state_final(enum msg_state s);

/* A webhook as the daemon received it. */
struct http_in {
	const char *method;
	/* The URL the provider called: SIGNPOST_PUBLIC_URL + path + ("?" + raw query). */
	const char *url;
	const struct kvlist *query;   /* decoded query parameters */
	const struct kvlist *headers; /* names as received; look up with kvlist_get_ci */
	const char *body;
	size_t body_len;
	int64_t now; /* unix seconds, for signature timestamp checks */
};

/* Longest replay id (with its NUL) a webhook may carry; a longer one is refused. */
#define PROVIDER_REPLAY_ID_MAX 200

/*
 * What verify found besides "authentic": an id the provider signs for one request only
 * (MessageBird's JWT jti, Standard Webhooks' webhook-id), which the core records until
 * replay_until so that the same signed request is refused when it comes again. Twilio,
 * Vonage and Firetext sign no such id: their replay_id stays "".
 */
struct verify_result {
	char replay_id[PROVIDER_REPLAY_ID_MAX];
	int64_t replay_until; /* unix seconds after which verify refuses the request anyway */
};

/* The daemon's HTTP answer to a webhook. */
struct http_answer {
	int status;
	const char *content_type; /* static string */
	struct sbuf body;
};

/*
 * One text to send. build_send reads no clock and no random source: the time a request
 * carries comes in here, and ids it makes up derive from the reference, so the same
 * sms_out always gives the same request.
 */
struct sms_out {
	const char *reference;  /* our message id as decimal text */
	const char *to;         /* E.164, "+447700900123" */
	const char *from;       /* sender; NULL means the provider's configured default */
	const char *text;       /* UTF-8 */
	bool unicode;           /* needs UCS-2 (not representable in GSM-7) */
	int segments;           /* as the core counted them */
	const char *status_url; /* absolute URL for delivery receipts, or NULL */
	int validity_s;         /* 0 for the provider's default */
	int64_t now;            /* unix seconds, for timestamps the request carries */
};

enum send_outcome {
	SEND_OK,       /* accepted: provider_id set */
	SEND_TEMPFAIL, /* not accepted, worth retrying later */
	SEND_PERMFAIL, /* not accepted, never retry */
};

const char *send_outcome_str(enum send_outcome o);

struct send_result {
	enum send_outcome outcome;
	enum msg_state state;  /* on SEND_OK: MSG_SUBMITTED or further */
	char provider_id[96];
	char error_code[32];   /* the provider's code, as text; "" when none */
	char reason[200];      /* human-readable cause for officers */
	int retry_after_s;     /* TEMPFAIL: provider-suggested delay; 0 when none */
	bool throttled;        /* the provider asked us to slow down */
	bool opted_out;        /* PERMFAIL: the recipient unsubscribed at the provider */
	int segments;          /* segments the provider reported, 0 when not reported */
};

/* One inbound text. */
struct sms_in {
	char provider_id[96];
	char from[32];      /* E.164 with '+' */
	char to[32];
	struct sbuf text;   /* UTF-8 */
	/* Set for one part of a concatenated message the provider delivers piecewise. */
	char concat_ref[64];
	int concat_total;
	int concat_part;
};

void sms_in_init(struct sms_in *m);
void sms_in_free(struct sms_in *m);

/* One delivery receipt. */
struct status_in {
	char provider_id[96];
	char reference[32];  /* our reference when the provider echoes it; "" otherwise */
	enum msg_state state;
	char raw_status[48];
	char error_code[32];
	char error_text[160];
	bool opted_out;      /* the recipient unsubscribed (a permanent opt-out) */
};

/* What the core tells adapters about the daemon at start-up. */
struct provider_env {
	const char *public_url; /* SIGNPOST_PUBLIC_URL, no trailing slash */
	const char *self_url;   /* "http://" + SIGNPOST_LISTEN: where the built-in simulator listens */
	const char *sim_secret; /* "whsec_..." shared by the sim adapter and the built-in simulator */
};

/*
 * An adapter: one file, listed once in the registry in provider.c. The core calls its
 * entries only through the provider_*() wrappers below.
 *
 * Required entries: init, destroy, build_send, parse_send_result, parse_inbound and
 * inbound_answer. Optional entries: verify and parse_status. The one rule for optional
 * entries: NULL means the provider does not have that feature, and the wrapper then
 * refuses, returning -1 with the reason in err, exactly as the entry itself refuses a
 * forged or malformed webhook. A missing entry can never make the core accept anything.
 */
struct provider_ops {
	const char *type;
	/*
	 * A "providers" entry init accepts, as JSON text with placeholder credentials: the
	 * unit tests and the fuzzer build every adapter of the registry from it.
	 */
	const char *example_config;
	/*
	 * True when a reply to the tenant rides in the answer to their inbound webhook
	 * (inbound_answer then receives it); false when the core sends every reply as an
	 * outbound text. The core decides this before storing the inbound text, since the
	 * reply is queued in the same statement.
	 */
	bool sync_reply;
	/*
	 * Validates the adapter's own keys of a "providers" entry and builds its state.
	 * Keys common to every provider (name, type, segments_per_second, connect_timeout_ms,
	 * timeout_ms, validity_seconds, price_per_segment) are the core's: skip them with
	 * provider_common_key().
	 * On error writes "<key>: <what is wrong>" to err.
	 */
	int (*init)(struct json_object *cfg, const struct provider_env *env, void **priv,
		    struct sbuf *err);
	/* NULL is a no-op. */
	void (*destroy)(void *priv);
	/* 0 with req filled; -1 when the text cannot be put into the provider's format. */
	int (*build_send)(void *priv, const struct sms_out *msg, struct http_req *req);
	/* status 0 never reaches an adapter: the core handles transport failures. */
	void (*parse_send_result)(void *priv, long status, const struct kvlist *headers,
				  const char *body, size_t len, struct send_result *out);
	/*
	 * Optional. 0 when the webhook is authentic, with out filled (zeroed by the caller);
	 * -1 with a reason (never a secret).
	 */
	int (*verify)(void *priv, const struct http_in *in, struct verify_result *out,
		      struct sbuf *err);
	/*
	 * Returns 1 with *out filled, 0 when the webhook carries no text (a provider's
	 * test ping, say) and -1 with err set when it is malformed.
	 */
	int (*parse_inbound)(void *priv, const struct http_in *in, struct sms_in *out,
			     struct sbuf *err);
	/* Optional. Same convention as parse_inbound, for a delivery receipt. */
	int (*parse_status)(void *priv, const struct http_in *in, struct status_in *out,
			    struct sbuf *err);
	/*
	 * Fills the answer to an inbound webhook. reply is the text for the tenant or NULL;
	 * only a sync_reply provider ever gets one, and it must carry it in the answer.
	 */
	void (*inbound_answer)(void *priv, const char *reply, struct http_answer *out);
};

static inline int provider_init(const struct provider_ops *ops, struct json_object *cfg,
				const struct provider_env *env, void **priv, struct sbuf *err)
{
	return ops->init(cfg, env, priv, err);
}

static inline void provider_destroy(const struct provider_ops *ops, void *priv)
{
	ops->destroy(priv);
}

static inline int provider_build_send(const struct provider_ops *ops, void *priv,
				      const struct sms_out *msg, struct http_req *req)
{
	return ops->build_send(priv, msg, req);
}

static inline void provider_parse_send_result(const struct provider_ops *ops, void *priv,
					      long status, const struct kvlist *headers,
					      const char *body, size_t len,
					      struct send_result *out)
{
	ops->parse_send_result(priv, status, headers, body, len, out);
}

/* An adapter without verify authenticates nothing: every webhook is refused. */
static inline int provider_verify(const struct provider_ops *ops, void *priv,
				  const struct http_in *in, struct verify_result *out,
				  struct sbuf *err)
{
	memset(out, 0, sizeof(*out));
	if (!ops->verify) {
		sbuf_adds(err, "no verification");
		return -1;
	}
	return ops->verify(priv, in, out, err);
}

static inline int provider_parse_inbound(const struct provider_ops *ops, void *priv,
					 const struct http_in *in, struct sms_in *out,
					 struct sbuf *err)
{
	return ops->parse_inbound(priv, in, out, err);
}

/* An adapter without parse_status sends no receipts: a receipt is refused as malformed. */
static inline int provider_parse_status(const struct provider_ops *ops, void *priv,
					const struct http_in *in, struct status_in *out,
					struct sbuf *err)
{
	if (!ops->parse_status) {
		sbuf_adds(err, "this provider does not send delivery receipts");
		return -1;
	}
	return ops->parse_status(priv, in, out, err);
}

/* The answer to an inbound webhook; reply reaches only a sync_reply adapter. */
static inline void provider_inbound_answer(const struct provider_ops *ops, void *priv,
					   const char *reply, struct http_answer *out)
{
	ops->inbound_answer(priv, ops->sync_reply ? reply : NULL, out);
}

/* Adapter lookup by type name ("twilio", "sim", ...); NULL when unknown. */
const struct provider_ops *provider_find(const char *type);
/* The registry in order: the i-th adapter, NULL past the last. */
const struct provider_ops *provider_nth(size_t i);
/* Comma-separated list of known types, for error messages. */
const char *provider_types(void);
bool provider_common_key(const char *key);

/* Helpers adapters share. */
/*
 * Copies src into a fixed buffer, truncating between characters; malformed UTF-8 bytes
 * become '?', so the copy is always valid UTF-8.
 */
void provider_copy(char *dst, size_t size, const char *src);
/* The same in place, for a buffer filled with snprintf from a provider's words. */
void provider_text_fix(char *s, size_t size);
/*
 * Adds '+' to a digits-only international number (7 digits or more); copies E.164, short
 * codes and alphanumeric senders as they are.
 */
void provider_e164(char *dst, size_t size, const char *digits);
/* Retry-After header in seconds (delta-seconds form only); 0 when absent or unparsable. */
int provider_retry_after(const struct kvlist *headers);
/* Reads a required non-empty string key; writes "<key>: ..." to err when missing. */
int provider_cfg_string(struct json_object *cfg, const char *key, bool required,
			const char **out, struct sbuf *err) WUR;
/* Copies src into a fixed buffer; false (and dst "") when it does not fit or is not UTF-8. */
bool provider_copy_exact(char *dst, size_t size, const char *src) WUR;
/* Why provider_copy_exact refused value: "<name> is too long ..." or "... not valid UTF-8". */
void provider_copy_error(const char *name, const char *value, size_t size, struct sbuf *err);
/*
 * Fails with "<key>: unknown key ..." for a key of cfg that is neither common nor one of
 * known[0..n), suggesting the nearest known key when there is one.
 */
int provider_cfg_keys(struct json_object *cfg, const char *type, const char *const *known,
		      size_t n, struct sbuf *err) WUR;
/* Like provider_cfg_string for an absolute http(s) URL that carries no credentials. */
int provider_cfg_url(struct json_object *cfg, const char *key, bool required,
		     const char **out, struct sbuf *err) WUR;
/* Parses a whole body as one JSON object; NULL when it is anything else. */
struct json_object *provider_json_parse(const char *body, size_t len);
/* The value of key as text (strings and integers), or NULL. Borrowed from obj. */
const char *provider_json_str(struct json_object *obj, const char *key);

/* A provider's status word and the state it maps to, for provider_state_lookup. */
struct provider_state_name {
	const char *name;
	enum msg_state state;
};

/* Looks name up in map[0..n); false when absent (or name is NULL). */
bool provider_state_lookup(const struct provider_state_name *map, size_t n, const char *name,
			   enum msg_state *out);
/* The base URL from cfg (or fallback) without trailing slashes, newly allocated. */
char *provider_base_url(const char *base, const char *fallback);
/* Copies an E.164 number without its '+' ("447700900123"), as most providers want it. */
void provider_digits(char *dst, size_t size, const char *e164);
/*
 * The fields of a webhook: the query of a GET; the body of a POST, read as JSON when it is
 * a JSON object (scalar members only, as text) and as a form otherwise. -1 with err when
 * the body is malformed.
 */
int provider_webhook_fields(const struct http_in *in, struct kvlist *fields,
			    struct sbuf *err) WUR;
/* -1 with "<name> contains a NUL byte" when a value does (it would be cut short). */
int provider_fields_no_nul(const struct kvlist *fields, struct sbuf *err) WUR;
/*
 * Classifies a send answer that is not a success by its HTTP status alone: 429 is
 * throttled, 401, 403, 408 and 5xx (and anything not 4xx) are temporary, other 4xx
 * permanent. Sets outcome, state, throttled and (when temporary) retry_after_s.
 */
void provider_http_classify(long status, const struct kvlist *headers, struct send_result *out);
/* Copies value into dst; -1 with "<name> is too long" in err when it does not fit. */
int provider_copy_field(char *dst, size_t size, const char *name, const char *value,
			struct sbuf *err) WUR;

/* A sender as digit-only providers want it: from without a leading '+'. */
const char *provider_sender_digits(const char *from);

/* Longest sender numbers and alphanumeric sender ids any provider takes. */
#define PROVIDER_SENDER_MAX_DIGITS 15
#define PROVIDER_SENDER_MAX_ID 11
/* Longest short code, the only number a PROVIDER_PLUS_E164 provider takes without '+'. */
#define PROVIDER_SENDER_MAX_SHORT_CODE 8

/* What a leading '+' may do in a provider's sender. */
enum provider_sender_plus {
	PROVIDER_PLUS_OPTIONAL, /* "447700900000" or "+447700900000"; never before letters */
	PROVIDER_PLUS_E164,     /* a number is E.164 ('+', 7 to 15 digits, the first not 0)
				   unless it is a short code */
	PROVIDER_PLUS_IGNORED,  /* one leading '+' is dropped, whatever follows */
};

/* Where an alphanumeric sender id may have spaces. */
enum provider_sender_spaces {
	PROVIDER_SPACES_NONE,  /* letters and digits only */
	PROVIDER_SPACES_INNER, /* also spaces, but not first or last */
	PROVIDER_SPACES_ANY,   /* also spaces anywhere */
};

/*
 * How a provider's sender ("from", "originator") may be written: a number of min_len to
 * 15 digits, or an alphanumeric sender id of min_len to 11 ASCII letters and digits, with
 * what differs between providers in plus and spaces.
 */
struct provider_sender_rule {
	const char *key; /* the configuration key, named in the error */
	unsigned min_len;
	enum provider_sender_plus plus;
	enum provider_sender_spaces spaces;
};

bool provider_sender_valid(const char *from, const struct provider_sender_rule *rule);
/*
 * 0 when from is valid; -1 with "<key>: must be a number such as ... or an alphanumeric
 * sender id of ..." in err otherwise (the value is not echoed).
 */
int provider_sender_check(const char *from, const struct provider_sender_rule *rule,
			  struct sbuf *err) WUR;

/* Zeroes a secret string and frees it; NULL is a no-op. */
void provider_free_secret(char *s);
/* How a provider's delivery receipts spell the fields provider_parse_receipt needs. */
struct provider_receipt_spec {
	const char *id_field;     /* the field that must be present to identify the text */
	const char *status_field;
	bool (*state)(const char *status, enum msg_state *out);
	/* Copies ids, codes and texts into out once the state is known. */
	int (*fill)(void *priv, const struct kvlist *fields, struct status_in *out,
		    struct sbuf *err);
};
/*
 * parse_status for receipts delivered as fields (query, form or JSON): -1 with err when
 * malformed or the id or status field is missing, 0 for a status the map does not know,
 * 1 with out filled otherwise.
 */
int provider_parse_receipt(void *priv, const struct http_in *in,
			   const struct provider_receipt_spec *spec, struct status_in *out,
			   struct sbuf *err) WUR;

#endif
