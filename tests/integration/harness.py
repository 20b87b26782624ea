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
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import psycopg2
import psycopg2.errors

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

# Fake partners listen on http://127.0.0.1: a configuration whose partners' webhooks go to
# them needs these keys (partner webhooks are https:// only, and never to loopback, by
# default).
PARTNERS_ON_LOOPBACK = {"allow_insecure_partner_urls": True, "partner_url_allow": ["127.0.0.1"]}


def sim_config(**extra):
    """The built-in configuration (the simulator alone) with extra keys."""
    return dict({"providers": [{"name": "sim", "type": "sim"}], "default_provider": "sim",
                 "simulator": True}, **extra)


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


OWNER_ROLE = "signpost"


def ensure_owner_role(cur):
    """The login role (not a superuser) that owns each test database and runs the daemon."""
    cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (OWNER_ROLE,))
    if cur.fetchone():
        return
    try:
        cur.execute("CREATE ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS" % OWNER_ROLE)
    except (psycopg2.errors.DuplicateObject, psycopg2.errors.UniqueViolation):
        pass  # made meanwhile by a test running beside this one


class Cluster:
    """A PostgreSQL cluster of a test's own (scripts/pg.sh under SIGNPOST_TEST_TMP), for
    tests that stop and start PostgreSQL; remove() stops it and deletes it."""

    def __init__(self):
        if not PG:
            raise unittest.SkipTest("SIGNPOST_TEST_PG is not set (run through make test)")
        self.dir = os.path.join(TMP, "pg-%s" % uuid.uuid4().hex[:8])
        self.conninfo = self.start()

    def pg_sh(self, *args):
        r = subprocess.run([os.path.join(ROOT, "scripts", "pg.sh")] + list(args), cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("pg.sh %s failed: %s" % (" ".join(args), r.stderr))
        return r.stdout.strip()

    def start(self):
        return self.pg_sh("start", self.dir)

    def stop(self, mode="fast"):
        self.pg_sh("stop", self.dir, mode)

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Database(Sql):
    """A fresh database in the throwaway cluster (or in the cluster whose conninfo is pg)."""

    def __init__(self, prefix="t", pg=None):
        if not PG:
            raise unittest.SkipTest("SIGNPOST_TEST_PG is not set (run through make test)")
        self.pg = pg or PG
        self.name = "%s_%s" % (prefix, uuid.uuid4().hex[:10])
        admin = psycopg2.connect(self.pg)
        admin.autocommit = True
        ensure_owner_role(admin.cursor())
        admin.cursor().execute('CREATE DATABASE "%s" OWNER %s' % (self.name, OWNER_ROLE))
        admin.close()
        self.conninfo = " ".join(p for p in self.pg.split() if not p.startswith("dbname=")) + \
            " dbname=" + self.name
        # The daemon connects as the database's owner, not a superuser, so the row-level
        # security of the landlords' data applies to it; assertions here may see all.
        self.daemon_conninfo = " ".join(
            p for p in self.conninfo.split() if not p.startswith("user=")) + " user=" + OWNER_ROLE
        self._conn = None

    def conn(self):
        if self._conn is None or self._conn.closed:
            self._conn = psycopg2.connect(self.conninfo)
            self._conn.autocommit = True
        return self._conn

    def disconnect(self):
        """Closes the test's connection (after a restart of PostgreSQL, say); the next
        query opens another."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def drop(self):
        self.disconnect()
        admin = psycopg2.connect(self.pg)
        admin.autocommit = True
        admin.cursor().execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % self.name)
        admin.close()


class Response:
    def __init__(self, status, headers, body, url=None):
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url

    @property
    def json(self):
        return json.loads(self.body.decode())

    def __repr__(self):
        return "<%d %s>" % (self.status, self.body[:300])


# Every exchange with a running signpostd made through http() is recorded, one JSON line
# each, for tests/openapi/check_exchanges.py to hold against docs/openapi.json.
EXCHANGES = os.environ.get("SIGNPOST_TEST_EXCHANGES", os.path.join(TMP, "exchanges.jsonl"))
EXCHANGE_BODY_MAX = 4 << 20
_daemon_ports = set()


def _recorded_body(data, content_type):
    """A body as recorded: text when it is UTF-8, else base64; cut at EXCHANGE_BODY_MAX."""
    if data is None:
        return {}
    if not isinstance(data, (bytes, bytearray)):  # a generator: sent chunked, not kept
        return {"content_type": content_type, "streamed": True}
    out = {"content_type": content_type, "length": len(data)}
    if len(data) > EXCHANGE_BODY_MAX:
        out["truncated"] = True
        data = data[:EXCHANGE_BODY_MAX]
    try:
        out["text"] = data.decode()
    except UnicodeDecodeError:
        out["base64"] = base64.b64encode(data).decode()
    return out


def _current_test():
    """The test method (or class set-up) that made the request, for the checker's reports."""
    f = sys._getframe(2)
    while f is not None:
        me = f.f_locals.get("self", f.f_locals.get("cls"))
        if f.f_code.co_name.startswith(("test", "setUp")) and me is not None:
            name = me.__name__ if isinstance(me, type) else type(me).__name__
            return "%s.%s.%s" % (f.f_globals.get("__name__"), name, f.f_code.co_name)
        f = f.f_back
    return ""


def _record(method, url, data, headers, resp):
    u = urllib.parse.urlsplit(url)
    if u.hostname != "127.0.0.1" or u.port not in _daemon_ports:
        return
    final = urllib.parse.urlsplit(resp.url or url)
    h = {k.lower(): v for k, v in (headers or {}).items()}
    rh = {k.lower(): v for k, v in resp.headers.items()}
    line = {
        "test": _current_test(),
        "method": method, "path": final.path, "query": final.query,
        "redirected_from": u.path if final.path != u.path else None,
        "auth": "bearer" if "authorization" in h else
                "cookie" if "signpost_session=" in h.get("cookie", "") else None,
        "csrf": "x-csrf-token" in h,
        "request": _recorded_body(data, h.get("content-type")),
        "status": resp.status,
        "response": _recorded_body(resp.body, rh.get("content-type")),
        "response_encoding": rh.get("content-encoding"),
    }
    with open(EXCHANGES, "a") as f:
        f.write(json.dumps(line) + "\n")


def http(method, url, body=None, headers=None, timeout=30):
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
    elif isinstance(body, str):
        data = body.encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            resp = Response(r.status, dict(r.headers), r.read(), r.geturl())
    except urllib.error.HTTPError as e:
        resp = Response(e.code, dict(e.headers), e.read(), e.geturl())
    _record(method, url, data, headers, resp)
    return resp


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
            "SIGNPOST_DATABASE_URL": getattr(self.db, "daemon_conninfo", self.db.conninfo),
            "SIGNPOST_LISTEN": "127.0.0.1:%d" % self.port,
            "SIGNPOST_PUBLIC_URL": self.public_url,
            "SIGNPOST_LOG_LEVEL": "debug",
        })
        env.pop("SIGNPOST_CONFIG", None)
        if self.config is not None:
            self.config_path = os.path.join(TMP, "config-%s.json" % uuid.uuid4().hex[:8])
            # Only its owner may read it: signpostd refuses a file that holds credentials
            # and that others can read.
            fd = os.open(self.config_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
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

    def landlords(self, *names):
        """Landlord records for tenants to name (a tenant's landlord must be one)."""
        for name in names:
            self.db.query("INSERT INTO landlords (code, name) VALUES "
                          "(signpost_landlord_code(%s), %s) ON CONFLICT DO NOTHING", name, name)
        return self

    def start(self, wait=True):
        self.process = Process("signpostd", [SIGNPOSTD, "serve"], env=self.env())
        _daemon_ports.add(self.port)
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
        _daemon_ports.discard(self.port)
        if self.process:
            text = self.process.stop(expect_code=expect_code)
            self.process = None
            return text
        return ""

    def kill9(self):
        _daemon_ports.discard(self.port)
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
                "default_provider": name, "org_name": "Kent Digital Help",
                **PARTNERS_ON_LOOPBACK}
    return d, fake


class IntegrationCase(unittest.TestCase):
    """A test class with its own database, dropped at the end."""

    @classmethod
    def setUpClass(cls):
        cls.db = Database(cls.__name__.lower()[:20])

    @classmethod
    def tearDownClass(cls):
        cls.db.drop()
