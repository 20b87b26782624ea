"""Every provider adapter against its fake on 127.0.0.1 with the real daemon: a campaign
reaches each tenant once in the provider's format, receipts move texts forward only,
replies become help requests whose answer goes back through the same provider, STOP
opts out, forged webhooks are refused, a provider's "unsubscribed" answer records an
opt-out, and Vonage's concatenated inbound parts are routed once.

Each test of a provider starts from nothing (a database, daemon and fake of its own, and
the same seven tenants) and sends itself any campaign it needs, so it passes alone and in
any order: `python3 -m unittest test_providers.VonageTest.test_2_receipts_forward_only`."""
import base64
import json
import time
import unittest

from harness import (ALL_WEEK, Daemon, Database, IntegrationCase, daemon_with_fake,
                     drama_number, http, wait_until)
HUB_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class StoryMixin:
    """The shared story; subclasses say how their provider spells things."""
    name = kind = None
    first = 0               # tenants use drama numbers first .. first+6
    to_field, text_field = "to", "text"
    delivered, enroute, failed, failed_state = "delivered", "sent", "failed", "undelivered"
    failed_code = None
    optout_mode = None      # /_fake/mode making one recipient unsubscribed at the provider

    @classmethod
    def fake_args(cls):
        raise NotImplementedError

    @classmethod
    def entry(cls, fake):
        raise NotImplementedError

    def check_format(self, msg):
        """Provider-specific checks of one text as the fake received it."""

    def setUp(self):
        """A world of this test's own; cleanups stop the daemon, then the fake, then drop
        the database, even when a step here fails."""
        self.db = Database(type(self).__name__.lower()[:20])
        self.addCleanup(self.db.drop)
        self.d, self.fake = daemon_with_fake(self.db, self.name, self.kind, self.fake_args(),
                                             self.entry)
        self.addCleanup(self.fake.stop)
        self.addCleanup(self.d.stop)
        self.d.start()
        self.key = self.d.key("officer")
        self.d.landlords("Orbit")
        for i in range(self.first, self.first + 7):
            r = self.d.api("POST", "/v1/tenants", {
                "external_ref": "%s-%d" % (self.name, i), "first_name": "Name%d" % i,
                "phone": drama_number(i), "borough": "Main" if i < self.first + 5 else "Other",
                "landlord": "Orbit"}, key=self.key)
            self.assertEqual(r.status, 201, r)

    def api(self, method, path, body=None):
        return self.d.api(method, path, body, key=self.key)

    def counts(self, cid):
        return self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]

    def campaign(self, borough, body="Hi {first_name|there}, free help getting online. "
                                     "Reply SKILLS or STOP"):
        r = self.api("POST", "/v1/campaigns", {"name": "%s %s" % (self.name, borough),
                                               "body": body, "audience": {"boroughs": [borough]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid, {}).status, 200)
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] == "completed",
                   what="campaign %d completed" % cid)
        return cid

    def e164(self, value):
        value = str(value)
        return value if value.startswith("+") else "+" + value

    def texts(self, to=None):
        msgs = self.fake.control("GET", "/_fake/messages")
        return [m for m in msgs if to is None or self.e164(m[self.to_field]) == to]

    def stats(self):
        return self.fake.control("GET", "/_fake/stats")

    def receipts(self, state):
        return self.db.value("SELECT count(*) FROM receipts WHERE provider = %s AND state = %s",
                             self.name, state)

    def callbacks_settle(self, before, n):
        wait_until(lambda: self.stats()["callbacks_ok"] + self.stats()["callbacks_failed"]
                   >= before + n, what="%d callbacks answered" % n)

    def main_delivered(self):
        """The campaign to the five tenants in Main, each text delivered and every
        receipt answered; its id."""
        cid = self.campaign("Main")
        before = self.stats()
        self.fake.control("POST", "/_fake/callbacks", {"status": self.delivered})
        wait_until(lambda: self.counts(cid)["delivered"] == 5, what="5 delivered")
        self.callbacks_settle(before["callbacks_ok"] + before["callbacks_failed"], 5)
        return cid

    def test_1_campaign_once_each_in_format(self):
        cid = self.campaign("Main")
        numbers = [drama_number(i) for i in range(self.first, self.first + 5)]
        got = sorted(self.e164(m[self.to_field]) for m in self.texts())
        self.assertEqual(got, numbers, "each tenant of the audience exactly once")
        m = self.texts(numbers[1])[0]
        self.assertEqual(m[self.text_field], "Hi Name%d, free help getting online. Reply SKILLS "
                         "or STOP" % (self.first + 1))
        self.check_format(m)
        self.assertEqual(self.counts(cid)["submitted"], 5, self.counts(cid))
        self.assertEqual(self.stats()["rejected"], 0)

    def test_2_receipts_forward_only(self):
        cid = self.campaign("Main")
        before = self.stats()["callbacks_ok"]
        self.fake.control("POST", "/_fake/callbacks", {"status": self.delivered})
        wait_until(lambda: self.counts(cid)["delivered"] == 5, what="5 delivered")
        # A late "en route" does not move a text back; a repeated receipt adds nothing.
        self.fake.control("POST", "/_fake/callbacks", {"status": self.enroute})
        self.fake.control("POST", "/_fake/callbacks", {"status": self.delivered})
        self.callbacks_settle(before, 15)
        self.assertEqual(self.stats()["callbacks_failed"], 0)
        self.assertEqual(self.counts(cid)["delivered"], 5, self.counts(cid))
        self.assertEqual(self.receipts("delivered"), 5, "a repeated receipt adds nothing")
        self.assertEqual(self.receipts("enroute"), 5)

    def test_3_failed_receipt(self):
        cid = self.campaign("Other")
        msg = self.texts(drama_number(self.first + 5))[0]
        before = self.stats()["callbacks_ok"]
        body = {"status": self.failed, "id": msg["id"]}
        if self.failed_code:
            body["error_code"] = self.failed_code
        self.fake.control("POST", "/_fake/callbacks", body)
        self.callbacks_settle(before, 1)
        wait_until(lambda: self.counts(cid)[self.failed_state] == 1, what="one failed")
        row = self.db.query("SELECT state, error_code FROM messages WHERE campaign_id = %s "
                            "AND to_phone = %s", cid, drama_number(self.first + 5))
        self.assertEqual(row[0][0], self.failed_state)
        if self.failed_code:
            self.assertEqual(row[0][1], self.failed_code)

    def inbound(self, frm, text, **extra):
        body = dict({"from": frm, "text": text}, **extra)
        return self.fake.control("POST", "/_fake/inbound", body)

    def test_4_skills_reply_goes_back_through_provider(self):
        phone = drama_number(self.first + 1)
        self.inbound(phone, "Skills please")
        tenant = self.db.value("SELECT id FROM tenants WHERE phone = %s", phone)
        wait_until(lambda: self.db.value("SELECT count(*) FROM help_requests WHERE tenant_id = %s",
                                         tenant) == 1, what="a help request")
        self.assertEqual(self.db.value("SELECT category FROM help_requests WHERE tenant_id = %s",
                                       tenant), "digital_skills")
        wait_until(lambda: any("touch" in m[self.text_field] for m in self.texts(phone)),
                   what="the reply text at the provider")

    def test_5_stop_opts_out(self):
        phone = drama_number(self.first + 2)
        self.inbound(phone, "STOP")
        wait_until(lambda: self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                         phone) == 1, what="opt-out")
        tenant = self.db.value("SELECT id FROM tenants WHERE phone = %s", phone)
        self.assertTrue(self.api("GET", "/v1/tenants/%d" % tenant).json["opted_out"])
        wait_until(lambda: any("START" in m[self.text_field] for m in self.texts(phone)),
                   what="the opt-out confirmation")

    def test_6_forged_webhooks_are_refused(self):
        # Texts at the fake for the forged receipts to name: seven, from two campaigns.
        self.campaign("Main")
        self.campaign("Other")
        stored = self.db.value("SELECT count(*) FROM inbound_messages")
        receipts = self.db.value("SELECT count(*) FROM receipts")
        before = self.stats()
        self.inbound(drama_number(self.first + 3), "SKILLS", bad_signature=True)
        n = self.fake.control("POST", "/_fake/callbacks", {"status": self.failed,
                                                           "bad_signature": True})["scheduled"]
        self.assertGreaterEqual(n, 6)
        wait_until(lambda: self.stats()["inbound_failed"] == before["inbound_failed"] + 1,
                   what="the forged inbound refused")
        wait_until(lambda: self.stats()["callbacks_failed"] == before["callbacks_failed"] + n,
                   what="forged receipts refused")
        self.assertEqual(self.stats()["callbacks_ok"], before["callbacks_ok"])
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), stored)
        self.assertEqual(self.db.value("SELECT count(*) FROM receipts"), receipts)
        self.assertIn("webhook refused provider=%s" % self.name, self.d.log())

    def test_7_unsubscribed_at_provider(self):
        if not self.optout_mode:
            self.skipTest("this provider has no unsubscribed answer to a send")
        phone = drama_number(self.first + 6)
        self.fake.control("POST", "/_fake/mode", dict(self.optout_mode, to=phone))
        r = self.api("POST", "/v1/campaigns", {"name": "optout", "body": "Hello",
                                               "audience": {"landlords": ["Orbit"]},
                                               "send_window": ALL_WEEK})
        cid = r.json["id"]
        self.api("POST", "/v1/campaigns/%d/schedule" % cid, {})
        wait_until(lambda: self.db.value("SELECT source FROM opt_outs WHERE phone = %s", phone),
                   what="an opt-out from the provider's answer")
        self.assertEqual(self.db.value("SELECT source FROM opt_outs WHERE phone = %s", phone),
                         "provider")
        self.fake.control("POST", "/_fake/mode", {"mode": "ok"})


