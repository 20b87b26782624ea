/*
 * twilio.c: Twilio Programmable Messaging.
 *
 * Config: {"type": "twilio", "account_sid": "AC...", "auth_token": "...",
 *          "from": "+447700900000" | "SIGNPOST" , "messaging_service_sid": "MG...",
 *          "base_url": "https://api.twilio.com"}
 * with exactly one of from and messaging_service_sid.
 *
 * Send: POST {base_url}/2010-04-01/Accounts/{sid}/Messages.json, HTTP Basic sid:token,
 * form fields To, From | MessagingServiceSid, Body, StatusCallback, ValidityPeriod.
 * Inbound texts and status callbacks are form posts (or GETs) signed with
 * X-Twilio-Signature; status callbacks find our message by the "ref" query parameter the
 * core puts in StatusCallback, and by MessageSid.
 */
#include "providers/twilio.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "common/jsonscan.h"
#include "providers/adapters.h"

struct twilio {
	char *base_url; /* no trailing slash */
	char *account_sid;
	char *auth_token;
	char *from;        /* NULL when sending through a messaging service */
	char *service_sid; /* NULL when sending from a number or sender id */
	char *send_url;    /* the Messages resource */
	char *auth;        /* the Authorization header's value */
};

static const char *const twilio_keys[] = { "base_url", "account_sid", "auth_token", "from",
					   "messaging_service_sid" };

