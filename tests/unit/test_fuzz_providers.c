/*
 * test_fuzz_providers.c: mutation fuzzing of every provider adapter (verify, parse_inbound,
 * parse_status, parse_send_result, inbound_answer and build_send) and of the configuration
 * file. Options (iterations, seed, corpus directory) are described in tests/unit/fuzz.h.
 *
 * The adapters are those of the registry (provider_nth), each built from its example
 * configuration, one target per adapter named after its type; an adapter without seeds
 * of its own below starts from generic ones.
 *
 * An adapter's input is a webhook written as text:
 *   METHOD /path?query
 *   Header-Name: value
 *   (empty line)
 *   body
 * and the same bytes after the first empty line serve as a send answer's body.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/codec.h"
#include "common/jsonscan.h"
#include "gateway/config.h"
#include "providers/provider.h"
#include "tests/unit/fuzz.h"

#define PUBLIC_URL "https://signpost.example"
#define SIM_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/* Every adapter of the registry, built from its example configuration in main. */
struct adapter {
	const struct provider_ops *ops;
	void *priv;
};

static struct adapter *adapters;
static size_t nadapters;

/* The webhook the text describes; false when its query is malformed (the core answers 400). */
struct webhook {
	struct kvlist headers, query;
	char *url, *body;
	struct http_in in;
};

static bool webhook_read(const char *data, size_t len, struct webhook *w)
{
	const char *end = data + len, *eol = memchr(data, '\n', len);
	const char *line_end = eol ? eol : end, *sp = memchr(data, ' ', (size_t)(line_end - data));
	const char *target = sp ? sp + 1 : line_end;
	const char *q;

	kvlist_init(&w->headers);
	kvlist_init(&w->query);
	w->url = xasprintf("%s%.*s", PUBLIC_URL, (int)(line_end - target), target);
	q = strchr(w->url, '?');
	bool ok = !q || codec_form_parse(&w->query, q + 1, strlen(q + 1)) == 0;
	const char *p = eol ? eol + 1 : end;
	while (p < end && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *colon = memchr(p, ':', (size_t)(le - p));
		if (colon) {
			const char *v = colon + 1;
			while (v < le && *v == ' ')
				v++;
			kvlist_addn(&w->headers, p, (size_t)(colon - p), v, (size_t)(le - v));
		}
		p = nl ? nl + 1 : end;
	}
	p = p < end ? p + 1 : end;
	w->body = xstrndup(p, (size_t)(end - p)); /* the core's bodies end with a NUL too */
	w->in = (struct http_in){ len && data[0] == 'G' ? "GET" : "POST", w->url, &w->query,
				  &w->headers, w->body, (size_t)(end - p), 1700000000 };
	return ok;
}

static void webhook_free(struct webhook *w)
{
	kvlist_free(&w->headers);
	kvlist_free(&w->query);
	free(w->url);
	free(w->body);
}

/* A fixed-size text field: NUL-terminated inside it, valid UTF-8 (it goes to PostgreSQL). */
#define CHECK_FIELD(f) CHECK(fuzz_terminated((f), sizeof(f)) && codec_utf8_valid((f), strlen(f)))

static void check_sms_in(int rc, const struct sms_in *m, const struct sbuf *err)
{
	CHECK(rc >= -1 && rc <= 1);
	CHECK(rc < 0 ? err->len > 0 : err->len == 0);
	if (rc != 1)
		return;
	CHECK_FIELD(m->provider_id);
	CHECK_FIELD(m->from);
	CHECK_FIELD(m->to);
	CHECK_FIELD(m->concat_ref);
	CHECK(m->text.len == 0 || m->text.data[m->text.len] == '\0');
	CHECK(m->concat_total >= 0 && m->concat_part >= 0);
	if (m->concat_total > 1)
		CHECK(m->concat_part >= 1 && m->concat_part <= m->concat_total && m->concat_ref[0]);
}

