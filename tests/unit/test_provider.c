/*
 * test_provider.c: message states, the registry, the contract every adapter in it keeps
 * (each built from its example configuration) and the helpers adapters share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "providers/provider.h"
#include "tests/check.h"

/* What the core does with a receipt: move only to a strictly higher rank. */
static enum msg_state apply(enum msg_state cur, enum msg_state next)
{
	return msg_state_rank(next) > msg_state_rank(cur) ? next : cur;
}

TEST(test_state_names)
{
	for (int i = 0; i < MSG__COUNT; i++) {
		enum msg_state back = MSG__COUNT;
		CHECK(msg_state_parse(msg_state_str((enum msg_state)i), &back));
		CHECK_INT(back, i);
	}
	enum msg_state s = MSG_QUEUED;
	CHECK(!msg_state_parse("Delivered", &s));
	CHECK(!msg_state_parse("", &s));
	CHECK(!msg_state_parse(NULL, &s));
	CHECK_STR(msg_state_str(MSG_ENROUTE), "enroute");
	CHECK_STR(msg_state_str(MSG_CANCELLED), "cancelled");
	CHECK_STR(msg_state_str(MSG__COUNT), "invalid");
	CHECK_STR(send_outcome_str(SEND_OK), "ok");
	CHECK_STR(send_outcome_str(SEND_TEMPFAIL), "tempfail");
	CHECK_STR(send_outcome_str(SEND_PERMFAIL), "permfail");
}

TEST(test_state_ranks)
{
	CHECK_INT(msg_state_rank(MSG_QUEUED), 0);
	CHECK_INT(msg_state_rank(MSG_RETRY), 0);
	CHECK_INT(msg_state_rank(MSG_SENDING), 1);
	CHECK_INT(msg_state_rank(MSG_UNKNOWN), 2);
	CHECK_INT(msg_state_rank(MSG_SUBMITTED), 3);
	CHECK_INT(msg_state_rank(MSG_ENROUTE), 4);
	CHECK_INT(msg_state_rank(MSG_UNDELIVERED), 5);
	CHECK_INT(msg_state_rank(MSG_FAILED), 5);
	CHECK_INT(msg_state_rank(MSG_REJECTED), 5);
	CHECK_INT(msg_state_rank(MSG_EXPIRED), 5);
	CHECK_INT(msg_state_rank(MSG_CANCELLED), 5);
	CHECK_INT(msg_state_rank(MSG_SKIPPED), 5);
	CHECK_INT(msg_state_rank(MSG_DELIVERED), 6);
}

TEST(test_state_moves)
{
	/* Duplicates change nothing. */
	CHECK_INT(apply(MSG_ENROUTE, MSG_ENROUTE), MSG_ENROUTE);
	/* A late "sent" after "delivered" changes nothing. */
	CHECK_INT(apply(MSG_DELIVERED, MSG_ENROUTE), MSG_DELIVERED);
	CHECK_INT(apply(MSG_DELIVERED, MSG_SUBMITTED), MSG_DELIVERED);
	/* "delivered" still overrides an earlier "undelivered". */
	CHECK_INT(apply(MSG_UNDELIVERED, MSG_DELIVERED), MSG_DELIVERED);
	/* ...but one failure does not override another or a success. */
	CHECK_INT(apply(MSG_UNDELIVERED, MSG_FAILED), MSG_UNDELIVERED);
	CHECK_INT(apply(MSG_DELIVERED, MSG_UNDELIVERED), MSG_DELIVERED);
	/* A receipt for a message in limbo settles it. */
	CHECK_INT(apply(MSG_UNKNOWN, MSG_DELIVERED), MSG_DELIVERED);
	CHECK_INT(apply(MSG_SENDING, MSG_SUBMITTED), MSG_SUBMITTED);
	CHECK_INT(apply(MSG_SUBMITTED, MSG_UNKNOWN), MSG_SUBMITTED);
}

