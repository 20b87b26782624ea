#!/usr/bin/python3
"""make soak: a long run with faults in the middle, checking memory, file descriptors and
exact counts. Not part of make test.

At SOAK_SCALE=1 (the default) over about 20 minutes (SOAK_SECONDS=1200): 250,000 tenants
(numbers generated at run time), four campaigns to all of them, so 1,000,000 texts: two
through the Twilio adapter to tests/fake/fake_twilio and two through the generic webhook
adapter to tests/fake/fake_hub, at a steady rate (each provider's segments_per_second);
and 200,000 signed webhooks, 100,000 inbound Twilio texts posted as Twilio would and
100,000 through the built-in simulator (POST /v1/sim/inbound), whose replies go out
through the simulator as texts and come back as its delivery receipts. Every webhook not
answered 200 is posted again, with the same message id, as providers do.

In the middle: from 25% of the run the fake Twilio answers every text with 503 for 8% of
it (at least 30 s), so its circuit breaker opens and the texts wait and retry; at 55%
PostgreSQL restarts (pg_ctl stop -m fast, start).

At the end it requires:
- flat memory: signpostd's RSS at the end within 10% of its RSS after the first minute;
- no file-descriptor growth: /proc/PID/fd at the end no more than after the first minute;
- every text sent exactly once: each fake accepted exactly as many texts as its campaigns
  have tenants, every campaign text is 'submitted' once with a provider id of its own, and
  none is 'unknown'; every reply through the simulator was handed over once (one attempt);
- every webhook stored exactly once: each message id posted is in inbound_messages once.

SOAK_SCALE=0.02 scales every count (and the run, to at least 3 minutes) down for a quick
try. Prints a table and one JSON line; exits 1 when a check fails. BUILD names the build
(make soak builds and uses build/opt); the PostgreSQL, fakes and daemon are its own, in a
directory under SIGNPOST_TEST_TMP (default /tmp) that it removes unless SOAK_KEEP=1.
"""
import http.client
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("BUILD", "build/opt")

import psycopg2  # noqa: E402

import harness  # noqa: E402
from harness import Daemon, FakeServer, generated_number, twilio_signature, wait_until  # noqa: E402

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "soak-auth-token-not-a-secret"
HUB_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ALL_WEEK = harness.ALL_WEEK

SCALE = float(os.environ.get("SOAK_SCALE", "1"))
SECONDS = float(os.environ.get("SOAK_SECONDS", "0")) or max(180.0, 1200.0 * SCALE)
TENANTS = max(1000, int(250000 * SCALE))
CAMPAIGNS = [("A", "twilio"), ("B", "twilio"), ("C", "hub"), ("D", "hub")]
WEBHOOKS = max(2000, int(200000 * SCALE))
BUILD = os.environ["BUILD"]


def log(msg):
    print("soak %6.0fs %s" % (time.monotonic() - START, msg), file=sys.stderr, flush=True)


START = time.monotonic()


class Postgres:
    """A cluster of our own, through scripts/pg.sh, that the run restarts."""

    def __init__(self, root):
        self.dir = os.path.join(root, "pg")
        self.conninfo = self.start()

    def start(self):
        return subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "start", self.dir],
                              check=True, capture_output=True, text=True).stdout.strip()

    def stop(self):
        subprocess.run([os.path.join(ROOT, "scripts", "pg.sh"), "stop", self.dir], check=True)

    def query(self, sql, *args):
        conn = psycopg2.connect(self.conninfo)
        try:
            conn.autocommit = True
            cur = conn.cursor()
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    def value(self, sql, *args):
        return self.query(sql, *args)[0][0]


