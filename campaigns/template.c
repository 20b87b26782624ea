#include "campaigns/template.h"

#include <string.h>

#include "common/codec.h"
#include "sms/utf8.h"

enum template_tok_kind {
	TEMPLATE_TOK_END,
	TEMPLATE_TOK_TEXT,  /* literal text, with "{{" and "}}" already reduced to one brace */
	TEMPLATE_TOK_FIELD, /* {name} or {name|fallback} */
	TEMPLATE_TOK_ERROR,
};

struct template_tok {
	enum template_tok_kind kind;
	const char *start; /* where the token begins in the template */
	const char *text;  /* TEXT: the literal bytes; FIELD: the name */
	size_t len;
	const char *fallback; /* FIELD: NULL when there is no '|' */
	size_t fallback_len;
};

/* 1-based character (code point) position of p in tmpl, for messages. */
static size_t template_pos(const char *tmpl, const char *p)
{
	return utf8_count(tmpl, (size_t)(p - tmpl)) + 1;
}

static bool template_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || c == '_';
}

static bool template_name_char(char c)
{
	return template_name_start(c) || (c >= '0' && c <= '9');
}

/* Explains what is wrong with a placeholder name, or returns 0 when it is valid. */
static WUR int template_check_name(const char *tmpl, const struct template_tok *t, size_t raw_len,
				struct sbuf *err)
{
	const char *n = t->text;
	size_t len = t->len, pos = template_pos(tmpl, t->start);
	int rc = -1;

	if (len == 0) {
		sbuf_printf(err, "empty placeholder %.*s at character %zu; write {{ for a literal "
			    "brace", (int)raw_len, t->start, pos);
		goto out;
	}
	for (size_t i = 0; i < len; i++) {
		if (n[i] == ' ' || n[i] == '\t') {
			sbuf_printf(err, "space inside placeholder %.*s at character %zu; write the "
				    "name without spaces, for example {first_name}",
				    (int)raw_len, t->start, pos);
			goto out;
		}
		if (n[i] >= 'A' && n[i] <= 'Z') {
			sbuf_printf(err, "placeholder %.*s at character %zu: names are written in "
				    "lower case, for example {first_name}", (int)raw_len, t->start, pos);
			goto out;
		}
		if (!template_name_char(n[i]) || (i == 0 && !template_name_start(n[i]))) {
			sbuf_printf(err, "placeholder %.*s at character %zu: a name uses only "
				    "lower-case letters, digits and _ and starts with a letter",
				    (int)raw_len, t->start, pos);
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}

/* Parses the placeholder starting at p ('{', not "{{"). */
static WUR int template_parse_field(const char *tmpl, const char *p, struct template_tok *t,
				struct sbuf *err)
{
	const char *inner = p + 1;
	size_t n = strcspn(inner, "{}");
	int rc = -1;

	t->kind = TEMPLATE_TOK_ERROR;
	if (inner[n] != '}') {
		sbuf_printf(err, "unclosed '{' at character %zu; close the placeholder with '}' or "
			    "write {{ for a literal brace", template_pos(tmpl, p));
		goto out;
	}
	const char *bar = memchr(inner, '|', n);
	t->text = inner;
	t->len = bar ? (size_t)(bar - inner) : n;
	t->fallback = bar ? bar + 1 : NULL;
	t->fallback_len = bar ? n - t->len - 1 : 0;
	if (bar && memchr(t->fallback, '|', t->fallback_len)) {
		sbuf_printf(err, "placeholder %.*s at character %zu has more than one '|'; write "
			    "{name|fallback}", (int)n + 2, p, template_pos(tmpl, p));
		goto out;
	}
	if (template_check_name(tmpl, t, n + 2, err) < 0)
		goto out;
	t->kind = TEMPLATE_TOK_FIELD;
	t->start = p;
	rc = 0;
out:
	return rc;
}

/*
 * Reads the token at *pp and advances *pp past it. err may be NULL when the caller only
 * needs to know that the template is broken from here on.
 */
static void template_next(const char *tmpl, const char **pp, struct template_tok *t,
			  struct sbuf *err)
{
	struct sbuf ignored;
	const char *p = *pp;

	sbuf_init(&ignored);
	memset(t, 0, sizeof(*t));
	t->start = p;
	if (*p == '\0') {
		t->kind = TEMPLATE_TOK_END;
	} else if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
		t->kind = TEMPLATE_TOK_TEXT, t->text = p, t->len = 1, *pp = p + 2;
	} else if (p[0] == '}') {
		t->kind = TEMPLATE_TOK_ERROR;
		sbuf_printf(err ? err : &ignored, "unmatched '}' at character %zu; write }} for a "
			    "literal brace", template_pos(tmpl, p));
	} else if (p[0] == '{') {
		if (template_parse_field(tmpl, p, t, err ? err : &ignored) == 0)
			*pp = t->text + t->len + (t->fallback ? t->fallback_len + 1 : 0) + 1;
	} else {
		t->kind = TEMPLATE_TOK_TEXT, t->text = p, t->len = strcspn(p, "{}");
		*pp = p + t->len;
	}
	sbuf_free(&ignored);
}

static void template_list_known(struct sbuf *err, const char *const *known, size_t nknown)
{
	if (nknown == 0) {
		sbuf_adds(err, "this text cannot use placeholders");
		return;
	}
	sbuf_adds(err, "known placeholders are ");
	for (size_t i = 0; i < nknown; i++)
		sbuf_printf(err, "%s{%s}", i ? ", " : "", known[i]);
}

/* Index of the known name closest to t's name (two edits at most), or nknown. */
static size_t template_closest(const struct template_tok *t, const char *const *known,
			       size_t nknown)
{
	size_t best = nknown, best_d = 3;

	for (size_t i = 0; i < nknown; i++) {
		size_t d = utf8_distance(t->text, t->len, known[i], strlen(known[i]));
		if (d < best_d)
			best = i, best_d = d;
	}
	return best;
}

static bool template_is_known(const struct template_tok *t, const char *const *known,
			      size_t nknown)
{
	for (size_t i = 0; i < nknown; i++)
		if (strlen(known[i]) == t->len && memcmp(known[i], t->text, t->len) == 0)
			return true;
	return false;
}

static void template_unknown(const struct template_tok *t, const char *const *known,
			     size_t nknown, struct sbuf *err)
{
	size_t close = template_closest(t, known, nknown);

	sbuf_printf(err, "unknown placeholder {%.*s}; ", (int)t->len, t->text);
	template_list_known(err, known, nknown);
	if (close < nknown)
		sbuf_printf(err, "; did you mean {%s}?", known[close]);
}

int template_validate(const char *tmpl, const char *const *known, size_t nknown,
		      struct sbuf *err)
{
	const char *p = tmpl;
	struct template_tok t;
	int rc = -1;

