#!/usr/bin/env bash
# stdwebhook_oracle.sh: checks signpost's Standard Webhooks signing and verification
# against the standardwebhooks npm package: identical signatures for random secrets, ids,
# timestamps and unicode bodies, and identical accept/refuse verdicts for valid, tampered,
# stale, future and multi-signature messages.
#
# usage, from the repository root: BUILD=build/san tests/diff/stdwebhook_oracle.sh [COUNT [SEED]]
set -euo pipefail

BUILD=${BUILD:-build/dev}
count=${1:-300}
seed=${2:-$RANDOM$RANDOM}
bin=$BUILD/tests/test_webhook

if [ ! -x "$bin" ]; then
	echo "stdwebhook_oracle: $bin is not built" >&2
	exit 2
fi
if [ ! -d tests/oracles/node_modules/standardwebhooks ]; then
	npm ci --prefix tests/oracles --silent
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints the lines where the answers differ; fails when any does.
compare() { # expect got cases
	paste -d '\t' "$1" "$2" | awk -F '\t' -v cases="$3" '
		{ getline c < cases }
		$1 != $2 { bad++; if (bad <= 10) printf "line %d: expected %s, got %s: %s\n", NR, $1, $2, c }
		END { if (NR == 0) { print "no cases"; exit 1 } exit bad > 0 }'
}

node tests/oracles/stdwebhook_sign.js "$count" "$seed" "$tmp"
"$bin" --sign <"$tmp/sign.cases" >"$tmp/sign.got"
"$bin" --verify <"$tmp/verify.cases" >"$tmp/verify.got"

# The comparison itself must be able to fail: flip one verdict and expect a complaint.
awk 'NR == 1 { print 1 - $1; next } { print }' "$tmp/verify.expect" >"$tmp/flipped"
if compare "$tmp/flipped" "$tmp/verify.got" "$tmp/verify.cases" >/dev/null; then
	echo "stdwebhook_oracle: FAIL: the comparison does not notice a wrong verdict"
	exit 1
fi

status=0
for what in sign verify; do
	if [ "$(wc -l <"$tmp/$what.got")" != "$(wc -l <"$tmp/$what.expect")" ] ||
		! compare "$tmp/$what.expect" "$tmp/$what.got" "$tmp/$what.cases"; then
		echo "stdwebhook_oracle: FAIL: $what differs from npm standardwebhooks (seed $seed)"
		status=1
	fi
done
if [ $status = 0 ]; then
	echo "stdwebhook_oracle: ok, $(wc -l <"$tmp/sign.expect") signatures and" \
		"$(wc -l <"$tmp/verify.expect") verdicts agree with npm standardwebhooks (seed $seed)"
fi
exit $status
