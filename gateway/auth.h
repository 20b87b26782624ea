/*
 * auth.h: API keys. A key is 32 random bytes shown once as "sp_" + hex; only its SHA-256
 * is stored. Lookups are cached for a short while so a busy API does not ask the database
 * for every call. A key works until it is revoked, and a partner's key only while its
 * partner is active: revoking a key or deactivating a partner notifies every daemon
 * (AUTH_NOTIFY on signpost_work), which forgets its cached keys at once. While a daemon's
 * notification connection is down nothing is cached, and when it comes back every daemon
 * forgets (janitor_session_sql), so no revocation outlives the cache's check.
 */
#ifndef SIGNPOST_AUTH_H
#define SIGNPOST_AUTH_H

#include <stdio.h>

#include "common/util.h"

#define AUTH_CACHE_SECONDS 30
/* The payload on channel signpost_work that says keys changed. */
#define AUTH_NOTIFY "keys"

/* A key k (api_keys) with its partner p (partners, left-joined) as the API shows it. */
#define AUTH_KEY_JSON                                                                        \
	"json_build_object('id', k.id, 'role', k.role, 'partner_id', k.partner_id, "            \
	"'partner_name', p.name, 'label', k.label, 'created_at', k.created_at, "                \
	"'revoked_at', k.revoked_at, 'active', k.revoked_at IS NULL AND coalesce(p.active, true))"

/*
 * $1 a key's id: revokes it (a key revoked again keeps its first revocation) and tells
 * every daemon; one row, the key as AUTH_KEY_JSON, when there is such a key.
 */
extern const char auth_revoke_sql[];

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
/* Forgets every cached key: keys were revoked or a partner deactivated. */
void auth_forget(struct auth *a);

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
/* Writes every key (id, role, partner, label, created, status) to out, blocking. */
int auth_list_keys(const char *conninfo, FILE *out, struct sbuf *err) WUR;
/* Revokes key id and tells every daemon, blocking; -1 when there is no such key. */
int auth_revoke_key(const char *conninfo, int64_t id, struct sbuf *err) WUR;

#endif