bool twilio_sid_valid(const char *s, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (!s || strncmp(s, prefix, plen) != 0 || strlen(s) != plen + 32)
		return false;
	for (s += plen; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * E.164, an alphanumeric sender id (1 to 11 of [A-Za-z0-9 ]) or a short code. Longer digit
 * strings without '+' are national numbers missing "+44".
 */
static const struct provider_sender_rule twilio_sender = {
	"from", 1, PROVIDER_PLUS_E164, PROVIDER_SPACES_INNER,
};

static int twilio_check_sender(const char *from, const char *service, struct sbuf *err)
{
	if (from && service) {
		sbuf_adds(err, "messaging_service_sid: set either from or messaging_service_sid, "
			       "not both");
		return -1;
	}
	if (!from && !service) {
		sbuf_adds(err, "from: missing (an E.164 number such as \"+447700900000\" or an "
			       "alphanumeric sender id; or set messaging_service_sid instead)");
		return -1;
	}
	if (from && provider_sender_check(from, &twilio_sender, err) < 0)
		return -1;
	if (service && !twilio_sid_valid(service, "MG")) {
		sbuf_adds(err, "messaging_service_sid: must be \"MG\" followed by 32 hexadecimal "
			       "digits");
		return -1;
	}
	return 0;
}

/* Values are not echoed: a secret pasted into the wrong key must not reach a log. */
static int twilio_check(const char *sid, const char *token, const char *from,
			const char *service, struct sbuf *err)
{
	if (!twilio_sid_valid(sid, "AC")) {
		sbuf_printf(err, "account_sid: must be \"AC\" followed by 32 hexadecimal digits "
				 "(the value given has %zu characters)", strlen(sid));
		return -1;
	}
	for (const char *p = token; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			sbuf_adds(err, "auth_token: must not contain spaces, line breaks or control "
				       "characters (check for a stray newline)");
			return -1;
		}
	}
	return twilio_check_sender(from, service, err);
}

static void twilio_destroy(void *priv)
{
	struct twilio *t = priv;

	if (!t)
		return;
	if (t->auth_token)
		memset(t->auth_token, 0, strlen(t->auth_token));
	if (t->auth)
		memset(t->auth, 0, strlen(t->auth));
	free(t->send_url);
	free(t->auth);
	free(t->base_url);
	free(t->account_sid);
	free(t->auth_token);
	free(t->from);
	free(t->service_sid);
	free(t);
}

static int twilio_init(struct json_object *cfg, const struct provider_env *env, void **priv,
		       struct sbuf *err)
{
	struct twilio *t = xcalloc(1, sizeof(*t));
	const char *base, *sid, *token, *from, *service;
	int rc = -1;

	(void)env;
	if (provider_cfg_keys(cfg, "twilio", twilio_keys, ARRAY_LEN(twilio_keys), err) < 0 ||
	    provider_cfg_url(cfg, "base_url", false, &base, err) < 0 ||
	    provider_cfg_string(cfg, "account_sid", true, &sid, err) < 0 ||
	    provider_cfg_string(cfg, "auth_token", true, &token, err) < 0 ||
	    provider_cfg_string(cfg, "from", false, &from, err) < 0 ||
	    provider_cfg_string(cfg, "messaging_service_sid", false, &service, err) < 0 ||
	    twilio_check(sid, token, from, service, err) < 0)
		goto out;
	t->base_url = provider_base_url(base, TWILIO_DEFAULT_BASE_URL);
	t->account_sid = xstrdup(sid);
	t->auth_token = xstrdup(token);
	t->from = from ? xstrdup(from) : NULL;
	t->service_sid = service ? xstrdup(service) : NULL;
	t->send_url = xasprintf("%s/" TWILIO_API_VERSION "/Accounts/%s/Messages.json", t->base_url,
				t->account_sid);
	t->auth = http_basic_auth(sid, token);
	*priv = t;
	t = NULL;
	rc = 0;
out:
	twilio_destroy(t);
	return rc;
}

static int twilio_build_send(void *priv, const struct sms_out *msg, struct http_req *req)
{
	struct twilio *t = priv;
	struct kvlist form;
	const char *from = msg->from ? msg->from : t->from;

	if (!msg->to || !msg->text)
		return -1;
	kvlist_init(&form);
	kvlist_add(&form, "To", msg->to);
	if (from)
		kvlist_add(&form, "From", from);
	else
		kvlist_add(&form, "MessagingServiceSid", t->service_sid);
	kvlist_add(&form, "Body", msg->text);
	if (msg->status_url)
		kvlist_add(&form, "StatusCallback", msg->status_url);
	if (msg->validity_s > 0) {
		char v[16];
		snprintf(v, sizeof(v), "%d", MIN(msg->validity_s, TWILIO_MAX_VALIDITY_S));
		kvlist_add(&form, "ValidityPeriod", v);
	}
	req->method = "POST";
	req->url = xstrdup(t->send_url);
	kvlist_add(&req->headers, "Authorization", t->auth);
	kvlist_add(&req->headers, "Content-Type", "application/x-www-form-urlencoded");
	kvlist_add(&req->headers, "Accept", "application/json");
	codec_form_build(&req->body, &form);
	kvlist_free(&form);
	return 0;
}

bool twilio_status_state(const char *status, enum msg_state *out)
{
	static const struct {
		const char *name;
		enum msg_state state;
	} map[] = {
		{ "accepted", MSG_SUBMITTED }, { "scheduled", MSG_SUBMITTED },
		{ "queued", MSG_SUBMITTED },   { "sending", MSG_SUBMITTED },
		{ "sent", MSG_ENROUTE },       { "delivered", MSG_DELIVERED },
		{ "read", MSG_DELIVERED },     { "undelivered", MSG_UNDELIVERED },
		{ "failed", MSG_FAILED },      { "canceled", MSG_CANCELLED },
	};

	for (size_t i = 0; status && i < ARRAY_LEN(map); i++) {
		if (strcmp(status, map[i].name) == 0) {
			*out = map[i].state;
			return true;
		}
	}
	return false;
}

/* The members of Twilio's answer to a send that the adapter reads. */
enum {
	TWILIO_ANSWER_SID,
	TWILIO_ANSWER_STATUS,
	TWILIO_ANSWER_SEGMENTS,
	TWILIO_ANSWER_CODE,
	TWILIO_ANSWER_MESSAGE,
	TWILIO_ANSWER_NMEMBERS,
};

static void twilio_accepted(const struct jsonscan_member *m, struct send_result *out)
{
	char sid[sizeof(out->provider_id)], status[16], segments[8];
	enum msg_state state = MSG_SUBMITTED;
	int64_t n;

	out->outcome = SEND_OK;
	out->state = MSG_SUBMITTED;
	/* A 2xx means Twilio has the text: never send it again, even without a sid. */
	if (m[TWILIO_ANSWER_SID].kind != JSONSCAN_STRING ||
	    !jsonscan_text(&m[TWILIO_ANSWER_SID], sid, sizeof(sid)) ||
	    !provider_copy_exact(out->provider_id, sizeof(out->provider_id), sid))
		provider_copy(out->reason, sizeof(out->reason),
			      "Twilio accepted the message but gave no usable sid");
	if (jsonscan_text(&m[TWILIO_ANSWER_STATUS], status, sizeof(status)) &&
	    twilio_status_state(status, &state) && (state == MSG_ENROUTE || state == MSG_DELIVERED))
		out->state = state;
	if (jsonscan_text(&m[TWILIO_ANSWER_SEGMENTS], segments, sizeof(segments)) &&
	    str_to_i64(segments, 1, 1000, &n))
		out->segments = (int)n;
}

/*
 * 20003 / HTTP 401 (bad credentials) is temporary on purpose: a wrong token will not fix
 * itself per message, but failing every message permanently because of an operator's typo
 * would lose a whole campaign. The messages wait, with backoff, until the config is fixed.
 */
static void twilio_classify(long status, int64_t code, struct send_result *out)
{
	bool throttled = status == 429 || code == 20429;
	bool auth = status == 401 || code == 20003;
	/* Other 4xx answers are about this message; 5xx, 408 and 1xx/3xx are not. */
	bool permanent = status >= 400 && status < 500 && status != 408 && !throttled && !auth;

	out->throttled = throttled;
	out->outcome = permanent ? SEND_PERMFAIL : SEND_TEMPFAIL;
	out->state = permanent ? MSG_REJECTED : MSG_RETRY;
	out->opted_out = permanent && code == TWILIO_CODE_OPTED_OUT;
}

static void twilio_failed(long status, const struct kvlist *headers, bool json,
			  const struct jsonscan_member *m, struct send_result *out)
{
	char code[16], message[sizeof(out->reason)];
	int64_t n = 0;

	if (jsonscan_text(&m[TWILIO_ANSWER_CODE], code, sizeof(code)) &&
	    str_to_i64(code, 0, INT32_MAX, &n))
		provider_copy(out->error_code, sizeof(out->error_code), code);
	twilio_classify(status, n, out);
	if (out->outcome == SEND_TEMPFAIL)
		out->retry_after_s = provider_retry_after(headers);
	jsonscan_text(&m[TWILIO_ANSWER_MESSAGE], message, sizeof(message));
	/* a long message is cut: the text is for people reading the message's history */
	if (n && m[TWILIO_ANSWER_MESSAGE].kind == JSONSCAN_STRING) {
		if (snprintf(out->reason, sizeof(out->reason), "Twilio error %s: %s (HTTP %ld)",
			     out->error_code, message, status) < 0)
			out->reason[0] = '\0';
	} else {
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld from Twilio%s", status,
			 json ? "" : " without a Twilio error body");
	}
	provider_text_fix(out->reason, sizeof(out->reason));
}

