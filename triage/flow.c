#include "triage/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/keys.h"
#include "triage/keyword.h"

#define FLOW_TEXT_MAX 640 /* four concatenated GSM-7 segments and a bit */
#define FLOW_LABEL_MAX 200 /* a line on a screen, not a text message */

struct flow_set {
	struct flow **items;
	size_t n, cap;
};

static const char *const flow_outcome_names[] = { "next", "help_request", "end", "record" };

const char *flow_outcome_str(enum flow_outcome o)
{
	return o < ARRAY_LEN(flow_outcome_names) ? flow_outcome_names[o] : "?";
}

/* ---- freeing ---- */

static void flow_answer_clear(struct flow_answer *a)
{
	for (size_t i = 0; i < a->nmatch; i++)
		free(a->match[i]);
	free(a->match);
	free(a->value);
	free(a->category);
	free(a->next);
	free(a->reply);
	texts_clear(&a->replies);
	free(a->label);
}

static void flow_step_clear(struct flow_step *s)
{
	for (size_t i = 0; i < s->nanswers; i++)
		flow_answer_clear(&s->answers[i]);
	free(s->answers);
	free(s->id);
	free(s->question);
	texts_clear(&s->questions);
	free(s->label);
}

void flow_free(struct flow *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nsteps; i++)
		flow_step_clear(&f->steps[i]);
	for (size_t i = 0; i < f->nentries; i++)
		free(f->entries[i]);
	free(f->steps);
	free(f->entries);
	free(f->name);
	free(f->category);
	free(f->start);
	json_object_put(f->json);
	free(f);
}

/* ---- reading JSON ---- */

static bool flow_name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* where is "" or ends with '.', as the paths in flow's messages do. */
static bool flow_known_keys(struct json_object *obj, const char *where,
			    const char *const *known, size_t n, struct sbuf *err)
{
	size_t len = strlen(where);
	char path[96];

	snprintf(path, sizeof(path), "%.*s", (int)(len && where[len - 1] == '.' ? len - 1 : len),
		 where);
	return keys_check(obj, path, known, n, err) == 0;
}

/* A string member: required or not, a name (flow_name_ok) or text. NULL *out when absent. */
static WUR int flow_string(struct json_object *obj, const char *where, const char *key,
			   bool required, bool name, char **out, struct sbuf *err)
{
	struct json_object *v;
	const char *s;

	*out = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null)) {
		if (required)
			sbuf_printf(err, "%s%s: required", where, key);
		return required ? -1 : 0;
	}
	s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) || !*s) {
		sbuf_printf(err, "%s%s: must be a non-empty string", where, key);
		return -1;
	}
	if (name && !flow_name_ok(s)) {
		sbuf_printf(err, "%s%s: \"%s\" must be lower-case letters, digits and _", where,
			    key, s);
		return -1;
	}
	if (!name && strlen(s) > FLOW_TEXT_MAX) {
		sbuf_printf(err, "%s%s: longer than %d bytes", where, key, FLOW_TEXT_MAX);
		return -1;
	}
	*out = xstrdup(s);
	return 0;
}

/* C0 controls, DEL, and the C1 controls U+0080-U+009F (UTF-8 C2 80 to C2 9F). */
static bool flow_has_control(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return true;
	return false;
}

/*
 * An optional "label": how staff put a question or an answer on a screen (the console's
 * "Refer someone"), never sent by text, so shorter than a question and on one line.
 */
static WUR int flow_label(struct json_object *obj, const char *where, char **out,
			  struct sbuf *err)
{
	if (flow_string(obj, where, "label", false, false, out, err) < 0)
		return -1;
	if (*out && strlen(*out) > FLOW_LABEL_MAX) {
		sbuf_printf(err, "%slabel: longer than %d bytes", where, FLOW_LABEL_MAX);
		return -1;
	}
	if (*out && flow_has_control(*out)) {
		sbuf_printf(err, "%slabel: must not contain control characters such as line breaks",
			    where);
		return -1;
	}
	return 0;
}

/* Optional texts in other languages ("questions", "replies"): {"pl": "..."}. */
static WUR int flow_texts(struct json_object *obj, const char *where, const char *key,
			  struct texts *out, struct sbuf *err)
{
	struct json_object *v;
	char path[128];

	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	snprintf(path, sizeof(path), "%s%s", where, key);
	return texts_from_json(out, v, path, false, FLOW_TEXT_MAX, err);
}

