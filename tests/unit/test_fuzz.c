/*
 * test_fuzz.c: mutation fuzzing of the parsers that read text from outside: the CSV
 * reader, form and query strings, base64, UTF-8, phone numbers, templates and rendering,
 * GSM-7/UCS-2 segment counting, keyword matching and keyword sets, triage flows,
 * audiences and send windows. Each target checks invariants, not only that nothing
 * crashes. The provider adapters and the configuration file are in test_fuzz_providers.c.
 * Options (iterations, seed, corpus directory) are described in tests/unit/fuzz.h.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/audience.h"
#include "campaigns/render.h"
#include "campaigns/template.h"
#include "campaigns/window.h"
#include "common/codec.h"
#include "common/csv.h"
#include "gateway/data.h"
#include "sms/gsm.h"
#include "sms/phone.h"
#include "sms/utf8.h"
#include "tests/unit/fuzz.h"
#include "triage/flow.h"
#include "triage/keyword.h"

/* ---- CSV ---- */

struct csv_capture {
	struct sbuf dump; /* every record, length-prefixed, for comparing two readings */
	size_t records, last_line, max_line;
	bool bad;
};

static void csv_capture_cb(void *arg, size_t line, char **fields, size_t n, const char *error)
{
	struct csv_capture *c = arg;

	c->records++;
	if (line < c->last_line || line < 1 || line > c->max_line || n > CSV_MAX_FIELDS)
		c->bad = true;
	c->last_line = line;
	sbuf_printf(&c->dump, "%zu:%s:%zu|", line, error ? error : "", n);
	for (size_t i = 0; i < n && !error; i++) {
		size_t len = strlen(fields[i]);
		if (len > CSV_MAX_FIELD)
			c->bad = true;
		sbuf_printf(&c->dump, "%zu=", len);
		sbuf_add(&c->dump, fields[i], len);
	}
	sbuf_addc(&c->dump, '\n');
}

/* Reads data in pieces of random sizes (or whole); returns the dump. */
static void csv_read(const char *data, size_t len, bool pieces, struct csv_capture *c)
{
	struct csv_parser p;
	size_t lines = 1;

	for (size_t i = 0; i < len; i++) /* LF, CRLF and CR end lines */
		lines += data[i] == '\r' || (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'));
	memset(c, 0, sizeof(*c));
	sbuf_init(&c->dump);
	c->max_line = lines;
	csv_init(&p, csv_capture_cb, c);
	for (size_t off = 0; off < len;) {
		size_t piece = 1 + fuzz_below(7);
		size_t n = pieces ? MIN(len - off, piece) : len - off;
		CHECK_INT(csv_feed(&p, data + off, n), n);
		off += n;
	}
	csv_finish(&p);
	csv_free(&p);
}

/* Writes good records with every field quoted. */
static void csv_quote_all(char **fields, size_t n, struct sbuf *out)
{
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(out, i ? ",\"" : "\"");
		for (const char *s = fields[i]; *s; s++)
			sbuf_add(out, s, *s == '"' ? 1 : 0), sbuf_addc(out, *s);
		sbuf_addc(out, '"');
	}
	sbuf_addc(out, '\n');
}

struct csv_requote {
	struct sbuf out;
	size_t errors;
};

static void csv_requote_cb(void *arg, size_t line, char **fields, size_t n, const char *error)
{
	struct csv_requote *q = arg;

	(void)line;
	if (error)
		q->errors++;
	else
		csv_quote_all(fields, n, &q->out);
}

static void csv_requote(const char *data, size_t len, struct csv_requote *q)
{
	struct csv_parser p;

	sbuf_init(&q->out);
	q->errors = 0;
	csv_init(&p, csv_requote_cb, q);
	CHECK_INT(csv_feed(&p, data, len), len);
	csv_finish(&p);
	csv_free(&p);
}

static void fuzz_csv(const char *data, size_t len)
{
	struct csv_capture whole, split;
	struct csv_requote q1, q2;

	csv_read(data, len, false, &whole);
	csv_read(data, len, true, &split);
	CHECK(!whole.bad && !split.bad);
	/* Streaming must not change what is read. */
	CHECK(whole.dump.len == split.dump.len &&
	      memcmp(sbuf_str(&whole.dump), sbuf_str(&split.dump), whole.dump.len) == 0);
	/* Good records written back fully quoted read back the same, without errors. */
	csv_requote(data, len, &q1);
	csv_requote(sbuf_str(&q1.out), q1.out.len, &q2);
	CHECK_INT(q2.errors, 0);
	CHECK(q1.out.len == q2.out.len &&
	      memcmp(sbuf_str(&q1.out), sbuf_str(&q2.out), q1.out.len) == 0);
	sbuf_free(&q1.out);
	sbuf_free(&q2.out);
	sbuf_free(&whole.dump);
	sbuf_free(&split.dump);
}

