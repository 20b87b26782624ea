#include "gateway/accounts.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/password.h"
#include "gateway/data.h"
#include "infra/db.h"

int accounts_read_password(FILE *f, struct sbuf *out, struct sbuf *err)
{
	char line[PASSWORD_MAX_LEN + 2];
	const char *problem;
	size_t n;

	if (!fgets(line, sizeof(line), f)) {
		sbuf_adds(err, "no password on standard input (give it as one line)");
		return -1;
	}
	n = strcspn(line, "\r\n");
	if (!line[n] && n == sizeof(line) - 1) {
		sbuf_adds(err, "the password is longer than 256 bytes");
		OPENSSL_cleanse(line, sizeof(line));
		return -1;
	}
	line[n] = '\0';
	problem = password_problem(line, data_common_passwords_txt);
	if (problem)
		sbuf_adds(err, problem);
	else
		sbuf_adds(out, line);
	OPENSSL_cleanse(line, sizeof(line));
	return problem ? -1 : 0;
}

/* Runs one statement (db_exec_blocking), saying what a refusal means for a user. */
static int accounts_exec(const char *conninfo, const char *sql, int n, const char *const *params,
			 struct sbuf *err)
{
	char state[6];
	struct sbuf why;
	int rc;

	sbuf_init(&why);
	rc = db_exec_blocking(conninfo, sql, n, params, &why, state);
	if (rc < 0 && strcmp(state, "23505") == 0)
		sbuf_adds(err, "a user with this email address already exists");
	else if (rc < 0 && strcmp(state, "23503") == 0)
		sbuf_adds(err, "there is no partner with that id");
	else if (rc < 0)
		sbuf_adds(err, why.data);
	sbuf_free(&why);
	return rc;
}

static char *accounts_lower(const char *s)
{
	char *l = xstrdup(s);
	for (char *c = l; *c; c++)
		*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
	return l;
}

int accounts_create(const char *conninfo, const struct account *a, const char *password,
		    struct sbuf *err)
{
	char partner[24];
	char *email = accounts_lower(a->email);
	struct sbuf hash;
	int rc;

	sbuf_init(&hash);
	password_hash(password, &hash);
	snprintf(partner, sizeof(partner), "%lld", (long long)a->partner_id);
	const char *params[] = { email, a->name, auth_role_str(a->role),
				 a->partner_id ? partner : NULL, hash.data, a->landlord };
	rc = accounts_exec(conninfo, "INSERT INTO users (email, name, role, partner_id, "
			   "password_hash, landlord_id) SELECT $1, $2, $3, $4::bigint, $5, l.id "
			   "FROM (SELECT $6::text AS code) x LEFT JOIN landlords l ON l.code = "
			   "upper(x.code) WHERE x.code IS NULL OR l.id IS NOT NULL", 6, params, err);
	if (rc == 0) {
		sbuf_printf(err, "there is no landlord with code %s", a->landlord);
		rc = -1;
	}
	sbuf_free(&hash);
	free(email);
	return rc < 0 ? -1 : 0;
}

int accounts_set_password(const char *conninfo, const char *email, const char *password,
			  struct sbuf *err)
{
	char *lower = accounts_lower(email);
	struct sbuf hash;
	int rc;

	sbuf_init(&hash);
	password_hash(password, &hash);
	const char *params[] = { lower, hash.data };
	rc = accounts_exec(conninfo, "WITH u AS (UPDATE users SET password_hash = $2, "
			   "updated_at = now() WHERE email = $1 RETURNING id) "
			   "DELETE FROM sessions WHERE user_id = (SELECT id FROM u)", 2, params, err);
	if (rc == 0) /* the DELETE counted sessions; find out whether the user exists */
		rc = accounts_exec(conninfo, "SELECT 1 FROM users WHERE email = $1", 1, params, err);
	if (rc == 0)
		sbuf_printf(err, "there is no user with the email address %s", lower);
	sbuf_free(&hash);
	free(lower);
	return rc <= 0 ? -1 : 0;
}
