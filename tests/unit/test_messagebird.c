/*
 * test_messagebird.c: the MessageBird adapter.
 *
 * The 44 cases of MessageBird's own signature reference file
 * (../shared/data/messagebird-webhook-signature-jwt-reference.json from the repository
 * root, or $SIGNPOST_MB_REFERENCE) must pass or fail as the file says.
 *
 * --verify reads one JSON object per line, {"key", "jwt", "url", "body", "now"}, and
 * prints 1 when the signature is accepted, else 0 (tests/diff/messagebird_oracle.sh).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "providers/adapters.h"
#include "providers/messagebird.h"
#include "tests/check.h"
#include "tests/unit/adapter_check.h"

#define REFERENCE "../shared/data/messagebird-webhook-signature-jwt-reference.json"
#define KEY "PlLrKaqvZNRR5zAjm42ZT6q1SQxgbbGd"
#define CFG "{\"type\":\"messagebird\",\"access_key\":\"test_gshuPaZoeEG6ovbc8M79w0QyM\"," \
	    "\"originator\":\"447700900000\",\"signing_key\":\"" KEY "\"}"
#define STATUS_URL "https://signpost.example/v1/providers/mb/status?ref=42"
#define NOW 1700000000

/* "2021-07-05T12:00:00+02:00" as unix seconds; -1 when malformed. */
static int64_t iso_seconds(const char *s)
{
	struct tm tm = { 0 };
	char sign = 0;
	int oh = 0, om = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d:%2d", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &sign, &oh, &om) < 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	int64_t t = (int64_t)timegm(&tm), off = (int64_t)(oh * 3600 + om * 60);
	return sign == '+' ? t - off : sign == '-' ? t + off : t;
}

static void reference_case(struct json_object *c, int *passed)
{
	const char *name = provider_json_str(c, "name"), *secret = provider_json_str(c, "secret");
	const char *payload = provider_json_str(c, "payload");
	struct json_object *valid;
	struct sbuf err;

	sbuf_init(&err);
	json_object_object_get_ex(c, "valid", &valid);
	int rc = messagebird_jwt_verify(secret ? secret : "", provider_json_str(c, "token"),
					provider_json_str(c, "url"), payload,
					payload ? strlen(payload) : 0,
					iso_seconds(provider_json_str(c, "timestamp")), NULL, &err);
	bool expected = json_object_get_boolean(valid);
	CHECK_INT(rc == 0, expected);
	if ((rc == 0) != expected)
		fprintf(stderr, "  case \"%s\": %s\n", name, sbuf_str(&err));
	else
		(*passed)++;
	sbuf_free(&err);
}

TEST(test_reference_file)
{
	const char *path = getenv("SIGNPOST_MB_REFERENCE");
	struct json_object *cases = json_object_from_file(path ? path : REFERENCE);
	int passed = 0;

	CHECK(cases && json_object_is_type(cases, json_type_array));
	if (!cases || !json_object_is_type(cases, json_type_array)) {
		fprintf(stderr, "cannot read %s\n", path ? path : REFERENCE);
		json_object_put(cases);
		return;
	}
	CHECK_INT(json_object_array_length(cases), 44);
	for (size_t i = 0; i < json_object_array_length(cases); i++)
		reference_case(json_object_array_get_idx(cases, i), &passed);
	CHECK_INT(passed, 44);
	json_object_put(cases);
}

/* What the last verify_hook reported besides its verdict. */
static struct verify_result last_verified;

static int verify_hook(void *m, const char *method, const char *url, const char *body,
		       const char *jwt, int64_t now)
{
	struct sbuf err;
	struct hook h;
	int rc;

	sbuf_init(&err);
	hook_init(&h, method, url, body, now);
	if (jwt)
		kvlist_add(&h.headers, "messagebird-signature-jwt", jwt);
	rc = provider_verify(&messagebird_ops, m, &h.in, &last_verified, &err);
	CHECK(rc == 0 ? err.len == 0 : err.len > 0);
	hook_free(&h);
	sbuf_free(&err);
	return rc;
}

/* A token with the claims given as JSON, signed HS256 with KEY. */
static void sign_claims(const char *claims, struct sbuf *out)
{
	static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
	unsigned char mac[CRYPTO_MAX_DIGEST];

	sbuf_reset(out);
	codec_base64url_encode(out, header, strlen(header));
	sbuf_addc(out, '.');
	codec_base64url_encode(out, claims, strlen(claims));
	crypto_hmac(CRYPTO_SHA256, KEY, strlen(KEY), out->data, out->len, mac);
	sbuf_addc(out, '.');
	codec_base64url_encode(out, mac, crypto_digest_len(CRYPTO_SHA256));
}

