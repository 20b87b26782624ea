/*
 * webhook.c: the generic JSON provider ("webhook") for any SMS hub that speaks JSON over
 * HTTP, also spoken by the built-in simulator ("sim", see sim.c).
 *
 * Config: {"type": "webhook", "url": "https://hub.example/messages",
 *          "secret": "whsec_<base64 of 16 or more bytes>", "from": "+447700900000"}
 *
 * THE PROTOCOL. Every request in either direction carries a JSON body and the Standard
 * Webhooks headers (common/stdwebhook.h) made with the provider's secret:
 *   webhook-id: <message id>
 *   webhook-timestamp: <unix seconds>
 *   webhook-signature: v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>
 * and is refused when the signature does not match or the timestamp is more than 300 s
 * away from the receiver's clock.
 *
 * 1. Send, signpost -> provider: POST {url}
 *      Content-Type: application/json
 *      webhook-id: msg_<reference>  (the same on every attempt for one message, so the
 *                                    provider can spot a repeat and answer as before)
 *      {"to":"+447700900123","from":"+447700900000","text":"Hello","reference":"42",
 *       "status_url":"https://signpost.example/v1/providers/sim/status?ref=42"}
 *    "status_url" is present only when signpost wants receipts; "from" is the message's
 *    sender or the configured one; "text" is UTF-8. The provider answers:
 *      2xx {"id":"<its message id, at most 95 bytes>", "segments": 2}   accepted
 *          ("segments" is optional; a 2xx without "id" still counts as accepted)
 *      429, with an optional Retry-After: <seconds>                      throttled, retry
 *      5xx, 408, 401, 403 and anything not 2xx or 4xx                    retry later
 *      other 4xx {"error":{"code":"<code>","description":"<text>"}}     never retry;
 *          error.code "opted_out" means the recipient has unsubscribed. "message" is
 *          read when "description" is absent (signpost's own API errors use it).
 *
 * 2. Delivery receipt, provider -> POST {status_url as given in the send}:
 *      {"type":"sms.delivered","data":{"message_id":"<id>","reference":"42",
 *       "to":"+447700900123","status":"delivered",
 *       "error":{"code":"<code>","description":"<text>"}}}
 *    type is sms.sent, sms.delivered, sms.undelivered, sms.failed, sms.expired,
 *    sms.rejected or sms.cancelled. data.status, when present, is one of accepted,
 *    queued, submitted, sent, enroute, delivered, undelivered, failed, rejected, expired,
 *    cancelled (else the type's suffix counts); "reference" and "error" are optional;
 *    error.code "opted_out" marks an unsubscribed recipient. A receipt needs message_id
 *    or reference.
 *
 * 3. Inbound text, provider -> POST {the inbound webhook URL signpost publishes}:
 *      {"type":"sms.received","data":{"message_id":"<id>","from":"+447700900123",
 *       "to":"+447700900000","text":"SKILLS","received_at":"2025-01-31T09:30:00Z"}}
 *    "text" may be empty. Other event types are acknowledged and ignored.
 *
 * signpost answers receipts and inbound texts 200 {} when recorded, 403 on a bad
 * signature and 400 when malformed; replies to a tenant always go out as sends (1).
 */
#include "providers/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "common/stdwebhook.h"
#include "providers/adapters.h"

struct webhook {
	char *url;
	char *secret;
	char *from;
};

static const char *const webhook_keys[] = { "url", "secret", "from" };

void webhook_destroy(void *priv)
{
	struct webhook *w = priv;

	if (!w)
		return;
	if (w->secret)
		memset(w->secret, 0, strlen(w->secret));
	free(w->url);
	free(w->secret);
	free(w->from);
	free(w);
}

static int webhook_read_config(struct json_object *cfg, const struct webhook_defaults *def,
			       struct webhook *w, struct sbuf *err)
{
	const char *url, *secret, *from;

	if (provider_cfg_url(cfg, "url", !def->url, &url, err) < 0 ||
	    provider_cfg_string(cfg, "secret", !def->secret, &secret, err) < 0 ||
	    provider_cfg_string(cfg, "from", !def->from, &from, err) < 0)
		return -1;
	secret = secret ? secret : def->secret;
	if (!stdwebhook_secret_valid(secret)) {
		sbuf_printf(err, "secret: must be \"" STDWEBHOOK_PREFIX "\" followed by the "
				 "base64 of at least %d random bytes", STDWEBHOOK_MIN_KEY);
		return -1;
	}
	w->url = xstrdup(url ? url : def->url);
	w->secret = xstrdup(secret);
	w->from = xstrdup(from ? from : def->from);
	return 0;
}

