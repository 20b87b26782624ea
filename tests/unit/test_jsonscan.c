/*
 * test_jsonscan.c: reading named members of a JSON object without building it; the
 * randomised comparison with json-c is the "jsonscan" target of test_fuzz.
 */
#include <stdio.h>
#include <string.h>

#include "common/jsonscan.h"
#include "common/util.h"
#include "tests/check.h"

enum { SID, STATUS, CODE, MESSAGE, N };

static struct jsonscan_member m[N];

static int scan(const char *doc)
{
	static const char *const names[N] = { "sid", "status", "code", "message" };

	for (size_t i = 0; i < N; i++)
		m[i] = (struct jsonscan_member){ .name = names[i] };
	return jsonscan_members(doc, strlen(doc), m, N);
}

static const char *text(size_t i)
{
	static char buf[64];

	if (!jsonscan_text(&m[i], buf, sizeof(buf)))
		return buf[0] ? "(cut)" : "(none)";
	return buf;
}

TEST(twilio_answer)
{
	CHECK_INT(scan("{\"account_sid\": \"ACx\", \"sid\": \"SM0123\", \"num_segments\": \"1\",\n"
		       " \"status\": \"queued\", \"subresource_uris\": {\"media\": \"/m\"},\n"
		       " \"error_code\": null, \"price\": -0.0075e+0, \"code\": 21610}  "),
		  0);
	CHECK_INT(m[SID].kind, JSONSCAN_STRING);
	CHECK_STR(text(SID), "SM0123");
	CHECK_STR(text(STATUS), "queued");
	CHECK_INT(m[CODE].kind, JSONSCAN_NUMBER);
	CHECK_STR(text(CODE), "21610");
	CHECK_INT(m[MESSAGE].kind, JSONSCAN_ABSENT);
	CHECK_STR(text(MESSAGE), "(none)");
}

TEST(members_inside_nested_values_are_not_found)
{
	CHECK_INT(scan("{\"a\": {\"sid\": \"inner\"}, \"b\": [{\"status\": 1}, \"sid\"]}"), 0);
	CHECK_INT(m[SID].kind, JSONSCAN_ABSENT);
	CHECK_INT(m[STATUS].kind, JSONSCAN_ABSENT);
	CHECK_INT(scan("{\"sid\": {\"x\": [1, 2]}, \"status\": [], \"code\": true}"), 0);
	CHECK_INT(m[SID].kind, JSONSCAN_NESTED);
	CHECK_INT(m[SID].raw_len, strlen("{\"x\": [1, 2]}"));
	CHECK_STR(text(SID), "(none)");
	CHECK_INT(m[CODE].kind, JSONSCAN_LITERAL);
	CHECK_STR(text(CODE), "(none)");
}

