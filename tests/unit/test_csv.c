#include "common/csv.h"
#include "tests/check.h"

#include <stdlib.h>

struct rec {
	size_t line;
	char text[256];
	char error[128];
};

struct recs {
	struct rec items[32];
	size_t n;
};

static void collect(void *arg, size_t line, char **fields, size_t n, const char *error)
{
	struct recs *r = arg;
	struct rec *rec = &r->items[r->n++];

	rec->line = line;
	rec->text[0] = '\0';
	snprintf(rec->error, sizeof(rec->error), "%s", error ? error : "");
	for (size_t i = 0; i < n; i++) {
		strcat(rec->text, i ? "|" : "");
		strcat(rec->text, fields[i]);
	}
}

/* Feeds s in pieces of `step` bytes to exercise the streaming. */
static void parse(const char *s, size_t step, struct recs *out)
{
	struct csv_parser p;
	size_t len = strlen(s);

	out->n = 0;
	csv_init(&p, collect, out);
	for (size_t i = 0; i < len; i += step)
		csv_feed(&p, s + i, i + step <= len ? step : len - i);
	csv_finish(&p);
	csv_free(&p);
}

TEST(test_plain_records)
{
	struct recs r;
	for (size_t step = 1; step <= 7; step++) {
		parse("a,b,c\r\n1,2,3\n\n4,,6", step, &r);
		CHECK_INT(r.n, 3);
		CHECK_STR(r.items[0].text, "a|b|c");
		CHECK_STR(r.items[1].text, "1|2|3");
		CHECK_STR(r.items[2].text, "4||6");
		CHECK_INT(r.items[2].line, 4);
	}
}

TEST(test_quotes_and_lines)
{
	struct recs r;
	for (size_t step = 1; step <= 5; step++) {
		parse("h1,h2\n\"x, y\",\"say \"\"hi\"\"\"\n\"two\nlines\",z\nlast,\"\"\n", step, &r);
		CHECK_INT(r.n, 4);
		CHECK_STR(r.items[1].text, "x, y|say \"hi\"");
		CHECK_STR(r.items[2].text, "two\nlines|z");
		CHECK_INT(r.items[2].line, 3);
		CHECK_INT(r.items[3].line, 5);
		CHECK_STR(r.items[3].text, "last|");
	}
}

TEST(test_bom_and_errors)
{
	struct recs r;
	parse("\xef\xbb\xbf" "a,b\n\"open,x\n", 1, &r);
	CHECK_INT(r.n, 2);
	CHECK_STR(r.items[0].text, "a|b");
	CHECK_STR(r.items[1].error, "a quoted field is not closed");
	parse("\"a\"b,c\nd,e\n", 2, &r);
	CHECK_INT(r.n, 2);
	CHECK(r.items[0].error[0] != '\0');
	CHECK_STR(r.items[1].text, "d|e");
	CHECK_INT(r.items[1].line, 2);
	parse("\xef\xbb", 1, &r); /* a short file that only looks like a BOM */
	CHECK_INT(r.n, 1);
}

TEST(test_field_limit)
{
	struct recs r;
	char *big = malloc(CSV_MAX_FIELD + 20);
	memset(big, 'x', CSV_MAX_FIELD + 5);
	strcpy(big + CSV_MAX_FIELD + 5, "\nok\n");
	parse(big, 4096, &r);
	CHECK_INT(r.n, 2);
	CHECK(strstr(r.items[0].error, "longer") != NULL);
	CHECK_STR(r.items[1].text, "ok");
	free(big);
}

/* Old Mac files end lines with a bare CR; CRLF counts as one line end, in quotes too. */
TEST(test_cr_line_ends)
{
	struct recs r;
	for (size_t step = 1; step <= 4; step++) {
		parse("a,b\rc,d\r\re,f\r", step, &r);
		CHECK_INT(r.n, 3);
		CHECK_STR(r.items[0].text, "a|b");
		CHECK_STR(r.items[1].text, "c|d");
		CHECK_STR(r.items[2].text, "e|f");
		CHECK_INT(r.items[1].line, 2);
		CHECK_INT(r.items[2].line, 4);
		parse("h\r\n\"x\r\ny\"\r\nlast\r\n", step, &r);
		CHECK_INT(r.n, 3);
		CHECK_STR(r.items[1].text, "x\r\ny");
		CHECK_STR(r.items[2].text, "last");
		CHECK_INT(r.items[2].line, 4);
	}
}

/* A NUL byte is not text: the row is refused rather than cut short at the NUL. */
TEST(test_nul_byte)
{
	struct recs r;
	struct csv_parser p;

	r.n = 0;
	csv_init(&p, collect, &r);
	csv_feed(&p, "a,b\nT-1\0junk,x\nok,y\n", 20);
	csv_finish(&p);
	csv_free(&p);
	CHECK_INT(r.n, 3);
	CHECK(strstr(r.items[1].error, "NUL") != NULL);
	CHECK_STR(r.items[2].text, "ok|y");
	CHECK_INT(r.items[2].line, 3);
}

static const char *cells(const char *const *values, size_t n)
{
	static struct sbuf out;

	sbuf_reset(&out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			sbuf_addc(&out, ',');
		csv_cell(&out, values[i]);
	}
	return sbuf_str(&out);
}

#define CELLS(...) cells((const char *const[]){ __VA_ARGS__ }, \
			 sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *))

/* Written cells read back as written, and none starts a formula. */
TEST(test_cells)
{
	CHECK_STR(CELLS("plain", NULL, "", "a,b", "say \"hi\"", "two\nlines"),
		  "plain,,,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"");
	CHECK_STR(CELLS("=HYPERLINK(\"http://x\",\"y\")", "+Plus", "-Minus", "@SUM(A1)"),
		  "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+Plus,'-Minus,'@SUM(A1)");
	CHECK_STR(CELLS("\tcmd", "\rcmd", "-2+3+cmd|' /C calc'!A0", "=1", "+", "-"),
		  "'\tcmd,\"'\rcmd\",'-2+3+cmd|' /C calc'!A0,'=1,'+,'-");
	/* Numbers stay numbers: phones in E.164, negative and signed values. */
	CHECK_STR(CELLS("+447700900123", "-3", "-0.5", "+1.", "-1e5", "42", "2026-01-05"),
		  "+447700900123,-3,-0.5,'+1.,'-1e5,42,2026-01-05");

	struct recs r = { .n = 0 };
	struct csv_parser p;
	const char *line = CELLS("=x,y", "a\"b", "+447700900123");
	csv_init(&p, collect, &r);
	csv_feed(&p, line, strlen(line));
	csv_finish(&p);
	csv_free(&p);
	CHECK_INT(r.n, 1);
	CHECK_STR(r.items[0].text, "'=x,y|a\"b|+447700900123");
}

int main(void)
{
	RUN(test_plain_records);
	RUN(test_quotes_and_lines);
	RUN(test_bom_and_errors);
	RUN(test_field_limit);
	RUN(test_cr_line_ends);
	RUN(test_nul_byte);
	RUN(test_cells);
	return check_summary("csv");
}