static struct json_object *flow_array(struct json_object *obj, const char *where,
				      const char *key, bool required, struct sbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v)) {
		if (required)
			sbuf_printf(err, "%s%s: required", where, key);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0) {
		sbuf_printf(err, "%s%s: must be a non-empty array", where, key);
		return NULL;
	}
	return v;
}

static bool flow_step_has_match(const struct flow_step *s, const char *word)
{
	for (size_t i = 0; i < s->nanswers; i++)
		for (size_t j = 0; j < s->answers[i].nmatch; j++)
			if (strcmp(s->answers[i].match[j], word) == 0)
				return true;
	return false;
}

static WUR int flow_matches_from_json(struct flow_step *s, struct flow_answer *a,
				      struct json_object *arr, const char *where, struct sbuf *err)
{
	struct sbuf norm;
	int rc = -1;

	sbuf_init(&norm);
	a->match = xcalloc(json_object_array_length(arr), sizeof(char *));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *m = json_object_array_get_idx(arr, i);
		sbuf_reset(&norm);
		if (json_object_is_type(m, json_type_string))
			keyword_normalise(json_object_get_string(m), &norm);
		if (norm.len == 0) {
			sbuf_printf(err, "%smatch[%zu]: must be a string with letters or digits", where, i);
			goto out;
		}
		if (flow_step_has_match(s, sbuf_str(&norm))) {
			sbuf_printf(err, "%smatch[%zu]: \"%s\" is already an answer of this step", where,
				    i, sbuf_str(&norm));
			goto out;
		}
		a->match[a->nmatch++] = xstrdup(sbuf_str(&norm));
	}
	rc = 0;
out:
	sbuf_free(&norm);
	return rc;
}

static WUR int flow_outcome_parse(struct flow_answer *a, const char *s, const char *where,
				  struct sbuf *err)
{
	for (size_t i = 1; i < ARRAY_LEN(flow_outcome_names); i++) {
		if (strcmp(s, flow_outcome_names[i]) == 0) {
			a->outcome = (enum flow_outcome)i;
			return 0;
		}
	}
	sbuf_printf(err, "%soutcome: must be help_request, end or record", where);
	return -1;
}

static WUR int flow_answer_from_json(struct flow_step *s, struct json_object *obj,
				     const char *where, struct sbuf *err)
{
	static const char *const known[] = { "match", "value", "category", "next", "outcome",
					     "reply", "replies", "label" };
	struct flow_answer *a = &s->answers[s->nanswers];
	struct json_object *arr;
	char *outcome = NULL;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	s->nanswers++; /* cleared with the step, whatever happens */
	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_printf(err, "%s: must be an object", where);
		goto out;
	}
	if (!flow_known_keys(obj, where, known, ARRAY_LEN(known), err) ||
	    !(arr = flow_array(obj, where, "match", true, err)) ||
	    flow_matches_from_json(s, a, arr, where, err) < 0 ||
	    flow_string(obj, where, "value", true, false, &a->value, err) < 0 ||
	    flow_string(obj, where, "category", false, true, &a->category, err) < 0 ||
	    flow_string(obj, where, "next", false, true, &a->next, err) < 0 ||
	    flow_string(obj, where, "outcome", false, true, &outcome, err) < 0 ||
	    flow_string(obj, where, "reply", false, false, &a->reply, err) < 0 ||
	    flow_texts(obj, where, "replies", &a->replies, err) < 0 ||
	    flow_label(obj, where, &a->label, err) < 0)
		goto out;
	if (!a->next == !outcome) {
		sbuf_printf(err, "%s: needs either \"next\" (a step) or \"outcome\"", where);
		goto out;
	}
	if (outcome && flow_outcome_parse(a, outcome, where, err) < 0)
		goto out;
	rc = 0;
out:
	free(outcome);
	return rc;
}

static WUR int flow_step_from_json(struct flow *f, struct json_object *obj, size_t idx,
				   struct sbuf *err)
{
	static const char *const known[] = { "id", "question", "questions", "label", "answers" };
	struct flow_step *s = &f->steps[f->nsteps++];
	struct json_object *arr;
	char where[96];

