/*
 * hexline.h: reading hex-encoded lines in the unit-test binaries' command-line modes, so
 * scripts can pass any bytes (newlines, NUL-free UTF-8, invalid sequences) one per line.
 */
#ifndef SIGNPOST_HEXLINE_H
#define SIGNPOST_HEXLINE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static inline int hexline_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reads the next line of stdin and decodes its hex into out (reset first). Returns 1 for
 * a line, 0 at the end of input, -1 for a line that is not hex.
 */
static inline int hexline_read(struct sbuf *out)
{
	int c, hi = -1, rc = 0;

	sbuf_reset(out);
	sbuf_reserve(out, 0);
	while ((c = getchar()) != EOF && c != '\n') {
		rc = rc < 0 ? rc : 1;
		if (c == '\r')
			continue;
		int v = hexline_digit(c);
		if (v < 0)
			rc = -1;
		else if (hi < 0)
			hi = v;
		else
			sbuf_addc(out, (char)(hi * 16 + v)), hi = -1;
	}
	if (c == '\n' && rc == 0)
		rc = 1; /* an empty line is the empty string */
	return hi >= 0 ? -1 : rc;
}

#endif
