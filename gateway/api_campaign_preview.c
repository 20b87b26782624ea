/*
 * api_campaign_preview.c: POST /v1/campaigns/{id}/preview and POST /v1/campaigns/preview
 * (a campaign being composed, not stored), who would get what and what it would cost,
 * before anything is sent.
 *
 * The audience is read in keyset batches of tenants (signpost_audience_preview, whose
 * rules expansion reads too, and the exclusions claiming applies), each batch grouped in
 * PostgreSQL by the fields a text depends on, so memory stays bounded whatever the
 * audience. Every group is rendered with render_text, the function dispatch sends with:
 * the figures are those of the texts that go out.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/render.h"
#include "gateway/api_campaign.h"
#include "gateway/api_handlers.h"
#include "infra/log.h"
#include "sms/utf8.h"

#define PREVIEW_BATCH "20000"
#define PREVIEW_SAMPLES 5
#define PREVIEW_UNICODE_MAX 20
/* Texts a second assumed when neither the campaign nor its provider sets a limit. */
#define PREVIEW_ASSUMED_PER_SECOND 20.0

enum preview_excl { PREVIEW_SENT, PREVIEW_OPTED_OUT, PREVIEW_SUPPRESSED, PREVIEW_NO_CONSENT };

/*
 * Columns: exclusion, language, fields..., count, first id, last id. $1 is the audience
 * rules, $5 whether the campaign is marketing, $6 its bodies by language. $4 is a bit mask
 * of the fields the campaign's texts use (bit i: enum render_field i): tenants differing
 * only in unused fields get the same text and share a group. OFFSET 0 keeps the exclusion
 * computed once per tenant rather than once per grouping expression.
 */
static const char preview_batch_sql[] =
	"SELECT excl, CASE WHEN excl = 0 AND bodies ? language THEN language END, "
	"  CASE WHEN excl = 0 AND $4::int & 1 <> 0 THEN first_name END, "
	"  CASE WHEN excl = 0 AND $4::int & 2 <> 0 THEN borough END, "
	"  CASE WHEN excl = 0 AND $4::int & 4 <> 0 THEN landlord END, count(*), min(id), max(id) "
	"FROM (SELECT t.id, t.language, t.first_name, t.borough, t.landlord, p.bodies, "
	"    CASE WHEN EXISTS (SELECT 1 FROM opt_outs o WHERE o.phone = t.phone) THEN 1 "
	"    WHEN t.suppressed_at IS NOT NULL THEN 2 "
	"    WHEN p.marketing AND t.consent_at IS NULL THEN 3 ELSE 0 END AS excl "
	"  FROM signpost_audience_preview($1::jsonb, $2, $3) t, "
	"    (SELECT $5::bool AS marketing, $6::jsonb AS bodies) p OFFSET 0) x "
	"GROUP BY 1, 2, 3, 4, 5 ORDER BY min(id)";

enum { PB_EXCL, PB_LANG, PB_FIELDS, PB_COUNT = PB_FIELDS + RENDER_NFIELDS, PB_FIRST_ID,
       PB_LAST_ID };

/* A character that makes texts UCS-2, and the recipients whose text has it. */
struct preview_char {
	uint32_t cp;
	int64_t recipients;
};

struct preview {
	struct api_ctx *ctx;
	struct campaign_row c;
	char *bodies;   /* c.bodies as JSON text, for the batches */
	char cursor[24];
	char fields[8]; /* the mask of fields the texts use */
	int64_t recipients, excluded[4], encodings[2];
	int64_t seg_min, seg_max, seg_total;
	struct json_object *samples;
	struct preview_char *chars; /* sorted by code point */
	size_t nchars, chars_cap;
	struct sbuf longest;        /* the longest text so far, for tenant longest_id */
	struct gsm_info longest_gi;
	int64_t longest_id;         /* 0: no text yet */
};

static void preview_free(void *p)
{
	struct preview *pv = p;

	campaign_row_free(&pv->c);
	free(pv->bodies);
	json_object_put(pv->samples);
	free(pv->chars);
	sbuf_free(&pv->longest);
	free(pv);
}

/* The preview of a request, owned by its context from here on (freed with it). */
static struct preview *preview_new(struct api_ctx *ctx)
{
	struct preview *pv = xcalloc(1, sizeof(*pv));