TEST(escapes_are_decoded)
{
	CHECK_INT(scan("{\"message\": \"a\\\"b\\\\c\\/d\\n\\u00e9\\u20ac\\ud83d\\ude00\"}"), 0);
	CHECK_STR(text(MESSAGE), "a\"b\\c/d\n\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* a lone surrogate, either half, is U+FFFD */
	CHECK_INT(scan("{\"message\": \"x\\ud800y\\udc00\"}"), 0);
	CHECK_STR(text(MESSAGE), "x\xef\xbf\xbdy\xef\xbf\xbd");
	/* an escaped name is the name it spells */
	CHECK_INT(scan("{\"s\\u0069d\": \"SMx\", \"sid\\u0000\": \"no\"}"), 0);
	CHECK_STR(text(SID), "SMx");
}

TEST(the_last_of_a_repeated_name_counts)
{
	CHECK_INT(scan("{\"sid\": \"one\", \"sid\": \"two\"}"), 0);
	CHECK_STR(text(SID), "two");
}

TEST(a_value_that_does_not_fit_is_cut)
{
	char small[6];

	CHECK_INT(scan("{\"message\": \"abcdefgh\"}"), 0);
	CHECK(!jsonscan_text(&m[MESSAGE], small, sizeof(small)));
	CHECK_STR(small, "abcde");
	/* a character is never split */
	CHECK_INT(scan("{\"message\": \"abcd\\u20ac\"}"), 0);
	CHECK(!jsonscan_text(&m[MESSAGE], small, sizeof(small)));
	CHECK_STR(small, "abcd");
	CHECK_INT(scan("{\"message\": \"abcd\xe2\x82\xac\"}"), 0);
	CHECK(!jsonscan_text(&m[MESSAGE], small, sizeof(small)));
	CHECK_STR(small, "abcd");
	CHECK_INT(scan("{\"message\": \"ab\\u20ac\"}"), 0);
	CHECK(jsonscan_text(&m[MESSAGE], small, sizeof(small)));
	CHECK_STR(small, "ab\xe2\x82\xac");
}

TEST(anything_but_one_object_is_refused)
{
	static const char *const bad[] = {
		"", " ", "[]", "\"sid\"", "1", "null", "{", "}", "{\"sid\": \"x\"", "{\"sid\": \"x\"}}",
		"{\"sid\": \"x\"} {}", "{\"sid\" \"x\"}", "{\"sid\": }", "{sid: \"x\"}", "{'sid': 'x'}",
		"{\"sid\": \"x\",}", "{,}", "{\"a\": [1,]}", "{\"a\": [,1]}", "{\"a\": 01}",
		"{\"a\": 1.}", "{\"a\": .5}", "{\"a\": +1}", "{\"a\": -}", "{\"a\": 1e}",
		"{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": tru}", "{\"a\": nul}", "{\"a\": True}",
		"{\"a\": \"\\x\"}", "{\"a\": \"\\u12\"}", "{\"a\": \"\\u12g4\"}", "{\"a\": \"tab\there\"}",
		"{\"a\": \"line\nbreak\"}", "{\"a\": \"open}", "{\"a\": 1 /* c */}", "{\"a\": 1} // c",
		"\xef\xbb\xbf{}",
	};

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		int rc = scan(bad[i]);
		CHECK_INT(rc, -1);
		CHECK_INT(m[SID].kind, JSONSCAN_ABSENT);
		if (rc != -1)
			fprintf(stderr, "  accepted: %s\n", bad[i]);
	}
	/* a document with a NUL in it is not one object either */
	CHECK_INT(jsonscan_members("{}\0{}", 5, m, N), -1);
	CHECK_INT(jsonscan_members(NULL, 0, m, N), -1);
}

TEST(valid_corners)
{
	static const char *const good[] = {
		"{}", " \t\r\n{ } \n", "{\"a\": -0}", "{\"a\": 0.5e-7}", "{\"a\": 1E+2}",
		"{\"a\": [[[]], {}, \"\", false, null]}", "{\"\": 1}", "{\"a\": \"\\u0000\"}",
		"{\"a\": \"\xff raw bytes are the caller's business\"}",
	};

	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		int rc = scan(good[i]);
		CHECK_INT(rc, 0);
		if (rc != 0)
			fprintf(stderr, "  refused: %s\n", good[i]);
	}
}

/* An object holding arrays, depth levels deep in all. */
static const char *nested(int depth)
{
	static char doc[256];
	size_t n = 0;

	n += (size_t)snprintf(doc, sizeof(doc), "{\"a\": ");
	for (int i = 1; i < depth; i++)
		doc[n++] = '[';
	for (int i = 1; i < depth; i++)
		doc[n++] = ']';
	doc[n++] = '}';
	doc[n] = '\0';
	return doc;
}

TEST(nesting_is_bounded)
{
	CHECK_INT(scan(nested(64)), 0);
	CHECK_INT(scan(nested(65)), -1);
}

int main(void)
{
	RUN(twilio_answer);
	RUN(members_inside_nested_values_are_not_found);
	RUN(escapes_are_decoded);
	RUN(the_last_of_a_repeated_name_counts);
	RUN(a_value_that_does_not_fit_is_cut);
	RUN(anything_but_one_object_is_refused);
	RUN(valid_corners);
	RUN(nesting_is_bounded);
	return check_summary("jsonscan");
}
