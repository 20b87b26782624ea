/*
 * api_referrals.c: POST /v1/referrals, "Refer someone": a help request made by an officer
 * or by a partner's staff for a person, routed to partners like one made by texts. The
 * person is a tenant on record (officers and admins only: a partner sees no tenant
 * records) or is given by first name, phone number and borough; the borough routes it.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/api_handlers.h"
#include "gateway/referral.h"
#include "infra/log.h"
#include "sms/phone.h"

#define REFERRAL_MAX_TEXT 100      /* first name, borough */
#define REFERRAL_MAX_NAME 64       /* category and step ids */
#define REFERRAL_MAX_ANSWERS 20
#define REFERRAL_MAX_ANSWER 200
#define REFERRAL_MAX_NOTE 2000
#define REFERRAL_MAX_ID 999999999999999LL /* fits api_field_int's 15 digits */

/*
 * $1 tenant (NULL: a person given by $2 phone, $3 first name, $4 borough), $5 category,
 * $6 answers, $7 consent, $8 note, $9 user, $10 key, $11 who (for the history).
 * A tenant's number and borough are read from the record. The creation goes into the
 * history with the note, which later moves may replace on the request itself.
 * Returns whether the tenant exists, whether it was erased, and the new request's id.
 */
static const char referral_insert_sql[] =
	"WITH t AS (SELECT id, phone, borough, erased_at FROM tenants WHERE id = $1::bigint), "
	"hr AS ("
	"  INSERT INTO help_requests (source, tenant_id, phone, first_name, borough, category, "
	"    answers, consent, note, referred_by_user, referred_by_key) "
	"  SELECT 'staff', t.id, coalesce(t.phone, $2), $3, coalesce(t.borough, $4), $5, "
	"    $6::jsonb, $7::boolean, $8, $9::bigint, $10::bigint "
	"  FROM (VALUES (1)) one LEFT JOIN t ON true "
	"  WHERE $1::bigint IS NULL OR (t.id IS NOT NULL AND t.erased_at IS NULL) "
	"  RETURNING id, created_at, landlord_id"
	"), ev AS ("
	"  INSERT INTO help_request_events (help_request_id, at, from_state, to_state, actor, note, "
	"    landlord_id) "
	"  SELECT id, created_at, NULL, 'new', $11, $8, landlord_id FROM hr"
	") SELECT EXISTS (SELECT 1 FROM t), EXISTS (SELECT 1 FROM t WHERE erased_at IS NOT NULL), "
	"(SELECT id FROM hr)";

struct referral_input {
	char tenant_id[16];   /* "" for a person given by name */
	const char *first_name, *phone, *borough, *category, *answers, *note;
	char e164[PHONE_E164_MAX];
	bool consent;
};

static bool referral_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > REFERRAL_MAX_NAME)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* One line of text for a person's details: not empty, no control characters. */
static bool referral_line(struct api_ctx *ctx, const char *key, const char **out)
{
	*out = NULL;
	if (!api_field_string(ctx, ctx->json, key, false, REFERRAL_MAX_TEXT, out))
		return false;
	for (const char *p = *out; p && *p; p++) {
		if ((unsigned char)*p < 32 || *p == 0x7f) {
			api_error(ctx, 422, "invalid", key, "%s contains a control character", key);
			return false;
		}
	}
	if (*out && !**out)
		*out = NULL;
	return true;
}

/* Why a number will not do for a helper to call, for the 422. */
static const char *referral_phone_problem(enum phone_status st)
{
	switch (st) {
	case PHONE_EMPTY:
	case PHONE_BAD_CHARACTER:
		return "phone: write a UK number with digits, spaces and a leading + only (for "
		       "example 01632 960123 or 07700 900123)";
	case PHONE_WRONG_LENGTH:
		return "phone: the number has the wrong number of digits for a UK number (for "
		       "example 01632 960123 or 07700 900123)";
	case PHONE_NOT_UK:
		return "phone: this is not a UK number; give a UK mobile or landline number";
	default:
		return "phone: this is not a mobile or landline number a helper can call (070, 076, "
		       "05, 08 and 09 numbers are refused)";
	}
}

/* Any UK number a helper can call, mobile or landline (01, 02, 03), as E.164. */
static bool referral_phone(struct api_ctx *ctx, struct referral_input *in)
{
	enum phone_status st = phone_uk_mobile(in->phone, in->e164);

	/* phone_uk_mobile has found a well-formed UK landline; phone_e164 writes it out. */
	if (st == PHONE_LANDLINE && phone_e164(in->phone, in->e164) == PHONE_OK &&
	    strncmp(in->e164, "+44", 3) == 0)
		st = PHONE_OK;
	if (st != PHONE_OK)
		api_error(ctx, 422, "invalid", "phone", "%s", referral_phone_problem(st));
	return st == PHONE_OK;
}

