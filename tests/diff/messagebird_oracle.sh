#!/usr/bin/env bash
# messagebird_oracle.sh: checks signpost's MessageBird-Signature-JWT verifier against the
# messagebird npm package's verify(), for random keys, URLs, bodies, algorithms and
# times: our verifier must accept exactly what the package accepts, and refuse every
# altered key, URL, body, token and out-of-date time.
#
# usage, from the repository root: BUILD=build/san tests/diff/messagebird_oracle.sh [COUNT [SEED]]
# (the seed defaults to $SIGNPOST_TEST_SEED, else a fixed one; see oracle_lib.sh)
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"
seed=$(oracle_seed 20260101 "${2:-}") || exit 2
oracle_check messagebird_oracle "${BUILD:-build/dev}/tests/test_messagebird" \
	messagebird_sign.js messagebird "${1:-150}" "$seed"
