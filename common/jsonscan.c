#include "common/jsonscan.h"

#include <string.h>

#include "common/codec.h"

/* Deeper nesting than any provider sends; the limit keeps the recursion small. */
#define JSONSCAN_MAX_DEPTH 64
/* A member name longer than this cannot be one the caller asks for. */
#define JSONSCAN_MAX_NAME 64

struct jsonscan {
	const char *s, *end;
	int depth;
};

static void jsonscan_ws(struct jsonscan *j)
{
	while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' || *j->s == '\r'))
		j->s++;
}

static bool jsonscan_eat(struct jsonscan *j, char c)
{
	if (j->s < j->end && *j->s == c) {
		j->s++;
		return true;
	}
	return false;
}

/* The four hex digits of a \u escape at s, or -1. */
static int jsonscan_u4(const char *s, const char *end)
{
	int v = 0;

	if (end - s < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = codec_hex_value(s[i]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/* The code point of the \u escape at r (after "\u"), a pair of them taken together. */
static uint32_t jsonscan_unicode(const char **r, const char *end)
{
	uint32_t cp = (uint32_t)jsonscan_u4(*r, end);

	*r += 4;
	if (cp < 0xd800 || cp > 0xdfff)
		return cp;
	if (cp <= 0xdbff && end - *r >= 6 && (*r)[0] == '\\' && (*r)[1] == 'u') {
		int low = jsonscan_u4(*r + 2, end);
		if (low >= 0xdc00 && low <= 0xdfff) {
			*r += 6;
			return 0x10000 + ((cp - 0xd800) << 10) + ((uint32_t)low - 0xdc00);
		}
	}
	return 0xfffd;
}

/*
 * Decodes a string's escapes into dst, whole characters only, always terminated; false
 * when it does not fit.
 */
static bool jsonscan_decode(const char *raw, size_t len, char *dst, size_t size, size_t *out)
{
	const char *r = raw, *end = raw + len;
	size_t o = 0;

	while (r < end) {
		const char *at = r;
		char b[4];
		size_t n;
		if (*r != '\\') {
			n = codec_utf8_char(r, (size_t)MIN(end - r, 4));
			n = n ? n : 1; /* a malformed byte goes alone */
			memcpy(b, r, n);
			r += n;
		} else {
			uint32_t cp;
			r++; /* the scan checked every escape */
			switch (*r++) {
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u': cp = jsonscan_unicode(&r, end); break;
			default: cp = (unsigned char)r[-1]; break;
			}
			n = codec_utf8_encode(cp, b);
		}
		if (o + n >= size) {
			r = at;
			break;
		}
		memcpy(dst + o, b, n);
		o += n;
	}
	dst[o] = '\0';
	*out = o;
	return r == end;
}

/* A string at j->s (its opening quote); *raw and *n get what is between the quotes. */
static bool jsonscan_string(struct jsonscan *j, const char **raw, size_t *n)
{
	if (!jsonscan_eat(j, '"'))
		return false;
	*raw = j->s;
	while (j->s < j->end) {
		unsigned char c = (unsigned char)*j->s;
		if (c == '"') {
			*n = (size_t)(j->s - *raw);
			j->s++;
			return true;
		}
		if (c < 0x20)
			return false;
		j->s++;
		if (c != '\\')
			continue;
		if (j->s >= j->end)
			return false;
		c = (unsigned char)*j->s++;
		if (c == 'u') {
			if (jsonscan_u4(j->s, j->end) < 0)
				return false;
			j->s += 4;
		} else if (!strchr("\"\\/bfnrt", c) || c == '\0') {
			return false;
		}
	}
	return false;
}

static bool jsonscan_digits(struct jsonscan *j)
{
	const char *start = j->s;

	while (j->s < j->end && *j->s >= '0' && *j->s <= '9')
		j->s++;
	return j->s > start;
}

static bool jsonscan_number(struct jsonscan *j)
{
	jsonscan_eat(j, '-');
	if (jsonscan_eat(j, '0')) {
		if (j->s < j->end && *j->s >= '0' && *j->s <= '9')
			return false; /* no leading zeros */
	} else if (!jsonscan_digits(j)) {
		return false;
	}
	if (jsonscan_eat(j, '.') && !jsonscan_digits(j))
		return false;
	if (jsonscan_eat(j, 'e') || jsonscan_eat(j, 'E')) {
		if (!jsonscan_eat(j, '+'))
			jsonscan_eat(j, '-');
		if (!jsonscan_digits(j))
			return false;
	}
	return true;
}

static bool jsonscan_literal(struct jsonscan *j, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->s) < n || memcmp(j->s, word, n) != 0)
		return false;
	j->s += n;
	return true;
}

static bool jsonscan_object(struct jsonscan *j, struct jsonscan_member *m, size_t n);
static bool jsonscan_array(struct jsonscan *j);

/* One value at j->s (after whitespace); its kind and extent go to *out when out is set. */
static bool jsonscan_value(struct jsonscan *j, struct jsonscan_member *out)
{
	struct jsonscan_member v = { 0 };
	bool ok;

	if (j->s >= j->end)
		return false;
	v.raw = j->s;
	switch (*j->s) {
	case '{':
		v.kind = JSONSCAN_NESTED;
		ok = jsonscan_object(j, NULL, 0);
		break;
	case '[':
		v.kind = JSONSCAN_NESTED;
		ok = jsonscan_array(j);
		break;
	case '"':
		v.kind = JSONSCAN_STRING;
		ok = jsonscan_string(j, &v.raw, &v.raw_len);
		break;
	case 't':
	case 'f':
	case 'n':
		v.kind = JSONSCAN_LITERAL;
		ok = jsonscan_literal(j, "true") || jsonscan_literal(j, "false") ||
		     jsonscan_literal(j, "null");
		break;
	default:
		v.kind = JSONSCAN_NUMBER;
		ok = jsonscan_number(j);
		break;
	}
	if (!ok)
		return false;
	if (v.kind != JSONSCAN_STRING)
		v.raw_len = (size_t)(j->s - v.raw);
	if (out) {
		out->kind = v.kind;
		out->raw = v.raw;
		out->raw_len = v.raw_len;
	}
	return true;
}

/* The wanted member a name (still escaped, as written) names, or NULL. */
static struct jsonscan_member *jsonscan_wanted(const char *raw, size_t len,
					       struct jsonscan_member *m, size_t n)
{
	char name[JSONSCAN_MAX_NAME + 1];

	if (n == 0)
		return NULL;
	if (memchr(raw, '\\', len)) {
		if (!jsonscan_decode(raw, len, name, sizeof(name), &len) || memchr(name, '\0', len))
			return NULL; /* too long, or with a NUL: no name a caller asks for */
		raw = name;
	}
	for (size_t i = 0; i < n; i++)
		if (strlen(m[i].name) == len && memcmp(m[i].name, raw, len) == 0)
			return &m[i];
	return NULL;
}

static bool jsonscan_object(struct jsonscan *j, struct jsonscan_member *m, size_t n)
{
	if (++j->depth > JSONSCAN_MAX_DEPTH || !jsonscan_eat(j, '{'))
		return false;
	jsonscan_ws(j);
	if (!jsonscan_eat(j, '}')) {
		do {
			const char *name;
			size_t len;
			jsonscan_ws(j);
			if (!jsonscan_string(j, &name, &len))
				return false;
			jsonscan_ws(j);
			if (!jsonscan_eat(j, ':'))
				return false;
			jsonscan_ws(j);
			if (!jsonscan_value(j, jsonscan_wanted(name, len, m, n)))
				return false;
			jsonscan_ws(j);
		} while (jsonscan_eat(j, ','));
		if (!jsonscan_eat(j, '}'))
			return false;
	}
	j->depth--;
	return true;
}

static bool jsonscan_array(struct jsonscan *j)
{
	if (++j->depth > JSONSCAN_MAX_DEPTH || !jsonscan_eat(j, '['))
		return false;
	jsonscan_ws(j);
	if (!jsonscan_eat(j, ']')) {
		do {
			jsonscan_ws(j);
			if (!jsonscan_value(j, NULL))
				return false;
			jsonscan_ws(j);
		} while (jsonscan_eat(j, ','));
		if (!jsonscan_eat(j, ']'))
			return false;
	}
	j->depth--;
	return true;
}

int jsonscan_members(const char *s, size_t len, struct jsonscan_member *m, size_t n)
{
	struct jsonscan j = { s, s + len, 0 };

	for (size_t i = 0; i < n; i++)
		m[i].kind = JSONSCAN_ABSENT;
	if (!s)
		return -1;
	jsonscan_ws(&j);
	bool ok = j.s < j.end && *j.s == '{' && jsonscan_object(&j, m, n);
	jsonscan_ws(&j);
	if (ok && j.s == j.end)
		return 0;
	for (size_t i = 0; i < n; i++)
		m[i].kind = JSONSCAN_ABSENT;
	return -1;
}

bool jsonscan_text(const struct jsonscan_member *m, char *dst, size_t size)
{
	size_t n;

	dst[0] = '\0';
	if (m->kind != JSONSCAN_STRING && m->kind != JSONSCAN_NUMBER)
		return false;
	bool fits = jsonscan_decode(m->raw, m->raw_len, dst, size, &n);
	if (memchr(dst, '\0', n)) { /* "\u0000": no C string holds the value */
		dst[0] = '\0';
		return false;
	}
	return fits;
}
