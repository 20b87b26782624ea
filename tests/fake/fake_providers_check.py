#!/usr/bin/env python3
"""fake_providers_check.py: exercises every control-API feature of fake_vonage,
fake_messagebird, fake_firetext and fake_hub (tests/fake/README.md).

For each fake: a request in the provider's format is accepted and a wrong credential
refused as the provider would; each fault mode (throttle429 with Retry-After and count,
code for one recipient, error500, hang, delay_ms) answers as documented; automatic and
requested receipts and inbound texts (two concatenated parts) reach a local receiver
carrying signatures that an independent Python check accepts, while those made with
bad_signature are refused (the planted wrong case: the check must be able to fail);
/_fake/reset forgets; the fake exits cleanly with nothing on stderr.

usage, from the repository root: BUILD=build/san tests/fake/fake_providers_check.py
"""
import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BUILD = os.environ.get("BUILD", "build/dev")
TIMEOUT = [5.0]
failures = []


def fail(what):
    print("fake_providers_check: FAIL: " + what)
    failures.append(what)


class Receiver(http.server.BaseHTTPRequestHandler):
    received = []

    def record(self, body):
        Receiver.received.append({"method": self.command, "path": self.path, "body": body,
                                  "headers": {k.lower(): v for k, v in self.headers.items()}})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        self.record("")

    def do_POST(self):
        self.record(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())

    def log_message(self, *args):
        pass


def request(method, url, body=b"", headers=None, timeout=None):
    timeout = timeout or TIMEOUT[0]
    req = urllib.request.Request(url, data=body if method == "POST" else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def fields_of(r):
    """The fields of a received webhook: query, form or JSON."""
    if r["method"] == "GET":
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(r["path"]).query))
    if r["headers"].get("content-type", "").startswith("application/json"):
        return json.loads(r["body"])
    return dict(urllib.parse.parse_qsl(r["body"]))


# ---- independent signature checks ----

def vonage_ok(r, secret="sig-secret"):
    f = fields_of(r)
    sig = f.pop("sig", "")
    s = "".join("&%s=%s" % (k, f[k].replace("&", "_").replace("=", "_")) for k in sorted(f))
    return hmac.compare_digest(hmac.new(secret.encode(), s.encode(), "sha256").hexdigest(),
                               sig.lower())


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def messagebird_ok(r, port, key="mb-signing"):
    token = r["headers"].get("messagebird-signature-jwt", "")
    try:
        h, p, s = token.split(".")
    except ValueError:
        return False
    mac = hmac.new(key.encode(), (h + "." + p).encode(), "sha256").digest()
    claims = json.loads(b64url(p))
    url = "http://127.0.0.1:%d%s" % (port, r["path"])
    body_ok = ("payload_hash" not in claims and not r["body"]) or \
        claims.get("payload_hash") == hashlib.sha256(r["body"].encode()).hexdigest()
    return hmac.compare_digest(mac, b64url(s)) and claims["iss"] == "MessageBird" and \
        claims["url_hash"] == hashlib.sha256(url.encode()).hexdigest() and body_ok


def firetext_ok(r):
    want = "Basic " + base64.b64encode(b"hook-user:hook-pw").decode()
    return r["headers"].get("authorization") == want


HUB_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def stdwebhook_sign(msg_id, ts, body):
    key = base64.b64decode(HUB_SECRET[6:])
    mac = hmac.new(key, ("%s.%s.%s" % (msg_id, ts, body)).encode(), "sha256").digest()
    return "v1," + base64.b64encode(mac).decode()


def hub_ok(r):
    h = r["headers"]
    want = stdwebhook_sign(h.get("webhook-id"), h.get("webhook-timestamp"), r["body"])
    return want in h.get("webhook-signature", "").split(" ")


# ---- the providers' send requests ----