/*
 * The jti is the replay id, kept until the token would be refused anyway (exp plus the
 * skew); a token without exp or jti is refused, as it could be replayed for ever.
 */
TEST(test_replay_id)
{
	void *m = adapter_must(&messagebird_ops, CFG);
	const char *url = STATUS_URL "&id=abc&status=delivered";
	struct sbuf jwt, hash, claims;

	sbuf_init(&jwt);
	sbuf_init(&hash);
	sbuf_init(&claims);
	CHECK_INT(messagebird_jwt_sign(KEY, "HS256", url, NULL, 0, NOW, "6f1c2a9e-jti", &jwt), 0);
	CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW), 0);
	CHECK_STR(last_verified.replay_id, "6f1c2a9e-jti");
	CHECK_INT(last_verified.replay_until, NOW + 60 + MESSAGEBIRD_CLOCK_SKEW_S);

	crypto_sha256_hex(&hash, url, strlen(url));
	/* Without exp, with an exp that is not a time, without jti, with an empty jti; valid. */
	const char *middles[] = { "\"jti\":\"j\",", "\"exp\":\"soon\",\"jti\":\"j\",",
				  "\"exp\":1700000060,", "\"exp\":1700000060,\"jti\":\"\",",
				  "\"exp\":1700000060,\"jti\":\"j\"," };
	for (size_t i = 0; i < ARRAY_LEN(middles); i++) {
		sbuf_reset(&claims);
		sbuf_printf(&claims, "{\"iss\":\"MessageBird\",\"nbf\":%d,%s\"url_hash\":\"%s\"}",
			    NOW, middles[i], sbuf_str(&hash));
		sign_claims(sbuf_str(&claims), &jwt);
		CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW),
			  i + 1 == ARRAY_LEN(middles) ? 0 : -1);
	}
	CHECK_STR(last_verified.replay_id, "j");

	/* A jti longer than a replay id may be is refused, not cut short. */
	char jti[PROVIDER_REPLAY_ID_MAX + 1];
	memset(jti, 'j', sizeof(jti) - 1);
	jti[sizeof(jti) - 1] = '\0';
	sbuf_reset(&jwt);
	CHECK_INT(messagebird_jwt_sign(KEY, "HS256", url, NULL, 0, NOW, jti, &jwt), 0);
	CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW), -1);
	jti[sizeof(jti) - 2] = '\0';
	sbuf_reset(&jwt);
	CHECK_INT(messagebird_jwt_sign(KEY, "HS256", url, NULL, 0, NOW, jti, &jwt), 0);
	CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW), 0);
	CHECK_STR(last_verified.replay_id, jti);
	sbuf_free(&jwt);
	sbuf_free(&hash);
	sbuf_free(&claims);
	messagebird_ops.destroy(m);
}

TEST(test_sign_and_verify)
{
	void *m = adapter_must(&messagebird_ops, CFG);
	const char *url = STATUS_URL "&id=abc&status=delivered", *body = "{\"a\":1}";
	struct sbuf jwt;

	sbuf_init(&jwt);
	for (int i = 0; i < 3; i++) {
		const char *alg = (const char *[]){ "HS256", "HS384", "HS512" }[i];
		sbuf_reset(&jwt);
		CHECK_INT(messagebird_jwt_sign(KEY, alg, url, NULL, 0, NOW, "j1", &jwt), 0);
		CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW), 0);
		CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW + 64), 0);
		CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW + 65), -1);
		CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW - 5), 0);
		CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW - 6), -1);
		CHECK_INT(verify_hook(m, "GET", STATUS_URL, NULL, sbuf_str(&jwt), NOW), -1);
		CHECK_INT(verify_hook(m, "POST", url, body, sbuf_str(&jwt), NOW), -1);
	}
	sbuf_reset(&jwt);
	CHECK_INT(messagebird_jwt_sign(KEY, "HS256", url, body, strlen(body), NOW, "j2", &jwt), 0);
	CHECK_INT(verify_hook(m, "POST", url, body, sbuf_str(&jwt), NOW), 0);
	CHECK_INT(verify_hook(m, "POST", url, "{\"a\":2}", sbuf_str(&jwt), NOW), -1);
	CHECK_INT(verify_hook(m, "POST", url, "", sbuf_str(&jwt), NOW), -1);
	CHECK_INT(verify_hook(m, "POST", url, body, NULL, NOW), -1);
	CHECK_INT(verify_hook(m, "POST", url, body, "a.b", NOW), -1);
	CHECK_INT(verify_hook(m, "POST", url, body, "", NOW), -1);
	/* Another key's signature, a flipped character in the signature part. */
	sbuf_reset(&jwt);
	CHECK_INT(messagebird_jwt_sign("other", "HS256", url, NULL, 0, NOW, "j3", &jwt), 0);
	CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW), -1);
	sbuf_reset(&jwt);
	CHECK_INT(messagebird_jwt_sign(KEY, "HS256", url, NULL, 0, NOW, "j3", &jwt), 0);
	jwt.data[jwt.len - 2] = jwt.data[jwt.len - 2] == 'A' ? 'B' : 'A';
	CHECK_INT(verify_hook(m, "GET", url, NULL, sbuf_str(&jwt), NOW), -1);
	CHECK_INT(messagebird_jwt_sign(KEY, "none", url, NULL, 0, NOW, "j3", &jwt), -1);
	sbuf_free(&jwt);
	messagebird_ops.destroy(m);
}