class Poster(threading.Thread):
    """Posts webhooks[i] for its share of i, paced so that all are sent by `until`, each
    again (same id) until answered 200."""

    def __init__(self, daemon, make, count, first, step, until):
        super().__init__(daemon=True)
        self.d, self.make, self.count, self.first, self.step = daemon, make, count, first, step
        self.t0, self.until = time.monotonic(), until
        self.acked, self.again, self.errors = 0, 0, []
        self.conn = None

    def post(self, method, path, body, headers):
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=60)
                self.conn.request(method, path, body, headers)
                r = self.conn.getresponse()
                r.read()
                return r.status
            except (OSError, http.client.HTTPException):
                if self.conn:
                    self.conn.close()
                self.conn = None
        return 0

    def run(self):
        rate = self.count / max(1.0, self.until - self.t0)
        for n, i in enumerate(range(self.first, self.count, self.step)):
            due = self.t0 + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            method, path, body, headers = self.make(i)
            while True:
                status = self.post(method, path, body, headers)
                if status in (200, 202):
                    self.acked += 1
                    break
                self.again += 1
                if status not in (0, 502, 503):
                    self.errors.append((i, status))
                    break
                time.sleep(0.5)


def twilio_inbound(daemon, numbers):
    path = "/v1/providers/twilio/inbound"

    def make(i):
        sid = "SMsoak%026d" % i
        params = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", SID),
                  ("From", numbers[i % len(numbers)]), ("To", "+447700900000"),
                  ("Body", "INFO"), ("NumMedia", "0")]
        sig = twilio_signature(TOKEN, daemon.public_url + path, params)
        return "POST", path, urllib.parse.urlencode(params), {
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig}
    return make


def sim_inbound(key, numbers):
    def make(i):
        body = json.dumps({"from": numbers[(i * 7) % len(numbers)], "text": "INFO",
                           "id": "soak-%d" % i})
        return "POST", "/v1/sim/inbound", body, {"Content-Type": "application/json",
                                                 "Authorization": "Bearer " + key}
    return make


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Sampler(threading.Thread):
    def __init__(self, pid, fakes):
        super().__init__(daemon=True)
        self.pid, self.fakes = pid, fakes
        self.samples = []  # (seconds since load began, rss KiB, fds)
        self.t0 = time.monotonic()
        self.stopping = False

    def run(self):
        while not self.stopping:
            t = time.monotonic() - self.t0
            try:
                self.samples.append((t, rss_kib(self.pid), fds(self.pid)))
            except OSError:
                break
            if len(self.samples) % 12 == 1:
                sent = sum(f.control("GET", "/_fake/stats")["accepted"] for f in self.fakes)
                log("rss %.1f MiB, %d fds, %d texts accepted" % (
                    self.samples[-1][1] / 1024, self.samples[-1][2], sent))
            time.sleep(5)

    def at(self, seconds):
        return next(s for s in self.samples if s[0] >= seconds)


def faults(fake, pg, t0):
    """The provider outage and the database restart, at their moments."""
    outage_at, outage_for, restart_at = 0.25 * SECONDS, max(30.0, 0.08 * SECONDS), 0.55 * SECONDS
    time.sleep(max(0, t0 + outage_at - time.monotonic()))
    log("fake Twilio answers 503 for %.0f s" % outage_for)
    fake.control("POST", "/_fake/mode", {"mode": "code", "http_status": 503, "twilio_code": 20503})
    time.sleep(outage_for)
    fake.control("POST", "/_fake/mode", {"mode": "ok"})
    log("fake Twilio answers again")
    time.sleep(max(0, t0 + restart_at - time.monotonic()))
    log("PostgreSQL restarts")
    pg.stop()
    pg.start()
    log("PostgreSQL is back")


def import_tenants(d, key, numbers):
    for first in range(0, len(numbers), 50000):
        lines = ["external_ref,first_name,phone,borough"]
        lines += ["K-%d,Name%d,%s,Swale" % (i, i, numbers[i])
                  for i in range(first, min(len(numbers), first + 50000))]
        r = d.api("POST", "/v1/tenants/import", "\n".join(lines) + "\n",
                  headers={"Content-Type": "text/csv", "Authorization": "Bearer " + key})
        assert r.status == 200 and not r.json["rejected_count"], r


class OutOfTime(Exception):
    pass


def out_of_time(signum, frame):
    raise OutOfTime("the soak ran out of time (%.0f s)" % (time.monotonic() - START))


