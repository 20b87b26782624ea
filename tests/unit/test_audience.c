/*
 * test_audience.c: checking and normalising audience rules.
 */
#include <string.h>

#include "campaigns/audience.h"
#include "common/util.h"
#include "tests/check.h"

static struct sbuf err;
static const char *field;
static char out[1000];

/* The normalised JSON, or "error <field>: <message>". */
static const char *norm(const char *json)
{
	struct json_object *in = json_tokener_parse(json), *n;

	sbuf_reset(&err);
	field = NULL;
	n = audience_normalise(in, &field, &err);
	if (n)
		snprintf(out, sizeof(out), "%s", json_object_to_json_string_ext(n, JSON_C_TO_STRING_PLAIN));
	else
		snprintf(out, sizeof(out), "error %s: %s", field, sbuf_str(&err));
	json_object_put(n);
	json_object_put(in);
	return out;
}

#define EMPTY_TAGS "\"tags_all\":[],\"tags_any\":[],\"tags_none\":[]"

TEST(normal_forms)
{
	CHECK_STR(norm("{\"boroughs\": [\"Thanet\", \"MAIDSTONE\"]}"),
		  "{\"boroughs\":[\"thanet\",\"maidstone\"],\"landlords\":[],\"languages\":[]," EMPTY_TAGS "}");
	/* A plain tag list means "any of". */
	CHECK_STR(norm("{\"tags\": [\"Older\"]}"),
		  "{\"boroughs\":[],\"landlords\":[],\"languages\":[],\"tags_all\":[],"
		  "\"tags_any\":[\"older\"],\"tags_none\":[]}");
	CHECK_STR(norm("{\"tags\": {\"all\": [\"a\", \"B\"], \"none\": [\"c\"]}}"),
		  "{\"boroughs\":[],\"landlords\":[],\"languages\":[],\"tags_all\":[\"a\",\"b\"],"
		  "\"tags_any\":[],\"tags_none\":[\"c\"]}");
	CHECK_STR(norm("{\"languages\": [\"CY\", \"pt-BR\"]}"),
		  "{\"boroughs\":[],\"landlords\":[],\"languages\":[\"cy\",\"pt-br\"]," EMPTY_TAGS "}");
	CHECK_STR(norm("{\"all\": true, \"not_replied_to\": 12}"),
		  "{\"boroughs\":[],\"landlords\":[],\"languages\":[]," EMPTY_TAGS
		  ",\"not_replied_to\":12,\"all\":true}");
}

TEST(refusals)
{
	CHECK_STR(norm("{}"), "error audience: audience: name at least one of boroughs, landlords, "
		  "languages or tags (or set \"all\": true to text every tenant)");
	/* Exclusions alone pick nobody in particular: refused like an empty audience. */
	CHECK(strncmp(norm("{\"tags\": {\"none\": [\"x\"]}}"), "error audience:", 15) == 0);
	CHECK(strncmp(norm("{\"not_replied_to\": 3}"), "error audience:", 15) == 0);
	CHECK(strncmp(norm("{\"all\": false}"), "error audience:", 15) == 0);
	CHECK_STR(norm("{\"borough\": [\"x\"]}"), "error audience: audience: unknown key \"borough\", did you mean \"boroughs\"? "
		  "(the keys are boroughs, landlords, languages, tags, not_replied_to and all)");
	CHECK_STR(norm("{\"tags\": {\"some\": [\"x\"]}}"),
		  "error audience.tags: audience.tags: unknown key \"some\", did you mean \"none\"? "
		  "(the keys are all, any and none)");
	CHECK(strncmp(norm("{\"tags\": \"older\"}"), "error audience.tags:", 20) == 0);
	CHECK(strncmp(norm("{\"boroughs\": [\"\"]}"), "error audience.boroughs:", 24) == 0);
	CHECK(strncmp(norm("{\"boroughs\": [3]}"), "error audience.boroughs:", 24) == 0);
	CHECK(strncmp(norm("{\"tags\": {\"all\": [\"a\", 1]}}"), "error audience.tags.all:", 24) == 0);
	CHECK_STR(norm("{\"languages\": [\"Welsh\"]}"),
		  "error audience.languages: audience.languages: \"Welsh\" is not a language code "
		  "(write codes such as \"en\", \"cy\" or \"pl\")");
	CHECK(strncmp(norm("{\"all\": \"yes\"}"), "error audience.all:", 19) == 0);
	CHECK(strncmp(norm("{\"all\": true, \"not_replied_to\": 0}"),
		      "error audience.not_replied_to:", 30) == 0);
	CHECK(strncmp(norm("{\"all\": true, \"not_replied_to\": \"4\"}"),
		      "error audience.not_replied_to:", 30) == 0);
}

TEST(limits)
{
	struct sbuf big;

	sbuf_init(&big);
	sbuf_adds(&big, "{\"boroughs\": [");
	for (int i = 0; i <= AUDIENCE_MAX_ITEMS; i++)
		sbuf_printf(&big, "%s\"b%d\"", i ? "," : "", i);
	sbuf_adds(&big, "]}");
	CHECK_STR(norm(sbuf_str(&big)), "error audience.boroughs: audience.boroughs: at most 200 entries");
	sbuf_free(&big);
}

TEST(language_codes)
{
	CHECK(audience_language_valid("en"));
	CHECK(audience_language_valid("cy"));
	CHECK(audience_language_valid("yue"));
	CHECK(audience_language_valid("pt-br"));
	CHECK(audience_language_valid("zh-hant"));
	CHECK(!audience_language_valid("e"));
	CHECK(!audience_language_valid("engl"));
	CHECK(!audience_language_valid("EN"));
	CHECK(!audience_language_valid("en-"));
	CHECK(!audience_language_valid("en_gb"));
	CHECK(!audience_language_valid(""));
}

int main(void)
{
	sbuf_init(&err);
	RUN(normal_forms);
	RUN(refusals);
	RUN(limits);
	RUN(language_codes);
	sbuf_free(&err);
	return check_summary("audience");
}
