"""PostgreSQL failover and lost commits, for real: a primary and a synchronous standby
(initdb, pg_basebackup -R, synchronous_standby_names, synchronous_commit=on) on unix
sockets of their own under SIGNPOST_TEST_TMP, a 3,000-tenant campaign to the fake Twilio
and signed inbound webhooks under way, and the daemon given both servers in one conninfo
(host=a,b target_session_attrs=read-write).

- test_1_connections_cut_mid_commit: the standby stops, so every commit waits for it;
  the daemon's backends, claims among them, are terminated while they wait (each
  transaction has committed on the primary, and the daemon cannot know it); the standby
  comes back. The texts those claims took were never sent, and are sent once.
- test_2_primary_killed_standby_promoted: the primary's postmaster gets SIGKILL and the
  standby is promoted (pg_ctl promote). The daemon carries on against the new primary
  within seconds, with its advisory lock and LISTEN back; every webhook answered 200 is
  there exactly once, no text is sent twice and the campaign completes.

- test_3_a_host_that_never_answers: a listed server that accepts connections and never
  answers (a machine gone rather than refusing) delays the daemon by the conninfo's
  connect_timeout, not for good: after an attempt times out the next starts from the next
  host.

Each test has its own pair of servers, daemon and fake, so each passes alone.
"""
import collections
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import uuid

import psycopg2

from harness import (ALL_WEEK, TMP, Daemon, FakeServer, Sql, check_log, generated_number,
                     import_tenants, post_twilio, wait_until)
from test_twilio import SID, TOKEN, twilio_config

TENANTS = 3000
JANITOR_LOCK_CLASS = 21328


def pg_bin(name):
    versions = sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: [int(x) for x in v.split(".")])
    return os.path.join("/usr/lib/postgresql", versions[-1], "bin", name)


def as_postgres(argv, **kw):
    """PostgreSQL refuses to run as root: as root, its programs run as the postgres user."""
    if os.getuid() == 0:
        argv = ["runuser", "-u", "postgres", "--"] + argv
    return subprocess.run(argv, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


def must(r, what):
    if r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s%s" % (what, r.returncode, r.stdout, r.stderr))
    return r


class Server:
    """One PostgreSQL server in a directory, on a unix socket of its own."""

    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "socket")
        self.log = os.path.join(self.dir, "postgres.log")
        os.makedirs(self.socket)
        if os.getuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(self.socket, "postgres", "postgres")

    def start(self, *settings):
        opts = ["-c listen_addresses=''", "-c unix_socket_directories='%s'" % self.socket,
                "-c max_connections=100"] + ["-c %s" % s for s in settings]
        must(as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-t", "60",
                          "-o", " ".join(opts), "start"]), "pg_ctl start " + self.dir)

    def stop(self):
        if os.path.exists(os.path.join(self.data, "postmaster.pid")):
            as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"])

    def postmaster_pid(self):
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            return int(f.readline())

    def conninfo(self, dbname="signpost"):
        return "host=%s user=postgres dbname=%s" % (self.socket, dbname)

    def connect(self, dbname="signpost"):
        conn = psycopg2.connect(self.conninfo(dbname))
        conn.autocommit = True
        return conn


