#include "common/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"

static const EVP_MD *crypto_md(enum crypto_alg alg)
{
	switch (alg) {
	case CRYPTO_MD5: return EVP_md5();
	case CRYPTO_SHA1: return EVP_sha1();
	case CRYPTO_SHA256: return EVP_sha256();
	case CRYPTO_SHA384: return EVP_sha384();
	case CRYPTO_SHA512: return EVP_sha512();
	}
	abort();
}

size_t crypto_digest_len(enum crypto_alg alg)
{
	return (size_t)EVP_MD_get_size(crypto_md(alg));
}

void crypto_hash(enum crypto_alg alg, const void *data, size_t n, unsigned char *out)
{
	if (!EVP_Digest(data, n, out, NULL, crypto_md(alg), NULL))
		abort();
}

/*
 * One HMAC context per digest, made on first use and given a new key for each MAC: OpenSSL
 * 3's one-shot HMAC() looks the algorithm up among its providers every time, which cost
 * more than the MAC of a webhook itself.
 */
static EVP_MAC_CTX *crypto_hmac_ctx(enum crypto_alg alg)
{
	static EVP_MAC_CTX *ctx[CRYPTO_SHA512 + 1];

	if (!ctx[alg]) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM params[] = {
			OSSL_PARAM_construct_utf8_string(
				"digest", (char *)EVP_MD_get0_name(crypto_md(alg)), 0),
			OSSL_PARAM_construct_end(),
		};
		ctx[alg] = mac ? EVP_MAC_CTX_new(mac) : NULL;
		EVP_MAC_free(mac); /* the context keeps its own reference */
		if (!ctx[alg] || !EVP_MAC_CTX_set_params(ctx[alg], params))
			abort();
	}
	return ctx[alg];
}

void crypto_hmac(enum crypto_alg alg, const void *key, size_t klen, const void *data, size_t n,
		 unsigned char *out)
{
	static const unsigned char empty_key[1];
	EVP_MAC_CTX *ctx = crypto_hmac_ctx(alg);
	size_t len;

	/* a key of length 0 is still given: NULL would mean "the previous key" */
	if (!EVP_MAC_init(ctx, klen ? key : empty_key, klen, NULL) ||
	    !EVP_MAC_update(ctx, data, n) || !EVP_MAC_final(ctx, out, &len, EVP_MAX_MD_SIZE))
		abort();
}

void crypto_sha256_hex(struct sbuf *out, const void *data, size_t n)
{
	unsigned char d[CRYPTO_MAX_DIGEST];
	crypto_hash(CRYPTO_SHA256, data, n, d);
	codec_hex_encode(out, d, 32, false);
}

void crypto_token_hash(const char *s, char out[CRYPTO_SHA256_HEX + 1])
{
	struct sbuf b;

	sbuf_init(&b);
	crypto_sha256_hex(&b, s, strlen(s));
	memcpy(out, b.data, CRYPTO_SHA256_HEX + 1);
	sbuf_free(&b);
}

void crypto_random_hex(char *out, size_t n)
{
	unsigned char *raw = xmalloc(n);
	struct sbuf b;

	crypto_random(raw, n);
	sbuf_init(&b);
	codec_hex_encode(&b, raw, n, false);
	memcpy(out, b.data, 2 * n + 1);
	OPENSSL_cleanse(raw, n);
	OPENSSL_cleanse(b.data, b.len);
	sbuf_free(&b);
	free(raw);
}

bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && CRYPTO_memcmp(a, b, alen) == 0;
}

void crypto_random(void *out, size_t n)
{
	if (RAND_bytes(out, (int)n) != 1) {
		fputs("signpost: no source of random bytes\n", stderr);
		abort();
	}
}
