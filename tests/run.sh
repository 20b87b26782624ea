#!/bin/sh
# Runs every test: unit tests, the harness self-check, differential tests against the
# reference implementations, the docker-compose check and the integration tests against a
# throwaway PostgreSQL. BUILD names the build directory (make test uses build/san).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/san}
export BUILD
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=""
ran=0

step() {
	name=$1
	shift
	ran=$((ran + 1))
	printf '== %s\n' "$name"
	if "$@"; then
		return 0
	fi
	echo "FAILED: $name"
	failed="$failed $name"
	return 1
}

# Unit tests.
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] && step "unit $(basename "$t")" "$t"
done

# The harness must be able to fail: a deliberately broken check has to make it fail.
selfcheck() {
	out=$("$BUILD/tests/test_selfcheck" --broken 2>&1) && { echo "$out"; echo "a failing check passed"; return 1; }
	echo "$out" | grep -q "1 failed" || { echo "$out"; return 1; }
	echo "harness reports a broken check as a failure"
}
step "harness self-check" selfcheck

# Reference implementations from npm.
if [ ! -d tests/oracles/node_modules ]; then
	step "npm ci" npm ci --prefix tests/oracles --no-audit --no-fund --loglevel=error
fi
if [ ! -d tests/console/node_modules ]; then
	step "npm ci (console)" npm ci --prefix tests/console --no-audit --no-fund --loglevel=error
fi
for t in tests/diff/*.sh; do
	[ -x "$t" ] && step "differential $(basename "$t" .sh)" "$t"
done

step "docker-compose config" env SIGNPOST_DB_PASSWORD=config-check \
	docker-compose -f docker-compose.yml config -q

# The fake providers themselves, against the adapters.
for t in tests/fake/*_check.py; do
	[ -f "$t" ] && step "fake $(basename "$t" .py)" /usr/bin/python3 "$t"
done

# Integration tests: the real daemon, a real PostgreSQL, fake providers on 127.0.0.1.
tmp=$(mktemp -d /tmp/signpost-test.XXXXXX)
chmod 755 "$tmp"
if conninfo=$(scripts/pg.sh start "$tmp/pg"); then
	SIGNPOST_TEST_PG="$conninfo" SIGNPOST_TEST_TMP="$tmp" \
		SIGNPOST_TEST_OUT="$BUILD/test-output" \
		step "integration" /usr/bin/python3 -m unittest discover -s tests/integration -p 'test_*.py' -v
	scripts/pg.sh stop "$tmp/pg"
else
	failed="$failed postgres"
fi
rm -rf "$tmp"

if [ -n "$failed" ]; then
	echo "FAILED:$failed"
	exit 1
fi
echo "all $ran test steps passed"
