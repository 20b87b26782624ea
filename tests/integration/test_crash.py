"""kill -9 in the middle of a 2,000-tenant campaign: after a restart the campaign
completes, nobody is texted twice, and the texts that were in flight are 'unknown'."""
import collections

from harness import ALL_WEEK, IntegrationCase, Daemon, FakeServer, import_tenants, wait_until
from test_twilio import SID, TOKEN, twilio_config

TENANTS = 2000


class CrashTest(IntegrationCase):
    def setUp(self):
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        config = twilio_config(self.fake)
        config["providers"][0]["timeout_ms"] = 120000
        self.config = config
        self.d = Daemon(self.db, config).start()
        self.key = self.d.key("officer")

    def tearDown(self):
        if self.d.process:
            self.d.stop()
        self.fake.stop()

    def test_kill_9_mid_campaign(self):
        import_tenants(self.d, self.key, TENANTS, "Swale")
        r = self.d.api("POST", "/v1/campaigns", {"name": "Crash", "body": "Hello {first_name}",
                                                 "audience": {"boroughs": ["Swale"]},
                                                 "send_window": ALL_WEEK}, key=self.key)
        cid = r.json["id"]
        self.d.api("POST", "/v1/campaigns/%d/schedule" % cid, key=self.key)
        wait_until(lambda: self.fake.control("GET", "/_fake/stats")["accepted"] >= 300,
                   what="300 texts accepted")
        # From now on the provider holds requests without answering, so some are in
        # flight when the daemon dies.
        self.fake.control("POST", "/_fake/mode", {"mode": "hang"})
        wait_until(lambda: self.fake.control("GET", "/_fake/stats")["hanging"] >= 20,
                   what="requests in flight")
        self.d.kill9()
        in_flight = self.db.value("SELECT count(*) FROM messages WHERE state = 'sending'")
        self.assertGreater(in_flight, 0)
        self.fake.control("POST", "/_fake/mode", {"mode": "ok"})

        self.d = Daemon(self.db, self.config).start()
        key = self.d.key("officer")
        wait_until(lambda: self.d.api("GET", "/v1/campaigns/%d" % cid, key=key).json["state"]
                   == "completed", timeout=120, what="campaign completed after restart")
        counts = self.d.api("GET", "/v1/campaigns/%d" % cid, key=key).json["counts"]
        received = collections.Counter(m["to"] for m in self.fake.control("GET", "/_fake/messages"))
        self.assertEqual(max(received.values()), 1, "a tenant was texted twice")
        self.assertEqual(counts["total"], TENANTS)
        self.assertEqual(counts["unknown"], in_flight, counts)
        self.assertEqual(counts["submitted"] + counts["unknown"], TENANTS, counts)
        # Every submitted text reached the provider; an unknown one may or may not have.
        self.assertGreaterEqual(len(received), counts["submitted"])
        self.assertLessEqual(len(received), counts["submitted"] + counts["unknown"])
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE state = 'unknown' "
                                       "AND error_text LIKE '%%not retried automatically%%'"), in_flight)
