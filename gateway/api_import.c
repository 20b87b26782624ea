/*
 * api_import.c: POST /v1/tenants/import, a CSV file streamed into batched upserts.
 *
 * The file is parsed as it arrives and never held whole. Good rows are upserted by
 * external_ref in batches of IMPORT_BATCH, one batch at a time (a later row may depend on
 * an earlier one); while a batch is stored the next one fills, and reading pauses when it
 * is full. Bad rows are reported with their line number. Opt-outs
 * belong to phone numbers and no import touches them; a tenant whose number changes
 * keeps an opt-out it had under the old number.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "campaigns/audience.h"
#include "common/codec.h"
#include "common/csv.h"
#include "common/strset.h"
#include "gateway/api_handlers.h"
#include "gateway/tenant.h"
#include "infra/log.h"

#define IMPORT_BATCH 1000
#define IMPORT_MAX_REPORTED 10000

enum import_col {
	IMPORT_EXTERNAL_REF,
	IMPORT_FIRST_NAME,
	IMPORT_PHONE,
	IMPORT_BOROUGH,
	IMPORT_LANDLORD,
	IMPORT_TAGS,
	IMPORT_LANGUAGE,
	IMPORT_CONSENT_SOURCE,
	IMPORT_CONSENT_AT,
	IMPORT_CONSENT_WORDING,
	IMPORT_NCOLS
};

static const char *const import_col_names[IMPORT_NCOLS] = {
	"external_ref", "first_name", "phone", "borough", "landlord", "tags",
	"language", "consent_source", "consent_at", "consent_wording",
};

/*
 * Columns 0-5 as text arrays, 6 the line numbers, 7-10 whether optional columns exist,
 * 11-14 language and consent as text arrays, 15 whether the language column exists. An empty
 * consent_source leaves recorded consent as it was. A row names its landlord by code (or
 * name); an unknown one, and for a bound officer another landlord or a number or
 * reference another landlord's tenant holds, are rows refused (bad); an empty landlord
 * keeps the tenant's, or for a new tenant the officer's (UNASSIGNED for the consortium).
 */
static const char import_upsert_sql[] =
	"WITH r0 AS ("
	"  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], "
	"    $6::text[], $7::int[], $12::text[], $13::text[], $14::text[], $15::text[]) "
	"    AS r(external_ref, first_name, phone, borough, landlord, tags, line, language, "
	"    consent_source, consent_at, consent_wording)"
	"), r AS ("
	"  SELECT r0.*, signpost_landlord_named(nullif(r0.landlord, '')) AS lid FROM r0"
	"), held AS ("
	"  SELECT * FROM signpost_held_elsewhere((SELECT array_agg(phone) FROM r), "
	"    (SELECT array_agg(external_ref) FROM r), signpost_scope())"
	"), bad AS ("
	"  SELECT line, 'landlord: no landlord has the code \"' || landlord || "
	"    '\" (GET /v1/landlords lists them)' AS why FROM r "
	"  WHERE nullif(landlord, '') IS NOT NULL AND lid IS NULL "
	"  UNION ALL SELECT line, 'landlord: ' || landlord || ' is another landlord: you may ' "
	"    || 'import only your own landlord''s tenants' FROM r WHERE lid <> signpost_scope() "
	"  UNION ALL SELECT line, 'external_ref: this tenant (or number) belongs to another ' "
	"    || 'landlord' FROM r WHERE EXISTS (SELECT 1 FROM held h "
	"    WHERE h.phone = r.phone OR h.external_ref = r.external_ref)"
	"), taken AS ("
	"  SELECT r.line, t.external_ref AS owner FROM r JOIN tenants t ON t.phone = r.phone "
	"  WHERE t.external_ref IS DISTINCT FROM r.external_ref "
	"    AND NOT EXISTS (SELECT 1 FROM bad WHERE bad.line = r.line)"
	"), ok AS ("
	"  SELECT r.* FROM r WHERE NOT EXISTS (SELECT 1 FROM taken WHERE taken.line = r.line) "
	"    AND NOT EXISTS (SELECT 1 FROM bad WHERE bad.line = r.line)"
	"), carry AS ("
	"  INSERT INTO opt_outs (phone, source) "
	"  SELECT ok.phone, 'officer' FROM ok JOIN tenants t ON t.external_ref = ok.external_ref "
	"  WHERE t.phone IS DISTINCT FROM ok.phone "
	"    AND EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = t.phone) "
	"  ON CONFLICT DO NOTHING"
	"), up AS ("
	"  INSERT INTO tenants AS t (external_ref, first_name, phone, borough, landlord_id, tags, "
	"    language, consent_source, consent_at, consent_wording) "
	"  SELECT external_ref, nullif(first_name, ''), phone, nullif(borough, ''), "
	"    coalesce(lid, (SELECT o.landlord_id FROM tenants o WHERE o.external_ref = "
	"    ok.external_ref), signpost_scope()), string_to_array(coalesce(tags, ''), ';'), "
	"    nullif(language, ''), "
	"    nullif(consent_source, ''), CASE WHEN consent_source <> '' THEN "
	"    coalesce(nullif(consent_at, '')::timestamptz, now()) END, "
	"    CASE WHEN consent_source <> '' THEN nullif(consent_wording, '') END FROM ok "
	"  ON CONFLICT (external_ref) DO UPDATE SET phone = EXCLUDED.phone, "
	"    first_name = CASE WHEN $8 THEN EXCLUDED.first_name ELSE t.first_name END, "
	"    borough = CASE WHEN $9 THEN EXCLUDED.borough ELSE t.borough END, "
	"    landlord_id = CASE WHEN $10 THEN EXCLUDED.landlord_id ELSE t.landlord_id END, "
	"    tags = CASE WHEN $11 THEN EXCLUDED.tags ELSE t.tags END, "
	"    language = CASE WHEN $16 THEN EXCLUDED.language ELSE t.language END, "
	"    consent_source = coalesce(EXCLUDED.consent_source, t.consent_source), "
	"    consent_at = CASE WHEN EXCLUDED.consent_source IS NOT NULL THEN EXCLUDED.consent_at "
	"      ELSE t.consent_at END, "
	"    consent_wording = CASE WHEN EXCLUDED.consent_source IS NOT NULL "
	"      THEN EXCLUDED.consent_wording ELSE t.consent_wording END, updated_at = now() "
	"  RETURNING (xmax = 0) AS created"
	") "
	"SELECT 0, count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created), NULL "
	"FROM up UNION ALL SELECT 1, line, 0, owner FROM taken "
	"UNION ALL SELECT 2, line, 0, why FROM bad";

