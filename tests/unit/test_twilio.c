/*
 * test_twilio.c: the Twilio adapter.
 *
 * Two command-line modes drive the adapter from scripts, one JSON object per line:
 *   --verify  reads {"token", "url", "method", "body", "signature"} and prints 1 when
 *             the adapter accepts the webhook, else 0 (tests/diff/twilio_oracle.sh)
 *   --build   reads {"base_url", "token", "from", "to", "text", "status_url",
 *             "validity_s"} and prints the request build_send makes as {"method",
 *             "url", "authorization", "content_type", "body"} (tests/fake/)
 */
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "providers/adapters.h"
#include "providers/provider.h"
#include "providers/twilio.h"
#include "tests/check.h"

#define SID "AC00000000000000000000000000000000"
#define MG "MG0123456789abcdef0123456789ABCDEF"
#define TOKEN "12345"
#define STATUS_URL "https://signpost.example/v1/providers/tw/status?ref=42"

static const struct provider_ops *ops(void)
{
	return provider_find("twilio");
}

/* init with a config given as JSON text; returns NULL and fills err on failure. */
static void *twilio_new(const char *cfg_text, struct sbuf *err)
{
	struct json_object *cfg = json_tokener_parse(cfg_text);
	struct provider_env env = { "https://signpost.example", "http://127.0.0.1:8080", NULL };
	void *priv = NULL;

	if (!cfg)
		abort();
	if (ops()->init(cfg, &env, &priv, err) < 0)
		priv = NULL;
	json_object_put(cfg);
	return priv;
}

static void *twilio_default(void)
{
	struct sbuf err;
	void *priv;

	sbuf_init(&err);
	priv = twilio_new("{\"name\":\"tw\",\"type\":\"twilio\",\"account_sid\":\"" SID "\","
			  "\"auth_token\":\"" TOKEN "\",\"from\":\"+447700900000\"}", &err);
	if (!priv) {
		fprintf(stderr, "twilio init: %s\n", sbuf_str(&err));
		abort();
	}
	sbuf_free(&err);
	return priv;
}

/* Fills l from "k1", "v1", "k2", "v2", ..., NULL. */
static void pairs(struct kvlist *l, const char *const *kv)
{
	for (; kv[0]; kv += 2)
		kvlist_add(l, kv[0], kv[1]);
}

static void signature_of(const char *url, const char *const *kv, struct sbuf *out)
{
	struct kvlist l;

	kvlist_init(&l);
	pairs(&l, kv);
	sbuf_reset(out);
	twilio_signature(TOKEN, url, &l, out);
	kvlist_free(&l);
}

static const char *const vector_fields[] = {
	"CallSid", "CA1234567890ABCDE", "Caller", "+14158675309", "Digits", "1234",
	"From",	   "+14158675309",	"To",	  "+18005551212", NULL
};

static const char *const sms_fields[] = {
	"To", "+447700900456", "MessageStatus", "delivered", "MessageSid",
	"SM00000000000000000000000000000000", "From", "+447700900123", "AccountSid",
	"AC00000000000000000000000000000000", NULL
};

