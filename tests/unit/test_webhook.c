/*
 * test_webhook.c: Standard Webhooks signatures and the "webhook" and "sim" adapters.
 *
 * Two command-line modes drive the signature code for tests/diff/stdwebhook_oracle.sh:
 *   --sign    reads JSON lines {"secret","id","timestamp","body"}, prints the signature
 *   --verify  reads JSON lines {"secret","id","timestamp","signature","body","now"},
 *             prints 1 when accepted, 0 when refused
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/stdwebhook.h"
#include "providers/adapters.h"
#include "providers/provider.h"
#include "providers/webhook.h"
#include "tests/check.h"

#define VEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define VEC_ID "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define VEC_TS 1614265330
#define VEC_BODY "{\"test\": 2432232314}"
#define VEC_SIG "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
/* 24 bytes of zeros. */
#define SECRET "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int sw_verify(const char *id, const char *ts, const char *sigs, const char *body,
		     int64_t now)
{
	struct sbuf err;
	int rc;

	sbuf_init(&err);
	rc = stdwebhook_verify(VEC_SECRET, id, ts, sigs, body, strlen(body), now, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	sbuf_free(&err);
	return rc;
}

TEST(test_stdwebhook_vector)
{
	struct sbuf sig;

	sbuf_init(&sig);
	CHECK_INT(stdwebhook_sign(VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY, strlen(VEC_BODY), &sig), 0);
	CHECK_STR(sbuf_str(&sig), VEC_SIG);
	/* The prefix is optional for the key, as reference libraries allow. */
	sbuf_reset(&sig);
	CHECK_INT(stdwebhook_sign("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", VEC_ID, VEC_TS, VEC_BODY,
				  strlen(VEC_BODY), &sig), 0);
	CHECK_STR(sbuf_str(&sig), VEC_SIG);
	sbuf_reset(&sig);
	CHECK_INT(stdwebhook_sign("whsec_not base64!", VEC_ID, VEC_TS, "", 0, &sig), -1);
	CHECK_STR(sbuf_str(&sig), "");
	CHECK_INT(stdwebhook_sign("whsec_", VEC_ID, VEC_TS, "", 0, &sig), -1);
	sbuf_free(&sig);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, VEC_BODY, VEC_TS), 0);
}

TEST(test_stdwebhook_time)
{
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, VEC_BODY, VEC_TS + 300), 0);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, VEC_BODY, VEC_TS + 301), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, VEC_BODY, VEC_TS - 300), 0);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, VEC_BODY, VEC_TS - 301), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, VEC_BODY, 1764000000), -1);
	CHECK_INT(sw_verify(VEC_ID, "", VEC_SIG, VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "16142653x0", VEC_SIG, VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "-1614265330", VEC_SIG, VEC_BODY, VEC_TS), -1);
}

TEST(test_stdwebhook_tampered)
{
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, "{\"test\": 2432232315}", VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG, "{\"test\": 2432232314} ", VEC_TS), -1);
	CHECK_INT(sw_verify("msg_p5jXN8AQM9LWM0D4loKWxJeK", "1614265330", VEC_SIG, VEC_BODY,
			    VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265331", VEC_SIG, VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",
			    VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE",
			    VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
			    VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
			    VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "", VEC_BODY, VEC_TS), -1);
	CHECK_INT(sw_verify("", "1614265330", VEC_SIG, VEC_BODY, VEC_TS), -1);
}

TEST(test_stdwebhook_several)
{
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "v1,Zm9v " VEC_SIG, VEC_BODY, VEC_TS), 0);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", VEC_SIG " v1,Zm9v", VEC_BODY, VEC_TS), 0);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "v1a,Zm9v  " VEC_SIG "  v2,x", VEC_BODY, VEC_TS),
		  0);
	CHECK_INT(sw_verify(VEC_ID, "1614265330", "v1,Zm9v v1,YmFy", VEC_BODY, VEC_TS), -1);
}

