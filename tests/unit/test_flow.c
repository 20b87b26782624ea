/*
 * test_flow.c: triage flows: the shipped flows load, broken flows are refused with a
 * message naming the place, tenants' answers are read as a person would, and the labels
 * staff see are checked but never read as answers.
 * Run from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/check.h"
#include "triage/flow.h"

static struct flow *load_file(const char *path)
{
	struct json_object *o = json_object_from_file(path);
	struct sbuf err;
	struct flow *f;

	sbuf_init(&err);
	f = o ? flow_from_json(o, &err) : NULL;
	if (!f)
		fprintf(stderr, "%s: %s\n", path, o ? sbuf_str(&err) : "cannot read");
	json_object_put(o);
	sbuf_free(&err);
	return f;
}

/* The error message for a flow given as JSON text, or "ok". */
static const char *load_error(const char *json)
{
	static char buf[512];
	struct json_object *o = json_tokener_parse(json);
	struct sbuf err;
	struct flow *f;

	sbuf_init(&err);
	f = o ? flow_from_json(o, &err) : NULL;
	snprintf(buf, sizeof(buf), "%s", f ? "ok" : o ? sbuf_str(&err) : "bad test JSON");
	flow_free(f);
	json_object_put(o);
	sbuf_free(&err);
	return buf;
}

/* A two-step flow with step B's answers spliced in. */
static const char *two_steps(const char *b_answers)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"name\": \"t\", \"category\": \"c\", \"start\": \"a\", \"steps\": ["
		 "{\"id\": \"a\", \"question\": \"A?\", \"answers\": [{\"match\": [\"1\"], "
		 "\"value\": \"one\", \"next\": \"b\"}]},"
		 "{\"id\": \"b\", \"question\": \"B?\", \"answers\": [%s]}]}", b_answers);
	return buf;
}

static const char *answer_value(const struct flow *f, const char *step, const char *text)
{
	const struct flow_step *s = flow_step(f, step);
	const struct flow_answer *a = s ? flow_answer(s, text) : NULL;
	return a ? a->value : "-";
}

TEST(shipped_flows)
{
	struct flow *f = load_file("data/flows/digital_skills.json");
	struct flow *fu = load_file("data/flows/followup.json");

	CHECK(f != NULL);
	CHECK(fu != NULL);
	if (!f || !fu)
		goto out;
	CHECK_STR(f->start, "topic");
	CHECK(flow_is_entry(f, "money") && flow_is_entry(f, "jobs") && flow_is_entry(f, "uc"));
	CHECK(!flow_is_entry(f, "consent"));
	CHECK(strstr(flow_step(f, "consent")->question, "Reply YES so a local helper can contact you"));
	CHECK_STR(answer_value(f, "topic", "1"), "getting_online");
	CHECK_STR(answer_value(f, "topic", " 4. "), "money");
	CHECK_STR(answer_value(f, "topic", "Universal credit"), "universal_credit");
	CHECK_STR(answer_value(f, "how", "face to face please"), "face_to_face");
	CHECK_STR(answer_value(f, "how", "2 thanks 😊"), "face_to_face");
	CHECK_STR(answer_value(f, "consent", "Yes please!"), "yes");
	CHECK_STR(answer_value(f, "consent", "tak"), "yes");
	CHECK_STR(answer_value(f, "consent", "no"), "no");
	CHECK_STR(answer_value(f, "consent", "maybe"), "-");
	CHECK_STR(answer_value(f, "topic", "7"), "-");
	CHECK_STR(answer_value(f, "topic", "11"), "-");
	CHECK_STR(answer_value(f, "topic", "please 1"), "-");
	CHECK_STR(answer_value(fu, "helped", "YES"), "yes");
	CHECK(flow_step(f, "consent")->answers[0].outcome == FLOW_HELP_REQUEST);
	CHECK_STR(flow_outcome_str(flow_step(fu, "helped")->answers[1].outcome), "record");
	CHECK_STR(flow_step(f, "money")->answers[0].category, "money");
out:
	flow_free(f);
	flow_free(fu);
}

/* Every step and answer of a shipped flow has a label for the console. */
static void check_labelled(const struct flow *f)
{
	for (size_t i = 0; i < f->nsteps; i++) {
		const struct flow_step *s = &f->steps[i];
		CHECK(s->label && *s->label);
		if (!s->label)
			fprintf(stderr, "  %s: step %s has no label\n", f->name, s->id);
		for (size_t j = 0; j < s->nanswers; j++) {
			CHECK(s->answers[j].label && *s->answers[j].label);
			if (!s->answers[j].label)
				fprintf(stderr, "  %s: step %s answer %s has no label\n", f->name, s->id,
					s->answers[j].value);
		}
	}
}