class Pair(Sql):
    """A primary with a synchronous standby made from it by pg_basebackup -R."""

    def __init__(self):
        self.root = os.path.join(TMP, "failover-" + uuid.uuid4().hex[:8])
        os.makedirs(self.root)
        os.chmod(self.root, 0o755)
        self.primary = Server(self.root, "a")
        self.standby = Server(self.root, "b")
        self._conn = None
        try:
            self.setup()
        except BaseException:
            self.drop()
            raise
        self.current = self.primary

    def setup(self):
        must(as_postgres([pg_bin("initdb"), "-D", self.primary.data, "-U", "postgres", "-A",
                          "trust", "-E", "UTF8", "--locale=C.UTF-8"]), "initdb")
        # Set on the command line, not in the files pg_basebackup copies: the standby,
        # once promoted, has no standby of its own to wait for.
        self.primary.start("wal_level=replica", "max_wal_senders=5",
                           "synchronous_standby_names='*'", "synchronous_commit=on")
        must(as_postgres([pg_bin("pg_basebackup"), "-D", self.standby.data, "-R", "-X", "stream",
                          "-d", "host=%s user=postgres application_name=b" % self.primary.socket]),
             "pg_basebackup")
        self.standby.start()
        conn = self.primary.connect("postgres")
        conn.cursor().execute("CREATE DATABASE signpost")
        conn.close()
        wait_until(self.standby_streaming, timeout=30, what="the standby streaming, synchronous")
        # A synchronous commit waits for the standby to write the WAL, not to replay it:
        # until it has, the standby refuses connections to the new database, and libpq
        # does not try the next host after that refusal.
        wait_until(self.standby_has_database, timeout=30, what="the standby replaying CREATE DATABASE")

    def standby_has_database(self):
        try:
            self.standby.connect().close()
            return True
        except psycopg2.OperationalError:
            return False

    def standby_streaming(self):
        conn = self.primary.connect("postgres")
        cur = conn.cursor()
        cur.execute("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' "
                    "AND sync_state = 'sync'")
        n = cur.fetchone()[0]
        conn.close()
        return n == 1

    # What the harness's Daemon needs of a database: a conninfo and queries. The standby
    # is listed first and target_session_attrs left out: signpost asks for a server that
    # takes writes itself, so it is passed over until it is promoted.
    @property
    def conninfo(self):
        return "host=%s,%s user=postgres dbname=signpost" % (self.standby.socket,
                                                             self.primary.socket)

    def conn(self):
        if self._conn is None or self._conn.closed:
            self._conn = self.current.connect()
        return self._conn

    def close(self):
        if self._conn is not None and not self._conn.closed:
            self._conn.close()
        self._conn = None

    def drop(self):
        self.close()
        self.standby.stop()
        self.primary.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class Webhooks(threading.Thread):
    """Signed inbound Twilio webhooks, one after another, each with its own MessageSid and
    sent again until answered 200, as providers do. Records when each was acknowledged."""

    def __init__(self, daemon, numbers):
        super().__init__(daemon=True)
        self.d = daemon
        self.numbers = numbers
        self.acked = {}  # sid -> time.monotonic() of its 200
        self.refused = 0
        self.stopping = False

    def run(self):
        n = 0
        while not self.stopping:
            sid = "SM%032x" % (0xfa110000 + n)
            frm = self.numbers[n % len(self.numbers)]
            while not self.stopping:
                params = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", SID),
                          ("From", frm), ("To", "+447700900000"), ("Body", "INFO"),
                          ("NumMedia", "0")]
                try:
                    r = post_twilio(self.d, "/v1/providers/twilio/inbound", params, TOKEN)
                    status = r.status
                except OSError:
                    status = 0
                if status == 200:
                    self.acked[sid] = time.monotonic()
                    break
                self.refused += 1
                time.sleep(0.2)
            n += 1
            time.sleep(0.01)

    def stop(self):
        self.stopping = True
        self.join(60)


