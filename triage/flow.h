/*
 * flow.h: triage flows: short text conversations defined as data.
 *
 * A flow is JSON:
 *   {"name": "digital_skills", "category": "digital_skills", "start": "topic",
 *    "entries": ["money"],
 *    "steps": [{"id": "topic", "question": "What would you like help with? Reply 1 ...",
 *               "answers": [{"match": ["1", "ONLINE"], "value": "getting_online",
 *                            "category": "getting_online", "next": "how"}, ...]}, ...]}
 * Each answer either moves to the step named by "next" or ends the conversation with an
 * "outcome": "help_request" (the tenant agreed to be contacted), "end" (nothing more to do)
 * or "record" (the answer is an outcome of an earlier request, such as a follow-up).
 * "reply" is an optional text sent with that answer; "category" sets the help request's
 * category (default: the flow's). "entries" are steps a keyword may jump to directly.
 * Steps and answers may carry a "label" (at most 200 bytes, one line): the question as
 * staff ask it about someone else ("What would they like help with?") and the answer as
 * a choice on a screen ("Getting online"), for referrals made in the console. Labels are
 * never texted. A step's "questions" and an answer's "replies" give the question and the
 * reply in other languages ({"pl": "..."}); a tenant who writes in one of them, or whose
 * language it is, is texted in it.
 *
 * Loading validates: names are lower-case letters, digits and "_"; every "next" names a
 * step; every step is reachable from "start" or an entry; from every step some outcome can
 * be reached (no dead ends or loops without a way out); an answer word appears once per step.
 *
 * Answers are read like keywords (case, punctuation and emoji do not matter): the whole
 * reply, or its longest run of leading words that is an answer ("face to face please").
 */
#ifndef SIGNPOST_FLOW_H
#define SIGNPOST_FLOW_H

#include <json-c/json.h>

#include "common/util.h"
#include "triage/texts.h"

enum flow_outcome {
	FLOW_NEXT,
	FLOW_HELP_REQUEST,
	FLOW_END,
	FLOW_RECORD,
};

const char *flow_outcome_str(enum flow_outcome o);

struct flow_answer {
	char **match;      /* normalised (upper case) */
	size_t nmatch;
	char *value;
	char *category;    /* or NULL */
	char *next;        /* FLOW_NEXT */
	enum flow_outcome outcome;
	char *reply;       /* or NULL */
	struct texts replies; /* reply in other languages */
	char *label;       /* or NULL */
};

struct flow_step {
	char *id;
	char *question;
	struct texts questions; /* question in other languages */
	char *label;       /* or NULL */
	struct flow_answer *answers;
	size_t nanswers;
};

struct flow {
	char *name;
	char *category;
	char *start;
	char **entries;
	size_t nentries;
	struct flow_step *steps;
	size_t nsteps;
	struct json_object *json; /* as loaded */
};

struct flow *flow_from_json(struct json_object *obj, struct sbuf *err) WUR;
void flow_free(struct flow *f);
const struct flow_step *flow_step(const struct flow *f, const char *id);
/* True for the start step and the entries. */
bool flow_is_entry(const struct flow *f, const char *id);
/* The step's question in lang, else in English. */
const char *flow_question(const struct flow_step *s, const char *lang);
/* The answer's reply in lang, else in English (NULL when it has none). */
const char *flow_reply(const struct flow_answer *a, const char *lang);
/* The answer a tenant's text gives at this step, or NULL when it is not understood. */
const struct flow_answer *flow_answer(const struct flow_step *s, const char *text);

/* A set of flows by name; adding a flow with a taken name replaces the old one. */
struct flow_set;
struct flow_set *flow_set_new(void);
void flow_set_free(struct flow_set *set);
void flow_set_put(struct flow_set *set, struct flow *f);
const struct flow *flow_set_get(const struct flow_set *set, const char *name);
size_t flow_set_count(const struct flow_set *set);
const struct flow *flow_set_at(const struct flow_set *set, size_t i);

#endif
