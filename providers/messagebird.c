/*
 * messagebird.c: MessageBird's REST API (rest.messagebird.com).
 *
 * Config: {"type": "messagebird", "access_key": "...", "originator": "447700900000",
 *          "signing_key": "...", "base_url": "https://rest.messagebird.com"}
 *
 * Send: POST {base_url}/messages, Authorization: AccessKey <access_key>, JSON
 * {"originator", "recipients": ["447700900123"], "body", "reference", "reportUrl",
 * "datacoding": "plain" | "unicode", "validity"}; 201 with the message's "id", or
 * {"errors": [{"code", "description", "parameter"}]}.
 * Status reports are GETs to reportUrl with id, reference, recipient, status and
 * statusDatetime in the query; inbound texts are GETs or POSTs (form or JSON) with id,
 * originator, recipient and body (or message). Every webhook must carry a valid
 * MessageBird-Signature-JWT.
 */
#include "providers/messagebird.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "providers/adapters.h"
#include "providers/webhook.h"

struct messagebird {
	char *base_url;
	char *access_key;
	char *originator;
	char *signing_key;
};

static const char *const messagebird_keys[] = { "base_url", "access_key", "originator",
						"signing_key" };

static void messagebird_destroy(void *priv)
{
	struct messagebird *m = priv;

	if (!m)
		return;
	provider_free_secret(m->access_key);
	provider_free_secret(m->signing_key);
	free(m->base_url);
	free(m->originator);
	free(m);
}

/* A number (up to 15 digits, '+' allowed) or 1 to 11 letters and digits. */
static const struct provider_sender_rule messagebird_originator = {
	"originator", 1, PROVIDER_PLUS_OPTIONAL, PROVIDER_SPACES_NONE,
};

static int messagebird_init(struct json_object *cfg, const struct provider_env *env,
			    void **priv, struct sbuf *err)
{
	struct messagebird *m = xcalloc(1, sizeof(*m));
	const char *base, *key, *originator, *signing;
	int rc = -1;

	(void)env;
	if (provider_cfg_keys(cfg, "messagebird", messagebird_keys, ARRAY_LEN(messagebird_keys),
			      err) < 0 ||
	    provider_cfg_url(cfg, "base_url", false, &base, err) < 0 ||
	    provider_cfg_string(cfg, "access_key", true, &key, err) < 0 ||
	    provider_cfg_string(cfg, "originator", true, &originator, err) < 0 ||
	    provider_cfg_string(cfg, "signing_key", true, &signing, err) < 0 ||
	    provider_sender_check(originator, &messagebird_originator, err) < 0)
		goto out;
	m->base_url = provider_base_url(base, MESSAGEBIRD_DEFAULT_BASE_URL);
	m->access_key = xstrdup(key);
	m->originator = xstrdup(provider_sender_digits(originator));
	m->signing_key = xstrdup(signing);
	*priv = m;
	m = NULL;
	rc = 0;
out:
	messagebird_destroy(m);
	return rc;
}

static struct json_object *messagebird_send_body(const struct messagebird *m,
						 const struct sms_out *msg)
{
	struct json_object *body = json_object_new_object();
	struct json_object *recipients = json_object_new_array();
	char to[32];

	provider_digits(to, sizeof(to), msg->to);
	json_object_array_add(recipients, json_object_new_string(to));
	json_object_object_add(body, "originator",
			       json_object_new_string(msg->from ? provider_sender_digits(msg->from)
							  : m->originator));
	json_object_object_add(body, "recipients", recipients);
	json_object_object_add(body, "body", json_object_new_string(msg->text));
	if (msg->reference)
		json_object_object_add(body, "reference", json_object_new_string(msg->reference));
	if (msg->status_url)
		json_object_object_add(body, "reportUrl", json_object_new_string(msg->status_url));
	json_object_object_add(body, "datacoding",
			       json_object_new_string(msg->unicode ? "unicode" : "plain"));
	if (msg->validity_s > 0)
		json_object_object_add(body, "validity", json_object_new_int(msg->validity_s));
	return body;
}