static const char *const csv_seeds[] = {
	"external_ref,first_name,phone,borough,landlord,tags\nT-1,Sam,07700 900123,Thanet,Orbit,"
	"older;carer\n",
	"\xef\xbb\xbf" "external_ref,phone\r\nT-2,\"07700 900124\"\r\n",
	"external_ref,first_name,phone\n\"T-3\",\"Ann \"\"Nan\"\" Lee\",07700900125\n"
	"T-4,\"two\nlines\",07700900126",
	"a,b\rc,d\re,f\r",
	"external_ref,phone,phone\nT-5,1,2\n,,\n\"unclosed,x\n",
	"",
	NULL,
};

static const char *const csv_dict[] = {
	",", "\"", "\"\"", "\n", "\r\n", "\r", "\xef\xbb\xbf", ";", "external_ref", "phone",
	",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,", NULL,
};

/* ---- form, query strings, base64, UTF-8 ---- */

static void fuzz_form(const char *data, size_t len)
{
	struct kvlist a, b;
	struct sbuf built, dec, enc, dec2;

	kvlist_init(&a);
	kvlist_init(&b);
	sbuf_init(&built);
	if (codec_form_parse(&a, data, len) == 0) {
		/* What was read, written back and read again, is the same. */
		codec_form_build(&built, &a);
		CHECK(codec_form_parse(&b, sbuf_str(&built), built.len) == 0);
		CHECK_INT(b.n, a.n);
		for (size_t i = 0; i < a.n && i < b.n; i++) {
			CHECK(strcmp(a.items[i].key, b.items[i].key) == 0);
			CHECK(a.items[i].value_len == b.items[i].value_len &&
			      memcmp(a.items[i].value, b.items[i].value, a.items[i].value_len) == 0);
			CHECK(a.items[i].value[a.items[i].value_len] == '\0');
		}
	}
	sbuf_init(&dec);
	sbuf_init(&enc);
	sbuf_init(&dec2);
	if (codec_url_decode(&dec, data, len, false) == 0) {
		codec_url_encode(&enc, sbuf_str(&dec), dec.len);
		CHECK(codec_url_decode(&dec2, sbuf_str(&enc), enc.len, false) == 0);
		CHECK(dec.len == dec2.len && memcmp(sbuf_str(&dec), sbuf_str(&dec2), dec.len) == 0);
	}
	sbuf_reset(&dec), sbuf_reset(&enc), sbuf_reset(&dec2);
	if (codec_base64_decode(&dec, data, len) == 0) {
		codec_base64_encode(&enc, sbuf_str(&dec), dec.len);
		CHECK(codec_base64_decode(&dec2, sbuf_str(&enc), enc.len) == 0);
		CHECK(dec.len == dec2.len && memcmp(sbuf_str(&dec), sbuf_str(&dec2), dec.len) == 0);
	}
	sbuf_free(&dec), sbuf_free(&enc), sbuf_free(&dec2), sbuf_free(&built);
	kvlist_free(&a);
	kvlist_free(&b);
}

static const char *const form_seeds[] = {
	"From=%2B447700900123&To=%2B447700900000&Body=Hello+there&MessageSid=SM1",
	"limit=10&before=99&a=&=b&&c",
	"SGVsbG8gd29ybGQ=",
	"%E2%82%AC%00%ff%",
	NULL,
};

static const char *const form_dict[] = { "&", "=", "%", "+", "%00", "%2", "%zz", "%C3%A9", NULL };

