/*
 * vonage.c: Vonage (formerly Nexmo) SMS API.
 *
 * Config: {"type": "vonage", "api_key": "...", "api_secret": "...", "from": "447700900000",
 *          "signature_secret": "...", "signature_method": "md5hash|md5|sha1|sha256|sha512",
 *          "base_url": "https://rest.nexmo.com"}
 *
 * Send: POST {base_url}/sms/json, form fields api_key, api_secret, from, to (digits, no
 * '+'), text, type=unicode for UCS-2 texts, callback (our status URL without its query:
 * client-ref carries our reference), client-ref, ttl (ms). The answer is HTTP 200 with a
 * status per message part; the first part's status decides.
 * Delivery receipts and inbound texts arrive as a GET query, a POST form or a POST JSON
 * object, signed with "sig" (see vonage_signature); unsigned webhooks are refused.
 * Inbound long texts arrive in parts carrying concat-ref, concat-total and concat-part;
 * the core reassembles them.
 */
#include "providers/vonage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "providers/adapters.h"
#include "providers/webhook.h"

struct vonage {
	char *base_url; /* no trailing slash */
	char *api_key;
	char *api_secret;
	char *from;
	char *sig_secret;
	enum vonage_sig_method method;
};

static const char *const vonage_keys[] = { "base_url", "api_key", "api_secret", "from",
					   "signature_secret", "signature_method" };

static const char *const vonage_method_names[] = {
	[VONAGE_SIG_MD5HASH] = "md5hash", [VONAGE_SIG_MD5] = "md5",
	[VONAGE_SIG_SHA1] = "sha1",	  [VONAGE_SIG_SHA256] = "sha256",
	[VONAGE_SIG_SHA512] = "sha512",
};

const char *vonage_sig_method_str(enum vonage_sig_method m)
{
	return (unsigned)m < ARRAY_LEN(vonage_method_names) ? vonage_method_names[m] : "invalid";
}

bool vonage_sig_method_parse(const char *s, enum vonage_sig_method *out)
{
	for (size_t i = 0; s && i < ARRAY_LEN(vonage_method_names); i++) {
		if (strcmp(s, vonage_method_names[i]) == 0) {
			*out = (enum vonage_sig_method)i;
			return true;
		}
	}
	return false;
}

static void vonage_destroy(void *priv)
{
	struct vonage *v = priv;

	if (!v)
		return;
	provider_free_secret(v->api_secret);
	provider_free_secret(v->sig_secret);
	free(v->base_url);
	free(v->api_key);
	free(v->from);
	free(v);
}

/* A sender: 1 to 15 digits (with an optional '+') or 1 to 11 letters, digits and spaces. */
static const struct provider_sender_rule vonage_sender = {
	"from", 1, PROVIDER_PLUS_OPTIONAL, PROVIDER_SPACES_ANY,
};

static int vonage_read(struct json_object *cfg, struct vonage *v, struct sbuf *err)
{
	const char *base, *key, *secret, *from, *sig, *method = NULL;

	if (provider_cfg_url(cfg, "base_url", false, &base, err) < 0 ||
	    provider_cfg_string(cfg, "api_key", true, &key, err) < 0 ||
	    provider_cfg_string(cfg, "api_secret", true, &secret, err) < 0 ||
	    provider_cfg_string(cfg, "from", true, &from, err) < 0 ||
	    provider_cfg_string(cfg, "signature_secret", true, &sig, err) < 0 ||
	    provider_cfg_string(cfg, "signature_method", false, &method, err) < 0)
		return -1;
	if (provider_sender_check(from, &vonage_sender, err) < 0)
		return -1;
	if (method && !vonage_sig_method_parse(method, &v->method)) {
		sbuf_adds(err, "signature_method: must be one of md5hash, md5, sha1, sha256, "
			       "sha512");
		return -1;
	}
	v->base_url = provider_base_url(base, VONAGE_DEFAULT_BASE_URL);
	v->api_key = xstrdup(key);
	v->api_secret = xstrdup(secret);
	v->from = xstrdup(provider_sender_digits(from));
	v->sig_secret = xstrdup(sig);
	return 0;
}

