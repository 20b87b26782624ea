"""The whole story through the Twilio adapter: tenants, a campaign, texts to a fake
Twilio on 127.0.0.1, status callbacks, and a tenant's reply becoming a help request."""
import unittest
import urllib.parse

from harness import (ALL_WEEK, IntegrationCase, Daemon, Database, FakeServer, drama_number,
                     http, post_twilio, twilio_signature, wait_until)

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token-not-a-secret"


def twilio_config(fake):
    return {"providers": [
        {"name": "twilio", "type": "twilio", "base_url": fake.base, "account_sid": SID,
         "auth_token": TOKEN, "from": "+447700900000"},
        {"name": "sim", "type": "sim"}],
        "default_provider": "twilio", "simulator": True, "org_name": "Kent Digital Help"}


class TwilioStoryTest(unittest.TestCase):
    """Each test has a database, a daemon, a fake Twilio and tenants of its own, so each
    passes alone and in any order."""

    def setUp(self):
        self.db = Database("twiliostory")
        self.addCleanup(self.db.drop)
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        self.addCleanup(self.fake.stop)
        self.d = Daemon(self.db, twilio_config(self.fake)).start()
        self.addCleanup(self.d.stop)
        self.key = self.d.key("officer")
        self.d.landlords("Orbit")

    def maidstone_campaign(self):
        """Five tenants in Maidstone, two in Thanet, and a campaign to Maidstone."""
        self.make_tenants(10, 5, "Maidstone")
        self.make_tenants(20, 2, "Thanet")
        return self.run_campaign("Maidstone")

    def api(self, method, path, body=None):
        return self.d.api(method, path, body, key=self.key)

    def make_tenants(self, first, n, borough):
        ids = []
        for i in range(first, first + n):
            r = self.api("POST", "/v1/tenants", {
                "external_ref": "TW-%d" % i, "first_name": "Name%d" % i,
                "phone": drama_number(i), "borough": borough, "landlord": "Orbit"})
            self.assertEqual(r.status, 201, r)
            ids.append(r.json["id"])
        return ids

    def run_campaign(self, borough, body="Hi {first_name|there}, free help getting online. "
                                         "Reply SKILLS or STOP"):
        r = self.api("POST", "/v1/campaigns", {"name": "Get online " + borough, "body": body,
                                               "audience": {"boroughs": [borough]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(r.json["state"], "draft")
        r = self.api("POST", "/v1/campaigns/%d/schedule" % cid, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["state"], "scheduled")
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] == "completed",
                   what="campaign %d completed" % cid)
        return cid

    def fake_messages(self, to=None):
        msgs = self.fake.control("GET", "/_fake/messages")
        return [m for m in msgs if to is None or m["to"] == to]

    def test_1_campaign_and_receipts(self):
        cid = self.maidstone_campaign()
        msgs = [m for m in self.fake_messages() if m["to"] in {drama_number(i) for i in range(10, 15)}]
        self.assertEqual(sorted(m["to"] for m in msgs), [drama_number(i) for i in range(10, 15)])
        m = [m for m in msgs if m["to"] == drama_number(12)][0]
        self.assertEqual(m["body"], "Hi Name12, free help getting online. Reply SKILLS or STOP")
        self.assertEqual(m["from"], "+447700900000")
        self.assertTrue(m["status_callback"].startswith(
            self.d.public_url + "/v1/providers/twilio/status?ref="), m)
        counts = self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]
        self.assertEqual(counts["submitted"], 5, counts)
        self.assertEqual(counts["total"], 5)
        # Nothing went to Thanet.
        self.assertEqual(self.fake_messages(drama_number(20)), [])

        # Status callbacks, signed by the fake over the public URL, move the messages on.
        self.fake.control("POST", "/_fake/callbacks", {"status": "delivered"})
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]["delivered"] == 5,
                   what="5 delivered")
        # A late "sent" after "delivered" does not move a message backwards; a failure
        # for one message is recorded with its code.
        self.fake.control("POST", "/_fake/callbacks", {"status": "sent"})
        one = self.fake_messages(drama_number(14))[0]["sid"]
        self.fake.control("POST", "/_fake/callbacks", {"status": "delivered", "sid": one})
        wait_until(lambda: self.db.value(
            "SELECT count(*) FROM receipts WHERE raw_status = 'sent'") == 5, what="receipts")
        counts = self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]
        self.assertEqual(counts["delivered"], 5, counts)
        self.assertEqual(self.db.value("SELECT count(*) FROM receipts WHERE raw_status = 'delivered'"), 5,
                         "a repeated receipt adds nothing")

    def test_2_failed_callback(self):
        self.make_tenants(20, 2, "Thanet")
        cid = self.run_campaign("Thanet")
        sid = self.fake_messages(drama_number(21))[0]["sid"]
        self.fake.control("POST", "/_fake/callbacks", {"status": "failed", "sid": sid,
                                                       "error_code": "30003"})
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]["failed"] == 1,
                   what="one failed")
        row = self.db.query("SELECT state, error_code FROM messages WHERE provider_msg_id = %s", sid)
        self.assertEqual(row, [("failed", "30003")])

    def inbound(self, frm, body, sid, token=TOKEN):
        params = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", SID), ("From", frm),
                  ("To", "+447700900000"), ("Body", body), ("NumMedia", "0")]
        return post_twilio(self.d, "/v1/providers/twilio/inbound", params, token)

    def test_3_reply_skills_makes_a_help_request(self):
        cid = self.maidstone_campaign()
        r = self.inbound(drama_number(11), "skills please", "SM" + "a" * 32)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/xml"), r.headers)
        self.assertIn(b"<Response><Message>", r.body)
        self.assertIn(b"in touch", r.body)
        items = self.api("GET", "/v1/help-requests").json["items"]
        mine = [h for h in items if h["tenant_id"] == self.db.value(
            "SELECT id FROM tenants WHERE phone = %s", drama_number(11))]
        self.assertEqual(len(mine), 1, items)
        h = mine[0]
        self.assertEqual(h["category"], "digital_skills")
        self.assertEqual(h["campaign_id"], cid)
        self.assertEqual(h["inbound_message_id"], self.db.value(
            "SELECT id FROM inbound_messages WHERE provider_msg_id = %s", "SM" + "a" * 32))
        self.assertEqual(h["state"], "new")
        # The same webhook again (Twilio retries) changes nothing and answers no text.
        r = self.inbound(drama_number(11), "skills please", "SM" + "a" * 32)
        self.assertEqual(r.status, 200)
        self.assertNotIn(b"<Message>", r.body)
        self.assertEqual(self.db.value("SELECT count(*) FROM help_requests"), 1)

    def test_4_bad_signature_is_refused(self):
        before = self.db.value("SELECT count(*) FROM inbound_messages")
        r = self.inbound(drama_number(12), "SKILLS", "SM" + "b" * 32, token="wrong-token")
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.json["error"]["code"], "bad_signature")
        params = [("MessageSid", "SM" + "c" * 32), ("From", drama_number(12)), ("Body", "STOP")]
        r = http("POST", self.d.base + "/v1/providers/twilio/inbound",
                 urllib.parse.urlencode(params), {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 403)
        self.fake.control("POST", "/_fake/callbacks", {"status": "failed", "bad_signature": True})
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), before)
        self.assertEqual(self.api("POST", "/v1/providers/nope/inbound").status, 404)

    def test_5_stop_then_second_campaign(self):
        self.maidstone_campaign()
        tenant = self.db.value("SELECT id FROM tenants WHERE phone = %s", drama_number(13))
        r = self.inbound(drama_number(13), "  Stop. ", "SM" + "d" * 32)
        self.assertIn(b"START", r.body)
        self.assertTrue(self.api("GET", "/v1/tenants/%d" % tenant).json["opted_out"])
        # A second STOP is not confirmed again.
        r = self.inbound(drama_number(13), "STOP", "SM" + "e" * 32)
        self.assertNotIn(b"<Message>", r.body)
        before = len(self.fake_messages(drama_number(13)))
        cid = self.run_campaign("Maidstone", body="Second campaign for {first_name}")
        self.assertEqual(len(self.fake_messages(drama_number(13))), before,
                         "an opted-out tenant gets no campaign text")
        counts = self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]
        self.assertEqual((counts["skipped_opted_out"], counts["submitted"]), (1, 4), counts)
        # START opts back in.
        r = self.inbound(drama_number(13), "start", "SM" + "f" * 32)
        self.assertIn(b"<Message>", r.body)
        self.assertFalse(self.api("GET", "/v1/tenants/%d" % tenant).json["opted_out"])

    def test_6_every_opt_out_word(self):
        for n, word in enumerate(["STOPALL", "unsubscribe", "End", "CANCEL!", "quit."]):
            phone = drama_number(40 + n)
            self.make_tenants(40 + n, 1, "Nowhere")
            self.inbound(phone, word, "SM%032d" % (900 + n))
            self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s", phone),
                             1, word)

    def test_7_unknown_number(self):
        r = self.inbound(drama_number(999), "hello?", "SM" + "9" * 32)
        self.assertIn(b"<Message>", r.body)
        self.assertEqual(self.db.value(
            "SELECT tenant_id IS NULL FROM inbound_messages WHERE from_phone = %s", drama_number(999)),
            True)


