"""A partner organisation's webhook endpoint on 127.0.0.1, as a partner would write it:
it checks the Standard Webhooks signature with its secret (401 when it does not match),
records what it got, and can be told to be down (503) for a while."""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time

TOLERANCE_S = 300


def sign(secret, msg_id, timestamp, body):
    key = base64.b64decode(secret[len("whsec_"):])
    mac = hmac.new(key, ("%s.%s." % (msg_id, timestamp)).encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def verify(secret, headers, body, now=None):
    """True when the webhook-* headers carry a valid signature of body for secret."""
    msg_id = headers.get("webhook-id")
    ts = headers.get("webhook-timestamp")
    sigs = headers.get("webhook-signature")
    if not msg_id or not ts or not sigs or not ts.isdigit():
        return False
    if abs((now or time.time()) - int(ts)) > TOLERANCE_S:
        return False
    expected = sign(secret, msg_id, ts, body)
    return any(hmac.compare_digest(s, expected) for s in sigs.split())


class FakePartner:
    def __init__(self, secret):
        self.secret = secret
        self.received = []      # (webhook-id, payload, signature valid, status answered)
        self.down = False
        self.lock = threading.Lock()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify(fake.secret, {k.lower(): v for k, v in self.headers.items()}, body)
                status = 503 if fake.down else (200 if ok else 401)
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                with fake.lock:
                    fake.received.append((self.headers.get("webhook-id"), payload, ok, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(http.server.ThreadingHTTPServer):
            request_queue_size = 128  # signpost sends webhooks in parallel

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/signpost" % self.server.server_address[1]
        # shutdown() waits for the loop to look at its flag: every 50 ms, not 500.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def accepted(self):
        with self.lock:
            return [r for r in self.received if r[3] == 200]

    def all(self):
        with self.lock:
            return list(self.received)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
