/*
 * test_log.c: the log writer escapes what a message carries, so text from a request (a
 * JWT's alg, a form field's name, a path) can neither start a line of its own nor put
 * bytes that are not UTF-8 into the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/codec.h"
#include "infra/log.h"
#include "tests/check.h"

/* What log_escape makes of src[0..len) with room for cap bytes. */
static const char *escaped(const char *src, size_t len, size_t cap)
{
	static char out[256];
	size_t n = log_escape(out, MIN(cap, sizeof(out) - 1), src, len);

	out[n] = '\0';
	return out;
}

#define ESC(lit) escaped(lit, sizeof(lit) - 1, 255)

TEST(test_escape)
{
	CHECK_STR(ESC("plain key=value \"quoted\" \\ back"), "plain key=value \"quoted\" \\ back");
	CHECK_STR(ESC("a\nb\rc\td"), "a\\nb\\rc\\td");
	CHECK_STR(ESC("nul\0x"), "nul\\x00x");
	CHECK_STR(ESC("\x01\x1b[31m\x1f\x7f"), "\\x01\\x1b[31m\\x1f\\x7f");
	/* Well-formed UTF-8 stays as it is; anything else is shown byte by byte. */
	CHECK_STR(ESC("Llŷr Zoë €"), "Llŷr Zoë €");
	CHECK_STR(ESC("\xff\xfe"), "\\xff\\xfe");
	CHECK_STR(ESC("\xc3(x"), "\\xc3(x");            /* a lead byte without its tail */
	CHECK_STR(ESC("\xc0\xaf"), "\\xc0\\xaf");       /* an overlong '/' */
	CHECK_STR(ESC("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* a surrogate */
	CHECK_STR(ESC("\xe2\x82"), "\\xe2\\x82");       /* cut short */
	CHECK_STR(ESC("\xc2\x85"), "\xc2\x85");         /* U+0085 is not C0: kept */
}

TEST(test_escape_cut_between_characters)
{
	CHECK_STR(escaped("ab\ncd", 5, 3), "ab");      /* "\n" needs two bytes */
	CHECK_STR(escaped("ab\ncd", 5, 4), "ab\\n");
	CHECK_STR(escaped("a\x01", 2, 4), "a");        /* "\x01" needs four */
	CHECK_STR(escaped("a€", 4, 3), "a");           /* three bytes of UTF-8, whole or not at all */
	CHECK_STR(escaped("a€", 4, 4), "a€");
	CHECK_STR(escaped("", 0, 10), "");
}

/* Runs log_msg with stderr sent to a file, and returns what it wrote. */
static char *logged(const char *text)
{
	char path[] = "/tmp/signpost-test-log.XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	static char buf[8192];
	size_t n = 0;

	CHECK(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	log_msg(LOG_WARN, "webhook refused reason=\"signing method %s is invalid\"", text);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

TEST(test_one_event_one_line)
{
	char *line = logged("HS256\n2026-01-01T00:00:00.000Z error forged\r\x1b[2K\xff");
	const char *msg = strstr(line, " warn ");

	CHECK(msg != NULL);
	CHECK_STR(msg, " warn webhook refused reason=\"signing method HS256\\n2026-01-01T00:00:"
		  "00.000Z error forged\\r\\x1b[2K\\xff is invalid\"\n");
	CHECK(strchr(line, '\n') == line + strlen(line) - 1);
	CHECK(codec_utf8_valid(line, strlen(line)));

	/* A message longer than a line is cut, still one line of UTF-8. */
	char big[3000];
	memset(big, '\x01', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	line = logged(big);
	CHECK(strchr(line, '\n') == line + strlen(line) - 1);
	CHECK(strstr(line, "\\x01\\x01") != NULL);
	CHECK(strlen(line) < 4096);
}

int main(void)
{
	RUN(test_escape);
	RUN(test_escape_cut_between_characters);
	RUN(test_one_event_one_line);
	return check_summary("log");
}