struct import_reject {
	size_t line;
	char *error;
};

struct import {
	struct api_ctx *ctx;
	struct csv_parser csv;
	int col[IMPORT_NCOLS]; /* field index of each column, -1 when absent */
	bool header_done;
	size_t bytes;
	struct sbuf arrays[11]; /* 0-5 text, 6 line numbers, 7-10 language and consent */
	size_t batch_rows;
	bool batch_full;     /* waiting for the batch in flight to finish */
	struct sbuf stash;   /* input not yet parsed while batch_full */
	bool finished;       /* the end of the file has been parsed */
	struct strset batch_refs, batch_phones;
	int inflight;
	bool body_done;
	int fatal_status;
	const char *fatal_field;
	struct sbuf fatal;
	int64_t created, updated;
	struct import_reject *rejects;
	size_t nrejects, capreject, rejected_total;
};

static void import_free(void *p)
{
	struct import *im = p;

	csv_free(&im->csv);
	for (size_t i = 0; i < ARRAY_LEN(im->arrays); i++)
		sbuf_free(&im->arrays[i]);
	strset_free(&im->batch_refs);
	strset_free(&im->batch_phones);
	for (size_t i = 0; i < im->nrejects; i++)
		free(im->rejects[i].error);
	free(im->rejects);
	sbuf_free(&im->fatal);
	sbuf_free(&im->stash);
	free(im);
}

