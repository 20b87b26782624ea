/*
 * twilio.h: the parts of the Twilio adapter other code reuses (the fake Twilio server of
 * the test suite signs its status callbacks with twilio_signature).
 */
#ifndef SIGNPOST_TWILIO_H
#define SIGNPOST_TWILIO_H

#include "providers/provider.h"

#define TWILIO_DEFAULT_BASE_URL "https://api.twilio.com"
#define TWILIO_API_VERSION "2010-04-01"
#define TWILIO_MAX_VALIDITY_S 36000
/* Twilio's error code for a recipient who texted STOP to the sender. */
#define TWILIO_CODE_OPTED_OUT 21610

/*
 * Appends X-Twilio-Signature: base64(HMAC-SHA1(token, url + name + value for every field,
 * sorted by name, then value)). params are the POST form fields, NULL or empty for a GET.
 * Identical name/value pairs count once; strings compare by UTF-16 code units, as Twilio's
 * reference validator does.
 */
void twilio_signature(const char *token, const char *url, const struct kvlist *params,
		      struct sbuf *out);
/* Maps a MessageStatus to our state; false for statuses we do not track. */
bool twilio_status_state(const char *status, enum msg_state *out);
/* True when s is prefix followed by 32 hexadecimal digits ("AC...", "MG...", "SM..."). */
bool twilio_sid_valid(const char *s, const char *prefix);

#endif