static void fuzz_utf8(const char *data, size_t len)
{
	struct sbuf re;
	size_t i = 0, n = 0;
	bool replaced = false;

	/* Decoding code point by code point and encoding again gives back exactly the valid texts. */
	sbuf_init(&re);
	while (i < len) {
		size_t at = i;
		size_t whole = codec_utf8_char(data + at, len - at);
		uint32_t cp = codec_utf8_next(data, len, &i);
		CHECK(i > at && i <= len);
		/* The reader and the validator agree on where characters end. */
		CHECK(whole ? i - at == whole : i - at == 1 && cp == CODEC_UTF8_REPLACEMENT);
		replaced = replaced || (cp == CODEC_UTF8_REPLACEMENT &&
					!(i - at == 3 && memcmp(data + at, "\xef\xbf\xbd", 3) == 0));
		utf8_put(&re, cp);
		n++;
	}
	CHECK_INT(utf8_count(data, len), n);
	bool valid = codec_utf8_valid(data, len);
	CHECK(valid == !replaced);
	if (valid)
		CHECK(re.len == len && memcmp(sbuf_str(&re), data, len) == 0);
	CHECK(codec_utf8_valid(sbuf_str(&re), re.len));
	/* Sanitising gives valid text, and valid text unchanged. */
	sbuf_reset(&re);
	codec_utf8_sanitize(&re, data, len);
	CHECK(codec_utf8_valid(sbuf_str(&re), re.len));
	if (valid)
		CHECK(re.len == len && memcmp(sbuf_str(&re), data, len) == 0);
	else
		CHECK(strstr(sbuf_str(&re), "\xef\xbf\xbd") || memmem(re.data, re.len, "\xef\xbf\xbd", 3));
	/* Distances: zero to itself, symmetric. */
	size_t half = len / 2;
	CHECK(utf8_distance(data, len, data, len) == 0);
	CHECK(utf8_distance(data, half, data + half, len - half) ==
	      utf8_distance(data + half, len - half, data, half));
	sbuf_free(&re);
}

static const char *const utf8_seeds[] = { "plain", "Zażółć gęślą jaźń", "Dŵr ŷ", "😀€£", NULL };

/* ---- phone numbers ---- */

static bool phone_is_uk_mobile(const char *s)
{
	if (strlen(s) != 13 || strncmp(s, "+447", 4) != 0)
		return false;
	for (size_t i = 1; i < 13; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void fuzz_phone(const char *data, size_t len)
{
	char out[PHONE_E164_MAX], again[PHONE_E164_MAX], masked[32], tiny[5];
	enum phone_status st;

	(void)len;
	memset(out, 'x', sizeof(out));
	st = phone_uk_mobile(data, out);
	CHECK(fuzz_terminated(out, sizeof(out)));
	CHECK(phone_status_str(st) && phone_status_message(st));
	if (st == PHONE_OK) {
		CHECK(phone_is_uk_mobile(out));
		CHECK(phone_uk_mobile(out, again) == PHONE_OK && strcmp(out, again) == 0);
		CHECK(phone_e164(out, again) == PHONE_OK && strcmp(out, again) == 0);
		phone_mask(out, masked, sizeof(masked));
		CHECK(strlen(masked) == strlen(out) && strcmp(masked + strlen(masked) - 4, "****") == 0);
	} else {
		CHECK_STR(out, "");
	}
	memset(out, 'x', sizeof(out));
	st = phone_e164(data, out);
	CHECK(fuzz_terminated(out, sizeof(out)));
	CHECK(st == PHONE_OK || st == PHONE_EMPTY || st == PHONE_BAD_CHARACTER ||
	      st == PHONE_WRONG_LENGTH);
	if (st == PHONE_OK) {
		CHECK(out[0] == '+' && strspn(out + 1, "0123456789") == strlen(out + 1));
		CHECK(phone_e164(out, again) == PHONE_OK && strcmp(out, again) == 0);
	}
	phone_mask(data, masked, sizeof(masked));
	CHECK(fuzz_terminated(masked, sizeof(masked)));
	phone_mask(data, tiny, sizeof(tiny));
	CHECK(fuzz_terminated(tiny, sizeof(tiny)));
}

static const char *const phone_seeds[] = {
	"07700 900123", "+44 7700 900123", "0044 7700 900123", "7700900123", "+44 (0)7700 900123",
	"447700900123", "01632 960123", "070 1234 5678", "0033612345678", "+1 202 555 0100",
	"\xc2\xa0" "07700-900.123", NULL,
};

static const char *const phone_dict[] = {
	"+", "00", "44", "0", "(0)", "7", "9", " ", ".", "-", "/", "(", ")", "\xc2\xa0",
	"\xe2\x80\x8b", "\xef\xbc\x90", "\xd9\xa0", "12345678901234567890", NULL,
};

/* ---- templates and rendering ---- */

/* Literal braces a validated template renders to: one per "{{" or "}}". */
static size_t template_literal_braces(const char *t)
{
	size_t n = 0;

	while (*t) {
		if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}')) {
			n++;
			t += 2;
		} else if (t[0] == '{') {
			t += strcspn(t, "}");
			t += *t ? 1 : 0;
		} else {
			t++;
		}
	}
	return n;
}