static int messagebird_build_send(void *priv, const struct sms_out *msg, struct http_req *req)
{
	struct messagebird *m = priv;
	struct json_object *body;
	char *auth;

	if (!msg->to || !msg->text)
		return -1;
	body = messagebird_send_body(m, msg);
	sbuf_adds(&req->body, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(body);
	req->method = "POST";
	req->url = xasprintf("%s/messages", m->base_url);
	auth = xasprintf("AccessKey %s", m->access_key);
	kvlist_add(&req->headers, "Authorization", auth);
	memset(auth, 0, strlen(auth));
	free(auth);
	kvlist_add(&req->headers, "Content-Type", "application/json");
	kvlist_add(&req->headers, "Accept", "application/json");
	return 0;
}

static void messagebird_accepted(struct json_object *obj, struct send_result *out)
{
	const char *id = provider_json_str(obj, "id");

	out->outcome = SEND_OK;
	out->state = MSG_SUBMITTED;
	if (!id || !provider_copy_exact(out->provider_id, sizeof(out->provider_id), id))
		provider_copy(out->reason, sizeof(out->reason),
			      "MessageBird accepted the message but gave no usable id");
}

/* errors[0], or NULL. */
static struct json_object *messagebird_first_error(struct json_object *obj)
{
	struct json_object *list;

	if (!obj || !json_object_object_get_ex(obj, "errors", &list) ||
	    !json_object_is_type(list, json_type_array) || json_object_array_length(list) < 1)
		return NULL;
	return json_object_array_get_idx(list, 0);
}

/*
 * Codes: 2 request not allowed (bad access key) and 25 not enough balance are the
 * operator's to fix: temporary, like a 401. 99 internal error: temporary. Other codes
 * (9 missing parameter, 10 invalid parameter, 20 not found, 21 bad request) with a 4xx
 * are about this text.
 */
static void messagebird_failed(long status, const struct kvlist *headers,
			       struct json_object *obj, struct send_result *out)
{
	struct json_object *e = messagebird_first_error(obj);
	const char *code = provider_json_str(e, "code");
	const char *text = provider_json_str(e, "description");
	const char *param = provider_json_str(e, "parameter");

	provider_http_classify(status, headers, out);
	if (code && (strcmp(code, "2") == 0 || strcmp(code, "25") == 0 ||
		     strcmp(code, "99") == 0) && out->outcome == SEND_PERMFAIL) {
		out->outcome = SEND_TEMPFAIL;
		out->state = MSG_RETRY;
	}
	provider_copy(out->error_code, sizeof(out->error_code), code);
	if (code)
		snprintf(out->reason, sizeof(out->reason),
			 "MessageBird error %s: %s%s%s (HTTP %ld)", code, text ? text : "no description", param ? " in " : "",
			 param ? param : "", status);
	else
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld from MessageBird", status);
	provider_text_fix(out->reason, sizeof(out->reason));
}

static void messagebird_parse_send_result(void *priv, long status,
					  const struct kvlist *headers, const char *body,
					  size_t len, struct send_result *out)
{
	struct json_object *obj = provider_json_parse(body, len);

	(void)priv;
	memset(out, 0, sizeof(*out));
	if (status >= 200 && status < 300)
		messagebird_accepted(obj, out);
	else
		messagebird_failed(status, headers, obj, out);
	json_object_put(obj);
}

/* ---- MessageBird-Signature-JWT ---- */

static int jwt_b64url_decode(struct sbuf *out, const char *s, size_t n)
{
	char *copy = xstrndup(s, n);
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (copy[i] == '+' || copy[i] == '/' || copy[i] == '=')
			rc = -1;
		copy[i] = copy[i] == '-' ? '+' : copy[i] == '_' ? '/' : copy[i];
	}
	if (rc == 0)
		rc = codec_base64_decode(out, copy, n);
	free(copy);
	return rc;
}

static bool jwt_alg(const char *name, enum crypto_alg *out)
{
	static const struct {
		const char *name;
		enum crypto_alg alg;
	} algs[] = { { "HS256", CRYPTO_SHA256 }, { "HS384", CRYPTO_SHA384 },
		     { "HS512", CRYPTO_SHA512 } };

	for (size_t i = 0; name && i < ARRAY_LEN(algs); i++) {
		if (strcmp(name, algs[i].name) == 0) {
			*out = algs[i].alg;
			return true;
		}
	}
	return false;
}

