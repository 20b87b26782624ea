#include "common/password.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"

/* N = 2^15, r = 8: 128 * r * N = 32 MiB per hash. */
#define PASSWORD_LN 15
#define PASSWORD_R 8
#define PASSWORD_P 1
#define PASSWORD_SALT_LEN 16
#define PASSWORD_HASH_LEN 32
#define PASSWORD_MAX_LN 20
#define PASSWORD_MAX_MEM ((uint64_t)1 << 31)

struct password_params {
	unsigned ln, r, p;
	unsigned char salt[64];
	size_t salt_len;
	unsigned char hash[64];
	size_t hash_len;
};

static void password_scrypt(const char *password, const struct password_params *pp,
			    unsigned char *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	uint64_t n = (uint64_t)1 << pp->ln;
	uint32_t r = pp->r, p = pp->p;
	uint64_t maxmem = PASSWORD_MAX_MEM;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password,
						  strlen(password)),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)pp->salt,
						  pp->salt_len),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
		OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
		OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
		OSSL_PARAM_construct_end(),
	};

	if (!ctx || EVP_KDF_derive(ctx, out, out_len, params) != 1) {
		fputs("signpost: scrypt is not available from OpenSSL\n", stderr);
		abort();
	}
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

/* One base64 field of an encoded hash, ended by '$' or the end of the string. */
static bool password_b64_field(const char **s, unsigned char *out, size_t cap, size_t *len)
{
	size_t n = strcspn(*s, "$");
	struct sbuf b;
	bool ok;

	sbuf_init(&b);
	ok = n > 0 && codec_base64_decode(&b, *s, n) == 0 && b.len >= 8 && b.len <= cap;
	if (ok) {
		memcpy(out, b.data, b.len);
		*len = b.len;
	}
	sbuf_free(&b);
	*s += n;
	return ok;
}

static bool password_parse(const char *encoded, struct password_params *pp)
{
	int used = 0;

	if (!encoded || sscanf(encoded, "$scrypt$ln=%u,r=%u,p=%u$%n", &pp->ln, &pp->r, &pp->p,
			       &used) != 3 || used == 0)
		return false;
	if (pp->ln < 10 || pp->ln > PASSWORD_MAX_LN || pp->r < 1 || pp->r > 32 || pp->p < 1 ||
	    pp->p > 16)
		return false;
	encoded += used;
	if (!password_b64_field(&encoded, pp->salt, sizeof(pp->salt), &pp->salt_len) ||
	    *encoded++ != '$')
		return false;
	return password_b64_field(&encoded, pp->hash, sizeof(pp->hash), &pp->hash_len) &&
	       !*encoded;
}

static void password_defaults(struct password_params *pp)
{
	memset(pp, 0, sizeof(*pp));
	pp->ln = PASSWORD_LN;
	pp->r = PASSWORD_R;
	pp->p = PASSWORD_P;
	pp->salt_len = PASSWORD_SALT_LEN;
	pp->hash_len = PASSWORD_HASH_LEN;
}

void password_hash(const char *password, struct sbuf *out)
{
	struct password_params pp;

	password_defaults(&pp);
	crypto_random(pp.salt, pp.salt_len);
	password_scrypt(password, &pp, pp.hash, pp.hash_len);
	sbuf_printf(out, "$scrypt$ln=%u,r=%u,p=%u$", pp.ln, pp.r, pp.p);
	codec_base64_encode(out, pp.salt, pp.salt_len);
	sbuf_addc(out, '$');
	codec_base64_encode(out, pp.hash, pp.hash_len);
	OPENSSL_cleanse(&pp, sizeof(pp));
}

bool password_verify(const char *password, const char *encoded)
{
	struct password_params pp;
	unsigned char got[64];
	bool known = password_parse(encoded, &pp);

	if (!known) { /* the same work as a real check, against nothing */
		password_defaults(&pp);
		memset(pp.salt, 0x5a, pp.salt_len);
	}
	password_scrypt(password, &pp, got, pp.hash_len);
	bool ok = known && crypto_equal(got, pp.hash_len, pp.hash, pp.hash_len);
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(&pp, sizeof(pp));
	return ok;
}

/* Whether the lower-cased password is a line of list (lines starting '#' are comments). */
static bool password_listed(const char *password, const char *list)
{
	size_t n = strlen(password);

	for (const char *line = list; line && *line; line = strchr(line, '\n'), line += !!line) {
		size_t len = strcspn(line, "\n");
		if (len != n || *line == '#')
			continue;
		size_t i = 0;
		while (i < n && line[i] == (password[i] >= 'A' && password[i] <= 'Z'
					    ? password[i] + 32 : password[i]))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

const char *password_problem(const char *password, const char *common)
{
	size_t chars = 0;

	for (const char *p = password; *p; p++)
		chars += ((unsigned char)*p & 0xc0) != 0x80; /* characters, not bytes */
	if (chars < PASSWORD_MIN_LEN)
		return "Password must be at least 10 characters long";
	if (strlen(password) > PASSWORD_MAX_LEN)
		return "Password must be at most 256 characters long";
	if (!codec_utf8_valid(password, strlen(password)))
		return "Password must be text (UTF-8)";
	if (common && password_listed(password, common))
		return "Password is one of the most common passwords; choose another, such as "
		       "three random words";
	return NULL;
}