static size_t count_braces(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == '{' || s[i] == '}';
	return n;
}

static void fuzz_template(const char *data, size_t len)
{
	static const char *const values[] = { NULL, "", "Sam", "Zoë", "Thanet", "Town & Country",
					      "😀", "Łukasz" };
	struct render_tenant t;
	struct gsm_info gi, check;
	struct sbuf err, out;

	sbuf_init(&err);
	sbuf_init(&out);
	int rc = template_validate(data, render_field_names, RENDER_NFIELDS, &err);
	CHECK(rc < 0 ? err.len > 0 : err.len == 0);
	if (rc == 0) {
		CHECK(strlen(data) == len || memchr(data, '\0', len));
		for (size_t i = 0; i < RENDER_NFIELDS; i++)
			t.fields[i] = values[fuzz_below(ARRAY_LEN(values))];
		render_text(data, &t, false, &out, &gi);
		/* Brace-free values: every brace left is a literal one, no placeholder survives. */
		CHECK_INT(count_braces(sbuf_str(&out), out.len), template_literal_braces(data));
		CHECK(codec_utf8_valid(sbuf_str(&out), out.len));
		gsm_analyze(sbuf_str(&out), out.len, &check);
		CHECK(gi.segments == check.segments && gi.units == check.units &&
		      gi.encoding == check.encoding);
		sbuf_reset(&out);
		render_text(data, &t, true, &out, &gi);
		CHECK(codec_utf8_valid(sbuf_str(&out), out.len));
		CHECK(count_braces(sbuf_str(&out), out.len) == template_literal_braces(data));
	}
	sbuf_free(&err);
	sbuf_free(&out);
}

static const char *const template_seeds[] = {
	"Hi {first_name|there}, free help getting online in {borough}. Reply SKILLS, or STOP to "
	"opt out.",
	"{{literal}} {landlord} {first_name|} {{{first_name}}}",
	"Helo {first_name|ffrind}, mae help ar gael. Atebwch SGILIAU.",
	"{ first_name } {Borough} {frist_name} {first_name|a|b} {",
	NULL,
};

static const char *const template_dict[] = {
	"{", "}", "{{", "}}", "|", "{first_name}", "{borough|", "{landlord|x}", "first_name",
	"{first_name|", "€", "😀", NULL,
};

/* ---- GSM-7 / UCS-2 ---- */

/* The expected analysis from each character's own analysis, packed into parts. */
static void gsm_model(const char *s, size_t len, struct gsm_info *m)
{
	size_t i = 0, n = 0, cap = 64;
	int *g = xmalloc(cap * sizeof(*g)), *u = xmalloc(cap * sizeof(*u));
	bool gsm = true;
	struct sbuf one;

	sbuf_init(&one);
	while (i < len) {
		uint32_t cp = codec_utf8_next(s, len, &i);
		struct gsm_info ci;
		sbuf_reset(&one);
		utf8_put(&one, cp);
		gsm_analyze(sbuf_str(&one), one.len, &ci);
		if (n == cap) {
			cap *= 2;
			g = xrealloc(g, cap * sizeof(*g));
			u = xrealloc(u, cap * sizeof(*u));
		}
		g[n] = ci.encoding == GSM_ENC_GSM7 ? (int)ci.units : 0;
		u[n] = cp > 0xffff ? 2 : 1;
		gsm = gsm && g[n] > 0;
		n++;
	}
	m->encoding = gsm ? GSM_ENC_GSM7 : GSM_ENC_UCS2;
	m->chars = n;
	m->units = 0;
	for (size_t k = 0; k < n; k++)
		m->units += (size_t)(gsm ? g[k] : u[k]);
	size_t single = gsm ? 160 : 70, part = gsm ? 153 : 67, used = 0;
	m->segments = m->units == 0 ? 0 : 1;
	for (size_t k = 0; m->units > single && k < n; k++) {
		size_t c = (size_t)(gsm ? g[k] : u[k]);
		if (used + c > part)
			m->segments++, used = 0;
		used += c;
	}
	sbuf_free(&one);
	free(g);
	free(u);
}