TEST(test_state_final)
{
	static const enum msg_state finals[] = { MSG_DELIVERED, MSG_UNDELIVERED, MSG_FAILED,
						 MSG_REJECTED,	MSG_EXPIRED,	 MSG_CANCELLED,
						 MSG_SKIPPED };
	static const enum msg_state open[] = { MSG_QUEUED,    MSG_RETRY,  MSG_SENDING,
					       MSG_UNKNOWN,   MSG_SUBMITTED, MSG_ENROUTE };

	for (size_t i = 0; i < ARRAY_LEN(finals); i++)
		CHECK(msg_state_final(finals[i]));
	for (size_t i = 0; i < ARRAY_LEN(open); i++)
		CHECK(!msg_state_final(open[i]));
}

TEST(test_http_req)
{
	struct http_req r;

	http_req_init(&r);
	http_req_basic_auth(&r, "Aladdin", "open sesame");
	CHECK_STR(kvlist_get(&r.headers, "Authorization"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	r.url = xstrdup("https://example.com/");
	sbuf_adds(&r.body, "x");
	http_req_free(&r);
	CHECK(r.url == NULL && r.headers.n == 0 && r.body.len == 0);
	http_req_free(&r);

	struct sms_in m;
	sms_in_init(&m);
	sbuf_adds(&m.text, "hello");
	sms_in_free(&m);
	sms_in_free(&m);
	sms_in_free(NULL);
	CHECK(m.text.data == NULL);
}

TEST(test_registry)
{
	CHECK(provider_find("twilio") != NULL);
	CHECK(provider_find("webhook") != NULL);
	CHECK(provider_find("sim") != NULL);
	CHECK(provider_find("Twilio") == NULL);
	CHECK(provider_find("") == NULL);
	CHECK(provider_find(NULL) == NULL);
	CHECK_STR(provider_find("sim")->type, "sim");
	CHECK(provider_find("vonage") != NULL);
	CHECK(provider_find("messagebird") != NULL);
	CHECK(provider_find("firetext") != NULL);
	/* New adapters join the end of the registry; the list is the registry's. */
	CHECK(str_startswith(provider_types(), "twilio, webhook, sim, vonage, messagebird, firetext"));
	struct sbuf types;
	const struct provider_ops *ops;
	size_t n = 0;
	sbuf_init(&types);
	for (; (ops = provider_nth(n)); n++) {
		sbuf_printf(&types, "%s%s", n ? ", " : "", ops->type);
		CHECK(provider_find(ops->type) == ops);
	}
	CHECK(n >= 6 && provider_nth(n) == NULL && provider_nth(SIZE_MAX) == NULL);
	CHECK_STR(provider_types(), sbuf_str(&types));
	sbuf_free(&types);
	CHECK(provider_common_key("name"));
	CHECK(provider_common_key("price_per_segment"));
	CHECK(provider_common_key("validity_seconds"));
	CHECK(!provider_common_key("from"));
}

/* ---- the contract, checked on every adapter of the registry ---- */

static bool same_request(const struct http_req *a, const struct http_req *b)
{
	bool same = strcmp(a->method, b->method) == 0 && strcmp(a->url, b->url) == 0 &&
		    a->headers.n == b->headers.n && a->body.len == b->body.len &&
		    memcmp(sbuf_str(&a->body), sbuf_str(&b->body), a->body.len) == 0;

	for (size_t i = 0; same && i < a->headers.n; i++)
		same = strcmp(a->headers.items[i].key, b->headers.items[i].key) == 0 &&
		       strcmp(a->headers.items[i].value, b->headers.items[i].value) == 0;
	return same;
}

/* The same text twice gives the same request: no clock or random source of its own. */
static void check_build_send(const struct provider_ops *ops, void *priv)
{
	struct sms_out msg = { .reference = "42", .to = "+447700900123", .text = "Hi \xe2\x9c\x93",
			       .unicode = true, .segments = 1,
			       .status_url = "https://signpost.example/v1/providers/p/status",
			       .validity_s = 3600, .now = 1700000000 };
	struct http_req one, two;

	http_req_init(&one);
	http_req_init(&two);
	CHECK_INT(provider_build_send(ops, priv, &msg, &one), 0);
	CHECK_INT(provider_build_send(ops, priv, &msg, &two), 0);
	CHECK(one.url && str_startswith(one.url, "http") && same_request(&one, &two));
	http_req_free(&one);
	http_req_free(&two);
	/* Also where a reference cannot be an id as it is. */
	msg.reference = "42 again";
	CHECK_INT(provider_build_send(ops, priv, &msg, &one), 0);
	CHECK_INT(provider_build_send(ops, priv, &msg, &two), 0);
	CHECK(same_request(&one, &two));
	http_req_free(&one);
	msg.to = NULL;
	CHECK_INT(provider_build_send(ops, priv, &msg, &one), -1);
	http_req_free(&one);
	http_req_free(&two);
}

/* Throttling and server errors are temporary whatever the body says. */
static void check_send_result(const struct provider_ops *ops, void *priv)
{
	struct send_result r;
	struct kvlist h;

	kvlist_init(&h);
	provider_parse_send_result(ops, priv, 429, &h, "", 0, &r);
	CHECK(r.outcome == SEND_TEMPFAIL && r.throttled && r.state == MSG_RETRY);
	provider_parse_send_result(ops, priv, 503, &h, "{}", 2, &r);
	CHECK(r.outcome == SEND_TEMPFAIL && r.state == MSG_RETRY);
	kvlist_free(&h);
}

/* Nothing is authentic or a receipt by default; the reply rides only with sync_reply. */
static void check_webhooks(const struct provider_ops *ops, void *priv)
{
	struct http_in in = { "POST", "https://signpost.example/v1/providers/p/inbound", NULL,
			      NULL, "", 0, 1700000000 };
	struct http_answer a = { 0, NULL, { NULL, 0, 0 } };
	struct status_in st;
	struct sbuf err;
	int rc;

	sbuf_init(&err);
	struct verify_result vr;
	CHECK(provider_verify(ops, priv, &in, &vr, &err) == -1 && err.len > 0);
	sbuf_reset(&err);
	rc = provider_parse_status(ops, priv, &in, &st, &err);
	CHECK(rc >= -1 && rc <= 1 && (rc < 0) == (err.len > 0));
	provider_inbound_answer(ops, priv, "Reply SKILLS", &a);
	CHECK(a.status >= 200 && a.status < 300 && a.content_type);
	CHECK((strstr(sbuf_str(&a.body), "Reply SKILLS") != NULL) == ops->sync_reply);
	sbuf_free(&a.body);
	sbuf_free(&err);
}

static void check_adapter(const struct provider_ops *ops)
{
	struct provider_env env = { "https://signpost.example", "http://127.0.0.1:8080",
				    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" };
	struct json_object *cfg = json_tokener_parse(ops->example_config ? ops->example_config : "");
	struct sbuf err;
	void *priv = NULL;

	CHECK(ops->type && ops->type[0]);
	CHECK(ops->init && ops->destroy && ops->build_send && ops->parse_send_result &&
	      ops->parse_inbound && ops->inbound_answer);
	CHECK(cfg != NULL);
	CHECK_STR(provider_json_str(cfg, "type"), ops->type);
	sbuf_init(&err);
	if (!cfg || provider_init(ops, cfg, &env, &priv, &err) < 0) {
		CHECK(!"the example configuration is accepted");
		fprintf(stderr, "  %s: %s\n", ops->type, sbuf_str(&err));
		goto out;
	}
	check_build_send(ops, priv);
	check_send_result(ops, priv);
	check_webhooks(ops, priv);
	provider_destroy(ops, priv);
	provider_destroy(ops, NULL);
out:
	json_object_put(cfg);
	sbuf_free(&err);
}

TEST(test_adapters)
{
	const struct provider_ops *ops;

	for (size_t i = 0; (ops = provider_nth(i)); i++)
		check_adapter(ops);
}

/* provider_webhook_fields on a webhook; the fields joined as "k=v;k=v" into out. */
static int fields_of(const char *method, const char *ctype, const char *query,
		     const char *body, struct sbuf *out)
{
	struct kvlist f, q, h;
	struct sbuf err;
	int rc;

	kvlist_init(&f);
	kvlist_init(&q);
	kvlist_init(&h);
	sbuf_init(&err);
	sbuf_reset(out);
	if (query && codec_form_parse(&q, query, strlen(query)) < 0)
		abort();
	if (ctype)
		kvlist_add(&h, "content-type", ctype);
	struct http_in in = { method, "https://x.example/", &q, &h, body, body ? strlen(body) : 0, 0 };
	rc = provider_webhook_fields(&in, &f, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	for (size_t i = 0; i < f.n; i++)
		sbuf_printf(out, "%s%s=%s", i ? ";" : "", f.items[i].key, f.items[i].value);
	kvlist_free(&f);
	kvlist_free(&q);
	kvlist_free(&h);
	sbuf_free(&err);
	return rc;
}

TEST(test_webhook_fields)
{
	struct sbuf s;

	sbuf_init(&s);
	CHECK_INT(fields_of("GET", NULL, "a=1&b=x+y", NULL, &s), 0);
	CHECK_STR(sbuf_str(&s), "a=1;b=x y");
	CHECK_INT(fields_of("POST", "application/x-www-form-urlencoded", "q=1", "a=%26&b=", &s), 0);
	CHECK_STR(sbuf_str(&s), "a=&;b=");
	CHECK_INT(fields_of("POST", "application/json", NULL,
			    "{\"a\":\"x\",\"n\":7,\"t\":true,\"o\":{\"p\":1},\"l\":[1]}", &s), 0);
	CHECK_STR(sbuf_str(&s), "a=x;n=7;t=true");
	CHECK_INT(fields_of("POST", NULL, NULL, " {\"a\":\"1\"}", &s), 0);
	CHECK_STR(sbuf_str(&s), "a=1");
	CHECK_INT(fields_of("POST", NULL, "a=1", "", &s), 0);
	CHECK_STR(sbuf_str(&s), "a=1");
	CHECK_INT(fields_of("POST", "application/json", NULL, "[1]", &s), -1);
	CHECK_INT(fields_of("POST", NULL, NULL, "a=%z", &s), -1);
	sbuf_free(&s);
}

TEST(test_http_classify)
{
	static const struct {
		long status;
		enum send_outcome outcome;
		bool throttled;
	} cases[] = { { 400, SEND_PERMFAIL, false }, { 404, SEND_PERMFAIL, false },
		      { 401, SEND_TEMPFAIL, false }, { 403, SEND_TEMPFAIL, false },
		      { 408, SEND_TEMPFAIL, false }, { 429, SEND_TEMPFAIL, true },
		      { 500, SEND_TEMPFAIL, false }, { 503, SEND_TEMPFAIL, false },
		      { 302, SEND_TEMPFAIL, false } };
	struct kvlist h;

	kvlist_init(&h);
	kvlist_add(&h, "retry-after", "12");
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct send_result r;
		memset(&r, 0, sizeof(r));
		provider_http_classify(cases[i].status, &h, &r);
		CHECK_INT(r.outcome, cases[i].outcome);
		CHECK_INT(r.throttled, cases[i].throttled);
		CHECK_INT(r.state, cases[i].outcome == SEND_PERMFAIL ? MSG_REJECTED : MSG_RETRY);
		CHECK_INT(r.retry_after_s, cases[i].outcome == SEND_PERMFAIL ? 0 : 12);
	}
	kvlist_free(&h);
}

TEST(test_small_utilities)
{
	static const struct provider_state_name map[] = { { "a", MSG_SENDING },
							  { "b", MSG_DELIVERED } };
	enum msg_state st = MSG_QUEUED;
	char buf[16];
	char *u;

	CHECK(provider_state_lookup(map, 2, "b", &st) && st == MSG_DELIVERED);
	CHECK(!provider_state_lookup(map, 2, "c", &st) && st == MSG_DELIVERED);
	CHECK(!provider_state_lookup(map, 2, NULL, &st));
	provider_digits(buf, sizeof(buf), "+447700900123");
	CHECK_STR(buf, "447700900123");
	provider_digits(buf, sizeof(buf), "SIGNPOST");
	CHECK_STR(buf, "SIGNPOST");
	u = provider_base_url("http://h:1//", "https://d");
	CHECK_STR(u, "http://h:1");
	free(u);
	u = provider_base_url(NULL, "https://d");
	CHECK_STR(u, "https://d");
	free(u);
}

TEST(test_copy)
{
	char small[6];

	provider_copy(small, sizeof(small), "abcdefgh");
	CHECK_STR(small, "abcde");
	provider_copy(small, sizeof(small), NULL);
	CHECK_STR(small, "");
	CHECK(provider_copy_exact(small, sizeof(small), "abcde"));
	CHECK_STR(small, "abcde");
	CHECK(!provider_copy_exact(small, sizeof(small), "abcdef"));
	CHECK_STR(small, "");

	/* Copies stay valid UTF-8: they are stored in PostgreSQL, which refuses anything else. */
	provider_copy(small, sizeof(small), "abc\xe2\x9c\x93"); /* a 3-byte tick does not fit */
	CHECK_STR(small, "abc");
	provider_copy(small, sizeof(small), "a\xff" "b\xc3");
	CHECK_STR(small, "a?b?");
	CHECK(!provider_copy_exact(small, sizeof(small), "a\xff" "b"));
	CHECK_STR(small, "");
	memcpy(small, "ab\xc3\xa9\xc3", 6); /* as snprintf cuts a text short */
	provider_text_fix(small, sizeof(small));
	CHECK_STR(small, "ab\xc3\xa9?");

	char num[32];
	provider_e164(num, sizeof(num), "447700900123");
	CHECK_STR(num, "+447700900123");
	provider_e164(num, sizeof(num), "+447700900123");
	CHECK_STR(num, "+447700900123");
	provider_e164(num, sizeof(num), "60123");
	CHECK_STR(num, "60123");
	provider_e164(num, sizeof(num), "SIGNPOST");
	CHECK_STR(num, "SIGNPOST");
	provider_e164(num, sizeof(num), "");
	CHECK_STR(num, "");
}

TEST(test_sender)
{
	static const struct provider_sender_rule e164 = { "from", 1, PROVIDER_PLUS_E164,
							  PROVIDER_SPACES_INNER };
	static const struct provider_sender_rule any = { "from", 1, PROVIDER_PLUS_OPTIONAL,
							 PROVIDER_SPACES_ANY };
	static const struct provider_sender_rule plain = { "originator", 1,
							   PROVIDER_PLUS_OPTIONAL,
							   PROVIDER_SPACES_NONE };
	static const struct provider_sender_rule three = { "from", 3, PROVIDER_PLUS_IGNORED,
							   PROVIDER_SPACES_NONE };
	static const struct {
		const char *from;
		bool e164, any, plain, three;
	} cases[] = {
		{ "+447700900000", true, true, true, true },
		{ "447700900000", false, true, true, true },   /* a national number missing '+' */
		{ "60123", true, true, true, true },           /* a short code */
		{ "123456789", false, true, true, true },
		{ "12", true, true, true, false },
		{ "+123456", false, true, true, true },        /* E.164 has 7 digits or more */
		{ "+0447700900000", false, true, true, true },
		{ "+1234567890123456", false, false, false, false },
		{ "+", false, false, false, false },
		{ "SIGNPOST", true, true, true, true },
		{ "Signpost 1", true, true, false, false },
		{ " SIGNPOST", false, true, false, false },
		{ "SIGNPOST ", false, true, false, false },
		{ "SignpostKent1", false, false, false, false }, /* 13 characters */
		{ "+SIGNPOST", false, false, false, true },
		{ "++123", false, false, false, false },
		{ "AB", true, true, true, false },
		{ "SIGN-POST", false, false, false, false },
		{ "caf\xc3\xa9", false, false, false, false },
	};
	struct sbuf err;

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		CHECK_INT(provider_sender_valid(cases[i].from, &e164), cases[i].e164);
		CHECK_INT(provider_sender_valid(cases[i].from, &any), cases[i].any);
		CHECK_INT(provider_sender_valid(cases[i].from, &plain), cases[i].plain);
		CHECK_INT(provider_sender_valid(cases[i].from, &three), cases[i].three);
	}
	sbuf_init(&err);
	CHECK_INT(provider_sender_check("SIGNPOST", &e164, &err), 0);
	CHECK_STR(sbuf_str(&err), "");
	CHECK_INT(provider_sender_check("447700900000", &e164, &err), -1);
	CHECK_STR(sbuf_str(&err), "from: must be an E.164 number such as \"+447700900000\" or "
				  "an alphanumeric sender id of 1 to 11 letters, digits and spaces");
	sbuf_reset(&err);
	CHECK_INT(provider_sender_check("has space", &plain, &err), -1);
	CHECK_STR(sbuf_str(&err), "originator: must be a number such as \"447700900000\" or an "
				  "alphanumeric sender id of 1 to 11 letters and digits");
	sbuf_reset(&err);
	CHECK_INT(provider_sender_check("AB", &three, &err), -1);
	CHECK(strstr(sbuf_str(&err), " of 3 to 11 letters and digits") != NULL);
	sbuf_free(&err);
}

static int retry_after(const char *value)
{
	struct kvlist h;
	int r;

	kvlist_init(&h);
	kvlist_add(&h, "Content-Type", "application/json");
	if (value)
		kvlist_add(&h, "retry-after", value);
	r = provider_retry_after(&h);
	kvlist_free(&h);
	return r;
}

TEST(test_retry_after)
{
	CHECK_INT(retry_after(NULL), 0);
	CHECK_INT(retry_after("30"), 30);
	CHECK_INT(retry_after(" 7 "), 7);
	CHECK_INT(retry_after("0"), 0);
	CHECK_INT(retry_after(""), 0);
	CHECK_INT(retry_after("-5"), 0);
	CHECK_INT(retry_after("1.5"), 0);
	CHECK_INT(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), 0);
	CHECK_INT(retry_after("999999999999999999999999"), 86400);
	CHECK_INT(retry_after("100000"), 86400);
	CHECK_INT(provider_retry_after(NULL), 0);
}

static struct json_object *json(const char *s)
{
	struct json_object *o = json_tokener_parse(s);
	if (!o)
		abort();
	return o;
}

TEST(test_cfg_string)
{
	struct json_object *cfg = json("{\"a\": \"x\", \"b\": \"\", \"c\": 3, \"d\": null}");
	struct sbuf err;
	const char *v;

	sbuf_init(&err);
	CHECK_INT(provider_cfg_string(cfg, "a", true, &v, &err), 0);
	CHECK_STR(v, "x");
	CHECK_INT(provider_cfg_string(cfg, "zz", false, &v, &err), 0);
	CHECK(v == NULL);
	CHECK_INT(provider_cfg_string(cfg, "d", false, &v, &err), 0);
	CHECK(v == NULL);
	CHECK_INT(provider_cfg_string(cfg, "zz", true, &v, &err), -1);
	CHECK_STR(sbuf_str(&err), "zz: missing (a non-empty string is required)");
	sbuf_reset(&err);
	CHECK_INT(provider_cfg_string(cfg, "b", false, &v, &err), -1);
	CHECK_STR(sbuf_str(&err), "b: must be a non-empty string");
	sbuf_reset(&err);
	CHECK_INT(provider_cfg_string(cfg, "c", true, &v, &err), -1);
	CHECK_STR(sbuf_str(&err), "c: must be a non-empty string");
	sbuf_free(&err);
	json_object_put(cfg);
}

TEST(test_cfg_keys)
{
	static const char *const known[] = { "account_sid", "auth_token", "from" };
	struct json_object *good = json("{\"name\":\"t\",\"type\":\"x\",\"from\":\"a\","
					"\"timeout_ms\":5}");
	struct json_object *typo = json("{\"name\":\"t\",\"acount_sid\":\"a\"}");
	struct json_object *odd = json("{\"colour\":\"blue\"}");
	struct sbuf err;

	sbuf_init(&err);
	CHECK_INT(provider_cfg_keys(good, "x", known, ARRAY_LEN(known), &err), 0);
	CHECK_INT(provider_cfg_keys(typo, "x", known, ARRAY_LEN(known), &err), -1);
	CHECK_STR(sbuf_str(&err), "acount_sid: unknown key \"acount_sid\", did you mean "
		  "\"account_sid\"? (the keys are account_sid, auth_token and from; a x provider "
		  "also takes name, type, segments_per_second, max_in_flight, connect_timeout_ms, "
		  "timeout_ms, validity_seconds and price_per_segment)");
	sbuf_reset(&err);
	CHECK_INT(provider_cfg_keys(odd, "x", known, ARRAY_LEN(known), &err), -1);
	CHECK(str_startswith(sbuf_str(&err), "colour: unknown key \"colour\" (the keys are"));
	sbuf_free(&err);
	json_object_put(good);
	json_object_put(typo);
	json_object_put(odd);
}

static const char *cfg_url_error(const char *url)
{
	static char msg[200];
	struct json_object *cfg = json_object_new_object();
	struct sbuf err;
	const char *v;

	sbuf_init(&err);
	json_object_object_add(cfg, "url", json_object_new_string(url));
	if (provider_cfg_url(cfg, "url", true, &v, &err) == 0)
		sbuf_adds(&err, "ok");
	provider_copy(msg, sizeof(msg), sbuf_str(&err));
	sbuf_free(&err);
	json_object_put(cfg);
	return msg;
}

TEST(test_cfg_url)
{
	CHECK_STR(cfg_url_error("https://hub.example/messages"), "ok");
	CHECK_STR(cfg_url_error("http://127.0.0.1:8080"), "ok");
	CHECK_STR(cfg_url_error("ftp://hub.example/"),
		  "url: \"ftp://hub.example/\" must start with http:// or https://");
	CHECK_STR(cfg_url_error("https:///x"), "url: \"https:///x\" has no host");
	CHECK_STR(cfg_url_error("https://user:pw@hub.example/"),
		  "url: \"https://user:pw@hub.example/\" must not carry credentials "
		  "(user:password@)");
	CHECK_STR(cfg_url_error("https://hub.example/a b"),
		  "url: \"https://hub.example/a b\" must not contain spaces or control characters");
}

TEST(test_json_parse)
{
	static const char *const bad[] = { "", "[1]", "{\"a\":1} x", "{\"a\":", "null", "\"s\"" };
	struct json_object *o = provider_json_parse("{\"a\":\"x\",\"n\":5,\"f\":1.5} \n", 25);

	CHECK(o != NULL);
	CHECK_STR(provider_json_str(o, "a"), "x");
	CHECK_STR(provider_json_str(o, "n"), "5");
	CHECK(provider_json_str(o, "f") == NULL);
	CHECK(provider_json_str(o, "missing") == NULL);
	CHECK(provider_json_str(NULL, "a") == NULL);
	json_object_put(o);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		CHECK(provider_json_parse(bad[i], strlen(bad[i])) == NULL);
	CHECK(provider_json_parse(NULL, 3) == NULL);
	/* The length is honoured: the body need not be NUL-terminated. */
	o = provider_json_parse("{\"a\":1}garbage", 7);
	CHECK(o != NULL);
	json_object_put(o);
}

TEST(test_xml_escape)
{
	struct sbuf b;

	sbuf_init(&b);
	codec_xml_escape(&b, "a&b<c>d\"e'f\r\ng\th\x01i\x1fj");
	CHECK_STR(sbuf_str(&b), "a&amp;b&lt;c&gt;d&quot;e&apos;f&#13;\ng\thij");
	sbuf_free(&b);
}

int main(void)
{
	RUN(test_state_names);
	RUN(test_state_ranks);
	RUN(test_state_moves);
	RUN(test_state_final);
	RUN(test_http_req);
	RUN(test_registry);
	RUN(test_adapters);
	RUN(test_webhook_fields);
	RUN(test_http_classify);
	RUN(test_small_utilities);
	RUN(test_copy);
	RUN(test_sender);
	RUN(test_retry_after);
	RUN(test_cfg_string);
	RUN(test_cfg_keys);
	RUN(test_cfg_url);
	RUN(test_json_parse);
	RUN(test_xml_escape);
	return check_summary("provider");
}