static int vonage_init(struct json_object *cfg, const struct provider_env *env, void **priv,
		       struct sbuf *err)
{
	struct vonage *v = xcalloc(1, sizeof(*v));
	int rc = -1;

	(void)env;
	v->method = VONAGE_SIG_MD5HASH;
	if (provider_cfg_keys(cfg, "vonage", vonage_keys, ARRAY_LEN(vonage_keys), err) < 0 ||
	    vonage_read(cfg, v, err) < 0)
		goto out;
	*priv = v;
	v = NULL;
	rc = 0;
out:
	vonage_destroy(v);
	return rc;
}

static void vonage_add_int(struct kvlist *form, const char *key, long long value)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", value);
	kvlist_add(form, key, buf);
}

static int vonage_build_send(void *priv, const struct sms_out *msg, struct http_req *req)
{
	struct vonage *v = priv;
	struct kvlist form;
	char to[32];

	if (!msg->to || !msg->text)
		return -1;
	provider_digits(to, sizeof(to), msg->to);
	kvlist_init(&form);
	kvlist_add(&form, "api_key", v->api_key);
	kvlist_add(&form, "api_secret", v->api_secret);
	kvlist_add(&form, "from", msg->from ? provider_sender_digits(msg->from) : v->from);
	kvlist_add(&form, "to", to);
	kvlist_add(&form, "text", msg->text);
	if (msg->unicode)
		kvlist_add(&form, "type", "unicode");
	if (msg->status_url) {
		char *callback = xstrndup(msg->status_url, strcspn(msg->status_url, "?#"));
		kvlist_add(&form, "callback", callback);
		free(callback);
	}
	if (msg->reference)
		kvlist_add(&form, "client-ref", msg->reference);
	if (msg->validity_s > 0)
		vonage_add_int(&form, "ttl", (long long)msg->validity_s * 1000);
	req->method = "POST";
	req->url = xasprintf("%s/sms/json", v->base_url);
	kvlist_add(&req->headers, "Content-Type", "application/x-www-form-urlencoded");
	kvlist_add(&req->headers, "Accept", "application/json");
	codec_form_build(&req->body, &form);
	kvlist_free(&form);
	return 0;
}

/*
 * Per-message status codes. Credentials (4), account (8), credit (9), signature (14) and
 * sender (15) problems are the operator's to fix and fail every text alike: temporary, so
 * a campaign waits instead of being lost. Barred numbers (7) opted out.
 */
static void vonage_classify(int64_t code, struct send_result *out)
{
	bool temporary = code == 1 || code == 4 || code == 5 || code == 8 || code == 9 ||
			 code == 14 || code == 15;

	out->throttled = code == 1;
	out->outcome = temporary ? SEND_TEMPFAIL : SEND_PERMFAIL;
	out->state = temporary ? MSG_RETRY : MSG_REJECTED;
	out->opted_out = code == VONAGE_STATUS_BARRED;
}

/* The first element of "messages", or NULL. */
static struct json_object *vonage_first_message(struct json_object *obj)
{
	struct json_object *list;

	if (!obj || !json_object_object_get_ex(obj, "messages", &list) ||
	    !json_object_is_type(list, json_type_array) || json_object_array_length(list) < 1)
		return NULL;
	struct json_object *m = json_object_array_get_idx(list, 0);
	return json_object_is_type(m, json_type_object) ? m : NULL;
}

static void vonage_accepted(struct json_object *obj, struct json_object *m,
			    struct send_result *out)
{
	const char *id = provider_json_str(m, "message-id");
	const char *count = provider_json_str(obj, "message-count");
	int64_t n;

	out->outcome = SEND_OK;
	out->state = MSG_SUBMITTED;
	if (!id || !provider_copy_exact(out->provider_id, sizeof(out->provider_id), id))
		provider_copy(out->reason, sizeof(out->reason),
			      "Vonage accepted the message but gave no usable message-id");
	if (count && str_to_i64(count, 1, 1000, &n))
		out->segments = (int)n;
}