TEST(test_signature_vectors)
{
	struct sbuf s;

	sbuf_init(&s);
	signature_of("https://mycompany.com/myapp.php?foo=1&bar=2", vector_fields, &s);
	CHECK_STR(sbuf_str(&s), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
	signature_of("https://mycompany.com:443/myapp.php?foo=1&bar=2", vector_fields, &s);
	CHECK_STR(sbuf_str(&s), "kvajT1Ptam85bY51eRf/AJRuM3w=");
	signature_of("https://example.com/twilio/status", sms_fields, &s);
	CHECK_STR(sbuf_str(&s), "qUqb8upSKdTUMIFT3E9EFFa7z6s=");
	/* Repeated fields, values sorted, identical pairs once (values from npm twilio). */
	static const char *const repeated[] = {
		"To", "+447700900000", "From", "+447700900123", "Body", "b", "Body", "a",
		"Body", "b", "MessageSid", "SM00000000000000000000000000000001", NULL
	};
	signature_of("https://example.com/twilio/inbound", repeated, &s);
	CHECK_STR(sbuf_str(&s), "dumCSuWhh8JlaioRm0gIX0LiDHE=");
	static const char *const none[] = { NULL };
	signature_of("https://example.com/twilio/inbound?x=1&y=%20z", none, &s);
	CHECK_STR(sbuf_str(&s), "jC5OC9UlSnb0zRP4v0PePr3xbZs=");
	/* U+1F600 sorts before U+FF5E in UTF-16 order, after it in UTF-8 byte order. */
	static const char *const astral[] = { "k", "\xf0\x9f\x98\x80", "k", "\xef\xbd\x9e",
					      "\xef\xbd\x9e", "1", "\xf0\x9f\x98\x80", "2", NULL };
	signature_of("https://example.com/u", astral, &s);
	CHECK_STR(sbuf_str(&s), "GmreNDcNQeaCGl4yTTfLtCbsG7g=");
	sbuf_free(&s);
}

/* Runs verify on a form POST (or GET when body is NULL). */
static int verify(void *priv, const char *method, const char *url, const char *body,
		  const char *signature)
{
	struct kvlist headers, query;
	struct verify_result vr;
	struct sbuf err;
	int rc;

	kvlist_init(&headers);
	kvlist_init(&query);
	sbuf_init(&err);
	if (signature)
		kvlist_add(&headers, "x-twilio-signature", signature);
	struct http_in in = { method, url, &query, &headers, body, body ? strlen(body) : 0, 0 };
	rc = provider_verify(ops(), priv, &in, &vr, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	CHECK_STR(vr.replay_id, ""); /* Twilio signs no nonce: no replay id */
	kvlist_free(&headers);
	kvlist_free(&query);
	sbuf_free(&err);
	return rc;
}

#define VECTOR_BODY                                                                      \
	"CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&" \
	"To=%2B18005551212"
#define VECTOR_URL "https://mycompany.com/myapp.php?foo=1&bar=2"
#define VECTOR_URL_443 "https://mycompany.com:443/myapp.php?foo=1&bar=2"

TEST(test_verify)
{
	void *t = twilio_default();

	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8="), 0);
	/* Signed with the default port, received without, and the other way round. */
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, "kvajT1Ptam85bY51eRf/AJRuM3w="), 0);
	CHECK_INT(verify(t, "POST", VECTOR_URL_443, VECTOR_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
		  0);
	CHECK_INT(verify(t, "POST", VECTOR_URL_443, VECTOR_BODY, "kvajT1Ptam85bY51eRf/AJRuM3w="),
		  0);
	/* Field order on the wire does not matter. */
	CHECK_INT(verify(t, "POST", VECTOR_URL,
			 "To=%2B18005551212&Digits=1234&CallSid=CA1234567890ABCDE&"
			 "From=%2B14158675309&Caller=%2B14158675309",
			 "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
		  0);
	CHECK_INT(verify(t, "POST", "https://example.com/twilio/status",
			 "AccountSid=" SID "&From=%2B447700900123&"
			 "MessageSid=SM00000000000000000000000000000000&MessageStatus=delivered&"
			 "To=%2B447700900456",
			 "qUqb8upSKdTUMIFT3E9EFFa7z6s="),
		  0);
	CHECK_INT(verify(t, "GET", "https://example.com/twilio/inbound?x=1&y=%20z", NULL,
			 "jC5OC9UlSnb0zRP4v0PePr3xbZs="),
		  0);
	twilio_ops.destroy(t);
}

TEST(test_verify_tampered)
{
	void *t = twilio_default();
	const char *good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, "RSOYDt4T1cUTdK1PDd93/VVr8B8"), -1);
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, "rSOYDt4T1cUTdK1PDd93/VVr8B8="), -1);
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, ""), -1);
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, NULL), -1);
	/* One digit of one field changed, a field dropped, a field added. */
	CHECK_INT(verify(t, "POST", VECTOR_URL,
			 "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1235&"
			 "From=%2B14158675309&To=%2B18005551212", good), -1);
	CHECK_INT(verify(t, "POST", VECTOR_URL,
			 "CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&"
			 "From=%2B14158675309", good), -1);
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY "&Extra=1", good), -1);
	/* Another URL, another query, another scheme, another port. */
	CHECK_INT(verify(t, "POST", "https://mycompany.com/myapp.php?foo=1&bar=3", VECTOR_BODY,
			 good), -1);
	CHECK_INT(verify(t, "POST", "http://mycompany.com/myapp.php?foo=1&bar=2", VECTOR_BODY,
			 good), -1);
	CHECK_INT(verify(t, "POST", "https://mycompany.com:8443/myapp.php?foo=1&bar=2",
			 VECTOR_BODY, good), -1);
	/* The same request as a GET (fields not signed) fails, a bad escape fails. */
	CHECK_INT(verify(t, "GET", VECTOR_URL, NULL, good), -1);
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY "&x=%G1", good), -1);
	twilio_ops.destroy(t);

	/* Another token. */
	struct sbuf err;
	sbuf_init(&err);
	t = twilio_new("{\"account_sid\":\"" SID "\",\"auth_token\":\"12346\","
		       "\"from\":\"+447700900000\"}", &err);
	CHECK(t != NULL);
	CHECK_INT(verify(t, "POST", VECTOR_URL, VECTOR_BODY, good), -1);
	twilio_ops.destroy(t);
	sbuf_free(&err);
}