int webhook_setup(struct json_object *cfg, const char *type,
		  const struct webhook_defaults *defaults, void **priv, struct sbuf *err)
{
	struct webhook *w = xcalloc(1, sizeof(*w));
	int rc = -1;

	if (provider_cfg_keys(cfg, type, webhook_keys, ARRAY_LEN(webhook_keys), err) < 0 ||
	    webhook_read_config(cfg, defaults, w, err) < 0)
		goto out;
	*priv = w;
	w = NULL;
	rc = 0;
out:
	webhook_destroy(w);
	return rc;
}

static int webhook_init(struct json_object *cfg, const struct provider_env *env, void **priv,
			struct sbuf *err)
{
	static const struct webhook_defaults none = { NULL, NULL, NULL };

	(void)env;
	return webhook_setup(cfg, "webhook", &none, priv, err);
}

/*
 * "msg_<reference>" when the reference is plain, else "msg_" and 24 hex digits of its
 * SHA-256: the same id for every attempt at one message either way.
 */
static void webhook_message_id(const char *reference, struct sbuf *id)
{
	size_t n = reference ? strlen(reference) : 0;
	struct sbuf hash;

	sbuf_adds(id, "msg_");
	if (n > 0 && n <= 64 &&
	    strspn(reference, "0123456789abcdefghijklmnopqrstuvwxyz"
			      "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_") == n) {
		sbuf_adds(id, reference);
		return;
	}
	sbuf_init(&hash);
	crypto_sha256_hex(&hash, reference ? reference : "", n);
	sbuf_add(id, hash.data, 24);
	sbuf_free(&hash);
}

static void json_add_str(struct json_object *obj, const char *key, const char *value)
{
	if (value)
		json_object_object_add(obj, key, json_object_new_string(value));
}

