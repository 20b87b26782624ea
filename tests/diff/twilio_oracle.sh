#!/usr/bin/env bash
# twilio_oracle.sh: checks signpost's X-Twilio-Signature verifier against the twilio npm
# package. Random requests (URLs with queries and ports, unicode fields, repeated names,
# empty values, GETs) are signed by twilio.getExpectedTwilioSignature; our verifier must
# accept exactly the correctly signed ones and refuse every tampered one.
#
# usage, from the repository root: BUILD=build/san tests/diff/twilio_oracle.sh [COUNT [SEED]]
set -euo pipefail

BUILD=${BUILD:-build/dev}
count=${1:-300}
seed=${2:-$RANDOM$RANDOM}
bin=$BUILD/tests/test_twilio

if [ ! -x "$bin" ]; then
	echo "twilio_oracle: $bin is not built" >&2
	exit 2
fi
if [ ! -d tests/oracles/node_modules/twilio ]; then
	npm ci --prefix tests/oracles --silent
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Prints each line where the verdicts differ; fails when any does.
compare() { # expect got cases
	paste -d ' ' "$1" "$2" | awk -v cases="$3" '
		{ getline c < cases }
		$1 != $2 { bad++; if (bad <= 10) printf "line %d: expected %s, got %s: %s\n", NR, $1, $2, c }
		END { if (NR == 0) { print "no cases"; exit 1 } exit bad > 0 }'
}

node tests/oracles/twilio_sign.js "$count" "$seed" "$tmp/cases" "$tmp/expect"
"$bin" --verify <"$tmp/cases" >"$tmp/got"
if [ "$(wc -l <"$tmp/got")" != "$(wc -l <"$tmp/expect")" ]; then
	echo "twilio_oracle: FAIL: the verifier answered $(wc -l <"$tmp/got") of $(wc -l <"$tmp/expect") cases (seed $seed)"
	exit 1
fi

# The comparison itself must be able to fail: flip one verdict and expect a complaint.
awk 'NR == 1 { print 1 - $1; next } { print }' "$tmp/expect" >"$tmp/flipped"
if compare "$tmp/flipped" "$tmp/got" "$tmp/cases" >/dev/null; then
	echo "twilio_oracle: FAIL: the comparison does not notice a wrong verdict"
	exit 1
fi

if ! compare "$tmp/expect" "$tmp/got" "$tmp/cases"; then
	echo "twilio_oracle: FAIL (seed $seed)"
	exit 1
fi
echo "twilio_oracle: ok, $(wc -l <"$tmp/expect") cases agree with npm twilio (seed $seed)"