class VonageTest(StoryMixin, unittest.TestCase):
    name, kind, first = "vonage", "vonage", 600
    enroute = "buffered"
    failed_code = "3"
    optout_mode = {"mode": "code", "code": 7}

    @classmethod
    def fake_args(cls):
        return ["--api-key", "key123", "--api-secret", "secret456",
                "--signature-secret", "sigsecret789", "--signature-method", "sha256",
                "--webhook-format", "form"]

    @classmethod
    def entry(cls, fake):
        return {"type": "vonage", "base_url": fake.base, "api_key": "key123",
                "api_secret": "secret456", "from": "447700900000",
                "signature_secret": "sigsecret789", "signature_method": "sha256"}

    def check_format(self, msg):
        self.assertEqual(msg["to"], drama_number(self.first + 1)[1:], "digits without +")
        self.assertEqual(msg["from"], "447700900000")
        self.assertTrue(msg["client_ref"].isdigit(), msg)
        self.assertEqual(msg["callback"], self.d.public_url + "/v1/providers/vonage/status")

    def test_8_receipts_as_get_and_json(self):
        cid = self.main_delivered()
        one = self.texts(drama_number(self.first))[0]["id"]
        before = self.stats()
        for fmt in ("get", "json"):
            self.fake.control("POST", "/_fake/callbacks", {"status": "delivered", "id": one,
                                                           "format": fmt})
        wait_until(lambda: self.stats()["callbacks_ok"] == before["callbacks_ok"] + 2,
                   what="both receipts taken")
        self.assertEqual(self.stats()["callbacks_failed"], before["callbacks_failed"])
        self.assertEqual(self.counts(cid)["delivered"], 5)

    def test_9_concatenated_inbound_routed_once(self):
        phone = drama_number(self.first + 4)
        # "SK", "IL", "LS": only the parts in order make the keyword.
        text = "SKILLS"
        before = self.db.value("SELECT count(*) FROM inbound_messages")
        answered = self.stats()["inbound_ok"]
        ans = self.inbound(phone, text, parts=3, order=[3, 1, 2, 1], delay_ms=150)
        self.assertEqual(ans["scheduled"], 4)
        wait_until(lambda: self.stats()["inbound_ok"] >= answered + 4, what="parts answered")
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages") == before + 1,
                   what="one text routed")
        self.assertEqual(self.db.value("SELECT body FROM inbound_messages WHERE provider_msg_id "
                                       "= %s", ans["id"]), text)
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_parts WHERE series_key = %s",
                                       ans["id"]), 3)
        tenant = self.db.value("SELECT id FROM tenants WHERE phone = %s", phone)
        self.assertEqual(self.db.value("SELECT count(*) FROM help_requests WHERE tenant_id = %s",
                                       tenant), 1)
        # All parts at once (racing each other), then the lot again: still one text each.
        ans = self.inbound(phone, "HELP me " * 30, parts=3, order=[2, 3, 1, 3, 2, 1])
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages") == before + 2,
                   what="the second text routed")
        wait_until(lambda: self.stats()["inbound_sent"] == self.stats()["inbound_ok"] +
                   self.stats()["inbound_failed"], what="every part answered")
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), before + 2)
        self.assertEqual(self.db.value("SELECT body FROM inbound_messages WHERE provider_msg_id "
                                       "= %s", ans["id"]), "HELP me " * 30)


    def test_9a_parts_survive_a_restart(self):
        phone = drama_number(self.first + 3)
        before = self.db.value("SELECT count(*) FROM inbound_messages")
        self.inbound(phone, "Hello again", parts=2, order=[2], ref="77")
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_parts WHERE from_phone = "
                                         "%s AND concat_ref = '77'", phone) == 1,
                   what="the second part stored")
        self.d.stop()
        self.d.start()
        ans = self.inbound(phone, "Hello again", parts=2, order=[1], ref="77")
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages") == before + 1,
                   what="the text completed after the restart")
        self.assertEqual(self.db.value("SELECT body FROM inbound_messages WHERE provider_msg_id "
                                       "= %s", ans["id"]), "Hello again")

    def test_9b_inbound_as_get_and_json(self):
        for n, fmt in enumerate(("get", "json")):
            phone = drama_number(self.first + n)
            text = "hello by %s" % fmt
            self.inbound(phone, text, format=fmt)
            wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                             "from_phone = %s AND body = %s", phone, text) == 1,
                       what="an inbound text by " + fmt)


