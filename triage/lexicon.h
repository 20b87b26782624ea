/*
 * lexicon.h: words and phrases, each with what it means, found in a text in one pass.
 *
 * A lexicon is a trie over words: each phrase ("DON'T WANT THESE TEXTS") is a path from
 * the root, word by word, to a node holding the values added for it (a phrase may mean
 * several things). It is built once when data is loaded (a hash table keyed by a node and
 * a word), then only read: finding what starts at a word of a text costs one lookup per
 * word walked, whatever the size of the lexicon. Words are compared as bytes, so phrases
 * and texts must be folded the same way (keyword_text).
 *
 * Phrase data may be written as patterns: "(DON'T|DO NOT) WANT (THESE|YOUR|) TEXTS"
 * stands for every choice of one alternative per group, an empty alternative leaving the
 * group out (lexicon_expand).
 */
#ifndef SIGNPOST_LEXICON_H
#define SIGNPOST_LEXICON_H

#include <stdint.h>

#include "common/util.h"

#define LEXICON_ROOT 0u
#define LEXICON_NONE UINT32_MAX
/* Most variants one pattern may stand for. */
#define LEXICON_EXPAND_MAX 4096

struct lexicon;

struct lexicon *lexicon_new(void);
void lexicon_free(struct lexicon *lx);
/* Adds the phrase words[0..n) (each words[i] of lens[i] bytes) meaning value. */
void lexicon_add(struct lexicon *lx, const char *const *words, const size_t *lens, size_t n,
		 uint32_t value);
/* The node reached from node by word, or LEXICON_NONE. */
uint32_t lexicon_step(const struct lexicon *lx, uint32_t node, const char *word, size_t len);
/* The values of phrases ending at node; *n is 0 for none. */
const uint32_t *lexicon_values(const struct lexicon *lx, uint32_t node, size_t *n);
/* Number of phrases added. */
size_t lexicon_count(const struct lexicon *lx);

/*
 * Calls fn with each variant of pattern (see above) until it returns -1. Returns -1 with
 * a message in err for unbalanced parentheses, nested groups or more than
 * LEXICON_EXPAND_MAX variants, or when fn fails.
 */
int lexicon_expand(const char *pattern, int (*fn)(const char *variant, void *arg), void *arg,
		   struct sbuf *err) WUR;

#endif
