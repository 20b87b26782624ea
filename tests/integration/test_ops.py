"""Running signpostd as a service: JSON logs with request ids, SIGHUP reloading the
configuration, the sd_notify protocol, `signpostd check-config` and `signpostd version`."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import unittest
import uuid

from harness import (ALL_WEEK, ROOT, SANITIZER_MARKS, SIGNPOSTD, TMP, Daemon, IntegrationCase,
                     drama_number, wait_until)

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def signpostd(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SIGNPOST_")}
    e.update(env or {})
    r = subprocess.run([SIGNPOSTD] + list(args), env=e, capture_output=True, text=True,
                       cwd=ROOT, timeout=60)
    for mark in SANITIZER_MARKS:
        assert mark not in r.stderr, r.stderr
    return r


def write_private(path, text):
    """A configuration file only its owner may read, as signpostd wants one with secrets."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class CommandsTest(unittest.TestCase):
    """signpostd version and signpostd check-config: no database needed."""

    def config_file(self, config):
        path = os.path.join(TMP, "check-%s.json" % uuid.uuid4().hex[:8])
        write_private(path, config if isinstance(config, str) else json.dumps(config))
        self.addCleanup(os.unlink, path)
        return path

    def test_version_names_each_library(self):
        r = signpostd("version")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        for i, name in enumerate(["signpostd", "libevent", "libcurl", "libpq", "json-c",
                                  "OpenSSL"]):
            self.assertRegex(lines[i], r"^%s \d+\.\d+" % re.escape(name), r.stdout)

    def test_a_good_file_passes_without_connecting(self):
        path = self.config_file({
            "providers": [{"name": "sim", "type": "sim", "segments_per_second": 10}],
            "default_provider": "sim", "simulator": True, "staff_numbers": ["07700 900990"]})
        start = time.monotonic()
        # A database that cannot be reached (TEST-NET-1): check-config never tries it.
        r = signpostd("check-config", path, env={
            "SIGNPOST_DATABASE_URL": "host=192.0.2.1 connect_timeout=20"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration is valid", r.stdout)
        self.assertLess(time.monotonic() - start, 10)
        # SIGNPOST_CONFIG when no file is named.
        r = signpostd("check-config", env={"SIGNPOST_CONFIG": path})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(path, r.stdout)

    def test_each_problem_is_told(self):
        path = self.config_file({
            "providers": [{"name": "sim", "type": "smoke-signals"}],
            "staff_numbers": ["not a number"],
            "retention": {"forever": True}})
        r = signpostd("check-config", path)
        self.assertEqual(r.returncode, 1, r)
        lines = r.stderr.splitlines()
        self.assertEqual(len(lines), 3, r.stderr)
        self.assertTrue(all(line.startswith(path + ": ") for line in lines), r.stderr)
        self.assertIn("staff_numbers", lines[0])
        self.assertIn("providers[0]", lines[1])
        self.assertIn("smoke-signals", lines[1])
        self.assertIn("forever", lines[2])

    def test_unreadable_and_misused(self):
        r = signpostd("check-config", self.config_file("{\"providers\": ["))
        self.assertEqual(r.returncode, 1, r)
        self.assertEqual(len(r.stderr.splitlines()), 1, r.stderr)
        r = signpostd("check-config", os.path.join(TMP, "no-such-file.json"))
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("no-such-file.json", r.stderr)
        r = signpostd("check-config", "a.json", "b.json")
        self.assertEqual(r.returncode, 2, r)
        # The environment is checked as at start-up.
        r = signpostd("check-config", env={"SIGNPOST_LOG_FORMAT": "xml"})
        self.assertEqual(r.returncode, 1, r)
        self.assertIn("SIGNPOST_LOG_FORMAT", r.stderr)


class JsonLogTest(IntegrationCase):
    """SIGNPOST_LOG_FORMAT=json and request ids."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, extra_env={"SIGNPOST_LOG_FORMAT": "json"}).start()
        cls.key = cls.d.key("officer")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def lines(self):
        out = []
        for text in self.d.log().splitlines():
            line = json.loads(text)  # every line is one JSON object
            self.assertEqual(set(line), {"time", "level", "message", "fields"}, text)
            self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(line["level"], ("error", "warn", "info", "debug"))
            self.assertIsInstance(line["fields"], dict)
            out.append(line)
        return out

    def test_every_line_is_json(self):
        lines = self.lines()
        started = [l for l in lines if l["message"].startswith("signpostd listening on ")]
        self.assertEqual(len(started), 1, lines[:5])
        self.assertEqual(started[0]["fields"]["providers"], "1")

    def test_a_sane_request_id_is_kept_and_tags_its_lines(self):
        rid = "ops-%s" % uuid.uuid4().hex[:12]
        r = self.d.api("GET", "/v1/campaigns", key=self.key, headers={"X-Request-Id": rid})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers.get("X-Request-Id"), rid)
        mine = [l for l in self.lines() if l["fields"].get("request_id") == rid]
        # The access line is written when the answer goes, from the callback of the
        # database query that made it: the id travelled with the query.
        http = [l for l in mine if l["message"] == "http"]
        self.assertEqual(len(http), 1, mine)
        self.assertEqual(http[0]["fields"]["path"], "/v1/campaigns")
        self.assertEqual(http[0]["fields"]["status"], "200")

    def test_the_id_follows_a_sign_in_through_hashing(self):
        # Database, then the password hash off the loop, then the database again: the
        # refusal is logged at the end of that chain.
        r = self.d.api("POST", "/v1/session", {"email": "nobody@example.org",
                                               "password": "not the password at all"},
                       headers={"X-Request-Id": "sign-in-1"})
        self.assertEqual(r.status, 401, r)
        refused = [l for l in self.lines() if l["message"] == "sign-in refused"]
        self.assertEqual([l["fields"].get("request_id") for l in refused], ["sign-in-1"])

    def test_an_insane_request_id_is_replaced(self):
        seen = set()
        for given in (None, "two words", "x" * 65, "semi;colon", "caf\u00e9"):
            headers = {"X-Request-Id": given} if given else {}
            r = self.d.api("GET", "/v1/campaigns", key=self.key, headers=headers)
            self.assertEqual(r.status, 200, r)
            rid = r.headers.get("X-Request-Id")
            self.assertRegex(rid or "", HEX_ID, given)
            seen.add(rid)
        self.assertEqual(len(seen), 5, "a new id each time")
        # 64 characters is the most kept.
        r = self.d.api("GET", "/healthz", headers={"X-Request-Id": "y" * 64})
        self.assertEqual(r.headers.get("X-Request-Id"), "y" * 64)

    def test_errors_carry_the_id_too(self):
        r = self.d.api("GET", "/v1/campaigns", key="sp_wrong", headers={"X-Request-Id": "bad-key-1"})
        self.assertEqual(r.status, 401, r)
        self.assertEqual(r.headers.get("X-Request-Id"), "bad-key-1")
        wait_until(lambda: any(l["fields"].get("request_id") == "bad-key-1" for l in self.lines()),
                   what="a line for the refused request")


class NotifyTest(IntegrationCase):
    """The sd_notify datagrams, to a socket standing in for systemd."""

    def test_ready_watchdog_reloading_stopping(self):
        path = os.path.join(TMP, "notify-%s.sock" % uuid.uuid4().hex[:8])
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(30)
        self.addCleanup(os.unlink, path)
        self.addCleanup(sock.close)
        d = Daemon(self.db, extra_env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
        d.start()
        try:
            def until(state):
                got = []
                while state not in got:
                    got.append(sock.recv(4096).decode())
                return got
            self.assertEqual(until("READY=1")[-1], "READY=1")
            start = time.monotonic()
            for _ in range(3):
                until("WATCHDOG=1")
            # Every 100 ms (half of WATCHDOG_USEC): three take about 300 ms.
            self.assertLess(time.monotonic() - start, 3)
            d.process.proc.send_signal(signal.SIGHUP)
            got = until("RELOADING=1") + until("READY=1")
            self.assertLess(got.index("RELOADING=1"), len(got) - 1)
            text = d.stop()
            self.assertIn("STOPPING=1", until("STOPPING=1"))
        finally:
            if d.process:
                d.stop()
        self.assertIn("configuration reloaded", text)

    def test_no_socket_no_harm(self):
        d = Daemon(self.db, extra_env={"NOTIFY_SOCKET": os.path.join(TMP, "nobody-listens"),
                                       "WATCHDOG_USEC": "100000"}).start()
        time.sleep(0.5)
        self.assertTrue(d.ready())
        d.stop()


class ReloadTest(IntegrationCase):
    """SIGHUP with a campaign in flight: a new rate is taken, a broken file refused."""

    CONFIG = {"providers": [{"name": "slow", "type": "sim", "segments_per_second": 4},
                            {"name": "sim", "type": "sim"}],
              "default_provider": "sim", "simulator": True}
    TENANTS = 40

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, cls.CONFIG).start()
        cls.path = cls.d.config_path  # the file this daemon reads (each run writes its own)
        cls.key = cls.d.key("officer")
        for i in range(cls.TENANTS):
            r = cls.d.api("POST", "/v1/tenants", {"external_ref": "R-%d" % i,
                                                  "phone": drama_number(500 + i),
                                                  "borough": "Reload"}, key=cls.key)
            assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def api(self, method, path, body=None):
        return self.d.api(method, path, body, key=self.key)

    def counts(self, cid):
        return self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]

    def handled(self, cid):
        c = self.counts(cid)
        return c["total"] - c["queued"] - c["retry"]

    def slow_rate(self):
        items = self.api("GET", "/v1/providers").json["items"]
        return [p for p in items if p["name"] == "slow"][0]["segments_per_second"]

    def hup(self, config, expect):
        write_private(self.path, config if isinstance(config, str) else json.dumps(config))
        before = self.d.log().count(expect)
        self.d.process.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: self.d.log().count(expect) > before, what=expect)

    def test_reload_in_flight_then_broken_files(self):
        r = self.api("POST", "/v1/campaigns", {"name": "Reload", "body": "Hello from the reload",
                                               "audience": {"boroughs": ["Reload"]},
                                               "send_window": ALL_WEEK, "provider": "slow"})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid).status, 200)
        wait_until(lambda: self.handled(cid) >= 3, what="first sends")
        # At 4 a second, 40 texts take 10 s: most are still to go.
        faster = json.loads(json.dumps(self.CONFIG))
        faster["providers"][0]["segments_per_second"] = 200
        self.hup(faster, "configuration reloaded")
        in_flight = self.handled(cid)
        self.assertLess(in_flight, self.TENANTS - 10, "the reload came mid-campaign")
        self.assertEqual(self.slow_rate(), 200)
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] == "completed",
                   timeout=8, what="the rest sent at the new rate (%r)" % self.counts(cid))
        c = self.counts(cid)
        self.assertEqual(c["total"], self.TENANTS, c)
        self.assertEqual(c.get("unknown", 0) + c.get("failed", 0), 0, c)
        self.assertEqual(self.handled(cid), self.TENANTS, c)

        # A file that is not JSON: refused, the running configuration kept.
        self.hup("{\"providers\": [", "configuration reload refused")
        self.assertEqual(self.slow_rate(), 200)
        # A file that adds a provider: a restart's business, refused likewise.
        more = json.loads(json.dumps(faster))
        more["providers"].append({"name": "extra", "type": "sim"})
        more["providers"][0]["segments_per_second"] = 1
        self.hup(more, "needs a restart")
        self.assertEqual(self.slow_rate(), 200)
        self.assertTrue(self.d.ready())
        log = self.d.log()
        self.assertIn("problem=\"providers: 3 instead of 2", log)
        # Back to a good file: taken again.
        self.hup(self.CONFIG, "configuration reloaded")
        self.assertEqual(self.slow_rate(), 4)


if __name__ == "__main__":
    unittest.main()