class MessageBirdTest(StoryMixin, unittest.TestCase):
    name, kind, first = "messagebird", "messagebird", 650
    to_field, text_field = "recipients", "body"
    failed = "delivery_failed"

    @classmethod
    def fake_args(cls):
        return ["--access-key", "live_abc123", "--signing-key", "signing-key-for-tests"]

    @classmethod
    def entry(cls, fake):
        return {"type": "messagebird", "base_url": fake.base, "access_key": "live_abc123",
                "originator": "447700900000", "signing_key": "signing-key-for-tests"}

    def check_format(self, msg):
        self.assertEqual(msg["recipients"], drama_number(self.first + 1)[1:])
        self.assertEqual(msg["originator"], "447700900000")
        self.assertEqual(msg["datacoding"], "plain")
        self.assertTrue(msg["report_url"].startswith(
            self.d.public_url + "/v1/providers/messagebird/status?ref="), msg)

    def test_8_inbound_as_json_post(self):
        phone = drama_number(self.first + 3)
        self.inbound(phone, "hello there", format="json")
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                         "from_phone = %s AND body = 'hello there'", phone) == 1,
                   what="a JSON inbound text")


class FiretextTest(StoryMixin, unittest.TestCase):
    name, kind, first = "firetext", "firetext", 700
    text_field = "message"
    delivered, enroute, failed = "0", "2", "1"
    failed_code = "101"
    optout_mode = None

    @classmethod
    def fake_args(cls):
        return ["--api-key", "ft-key", "--webhook-user", "signpost", "--webhook-password", "pw-1"]

    @classmethod
    def entry(cls, fake):
        return {"type": "firetext", "base_url": fake.base, "api_key": "ft-key",
                "from": "07700900000", "webhook_user": "signpost", "webhook_password": "pw-1"}

    def check_format(self, msg):
        self.assertEqual(msg["to"], drama_number(self.first + 1)[1:])
        # A number, not an alphanumeric sender: these campaigns ask tenants to reply.
        self.assertEqual(msg["from"], "07700900000")
        self.assertTrue(msg["reference"].isdigit(), msg)

    def test_8_code_in_a_200_is_a_failure(self):
        phone = drama_number(self.first + 6)
        self.fake.control("POST", "/_fake/mode", {"mode": "code", "code": 2, "to": phone})
        cid = self.campaign("Other", body="Code check")
        row = self.db.query("SELECT state, error_code FROM messages WHERE campaign_id = %s AND "
                            "to_phone = %s", cid, phone)
        self.assertEqual(row, [("failed", "2")])
        self.fake.control("POST", "/_fake/mode", {"mode": "ok"})


