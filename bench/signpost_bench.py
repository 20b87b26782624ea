"""make bench: signpostd's throughput, CPU and memory against its own PostgreSQL and the
fake Twilio server on 127.0.0.1, beside Kannel's figures from bench/kannel.sh.

Every figure is the median of BENCH_RUNS runs (default 3) with the smallest and largest.
The table goes to stdout, progress to stderr; the exit status is 1 when a count check
failed (a webhook lost or stored twice, a tenant texted twice). Settings, all optional:

  BENCH_QUICK=1         BENCH_SCALE=0.02 and 3-second wrk runs: a one-minute smoke test
  BENCH_SCALE=f         multiplies every size (200,000 outbound, 1,000,000 expansion,
                        BENCH_TWO_TEXTS=100000 for two daemons, BENCH_KANNEL_TEXTS=60000)
  BENCH_RUNS=n          runs per figure
  BENCH_WRK_SECONDS=s   length of each wrk run (10)
  BENCH_ONLY=a,b        only some parts: outbound, inbound, receipts, expansion, two, kannel
  BENCH_DB_POOL=n       the daemon's db_pool_size (4, its default)
  BENCH_MAX_IN_FLIGHT=n the provider's max_in_flight (256)
  BENCH_STATEMENTS=1    pg_stat_statements: PostgreSQL's busiest statements per part

Reuses tests/integration/harness.py for PostgreSQL databases, daemons, keys and fakes.
"""
import datetime
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BENCH = os.path.join(ROOT, "bench")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
os.environ.setdefault("BUILD", "build/opt")
import harness  # noqa: E402
import psycopg2  # noqa: E402
from harness import ALL_WEEK, Daemon, Database, FakeServer, http, generated_number  # noqa: E402

harness.SIGNPOSTD = os.path.join(harness.BUILD, "signpostd")

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "bench-auth-token-not-a-secret"
SENDER = "+447700900000"
BODY = "Hi {first_name|there}, free help getting online in Thanet. Reply SKILLS, or STOP to opt out."

QUICK = os.environ.get("BENCH_QUICK") == "1"
SCALE = float(os.environ.get("BENCH_SCALE", "0.02" if QUICK else "1"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "3" if QUICK else "10"))
WRK_CONNECTIONS = 64
WRK_THREADS = 2
OUTBOUND_N = max(100, int(200000 * SCALE))
TWO_N = max(100, int(int(os.environ.get("BENCH_TWO_TEXTS", "100000")) * SCALE))
EXPAND_N = max(OUTBOUND_N, TWO_N, int(1000000 * SCALE))
KANNEL_N = max(200, int(int(os.environ.get("BENCH_KANNEL_TEXTS", "60000")) * SCALE))
KANNEL_TIMEOUT = 300
CAMPAIGN_TIMEOUT = 900
DB_POOL = int(os.environ.get("BENCH_DB_POOL", "4"))
MAX_IN_FLIGHT = int(os.environ.get("BENCH_MAX_IN_FLIGHT", "256"))
# BENCH_ONLY=outbound,inbound,... runs only those parts (for trying one thing quickly).
# BENCH_STATEMENTS=1 loads pg_stat_statements and prints the busiest statements of each
# part (this changes PostgreSQL's settings: not for the figures in the README).
STATEMENTS = os.environ.get("BENCH_STATEMENTS") == "1"
ONLY = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))

# Every table the runs write to; tenants, keys and daemons stay.
RUN_TABLES = ("messages, receipts, inbound_messages, inbound_parts, help_requests, "
              "conversations, partner_outbox, opt_outs, campaigns")

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def say(fmt, *args):
    sys.stderr.write("bench: " + (fmt % args if args else fmt) + "\n")
    sys.stderr.flush()