static void twilio_parse_send_result(void *priv, long status, const struct kvlist *headers,
				     const char *body, size_t len, struct send_result *out)
{
	struct jsonscan_member m[TWILIO_ANSWER_NMEMBERS] = {
		[TWILIO_ANSWER_SID] = { .name = "sid" },
		[TWILIO_ANSWER_STATUS] = { .name = "status" },
		[TWILIO_ANSWER_SEGMENTS] = { .name = "num_segments" },
		[TWILIO_ANSWER_CODE] = { .name = "code" },
		[TWILIO_ANSWER_MESSAGE] = { .name = "message" },
	};
	bool json = jsonscan_members(body, len, m, TWILIO_ANSWER_NMEMBERS) == 0;

	(void)priv;
	memset(out, 0, sizeof(*out));
	if (status >= 200 && status < 300)
		twilio_accepted(m, out);
	else
		twilio_failed(status, headers, json, m, out);
}

struct utf16_iter {
	const char *s;
	size_t n, i;
	int low; /* pending low surrogate, or -1 */
};

/* Next UTF-16 code unit, or -1 at the end. */
static int utf16_next(struct utf16_iter *it)
{
	int unit = it->low;

	if (unit >= 0) {
		it->low = -1;
		return unit;
	}
	if (it->i >= it->n)
		return -1;
	uint32_t cp = codec_utf8_next(it->s, it->n, &it->i);
	if (cp < 0x10000)
		return (int)cp;
	cp -= 0x10000;
	it->low = (int)(0xdc00 | (cp & 0x3ff));
	return (int)(0xd800 | cp >> 10);
}

