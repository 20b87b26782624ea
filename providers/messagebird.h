/*
 * messagebird.h: the parts of the MessageBird adapter other code reuses (the fake
 * MessageBird server of the test suite signs its webhooks with messagebird_jwt_sign).
 */
#ifndef SIGNPOST_MESSAGEBIRD_H
#define SIGNPOST_MESSAGEBIRD_H

#include "providers/provider.h"

#define MESSAGEBIRD_DEFAULT_BASE_URL "https://rest.messagebird.com"
#define MESSAGEBIRD_SIGNATURE_HEADER "MessageBird-Signature-JWT"
/* Clock skew allowed on nbf and exp, in seconds, as MessageBird's own validators allow. */
#define MESSAGEBIRD_CLOCK_SKEW_S 5

/*
 * Appends a MessageBird-Signature-JWT for a request to url with body[0..len): an
 * HS256/384/512 ("HS256", ...) JWT keyed by the bytes of key, with claims iss
 * "MessageBird", nbf = now, exp = now + 60, jti, url_hash and, when len > 0,
 * payload_hash. -1 for an unknown alg.
 */
int messagebird_jwt_sign(const char *key, const char *alg, const char *url, const char *body,
			 size_t len, int64_t now, const char *jti, struct sbuf *out) WUR;
/*
 * 0 when jwt is a valid signature of a request to url with body[0..len) at time now,
 * with out (when not NULL) holding its jti as the replay id, kept until exp plus the
 * clock skew; -1 with the reason in err otherwise. exp and jti are required, as a token
 * without them could be replayed for ever.
 */
int messagebird_jwt_verify(const char *key, const char *jwt, const char *url, const char *body,
			   size_t len, int64_t now, struct verify_result *out,
			   struct sbuf *err) WUR;
/* Maps a status report's status to our state; false for words MessageBird does not define. */
bool messagebird_status_state(const char *status, enum msg_state *out);

#endif
