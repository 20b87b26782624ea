#!/usr/bin/env bash
# selfcheck.sh: every differential test must be able to fail. Each one runs against a
# broken build: a copy of $BUILD/tests in which every test_* checker still gives the
# right answers but then
#   exit2   exits 2, as a checker does when it cannot read a case it was given;
#   abort   dies of SIGABRT, as after an ASan or UBSan report with abort_on_error;
#   leak    prints a LeakSanitizer report and exits 23, as LeakSanitizer does;
#   report  prints a sanitizer report and still exits 0 (as with ASAN_OPTIONS=exitcode=0);
#   missing is not there at all;
# and each test must fail with the status and the reason that breakage calls for (2: it
# could not be set up; 1: it failed). That a wrong answer is caught is shown inside each
# test, which plants one in a copy of our answers first.
#
# usage, from the repository root: BUILD=build/san tests/diff/selfcheck.sh [TEST...]
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"

BUILD=${BUILD:-build/dev}
real=$(cd "$BUILD/tests" 2>/dev/null && pwd) ||
	{ echo "selfcheck: $BUILD/tests is not built" >&2; exit 2; }
oracle_tmpdir
broken=$ORACLE_TMP/build

if [ $# = 0 ]; then
	for t in tests/diff/*.sh; do
		case $t in */oracle_lib.sh | */selfcheck.sh) continue ;; esac
		set -- "$@" "$t"
	done
fi

# The broken build: wrappers for the checkers, the rest (the fakes) as they are.
mkdir -p "$broken/tests"
for f in "$real"/*; do
	name=$(basename "$f")
	case $name in
	test_*)
		cat >"$broken/tests/$name" <<WRAP
#!/bin/sh
"$f" "\$@" || exit
case \$SIGNPOST_BREAK in
exit2) exit 2 ;;
abort) kill -ABRT \$\$ ;;
leak)
	printf '%s\n' "==4242==ERROR: LeakSanitizer: detected memory leaks" "" \\
		"SUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s)." >&2
	exit 23 ;;
report)
	echo "tests/unit/$name.c:1:1: runtime error: signed integer overflow" >&2 ;;
esac
WRAP
		chmod +x "$broken/tests/$name"
		;;
	*) ln -s "$f" "$broken/tests/$name" ;;
	esac
done

# mode, the exit status it must cause, and what the test must say.
modes="exit2:2:exit(ed)? 2
abort:1:exit(ed)? (134|-6)
leak:1:a sanitizer reported
report:1:a sanitizer reported
missing:2:is not built"

failed=0
checked=0
for t in "$@"; do
	while IFS=: read -r mode want why; do
		build=$broken
		if [ "$mode" = missing ]; then
			build=$ORACLE_TMP/empty
			mkdir -p "$build/tests"
		fi
		status=0
		out=$(BUILD=$build SIGNPOST_BREAK=$mode "$t" 2>&1) || status=$?
		checked=$((checked + 1))
		if [ $status = "$want" ] && grep -Eq "$why" <<<"$out"; then
			continue
		fi
		failed=$((failed + 1))
		echo "selfcheck: FAIL: $t with a broken build ($mode) exited $status, expected" \
			"$want and a line matching \"$why\"; it said:"
		printf '%s\n' "$out" | tail -n 15 | sed 's/^/    /'
	done <<<"$modes"
done
if [ $failed != 0 ]; then
	echo "selfcheck: $failed of $checked broken builds were not reported as failures"
	exit 1
fi
echo "selfcheck: each of $# differential tests fails as it must on each of" \
	"$((checked / $#)) broken builds (exit 2, abort, leak, sanitizer report with exit 0, missing)"
