#!/usr/bin/env bash
# twilio_openapi.sh: validates the Twilio send requests our adapter builds against
# Twilio's own OpenAPI description (twilio_api_v2010.json from ../shared/data, or
# $TWILIO_OPENAPI) with @stoplight/prism-cli in proxy mode with --errors, in front of the
# fake Twilio: every adapter request must pass the spec and reach the fake (201), and
# planted drifts (a field name changed, JSON instead of a form, a non-integer
# ValidityPeriod, a missing To) must be refused with 422. Offline: the spec has no remote
# references and prism only talks to 127.0.0.1.
#
# usage, from the repository root: BUILD=build/san tests/diff/twilio_openapi.sh
set -euo pipefail
. "$(dirname "$0")/oracle_lib.sh"

BUILD=${BUILD:-build/dev}
spec=${TWILIO_OPENAPI:-../shared/data/twilio_api_v2010.json}
adapter=$BUILD/tests/test_twilio
fake=$BUILD/tests/fake_twilio
prism=tests/oracles/node_modules/.bin/prism
sid=AC00000000000000000000000000000000
token=openapi-check-token

oracle_need twilio_openapi "$adapter" "$fake" || exit
[ -f "$spec" ] || { echo "twilio_openapi: no OpenAPI file at $spec" >&2; exit 2; }
[ -x "$prism" ] || npm ci --prefix tests/oracles --silent || exit 2
if grep -q '"\$ref": *"https\?:' "$spec"; then
	echo "twilio_openapi: FAIL: $spec has remote references; this check must stay offline"
	exit 1
fi

tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

"$fake" --port 0 --account-sid "$sid" --auth-token "$token" >"$tmp/fake.out" 2>"$tmp/fake.err" &
fake_pid=$!
pids="$pids $fake_pid"
for _ in $(seq 50); do grep -q '^port=' "$tmp/fake.out" 2>/dev/null && break; sleep 0.1; done
fake_port=$(sed -n 's/^port=//p' "$tmp/fake.out")
prism_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$prism" proxy "$spec" "http://127.0.0.1:$fake_port" --errors --host 127.0.0.1 \
	--port "$prism_port" >"$tmp/prism.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 120); do
	curl -s -o /dev/null "http://127.0.0.1:$prism_port/" && break
	sleep 0.5
done

status=0
python3 - "$adapter" "$prism_port" "$fake_port" "$token" "$ORACLE_SANITIZER_MARKS" <<'PY' || status=$?
import json, re, subprocess, sys, urllib.error, urllib.request
adapter, prism_port, fake_port, token, sanitizer_marks = sys.argv[1:]
base = "http://127.0.0.1:%s" % prism_port
bad = []

def build(**over):
    line = dict({"base_url": base, "token": token, "from": "+447700900000",
                 "to": "+447700900123", "text": "Hello", "status_url": None,
                 "validity_s": None}, **over)
    line = {k: v for k, v in line.items() if v is not None}
    proc = subprocess.run([adapter, "--build"], input=json.dumps(line) + "\n",
                          capture_output=True, text=True)
    if re.search(sanitizer_marks, proc.stderr):
        print("twilio_openapi: FAIL: a sanitizer reported in %s --build:\n%s"
              % (adapter, proc.stderr[:6000]))
        sys.exit(1)
    if proc.returncode != 0:
        # Its exit 2 means it could not build the request it was asked for.
        print("twilio_openapi: FAIL: %s --build exited %d: %s"
              % (adapter, proc.returncode, proc.stderr[:2000]))
        sys.exit(2 if proc.returncode == 2 else 1)
    return json.loads(proc.stdout)

def send(req, body=None, ctype=None):
    r = urllib.request.Request(req["url"], data=(body if body is not None else req["body"]).encode(),
                               method=req["method"], headers={
                                   "Authorization": req["authorization"],
                                   "Content-Type": ctype or req["content_type"]})
    try:
        with urllib.request.urlopen(r, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()

good = [
    build(),
    build(text="Caf\u00e9 \u2713 & 50% off? \U0001F600 " * 3, validity_s="36000",
          status_url="https://signpost.example/v1/providers/twilio/status?ref=42"),
    build(**{"from": "SIGNPOST", "text": "x" * 1600, "validity_s": "1"}),
    build(text="Line one\nLine two\t\"quoted\" <tag> +plus+ =equals="),
]
for req in good:
    status, body = send(req)
    if status != 201:
        bad.append("adapter request refused: HTTP %d %s\n  request: %s" % (status, body[:400], req["body"][:200]))

req = build(validity_s="600")
drifts = {
    "a field name changed (to for To)": (req["body"].replace("To=", "to=", 1), None),
    "JSON instead of a form": (json.dumps({"To": "+447700900123", "From": "+447700900000",
                                           "Body": "Hello"}), "application/json"),
    "a non-integer ValidityPeriod": (req["body"].replace("ValidityPeriod=600", "ValidityPeriod=ten"), None),
    "no To at all": ("From=%2B447700900000&Body=Hello", None),
}
for what, (body, ctype) in drifts.items():
    status, answer = send(req, body, ctype)
    if status != 422:
        bad.append("planted drift not refused (%s): HTTP %d %s" % (what, status, answer[:300]))

msgs = json.load(urllib.request.urlopen("http://127.0.0.1:%s/_fake/messages" % fake_port))
if len(msgs) != len(good):
    bad.append("the fake received %d texts, expected the %d valid ones" % (len(msgs), len(good)))
for b in bad:
    print("twilio_openapi: FAIL: " + b)
if bad:
    sys.exit(1)
print("twilio_openapi: ok, %d adapter requests valid against Twilio's OpenAPI; %d planted "
      "drifts refused" % (len(good), len(drifts)))
PY
[ $status = 0 ] || exit $status

# The fake is ours too, built with the sanitizers: it must stop cleanly and quietly.
kill "$fake_pid"
fake_status=0
wait "$fake_pid" || fake_status=$?
oracle_no_sanitizer_report twilio_openapi "$tmp/fake.err" "$fake" || exit
if [ $fake_status != 0 ]; then
	echo "twilio_openapi: FAIL: $fake exited $fake_status:"
	sed -n '1,20p' "$tmp/fake.err"
	exit 1
fi
