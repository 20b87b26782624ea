/*
 * firetext.h: the parts of the Firetext adapter other code reuses.
 */
#ifndef SIGNPOST_FIRETEXT_H
#define SIGNPOST_FIRETEXT_H

#include "providers/provider.h"

#define FIRETEXT_DEFAULT_BASE_URL "https://www.firetext.co.uk"

/* Maps a receipt's status ("0", "1", "2") to our state; false for anything else. */
bool firetext_status_state(const char *status, enum msg_state *out);
/* True for a receipt code that means the number will never take a text. */
bool firetext_code_permanent(const char *code);

#endif
