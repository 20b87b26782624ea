#!/bin/sh
# Runs every test: unit tests, the libFuzzer targets briefly, the harness self-checks,
# differential tests against the reference implementations, the docker-compose check and
# the integration tests against a throwaway PostgreSQL. BUILD names the build directory
# (make test uses build/san; the libFuzzer targets are in build/fuzz).
#
# Nothing is skipped quietly: a unit test source whose binary is not built, or a test
# script that is missing or cannot be run, is a failing step. And the run fails when
# fewer test steps ran than STEP_FLOOR below, so a test that stops being run (a deleted
# script, a glob that no longer matches) is noticed. STEP_FLOOR is the number of test
# steps that run today: when you add a test step (a unit test source, a script in
# tests/diff/, a tests/fake/*_check.py, a step here), raise STEP_FLOOR by one in the same
# commit; a run with more steps than the floor says what to raise it to. Preparation
# (npm ci) can fail the run but is not counted.
#
# Randomized tests draw their cases from a fixed default seed each, so every run of
# `make test` tries the same cases; SIGNPOST_TEST_SEED=N gives all of them the seed N.
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build/san}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
STEP_FLOOR=66
failed=""
ran=0

# Runs a command as a named part of the run; a failure is recorded, not fatal.
part() {
	name=$1
	shift
	printf '== %s\n' "$name"
	if "$@"; then
		return 0
	fi
	echo "FAILED: $name"
	failed="$failed $name"
	return 1
}

# A test step: counted against STEP_FLOOR.
step() {
	ran=$((ran + 1))
	part "$@"
}

# Runs a test program, failing when it is missing or not executable.
run_test() {
	if [ ! -x "$1" ]; then
		case $1 in
		"$BUILD"/*) echo "$1 is not built (make SANITIZE=1 WERROR=1 tests-build)" ;;
		*) echo "$1 is missing or not executable" ;;
		esac
		return 1
	fi
	"$@"
}

if [ -n "${SIGNPOST_TEST_SEED:-}" ]; then
	case $SIGNPOST_TEST_SEED in
	*[!0-9]*)
		echo "SIGNPOST_TEST_SEED must be a decimal number, not \"$SIGNPOST_TEST_SEED\""
		exit 2
		;;
	esac
	export SIGNPOST_TEST_SEED
	echo "== seed: SIGNPOST_TEST_SEED=$SIGNPOST_TEST_SEED for every randomized test"
else
	echo "== seed: each randomized test's fixed default (SIGNPOST_TEST_SEED=N for others)"
fi

# Unit tests: one binary for each source in tests/unit/, as the Makefile builds them.
for src in tests/unit/test_*.c; do
	t=$BUILD/tests/$(basename "$src" .c)
	step "unit $(basename "$t")" run_test "$t"
done

# The libFuzzer targets (make fuzz-build), a few seconds each from their corpus in
# tests/fuzz/corpus/: every seed, including the inputs that once failed, runs first.
for t in $(ls tests/fuzz/corpus | grep -v '\.dict$'); do
	step "libfuzzer $t" run_test tests/fuzz/run.sh --check "${FUZZ_CHECK_SECONDS:-3}" "$t"
done

# ... and a fuzzer that finds something must fail the step (SIGNPOST_FUZZ_BROKEN makes
# every input fail a check).
fuzz_selfcheck() {
	out=$(SIGNPOST_FUZZ_BROKEN=1 FUZZ_LOGS=$BUILD/test-output/fuzz-selfcheck \
		FUZZ_ARTIFACTS=$BUILD/test-output/fuzz-selfcheck tests/fuzz/run.sh --check 1 csv 2>&1) && { echo "$out"; echo "a failing fuzzer passed"; return 1; }
	echo "$out" | grep -q "fuzz csv: a check failed" || { echo "$out"; return 1; }
	echo "a fuzzer that finds a failing input fails the run"
}
step "libfuzzer self-check" fuzz_selfcheck

# The harness must be able to fail: a deliberately broken check has to make it fail.
selfcheck() {
	out=$("$BUILD/tests/test_selfcheck" --broken 2>&1) && { echo "$out"; echo "a failing check passed"; return 1; }
	echo "$out" | grep -q "1 failed" || { echo "$out"; return 1; }
	echo "harness reports a broken check as a failure"
}
step "harness self-check" selfcheck

# Reference implementations from npm.
if [ ! -d tests/oracles/node_modules ]; then
	part "npm ci" npm ci --prefix tests/oracles --no-audit --no-fund --loglevel=error
fi
if [ ! -d tests/console/node_modules ]; then
	part "npm ci (console)" npm ci --prefix tests/console --no-audit --no-fund --loglevel=error
fi
if [ ! -d tests/openapi/node_modules ]; then
	part "npm ci (openapi)" npm ci --prefix tests/openapi --no-audit --no-fund --loglevel=error
fi
# Every script in tests/diff/ but the shared library and the self-check of them all.
for t in tests/diff/*.sh; do
	case $t in */oracle_lib.sh | */selfcheck.sh) continue ;; esac
	step "differential $(basename "$t" .sh)" run_test "$t"
