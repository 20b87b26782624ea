/*
 * The harness's own check: with --broken a deliberately wrong expectation must be
 * reported, so a suite cannot pass by never failing.
 */
#include <stdlib.h>

#include "common/util.h"
#include "tests/check.h"

TEST(test_arithmetic)
{
	char *s = xasprintf("%d", 42);
	CHECK_INT(MAX(2, 3), 3);
	CHECK_STR(s, "42");
	free(s);
}

TEST(test_broken)
{
	CHECK_INT(MIN(2, 3), 3);
}

int main(int argc, char **argv)
{
	bool broken = argc > 1 && strcmp(argv[1], "--broken") == 0;

	RUN(test_arithmetic);
	if (broken)
		RUN(test_broken);
	return check_summary("selfcheck");
}
