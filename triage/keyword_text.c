#include "triage/keyword_text.h"

#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "sms/utf8.h"

enum keyword_char {
	KEYWORD_CHAR_LETTER,
	KEYWORD_CHAR_JOINER, /* apostrophe or hyphen: kept between two letters */
	KEYWORD_CHAR_CLAUSE, /* sentence punctuation */
	KEYWORD_CHAR_IGNORE, /* zero-width joiners, soft hyphens: dropped, words go on */
	KEYWORD_CHAR_OTHER,  /* spaces, symbols, emoji */
};

static bool keyword_is_letter(uint32_t cp)
{
	if (cp < 0x80)
		return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
	if (cp >= 0xc0 && cp <= 0x24f)
		return cp != 0xd7 && cp != 0xf7;
	if (cp >= 0x600 && cp <= 0x6ff) /* Arabic script, less its punctuation */
		return !(cp <= 0x60f || cp == 0x61b || cp == 0x61f || (cp >= 0x66a && cp <= 0x66d) ||
			 cp == 0x6d4 || cp == 0x6dd || cp == 0x6de || cp == 0x6e9);
	return (cp >= 0x300 && cp <= 0x36f) ||  /* combining accents */
	       (cp >= 0x370 && cp <= 0x3ff) ||  /* Greek */
	       (cp >= 0x400 && cp <= 0x52f) ||  /* Cyrillic */
	       (cp >= 0x750 && cp <= 0x77f) ||  /* Arabic Supplement */
	       (cp >= 0x8a0 && cp <= 0x8ff) ||  /* Arabic Extended-A */
	       (cp >= 0x900 && cp <= 0x97f && cp != 0x964 && cp != 0x965) || /* Devanagari */
	       (cp >= 0xa00 && cp <= 0xa7f) ||  /* Gurmukhi */
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
	if (cp == 0x200c || cp == 0x200d || cp == 0xad)
		return KEYWORD_CHAR_IGNORE;
	if (cp == '.' || cp == ',' || cp == ';' || cp == ':' || cp == '!' || cp == '?' ||
	    cp == '\n' || cp == '\r' || cp == 0x2026 || cp == 0x60c || cp == 0x61b ||
	    cp == 0x61f || cp == 0x6d4 || cp == 0x964 || cp == 0x965)
		return KEYWORD_CHAR_CLAUSE;
	return KEYWORD_CHAR_OTHER;
}

/* Digits of the Arabic, Urdu, Devanagari and Gurmukhi scripts as 0-9; others as they are. */
static uint32_t keyword_digit(uint32_t c)
{
	static const uint32_t zeros[] = { 0x660, 0x6f0, 0x966, 0xa66 };

	for (size_t i = 0; i < ARRAY_LEN(zeros); i++)
		if (c >= zeros[i] && c <= zeros[i] + 9)
			return '0' + (c - zeros[i]);
	return c;
}

/* Upper case for ASCII, Latin-1, Latin Extended-A, Romanian's Ș Ț, Latin Extended
 * Additional, Greek and Cyrillic; digits as 0-9; other characters are returned as they are. */
static uint32_t keyword_upper(uint32_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if ((c >= 0xe0 && c <= 0xfe && c != 0xf7) || (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return c - 32;
	if (c == 0xff)
		return 0x178;
	if (c == 0x131)
		return 'I'; /* Turkish dotless i */
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
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177) || (c >= 0x218 && c <= 0x21b) ||
	    (c >= 0x1e00 && c <= 0x1e95) || (c >= 0x1ea0 && c <= 0x1eff))
		return c & 1 ? c - 1 : c;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return c & 1 ? c : c - 1;
	return keyword_digit(c);
}

/* Latin letters U+00C0-U+00DE and U+0100-U+017F without their accents ('\0': kept). */
static const char keyword_fold_latin1[] = "AAAAAAACEEEEIIIIDNOOOOO\0OUUUUY";
static const char keyword_fold_latin_a[] =
	"AAAAAACCCCCCCCDDDDEEEEEEEEEEGGGGGGGGHHHHIIIIIIIIIIIIJJKKKLLLLLLLLLLNNNNNNNNNOOOOOOOO"
	"RRRRRRSSSSSSSSTTTTTTUUUUUUUUUUUUWWYYYZZZZZZS";

