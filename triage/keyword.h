/*
 * keyword.h: matching tenants' replies against keywords.
 *
 * Keywords are data: a word, its aliases, an action and a reply text. The set the daemon
 * uses is loaded from JSON (the shipped default is data/keywords.json; admins replace it
 * through the API). Opt-out and opt-in words and phrases are built in and always win:
 * no edit of the set can stop STOP from working.
 *
 * How a reply is read (tests/data/keyword_cases.tsv has examples of each rule):
 *
 * - Words: see keyword_normalise. Courtesy words at either end are set aside ("please",
 *   "thanks", "thank you", "yes", "ok", "hi", "now", "x", Welsh "diolch", "plis", "os
 *   gwelwch yn dda", Polish "proszę", "dziękuję"), and a word repeated at once counts once
 *   ("STOP STOP"). What is left is the core of the reply.
 * - Opt-out, EXACT: the core is exactly STOP, STOPALL, UNSUBSCRIBE, END, CANCEL or QUIT,
 *   or "STOP ALL", "STOP IT", "STOP TEXTS", "UNSUBSCRIBE ME", "OPT OUT", "NO MORE"; or the
 *   reply contains, anywhere, a phrase about the texts themselves: "stop texting",
 *   "stop messaging", "stop sending", "stop contacting", "stop the texts", "remove me",
 *   "take me off", "no more texts", "opt out"/"opt-out", "don't text me", "do not contact
 *   me", "leave me alone", or the words UNSUBSCRIBE or STOPALL. A phrase does not count
 *   when "not", "don't", "never" or "didn't" comes up to three words before it in the
 *   same clause ("please don't stop texting me"). STOP, END, CANCEL and QUIT among other
 *   words are not an opt-out ("I can't stop crying", "the end", "cancel my repair").
 * - Opt-in, EXACT: the core is START, UNSTOP, "START AGAIN", "OPT IN" or "RESUBSCRIBE".
 * - Set keywords, EXACT: the core is the word or an alias. Flow and help-request keywords
 *   also count among other words ("I need help with money") when the reply has at most 12
 *   words, exactly one keyword appears, no negation ("no", "not", "don't" ...) comes up to
 *   three words before it, and no built-in word (STOP, END, START ...) appears anywhere:
 *   such replies are for a person to read. Info keywords (HELP) count only as the core.
 * - TYPO: when nothing matched exactly and the core is one word that is one edit
 *   (insertion, deletion, substitution or swap of neighbours) from exactly one keyword
 *   word or alias, built-in ones included, where the longer of the two has at least five
 *   letters and the shorter at least four ("SKILS", "MONY", "STOPP"). Two candidates give
 *   NONE. A typo is a question to the tenant, never an action: "STOPP" is TYPO, not EXACT.
 */
#ifndef SIGNPOST_KEYWORD_H
#define SIGNPOST_KEYWORD_H

#include <json-c/json.h>

#include "common/util.h"

enum keyword_action {
	KEYWORD_OPT_OUT,
	KEYWORD_OPT_IN,
	KEYWORD_INFO,         /* answer with who is texting and how to stop */
	KEYWORD_FLOW,         /* start the triage flow named by target (at its step, if any) */
	KEYWORD_HELP_REQUEST, /* create a help request with category target directly */
};

const char *keyword_action_str(enum keyword_action a);

struct keyword {
	char *word;       /* upper-case ASCII or UTF-8 */
	char **aliases;
	size_t naliases;
	enum keyword_action action;
	char *target;     /* flow name ("flow" or "flow:step") or help-request category; may be NULL */
	char *reply;      /* text to send back; may be NULL */
};

struct keyword_set;

struct keyword_set *keyword_set_new(void);
void keyword_set_free(struct keyword_set *set);
/*
 * Builds a set from its JSON form: {"keywords": [{"word": "SKILLS", "aliases": ["SKILL"],
 * "action": "help_request", "target": "digital_skills", "reply": "..."}]}. Rejects unknown
 * keys, duplicate words or aliases and bad actions with a message naming the entry.
 * Words and aliases are stored normalised (upper case) and may be phrases of up to four
 * words ("UNIVERSAL CREDIT"); built-in and courtesy words cannot be used. action is
 * "opt_out" or "opt_in" (more words that opt out or in, such as Welsh ones; they count only
 * as the whole reply), "info", "flow" (target "flow" or "flow:step") or "help_request"
 * (target a category). target and reply are optional non-empty strings (a flow or help
 * request needs its target); reply may be left out for the standard reply.
 */
struct keyword_set *keyword_set_from_json(struct json_object *obj, struct sbuf *err) WUR;
struct json_object *keyword_set_to_json(const struct keyword_set *set);
size_t keyword_set_count(const struct keyword_set *set);
const struct keyword *keyword_set_get(const struct keyword_set *set, size_t i);

enum keyword_match_kind {
	KEYWORD_MATCH_NONE,
	KEYWORD_MATCH_EXACT, /* act on it */
	KEYWORD_MATCH_TYPO,  /* one edit away: ask "Did you mean X? Reply YES" */
};

const char *keyword_match_kind_str(enum keyword_match_kind k);

struct keyword_match {
	enum keyword_match_kind kind;
	const struct keyword *keyword; /* borrowed from the set (or the built-in table) */
};

/*
 * The built-in keyword with this upper-case word (STOP, STOPALL, UNSUBSCRIBE, END, CANCEL,
 * QUIT, START, UNSTOP), or NULL.
 */
const struct keyword *keyword_builtin(const char *word);
/* True when a normalised word or phrase is built in or a courtesy word (PLEASE, YES ...). */
bool keyword_is_reserved(const char *phrase);

/* Matches an inbound text. The result borrows from set. */
void keyword_match(const struct keyword_set *set, const char *text, struct keyword_match *out);

/*
 * Upper-cases, strips punctuation and emoji at the edges of words, collapses spaces. Words
 * are letters and digits (Latin with accents, Welsh ŵ ŷ, Polish ą ł ż ..., Greek, Cyrillic);
 * one apostrophe or hyphen between two letters stays ("DON'T", "OPT-OUT"), with curly
 * apostrophes and en dashes written as ' and -. Anything else separates words.
 */
void keyword_normalise(const char *text, struct sbuf *out);

#endif
