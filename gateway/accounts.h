/*
 * accounts.h: console users from the command line (blocking libpq, before any event
 * loop): signpostd users create and signpostd users set-password. The password is read
 * from standard input, one line, so it never appears in a process list or shell history.
 */
#ifndef SIGNPOST_ACCOUNTS_H
#define SIGNPOST_ACCOUNTS_H

#include "common/util.h"
#include "gateway/api.h"

struct account {
	const char *email;
	const char *name;  /* may be NULL */
	enum auth_role role;
	int64_t partner_id; /* partner users only */
	const char *landlord; /* the code of an officer's landlord, or NULL */
};

/* Reads one line from f as the password; -1 with a message when it is unacceptable. */
int accounts_read_password(FILE *f, struct sbuf *out, struct sbuf *err) WUR;
/* Creates an active user with password. */
int accounts_create(const char *conninfo, const struct account *a, const char *password,
		    struct sbuf *err) WUR;
/* Sets the password of the user with email and ends their sessions. */
int accounts_set_password(const char *conninfo, const char *email, const char *password,
			  struct sbuf *err) WUR;

#endif
