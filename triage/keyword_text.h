/*
 * keyword_text.h: the word list keyword matching works on. Private to keyword*.c.
 *
 * A text is split into words of letters and digits (Latin with accents, Greek, Cyrillic,
 * Arabic script as Urdu and Sorani Kurdish write it, Devanagari for Nepali, Gurmukhi for
 * Punjabi); one apostrophe or hyphen between two letters stays inside a word ("DON'T",
 * "OPT-OUT"), curly apostrophes and dashes written as the plain ones; zero-width joiners
 * and soft hyphens are dropped. Everything else (spaces, punctuation, symbols, emoji)
 * separates words. Sentence punctuation (. , ; : ! ? the Arabic and Urdu ones, the
 * Devanagari danda, line breaks) also marks the start of a new clause, which limits how
 * far back a negation ("don't", "not") reaches.
 *
 * Each word is kept twice: upper-cased (norm: what people see, digits of every script
 * written 0-9), and folded for matching (fold: also without accents, so that "wysylaj"
 * matches "WYSYŁAJ", Turkish dotted and dotless i both I, Arabic ي and ك as Urdu writes
 * them).
 */
#ifndef SIGNPOST_KEYWORD_TEXT_H
#define SIGNPOST_KEYWORD_TEXT_H

#include "common/util.h"

struct keyword_word {
	size_t off, len;   /* in keyword_text.norm */
	size_t foff, flen; /* in keyword_text.fold */
	bool clause_start; /* sentence punctuation comes before this word */
};

struct keyword_text {
	struct sbuf norm; /* the words joined by single spaces */
	struct sbuf fold; /* the same words folded, joined by single spaces */
	struct keyword_word *words;
	size_t n, cap;
};

void keyword_text_init(struct keyword_text *t, const char *text);
void keyword_text_free(struct keyword_text *t);

/* Word i as folded. */
static inline const char *keyword_text_fold(const struct keyword_text *t, size_t i)
{
	return t->fold.data + t->words[i].foff;
}

#endif
