# oracle_lib.sh: what the differential tests share; sourced, not run.
#
# Every differential test exits 0 when our answers agree with the reference
# implementation's, 1 when they differ, when one of our checker binaries fails or when a
# sanitizer reports in one, and 2 when the test cannot be set up: a binary not built, a
# generator that fails, or a checker that could not read a case it was given (the
# checkers' own exit 2). tests/diff/selfcheck.sh shows each of them failing on a broken
# build.
#
# Seeds: a test's seed is the one given on its command line (or in SEED=), else
# $SIGNPOST_TEST_SEED, else the test's fixed default, so `make test` draws the same cases
# every time; every test prints the seed it used.

ORACLE_SANITIZER_MARKS='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer'

# Prints the seed to use: given, else $SIGNPOST_TEST_SEED, else default.
oracle_seed() { # default [given]
	local seed=${2:-${SIGNPOST_TEST_SEED:-$1}}
	case $seed in
	'' | *[!0-9]*)
		echo "seed must be a decimal number, not \"$seed\"" >&2
		return 2
		;;
	esac
	echo "$seed"
}

# Fails (2) unless every file named is an executable.
oracle_need() { # name file...
	local name=$1 f
	shift
	for f in "$@"; do
		if [ ! -x "$f" ]; then
			echo "$name: cannot run: $f is not built (make SANITIZE=1 WERROR=1 tests-build)" >&2
			return 2
		fi
	done
}

# Fails when the file holds a sanitizer report, printing it (on stderr).
oracle_no_sanitizer_report() { # name file what
	if grep -Eq "$ORACLE_SANITIZER_MARKS" "$2"; then
		echo "$1: FAIL: a sanitizer reported in $3:" >&2
		sed -n '1,60p' "$2" >&2
		return 1
	fi
}

# Runs one of our checker binaries with the caller's stdin and stdout, its stderr into
# errfile. Succeeds only when it exits 0 and no sanitizer reported; exit 2 from a checker
# means it could not read a case it was given, and is a failure to set up (2). Says why
# on stderr, as the caller's stdout is the checker's answers.
oracle_run() { # name errfile command...
	local name=$1 err=$2 rc=0
	shift 2
	"$@" 2>"$err" || rc=$?
	oracle_no_sanitizer_report "$name" "$err" "$*" || return 1
	case $rc in
	0) return 0 ;;
	2)
		echo "$name: FAIL: $1 could not set up a case it was given (exit 2):" >&2
		sed -n '1,20p' "$err" >&2
		return 2
		;;
	*)
		echo "$name: FAIL: $1 exited $rc:" >&2
		sed -n '1,20p' "$err" >&2
		return 1
		;;
	esac
}

# Prints each line where the answers (one per line, tab-separated from nothing else)
# differ; fails when any does, or when there are none.
oracle_compare() { # expect got cases
	paste -d '\t' "$1" "$2" | awk -F '\t' -v cases="$3" '
		{ getline c < cases }
		$1 != $2 { bad++; if (bad <= 10) printf "line %d: expected %s, got %s: %s\n", NR, $1, $2, c }
		END { if (NR == 0) { print "no cases"; exit 1 } exit bad > 0 }'
}

# Fails unless got has as many lines as expect.
oracle_same_count() { # name what expect got seed
	local want got
	want=$(wc -l <"$3")
	got=$(wc -l <"$4")
	if [ "$want" != "$got" ]; then
		echo "$1: FAIL: $2 answered $got of $want cases (seed $5)"
		return 1
	fi
}

# The comparison must be able to fail: expect with its first verdict flipped has to be
# reported as different from got.
oracle_canary() { # name expect got cases
	awk 'NR == 1 { print 1 - $1; next } { print }' "$2" >"$2.flipped"
	if oracle_compare "$2.flipped" "$3" "$4" >/dev/null; then
		echo "$1: FAIL: the comparison does not notice a wrong verdict"
		return 1
	fi
}

# A temporary directory in $ORACLE_TMP, removed when the script exits.
oracle_tmpdir() {
	ORACLE_TMP=$(mktemp -d)
	trap 'rm -rf "$ORACLE_TMP"' EXIT
}

# oracle_check NAME BIN SCRIPT PACKAGE COUNT SEED: SCRIPT (under tests/oracles) writes
# random cases signed or judged by the npm PACKAGE, one JSON object a line, and the
# expected verdict (1 or 0) a line; "BIN --verify" must give the same verdicts. The
# comparison is first shown to notice one flipped verdict (a planted wrong answer).
oracle_check() { # name bin script package count seed
	local name=$1 bin=$2 script=$3 package=$4 count=$5 seed=$6 tmp status=0
	oracle_need "$name" "$bin" || return
	if [ ! -d "tests/oracles/node_modules/$package" ]; then
		npm ci --prefix tests/oracles --silent || return 2
	fi
	oracle_tmpdir
	tmp=$ORACLE_TMP
	if ! node "tests/oracles/$script" "$count" "$seed" "$tmp/cases" "$tmp/expect"; then
		echo "$name: FAIL: tests/oracles/$script could not make the cases (seed $seed)"
		return 2
	fi
	oracle_run "$name" "$tmp/err" "$bin" --verify <"$tmp/cases" >"$tmp/got" || status=$?
	if [ $status != 0 ]; then
		echo "$name: FAIL (seed $seed)"
		return $status
	fi
	oracle_same_count "$name" "the verifier" "$tmp/expect" "$tmp/got" "$seed" || return
	oracle_canary "$name" "$tmp/expect" "$tmp/got" "$tmp/cases" || return
	# Where a verdict differs, the case is printed and the test fails; none is expected.
	if ! oracle_compare "$tmp/expect" "$tmp/got" "$tmp/cases"; then
		echo "$name: FAIL: verdicts differ from npm $package (seed $seed)"
		return 1
	fi
	echo "$name: ok, $(wc -l <"$tmp/expect") cases agree with npm $package (seed $seed)"
}