# ---- /proc ----

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """(ppid, utime+stime, cutime+cstime) in microseconds, or None when pid is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    tick = 1e6 / CLK_TCK
    return (int(fields[1]), (int(fields[11]) + int(fields[12])) * tick,
            (int(fields[13]) + int(fields[14])) * tick)


def cpu_us(pid):
    st = proc_stat(pid)
    return st[1] if st else 0.0


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def pg_cpu_us(postmaster):
    """CPU of the whole cluster: the postmaster, its reaped children and the live ones."""
    st = proc_stat(postmaster)
    total = st[1] + st[2]
    for name in os.listdir("/proc"):
        if name.isdigit():
            child = proc_stat(int(name))
            if child and child[0] == postmaster:
                total += child[1] + child[2]
    return total


# ---- set-up ----

class Bench:
    def __init__(self, tmp):
        self.tmp = tmp
        harness.TMP = tmp
        pg_dir = os.path.join(tmp, "pg")
        self.pg_dir = pg_dir
        conninfo = self.pg("start")
        if STATEMENTS:
            admin = psycopg2.connect(conninfo)
            admin.autocommit = True
            admin.cursor().execute("ALTER SYSTEM SET shared_preload_libraries = "
                                   "'pg_stat_statements'")
            admin.close()
            self.pg("stop")
            conninfo = self.pg("start")
        harness.PG = conninfo
        with open(os.path.join(pg_dir, "data", "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        self.db = Database("bench")
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN,
                                          "--max-messages", str(2 * max(OUTBOUND_N, TWO_N))])
        self.daemons = []

    def pg(self, what):
        return subprocess.run(["scripts/pg.sh", what, self.pg_dir], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout.strip()

    def statements(self, part):
        """With BENCH_STATEMENTS=1: the statements that took PostgreSQL longest in part."""
        if not STATEMENTS:
            return
        rows = self.db.query(
            "SELECT round(total_exec_time), calls, round((total_exec_time / calls)::numeric, 3), "
            "regexp_replace(left(query, 160), '\\s+', ' ', 'g') FROM pg_stat_statements "
            "ORDER BY total_exec_time DESC LIMIT 8")
        say("%s: PostgreSQL's busiest statements (total ms, calls, ms per call, query):", part)
        for r in rows:
            say("  %8s %8s %8s  %s", *r)
        self.db.query("SELECT pg_stat_statements_reset()")

    def config(self):
        return {"providers": [{
            "name": "twilio", "type": "twilio", "base_url": self.fake.base,
            "account_sid": SID, "auth_token": TOKEN, "from": SENDER,
            "segments_per_second": 100000, "max_in_flight": MAX_IN_FLIGHT}],
            "default_provider": "twilio", "org_name": "Kent Digital Help",
            "db_pool_size": DB_POOL}

    def daemon(self):
        d = Daemon(self.db, self.config(), extra_env={"SIGNPOST_LOG_LEVEL": "info"})
        d.start()
        self.daemons.append(d)
        return d

    def stop_daemons(self):
        for d in self.daemons:
            d.stop()
        self.daemons = []

    def setup(self):
        d = Daemon(self.db, self.config())
        d.run("migrate")
        self.key = d.key("officer")
        say("loading %d tenants (%d in Thanet, %d with landlord Golding)", EXPAND_N,
            OUTBOUND_N, TWO_N)
        cur = self.db.conn().cursor()
        step = 100000
        for first in range(0, EXPAND_N, step):
            buf = io.StringIO()
            for i in range(first, min(EXPAND_N, first + step)):
                buf.write("B-%d\tName%d\t%s\t%s\t%s\n" % (
                    i, i, generated_number(i), "Thanet" if i < OUTBOUND_N else "Maidstone",
                    "Golding" if i < TWO_N else "Orbit"))
            buf.seek(0)
            cur.copy_expert("COPY tenants (external_ref, first_name, phone, borough, landlord) "
                            "FROM STDIN", buf)
        cur.execute("VACUUM ANALYZE tenants")
        if STATEMENTS:
            cur.execute("CREATE EXTENSION pg_stat_statements")

    def clean(self):
        self.db.query("TRUNCATE %s CASCADE" % RUN_TABLES)
        self.fake.control("POST", "/_fake/reset", {})

    def api(self, d, method, path, body=None, timeout=600):
        h = {"Authorization": "Bearer " + self.key}
        if body is not None:
            h["Content-Type"] = "application/json"
        r = http(method, d.base + path, body, h, timeout=timeout)
        if not 200 <= r.status < 300:
            raise AssertionError("%s %s: %r" % (method, path, r))
        return r.json

    def campaign(self, d, name, audience, window):
        return self.api(d, "POST", "/v1/campaigns", {
            "name": name, "body": BODY, "audience": audience, "send_window": window})["id"]

    def wal(self):
        return int(self.db.value("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))

    def db_now(self):
        return self.db.value("SELECT clock_timestamp()")

    def wait_state(self, cid, want, timeout=CAMPAIGN_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.db.value("SELECT state FROM campaigns WHERE id = %s", cid) == want:
                return
            for d in self.daemons:
                d.ready()
            time.sleep(0.2)
        raise AssertionError("campaign %d not %s after %ds" % (cid, want, timeout))

    def settled(self, sql, *args):
        """The value of sql once it stops changing: webhooks in flight when wrk stopped
        are still committed after it returns."""
        last = self.db.query(sql, *args)[0]
        while True:
            time.sleep(0.5)
            now = self.db.query(sql, *args)[0]
            if now == last:
                return now
            last = now

    def stop(self):
        self.stop_daemons()
        self.fake.stop()
        self.db.drop()
        self.pg("stop")


def send_window_closed():
    """Open only on the day after tomorrow (Europe/London): expansion runs, sending waits."""
    import zoneinfo
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Europe/London")).weekday()
    return {"days": [DAYS[(today + 2) % 7]], "start": "00:00", "end": "24:00",
            "skip_holidays": False}


def window_open():
    return dict(ALL_WEEK, skip_holidays=False)


# ---- the figures ----

class Figures:
    def __init__(self):
        self.values = {}
        self.problems = []
        self.notes = []

    def add(self, name, value):
        self.values.setdefault(name, []).append(value)

    def problem(self, text):
        say("PROBLEM: %s", text)
        self.problems.append(text)

    def note(self, text):
        """Worth printing under the table, but not a failure of signpostd."""
        say("note: %s", text)
        self.notes.append(text)

    def median(self, name):
        v = self.values.get(name)
        return statistics.median(v) if v else None


def outbound_runs(b, fig):
    for run in range(RUNS):
        b.clean()
        d = b.daemon()
        pid = d.process.proc.pid
        cid = b.campaign(d, "Outbound %d" % run, {"boroughs": ["Thanet"]}, window_open())
        fake = b.fake.process.proc.pid
        cpu0, pg0, fake0 = cpu_us(pid), pg_cpu_us(b.postmaster), cpu_us(fake)
        wal0, t0 = b.wal(), b.db_now()
        b.api(d, "POST", "/v1/campaigns/%d/schedule" % cid, {})
        b.wait_state(cid, "completed")
        cpu1, pg1, fake1 = cpu_us(pid), pg_cpu_us(b.postmaster), cpu_us(fake)
        wal1 = b.wal()
        n, secs = b.db.query(
            "SELECT count(*), extract(epoch FROM max(submitted_at) - %s) FROM messages "
            "WHERE campaign_id = %s AND state = 'submitted'", t0, cid)[0]
        accepted = b.fake.control("GET", "/_fake/stats")["accepted"]
        if n != OUTBOUND_N or accepted != OUTBOUND_N:
            fig.problem("outbound run %d: %d submitted in PostgreSQL, %d accepted by the fake, "
                        "%d expected" % (run, n, accepted, OUTBOUND_N))
        hwm = proc_status_kib(pid, "VmHWM") / 1024
        rate = n / float(secs)
        fig.add("out_rate", rate)
        fig.add("out_cpu", (cpu1 - cpu0) / n)
        fig.add("out_rss", hwm)
        fig.add("out_pg_cpu", (pg1 - pg0) / n)
        fig.add("out_fake_cpu", (fake1 - fake0) / n)
        fig.add("out_wal", (wal1 - wal0) / float(n))
        say("outbound run %d: %d texts in %.2f s = %.0f/s, %.1f us CPU/text, PostgreSQL "
            "%.1f us/text, peak RSS %.1f MiB", run, n, secs, rate, (cpu1 - cpu0) / n,
            (pg1 - pg0) / n, hwm)
        b.stop_daemons()


def expansion_runs(b, fig):
    for run in range(RUNS):
        b.clean()
        d = b.daemon()
        pid = d.process.proc.pid
        rss0 = proc_status_kib(pid, "VmRSS") / 1024
        cid = b.campaign(d, "Everyone %d" % run, {"all": True}, send_window_closed())
        t = time.monotonic()
        pv = b.api(d, "POST", "/v1/campaigns/%d/preview" % cid, {})
        preview_s = time.monotonic() - t
        if pv["recipients"] != EXPAND_N:
            fig.problem("preview run %d: %s recipients, %d expected" % (
                run, pv["recipients"], EXPAND_N))
        wal0, t0 = b.wal(), b.db_now()
        b.api(d, "POST", "/v1/campaigns/%d/schedule" % cid, {})
        deadline = time.monotonic() + CAMPAIGN_TIMEOUT
        while b.db.value("SELECT expanded_at FROM campaigns WHERE id = %s", cid) is None:
            d.ready()
            if time.monotonic() > deadline:
                raise AssertionError("campaign %d not expanded" % cid)
            time.sleep(0.1)
        secs = b.db.value("SELECT extract(epoch FROM expanded_at - %s) FROM campaigns "
                          "WHERE id = %s", t0, cid)
        wal = (b.wal() - wal0) / 1048576.0
        n = b.db.value("SELECT count(*) FROM messages WHERE campaign_id = %s", cid)
        if n != EXPAND_N:
            fig.problem("expansion run %d: %d messages, %d expected" % (run, n, EXPAND_N))
        hwm = proc_status_kib(pid, "VmHWM") / 1024
        fig.add("exp_s", float(secs))
        fig.add("prev_s", preview_s)
        fig.add("exp_rss", hwm)
        fig.add("exp_rss0", rss0)
        fig.add("exp_wal", wal)
        say("expansion run %d: %d texts queued in %.2f s (%.0f MiB of WAL), preview %.2f s, "
            "RSS %.1f MiB at start, peak %.1f MiB", run, n, secs, wal, preview_s, rss0, hwm)
        b.stop_daemons()


def two_daemon_runs(b, fig):
    for run in range(RUNS):
        b.clean()
        d1, d2 = b.daemon(), b.daemon()
        pids = [d.process.proc.pid for d in (d1, d2)]
        cid = b.campaign(d1, "Two daemons %d" % run, {"landlords": ["Golding"]}, window_open())
        cpu0 = [cpu_us(p) for p in pids]
        t0 = b.db_now()
        b.api(d1, "POST", "/v1/campaigns/%d/schedule" % cid, {})
        b.wait_state(cid, "completed")
        n, secs = b.db.query(
            "SELECT count(*), extract(epoch FROM max(submitted_at) - %s) FROM messages "
            "WHERE campaign_id = %s AND state = 'submitted'", t0, cid)[0]
        tenants, dup_pg = b.db.query(
            "SELECT count(DISTINCT tenant_id), count(*) - count(DISTINCT tenant_id) "
            "FROM messages WHERE campaign_id = %s", cid)[0]
        split = ", ".join("%.1f s" % ((cpu_us(p) - c) / 1e6) for p, c in zip(pids, cpu0))
        sent = b.fake.control("GET", "/_fake/messages")
        to = [m["to"] for m in sent]
        dup_fake = len(to) - len(set(to))
        fig.add("two_rate", n / float(secs))
        fig.add("two_dup", dup_fake + dup_pg)
        if dup_fake or dup_pg or n != TWO_N or len(to) != TWO_N or tenants != TWO_N:
            fig.problem("two daemons run %d: %d submitted, %d tenants, %d texts at the fake, "
                        "%d numbers texted twice at the fake, %d tenants twice in PostgreSQL "
                        "(expected %d each, no duplicates)" % (
                            run, n, tenants, len(to), dup_fake, dup_pg, TWO_N))
        say("two daemons run %d: %d texts in %.2f s = %.0f/s, %d duplicates, CPU %s",
            run, n, secs, n / float(secs), dup_fake + dup_pg, split)
        b.stop_daemons()


def wrk(d, kind, extra_env):
    env = dict(os.environ, BENCH_DIR=BENCH, BENCH_KIND=kind, BENCH_PUBLIC=d.public_url,
               BENCH_TOKEN=TOKEN, BENCH_ACCOUNT=SID, BENCH_THREADS=str(WRK_THREADS))
    env.update(extra_env)
    r = subprocess.run(["wrk", "-t%d" % WRK_THREADS, "-c%d" % WRK_CONNECTIONS,
                        "-d%ds" % WRK_SECONDS, "--latency", "-s",
                        os.path.join(BENCH, "wrk_twilio.lua"), d.base + "/"],
                       env=env, capture_output=True, text=True, timeout=WRK_SECONDS + 120)
    for line in r.stdout.splitlines():
        if line.startswith("bench-result "):
            return json.loads(line.split(" ", 1)[1])
    raise AssertionError("wrk %s failed (%d): %s %s" % (kind, r.returncode, r.stdout, r.stderr))


def wrk_rate(res):
    return res["requests"] / (res["duration_us"] / 1e6)


def inbound_runs(b, fig):
    d = b.daemon()
    for run in range(RUNS):
        tag = "%08x" % random.getrandbits(32)
        cpu0, pg0 = cpu_us(d.process.proc.pid), pg_cpu_us(b.postmaster)
        res = wrk(d, "inbound", {"BENCH_RUN": tag, "BENCH_TENANTS": str(OUTBOUND_N)})
        cpu1, pg1 = cpu_us(d.process.proc.pid), pg_cpu_us(b.postmaster)
        rows, distinct = b.settled(
            "SELECT count(*), count(DISTINCT provider_msg_id) FROM inbound_messages "
            "WHERE provider = 'twilio' AND provider_msg_id LIKE %s", "SM" + tag + "%")
        fig.add("in_rate", wrk_rate(res))
        fig.add("in_cpu", (cpu1 - cpu0) / max(1, res["sent"]))
        fig.add("in_pg_cpu", (pg1 - pg0) / max(1, res["sent"]))
        fig.add("in_p50", res["p50_us"] / 1000.0)
        fig.add("in_p99", res["p99_us"] / 1000.0)
        ok = rows >= res["ok"] and rows <= res["sent"] and rows == distinct
        fig.add("in_check", 0 if ok and not res["not_ok"] else 1)
        if not ok:
            fig.problem("INBOUND COUNT MISMATCH run %d: %d webhooks accepted (2xx), %d sent, "
                        "%d rows in PostgreSQL (%d distinct MessageSids)" % (
                            run, res["ok"], res["sent"], rows, distinct))
        if res["not_ok"]:
            fig.problem("inbound run %d: %d answers not 2xx, first: %s" % (
                run, res["not_ok"], res["first_not_ok"]))
        say("inbound run %d: %.0f/s p50 %.2f ms p99 %.2f ms, %d accepted, %d sent, %d rows",
            run, wrk_rate(res), res["p50_us"] / 1000.0, res["p99_us"] / 1000.0, res["ok"],
            res["sent"], rows)
    b.stop_daemons()


def receipt_runs(b, fig):
    path = os.path.join(b.tmp, "receipts.txt")
    rows = b.db.query("SELECT id, provider_msg_id, to_phone FROM messages "
                      "WHERE provider_msg_id IS NOT NULL ORDER BY id")
    if not rows:
        fig.note("receipts need the texts of the outbound part: run it too")
        return
    with open(path, "w") as f:
        for r in rows:
            f.write("%d %s %s\n" % r)
    share = len(rows) // RUNS
    d = b.daemon()
    for run in range(RUNS):
        before = b.settled("SELECT count(*) FROM receipts")[0]
        cpu0, pg0 = cpu_us(d.process.proc.pid), pg_cpu_us(b.postmaster)
        res = wrk(d, "status", {"BENCH_FILE": path, "BENCH_FIRST": str(run * share),
                                "BENCH_COUNT": str(share)})
        cpu1, pg1 = cpu_us(d.process.proc.pid), pg_cpu_us(b.postmaster)
        fig.add("rc_cpu", (cpu1 - cpu0) / max(1, res["sent"]))
        fig.add("rc_pg_cpu", (pg1 - pg0) / max(1, res["sent"]))
        added = b.settled("SELECT count(*) FROM receipts")[0] - before
        fig.add("rc_rate", wrk_rate(res))
        fig.add("rc_p99", res["p99_us"] / 1000.0)
        if res["not_ok"]:
            fig.problem("receipts run %d: %d answers not 2xx, first: %s" % (
                run, res["not_ok"], res["first_not_ok"]))
        if not res["wrapped"] and not res["ok"] <= added <= res["sent"]:
            fig.problem("RECEIPT COUNT MISMATCH run %d: %d accepted, %d sent, %d new rows" % (
                run, res["ok"], res["sent"], added))
        say("receipts run %d: %.0f/s p99 %.2f ms, %d accepted, %d new rows%s", run,
            wrk_rate(res), res["p99_us"] / 1000.0, res["ok"], added,
            " (messages reused: receipts repeated)" if res["wrapped"] else "")
    b.stop_daemons()


def kannel_runs(fig):
    script = os.path.join(BENCH, "kannel.sh")
    if not os.path.isfile(script):
        fig.note("bench/kannel.sh is not there: Kannel figures are n/a")
        return
    argv = [script] if os.access(script, os.X_OK) else ["bash", script]
    for mode in ("memory", "spool"):
        for run in range(RUNS):
            env = dict(os.environ, BUILD=os.environ["BUILD"])
            p = subprocess.Popen(argv + [mode, str(KANNEL_N)], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                out, err = p.communicate(timeout=KANNEL_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.terminate()  # SIGTERM, so the script stops what it started
                p.communicate(timeout=30)
                fig.note("kannel.sh %s timed out after %ds" % (mode, KANNEL_TIMEOUT))
                break
            r = subprocess.CompletedProcess(p.args, p.returncode, out, err)
            lines = [x for x in r.stdout.splitlines() if x.startswith("{")]
            if r.returncode != 0 or not lines:
                fig.note("kannel.sh %s failed (%d): %s" % (
                    mode, r.returncode, (r.stderr or r.stdout)[-500:]))
                break
            res = json.loads(lines[-1])
            for k in ("outbound_per_s", "inbound_per_s", "inbound_p50_ms", "inbound_p99_ms"):
                fig.add("k_%s_%s" % (mode, k), float(res[k]))
            say("kannel %s run %d: %s", mode, run, lines[-1])


# ---- the table ----

def fmt(v, digits):
    if v is None:
        return "n/a"
    return "{:,.{d}f}".format(v, d=digits)


def table(fig):
    out = []
    k = fig.median
    rows = [
        ("outbound texts/s, %s tenants" % fmt(OUTBOUND_N, 0), "out_rate", 0,
         lambda v: v >= 15000, ">= 15,000"),
        ("signpostd CPU us per outbound text", "out_cpu", 1, lambda v: v <= 60, "<= 60"),
        ("signpostd peak RSS MiB, %s campaign" % fmt(OUTBOUND_N, 0), "out_rss", 1,
         lambda v: v <= 32, "<= 32"),
        ("PostgreSQL CPU us per outbound text", "out_pg_cpu", 1, None, ""),
        ("fake Twilio CPU us per outbound text", "out_fake_cpu", 1, None, ""),
        ("PostgreSQL WAL bytes per outbound text", "out_wal", 0, None, ""),
        ("expansion s, %s tenants" % fmt(EXPAND_N, 0), "exp_s", 2, lambda v: v <= 5, "<= 5"),
        ("preview s, %s tenants" % fmt(EXPAND_N, 0), "prev_s", 2, None, ""),
        ("PostgreSQL WAL MiB written by expansion", "exp_wal", 0, None, ""),
        ("signpostd RSS MiB before expansion", "exp_rss0", 1, None, ""),
        ("signpostd peak RSS MiB, %s expansion" % fmt(EXPAND_N, 0), "exp_rss", 1,
         lambda v: v <= 32, "<= 32"),
        ("inbound webhooks/s, %d connections" % WRK_CONNECTIONS, "in_rate", 0,
         lambda v: v >= 8000, ">= 8,000"),
        ("inbound p50 latency ms", "in_p50", 2, None, ""),
        ("inbound p99 latency ms", "in_p99", 2, lambda v: v <= 25, "<= 25"),
        ("inbound runs failing the count check", "in_check", 0, lambda v: v == 0, "0"),
        ("signpostd CPU us per inbound webhook", "in_cpu", 1, None, ""),
        ("PostgreSQL CPU us per inbound webhook", "in_pg_cpu", 1, None, ""),
        ("delivery receipts/s", "rc_rate", 0, None, ""),
        ("delivery receipt p99 latency ms", "rc_p99", 2, None, ""),
        ("signpostd CPU us per receipt", "rc_cpu", 1, None, ""),
        ("PostgreSQL CPU us per receipt", "rc_pg_cpu", 1, None, ""),
        ("two daemons: texts/s, %s tenants" % fmt(TWO_N, 0), "two_rate", 0, None, ""),
        ("two daemons: tenants texted twice", "two_dup", 0, lambda v: v == 0, "0"),
    ]
    for mode in ("memory", "spool"):
        rows += [
            ("Kannel %s: outbound texts/s" % mode, "k_%s_outbound_per_s" % mode, 0, None, ""),
            ("Kannel %s: inbound texts/s" % mode, "k_%s_inbound_per_s" % mode, 0, None, ""),
            ("Kannel %s: inbound p50 ms" % mode, "k_%s_inbound_p50_ms" % mode, 2, None, ""),
            ("Kannel %s: inbound p99 ms" % mode, "k_%s_inbound_p99_ms" % mode, 2, None, ""),
        ]
    head = "%-44s %12s %12s %12s  %s" % ("figure (median of %d runs)" % RUNS, "median", "min",
                                         "max", "target")
    out += [head, "-" * len(head)]
    for label, key, digits, test, target in rows:
        v = fig.values.get(key)
        verdict = ""
        if test:
            verdict = "%s: %s" % (target, "n/a" if not v else
                                  "met" if test(k(key)) else "not met")
        out.append("%-44s %12s %12s %12s  %s" % (
            label, fmt(k(key), digits), fmt(min(v) if v else None, digits),
            fmt(max(v) if v else None, digits), verdict))

    def ratio(label, ours, theirs, need):
        a, b = k(ours), k(theirs)
        r = a / b if a is not None and b else None
        verdict = ">= %gx: %s" % (need, "n/a" if r is None else "met" if r >= need
                                  else "not met") if need else ""
        out.append("%-44s %12s %12s %12s  %s" % (label, fmt(r, 2) + ("x" if r else ""),
                                                 "", "", verdict))
    ratio("outbound / Kannel spool", "out_rate", "k_spool_outbound_per_s", 2)
    ratio("outbound / Kannel memory", "out_rate", "k_memory_outbound_per_s", 1)
    ratio("inbound / Kannel spool", "in_rate", "k_spool_inbound_per_s", 2)
    ratio("inbound / Kannel memory", "in_rate", "k_memory_inbound_per_s", None)
    return out


def sign_check(tmp):
    """The Lua signer against Twilio's published vectors and Python's hmac on random cases."""
    cases = [
        ("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
         [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
          ("From", "+14158675309"), ("To", "+18005551212")], "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2",
         [("CallSid", "CA1234567890ABCDE"), ("Caller", "+14158675309"), ("Digits", "1234"),
          ("From", "+14158675309"), ("To", "+18005551212")], "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("12345", "https://example.com/twilio/status",
         [("AccountSid", "AC" + "0" * 32), ("From", "+447700900123"),
          ("MessageSid", "SM" + "0" * 32), ("MessageStatus", "delivered"),
          ("To", "+447700900456")], "qUqb8upSKdTUMIFT3E9EFFa7z6s="),
    ]
    rnd = random.Random(7)
    alphabet = "abcXYZ019 +&=%/?~_.-!'()*,;:@\u00e9"
    for i in range(40):
        token = "".join(rnd.choice("0123456789abcdef") for _ in range(rnd.choice([5, 32, 64, 65, 100])))
        url = "http://127.0.0.1:%d/v1/providers/twilio/status?ref=%d" % (rnd.randint(1, 65535), i)
        fields = [("F%02d" % rnd.randint(0, 99), "".join(rnd.choice(alphabet) for _ in range(
            rnd.randint(1, 40 * (i % 5) + 1)))) for _ in range(rnd.randint(1, 9))]
        cases.append((token, url, fields, harness.twilio_signature(token, url, fields)))
    path = os.path.join(tmp, "sign-cases.txt")
    with open(path, "w", encoding="utf-8") as f:
        for token, url, fields, _ in cases:
            f.write("\t".join([token, url] + ["%s=%s" % kv for kv in fields]) + "\n")
    env = dict(os.environ, BENCH_DIR=BENCH, BENCH_KIND="check", BENCH_FILE=path)
    r = subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", os.path.join(BENCH, "wrk_twilio.lua"),
                        "http://127.0.0.1:9/"], env=env, capture_output=True, timeout=60)
    got = r.stdout.decode("utf-8").splitlines()
    import urllib.parse
    bad = 0
    for (token, url, fields, want), line in zip(cases, got + [""] * len(cases)):
        sig, _, body = line.partition("\t")
        if sig != want or body != urllib.parse.urlencode(fields):
            bad += 1
            say("signer mismatch: %r %r %r: got %r, want %r", token, url, fields, line, want)
    if bad or len(got) != len(cases):
        raise SystemExit("bench: the Lua Twilio signer is wrong (%d of %d cases)" % (
            bad, len(cases)))
    say("Lua Twilio signer agrees with Twilio's vectors and Python's hmac on %d cases", len(cases))


def main():
    started = datetime.datetime.now(datetime.timezone.utc)
    tmp = tempfile.mkdtemp(prefix="signpost-bench.")
    os.chmod(tmp, 0o755)
    try:
        sign_check(tmp)
    except SystemExit:
        subprocess.run(["rm", "-rf", tmp])
        raise
    fig = Figures()
    b = Bench(tmp)
    ok = False
    try:
        b.setup()
        for name, what, fn in (
                ("outbound", "%d runs of %d texts" % (RUNS, OUTBOUND_N), outbound_runs),
                ("inbound", "%d runs of %d s" % (RUNS, WRK_SECONDS), inbound_runs),
                ("receipts", "%d runs of %d s" % (RUNS, WRK_SECONDS), receipt_runs),
                ("expansion", "%d runs of %d tenants" % (RUNS, EXPAND_N), expansion_runs),
                ("two", "%d runs of %d texts" % (RUNS, TWO_N), two_daemon_runs)):
            if not ONLY or name in ONLY:
                say("%s: %s", name, what)
                fn(b, fig)
                b.statements(name)
        ok = True
    finally:
        b.stop()
        if not ok:
            say("stopped early; the logs are in %s", tmp)
    if not ONLY or "kannel" in ONLY:
        say("Kannel: %d runs of %d texts in each mode", RUNS, KANNEL_N)
        kannel_runs(fig)
    took = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    print("signpost bench, %s, scale %g, %d CPUs, took %.0f s" % (
        started.strftime("%Y-%m-%d %H:%M UTC"), SCALE, os.cpu_count(), took))
    print("inbound mix: SKILLS 35%%, MONEY 15%%, JOBS 10%%, STOP 10%%, START 10%%, HELP 10%%, "
          "other text 10%%; wrk: %d threads, %d connections, %d s a run" % (
              WRK_THREADS, WRK_CONNECTIONS, WRK_SECONDS))
    for line in table(fig):
        print(line.rstrip())
    for n in fig.notes:
        print("note: " + n)
    for p in fig.problems:
        print("PROBLEM: " + p)
    if fig.problems:
        print("the logs are in " + tmp)
        return 1
    subprocess.run(["rm", "-rf", tmp])
    return 0


if __name__ == "__main__":
    sys.exit(main())
