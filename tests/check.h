/*
 * check.h: a minimal unit-test harness. Each test binary defines tests with TEST(),
 * lists them in main() with RUN(), and returns check_summary().
 */
#ifndef SIGNPOST_CHECK_H
#define SIGNPOST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		check_count++;                                                        \
		if (!(cond)) {                                                        \
			check_failures++;                                             \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,        \
				__LINE__, #cond);                                     \
		}                                                                     \
	} while (0)

#define CHECK_STR(actual, expected)                                                   \
	do {                                                                          \
		const char *check_a_ = (actual), *check_e_ = (expected);              \
		check_count++;                                                        \
		if (!check_a_ || !check_e_ || strcmp(check_a_, check_e_) != 0) {      \
			check_failures++;                                             \
			fprintf(stderr, "%s:%d: %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
				__FILE__, __LINE__, #actual, check_a_ ? check_a_ : "(null)", \
				check_e_ ? check_e_ : "(null)");                      \
		}                                                                     \
	} while (0)

#define CHECK_INT(actual, expected)                                                   \
	do {                                                                          \
		long long check_a_ = (long long)(actual), check_e_ = (long long)(expected); \
		check_count++;                                                        \
		if (check_a_ != check_e_) {                                           \
			check_failures++;                                             \
			fprintf(stderr, "%s:%d: %s: got %lld, expected %lld\n", __FILE__, \
				__LINE__, #actual, check_a_, check_e_);               \
		}                                                                     \
	} while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                                     \
	do {                                                                          \
		int check_before_ = check_failures;                                   \
		name();                                                               \
		if (check_failures != check_before_)                                  \
			fprintf(stderr, "FAIL %s\n", #name);                          \
	} while (0)

static inline int check_summary(const char *suite)
{
	printf("%s: %d checks, %d failed\n", suite, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
