/*
 * test_firetext.c: the Firetext adapter.
 */
#include <stdlib.h>
#include <string.h>

#include "providers/adapters.h"
#include "providers/firetext.h"
#include "tests/check.h"
#include "tests/unit/adapter_check.h"

#define CFG "{\"name\":\"ft\",\"type\":\"firetext\",\"api_key\":\"k3y\",\"from\":\"SIGNPOST\"," \
	    "\"webhook_user\":\"signpost\",\"webhook_password\":\"pa55\"}"
#define STATUS_URL "https://signpost.example/v1/providers/ft/status?ref=42"
/* base64("signpost:pa55") */
#define GOOD_AUTH "Basic c2lnbnBvc3Q6cGE1NQ=="

TEST(test_build_send)
{
	void *f = adapter_must(&firetext_ops, CFG);
	struct http_req req;
	struct sms_out msg = { .reference = "42", .to = "+447700900123", .text = "Hi & bye",
			       .status_url = STATUS_URL };

	http_req_init(&req);
	CHECK_INT(firetext_ops.build_send(f, &msg, &req), 0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, "https://www.firetext.co.uk/api/sendsms/json");
	CHECK_STR(kvlist_get(&req.headers, "Content-Type"), "application/x-www-form-urlencoded");
	CHECK_STR(sbuf_str(&req.body),
		  "apiKey=k3y&from=SIGNPOST&to=447700900123&message=Hi+%26+bye&reference=42&"
		  "receipt=https%3A%2F%2Fsignpost%3Apa55%40signpost.example%2Fv1%2Fproviders%2Fft%2F"
		  "status%3Fref%3D42");
	CHECK(strstr(req.url, "k3y") == NULL);
	http_req_free(&req);
	msg.to = NULL;
	CHECK_INT(firetext_ops.build_send(f, &msg, &req), -1);
	http_req_free(&req);
	firetext_ops.destroy(f);
	/* Credentials with reserved characters are percent-encoded in the receipt URL. */
	f = adapter_must(&firetext_ops, "{\"api_key\":\"k\",\"from\":\"SIGNPOST\","
				       "\"webhook_user\":\"a b\",\"webhook_password\":\"p@ss/w:rd\"}");
	msg = (struct sms_out){ .to = "+447700900123", .text = "x",
				.status_url = "http://h.example/s?ref=1" };
	CHECK_INT(firetext_ops.build_send(f, &msg, &req), 0);
	CHECK(strstr(sbuf_str(&req.body), "receipt=http%3A%2F%2Fa%2520b%3Ap%2540ss%252Fw%253Ard%40"
					  "h.example%2Fs%3Fref%3D1") != NULL);
	http_req_free(&req);
	firetext_ops.destroy(f);
}

static void result(long status, const char *body, struct send_result *out)
{
	adapter_result(&firetext_ops, NULL, status, status == 429 ? "9" : NULL, body, out);
}