class WebhookHubTest(StoryMixin, unittest.TestCase):
    name, kind, first = "hub", "hub", 750
    failed_state = "failed"
    failed_code = "unreachable"
    optout_mode = {"mode": "code", "code": "opted_out", "http_status": 400}

    @classmethod
    def fake_args(cls):
        return ["--secret", HUB_SECRET]

    @classmethod
    def entry(cls, fake):
        return {"type": "webhook", "url": fake.base + "/messages", "secret": HUB_SECRET,
                "from": "+447700900000"}

    def check_format(self, msg):
        self.assertEqual(msg["to"], drama_number(self.first + 1))
        self.assertEqual(msg["from"], "+447700900000")
        self.assertTrue(msg["reference"].isdigit(), msg)


class TwilioOptOutTest(StoryMixin, unittest.TestCase):
    """Twilio's own story is in test_twilio.py; here the parts the other providers share."""
    name, kind, first = "twilio", "twilio", 800
    text_field = "body"
    failed_state = "failed"
    failed_code = "30003"
    optout_mode = {"mode": "code", "twilio_code": 21610}
    SID = "AC" + "0123456789abcdef" * 2

    @classmethod
    def fake_args(cls):
        return ["--account-sid", cls.SID, "--auth-token", "tw-token"]

    @classmethod
    def entry(cls, fake):
        return {"type": "twilio", "base_url": fake.base, "account_sid": cls.SID,
                "auth_token": "tw-token", "from": "+447700900000"}

    def texts(self, to=None):
        msgs = super().texts(to)
        for m in msgs:
            m["id"] = m["sid"]
        return msgs

    def test_4_skills_reply_goes_back_through_provider(self):
        self.skipTest("Twilio replies ride in the webhook's TwiML answer (test_twilio.py)")

    def test_5_stop_opts_out(self):
        phone = drama_number(self.first + 2)
        self.inbound(phone, "STOP")
        wait_until(lambda: self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                         phone) == 1, what="opt-out")


class SimulatorStoryTest(IntegrationCase):
    """The built-in simulator: the campaign, magic numbers and SKILLS are in test_sim.py;
    here STOP and a forged webhook."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.key = cls.d.key("admin")
        r = cls.d.api("POST", "/v1/tenants", {"external_ref": "SIM-1", "phone": drama_number(860),
                                              "borough": "Thanet"}, key=cls.key)
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def test_stop_and_forged_webhook(self):
        phone = drama_number(860)
        r = self.d.api("POST", "/v1/sim/inbound", {"from": phone, "text": "stop"}, key=self.key)
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                         phone) == 1, what="opt-out")
        stored = self.db.value("SELECT count(*) FROM inbound_messages")
        body = json.dumps({"type": "sms.received", "data": {"message_id": "forged-1",
                                                             "from": phone, "to": "+447700900000",
                                                             "text": "START"}})
        r = http("POST", self.d.base + "/v1/providers/sim/inbound", body, {
            "Content-Type": "application/json", "webhook-id": "msg_forged",
            "webhook-timestamp": str(int(time.time())),
            "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode()})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), stored)
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s", phone), 1)


if __name__ == "__main__":
    unittest.main()
