#include "common/codec.h"

#include <string.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void codec_base64_encode(struct sbuf *out, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t i = 0;

	sbuf_reserve(out, (n + 2) / 3 * 4);
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		char q[4] = { b64_alphabet[v >> 18], b64_alphabet[(v >> 12) & 63],
			      b64_alphabet[(v >> 6) & 63], b64_alphabet[v & 63] };
		sbuf_add(out, q, 4);
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		char q[4] = { b64_alphabet[v >> 18], b64_alphabet[(v >> 12) & 63],
			      i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=', '=' };
		sbuf_add(out, q, 4);
	}
}

void codec_base64url_encode(struct sbuf *out, const void *data, size_t n)
{
	size_t start = out->len;

	codec_base64_encode(out, data, n);
	while (out->len > start && out->data[out->len - 1] == '=')
		out->data[--out->len] = '\0';
	for (size_t i = start; i < out->len; i++)
		out->data[i] = out->data[i] == '+' ? '-' : out->data[i] == '/' ? '_' : out->data[i];
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64_alphabet, c) : NULL;
	return p ? (int)(p - b64_alphabet) : -1;
}

int codec_base64_decode(struct sbuf *out, const char *s, size_t n)
{
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=')
		n--;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			sbuf_addc(out, (char)(acc >> bits & 0xff));
		}
	}
	return bits >= 6 ? -1 : 0;
}

void codec_hex_encode(struct sbuf *out, const void *data, size_t n, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const unsigned char *p = data;

	sbuf_reserve(out, n * 2);
	for (size_t i = 0; i < n; i++) {
		out->data[out->len++] = digits[p[i] >> 4];
		out->data[out->len++] = digits[p[i] & 15];
	}
	out->data[out->len] = '\0';
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void percent_encode(struct sbuf *out, const char *s, size_t n, bool plus_for_space)
{
	static const char hex[] = "0123456789ABCDEF";
	char *o;

	sbuf_reserve(out, 3 * n);
	o = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c)) {
			*o++ = (char)c;
		} else if (c == ' ' && plus_for_space) {
			*o++ = '+';
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
}

void codec_form_encode(struct sbuf *out, const char *s, size_t n)
{
	percent_encode(out, s, n, true);
}

void codec_url_encode(struct sbuf *out, const char *s, size_t n)
{
	percent_encode(out, s, n, false);
}

int codec_hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int codec_url_decode(struct sbuf *out, const char *s, size_t n, bool plus_is_space)
{
	char *o;

	sbuf_reserve(out, n);
	o = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < n ? codec_hex_value(s[i + 1]) : -1;
			int lo = i + 2 < n ? codec_hex_value(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				out->data[out->len] = '\0'; /* out as it was */
				return -1;
			}
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*o++ = s[i] == '+' && plus_is_space ? ' ' : s[i];
		}
	}
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

int codec_form_parse(struct kvlist *l, const char *s, size_t n)
{
	struct sbuf k, v;
	int rc = -1;
	size_t i = 0;

	sbuf_init(&k);
	sbuf_init(&v);
	while (i < n) {
		size_t end = i;
		while (end < n && s[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && s[eq] != '=')
			eq++;
		if (end > i) {
			sbuf_reset(&k);
			sbuf_reset(&v);
			if (codec_url_decode(&k, s + i, eq - i, true) < 0 ||
			    (eq < end && codec_url_decode(&v, s + eq + 1, end - eq - 1, true) < 0))
				goto out;
			kvlist_addn(l, sbuf_str(&k), k.len, sbuf_str(&v), v.len);
		}
		i = end + 1;
	}
	rc = 0;
out:
	sbuf_free(&k);
	sbuf_free(&v);
	return rc;
}

void codec_form_build(struct sbuf *out, const struct kvlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			sbuf_addc(out, '&');
		codec_form_encode(out, l->items[i].key, strlen(l->items[i].key));
		sbuf_addc(out, '=');
		codec_form_encode(out, l->items[i].value, l->items[i].value_len);
	}
}

void codec_xml_escape(struct sbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': sbuf_adds(out, "&amp;"); break;
		case '<': sbuf_adds(out, "&lt;"); break;
		case '>': sbuf_adds(out, "&gt;"); break;
		case '"': sbuf_adds(out, "&quot;"); break;
		case '\'': sbuf_adds(out, "&apos;"); break;
		/* A literal CR would reach the reader as LF. */
		case '\r': sbuf_adds(out, "&#13;"); break;
		default:
			/* XML 1.0 cannot carry other C0 controls, not even as &#N;: drop them. */
			if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
				sbuf_addc(out, *s);
			break;
		}
	}
}

/* Length of the well-formed character at str[0..n) with its code point in *cp; 0 if malformed. */
static size_t codec_utf8_decode(const char *str, size_t n, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char c = s[0];
	size_t len;
	uint32_t min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, *cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, *cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, *cp = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t j = 1; j < len; j++) {
		if ((s[j] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[j] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return len;
}

size_t codec_utf8_char(const char *s, size_t n)
{
	uint32_t cp;

	return codec_utf8_decode(s, n, &cp);
}

uint32_t codec_utf8_next(const char *s, size_t n, size_t *i)
{
	uint32_t cp;
	size_t len = codec_utf8_decode(s + *i, n - *i, &cp);

	*i += len ? len : 1;
	return len ? cp : CODEC_UTF8_REPLACEMENT;
}

bool codec_utf8_valid(const char *s, size_t n)
{
	for (size_t i = 0, len; i < n; i += len)
		if (!(len = codec_utf8_char(s + i, n - i)))
			return false;
	return true;
}

void codec_utf8_sanitize(struct sbuf *out, const char *str, size_t n)
{
	size_t i = 0, run = 0;

	sbuf_reserve(out, n);
	while (i + run < n) {
		size_t len = codec_utf8_char(str + i + run, n - i - run);
		if (len) {
			run += len;
			continue;
		}
		sbuf_add(out, str + i, run);
		sbuf_adds(out, "\xef\xbf\xbd");
		i += run + 1;
		run = 0;
	}
	sbuf_add(out, str + i, run);
}

size_t codec_utf8_encode(uint32_t cp, char out[static 4])
{
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		cp = 0xfffd;
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
