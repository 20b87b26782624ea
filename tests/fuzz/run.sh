#!/bin/sh
# Runs libFuzzer targets (build/fuzz/fuzzers/<target>, made by `make fuzz-build`).
#
#   tests/fuzz/run.sh SECONDS [TARGET...]          each target for SECONDS, one after another
#   tests/fuzz/run.sh --check SECONDS TARGET...    make test's step: the same on a scratch copy
#
# A target starts from the seeds in the repository (tests/fuzz/corpus/<target>/, never
# written to), with its dictionary (tests/fuzz/corpus/<target>.dict), and from what earlier
# runs found (FUZZ_WORK/<target>/, default build/fuzz/corpus; --check uses a directory of
# its own that it removes), where libFuzzer keeps each new input that reaches new code.
# Every seed runs first, so a crash kept in the corpus as a regression test fails at once.
#
# For each target the last line is
#   fuzz TARGET: SECONDS s, N executions (R/s), cov C, ft F, corpus K inputs, ok|FAILED
# where cov counts the code edges reached and ft libFuzzer's features (edges with hit
# counts and value profiles); the whole log is in FUZZ_LOGS/<target>.log (default
# build/fuzz/logs). A crash, leak, sanitizer report, failed check or input slower than
# 10 s fails the run; libFuzzer saves the input as FUZZ_ARTIFACTS/<target>-crash-...
# (default build/fuzz/artifacts). To run one input again: build/fuzz/fuzzers/<target> FILE.
set -u
cd "$(dirname "$0")/../.." || exit 2
check=""
if [ "${1:-}" = --check ]; then
	check=yes
	shift
fi
seconds=${1:?usage: tests/fuzz/run.sh [--check] SECONDS [TARGET...]}
shift
case $seconds in *[!0-9]* | "") echo "run.sh: SECONDS must be a whole number" >&2; exit 2 ;; esac
FUZZ_BIN=${FUZZ_BIN:-build/fuzz/fuzzers}
FUZZ_WORK=${FUZZ_WORK:-build/fuzz/corpus}
FUZZ_LOGS=${FUZZ_LOGS:-build/fuzz/logs}
artifacts=${FUZZ_ARTIFACTS:-build/fuzz/artifacts}
targets=$*
[ -n "$targets" ] || targets=$(ls tests/fuzz/corpus | grep -v '\.dict$')
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$FUZZ_LOGS" "$artifacts"
scratch=""
[ -n "$check" ] && scratch=$(mktemp -d /tmp/signpost-fuzz.XXXXXX) && FUZZ_WORK=$scratch
trap '[ -n "$scratch" ] && rm -rf "$scratch"' EXIT
failed=""

for t in $targets; do
	bin=$FUZZ_BIN/$t
	seeds=tests/fuzz/corpus/$t
	log=$FUZZ_LOGS/$t.log
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "fuzz $t: $bin or $seeds is missing (make fuzz-build)"
		failed="$failed $t"
		continue
	fi
	mkdir -p "$FUZZ_WORK/$t"
	dict=""
	[ -f "tests/fuzz/corpus/$t.dict" ] && dict="-dict=tests/fuzz/corpus/$t.dict"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$artifacts/$t-" $dict \
		"$FUZZ_WORK/$t" "$seeds" >"$log" 2>&1
	rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	cov=$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$done_line" | sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p')
	result=ok
	if [ "$rc" -ne 0 ] || [ -z "$done_line" ]; then
		result=FAILED
		failed="$failed $t"
		grep -E 'ERROR|CHECK failed|runtime error|Test unit written|fuzz .*: a check' "$log" | head -n 20
		echo "the whole log: $log"
	fi
	echo "fuzz $t: $seconds s, ${runs:-?} executions (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${corp:-?} inputs, $result"
done

if [ -n "$failed" ]; then
	echo "fuzz FAILED:$failed"
	exit 1
fi
