#include "triage/keyword_text.h"

#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "sms/utf8.h"

enum keyword_char {
	KEYWORD_CHAR_LETTER,
	KEYWORD_CHAR_JOINER, /* apostrophe or hyphen: kept between two letters */
	KEYWORD_CHAR_CLAUSE, /* sentence punctuation */
	KEYWORD_CHAR_OTHER,  /* spaces, symbols, emoji */
};

static bool keyword_is_letter(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
	if (cp >= 0xc0 && cp <= 0x24f)
		return cp != 0xd7 && cp != 0xf7;
	return (cp >= 0x300 && cp <= 0x36f) ||  /* combining accents */
	       (cp >= 0x370 && cp <= 0x3ff) ||  /* Greek */
	       (cp >= 0x400 && cp <= 0x52f) ||  /* Cyrillic */
	       (cp >= 0x1e00 && cp <= 0x1eff); /* Latin extended additional: ẁ ẃ ỳ ... */
}

static enum keyword_char keyword_classify(uint32_t cp, uint32_t *joiner)
{
	if (keyword_is_letter(cp))
		return KEYWORD_CHAR_LETTER;
	if (cp == '\'' || cp == 0x2018 || cp == 0x2019 || cp == 0x02bc || cp == '`') {
		*joiner = '\'';
		return KEYWORD_CHAR_JOINER;
	}
	if (cp == '-' || cp == 0x2010 || cp == 0x2011 || cp == 0x2013) {
		*joiner = '-';
		return KEYWORD_CHAR_JOINER;
	}
	if (cp == '.' || cp == ',' || cp == ';' || cp == ':' || cp == '!' || cp == '?' ||
	    cp == '\n' || cp == '\r' || cp == 0x2026)
		return KEYWORD_CHAR_CLAUSE;
	return KEYWORD_CHAR_OTHER;
}

/* Upper case for ASCII, Latin-1, Latin Extended-A, Latin Extended Additional, Greek and
 * Cyrillic; other characters are returned as they are. */
static uint32_t keyword_upper(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if ((c >= 0xe0 && c <= 0xfe && c != 0xf7) || (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return c - 32;
	if (c == 0xff)
		return 0x178;
	if (c == 0x3c2)
		return 0x3a3; /* final sigma */
	if (c == 0x3ac || c == 0x3cc)
		return c == 0x3ac ? 0x386 : 0x38c; /* ά ό */
	if (c >= 0x3ad && c <= 0x3af)
		return c - 37; /* έ ή ί */
	if (c == 0x3cd || c == 0x3ce)
		return c - 63; /* ύ ώ */
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177) ||
	    (c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return c & 1 ? c - 1 : c;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c : c - 1;
	return c;
}

struct keyword_builder {
	struct keyword_text *t;
	bool in_word;
	bool clause;     /* sentence punctuation since the last word */
	uint32_t joiner; /* pending apostrophe or hyphen inside a word, or 0 */
};

static void keyword_add_letter(struct keyword_builder *b, uint32_t cp)
{
	struct keyword_text *t = b->t;

	if (!b->in_word) {
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 16;
			t->words = xrealloc(t->words, t->cap * sizeof(*t->words));
		}
		if (t->n)
			sbuf_addc(&t->norm, ' ');
		t->words[t->n].off = t->norm.len;
		t->words[t->n].len = 0;
		t->words[t->n].clause_start = b->clause;
		t->n++;
		b->in_word = true;
		b->clause = false;
	} else if (b->joiner) {
		sbuf_addc(&t->norm, (char)b->joiner);
	}
	b->joiner = 0;
	utf8_put(&t->norm, keyword_upper(cp));
	t->words[t->n - 1].len = t->norm.len - t->words[t->n - 1].off;
}

static void keyword_feed(struct keyword_builder *b, uint32_t cp)
{
	uint32_t joiner = 0;
	enum keyword_char k = keyword_classify(cp, &joiner);

	if (k == KEYWORD_CHAR_LETTER) {
		keyword_add_letter(b, cp);
	} else if (k == KEYWORD_CHAR_JOINER && b->in_word && !b->joiner) {
		b->joiner = joiner;
	} else {
		b->in_word = false;
		b->joiner = 0;
		if (k == KEYWORD_CHAR_CLAUSE)
			b->clause = true;
	}
}

void keyword_text_init(struct keyword_text *t, const char *text)
{
	struct keyword_builder b = {.t = t};
	size_t i = 0, len = text ? strlen(text) : 0;

	sbuf_init(&t->norm);
	t->words = NULL;
	t->n = t->cap = 0;
	sbuf_reserve(&t->norm, len);
	while (i < len)
		keyword_feed(&b, codec_utf8_next(text, len, &i));
}

void keyword_text_free(struct keyword_text *t)
{
	sbuf_free(&t->norm);
	free(t->words);
	t->words = NULL;
	t->n = t->cap = 0;
}

bool keyword_text_word_is(const struct keyword_text *t, size_t i, const char *s)
{
	const struct keyword_word *w = &t->words[i];

	return strlen(s) == w->len && memcmp(t->norm.data + w->off, s, w->len) == 0;
}

size_t keyword_text_phrase_at(const struct keyword_text *t, const size_t *idx, size_t nidx,
			      size_t i, const char *phrase)
{
	const char *p = phrase;
	size_t k = 0;

	while (*p) {
		size_t wl = strcspn(p, " ");
		if (i + k >= nidx)
			return 0;
		const struct keyword_word *w = &t->words[idx[i + k]];
		if (w->len != wl || memcmp(t->norm.data + w->off, p, wl) != 0)
			return 0;
		k++;
		p += wl;
		p += *p == ' ';
	}
	return k;
}

size_t keyword_text_count_words(const char *phrase)
{
	size_t n = 0;

	for (const char *p = phrase; *p; p += strspn(p, " ")) {
		n++;
		p += strcspn(p, " ");
	}
	return n;
}
