/*
 * kdf.h: password hashing off the event loop.
 *
 * A password hash costs about a tenth of a second of CPU and 32 MiB on purpose
 * (common/password.h); on the loop it would stall every text and webhook for that long.
 * So hashes run on one thread of their own, the daemon's only other thread, and the
 * answer comes back to the loop through a pipe. The thread touches nothing but its job.
 * The queue is bounded: a flood of sign-ins is refused (503) rather than queued for
 * minutes.
 */
#ifndef SIGNPOST_KDF_H
#define SIGNPOST_KDF_H

#include <event2/event.h>

#include "common/util.h"

#define KDF_QUEUE_MAX 32

struct kdf;

enum kdf_status {
	KDF_DONE,      /* the hash ran: see match / hash */
	KDF_ABANDONED, /* the daemon is stopping: nothing ran */
};

/*
 * Runs on the loop. For a verification, match says whether the password was right; for
 * a hash, hash is the encoded hash (valid during the call).
 */
typedef void kdf_cb(enum kdf_status status, bool match, const char *hash, void *arg);

struct kdf *kdf_new(struct event_base *base);
/* Finishes the job under way, answers the queued ones KDF_ABANDONED. NULL is a no-op. */
void kdf_free(struct kdf *k);

/* -1 when the queue is full (cb is then never called). The password is copied. */
int kdf_verify(struct kdf *k, const char *password, const char *encoded, kdf_cb *cb,
	       void *arg) WUR;
int kdf_hash(struct kdf *k, const char *password, kdf_cb *cb, void *arg) WUR;

#endif