TEST(test_build_send)
{
	void *m = adapter_must(&messagebird_ops, CFG);
	struct http_req req;
	struct sms_out msg = { .reference = "42", .to = "+447700900123", .text = "Hi \"you\" \xe2\x9c\x93",
			       .unicode = true, .status_url = STATUS_URL, .validity_s = 600 };

	http_req_init(&req);
	CHECK_INT(messagebird_ops.build_send(m, &msg, &req), 0);
	CHECK_STR(req.method, "POST");
	CHECK_STR(req.url, "https://rest.messagebird.com/messages");
	CHECK_STR(kvlist_get(&req.headers, "Authorization"),
		  "AccessKey test_gshuPaZoeEG6ovbc8M79w0QyM");
	CHECK_STR(kvlist_get(&req.headers, "Content-Type"), "application/json");
	CHECK_STR(sbuf_str(&req.body),
		  "{\"originator\":\"447700900000\",\"recipients\":[\"447700900123\"],"
		  "\"body\":\"Hi \\\"you\\\" \xe2\x9c\x93\",\"reference\":\"42\","
		  "\"reportUrl\":\"https://signpost.example/v1/providers/mb/status?ref=42\","
		  "\"datacoding\":\"unicode\",\"validity\":600}");
	http_req_free(&req);
	msg = (struct sms_out){ .to = "+447700900123", .from = "SIGNPOST", .text = "Hi" };
	CHECK_INT(messagebird_ops.build_send(m, &msg, &req), 0);
	CHECK_STR(sbuf_str(&req.body), "{\"originator\":\"SIGNPOST\",\"recipients\":"
				       "[\"447700900123\"],\"body\":\"Hi\",\"datacoding\":\"plain\"}");
	http_req_free(&req);
	msg.text = NULL;
	CHECK_INT(messagebird_ops.build_send(m, &msg, &req), -1);
	http_req_free(&req);
	messagebird_ops.destroy(m);
}

static void result(long status, const char *retry_after, const char *body,
		   struct send_result *out)
{
	adapter_result(&messagebird_ops, NULL, status, retry_after, body, out);
}

#define MB_ERROR(code, text, param) \
	"{\"errors\":[{\"code\":" #code ",\"description\":\"" text "\",\"parameter\":" param "}]}"

