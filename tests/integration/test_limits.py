"""What one client can make the daemon hold. A request that waits (for its key or session
to be looked up while PostgreSQL is slow, for a batch of an import to be stored) reads no
more of its body meanwhile, and a client that does not read its answers gets no more of
them: signpostd's resident memory stays small whatever such clients send. And the limits
of the "http" configuration: a deadline for head and body, connections per address,
webhook bodies at 256 KiB, failed key and session look-ups per address."""
import json
import os
import re
import socket
import threading
import time

import psycopg2

from harness import Daemon, IntegrationCase, generated_number, http, wait_until

MIB = 1 << 20
RSS_LIMIT = 64 * MIB
CHUNK = b"x" * 65536


def rss(pid):
    """signpostd's resident memory in bytes (VmRSS)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for %d" % pid)


class RssWatch:
    """Samples a process's VmRSS every 50 ms and keeps the highest. Past twice the limit it
    sets `enough`, which the senders stop on: a daemon that keeps everything would
    otherwise take the machine's memory."""

    def __init__(self, pid, limit):
        self.pid, self.limit = pid, limit
        self.peak = rss(pid)
        self.enough = threading.Event()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.done.wait(0.05):
            self.peak = max(self.peak, rss(self.pid))
            if self.peak > 2 * self.limit:
                self.enough.set()

    def stop(self):
        self.done.set()
        self.thread.join()
        return self.peak