TEST(test_stdwebhook_headers)
{
	struct kvlist h;
	struct sbuf err;

	kvlist_init(&h);
	sbuf_init(&err);
	CHECK_INT(stdwebhook_add_headers(&h, VEC_SECRET, VEC_ID, VEC_TS, VEC_BODY,
					 strlen(VEC_BODY)), 0);
	CHECK_STR(kvlist_get(&h, "webhook-id"), VEC_ID);
	CHECK_STR(kvlist_get(&h, "webhook-timestamp"), "1614265330");
	CHECK_STR(kvlist_get(&h, "webhook-signature"), VEC_SIG);
	CHECK_INT(stdwebhook_verify_headers(VEC_SECRET, &h, VEC_BODY, strlen(VEC_BODY), VEC_TS,
					    &err), 0);
	CHECK_INT(stdwebhook_verify_headers(SECRET, &h, VEC_BODY, strlen(VEC_BODY), VEC_TS, &err),
		  -1);
	kvlist_free(&h);
	CHECK_INT(stdwebhook_verify_headers(VEC_SECRET, &h, VEC_BODY, strlen(VEC_BODY), VEC_TS,
					    &err), -1);
	CHECK(stdwebhook_secret_valid(VEC_SECRET));
	CHECK(stdwebhook_secret_valid(SECRET));
	CHECK(!stdwebhook_secret_valid("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
	CHECK(!stdwebhook_secret_valid("whsec_c2hvcnQ="));
	CHECK(!stdwebhook_secret_valid("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!"));
	CHECK(!stdwebhook_secret_valid(NULL));
	sbuf_free(&err);
}

static void *adapter_new(const char *type, const char *cfg_text, struct sbuf *err)
{
	struct json_object *cfg = json_tokener_parse(cfg_text);
	struct provider_env env = { "https://signpost.example", "http://127.0.0.1:8080",
				    SECRET };
	void *priv = NULL;

	if (!cfg)
		abort();
	if (provider_find(type)->init(cfg, &env, &priv, err) < 0)
		priv = NULL;
	json_object_put(cfg);
	return priv;
}

static const char *config_error(const char *type, const char *cfg)
{
	static char msg[512];
	struct sbuf err;
	void *w;

	sbuf_init(&err);
	w = adapter_new(type, cfg, &err);
	provider_copy(msg, sizeof(msg), w ? "ok" : sbuf_str(&err));
	webhook_destroy(w);
	sbuf_free(&err);
	return msg;
}

#define HUB_CFG "{\"url\":\"https://hub.example/messages\",\"secret\":\"" SECRET "\"," \
		"\"from\":\"+447700900000\"}"

TEST(test_config)
{
	CHECK_STR(config_error("webhook", HUB_CFG), "ok");
	CHECK_STR(config_error("webhook", "{\"secret\":\"" SECRET "\",\"from\":\"+447700900000\"}"),
		  "url: missing (a non-empty string is required)");
	CHECK_STR(config_error("webhook", "{\"url\":\"https://hub.example/\",\"from\":\"x\"}"),
		  "secret: missing (a non-empty string is required)");
	CHECK_STR(config_error("webhook", "{\"url\":\"https://hub.example/\",\"secret\":\""
					  SECRET "\"}"),
		  "from: missing (a non-empty string is required)");
	CHECK_STR(config_error("webhook", "{\"url\":\"https://hub.example/\",\"from\":\"x\","
					  "\"secret\":\"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}"),
		  "secret: must be \"whsec_\" followed by the base64 of at least 16 random bytes");
	CHECK(str_startswith(config_error("webhook", "{\"url\":\"hub.example\",\"from\":\"x\","
						     "\"secret\":\"" SECRET "\"}"),
			     "url: \"hub.example\" must start with http:// or https://"));
	CHECK(str_startswith(config_error("webhook", "{\"ur\":\"https://hub.example/\"}"),
			     "ur: unknown key \"ur\", did you mean \"url\"? (the keys are "));
	CHECK_STR(config_error("sim", "{\"name\":\"sim\",\"type\":\"sim\"}"), "ok");
	CHECK(str_startswith(config_error("sim", "{\"secrets\":\"x\"}"),
			     "secrets: unknown key \"secrets\", did you mean \"secret\"? "
			     "(the keys are url, secret and from; a sim provider also takes"));
	CHECK(str_startswith(config_error("sim", "{\"secret\":\"whsec_\"}"), "secret: must be"));
}

static void send_msg(void *priv, const struct sms_out *msg, struct http_req *req)
{
	http_req_init(req);
	CHECK_INT(webhook_build_send(priv, msg, req), 0);
}

TEST(test_build_send)
{
	struct sbuf err;
	struct http_req req;
	struct sms_out msg = { .reference = "42", .to = "+447700900123",
			       .text = "Caf\xc3\xa9 \"quoted\" / \xe2\x9c\x93",
			       .status_url = "https://signpost.example/v1/providers/hub/status?ref=42",
			       .now = VEC_TS };
	void *w;

	sbuf_init(&err);
	w = adapter_new("webhook", HUB_CFG, &err);
	send_msg(w, &msg, &req);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, "https://hub.example/messages");
	CHECK_STR(kvlist_get(&req.headers, "Content-Type"), "application/json");
	CHECK_STR(kvlist_get(&req.headers, "webhook-id"), "msg_42");
	CHECK_STR(sbuf_str(&req.body),
		  "{\"to\":\"+447700900123\",\"from\":\"+447700900000\",\"text\":\"Caf\xc3\xa9 "
		  "\\\"quoted\\\" / \xe2\x9c\x93\",\"reference\":\"42\",\"status_url\":"
		  "\"https://signpost.example/v1/providers/hub/status?ref=42\"}");
	/* Signed at the time the core gives, not at the adapter's own clock. */
	CHECK_STR(kvlist_get(&req.headers, "webhook-timestamp"), "1614265330");
	CHECK_INT(stdwebhook_verify_headers(SECRET, &req.headers, req.body.data, req.body.len,
					    VEC_TS, &err), 0);
	http_req_free(&req);

	msg = (struct sms_out){ .reference = "bad\r\nid", .to = "+447700900123",
				.from = "SIGNPOST", .text = "x" };
	send_msg(w, &msg, &req);
	CHECK_STR(sbuf_str(&req.body), "{\"to\":\"+447700900123\",\"from\":\"SIGNPOST\","
				       "\"text\":\"x\",\"reference\":\"bad\\r\\nid\"}");
	CHECK(str_startswith(kvlist_get(&req.headers, "webhook-id"), "msg_"));
	CHECK_INT(strlen(kvlist_get(&req.headers, "webhook-id")), 4 + 24);
	/* Derived from the reference, so the same on every attempt. */
	struct http_req again;
	send_msg(w, &msg, &again);
	CHECK_STR(kvlist_get(&again.headers, "webhook-id"), kvlist_get(&req.headers, "webhook-id"));
	CHECK_STR(kvlist_get(&again.headers, "webhook-signature"),
		  kvlist_get(&req.headers, "webhook-signature"));
	http_req_free(&again);
	http_req_free(&req);
	webhook_destroy(w);
	sbuf_free(&err);
}

TEST(test_sim_defaults)
{
	struct sbuf err;
	struct http_req req;
	struct sms_out msg = { .reference = "7", .to = "+447700900123", .text = "hi",
			       .now = VEC_TS };
	void *s;

	sbuf_init(&err);
	s = adapter_new("sim", "{}", &err);
	send_msg(s, &msg, &req);
	CHECK_STR(req.url, "http://127.0.0.1:8080/sim/messages");
	CHECK_STR(sbuf_str(&req.body),
		  "{\"to\":\"+447700900123\",\"from\":\"+447700900000\",\"text\":\"hi\","
		  "\"reference\":\"7\"}");
	CHECK_INT(stdwebhook_verify_headers(SECRET, &req.headers, req.body.data, req.body.len,
					    VEC_TS, &err), 0);
	http_req_free(&req);
	webhook_destroy(s);
	s = adapter_new("sim", "{\"url\":\"http://127.0.0.1:9/x\",\"from\":\"+447700900001\","
			       "\"secret\":\"" VEC_SECRET "\"}", &err);
	send_msg(s, &msg, &req);
	CHECK_STR(req.url, "http://127.0.0.1:9/x");
	CHECK(strstr(sbuf_str(&req.body), "\"from\":\"+447700900001\"") != NULL);
	CHECK_INT(stdwebhook_verify_headers(VEC_SECRET, &req.headers, req.body.data, req.body.len,
					    VEC_TS, &err), 0);
	http_req_free(&req);
	webhook_destroy(s);

	/* Without the daemon's values the keys become required. */
	struct json_object *cfg = json_object_new_object();
	struct provider_env env = { NULL, NULL, NULL };
	s = NULL;
	sbuf_reset(&err);
	CHECK_INT(sim_ops.init(cfg, &env, &s, &err), -1);
	CHECK_STR(sbuf_str(&err), "url: missing (a non-empty string is required)");
	json_object_put(cfg);
	sbuf_free(&err);
}

static void result(long status, const char *retry_after, const char *body,
		   struct send_result *out)
{
	struct kvlist h;

	kvlist_init(&h);
	if (retry_after)
		kvlist_add(&h, "Retry-After", retry_after);
	memset(out, 0x5a, sizeof(*out));
	webhook_parse_send_result(NULL, status, &h, body, strlen(body), out);
	kvlist_free(&h);
}

TEST(test_send_result)
{
	struct send_result r;

	result(200, NULL, "{\"id\": \"hub-1\", \"segments\": 2}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_INT(r.state, MSG_SUBMITTED);
	CHECK_STR(r.provider_id, "hub-1");
	CHECK_INT(r.segments, 2);
	CHECK_STR(r.reason, "");
	result(202, NULL, "{\"id\": 12345}", &r);
	CHECK_STR(r.provider_id, "12345");
	result(201, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_STR(r.provider_id, "");
	CHECK(r.reason[0] != '\0');

	result(429, "12", "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK(r.throttled);
	CHECK_INT(r.retry_after_s, 12);
	result(503, NULL, "{\"error\":{\"code\":\"maintenance\"}}", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK(!r.throttled);
	CHECK_STR(r.reason, "maintenance (HTTP 503)");
	result(401, NULL, "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK_STR(r.reason, "HTTP 401 from the provider");

	result(400, NULL, "{\"error\":{\"code\":\"opted_out\",\"description\":\"recipient sent "
			  "STOP\"}}", &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK_INT(r.state, MSG_REJECTED);
	CHECK(r.opted_out);
	CHECK_STR(r.error_code, "opted_out");
	CHECK_STR(r.reason, "opted_out: recipient sent STOP (HTTP 400)");
	CHECK_INT(r.retry_after_s, 0);
	result(422, "30", "{\"error\":{\"code\":\"invalid_to\",\"description\":\"bad number\"}}",
	       &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK(!r.opted_out);
	CHECK_INT(r.retry_after_s, 0);
	/* signpost's own error shape, as the built-in simulator answers. */
	result(400, NULL, "{\"error\":{\"code\":\"opted_out\",\"message\":\"unsubscribed\","
			  "\"field\":\"to\"}}", &r);
	CHECK(r.opted_out);
	CHECK_STR(r.reason, "opted_out: unsubscribed (HTTP 400)");
	result(404, NULL, "<html>", &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK_STR(r.error_code, "");
}

/* Runs parse_inbound or parse_status on body. */
static int event(bool status, const char *body, struct sms_in *m, struct status_in *st)
{
	struct sbuf err;
	int rc;

	sbuf_init(&err);
	struct http_in in = { "POST", "https://x.example/e", NULL, NULL, body, strlen(body), 0 };
	rc = status ? webhook_parse_status(NULL, &in, st, &err)
		    : webhook_parse_inbound(NULL, &in, m, &err);
	CHECK(rc < 0 ? err.len > 0 : err.len == 0);
	sbuf_free(&err);
	return rc;
}

TEST(test_inbound)
{
	struct sms_in m;

	sms_in_init(&m);
	CHECK_INT(event(false, "{\"type\":\"sms.received\",\"data\":{\"message_id\":\"in-1\","
			       "\"from\":\"447700900123\",\"to\":\"+447700900000\",\"text\":"
			       "\"SKILLS \\u2713\",\"received_at\":\"2025-01-31T09:30:00Z\"}}",
			&m, NULL), 1);
	CHECK_STR(m.provider_id, "in-1");
	CHECK_STR(m.from, "+447700900123");
	CHECK_STR(m.to, "+447700900000");
	CHECK_STR(sbuf_str(&m.text), "SKILLS \xe2\x9c\x93");
	CHECK_INT(event(false, "{\"type\":\"sms.received\",\"data\":{\"message_id\":\"in-2\","
			       "\"from\":\"+447700900123\",\"to\":\"+447700900000\",\"text\":\"\"}}",
			&m, NULL), 1);
	CHECK_STR(sbuf_str(&m.text), "");
	CHECK_INT(event(false, "{\"type\":\"ping\",\"data\":{}}", &m, NULL), 0);
	CHECK_INT(event(false, "{\"type\":\"sms.received\",\"data\":{\"message_id\":\"in-2\","
			       "\"to\":\"+447700900000\",\"text\":\"x\"}}", &m, NULL), -1);
	CHECK_INT(event(false, "{\"type\":\"sms.received\",\"data\":{\"message_id\":\"in-2\","
			       "\"from\":\"+447700900123\",\"to\":\"+447700900000\",\"text\":5}}",
			&m, NULL), -1);
	CHECK_INT(event(false, "{\"type\":\"sms.received\",\"data\":{\"message_id\":\"in-2\","
			       "\"from\":\"+447700900123\",\"to\":\"+447700900000\",\"text\":"
			       "\"a\\u0000b\"}}", &m, NULL), -1);
	CHECK_INT(event(false, "{\"type\":\"sms.received\",\"data\":[]}", &m, NULL), -1);
	CHECK_INT(event(false, "{\"data\":{}}", &m, NULL), -1);
	CHECK_INT(event(false, "not json", &m, NULL), -1);
	sms_in_free(&m);

	struct http_answer a = { 0, NULL, { NULL, 0, 0 } };
	/* No reply rides in the answer: the core sends it as a text. */
	CHECK(!webhook_ops.sync_reply && !sim_ops.sync_reply);
	provider_inbound_answer(&webhook_ops, NULL, "reply", &a);
	CHECK_INT(a.status, 200);
	CHECK_STR(a.content_type, "application/json");
	CHECK_STR(sbuf_str(&a.body), "{}");
	sbuf_free(&a.body);
}

TEST(test_status)
{
	static const struct {
		const char *type;
		enum msg_state state;
	} types[] = {
		{ "sms.sent", MSG_ENROUTE },	     { "sms.delivered", MSG_DELIVERED },
		{ "sms.undelivered", MSG_UNDELIVERED }, { "sms.failed", MSG_FAILED },
		{ "sms.expired", MSG_EXPIRED },	     { "sms.rejected", MSG_REJECTED },
		{ "sms.cancelled", MSG_CANCELLED },
	};
	struct status_in st;
	char body[300];

	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		snprintf(body, sizeof(body), "{\"type\":\"%s\",\"data\":{\"message_id\":\"hub-1\","
					     "\"reference\":\"42\",\"to\":\"+447700900123\"}}",
			 types[i].type);
		CHECK_INT(event(true, body, NULL, &st), 1);
		CHECK_INT(st.state, types[i].state);
		CHECK_STR(st.raw_status, types[i].type + 4);
		CHECK_STR(st.provider_id, "hub-1");
		CHECK_STR(st.reference, "42");
	}
	CHECK_INT(event(true, "{\"type\":\"sms.failed\",\"data\":{\"message_id\":\"hub-1\","
			      "\"to\":\"+447700900123\",\"status\":\"undelivered\",\"error\":"
			      "{\"code\":\"opted_out\",\"description\":\"STOP\"}}}", NULL, &st), 1);
	CHECK_INT(st.state, MSG_UNDELIVERED);
	CHECK_STR(st.raw_status, "undelivered");
	CHECK_STR(st.reference, "");
	CHECK_STR(st.error_code, "opted_out");
	CHECK_STR(st.error_text, "STOP");
	CHECK(st.opted_out);
	CHECK_INT(event(true, "{\"type\":\"sms.delivered\",\"data\":{\"reference\":\"43\"}}",
			NULL, &st), 1);
	CHECK_STR(st.reference, "43");
	CHECK_STR(st.provider_id, "");
	CHECK_INT(event(true, "{\"type\":\"sms.delivered\",\"data\":{\"to\":\"+447700900123\"}}",
			NULL, &st), -1);
	CHECK_INT(event(true, "{\"type\":\"sms.delivered\",\"data\":{\"reference\":"
			      "\"123456789012345678901234567890123\"}}", NULL, &st), -1);
	CHECK_INT(event(true, "{\"type\":\"sms.received\",\"data\":{}}", NULL, &st), 0);
	CHECK_INT(event(true, "{\"type\":\"sms.sent\",\"data\":{\"message_id\":\"m\","
			      "\"status\":\"teleported\"}}", NULL, &st), 0);
	CHECK_INT(event(true, "[]", NULL, &st), -1);
}

TEST(test_verify)
{
	struct sbuf err;
	struct kvlist h;
	const char *body = "{\"type\":\"sms.delivered\",\"data\":{\"reference\":\"1\"}}";
	void *w;

	sbuf_init(&err);
	kvlist_init(&h);
	w = adapter_new("webhook", HUB_CFG, &err);
	CHECK_INT(stdwebhook_add_headers(&h, SECRET, "evt_1", 1700000000, body, strlen(body)), 0);
	struct http_in in = { "POST", "https://x.example/e", NULL, &h, body, strlen(body),
			      1700000100 };
	struct verify_result vr = { "", 0 };
	CHECK_INT(webhook_verify(w, &in, &vr, &err), 0);
	/* webhook-id is the replay id, kept while the timestamp would be accepted */
	CHECK_STR(vr.replay_id, "evt_1");
	CHECK_INT(vr.replay_until, 1700000000 + STDWEBHOOK_TOLERANCE_S);
	in.now = 1700000000 + 301;
	CHECK_INT(webhook_verify(w, &in, &vr, &err), -1);
	in.now = 1700000000;
	in.body_len--;
	CHECK_INT(webhook_verify(w, &in, &vr, &err), -1);
	in.headers = NULL;
	CHECK_INT(webhook_verify(w, &in, &vr, &err), -1);
	kvlist_free(&h);
	webhook_destroy(w);
	sbuf_free(&err);
}

/* --sign and --verify, one JSON object per line. */
static void cli_line(bool sign, struct json_object *o)
{
	struct json_object *b = NULL;
	struct sbuf out, err;
	int64_t ts = 0;
	const char *ts_text = provider_json_str(o, "timestamp");

	sbuf_init(&out);
	sbuf_init(&err);
	json_object_object_get_ex(o, "body", &b);
	const char *body = json_object_get_string(b);
	size_t len = (size_t)json_object_get_string_len(b);
	if (sign) {
		if (!str_to_i64(ts_text, 0, INT64_MAX, &ts) ||
		    stdwebhook_sign(provider_json_str(o, "secret"), provider_json_str(o, "id"), ts,
				    body, len, &out) < 0)
			sbuf_adds(&out, "error");
		printf("%s\n", sbuf_str(&out));
	} else {
		struct json_object *now = NULL;
		json_object_object_get_ex(o, "now", &now);
		printf("%d\n", stdwebhook_verify(provider_json_str(o, "secret"),
						 provider_json_str(o, "id"), ts_text,
						 provider_json_str(o, "signature"), body, len,
						 json_object_get_int64(now), &err) == 0);
	}
	sbuf_free(&out);
	sbuf_free(&err);
}

static int cli(bool sign)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, stdin) > 0) {
		struct json_object *o = json_tokener_parse(line);
		if (!o) {
			fprintf(stderr, "not JSON: %s", line);
			free(line);
			return 2;
		}
		cli_line(sign, o);
		json_object_put(o);
	}
	free(line);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--sign") == 0)
		return cli(true);
	if (argc > 1 && strcmp(argv[1], "--verify") == 0)
		return cli(false);
	RUN(test_stdwebhook_vector);
	RUN(test_stdwebhook_time);
	RUN(test_stdwebhook_tampered);
	RUN(test_stdwebhook_several);
	RUN(test_stdwebhook_headers);
	RUN(test_config);
	RUN(test_build_send);
	RUN(test_sim_defaults);
	RUN(test_send_result);
	RUN(test_inbound);
	RUN(test_status);
	RUN(test_verify);
	return check_summary("webhook");
}
