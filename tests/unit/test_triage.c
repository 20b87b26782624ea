/*
 * test_triage.c: what triage decides for a text, given the sender's open conversation,
 * with the shipped keywords and flows and no database; how it checks a text, fills its
 * statements' parameters and reads their rows (results built in memory, column by column
 * in the order the statements' SELECT lists give). Run from the repository root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/rules.h"
#include "gateway/triage.h"
#include "tests/check.h"
#include "tests/unit/keyword_data.h"
#include "triage/flow.h"

static struct app app;
static struct triage_decision d;

static int setup(void)
{
	struct sbuf err;

	sbuf_init(&err);
	app.cfg.org_name = "Kent Digital Help";
	app.keyword_base = keyword_data_base();
	app.keywords = app.keyword_base ? keyword_data_set(app.keyword_base) : NULL;
	app.rules = app.keywords ? rules_new(&app, &err) : NULL;
	if (!app.rules)
		fprintf(stderr, "setup: %s\n", sbuf_str(&err));
	sbuf_free(&err);
	return app.rules ? 0 : -1;
}

/* Decides text for a sender in conversation flow/step (NULL: none); "action op state". */
static const char *decide(const char *flow, const char *step, int retries, const char *text)
{
	static char buf[128];
	struct triage_sender who = { .known_tenant = true, .conv_id = flow ? "7" : NULL,
				     .conv_flow = flow, .conv_step = step,
				     .conv_answers = "{\"money\": \"bills\"}",
				     .conv_category = flow ? "money" : NULL, .conv_retries = retries };

	triage_decision_free(&d);
	triage_decide(&app, text, &who, &d);
	snprintf(buf, sizeof(buf), "%s %s %s", triage_action_str(d.action),
		 triage_conv_op_str(d.conv_op), d.close_state ? d.close_state : "-");
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

TEST(plain_requests)
{
	/* A branch named in plain words starts it; a word that only hints asks first. */
	CHECK_STR(decide(NULL, NULL, 0, "I want to learn to use email"), "flow start -");
	CHECK_STR(d.conv_step, "how"); /* EMAIL answers the first question at once */
	CHECK_STR(d.answers, "{\"topic\":\"communicating\"}");
	CHECK_STR(d.conv_category, "communicating");
	CHECK(reply_starts("How would you like help?"));
	CHECK_STR(d.rule, "keyword_in_sentence");
	CHECK_STR(decide(NULL, NULL, 0, "I need to sort my bills"), "suggest start -");
	CHECK_STR(d.conv_flow, "confirm");
	CHECK_STR(d.conv_step, "MONEY");
	CHECK_STR(d.reply, "Would you like help with banking, bills and saving money online? "
		  "Reply YES");
	CHECK_STR(d.rule, "hint");
	CHECK_STR(decide(NULL, NULL, 0, "STPO"), "suggest start -");
	CHECK_STR(d.reply, "Did you mean STOP? Reply YES");
	CHECK_STR(decide(NULL, NULL, 0, "monkey"), "none keep -");
	CHECK_STR(d.core, "MONKEY");
	CHECK_STR(d.rule, "none");
	CHECK_STR(decide(NULL, NULL, 0, "I don't want these texts"), "opt_out keep -");
	CHECK_STR(decide(NULL, NULL, 0, "please don't stop texting me"), "none keep -");
}

/* Decides text for a tenant whose language is lang (NULL: none). */
static void decide_lang(const char *lang, const char *text)
{
	struct triage_sender who = { .known_tenant = true, .language = lang };

	triage_decision_free(&d);
	triage_decide(&app, text, &who, &d);
}

TEST(languages)
{
	/* The text's own words choose the reply's language, and teach the tenant's. */
	decide_lang(NULL, "nie wysyłajcie mi wiadomości");
	CHECK_INT(d.action, TRIAGE_OPT_OUT);
	CHECK_STR(d.lang, "pl");
	CHECK_STR(d.learned_language, "pl");
	CHECK(reply_starts("Nie będziesz już otrzymywać wiadomości od Kent Digital Help"));
	decide_lang(NULL, "AJUTOR");
	CHECK_STR(d.lang, "ro");
	CHECK_STR(d.learned_language, "ro");
	/* A tenant with a language gets it for words of no language, and keeps it. */
	decide_lang("lt", "STOP");
	CHECK_STR(d.lang, "lt");
	CHECK(d.learned_language == NULL);
	CHECK(reply_starts("Daugiau negausite žinučių"));
	decide_lang("pl", "money");
	CHECK(reply_starts("Jaka pomoc z pieniędzmi?"));
	/* Where the data has no text in the language, English. */
	decide_lang("ne", "STOP");
	CHECK(reply_starts("You will not get any more texts"));
	decide_lang(NULL, "hello");
	CHECK_STR(d.lang, "");
	CHECK(d.learned_language == NULL);
}

TEST(follow_up_and_stale_flows)
{
	CHECK_STR(decide("followup", "helped", 0, "Nie"), "record close done");
	CHECK_STR(d.record_value, "no");
	/* A conversation in a flow that no longer has that step ends; the text is read afresh. */
	CHECK_STR(decide("digital_skills", "gone", 0, "MONEY"), "flow start -");
	CHECK_STR(decide("nope", "x", 0, "hello"), "none close cancelled");
	struct triage_sender stranger = { 0 };
	triage_decision_free(&d);
	triage_decide(&app, "hi", &stranger, &d);
	CHECK(reply_starts("Thanks for your message. This number is Kent Digital Help's"));
}

/* ---- a text's way through the statements ---- */

/* A one-row result with columns values[0..n), as libpq would hand it over; NULL is SQL NULL. */
static PGresult *row_of(int n, const char *const *values)
{
	PGresAttDesc attrs[32];
	PGresult *pg = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

	memset(attrs, 0, sizeof(attrs));
	for (int i = 0; i < n; i++) {
		attrs[i].name = (char *)"c";
		attrs[i].typid = 25; /* text */
		attrs[i].typlen = -1;
		attrs[i].atttypmod = -1;
	}
	if (!pg || n > (int)ARRAY_LEN(attrs) || !PQsetResultAttrs(pg, n, attrs))
		abort();
	for (int i = 0; i < n; i++)
		if (!PQsetvalue(pg, 0, i, (char *)values[i], values[i] ? (int)strlen(values[i]) : -1))
			abort();
	return pg;
}

/* An adapter's parse result for text from +447700900123. */
static void sms_of(struct sms_in *m, const char *text)
{
	snprintf(m->provider_id, sizeof(m->provider_id), "SM1");
	snprintf(m->from, sizeof(m->from), "+447700900123");
	snprintf(m->to, sizeof(m->to), "+447700900000");
	sbuf_reset(&m->text);
	sbuf_adds(&m->text, text);
}

/* triage_text_from_sms's error for m, "" when the text passes. */
static const char *text_error(const struct sms_in *m)
{
	static char msg[128];
	struct triage_text t;
	struct sbuf err;

	sbuf_init(&err);
	if (triage_text_from_sms(&t, "tw", false, m, &err) == 0)
		CHECK(err.len == 0);
	snprintf(msg, sizeof(msg), "%s", sbuf_str(&err));
	sbuf_free(&err);
	return msg;
}

TEST(texts_are_checked_once)
{
	struct triage_text t;
	struct sms_in m;
	struct sbuf err, big;

	sms_in_init(&m);
	sbuf_init(&err);
	sms_of(&m, "Caf\xc3\xa9");
	CHECK_INT(triage_text_from_sms(&t, "tw", true, &m, &err), 0);
	CHECK_STR(t.provider, "tw");
	CHECK(t.provider_id == m.provider_id && t.to == m.to && t.text == sbuf_str(&m.text));
	CHECK(t.from == m.from); /* the adapter's E.164, not normalised again */
	CHECK_STR(t.text, "Caf\xc3\xa9");
	CHECK(t.sync_reply);
	sms_of(&m, "Caf\xe9");
	CHECK_STR(text_error(&m), "the text is not valid UTF-8");
	sms_of(&m, "\xed\xa0\x80"); /* a surrogate */
	CHECK_STR(text_error(&m), "the text is not valid UTF-8");
	sms_of(&m, "");
	CHECK_STR(text_error(&m), "");
	m.from[0] = '\0';
	CHECK_STR(text_error(&m), "the text has no sender or id, or is longer than an SMS can be");
	sms_of(&m, "hi");
	m.provider_id[0] = '\0';
	CHECK_STR(text_error(&m), "the text has no sender or id, or is longer than an SMS can be");
	sbuf_init(&big);
	for (size_t i = 0; i < TRIAGE_TEXT_MAX; i++)
		sbuf_adds(&big, "x");
	sms_of(&m, sbuf_str(&big));
	CHECK_STR(text_error(&m), "");
	sbuf_adds(&m.text, "x");
	CHECK_STR(text_error(&m), "the text has no sender or id, or is longer than an SMS can be");
	sbuf_free(&big);
	sbuf_free(&err);
	sms_in_free(&m);
}

static const struct triage_text text_in = { "tw", "SM1", "+447700900123", "+447700900000",
					    "Yes please", false, NULL };

TEST(lookup_params_and_rows)
{
	/* t.id, campaign, seen, c.id, c.flow, c.step, c.answers, c.retries, c.category,
	   c.help_request_id, t.language */
	const char *tenant_row[] = { "12", "34", "f", "7", "digital_skills", "when",
				     "{\"money\": \"bills\"}", "1", "money", "56", "pl" };
	const char *stranger_row[] = { NULL, NULL, "t", NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				       NULL };
	struct db_result r = { .sqlstate = "", .constraint = "" };
	struct triage_params p;
	struct triage_lookup l;

	triage_lookup_params(&text_in, &p);
	CHECK_INT(p.n, 3); /* $1 phone, $2 provider, $3 provider message id */
	CHECK_STR(p.v[0], "+447700900123");
	CHECK_STR(p.v[1], "tw");
	CHECK_STR(p.v[2], "SM1");

	r.pg = row_of(ARRAY_LEN(tenant_row), tenant_row);
	triage_lookup_from_row(&r, &l);
	CHECK(!l.seen);
	CHECK_STR(l.tenant_id, "12");
	CHECK_STR(l.campaign_id, "34");
	CHECK(l.who.known_tenant);
	CHECK_STR(l.who.conv_id, "7");
	CHECK_STR(l.who.conv_flow, "digital_skills");
	CHECK_STR(l.who.conv_step, "when");
	CHECK_STR(l.who.conv_answers, "{\"money\": \"bills\"}");
	CHECK_INT(l.who.conv_retries, 1);
	CHECK_STR(l.who.conv_category, "money");
	CHECK_STR(l.who.conv_help_request, "56");
	CHECK_STR(l.who.language, "pl");
	PQclear(r.pg);

	r.pg = row_of(ARRAY_LEN(stranger_row), stranger_row);
	triage_lookup_from_row(&r, &l);
	CHECK(l.seen && !l.who.known_tenant);
	CHECK(!l.tenant_id && !l.campaign_id && !l.who.conv_id && !l.who.conv_flow);
	CHECK(!l.who.conv_answers && !l.who.conv_category && !l.who.conv_help_request);
	CHECK_INT(l.who.conv_retries, 0);
	CHECK(!l.who.language);
	PQclear(r.pg);
}

/* Positions are the statement's $1 to $26 less one. */
TEST(apply_params)
{
	struct triage_sender who = { .known_tenant = true, .conv_id = "7",
				     .conv_flow = "digital_skills", .conv_step = "consent",
				     .conv_answers = "{}", .conv_category = "money",
				     .conv_help_request = "56" };
	struct triage_lookup l = { .tenant_id = "12", .campaign_id = "34", .who = who };
	struct triage_text t = text_in;
	struct triage_params p;

	triage_decision_free(&d);
	triage_decide(&app, t.text, &l.who, &d);
	triage_apply_params(&t, &l, &d, 86400, &p);
	CHECK_INT(p.n, 29);
	CHECK_STR(p.v[0], "tw");
	CHECK_STR(p.v[1], "SM1");
	CHECK_STR(p.v[2], "+447700900123");
	CHECK_STR(p.v[3], "+447700900000");
	CHECK_STR(p.v[4], "Yes please");
	CHECK_STR(p.v[5], "12");
	CHECK_STR(p.v[6], "34");
	CHECK_STR(p.v[7], "help_request");
	CHECK(p.v[8] == NULL); /* an answer, not a keyword */
	CHECK(p.v[9] && p.v[9] == d.reply && strncmp(p.v[9], "Thank you. A local helper", 25) == 0);
	CHECK(p.v[10] && p.v[10] == d.reply_repeat);
	CHECK_STR(p.v[11], "money");
	CHECK_STR(p.v[12], "close");
	CHECK_STR(p.v[13], "digital_skills");
	CHECK_STR(p.v[14], "consent");
	CHECK_STR(p.v[15], "{\"consent\":\"yes\"}");
	CHECK_STR(p.v[16], "money");
	CHECK_STR(p.v[17], "done");
	CHECK_STR(p.v[18], "86400");
	CHECK_STR(p.v[19], "false");
	CHECK_STR(p.v[20], "true");
	CHECK_STR(p.v[21], "7");
	CHECK(p.v[22] == NULL);
	CHECK_STR(p.v[23], "56");
	CHECK_STR(p.v[24], "YES PLEASE"); /* the core, or all of it when all is courtesy */
	CHECK_STR(p.v[25], "none");       /* no keyword rule: an answer */
	CHECK(p.v[26] == NULL);           /* no language to learn */
	CHECK(p.v[27] == NULL && p.v[28] == NULL); /* no replay id */

	/* A webhook's replay id goes with the text, to be recorded in the same statement. */
	struct verify_result auth = { "jti-1", 1700000065 };
	t.auth = &auth;
	triage_apply_params(&t, &l, &d, 86400, &p);
	CHECK_STR(p.v[27], "jti-1");
	CHECK_STR(p.v[28], "1700000065");
	t.auth = NULL;

	/* A provider that carries replies in its answer queues none; a follow-up answer is recorded. */
	t.sync_reply = true;
	l.who.conv_flow = "followup";
	l.who.conv_step = "helped";
	t.text = "no";
	triage_decision_free(&d);
	triage_decide(&app, t.text, &l.who, &d);
	triage_apply_params(&t, &l, &d, 60, &p);
	CHECK(d.reply && p.v[9] == NULL && p.v[10] == NULL);
	CHECK_STR(p.v[4], "no");
	CHECK_STR(p.v[7], "record");
	CHECK_STR(p.v[18], "60");
	CHECK_STR(p.v[19], "false");
	CHECK_STR(p.v[20], "false");
	CHECK_STR(p.v[22], "no");
	CHECK_STR(p.v[23], "56");

	/* A stranger's STOP: no tenant, no campaign, no conversation. */
	memset(&l, 0, sizeof(l));
	t.text = "STOP";
	triage_decision_free(&d);
	triage_decide(&app, t.text, &l.who, &d);
	triage_apply_params(&t, &l, &d, 60, &p);
	CHECK(p.v[5] == NULL && p.v[6] == NULL && p.v[21] == NULL && p.v[23] == NULL);
	CHECK_STR(p.v[7], "opt_out");
	CHECK_STR(p.v[8], "STOP");
	CHECK_STR(p.v[12], "keep");
	CHECK(p.v[13] == NULL && p.v[17] == NULL);
}

TEST(outcome_rows)
{
	/* inbound id, fresh, help request, replies queued, notified, changed */
	const char *stored[] = { "101", "t", "55", "1", "", "2" };
	const char *repeat[] = { "102", "f", NULL, "0", NULL, "0" };
	const char *dropped[] = { NULL, "t", NULL, "0", NULL, "0" };
	struct db_result r = { .sqlstate = "", .constraint = "" };
	struct triage_outcome o;

	r.pg = row_of(ARRAY_LEN(stored), stored);
	triage_outcome_from_row(&r, &o);
	CHECK_STR(o.inbound_id, "101");
	CHECK(o.fresh);
	CHECK_STR(o.help_request, "55");
	PQclear(r.pg);
	r.pg = row_of(ARRAY_LEN(repeat), repeat);
	triage_outcome_from_row(&r, &o);
	CHECK_STR(o.inbound_id, "102");
	CHECK(!o.fresh && !o.help_request);
	PQclear(r.pg);
	r.pg = row_of(ARRAY_LEN(dropped), dropped);
	triage_outcome_from_row(&r, &o);
	CHECK(o.inbound_id == NULL);
	PQclear(r.pg);
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
	RUN(plain_requests);
	RUN(languages);
	RUN(follow_up_and_stale_flows);
	RUN(texts_are_checked_once);
	RUN(lookup_params_and_rows);
	RUN(apply_params);
	RUN(outcome_rows);
	rc = check_summary("triage");
out:
	triage_decision_free(&d);
	rules_free(app.rules);
	keyword_set_free(app.keywords);
	keyword_base_free(app.keyword_base);
	return rc;
}