/* Who: a tenant on record, or a person given by first name, phone and borough. */
static bool referral_who(struct api_ctx *ctx, struct referral_input *in)
{
	static const char *const person[] = { "first_name", "phone", "borough" };
	const char **dst[] = { &in->first_name, &in->phone, &in->borough };

	if (!api_field_int(ctx, ctx->json, "tenant_id", 1, REFERRAL_MAX_ID, in->tenant_id))
		return false;
	if (in->tenant_id[0] && ctx->role == AUTH_ROLE_PARTNER) {
		api_error(ctx, 422, "invalid", "tenant_id", "a partner cannot refer a tenant record; "
			  "give the person's first name, phone and borough");
		return false;
	}
	for (size_t i = 0; i < ARRAY_LEN(person); i++) {
		if (!referral_line(ctx, person[i], dst[i]))
			return false;
		if (in->tenant_id[0] && *dst[i]) {
			api_error(ctx, 422, "invalid", person[i], "give either tenant_id or the "
				  "person's first_name, phone and borough, not both");
			return false;
		}
		if (!in->tenant_id[0] && !*dst[i]) {
			api_error(ctx, 422, "required", person[i], "%s is required (or tenant_id, for "
				  "a tenant on record)", person[i]);
			return false;
		}
	}
	return in->tenant_id[0] || referral_phone(ctx, in);
}

static bool referral_category(struct api_ctx *ctx, struct referral_input *in)
{
	if (!api_field_string(ctx, ctx->json, "category", true, 1000, &in->category))
		return false;
	if (!referral_name_ok(in->category)) {
		api_error(ctx, 422, "invalid", "category", "category is lower-case letters, digits "
			  "and _ (such as \"money\"), at most %d", REFERRAL_MAX_NAME);
		return false;
	}
	return true;
}

/* {"step id": "answer value", ...} as the flow walked in the console gave them. */
static bool referral_answers(struct api_ctx *ctx, struct referral_input *in)
{
	struct json_object *a = NULL;
	char field[96];
	size_t n = 0;

	in->answers = "{}";
	if (!api_field_object(ctx, ctx->json, "answers", false, &a))
		return false;
	if (!a)
		return true;
	json_object_object_foreach(a, step, v) {
		if (++n > REFERRAL_MAX_ANSWERS) {
			api_error(ctx, 422, "invalid", "answers", "answers: at most %d",
				  REFERRAL_MAX_ANSWERS);
			return false;
		}
		if (!referral_name_ok(step)) {
			api_error(ctx, 422, "invalid", "answers", "answers: \"%.64s\" is not a step id "
				  "(lower-case letters, digits and _)", step);
			return false;
		}
		snprintf(field, sizeof(field), "answers.%s", step);
		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0 ||
		    json_object_get_string_len(v) > REFERRAL_MAX_ANSWER) {
			api_error(ctx, 422, "invalid", field, "%s must be an answer value of 1 to %d "
				  "bytes", field, REFERRAL_MAX_ANSWER);
			return false;
		}
	}
	in->answers = json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN);
	return true;
}

static bool referral_consent(struct api_ctx *ctx, struct referral_input *in)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(ctx->json, "consent", &v) || !v) {
		api_error(ctx, 422, "required", "consent", "consent is required: true when the "
			  "person agreed that a local helper may contact them, false otherwise");
		return false;
	}
	if (!json_object_is_type(v, json_type_boolean)) {
		api_error(ctx, 422, "invalid", "consent", "consent must be true or false");
		return false;
	}
	in->consent = json_object_get_boolean(v);
	return true;
}

static bool referral_input(struct api_ctx *ctx, struct referral_input *in)
{
	static const char *const known[] = { "tenant_id", "first_name", "phone", "borough",
					     "category", "answers", "consent", "note" };

	return api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) &&
	       referral_who(ctx, in) && referral_category(ctx, in) &&
	       referral_answers(ctx, in) && referral_consent(ctx, in) &&
	       api_field_string(ctx, ctx->json, "note", false, REFERRAL_MAX_NOTE, &in->note);
}

static void referral_stored(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (!db_get(r, 0, 2)) { /* only when a tenant was named */
		const char *tenant = json_object_get_string(json_object_object_get(ctx->json,
										   "tenant_id"));
		if (db_get_bool(r, 0, 1))
			api_error(ctx, 422, "invalid", "tenant_id", "tenant %s has been erased", tenant);
		else
			api_error(ctx, 422, "invalid", "tenant_id", "no tenant with id %s", tenant);
		return;
	}
	log_info("help request referred id=%s by=%s", db_get(r, 0, 2), auth_role_str(ctx->role));
	referral_poke(ctx->app);
	api_help_made(ctx, db_get(r, 0, 2));
}

void api_referral_create(struct api_ctx *ctx)
{
	struct referral_input in;
	char user[24], key[24];

	memset(&in, 0, sizeof(in));
	if (!referral_input(ctx, &in))
		return;
	snprintf(user, sizeof(user), "%lld", (long long)ctx->user_id);
	snprintf(key, sizeof(key), "%lld", (long long)ctx->key_id);
	const char *params[] = { in.tenant_id[0] ? in.tenant_id : NULL,
				 in.tenant_id[0] ? NULL : in.e164, in.first_name, in.borough,
				 in.category, in.answers, in.consent ? "true" : "false", in.note,
				 ctx->user_id ? user : NULL, ctx->user_id ? NULL : key, ctx->actor };
	api_db(ctx, referral_insert_sql, 11, params, referral_stored, ctx);
}
