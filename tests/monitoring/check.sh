#!/bin/sh
# The monitoring files in docs/: the alerting rules pass `promtool check rules` and their
# unit tests (alerts_test.yml), the Grafana dashboard is JSON, and every metric either
# names is one signpostd writes (gateway/counters.c). A broken rule must be refused, so
# this check can fail.
set -eu
cd "$(dirname "$0")/../.."
command -v promtool >/dev/null || { echo "promtool is missing (Debian package prometheus)" >&2; exit 1; }
promtool check rules docs/alerts.yml
promtool test rules tests/monitoring/alerts_test.yml
broken=$(mktemp)
trap 'rm -f "$broken"' EXIT
sed 's/signpost_database_up == 0/signpost_database_up == = 0/' docs/alerts.yml >"$broken"
if promtool check rules "$broken" >/dev/null 2>&1; then
	echo "self-check: promtool accepted a rule with a broken expression" >&2
	exit 1
fi
exec /usr/bin/python3 tests/monitoring/names.py
