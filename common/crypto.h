/*
 * crypto.h: the hashes, MACs and random bytes signpost needs, over OpenSSL's EVP API.
 */
#ifndef SIGNPOST_CRYPTO_H
#define SIGNPOST_CRYPTO_H

#include "common/util.h"

enum crypto_alg {
	CRYPTO_MD5,
	CRYPTO_SHA1,
	CRYPTO_SHA256,
	CRYPTO_SHA384,
	CRYPTO_SHA512,
};

#define CRYPTO_MAX_DIGEST 64

/* Digest length in bytes. */
size_t crypto_digest_len(enum crypto_alg alg);
void crypto_hash(enum crypto_alg alg, const void *data, size_t n, unsigned char *out);
void crypto_hmac(enum crypto_alg alg, const void *key, size_t klen, const void *data, size_t n,
		 unsigned char *out);
#define CRYPTO_SHA256_HEX 64

/* Lower-case hex SHA-256 of data appended to out. */
void crypto_sha256_hex(struct sbuf *out, const void *data, size_t n);
/* The same of the string s, into out: how tokens are stored (keys, sessions, invitations). */
void crypto_token_hash(const char *s, char out[CRYPTO_SHA256_HEX + 1]);
/* A new token: n random bytes as lower-case hex, into out (2n + 1 bytes). */
void crypto_random_hex(char *out, size_t n);
/* Constant-time comparison of two byte strings (false when the lengths differ). */
bool crypto_equal(const void *a, size_t alen, const void *b, size_t blen);
/* Cryptographically strong random bytes; aborts when the system cannot supply them. */
void crypto_random(void *out, size_t n);

#endif
