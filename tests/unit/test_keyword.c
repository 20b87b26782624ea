/*
 * test_keyword.c: built-in words and keyword sets from JSON, normalisation, and matching
 * tenants' replies: the rules, their names and explanations, languages, the lexicon.
 *
 * tests/data/keyword_cases.tsv holds replies and their expected outcomes against the
 * shipped data/keywords.json and data/builtin-words.json; every row is checked (the larger
 * table of replies as tenants write them is test_replies's). Run from the repository root.
 *
 * `test_keyword --match` reads plain text lines from stdin and prints
 * "<kind> <word or -> <action or ->" per line, to try replies by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "tests/check.h"
#include "tests/unit/keyword_data.h"
#include "triage/lexicon.h"

#define CASES_PATH "tests/data/keyword_cases.tsv"

static struct keyword_base *base;
static struct keyword_set *shipped;
static struct sbuf err;

/* "kind word" for text matched against set. */
static const char *outcome(const struct keyword_set *set, const char *text)
{
	static char buf[128];
	struct keyword_match m;

	keyword_match(set, text, &m);
	snprintf(buf, sizeof(buf), "%s %s", keyword_match_kind_str(m.kind), m.keyword ? m.keyword->word : "-");
	if ((m.kind == KEYWORD_MATCH_NONE) != (m.keyword == NULL))
		snprintf(buf, sizeof(buf), "inconsistent result");
	return buf;
}

/* Checks one "text<TAB>kind<TAB>word" row; returns -1 for a malformed row. */
static int check_row(char *line, int lineno, void *arg)
{
	char *tab1 = strchr(line, '\t');
	char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	char want[128];

	(void)arg;
	if (!tab2 || strchr(tab2 + 1, '\t'))
		return -1;
	*tab1 = *tab2 = '\0';
	keyword_data_unescape(line);
	snprintf(want, sizeof(want), "%s %s", tab1 + 1, tab2 + 1);
	const char *got = outcome(shipped, line);
	check_count++;
	if (strcmp(got, want) != 0) {
		check_failures++;
		fprintf(stderr, "%s:%d: \"%s\": got \"%s\", expected \"%s\"\n", CASES_PATH, lineno,
			line, got, want);
	}
	return 0;
}

TEST(cases_file)
{
	int malformed;
	int rows = keyword_data_rows(CASES_PATH, check_row, NULL, &malformed);

	CHECK_INT(malformed, 0);
	CHECK(rows >= 150);
}

TEST(shipped_set)
{
	CHECK_INT(keyword_set_count(shipped), 9);
	const struct keyword *k = keyword_set_get(shipped, 0);
	CHECK_STR(k->word, "SKILLS");
	CHECK_INT(k->action, KEYWORD_HELP_REQUEST);
	CHECK_STR(k->target, "digital_skills");
	CHECK_STR(k->reply, "Thanks! Someone from the digital skills team will be in touch soon.");
	CHECK_INT(k->naliases, 5);
	CHECK_STR(k->aliases[0], "SKILL");
	CHECK_STR(keyword_set_get(shipped, 1)->target, "digital_skills:money");
	CHECK_INT(keyword_set_get(shipped, 1)->action, KEYWORD_FLOW);
	CHECK_STR(keyword_set_get(shipped, 2)->target, "digital_skills:jobs");
	CHECK_STR(keyword_set_get(shipped, 3)->target, "digital_skills:uc");
	CHECK_STR(keyword_set_get(shipped, 3)->aliases[0], "UNIVERSAL CREDIT");
	CHECK_INT(keyword_set_get(shipped, 4)->action, KEYWORD_INFO);
	CHECK_STR(keyword_set_get(shipped, 5)->target, "digital_skills");
	CHECK_STR(keyword_set_get(shipped, 6)->word, "EMAIL");
	CHECK_STR(keyword_set_get(shipped, 8)->word, "SCAMS");
	CHECK(keyword_set_get(shipped, 9) == NULL);
	CHECK(keyword_set_get(NULL, 0) == NULL);
	CHECK_INT(keyword_set_count(NULL), 0);
}

