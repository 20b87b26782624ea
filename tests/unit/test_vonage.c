/*
 * test_vonage.c: the Vonage adapter.
 *
 * --verify reads one JSON object per line, {"method": "md5hash", "secret": "...",
 * "params": {...}, "via": "get" | "form" | "json"}, where params holds the webhook's
 * fields including "sig", and prints 1 when the adapter accepts the webhook, else 0
 * (tests/diff/vonage_oracle.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "providers/adapters.h"
#include "providers/vonage.h"
#include "tests/check.h"
#include "tests/unit/adapter_check.h"

#define SECRET "my_secret_key_for_testing"
#define CFG_BASE "\"type\":\"vonage\",\"api_key\":\"abcd1234\",\"api_secret\":\"s3cr3t\"," \
		 "\"from\":\"447700900000\",\"signature_secret\":\"" SECRET "\""
#define STATUS_URL "https://signpost.example/v1/providers/vg/status?ref=42"
#define INBOUND_URL "https://signpost.example/v1/providers/vg/inbound"

static void *vonage_with(const char *method)
{
	char *cfg = xasprintf("{" CFG_BASE ",\"signature_method\":\"%s\"}", method);
	void *v = adapter_must(&vonage_ops, cfg);

	free(cfg);
	return v;
}

static const char *const vector[] = {
	"message-timestamp", "2013-11-21 15:27:30", "messageId", "020000001B0FE827",
	"msisdn", "14843472194", "text", "Test again", "timestamp", "1385047698",
	"to", "13239877404", "type", "text", NULL
};

static void vector_fields(struct kvlist *l)
{
	for (const char *const *kv = vector; kv[0]; kv += 2)
		kvlist_add(l, kv[0], kv[1]);
}

TEST(test_signature_vectors)
{
	static const struct {
		enum vonage_sig_method m;
		const char *sig;
	} cases[] = {
		{ VONAGE_SIG_MD5HASH, "d2e7b1dc968737c5998ad624e02f90b7" },
		{ VONAGE_SIG_SHA1, "27d0d05c2876c7cb1720dbcdba4d492e1e55c09a" },
		{ VONAGE_SIG_SHA256,
		  "ddb8397c2b90aac7f3882d306475c9a5058c92322eef43c92b298b6e0fc0d330" },
		/* Derived with the same algorithm (Python's hmac). */
		{ VONAGE_SIG_MD5, "ddebd46008c2d4e93cce578a332a52d5" },
		{ VONAGE_SIG_SHA512,
		  "e0d3c650f8c9d1a5c174d10dddbfb003e561f59b265616208b0487c5d819481cd3c311d59cf6165e"
		  "cd1139622d5ba3a256c0d763ac4a9ad9144b5a426b94fe82" },
	};
	struct kvlist f;
	struct sbuf s;

	kvlist_init(&f);
	sbuf_init(&s);
	vector_fields(&f);
	kvlist_add(&f, "sig", "ignored");
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		sbuf_reset(&s);
		vonage_signature(cases[i].m, SECRET, &f, &s);
		CHECK_STR(sbuf_str(&s), cases[i].sig);
	}
	sbuf_free(&s);
	kvlist_free(&f);
}