static void fuzz_gsm(const char *data, size_t len)
{
	struct gsm_info gi, m;
	struct sbuf once, twice;

	gsm_analyze(data, len, &gi);
	gsm_model(data, len, &m);
	CHECK(gi.encoding == m.encoding);
	CHECK_INT(gi.units, m.units);
	CHECK_INT(gi.segments, m.segments);
	CHECK_INT(gi.chars, m.chars);
	CHECK(gi.segments >= 0 && (gi.segments == 0) == (len == 0));
	/* Look-alike replacement is idempotent and keeps valid text valid. */
	sbuf_init(&once);
	sbuf_init(&twice);
	gsm_smart_replace(&once, data, len);
	gsm_smart_replace(&twice, sbuf_str(&once), once.len);
	/* (Malformed bytes are copied; removing a character between them may join them.) */
	if (codec_utf8_valid(data, len)) {
		CHECK(once.len == twice.len &&
		      memcmp(sbuf_str(&once), sbuf_str(&twice), once.len) == 0);
		CHECK(codec_utf8_valid(sbuf_str(&once), once.len));
	}
	sbuf_free(&once);
	sbuf_free(&twice);
}

static const char *const gsm_seeds[] = {
	"Hi Sam, free help getting online. Reply SKILLS, or STOP to opt out.",
	"Prices from €5 [see {site}] ~ ^ | \\ \f",
	"“Smart” quotes – and … dashes\xc2\xa0here",
	"Helo, mae help ar gael: ŵ ŷ. Cześć! Привет 😀",
	NULL,
};

static const char *const gsm_dict[] = {
	"€", "[", "]", "{", "}", "~", "^", "|", "\\", "\f", "\x1b", "😀", "’", "…", "\xc2\xa0",
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	"€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€€",
	NULL,
};

/* ---- keywords ---- */

static struct keyword_base *fuzz_base;
static struct keyword_set *fuzz_keywords;

static void fuzz_keyword_match(const char *data, size_t len)
{
	struct keyword_match a, b;
	struct sbuf n1, n2;

	(void)len;
	keyword_match(fuzz_keywords, data, &a);
	keyword_match(fuzz_keywords, data, &b);
	CHECK(a.kind == b.kind && a.keyword == b.keyword);
	CHECK(a.kind == KEYWORD_MATCH_NONE || a.kind == KEYWORD_MATCH_EXACT ||
	      a.kind == KEYWORD_MATCH_TYPO || a.kind == KEYWORD_MATCH_CONFIRM);
	CHECK((a.kind == KEYWORD_MATCH_NONE) == (a.rule == KEYWORD_RULE_NONE));
	CHECK((a.kind == KEYWORD_MATCH_NONE) == (a.keyword == NULL));
	if (a.keyword) {
		bool known = keyword_builtin(a.keyword->word) == a.keyword;
		for (size_t i = 0; !known && i < keyword_set_count(fuzz_keywords); i++)
			known = keyword_set_get(fuzz_keywords, i) == a.keyword;
		CHECK(known);
	}
	/* Normalised text has single spaces, none at the ends, and normalises to itself. */
	sbuf_init(&n1);
	sbuf_init(&n2);
	keyword_normalise(data, &n1);
	keyword_normalise(sbuf_str(&n1), &n2);
	CHECK_STR(sbuf_str(&n2), sbuf_str(&n1));
	CHECK(!strstr(sbuf_str(&n1), "  "));
	CHECK(n1.len == 0 || (n1.data[0] != ' ' && n1.data[n1.len - 1] != ' '));
	if (codec_utf8_valid(data, strlen(data)))
		CHECK(codec_utf8_valid(sbuf_str(&n1), n1.len));
	sbuf_free(&n1);
	sbuf_free(&n2);
}

static const char *const keyword_seeds[] = {
	"STOP", "stop texting me please", "please don't stop texting me", "SKILS", "I need help "
	"with money", "Universal Credit", "START AGAIN", "diolch STOP STOP", "opt-out!!!",
	"😀 SKILLS 😀", "STOPP", NULL,
};

static const char *const keyword_dict[] = {
	"STOP", "START", "SKILLS", "MONEY", "HELP", " ", ".", "!", "'", "’", "-", "–", "not ",
	"don't ", "please", "YES", "😀", "\n", NULL,
};

