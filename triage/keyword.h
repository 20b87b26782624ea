/*
 * keyword.h: reading tenants' replies: keywords, opt-outs, plain requests, languages.
 *
 * Two kinds of data, both JSON, both compiled into lexicons (lexicon.h) when loaded so
 * that reading a reply costs one pass over its words:
 *
 * - The built-in words (data/builtin-words.json, struct keyword_base): opt-out and opt-in
 *   words and phrases in every language tenants write, courtesy words, negations, the
 *   words that say yes, common words that are not typos, and words that tell languages
 *   apart. They cannot be changed through the API: no edit of a keyword set can stop STOP
 *   (or "I don't want these texts", or "nie wysyłajcie") from working.
 * - A keyword set (data/keywords.json, replaced by admins through PUT /v1/keywords):
 *   keywords with their aliases, their words in other languages, the words that only
 *   hint at them, their replies in each language, and the standard replies.
 *
 * How a reply is read (tests/data/keyword_cases.tsv and tests/data/replies.tsv have
 * examples of each rule; every decision names its rule, keyword_rule_str):
 *
 * - Words: see keyword_text.h. Courtesy words at either end ("please", "thanks", "yes",
 *   "diolch", "dziękuję" ...) are set aside and a word repeated at once counts once
 *   ("STOP STOP"): what is left is the core of the reply.
 * - Opt-out, EXACT: the core is an opt-out word or phrase (opt_out_word: STOP, END,
 *   "OPT OUT", "NO MORE", Turkish "DUR" ...); or a sentence of the reply is an opt-out
 *   sentence (opt_out_clause: "Who is this? Stop.", "Not interested, thanks"); or an
 *   opt-out phrase about the texts themselves appears anywhere (opt_out_phrase: "I don't
 *   want these texts", "stop texting", "wrong number", "leave me alone"), unless a
 *   negation ("not", "don't", "never" ...) comes up to two words before it in the same
 *   clause with no "but" between ("please don't stop texting me"), or an exception covers
 *   it ("don't text me after 8pm"). STOP, END, CANCEL and QUIT among other words are not
 *   an opt-out ("I can't stop crying", "the end", "cancel my repair").
 * - Opt-in, EXACT: the core is an opt-in word or phrase (opt_in_word: START, "START AGAIN").
 * - Set keywords, EXACT: the core is a keyword's word, an alias or one of its words in a
 *   language (keyword). Flow and help-request keywords also count among other words
 *   (keyword_in_sentence: "I want to learn to use email") when the reply has at most 16
 *   words, no negation of need ("don't need", "not interested in", "no") comes up to two
 *   words before, and no built-in word (STOP, END, START ...) appears anywhere. When
 *   several keywords appear, a broad one (SKILLS, ONLINE) gives way to a specific one
 *   ("help with universal credit online" is UC); several specific ones of one flow start
 *   that flow at its first question through its broad keyword (several_branches); any
 *   other mix is for a person to read. Info keywords (HELP) count only as the core.
 * - CONFIRM, a question to the tenant ("Would you like help with email? Reply YES"):
 *   nothing above matched and a word that only hints at one keyword appears (hint:
 *   "wifi", "bills", "interview"), or a keyword appears in a message of 17 to 40 words
 *   (long_message); the same negations and tie-breaks apply.
 * - TYPO, also a question ("Did you mean SKILLS? Reply YES"): the core is one word that
 *   is no known word (not a common English word such as MONKEY or CANCER, a courtesy word
 *   or a word of a language) and is one edit (a letter added, dropped or changed, or two
 *   neighbours swapped) from exactly one keyword's one-word form, built-in STOP ...
 *   included, where the longer has at least five letters and the shorter four, or the
 *   edit is a swap in words of four letters ("STPO", "JBOS"). A typo is never acted on.
 * - The language of a reply: the language of the words that decided, else the language
 *   most of its words belong to (a marker word, a keyword's or an opt-out word in that
 *   language, or letters only that language uses), when one language leads; English is
 *   never guessed (it is what everyone without a language gets).
 */
#ifndef SIGNPOST_KEYWORD_H
#define SIGNPOST_KEYWORD_H

#include <json-c/json.h>

#include "common/util.h"
#include "triage/texts.h"

enum keyword_action {
	KEYWORD_OPT_OUT,
	KEYWORD_OPT_IN,
	KEYWORD_INFO,         /* answer with who is texting and how to stop */
	KEYWORD_FLOW,         /* start the triage flow named by target (at its step, if any) */
	KEYWORD_HELP_REQUEST, /* create a help request with category target directly */
};

