#include "gateway/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "infra/db.h"

#define AUTH_CACHE_SLOTS 1024
#define AUTH_HASH_LEN CRYPTO_SHA256_HEX

static const char *const auth_role_names[] = { "admin", "officer", "partner" };

const char *auth_role_str(enum auth_role r)
{
	switch (r) {
	case AUTH_ROLE_ADMIN: return "admin";
	case AUTH_ROLE_OFFICER: return "officer";
	case AUTH_ROLE_PARTNER: return "partner";
	case AUTH_ROLE_NONE: break;
	}
	return "none";
}

bool auth_role_parse(const char *s, enum auth_role *out)
{
	for (size_t i = 0; i < ARRAY_LEN(auth_role_names); i++) {
		if (strcmp(s, auth_role_names[i]) == 0) {
			*out = (enum auth_role)(1 << i);
			return true;
		}
	}
	return false;
}

struct auth_entry {
	char hash[AUTH_HASH_LEN + 1];
	struct auth_key key;
	int64_t expires_ms;
};

struct auth {
	struct db *db;
	struct auth_entry slots[AUTH_CACHE_SLOTS];
};

struct auth_pending {
	struct auth *a;
	char hash[AUTH_HASH_LEN + 1];
	auth_cb *cb;
	void *arg;
};

static const char auth_lookup_sql[] =
	"SELECT id, role, coalesce(partner_id, 0), coalesce(landlord_id, 0) FROM api_keys "
	"WHERE key_hash = $1 AND revoked_at IS NULL";

static struct auth_entry *auth_slot(struct auth *a, const char *hash)
{
	unsigned h = 0;

	for (int i = 0; i < 8; i++)
		h = h * 16 + (unsigned)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
	return &a->slots[h % AUTH_CACHE_SLOTS];
}

static void auth_lookup_done(const struct db_result *r, void *arg)
{
	struct auth_pending *p = arg;
	struct auth_key key = { 0 };
	bool found = false;

	if (!r->error && db_rows(r) == 1 && auth_role_parse(db_get(r, 0, 1), &key.role)) {
		key.id = db_get_i64(r, 0, 0);
		key.partner_id = db_get_i64(r, 0, 2);
		key.landlord_id = db_get_i64(r, 0, 3);
		struct auth_entry *e = auth_slot(p->a, p->hash);
		memcpy(e->hash, p->hash, sizeof(e->hash));
		e->key = key;
		e->expires_ms = clock_mono_ms() + AUTH_CACHE_SECONDS * 1000;
		found = true;
	}
	p->cb(found ? &key : NULL, r->error != NULL, p->arg);
	free(p);
}

void auth_lookup(struct auth *a, const char *key, auth_cb *cb, void *arg)
{
	struct auth_pending *p = xcalloc(1, sizeof(*p));
	struct auth_entry *e;

	crypto_token_hash(key, p->hash);
	e = auth_slot(a, p->hash);
	if (strcmp(e->hash, p->hash) == 0 && e->expires_ms > clock_mono_ms()) {
		struct auth_key k = e->key;
		free(p);
		cb(&k, false, arg);
		return;
	}
	p->a = a;
	p->cb = cb;
	p->arg = arg;
	const char *params[] = { p->hash };
	db_query(a->db, auth_lookup_sql, 1, params, auth_lookup_done, p);
}

struct auth *auth_new(struct db *db)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	a->db = db;
	return a;
}

void auth_free(struct auth *a)
{
	free(a);
}

int auth_create_key(const char *conninfo, const struct auth_key_spec *spec,
		    struct sbuf *key_out, struct sbuf *err)
{
	char token[AUTH_HASH_LEN + 1], hash[AUTH_HASH_LEN + 1], partner[24], state[6];
	struct sbuf why;
	int rc;

	crypto_random_hex(token, 32);
	sbuf_printf(key_out, "sp_%s", token);
	crypto_token_hash(key_out->data, hash);
	snprintf(partner, sizeof(partner), "%lld", (long long)spec->partner_id);
	const char *params[] = { hash, auth_role_str(spec->role), spec->partner_id ? partner : NULL,
				 spec->label, spec->landlord };
	sbuf_init(&why);
	rc = db_exec_blocking(conninfo, "INSERT INTO api_keys (key_hash, role, partner_id, label, "
			      "landlord_id) SELECT $1, $2, $3::bigint, $4, l.id FROM (SELECT $5::text "
			      "AS code) x LEFT JOIN landlords l ON l.code = upper(x.code) "
			      "WHERE x.code IS NULL OR l.id IS NOT NULL", 5, params, &why, state);
	if (rc < 0)
		sbuf_printf(err, "%s%s", state[0] ? "cannot store the key: " : "", why.data);
	else if (rc == 0)
		sbuf_printf(err, "there is no landlord with code %s", spec->landlord);
	sbuf_free(&why);
	return rc <= 0 ? -1 : 0;
}
