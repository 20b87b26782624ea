#!/bin/sh
# check.sh: docs/openapi.json against OpenAPI 3.1, and the API against docs/openapi.json.
#
#   tests/openapi/check.sh lint [SPEC]                  the description is valid OpenAPI 3.1
#   tests/openapi/check.sh exchanges [--every-operation] EXCHANGES [SPEC]
#                                                       every recorded exchange matches it
#                                                       (and every operation was called)
#
# lint runs @redocly/cli (tests/openapi/package-lock.json) with the rules of redocly.yaml:
# the OpenAPI 3.1 structure, JSON Schema 2020-12 schemas, every $ref resolving, and every
# example valid against its schema. exchanges runs check_exchanges.py on what
# tests/integration/harness.py recorded. Exit 1 when something is wrong, 2 when the check
# cannot run (redocly not installed, no exchanges recorded).
set -u
cd "$(dirname "$0")/../.." || exit 2
what=${1:-}
case $what in
lint)
	spec=${2:-docs/openapi.json}
	redocly=tests/openapi/node_modules/.bin/redocly
	if [ ! -x "$redocly" ]; then
		echo "check.sh: $redocly is missing (npm ci --prefix tests/openapi)"
		exit 2
	fi
	out=$("$redocly" lint "$spec" --config tests/openapi/redocly.yaml --format=stylish 2>&1)
	rc=$?
	echo "$out" | grep -v '^$'
	if [ $rc -ne 0 ] || ! echo "$out" | grep -q "Your API description is valid"; then
		echo "check.sh: $spec is not a valid OpenAPI 3.1 description (redocly lint exited $rc)"
		exit 1
	fi
	;;
exchanges)
	shift
	every=
	[ "${1:-}" = --every-operation ] && { every=$1; shift; }
	[ $# -ge 1 ] || { echo "usage: check.sh exchanges [--every-operation] EXCHANGES.jsonl [SPEC]"; exit 2; }
	exec /usr/bin/python3 tests/openapi/check_exchanges.py $every "${2:-docs/openapi.json}" "$1"
	;;
*)
	echo "usage: check.sh lint [SPEC] | check.sh exchanges [--every-operation] EXCHANGES.jsonl [SPEC]"
	exit 2
	;;
esac
