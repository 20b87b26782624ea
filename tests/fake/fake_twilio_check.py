#!/usr/bin/env python3
"""fake_twilio_check.py: checks the fake Twilio server against the Twilio adapter.

A request built by the adapter (test_twilio --build) is accepted; Twilio's refusals and the
fault modes answer as tests/fake/README.md says; status callbacks carry signatures the
adapter accepts (test_twilio --verify), and a deliberately bad one is refused; the generic
route Kannel's HTTP SMSC sends to answers 200 "Sent" and counts its texts; the fake exits cleanly with nothing on stderr (so no sanitizer report).

usage, from the repository root: BUILD=build/san tests/fake/fake_twilio_check.py
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

BUILD = os.environ.get("BUILD", "build/dev")
FAKE = os.path.join(BUILD, "tests", "fake_twilio")
ADAPTER = os.path.join(BUILD, "tests", "test_twilio")
SID = "AC00000000000000000000000000000000"
TOKEN = "fake0token0000000000000000000000"
failures = []


def fail(what):
    print("fake_twilio_check: FAIL: " + what)
    failures.append(what)


class Receiver(http.server.BaseHTTPRequestHandler):
    """Records each status callback and answers 200."""
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        Receiver.received.append({"path": self.path, "body": body,
                                  "signature": self.headers.get("X-Twilio-Signature", "")})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def adapter(mode, lines):
    out = subprocess.run([ADAPTER, mode], input="".join(json.dumps(l) + "\n" for l in lines),
                         capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def request(method, url, body=b"", headers=None):
    req = urllib.request.Request(url, data=body if method == "POST" else None,
                                 headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class Check:
    def __init__(self, base, status_url):
        self.base = base
        self.status_url = status_url

    def send(self, to, token=TOKEN):
        """Posts the request the adapter builds; returns (status, headers, JSON answer)."""
        built = json.loads(adapter("--build", [{
            "base_url": self.base, "token": token, "from": "+447700900000", "to": to,
            "text": "Hello from the check \u2713", "status_url": self.status_url,
            "validity_s": "3600"}])[0])
        status, headers, body = request(built["method"], built["url"], built["body"].encode(), {
            "Authorization": built["authorization"], "Content-Type": built["content_type"]})
        return status, headers, json.loads(body)

    def expect(self, what, answer, status, code=None):
        if answer[0] != status or (code is not None and answer[2].get("code") != code):
            fail("%s: got HTTP %d %s, expected %d %s" % (what, answer[0], answer[2], status,
                                                        code or ""))

    def control(self, path, body):
        status, _, answer = request("POST", self.base + path, json.dumps(body).encode())
        if status != 200:
            fail("control %s %s: HTTP %d %s" % (path, body, status, answer))

    def get(self, path):
        return json.loads(request("GET", self.base + path)[2])


def exercise(c):
    ok = c.send("+447700900123")
    c.expect("adapter request", ok, 201)
    if ok[2].get("status") != "queued" or not ok[2].get("sid", "").startswith("SM"):
        fail("201 answer: %s" % ok[2])
    c.expect("wrong token", c.send("+447700900123", "0000token00000000000000000000000"),
             401, 20003)
    c.expect("invalid To", c.send("07700900123"), 400, 21211)
    c.control("/_fake/mode", {"mode": "throttle429", "count": 1, "retry_after": 3})
    throttled = c.send("+447700900124")
    c.expect("throttled", throttled, 429, 20429)
    if throttled[1].get("Retry-After") != "3":
        fail("no Retry-After: 3 on the 429: %s" % throttled[1])
    c.expect("after the throttled one", c.send("+447700900124"), 201)
    c.control("/_fake/mode", {"mode": "code", "to": "+447700900004", "twilio_code": 21610})
    c.expect("opted out", c.send("+447700900004"), 400, 21610)
    c.expect("another recipient", c.send("+447700900125"), 201)
    c.control("/_fake/mode", {"mode": "error500", "count": 1})
    c.expect("server error", c.send("+447700900125"), 500, 20500)
    c.expect("after the server error", c.send("+447700900126"), 201)


def check_callbacks(c, receiver_port):
    # Four accepted messages, two automatic callbacks each, then one badly signed each.
    time.sleep(0.5)
    c.control("/_fake/callbacks", {"status": "failed", "bad_signature": True})
    time.sleep(0.5)
    if len(c.get("/_fake/messages")) != 4:
        fail("/_fake/messages does not list 4 messages")
    stats = c.get("/_fake/stats")
    got = [stats[k] for k in ("accepted", "rejected", "auth_failures", "injected",
                              "callbacks_ok")]
    if got != [4, 1, 1, 3, 12]:
        fail("stats: %s" % stats)
    verdicts = "".join(adapter("--verify", [
        {"token": TOKEN, "method": "POST", "body": r["body"], "signature": r["signature"],
         "url": "http://127.0.0.1:%d%s" % (receiver_port, r["path"])}
        for r in Receiver.received]))
    if verdicts != "1" * 8 + "0" * 4:
        fail("callback signatures: verdicts %s, expected 8 accepted then 4 refused" % verdicts)
    if not any("MessageStatus=failed" in r["body"] and "ErrorCode=30003" in r["body"]
               for r in Receiver.received):
        fail("a failed callback carries no ErrorCode=30003")


def check_kannel(c):
    """GET or POST /kannel/send, as Kannel's generic HTTP SMSC sends, counts as a message."""
    c.control("/_fake/reset", {})
    sent = request("GET", c.base + "/kannel/send?from=%2B447700900000&to=%2B447700900127"
                   "&text=Hello+from+Kannel")
    if sent[0] != 200 or sent[2] != "Sent":
        fail("kannel GET: HTTP %d %r" % (sent[0], sent[2]))
    posted = request("POST", c.base + "/kannel/send", b"to=%2B447700900128&text=Hi",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    if posted[0] != 200 or posted[2] != "Sent":
        fail("kannel POST: HTTP %d %r" % (posted[0], posted[2]))
    refused = request("GET", c.base + "/kannel/send?to=%2B447700900129")
    if refused[0] != 400:
        fail("kannel GET without text: HTTP %d, expected 400" % refused[0])
    stats = c.get("/_fake/stats")
    if [stats[k] for k in ("requests", "accepted", "rejected")] != [3, 2, 1]:
        fail("kannel stats: %s" % stats)
    msgs = c.get("/_fake/messages")
    if [(m["to"], m["body"]) for m in msgs] != [("+447700900127", "Hello from Kannel"),
                                                  ("+447700900128", "Hi")]:
        fail("kannel messages: %s" % msgs)


def main():
    for path in (FAKE, ADAPTER):
        if not os.access(path, os.X_OK):
            print("fake_twilio_check: %s is not built" % path, file=sys.stderr)
            return 2
    receiver = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = receiver.server_address[1]
    with tempfile.TemporaryFile("w+") as err:
        fake = subprocess.Popen([FAKE, "--port", "0", "--account-sid", SID, "--auth-token",
                                 TOKEN, "--callbacks", "sent,delivered",
                                 "--callback-delay-ms", "20"],
                                stdout=subprocess.PIPE, stderr=err, text=True)
        try:
            first = fake.stdout.readline().strip()
            if not first.startswith("port="):
                fail("first line is %r, not port=N" % first)
                return 1
            c = Check("http://127.0.0.1:" + first[5:],
                      "http://127.0.0.1:%d/v1/providers/tw/status?ref=42" % port)
            exercise(c)
            check_callbacks(c, port)
            check_kannel(c)
        finally:
            fake.terminate()
            rc = fake.wait(timeout=10)
        err.seek(0)
        stderr = err.read()
        if rc != 0 or stderr:
            fail("the fake exited with %d; stderr:\n%s" % (rc, stderr))
    receiver.shutdown()
    if failures:
        return 1
    print("fake_twilio_check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
