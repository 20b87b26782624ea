/*
 * test_gsm.c: GSM-7/UCS-2 choice, septet and UTF-16 counts, segments, smart replacement.
 *
 * `test_gsm --analyze` reads hex-encoded UTF-8 lines from stdin and prints
 * "<encoding> <units> <segments> <chars>" per line, for tests/diff/gsm_oracles.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sms/gsm.h"
#include "sms/utf8.h"
#include "tests/check.h"
#include "tests/hexline.h"

/* The basic table of GSM 03.38 as UTF-8, without ESC (0x1B). */
static const char gsm_basic[] =
	"@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
static const char gsm_ext[] = "\f^{}\\[~]|€";

static struct gsm_info info;

static const struct gsm_info *an(const char *s)
{
	gsm_analyze(s, strlen(s), &info);
	return &info;
}

/* Text made of n copies of unit, then tail, then m copies of unit2. */
static char *rep(const char *unit, int n, const char *mid, const char *unit2, int m)
{
	struct sbuf b;

	sbuf_init(&b);
	for (int i = 0; i < n; i++)
		sbuf_adds(&b, unit);
	sbuf_adds(&b, mid);
	for (int i = 0; i < m; i++)
		sbuf_adds(&b, unit2);
	return sbuf_detach(&b);
}

static void check_seg(const char *unit, int n, const char *mid, const char *unit2, int m,
		      enum gsm_encoding enc, size_t units, int segments, int line)
{
	char *s = rep(unit, n, mid, unit2, m);

	an(s);
	if (info.encoding != enc || info.units != units || info.segments != segments)
		fprintf(stderr, "line %d: %zu x %s + %s + %zu x %s\n", line, (size_t)n, unit, mid,
			(size_t)m, unit2);
	CHECK_INT(info.encoding, enc);
	CHECK_INT(info.units, units);
	CHECK_INT(info.segments, segments);
	free(s);
}

