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

/* SQL expression building a tenant's JSON (as text) from the row alias t. */
#define TENANT_JSON                                                                          \
	"json_build_object('id', t.id, 'external_ref', t.external_ref, 'first_name', "         \
	"t.first_name, 'phone', t.phone, 'borough', t.borough, 'landlord', t.landlord, "        \
	"'landlord_id', t.landlord_id, "                                                        \
	"'tags', t.tags, 'opted_out', EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = "        \
	"t.phone), 'conversation', (SELECT json_build_object('flow', c.flow, 'step', c.step, "  \
	"'expires_at', c.expires_at) FROM conversations c WHERE c.phone = t.phone AND "         \
	"c.state = 'open' AND c.expires_at > now()), "                                          \
	"'language', t.language, 'consent', CASE WHEN t.consent_at IS NOT NULL THEN "        \
	"json_build_object('source', t.consent_source, 'at', t.consent_at, 'wording', "         \
	"t.consent_wording, 'privacy_notice_version', t.consent_notice_version) END, "         \
	"'suppressed_at', t.suppressed_at, 'perm_fail_streak', "                                \
	"t.perm_fail_streak, 'erased_at', t.erased_at, "                                         \
	"'created_at', t.created_at, 'updated_at', t.updated_at)::text"

extern const char tenant_json_sql[]; /* TENANT_JSON */

#endif