static void fuzz_keyword_set(const char *data, size_t len)
{
	struct json_object *o = fuzz_json_doc(data, len);
	struct sbuf err;

	if (!o)
		return;
	sbuf_init(&err);
	struct keyword_set *set = keyword_set_from_json(fuzz_base, o, &err);
	CHECK(set ? err.len == 0 : err.len > 0);
	if (set) {
		/* What was accepted is written out as a set that loads again, the same. */
		struct json_object *j = keyword_set_to_json(set);
		struct sbuf err2;
		sbuf_init(&err2);
		struct keyword_set *again = keyword_set_from_json(fuzz_base, j, &err2);
		CHECK(again != NULL);
		if (again) {
			CHECK_INT(keyword_set_count(again), keyword_set_count(set));
			struct keyword_match m;
			keyword_match(again, "SKILLS", &m);
			keyword_set_free(again);
		}
		json_object_put(j);
		sbuf_free(&err2);
		keyword_set_free(set);
	}
	sbuf_free(&err);
	json_object_put(o);
}


static const char *const json_dict[] = {
	"\"", ":", ",", "{", "}", "[", "]", "null", "true", "false", "0", "-1", "1e999",
	"9223372036854775808", "NaN", "\"\\u0000\"", "\"\\ud800\"", "[[[[[[[[", "\"\"", NULL,
};

/* ---- flows ---- */

static void fuzz_flow(const char *data, size_t len)
{
	struct json_object *o = fuzz_json_doc(data, len);
	struct sbuf err;
	static const char *const texts[] = { "1", "yes", "NO please", "face to face", "",
					     "😀", "2 3", "STOP" };

	if (!o)
		return;
	sbuf_init(&err);
	struct flow *f = flow_from_json(o, &err);
	CHECK(f ? err.len == 0 : err.len > 0);
	if (f) {
		CHECK(flow_step(f, f->start) != NULL);
		CHECK(flow_is_entry(f, f->start));
		for (size_t i = 0; i < f->nsteps; i++) {
			const struct flow_step *s = &f->steps[i];
			CHECK(flow_step(f, s->id) == s);
			for (size_t j = 0; j < s->nanswers; j++)
				if (s->answers[j].outcome == FLOW_NEXT)
					CHECK(flow_step(f, s->answers[j].next) != NULL);
			const struct flow_answer *a = flow_answer(s, texts[fuzz_below(ARRAY_LEN(texts))]);
			CHECK(!a || (a >= s->answers && a < s->answers + s->nanswers));
		}
		for (size_t i = 0; i < f->nentries; i++)
			CHECK(flow_step(f, f->entries[i]) != NULL);
		flow_free(f);
	}
	sbuf_free(&err);
	json_object_put(o);
}


/* ---- audiences and send windows ---- */

static bool json_strings_ok(struct json_object *arr)
{
	if (!arr)
		return true;
	if (!json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > AUDIENCE_MAX_ITEMS)
		return false;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		if (!s || !*s || strlen(s) > AUDIENCE_MAX_LEN)
			return false;
		for (; *s; s++)
			if (*s >= 'A' && *s <= 'Z')
				return false;
	}
	return true;
}

static void fuzz_audience(const char *data, size_t len)
{
	struct json_object *o = fuzz_json_doc(data, len), *norm, *v;
	const char *field = NULL;
	struct sbuf err;

	if (!o)
		return;
	sbuf_init(&err);
	norm = audience_normalise(o, &field, &err);
	if (!norm) {
		CHECK(err.len > 0 && field && str_startswith(field, "audience"));
	} else {
		static const char *const lists[] = { "boroughs", "landlords", "languages", "tags_all",
						     "tags_any", "tags_none" };
		for (size_t i = 0; i < ARRAY_LEN(lists); i++)
			CHECK(json_strings_ok(json_object_object_get_ex(norm, lists[i], &v) ? v : NULL));
		if (json_object_object_get_ex(norm, "not_replied_to", &v))
			CHECK(json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 1);
		json_object_put(norm);
	}
	sbuf_free(&err);
	json_object_put(o);
}