#define SEG(u, n, mid, u2, m, enc, units, segs) \
	check_seg(u, n, mid, u2, m, GSM_ENC_##enc, units, segs, __LINE__)

TEST(tables)
{
	an(gsm_basic);
	CHECK_INT(info.encoding, GSM_ENC_GSM7);
	CHECK_INT(info.chars, 127);
	CHECK_INT(info.units, 127);
	an(gsm_ext);
	CHECK_INT(info.encoding, GSM_ENC_GSM7);
	CHECK_INT(info.chars, 10);
	CHECK_INT(info.units, 20);
	static const char *const not_gsm[] = {
		"`", "¢", "’", "“", "–", "—", "…", "ŵ", "ŷ", "ą", "ę", "ł", "ń", "ó", "ś", "ź", "ż",
		"\x1b", "\t", "ç", "Ç̧", "á", "😀", "€ŵ", "\xff", "\xc3", "Ā",
	};
	for (size_t i = 0; i < ARRAY_LEN(not_gsm); i++) {
		an(not_gsm[i]);
		CHECK_INT(info.encoding, GSM_ENC_UCS2);
	}
}

TEST(counts)
{
	an("");
	CHECK_INT(info.encoding, GSM_ENC_GSM7);
	CHECK_INT(info.units, 0);
	CHECK_INT(info.segments, 0);
	CHECK_INT(info.chars, 0);
	an("Hello");
	CHECK_INT(info.units, 5);
	CHECK_INT(info.segments, 1);
	an("Cost: €5 {approx}");
	CHECK_INT(info.encoding, GSM_ENC_GSM7);
	CHECK_INT(info.chars, 17);
	CHECK_INT(info.units, 20);
	an("Dŵr 😀");
	CHECK_INT(info.encoding, GSM_ENC_UCS2);
	CHECK_INT(info.chars, 5);
	CHECK_INT(info.units, 6);
	an("👨‍👩‍👧"); /* three emoji joined by two zero-width joiners */
	CHECK_INT(info.chars, 5);
	CHECK_INT(info.units, 8);
	an("a\xffz"); /* a malformed byte counts as U+FFFD */
	CHECK_INT(info.encoding, GSM_ENC_UCS2);
	CHECK_INT(info.chars, 3);
	CHECK_INT(info.units, 3);
	CHECK_STR(gsm_encoding_str(GSM_ENC_GSM7), "gsm7");
	CHECK_STR(gsm_encoding_str(GSM_ENC_UCS2), "ucs2");
}

TEST(gsm7_segments)
{
	SEG("a", 160, "", "", 0, GSM7, 160, 1);
	SEG("a", 161, "", "", 0, GSM7, 161, 2);
	SEG("a", 306, "", "", 0, GSM7, 306, 2);
	SEG("a", 307, "", "", 0, GSM7, 307, 3);
	SEG("a", 459, "", "", 0, GSM7, 459, 3);
	SEG("a", 460, "", "", 0, GSM7, 460, 4);
	SEG("€", 80, "", "", 0, GSM7, 160, 1);
	SEG("€", 80, "a", "", 0, GSM7, 161, 2);
	SEG("a", 158, "€", "", 0, GSM7, 160, 1);
	SEG("a", 159, "€", "", 0, GSM7, 161, 2);
	/* An escape pair never straddles parts: at septets 153-154 it moves to part two. */
	SEG("a", 152, "€", "a", 152, GSM7, 306, 3);
	SEG("a", 151, "€", "a", 153, GSM7, 306, 2);
	SEG("a", 153, "€", "a", 151, GSM7, 306, 2);
	SEG("a", 152, "[", "a", 7, GSM7, 161, 2);
	SEG("€", 76, "a", "€", 76, GSM7, 305, 2); /* 152 + 1 fills part one exactly */
	SEG("€", 153, "", "", 0, GSM7, 306, 3);  /* 76 pairs per part */
}

TEST(ucs2_segments)
{
	SEG("ŵ", 70, "", "", 0, UCS2, 70, 1);
	SEG("ŵ", 71, "", "", 0, UCS2, 71, 2);
	SEG("ŵ", 134, "", "", 0, UCS2, 134, 2);
	SEG("ŵ", 135, "", "", 0, UCS2, 135, 3);
	SEG("😀", 35, "", "", 0, UCS2, 70, 1);
	SEG("😀", 35, "a", "", 0, UCS2, 71, 2);
	SEG("ŵ", 68, "😀", "", 0, UCS2, 70, 1);
	SEG("ŵ", 69, "😀", "", 0, UCS2, 71, 2);
	/* A surrogate pair at units 67-68 moves to the next part. */
	SEG("ŵ", 66, "😀", "ŵ", 66, UCS2, 134, 3);
	SEG("ŵ", 65, "😀", "ŵ", 67, UCS2, 134, 2);
	SEG("😀", 67, "", "", 0, UCS2, 134, 3); /* 33 emoji per part */
	SEG("a", 159, "ŵ", "", 0, UCS2, 160, 3); /* one Welsh letter turns 160 into 3 parts */
}

static char *smart(const char *s)
{
	struct sbuf b;

	sbuf_init(&b);
	sbuf_adds(&b, ">");
	gsm_smart_replace(&b, s, strlen(s));
	return sbuf_detach(&b);
}

#define SMART(in, want)                \
	do {                           \
		char *got_ = smart(in); \
		CHECK_STR(got_ + 1, want); \
		free(got_);            \
	} while (0)

TEST(smart_replace)
{
	SMART("", "");
	SMART("It’s ‘here’ ‚x‛ 5′", "It's 'here' 'x' 5'");
	SMART("“Hi” „there‟ 6″ «a» ‹b›", "\"Hi\" \"there\" 6\" \"a\" 'b'");
	SMART("9–5 — now ― −3 ‐ ‑ ‒", "9-5 - now - -3 - - -");
	SMART("Wait…", "Wait...");
	SMART("a\u00a0b\u2002c\u2009d\u200ae\u202ff\u205fg\u3000h\u2000i", "a b c d e f g h i");
	SMART("zero\u200bwidth\ufeff\u2060\u00ad", "zerowidth");
	SMART("• one\n‣ two\n⁃ three", "- one\n- two\n- three");
	SMART("tab\there", "tab here");
	SMART("don`t don´t donʼt", "don't don't don't");
	SMART("line\u2028para\u2029", "line\npara\n");
	/* Letters with no GSM look-alike are kept: the text then goes as UCS-2. */
	SMART("Dŵr a thŷ", "Dŵr a thŷ");
	SMART("Dzień dobry, ąęłńóśźż", "Dzień dobry, ąęłńóśźż");
	SMART("Café 😀 £5 €5 ç", "Café 😀 £5 €5 ç");
	SMART("👨\u200d👩", "👨\u200d👩"); /* a joiner inside an emoji stays */
	SMART("bad\xff", "bad\xff");

	char *s = smart("It’s “free” – 9…5 • ok\u00a0now\u200b");
	an(s + 1);
	CHECK_INT(info.encoding, GSM_ENC_GSM7);
	free(s);
}

/* The characters gsm_ucs2_chars lists for s, as "U+XXXX ...". */
static char *listed(const char *s)
{
	size_t len = strlen(s);
	uint32_t *cps = calloc(len + 1, sizeof(*cps));
	size_t n = gsm_ucs2_chars(s, len, cps);
	struct sbuf b;

	sbuf_init(&b);
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&b, "%sU+%04X", i ? " " : "", (unsigned)cps[i]);
	free(cps);
	return sbuf_detach(&b);
}

