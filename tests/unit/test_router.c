/*
 * test_router.c: what the router decides for a text, given the sender's open conversation,
 * with the shipped keywords and flows and no database. Run from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns/flow.h"
#include "gateway/rules.h"
#include "gateway/router.h"
#include "tests/check.h"

static struct app app;
static struct router_decision d;

static int setup(void)
{
	struct json_object *kw = json_object_from_file("data/keywords.json");
	struct sbuf err;

	sbuf_init(&err);
	app.cfg.org_name = "Kent Digital Help";
	app.keywords = kw ? keyword_set_from_json(kw, &err) : NULL;
	app.rules = app.keywords ? rules_new(&app, &err) : NULL;
	if (!app.rules)
		fprintf(stderr, "setup: %s\n", sbuf_str(&err));
	json_object_put(kw);
	sbuf_free(&err);
	return app.rules ? 0 : -1;
}

/* Decides text for a sender in conversation flow/step (NULL: none); "action op state". */
static const char *decide(const char *flow, const char *step, int retries, const char *text)
{
	static char buf[128];
	struct router_sender who = { .known_tenant = true, .conv_id = flow ? "7" : NULL,
				     .conv_flow = flow, .conv_step = step,
				     .conv_answers = "{\"money\": \"bills\"}",
				     .conv_category = flow ? "money" : NULL, .conv_retries = retries };

	router_decision_free(&d);
	router_decide(&app, text, &who, &d);
	snprintf(buf, sizeof(buf), "%s %s %s", router_action_str(d.action),
		 router_conv_op_str(d.conv_op), d.close_state ? d.close_state : "-");
	return buf;
}

static bool reply_starts(const char *prefix)
{
	bool ok = d.reply && strncmp(d.reply, prefix, strlen(prefix)) == 0;
	if (!ok)
		fprintf(stderr, "reply: %s\n", d.reply ? d.reply : "(none)");
	return ok;
}

TEST(keywords_start_flows)
{
	CHECK_STR(decide(NULL, NULL, 0, "money please"), "flow start -");
	CHECK_STR(d.conv_flow, "digital_skills");
	CHECK_STR(d.conv_step, "money");
	CHECK(reply_starts("Which money help?"));
	CHECK_STR(decide(NULL, NULL, 0, "I need help getting online"), "flow start -");
	CHECK_STR(d.conv_step, "topic");
	CHECK_STR(decide(NULL, NULL, 0, "SKILLS"), "help_request keep -");
	CHECK_STR(d.category, "digital_skills");
	CHECK(!d.consent);
	CHECK_STR(decide(NULL, NULL, 0, "hello"), "none keep -");
	CHECK(reply_starts("Sorry, we did not understand that. Text SKILLS"));
}

TEST(answers_move_on)
{
	CHECK_STR(decide("digital_skills", "how", 0, "2"), "flow advance -");
	CHECK_STR(d.conv_step, "when");
	CHECK_STR(d.answers, "{\"money\":\"bills\",\"how\":\"face_to_face\"}");
	CHECK_STR(d.conv_category, "money");
	CHECK_STR(decide("digital_skills", "consent", 0, "Yes please"), "help_request close done");
	CHECK_STR(d.category, "money");
	CHECK(d.consent && !d.needs_call);
	CHECK(reply_starts("Thank you. A local helper"));
	CHECK_STR(decide("digital_skills", "consent", 0, "no"), "flow close done");
	CHECK(d.category == NULL);
}

TEST(unclear_answers)
{
	CHECK_STR(decide("digital_skills", "when", 0, "whenever"), "flow retry -");
	CHECK(reply_starts("Sorry, we did not understand that. What time of day"));
	CHECK_STR(decide("digital_skills", "when", 1, "whenever"), "help_request close handed_off");
	CHECK(d.needs_call && !d.consent);
	CHECK(reply_starts("Thanks. Someone from Kent Digital Help will call you"));
	/* A typo is not an answer either; a keyword that is not an answer starts afresh. */
	CHECK_STR(decide("digital_skills", "when", 0, "MONY"), "flow retry -");
	CHECK_STR(decide("digital_skills", "when", 0, "JOBS"), "flow start -");
	CHECK_STR(d.conv_step, "jobs");
	CHECK_STR(decide("digital_skills", "when", 0, "SKILLS"), "help_request close cancelled");
}

TEST(builtins_win_in_conversations)
{
	CHECK_STR(decide("digital_skills", "consent", 0, "STOP"), "opt_out close cancelled");
	CHECK(reply_starts("You will not get any more texts from Kent Digital Help"));
	CHECK_STR(decide("digital_skills", "consent", 0, "HELP"), "info keep -");
	CHECK_STR(decide("digital_skills", "consent", 0, "START"), "opt_in keep -");
}

TEST(typos_ask_first)
{
	CHECK_STR(decide(NULL, NULL, 0, "SKILS"), "suggest start -");
	CHECK_STR(d.conv_flow, "confirm");
	CHECK_STR(d.conv_step, "SKILLS");
	CHECK_STR(d.reply, "Did you mean SKILLS? Reply YES");
	CHECK_STR(decide("confirm", "SKILLS", 0, "yes"), "help_request close done");
	CHECK_STR(decide("confirm", "STOP", 0, "Y"), "opt_out close done");
	CHECK_STR(decide("confirm", "MONEY", 0, "yes"), "flow start -");
	CHECK_STR(decide("confirm", "SKILLS", 0, "no thanks"), "none close cancelled");
}

TEST(follow_up_and_stale_flows)
{
	CHECK_STR(decide("followup", "helped", 0, "Nie"), "record close done");
	CHECK_STR(d.record_value, "no");
	/* A conversation in a flow that no longer has that step ends; the text is read afresh. */
	CHECK_STR(decide("digital_skills", "gone", 0, "MONEY"), "flow start -");
	CHECK_STR(decide("nope", "x", 0, "hello"), "none close cancelled");
	struct router_sender stranger = { 0 };
	router_decision_free(&d);
	router_decide(&app, "hi", &stranger, &d);
	CHECK(reply_starts("Thanks for your message. This number is Kent Digital Help's"));
}

int main(void)
{
	int rc = 1;

	if (setup() < 0)
		goto out;
	RUN(keywords_start_flows);
	RUN(answers_move_on);
	RUN(unclear_answers);
	RUN(builtins_win_in_conversations);
	RUN(typos_ask_first);
	RUN(follow_up_and_stale_flows);
	rc = check_summary("router");
out:
	router_decision_free(&d);
	rules_free(app.rules);
	keyword_set_free(app.keywords);
	return rc;
}