static const char *const audience_seeds[] = {
	"{\"boroughs\": [\"Thanet\", \"Maidstone\"], \"landlords\": [\"Orbit\"], \"tags\": "
	"{\"all\": [\"older\"], \"any\": [\"carer\", \"job seeker\"], \"none\": [\"no-sms\"]}, "
	"\"languages\": [\"cy\", \"pt-BR\"], \"not_replied_to\": 3}",
	"{\"all\": true, \"tags\": [\"older\"]}",
	NULL,
};

static void fuzz_window(const char *data, size_t len)
{
	struct json_object *o = fuzz_json_doc(data, len);
	struct send_window w, w2;
	struct sbuf err;

	if (!o)
		return;
	sbuf_init(&err);
	window_default(&w);
	if (window_from_json(o, &w, &err) == 0) {
		CHECK(err.len == 0);
		CHECK(w.start_min >= 0 && w.start_min < w.end_min && w.end_min <= 24 * 60);
		CHECK(w.days != 0 && w.days < (1u << 7));
		/* Written out and read again, the same window. */
		struct json_object *j = window_to_json(&w);
		window_default(&w2);
		CHECK(window_from_json(j, &w2, &err) == 0);
		CHECK(w2.days == w.days && w2.start_min == w.start_min && w2.end_min == w.end_min &&
		      w2.skip_holidays == w.skip_holidays);
		json_object_put(j);
	} else {
		CHECK(err.len > 0);
	}
	sbuf_free(&err);
	json_object_put(o);
}

static const char *const window_seeds[] = {
	"{\"days\": [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"], \"start\": "
	"\"00:00\", \"end\": \"24:00\", \"skip_holidays\": false}",
	"{\"days\": [\"Monday\"], \"start\": \"9:30\", \"end\": \"17:00\"}",
	NULL,
};

static const char *const kw_seeds[] = {
	data_keywords_json,
	"{\"keywords\": [{\"word\": \"SGILIAU\", \"aliases\": [\"SGIL\"], \"action\": \"flow\", "
	"\"target\": \"digital_skills\", \"reply\": \"Diolch!\"}, {\"word\": \"AROS\", \"action\": "
	"\"opt_out\"}]}",
	NULL,
};
static const char *const fl_seeds[] = { data_digital_skills_json, data_followup_json, NULL };

static const struct fuzz_target suite_targets[] = {
	{ "csv", csv_seeds, csv_dict, fuzz_csv },
	{ "form", form_seeds, form_dict, fuzz_form },
	{ "utf8", utf8_seeds, NULL, fuzz_utf8 },
	{ "phone", phone_seeds, phone_dict, fuzz_phone },
	{ "template", template_seeds, template_dict, fuzz_template },
	{ "gsm", gsm_seeds, gsm_dict, fuzz_gsm },
	{ "keyword_match", keyword_seeds, keyword_dict, fuzz_keyword_match },
	{ "keyword_set", kw_seeds, json_dict, fuzz_keyword_set },
	{ "flow", fl_seeds, json_dict, fuzz_flow },
	{ "audience", audience_seeds, json_dict, fuzz_audience },
	{ "window", window_seeds, json_dict, fuzz_window },
};

static int fuzz_suite_open(void)
{
	struct json_object *words = json_tokener_parse(data_builtin_words_json);
	struct json_object *kw = json_tokener_parse(data_keywords_json);
	struct sbuf err;

	sbuf_init(&err);
	fuzz_base = words ? keyword_base_from_json(words, &err) : NULL;
	fuzz_keywords = fuzz_base ? keyword_set_from_json(fuzz_base, kw, &err) : NULL;
	json_object_put(words);
	json_object_put(kw);
	if (!fuzz_keywords)
		fprintf(stderr, "keywords: %s\n", sbuf_str(&err));
	sbuf_free(&err);
	window_tz_init();
	return fuzz_keywords ? 0 : -1;
}

static size_t fuzz_suite_targets(const struct fuzz_target **targets)
{
	*targets = suite_targets;
	return ARRAY_LEN(suite_targets);
}

static void fuzz_suite_close(void)
{
	keyword_set_free(fuzz_keywords);
	keyword_base_free(fuzz_base);
	fuzz_base = NULL;
	fuzz_keywords = NULL;
}

#ifndef FUZZ_TARGET
int main(int argc, char **argv)
{
	const struct fuzz_target *targets;
	size_t n = fuzz_suite_targets(&targets);

	if (fuzz_suite_open() < 0)
		return 1;
	int rc = fuzz_main(argc, argv, targets, n, "fuzz");
	fuzz_suite_close();
	return rc;
}
#endif
