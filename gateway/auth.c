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

const char auth_revoke_sql[] =
	"WITH k AS (UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
	"  WHERE id = $1::bigint RETURNING *) "
	"SELECT " AUTH_KEY_JSON "::text, pg_notify('signpost_work', '" AUTH_NOTIFY "') "
	"FROM k LEFT JOIN partners p ON p.id = k.partner_id";

struct auth_entry {
	char hash[AUTH_HASH_LEN + 1];
	struct auth_key key;
	int64_t expires_ms;
};

struct auth {
	struct db *db;
	struct auth_entry slots[AUTH_CACHE_SLOTS];
	bool filled; /* a slot has been filled since the cache was last emptied */
};

struct auth_pending {
	struct auth *a;
	char hash[AUTH_HASH_LEN + 1];
	auth_cb *cb;
	void *arg;
};

/* A key works until it is revoked, and a partner's key only while the partner is active. */
static const char auth_lookup_sql[] =
	"SELECT k.id, k.role, coalesce(k.partner_id, 0), coalesce(k.landlord_id, 0) "
	"FROM api_keys k LEFT JOIN partners p ON p.id = k.partner_id "
	"WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND coalesce(p.active, true)";

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
		found = true;
	}
	/* Only while the notification connection is up would a revocation reach the cache. */
	if (found && db_session_up(p->a->db)) {
		struct auth_entry *e = auth_slot(p->a, p->hash);
		memcpy(e->hash, p->hash, sizeof(e->hash));
		e->key = key;
		e->expires_ms = clock_mono_ms() + AUTH_CACHE_SECONDS * 1000;
		p->a->filled = true;
	}
	p->cb(found ? &key : NULL, r->error != NULL, p->arg);
	free(p);
}

void auth_lookup(struct auth *a, const char *key, auth_cb *cb, void *arg)
{
	struct auth_pending *p = xcalloc(1, sizeof(*p));
	struct auth_entry *e;

	crypto_token_hash(key, p->hash);
	if (!db_session_up(a->db))
		auth_forget(a); /* revocations sent meanwhile are missed: ask the database */
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

void auth_forget(struct auth *a)
{
	if (a->filled)
		memset(a->slots, 0, sizeof(a->slots));
	a->filled = false;
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

/* What `signpostd keys list` shows of each key: never the key or its hash. */
#define AUTH_LIST_TIME(t) "to_char(" t " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
static const char auth_list_sql[] =
	"SELECT k.id, k.role, coalesce(k.partner_id::text || ' ' || p.name, '-'), "
	"coalesce(k.label, '-'), " AUTH_LIST_TIME("k.created_at") ", "
	"coalesce('revoked ' || " AUTH_LIST_TIME("k.revoked_at") ", "
	"CASE WHEN p.active IS FALSE THEN 'partner inactive' ELSE 'active' END) "
	"FROM api_keys k LEFT JOIN partners p ON p.id = k.partner_id ORDER BY k.id";

int auth_list_keys(const char *conninfo, FILE *out, struct sbuf *err)
{
	PGconn *pg = PQconnectdb(conninfo);
	PGresult *r = NULL;
	int rc = -1;

	if (PQstatus(pg) != CONNECTION_OK) {
		sbuf_printf(err, "cannot connect to the database (SIGNPOST_DATABASE_URL): %s",
			    PQerrorMessage(pg));
		goto out;
	}
	r = PQexec(pg, auth_list_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		sbuf_printf(err, "cannot list the keys: %s", PQresultErrorMessage(r));
		goto out;
	}
	fputs("id\trole\tpartner\tlabel\tcreated\tstatus\n", out);
	for (int i = 0; i < PQntuples(r); i++)
		fprintf(out, "%s\t%s\t%s\t%s\t%s\t%s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
			PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4),
			PQgetvalue(r, i, 5));
	rc = 0;
out:
	PQclear(r);
	PQfinish(pg);
	return rc;
}

int auth_revoke_key(const char *conninfo, int64_t id, struct sbuf *err)
{
	char key[24], state[6];
	struct sbuf why;
	int rc;

	snprintf(key, sizeof(key), "%lld", (long long)id);
	const char *params[] = { key };
	sbuf_init(&why);
	rc = db_exec_blocking(conninfo, auth_revoke_sql, 1, params, &why, state);
	if (rc < 0)
		sbuf_printf(err, "cannot revoke the key: %s", why.data);
	else if (rc == 0)
		sbuf_printf(err, "there is no key with id %lld", (long long)id);
	sbuf_free(&why);
	return rc > 0 ? 0 : -1;
}
