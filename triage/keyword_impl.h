/*
 * keyword_impl.h: what keyword*.c share: the built-in base, a set's insides and the
 * entries of their lexicons. Private to triage/keyword*.c.
 */
#ifndef SIGNPOST_KEYWORD_IMPL_H
#define SIGNPOST_KEYWORD_IMPL_H

#include <stdint.h>

#include "triage/keyword.h"
#include "triage/keyword_text.h"
#include "triage/lexicon.h"

/* What a phrase in a lexicon means. */
enum keyword_sense {
	KEYWORD_SENSE_OPT_OUT_WORD,   /* opts out as the whole reply */
	KEYWORD_SENSE_OPT_OUT_CLAUSE, /* opts out as a whole sentence, or the whole reply */
	KEYWORD_SENSE_OPT_OUT_PHRASE, /* opts out anywhere, unless negated or excepted */
	KEYWORD_SENSE_NOT_OPT_OUT,    /* an exception: an opt-out phrase inside it does not count */
	KEYWORD_SENSE_OPT_IN_WORD,    /* opts in as the whole reply */
	KEYWORD_SENSE_MENTION,        /* a built-in keyword word: a sentence with it is for a person */
	KEYWORD_SENSE_COURTESY,
	KEYWORD_SENSE_NEGATION,       /* undoes opt-out phrases and keywords after it */
	KEYWORD_SENSE_NEED_NEGATION,  /* undoes keywords after it ("don't need") */
	KEYWORD_SENSE_BARRIER,        /* a negation does not reach past it ("but") */
	KEYWORD_SENSE_YES,
	KEYWORD_SENSE_NOT_TYPO,       /* a common word, never a typo of a keyword */
	KEYWORD_SENSE_MARKER,         /* a word of a language */
	KEYWORD_SENSE_FORM,           /* a set keyword's word, alias or word in a language */
	KEYWORD_SENSE_HINT,           /* suggests a set keyword */
};

struct keyword_entry {
	enum keyword_sense sense;
	const struct keyword *keyword; /* built in or the set's; NULL for most base senses */
	char *form;                    /* the phrase, folded (owned) */
	char lang[TEXTS_LANG_MAX];     /* "" when the phrase belongs to no one language */
};

/* A lexicon and the entries its values index. */
struct keyword_lex {
	struct lexicon *lx;
	struct keyword_entry *entries;
	size_t n, cap;
};

struct keyword_lang {
	char code[TEXTS_LANG_MAX];
	char *name;
	uint32_t (*ranges)[2]; /* letters only this language uses, first to last */
	size_t nranges;
};

struct keyword_base {
	struct keyword_lex lex;
	struct keyword_lang *langs;
	size_t nlangs;
};

/* A one-word form a typo may be meant for, decoded once. */
struct keyword_typo_form {
	const struct keyword *keyword;
	const char *form; /* folded */
	size_t len, chars;
};

struct keyword_set {
	const struct keyword_base *base;
	struct keyword *items;
	size_t n, cap;
	struct texts replies[KEYWORD_REPLY_COUNT];
	char **not_typos;
	size_t nnot_typos;
	/* compiled by keyword_set_compile */
	struct keyword_lex lex;
	struct keyword_typo_form *typos;
	size_t ntypos;
};

/* The built-in keywords (STOP ... UNSTOP) and how many there are. */
extern const struct keyword keyword_builtins[];
extern const size_t keyword_nbuiltins;

/*
 * Adds phrase (any spelling, folded here; a pattern when pattern is true) to lex with
 * sense, keyword and lang (NULL for none). -1 with a message when the pattern is bad or
 * a variant has no words or more than max_words.
 */
int keyword_lex_add(struct keyword_lex *lex, const char *phrase, bool pattern,
		    enum keyword_sense sense, const struct keyword *k, const char *lang,
		    size_t max_words, struct sbuf *err) WUR;
void keyword_lex_free(struct keyword_lex *lex);
/* The entries whose phrase is exactly the words idx[0..n) of t, folded; *nvals 0 for none. */
const uint32_t *keyword_lex_whole(const struct keyword_lex *lex, const struct keyword_text *t,
				  const size_t *idx, size_t n, size_t *nvals);
/* Folds a phrase as texts are folded: "Dziękuję!" is "DZIEKUJE". */
void keyword_fold(const char *phrase, struct sbuf *out);

/* Builds the set's lexicon and typo forms from its keywords (after loading). */
void keyword_set_compile(struct keyword_set *set);
/* Which keyword of the set already uses a form (any spelling), or NULL. */
const struct keyword *keyword_set_form_owner(const struct keyword_set *set, const char *form);

#endif