class TwilioBehindProxyTest(IntegrationCase):
    """SIGNPOST_PUBLIC_URL differs from the listening address, as behind a reverse proxy:
    callback URLs and signature checks use the public URL."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        cls.d = Daemon(cls.db, twilio_config(cls.fake),
                       public_url="https://signpost.example.org/gw").start()
        cls.key = cls.d.key("officer")
        cls.d.landlords("Orbit")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.fake.stop()
        super().tearDownClass()

    def test_public_url(self):
        r = self.d.api("POST", "/v1/tenants", {"external_ref": "P-1", "phone": drama_number(500),
                                               "borough": "Thanet"}, key=self.key)
        self.assertEqual(r.status, 201, r)
        r = self.d.api("POST", "/v1/campaigns", {"name": "p", "body": "Hello", "send_window": ALL_WEEK,
                                                 "audience": {"boroughs": ["Thanet"]}}, key=self.key)
        self.d.api("POST", "/v1/campaigns/%d/schedule" % r.json["id"], key=self.key)
        msgs = wait_until(lambda: self.fake.control("GET", "/_fake/messages"), what="a text")
        self.assertTrue(msgs[0]["status_callback"].startswith(
            "https://signpost.example.org/gw/v1/providers/twilio/status?ref="), msgs[0])
        params = [("MessageSid", "SM" + "1" * 32), ("From", drama_number(500)),
                  ("To", "+447700900000"), ("Body", "SKILLS")]
        r = post_twilio(self.d, "/v1/providers/twilio/inbound", params, TOKEN)
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"<Message>", r.body)
        sig = twilio_signature(TOKEN, self.d.base + "/v1/providers/twilio/inbound", params)
        r = http("POST", self.d.base + "/v1/providers/twilio/inbound", urllib.parse.urlencode(params),
                 {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})
        self.assertEqual(r.status, 403, "a signature over the private address is refused")
