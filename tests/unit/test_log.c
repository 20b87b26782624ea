/*
 * test_log.c: the log writer escapes what a message carries, so text from a request (a
 * JWT's alg, a form field's name, a path) can neither start a line of its own nor put
 * bytes that are not UTF-8 into the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The part of a JSON line after its time. */
static const char *after_time(const char *line)
{
	const char *p = strstr(line, "\",\"level\"");
	CHECK(strncmp(line, "{\"time\":\"20", 11) == 0 && p != NULL);
	return p ? p + 2 : "";
}

TEST(test_json_lines)
{
	char prev[LOG_REQUEST_ID_SIZE];

	log_set_format(LOG_FORMAT_JSON);
	/* Control characters take JSON's escapes; bytes not UTF-8 the text \xNN. */
	CHECK_STR(after_time(logged("HS256\n\"x\\\x1b\xff")),
		  "\"level\":\"warn\",\"message\":\"webhook refused\",\"fields\":{\"reason\":"
		  "\"signing method HS256\\n\\\"x\\\\\\u001b\\\\xff is invalid\"}}\n");
	/* A line written for a request carries its id. */
	log_request_enter("req-1", prev);
	CHECK_STR(after_time(logged("a")), "\"level\":\"warn\",\"message\":\"webhook refused\","
		  "\"fields\":{\"reason\":\"signing method a is invalid\",\"request_id\":\"req-1\"}}\n");
	log_request_leave(prev);
	CHECK_STR(log_request(), "");
	/* One line, valid UTF-8, even when cut. */
	char big[3000];
	memset(big, '\x01', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	const char *line = logged(big);
	CHECK(strchr(line, '\n') == line + strlen(line) - 1);
	CHECK(codec_utf8_valid(line, strlen(line)));
	log_set_format(LOG_FORMAT_TEXT);
	log_request_enter("req-2", prev);
	CHECK(strstr(logged("a"), "is invalid\" request=req-2\n") != NULL);
	log_request_leave(prev);
}

TEST(test_request_id_ok)
{
	CHECK(log_request_id_ok("0f1e-2d3c_4b.5a:6/7+8="));
	CHECK(!log_request_id_ok(""));
	CHECK(!log_request_id_ok("two words"));
	CHECK(!log_request_id_ok("a\nb"));
	CHECK(!log_request_id_ok("quote\""));
	char long_id[70];
	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	CHECK(!log_request_id_ok(long_id));
	long_id[64] = '\0';
	CHECK(log_request_id_ok(long_id));
}

int main(void)
{
	RUN(test_escape);
	RUN(test_escape_cut_between_characters);
	RUN(test_one_event_one_line);
	RUN(test_json_lines);
	RUN(test_request_id_ok);
	return check_summary("log");
}
