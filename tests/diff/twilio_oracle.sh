#!/usr/bin/env bash
# twilio_oracle.sh: checks signpost's X-Twilio-Signature verifier against the twilio npm
# package. Random requests (URLs with queries and ports, unicode fields, repeated names,
# empty values, GETs) are signed by twilio.getExpectedTwilioSignature; our verifier must
# accept exactly the correctly signed ones and refuse every tampered one.
#
# usage, from the repository root: BUILD=build/san tests/diff/twilio_oracle.sh [COUNT [SEED]]
# (the seed defaults to $SIGNPOST_TEST_SEED, else a fixed one; see oracle_lib.sh)
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"
seed=$(oracle_seed 20260101 "${2:-}") || exit 2
oracle_check twilio_oracle "${BUILD:-build/dev}/tests/test_twilio" twilio_sign.js \
	twilio "${1:-300}" "$seed"