done
# Each differential test must fail on a broken build: a checker exiting 2, aborting,
# leaking, reporting with exit 0, or missing.
step "differential self-check" run_test tests/diff/selfcheck.sh

# docs/openapi.json is valid OpenAPI 3.1 (redocly lint), and both of its checks can fail.
step "openapi lint" tests/openapi/check.sh lint
step "openapi self-check" tests/openapi/selfcheck.sh

step "docker-compose config" env SIGNPOST_DB_PASSWORD=config-check \
	docker-compose -f docker-compose.yml config -q

# docs/alerts.yml through promtool (check and unit tests), the Grafana dashboard as JSON,
# and the metric names both use.
step "monitoring files" run_test tests/monitoring/check.sh

# The release build (make OPT=1, as the Dockerfile builds it): PIE, full RELRO, stack
# protector and _FORTIFY_SOURCE, after showing that an unhardened binary is refused.
step "release build hardening" run_test tests/hardening.sh

# contrib/signpostd.service through systemd-analyze verify, with its sandboxing; the
# Dockerfile's runtime image non-root with a HEALTHCHECK.
step "service unit and image" run_test tests/service.sh

# The fake providers themselves, against the adapters.
for t in tests/fake/*_check.py; do
	step "fake $(basename "$t" .py)" /usr/bin/python3 "$t"
done

# Integration tests: the real daemon, a real PostgreSQL, fake providers on 127.0.0.1.
tmp=$(mktemp -d /tmp/signpost-test.XXXXXX)
chmod 755 "$tmp"
if conninfo=$(scripts/pg.sh start "$tmp/pg"); then
	SIGNPOST_TEST_PG="$conninfo" SIGNPOST_TEST_TMP="$tmp" \
		SIGNPOST_TEST_OUT="$BUILD/test-output" \
		step "integration" /usr/bin/python3 -m unittest discover -s tests/integration -p 'test_*.py' -v
	scripts/pg.sh stop "$tmp/pg"
	# Every exchange the integration tests had with signpostd, against docs/openapi.json;
	# every operation it describes must have been called.
	step "openapi exchanges" tests/openapi/check.sh exchanges --every-operation "$tmp/exchanges.jsonl"
else
	failed="$failed postgres"
fi
rm -rf "$tmp"

if [ "$ran" -lt "$STEP_FLOOR" ]; then
	echo "FAILED: $ran test steps ran, fewer than the $STEP_FLOOR expected (STEP_FLOOR in tests/run.sh)"
	failed="$failed step-floor"
elif [ "$ran" -gt "$STEP_FLOOR" ]; then
	echo "note: $ran test steps ran: raise STEP_FLOOR in tests/run.sh to $ran, so that losing one fails"
fi

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	echo "the same cases again: ${SIGNPOST_TEST_SEED:+SIGNPOST_TEST_SEED=$SIGNPOST_TEST_SEED }BUILD=$BUILD tests/run.sh"
	exit 1
fi
echo "all $ran test steps passed"