/* Compares UTF-8 strings by UTF-16 code units, the order JavaScript's sort() uses. */
static int utf16_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct utf16_iter x = { a, alen, 0, -1 };
	struct utf16_iter y = { b, blen, 0, -1 };

	for (;;) {
		int u = utf16_next(&x), v = utf16_next(&y);
		if (u != v || u < 0)
			return u - v;
	}
}

static int twilio_field_cmp(const void *pa, const void *pb)
{
	const struct kv *a = *(const struct kv *const *)pa, *b = *(const struct kv *const *)pb;
	int c = utf16_cmp(a->key, strlen(a->key), b->key, strlen(b->key));

	return c ? c : utf16_cmp(a->value, a->value_len, b->value, b->value_len);
}

void twilio_signature(const char *token, const char *url, const struct kvlist *params,
		      struct sbuf *out)
{
	size_t n = params ? params->n : 0;
	const struct kv **sorted = xcalloc(n ? n : 1, sizeof(*sorted));
	unsigned char mac[CRYPTO_MAX_DIGEST];
	struct sbuf data;

	sbuf_init(&data);
	sbuf_adds(&data, url);
	for (size_t i = 0; i < n; i++)
		sorted[i] = &params->items[i];
	qsort(sorted, n, sizeof(*sorted), twilio_field_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && twilio_field_cmp(&sorted[i - 1], &sorted[i]) == 0)
			continue;
		sbuf_adds(&data, sorted[i]->key);
		sbuf_add(&data, sorted[i]->value, sorted[i]->value_len);
	}
	crypto_hmac(CRYPTO_SHA1, token, strlen(token), data.data, data.len, mac);
	codec_base64_encode(out, mac, crypto_digest_len(CRYPTO_SHA1));
	sbuf_free(&data);
	free(sorted);
}

/*
 * The URL with the scheme's default port added when it names none, or removed when it
 * names the default: Twilio may sign either form. False when neither applies.
 */
static bool twilio_port_variant(const char *url, struct sbuf *out)
{
	bool https = strncasecmp(url, "https://", 8) == 0;

	if (!https && strncasecmp(url, "http://", 7) != 0)
		return false;
	const char *auth = url + (https ? 8 : 7), *port_def = https ? ":443" : ":80";
	size_t alen = strcspn(auth, "/?#");
	const char *host = auth, *bracket = NULL, *colon = NULL;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			host = p + 1;
	for (const char *p = host; p < auth + alen; p++)
		if (*p == ']')
			bracket = p;
	for (const char *p = bracket ? bracket : host; p < auth + alen; p++)
		if (*p == ':' && !colon)
			colon = p;
	if (!colon) {
		sbuf_add(out, url, (size_t)(auth + alen - url));
		sbuf_adds(out, port_def);
		sbuf_adds(out, auth + alen);
		return true;
	}
	if ((size_t)(auth + alen - colon) != strlen(port_def) ||
	    strncmp(colon, port_def, strlen(port_def)) != 0)
		return false;
	sbuf_add(out, url, (size_t)(colon - url));
	sbuf_adds(out, auth + alen);
	return true;
}