static void check_status_in(int rc, const struct status_in *s, const struct sbuf *err)
{
	CHECK(rc >= -1 && rc <= 1);
	CHECK(rc < 0 ? err->len > 0 : err->len == 0);
	if (rc != 1)
		return;
	CHECK((unsigned)s->state < MSG__COUNT);
	CHECK_FIELD(s->provider_id);
	CHECK_FIELD(s->reference);
	CHECK_FIELD(s->raw_status);
	CHECK_FIELD(s->error_code);
	CHECK_FIELD(s->error_text);
}

static void check_send_result(const struct send_result *r)
{
	CHECK(r->outcome == SEND_OK || r->outcome == SEND_TEMPFAIL || r->outcome == SEND_PERMFAIL);
	CHECK((unsigned)r->state < MSG__COUNT);
	CHECK_FIELD(r->provider_id);
	CHECK_FIELD(r->error_code);
	CHECK_FIELD(r->reason);
	CHECK(r->retry_after_s >= 0 && r->retry_after_s <= 86400);
	CHECK(r->segments >= 0);
	if (r->outcome == SEND_OK)
		CHECK(msg_state_rank(r->state) >= msg_state_rank(MSG_SUBMITTED));
	if (r->outcome == SEND_PERMFAIL)
		CHECK(msg_state_final(r->state));
}

static void fuzz_send_result(const struct adapter *a, const struct webhook *w)
{
	static const long statuses[] = { 200, 201, 202, 400, 401, 403, 404, 408, 422, 429, 500, 503 };
	struct send_result r;

	memset(&r, 0x5a, sizeof(r));
	provider_parse_send_result(a->ops, a->priv, statuses[fuzz_below(ARRAY_LEN(statuses))],
				   &w->headers, w->body, w->in.body_len, &r);
	check_send_result(&r);
}

/* The text as the core would send it: valid UTF-8 without NULs. */
static void fuzz_build_send(const struct adapter *a, const struct webhook *w)
{
	struct sms_out m = { "42", "+447700900123", NULL, w->body, false, 1,
			     PUBLIC_URL "/v1/providers/p/status?ref=42", 0, 1700000000 };
	struct http_req req;

	if (!codec_utf8_valid(w->body, strlen(w->body)))
		return;
	http_req_init(&req);
	if (provider_build_send(a->ops, a->priv, &m, &req) == 0)
		CHECK(req.method && req.url && str_startswith(req.url, "http"));
	http_req_free(&req);
}

static void fuzz_answer(const struct adapter *a, const struct webhook *w)
{
	struct http_answer ans = { 200, "application/json", { NULL, 0, 0 } };
	const char *reply = codec_utf8_valid(w->body, strlen(w->body)) ? w->body : NULL;

	sbuf_init(&ans.body);
	a->ops->inbound_answer(a->priv, reply, &ans);
	CHECK(ans.status >= 200 && ans.status < 300 && ans.content_type);
	CHECK(codec_utf8_valid(sbuf_str(&ans.body), ans.body.len));
	if (reply && strcmp(ans.content_type, "application/xml") == 0)
		CHECK(!strstr(sbuf_str(&ans.body), "<script"));
	sbuf_free(&ans.body);
}

static void fuzz_adapter(const struct adapter *a, const char *data, size_t len)
{
	struct webhook w, empty;
	struct sbuf err;
	struct sms_in m;
	struct status_in st;

	sbuf_init(&err);
	if (!webhook_read(data, len, &w))
		goto out;
	struct verify_result vr;
	int v = provider_verify(a->ops, a->priv, &w.in, &vr, &err);
	CHECK(v == 0 || (v == -1 && err.len > 0));
	/* A replay id is a string within its buffer, of UTF-8, with a time to keep it. */
	CHECK(memchr(vr.replay_id, '\0', sizeof(vr.replay_id)) != NULL);
	CHECK(codec_utf8_valid(vr.replay_id, strlen(vr.replay_id)));
	CHECK(v != 0 || !vr.replay_id[0] || vr.replay_until > 0);
	/* Nothing at all is never authentic. */
	const char *nothing = "POST /v1/providers/p/inbound\n\n";
	CHECK(webhook_read(nothing, strlen(nothing), &empty));
	sbuf_reset(&err);
	CHECK(provider_verify(a->ops, a->priv, &empty.in, &vr, &err) == -1 && err.len > 0);
	webhook_free(&empty);
	sbuf_reset(&err);
	sms_in_init(&m);
	check_sms_in(provider_parse_inbound(a->ops, a->priv, &w.in, &m, &err), &m, &err);
	sms_in_free(&m);
	sbuf_reset(&err);
	memset(&st, 0x5a, sizeof(st));
	check_status_in(provider_parse_status(a->ops, a->priv, &w.in, &st, &err), &st, &err);
	fuzz_send_result(a, &w);
	fuzz_build_send(a, &w);
	fuzz_answer(a, &w);
out:
	webhook_free(&w);
	sbuf_free(&err);
}

