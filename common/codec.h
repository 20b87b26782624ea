/*
 * codec.h: byte encodings used on the wire: base64, hex, URL/form encoding, XML escaping,
 * UTF-8 reading, writing and validation.
 */
#ifndef SIGNPOST_CODEC_H
#define SIGNPOST_CODEC_H

#include "common/util.h"

void codec_base64_encode(struct sbuf *out, const void *data, size_t n);
/* base64url (RFC 4648 section 5: - and _ for + and /) without padding, as JWTs use it. */
void codec_base64url_encode(struct sbuf *out, const void *data, size_t n);
/* Standard alphabet; accepts missing padding. Returns -1 on a bad character. */
int codec_base64_decode(struct sbuf *out, const char *s, size_t n) WUR;
void codec_hex_encode(struct sbuf *out, const void *data, size_t n, bool upper);
/* The value of one hexadecimal digit (either case), or -1. */
int codec_hex_value(char c);

/* application/x-www-form-urlencoded: unreserved bytes as is, space as '+', others %XX. */
void codec_form_encode(struct sbuf *out, const char *s, size_t n);
/* Percent-encoding for a URL query or path segment (space as %20). */
void codec_url_encode(struct sbuf *out, const char *s, size_t n);
/* Decodes %XX and, when plus_is_space, '+'. Returns -1 on a malformed escape. */
int codec_url_decode(struct sbuf *out, const char *s, size_t n, bool plus_is_space) WUR;
/* Parses "a=1&b=2" (form body or query string) into l, appending. -1 on a bad escape. */
int codec_form_parse(struct kvlist *l, const char *s, size_t n) WUR;
/* Appends "k1=v1&k2=v2" form-encoded. */
void codec_form_build(struct sbuf *out, const struct kvlist *l);

/* Escapes & < > " ' and CR; drops the C0 controls XML 1.0 cannot carry (all but TAB, LF). */
void codec_xml_escape(struct sbuf *out, const char *s);

#define CODEC_UTF8_REPLACEMENT 0xfffdu

/* Length of the well-formed UTF-8 character at s[0..n) (n > 0), or 0 when it is malformed. */
size_t codec_utf8_char(const char *s, size_t n);
/*
 * Decodes the code point at s[*i] (with *i < n) and advances *i past it. A malformed or
 * truncated sequence, an overlong form, a surrogate or a value past U+10FFFF decodes as
 * U+FFFD and consumes one byte.
 */
uint32_t codec_utf8_next(const char *s, size_t n, size_t *i);
/* True when s[0..n) is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
bool codec_utf8_valid(const char *s, size_t n);
/* Writes cp as UTF-8 (U+FFFD for surrogates and values past U+10FFFF); returns 1 to 4. */
size_t codec_utf8_encode(uint32_t cp, char out[static 4]);
/* Appends s[0..n) with each byte that is not part of well-formed UTF-8 replaced by U+FFFD. */
void codec_utf8_sanitize(struct sbuf *out, const char *s, size_t n);

#endif
