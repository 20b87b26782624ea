#!/usr/bin/env bash
# fake_twilio_check.sh: checks the fake Twilio server against the Twilio adapter: a request
# built by the adapter is accepted, Twilio's refusals and the fault modes answer as
# documented in tests/fake/README.md, and status callbacks carry signatures the adapter
# accepts (and a deliberately bad one it refuses). The fake must exit cleanly.
#
# usage, from the repository root: BUILD=build/san tests/fake/fake_twilio_check.sh
set -euo pipefail

BUILD=${BUILD:-build/dev}
fake=$BUILD/tests/fake_twilio
adapter=$BUILD/tests/test_twilio
sid=AC00000000000000000000000000000000
token=fake0token0000000000000000000000
for bin in "$fake" "$adapter"; do
	if [ ! -x "$bin" ]; then
		echo "fake_twilio_check: $bin is not built" >&2
		exit 2
	fi
done

tmp=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
failures=0
fail() {
	echo "fake_twilio_check: FAIL: $*"
	failures=$((failures + 1))
}

# A callback receiver that records each request as a JSON line and answers 200.
python3 -c '
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(sys.argv[1], "a") as f:
            f.write(json.dumps({"path": self.path, "body": body,
                "signature": self.headers.get("X-Twilio-Signature", "")}) + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()' "$tmp/callbacks" >"$tmp/receiver.port" &
pids+=($!)

"$fake" --port 0 --account-sid "$sid" --auth-token "$token" --callbacks sent,delivered \
	--callback-delay-ms 20 >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
pids+=($fake_pid)
for _ in $(seq 50); do
	[ -s "$tmp/fake.out" ] && [ -s "$tmp/receiver.port" ] && break
	sleep 0.1
done
port=$(sed -n '1s/^port=//p' "$tmp/fake.out")
receiver=$(cat "$tmp/receiver.port")
if [ -z "$port" ] || [ -z "$receiver" ]; then
	echo "fake_twilio_check: FAIL: the fake or the receiver did not start" >&2
	cat "$tmp/fake.err" >&2
	exit 1
fi
base=http://127.0.0.1:$port
status_url="http://127.0.0.1:$receiver/v1/providers/tw/status?ref=42"

# send TO [TOKEN]: posts the request the adapter builds; prints "HTTP-status body".
send() {
	local req
	req=$(jq -nc --arg base "$base" --arg token "${2:-$token}" --arg to "$1" \
		--arg cb "$status_url" '{base_url: $base, token: $token, from: "+447700900000",
		to: $to, text: "Hello from the check \u2713", status_url: $cb, validity_s: "3600"}' |
		"$adapter" --build)
	curl -s -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' -X POST \
		-H "Authorization: $(jq -r .authorization <<<"$req")" \
		-H "Content-Type: $(jq -r .content_type <<<"$req")" \
		--data-binary "$(jq -r .body <<<"$req")" "$(jq -r .url <<<"$req")"
	echo " $(cat "$tmp/body")"
}

control() { # path json
	curl -s -o /dev/null -w '%{http_code}' -X POST -d "$2" "$base$1" | grep -qx 200 ||
		fail "control $1 $2"
}

expect() { # description expected-status expected-code answer
	local status=${4%% *} body=${4#* }
	[ "$status" = "$2" ] || fail "$1: HTTP $status, expected $2: $body"
	if [ -n "$3" ] && [ "$(jq -r .code <<<"$body")" != "$3" ]; then
		fail "$1: code $(jq -r .code <<<"$body"), expected $3"
	fi
}

answer=$(send +447700900123)
expect "adapter request" 201 "" "$answer"
[ "$(jq -r '.status + " " + (.sid | test("^SM[0-9a-f]{32}$") | tostring)' <<<"${answer#* }")" = \
	"queued true" ] || fail "201 body: $answer"
expect "wrong token" 401 20003 "$(send +447700900123 0000token00000000000000000000000)"
expect "invalid To" 400 21211 "$(send 07700900123)"

control /_fake/mode '{"mode": "throttle429", "count": 1, "retry_after": 3}'
expect "throttled" 429 20429 "$(send +447700900124)"
grep -qi '^Retry-After: 3' "$tmp/headers" || fail "no Retry-After: 3 on the 429"
expect "after the throttled one" 201 "" "$(send +447700900124)"

control /_fake/mode '{"mode": "code", "to": "+447700900004", "twilio_code": 21610}'
expect "opted out" 400 21610 "$(send +447700900004)"
expect "another recipient" 201 "" "$(send +447700900125)"
control /_fake/mode '{"mode": "error500", "count": 1}'
expect "server error" 500 20500 "$(send +447700900125)"
expect "after the server error" 201 "" "$(send +447700900126)"

# Three accepted messages so far, each with two automatic callbacks; then one badly signed.
sleep 0.5
control /_fake/callbacks '{"status": "failed", "bad_signature": true, "delay_ms": 0}'
sleep 0.5
messages=$(curl -s "$base/_fake/messages" | jq length)
[ "$messages" = 4 ] || fail "/_fake/messages lists $messages messages, expected 4"
stats=$(curl -s "$base/_fake/stats")
[ "$(jq -c '[.accepted, .rejected, .auth_failures, .injected, .callbacks_ok]' <<<"$stats")" = \
	"[4,1,1,3,12]" ] || fail "stats: $stats"

verdicts=$(jq -c --arg token "$token" --arg port "$receiver" '{token: $token, method: "POST",
	url: ("http://127.0.0.1:" + $port + .path), body: .body, signature: .signature}' \
	"$tmp/callbacks" | "$adapter" --verify | tr -d '\n')
[ "$verdicts" = 111111110000 ] ||
	fail "callback signatures: verdicts $verdicts, expected 8 accepted then 4 refused"
grep -q 'MessageStatus=failed.*ErrorCode=30003' "$tmp/callbacks" ||
	fail "a failed callback carries no ErrorCode 30003"

kill -TERM "$fake_pid"
if ! wait "$fake_pid"; then
	fail "the fake did not exit cleanly"
fi
if [ -s "$tmp/fake.err" ]; then
	fail "the fake wrote to stderr:"
	cat "$tmp/fake.err"
fi
if [ "$failures" -gt 0 ]; then
	exit 1
fi
echo "fake_twilio_check: ok"
