/*
 * keyword.h: matching tenants' replies against keywords.
 *
 * Keywords are data: a word, its aliases, an action and a reply text. The set the daemon
 * uses is loaded from JSON (the shipped default is data/keywords.json; admins replace it
 * through the API). Opt-out and opt-in words and phrases are built in and always win:
 * no edit of the set can stop STOP from working.
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

struct keyword_match {
	enum keyword_match_kind kind;
	const struct keyword *keyword; /* borrowed from the set (or the built-in table) */
};

/* Matches an inbound text. The result borrows from set. */
void keyword_match(const struct keyword_set *set, const char *text, struct keyword_match *out);

/* Upper-cases, strips punctuation and emoji at the edges of words, collapses spaces. */
void keyword_normalise(const char *text, struct sbuf *out);

#endif