static void vonage_parse_200(struct json_object *obj, struct send_result *out)
{
	struct json_object *m = vonage_first_message(obj);
	const char *status = provider_json_str(m, "status");
	const char *text = provider_json_str(m, "error-text");
	int64_t code = -1;

	if (status && str_to_i64(status, 0, 1000000, &code) && code == 0) {
		vonage_accepted(obj, m, out);
		return;
	}
	if (!m || code < 0) {
		/* Vonage may or may not have the text: retrying risks a duplicate, but an
		 * unreadable answer from a 200 is a fault of theirs that retrying resolves. */
		out->outcome = SEND_TEMPFAIL;
		out->state = MSG_RETRY;
		provider_copy(out->reason, sizeof(out->reason),
			      "HTTP 200 from Vonage without a readable message status");
		return;
	}
	vonage_classify(code, out);
	provider_copy(out->error_code, sizeof(out->error_code), status);
	snprintf(out->reason, sizeof(out->reason), "Vonage status %s: %s", status,
		 text ? text : "no error-text");
	provider_text_fix(out->reason, sizeof(out->reason)); /* Vonage's bytes, cut anywhere */
}

static void vonage_parse_send_result(void *priv, long status, const struct kvlist *headers,
				     const char *body, size_t len, struct send_result *out)
{
	struct json_object *obj = provider_json_parse(body, len);

	(void)priv;
	memset(out, 0, sizeof(*out));
	if (status == 200) {
		vonage_parse_200(obj, out);
	} else {
		provider_http_classify(status, headers, out);
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld from Vonage", status);
	}
	json_object_put(obj);
}

/* Hashes S (with the secret appended for md5hash) into lower-case hex. */
static void vonage_digest(enum vonage_sig_method m, const char *secret, struct sbuf *s,
			  struct sbuf *out)
{
	static const enum crypto_alg algs[] = {
		[VONAGE_SIG_MD5HASH] = CRYPTO_MD5, [VONAGE_SIG_MD5] = CRYPTO_MD5,
		[VONAGE_SIG_SHA1] = CRYPTO_SHA1,   [VONAGE_SIG_SHA256] = CRYPTO_SHA256,
		[VONAGE_SIG_SHA512] = CRYPTO_SHA512,
	};
	unsigned char mac[CRYPTO_MAX_DIGEST];
	enum crypto_alg alg = algs[(unsigned)m < ARRAY_LEN(algs) ? m : 0];

	if (m == VONAGE_SIG_MD5HASH) {
		sbuf_adds(s, secret);
		crypto_hash(alg, s->data, s->len, mac);
	} else {
		crypto_hmac(alg, secret, strlen(secret), s->data, s->len, mac);
	}
	codec_hex_encode(out, mac, crypto_digest_len(alg), false);
}

void vonage_signature(enum vonage_sig_method m, const char *secret,
		      const struct kvlist *fields, struct sbuf *out)
{
	struct kvlist sorted;
	struct sbuf s;

	kvlist_init(&sorted);
	sbuf_init(&s);
	for (size_t i = 0; fields && i < fields->n; i++) {
		const struct kv *kv = &fields->items[i];
		if (strcmp(kv->key, "sig") != 0)
			kvlist_addn(&sorted, kv->key, strlen(kv->key), kv->value, kv->value_len);
	}
	kvlist_sort(&sorted);
	for (size_t i = 0; i < sorted.n; i++) {
		sbuf_printf(&s, "&%s=", sorted.items[i].key);
		for (size_t j = 0; j < sorted.items[i].value_len; j++) {
			char c = sorted.items[i].value[j];
			sbuf_addc(&s, c == '&' || c == '=' ? '_' : c);
		}
	}
	vonage_digest(m, secret, &s, out);
	sbuf_free(&s);
	kvlist_free(&sorted);
}