TEST(shipped_labels)
{
	struct flow *f = load_file("data/flows/digital_skills.json");
	struct flow *fu = load_file("data/flows/followup.json");

	CHECK(f && fu);
	if (!f || !fu)
		goto out;
	check_labelled(f);
	check_labelled(fu);
	CHECK_STR(flow_step(f, "topic")->label, "What would they like help with?");
	CHECK_STR(flow_step(f, "topic")->answers[0].label, "Getting online");
	/* A label is for staff: a tenant texting it is not answering. */
	CHECK_STR(answer_value(f, "jobs", "Writing a CV"), "-");
	CHECK_STR(answer_value(f, "jobs", "CV"), "cv");
	/* The SMS questions are the same as before labels. */
	CHECK_STR(flow_step(f, "how")->question, "How would you like help? Reply 1 a phone call, "
		  "2 face to face, 3 a group session");
out:
	flow_free(f);
	flow_free(fu);
}

/* A one-step flow whose step and answer carry the given label members (or nothing). */
static const char *labelled(const char *step_label, const char *answer_label)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"name\": \"t\", \"category\": \"c\", \"start\": \"a\", \"steps\": ["
		 "{\"id\": \"a\", \"question\": \"A?\"%s, \"answers\": [{\"match\": [\"1\"], "
		 "\"value\": \"one\", \"outcome\": \"end\"%s}]}]}", step_label, answer_label);
	return buf;
}

TEST(labels)
{
	char long_label[300], json[600];
	struct json_object *o;
	struct sbuf err;

	CHECK_STR(load_error(labelled(", \"label\": \"What would they like?\"",
				      ", \"label\": \"Llŷr's choice: 1\"")), "ok");
	CHECK_STR(load_error(labelled("", "")), "ok");
	CHECK_STR(load_error(labelled(", \"label\": null", "")), "ok");
	CHECK_STR(load_error(labelled(", \"label\": 7", "")),
		  "steps[0].label: must be a non-empty string");
	CHECK_STR(load_error(labelled(", \"label\": \"\"", "")),
		  "steps[0].label: must be a non-empty string");
	CHECK_STR(load_error(labelled("", ", \"label\": [\"x\"]")),
		  "steps[0].answers[0].label: must be a non-empty string");
	CHECK_STR(load_error(labelled(", \"label\": \"two\\nlines\"", "")),
		  "steps[0].label: must not contain control characters such as line breaks");
	CHECK_STR(load_error(labelled("", ", \"label\": \"tab\\there\"")),
		  "steps[0].answers[0].label: must not contain control characters such as line "
		  "breaks");
	CHECK_STR(load_error(labelled("", ", \"label\": \"c1 \\u0085 next line\"")),
		  "steps[0].answers[0].label: must not contain control characters such as line "
		  "breaks");
	CHECK_STR(load_error(labelled("", ", \"label\": \"del \\u007f\"")),
		  "steps[0].answers[0].label: must not contain control characters such as line "
		  "breaks");
	memset(long_label, 'x', 200);
	long_label[200] = '\0';
	snprintf(json, sizeof(json), ", \"label\": \"%s\"", long_label);
	CHECK_STR(load_error(labelled(json, "")), "ok");
	snprintf(json, sizeof(json), ", \"label\": \"%sx\"", long_label);
	CHECK_STR(load_error(labelled(json, "")), "steps[0].label: longer than 200 bytes");
	snprintf(json, sizeof(json), ", \"label\": \"%sx\"", long_label);
	CHECK_STR(load_error(labelled("", json)), "steps[0].answers[0].label: longer than 200 bytes");

	/* Kept as given, in the flow and in its JSON (what the API stores and shows). */
	sbuf_init(&err);
	o = json_tokener_parse(labelled(", \"label\": \"Step?\"", ", \"label\": \"One\""));
	struct flow *f = flow_from_json(o, &err);
	CHECK(f != NULL);
	if (f) {
		CHECK_STR(f->steps[0].label, "Step?");
		CHECK_STR(f->steps[0].answers[0].label, "One");
		CHECK(strstr(json_object_to_json_string(f->json), "\"label\": \"One\"") != NULL ||
		      strstr(json_object_to_json_string(f->json), "\"label\":\"One\"") != NULL);
	}
	flow_free(f);
	json_object_put(o);
	sbuf_free(&err);
}

TEST(valid_small_flow)
{
	CHECK_STR(load_error(two_steps("{\"match\": [\"yes\"], \"value\": \"y\", "
				       "\"outcome\": \"help_request\"}")), "ok");
	/* A loop is fine when there is a way out of it. */
	CHECK_STR(load_error(two_steps("{\"match\": [\"back\"], \"value\": \"b\", \"next\": \"a\"},"
				       "{\"match\": [\"done\"], \"value\": \"d\", \"outcome\": \"end\"}")),
		  "ok");
}