TEST(test_verify_ports)
{
	void *t = twilio_default();
	struct sbuf s;
	static const char *const none[] = { NULL };

	sbuf_init(&s);
	signature_of("http://user@[::1]:80/cb?a=1", none, &s);
	CHECK_INT(verify(t, "GET", "http://user@[::1]/cb?a=1", NULL, sbuf_str(&s)), 0);
	CHECK_INT(verify(t, "GET", "http://user@[::1]:80/cb?a=1", NULL, sbuf_str(&s)), 0);
	CHECK_INT(verify(t, "GET", "https://user@[::1]/cb?a=1", NULL, sbuf_str(&s)), -1);
	signature_of("http://example.com", none, &s);
	CHECK_INT(verify(t, "GET", "http://example.com:80", NULL, sbuf_str(&s)), 0);
	signature_of("https://example.com:8443/x", none, &s);
	CHECK_INT(verify(t, "GET", "https://example.com/x", NULL, sbuf_str(&s)), -1);
	CHECK_INT(verify(t, "GET", "https://example.com:8443/x", NULL, sbuf_str(&s)), 0);
	sbuf_free(&s);
	twilio_ops.destroy(t);
}

static void send_msg(void *priv, const struct sms_out *msg, struct http_req *req)
{
	http_req_init(req);
	CHECK_INT(ops()->build_send(priv, msg, req), 0);
}

TEST(test_build_send)
{
	void *t = twilio_default();
	struct http_req req;
	struct sms_out msg = { .reference = "42", .to = "+447700900123",
			       .text = "Hello & welcome: 50% off? \xe2\x9c\x93",
			       .status_url = STATUS_URL, .validity_s = 40000 };

	send_msg(t, &msg, &req);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, "https://api.twilio.com/2010-04-01/Accounts/" SID "/Messages.json");
	CHECK_STR(kvlist_get(&req.headers, "Authorization"),
		  "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDoxMjM0NQ==");
	CHECK_STR(kvlist_get(&req.headers, "Content-Type"), "application/x-www-form-urlencoded");
	CHECK_STR(sbuf_str(&req.body),
		  "To=%2B447700900123&From=%2B447700900000&"
		  "Body=Hello+%26+welcome%3A+50%25+off%3F+%E2%9C%93&"
		  "StatusCallback=https%3A%2F%2Fsignpost.example%2Fv1%2Fproviders%2Ftw%2Fstatus"
		  "%3Fref%3D42&ValidityPeriod=36000");
	CHECK(strstr(req.url, TOKEN) == NULL);
	http_req_free(&req);

	msg = (struct sms_out){ .to = "+447700900123", .from = "SIGNPOST", .text = "",
				.validity_s = 600 };
	send_msg(t, &msg, &req);
	CHECK_STR(sbuf_str(&req.body), "To=%2B447700900123&From=SIGNPOST&Body=&ValidityPeriod=600");
	http_req_free(&req);

	msg.to = NULL;
	http_req_init(&req);
	CHECK_INT(ops()->build_send(t, &msg, &req), -1);
	http_req_free(&req);
	twilio_ops.destroy(t);
}