/* The target of each adapter is named after its type. */
static void fuzz_registered(const char *data, size_t len)
{
	for (size_t i = 0; i < nadapters; i++)
		if (strcmp(adapters[i].ops->type, fuzz_current->name) == 0)
			fuzz_adapter(&adapters[i], data, len);
}

static const char *const twilio_seeds[] = {
	"POST /v1/providers/tw/inbound\nContent-Type: application/x-www-form-urlencoded\n"
	"X-Twilio-Signature: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=\n\nMessageSid=SM1&From=%2B447700900123&"
	"To=%2B447700900000&Body=SKILLS+please+%E2%9C%93&NumSegments=1&FromCountry=GB",
	"POST /v1/providers/tw/status?ref=42\nX-Twilio-Signature: x\n\nMessageSid=SM1&"
	"MessageStatus=undelivered&ErrorCode=30003&ErrorMessage=Unreachable",
	"POST /send\nRetry-After: 30\n\n{\"sid\":\"SM1\",\"status\":\"queued\",\"num_segments\":\"2\"}",
	"POST /send\n\n{\"code\":21610,\"message\":\"Attempt to send to unsubscribed recipient\","
	"\"more_info\":\"https://www.twilio.com/docs/errors/21610\",\"status\":400}",
	NULL,
};

static const char *const vonage_seeds[] = {
	"GET /v1/providers/vg/inbound?msisdn=447700900123&to=447700900000&messageId=0B000001&"
	"type=text&keyword=SKILLS&message-timestamp=2020-01-01+14%3A00%3A00&text=Skills+please&"
	"timestamp=1385047698&sig=abc\n\n",
	"POST /v1/providers/vg/inbound\nContent-Type: application/json\n\n{\"msisdn\":\"447700900123\","
	"\"to\":\"447700900000\",\"messageId\":\"0B2\",\"text\":\"part\",\"type\":\"text\",\"concat\":"
	"\"true\",\"concat-ref\":\"7\",\"concat-total\":\"3\",\"concat-part\":\"2\"}",
	"POST /v1/providers/vg/status\n\nmsisdn=447700900123&to=447700900000&network-code=23410&"
	"messageId=0A0000000123ABCD1&price=0.0333&scts=2001011400&status=failed&err-code=9&client-ref=42",
	"POST /send\n\n{\"message-count\":\"1\",\"messages\":[{\"to\":\"447700900123\",\"message-id\":"
	"\"0A1\",\"status\":\"0\",\"remaining-balance\":\"3.1\",\"message-price\":\"0.03\"}]}",
	"POST /send\n\n{\"message-count\":\"1\",\"messages\":[{\"status\":\"1\",\"error-text\":\"Throttled\"}]}",
	NULL,
};

