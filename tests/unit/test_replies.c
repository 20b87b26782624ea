/*
 * test_replies.c: tenants' replies as they write them (tests/data/replies.tsv), read with
 * the shipped built-in words and keyword set, no database. Prints the accuracy of each
 * category and fails on any missed opt-out, any opt-out that should not have happened,
 * and any category below its floor (the figures reached when the table was written, so
 * that a change that reads replies worse is noticed). Run from the repository root.
 *
 * `test_replies -v` prints every row; `test_replies --match` reads lines from stdin and
 * prints what each would be, with its rule and language, to try replies by hand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/check.h"
#include "tests/unit/keyword_data.h"

#define REPLIES_PATH "tests/data/replies.tsv"
#define REPLIES_MIN_ROWS 400
#define REPLIES_MIN_OPT_OUT 60

/* Each category, the least share of its rows that must come out as expected (percent). */
static const struct {
	const char *name;
	int floor;
} categories[] = {
	{ "keyword", 100 }, { "typo", 100 }, { "opt_out", 100 }, { "not_opt_out", 100 },
	{ "plain_english", 95 }, { "language", 100 }, { "other", 100 },
};

static struct keyword_base *base;
static struct keyword_set *set;
static bool verbose;

struct tally {
	int rows, right;
};

/* What a reply comes to: opt_out, opt_in, SKILLS, typo:STOP, confirm:EMAIL or none. */
static void outcome_of(const struct keyword_match *m, char *buf, size_t size)
{
	const struct keyword *k = m->keyword;

	if (m->kind == KEYWORD_MATCH_NONE || !k)
		snprintf(buf, size, "none");
	else if (m->kind == KEYWORD_MATCH_TYPO)
		snprintf(buf, size, "typo:%s", k->word);
	else if (m->kind == KEYWORD_MATCH_CONFIRM)
		snprintf(buf, size, "confirm:%s", k->word);
	else if (k->action == KEYWORD_OPT_OUT || k->action == KEYWORD_OPT_IN)
		snprintf(buf, size, "%s", keyword_action_str(k->action));
	else
		snprintf(buf, size, "%s", k->word);
}

static bool is_opt_out(const char *outcome)
{
	return strncmp(outcome, "opt_out", 7) == 0 && (!outcome[7] || outcome[7] == '@');
}

static int category_index(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(categories); i++)
		if (strcmp(categories[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* Checks one row; -1 when it is malformed. */
static int check_row(char *line, int lineno, void *arg)
{
	struct tally *tallies = arg;
	char *col[4], got[96], want[96];
	struct keyword_match m;
	int c;

	col[0] = line;
	for (int i = 1; i < 4; i++) {
		col[i] = strchr(col[i - 1], '\t');
		if (!col[i])
			return -1;
		*col[i]++ = '\0';
	}
	c = category_index(col[2]);
	if (c < 0 || strchr(col[3], '\t') || !*col[3])
		return -1;
	keyword_data_unescape(col[0]);
	keyword_match(set, col[0], &m);
	outcome_of(&m, got, sizeof(got));
	snprintf(want, sizeof(want), "%s", col[1]);
	char *at = strchr(want, '@');
	if (at) { /* the language must be right too */
		size_t n = strlen(got);
		snprintf(got + n, sizeof(got) - n, "@%s", m.language[0] ? m.language : "-");
	}
	tallies[c].rows++;
	check_count++;
	bool right = strcmp(got, want) == 0;
	tallies[c].right += right;
	if (is_opt_out(want) != is_opt_out(got)) {
		check_failures++;
		fprintf(stderr, "%s:%d: %s: \"%s\" (%s): got %s, expected %s\n", REPLIES_PATH, lineno,
			is_opt_out(want) ? "MISSED OPT-OUT" : "OPT-OUT THAT SHOULD NOT HAPPEN", col[0],
			col[3], got, want);
	} else if (!right || verbose) {
		printf("%s %-13s %-24s %-22s %s (%s)\n", right ? "ok  " : "miss", col[2], got, want,
		       col[0], keyword_rule_str(m.rule));
	}
	return 0;
}

static void report(const struct tally *tallies)
{
	int rows = 0, right = 0;

	printf("%-14s %5s %5s %8s %6s\n", "category", "rows", "right", "accuracy", "floor");
	for (size_t i = 0; i < ARRAY_LEN(categories); i++) {
		const struct tally *t = &tallies[i];
		int pct10 = t->rows ? (1000 * t->right + t->rows / 2) / t->rows : 0;
		printf("%-14s %5d %5d %6d.%d%% %5d%%\n", categories[i].name, t->rows, t->right,
		       pct10 / 10, pct10 % 10, categories[i].floor);
		CHECK(t->rows > 0);
		CHECK(100 * t->right >= categories[i].floor * t->rows);
		rows += t->rows;
		right += t->right;
	}
	printf("%-14s %5d %5d %6.1f%%\n", "all", rows, right, rows ? 100.0 * right / rows : 0.0);
	CHECK(rows >= REPLIES_MIN_ROWS);
	CHECK(tallies[category_index("opt_out")].rows >= REPLIES_MIN_OPT_OUT);
	CHECK(tallies[category_index("not_opt_out")].rows >= REPLIES_MIN_OPT_OUT);
}

TEST(replies_table)
{
	struct tally tallies[ARRAY_LEN(categories)] = { { 0, 0 } };
	int malformed;
	int rows = keyword_data_rows(REPLIES_PATH, check_row, tallies, &malformed);

	CHECK(rows > 0);
	CHECK_INT(malformed, 0);
	report(tallies);
}

static int match_stdin(void)
{
	char line[2048], got[96];
	struct keyword_match m;
	struct sbuf why;

	sbuf_init(&why);
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\r\n")] = '\0';
		keyword_match(set, line, &m);
		outcome_of(&m, got, sizeof(got));
		sbuf_reset(&why);
		keyword_explain(&m, &why);
		printf("%s\t%s\t%s\t%s\n", got, m.language[0] ? m.language : "-",
		       keyword_rule_str(m.rule), sbuf_str(&why));
	}
	sbuf_free(&why);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 1;

	base = keyword_data_base();
	set = base ? keyword_data_set(base) : NULL;
	if (!set)
		goto out;
	if (argc > 1 && strcmp(argv[1], "--match") == 0) {
		rc = match_stdin();
		goto out;
	}
	verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	RUN(replies_table);
	rc = check_summary("replies");
out:
	keyword_set_free(set);
	keyword_base_free(base);
	return rc;
}
