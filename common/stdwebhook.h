/*
 * stdwebhook.h: the Standard Webhooks signature scheme (https://www.standardwebhooks.com).
 *
 * A message carries three headers:
 *   webhook-id: a unique message id, the same on every retry of one message
 *   webhook-timestamp: unix seconds when it was signed
 *   webhook-signature: "v1,<base64 HMAC-SHA256(key, id "." timestamp "." body)>", possibly
 *     several such entries separated by spaces (while a secret is being rotated)
 * The key is the base64-decoded text after the "whsec_" prefix of the secret.
 *
 * Pure functions: no I/O, no clock (callers pass the time). The project's webhook signing:
 * the core signs its partner webhooks and the built-in simulator's posts with it, and the
 * "webhook" and "sim" provider adapters speak it.
 */
#ifndef SIGNPOST_STDWEBHOOK_H
#define SIGNPOST_STDWEBHOOK_H

#include "common/util.h"

#define STDWEBHOOK_PREFIX "whsec_"
/* Largest accepted distance between a message's timestamp and now, either way. */
#define STDWEBHOOK_TOLERANCE_S 300
/* Keys shorter than this are refused as secrets. */
#define STDWEBHOOK_MIN_KEY 16

/* Appends the HMAC key of "whsec_<base64>" (prefix optional) to key; -1 when malformed. */
int stdwebhook_key(const char *secret, struct sbuf *key) WUR;
/* True when secret is "whsec_" + base64 of at least STDWEBHOOK_MIN_KEY bytes. */
bool stdwebhook_secret_valid(const char *secret);
/* Appends "v1,<base64 signature>" to sig; -1 when the secret is malformed. */
int stdwebhook_sign(const char *secret, const char *id, int64_t timestamp, const char *body,
		    size_t len, struct sbuf *sig) WUR;
/* Adds the webhook-id, webhook-timestamp and webhook-signature headers for body. */
int stdwebhook_add_headers(struct kvlist *headers, const char *secret, const char *id,
			   int64_t timestamp, const char *body, size_t len) WUR;
/*
 * 0 when timestamp (decimal text) is within STDWEBHOOK_TOLERANCE_S of now and one of
 * the "v1,..." entries of signatures matches; -1 with a reason in err otherwise.
 */
int stdwebhook_verify(const char *secret, const char *id, const char *timestamp,
		      const char *signatures, const char *body, size_t len, int64_t now,
		      struct sbuf *err) WUR;
/* stdwebhook_verify with the three values read from headers (names in any case). */
int stdwebhook_verify_headers(const char *secret, const struct kvlist *headers,
			      const char *body, size_t len, int64_t now, struct sbuf *err) WUR;

#endif