int webhook_build_send(void *priv, const struct sms_out *msg, struct http_req *req)
{
	struct webhook *w = priv;
	struct json_object *body;
	struct sbuf id;
	int rc = -1;

	if (!msg->to || !msg->text)
		return -1;
	sbuf_init(&id);
	body = json_object_new_object();
	json_add_str(body, "to", msg->to);
	json_add_str(body, "from", msg->from ? msg->from : w->from);
	json_add_str(body, "text", msg->text);
	json_add_str(body, "reference", msg->reference);
	json_add_str(body, "status_url", msg->status_url);
	sbuf_adds(&req->body, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	webhook_message_id(msg->reference, &id);
	req->method = "POST";
	req->url = xstrdup(w->url);
	kvlist_add(&req->headers, "Content-Type", "application/json");
	if (stdwebhook_add_headers(&req->headers, w->secret, sbuf_str(&id), msg->now,
				   req->body.data, req->body.len) < 0)
		goto out;
	rc = 0;
out:
	json_object_put(body);
	sbuf_free(&id);
	return rc;
}

/* error.description, or error.message as signpost's own API spells it. */
static const char *webhook_error_text(struct json_object *error)
{
	const char *text = provider_json_str(error, "description");

	return text ? text : provider_json_str(error, "message");
}

static void webhook_accepted(struct json_object *obj, struct send_result *out)
{
	const char *id = provider_json_str(obj, "id");
	const char *segments = provider_json_str(obj, "segments");
	int64_t n;

	out->outcome = SEND_OK;
	out->state = MSG_SUBMITTED;
	/* A 2xx means the provider has the text: never send it again, even without an id. */
	if (!id || !provider_copy_exact(out->provider_id, sizeof(out->provider_id), id))
		provider_copy(out->reason, sizeof(out->reason),
			      "accepted without a usable \"id\"");
	if (segments && str_to_i64(segments, 1, 1000, &n))
		out->segments = (int)n;
}

/*
 * 401 and 403 are temporary on purpose: a wrong secret on either side is an operator's
 * mistake that fails every message alike; the messages wait until it is fixed.
 */
static void webhook_failed(long status, const struct kvlist *headers, struct json_object *obj,
			   struct send_result *out)
{
	struct json_object *error = NULL;
	bool permanent = status >= 400 && status < 500 && status != 408 && status != 429 &&
			 status != 401 && status != 403;

	if (obj)
		json_object_object_get_ex(obj, "error", &error);
	const char *code = provider_json_str(error, "code");
	const char *text = webhook_error_text(error);
	out->outcome = permanent ? SEND_PERMFAIL : SEND_TEMPFAIL;
	out->state = permanent ? MSG_REJECTED : MSG_RETRY;
	out->throttled = status == 429;
	out->opted_out = permanent && code && strcmp(code, "opted_out") == 0;
	out->retry_after_s = permanent ? 0 : provider_retry_after(headers);
	provider_copy(out->error_code, sizeof(out->error_code), code);
	if (code || text)
		snprintf(out->reason, sizeof(out->reason), "%s%s%s (HTTP %ld)", code ? code : "",
			 code && text ? ": " : "", text ? text : "", status);
	else
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld from the provider", status);
	provider_text_fix(out->reason, sizeof(out->reason));
}

void webhook_parse_send_result(void *priv, long status, const struct kvlist *headers,
			       const char *body, size_t len, struct send_result *out)
{
	struct json_object *obj = provider_json_parse(body, len);

	(void)priv;
	memset(out, 0, sizeof(*out));
	if (status >= 200 && status < 300)
		webhook_accepted(obj, out);
	else
		webhook_failed(status, headers, obj, out);
	json_object_put(obj);
}

int webhook_verify(void *priv, const struct http_in *in, struct verify_result *out,
		   struct sbuf *err)
{
	struct webhook *w = priv;
	const char *id;
	int64_t ts;

	if (!in->headers) {
		sbuf_adds(err, "missing webhook-id, webhook-timestamp or webhook-signature header");
		return -1;
	}
	if (stdwebhook_verify_headers(w->secret, in->headers, in->body ? in->body : "",
				      in->body_len, in->now, err) < 0)
		return -1;
	id = kvlist_get_ci(in->headers, "webhook-id");
	if (!provider_copy_exact(out->replay_id, sizeof(out->replay_id), id)) {
		sbuf_printf(err, "webhook-id is longer than %d bytes or not UTF-8",
			    PROVIDER_REPLAY_ID_MAX - 1);
		return -1;
	}
	/* verified: the timestamp is a number within the tolerance of now */
	if (!str_to_i64(kvlist_get_ci(in->headers, "webhook-timestamp"), 0, INT64_MAX / 2, &ts))
		ts = in->now;
	out->replay_until = ts + STDWEBHOOK_TOLERANCE_S;
	return 0;
}

/* Parses an event; returns its data object (borrowed from *root) or NULL with err set. */
static struct json_object *webhook_event(const struct http_in *in, struct json_object **root,
					 const char **type, struct sbuf *err)
{
	struct json_object *data = NULL;

	*root = provider_json_parse(in->body, in->body_len);
	*type = provider_json_str(*root, "type");
	if (!*type) {
		sbuf_adds(err, "body is not a JSON object with a string \"type\"");
		return NULL;
	}
	if (!json_object_object_get_ex(*root, "data", &data) ||
	    !json_object_is_type(data, json_type_object)) {
		sbuf_adds(err, "\"data\" must be an object");
		return NULL;
	}
	return data;
}

/* Copies a required string member of data; -1 with err when absent or too long. */
static int webhook_field(struct json_object *data, const char *key, char *dst, size_t size,
			 struct sbuf *err)
{
	const char *v = provider_json_str(data, key);

	if (!v) {
		sbuf_printf(err, "data.%s is missing", key);
		return -1;
	}
	if (!provider_copy_exact(dst, size, v)) {
		sbuf_adds(err, "data.");
		provider_copy_error(key, v, size, err);
		return -1;
	}
	return 0;
}

static int webhook_text(struct json_object *data, struct sbuf *text, struct sbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(data, "text", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		sbuf_adds(err, "data.text must be a string");
		return -1;
	}
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n) || !codec_utf8_valid(s, n)) {
		sbuf_adds(err, "data.text is not valid UTF-8 text");
		return -1;
	}
	sbuf_reset(text);
	sbuf_add(text, s, n);
	return 0;
}

int webhook_parse_inbound(void *priv, const struct http_in *in, struct sms_in *out,
			  struct sbuf *err)
{
	struct json_object *root = NULL, *data;
	const char *type;
	int rc = -1;