TEST(test_build_send_service)
{
	struct sbuf err;
	struct http_req req;
	struct sms_out msg = { .to = "+447700900123", .text = "Hi" };
	void *t;

	sbuf_init(&err);
	t = twilio_new("{\"account_sid\":\"" SID "\",\"auth_token\":\"" TOKEN "\","
		       "\"messaging_service_sid\":\"" MG "\","
		       "\"base_url\":\"http://127.0.0.1:8081/\"}", &err);
	CHECK_STR(sbuf_str(&err), "");
	send_msg(t, &msg, &req);
	CHECK_STR(req.url, "http://127.0.0.1:8081/2010-04-01/Accounts/" SID "/Messages.json");
	CHECK_STR(sbuf_str(&req.body), "To=%2B447700900123&MessagingServiceSid=" MG "&Body=Hi");
	http_req_free(&req);
	msg.from = "+447700900001";
	send_msg(t, &msg, &req);
	CHECK_STR(sbuf_str(&req.body), "To=%2B447700900123&From=%2B447700900001&Body=Hi");
	http_req_free(&req);
	twilio_ops.destroy(t);
	sbuf_free(&err);
}

static void result(long status, const char *retry_after, const char *body,
		   struct send_result *out)
{
	struct kvlist h;

	kvlist_init(&h);
	kvlist_add(&h, "Content-Type", "application/json");
	if (retry_after)
		kvlist_add(&h, "Retry-After", retry_after);
	memset(out, 0x5a, sizeof(*out));
	ops()->parse_send_result(NULL, status, &h, body, body ? strlen(body) : 0, out);
	kvlist_free(&h);
}

#define TWILIO_ERROR(code, msg, status)                                                  \
	"{\"code\": " #code ", \"message\": \"" msg "\", \"more_info\": "                \
	"\"https://www.twilio.com/docs/errors/" #code "\", \"status\": " #status "}"

