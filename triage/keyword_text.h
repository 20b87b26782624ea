/*
 * keyword_text.h: the word list keyword matching works on. Private to keyword*.c.
 *
 * A text is split into words of letters and digits (Latin with accents, Greek, Cyrillic);
 * one apostrophe or hyphen between two letters stays inside a word ("DON'T", "OPT-OUT"),
 * curly apostrophes and dashes written as the plain ones. Everything else (spaces,
 * punctuation, symbols, emoji) separates words. Words are upper-cased. Sentence
 * punctuation (. , ; : ! ? and line breaks) also marks the start of a new clause, which
 * limits how far back a negation ("don't", "not") reaches.
 */
#ifndef SIGNPOST_KEYWORD_TEXT_H
#define SIGNPOST_KEYWORD_TEXT_H

#include "common/util.h"

struct keyword_word {
	size_t off, len;   /* in keyword_text.norm */
	bool clause_start; /* sentence punctuation comes before this word */
};

struct keyword_text {
	struct sbuf norm; /* the words joined by single spaces */
	struct keyword_word *words;
	size_t n, cap;
};

void keyword_text_init(struct keyword_text *t, const char *text);
void keyword_text_free(struct keyword_text *t);

/*
 * When words[idx[i]], words[idx[i + 1]] ... spell the space-separated phrase, the number
 * of words in it; 0 otherwise.
 */
size_t keyword_text_phrase_at(const struct keyword_text *t, const size_t *idx, size_t nidx,
			      size_t i, const char *phrase);
/* True when word i equals s. */
bool keyword_text_word_is(const struct keyword_text *t, size_t i, const char *s);
/* Number of words in a space-separated phrase. */
size_t keyword_text_count_words(const char *phrase);

#endif