TEST(test_results)
{
	static const struct {
		int code;
		enum send_outcome outcome;
	} codes[] = { { 1, SEND_TEMPFAIL }, { 2, SEND_PERMFAIL }, { 3, SEND_TEMPFAIL },
		      { 4, SEND_PERMFAIL }, { 5, SEND_TEMPFAIL }, { 99, SEND_TEMPFAIL } };
	struct send_result r;

	result(200, "{\"data\":[],\"description\":\"SMS successfully queued\",\"code\":0,"
		    "\"responseData\":1}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_INT(r.state, MSG_SUBMITTED);
	CHECK_STR(r.provider_id, "");
	for (size_t i = 0; i < ARRAY_LEN(codes); i++) {
		char *body = xasprintf("{\"data\":[],\"description\":\"Bad thing\",\"code\":%d,"
				       "\"responseData\":\"\"}", codes[i].code);
		result(200, body, &r);
		CHECK_INT(r.outcome, codes[i].outcome);
		CHECK_INT(atoi(r.error_code), codes[i].code);
		CHECK(strstr(r.reason, "Bad thing") != NULL);
		free(body);
	}
	result(200, "garbage", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(429, "", &r);
	CHECK(r.throttled);
	CHECK_INT(r.retry_after_s, 9);
	result(500, "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(400, "", &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
}

static int verify(void *f, const char *auth)
{
	struct verify_result vr;
	struct sbuf err;
	struct hook h;
	int rc;

	sbuf_init(&err);
	hook_init(&h, "POST", "https://signpost.example/v1/providers/ft/inbound", "source=1", 0);
	if (auth)
		kvlist_add(&h.headers, "authorization", auth);
	rc = provider_verify(&firetext_ops, f, &h.in, &vr, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	CHECK_STR(vr.replay_id, ""); /* Firetext signs nothing: no replay id */
	hook_free(&h);
	sbuf_free(&err);
	return rc;
}

TEST(test_verify)
{
	void *f = adapter_must(&firetext_ops, CFG);

	CHECK_INT(verify(f, GOOD_AUTH), 0);
	CHECK_INT(verify(f, NULL), -1);
	CHECK_INT(verify(f, ""), -1);
	CHECK_INT(verify(f, "Basic c2lnbnBvc3Q6cGE1Ng=="), -1); /* signpost:pa56 */
	CHECK_INT(verify(f, "Bearer c2lnbnBvc3Q6cGE1NQ=="), -1);
	firetext_ops.destroy(f);
}

static int status_of(void *f, const char *body, struct status_in *out)
{
	return adapter_status(&firetext_ops, f, "POST", STATUS_URL, body, out);
}

TEST(test_status)
{
	void *f = adapter_must(&firetext_ops, CFG);
	struct status_in st;

	CHECK_INT(status_of(f, "mobile=447700900123&status=0&code=000&reference=42&"
			       "time=2016-07-10+15%3A17%3A00", &st), 1);
	CHECK_INT(st.state, MSG_DELIVERED);
	CHECK_STR(st.provider_id, "ft-42");
	CHECK_STR(st.reference, "42");
	CHECK_STR(st.error_code, "");
	CHECK_INT(status_of(f, "mobile=447700900123&status=1&code=101&reference=42", &st), 1);
	CHECK_INT(st.state, MSG_UNDELIVERED);
	CHECK_STR(st.error_code, "101");
	CHECK_STR(st.error_text, "permanent: unknown subscriber");
	CHECK_INT(status_of(f, "mobile=447700900123&status=1&code=102&reference=42", &st), 1);
	CHECK_STR(st.error_text, "temporary: absent subscriber");
	CHECK_INT(status_of(f, "mobile=447700900123&status=2&code=0&reference=42", &st), 1);
	CHECK_INT(st.state, MSG_ENROUTE);
	CHECK_INT(status_of(f, "status=7&reference=42", &st), 0);
	CHECK_INT(status_of(f, "status=0", &st), -1);
	CHECK(firetext_code_permanent("101") && firetext_code_permanent("201") &&
	      firetext_code_permanent("301") && firetext_code_permanent("401"));
	CHECK(!firetext_code_permanent("102") && !firetext_code_permanent("103") &&
	      !firetext_code_permanent("104") && !firetext_code_permanent("900") &&
	      !firetext_code_permanent(NULL));
	firetext_ops.destroy(f);
}

static int inbound_of(const char *body, struct sms_in *out)
{
	return adapter_inbound(&firetext_ops, NULL, "POST",
			       "https://signpost.example/v1/providers/ft/inbound", body, out);
}

TEST(test_inbound)
{
	struct sms_in m;
	char first[96];

	sms_in_init(&m);
	CHECK_INT(inbound_of("source=447700900123&destination=447700900000&message=SKILLS&"
			     "time=2016-07-10+15%3A17%3A00", &m), 1);
	CHECK_STR(m.from, "+447700900123");
	CHECK_STR(m.to, "+447700900000");
	CHECK_STR(sbuf_str(&m.text), "SKILLS");
	CHECK(str_startswith(m.provider_id, "ft-"));
	snprintf(first, sizeof(first), "%s", m.provider_id);
	/* The same webhook again gets the same id; another time another. */
	CHECK_INT(inbound_of("source=447700900123&destination=447700900000&message=SKILLS&"
			     "time=2016-07-10+15%3A17%3A00", &m), 1);
	CHECK_STR(m.provider_id, first);
	CHECK_INT(inbound_of("source=447700900123&destination=447700900000&message=SKILLS&"
			     "time=2016-07-10+15%3A17%3A01", &m), 1);
	CHECK(strcmp(m.provider_id, first) != 0);
	CHECK_INT(inbound_of("message=SKILLS", &m), -1);
	CHECK_INT(inbound_of("source=%zz", &m), -1);
	sms_in_free(&m);
}

TEST(test_config)
{
	CHECK_STR(adapter_config_error(&firetext_ops, CFG), "");
	CHECK_STR(adapter_config_error(&firetext_ops, "{\"api_key\":\"k\",\"from\":\"SIGNPOST\"}"),
		  "webhook_user: missing (a non-empty string is required)");
	CHECK_STR(adapter_config_error(&firetext_ops,
				       "{\"api_key\":\"k\",\"from\":\"SIGNPOST\",\"webhook_user\":"
				       "\"a:b\",\"webhook_password\":\"p\"}"),
		  "webhook_user: must not contain ':'");
	CHECK(str_startswith(adapter_config_error(&firetext_ops,
						  "{\"api_key\":\"k\",\"from\":\"AB\",\"webhook_user\":"
						  "\"a\",\"webhook_password\":\"p\"}"), "from: "));
	CHECK(str_startswith(adapter_config_error(&firetext_ops,
						  "{\"api_key\":\"k\",\"from\":\"SIGNPOST\",\"webhook_user\":"
						  "\"a\",\"webhook_password\":\"p\",\"apikey\":1}"),
			     "apikey: unknown key \"apikey\", did you mean \"api_key\"?"));
}

int main(void)
{
	RUN(test_build_send);
	RUN(test_results);
	RUN(test_verify);
	RUN(test_status);
	RUN(test_inbound);
	RUN(test_config);
	return check_summary("firetext");
}