static const char *const messagebird_seeds[] = {
	"POST /v1/providers/mb/inbound\nMessageBird-Signature-JWT: eyJhbGciOiJIUzI1NiJ9.e30.x\n\n"
	"id=e807&originator=447700900123&recipient=447700900000&body=SKILLS&createdDatetime="
	"2021-07-05T12%3A00%3A00%2B00%3A00",
	"GET /v1/providers/mb/status?ref=42&id=e807&reference=42&recipient=447700900123&status="
	"delivery_failed&statusReason=unknown+subscriber&statusErrorCode=1\n\n",
	"POST /send\n\n{\"id\":\"e8077d803532c0b5937c639b60216938\",\"recipients\":{\"totalCount\":1,"
	"\"items\":[{\"recipient\":447700900123,\"status\":\"sent\"}]}}",
	"POST /send\n\n{\"errors\":[{\"code\":9,\"description\":\"no (correct) recipients found\","
	"\"parameter\":\"recipients\"}]}",
	NULL,
};

static const char *const firetext_seeds[] = {
	"POST /v1/providers/ft/inbound\nAuthorization: Basic c2lnbnBvc3Q6cGE1NQ==\n\nsource="
	"447700900123&destination=447700900000&message=SKILLS&keyword=SKILLS&time=2020-01-01+14%3A00%3A00",
	"POST /v1/providers/ft/status?ref=42\nAuthorization: Basic c2lnbnBvc3Q6cGE1NQ==\n\n"
	"mobile=447700900123&status=1&code=101&reference=42&sent=2020-01-01+14%3A00",
	"POST /send\n\n{\"code\":0,\"description\":\"You have sent 1 messages\",\"messageId\":\"x\"}",
	"POST /send\n\n{\"code\":3,\"description\":\"Invalid mobile number\"}",
	NULL,
};

static const char *const webhook_seeds[] = {
	"POST /v1/providers/hub/inbound\nwebhook-id: msg_1\nwebhook-timestamp: 1700000000\n"
	"webhook-signature: v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=\n\n{\"type\":"
	"\"sms.received\",\"data\":{\"message_id\":\"in-1\",\"from\":\"447700900123\",\"to\":"
	"\"+447700900000\",\"text\":\"SKILLS \\u2713\",\"received_at\":\"2025-01-31T09:30:00Z\"}}",
	"POST /v1/providers/hub/status?ref=43\n\n{\"type\":\"sms.delivered\",\"data\":{\"message_id\":"
	"\"m1\",\"reference\":\"43\",\"status\":\"delivered\"}}",
	"POST /send\n\n{\"id\":\"m-1\"}",
	"POST /send\n\n{\"error\":{\"code\":\"opted_out\",\"message\":\"unsubscribed\"}}",
	NULL,
};

/* For an adapter without seeds of its own: the shapes webhooks and answers take. */
static const char *const generic_seeds[] = {
	"POST /v1/providers/p/inbound\nContent-Type: application/x-www-form-urlencoded\n\n"
	"id=1&from=%2B447700900123&to=%2B447700900000&text=SKILLS&message=SKILLS",
	"POST /v1/providers/p/inbound\nContent-Type: application/json\n\n{\"id\":\"1\",\"from\":"
	"\"+447700900123\",\"to\":\"+447700900000\",\"text\":\"SKILLS \\u2713\"}",
	"GET /v1/providers/p/status?ref=42&id=1&reference=42&status=delivered\n\n",
	"POST /v1/providers/p/status?ref=42\nContent-Type: application/json\n\n{\"id\":\"1\","
	"\"reference\":\"42\",\"status\":\"failed\",\"error\":{\"code\":\"1\"}}",
	"POST /send\n\n{\"id\":\"1\",\"status\":\"queued\",\"segments\":2}",
	"POST /send\nRetry-After: 30\n\n{\"error\":{\"code\":\"throttled\",\"message\":\"slow\"}}",
	NULL,
};

/* Seeds of the adapters that have their own, by type. */
static const struct {
	const char *type;
	const char *const *seeds;
} adapter_seeds[] = {
	{ "twilio", twilio_seeds },	      { "vonage", vonage_seeds },
	{ "messagebird", messagebird_seeds }, { "firetext", firetext_seeds },
	{ "webhook", webhook_seeds },	      { "sim", webhook_seeds },
};

static const char *const *seeds_of(const char *type)
{
	for (size_t i = 0; i < ARRAY_LEN(adapter_seeds); i++)
		if (strcmp(adapter_seeds[i].type, type) == 0)
			return adapter_seeds[i].seeds;
	return generic_seeds;
}