static bool vonage_sig_matches(const struct vonage *v, const struct kvlist *fields,
			       const char *given)
{
	struct sbuf expected;
	size_t n = strlen(given);
	char *lower = xstrdup(given);
	bool ok;

	for (size_t i = 0; i < n; i++)
		if (lower[i] >= 'A' && lower[i] <= 'Z')
			lower[i] = (char)(lower[i] - 'A' + 'a');
	sbuf_init(&expected);
	vonage_signature(v->method, v->sig_secret, fields, &expected);
	ok = crypto_equal(lower, n, expected.data, expected.len);
	sbuf_free(&expected);
	free(lower);
	return ok;
}

/*
 * sig covers every field, timestamp and nonce included, but Vonage documents the nonce
 * only as randomness in the signature, not as an id of one webhook, and retries a webhook
 * for 24 hours: neither is used to refuse a repeat (no replay id). Its effects are stored
 * once by messageId.
 */
static int vonage_verify(void *priv, const struct http_in *in, struct verify_result *out,
			 struct sbuf *err)
{
	struct vonage *v = priv;
	struct kvlist f;
	int rc = -1;

	(void)out;
	kvlist_init(&f);
	if (provider_webhook_fields(in, &f, err) < 0)
		goto out;
	const char *sig = kvlist_get(&f, "sig");
	if (!sig) {
		sbuf_adds(err, "missing sig (turn on signed webhooks in the Vonage dashboard)");
		goto out;
	}
	if (!vonage_sig_matches(v, &f, sig)) {
		sbuf_printf(err, "sig does not match (check signature_secret and that "
				 "signature_method is %s)", vonage_sig_method_str(v->method));
		goto out;
	}
	rc = 0;
out:
	kvlist_free(&f);
	return rc;
}

static int vonage_concat(const struct kvlist *f, struct sms_in *out, struct sbuf *err)
{
	const char *concat = kvlist_get(f, "concat"), *ref = kvlist_get(f, "concat-ref");
	const char *total = kvlist_get(f, "concat-total"), *part = kvlist_get(f, "concat-part");
	int64_t t, p;

	out->concat_ref[0] = '\0';
	out->concat_total = out->concat_part = 0;
	if (!concat || strcmp(concat, "true") != 0)
		return 0;
	if (!ref || !*ref || !total || !part || !str_to_i64(total, 2, 255, &t) ||
	    !str_to_i64(part, 1, t, &p)) {
		sbuf_adds(err, "concat is true but concat-ref, concat-total or concat-part is "
			       "missing, empty or out of range");
		return -1;
	}
	if (provider_copy_field(out->concat_ref, sizeof(out->concat_ref), "concat-ref", ref,
				err) < 0)
		return -1;
	out->concat_total = (int)t;
	out->concat_part = (int)p;
	return 0;
}

static int vonage_inbound_fill(const struct kvlist *f, struct sms_in *out, struct sbuf *err)
{
	const char *id = kvlist_get(f, "messageId"), *from = kvlist_get(f, "msisdn");
	const char *to = kvlist_get(f, "to"), *text = kvlist_get(f, "text");

	if (!id || !from || !to) {
		sbuf_adds(err, "missing messageId, msisdn or to");
		return -1;
	}
	if (provider_copy_field(out->provider_id, sizeof(out->provider_id), "messageId", id,
				err) < 0 ||
	    provider_copy_field(out->from, sizeof(out->from), "msisdn", from, err) < 0 ||
	    provider_copy_field(out->to, sizeof(out->to), "to", to, err) < 0)
		return -1;
	provider_e164(out->from, sizeof(out->from), from);
	provider_e164(out->to, sizeof(out->to), to);
	text = text ? text : "";
	if (!codec_utf8_valid(text, strlen(text))) {
		sbuf_adds(err, "text is not valid UTF-8");
		return -1;
	}
	sbuf_reset(&out->text);
	sbuf_adds(&out->text, text);
	return vonage_concat(f, out, err);
}

static int vonage_parse_inbound(void *priv, const struct http_in *in, struct sms_in *out,
				struct sbuf *err)
{
	struct kvlist f;
	int rc = -1;

