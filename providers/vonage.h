/*
 * vonage.h: the parts of the Vonage adapter other code reuses (the fake Vonage server of
 * the test suite signs its webhooks with vonage_signature).
 */
#ifndef SIGNPOST_VONAGE_H
#define SIGNPOST_VONAGE_H

#include "providers/provider.h"

#define VONAGE_DEFAULT_BASE_URL "https://rest.nexmo.com"
/* Vonage's per-message status for a barred number: the recipient opted out. */
#define VONAGE_STATUS_BARRED 7
/* DLR err-code for a recipient who opted out ("illegal number"). */
#define VONAGE_ERR_OPTED_OUT "9"

enum vonage_sig_method {
	VONAGE_SIG_MD5HASH,
	VONAGE_SIG_MD5,
	VONAGE_SIG_SHA1,
	VONAGE_SIG_SHA256,
	VONAGE_SIG_SHA512,
};

/* "md5hash", "md5", "sha1", "sha256", "sha512": the names the config uses. */
const char *vonage_sig_method_str(enum vonage_sig_method m);
bool vonage_sig_method_parse(const char *s, enum vonage_sig_method *out) WUR;
/*
 * Appends the lower-case hex "sig" of fields: every field but "sig", sorted by name, with
 * '&' and '=' in values replaced by '_', as "&k1=v1&k2=v2"; then md5(S + secret) for
 * md5hash, or HMAC(secret, S) for the others.
 */
void vonage_signature(enum vonage_sig_method m, const char *secret,
		      const struct kvlist *fields, struct sbuf *out);
/* Maps a DLR status word to our state; false for words Vonage does not define. */
bool vonage_status_state(const char *status, enum msg_state *out);

#endif