static const char *const adapter_dict[] = {
	"\n", ": ", "&", "=", "%", "%00", "%FF", "+", "?", "{", "}", "[", "]", "\"", ",", ":",
	"null", "-1", "99999999999999999999", "1e999", "\\u0000", "X-Twilio-Signature: ",
	"webhook-signature: v1,", "Authorization: Basic ", "Content-Type: application/json\n",
	"MessageBird-Signature-JWT: ", "concat-total=", "concat-part=", "concat-ref=", "sig=",
	"status=", "MessageSid=", "From=", "Body=", "Retry-After: 99999999999999999\n", NULL,
};

/* ---- configuration ---- */

static char config_path[64];

static void fuzz_config(const char *data, size_t len)
{
	struct config cfg;
	struct sbuf err;
	struct json_object *doc = fuzz_json_doc(data, len);
	FILE *f = fopen(config_path, "wb");

	if (doc) /* a structural mutant, written out */
		data = json_object_to_json_string_length(doc, JSON_C_TO_STRING_PLAIN, &len);
	if (!f || fwrite(data, 1, len, f) != len) {
		CHECK(!"cannot write the configuration file");
		if (f)
			fclose(f);
		json_object_put(doc);
		return;
	}
	fclose(f);
	json_object_put(doc);
	sbuf_init(&err);
	int rc = config_load(&cfg, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	if (rc == 0) {
		CHECK(cfg.nproviders > 0 && cfg.default_provider);
		CHECK(cfg.db_pool_size >= 1);
		for (size_t i = 0; i < cfg.nproviders; i++) {
			const struct provider_cfg *p = &cfg.providers[i];
			CHECK(p->name && *p->name && p->ops);
			CHECK(p->segments_per_second >= 0 && p->segments_per_second < 1e9);
			CHECK(p->max_in_flight >= 1 && p->max_in_flight <= 1024);
			CHECK(p->validity_s >= 10 && p->validity_s <= 604800);
			CHECK(p->timeout_ms > 0 && p->connect_timeout_ms > 0);
			CHECK(p->price_micro >= 0);
			CHECK(config_provider(&cfg, p->name) == p);
		}
		for (size_t i = 0; i < cfg.nstaff_numbers; i++)
			CHECK(str_startswith(cfg.staff_numbers[i], "+447"));
	}
	config_free(&cfg);
	sbuf_free(&err);
}

static const char *const config_seeds[] = {
	"{\"providers\": [{\"name\": \"twilio\", \"type\": \"twilio\", \"account_sid\": "
	"\"AC00000000000000000000000000000000\", \"auth_token\": \"x\", \"from\": \"+447700900000\", "
	"\"segments_per_second\": 10, \"max_in_flight\": 8, \"timeout_ms\": 2000, "
	"\"connect_timeout_ms\": 500, \"validity_seconds\": 3600, \"price_per_segment\": 0.035}, "
	"{\"name\": \"sim\", \"type\": \"sim\"}], \"default_provider\": \"twilio\", \"org_name\": "
	"\"West Kent Digital Help\", \"log_level\": \"info\", \"db_pool_size\": 4, "
	"\"staff_numbers\": [\"07700 900990\"], \"triage\": {}}",
	"{\"providers\": [{\"name\": \"hub\", \"type\": \"webhook\", \"url\": \"https://hub.example/m\", "
	"\"secret\": \"" SIM_SECRET "\", \"from\": \"+447700900000\"}, {\"name\": \"vg\", \"type\": "
	"\"vonage\", \"api_key\": \"a\", \"api_secret\": \"b\", \"from\": \"447700900000\", "
	"\"signature_secret\": \"s\"}], \"allow_insecure_partner_urls\": true, "
	"\"partner_url_allow\": [\"127.0.0.1\", \"fc00::/7\"]}",
	NULL,
};

static const char *const config_dict[] = {
	"\"", ":", ",", "{", "}", "[", "]", "null", "true", "0", "-1", "1e999", "NaN", "Infinity",
	"-Infinity", "9223372036854775808", "0.0000001", "\"\\u0000\"", NULL,
};

/* ---- the JSON member scanner, against json-c ---- */

/*
 * json-c in strict mode is the reference for which documents are one JSON object and for
 * what a member holds. Where the two are known to differ, the scanner follows RFC 8259:
 * json-c ends a name at an escaped NUL, lets a control character through inside a string,
 * reads NaN and Infinity as numbers, and takes numbers RFC 8259 does not: a '.' with no
 * digit after it ("21.e6", "1.") or none before it ("-.5"), and leading zeros ("00",
 * "-01"). (libFuzzer found the last three: tests/fuzz/corpus/jsonscan/json-c-number-*.)
 */
static bool jsonscan_json_c_quirk(const char *data, size_t len)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		if (data[i] == '"')
			in_string = !in_string;
		else if (data[i] == '.' && !in_string && (i + 1 == len || data[i + 1] < '0' ||
							  data[i + 1] > '9'))
			return true;
		else if (data[i] == '.' && !in_string && (i == 0 || data[i - 1] < '0' ||
							  data[i - 1] > '9'))
			return true; /* "-.5" */
		else if (data[i] == '0' && !in_string && i + 1 < len && data[i + 1] >= '0' &&
			 data[i + 1] <= '9' && (i == 0 || !strchr("0123456789.eE+", data[i - 1])))
			return true; /* a leading zero, "00" or "-01" */
		else if (data[i] == '\\' && in_string && len - i >= 6 &&
			 memcmp(data + i + 1, "u0000", 5) == 0)
			return true;
		else if (data[i] == '\\' && in_string)
			i++;
		else if ((unsigned char)data[i] < 0x20 && (in_string || !strchr(" \t\n\r", data[i])))
			return true;
	}
	return memmem(data, len, "NaN", 3) || memmem(data, len, "Infinity", 8);
}

