"""Integration-test harness: the real bin/signpostd against a real PostgreSQL and fake
providers on 127.0.0.1.

tests/run.sh starts a throwaway PostgreSQL and passes its conninfo in SIGNPOST_TEST_PG;
every test class gets a database of its own, every daemon and fake server a free port of
its own, and every process's log is checked for sanitizer reports when it stops.
"""
import atexit
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import psycopg2

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build/san"))
SIGNPOSTD = os.path.join(ROOT, "bin", "signpostd")
PG = os.environ.get("SIGNPOST_TEST_PG", "")
TMP = os.environ.get("SIGNPOST_TEST_TMP", "/tmp")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer")
# A change of state outside gateway/lifecycle.c's tables (the check below refuses it).
LIFECYCLE_MARK = " cannot go from "

# Every change of a text's state in every test is held to the transition table: in
# production this check is left out, since it would cost more than the changes themselves.
CHECK_MESSAGE_TRANSITIONS = (
    "CREATE OR REPLACE TRIGGER messages_transitions_checked AFTER UPDATE ON messages "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION signpost_check_message_transitions()")

ALL_WEEK = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00", "end": "24:00"}


def generated_number(i):
    """Load and fault tests need more numbers than Ofcom's drama range holds. These are
    generated at run time, never stored in the repository, and sent only to fakes on
    127.0.0.1."""
    return "+447700%06d" % (100000 + i)


def import_tenants(daemon, key, n, borough, prefix="G", first=0):
    """Creates n tenants with generated numbers (from the first-th on) in one CSV import."""
    lines = ["external_ref,first_name,phone,borough"]
    lines += ["%s-%d,Name%d,%s,%s" % (prefix, i, i, generated_number(i), borough)
              for i in range(first, first + n)]
    r = http("POST", daemon.base + "/v1/tenants/import", "\n".join(lines) + "\n",
             {"Content-Type": "text/csv", "Authorization": "Bearer " + key})
    assert r.status == 200 and r.json["created"] + r.json["updated"] == n, r
    return r.json


def drama_number(i):
    """Numbers come only from Ofcom's drama range, +447700900000 to +447700900999."""
    assert 0 <= i <= 999
    return "+447700900%03d" % i


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(fn, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s (last: %r)" % (timeout, what, last))


def check_log(path):
    with open(path, errors="replace") as f:
        text = f.read()
    for mark in SANITIZER_MARKS:
        if mark in text:
            raise AssertionError("sanitizer report in %s:\n%s" % (path, text[-6000:]))
    if LIFECYCLE_MARK in text:
        line = [l for l in text.splitlines() if LIFECYCLE_MARK in l][0]
        raise AssertionError("a change of state outside the transition tables in %s: %s" %
                             (path, line))
    return text


class Sql:
    """Queries through self.conn(), an autocommit psycopg2 connection."""

    def query(self, sql, *args):
        cur = self.conn().cursor()
        cur.execute(sql, args)
        return cur.fetchall() if cur.description else None

    def value(self, sql, *args):
        rows = self.query(sql, *args)
        return rows[0][0] if rows else None


class Database(Sql):
    """A fresh database in the throwaway cluster."""

    def __init__(self, prefix="t"):
        if not PG:
            raise unittest.SkipTest("SIGNPOST_TEST_PG is not set (run through make test)")
        self.name = "%s_%s" % (prefix, uuid.uuid4().hex[:10])
        admin = psycopg2.connect(PG)
        admin.autocommit = True
        admin.cursor().execute('CREATE DATABASE "%s"' % self.name)
        admin.close()
        self.conninfo = " ".join(p for p in PG.split() if not p.startswith("dbname=")) + \
            " dbname=" + self.name
        self._conn = None

    def conn(self):
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(self.conninfo)
            self._conn.autocommit = True
        return self._conn

    def drop(self):
        if self._conn is not None:
            self._conn.close()
        admin = psycopg2.connect(PG)
        admin.autocommit = True
        admin.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
        admin.close()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


def http(method, url, body=None, headers=None, timeout=30):
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
    elif isinstance(body, str):
        data = body.encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Response(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Response(e.code, dict(e.headers), e.read())


_children = []


@atexit.register
def _kill_leftovers():
    """A test that failed in its tear-down may not have stopped what it started."""
    for proc in _children:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class Process:
    """A child process with its output in a log file."""

    def __init__(self, name, argv, env=None):
        self.log_path = os.path.join(TMP, "%s-%s.log" % (name, uuid.uuid4().hex[:8]))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                     env=env, cwd=ROOT)
        _children.append(self.proc)

    def stop(self, sig=signal.SIGTERM, expect_code=0, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("%s did not stop within %ds" % (self.log_path, timeout))
        self.log.close()
        if self.proc.stdout:
            self.proc.stdout.close()
        text = check_log(self.log_path)
        if expect_code is not None and code != expect_code:
            raise AssertionError("%s exited %s:\n%s" % (self.log_path, code, text[-4000:]))
        return text

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        if self.proc.stdout:
            self.proc.stdout.close()


class Daemon:
    """bin/signpostd serve with its own port, configuration file and log."""

    def __init__(self, db, config=None, public_url=None, extra_env=None):
        self.db = db
        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.public_url = public_url or self.base
        self.config = config
        self.extra_env = extra_env or {}
        self.process = None
        self.config_path = None

    def env(self):
        env = dict(os.environ)
        env.update({
            "SIGNPOST_DATABASE_URL": self.db.conninfo,
            "SIGNPOST_LISTEN": "127.0.0.1:%d" % self.port,
            "SIGNPOST_PUBLIC_URL": self.public_url,
            "SIGNPOST_LOG_LEVEL": "debug",
        })
        env.pop("SIGNPOST_CONFIG", None)
        if self.config is not None:
            self.config_path = os.path.join(TMP, "config-%s.json" % uuid.uuid4().hex[:8])
            with open(self.config_path, "w") as f:
                json.dump(self.config, f)
            env["SIGNPOST_CONFIG"] = self.config_path
        env.update(self.extra_env)
        return env

    def run(self, *args, check=True, input=None):
        r = subprocess.run([SIGNPOSTD] + list(args), env=self.env(), capture_output=True,
                           text=True, cwd=ROOT, timeout=120, input=input)
        for mark in SANITIZER_MARKS:
            assert mark not in r.stderr, r.stderr
        if check and r.returncode != 0:
            raise AssertionError("signpostd %s failed (%d): %s" % (args, r.returncode, r.stderr))
        return r

    def key(self, role="admin", partner=None):
        args = ["keys", "create", "--role", role, "--label", "test"]
        if partner is not None:
            args += ["--partner", str(partner)]
        return self.run(*args).stdout.strip()

    def user(self, email, password, role="officer", partner=None):
        """A console user, made with `signpostd users create` (the password on stdin)."""
        args = ["users", "create", "--email", email, "--role", role]
        if partner is not None:
            args += ["--partner", str(partner)]
        self.run(*args, input=password + "\n")
        return {"email": email, "password": password}

    def start(self, wait=True):
        self.process = Process("signpostd", [SIGNPOSTD, "serve"], env=self.env())
        if wait:
            wait_until(self.ready, timeout=60, what="signpostd /readyz")
            self.db.query(CHECK_MESSAGE_TRANSITIONS)
        return self

    def ready(self):
        if self.process.proc.poll() is not None:
            raise AssertionError("signpostd exited %s:\n%s" % (
                self.process.proc.returncode, open(self.process.log_path).read()[-4000:]))
        try:
            return http("GET", self.base + "/readyz", timeout=2).status == 200
        except OSError:
            return False

    def stop(self, expect_code=0):
        if self.process:
            text = self.process.stop(expect_code=expect_code)
            self.process = None
            return text
        return ""

    def kill9(self):
        self.process.kill9()
        self.process = None

    def log(self):
        with open(self.process.log_path, errors="replace") as f:
            return f.read()

    def api(self, method, path, body=None, key=None, headers=None):
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        if isinstance(body, (dict, list)):
            h.setdefault("Content-Type", "application/json")
        return http(method, self.base + path, body, h)


def twilio_signature(token, url, params):
    data = url + "".join(k + v for k, v in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def post_twilio(daemon, path, params, token, sign_url=None):
    """POSTs a Twilio-style signed form webhook; params is a list of (name, value)."""
    url = daemon.public_url + path
    body = urllib.parse.urlencode(params)
    sig = twilio_signature(token, sign_url or url, params)
    return http("POST", daemon.base + path, body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": sig,
    })


class FakeServer:
    """A fake provider from tests/fake/, listening on a free port it reports."""

    def __init__(self, name, args):
        binary = os.path.join(BUILD, "tests", "fake_" + name)
        self.process = Process("fake_" + name, [binary, "--port", "0"] + list(args))
        line = self.process.proc.stdout.readline().decode().strip()
        if not line.startswith("port="):
            raise AssertionError("fake_%s did not start: %r\n%s" % (
                name, line, open(self.process.log_path).read()))
        self.port = int(line.split("=", 1)[1])
        self.base = "http://127.0.0.1:%d" % self.port

    def control(self, method, path, body=None):
        r = http(method, self.base + path, body,
                 {"Content-Type": "application/json"} if body is not None else {})
        assert 200 <= r.status < 300, r
        return r.json if r.body else None

    def stop(self):
        self.process.stop()


def daemon_with_fake(db, name, kind, fake_args, entry):
    """A daemon whose provider `name` is served by fake_<kind>. The fake posts receipts
    and inbound texts to the daemon's /v1/providers/<name>; entry(fake) gives the
    provider's config entry. Returns (daemon, fake), neither started nor stopped twice."""
    d = Daemon(db)
    fake = FakeServer(kind, list(fake_args) + [
        "--webhook-base", "%s/v1/providers/%s" % (d.public_url, name)])
    d.config = {"providers": [dict(entry(fake), name=name)],
                "default_provider": name, "org_name": "Kent Digital Help"}
    return d, fake


class IntegrationCase(unittest.TestCase):
    """A test class with its own database, dropped at the end."""

    @classmethod
    def setUpClass(cls):
        cls.db = Database(cls.__name__.lower()[:20])

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()
