/*
 * auth.h: API keys. A key is 32 random bytes shown once as "sp_" + hex; only its SHA-256
 * is stored. Lookups are cached for a short while so a busy API does not ask the database
 * for every call; a revoked key stops working within AUTH_CACHE_SECONDS.
 */
#ifndef SIGNPOST_AUTH_H
#define SIGNPOST_AUTH_H

#include "common/util.h"

#define AUTH_CACHE_SECONDS 30

/* Who may do what: each API route names the roles that may call it (api.c). */
enum auth_role {
	AUTH_ROLE_NONE = 0,
	AUTH_ROLE_ADMIN = 1 << 0,
	AUTH_ROLE_OFFICER = 1 << 1,
	AUTH_ROLE_PARTNER = 1 << 2,
};

const char *auth_role_str(enum auth_role r);
bool auth_role_parse(const char *s, enum auth_role *out) WUR;

struct auth;
struct db;

struct auth_key {
	int64_t id;
	enum auth_role role;
	int64_t partner_id; /* 0 unless role is partner */
	int64_t landlord_id; /* an officer bound to a landlord, or 0 */
};

/* key NULL: not a valid key. unavailable: the database could not be asked. */
typedef void auth_cb(const struct auth_key *key, bool unavailable, void *arg);

struct auth *auth_new(struct db *db);
void auth_free(struct auth *a);
/* Calls cb now when the key is cached, later otherwise. */
void auth_lookup(struct auth *a, const char *key, auth_cb *cb, void *arg);

/*
 * Creates a key (blocking libpq; for the command line). Writes the key to key_out.
 */
struct auth_key_spec {
	enum auth_role role;
	int64_t partner_id;   /* partner keys only */
	const char *label;    /* may be NULL */
	const char *landlord; /* the code of an officer key's landlord, or NULL */
};

int auth_create_key(const char *conninfo, const struct auth_key_spec *spec,
		    struct sbuf *key_out, struct sbuf *err) WUR;

#endif