TEST(test_result_success)
{
	struct send_result r;

	result(201, NULL,
	       "{\"account_sid\": \"" SID "\", \"api_version\": \"2010-04-01\", \"body\": \"Hi\","
	       " \"error_code\": null, \"from\": \"+447700900000\", \"num_segments\": \"2\","
	       " \"price\": null, \"sid\": \"SM0123456789abcdef0123456789abcdef\","
	       " \"status\": \"queued\", \"to\": \"+447700900123\"}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_INT(r.state, MSG_SUBMITTED);
	CHECK_STR(r.provider_id, "SM0123456789abcdef0123456789abcdef");
	CHECK_INT(r.segments, 2);
	CHECK_STR(r.error_code, "");
	CHECK_STR(r.reason, "");
	CHECK(!r.throttled && !r.opted_out && r.retry_after_s == 0);

	result(200, NULL, "{\"sid\": \"SM1\", \"status\": \"sent\"}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_INT(r.state, MSG_ENROUTE);
	CHECK_INT(r.segments, 0);

	/* Accepted is accepted, whatever the body: resending would text the tenant twice. */
	result(201, NULL, "<html>", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_STR(r.provider_id, "");
	CHECK(r.reason[0] != '\0');
	result(201, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_OK);
}

TEST(test_result_permanent)
{
	static const int codes[] = { 21211, 21612, 21614, 21635, 21606 };
	struct send_result r;
	char body[256];

	result(400, NULL, TWILIO_ERROR(21211, "The 'To' number +447700900999 is not a valid "
					      "phone number.", 400), &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK_INT(r.state, MSG_REJECTED);
	CHECK_STR(r.error_code, "21211");
	CHECK_STR(r.reason, "Twilio error 21211: The 'To' number +447700900999 is not a valid "
			    "phone number. (HTTP 400)");
	CHECK(!r.opted_out && !r.throttled && r.retry_after_s == 0);

	result(400, NULL, TWILIO_ERROR(21610, "Attempt to send to unsubscribed recipient", 400),
	       &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK(r.opted_out);
	CHECK_STR(r.error_code, "21610");

	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		snprintf(body, sizeof(body), "{\"code\": %d, \"message\": \"x\", \"status\": 400}",
			 codes[i]);
		result(400, NULL, body, &r);
		CHECK_INT(r.outcome, SEND_PERMFAIL);
		CHECK(!r.opted_out);
	}
	result(404, NULL, "not json", &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK_STR(r.error_code, "");
	CHECK_STR(r.reason, "HTTP 404 from Twilio without a Twilio error body");
	result(400, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
}

TEST(test_result_temporary)
{
	struct send_result r;

	result(429, "30", TWILIO_ERROR(20429, "Too Many Requests", 429), &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK_INT(r.state, MSG_RETRY);
	CHECK(r.throttled);
	CHECK_INT(r.retry_after_s, 30);
	CHECK_STR(r.error_code, "20429");
	result(429, NULL, TWILIO_ERROR(20429, "Too Many Requests", 429), &r);
	CHECK(r.throttled);
	CHECK_INT(r.retry_after_s, 0);
	result(429, NULL, "", &r);
	CHECK(r.throttled && r.outcome == SEND_TEMPFAIL);

	result(500, NULL, TWILIO_ERROR(20500, "Internal Server Error", 500), &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK(!r.throttled);
	result(503, "5", "<html><body>Service Unavailable</body></html>", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK_INT(r.retry_after_s, 5);
	CHECK_STR(r.reason, "HTTP 503 from Twilio without a Twilio error body");
	result(502, NULL, NULL, &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);

	/* Bad credentials: the operator fixes the config, the messages wait. */
	result(401, NULL, TWILIO_ERROR(20003, "Authenticate", 401), &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK_STR(r.error_code, "20003");
	CHECK(!r.throttled && !r.opted_out);
	result(401, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(302, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(408, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
}

/* Runs parse_status on a form POST to STATUS_URL. */
static int status(const char *body, struct status_in *out)
{
	struct kvlist query;
	struct sbuf err;
	int rc;

	kvlist_init(&query);
	sbuf_init(&err);
	kvlist_add(&query, "ref", "42");
	struct http_in in = { "POST", STATUS_URL, &query, NULL, body, strlen(body), 0 };
	rc = ops()->parse_status(NULL, &in, out, &err);
	CHECK(rc < 0 ? err.len > 0 : err.len == 0);
	kvlist_free(&query);
	sbuf_free(&err);
	return rc;
}

TEST(test_status_map)
{
	static const struct {
		const char *twilio;
		enum msg_state ours;
	} map[] = {
		{ "accepted", MSG_SUBMITTED }, { "scheduled", MSG_SUBMITTED },
		{ "queued", MSG_SUBMITTED },   { "sending", MSG_SUBMITTED },
		{ "sent", MSG_ENROUTE },       { "delivered", MSG_DELIVERED },
		{ "read", MSG_DELIVERED },     { "undelivered", MSG_UNDELIVERED },
		{ "failed", MSG_FAILED },      { "canceled", MSG_CANCELLED },
	};
	struct status_in st;
	char body[300];

	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		snprintf(body, sizeof(body),
			 "MessageSid=SM0123456789abcdef0123456789abcdef&MessageStatus=%s&"
			 "SmsSid=SM0123456789abcdef0123456789abcdef&SmsStatus=%s&AccountSid=" SID
			 "&From=%%2B447700900000&To=%%2B447700900123&ApiVersion=2010-04-01",
			 map[i].twilio, map[i].twilio);
		CHECK_INT(status(body, &st), 1);
		CHECK_INT(st.state, map[i].ours);
		CHECK_STR(st.raw_status, map[i].twilio);
		CHECK_STR(st.provider_id, "SM0123456789abcdef0123456789abcdef");
		CHECK_STR(st.reference, "42");
		CHECK_STR(st.error_code, "");
		CHECK(!st.opted_out);
	}
	/* Statuses of inbound messages and new ones are acknowledged and ignored. */
	CHECK_INT(status("MessageSid=SM1&MessageStatus=received", &st), 0);
	CHECK_INT(status("MessageSid=SM1&MessageStatus=receiving", &st), 0);
	CHECK_INT(status("MessageSid=SM1&MessageStatus=partially_delivered", &st), 0);
}

TEST(test_status_errors)
{
	struct status_in st;

	CHECK_INT(status("MessageSid=SM1&MessageStatus=undelivered&ErrorCode=30003&"
			 "ErrorMessage=Unreachable+destination+handset", &st), 1);
	CHECK_INT(st.state, MSG_UNDELIVERED);
	CHECK_STR(st.error_code, "30003");
	CHECK_STR(st.error_text, "Unreachable destination handset");
	CHECK(!st.opted_out);
	CHECK_INT(status("MessageSid=SM1&MessageStatus=failed&ErrorCode=21610", &st), 1);
	CHECK(st.opted_out);
	CHECK_INT(st.state, MSG_FAILED);
	/* The older SmsSid / SmsStatus names are enough. */
	CHECK_INT(status("SmsSid=SM2&SmsStatus=sent", &st), 1);
	CHECK_STR(st.provider_id, "SM2");
	CHECK_INT(st.state, MSG_ENROUTE);
	CHECK_INT(status("MessageSid=SM1", &st), -1);
	CHECK_INT(status("MessageStatus=sent", &st), -1);
	CHECK_INT(status("MessageSid=SM1&MessageStatus=sent%", &st), -1);

	/* A GET callback, and one without our reference. */
	struct kvlist q;
	struct sbuf err;
	kvlist_init(&q);
	sbuf_init(&err);
	kvlist_add(&q, "MessageSid", "SM3");
	kvlist_add(&q, "MessageStatus", "delivered");
	struct http_in in = { "GET", "https://x.example/s?MessageSid=SM3&MessageStatus=delivered",
			      &q, NULL, NULL, 0, 0 };
	CHECK_INT(ops()->parse_status(NULL, &in, &st, &err), 1);
	CHECK_STR(st.provider_id, "SM3");
	CHECK_STR(st.reference, "");
	CHECK_INT(st.state, MSG_DELIVERED);
	kvlist_free(&q);
	sbuf_free(&err);
}

static int inbound(const char *body, struct sms_in *out)
{
	struct sbuf err;
	int rc;

	sbuf_init(&err);
	struct http_in in = { "POST", "https://x.example/in", NULL, NULL, body, strlen(body), 0 };
	rc = ops()->parse_inbound(NULL, &in, out, &err);
	CHECK(rc < 0 ? err.len > 0 : err.len == 0);
	sbuf_free(&err);
	return rc;
}

TEST(test_inbound)
{
	struct sms_in m;

	sms_in_init(&m);
	CHECK_INT(inbound("ToCountry=GB&ToState=&SmsMessageSid=SM9&NumMedia=0&ToCity=&"
			  "FromZip=&SmsSid=SM9&FromState=&SmsStatus=received&FromCity=&"
			  "Body=SKILLS+please+%E2%9C%93&FromCountry=GB&To=%2B447700900000&"
			  "MessagingServiceSid=" MG "&ToZip=&NumSegments=1&MessageSid=SM9&"
			  "AccountSid=" SID "&From=%2B447700900123&ApiVersion=2010-04-01",
			  &m), 1);
	CHECK_STR(m.provider_id, "SM9");
	CHECK_STR(m.from, "+447700900123");
	CHECK_STR(m.to, "+447700900000");
	CHECK_STR(sbuf_str(&m.text), "SKILLS please \xe2\x9c\x93");
	CHECK_INT(m.concat_total, 0);
	/* An empty Body (a picture message, say) is still a message. */
	CHECK_INT(inbound("MessageSid=SM8&From=%2B447700900123&To=%2B447700900000&Body=", &m), 1);
	CHECK_STR(sbuf_str(&m.text), "");
	CHECK_INT(inbound("SmsSid=SM7&From=447700900123&To=%2B447700900000", &m), 1);
	CHECK_STR(m.provider_id, "SM7");
	CHECK_STR(m.from, "+447700900123");
	CHECK_INT(inbound("MessageSid=SM8&To=%2B447700900000&Body=x", &m), -1);
	CHECK_INT(inbound("From=%2B447700900123&To=%2B447700900000&Body=x", &m), -1);
	CHECK_INT(inbound("MessageSid=SM8&From=%2B447700900123&To=%2B447700900000&Body=%FF", &m),
		  -1);
	sms_in_free(&m);
}

static void twiml(const char *reply, const char *expected)
{
	struct http_answer a = { 0, NULL, { NULL, 0, 0 } };

	/* The reply rides in the answer, through the core's wrapper. */
	CHECK(ops()->sync_reply);
	provider_inbound_answer(ops(), NULL, reply, &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.content_type, "text/xml");
	CHECK_STR(sbuf_str(&a.body), expected);
	sbuf_free(&a.body);
}

TEST(test_twiml)
{
	twiml(NULL, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>");
	twiml("Tom & Jerry <3 \"quotes\" 'apos' caf\xc3\xa9 \xe2\x9c\x93",
	      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Tom &amp; Jerry "
	      "&lt;3 &quot;quotes&quot; &apos;apos&apos; caf\xc3\xa9 \xe2\x9c\x93</Message>"
	      "</Response>");
	twiml("", "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message></Message>"
		  "</Response>");
}

static const char *config_error(const char *cfg)
{
	static char msg[512];
	struct sbuf err;
	void *t;

	sbuf_init(&err);
	t = twilio_new(cfg, &err);
	provider_copy(msg, sizeof(msg), t ? "ok" : sbuf_str(&err));
	twilio_ops.destroy(t);
	sbuf_free(&err);
	return msg;
}

#define TOKEN_KEY "\"auth_token\":\"" TOKEN "\""
#define SID_KEY "\"account_sid\":\"" SID "\""

TEST(test_config)
{
	CHECK_STR(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"+447700900000\","
			       "\"name\":\"tw\",\"type\":\"twilio\",\"timeout_ms\":5000}"), "ok");
	CHECK_STR(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"Signpost 1\"}"), "ok");
	CHECK(str_startswith(config_error("{\"acount_sid\":\"" SID "\"," TOKEN_KEY ","
					  "\"from\":\"+447700900000\"}"),
			     "acount_sid: unknown key \"acount_sid\", did you mean "
			     "\"account_sid\"?"));
	CHECK_STR(config_error("{" TOKEN_KEY ",\"from\":\"+447700900000\"}"),
		  "account_sid: missing (a non-empty string is required)");
	CHECK_STR(config_error("{" SID_KEY ",\"from\":\"+447700900000\"}"),
		  "auth_token: missing (a non-empty string is required)");
	CHECK_STR(config_error("{\"account_sid\":\"AC0000000000000000000000000000000\","
			       TOKEN_KEY ",\"from\":\"+447700900000\"}"),
		  "account_sid: must be \"AC\" followed by 32 hexadecimal digits (the value "
		  "given has 33 characters)");
	CHECK(str_startswith(config_error("{\"account_sid\":\"MG0000000000000000000000000000000"
					  "0\"," TOKEN_KEY ",\"from\":\"+447700900000\"}"),
			     "account_sid: must be"));
	CHECK(str_startswith(config_error("{" SID_KEY ",\"auth_token\":\"12345\\n\","
					  "\"from\":\"+447700900000\"}"),
			     "auth_token: must not contain spaces"));
	CHECK(str_startswith(config_error("{" SID_KEY "," TOKEN_KEY "}"), "from: missing"));
	CHECK(str_startswith(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"07700900000\"}"),
			     "from: must be an E.164 number"));
	CHECK(str_startswith(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"SignpostKent1\"}"),
			     "from: must be"));
	CHECK(str_startswith(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"+44\"}"),
			     "from: must be"));
	CHECK_STR(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"+447700900000\","
			       "\"messaging_service_sid\":\"" MG "\"}"),
		  "messaging_service_sid: set either from or messaging_service_sid, not both");
	CHECK(str_startswith(config_error("{" SID_KEY "," TOKEN_KEY ","
					  "\"messaging_service_sid\":\"MG123\"}"),
			     "messaging_service_sid: must be \"MG\""));
	CHECK(str_startswith(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"+447700900000\","
					  "\"base_url\":\"api.twilio.com\"}"),
			     "base_url: \"api.twilio.com\" must start with http://"));
	CHECK_STR(config_error("{" SID_KEY "," TOKEN_KEY ",\"from\":\"\"}"),
		  "from: must be a non-empty string");
}

/* --verify: one JSON object per line in, "1" or "0" per line out. */
static int verify_line(const char *line)
{
	struct json_object *o = json_tokener_parse(line), *cfg = json_object_new_object();
	const char *method = provider_json_str(o, "method"), *body = provider_json_str(o, "body");
	struct sbuf err;
	void *t = NULL;
	int ok = -1;

	sbuf_init(&err);
	json_object_object_add(cfg, "account_sid", json_object_new_string(SID));
	json_object_object_add(cfg, "auth_token",
			       json_object_new_string(provider_json_str(o, "token")));
	json_object_object_add(cfg, "from", json_object_new_string("+447700900000"));
	if (ops()->init(cfg, NULL, &t, &err) < 0) {
		fprintf(stderr, "init: %s\n", sbuf_str(&err));
		goto out;
	}
	struct kvlist headers, query;
	kvlist_init(&headers);
	kvlist_init(&query);
	kvlist_add(&headers, "X-Twilio-Signature", provider_json_str(o, "signature"));
	struct http_in in = { method ? method : "POST", provider_json_str(o, "url"), &query,
			      &headers, body, body ? strlen(body) : 0, 0 };
	struct verify_result vr;
	ok = provider_verify(ops(), t, &in, &vr, &err) == 0;
	kvlist_free(&headers);
	kvlist_free(&query);
out:
	twilio_ops.destroy(t);
	json_object_put(cfg);
	json_object_put(o);
	sbuf_free(&err);
	return ok;
}

/* --build: one request per line in, its JSON description out; -1 on bad input. */
static int build_line(const char *line)
{
	struct json_object *o = json_tokener_parse(line), *cfg = json_object_new_object(), *out;
	const char *base = provider_json_str(o, "base_url"), *validity;
	struct http_req req;
	struct sbuf err;
	void *t = NULL;
	int rc = -1;

	sbuf_init(&err);
	http_req_init(&req);
	json_object_object_add(cfg, "account_sid", json_object_new_string(SID));
	json_object_object_add(cfg, "auth_token",
			       json_object_new_string(provider_json_str(o, "token")));
	json_object_object_add(cfg, "from", json_object_new_string(provider_json_str(o, "from")));
	if (base)
		json_object_object_add(cfg, "base_url", json_object_new_string(base));
	validity = provider_json_str(o, "validity_s");
	struct sms_out msg = { "1", provider_json_str(o, "to"), NULL, provider_json_str(o, "text"),
			       false, 1, provider_json_str(o, "status_url"),
			       validity ? atoi(validity) : 0, 0 };
	if (ops()->init(cfg, NULL, &t, &err) < 0 || ops()->build_send(t, &msg, &req) < 0) {
		fprintf(stderr, "build: %s\n", sbuf_str(&err));
		goto out;
	}
	out = json_object_new_object();
	json_object_object_add(out, "method", json_object_new_string(req.method));
	json_object_object_add(out, "url", json_object_new_string(req.url));
	json_object_object_add(out, "authorization",
			       json_object_new_string(kvlist_get(&req.headers, "Authorization")));
	json_object_object_add(out, "content_type",
			       json_object_new_string(kvlist_get(&req.headers, "Content-Type")));
	json_object_object_add(out, "body", json_object_new_string(sbuf_str(&req.body)));
	printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	json_object_put(out);
	rc = 0;
out:
	twilio_ops.destroy(t);
	http_req_free(&req);
	json_object_put(cfg);
	json_object_put(o);
	sbuf_free(&err);
	return rc;
}

static int cli(bool build)
{
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (getline(&line, &cap, stdin) > 0) {
		if (build) {
			rc = build_line(line) < 0 ? 2 : rc;
			continue;
		}
		int ok = verify_line(line);
		if (ok < 0)
			rc = 2;
		printf("%d\n", ok > 0);
	}
	free(line);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--verify") == 0)
		return cli(false);
	if (argc > 1 && strcmp(argv[1], "--build") == 0)
		return cli(true);
	RUN(test_signature_vectors);
	RUN(test_verify);
	RUN(test_verify_tampered);
	RUN(test_verify_ports);
	RUN(test_build_send);
	RUN(test_build_send_service);
	RUN(test_result_success);
	RUN(test_result_permanent);
	RUN(test_result_temporary);
	RUN(test_status_map);
	RUN(test_status_errors);
	RUN(test_inbound);
	RUN(test_twiml);
	RUN(test_config);
	return check_summary("twilio");
}