/* The vector as a webhook delivered by GET, form POST or JSON POST, with sig. */
static int verify_vector(void *v, const char *via, const char *sig, const char *extra)
{
	struct kvlist f;
	struct sbuf body, err;
	struct hook h;
	int rc;

	kvlist_init(&f);
	sbuf_init(&body);
	sbuf_init(&err);
	vector_fields(&f);
	if (extra)
		kvlist_add(&f, "extra", extra);
	if (sig)
		kvlist_add(&f, "sig", sig);
	if (strcmp(via, "json") == 0) {
		sbuf_adds(&body, "{");
		for (size_t i = 0; i < f.n; i++)
			sbuf_printf(&body, "%s\"%s\":\"%s\"", i ? "," : "", f.items[i].key,
				    f.items[i].value);
		sbuf_adds(&body, "}");
	} else {
		codec_form_build(&body, &f);
	}
	bool get = strcmp(via, "get") == 0;
	char *url = get ? xasprintf(INBOUND_URL "?%s", sbuf_str(&body)) : xstrdup(INBOUND_URL);
	hook_init(&h, get ? "GET" : "POST", url, get ? NULL : sbuf_str(&body), 1385047698);
	struct verify_result vr;
	rc = provider_verify(&vonage_ops, v, &h.in, &vr, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	CHECK_STR(vr.replay_id, ""); /* its nonce is not an id of one webhook: none */
	hook_free(&h);
	free(url);
	kvlist_free(&f);
	sbuf_free(&body);
	sbuf_free(&err);
	return rc;
}

TEST(test_verify)
{
	void *md5 = vonage_with("md5hash"), *sha256 = vonage_with("sha256");
	const char *good = "d2e7b1dc968737c5998ad624e02f90b7";
	const char *good256 = "DDB8397C2B90AAC7F3882D306475C9A5058C92322EEF43C92B298B6E0FC0D330";

	CHECK_INT(verify_vector(md5, "get", good, NULL), 0);
	CHECK_INT(verify_vector(md5, "form", good, NULL), 0);
	CHECK_INT(verify_vector(md5, "json", good, NULL), 0);
	CHECK_INT(verify_vector(md5, "form", "D2E7B1DC968737C5998AD624E02F90B7", NULL), 0);
	CHECK_INT(verify_vector(sha256, "json", good256, NULL), 0);
	/* Tampered: a field added, another signature, another method, none. */
	CHECK_INT(verify_vector(md5, "form", good, "1"), -1);
	CHECK_INT(verify_vector(md5, "form", "d2e7b1dc968737c5998ad624e02f90b8", NULL), -1);
	CHECK_INT(verify_vector(sha256, "form", good, NULL), -1);
	CHECK_INT(verify_vector(md5, "get", NULL, NULL), -1);
	CHECK_INT(verify_vector(md5, "get", "", NULL), -1);
	vonage_ops.destroy(md5);
	vonage_ops.destroy(sha256);
}

TEST(test_signature_escapes)
{
	struct kvlist f;
	struct sbuf s;

	/* '&' and '=' in values become '_': these two sign alike. */
	kvlist_init(&f);
	sbuf_init(&s);
	kvlist_add(&f, "text", "a&b=c");
	vonage_signature(VONAGE_SIG_MD5HASH, "k", &f, &s);
	char *first = sbuf_detach(&s);
	kvlist_free(&f);
	kvlist_add(&f, "text", "a_b_c");
	vonage_signature(VONAGE_SIG_MD5HASH, "k", &f, &s);
	CHECK_STR(sbuf_str(&s), first);
	free(first);
	sbuf_free(&s);
	kvlist_free(&f);
}

TEST(test_build_send)
{
	void *v = vonage_with("md5hash");
	struct http_req req;
	struct sms_out msg = { .reference = "42", .to = "+447700900123",
			       .text = "Hello & welcome \xe2\x9c\x93", .unicode = true,
			       .status_url = STATUS_URL, .validity_s = 3600 };

	http_req_init(&req);
	CHECK_INT(vonage_ops.build_send(v, &msg, &req), 0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, "https://rest.nexmo.com/sms/json");
	CHECK_STR(kvlist_get(&req.headers, "Content-Type"), "application/x-www-form-urlencoded");
	CHECK_STR(sbuf_str(&req.body),
		  "api_key=abcd1234&api_secret=s3cr3t&from=447700900000&to=447700900123&"
		  "text=Hello+%26+welcome+%E2%9C%93&type=unicode&"
		  "callback=https%3A%2F%2Fsignpost.example%2Fv1%2Fproviders%2Fvg%2Fstatus&"
		  "client-ref=42&ttl=3600000");
	CHECK(strstr(req.url, "s3cr3t") == NULL);
	http_req_free(&req);

	msg = (struct sms_out){ .to = "+447700900123", .from = "SIGNPOST", .text = "Hi" };
	CHECK_INT(vonage_ops.build_send(v, &msg, &req), 0);
	CHECK_STR(sbuf_str(&req.body),
		  "api_key=abcd1234&api_secret=s3cr3t&from=SIGNPOST&to=447700900123&text=Hi");
	http_req_free(&req);
	msg.from = "+447700900001";
	CHECK_INT(vonage_ops.build_send(v, &msg, &req), 0);
	CHECK(strstr(sbuf_str(&req.body), "&from=447700900001&") != NULL);
	http_req_free(&req);
	msg.to = NULL;
	CHECK_INT(vonage_ops.build_send(v, &msg, &req), -1);
	http_req_free(&req);
	vonage_ops.destroy(v);
}

#define VONAGE_ANSWER(status, extra)                                                       \
	"{\"message-count\":\"1\",\"messages\":[{\"to\":\"447700900123\",\"status\":\"" status \
	"\"" extra "}]}"

static void result(long status, const char *retry_after, const char *body,
		   struct send_result *out)
{
	adapter_result(&vonage_ops, NULL, status, retry_after, body, out);
}

TEST(test_result_success)
{
	struct send_result r;

	result(200, NULL,
	       "{\"message-count\":\"2\",\"messages\":[{\"to\":\"447700900123\",\"message-id\":"
	       "\"0A0000000123ABCD1\",\"status\":\"0\",\"remaining-balance\":\"3.14\","
	       "\"message-price\":\"0.0333\",\"network\":\"23410\"},{\"to\":\"447700900123\","
	       "\"message-id\":\"0A0000000123ABCD2\",\"status\":\"0\"}]}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_INT(r.state, MSG_SUBMITTED);
	CHECK_STR(r.provider_id, "0A0000000123ABCD1");
	CHECK_INT(r.segments, 2);
	CHECK_STR(r.error_code, "");
	/* Accepted without an id: still accepted, never resent. */
	result(200, NULL, VONAGE_ANSWER("0", ""), &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_STR(r.provider_id, "");
	CHECK(r.reason[0] != '\0');
}

TEST(test_result_statuses)
{
	static const struct {
		const char *status;
		enum send_outcome outcome;
		bool throttled, opted_out;
	} cases[] = {
		{ "1", SEND_TEMPFAIL, true, false },   { "2", SEND_PERMFAIL, false, false },
		{ "3", SEND_PERMFAIL, false, false },  { "4", SEND_TEMPFAIL, false, false },
		{ "5", SEND_TEMPFAIL, false, false },  { "6", SEND_PERMFAIL, false, false },
		{ "7", SEND_PERMFAIL, false, true },   { "8", SEND_TEMPFAIL, false, false },
		{ "9", SEND_TEMPFAIL, false, false },  { "12", SEND_PERMFAIL, false, false },
		{ "14", SEND_TEMPFAIL, false, false }, { "15", SEND_TEMPFAIL, false, false },
		{ "29", SEND_PERMFAIL, false, false }, { "33", SEND_PERMFAIL, false, false },
	};
	struct send_result r;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *body = xasprintf("{\"message-count\":\"1\",\"messages\":[{\"status\":\"%s\","
				       "\"error-text\":\"Something\"}]}", cases[i].status);
		result(200, NULL, body, &r);
		CHECK_INT(r.outcome, cases[i].outcome);
		CHECK_INT(r.state, cases[i].outcome == SEND_TEMPFAIL ? MSG_RETRY : MSG_REJECTED);
		CHECK_INT(r.throttled, cases[i].throttled);
		CHECK_INT(r.opted_out, cases[i].opted_out);
		CHECK_STR(r.error_code, cases[i].status);
		CHECK(strstr(r.reason, "Something") != NULL);
		free(body);
	}
}

TEST(test_result_http)
{
	struct send_result r;

	result(429, "7", "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK(r.throttled);
	CHECK_INT(r.retry_after_s, 7);
	result(500, NULL, "oops", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK(!r.throttled);
	result(401, NULL, "{}", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(400, NULL, "{}", &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK(!r.opted_out);
	/* A 200 that cannot be read: temporary. */
	result(200, NULL, "not json", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(200, NULL, "{\"messages\":[]}", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
}

static int status_of(const char *method, const char *url, const char *body,
		     struct status_in *out)
{
	return adapter_status(&vonage_ops, NULL, method, url, body, out);
}

#define DLR_FIELDS "msisdn=447700900123&to=447700900000&network-code=23410&" \
		   "messageId=0A0000000123ABCD1&price=0.0333&scts=2001011400&"     \
		   "message-timestamp=2020-01-01+14%3A00%3A00&client-ref=42"

TEST(test_status)
{
	struct status_in st;

	CHECK_INT(status_of("GET", INBOUND_URL "?" DLR_FIELDS "&status=delivered&err-code=0",
			    NULL, &st), 1);
	CHECK_INT(st.state, MSG_DELIVERED);
	CHECK_STR(st.provider_id, "0A0000000123ABCD1");
	CHECK_STR(st.reference, "42");
	CHECK_STR(st.raw_status, "delivered");
	CHECK_STR(st.error_code, "");
	CHECK(!st.opted_out);
	CHECK_INT(status_of("POST", INBOUND_URL, DLR_FIELDS "&status=failed&err-code=9", &st), 1);
	CHECK_INT(st.state, MSG_UNDELIVERED);
	CHECK_STR(st.error_code, "9");
	CHECK(st.opted_out);
	CHECK(strstr(st.error_text, "opted out") != NULL);
	CHECK_INT(status_of("POST", INBOUND_URL,
			    "{\"messageId\":\"0A1\",\"status\":\"expired\",\"err-code\":\"2\","
			    "\"client-ref\":\"43\"}", &st), 1);
	CHECK_INT(st.state, MSG_EXPIRED);
	CHECK_STR(st.reference, "43");
	CHECK_STR(st.error_code, "2");
	static const struct {
		const char *status;
		enum msg_state state;
	} map[] = { { "accepted", MSG_ENROUTE }, { "buffered", MSG_ENROUTE },
		    { "rejected", MSG_REJECTED }, { "unknown", MSG_UNKNOWN } };
	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		char *body = xasprintf("messageId=1&status=%s", map[i].status);
		CHECK_INT(status_of("POST", INBOUND_URL, body, &st), 1);
		CHECK_INT(st.state, map[i].state);
		free(body);
	}
	CHECK_INT(status_of("POST", INBOUND_URL, "messageId=1&status=nonsense", &st), 0);
	CHECK_INT(status_of("POST", INBOUND_URL, "status=delivered", &st), -1);
	CHECK_INT(status_of("POST", INBOUND_URL, "messageId=1&status=%zz", &st), -1);
	CHECK_INT(status_of("POST", INBOUND_URL, "{\"messageId\":", &st), -1);
}

static int inbound_of(const char *method, const char *url, const char *body,
		      struct sms_in *out)
{
	return adapter_inbound(&vonage_ops, NULL, method, url, body, out);
}

#define INBOUND_FIELDS "msisdn=447700900123&to=447700900000&messageId=0B000001&type=text&" \
		       "keyword=SKILLS&message-timestamp=2020-01-01+14%3A00%3A00"

TEST(test_inbound)
{
	struct sms_in m;

	sms_in_init(&m);
	CHECK_INT(inbound_of("GET", INBOUND_URL "?" INBOUND_FIELDS "&text=Skills+please", NULL,
			     &m), 1);
	CHECK_STR(m.provider_id, "0B000001");
	CHECK_STR(m.from, "+447700900123");
	CHECK_STR(m.to, "+447700900000");
	CHECK_STR(sbuf_str(&m.text), "Skills please");
	CHECK_STR(m.concat_ref, "");
	CHECK_INT(m.concat_total, 0);
	CHECK_INT(inbound_of("POST", INBOUND_URL,
			     INBOUND_FIELDS "&text=part+two&concat=true&concat-ref=8&"
			     "concat-total=3&concat-part=2", &m), 1);
	CHECK_STR(m.concat_ref, "8");
	CHECK_INT(m.concat_total, 3);
	CHECK_INT(m.concat_part, 2);
	CHECK_INT(inbound_of("POST", INBOUND_URL,
			     "{\"msisdn\":\"447700900123\",\"to\":\"447700900000\",\"messageId\":"
			     "\"0B2\",\"text\":\"Caf\\u00e9\",\"type\":\"unicode\"}", &m), 1);
	CHECK_STR(sbuf_str(&m.text), "Caf\xc3\xa9");
	CHECK_STR(m.concat_ref, "");
	/* Bad parts, missing fields, binary texts, bad UTF-8. */
	CHECK_INT(inbound_of("POST", INBOUND_URL, INBOUND_FIELDS "&text=x&concat=true&"
			     "concat-ref=8&concat-total=3&concat-part=4", &m), -1);
	CHECK_INT(inbound_of("POST", INBOUND_URL, INBOUND_FIELDS "&text=x&concat=true", &m), -1);
	CHECK_INT(inbound_of("POST", INBOUND_URL, "msisdn=447700900123&text=x", &m), -1);
	CHECK_INT(inbound_of("POST", INBOUND_URL, INBOUND_FIELDS "&text=%ff", &m), -1);
	CHECK_INT(inbound_of("POST", INBOUND_URL,
			     "msisdn=447700900123&to=447700900000&messageId=1&type=binary", &m), 0);
	sms_in_free(&m);
}

TEST(test_config)
{
	CHECK_STR(adapter_config_error(&vonage_ops, "{" CFG_BASE "}"), "");
	CHECK_STR(adapter_config_error(&vonage_ops, "{" CFG_BASE ",\"signature_method\":\"sha384\"}"),
		  "signature_method: must be one of md5hash, md5, sha1, sha256, sha512");
	CHECK_STR(adapter_config_error(&vonage_ops,
				       "{\"api_key\":\"a\",\"api_secret\":\"b\",\"from\":\"4477\"}"),
		  "signature_secret: missing (a non-empty string is required)");
	CHECK_STR(adapter_config_error(&vonage_ops, "{\"api_secret\":\"b\"}"),
		  "api_key: missing (a non-empty string is required)");
	CHECK(str_startswith(adapter_config_error(&vonage_ops, "{" CFG_BASE ",\"api_sekret\":1}"),
			     "api_sekret: unknown key \"api_sekret\", did you mean \"api_secret\"?"));
	CHECK(str_startswith(adapter_config_error(&vonage_ops, "{" CFG_BASE ",\"base_url\":\"ftp://x\"}"),
			     "base_url: "));
	CHECK(str_startswith(adapter_config_error(&vonage_ops,
						  "{\"type\":\"vonage\",\"api_key\":\"a\","
						  "\"api_secret\":\"b\",\"signature_secret\":\"c\","
						  "\"from\":\"TOO LONG SENDER\"}"),
			     "from: "));
}

/* --verify: one case per line in, "1" or "0" per line out. */
static int verify_line(const char *line)
{
	struct json_object *o = json_tokener_parse(line), *params = NULL;
	const char *via = provider_json_str(o, "via");
	struct kvlist f;
	struct sbuf body, err;
	int ok = -1;

	kvlist_init(&f);
	sbuf_init(&body);
	sbuf_init(&err);
	struct json_object *c = json_tokener_parse("{" CFG_BASE "}");
	const char *method = provider_json_str(o, "method"), *secret = provider_json_str(o, "secret");
	json_object_object_add(c, "signature_secret", json_object_new_string(secret ? secret : ""));
	json_object_object_add(c, "signature_method", json_object_new_string(method ? method : ""));
	void *v = adapter_new(&vonage_ops, json_object_to_json_string(c), &err);
	if (!v || !json_object_object_get_ex(o, "params", &params))
		goto out;
	json_object_object_foreach(params, key, val)
		kvlist_add(&f, key, json_object_get_string(val));
	struct hook h;
	via = via ? via : "form";
	if (strcmp(via, "json") == 0)
		sbuf_adds(&body, json_object_to_json_string(params));
	else
		codec_form_build(&body, &f);
	bool get = strcmp(via, "get") == 0;
	char *url = get ? xasprintf(INBOUND_URL "?%s", sbuf_str(&body)) : xstrdup(INBOUND_URL);
	hook_init(&h, get ? "GET" : "POST", url, get ? NULL : sbuf_str(&body), 0);
	struct verify_result vr;
	ok = provider_verify(&vonage_ops, v, &h.in, &vr, &err) == 0;
	hook_free(&h);
	free(url);
out:
	vonage_ops.destroy(v);
	json_object_put(c);
	json_object_put(o);
	kvlist_free(&f);
	sbuf_free(&body);
	sbuf_free(&err);
	return ok;
}


int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--verify") == 0)
		return adapter_verify_cli(verify_line);
	RUN(test_signature_vectors);
	RUN(test_verify);
	RUN(test_signature_escapes);
	RUN(test_build_send);
	RUN(test_result_success);
	RUN(test_result_statuses);
	RUN(test_result_http);
	RUN(test_status);
	RUN(test_inbound);
	RUN(test_config);
	return check_summary("vonage");
}
