/*
 * test_password.c: console passwords: scrypt checked against RFC 7914's test vector, the
 * stored form, the NCSC rules, the token helpers, and the KDF thread that runs hashes off
 * the event loop (answers come back on the loop; a full queue refuses; stopping answers
 * what was waiting).
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "common/password.h"
#include "infra/kdf.h"
#include "tests/check.h"

static char *encoded(unsigned ln, const char *salt, const char *hash_hex)
{
	struct sbuf out, raw;

	sbuf_init(&out);
	sbuf_init(&raw);
	for (size_t i = 0; hash_hex[i]; i += 2)
		sbuf_addc(&raw, (char)(codec_hex_value(hash_hex[i]) * 16 + codec_hex_value(hash_hex[i + 1])));
	sbuf_printf(&out, "$scrypt$ln=%u,r=8,p=1$", ln);
	codec_base64_encode(&out, salt, strlen(salt));
	sbuf_addc(&out, '$');
	codec_base64_encode(&out, raw.data, raw.len);
	sbuf_free(&raw);
	return sbuf_detach(&out);
}

TEST(rfc7914_vector)
{
	/* RFC 7914 section 12: scrypt("pleaseletmein", "SodiumChloride", N=16384, r=8, p=1). */
	char *e = encoded(14, "SodiumChloride",
			  "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
			  "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
	CHECK(password_verify("pleaseletmein", e));
	CHECK(!password_verify("pleaseletmeIn", e));
	CHECK(!password_verify("", e));
	free(e);
}

TEST(hash_round_trip)
{
	struct sbuf a, b;

	sbuf_init(&a);
	sbuf_init(&b);
	password_hash("kettle river orange", &a);
	password_hash("kettle river orange", &b);
	CHECK(strncmp(a.data, "$scrypt$ln=15,r=8,p=1$", 22) == 0);
	CHECK(strcmp(a.data, b.data) != 0); /* a fresh salt each time */
	CHECK(!strstr(a.data, "kettle"));
	CHECK(password_verify("kettle river orange", a.data));
	CHECK(password_verify("kettle river orange", b.data));
	CHECK(!password_verify("kettle river orang", a.data));
	sbuf_free(&a);
	sbuf_free(&b);
}

TEST(malformed_hashes_never_match)
{
	static const char *const bad[] = {
		NULL, "", "$scrypt$", "$scrypt$ln=15,r=8,p=1$", "$scrypt$ln=15,r=8,p=1$$",
		"$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ=$", "$scrypt$ln=99,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2g=",
		"$scrypt$ln=15,r=0,p=1$c2FsdHNhbHQ=$aGFzaGhhc2g=", "$bcrypt$ln=15,r=8,p=1$x$y",
		"$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ=$aGFzaGhhc2g=$extra", "$scrypt$ln=15,r=8,p=1$!!$aGFzaGhhc2g=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!password_verify("anything at all", bad[i]));
}

TEST(rules)
{
	static const char common[] = "# a comment line\nqwertyuiop\npassword123\n";

	CHECK(password_problem("123456789", NULL) != NULL);
	CHECK(password_problem("1234567890", NULL) == NULL);
	/* characters, not bytes: ten two-byte letters are enough, nine are not */
	CHECK(password_problem("ŵŵŵŵŵŵŵŵŵŵ", NULL) == NULL);
	CHECK(password_problem("ŵŵŵŵŵŵŵŵŵ", NULL) != NULL);
	CHECK(password_problem("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6", NULL) != NULL);
	CHECK(password_problem("Password123", common) != NULL); /* any case */
	CHECK(password_problem("QWERTYUIOP", common) != NULL);
	CHECK(password_problem("password1234", common) == NULL);
	CHECK(password_problem("# a comment line", common) == NULL);
	char longest[PASSWORD_MAX_LEN + 2];
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	CHECK(password_problem(longest, NULL) != NULL);
	longest[PASSWORD_MAX_LEN] = '\0';
	CHECK(password_problem(longest, NULL) == NULL);
}

TEST(tokens)
{
	char a[CRYPTO_SHA256_HEX + 1], b[CRYPTO_SHA256_HEX + 1], h[CRYPTO_SHA256_HEX + 1];

	crypto_token_hash("abc", h); /* FIPS 180-2's example */
	CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_random_hex(a, 32);
	crypto_random_hex(b, 32);
	CHECK_INT(strlen(a), 64);
	CHECK(strspn(a, "0123456789abcdef") == 64);
	CHECK(strcmp(a, b) != 0);
}

/* ---- the KDF thread ---- */

struct answers {
	struct event_base *base;
	int done, matched, abandoned, hashed;
	char hash[200];
};

static void answered(enum kdf_status status, bool match, const char *hash, void *arg)
{
	struct answers *a = arg;

	if (status == KDF_ABANDONED) {
		a->abandoned++;
		return;
	}
	a->done++;
	a->matched += match;
	if (hash) {
		a->hashed++;
		snprintf(a->hash, sizeof(a->hash), "%s", hash);
	}
	event_base_loopbreak(a->base);
}

TEST(kdf_answers_on_the_loop)
{
	struct answers a = { .base = event_base_new() };
	struct kdf *k = kdf_new(a.base);

	CHECK(kdf_hash(k, "blue whale lantern", answered, &a) == 0);
	event_base_dispatch(a.base);
	CHECK_INT(a.hashed, 1);
	CHECK(password_verify("blue whale lantern", a.hash));
	CHECK(kdf_verify(k, "blue whale lantern", a.hash, answered, &a) == 0);
	event_base_dispatch(a.base);
	CHECK(kdf_verify(k, "wrong", a.hash, answered, &a) == 0);
	event_base_dispatch(a.base);
	CHECK(kdf_verify(k, "blue whale lantern", NULL, answered, &a) == 0); /* no such user */
	event_base_dispatch(a.base);
	CHECK_INT(a.done, 4);
	CHECK_INT(a.matched, 1);
	kdf_free(k);
	event_base_free(a.base);
}

TEST(kdf_queue_is_bounded_and_stopping_answers_it)
{
	struct answers a = { .base = event_base_new() };
	struct kdf *k = kdf_new(a.base);
	int accepted = 0, refused = 0;

	for (int i = 0; i < KDF_QUEUE_MAX + 8; i++) {
		if (kdf_verify(k, "some long password", NULL, answered, &a) == 0)
			accepted++;
		else
			refused++;
	}
	CHECK(refused >= 7);
	CHECK(accepted <= KDF_QUEUE_MAX + 1);
	kdf_free(k); /* the one under way finishes; the rest are answered as abandoned */
	CHECK_INT(a.done + a.abandoned, accepted);
	CHECK(a.abandoned >= KDF_QUEUE_MAX - 1);
	event_base_free(a.base);
}

int main(void)
{
	RUN(rfc7914_vector);
	RUN(hash_round_trip);
	RUN(malformed_hashes_never_match);
	RUN(rules);
	RUN(tokens);
	RUN(kdf_answers_on_the_loop);
	RUN(kdf_queue_is_bounded_and_stopping_answers_it);
	return check_summary("password");
}