static void jsonscan_compare(const char *data, size_t len)
{
	static const char *const names[] = { "sid", "status", "code", "message", "" };
	struct jsonscan_member m[ARRAY_LEN(names)];
	struct json_tokener *tok = json_tokener_new_ex(64);
	struct json_object *o;
	size_t end;
	char text[64];
	bool quirk = jsonscan_json_c_quirk(data, len);

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		m[i] = (struct jsonscan_member){ .name = names[i] };
	int rc = jsonscan_members(data, len, m, ARRAY_LEN(m));
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, data, (int)len);
	end = json_tokener_get_parse_end(tok);
	while (end < len && strchr(" \t\n\r", data[end]) && data[end])
		end++;
	bool ok = o && json_tokener_get_error(tok) == json_tokener_success &&
		  json_object_is_type(o, json_type_object) && end == len;
	json_tokener_free(tok);
	if (!quirk) {
		CHECK_INT(rc, ok ? 0 : -1);
		if (rc != (ok ? 0 : -1))
			fprintf(stderr, "  json-c %s: %.*s\n", ok ? "accepts" : "refuses",
				(int)MIN(len, 200), data);
	}
	for (size_t i = 0; i < ARRAY_LEN(m); i++) {
		struct json_object *v = NULL;
		if (rc != 0) {
			CHECK_INT(m[i].kind, JSONSCAN_ABSENT);
			continue;
		}
		bool fits = jsonscan_text(&m[i], text, sizeof(text));
		if (m[i].kind == JSONSCAN_STRING || m[i].kind == JSONSCAN_NUMBER)
			CHECK(fits || strlen(text) > sizeof(text) - 5 || /* cut only by a character */
			      (!*text && memmem(m[i].raw, m[i].raw_len, "\\u0000", 6)));
		if (quirk || !ok)
			continue;
		bool found = json_object_object_get_ex(o, names[i], &v);
		CHECK((m[i].kind != JSONSCAN_ABSENT) == found);
		if (m[i].kind == JSONSCAN_STRING && found) {
			const char *want = json_object_get_string(v);
			CHECK(json_object_is_type(v, json_type_string));
			CHECK(strncmp(text, want, fits ? SIZE_MAX : strlen(text)) == 0);
		}
	}
	json_object_put(o);
}