const char *keyword_action_str(enum keyword_action a);

/* A keyword's words in one language ("words": {"pl": ["POMOC"]}). */
struct keyword_lang_forms {
	char lang[TEXTS_LANG_MAX];
	char **forms;
	size_t n;
};

struct keyword {
	char *word;       /* upper-case ASCII or UTF-8 */
	char **aliases;
	size_t naliases;
	struct keyword_lang_forms *langs; /* words in other languages: aliases that tell the language */
	size_t nlangs;
	char **hints;     /* words that only suggest this keyword: ask before acting */
	size_t nhints;
	enum keyword_action action;
	char *target;     /* flow name ("flow" or "flow:step") or help-request category; may be NULL */
	char *answer;     /* a flow keyword: taken as the answer at its step ("EMAIL"), or NULL */
	bool broad;       /* gives way to a more specific keyword named beside it */
	char *reply;      /* text to send back; may be NULL */
	struct texts replies; /* reply in other languages */
	char *label;      /* what it helps with, for "Would you like help with {label}?"; may be NULL */
	struct texts labels;
};

/* The standard replies a keyword set may give in each language ("replies" in its JSON). */
enum keyword_reply {
	KEYWORD_REPLY_OPT_OUT,
	KEYWORD_REPLY_OPT_IN,
	KEYWORD_REPLY_INFO,
	KEYWORD_REPLY_NOT_UNDERSTOOD, /* a tenant's text with no keyword */
	KEYWORD_REPLY_STRANGER,       /* a text from a number that is no tenant's */
	KEYWORD_REPLY_HELP_REQUEST,
	KEYWORD_REPLY_HELP_REQUEST_REPEAT,
	KEYWORD_REPLY_DID_YOU_MEAN,   /* {keyword} */
	KEYWORD_REPLY_WOULD_YOU_LIKE, /* {keyword}, {label} */
	KEYWORD_REPLY_NOT_AN_ANSWER,  /* before a question asked again */
	KEYWORD_REPLY_WILL_CALL,
	KEYWORD_REPLY_THANK_YOU,
	KEYWORD_REPLY_COUNT,
};

const char *keyword_reply_str(enum keyword_reply r);

struct keyword_base;
struct keyword_set;

/*
 * The built-in words from their JSON form (data/builtin-words.json): {"opt_out": {"words",
 * "clauses", "phrases", "exceptions"}, "opt_in": {"words"}, "courtesy", "negations",
 * "need_negations", "barriers", "yes", "not_typos", each by language {"en": [...]}, and
 * "languages": {"pl": {"name": "Polish", "words": [...], "letters": ["ऀ-ॿ"]}}}. Phrases
 * may be patterns (lexicon.h). A message names what is wrong.
 */
struct keyword_base *keyword_base_from_json(struct json_object *obj, struct sbuf *err) WUR;
void keyword_base_free(struct keyword_base *base);
/* True when a phrase (any spelling) is built in: an opt-out or opt-in word, a courtesy word. */
bool keyword_base_reserves(const struct keyword_base *base, const char *phrase);
/* The name of a language the base knows ("Polish"), or NULL. */
const char *keyword_base_language(const struct keyword_base *base, const char *code);

/* An empty set on base (borrowed: it must outlive the set). */
struct keyword_set *keyword_set_new(const struct keyword_base *base);
void keyword_set_free(struct keyword_set *set);
/*
 * Builds a set on base from its JSON form: {"keywords": [{"word": "SKILLS", "aliases":
 * ["SKILL"], "words": {"pl": ["POMOC"]}, "hints": ["COURSE"], "action": "help_request",
 * "target": "digital_skills", "reply": "...", "replies": {"pl": "..."}, "label": "...",
 * "labels": {"pl": "..."}, "broad": true}], "replies": {"opt_out": {"en": "...", "pl":
 * "..."}}, "not_typos": ["MONKEY"]}. Everything but "keywords" and each keyword's word and
 * action may be left out, so older sets load as they are. Rejects unknown keys, words
 * used twice (in any spelling), built-in words, bad actions and language codes with a
 * message naming the entry. A word is a word or a phrase of up to four words; aliases,
 * words in languages and hints up to KEYWORD_ALIAS_MAX_WORDS. action is "opt_out" or
 * "opt_in" (more words that opt out or in, such as Welsh ones; they count only as the
 * whole reply), "info", "flow" (target "flow" or "flow:step", and optionally "answer":
 * an answer of that step taken at once) or "help_request" (target a category).
 */
