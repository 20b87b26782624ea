/*
 * test_template.c: placeholder syntax, validation messages and rendering.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/template.h"
#include "common/util.h"
#include "tests/check.h"

static const char *const known[] = {"first_name", "borough", "officer", "org"};

static struct sbuf err;

/* The validation message, or "ok". */
static const char *val(const char *tmpl)
{
	sbuf_reset(&err);
	if (template_validate(tmpl, known, ARRAY_LEN(known), &err) == 0)
		return err.len ? "ok but a message was written" : "ok";
	return sbuf_str(&err);
}

static char *render(const char *tmpl, const struct template_field *f, size_t n)
{
	struct sbuf out;

	sbuf_init(&out);
	sbuf_adds(&out, "[");
	template_render(tmpl, f, n, &out);
	sbuf_adds(&out, "]");
	return sbuf_detach(&out);
}

#define RENDER(tmpl, fields, want)                                       \
	do {                                                             \
		char *got_ = render(tmpl, fields, ARRAY_LEN(fields));     \
		CHECK_STR(got_, "[" want "]");                            \
		free(got_);                                              \
	} while (0)

TEST(valid_templates)
{
	CHECK_STR(val(""), "ok");
	CHECK_STR(val("Hello"), "ok");
	CHECK_STR(val("Hi {first_name}, free help in {borough}."), "ok");
	CHECK_STR(val("Hi {first_name|there}!"), "ok");
	CHECK_STR(val("Hi {first_name|neighbour, friend & co.}"), "ok");
	CHECK_STR(val("Hi {first_name|}"), "ok");
	CHECK_STR(val("Braces: {{like this}} and }}{{"), "ok");
	CHECK_STR(val("{{first_name}}"), "ok");
	CHECK_STR(val("{{{first_name}}}"), "ok");
	CHECK_STR(val("Croeso {first_name|ffrind} 👋 ŵ"), "ok");
}

TEST(messages)
{
	CHECK_STR(val("Hi {frist_name}"),
		  "unknown placeholder {frist_name}; known placeholders are {first_name}, "
		  "{borough}, {officer}, {org}; did you mean {first_name}?");
	CHECK_STR(val("Hi {postcode}"),
		  "unknown placeholder {postcode}; known placeholders are {first_name}, "
		  "{borough}, {officer}, {org}");
	CHECK_STR(val("Hi {first_name"),
		  "unclosed '{' at character 4; close the placeholder with '}' or write {{ for a "
		  "literal brace");
	CHECK_STR(val("Dŵr {first_name"),
		  "unclosed '{' at character 5; close the placeholder with '}' or write {{ for a "
		  "literal brace");
	CHECK_STR(val("a {first_name {borough}"),
		  "unclosed '{' at character 3; close the placeholder with '}' or write {{ for a "
		  "literal brace");
	CHECK_STR(val("smile :}"), "unmatched '}' at character 8; write }} for a literal brace");
	CHECK_STR(val("x {} y"), "empty placeholder {} at character 3; write {{ for a literal brace");
	CHECK_STR(val("{|there}"),
		  "empty placeholder {|there} at character 1; write {{ for a literal brace");
	CHECK_STR(val("Hi { first_name }"),
		  "space inside placeholder { first_name } at character 4; write the name without "
		  "spaces, for example {first_name}");
	CHECK_STR(val("Hi {first name}"),
		  "space inside placeholder {first name} at character 4; write the name without "
		  "spaces, for example {first_name}");
	CHECK_STR(val("Hi {First_Name}"),
		  "placeholder {First_Name} at character 4: names are written in lower case, for "
		  "example {first_name}");
	CHECK_STR(val("Hi {first-name}"),
		  "placeholder {first-name} at character 4: a name uses only lower-case letters, "
		  "digits and _ and starts with a letter");
	CHECK_STR(val("{1st}"),
		  "placeholder {1st} at character 1: a name uses only lower-case letters, digits "
		  "and _ and starts with a letter");
	CHECK_STR(val("{first_name|a|b}"),
		  "placeholder {first_name|a|b} at character 1 has more than one '|'; write "
		  "{name|fallback}");
	CHECK_STR(val("{first_name|a{b}}"),
		  "unclosed '{' at character 1; close the placeholder with '}' or write {{ for a "
		  "literal brace");
	CHECK_STR(val("bad \xff"), "the text is not valid UTF-8");

	sbuf_reset(&err);
	CHECK_INT(template_validate("{x}", NULL, 0, &err), -1);
	CHECK_STR(sbuf_str(&err), "unknown placeholder {x}; this text cannot use placeholders");
	sbuf_reset(&err);
	CHECK_INT(template_validate("no placeholders", NULL, 0, &err), 0);
}

TEST(rendering)
{
	struct template_field full[] = {
		{"first_name", "Aled"}, {"borough", "Thanet"}, {"officer", NULL}, {"org", ""},
	};
	struct template_field none[] = {{"unused", "x"}};

	RENDER("Hi {first_name}, help in {borough}.", full, "Hi Aled, help in Thanet.");
	RENDER("Hi {first_name|there}", full, "Hi Aled");
	RENDER("Hi {first_name|there}", none, "Hi there");
	RENDER("From {officer|your housing officer}", full, "From your housing officer");
	RENDER("From {org| the team}", full, "From  the team");
	RENDER("From {org}.", full, "From .");
	RENDER("{{first_name}} {{{first_name}}}", full, "{first_name} {Aled}");
	RENDER("}}{{", full, "}{");
	RENDER("", full, "");
	RENDER("Plain text 😀", none, "Plain text 😀");
	/* Values are inserted as they are, braces included, and not expanded again. */
	struct template_field tricky[] = {{"first_name", "{borough}"}, {"borough", "x"}};
	RENDER("{first_name}", tricky, "{borough}");
	/* Templates that did not validate still render without reading past the end. */
	RENDER("Hi {first_name", full, "Hi {first_name");
	RENDER("a } b", full, "a } b");
	RENDER("a {bad name} b {first_name}", full, "a {bad name} b {first_name}");
}

int main(void)
{
	sbuf_init(&err);
	RUN(valid_templates);
	RUN(messages);
	RUN(rendering);
	sbuf_free(&err);
	return check_summary("template");
}
