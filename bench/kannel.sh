#!/usr/bin/env bash
# bench/kannel.sh: Kannel's side of `make bench`, the same load signpost gets, against the
# same fake provider (build/opt/tests/fake_twilio's /kannel/send route).
#
# usage: BUILD=build/opt bench/kannel.sh memory|spool N
#
# Starts fake_twilio, bearerbox and smsbox (Debian's kannel package; scripts/deps.sh bench)
# in a temporary directory on free 127.0.0.1 ports, with the configuration in
# bench/kannel/kannel.conf.in: no message store (memory) or Kannel's spool store (spool).
# Then, with wrk at 64 keep-alive connections (bench/kannel/texts.lua):
#   outbound: N texts through smsbox's sendsms interface, each to its own generated
#     number; outbound_per_s is N over the time from the first submission until the fake
#     has received all N;
#   inbound: N texts "SKILLS" posted to the HTTP SMSC's MO port, each from its own
#     generated number; inbound_per_s is N over the time until Kannel has answered all N,
#     with wrk's p50 and p99 latency; each reply goes out through the SMSC to the fake,
#     and the run fails unless all N arrive (their rate is logged).
# Prints one JSON line on stdout:
#   {"mode": "memory", "outbound_per_s": x, "inbound_per_s": y, "inbound_p50_ms": a,
#    "inbound_p99_ms": b}
# Everything else goes to stderr. Exits non-zero, saying why, on any failure; every
# process and file it started goes away in any case.
#
# KANNEL_MAX_PENDING overrides max-pending-submits (outstanding requests to the provider);
# KANNEL_BENCH_KEEP=1 keeps the temporary directory (configuration, logs, wrk's output).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-build/opt}
THREADS=2
CONNECTIONS=64
# Kannel's guide suggests at most 10 outstanding requests per SMSC connection, a limit
# meant for real providers far away; with a provider on loopback answering at once, a fair
# operator allows as many as the load has connections. (On this 2-core machine 10, 64
# and 200 measured alike, within the noise, and so did a second SMSC connection.)
MAX_PENDING=${KANNEL_MAX_PENDING:-64}
SENDER=%2B447700900000

log() { printf 'kannel bench: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

[ $# -eq 2 ] || die "usage: BUILD=build/opt bench/kannel.sh memory|spool N"
mode=$1
n=$2
case $mode in memory | spool) ;; *) die "mode must be memory or spool, not '$mode'" ;; esac
# Generated numbers run from +447700100000 to +447700999999.
if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 100 ] || [ "$n" -gt 900000 ]; then
	die "N must be a whole number of texts from 100 to 900000, not '$n'"
fi

# Debian's python3 where there is one: a version manager's shim can take a second to start.
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3 || true)}
for cmd in bearerbox smsbox wrk curl "$PYTHON"; do
	command -v "$cmd" >/dev/null || die "${cmd:-python3} is missing: run scripts/deps.sh bench"
done
fake=$BUILD/tests/fake_twilio
[ -x "$fake" ] || die "$fake is not built: run make OPT=1 WERROR=1 tests-build"

dir=$(mktemp -d "${TMPDIR:-/tmp}/kannel-bench.XXXXXX")
pids=()

# Stops pid (TERM, then KILL after 15 s) and reaps it.
stop_pid() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 150; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		# A zombie counts as gone: wait reaps it below.
		[ "$(ps -o stat= -p "$pid" 2>/dev/null)" != Z ] || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid")" != Z ]; then
		log "pid $pid did not stop within 15 s; killing it"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$? i f
	trap - EXIT INT TERM
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${pids[i]}"
	done
	if [ "$rc" -ne 0 ]; then
		for f in "$dir"/*.log "$dir"/*.out "$dir"/*.err "$dir"/*/wrk.*; do
			[ -s "$f" ] || continue
			log "last lines of ${f#"$dir"/}:"
			tail -n 15 "$f" >&2
		done
	fi
	if [ "${KANNEL_BENCH_KEEP:-0}" = 1 ]; then
		log "kept $dir"
	else
		rm -rf "$dir"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a helper of bench/kannel/bench.py, its output in $dir/helper.out, in the background