def vonage_send(base, to, cb, key="v-key"):
    body = urllib.parse.urlencode({"api_key": key, "api_secret": "v-secret",
                                   "from": "447700900000", "to": to[1:], "text": "Hello",
                                   "callback": cb, "client-ref": "42"})
    s, h, b = request("POST", base + "/sms/json", body.encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    return s, h, json.loads(b) if b else {}


def messagebird_send(base, to, cb, key="mb-access"):
    body = json.dumps({"originator": "447700900000", "recipients": [to[1:]], "body": "Hello",
                       "reference": "42", "reportUrl": cb})
    s, h, b = request("POST", base + "/messages", body.encode(),
                      {"Content-Type": "application/json", "Authorization": "AccessKey " + key})
    return s, h, json.loads(b) if b else {}


def firetext_send(base, to, cb, key="ft-key"):
    body = urllib.parse.urlencode({"apiKey": key, "from": "SIGNPOST", "to": to[1:],
                                   "message": "Hello", "reference": "42", "receipt": cb})
    s, h, b = request("POST", base + "/api/sendsms/json", body.encode(),
                      {"Content-Type": "application/x-www-form-urlencoded"})
    return s, h, json.loads(b) if b else {}


def hub_send(base, to, cb, key=HUB_SECRET):
    body = json.dumps({"to": to, "from": "+447700900000", "text": "Hello", "reference": "42",
                       "status_url": cb})
    ts = str(int(time.time()))
    sig = stdwebhook_sign("msg_42", ts, body) if key == HUB_SECRET else "v1,AAAA"
    s, h, b = request("POST", base + "/messages", body.encode(),
                      {"Content-Type": "application/json", "webhook-id": "msg_42",
                       "webhook-timestamp": ts, "webhook-signature": sig})
    return s, h, json.loads(b) if b else {}


def vonage_status(answer):
    return answer[2].get("messages", [{}])[0].get("status")


PROVIDERS = {
    "vonage": {
        "args": ["--api-key", "v-key", "--api-secret", "v-secret", "--signature-secret",
                 "sig-secret", "--signature-method", "sha256"],
        "send": vonage_send, "statuses": "accepted,delivered",
        "accepted": lambda a: a[0] == 200 and vonage_status(a) == "0",
        "refused": lambda a: a[0] == 200 and vonage_status(a) == "4",
        "code": ({"mode": "code", "code": 7}, lambda a: a[0] == 200 and vonage_status(a) == "7"),
        "verify": lambda r, port: vonage_ok(r),
    },
    "messagebird": {
        "args": ["--access-key", "mb-access", "--signing-key", "mb-signing"],
        "send": messagebird_send, "statuses": "sent,delivered",
        "accepted": lambda a: a[0] == 201 and len(a[2].get("id", "")) == 32,
        "refused": lambda a: a[0] == 401 and a[2]["errors"][0]["code"] == 2,
        "code": ({"mode": "code", "code": 9, "http_status": 422},
                 lambda a: a[0] == 422 and a[2]["errors"][0]["code"] == 9),
        "verify": messagebird_ok,
    },
    "firetext": {
        "args": ["--api-key", "ft-key", "--webhook-user", "hook-user", "--webhook-password",
                 "hook-pw"],
        "send": firetext_send, "statuses": "2,0",
        "accepted": lambda a: a[0] == 200 and a[2].get("code") == 0,
        "refused": lambda a: a[0] == 200 and a[2].get("code") == 1,
        "code": ({"mode": "code", "code": 2}, lambda a: a[0] == 200 and a[2].get("code") == 2),
        "verify": lambda r, port: firetext_ok(r),
    },
    "hub": {
        "args": ["--secret", HUB_SECRET],
        "send": hub_send, "statuses": "sent,delivered",
        "accepted": lambda a: a[0] == 200 and a[2].get("id", "").startswith("hub_"),
        "refused": lambda a: a[0] == 401,
        "code": ({"mode": "code", "code": "opted_out", "http_status": 400},
                 lambda a: a[0] == 400 and a[2]["error"]["code"] == "opted_out"),
        "verify": lambda r, port: hub_ok(r),
    },
}


class Fake:
    def __init__(self, name, spec, port):
        self.err = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen(
            [os.path.join(BUILD, "tests", "fake_" + name), "--port", "0"] + spec["args"] +
            ["--callbacks", spec["statuses"], "--callback-delay-ms", "20",
             "--webhook-base", "http://127.0.0.1:%d/v1/providers/%s" % (port, name)],
            stdout=subprocess.PIPE, stderr=self.err, text=True)
        first = self.proc.stdout.readline().strip()
        if not first.startswith("port="):
            raise SystemExit("fake_%s did not start: %r" % (name, first))
        self.base = "http://127.0.0.1:" + first[5:]

    def control(self, path, body=None):
        s, _, b = request("POST" if body is not None else "GET", self.base + path,
                          json.dumps(body).encode() if body is not None else b"")
        if s != 200:
            fail("control %s %s: HTTP %d %s" % (path, body, s, b))
        return json.loads(b) if b else None

    def stop(self, name):
        self.proc.terminate()
        rc = self.proc.wait(timeout=10)
        self.err.seek(0)
        text = self.err.read()
        if rc != 0 or text:
            fail("fake_%s exited with %d; stderr:\n%s" % (name, rc, text))
        self.proc.stdout.close()
        self.err.close()


def expect(name, what, ok, answer):
    if not ok:
        fail("%s: %s: got %r" % (name, what, answer))


def faults(name, spec, f, send):
    f.control("/_fake/mode", {"mode": "throttle429", "count": 1, "retry_after": 3})
    a = send("+447700900124")
    expect(name, "throttled", a[0] == 429 and a[1].get("Retry-After") == "3", a)
    expect(name, "after the throttled one", spec["accepted"](send("+447700900124")), None)
    mode, check = spec["code"]
    f.control("/_fake/mode", dict(mode, to="+447700900004"))
    expect(name, "code for one recipient", check(send("+447700900004")), None)
    expect(name, "another recipient", spec["accepted"](send("+447700900125")), None)
    f.control("/_fake/mode", {"mode": "error500", "count": 1})
    expect(name, "server error", send("+447700900125")[0] == 500, None)
    f.control("/_fake/mode", {"mode": "hang", "count": 1})
    try:
        a = send("+447700900126", timeout=0.5)
        fail("%s: a hanging request was answered: %r" % (name, a))
    except OSError:
        pass
    expect(name, "one hanging", f.control("/_fake/stats")["hanging"] <= 1, None)
    f.control("/_fake/mode", {"mode": "ok", "delay_ms": 300})
    t0 = time.monotonic()
    a = send("+447700900127")
    expect(name, "delayed answer", spec["accepted"](a) and time.monotonic() - t0 >= 0.3, a)
    f.control("/_fake/mode", {"mode": "ok"})


def hooks(name, spec, f, port):
    """Receipts and inbound texts: good ones verify, bad_signature ones must not."""
    f.control("/_fake/auto", {"statuses": []})
    Receiver.received.clear()
    n = f.control("/_fake/callbacks", {"status": spec["statuses"].split(",")[-1]})["scheduled"]
    bad = f.control("/_fake/callbacks", {"status": spec["statuses"].split(",")[-1],
                                         "bad_signature": True})["scheduled"]
    parts = f.control("/_fake/inbound", {"from": "+447700900123", "text": "SKILLS please",
                                         "parts": 2})["scheduled"]
    f.control("/_fake/inbound", {"from": "+447700900123", "text": "x", "bad_signature": True})
    total = n + bad + parts + 1
    deadline = time.monotonic() + 10
    while len(Receiver.received) < total and time.monotonic() < deadline:
        time.sleep(0.05)
    got = [spec["verify"](r, port) for r in Receiver.received]
    if sorted(got) != [False] * (bad + 1) + [True] * (n + parts):
        fail("%s: signatures %s, expected %d good and %d bad" % (name, got, n + parts, bad + 1))
    inbound = [r for r in Receiver.received if "/inbound" in r["path"]]
    if len(inbound) != parts + 1:
        fail("%s: %d inbound posts, expected %d" % (name, len(inbound), parts + 1))


def exercise(name, spec, port):
    f = Fake(name, spec, port)
    # Our Vonage adapter gives Vonage the status URL without its query (client-ref
    # carries the reference); the others keep it.
    cb = "http://127.0.0.1:%d/v1/providers/%s/status%s" % (
        port, name, "" if name == "vonage" else "?ref=42")

    def send(to, key=None, timeout=5.0):
        TIMEOUT[0] = timeout
        try:
            if key is None:
                return spec["send"](f.base, to, cb)
            return spec["send"](f.base, to, cb, key)
        finally:
            TIMEOUT[0] = 5.0
    try:
        Receiver.received.clear()
        expect(name, "accepted", spec["accepted"](send("+447700900123")), None)
        expect(name, "wrong credential refused", spec["refused"](send("+447700900123", "nope")),
               None)
        faults(name, spec, f, send)
        time.sleep(0.3)
        auto = [r for r in Receiver.received if "/status" in r["path"]]
        accepted = f.control("/_fake/stats")["accepted"]
        if len(auto) != 2 * accepted or not all(spec["verify"](r, port) for r in auto):
            fail("%s: %d automatic receipts for %d texts, or unverifiable" % (name, len(auto),
                                                                               accepted))
        hooks(name, spec, f, port)
        stats = f.control("/_fake/stats")
        if stats["auth_failures"] != 1 or stats["injected"] < 4 or stats["inbound_sent"] < 3:
            fail("%s: stats %s" % (name, stats))
        f.control("/_fake/reset", {})
        if f.control("/_fake/messages") != [] or f.control("/_fake/stats")["accepted"] != 0:
            fail("%s: reset did not forget" % name)
    finally:
        f.stop(name)


def main():
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]
    for name, spec in PROVIDERS.items():
        if not os.access(os.path.join(BUILD, "tests", "fake_" + name), os.X_OK):
            print("fake_providers_check: fake_%s is not built" % name, file=sys.stderr)
            return 2
        exercise(name, spec, port)
    receiver.shutdown()
    if failures:
        return 1
    print("fake_providers_check: ok, %d fakes" % len(PROVIDERS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
