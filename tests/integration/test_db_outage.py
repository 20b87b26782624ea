"""PostgreSQL stops at once (pg_ctl stop -m immediate, as in a crash) in the middle of a
3,000-text campaign and starts again some 20 s later. While it is down /readyz answers 503
within a second, from what the daemon already knows, and a provider's webhook is refused
with a 5xx; after, /readyz answers 200, the webhook sent again is stored once, and every
tenant got the text exactly once (counted at the fake Twilio). The cluster is the test's
own, so stopping it touches no other test."""
import collections
import time
import unittest

from harness import (ALL_WEEK, Cluster, Daemon, Database, FakeServer, drama_number,
                     generated_number, http, import_tenants, post_twilio, wait_until)
from test_twilio import SID, TOKEN, twilio_config

TENANTS = 3000


class DatabaseOutageTest(unittest.TestCase):
    def setUp(self):
        self.cluster = Cluster()
        self.db = Database("outage", pg=self.cluster.conninfo)
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        self.d = Daemon(self.db, twilio_config(self.fake)).start()
        self.key = self.d.key("officer")

    def tearDown(self):
        self.cluster.start()  # whatever happened, the daemon stops against a live database
        self.d.stop()
        self.fake.stop()
        self.db.drop()
        self.cluster.remove()

    def readyz(self):
        """/readyz, which must answer within a second whatever the database does."""
        start = time.monotonic()
        r = http("GET", self.d.base + "/readyz", timeout=1)
        self.assertLess(time.monotonic() - start, 1.0)
        return r

    def webhook(self):
        params = [("MessageSid", "SM" + "d" * 32), ("AccountSid", SID),
                  ("From", drama_number(950)), ("To", "+447700900000"), ("Body", "Hello")]
        return post_twilio(self.d, "/v1/providers/twilio/inbound", params, TOKEN)

    def campaign(self, cid):
        return self.d.api("GET", "/v1/campaigns/%d" % cid, key=self.key).json

    def test_immediate_stop_and_start_mid_campaign(self):
        import_tenants(self.d, self.key, TENANTS, "Ashford")
        r = self.d.api("POST", "/v1/campaigns", {"name": "Outage", "body": "Hello {first_name}",
                                                 "audience": {"boroughs": ["Ashford"]},
                                                 "send_window": ALL_WEEK}, key=self.key)
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.d.api("POST", "/v1/campaigns/%d/schedule" % cid,
                                    key=self.key).status, 200)
        wait_until(lambda: self.fake.control("GET", "/_fake/stats")["accepted"] >= 500,
                   what="500 texts accepted")
        self.assertEqual(self.readyz().status, 200)

        self.cluster.stop("immediate")
        down = time.monotonic()
        r = wait_until(lambda: self.readyz().status == 503, timeout=1, what="/readyz 503")
        self.assertLess(time.monotonic() - down, 1.0)
        r = self.readyz()
        self.assertEqual((r.status, r.json["error"]["code"]), (503, "database_unavailable"), r)
        r = self.webhook()
        self.assertTrue(500 <= r.status < 600, r)
        self.assertEqual(self.readyz().status, 503)

        self.cluster.start()
        self.db.disconnect()
        wait_until(lambda: self.readyz().status == 200, timeout=60, what="/readyz 200 again")
        for _ in range(2):  # a provider may send it more than once: stored once all the same
            r = self.webhook()
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                       "provider_msg_id = %s", "SM" + "d" * 32), 1)

        wait_until(lambda: self.campaign(cid)["state"] == "completed", timeout=240,
                   what="campaign completed")
        counts = self.campaign(cid)["counts"]
        tenants = set(generated_number(i) for i in range(TENANTS))
        texted = collections.Counter(m["to"] for m in self.fake.control("GET", "/_fake/messages")
                                     if m["to"] in tenants)
        self.assertEqual(len(texted), TENANTS, "a tenant was never texted")
        self.assertEqual(max(texted.values()), 1, "a tenant was texted twice")
        self.assertEqual((counts["total"], counts["submitted"], counts["unknown"]),
                         (TENANTS, TENANTS, 0), counts)


if __name__ == "__main__":
    unittest.main()