/* The fields of a webhook: the form body of a POST, the query of a GET. */
static int twilio_fields(const struct http_in *in, struct kvlist *fields, struct sbuf *err)
{
	if (in->method && strcmp(in->method, "GET") == 0) {
		for (size_t i = 0; in->query && i < in->query->n; i++) {
			const struct kv *kv = &in->query->items[i];
			kvlist_addn(fields, kv->key, strlen(kv->key), kv->value, kv->value_len);
		}
		return provider_fields_no_nul(fields, err);
	}
	if (codec_form_parse(fields, in->body ? in->body : "", in->body_len) < 0) {
		sbuf_adds(err, "malformed form body (bad %-escape)");
		return -1;
	}
	return provider_fields_no_nul(fields, err);
}

static bool twilio_signature_matches(const struct twilio *t, const char *url,
				     const struct kvlist *params, const char *given)
{
	struct sbuf expected;
	bool ok;

	sbuf_init(&expected);
	twilio_signature(t->auth_token, url, params, &expected);
	ok = crypto_equal(given, strlen(given), expected.data, expected.len);
	sbuf_free(&expected);
	return ok;
}

/*
 * X-Twilio-Signature covers the URL and the fields, with no timestamp and no nonce (the
 * I-Twilio-Idempotency-Token header is not signed): a captured webhook verifies again,
 * and there is no replay id to record. Its effects are stored once by MessageSid.
 */
static int twilio_verify(void *priv, const struct http_in *in, struct verify_result *out,
			 struct sbuf *err)
{
	struct twilio *t = priv;
	const char *given = in->headers ? kvlist_get_ci(in->headers, "X-Twilio-Signature") : NULL;
	struct kvlist params;
	struct sbuf variant;
	int rc = -1;

	(void)out;
	kvlist_init(&params);
	sbuf_init(&variant);
	if (!given || !in->url) {
		sbuf_adds(err, "missing X-Twilio-Signature header");
		goto out;
	}
	/* A GET is signed over the URL alone: its fields are in the URL already. */
	if (strcmp(in->method ? in->method : "POST", "GET") != 0 &&
	    twilio_fields(in, &params, err) < 0)
		goto out;
	if (twilio_signature_matches(t, in->url, &params, given) ||
	    (twilio_port_variant(in->url, &variant) &&
	     twilio_signature_matches(t, sbuf_str(&variant), &params, given)))
		rc = 0;
	else
		sbuf_adds(err, "X-Twilio-Signature does not match (check auth_token and that "
			       "SIGNPOST_PUBLIC_URL is the URL Twilio calls)");
out:
	kvlist_free(&params);
	sbuf_free(&variant);
	return rc;
}

static int twilio_copy_id(char *dst, size_t size, const char *name, const char *value,
			  struct sbuf *err)
{
	if (provider_copy_exact(dst, size, value))
		return 0;
	provider_copy_error(name, value, size, err);
	return -1;
}

static int twilio_parse_inbound(void *priv, const struct http_in *in, struct sms_in *out,
				struct sbuf *err)
{
	struct kvlist f;
	int rc = -1;

	(void)priv;
	kvlist_init(&f);
	if (twilio_fields(in, &f, err) < 0)
		goto out;
	const char *sid = kvlist_get(&f, "MessageSid");
	const char *from = kvlist_get(&f, "From"), *to = kvlist_get(&f, "To");
	const char *body = kvlist_get(&f, "Body");
	sid = sid ? sid : kvlist_get(&f, "SmsSid");
	if (!sid || !from || !to) {
		sbuf_adds(err, "missing MessageSid, From or To");
		goto out;
	}
	if (twilio_copy_id(out->provider_id, sizeof(out->provider_id), "MessageSid", sid, err) < 0 ||
	    twilio_copy_id(out->from, sizeof(out->from), "From", from, err) < 0 ||
	    twilio_copy_id(out->to, sizeof(out->to), "To", to, err) < 0)
		goto out;
	provider_e164(out->from, sizeof(out->from), from);
	provider_e164(out->to, sizeof(out->to), to);
	body = body ? body : "";
	if (!codec_utf8_valid(body, strlen(body))) {
		sbuf_adds(err, "Body is not valid UTF-8");
		goto out;
	}
	sbuf_reset(&out->text);
	sbuf_adds(&out->text, body);
	out->concat_ref[0] = '\0';
	out->concat_total = out->concat_part = 0;
	rc = 1;
out:
	kvlist_free(&f);
	return rc;
}

