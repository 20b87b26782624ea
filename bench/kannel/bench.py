#!/usr/bin/env python3
"""bench.py: small helpers of bench/kannel.sh, each a subcommand.

  ports N                    prints N free TCP ports on 127.0.0.1, one a line
  ready URL REGEX SECONDS PID...
                             waits until GET URL answers a body matching REGEX; fails
                             when SECONDS pass or a PID is gone
  run DIR THREADS FAKE_PORT TARGET SECONDS WRK_COMMAND...
                             starts wrk (its output in DIR/wrk.out and DIR/wrk.err),
                             waits until its THREADS threads have left DIR/done.<id>
                             and the fake's "accepted" count reaches TARGET, then stops
                             wrk with SIGINT (so that its done() runs); prints
                             "threads_s=... fake_s=...", seconds since wrk started.
                             Fails when SECONDS pass, when the count makes no progress
                             for 30 s after wrk's threads are done, or when wrk exits
                             early; stops wrk in any case.
"""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

STALL_S = 30


def die(msg):
    print("kannel bench: " + msg, file=sys.stderr)
    sys.exit(1)


def ports(n):
    socks = []
    for _ in range(int(n)):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    for s in socks:
        print(s.getsockname()[1])
    for s in socks:
        s.close()


def alive(pid):
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    # A zombie has exited too.
    try:
        with open("/proc/%d/stat" % int(pid)) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def ready(url, regex, seconds, *pids):
    deadline = time.monotonic() + float(seconds)
    body = ""
    while time.monotonic() < deadline:
        for pid in pids:
            if not alive(pid):
                die("process %s exited while waiting for %s" % (pid, url))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                body = r.read().decode(errors="replace")
        except Exception as e:  # not listening yet, or an error status
            body = str(e)
        if re.search(regex, body):
            return
        time.sleep(0.1)
    die("%s did not answer /%s/ within %s s; last answer: %s" % (url, regex, seconds,
                                                                  body[:500]))


class Fake:
    """Reads the fake's counters over one keep-alive connection."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)

    def stats(self):
        self.conn.request("GET", "/_fake/stats")
        return json.loads(self.conn.getresponse().read())


def wait(start_ns, folder, threads, fake, target, seconds, wrk):
    """Returns the times (ns since start_ns) when wrk's threads were done and when the
    fake had target texts."""
    deadline = time.monotonic() + seconds
    markers = [os.path.join(folder, "done.%d" % i) for i in range(threads)]
    threads_ns = fake_ns = None
    last, last_change, polls = -1, time.monotonic(), 0
    while threads_ns is None or fake_ns is None:
        now = time.monotonic()
        if threads_ns is None and all(os.path.exists(m) for m in markers):
            threads_ns = time.time_ns()
        if threads_ns is None and wrk.poll() is not None:
            die("wrk exited (%d) before sending every text" % wrk.returncode)
        if fake_ns is None and polls % 4 == 0:
            accepted = fake.stats()["accepted"]
            if accepted >= target:
                fake_ns = time.time_ns()
            elif accepted != last:
                last, last_change = accepted, now
            elif threads_ns is not None and now - last_change > STALL_S:
                die("the fake has had %d of %d texts for %d s" % (accepted, target, STALL_S))
        if now > deadline:
            die("not done within %s s: wrk threads %s, the fake has %d of %d texts" %
                (seconds, "done" if threads_ns else "still sending", last, target))
        polls += 1
        time.sleep(0.005)
    return threads_ns - start_ns, fake_ns - start_ns


def run(folder, threads, fake_port, target, seconds, *command):
    fake = Fake(fake_port)
    fake.stats()  # connected before the clock starts
    wrk = None

    def stop(signum, frame):
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with open(os.path.join(folder, "wrk.out"), "w") as out, \
                open(os.path.join(folder, "wrk.err"), "w") as err:
            start_ns = time.time_ns()
            wrk = subprocess.Popen(command, stdout=out, stderr=err)
        threads_ns, fake_ns = wait(start_ns, folder, int(threads), fake, int(target),
                                   float(seconds), wrk)
        # Every thread has stopped; SIGINT ends wrk's wait for its duration.
        wrk.send_signal(signal.SIGINT)
        if wrk.wait(timeout=30) != 0:
            die("wrk exited with %d" % wrk.returncode)
    finally:
        if wrk is not None and wrk.poll() is None:
            wrk.kill()
            wrk.wait()
    print("threads_s=%.4f fake_s=%.4f" % (threads_ns / 1e9, fake_ns / 1e9))


def main():
    cmds = {"ports": (ports, 1), "ready": (ready, 4), "run": (run, 6)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) - 2 < cmds[sys.argv[1]][1]:
        die(__doc__)
    fn, _ = cmds[sys.argv[1]]
    fn(*sys.argv[2:])


if __name__ == "__main__":
    main()