static void jwt_mac(enum crypto_alg alg, const char *key, const char *data, size_t n,
		    unsigned char *mac)
{
	crypto_hmac(alg, key, strlen(key), data, n, mac);
}

static struct json_object *jwt_claims(const char *url, const char *body, size_t len,
				      int64_t now, const char *jti)
{
	struct json_object *c = json_object_new_object();
	struct sbuf h;

	sbuf_init(&h);
	json_object_object_add(c, "iss", json_object_new_string("MessageBird"));
	json_object_object_add(c, "nbf", json_object_new_int64(now));
	json_object_object_add(c, "exp", json_object_new_int64(now + 60));
	json_object_object_add(c, "jti", json_object_new_string(jti));
	crypto_sha256_hex(&h, url, strlen(url));
	json_object_object_add(c, "url_hash", json_object_new_string(sbuf_str(&h)));
	if (len > 0) {
		sbuf_reset(&h);
		crypto_sha256_hex(&h, body, len);
		json_object_object_add(c, "payload_hash", json_object_new_string(sbuf_str(&h)));
	}
	sbuf_free(&h);
	return c;
}

int messagebird_jwt_sign(const char *key, const char *alg, const char *url, const char *body,
			 size_t len, int64_t now, const char *jti, struct sbuf *out)
{
	unsigned char mac[CRYPTO_MAX_DIGEST];
	enum crypto_alg a;
	struct json_object *claims;
	struct sbuf header;
	size_t start = out->len;

	if (!jwt_alg(alg, &a))
		return -1;
	sbuf_init(&header);
	sbuf_printf(&header, "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	claims = jwt_claims(url, body, len, now, jti);
	const char *payload = json_object_to_json_string_ext(
		claims, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	codec_base64url_encode(out, header.data, header.len);
	sbuf_addc(out, '.');
	codec_base64url_encode(out, payload, strlen(payload));
	jwt_mac(a, key, out->data + start, out->len - start, mac);
	sbuf_addc(out, '.');
	codec_base64url_encode(out, mac, crypto_digest_len(a));
	json_object_put(claims);
	sbuf_free(&header);
	return 0;
}

/* Decodes a base64url JSON object; NULL when it is anything else. */
static struct json_object *jwt_json(const char *s, size_t n)
{
	struct sbuf raw;
	struct json_object *obj = NULL;

	sbuf_init(&raw);
	if (jwt_b64url_decode(&raw, s, n) == 0)
		obj = provider_json_parse(raw.data, raw.len);
	sbuf_free(&raw);
	return obj;
}

/* Checks the header's alg and the MAC over "header.payload". */
static int jwt_check_mac(const char *key, const char *jwt, const char *dot1, const char *dot2,
			 struct sbuf *err)
{
	struct json_object *header = jwt_json(jwt, (size_t)(dot1 - jwt));
	unsigned char mac[CRYPTO_MAX_DIGEST];
	const char *alg = provider_json_str(header, "alg");
	enum crypto_alg a;
	struct sbuf given;
	int rc = -1;

	sbuf_init(&given);
	if (!header) {
		sbuf_adds(err, "the JWT header is not base64url JSON");
		goto out;
	}
	if (!jwt_alg(alg, &a)) {
		sbuf_printf(err, "signing method %s is invalid", alg ? alg : "(none given)");
		goto out;
	}
	jwt_mac(a, key, jwt, (size_t)(dot2 - jwt), mac);
	if (jwt_b64url_decode(&given, dot2 + 1, strlen(dot2 + 1)) < 0 ||
	    !crypto_equal(given.data, given.len, mac, crypto_digest_len(a))) {
		sbuf_adds(err, "signature is invalid");
		goto out;
	}
	rc = 0;
out:
	sbuf_free(&given);
	json_object_put(header);
	return rc;
}

/* A numeric claim; false when absent. */
static bool jwt_time(struct json_object *claims, const char *name, int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(claims, name, &v) ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

/* nbf (optional) and exp (required) against now; *exp is set when they pass. */
static int jwt_check_times(struct json_object *claims, int64_t now, int64_t *exp,
			   struct sbuf *err)
{
	int64_t t;

	if (jwt_time(claims, "nbf", &t) && t > now + MESSAGEBIRD_CLOCK_SKEW_S) {
		sbuf_adds(err, "claim nbf is in the future");
		return -1;
	}
	if (!jwt_time(claims, "exp", exp)) {
		sbuf_adds(err, "claim exp is missing");
		return -1;
	}
	if (*exp <= now - MESSAGEBIRD_CLOCK_SKEW_S) {
		sbuf_adds(err, "claim exp is in the past");
		return -1;
	}
	return 0;
}

/* jti as the replay id, recorded until the token expires (with the skew allowed). */
static int jwt_replay(struct json_object *claims, int64_t exp, struct verify_result *out,
		      struct sbuf *err)
{
	const char *jti = provider_json_str(claims, "jti");
	char id[PROVIDER_REPLAY_ID_MAX];

	if (!jti || !*jti) {
		sbuf_adds(err, "claim jti is missing");
		return -1;
	}
	if (!provider_copy_exact(id, sizeof(id), jti)) {
		sbuf_printf(err, "claim jti is longer than %d bytes or not UTF-8",
			    PROVIDER_REPLAY_ID_MAX - 1);
		return -1;
	}
	if (out) {
		memcpy(out->replay_id, id, sizeof(id));
		out->replay_until = exp + MESSAGEBIRD_CLOCK_SKEW_S;
	}
	return 0;
}

/* Compares a hex claim with the SHA-256 of data, ignoring the claim's case. */
static bool jwt_hash_matches(const char *claim, const char *data, size_t n)
{
	struct sbuf want;
	char lower[80];
	size_t len = strlen(claim);
	bool ok;

	if (len >= sizeof(lower))
		return false;
	for (size_t i = 0; i <= len; i++)
		lower[i] = claim[i] >= 'A' && claim[i] <= 'F' ? (char)(claim[i] + 32) : claim[i];
	sbuf_init(&want);
	crypto_sha256_hex(&want, data, n);
	ok = crypto_equal(lower, len, want.data, want.len);
	sbuf_free(&want);
	return ok;
}

static int jwt_check_claims(struct json_object *claims, const char *url, const char *body,
			    size_t len, int64_t now, struct verify_result *out, struct sbuf *err)
{
	const char *iss = provider_json_str(claims, "iss");
	const char *url_hash = provider_json_str(claims, "url_hash");
	const char *payload_hash = provider_json_str(claims, "payload_hash");
	int64_t exp;

	if (!iss || strcmp(iss, "MessageBird") != 0)
		return sbuf_adds(err, "claim iss is not MessageBird"), -1;
	if (jwt_check_times(claims, now, &exp, err) < 0 || jwt_replay(claims, exp, out, err) < 0)
		return -1;
	if (!url_hash || !jwt_hash_matches(url_hash, url, strlen(url)))
		return sbuf_adds(err, "claim url_hash is invalid"), -1;
	if (payload_hash && len == 0)
		return sbuf_adds(err, "claim payload_hash is set but actual payload is "
				      "missing"), -1;
	if (payload_hash && !jwt_hash_matches(payload_hash, body, len))
		return sbuf_adds(err, "claim payload_hash is invalid"), -1;
	if (!payload_hash && len > 0)
		return sbuf_adds(err, "claim payload_hash is not set but payload is present"), -1;
	return 0;
}

int messagebird_jwt_verify(const char *key, const char *jwt, const char *url, const char *body,
			   size_t len, int64_t now, struct verify_result *out,
			   struct sbuf *err)
{
	const char *dot1 = strchr(jwt, '.');
	const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	struct json_object *claims = NULL;
	int rc = -1;

	if (!dot2 || strchr(dot2 + 1, '.')) {
		sbuf_adds(err, "the JWT does not have three parts");
		goto out;
	}
	if (jwt_check_mac(key, jwt, dot1, dot2, err) < 0)
		goto out;
	claims = jwt_json(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!claims) {
		sbuf_adds(err, "the JWT claims are not base64url JSON");
		goto out;
	}
	rc = jwt_check_claims(claims, url, body ? body : "", body ? len : 0, now, out, err);
out:
	json_object_put(claims);
	return rc;
}

static int messagebird_verify(void *priv, const struct http_in *in, struct verify_result *out,
			      struct sbuf *err)
{
	struct messagebird *m = priv;
	const char *jwt = in->headers ? kvlist_get_ci(in->headers, MESSAGEBIRD_SIGNATURE_HEADER)
				      : NULL;

	if (!jwt || !in->url) {
		sbuf_adds(err, "missing " MESSAGEBIRD_SIGNATURE_HEADER " header");
		return -1;
	}
	return messagebird_jwt_verify(m->signing_key, jwt, in->url, in->body, in->body_len,
				      in->now, out, err);
}

/* ---- webhooks ---- */

static int messagebird_parse_inbound(void *priv, const struct http_in *in, struct sms_in *out,
				     struct sbuf *err)
{
	struct kvlist f;
	int rc = -1;

	(void)priv;
	kvlist_init(&f);
	if (provider_webhook_fields(in, &f, err) < 0)
		goto out;
	const char *id = kvlist_get(&f, "id"), *from = kvlist_get(&f, "originator");
	const char *to = kvlist_get(&f, "recipient"), *text = kvlist_get(&f, "body");
	text = text ? text : kvlist_get(&f, "message");
	if (!id || !from || !to) {
		sbuf_adds(err, "missing id, originator or recipient");
		goto out;
	}
	if (provider_copy_field(out->provider_id, sizeof(out->provider_id), "id", id, err) < 0 ||
	    provider_copy_field(out->from, sizeof(out->from), "originator", from, err) < 0 ||
	    provider_copy_field(out->to, sizeof(out->to), "recipient", to, err) < 0)
		goto out;
	provider_e164(out->from, sizeof(out->from), from);
	provider_e164(out->to, sizeof(out->to), to);
	sbuf_reset(&out->text);
	sbuf_adds(&out->text, text ? text : "");
	rc = 1;
out:
	kvlist_free(&f);
	return rc;
}

bool messagebird_status_state(const char *status, enum msg_state *out)
{
	static const struct provider_state_name map[] = {
		{ "scheduled", MSG_SUBMITTED },	  { "sent", MSG_ENROUTE },
		{ "buffered", MSG_ENROUTE },	  { "delivered", MSG_DELIVERED },
		{ "delivery_failed", MSG_UNDELIVERED }, { "expired", MSG_EXPIRED },
	};

	return provider_state_lookup(map, ARRAY_LEN(map), status, out);
}

static int messagebird_status_fill(void *priv, const struct kvlist *f, struct status_in *out,
				   struct sbuf *err)
{
	const char *id = kvlist_get(f, "id"), *ref = kvlist_get(f, "reference");
	const char *code = kvlist_get(f, "statusErrorCode");
	const char *reason = kvlist_get(f, "statusReason");

	(void)priv;
	if (provider_copy_field(out->provider_id, sizeof(out->provider_id), "id", id, err) < 0)
		return -1;
	if (ref && !provider_copy_exact(out->reference, sizeof(out->reference), ref))
		out->reference[0] = '\0';
	provider_copy(out->raw_status, sizeof(out->raw_status), kvlist_get(f, "status"));
	provider_copy(out->error_code, sizeof(out->error_code), code);
	provider_copy(out->error_text, sizeof(out->error_text), reason);
	return 0;
}

static int messagebird_parse_status(void *priv, const struct http_in *in, struct status_in *out,
			       struct sbuf *err)
{
	static const struct provider_receipt_spec spec = {
		"id", "status", messagebird_status_state, messagebird_status_fill,
	};

	return provider_parse_receipt(priv, in, &spec, out, err);
}

const struct provider_ops messagebird_ops = {
	.type = "messagebird",
	.example_config =
		"{\"type\": \"messagebird\", "
		"\"access_key\": \"test_gshuPaZoeEG6ovbc8M79w0QyM\", "
		"\"originator\": \"447700900000\", "
		"\"signing_key\": \"PlLrKaqvZNRR5zAjm42ZT6q1\"}",
	.init = messagebird_init,
	.destroy = messagebird_destroy,
	.build_send = messagebird_build_send,
	.parse_send_result = messagebird_parse_send_result,
	.verify = messagebird_verify,
	.parse_inbound = messagebird_parse_inbound,
	.parse_status = messagebird_parse_status,
	.inbound_answer = webhook_inbound_answer,
};