#define UCS2_CHARS(in, want)            \
	do {                            \
		char *got_ = listed(in); \
		CHECK_STR(got_, want);  \
		free(got_);             \
	} while (0)

TEST(ucs2_chars)
{
	UCS2_CHARS("", "");
	UCS2_CHARS(gsm_basic, "");
	UCS2_CHARS(gsm_ext, "");
	UCS2_CHARS("Cost: €5 {approx} ÄÖÑÜ§¿", "");
	UCS2_CHARS("Dŵr a thŷ", "U+0175 U+0177");
	/* each once, in the order first seen */
	UCS2_CHARS("ŷŵŷŵ ŷ", "U+0177 U+0175");
	UCS2_CHARS("Zoë", "U+00EB");
	UCS2_CHARS("It’s “free”", "U+2019 U+201C U+201D");
	UCS2_CHARS("a`b\tc\x1b", "U+0060 U+0009 U+001B");
	UCS2_CHARS("Hi 😀😀", "U+1F600");
	UCS2_CHARS("👨\u200d👩", "U+1F468 U+200D U+1F469");
	UCS2_CHARS("Ç̧", "U+0327"); /* Ç is GSM-7; the combining cedilla is not */
	UCS2_CHARS("a\xffz\xfe", "U+FFFD");
	/* Exactly the texts gsm_analyze calls UCS-2 list something. */
	static const char *const texts[] = { "Hello", "ŵ", "€[]", "😀", "\xc3", "Ā", "é", "ç" };
	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		uint32_t cps[8];
		an(texts[i]);
		CHECK_INT(gsm_ucs2_chars(texts[i], strlen(texts[i]), cps) > 0,
			  info.encoding == GSM_ENC_UCS2);
	}
	/* Many distinct characters: every one listed, in order. */
	struct sbuf many;
	uint32_t *cps = calloc(600, sizeof(*cps));
	sbuf_init(&many);
	for (uint32_t cp = 0x100; cp < 0x100 + 300; cp++)
		utf8_put(&many, cp);
	sbuf_adds(&many, "\xc4\x80 plain"); /* U+0100 again */
	CHECK_INT(gsm_ucs2_chars(many.data, many.len, cps), 300);
	CHECK_INT(cps[0], 0x100);
	CHECK_INT(cps[299], 0x100 + 299);
	sbuf_free(&many);
	free(cps);
}

static int analyze_stdin(void)
{
	struct sbuf line;
	int rc;

	sbuf_init(&line);
	while ((rc = hexline_read(&line)) > 0) {
		gsm_analyze(sbuf_str(&line), line.len, &info);
		printf("%s %zu %d %zu\n", gsm_encoding_str(info.encoding), info.units, info.segments,
		       info.chars);
	}
	sbuf_free(&line);
	if (rc < 0)
		fprintf(stderr, "test_gsm: a line is not hex\n");
	return rc < 0 ? 2 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--analyze") == 0)
		return analyze_stdin();
	RUN(tables);
	RUN(counts);
	RUN(gsm7_segments);
	RUN(ucs2_segments);
	RUN(smart_replace);
	RUN(ucs2_chars);
	return check_summary("gsm");
}