	(void)priv;
	kvlist_init(&f);
	if (provider_webhook_fields(in, &f, err) < 0)
		goto out;
	const char *type = kvlist_get(&f, "type");
	/* Binary texts (ringtones, WAP pushes) carry no words to route. */
	if (type && strcmp(type, "binary") == 0) {
		rc = 0;
		goto out;
	}
	if (vonage_inbound_fill(&f, out, err) < 0)
		goto out;
	rc = 1;
out:
	kvlist_free(&f);
	return rc;
}

bool vonage_status_state(const char *status, enum msg_state *out)
{
	static const struct provider_state_name map[] = {
		{ "accepted", MSG_ENROUTE },	{ "buffered", MSG_ENROUTE },
		{ "delivered", MSG_DELIVERED }, { "failed", MSG_UNDELIVERED },
		{ "rejected", MSG_REJECTED },	{ "expired", MSG_EXPIRED },
		{ "unknown", MSG_UNKNOWN },
	};

	return provider_state_lookup(map, ARRAY_LEN(map), status, out);
}

static const char *vonage_err_text(const char *code)
{
	static const struct {
		const char *code, *text;
	} texts[] = {
		{ "1", "unknown" },
		{ "2", "absent subscriber (temporary)" },
		{ "3", "absent subscriber (permanent)" },
		{ "4", "call barred by user" },
		{ "5", "portability error" },
		{ "6", "anti-spam rejection" },
		{ "7", "handset busy" },
		{ "8", "network error" },
		{ "9", "illegal number (the recipient opted out)" },
		{ "10", "illegal message" },
		{ "11", "unroutable" },
		{ "12", "destination unreachable" },
		{ "13", "subscriber age restriction" },
		{ "14", "number blocked by carrier" },
		{ "15", "prepaid insufficient funds" },
		{ "99", "general error" },
	};

	for (size_t i = 0; code && i < ARRAY_LEN(texts); i++)
		if (strcmp(code, texts[i].code) == 0)
			return texts[i].text;
	return NULL;
}

static int vonage_status_fill(void *priv, const struct kvlist *f, struct status_in *out,
			      struct sbuf *err)
{
	const char *id = kvlist_get(f, "messageId"), *status = kvlist_get(f, "status");
	const char *code = kvlist_get(f, "err-code"), *ref = kvlist_get(f, "client-ref");

	(void)priv;
	if (provider_copy_field(out->provider_id, sizeof(out->provider_id), "messageId", id,
				err) < 0)
		return -1;
	if (ref && !provider_copy_exact(out->reference, sizeof(out->reference), ref))
		out->reference[0] = '\0';
	provider_copy(out->raw_status, sizeof(out->raw_status), status);
	if (code && strcmp(code, "0") != 0) {
		provider_copy(out->error_code, sizeof(out->error_code), code);
		provider_copy(out->error_text, sizeof(out->error_text), vonage_err_text(code));
	}
	out->opted_out = code && strcmp(code, VONAGE_ERR_OPTED_OUT) == 0;
	return 0;
}

static int vonage_parse_status(void *priv, const struct http_in *in, struct status_in *out,
			       struct sbuf *err)
{
	static const struct provider_receipt_spec spec = {
		"messageId", "status", vonage_status_state, vonage_status_fill,
	};

	return provider_parse_receipt(priv, in, &spec, out, err);
}

const struct provider_ops vonage_ops = {
	.type = "vonage",
	.example_config =
		"{\"type\": \"vonage\", \"api_key\": \"abcd1234\", \"api_secret\": \"s3cr3t\", "
		"\"from\": \"447700900000\", \"signature_secret\": \"my_secret_key\", "
		"\"signature_method\": \"sha256\"}",
	.init = vonage_init,
	.destroy = vonage_destroy,
	.build_send = vonage_build_send,
	.parse_send_result = vonage_parse_send_result,
	.verify = vonage_verify,
	.parse_inbound = vonage_parse_inbound,
	.parse_status = vonage_parse_status,
	.inbound_answer = webhook_inbound_answer,
};