static struct sbuf norm_out;

static const char *norm(const char *text)
{
	struct sbuf *out = &norm_out;

	sbuf_reset(out);
	keyword_normalise(text, out);
	return sbuf_str(out);
}

TEST(normalise)
{
	CHECK_STR(norm(""), "");
	CHECK_STR(norm("  stop!!  "), "STOP");
	CHECK_STR(norm("🙏Skills🙏 please."), "SKILLS PLEASE");
	CHECK_STR(norm("Don’t  text\tme"), "DON'T TEXT ME");
	CHECK_STR(norm("opt-out, 'quoted' -dash- a--b"), "OPT-OUT QUOTED DASH A B");
	CHECK_STR(norm("Dŵr a thŷ, ẃ ỳ"), "DŴR A THŶ Ẃ Ỳ");
	CHECK_STR(norm("dziękuję, żółć, łąka"), "DZIĘKUJĘ ŻÓŁĆ ŁĄKA");
	CHECK_STR(norm("ÿ ß é"), "Ÿ ß É");
	CHECK_STR(norm("£50 + 2x"), "50 2X");
	CHECK_STR(norm("привет γειά σου, ώρα"), "ПРИВЕТ ΓΕΙΆ ΣΟΥ ΏΡΑ");
	CHECK_STR(norm("a\xff" "b"), "A B");
}

TEST(builtins_always_win)
{
	struct keyword_match m;
	struct keyword_set *empty = keyword_set_new(base);

	/* A set with no keywords still opts out: the built-in words are the base's. */
	keyword_match(empty, "stop", &m);
	CHECK_INT(m.kind, KEYWORD_MATCH_EXACT);
	CHECK_INT(m.keyword->action, KEYWORD_OPT_OUT);
	keyword_match(empty, "I don't want these texts", &m);
	CHECK_INT(m.keyword->action, KEYWORD_OPT_OUT);
	keyword_set_free(empty);
	keyword_match(NULL, "skills", &m);
	CHECK_INT(m.kind, KEYWORD_MATCH_NONE);
	CHECK(m.keyword == NULL);
	keyword_match(NULL, NULL, &m);
	CHECK_INT(m.kind, KEYWORD_MATCH_NONE);
	keyword_match(shipped, "", &m);
	CHECK_INT(m.kind, KEYWORD_MATCH_NONE);
	keyword_match(shipped, "START", &m);
	CHECK_INT(m.keyword->action, KEYWORD_OPT_IN);
	/* A typo of STOP is a question, never an opt-out. */
	keyword_match(shipped, "STOPP", &m);
	CHECK_INT(m.kind, KEYWORD_MATCH_TYPO);
	CHECK(m.keyword == keyword_builtin("STOP"));
	CHECK(keyword_builtin("STOP") != NULL);
	CHECK(keyword_builtin("SKILLS") == NULL);
	CHECK(keyword_base_reserves(base, "PLEASE"));
	CHECK(keyword_base_reserves(base, "START AGAIN"));
	CHECK(!keyword_base_reserves(base, "SKILLS"));
	CHECK_STR(keyword_action_str(KEYWORD_OPT_OUT), "opt_out");
	CHECK_STR(keyword_action_str(KEYWORD_HELP_REQUEST), "help_request");
	CHECK_STR(keyword_action_str((enum keyword_action)42), "unknown");
	CHECK_STR(keyword_match_kind_str(KEYWORD_MATCH_TYPO), "typo");
	CHECK_STR(keyword_match_kind_str((enum keyword_match_kind)42), "unknown");
}

/* Builds a set from JSON text: "ok" or the error message. */
static const char *load(const char *json, struct keyword_set **out)
{
	struct json_object *o = json_tokener_parse(json);

	sbuf_reset(&err);
	*out = keyword_set_from_json(base, o, &err);
	json_object_put(o);
	return *out ? "ok" : sbuf_str(&err);
}

static const char *load_err(const char *json)
{
	struct keyword_set *set;
	const char *r = load(json, &set);

	keyword_set_free(set);
	return r;
}