# and waits for it: bash runs traps only between foreground commands, and a signal must
# stop the run at once. (Never inside $(...): the subshell would hold the signal.)
helper() {
	"$PYTHON" "$here/kannel/bench.py" "$@" >"$dir/helper.out" &
	pids+=($!)
	wait "${pids[-1]}" || exit 1
	unset 'pids[-1]'
}
secret() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
fake_get() { curl -sf "http://127.0.0.1:$fake_port/_fake/$1"; }
fake_count() { fake_get stats | "$PYTHON" -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

start_fake() {
	"$fake" --port 0 --account-sid AC00000000000000000000000000000000 \
		--auth-token "$(secret)" --max-messages $((n + 1000)) >"$dir/fake.out" 2>"$dir/fake.err" &
	pids+=($!)
	local i
	for ((i = 0; i < 100; i++)); do
		fake_port=$(sed -n 's/^port=//p' "$dir/fake.out" 2>/dev/null || true)
		[ -z "$fake_port" ] || return 0
		sleep 0.05
	done
	die "$fake printed no port=N"
}

write_config() {
	local store="# no message store"
	if [ "$mode" = spool ]; then
		mkdir "$dir/spool"
		store="store-type = spool\nstore-location = \"$dir/spool\""
	fi
	sed -e "s|@DIR@|$dir|g" -e "s|@STORE@|$store|" \
		-e "s|@ADMIN_PORT@|$admin_port|" -e "s|@ADMIN_PASSWORD@|$admin_password|" \
		-e "s|@BOX_PORT@|$box_port|g" -e "s|@SMSC_PORT@|$smsc_port|" \
		-e "s|@SENDSMS_PORT@|$sendsms_port|" -e "s|@FAKE_PORT@|$fake_port|" \
		-e "s|@MO_USER@|$mo_user|" -e "s|@MO_PASSWORD@|$mo_password|" \
		-e "s|@SEND_USER@|$send_user|" -e "s|@SEND_PASSWORD@|$send_password|" \
		-e "s|@MAX_PENDING@|$MAX_PENDING|" \
		"$here/kannel/kannel.conf.in" >"$dir/kannel.conf"
	! grep -n '@[A-Z_][A-Z_]*@' "$dir/kannel.conf" >&2 || die "unfilled names in kannel.conf"
}

start_kannel() {
	local status="http://127.0.0.1:$admin_port/status.txt?password=$admin_password"
	# -v 2: warnings and errors on the console too (its default is debug).
	bearerbox -v 2 "$dir/kannel.conf" >"$dir/bearerbox.out" 2>&1 &
	bearerbox_pid=$!
	pids+=("$bearerbox_pid")
	helper ready "$status" 'fake\[fake\].*online' 20 "$bearerbox_pid"
	smsbox -v 2 "$dir/kannel.conf" >"$dir/smsbox.out" 2>&1 &
	smsbox_pid=$!
	pids+=("$smsbox_pid")
	helper ready "$status" 'smsbox:.*on-line' 20 "$bearerbox_pid" "$smsbox_pid"
	helper ready "http://127.0.0.1:$sendsms_port/" '.' 20 "$smsbox_pid"
}

# CPU time bearerbox and smsbox have used, in clock ticks (all threads, user and system).
kannel_cpu() { awk '{ t += $14 + $15 } END { print t }' "/proc/$bearerbox_pid/stat" "/proc/$smsbox_pid/stat"; }

# Runs wrk for one phase; sets phase_times ("threads_s=... fake_s=...") and
# phase_result (texts.lua's "answered=... failed=... socket_errors=... p50_us=... p99_us=...").
run_phase() {
	local name=$1 url=$2 prefix=$3 param=$4 pdir="$dir/$1" limit=$((60 + n / 250))
	local cpu
	mkdir "$pdir"
	curl -sf -X POST "http://127.0.0.1:$fake_port/_fake/reset" >/dev/null
	log "$name: $n texts, wrk -t$THREADS -c$CONNECTIONS"
	cpu=$(kannel_cpu)
	# The helper starts wrk and times it; -d only bounds a run that goes wrong.
	KB_PREFIX=$prefix KB_PARAM=$param KB_COUNT=$n KB_THREADS=$THREADS KB_OK=202 KB_DIR=$pdir \
		helper run "$pdir" "$THREADS" "$fake_port" "$n" "$limit" \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d$((limit + 60))s --timeout 60s --latency \
		-s "$here/kannel/texts.lua" "$url"
	phase_times=$(cat "$dir/helper.out")
	# CPU per text does not depend on what else the machine runs, unlike the rates.
	log "$name: bearerbox and smsbox used" \
		"$(ratio "$(($(kannel_cpu) - cpu))" "$(getconf CLK_TCK)" 1) s of CPU," \
		"$(ratio "$((($(kannel_cpu) - cpu) * 1000000))" "$((n * $(getconf CLK_TCK)))" 0) us per text"
	[ -s "$pdir/result" ] || die "$name: wrk wrote no result"
	phase_result=$(cat "$pdir/result")
	log "$name: $phase_times $phase_result"
	[[ $phase_result == "answered=$n failed=0 socket_errors=0 "* ]] ||
		die "$name: not every text was accepted: $phase_result"
	local accepted rejected
	accepted=$(fake_count accepted)
	rejected=$(fake_count rejected)
	if [ "$accepted" -ne "$n" ] || [ "$rejected" -ne 0 ]; then
		die "$name: the fake accepted $accepted texts and refused $rejected, expected $n and 0"
	fi
}

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
ratio() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { printf "%.*f", p, a / b }'; }

mapfile -t ports < <("$PYTHON" "$here/kannel/bench.py" ports 4)
admin_port=${ports[0]} box_port=${ports[1]} smsc_port=${ports[2]} sendsms_port=${ports[3]}
admin_password=$(secret) mo_user=bench mo_password=$(secret)
send_user=bench send_password=$(secret)

log "mode=$mode texts=$n kannel=$(dpkg-query -W -f='${Version}' kannel 2>/dev/null || echo '?')" \
	"max-pending-submits=$MAX_PENDING dir=$dir"
start_fake
write_config
start_kannel
log "fake 127.0.0.1:$fake_port, sendsms $sendsms_port, SMSC MO $smsc_port, admin $admin_port"

run_phase outbound "http://127.0.0.1:$sendsms_port" \
	"/cgi-bin/sendsms?username=$send_user&password=$send_password&from=$SENDER&text=Free+digital+skills+help+at+your+library+on+Tuesday.+Reply+SKILLS" \
	to
out_s=$(field fake_s "$phase_times")
outbound=$(ratio "$n" "$out_s" 1)
log "outbound: $outbound texts/s reached the fake (smsbox accepted them at" \
	"$(ratio "$n" "$(field threads_s "$phase_times")" 1)/s)"

run_phase inbound "http://127.0.0.1:$smsc_port" \
	"/sms?username=$mo_user&password=$mo_password&to=$SENDER&text=SKILLS" from
in_s=$(field threads_s "$phase_times")
inbound=$(ratio "$n" "$in_s" 1)
p50=$(ratio "$(field p50_us "$phase_result")" 1000 2)
p99=$(ratio "$(field p99_us "$phase_result")" 1000 2)
log "inbound: $inbound texts/s accepted (p50 ${p50} ms, p99 ${p99} ms); all $n replies" \
	"reached the fake, at $(ratio "$n" "$(field fake_s "$phase_times")" 1)/s"
if [ "$mode" = spool ]; then
	log "spool: $(find "$dir/spool" -type f | wc -l) files left after the run"
fi

printf '{"mode": "%s", "outbound_per_s": %s, "inbound_per_s": %s, "inbound_p50_ms": %s, "inbound_p99_ms": %s}\n' \
	"$mode" "$outbound" "$inbound" "$p50" "$p99"