	snprintf(where, sizeof(where), "steps[%zu].", idx);
	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_printf(err, "steps[%zu]: must be an object", idx);
		return -1;
	}
	if (!flow_known_keys(obj, where, known, ARRAY_LEN(known), err) ||
	    flow_string(obj, where, "id", true, true, &s->id, err) < 0 ||
	    flow_string(obj, where, "question", true, false, &s->question, err) < 0 ||
	    flow_texts(obj, where, "questions", &s->questions, err) < 0 ||
	    flow_label(obj, where, &s->label, err) < 0 ||
	    !(arr = flow_array(obj, where, "answers", true, err)))
		return -1;
	if (flow_step(f, s->id) != s) {
		sbuf_printf(err, "%sid: \"%s\" is used by an earlier step", where, s->id);
		return -1;
	}
	s->answers = xcalloc(json_object_array_length(arr), sizeof(*s->answers));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		char aw[128];
		snprintf(aw, sizeof(aw), "steps[%zu].answers[%zu].", idx, i);
		if (flow_answer_from_json(s, json_object_array_get_idx(arr, i), aw, err) < 0)
			return -1;
	}
	return 0;
}

static WUR int flow_entries_from_json(struct flow *f, struct json_object *obj, struct sbuf *err)
{
	struct json_object *arr;

	if (!json_object_object_get_ex(obj, "entries", &arr))
		return 0;
	if (!json_object_is_type(arr, json_type_array)) {
		sbuf_adds(err, "entries: must be an array of step ids");
		return -1;
	}
	f->entries = xcalloc(json_object_array_length(arr) + 1, sizeof(char *));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		if (!json_object_is_type(json_object_array_get_idx(arr, i), json_type_string) ||
		    !flow_name_ok(s)) {
			sbuf_printf(err, "entries[%zu]: must be a step id", i);
			return -1;
		}
		f->entries[f->nentries++] = xstrdup(s);
	}
	return 0;
}

/* ---- checks over the whole flow ---- */

static size_t flow_step_index(const struct flow *f, const char *id)
{
	const struct flow_step *s = flow_step(f, id);
	return s ? (size_t)(s - f->steps) : f->nsteps;
}

static WUR int flow_check_targets(const struct flow *f, struct sbuf *err)
{
	if (!flow_step(f, f->start)) {
		sbuf_printf(err, "start: no step has the id \"%s\"", f->start);
		return -1;
	}
	for (size_t i = 0; i < f->nentries; i++) {
		if (!flow_step(f, f->entries[i])) {
			sbuf_printf(err, "entries[%zu]: no step has the id \"%s\"", i, f->entries[i]);
			return -1;
		}
	}
	for (size_t i = 0; i < f->nsteps; i++) {
		for (size_t j = 0; j < f->steps[i].nanswers; j++) {
			const char *next = f->steps[i].answers[j].next;
			if (next && !flow_step(f, next)) {
				sbuf_printf(err, "steps[%zu].answers[%zu].next: no step has the id \"%s\"",
					    i, j, next);
				return -1;
			}
		}
	}
	return 0;
}

/* Marks the steps reachable from the start and the entries. */
static void flow_mark_reachable(const struct flow *f, bool *seen)
{
	bool changed = true;

	seen[flow_step_index(f, f->start)] = true;
	for (size_t i = 0; i < f->nentries; i++)
		seen[flow_step_index(f, f->entries[i])] = true;
	while (changed) {
		changed = false;
		for (size_t i = 0; i < f->nsteps; i++) {
			for (size_t j = 0; seen[i] && j < f->steps[i].nanswers; j++) {
				const char *next = f->steps[i].answers[j].next;
				size_t k = next ? flow_step_index(f, next) : f->nsteps;
				if (k < f->nsteps && !seen[k])
					seen[k] = changed = true;
			}
		}
	}
}

/* Marks the steps from which some outcome can be reached. */
static void flow_mark_finishing(const struct flow *f, bool *done)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < f->nsteps; i++) {
			for (size_t j = 0; !done[i] && j < f->steps[i].nanswers; j++) {
				const char *next = f->steps[i].answers[j].next;
				if (!next || done[flow_step_index(f, next)])
					done[i] = changed = true;
			}
		}
	}
}

static WUR int flow_check_graph(const struct flow *f, struct sbuf *err)
{
	bool *seen = xcalloc(f->nsteps, sizeof(bool));
	bool *done = xcalloc(f->nsteps, sizeof(bool));
	int rc = -1;

	flow_mark_reachable(f, seen);
	flow_mark_finishing(f, done);
	for (size_t i = 0; i < f->nsteps; i++) {
		if (!seen[i]) {
			sbuf_printf(err, "steps[%zu]: \"%s\" cannot be reached from the start or an "
				    "entry", i, f->steps[i].id);
			goto out;
		}
		if (!done[i]) {
			sbuf_printf(err, "steps[%zu]: \"%s\" is a dead end: no answer from it ever "
				    "leads to an outcome", i, f->steps[i].id);
			goto out;
		}
	}
	rc = 0;
out:
	free(seen);
	free(done);
	return rc;
}

