/*
 * password.h: console passwords. Hashed with scrypt (OpenSSL 3's EVP_KDF), a memory-hard
 * function: 32 MiB and about a tenth of a second per hash, so a stolen table is slow to
 * attack. Stored as "$scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>", so the cost can
 * rise later without invalidating older hashes.
 *
 * The rules are NCSC's: at least PASSWORD_MIN_LEN characters and not a common password;
 * no rules about which kinds of characters.
 *
 * These calls take real time: the daemon runs them on its KDF thread (infra/kdf.h).
 */
#ifndef SIGNPOST_PASSWORD_H
#define SIGNPOST_PASSWORD_H

#include "common/util.h"

#define PASSWORD_MIN_LEN 10
#define PASSWORD_MAX_LEN 256

/*
 * NULL when acceptable, else a message for the person choosing it. common is the list of
 * common passwords (data/common-passwords.txt: lower case, one a line), or NULL.
 */
const char *password_problem(const char *password, const char *common);
/* Appends the encoded hash of password, with a fresh random salt, to out. */
void password_hash(const char *password, struct sbuf *out);
/*
 * Whether password matches encoded. A NULL or malformed encoded still costs one hash, so
 * refusing an unknown account takes as long as refusing a wrong password.
 */
bool password_verify(const char *password, const char *encoded);

#endif