/* A random JSON value written the many ways RFC 8259 allows; names often ones wanted. */
static void jsonscan_generate(struct sbuf *out, int depth)
{
	static const char *const pieces[] = {
		"a", "sid", "message", "\\\"", "\\\\", "\\/", "\\b", "\\n", "\\t", "\\u00e9",
		"\\u20AC", "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "SM0123456789abcdef",
	};
	static const char *const scalars[] = {
		"0", "-0", "12", "-3.25", "1e9", "2E-3", "6.02e+23", "true", "false", "null",
	};
	static const char *const space[] = { "", " ", "\n", "\t", "\r\n  " };
	unsigned kind = depth >= 6 ? 2 + fuzz_below(2) : fuzz_below(depth == 0 ? 1 : 4);

	sbuf_adds(out, space[fuzz_below(ARRAY_LEN(space))]);
	if (kind == 2) {
		sbuf_addc(out, '"');
		for (unsigned i = fuzz_below(6); i > 0; i--)
			sbuf_adds(out, pieces[fuzz_below(ARRAY_LEN(pieces))]);
		sbuf_addc(out, '"');
	} else if (kind == 3) {
		sbuf_adds(out, scalars[fuzz_below(ARRAY_LEN(scalars))]);
	} else {
		sbuf_addc(out, kind == 0 ? '{' : '[');
		for (unsigned i = 0, n = fuzz_below(6); i < n; i++) {
			if (i)
				sbuf_addc(out, ',');
			if (kind == 0) {
				sbuf_adds(out, space[fuzz_below(ARRAY_LEN(space))]);
				sbuf_printf(out, "\"%s\":", fuzz_below(2) ? "sid"
					    : pieces[fuzz_below(ARRAY_LEN(pieces))]);
			}
			jsonscan_generate(out, depth + 1);
		}
		sbuf_adds(out, space[fuzz_below(ARRAY_LEN(space))]);
		sbuf_addc(out, kind == 0 ? '}' : ']');
	}
	sbuf_adds(out, space[fuzz_below(ARRAY_LEN(space))]);
}

/*
 * The input as it is, a random document, and (when the input is JSON at all) the input
 * mutated structurally and written out by json-c.
 */
static void fuzz_jsonscan(const char *data, size_t len)
{
	struct json_object *doc = fuzz_json_doc(data, len);
	struct sbuf gen;

	jsonscan_compare(data, len);
	sbuf_init(&gen);
	jsonscan_generate(&gen, 0);
	jsonscan_compare(gen.data, gen.len);
	sbuf_free(&gen);
	if (doc) {
		int flags = fuzz_below(2) ? JSON_C_TO_STRING_PLAIN : JSON_C_TO_STRING_PRETTY;
		data = json_object_to_json_string_length(doc, flags, &len);
		jsonscan_compare(data, len);
	}
	json_object_put(doc);
}

static const char *const jsonscan_seeds[] = {
	"{\"account_sid\": \"AC00000000000000000000000000000000\", \"sid\": "
	"\"SM00000000000000000000000000000001\", \"num_segments\": \"1\", \"status\": \"queued\", "
	"\"subresource_uris\": {\"media\": \"/2010-04-01/Media.json\"}, \"error_code\": null, "
	"\"price\": -0.0075, \"uri\": \"/x\", \"date_sent\": null}",
	"{\"code\": 21610, \"message\": \"Attempt to send to unsubscribed recipient \\u2013 "
	"\\\"STOP\\\"\", \"more_info\": \"https://www.twilio.com/docs/errors/21610\", "
	"\"status\": 400}",
	"{\"\": [1, 2.5e-3, true, false, null, [], {}], "
	"\"message\": \"\\ud83d\\ude00 \\/\\b\\f\\n\\r\\t\"}",
	NULL,
};