	if (!codec_utf8_valid(tmpl, strlen(tmpl))) {
		sbuf_adds(err, "the text is not valid UTF-8");
		goto out;
	}
	for (template_next(tmpl, &p, &t, err); t.kind != TEMPLATE_TOK_END;
	     template_next(tmpl, &p, &t, err)) {
		if (t.kind == TEMPLATE_TOK_ERROR)
			goto out;
		if (t.kind == TEMPLATE_TOK_FIELD && !template_is_known(&t, known, nknown)) {
			template_unknown(&t, known, nknown, err);
			goto out;
		}
	}
	rc = 0;
out:
	return rc;
}

static const char *template_value(const struct template_tok *t,
				  const struct template_field *fields, size_t nfields)
{
	for (size_t i = 0; i < nfields; i++) {
		const char *name = fields[i].name;
		if (strlen(name) == t->len && memcmp(name, t->text, t->len) == 0)
			return fields[i].value;
	}
	return NULL;
}

void template_render(const char *tmpl, const struct template_field *fields, size_t nfields,
		     struct sbuf *out)
{
	const char *p = tmpl;
	struct template_tok t;

	sbuf_reserve(out, strlen(tmpl));
	for (template_next(tmpl, &p, &t, NULL); t.kind != TEMPLATE_TOK_END;
	     template_next(tmpl, &p, &t, NULL)) {
		if (t.kind == TEMPLATE_TOK_ERROR) {
			sbuf_adds(out, p); /* not validated: keep the rest as written */
			break;
		}
		if (t.kind == TEMPLATE_TOK_TEXT) {
			sbuf_add(out, t.text, t.len);
			continue;
		}
		const char *v = template_value(&t, fields, nfields);
		if (v && *v)
			sbuf_adds(out, v);
		else if (t.fallback)
			sbuf_add(out, t.fallback, t.fallback_len);
	}
}