TEST(test_results)
{
	struct send_result r;

	result(201, NULL,
	       "{\"id\":\"e8077d803532c0b5937c639b60216938\",\"href\":\"https://rest.messagebird."
	       "com/messages/e8077d803532c0b5937c639b60216938\",\"direction\":\"mt\",\"recipients\":"
	       "{\"totalCount\":1,\"items\":[{\"recipient\":447700900123,\"status\":\"sent\"}]}}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK_INT(r.state, MSG_SUBMITTED);
	CHECK_STR(r.provider_id, "e8077d803532c0b5937c639b60216938");
	result(201, NULL, "{}", &r);
	CHECK_INT(r.outcome, SEND_OK);
	CHECK(r.reason[0] != '\0');
	result(422, NULL, MB_ERROR(9, "no (correct) recipients found", "\"recipients\""), &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
	CHECK_STR(r.error_code, "9");
	CHECK(strstr(r.reason, "recipients") != NULL);
	result(422, NULL, MB_ERROR(25, "Not enough balance", "null"), &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(401, NULL, MB_ERROR(2, "Request not allowed (incorrect access_key)", "\"access_key\""),
	       &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	result(429, "3", "", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK(r.throttled);
	CHECK_INT(r.retry_after_s, 3);
	result(503, NULL, "<html>", &r);
	CHECK_INT(r.outcome, SEND_TEMPFAIL);
	CHECK_STR(r.reason, "HTTP 503 from MessageBird");
	result(404, NULL, MB_ERROR(20, "message not found", "null"), &r);
	CHECK_INT(r.outcome, SEND_PERMFAIL);
}

static int status_of(const char *url, struct status_in *out)
{
	return adapter_status(&messagebird_ops, NULL, "GET", url, NULL, out);
}

TEST(test_status)
{
	static const struct {
		const char *status;
		enum msg_state state;
	} map[] = {
		{ "scheduled", MSG_SUBMITTED }, { "sent", MSG_ENROUTE },
		{ "buffered", MSG_ENROUTE },	{ "delivered", MSG_DELIVERED },
		{ "delivery_failed", MSG_UNDELIVERED }, { "expired", MSG_EXPIRED },
	};
	struct status_in st;

	for (size_t i = 0; i < ARRAY_LEN(map); i++) {
		char *url = xasprintf(STATUS_URL "&id=e807&reference=42&recipient=447700900123&"
					"status=%s&statusDatetime=2021-07-05T12%%3A00%%3A00%%2B00%%3A00",
				      map[i].status);
		CHECK_INT(status_of(url, &st), 1);
		CHECK_INT(st.state, map[i].state);
		CHECK_STR(st.provider_id, "e807");
		CHECK_STR(st.reference, "42");
		CHECK_STR(st.raw_status, map[i].status);
		free(url);
	}
	CHECK_INT(status_of(STATUS_URL "&id=e807&status=delivery_failed&statusErrorCode=104&"
			    "statusReason=unknown+subscriber", &st), 1);
	CHECK_STR(st.error_code, "104");
	CHECK_STR(st.error_text, "unknown subscriber");
	CHECK_INT(status_of(STATUS_URL "&id=e807&status=weird", &st), 0);
	CHECK_INT(status_of(STATUS_URL "&status=delivered", &st), -1);
}

static int inbound_of(const char *method, const char *url, const char *body,
		      struct sms_in *out)
{
	return adapter_inbound(&messagebird_ops, NULL, method, url, body, out);
}

TEST(test_inbound)
{
	struct sms_in m;

	sms_in_init(&m);
	CHECK_INT(inbound_of("GET", "https://s.example/in?id=abc&originator=447700900123&"
			     "recipient=447700900000&body=SKILLS&createdDatetime=x", NULL, &m), 1);
	CHECK_STR(m.provider_id, "abc");
	CHECK_STR(m.from, "+447700900123");
	CHECK_STR(m.to, "+447700900000");
	CHECK_STR(sbuf_str(&m.text), "SKILLS");
	CHECK_INT(inbound_of("POST", "https://s.example/in", "{\"id\":\"d\",\"originator\":"
			     "\"447700900123\",\"recipient\":\"447700900000\",\"message\":\"Hi\"}",
			     &m), 1);
	CHECK_STR(sbuf_str(&m.text), "Hi");
	CHECK_INT(inbound_of("POST", "https://s.example/in", "id=d&originator=447700900123", &m),
		  -1);
	CHECK_INT(inbound_of("POST", "https://s.example/in", "{\"id\":", &m), -1);
	sms_in_free(&m);
}

TEST(test_config)
{
	CHECK_STR(adapter_config_error(&messagebird_ops, CFG), "");
	CHECK_STR(adapter_config_error(&messagebird_ops, "{\"access_key\":\"a\",\"originator\":\"x\"}"),
		  "signing_key: missing (a non-empty string is required)");
	CHECK(str_startswith(adapter_config_error(&messagebird_ops,
						  "{\"access_key\":\"a\",\"originator\":\"has space\","
						  "\"signing_key\":\"k\"}"), "originator: "));
	CHECK(str_startswith(adapter_config_error(&messagebird_ops,
						  "{\"access_key\":\"a\",\"originator\":\"x\","
						  "\"signing_key\":\"k\",\"signingkey\":1}"),
			     "signingkey: unknown key"));
}

/* --verify: one case per line in, "1" or "0" per line out. */
static int verify_line(const char *line)
{
	struct json_object *o = json_tokener_parse(line);
	const char *key = provider_json_str(o, "key"), *jwt = provider_json_str(o, "jwt");
	const char *url = provider_json_str(o, "url"), *body = provider_json_str(o, "body");
	const char *now = provider_json_str(o, "now");
	struct sbuf err;
	int ok = -1;

	sbuf_init(&err);
	if (key && jwt && url && now)
		ok = messagebird_jwt_verify(key, jwt, url, body, body ? strlen(body) : 0,
					    atoll(now), NULL, &err) == 0;
	json_object_put(o);
	sbuf_free(&err);
	return ok;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--verify") == 0)
		return adapter_verify_cli(verify_line);
	RUN(test_reference_file);
	RUN(test_sign_and_verify);
	RUN(test_replay_id);
	RUN(test_build_send);
	RUN(test_results);
	RUN(test_status);
	RUN(test_inbound);
	RUN(test_config);
	return check_summary("messagebird");
}
