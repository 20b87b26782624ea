/*
 * test_phone.c: UK mobile normalisation, E.164 for senders, masking.
 *
 * Full numbers written here come only from Ofcom's drama range 07700 900000-900999; other
 * ranges are exercised with numbers made up at run time from a prefix and generated digits.
 *
 * `test_phone --normalise` reads hex-encoded lines from stdin and prints
 * "<status> <e164 or ->" per line, for tests/diff/phone_phonenumbers.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sms/phone.h"
#include "tests/check.h"
#include "tests/hexline.h"

static const char *uk(const char *in)
{
	static char out[PHONE_E164_MAX];
	enum phone_status st = phone_uk_mobile(in, out);

	return st == PHONE_OK ? out : phone_status_str(st);
}

static const char *e164(const char *in)
{
	static char out[PHONE_E164_MAX];
	enum phone_status st = phone_e164(in, out);

	return st == PHONE_OK ? out : phone_status_str(st);
}

/* prefix followed by n generated digits (a fixed sequence, so runs repeat). */
static const char *made_up(const char *prefix, int n, unsigned seed)
{
	static char buf[64];
	size_t len = strlen(prefix);

	memcpy(buf, prefix, len);
	for (int i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		buf[len++] = (char)('0' + (seed >> 16) % 10);
	}
	buf[len] = '\0';
	return buf;
}

TEST(accepts_common_ways_of_writing)
{
	CHECK_STR(uk("07700 900123"), "+447700900123");
	CHECK_STR(uk("07700900123"), "+447700900123");
	CHECK_STR(uk("7700900123"), "+447700900123");
	CHECK_STR(uk("447700900123"), "+447700900123");
	CHECK_STR(uk("+447700900123"), "+447700900123");
	CHECK_STR(uk("00447700900123"), "+447700900123");
	CHECK_STR(uk("+44 (0)7700 900123"), "+447700900123");
	CHECK_STR(uk("+44 07700 900123"), "+447700900123");
	CHECK_STR(uk("+44 7700 900 123"), "+447700900123");
	CHECK_STR(uk("(07700) 900-123"), "+447700900123");
	CHECK_STR(uk("07700.900.123"), "+447700900123");
	CHECK_STR(uk("0770-090-0123"), "+447700900123");
	CHECK_STR(uk("  07700 900999 "), "+447700900999");
	CHECK_STR(uk("07700\t900000"), "+447700900000");
	CHECK_STR(uk("07700\xc2\xa0" "900123"), "+447700900123"); /* no-break space */
	CHECK_STR(uk("0044 (0) 7700 900123"), "+447700900123");
}

TEST(refuses_bad_input)
{
	CHECK_STR(uk(""), "empty");
	CHECK_STR(uk("   "), "empty");
	CHECK_STR(uk("- ( )"), "empty");
	CHECK_STR(uk(NULL), "empty");
	CHECK_STR(uk("07700 90012a"), "bad_character");
	CHECK_STR(uk("07700 900123 ext 4"), "bad_character");
	CHECK_STR(uk("07700+900123"), "bad_character");
	CHECK_STR(uk("++447700900123"), "bad_character");
	CHECK_STR(uk("07700#900123"), "bad_character");
	CHECK_STR(uk("07700 9001234"), "wrong_length");
	CHECK_STR(uk("07700 90012"), "wrong_length");
	CHECK_STR(uk("7700 90012"), "wrong_length");
	CHECK_STR(uk("77009001234"), "wrong_length");
	CHECK_STR(uk("+44 7700 90012"), "wrong_length");
	CHECK_STR(uk("0"), "wrong_length");
	CHECK_STR(uk("007700900123"), "not_uk"); /* read as +7 700 ..., as dialling would */
	CHECK_STR(uk("077009001230000000000000000"), "wrong_length");
	CHECK_STR(uk("+4"), "wrong_length");
}

TEST(refuses_other_uk_ranges)
{
	static const struct {
		const char *prefix;
		int digits;
		const char *status;
	} cases[] = {
		{"01", 9, "landline"},         {"01", 8, "landline"},
		{"02", 9, "landline"},         {"03", 9, "landline"},
		{"05", 9, "non_geographic"},   {"08", 9, "non_geographic"},
		{"0800", 6, "non_geographic"}, {"09", 9, "non_geographic"},
		{"070", 8, "personal"},        {"076", 8, "pager"},
		{"+4470", 8, "personal"},      {"+4476", 8, "pager"},
		{"+441", 9, "landline"},       {"0044 20", 8, "landline"},
		{"01", 10, "wrong_length"},    {"02", 7, "wrong_length"},
		{"071", 8, "ok"},              {"074", 8, "ok"},
		{"075", 8, "ok"},              {"078", 8, "ok"},
		{"079", 8, "ok"},              {"07624", 6, "ok"}, /* Isle of Man mobiles */
		{"07781", 6, "ok"},            {"07839", 6, "ok"}, /* Guernsey, Jersey */
		{"04", 9, "non_geographic"},   {"06", 9, "non_geographic"},
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		for (unsigned seed = 1; seed <= 5; seed++) {
			const char *num = made_up(cases[i].prefix, cases[i].digits, seed * 7 + (unsigned)i);
			const char *got = uk(num);
			const char *want = cases[i].status;
			if (strcmp(want, "ok") == 0 && str_startswith(got, "+447"))
				got = "ok";
			CHECK_STR(got, want);
		}
	}
}

