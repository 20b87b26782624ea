/*
 * test_render.c: one tenant's text with and without smart encoding, its encoding and
 * segments, and the checks on texts that ask for replies.
 */
#include <stdlib.h>
#include <string.h>

#include "campaigns/render.h"
#include "campaigns/template.h"
#include "common/util.h"
#include "tests/check.h"
#include "tests/unit/keyword_data.h"

static struct gsm_info gi;

/* Renders tmpl for (first_name, borough, landlord); the result is owned by the caller. */
static char *rend(const char *tmpl, const char *first, const char *borough, bool smart)
{
	struct render_tenant t = { { first, borough, "Orbit" } };
	struct sbuf out;

	sbuf_init(&out);
	sbuf_adds(&out, "prefix that is not counted ");
	render_text(tmpl, &t, smart, &out, &gi);
	char *s = xstrdup(sbuf_str(&out) + strlen("prefix that is not counted "));
	sbuf_free(&out);
	return s;
}

#define RENDERS(tmpl, first, borough, smart, want, enc, segs)                 \
	do {                                                                   \
		char *got_ = rend(tmpl, first, borough, smart);                \
		CHECK_STR(got_, want);                                         \
		CHECK_STR(gsm_encoding_str(gi.encoding), enc);                 \
		CHECK_INT(gi.segments, segs);                                  \
		free(got_);                                                    \
	} while (0)

TEST(fields_and_fallbacks)
{
	RENDERS("Hi {first_name|there} in {borough}, {landlord}", "Sam", "Thanet", true,
		"Hi Sam in Thanet, Orbit", "gsm7", 1);
	RENDERS("Hi {first_name|there}", NULL, "Thanet", true, "Hi there", "gsm7", 1);
	RENDERS("Hi {first_name|there}", "", "Thanet", true, "Hi there", "gsm7", 1);
	RENDERS("", "Sam", NULL, true, "", "gsm7", 0);
	CHECK_STR(render_field_names[RENDER_FIRST_NAME], "first_name");
	CHECK_STR(render_field_names[RENDER_LANDLORD], "landlord");
}

TEST(smart_encoding)
{
	/* A pasted apostrophe and dash stay GSM-7 with smart encoding, not without. */
	RENDERS("It\u2019s free \u2013 {first_name}\u2026", "Sam", NULL, true, "It's free - Sam...",
		"gsm7", 1);
	RENDERS("It\u2019s free \u2013 {first_name}", "Sam", NULL, false,
		"It\u2019s free \u2013 Sam", "ucs2", 1);
	/* A name's accent is a letter: never replaced, so the text is UCS-2. */
	RENDERS("Hi {first_name}", "Zo\u00eb", NULL, true, "Hi Zo\u00eb", "ucs2", 1);
	/* An accent in GSM-7 stays GSM-7. */
	RENDERS("Hi {first_name}", "Ren\u00e9e", NULL, true, "Hi Ren\u00e9e", "gsm7", 1);
	/* Welsh circumflexes are letters too. */
	RENDERS("Helo {first_name}", "Ll\u0177r", NULL, true, "Helo Ll\u0177r", "ucs2", 1);
}

TEST(segments_after_personalisation)
{
	char tmpl[200], want[400];

	/* 150 characters of template: one part with a short name, two with a long one. */
	memset(tmpl, 'a', 147);
	memcpy(tmpl + 147, "{first_name}", 13);
	memset(want, 'a', 147);
	strcpy(want + 147, "Sam");
	RENDERS(tmpl, "Sam", NULL, true, want, "gsm7", 1);
	strcpy(want + 147, "Bartholomew");
	RENDERS(tmpl, "Bartholomew", NULL, true, want, "gsm7", 1); /* 158 */
	strcpy(want + 147, "Bartholomew-Alex");
	RENDERS(tmpl, "Bartholomew-Alex", NULL, true, want, "gsm7", 2); /* 163 */
	/* The euro sign takes two septets. */
	memset(want, 'a', 147);
	strcpy(want + 147, "\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac");
	RENDERS(tmpl, "\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac\u20ac", NULL, true, want, "gsm7", 2);
}

TEST(invites_reply)
{
	struct sbuf err;
	struct json_object *o = json_tokener_parse(
		"{\"keywords\": [{\"word\": \"SKILLS\", \"aliases\": [\"SKILL\"], "
		"\"action\": \"help_request\", \"target\": \"digital_skills\"}]}");
	struct keyword_base *base = keyword_data_base();
	struct keyword_set *set;

	sbuf_init(&err);
	set = base ? keyword_set_from_json(base, o, &err) : NULL;
	CHECK(set != NULL);
	CHECK(render_invites_reply("Free help. Reply SKILLS", set));
	CHECK(render_invites_reply("Text SKILL to 07700 900000", set));
	CHECK(render_invites_reply("Please REPLY to this", set));
	CHECK(render_invites_reply("Questions? reply.", set));
	CHECK(render_invites_reply("Text STOP to opt out", set));
	CHECK(!render_invites_reply("We have skills sessions at the library", set));
	CHECK(!render_invites_reply("Free help getting online on Monday", set));
	CHECK(!render_invites_reply("The replying party", set));
	CHECK(!render_invites_reply("", set));
	CHECK(!render_invites_reply("Text SKILLS", NULL));
	CHECK(render_invites_reply("Text START", NULL));
	keyword_set_free(set);
	keyword_base_free(base);
	json_object_put(o);
	sbuf_free(&err);
}

TEST(alpha_senders)
{
	CHECK(render_sender_is_alpha("KentHelp"));
	CHECK(render_sender_is_alpha("WK Housing"));
	CHECK(!render_sender_is_alpha("+447700900000"));
	CHECK(!render_sender_is_alpha("60777"));
	CHECK(!render_sender_is_alpha(""));
	CHECK(!render_sender_is_alpha(NULL));
}

int main(void)
{
	RUN(fields_and_fallbacks);
	RUN(smart_encoding);
	RUN(segments_after_personalisation);
	RUN(invites_reply);
	RUN(alpha_senders);
	return check_summary("render");
}
