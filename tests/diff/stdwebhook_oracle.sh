#!/usr/bin/env bash
# stdwebhook_oracle.sh: checks signpost's Standard Webhooks signing and verification
# against the standardwebhooks npm package: identical signatures for random secrets, ids,
# timestamps and unicode bodies, and identical accept/refuse verdicts for valid, tampered,
# stale, future and multi-signature messages.
#
# usage, from the repository root: BUILD=build/san tests/diff/stdwebhook_oracle.sh [COUNT [SEED]]
# (the seed defaults to $SIGNPOST_TEST_SEED, else a fixed one; see oracle_lib.sh)
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"

BUILD=${BUILD:-build/dev}
name=stdwebhook_oracle
count=${1:-300}
seed=$(oracle_seed 20260101 "${2:-}") || exit 2
bin=$BUILD/tests/test_webhook

oracle_need $name "$bin" || exit
if [ ! -d tests/oracles/node_modules/standardwebhooks ]; then
	npm ci --prefix tests/oracles --silent || exit 2
fi
oracle_tmpdir
tmp=$ORACLE_TMP

if ! node tests/oracles/stdwebhook_sign.js "$count" "$seed" "$tmp"; then
	echo "$name: FAIL: tests/oracles/stdwebhook_sign.js could not make the cases (seed $seed)"
	exit 2
fi
for what in sign verify; do
	status=0
	oracle_run $name "$tmp/$what.err" "$bin" --$what <"$tmp/$what.cases" >"$tmp/$what.got" ||
		status=$?
	if [ $status != 0 ]; then
		echo "$name: FAIL (seed $seed)"
		exit $status
	fi
done

oracle_canary $name "$tmp/verify.expect" "$tmp/verify.got" "$tmp/verify.cases" || exit

# Where a signature or verdict differs, the case is printed and the test fails.
status=0
for what in sign verify; do
	if ! oracle_same_count $name "--$what" "$tmp/$what.expect" "$tmp/$what.got" "$seed" ||
		! oracle_compare "$tmp/$what.expect" "$tmp/$what.got" "$tmp/$what.cases"; then
		echo "$name: FAIL: $what differs from npm standardwebhooks (seed $seed)"
		status=1
	fi
done
if [ $status = 0 ]; then
	echo "$name: ok, $(wc -l <"$tmp/sign.expect") signatures and" \
		"$(wc -l <"$tmp/verify.expect") verdicts agree with npm standardwebhooks (seed $seed)"
fi
exit $status