TEST(json_errors)
{
	CHECK_STR(load_err("{\"keywords\": []}"), "ok");
	CHECK_STR(load_err("[]"), "keywords: the set must be an object {\"keywords\": [...]}");
	CHECK_STR(load_err("{\"keyword\": []}"),
		  "keyword: unknown key \"keyword\", did you mean \"keywords\"? (the keys are keywords, replies and not_typos)");
	CHECK_STR(load_err("{\"keywords\": {}}"), "keywords: must be a list of keywords");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"action\": \"flow\", "
			   "\"target\": \"money\", \"replies\": \"x\"}]}"),
		  "keywords[0] (BILLS).replies: must be an object of texts by language, such as "
		  "{\"pl\": \"...\"}");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"action\": \"call\"}]}"),
		  "keywords[0] (BILLS): action must be \"opt_out\", \"opt_in\", \"info\", \"flow\" or "
		  "\"help_request\"");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"PEIDIWCH\", \"action\": \"opt_out\"}]}"),
		  "ok");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\"}]}"),
		  "keywords[0] (BILLS): action is missing; use \"opt_out\", \"opt_in\", \"info\", "
		  "\"flow\" or \"help_request\"");
	CHECK_STR(load_err("{\"keywords\": [{\"action\": \"info\"}]}"),
		  "keywords[0]: word is missing");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"action\": \"flow\"}]}"),
		  "keywords[0] (BILLS): a flow keyword needs a target naming the flow, such as "
		  "\"digital_skills\" or \"digital_skills:money\"");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"action\": \"help_request\", "
			   "\"target\": \"a:b\"}]}"),
		  "keywords[0] (BILLS): a help_request keyword needs a target naming the "
		  "category, such as \"digital_skills\"");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"stop\", \"action\": \"info\"}]}"),
		  "keywords[0] (stop): word \"STOP\" is built in (an opt-out or opt-in word, or "
		  "a courtesy word such as PLEASE) and cannot be a keyword");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"aliases\": [\"Yes\"], "
			   "\"action\": \"info\"}]}"),
		  "keywords[0] (BILLS): aliases[0] \"YES\" is built in (an opt-out or opt-in "
		  "word, or a courtesy word such as PLEASE) and cannot be a keyword");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"!!\", \"action\": \"info\"}]}"),
		  "keywords[0] (!!): word must be a word (or a phrase of up to four words) of "
		  "letters and digits, such as \"SKILLS\"");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"aliases\": \"BILL\", "
			   "\"action\": \"info\"}]}"),
		  "keywords[0] (BILLS): aliases must be a list of words, such as [\"SKILL\"]");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"action\": \"info\", "
			   "\"reply\": \"\"}]}"),
		  "keywords[0] (BILLS): reply must be a non-empty string (or left out)");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"action\": \"info\"}, "
			   "{\"word\": \"RENT\", \"aliases\": [\"bills\"], \"action\": \"info\"}]}"),
		  "keywords[1] (RENT): \"BILLS\" is already used by keywords[0] (BILLS)");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"aliases\": [\"BILL\", "
			   "\"Bill\"], \"action\": \"info\"}]}"),
		  "keywords[0] (BILLS): \"BILL\" appears twice");
	CHECK_STR(load_err("{\"keywords\": [{\"word\": \"BILLS\", \"aliases\": [\"bills\"], "
			   "\"action\": \"info\"}]}"),
		  "keywords[0] (BILLS): \"BILLS\" appears twice");
	CHECK_STR(load_err("{\"keywords\": [7]}"),
		  "keywords[0]: must be an object such as {\"word\": \"SKILLS\", \"action\": "
		  "\"help_request\", \"target\": \"digital_skills\"}");
}