def main():
    # Bounded whatever happens: the waits below end by then, and this ends them if not.
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(int(2 * SECONDS + 900))
    root = tempfile.mkdtemp(prefix="signpost-soak.", dir=os.environ.get("SIGNPOST_TEST_TMP", "/tmp"))
    os.chmod(root, 0o755)
    harness.TMP = root
    harness.SIGNPOSTD = os.path.join(ROOT, BUILD, "signpostd")
    pg = Postgres(root)
    per_provider = TENANTS * 2
    rate = math.ceil(per_provider / (0.8 * SECONDS))
    tw = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN,
                               "--max-messages", str(per_provider + 1000)])
    hub = FakeServer("hub", ["--secret", HUB_SECRET, "--max-messages", str(per_provider + 1000)])
    d = Daemon(pg, {
        "providers": [
            {"name": "twilio", "type": "twilio", "base_url": tw.base, "account_sid": SID,
             "auth_token": TOKEN, "from": "+447700900000", "segments_per_second": rate},
            {"name": "hub", "type": "webhook", "url": hub.base + "/messages", "secret": HUB_SECRET,
             "from": "+447700900000", "segments_per_second": rate},
            {"name": "sim", "type": "sim"}],
        "default_provider": "twilio", "org_name": "Kent Digital Help"},
        extra_env={"SIGNPOST_LOG_LEVEL": "info"})
    failures, report = [], {}
    try:
        d.start(wait=False)
        wait_until(d.ready, timeout=60, what="signpostd /readyz")
        pid = d.process.proc.pid
        key = d.key("officer")
        numbers = [generated_number(i) for i in range(TENANTS)]
        log("%d tenants, 4 campaigns: %d texts; %d webhooks; %.0f s; %d texts/s a provider" % (
            TENANTS, 4 * TENANTS, WEBHOOKS, SECONDS, rate))
        import_tenants(d, key, numbers)
        log("tenants imported")
        cids = []
        for name, provider in CAMPAIGNS:
            r = d.api("POST", "/v1/campaigns", {
                "name": "Soak " + name, "body": "Soak %s: hello {first_name}" % name,
                "audience": {"all": True}, "provider": provider, "send_window": ALL_WEEK}, key=key)
            assert r.status == 201, r
            cids.append(r.json["id"])
        sampler = Sampler(pid, [tw, hub])
        t0 = time.monotonic()
        for cid in cids:
            assert d.api("POST", "/v1/campaigns/%d/schedule" % cid, key=key).status == 200
        sampler.start()
        until = t0 + 0.85 * SECONDS
        half = WEBHOOKS // 2
        posters = [Poster(d, twilio_inbound(d, numbers), half, k, 3, until) for k in range(3)]
        posters += [Poster(d, sim_inbound(key, numbers), half, k, 3, until) for k in range(3)]
        for p in posters:
            p.start()
        fault = threading.Thread(target=faults, args=(tw, pg, t0), daemon=True)
        fault.start()

        def done():
            states = [d.api("GET", "/v1/campaigns/%d" % c, key=key).json["state"] for c in cids]
            return all(s == "completed" for s in states) and not any(p.is_alive() for p in posters)
        wait_until(done, timeout=1.5 * SECONDS + 120, interval=5, what="campaigns completed, webhooks posted")
        fault.join()
        # The last replies through the simulator handed over. The simulator posts each
        # receipt once, so one refused while PostgreSQL restarted leaves its text 'submitted'.
        wait_until(lambda: pg.value("SELECT count(*) FROM messages WHERE kind = 'reply' AND "
                                    "provider = 'sim' AND state IN ('queued', 'sending', "
                                    "'retry')") == 0,
                   timeout=120, interval=2, what="replies sent")
        time.sleep(5)  # the simulator's last receipts
        elapsed = time.monotonic() - t0
        time.sleep(10)
        sampler.stopping = True
        sampler.join()
        first = sampler.at(60)
        end = (time.monotonic() - t0, rss_kib(pid), fds(pid))
        peak = max(s[1] for s in sampler.samples)
        report.update({
            "scale": SCALE, "seconds": round(elapsed), "tenants": TENANTS,
            "texts": 4 * TENANTS, "webhooks": WEBHOOKS,
            "rss_first_minute_mib": round(first[1] / 1024, 1), "rss_end_mib": round(end[1] / 1024, 1),
            "rss_peak_mib": round(peak / 1024, 1),
            "fds_first_minute": first[2], "fds_end": end[2],
        })
        if end[1] > first[1] * 1.10:
            failures.append("RSS grew: %.1f MiB after the first minute, %.1f MiB at the end" % (
                first[1] / 1024, end[1] / 1024))
        if end[2] > first[2]:
            failures.append("file descriptors grew: %d after the first minute, %d at the end" % (
                first[2], end[2]))

        # Texts: each fake accepted exactly its campaigns' texts; each text submitted once.
        for fake, name in ((tw, "twilio"), (hub, "hub")):
            stats = fake.control("GET", "/_fake/stats")
            report[name + "_accepted"] = stats["accepted"]
            report[name + "_refused_with_faults"] = stats["injected"]
            if stats["accepted"] != per_provider:
                failures.append("%s accepted %d texts, not %d" % (name, stats["accepted"], per_provider))
        for cid, (name, provider) in zip(cids, CAMPAIGNS):
            counts = d.api("GET", "/v1/campaigns/%d" % cid, key=key).json["counts"]
            report["campaign_%s" % name] = {k: v for k, v in counts.items() if v}
            if counts["submitted"] != TENANTS or counts["unknown"] or counts["total"] != TENANTS:
                failures.append("campaign %s: %s" % (name, counts))
        ids = pg.query("SELECT count(*), count(DISTINCT provider_msg_id), max(attempts) "
                       "FROM messages WHERE kind = 'campaign'")[0]
        report["campaign_texts_with_provider_ids"] = ids[1]
        if ids[0] != 4 * TENANTS or ids[1] != 4 * TENANTS:
            failures.append("%d campaign texts, %d distinct provider ids" % (ids[0], ids[1]))
        replies = pg.query("SELECT count(*), count(*) FILTER (WHERE attempts <> 1), "
                           "count(*) FILTER (WHERE state NOT IN ('delivered', 'submitted')), "
                           "count(*) FILTER (WHERE state = 'submitted') FROM messages "
                           "WHERE kind = 'reply' AND provider = 'sim'")[0]
        report["sim_replies"] = replies[0]
        report["sim_replies_receipt_refused"] = replies[3]
        if replies[1] or replies[2]:
            failures.append("replies through the simulator: %d of %d not sent once, %d neither "
                            "delivered nor submitted" % (replies[1], replies[0], replies[2]))
        if replies[3] > replies[0] // 100:
            failures.append("%d of %d replies through the simulator without a receipt" % (
                replies[3], replies[0]))
        # Webhooks: every id posted stored once.
        stored = dict(pg.query("SELECT provider, count(*) FROM inbound_messages GROUP BY provider"))
        tw_ids = pg.value("SELECT count(DISTINCT provider_msg_id) FROM inbound_messages "
                          "WHERE provider = 'twilio' AND provider_msg_id LIKE 'SMsoak%%'")
        sim_ids = pg.value("SELECT count(DISTINCT provider_msg_id) FROM inbound_messages "
                           "WHERE provider = 'sim' AND provider_msg_id LIKE 'SIMINsoak-%%'")
        report["webhooks_stored"] = stored
        report["webhooks_posted_again"] = sum(p.again for p in posters)
        if stored.get("twilio") != half or tw_ids != half or stored.get("sim") != half or sim_ids != half:
            failures.append("webhooks stored %s (distinct %d twilio, %d sim), posted %d of each" % (
                stored, tw_ids, sim_ids, half))
        for p in posters:
            failures += ["webhook %d answered %d" % e for e in p.errors[:5]]
        log_text = harness.check_log(d.process.log_path)
        report["released_after_lost_claims"] = log_text.count("released texts claimed")
        report["circuit_breaker_opened"] = log_text.count("closed -> open")
    finally:
        if d.process:
            d.stop()
        tw.stop()
        hub.stop()
        pg.stop()
        if os.environ.get("SOAK_KEEP") != "1":
            shutil.rmtree(root, ignore_errors=True)
        else:
            log("kept %s" % root)

    print("signpost soak, scale %g, %s texts and %s webhooks in %s s" % (
        SCALE, report["texts"], report["webhooks"], report["seconds"]))
    for k, v in report.items():
        print("  %-34s %s" % (k, v))
    print(json.dumps(report))
    if failures:
        print("soak FAILED:\n  " + "\n  ".join(failures))
        return 1
    print("soak passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