TEST(refused_flows)
{
	CHECK_STR(load_error(two_steps("{\"match\": [\"x\"], \"value\": \"x\", \"next\": \"a\"}")),
		  "steps[0]: \"a\" is a dead end: no answer from it ever leads to an outcome");
	CHECK_STR(load_error(two_steps("{\"match\": [\"x\"], \"value\": \"x\", \"next\": \"zz\"}")),
		  "steps[1].answers[0].next: no step has the id \"zz\"");
	CHECK_STR(load_error(two_steps("{\"match\": [\"x\"], \"value\": \"x\"}")),
		  "steps[1].answers[0].: needs either \"next\" (a step) or \"outcome\"");
	CHECK_STR(load_error(two_steps("{\"match\": [\"x\"], \"value\": \"x\", \"outcome\": \"win\"}")),
		  "steps[1].answers[0].outcome: must be help_request, end or record");
	CHECK_STR(load_error(two_steps("{\"match\": [\"Yes\", \"YES!\"], \"value\": \"x\", "
				       "\"outcome\": \"end\"}")),
		  "steps[1].answers[0].match[1]: \"YES\" is already an answer of this step");
	CHECK_STR(load_error(two_steps("{\"match\": [\"🙂\"], \"value\": \"x\", \"outcome\": \"end\"}")),
		  "steps[1].answers[0].match[0]: must be a string with letters or digits");
	CHECK_STR(load_error(two_steps("{\"match\": [\"x\"], \"value\": \"x\", \"outcome\": \"end\", "
				       "\"colour\": \"red\"}")),
		  "steps[1].answers[0]: unknown key \"colour\" (the keys are match, value, category, "
		  "next, outcome, reply, replies and label)");
	CHECK_STR(load_error("{\"name\": \"t\", \"category\": \"c\", \"start\": \"a\", \"steps\": ["
			     "{\"id\": \"a\", \"question\": \"A?\", \"answers\": [{\"match\": [\"1\"], "
			     "\"value\": \"one\", \"outcome\": \"end\"}]},"
			     "{\"id\": \"b\", \"question\": \"B?\", \"answers\": [{\"match\": [\"1\"], "
			     "\"value\": \"one\", \"outcome\": \"end\"}]}]}"),
		  "steps[1]: \"b\" cannot be reached from the start or an entry");
	CHECK_STR(load_error("{\"name\": \"t\", \"category\": \"c\", \"start\": \"a\", \"entries\": [\"b\"], "
			     "\"steps\": [{\"id\": \"a\", \"question\": \"A?\", \"answers\": [{\"match\": "
			     "[\"1\"], \"value\": \"one\", \"outcome\": \"end\"}]},"
			     "{\"id\": \"b\", \"question\": \"B?\", \"answers\": [{\"match\": [\"1\"], "
			     "\"value\": \"one\", \"outcome\": \"end\"}]}]}"),
		  "ok");
	CHECK_STR(load_error("{\"name\": \"T\", \"category\": \"c\", \"start\": \"a\", \"steps\": []}"),
		  "name: \"T\" must be lower-case letters, digits and _");
	CHECK_STR(load_error("{\"name\": \"t\", \"category\": \"c\", \"start\": \"a\", \"steps\": []}"),
		  "steps: must be a non-empty array");
	CHECK_STR(load_error("{\"name\": \"t\", \"category\": \"c\", \"start\": \"q\", \"steps\": ["
			     "{\"id\": \"a\", \"question\": \"A?\", \"answers\": [{\"match\": [\"1\"], "
			     "\"value\": \"one\", \"outcome\": \"end\"}]}]}"),
		  "start: no step has the id \"q\"");
	CHECK_STR(load_error("{\"name\": \"t\", \"category\": \"c\", \"start\": \"a\", \"steps\": ["
			     "{\"id\": \"a\", \"question\": \"A?\", \"answers\": [{\"match\": [\"1\"], "
			     "\"value\": \"one\", \"outcome\": \"end\"}]},"
			     "{\"id\": \"a\", \"question\": \"B?\", \"answers\": [{\"match\": [\"1\"], "
			     "\"value\": \"one\", \"outcome\": \"end\"}]}]}"),
		  "steps[1].id: \"a\" is used by an earlier step");
	CHECK_STR(load_error("[]"), "a flow must be a JSON object");
}

TEST(flow_sets)
{
	struct flow_set *set = flow_set_new();
	struct json_object *o = json_tokener_parse(two_steps("{\"match\": [\"y\"], \"value\": \"y\", "
							     "\"outcome\": \"end\"}"));
	struct sbuf err;

	sbuf_init(&err);
	struct flow *a = flow_from_json(o, &err);
	struct flow *b = flow_from_json(o, &err);
	CHECK(a && b);
	if (a && b) {
		flow_set_put(set, a);
		flow_set_put(set, b); /* same name: replaces */
		CHECK_INT(flow_set_count(set), 1);
		CHECK(flow_set_get(set, "t") == b);
		CHECK(flow_set_get(set, "nope") == NULL);
	}
	json_object_put(o);
	sbuf_free(&err);
	flow_set_free(set);
	flow_set_free(NULL);
	flow_free(NULL);
}

int main(void)
{
	RUN(shipped_flows);
	RUN(shipped_labels);
	RUN(labels);
	RUN(valid_small_flow);
	RUN(refused_flows);
	RUN(flow_sets);
	return check_summary("flow");
}