static const char *const jsonscan_dict[] = {
	"\"", ":", ",", "{", "}", "[", "]", "null", "true", "false", "0", "-0", "01", "1.", ".5",
	"1e5", "1E-5", "-", "+1", "NaN", "\\u", "\\ud800", "\\udc00", "\\u00e9", "\\\"", "\\x",
	"\"sid\"", "\"message\"", "\"s\\u0069d\"", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ",
	"\n", "[[[[[[[[[[[[[[[[", "]]]]]]]]]]]]]]]]", NULL,
};

/* Builds every adapter of the registry from its example configuration. */
static int adapters_open(void)
{
	struct provider_env env = { PUBLIC_URL, "http://127.0.0.1:8080", SIM_SECRET };

	while (provider_nth(nadapters))
		nadapters++;
	adapters = xcalloc(nadapters, sizeof(*adapters));
	for (size_t i = 0; i < nadapters; i++) {
		struct adapter *a = &adapters[i];
		struct sbuf err;
		a->ops = provider_nth(i);
		struct json_object *cfg = json_tokener_parse(a->ops->example_config);
		sbuf_init(&err);
		if (!cfg || provider_init(a->ops, cfg, &env, &a->priv, &err) < 0) {
			fprintf(stderr, "%s: %s\n", a->ops->type, sbuf_str(&err));
			return -1;
		}
		sbuf_free(&err);
		json_object_put(cfg);
	}
	/* Seeds kept for an adapter that is no longer registered would never run. */
	for (size_t i = 0; i < ARRAY_LEN(adapter_seeds); i++)
		CHECK(provider_find(adapter_seeds[i].type) != NULL);
	return 0;
}

static void adapters_close(void)
{
	for (size_t i = 0; i < nadapters; i++)
		if (adapters[i].ops)
			provider_destroy(adapters[i].ops, adapters[i].priv);
	free(adapters);
	adapters = NULL;
	nadapters = 0;
}

static struct fuzz_target *suite_targets;
static size_t nsuite_targets;

static int fuzz_suite_open(void)
{
	int fd;

	if (adapters_open() < 0)
		return -1;
	suite_targets = xcalloc(nadapters + 2, sizeof(*suite_targets));
	for (; nsuite_targets < nadapters; nsuite_targets++) {
		const char *type = adapters[nsuite_targets].ops->type;
		suite_targets[nsuite_targets] = (struct fuzz_target){ type, seeds_of(type),
								      adapter_dict, fuzz_registered };
	}
	suite_targets[nsuite_targets++] = (struct fuzz_target){ "config", config_seeds,
								config_dict, fuzz_config };
	suite_targets[nsuite_targets++] = (struct fuzz_target){ "jsonscan", jsonscan_seeds,
								jsonscan_dict, fuzz_jsonscan };
	snprintf(config_path, sizeof(config_path), "/tmp/signpost-fuzz-config.XXXXXX");
	if ((fd = mkstemp(config_path)) < 0) {
		config_path[0] = '\0';
		return -1;
	}
	close(fd);
	setenv("SIGNPOST_CONFIG", config_path, 1);
	unsetenv("SIGNPOST_LISTEN");
	unsetenv("SIGNPOST_PUBLIC_URL");
	unsetenv("SIGNPOST_LOG_LEVEL");
	return 0;
}

static size_t fuzz_suite_targets(const struct fuzz_target **targets)
{
	*targets = suite_targets;
	return nsuite_targets;
}

static void fuzz_suite_close(void)
{
	if (config_path[0])
		unlink(config_path);
	config_path[0] = '\0';
	free(suite_targets);
	suite_targets = NULL;
	nsuite_targets = 0;
	adapters_close();
}

#ifndef FUZZ_TARGET
int main(int argc, char **argv)
{
	const struct fuzz_target *targets;
	int rc = 1;

	if (fuzz_suite_open() == 0) {
		size_t n = fuzz_suite_targets(&targets);
		rc = fuzz_main(argc, argv, targets, n, "fuzz_providers");
	}
	fuzz_suite_close();
	return rc;
}
#endif
