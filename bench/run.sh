#!/bin/sh
# make bench: signpostd's throughput, CPU and memory against its own PostgreSQL and the
# fake Twilio server, beside Kannel's (bench/kannel.sh). Prints one table; takes up to
# 15 minutes. BENCH_QUICK=1 shrinks every size for a smoke test; BENCH_SCALE=0.2 scales
# them; BENCH_RUNS sets the runs per figure (default 3). BUILD names the build (build/opt).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build/opt}
export BUILD
[ -x "$BUILD/signpostd" ] && [ -x "$BUILD/tests/fake_twilio" ] ||
	{ echo "bench: build $BUILD first (make OPT=1 tests-build)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/deps.sh bench)" >&2; exit 1; }
exec /usr/bin/python3 bench/signpost_bench.py