class FailoverTest(unittest.TestCase):
    def setUp(self):
        self.hooks = self.d = None
        self.pair = Pair()
        self.addCleanup(self.pair.drop)  # cleanups run even when setUp fails, last first
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        self.addCleanup(self.fake.stop)
        config = twilio_config(self.fake)
        config["providers"][0]["segments_per_second"] = 200
        self.d = Daemon(self.pair, config)
        self.addCleanup(self.stop_daemon)
        self.d.start()
        self.key = self.d.key("officer")
        self.numbers = [generated_number(i) for i in range(TENANTS)]

    def stop_daemon(self):
        if self.hooks:
            self.hooks.stop()
        if self.d.process:
            self.d.stop()

    def accepted(self):
        return self.fake.control("GET", "/_fake/stats")["accepted"]

    def start_campaign(self):
        import_tenants(self.d, self.key, TENANTS, "Dover", prefix="F")
        r = self.d.api("POST", "/v1/campaigns", {"name": "Failover", "body": "Hello {first_name}",
                                                 "audience": {"boroughs": ["Dover"]},
                                                 "send_window": ALL_WEEK}, key=self.key)
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.d.api("POST", "/v1/campaigns/%d/schedule" % cid, key=self.key)
        self.hooks = Webhooks(self.d, self.numbers)
        self.hooks.start()
        return cid

    def finish(self, cid):
        """The campaign completes; nobody is texted twice or missed; every webhook answered
        200 is stored once."""
        wait_until(lambda: self.d.api("GET", "/v1/campaigns/%d" % cid, key=self.key).json["state"]
                   == "completed", timeout=180, what="campaign completed")
        self.hooks.stop()
        counts = self.d.api("GET", "/v1/campaigns/%d" % cid, key=self.key).json["counts"]
        received = collections.Counter(m["to"] for m in self.fake.control("GET", "/_fake/messages"))
        self.assertEqual(max(received.values()), 1, "a tenant was texted twice")
        self.assertEqual(len(received), TENANTS, "a tenant was not texted")
        self.assertEqual(self.accepted(), TENANTS)
        self.assertEqual(counts["submitted"], TENANTS, counts)
        self.assertEqual(counts["unknown"], 0, counts)
        acked = set(self.hooks.acked)
        stored = collections.Counter(r[0] for r in self.pair.query(
            "SELECT provider_msg_id FROM inbound_messages WHERE provider = 'twilio'"))
        self.assertGreater(len(acked), 20)
        self.assertEqual(set(stored), acked, "webhooks answered 200 and webhooks stored differ")
        self.assertEqual(max(stored.values()), 1)
        return counts

    def test_1_connections_cut_mid_commit(self):
        cid = self.start_campaign()
        wait_until(lambda: self.accepted() >= 500, timeout=60, what="500 texts accepted")
        # Without its synchronous standby every commit waits; a claim waiting so has
        # committed on the primary, but its answer has not gone out.
        self.pair.standby.stop()
        waiting_claim = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' "
                         "AND application_name = 'signpostd' AND query LIKE '%%WITH due AS%%'")
        wait_until(lambda: self.pair.value(waiting_claim) > 0, timeout=30,
                   what="a claim waiting for the standby")
        cut = self.pair.value("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) "
                              "FROM pg_stat_activity WHERE application_name = 'signpostd') t")
        self.assertGreater(cut, 0)
        self.pair.standby.start()
        counts = self.finish(cid)
        log = check_log(self.d.process.log_path)
        self.assertIn("dispatch texts of a lost claim given back", log)
        self.assertIn("db connection back conn=pool", log)
        print("\nconnections cut: %d backends terminated, %d webhooks acknowledged (%d answers "
              "not 200 sent again), counts %s" % (cut, len(self.hooks.acked), self.hooks.refused,
                                                  {k: v for k, v in counts.items() if v}),
              file=sys.stderr)

    def test_2_primary_killed_standby_promoted(self):
        cid = self.start_campaign()
        wait_until(lambda: self.accepted() >= 800, timeout=60, what="800 texts accepted")
        daemon_id = self.pair.value("SELECT max(id) FROM daemons")
        acked_before = set(self.hooks.acked)
        os.kill(self.pair.primary.postmaster_pid(), signal.SIGKILL)
        killed = time.monotonic()
        at_kill = self.accepted()
        self.pair.close()
        time.sleep(1)  # a failover manager notices, then promotes
        must(as_postgres([pg_bin("pg_ctl"), "-D", self.pair.standby.data, "-w", "promote"]),
             "pg_ctl promote")
        promoted = time.monotonic()
        self.pair.current = self.pair.standby
        wait_until(lambda: self.accepted() > at_kill + 50, timeout=60,
                   what="texts going out again after the promotion")
        sending_again = time.monotonic() - promoted
        wait_until(lambda: any(t > promoted for t in self.hooks.acked.values()), timeout=60,
                   what="a webhook answered 200 after the promotion")
        hooks_again = min(t for t in self.hooks.acked.values() if t > promoted) - promoted
        self.assertLess(sending_again, 15)
        self.assertLess(hooks_again, 15)
        # The daemon's liveness lock and LISTEN are back, on the new primary.
        wait_until(lambda: self.pair.value(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s "
            "AND objid = %s AND objsubid = 2 AND granted", JANITOR_LOCK_CLASS, daemon_id) == 1,
            timeout=30, what="the daemon's advisory lock on the new primary")
        self.pair.query("NOTIFY signpost_work, 'failover-check'")
        wait_until(lambda: 'channel=signpost_work payload="failover-check"' in self.d.log(),
                   timeout=30, what="the notification through LISTEN on the new primary")
        counts = self.finish(cid)
        # Everything acknowledged before the kill is on the new primary (finish checked
        # every acknowledged webhook exactly once; these are the ones at risk).
        self.assertTrue(acked_before <= set(r[0] for r in self.pair.query(
            "SELECT provider_msg_id FROM inbound_messages")))
        log = check_log(self.d.process.log_path)
        self.assertIn("db connection back conn=pool host=%s" % self.pair.standby.socket, log)
        self.assertIn("db session ready host=%s" % self.pair.standby.socket, log)
        # The command line follows too, with the URI form of the same two hosts.
        uri = "postgresql://postgres@%s,%s/signpost?target_session_attrs=read-write" % (
            self.pair.primary.socket.replace("/", "%2F"), self.pair.standby.socket.replace("/", "%2F"))
        self.d.db = UriDb(uri)
        self.assertTrue(self.d.key("officer").startswith("sp_"))
        print("\nfailover: promoted %.1f s after the kill; texts going out again %.1f s and "
              "webhooks answered again %.1f s after the promotion; %d webhooks acknowledged, "
              "%d before the kill (%d answers not 200 sent again); %d texts at the kill, "
              "counts %s" % (promoted - killed, sending_again, hooks_again, len(self.hooks.acked),
                             len(acked_before), self.hooks.refused, at_kill,
                             {k: v for k, v in counts.items() if v}), file=sys.stderr)


