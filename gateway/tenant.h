/*
 * tenant.h: checking a tenant's fields, shared by the JSON API and the CSV import.
 */
#ifndef SIGNPOST_TENANT_H
#define SIGNPOST_TENANT_H

#include "common/util.h"
#include "sms/phone.h"

#define TENANT_MAX_TAGS 50

struct tenant_input {
	const char *external_ref;
	const char *first_name; /* NULL when not given */
	const char *phone;      /* as written */
	const char *borough;
	const char *landlord;
	const char *const *tags; /* as written (CSV: one ';'-separated string in tags[0]) */
	size_t ntags;
	bool tags_joined;        /* tags[0] holds "a;b;c" */
	/* results */
	char e164[PHONE_E164_MAX];
	struct sbuf tags_out;    /* trimmed, lower-cased, ';'-joined */
};

void tenant_input_init(struct tenant_input *t);
void tenant_input_free(struct tenant_input *t);
/* On error sets *field and writes a message for officers to msg. */
int tenant_check(struct tenant_input *t, const char **field, struct sbuf *msg) WUR;

/* SQL expression building a tenant's JSON from the row alias t (see api_tenants.c). */
extern const char tenant_json_sql[];

#endif