	pv->ctx = ctx;
	pv->seg_min = -1;
	pv->samples = json_object_new_array();
	sbuf_init(&pv->longest);
	snprintf(pv->cursor, sizeof(pv->cursor), "0");
	ctx->state = pv;
	ctx->state_free = preview_free;
	return pv;
}

static void preview_sample(struct preview *pv, const char *tenant_id, const char *text,
			   const struct gsm_info *gi)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "tenant_id", json_object_new_int64(atoll(tenant_id)));
	json_object_object_add(o, "text", json_object_new_string(text));
	json_object_object_add(o, "encoding", json_object_new_string(gsm_encoding_str(gi->encoding)));
	json_object_object_add(o, "segments", json_object_new_int(gi->segments));
	json_object_array_add(pv->samples, o);
}

/* n more recipients have a text with character cp. */
static void preview_char_add(struct preview *pv, uint32_t cp, int64_t n)
{
	size_t lo = 0, hi = pv->nchars;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (pv->chars[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < pv->nchars && pv->chars[lo].cp == cp) {
		pv->chars[lo].recipients += n;
		return;
	}
	if (pv->nchars == pv->chars_cap) {
		pv->chars_cap = pv->chars_cap ? pv->chars_cap * 2 : 16;
		pv->chars = xrealloc(pv->chars, pv->chars_cap * sizeof(*pv->chars));
	}
	memmove(pv->chars + lo + 1, pv->chars + lo, (pv->nchars - lo) * sizeof(*pv->chars));
	pv->chars[lo] = (struct preview_char){ .cp = cp, .recipients = n };
	pv->nchars++;
}

/* Counts the n recipients of a UCS-2 text against each character that made it so. */
static void preview_unicode(struct preview *pv, const struct sbuf *text, int64_t n)
{
	uint32_t *cps = xcalloc(text->len + 1, sizeof(*cps));
	size_t k = gsm_ucs2_chars(sbuf_str(text), text->len, cps);

	for (size_t i = 0; i < k; i++)
		preview_char_add(pv, cps[i], n);
	free(cps);
}

/* Whether a text beats the longest so far: more segments, more characters, a lower tenant id. */
static bool preview_longer(const struct preview *pv, const struct gsm_info *gi, int64_t tenant_id)
{
	const struct gsm_info *b = &pv->longest_gi;

	if (!pv->longest_id)
		return true;
	if (gi->segments != b->segments)
		return gi->segments > b->segments;
	if (gi->chars != b->chars)
		return gi->chars > b->chars;
	return tenant_id < pv->longest_id;
}

static void preview_longest(struct preview *pv, const struct sbuf *text,
			    const struct gsm_info *gi, int64_t tenant_id)
{
	if (!preview_longer(pv, gi, tenant_id))
		return;
	sbuf_reset(&pv->longest);
	sbuf_add(&pv->longest, sbuf_str(text), text->len);
	pv->longest_gi = *gi;
	pv->longest_id = tenant_id;
}

/* One group of identical texts; its first id is the lowest tenant id that gets it. */
static void preview_group(struct preview *pv, const struct db_result *r, int row)
{
	int64_t n = db_get_i64(r, row, PB_COUNT);
	struct render_tenant t;
	struct gsm_info gi;
	struct sbuf text;

	pv->recipients += n;
	for (int f = 0; f < RENDER_NFIELDS; f++)
		t.fields[f] = db_get(r, row, PB_FIELDS + f);
	sbuf_init(&text);
	render_text(campaign_row_body(&pv->c, db_get(r, row, PB_LANG)), &t, pv->c.smart_encoding,
		    &text, &gi);
	pv->encodings[gi.encoding == GSM_ENC_UCS2] += n;
	if (pv->seg_min < 0 || gi.segments < pv->seg_min)
		pv->seg_min = gi.segments;
	pv->seg_max = MAX(pv->seg_max, (int64_t)gi.segments);
	pv->seg_total += n * gi.segments;
	if (json_object_array_length(pv->samples) < PREVIEW_SAMPLES)
		preview_sample(pv, db_get(r, row, PB_FIRST_ID), sbuf_str(&text), &gi);
	if (gi.encoding == GSM_ENC_UCS2)
		preview_unicode(pv, &text, n);
	preview_longest(pv, &text, &gi, db_get_i64(r, row, PB_FIRST_ID));
	sbuf_free(&text);
}

/* Texts a second the campaign will go at. */
static double preview_rate(const struct preview *pv, const struct provider_cfg *p)
{
	double rate = 0, per_text = pv->recipients ? (double)pv->seg_total / pv->recipients : 1;

	if (pv->c.rate_per_minute > 0)
		rate = pv->c.rate_per_minute / 60.0;
	if (p && p->segments_per_second > 0 && per_text > 0) {
		double prov = p->segments_per_second / per_text;
		rate = rate > 0 ? MIN(rate, prov) : prov;
	}
	return rate > 0 ? rate : PREVIEW_ASSUMED_PER_SECOND;
}

static struct json_object *preview_finish_time(const struct preview *pv, const struct provider_cfg *p)
{
	int64_t secs = (int64_t)((double)pv->recipients / preview_rate(pv, p) + 0.999);
	time_t t = window_after_open_seconds(&pv->c.window, &pv->ctx->app->holidays,
					     pv->c.start_at, secs);
	char buf[32];

	if (t == (time_t)-1)
		return NULL;
	campaign_time_iso(t, buf);
	return json_object_new_string(buf);
}

static struct json_object *preview_cost(const struct preview *pv, const struct provider_cfg *p)
{
	struct json_object *o = json_object_new_object();
	int64_t micro = pv->seg_total * (p ? p->price_micro : 0);
	int64_t pence = (micro + 5000) / 10000;
	char amount[32];

	snprintf(amount, sizeof(amount), "%lld.%02lld", (long long)(pence / 100),
		 (long long)(pence % 100));
	json_object_object_add(o, "amount", json_object_new_string(amount));
	json_object_object_add(o, "currency", json_object_new_string("GBP"));
	return o;
}

static struct json_object *preview_pair(const char *a, int64_t x, const char *b, int64_t y)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, a, json_object_new_int64(x));
	json_object_object_add(o, b, json_object_new_int64(y));
	return o;
}