struct keyword_set *keyword_set_from_json(const struct keyword_base *base,
					  struct json_object *obj, struct sbuf *err) WUR;
struct json_object *keyword_set_to_json(const struct keyword_set *set);
size_t keyword_set_count(const struct keyword_set *set);
const struct keyword *keyword_set_get(const struct keyword_set *set, size_t i);
/* The keyword with this word, built in (STOP, START ...) or the set's, or NULL. */
const struct keyword *keyword_set_find(const struct keyword_set *set, const char *word);
const struct keyword_base *keyword_set_base(const struct keyword_set *set);

#define KEYWORD_WORD_MAX_WORDS 4
#define KEYWORD_ALIAS_MAX_WORDS 8

/* Standard reply r in lang, else in English, else NULL (the caller's own default). */
const char *keyword_set_reply(const struct keyword_set *set, enum keyword_reply r,
			      const char *lang);
/* k's reply in lang, else its English one (may be NULL). */
const char *keyword_reply_in(const struct keyword *k, const char *lang);
/* k's label in lang, else its English one (may be NULL). */
const char *keyword_label_in(const struct keyword *k, const char *lang);

enum keyword_match_kind {
	KEYWORD_MATCH_NONE,
	KEYWORD_MATCH_EXACT,   /* act on it */
	KEYWORD_MATCH_TYPO,    /* one edit away: ask "Did you mean X? Reply YES" */
	KEYWORD_MATCH_CONFIRM, /* only suggested: ask "Would you like help with X? Reply YES" */
};

const char *keyword_match_kind_str(enum keyword_match_kind k);

/* Which rule decided (see the top of this file). */
enum keyword_rule {
	KEYWORD_RULE_NONE,
	KEYWORD_RULE_OPT_OUT_WORD,
	KEYWORD_RULE_OPT_OUT_CLAUSE,
	KEYWORD_RULE_OPT_OUT_PHRASE,
	KEYWORD_RULE_OPT_IN_WORD,
	KEYWORD_RULE_KEYWORD,
	KEYWORD_RULE_SENTENCE,
	KEYWORD_RULE_SEVERAL_BRANCHES,
	KEYWORD_RULE_HINT,
	KEYWORD_RULE_LONG_MESSAGE,
	KEYWORD_RULE_TYPO,
	KEYWORD_RULE_SWAP,
};

const char *keyword_rule_str(enum keyword_rule r);

struct keyword_match {
	enum keyword_match_kind kind;
	const struct keyword *keyword; /* borrowed from the set (or the built-in table) */
	enum keyword_rule rule;
	const char *form;              /* the words that decided, folded; borrowed; NULL for none */
	char language[TEXTS_LANG_MAX]; /* the reply's language when its words say, else "" */
};

/*
 * The built-in keyword with this upper-case word (STOP, STOPALL, UNSUBSCRIBE, END, CANCEL,
 * QUIT, START, UNSTOP), or NULL.
 */
const struct keyword *keyword_builtin(const char *word);

/* Reads an inbound text. The result borrows from set. */
void keyword_match(const struct keyword_set *set, const char *text, struct keyword_match *out);
/* Why, in a sentence: "an opt-out phrase, \"DON'T WANT THESE TEXTS\", is in the reply". */
void keyword_explain(const struct keyword_match *m, struct sbuf *out);
/* The core of a text (courtesy words set aside, repeats once), normalised: "HELP WITH MY LAPTOP". */
void keyword_core(const struct keyword_set *set, const char *text, struct sbuf *out);
/* True when the text says yes (YES, Y, TAK, DA, EVET ... and nothing but courtesy words). */
bool keyword_is_yes(const struct keyword_set *set, const char *text);

/*
 * Upper-cases, strips punctuation and emoji at the edges of words, collapses spaces. Words
 * are letters and digits (Latin with accents, Welsh ŵ ŷ, Polish ą ł ż ..., Greek, Cyrillic,
 * Arabic script, Devanagari, Gurmukhi); one apostrophe or hyphen between two letters stays
 * ("DON'T", "OPT-OUT"), with curly apostrophes and en dashes written as ' and -. Anything
 * else separates words.
 */
void keyword_normalise(const char *text, struct sbuf *out);

#endif
