#include "sms/utf8.h"

#include <string.h>

#include "common/codec.h"

void utf8_put(struct sbuf *out, uint32_t cp)
{
	char b[4];

	sbuf_add(out, b, codec_utf8_encode(cp, b));
}

size_t utf8_count(const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (i < len) {
		(void)codec_utf8_next(s, len, &i);
		n++;
	}
	return n;
}

/* Decodes at most max code points; returns how many, or max + 1 when s is longer. */
static size_t utf8_decode_all(const char *s, size_t len, uint32_t *out, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len) {
		if (n == max)
			return max + 1;
		out[n++] = codec_utf8_next(s, len, &i);
	}
	return n;
}

static size_t utf8_min3(size_t a, size_t b, size_t c)
{
	return MIN(a, MIN(b, c));
}

/* Optimal string alignment over decoded strings; rows are kept for the swap case. */
static size_t utf8_osa(const uint32_t *a, size_t na, const uint32_t *b, size_t nb)
{
	size_t d[UTF8_DISTANCE_MAX_CHARS + 1][UTF8_DISTANCE_MAX_CHARS + 1];

	for (size_t i = 0; i <= na; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= nb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= na; i++) {
		for (size_t j = 1; j <= nb; j++) {
			size_t sub = a[i - 1] == b[j - 1] ? 0 : 1;
			d[i][j] = utf8_min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + sub);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
				d[i][j] = MIN(d[i][j], d[i - 2][j - 2] + 1);
		}
	}
	return d[na][nb];
}

size_t utf8_distance(const char *a, size_t alen, const char *b, size_t blen)
{
	uint32_t ca[UTF8_DISTANCE_MAX_CHARS], cb[UTF8_DISTANCE_MAX_CHARS];

	if (alen == blen && memcmp(a, b, alen) == 0)
		return 0;
	size_t na = utf8_decode_all(a, alen, ca, UTF8_DISTANCE_MAX_CHARS);
	size_t nb = utf8_decode_all(b, blen, cb, UTF8_DISTANCE_MAX_CHARS);
	if (na > UTF8_DISTANCE_MAX_CHARS || nb > UTF8_DISTANCE_MAX_CHARS)
		return SIZE_MAX;
	return utf8_osa(ca, na, cb, nb);
}