TEST(json_round_trip)
{
	struct json_object *o = keyword_set_to_json(shipped);
	struct keyword_set *again;
	const char *json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	CHECK(strstr(json, "{\"word\":\"SKILLS\",\"aliases\":[\"SKILL\",") != NULL);
	CHECK(strstr(json, "\"words\":{\"pl\":[\"POMOC\",\"POMOCY\"],") != NULL);
	CHECK(strstr(json, "\"action\":\"flow\",\"target\":\"digital_skills:money\"") != NULL);
	CHECK_STR(load(json, &again), "ok");
	struct json_object *o2 = keyword_set_to_json(again);
	CHECK_STR(json_object_to_json_string_ext(o2, JSON_C_TO_STRING_PLAIN), json);
	json_object_put(o2);
	json_object_put(o);
	keyword_set_free(again);
	keyword_set_free(NULL);
	struct keyword_set *empty = keyword_set_new(base);
	CHECK_INT(keyword_set_count(empty), 0);
	CHECK_STR(outcome(empty, "SKILLS"), "none -");
	CHECK_STR(outcome(empty, "Unsubscribe"), "exact UNSUBSCRIBE");
	keyword_set_free(empty);
}

TEST(custom_set)
{
	struct keyword_set *set;

	CHECK_STR(load("{\"keywords\": [{\"word\": \"Repairs\", \"aliases\": [\"repair\", "
		       "\"fix it\"], \"action\": \"help_request\", \"target\": \"repairs\"},"
		       "{\"word\": \"CWTSH\", \"action\": \"info\", \"reply\": \"Helo!\"}]}", &set),
		  "ok");
	CHECK_STR(outcome(set, "repairs please"), "exact REPAIRS");
	CHECK_STR(outcome(set, "Can you fix it"), "exact REPAIRS");
	CHECK_STR(outcome(set, "REPIARS"), "typo REPAIRS");
	CHECK_STR(outcome(set, "cwtsh"), "exact CWTSH");
	CHECK_STR(outcome(set, "CWTCH"), "typo CWTSH");
	CHECK_STR(outcome(set, "a cwtsh"), "none -"); /* info keywords only as the whole reply */
	CHECK_STR(outcome(set, "STOP"), "exact STOP");
	keyword_set_free(set);
	/* More opt-out and opt-in words: only as the whole reply, and STOP still works. */
	CHECK_STR(load("{\"keywords\": [{\"word\": \"PEIDIWCH\", \"aliases\": [\"DIM MWY\"], "
		       "\"action\": \"opt_out\"}, {\"word\": \"DECHRAU\", \"action\": \"opt_in\"}]}",
		       &set), "ok");
	CHECK_STR(outcome(set, "Peidiwch!"), "exact PEIDIWCH");
	CHECK_STR(outcome(set, "dim mwy diolch"), "exact PEIDIWCH");
	CHECK_STR(outcome(set, "peidiwch a poeni"), "none -");
	CHECK_STR(outcome(set, "dechrau"), "exact DECHRAU");
	CHECK_STR(outcome(set, "stop"), "exact STOP");
	CHECK_INT(keyword_set_get(set, 0)->action, KEYWORD_OPT_OUT);
	keyword_set_free(set);
}

static int match_stdin(void)
{
	char line[2048];
	struct keyword_match m;

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		keyword_match(shipped, line, &m);
		printf("%s %s %s\n", keyword_match_kind_str(m.kind), m.keyword ? m.keyword->word : "-",
		       m.keyword ? keyword_action_str(m.keyword->action) : "-");
	}
	return 0;
}

static int load_shipped(void)
{
	base = keyword_data_base();
	shipped = base ? keyword_data_set(base) : NULL;
	return shipped ? 0 : -1;
}

int main(int argc, char **argv)
{
	int rc = 1;

	sbuf_init(&err);
	if (load_shipped() < 0)
		goto out;
	if (argc > 1 && strcmp(argv[1], "--match") == 0) {
		rc = match_stdin();
		goto out;
	}
	RUN(cases_file);
	RUN(shipped_set);
	RUN(normalise);
	RUN(builtins_always_win);
	RUN(json_errors);
	RUN(json_round_trip);
	RUN(custom_set);
	rc = check_summary("keyword");
out:
	keyword_set_free(shipped);
	keyword_base_free(base);
	sbuf_free(&err);
	sbuf_free(&norm_out);
	return rc;
}