/* Most recipients first, then by code point. */
static int preview_char_cmp(const void *a, const void *b)
{
	const struct preview_char *x = a, *y = b;

	if (x->recipients != y->recipients)
		return x->recipients > y->recipients ? -1 : 1;
	return x->cp < y->cp ? -1 : x->cp > y->cp;
}

static struct json_object *preview_unicode_json(struct preview *pv)
{
	struct json_object *a = json_object_new_array();
	struct sbuf ch;
	char code[16];

	if (pv->nchars) /* qsort takes no NULL, even for nothing */
		qsort(pv->chars, pv->nchars, sizeof(*pv->chars), preview_char_cmp);
	sbuf_init(&ch);
	for (size_t i = 0; i < pv->nchars && i < PREVIEW_UNICODE_MAX; i++) {
		struct json_object *o = json_object_new_object();
		sbuf_reset(&ch);
		utf8_put(&ch, pv->chars[i].cp);
		snprintf(code, sizeof(code), "U+%04X", (unsigned)pv->chars[i].cp);
		json_object_object_add(o, "character", json_object_new_string_len(ch.data, (int)ch.len));
		json_object_object_add(o, "codepoint", json_object_new_string(code));
		json_object_object_add(o, "recipients", json_object_new_int64(pv->chars[i].recipients));
		json_object_array_add(a, o);
	}
	sbuf_free(&ch);
	return a;
}

static struct json_object *preview_longest_json(const struct preview *pv)
{
	const struct gsm_info *gi = &pv->longest_gi;
	struct json_object *o;

	if (!pv->longest_id)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "tenant_id", json_object_new_int64(pv->longest_id));
	json_object_object_add(o, "text", json_object_new_string_len(sbuf_str(&pv->longest),
								      (int)pv->longest.len));
	json_object_object_add(o, "encoding", json_object_new_string(gsm_encoding_str(gi->encoding)));
	json_object_object_add(o, "segments", json_object_new_int(gi->segments));
	json_object_object_add(o, "characters", json_object_new_int64((int64_t)gi->chars));
	return o;
}

