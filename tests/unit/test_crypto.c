/*
 * test_crypto.c: HMAC against RFC 2202 and RFC 4231 vectors (and Python's hmac for the
 * empty key), with keys changing from one call to the next as they do between providers.
 */
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "tests/check.h"

static const char *hmac_hex(enum crypto_alg alg, const char *key, size_t klen, const char *data)
{
	static struct sbuf hex;
	unsigned char mac[CRYPTO_MAX_DIGEST];

	crypto_hmac(alg, key, klen, data, strlen(data), mac);
	sbuf_reset(&hex);
	codec_hex_encode(&hex, mac, crypto_digest_len(alg), false);
	return sbuf_str(&hex);
}

TEST(hmac_vectors_with_changing_keys)
{
	char big_key[131];

	memset(big_key, 0xaa, sizeof(big_key));
	for (int round = 0; round < 2; round++) {
		CHECK_STR(hmac_hex(CRYPTO_SHA1, "Jefe", 4, "what do ya want for nothing?"),
			  "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
		CHECK_STR(hmac_hex(CRYPTO_SHA1, "", 0, "abc"),
			  "9b4a918f398d74d3e367970aba3cbe54e4d2b5d9");
		CHECK_STR(hmac_hex(CRYPTO_SHA256, "Jefe", 4, "what do ya want for nothing?"),
			  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
		CHECK_STR(hmac_hex(CRYPTO_SHA512, big_key, sizeof(big_key),
				   "Test Using Larger Than Block-Size Key - Hash Key First"),
			  "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
			  "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598");
	}
}

int main(void)
{
	RUN(hmac_vectors_with_changing_keys);
	return check_summary("crypto");
}
