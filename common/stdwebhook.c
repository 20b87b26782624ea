/*
 * stdwebhook.c: Standard Webhooks signing and verification (see stdwebhook.h).
 */
#include "common/stdwebhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"

int stdwebhook_key(const char *secret, struct sbuf *key)
{
	size_t before = key->len;

	if (!secret)
		return -1;
	if (str_startswith(secret, STDWEBHOOK_PREFIX))
		secret += strlen(STDWEBHOOK_PREFIX);
	if (codec_base64_decode(key, secret, strlen(secret)) < 0 || key->len == before)
		return -1;
	return 0;
}

bool stdwebhook_secret_valid(const char *secret)
{
	struct sbuf key;
	bool ok;

	sbuf_init(&key);
	ok = secret && str_startswith(secret, STDWEBHOOK_PREFIX) &&
	     stdwebhook_key(secret, &key) == 0 && key.len >= STDWEBHOOK_MIN_KEY;
	if (key.data)
		memset(key.data, 0, key.len);
	sbuf_free(&key);
	return ok;
}

/* Appends the base64 signature (without "v1,") to out. */
static int stdwebhook_mac(const char *secret, const char *id, int64_t timestamp,
			  const char *body, size_t len, struct sbuf *out)
{
	struct sbuf key, data;
	unsigned char mac[CRYPTO_MAX_DIGEST];
	int rc = -1;

	sbuf_init(&key);
	sbuf_init(&data);
	if (stdwebhook_key(secret, &key) < 0)
		goto out;
	sbuf_printf(&data, "%s.%" PRId64 ".", id, timestamp);
	sbuf_add(&data, body, len);
	crypto_hmac(CRYPTO_SHA256, key.data, key.len, data.data, data.len, mac);
	codec_base64_encode(out, mac, crypto_digest_len(CRYPTO_SHA256));
	rc = 0;
out:
	if (key.data)
		memset(key.data, 0, key.len);
	sbuf_free(&key);
	sbuf_free(&data);
	return rc;
}

int stdwebhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
		    size_t len, struct sbuf *sig)
{
	size_t before = sig->len;

	sbuf_adds(sig, "v1,");
	if (stdwebhook_mac(secret, id, timestamp, body, len, sig) < 0) {
		sig->len = before;
		sig->data[before] = '\0';
		return -1;
	}
	return 0;
}

int stdwebhook_add_headers(struct kvlist *headers, const char *secret, const char *id,
			   int64_t timestamp, const char *body, size_t len)
{
	struct sbuf sig;
	char ts[24];
	int rc = -1;

	sbuf_init(&sig);
	if (stdwebhook_sign(secret, id, timestamp, body, len, &sig) < 0)
		goto out;
	snprintf(ts, sizeof(ts), "%" PRId64, timestamp);
	kvlist_add(headers, "webhook-id", id);
	kvlist_add(headers, "webhook-timestamp", ts);
	kvlist_add(headers, "webhook-signature", sbuf_str(&sig));
	rc = 0;
out:
	sbuf_free(&sig);
	return rc;
}

static int stdwebhook_check_time(const char *timestamp, int64_t now, int64_t *ts,
				 struct sbuf *err)
{
	if (!str_to_i64(timestamp, 0, INT64_MAX / 2, ts)) {
		sbuf_adds(err, "webhook-timestamp is not a unix time in seconds");
		return -1;
	}
	if (now - *ts > STDWEBHOOK_TOLERANCE_S) {
		sbuf_printf(err, "webhook-timestamp is %" PRId64 " s old (more than %d)",
			    now - *ts, STDWEBHOOK_TOLERANCE_S);
		return -1;
	}
	if (*ts - now > STDWEBHOOK_TOLERANCE_S) {
		sbuf_printf(err, "webhook-timestamp is %" PRId64 " s in the future (more than %d)",
			    *ts - now, STDWEBHOOK_TOLERANCE_S);
		return -1;
	}
	return 0;
}

/* True when one space-separated "v1,<sig>" entry of list equals expected. */
static bool stdwebhook_match(const char *list, const struct sbuf *expected)
{
	bool found = false;

	while (*list) {
		size_t n = strcspn(list, " ");
		if (n > 3 && memcmp(list, "v1,", 3) == 0) {
			/* Stop at a second comma, as reference verifiers do. */
			size_t sig_len = strcspn(list + 3, ", ");
			found |= crypto_equal(list + 3, sig_len, expected->data, expected->len);
		}
		list += n;
		while (*list == ' ')
			list++;
	}
	return found;
}

int stdwebhook_verify(const char *secret, const char *id, const char *timestamp,
		      const char *signatures, const char *body, size_t len, int64_t now,
		      struct sbuf *err)
{
	struct sbuf expected;
	int64_t ts;
	int rc = -1;

	sbuf_init(&expected);
	if (!id || !*id || !timestamp || !signatures) {
		sbuf_adds(err, "missing webhook-id, webhook-timestamp or webhook-signature header");
		goto out;
	}
	if (stdwebhook_check_time(timestamp, now, &ts, err) < 0)
		goto out;
	if (stdwebhook_mac(secret, id, ts, body, len, &expected) < 0) {
		sbuf_adds(err, "the configured secret is not valid whsec_ base64");
		goto out;
	}
	if (!stdwebhook_match(signatures, &expected)) {
		sbuf_adds(err, "no webhook-signature entry matches");
		goto out;
	}
	rc = 0;
out:
	sbuf_free(&expected);
	return rc;
}

int stdwebhook_verify_headers(const char *secret, const struct kvlist *headers,
			      const char *body, size_t len, int64_t now, struct sbuf *err)
{
	return stdwebhook_verify(secret, kvlist_get_ci(headers, "webhook-id"),
				 kvlist_get_ci(headers, "webhook-timestamp"),
				 kvlist_get_ci(headers, "webhook-signature"), body, len, now,
				 err);
}
