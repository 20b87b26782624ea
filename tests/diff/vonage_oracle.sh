#!/usr/bin/env bash
# vonage_oracle.sh: checks signpost's Vonage "sig" verifier against the @vonage/sms npm
# package's verifySignature, for random fields (names, unicode values with & and =),
# secrets and all five methods, delivered as GET, form or JSON: our verifier must accept
# exactly what the package accepts and refuse every altered signature, secret, method
# or field.
#
# usage, from the repository root: BUILD=build/san tests/diff/vonage_oracle.sh [COUNT [SEED]]
# (the seed defaults to $SIGNPOST_TEST_SEED, else a fixed one; see oracle_lib.sh)
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"
seed=$(oracle_seed 20260101 "${2:-}") || exit 2
oracle_check vonage_oracle "${BUILD:-build/dev}/tests/test_vonage" vonage_sign.js \
	@vonage/sms "${1:-200}" "$seed"