TEST(refuses_other_countries)
{
	CHECK_STR(uk(made_up("+33 6", 8, 1)), "not_uk");
	CHECK_STR(uk(made_up("0033 6", 8, 2)), "not_uk");
	CHECK_STR(uk(made_up("+1 202", 7, 3)), "not_uk");
	CHECK_STR(uk(made_up("+353 87", 7, 4)), "not_uk");
	CHECK_STR(uk(made_up("+48 5", 8, 5)), "not_uk");
	CHECK_STR(uk("+3312"), "wrong_length");
	CHECK_STR(uk(made_up("+33", 14, 6)), "wrong_length");
}

TEST(status_messages_are_sentences)
{
	CHECK(strstr(phone_status_message(PHONE_LANDLINE), "landline") != NULL);
	CHECK(strstr(phone_status_message(PHONE_LANDLINE), "07") != NULL);
	CHECK(strstr(phone_status_message(PHONE_PERSONAL), "070") != NULL);
	CHECK(strstr(phone_status_message(PHONE_PAGER), "076") != NULL);
	CHECK(strstr(phone_status_message(PHONE_NOT_UK), "not a UK number") != NULL);
	CHECK(strstr(phone_status_message(PHONE_WRONG_LENGTH), "11 digits") != NULL);
	CHECK(strstr(phone_status_message(PHONE_NON_GEOGRAPHIC), "non-geographic") != NULL);
	for (int s = PHONE_OK; s <= PHONE_NON_GEOGRAPHIC; s++) {
		CHECK(strlen(phone_status_message((enum phone_status)s)) > 20);
		CHECK(strcmp(phone_status_str((enum phone_status)s), "unknown") != 0);
	}
	CHECK_STR(phone_status_str((enum phone_status)99), "unknown");
}

TEST(e164_for_senders)
{
	CHECK_STR(e164("447700900123"), "+447700900123");
	CHECK_STR(e164("+447700900123"), "+447700900123");
	CHECK_STR(e164("07700900123"), "+447700900123");
	CHECK_STR(e164("00447700900123"), "+447700900123");
	CHECK_STR(e164("+44 (0)7700 900123"), "+447700900123");
	CHECK_STR(e164(""), "empty");
	CHECK_STR(e164("SIGNPOST"), "bad_character");
	CHECK_STR(e164("077009001"), "wrong_length");
	CHECK_STR(e164("077009001234"), "wrong_length");
	CHECK_STR(e164("+0123456789"), "wrong_length");
	CHECK_STR(e164("12345"), "wrong_length"); /* a short code is not a number we can text */
	CHECK_STR(e164(made_up("+", 16, 1)), "wrong_length");

	char want[32];
	const char *fr = made_up("0033", 9, 9);
	snprintf(want, sizeof(want), "+%s", fr + 2);
	CHECK_STR(e164(fr), want);
	const char *us = made_up("+1", 10, 10);
	CHECK_STR(e164(us), us);
	CHECK_STR(e164(us + 1), us); /* digits without the + */
}

TEST(mask)
{
	char out[PHONE_E164_MAX];
	char small[6];

	phone_mask("+447700900123", out, sizeof(out));
	CHECK_STR(out, "+44770090****");
	phone_mask("+447700900999", out, sizeof(out));
	CHECK_STR(out, "+44770090****");
	phone_mask("123", out, sizeof(out));
	CHECK_STR(out, "***");
	phone_mask("", out, sizeof(out));
	CHECK_STR(out, "");
	phone_mask(NULL, out, sizeof(out));
	CHECK_STR(out, "");
	phone_mask("+447700900123", small, sizeof(small));
	CHECK_STR(small, "+4477");
	phone_mask("+447700900123", out, 0); /* must not write */
}

static int normalise_stdin(void)
{
	char out[PHONE_E164_MAX];
	struct sbuf line;
	int rc;

	sbuf_init(&line);
	while ((rc = hexline_read(&line)) > 0) {
		enum phone_status st = phone_uk_mobile(sbuf_str(&line), out);
		printf("%s %s\n", phone_status_str(st), st == PHONE_OK ? out : "-");
	}
	sbuf_free(&line);
	if (rc < 0)
		fprintf(stderr, "test_phone: a line is not hex\n");
	return rc < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--normalise") == 0)
		return normalise_stdin();
	RUN(accepts_common_ways_of_writing);
	RUN(refuses_bad_input);
	RUN(refuses_other_uk_ranges);
	RUN(refuses_other_countries);
	RUN(status_messages_are_sentences);
	RUN(e164_for_senders);
	RUN(mask);
	return check_summary("phone");
}