static WUR int flow_parse(struct flow *f, struct json_object *obj, struct sbuf *err)
{
	static const char *const known[] = { "name", "category", "start", "entries", "steps" };
	struct json_object *steps;

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "a flow must be a JSON object");
		return -1;
	}
	if (!flow_known_keys(obj, "", known, ARRAY_LEN(known), err) ||
	    flow_string(obj, "", "name", true, true, &f->name, err) < 0 ||
	    flow_string(obj, "", "category", true, true, &f->category, err) < 0 ||
	    flow_string(obj, "", "start", true, true, &f->start, err) < 0 ||
	    flow_entries_from_json(f, obj, err) < 0 ||
	    !(steps = flow_array(obj, "", "steps", true, err)))
		return -1;
	f->steps = xcalloc(json_object_array_length(steps), sizeof(*f->steps));
	for (size_t i = 0; i < json_object_array_length(steps); i++)
		if (flow_step_from_json(f, json_object_array_get_idx(steps, i), i, err) < 0)
			return -1;
	return flow_check_targets(f, err) < 0 ? -1 : flow_check_graph(f, err);
}

struct flow *flow_from_json(struct json_object *obj, struct sbuf *err)
{
	struct flow *f = xcalloc(1, sizeof(*f));

	if (flow_parse(f, obj, err) < 0) {
		flow_free(f);
		return NULL;
	}
	f->json = json_object_get(obj);
	return f;
}

/* ---- use ---- */

const struct flow_step *flow_step(const struct flow *f, const char *id)
{
	for (size_t i = 0; id && i < f->nsteps; i++)
		if (f->steps[i].id && strcmp(f->steps[i].id, id) == 0)
			return &f->steps[i];
	return NULL;
}

bool flow_is_entry(const struct flow *f, const char *id)
{
	if (strcmp(f->start, id) == 0)
		return true;
	for (size_t i = 0; i < f->nentries; i++)
		if (strcmp(f->entries[i], id) == 0)
			return true;
	return false;
}

static const struct flow_answer *flow_answer_exact(const struct flow_step *s, const char *word)
{
	for (size_t i = 0; i < s->nanswers; i++)
		for (size_t j = 0; j < s->answers[i].nmatch; j++)
			if (strcmp(s->answers[i].match[j], word) == 0)
				return &s->answers[i];
	return NULL;
}

const char *flow_question(const struct flow_step *s, const char *lang)
{
	const char *q = texts_get(&s->questions, lang);

	return q ? q : s->question;
}

const char *flow_reply(const struct flow_answer *a, const char *lang)
{
	const char *r = texts_get(&a->replies, lang);

	return r ? r : a->reply;
}

const struct flow_answer *flow_answer(const struct flow_step *s, const char *text)
{
	const struct flow_answer *a;
	struct sbuf norm;
	char *sp;

	sbuf_init(&norm);
	keyword_normalise(text, &norm);
	a = flow_answer_exact(s, sbuf_str(&norm));
	/* The longest run of leading words that is an answer: "1 please", "yes thanks". */
	while (!a && (sp = strrchr(sbuf_str(&norm), ' '))) {
		*sp = '\0';
		a = flow_answer_exact(s, norm.data);
	}
	sbuf_free(&norm);
	return a;
}

/* ---- sets ---- */

struct flow_set *flow_set_new(void)
{
	return xcalloc(1, sizeof(struct flow_set));
}

void flow_set_free(struct flow_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		flow_free(set->items[i]);
	free(set->items);
	free(set);
}

void flow_set_put(struct flow_set *set, struct flow *f)
{
	for (size_t i = 0; i < set->n; i++) {
		if (strcmp(set->items[i]->name, f->name) == 0) {
			flow_free(set->items[i]);
			set->items[i] = f;
			return;
		}
	}
	if (set->n == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 4;
		set->items = xrealloc(set->items, set->cap * sizeof(*set->items));
	}
	set->items[set->n++] = f;
}

const struct flow *flow_set_get(const struct flow_set *set, const char *name)
{
	for (size_t i = 0; set && name && i < set->n; i++)
		if (strcmp(set->items[i]->name, name) == 0)
			return set->items[i];
	return NULL;
}

size_t flow_set_count(const struct flow_set *set)
{
	return set ? set->n : 0;
}

const struct flow *flow_set_at(const struct flow_set *set, size_t i)
{
	return set->items[i];
}