static void import_reject(struct import *im, size_t line, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

static void import_reject(struct import *im, size_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	im->rejected_total++;
	if (im->nrejects == IMPORT_MAX_REPORTED)
		return;
	if (im->nrejects == im->capreject) {
		im->capreject = im->capreject ? im->capreject * 2 : 32;
		im->rejects = xrealloc(im->rejects, im->capreject * sizeof(*im->rejects));
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	im->rejects[im->nrejects].line = line;
	im->rejects[im->nrejects].error = xstrdup(msg);
	im->nrejects++;
}

static void import_fatal(struct import *im, int status, const char *field, const char *msg)
{
	if (im->fatal_status)
		return;
	im->fatal_status = status;
	im->fatal_field = field;
	sbuf_adds(&im->fatal, msg);
}

/* ---- the answer ---- */

static int import_reject_cmp(const void *a, const void *b)
{
	const struct import_reject *x = a, *y = b;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void import_answer(struct import *im)
{
	struct api_ctx *ctx = im->ctx;
	struct json_object *o, *list;

	if (im->fatal_status) {
		api_error(ctx, im->fatal_status, NULL, im->fatal_field, "%s", sbuf_str(&im->fatal));
		return;
	}
	if (im->nrejects)
		qsort(im->rejects, im->nrejects, sizeof(*im->rejects), import_reject_cmp);
	o = json_object_new_object();
	list = json_object_new_array();
	for (size_t i = 0; i < im->nrejects; i++) {
		struct json_object *r = json_object_new_object();
		json_object_object_add(r, "line", json_object_new_int64((int64_t)im->rejects[i].line));
		json_object_object_add(r, "error", json_object_new_string(im->rejects[i].error));
		json_object_array_add(list, r);
	}
	json_object_object_add(o, "created", json_object_new_int64(im->created));
	json_object_object_add(o, "updated", json_object_new_int64(im->updated));
	json_object_object_add(o, "rejected", list);
	json_object_object_add(o, "rejected_count", json_object_new_int64((int64_t)im->rejected_total));
	log_info("tenant import created=%lld updated=%lld rejected=%zu",
		 (long long)im->created, (long long)im->updated, im->rejected_total);
	api_reply_json(ctx, 200, o);
}

static void import_maybe_answer(struct import *im)
{
	if (im->body_done && im->inflight == 0 && !im->batch_full &&
	    (im->finished || im->fatal_status))
		import_answer(im);
}

/* ---- batches ---- */

static void import_send(struct import *im);
static void import_drain(struct import *im);

static void import_batch_done(const struct db_result *r, void *arg)
{
	struct import *im = arg;

	im->inflight--;
	if (r->error) {
		log_error("tenant import batch failed error=\"%.*s\"", (int)strcspn(r->error, "\n"),
			  r->error);
		import_fatal(im, r->pg ? 500 : 503, NULL,
			     "a batch of rows could not be stored; rows before it were stored, so "
			     "it is safe to import the same file again");
	}
	for (int i = 0; i < db_rows(r); i++) {
		if (db_get_i64(r, i, 0) == 0) {
			im->created += db_get_i64(r, i, 1);
			im->updated += db_get_i64(r, i, 2);
		} else if (db_get_i64(r, i, 0) == 1) {
			import_reject(im, (size_t)db_get_i64(r, i, 1),
				      "phone: this number already belongs to tenant %s", db_get(r, i, 3));
		} else {
			import_reject(im, (size_t)db_get_i64(r, i, 1), "%s", db_get(r, i, 3));
		}
	}
	if (im->batch_full) {
		im->batch_full = false;
		import_send(im);
		csv_resume(&im->csv);
		import_drain(im);
	}
	import_maybe_answer(im);
}

static void import_send(struct import *im)
{
	const char *params[16];

	if (!im->batch_rows || im->fatal_status)
		return;
	for (size_t i = 0; i < ARRAY_LEN(im->arrays); i++) {
		db_array_end(&im->arrays[i]);
		params[i < 7 ? i : i + 4] = im->arrays[i].data;
	}
	for (int c = IMPORT_FIRST_NAME, p = 7; c <= IMPORT_TAGS; c++) {
		if (c == IMPORT_PHONE)
			continue;
		params[p++] = im->col[c] >= 0 ? "true" : "false";
	}
	params[15] = im->col[IMPORT_LANGUAGE] >= 0 ? "true" : "false";
	im->inflight++;
	api_db(im->ctx, import_upsert_sql, 16, params, import_batch_done, im);
	for (size_t i = 0; i < ARRAY_LEN(im->arrays); i++)
		sbuf_reset(&im->arrays[i]);
	im->batch_rows = 0;
	strset_clear(&im->batch_refs);
	strset_clear(&im->batch_phones);
}

/* The batch is complete: store it now, or when the one in flight is done. */
static void import_flush(struct import *im)
{
	if (!im->batch_rows)
		return;
	if (!im->inflight) {
		import_send(im);
		return;
	}
	im->batch_full = true;
	csv_pause(&im->csv);
}

static void import_add(struct import *im, const struct tenant_input *t, size_t line,
		       const char *const extra[4])
{
	const char *values[] = { t->external_ref, t->first_name ? t->first_name : "", t->e164,
				 t->borough ? t->borough : "", t->landlord ? t->landlord : "",
				 sbuf_str(&t->tags_out) };
	char num[24];

	/* A repeated external_ref or number goes to the next batch, so the later row wins. */
	if (strset_has(&im->batch_refs, t->external_ref) || strset_has(&im->batch_phones, t->e164))
		import_flush(im);
	strset_add(&im->batch_refs, t->external_ref);
	strset_add(&im->batch_phones, t->e164);
	for (size_t i = 0; i < ARRAY_LEN(values); i++)
		db_array_add(&im->arrays[i], values[i], strlen(values[i]));
	snprintf(num, sizeof(num), "%zu", line);
	db_array_add(&im->arrays[6], num, strlen(num));
	for (size_t i = 0; i < 4; i++)
		db_array_add(&im->arrays[7 + i], extra[i] ? extra[i] : "", extra[i] ? strlen(extra[i]) : 0);
	if (++im->batch_rows == IMPORT_BATCH)
		import_flush(im);
}

/* ---- rows ---- */

static void import_header(struct import *im, char **fields, size_t n)
{
	for (int c = 0; c < IMPORT_NCOLS; c++)
		im->col[c] = -1;
	for (size_t i = 0; i < n; i++) {
		int found = -1;
		for (int c = 0; c < IMPORT_NCOLS; c++)
			if (strcmp(fields[i], import_col_names[c]) == 0)
				found = c;
		if (found < 0 || im->col[found] >= 0) {
			struct sbuf m;
			sbuf_init(&m);
			sbuf_printf(&m, "line 1: column \"%s\" is %s; the columns are external_ref, "
				    "first_name, phone, borough, landlord, tags, language, "
				    "consent_source, consent_at, consent_wording", fields[i],
				    found < 0 ? "not known" : "repeated");
			import_fatal(im, 422, "header", m.data);
			sbuf_free(&m);
			return;
		}
		im->col[found] = (int)i;
	}
	if (im->col[IMPORT_EXTERNAL_REF] < 0 || im->col[IMPORT_PHONE] < 0)
		import_fatal(im, 422, "header",
			     "line 1: the header row must name the columns external_ref and phone "
			     "(and may add first_name, borough, landlord, tags)");
	im->header_done = true;
}

static const char *import_field(struct import *im, char **fields, enum import_col c)
{
	return im->col[c] >= 0 ? fields[im->col[c]] : NULL;
}

/* What may follow the date of a consent_at: nothing, or a time with an optional zone. */
static bool import_time_tail(const char *s)
{
	struct tm tm;
	const char *end;

	if (!*s)
		return true;
	if (*s != 'T' && *s != ' ')
		return false;
	end = strptime(s + 1, "%H:%M:%S", &tm);
	if (!end)
		end = strptime(s + 1, "%H:%M", &tm);
	if (end && *end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++)
			;
	if (!end || !*end || strcmp(end, "Z") == 0)
		return end != NULL;
	return (*end == '+' || *end == '-') && strlen(end) <= 6 &&
	       strspn(end + 1, "0123456789:") == strlen(end + 1) && strlen(end + 1) >= 2;
}

/* Language (lower-cased in place) and consent cells: language, source, at, wording. */
static int import_extra_check(const char *extra[4], struct sbuf *msg)
{
	char *lang = (char *)extra[0];
	struct tm tm;

	for (char *p = lang; p && *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
	if (lang && *lang && !audience_language_valid(lang)) {
		sbuf_printf(msg, "language: \"%.20s\" is not a language code (write codes such as "
			    "\"en\", \"cy\" or \"pl\")", lang);
		return -1;
	}
	for (size_t i = 1; i < 4; i++) {
		if (extra[i] && (strlen(extra[i]) > 2000 || !codec_utf8_valid(extra[i], strlen(extra[i])))) {
			sbuf_printf(msg, "%s: too long or not UTF-8 text", import_col_names[IMPORT_LANGUAGE + i]);
			return -1;
		}
	}
	if (extra[2] && *extra[2] && (!extra[1] || !*extra[1])) {
		sbuf_adds(msg, "consent_at: give consent_source too (how consent was given)");
		return -1;
	}
	memset(&tm, 0, sizeof(tm));
	const char *end = extra[2] && *extra[2] ? strptime(extra[2], "%Y-%m-%d", &tm) : NULL;
	struct tm norm = tm;
	if (end)
		timegm(&norm); /* 2026-02-30 becomes March: not a real date */
	if (extra[2] && *extra[2] && (!end || !import_time_tail(end) || norm.tm_mday != tm.tm_mday)) {
		sbuf_adds(msg, "consent_at: write a date or time such as 2026-03-01 or "
			  "2026-03-01T10:00:00Z");
		return -1;
	}
	return 0;
}

static void import_row(void *arg, size_t line, char **fields, size_t n, const char *error)
{
	struct import *im = arg;
	struct tenant_input t;
	struct sbuf msg;
	const char *field;

	if (im->fatal_status)
		return;
	if (!im->header_done) {
		if (error)
			import_fatal(im, 422, "header", "line 1: the header row is not valid CSV");
		else
			import_header(im, fields, n);
		return;
	}
	if (error) {
		import_reject(im, line, "%s", error);
		return;
	}
	size_t expected = 0;
	for (int c = 0; c < IMPORT_NCOLS; c++)
		expected += im->col[c] >= 0;
	if (n != expected) {
		import_reject(im, line, "expected %zu fields as in the header row, found %zu", expected, n);
		return;
	}
	tenant_input_init(&t);
	sbuf_init(&msg);
	const char *tags = import_field(im, fields, IMPORT_TAGS);
	t.external_ref = import_field(im, fields, IMPORT_EXTERNAL_REF);
	t.first_name = import_field(im, fields, IMPORT_FIRST_NAME);
	t.phone = import_field(im, fields, IMPORT_PHONE);
	t.borough = import_field(im, fields, IMPORT_BOROUGH);
	t.landlord = import_field(im, fields, IMPORT_LANDLORD);
	t.tags = tags ? &tags : NULL;
	t.ntags = tags ? 1 : 0;
	t.tags_joined = true;
	const char *extra[4] = { import_field(im, fields, IMPORT_LANGUAGE),
				 import_field(im, fields, IMPORT_CONSENT_SOURCE),
				 import_field(im, fields, IMPORT_CONSENT_AT),
				 import_field(im, fields, IMPORT_CONSENT_WORDING) };
	if (tenant_check(&t, &field, &msg) < 0 || import_extra_check(extra, &msg) < 0)
		import_reject(im, line, "%s", msg.data);
	else
		import_add(im, &t, line, extra);
	tenant_input_free(&t);
	sbuf_free(&msg);
}

/* ---- the stream ---- */

static struct import *import_get(struct api_ctx *ctx)
{
	struct import *im = ctx->state;

	if (im)
		return im;
	im = xcalloc(1, sizeof(*im));
	im->ctx = ctx;
	csv_init(&im->csv, import_row, im);
	for (size_t i = 0; i < ARRAY_LEN(im->arrays); i++)
		sbuf_init(&im->arrays[i]);
	strset_init(&im->batch_refs);
	strset_init(&im->batch_phones);
	sbuf_init(&im->fatal);
	sbuf_init(&im->stash);
	ctx->state = im;
	ctx->state_free = import_free;
	const char *type = httpd_req_header(ctx->req, "Content-Type");
	size_t tlen = type ? strcspn(type, "; \t") : 0; /* the media type without parameters */
	if (!type || !((tlen == 8 && strncasecmp(type, "text/csv", 8) == 0) ||
		       (tlen == 15 && strncasecmp(type, "application/csv", 15) == 0)))
		import_fatal(im, 415, NULL, "send the file with Content-Type: text/csv");
	return im;
}

/* Parses what can be parsed now; at the end of the body, finishes the file. */
static void import_drain(struct import *im)
{
	if (im->stash.len) {
		size_t used = csv_feed(&im->csv, im->stash.data, im->stash.len);
		memmove(im->stash.data, im->stash.data + used, im->stash.len - used);
		im->stash.len -= used;
	}
	if (im->stash.len || im->batch_full || im->fatal_status || im->finished)
		return;
	if (!im->body_done) {
		httpd_req_resume(im->ctx->req);
		return;
	}
	im->finished = true;
	csv_finish(&im->csv);
	if (!im->header_done)
		import_fatal(im, 422, "header", "the file is empty: it needs a header row");
	import_flush(im);
}

int api_tenant_import_body(struct api_ctx *ctx, const char *data, size_t len)
{
	struct import *im = import_get(ctx);
	size_t used = 0;

	im->bytes += len;
	if (im->bytes > API_CSV_LIMIT)
		import_fatal(im, 413, NULL, "the file is larger than 50 MiB; split it into parts");
	if (im->fatal_status)
		return -1;
	if (!im->stash.len && !im->batch_full)
		used = csv_feed(&im->csv, data, len);
	if (used < len) {
		sbuf_add(&im->stash, data + used, len - used);
		httpd_req_pause(ctx->req);
	}
	return im->fatal_status ? -1 : 0;
}

void api_tenant_import(struct api_ctx *ctx)
{
	struct import *im = import_get(ctx);

	im->body_done = true;
	if (ctx->req->body_late)
		import_fatal(im, 408, NULL, "the file took too long to arrive (http.import_seconds); "
			     "rows already stored stay, so it is safe to import the file again");
	else if (ctx->req->body_aborted)
		import_fatal(im, 400, NULL, "the upload was cut short");
	if (!im->fatal_status)
		import_drain(im);
	import_maybe_answer(im);
}