/* True when an ErrorCode field is code, written as Twilio writes codes. */
static bool twilio_code_is(const char *field, int code)
{
	char text[16];

	snprintf(text, sizeof(text), "%d", code);
	return field && strcmp(field, text) == 0;
}

static int twilio_status_fill(const struct kvlist *f, const char *sid, const char *status,
			      struct status_in *out, struct sbuf *err)
{
	const char *code = kvlist_get(f, "ErrorCode");
	const char *text = kvlist_get(f, "ErrorMessage");

	if (twilio_copy_id(out->provider_id, sizeof(out->provider_id), "MessageSid", sid,
			   err) < 0)
		return -1;
	provider_copy(out->raw_status, sizeof(out->raw_status), status);
	provider_copy(out->error_code, sizeof(out->error_code), code);
	provider_copy(out->error_text, sizeof(out->error_text), text);
	out->opted_out = twilio_code_is(code, TWILIO_CODE_OPTED_OUT);
	return 0;
}

/* Returns 0 (nothing to record) for statuses of inbound messages or new ones. */
static int twilio_parse_status(void *priv, const struct http_in *in, struct status_in *out,
			       struct sbuf *err)
{
	const char *ref = in->query ? kvlist_get(in->query, "ref") : NULL;
	struct kvlist f;
	int rc = -1;

	(void)priv;
	kvlist_init(&f);
	memset(out, 0, sizeof(*out));
	if (twilio_fields(in, &f, err) < 0)
		goto out;
	const char *sid = kvlist_get(&f, "MessageSid");
	const char *status = kvlist_get(&f, "MessageStatus");
	sid = sid ? sid : kvlist_get(&f, "SmsSid");
	status = status ? status : kvlist_get(&f, "SmsStatus");
	if (!sid || !status) {
		sbuf_adds(err, "missing MessageSid or MessageStatus");
		goto out;
	}
	if (!twilio_status_state(status, &out->state)) {
		rc = 0;
		goto out;
	}
	if (twilio_status_fill(&f, sid, status, out, err) < 0 ||
	    (ref && twilio_copy_id(out->reference, sizeof(out->reference), "ref", ref, err) < 0))
		goto out;
	rc = 1;
out:
	kvlist_free(&f);
	return rc;
}

/* TwiML; a reply in it is texted to the tenant (text/plain would be texted too). */
static void twilio_inbound_answer(void *priv, const char *reply, struct http_answer *out)
{
	(void)priv;
	out->status = 200;
	out->content_type = "text/xml";
	sbuf_adds(&out->body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
	if (reply) {
		sbuf_adds(&out->body, "<Message>");
		codec_xml_escape(&out->body, reply);
		sbuf_adds(&out->body, "</Message>");
	}
	sbuf_adds(&out->body, "</Response>");
}

const struct provider_ops twilio_ops = {
	.type = "twilio",
	.example_config =
		"{\"type\": \"twilio\", "
		"\"account_sid\": \"AC00000000000000000000000000000000\", "
		"\"auth_token\": \"12345\", \"from\": \"+447700900000\"}",
	.sync_reply = true,
	.init = twilio_init,
	.destroy = twilio_destroy,
	.build_send = twilio_build_send,
	.parse_send_result = twilio_parse_send_result,
	.verify = twilio_verify,
	.parse_inbound = twilio_parse_inbound,
	.parse_status = twilio_parse_status,
	.inbound_answer = twilio_inbound_answer,
};
