/*
 * gsm.h: GSM 03.38 / UCS-2 encoding choice and SMS segment counting.
 */
#ifndef SIGNPOST_GSM_H
#define SIGNPOST_GSM_H

#include "common/util.h"

enum gsm_encoding {
	GSM_ENC_GSM7,
	GSM_ENC_UCS2,
};

const char *gsm_encoding_str(enum gsm_encoding e);

struct gsm_info {
	enum gsm_encoding encoding;
	size_t units;  /* septets for GSM-7 (extension characters count 2), UTF-16 units for UCS-2 */
	int segments;  /* 0 for an empty text */
	size_t chars;  /* Unicode code points */
};

/*
 * Analyses valid UTF-8 text: GSM-7 when every character is in the basic or extension
 * table, UCS-2 otherwise. Segments: 160/153 septets, 70/67 UTF-16 units, never splitting
 * an escape pair or a surrogate pair across parts. A malformed byte counts as U+FFFD (one
 * UCS-2 unit); a literal ESC (U+001B) is not text and makes the message UCS-2.
 */
void gsm_analyze(const char *utf8, size_t len, struct gsm_info *out);

/*
 * The characters that make text UCS-2, those GSM-7 cannot carry: writes each distinct one
 * once to out, in the order they first appear, and returns how many there are (0 for a
 * GSM-7 text). out must have room for len code points: a text has no more characters
 * than bytes. A malformed byte counts as U+FFFD, as in gsm_analyze.
 */
size_t gsm_ucs2_chars(const char *utf8, size_t len, uint32_t *out);

/*
 * Smart encoding: appends text to out with look-alikes replaced by GSM-7 characters
 * (curly quotes, en and em dashes, ellipsis, non-breaking and other spaces, ...), so a
 * text written in a word processor stays GSM-7. Characters with no look-alike are kept.
 *
 * Replaced: ’ ‘ ‚ ‛ ′ ‹ › ʼ ` ´ -> '; “ ” „ ‟ ″ « » -> "; ‐ ‑ ‒ – — ― − • ‣ ⁃ -> -;
 * … -> ...; ․ -> .; tab, no-break space, U+2000-U+200A, U+202F, U+205F, U+3000 -> space;
 * line and paragraph separators -> newline; zero-width space, word joiner, byte-order mark
 * and soft hyphen are removed. Letters are never changed (Welsh ŵ ŷ, Polish ą ł ż ...
 * are words, not typography), nor emoji or their zero-width joiners: such a text goes as
 * UCS-2. Malformed UTF-8 bytes are copied as they are.
 */
void gsm_smart_replace(struct sbuf *out, const char *utf8, size_t len);

#endif