static void preview_answer(struct preview *pv)
{
	const struct provider_cfg *p = config_provider(&pv->ctx->app->cfg, pv->c.provider);
	struct json_object *o = json_object_new_object(), *ex, *seg;

	json_object_object_add(o, "recipients", json_object_new_int64(pv->recipients));
	ex = preview_pair("opted_out", pv->excluded[PREVIEW_OPTED_OUT], "no_consent",
			  pv->excluded[PREVIEW_NO_CONSENT]);
	json_object_object_add(ex, "suppressed", json_object_new_int64(pv->excluded[PREVIEW_SUPPRESSED]));
	json_object_object_add(o, "excluded", ex);
	json_object_object_add(o, "encodings", preview_pair("gsm7", pv->encodings[0], "ucs2",
							     pv->encodings[1]));
	seg = preview_pair("min", MAX(pv->seg_min, 0), "max", pv->seg_max);
	json_object_object_add(seg, "total", json_object_new_int64(pv->seg_total));
	json_object_object_add(o, "segments", seg);
	json_object_object_add(o, "estimated_cost", preview_cost(pv, p));
	json_object_object_add(o, "samples", json_object_get(pv->samples));
	json_object_object_add(o, "expected_finish", preview_finish_time(pv, p));
	json_object_object_add(o, "unicode_characters", preview_unicode_json(pv));
	json_object_object_add(o, "longest", preview_longest_json(pv));
	log_info("campaign preview id=%lld%s recipients=%lld segments=%lld", (long long)pv->c.id,
		 pv->c.id ? "" : " (unsaved)", (long long)pv->recipients,
		 (long long)pv->seg_total);
	api_reply_json(pv->ctx, 200, o);
}

static void preview_next(struct preview *pv);

/* Which fields any of the campaign's texts may use; a literal "{{first_name}}" only costs grouping. */
static void preview_fields(struct preview *pv)
{
	unsigned mask = 0;

	for (int f = 0; f < RENDER_NFIELDS; f++) {
		char pat[40];
		snprintf(pat, sizeof(pat), "{%s", render_field_names[f]);
		bool used = strstr(pv->c.body, pat) != NULL;
		json_object_object_foreach(pv->c.bodies, lang, text) {
			(void)lang;
			used = used || strstr(json_object_get_string(text), pat) != NULL;
		}
		mask |= used ? 1u << f : 0;
	}
	snprintf(pv->fields, sizeof(pv->fields), "%u", mask);
}

static void preview_batch_done(const struct db_result *r, void *arg)
{
	struct preview *pv = arg;
	int64_t tenants = 0, last = 0;

	if (r->error) {
		api_db_error(pv->ctx, r);
		return;
	}
	for (int i = 0; i < db_rows(r); i++) {
		int excl = (int)db_get_i64(r, i, PB_EXCL);
		if (excl == PREVIEW_SENT)
			preview_group(pv, r, i);
		else if (excl < (int)ARRAY_LEN(pv->excluded))
			pv->excluded[excl] += db_get_i64(r, i, PB_COUNT);
		tenants += db_get_i64(r, i, PB_COUNT);
		last = MAX(last, db_get_i64(r, i, PB_LAST_ID));
	}
	if (tenants < atoll(PREVIEW_BATCH)) {
		preview_answer(pv);
		return;
	}
	snprintf(pv->cursor, sizeof(pv->cursor), "%lld", (long long)last);
	preview_next(pv);
}

static void preview_next(struct preview *pv)
{
	const char *params[] = { pv->c.audience, pv->cursor, PREVIEW_BATCH, pv->fields,
				 pv->c.marketing ? "true" : "false", pv->bodies };

	api_db(pv->ctx, preview_batch_sql, 6, params, preview_batch_done, pv);
}

/* Reads the audience of pv->c, stored or not, from its first tenant. */
static void preview_start(struct preview *pv)
{
	const char *bodies = pv->c.bodies ? json_object_to_json_string_ext(pv->c.bodies,
									   JSON_C_TO_STRING_PLAIN) : "{}";

	preview_fields(pv);
	pv->bodies = xstrdup(bodies);
	preview_next(pv);
}

static void preview_loaded(const struct db_result *r, void *arg)
{
	struct preview *pv = preview_new(arg);

	if (campaign_row_parse(pv->ctx, r, &pv->c) < 0)
		return;
	preview_start(pv);
}

void api_campaign_preview(struct api_ctx *ctx)
{
	if (!api_known_keys(ctx, ctx->json, "", NULL, 0))
		return;
	campaign_row_load(ctx, preview_loaded);
}

/* The same figures for a campaign being composed: its fields are the body of the request. */
void api_campaign_preview_unsaved(struct api_ctx *ctx)
{
	struct preview *pv = preview_new(ctx);

	if (campaign_row_from_body(ctx, &pv->c) < 0)
		return;
	preview_start(pv);
}