_Static_assert(sizeof(keyword_fold_latin_a) - 1 == 0x80, "a letter for each of U+0100-U+017F");

/*
 * An upper-cased character as matching sees it: Latin letters without accents, combining
 * accents, Arabic vowel marks and the tatweel dropped (0), Arabic ي ى ك as Urdu's ی ک.
 */
static uint32_t keyword_fold(uint32_t c)
{
	if (c >= 0xc0 && c < 0xc0 + sizeof(keyword_fold_latin1) - 1 && keyword_fold_latin1[c - 0xc0])
		return (unsigned char)keyword_fold_latin1[c - 0xc0];
	if (c >= 0x100 && c <= 0x17f)
		return (unsigned char)keyword_fold_latin_a[c - 0x100];
	if (c >= 0x218 && c <= 0x21b)
		return c < 0x21a ? 'S' : 'T';
	if ((c >= 0x1e80 && c <= 0x1e85) || c == 0x1ef2 || c == 0x1ef3)
		return c < 0x1ef2 ? 'W' : 'Y';
	if ((c >= 0x300 && c <= 0x36f) || (c >= 0x64b && c <= 0x65f) || c == 0x670 || c == 0x640)
		return 0;
	if (c == 0x64a || c == 0x649)
		return 0x6cc;
	if (c == 0x643)
		return 0x6a9;
	return c;
}

struct keyword_builder {
	struct keyword_text *t;
	bool in_word;
	bool clause;     /* sentence punctuation since the last word */
	uint32_t joiner; /* pending apostrophe or hyphen inside a word, or 0 */
};

static void keyword_word_start(struct keyword_builder *b)
{
	struct keyword_text *t = b->t;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->words = xrealloc(t->words, t->cap * sizeof(*t->words));
	}
	if (t->n) {
		sbuf_addc(&t->norm, ' ');
		sbuf_addc(&t->fold, ' ');
	}
	t->words[t->n] = (struct keyword_word){ .off = t->norm.len, .foff = t->fold.len,
						.clause_start = b->clause };
	t->n++;
	b->in_word = true;
	b->clause = false;
}

static void keyword_add_letter(struct keyword_builder *b, uint32_t cp)
{
	struct keyword_text *t = b->t;
	struct keyword_word *w;
	uint32_t up = keyword_upper(cp), folded = keyword_fold(up);

	if (!b->in_word) {
		keyword_word_start(b);
	} else if (b->joiner) {
		sbuf_addc(&t->norm, (char)b->joiner);
		sbuf_addc(&t->fold, (char)b->joiner);
	}
	b->joiner = 0;
	utf8_put(&t->norm, up);
	if (folded)
		utf8_put(&t->fold, folded);
	w = &t->words[t->n - 1];
	w->len = t->norm.len - w->off;
	w->flen = t->fold.len - w->foff;
}

static void keyword_feed(struct keyword_builder *b, uint32_t cp)
{
	uint32_t joiner = 0;
	enum keyword_char k = keyword_classify(cp, &joiner);

	if (k == KEYWORD_CHAR_LETTER) {
		keyword_add_letter(b, cp);
	} else if (k == KEYWORD_CHAR_JOINER && b->in_word && !b->joiner) {
		b->joiner = joiner;
	} else if (k != KEYWORD_CHAR_IGNORE) {
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
	sbuf_init(&t->fold);
	t->words = NULL;
	t->n = t->cap = 0;
	sbuf_reserve(&t->norm, len);
	sbuf_reserve(&t->fold, len);
	while (i < len)
		keyword_feed(&b, codec_utf8_next(text, len, &i));
}

void keyword_text_free(struct keyword_text *t)
{
	sbuf_free(&t->norm);
	sbuf_free(&t->fold);
	free(t->words);
	t->words = NULL;
	t->n = t->cap = 0;
}