def read_answer(s):
    """The status code and body of one answer (Content-Length bodies only)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise AssertionError("the connection closed before an answer: %r" % data[:200])
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head[9:12]), head, body[:length]


class Sender(threading.Thread):
    """Sends head, then body parts from `parts` (an iterator of bytes) for as long as the
    daemon takes them and `stop` is not set, then reads the answer. A part the daemon does
    not take within 0.2 s is offered again, so a daemon that stops reading blocks it."""

    def __init__(self, port, head, parts, stop, finish=False):
        super().__init__(daemon=True)
        self.port, self.head, self.parts, self.stop = port, head, parts, stop
        self.finish = finish  # send every part even after stop (a body that must be whole)
        self.sent = 0
        self.answer = None
        self.error = None

    def run(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=60) as s:
                s.sendall(self.head)
                s.settimeout(0.2)
                self.send_body(s)
                s.settimeout(60)
                self.answer = read_answer(s)
        except Exception as e:  # reported by the test
            self.error = e

    def send_body(self, s):
        for part in self.parts:
            view = memoryview(part)
            while view:
                if self.stop.is_set() and not self.finish:
                    return
                try:
                    n = s.send(view)
                except socket.timeout:
                    continue
                except (BrokenPipeError, ConnectionResetError):
                    return  # answered and closed: the answer may be waiting to be read
                view = view[n:]
                self.sent += n


def endless_chunks():
    while True:
        yield b"%x\r\n%s\r\n" % (len(CHUNK), CHUNK)


class PausedReadingTest(IntegrationCase):
    def setUp(self):
        # AddressSanitizer keeps freed memory in quarantine (256 MiB by default) and counts
        # it in the process's RSS; without it the RSS is what signpostd itself holds.
        asan = os.environ.get("ASAN_OPTIONS", "")
        self.d = Daemon(self.db, extra_env={
            "ASAN_OPTIONS": (asan + ":" if asan else "") + "quarantine_size_mb=0"}).start()
        self.officer = self.d.key("officer")

    def tearDown(self):
        self.d.stop()

    def stall(self, *tables):
        """Holds tables locked so that the statements the daemon runs on them wait, as
        they would on a PostgreSQL that has stopped answering; rollback() releases them."""
        conn = psycopg2.connect(self.db.conninfo)
        conn.cursor().execute("LOCK TABLE %s IN ACCESS EXCLUSIVE MODE" % ", ".join(tables))
        return conn

    def import_body(self, rows, junk):
        """A CSV of `rows` new tenants, then `junk` rows of 2,000 bytes that are refused
        without a statement; (length, parts)."""
        good = ["external_ref,phone"] + ["P-%d,%s" % (i, generated_number(i)) for i in range(rows)]
        parts = ["\n".join(good).encode() + b"\n"] + [b"y" * 1999 + b"\n"] * junk
        return sum(len(p) for p in parts), parts

    def test_paused_requests_read_nothing_more(self):
        """PostgreSQL stalls; three clients with a made-up key and one with a made-up
        session cookie stream endless bodies, and an import's batch cannot be stored while
        its file keeps coming. signpostd stays under 64 MiB; once PostgreSQL answers again
        every one of them is answered."""
        # The officer's key is looked up (and cached) before the stall.
        self.assertEqual(self.d.api("GET", "/v1/tenants", key=self.officer).status, 200)
        length, parts = self.import_body(2500, 4000)
        locked = self.stall("api_keys", "sessions", "tenants")
        stop = threading.Event()
        chunked = (b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Transfer-Encoding: chunked\r\n%s\r\n\r\n")
        senders = [Sender(self.d.port, chunked % b"Authorization: Bearer sp_bogus", endless_chunks(),
                          stop) for _ in range(3)]
        senders.append(Sender(self.d.port, chunked % (b"Cookie: signpost_session=" + b"ab" * 32),
                              endless_chunks(), stop))
        importer = Sender(self.d.port, b"POST /v1/tenants/import HTTP/1.1\r\nHost: x\r\n"
                          b"Authorization: Bearer " + self.officer.encode() + b"\r\n"
                          b"Content-Type: text/csv\r\nContent-Length: %d\r\n\r\n" % length,
                          iter(parts), stop, finish=True)
        watch = RssWatch(self.d.process.proc.pid, RSS_LIMIT)
        try:
            for s in senders + [importer]:
                s.start()
            watch.enough.wait(6)
        finally:
            stop.set()
            peak = watch.stop()
            locked.rollback()
            locked.close()
        for s in senders + [importer]:
            s.join(120)
        self.assertLess(peak, RSS_LIMIT, "signpostd grew to %.0f MiB while requests waited for "
                        "PostgreSQL" % (peak / MIB))
        for s in senders:
            self.assertIsNone(s.error, s.error)
            self.assertEqual(s.answer[0], 401, s.answer)
        self.assertIsNone(importer.error, importer.error)
        status, _, body = importer.answer
        self.assertEqual(status, 200, body[:300])
        summary = json.loads(body)
        self.assertEqual((summary["created"], summary["rejected_count"]), (2500, 4000))
        self.assertEqual(self.db.value("SELECT count(*) FROM tenants"), 2500)

    def test_unread_answers_stop_the_requests(self):
        """A client pipelines requests for a 100 KiB file and never reads the answers: the
        daemon answers a few and waits for them to be read before reading more."""
        page = http("GET", self.d.base + "/console/").body.decode()
        css = re.search(r'/console/assets/[^"]+/govuk-frontend\.min\.css', page).group(0)
        requests = memoryview(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % css).encode() * 2000)
        watch = RssWatch(self.d.process.proc.pid, RSS_LIMIT)
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.settimeout(0.2)
            deadline = time.monotonic() + 4
            while requests and time.monotonic() < deadline and not watch.enough.is_set():
                try:
                    requests = requests[s.send(requests):]
                except socket.timeout:
                    pass
            watch.enough.wait(1)
            peak = watch.stop()
        self.assertLess(peak, RSS_LIMIT, "signpostd grew to %.0f MiB holding answers nobody "
                        "read" % (peak / MIB))
        wait_until(lambda: http("GET", self.d.base + "/healthz").status == 200, what="healthz")


TWILIO = {"name": "tw", "type": "twilio", "base_url": "http://127.0.0.1:9",
          "account_sid": "AC" + "0" * 32, "auth_token": "limits-token", "from": "+447700900000"}
LIMITS = {"request_seconds": 2, "import_seconds": 5, "max_connections_per_ip": 8}


def connect(port, source="127.0.0.1", timeout=10):
    """A connection from one of the loopback addresses: 127.0.0.2 and the others are other
    clients to the daemon, and not exempt from the per-address limits as 127.0.0.1 is."""
    return socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                    source_address=(source, 0))


def exchange(port, raw, source="127.0.0.1"):
    with connect(port, source) as s:
        s.sendall(raw)
        return read_answer(s)


class LimitsTest(IntegrationCase):
    """request_seconds 2, import_seconds 5, at most 8 connections from one address and the
    default 20 failed look-ups a minute."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, {"providers": [{"name": "sim", "type": "sim"}, TWILIO],
                                "http": LIMITS, "simulator": True}).start()
        cls.officer = cls.d.key("officer")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def trickle(self, head, give_up):
        """Sends head, then a byte of body every 0.3 s (never idle for long); returns the
        answer and when it came, or fails after give_up seconds."""
        with connect(self.d.port) as s:
            start = time.monotonic()
            s.sendall(head)
            s.settimeout(0.3)
            data = b""
            while time.monotonic() - start < give_up:
                try:
                    data += s.recv(65536)
                    if not data or b"\r\n\r\n" in data:
                        break
                except socket.timeout:
                    s.send(b"a")
            self.assertIn(b"\r\n\r\n", data, "no answer in %d s" % give_up)
            return data, time.monotonic() - start

    def assertTimedOut(self, data, took, least, most):
        self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:300])
        self.assertIn(b'"error"', data)
        self.assertTrue(least <= took <= most, took)

    def test_request_deadline(self):
        """A request's head and body must be in within request_seconds, an import's within
        import_seconds, however steadily they trickle in."""
        for head in [b"POST /v1/providers/tw/inbound HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n",
                     b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n"
                     b"Authorization: Bearer " + self.officer.encode() + b"\r\n\r\n{",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "]:
            data, took = self.trickle(head, 8)
            self.assertTimedOut(data, took, 1.5, 4)
        head = (b"POST /v1/tenants/import HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\n"
                b"Authorization: Bearer " + self.officer.encode() + b"\r\n"
                b"Content-Length: 100000\r\n\r\nexternal_ref,phone\n")
        data, took = self.trickle(head, 12)
        self.assertTimedOut(data, took, 4.5, 8)
        self.assertEqual(http("GET", self.d.base + "/healthz").status, 200)

    def test_connections_per_address(self):
        """Eight connections from 127.0.0.2 at once, not nine; other addresses meanwhile are
        served, and 127.0.0.2 again once one of its eight closes."""
        held = []
        try:
            for _ in range(8):
                s = connect(self.d.port, "127.0.0.2")
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_answer(s)[0], 200)
                held.append(s)
            status, head, body = exchange(self.d.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
                                          "127.0.0.2")
            self.assertEqual(status, 429, body)
            self.assertIn(b"Retry-After: ", head)
            self.assertEqual(json.loads(body)["error"]["code"], "too_many_connections")
            for source in ["127.0.0.3", "127.0.0.1"]:
                self.assertEqual(exchange(self.d.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                          b"Connection: close\r\n\r\n", source)[0], 200)
            held.pop().close()
            wait_until(lambda: exchange(self.d.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                        b"Connection: close\r\n\r\n", "127.0.0.2")[0] == 200,
                       timeout=5, what="a ninth connection once one closed")
            # 127.0.0.1 is exempt by default (a reverse proxy, the built-in simulator).
            local = [connect(self.d.port) for _ in range(20)]
            for s in local:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertEqual(read_answer(s)[0], 200)
            held += local
        finally:
            for s in held:
                s.close()

    def test_webhook_bodies(self):
        """Webhook bodies stop at 256 KiB: refused by their declared length before any of it
        is read, and while reading a chunked one; 256 KiB itself is read (and the missing
        signature refused)."""
        limit = 256 << 10
        for path in ["/v1/providers/tw/inbound", "/v1/providers/tw/status", "/sim/messages"]:
            with connect(self.d.port) as s:
                s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" %
                          (path.encode(), limit + 1))
                status, _, body = read_answer(s)  # with no byte of the body sent
                self.assertEqual(status, 413, body)
            chunk = b"%x\r\n%s\r\n" % (64 << 10, b"a" * (64 << 10))
            status, _, body = exchange(self.d.port, b"POST %s HTTP/1.1\r\nHost: x\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\n" % path.encode() +
                                       chunk * 5 + b"0\r\n\r\n")
            self.assertEqual(status, 413, body)
        status, _, body = exchange(self.d.port, b"POST /v1/providers/tw/inbound HTTP/1.1\r\n"
                                   b"Host: x\r\nContent-Length: %d\r\n\r\n" % limit + b"a" * limit)
        self.assertEqual(status, 403, body)
        # Other routes too are refused by a declared length past theirs, before the key.
        with connect(self.d.port) as s:
            s.sendall(b"POST /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sp_x\r\n"
                      b"Content-Length: %d\r\n\r\n" % ((1 << 20) + 1))
            self.assertEqual(read_answer(s)[0], 413)

    def test_failed_lookups_are_limited(self):
        """Twenty made-up keys from 127.0.0.4 in a minute are looked up and refused (401);
        from then on, until the minute is out, every request from it with a key or a session
        is refused (429, Retry-After) without a look-up, even a good key, even while the
        database would keep a look-up waiting. Other addresses are not affected."""
        bogus = b"GET /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sp_%d\r\n\r\n"
        for i in range(20):
            self.assertEqual(exchange(self.d.port, bogus % i, "127.0.0.4")[0], 401)
        good = b"GET /v1/tenants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n" % \
            self.officer.encode()
        cookie = b"GET /v1/tenants HTTP/1.1\r\nHost: x\r\nCookie: signpost_session=%s\r\n\r\n" % \
            (b"ab" * 32)
        locked = psycopg2.connect(self.db.conninfo)
        try:
            locked.cursor().execute("LOCK TABLE api_keys, sessions IN ACCESS EXCLUSIVE MODE")
            for raw in [bogus % 20, good, cookie]:
                start = time.monotonic()
                status, head, body = exchange(self.d.port, raw, "127.0.0.4")
                self.assertEqual(status, 429, body)
                self.assertLess(time.monotonic() - start, 1.0)
                wait = int(re.search(rb"Retry-After: (\d+)", head).group(1))
                self.assertTrue(1 <= wait <= 60, wait)
                self.assertEqual(json.loads(body)["error"]["code"], "too_many_failures")
        finally:
            locked.rollback()
            locked.close()
        self.assertEqual(exchange(self.d.port, bogus % 21, "127.0.0.5")[0], 401)
        self.assertEqual(exchange(self.d.port, good, "127.0.0.5")[0], 200)
        for i in range(25):  # 127.0.0.1 is exempt by default
            self.assertEqual(exchange(self.d.port, bogus % i, "127.0.0.1")[0], 401)