class UriDb:
    def __init__(self, uri):
        self.conninfo = uri


class SilentHostTest(unittest.TestCase):
    """A listed server that takes the connection and never answers (a machine gone, not
    refusing): each attempt gives up after connect_timeout and the next starts from the
    next host."""

    def test_3_a_host_that_never_answers(self):
        pair = Pair()
        self.addCleanup(pair.drop)
        silent_dir = os.path.join(pair.root, "silent")
        os.makedirs(silent_dir)
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.bind(os.path.join(silent_dir, ".s.PGSQL.5432"))
        silent.listen(64)  # never accepted, never answered
        self.addCleanup(silent.close)
        db = HostsDb(pair, "host=%s,%s user=postgres dbname=signpost connect_timeout=2" % (
            silent_dir, pair.primary.socket))
        d = Daemon(db)
        started = time.monotonic()
        d.start()
        self.addCleanup(d.stop)
        ready = time.monotonic() - started
        key = d.key("officer")
        r = d.api("POST", "/v1/tenants", {"external_ref": "S-1", "phone": "07700 900401"}, key=key)
        self.assertEqual(r.status, 201, r)
        log = d.log()
        self.assertIn("db connect timed out conn=pool", log)
        self.assertIn("db session ready host=%s" % pair.primary.socket, log)
        print("\nsilent host: ready after %.1f s" % ready, file=sys.stderr)


class HostsDb:
    """A conninfo of our own over a pair's primary."""

    def __init__(self, pair, conninfo):
        self.pair = pair
        self.conninfo = conninfo

    def query(self, sql, *args):
        return self.pair.query(sql, *args)


if __name__ == "__main__":
    unittest.main()