	(void)priv;
	data = webhook_event(in, &root, &type, err);
	if (!data)
		goto out;
	if (strcmp(type, "sms.received") != 0) {
		rc = 0;
		goto out;
	}
	if (webhook_field(data, "message_id", out->provider_id, sizeof(out->provider_id),
			  err) < 0 ||
	    webhook_field(data, "from", out->from, sizeof(out->from), err) < 0 ||
	    webhook_field(data, "to", out->to, sizeof(out->to), err) < 0 ||
	    webhook_text(data, &out->text, err) < 0)
		goto out;
	provider_e164(out->from, sizeof(out->from), provider_json_str(data, "from"));
	provider_e164(out->to, sizeof(out->to), provider_json_str(data, "to"));
	out->concat_ref[0] = '\0';
	out->concat_total = out->concat_part = 0;
	rc = 1;
out:
	json_object_put(root);
	return rc;
}

bool webhook_status_state(const char *status, enum msg_state *out)
{
	static const struct {
		const char *name;
		enum msg_state state;
	} map[] = {
		{ "accepted", MSG_SUBMITTED },	   { "queued", MSG_SUBMITTED },
		{ "submitted", MSG_SUBMITTED },	   { "sent", MSG_ENROUTE },
		{ "enroute", MSG_ENROUTE },	   { "delivered", MSG_DELIVERED },
		{ "undelivered", MSG_UNDELIVERED }, { "failed", MSG_FAILED },
		{ "rejected", MSG_REJECTED },	   { "expired", MSG_EXPIRED },
		{ "cancelled", MSG_CANCELLED },
	};

	for (size_t i = 0; status && i < ARRAY_LEN(map); i++) {
		if (strcmp(status, map[i].name) == 0) {
			*out = map[i].state;
			return true;
		}
	}
	return false;
}

static void webhook_status_error(struct json_object *data, struct status_in *out)
{
	struct json_object *error = NULL;

	json_object_object_get_ex(data, "error", &error);
	const char *code = provider_json_str(error, "code");
	provider_copy(out->error_code, sizeof(out->error_code), code);
	provider_copy(out->error_text, sizeof(out->error_text), webhook_error_text(error));
	out->opted_out = code && strcmp(code, "opted_out") == 0;
}

static int webhook_status_ids(struct json_object *data, struct status_in *out,
			      struct sbuf *err)
{
	bool has_id = provider_json_str(data, "message_id") != NULL;
	bool has_ref = provider_json_str(data, "reference") != NULL;

	if (!has_id && !has_ref) {
		sbuf_adds(err, "data.message_id and data.reference are both missing");
		return -1;
	}
	if ((has_id && webhook_field(data, "message_id", out->provider_id,
				     sizeof(out->provider_id), err) < 0) ||
	    (has_ref && webhook_field(data, "reference", out->reference, sizeof(out->reference),
				      err) < 0))
		return -1;
	return 0;
}

int webhook_parse_status(void *priv, const struct http_in *in, struct status_in *out,
			 struct sbuf *err)
{
	struct json_object *root = NULL, *data;
	const char *type, *status;
	int rc = -1;

	(void)priv;
	memset(out, 0, sizeof(*out));
	data = webhook_event(in, &root, &type, err);
	if (!data)
		goto out;
	status = provider_json_str(data, "status");
	if (!status && str_startswith(type, "sms."))
		status = type + 4;
	if (strcmp(type, "sms.received") == 0 || !webhook_status_state(status, &out->state)) {
		rc = 0;
		goto out;
	}
	if (webhook_status_ids(data, out, err) < 0)
		goto out;
	provider_copy(out->raw_status, sizeof(out->raw_status), status);
	webhook_status_error(data, out);
	rc = 1;
out:
	json_object_put(root);
	return rc;
}

void webhook_inbound_answer(void *priv, const char *reply, struct http_answer *out)
{
	(void)priv;
	(void)reply;
	out->status = 200;
	out->content_type = "application/json";
	sbuf_adds(&out->body, "{}");
}

const struct provider_ops webhook_ops = {
	.type = "webhook",
	.example_config =
		"{\"type\": \"webhook\", \"url\": \"https://hub.example/messages\", "
		"\"secret\": \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\", "
		"\"from\": \"+447700900000\"}",
	.init = webhook_init,
	.destroy = webhook_destroy,
	.build_send = webhook_build_send,
	.parse_send_result = webhook_parse_send_result,
	.verify = webhook_verify,
	.parse_inbound = webhook_parse_inbound,
	.parse_status = webhook_parse_status,
	.inbound_answer = webhook_inbound_answer,
};
