"""Hardening (issue 13): what the daemon refuses and neutralises on its boundaries.

- every CSV download neutralises cells a spreadsheet would run as a formula;
- SIGNPOST_CONFIG is refused when others may change it, or read it while it holds a
  credential;
- a signed webhook is accepted once: MessageBird's jti and Standard Webhooks' webhook-id
  are recorded with what the webhook stored, and a repeat is refused with 403;
- text from a request reaches the log escaped, one event a line;
- partner webhooks go over https to the public internet only, checked when a partner is
  saved and again on each connection a webhook makes.
"""
import base64
import csv
import hashlib
import hmac
import io
import json
import os
import threading
import time
import unittest
import urllib.parse
import uuid

from fake_partner import FakePartner
from harness import (ALL_WEEK, TMP, Daemon, Database, IntegrationCase, drama_number, http,
                     sim_config, wait_until)

HYPERLINK = '=HYPERLINK("http://example.com/x","Open me")'


class CsvCellsTest(IntegrationCase):
    """Each report.csv, with formula-like values in every column a person or provider can
    write: no cell starts with =, +, - or @ unless it is a plain number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.admin = cls.d.key("admin")
        cls.officer = cls.d.key("officer")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def api(self, method, path, body=None, key=None):
        return self.d.api(method, path, body, key=key or self.officer)

    def download(self, path):
        r = self.api("GET", path)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"), r.headers)
        return list(csv.reader(io.StringIO(r.body.decode(), newline="")))

    def assertNeutral(self, rows):
        for row in rows:
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    self.assertRegex(cell, r"^[+-][0-9]+(\.[0-9]+)?$", "a formula: %r" % row)

    def test_every_report(self):
        # A partner and a referral whose borough and name are formulas, for a tenant whose
        # borough and landlord are too.
        r = self.api("POST", "/v1/partners", {"name": HYPERLINK, "categories": ["money"],
                                              "boroughs": ["+Swale"]}, key=self.admin)
        self.assertEqual(r.status, 201, r)
        self.d.landlords("@Landlord")
        r = self.api("POST", "/v1/tenants", {"external_ref": "CSV-1", "first_name": "Cas",
                                             "phone": drama_number(901), "borough": "+Swale",
                                             "landlord": "@Landlord"})
        self.assertEqual(r.status, 201, r)
        tenant = r.json["id"]
        r = self.api("POST", "/v1/referrals", {"tenant_id": tenant, "category": "money",
                                               "consent": True, "note": "-note"})
        self.assertEqual(r.status, 201, r)
        wait_until(lambda: self.api("GET", "/v1/help-requests/%d" % r.json["id"]).json[
            "partner_id"] is not None, what="the referral assigned")

        rows = self.download("/v1/help-requests/report.csv")
        self.assertEqual(len(rows), 2, rows)
        head = rows[0]
        self.assertEqual(rows[1][head.index("borough")], "'+Swale")
        self.assertEqual(rows[1][head.index("partner")], "'" + HYPERLINK)
        self.assertNeutral(rows)

        rows = self.download("/v1/outcomes/report.csv?by=landlord")
        self.assertIn("'@Landlord", [row[0] for row in rows])
        self.assertNeutral(rows)
        rows = self.download("/v1/outcomes/report.csv?by=partner")
        self.assertIn("'" + HYPERLINK, [row[0] for row in rows])
        self.assertNeutral(rows)

        # A campaign text a provider failed with a formula for its code and its reason.
        r = self.api("POST", "/v1/campaigns", {"name": "CSV", "body": "Hello",
                                               "audience": {"boroughs": ["+Swale"]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid, {}).status, 200)
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] ==
                   "completed", what="the campaign completed")
        self.db.query("UPDATE messages SET error_code = %s, error_text = %s, provider = %s "
                      "WHERE campaign_id = %s", "@SUM(1+1)*cmd|' /C calc'!A0",
                      "-2+3+cmd|' /C calc'!A0", "=sim", cid)
        rows = self.download("/v1/campaigns/%d/report.csv" % cid)
        self.assertEqual(len(rows), 2, rows)
        head, row = rows
        self.assertEqual(row[head.index("phone")], drama_number(901), "numbers stay numbers")
        self.assertEqual(row[head.index("error_code")], "'@SUM(1+1)*cmd|' /C calc'!A0")
        self.assertEqual(row[head.index("last_error")], "'-2+3+cmd|' /C calc'!A0")
        self.assertEqual(row[head.index("provider")], "'=sim")
        self.assertNeutral(rows)


class ConfigFileTest(IntegrationCase):
    """Start-up refuses a configuration file others may change, or read when it holds a
    provider credential, and says what to run."""

    TWILIO = {"providers": [{"name": "twilio", "type": "twilio", "account_sid": "AC" + "0" * 32,
                             "auth_token": "a-token", "from": "+447700900000"}]}
    SIM = {"providers": [{"name": "sim", "type": "sim"}], "simulator": True}

    def migrate(self, config, mode):
        path = os.path.join(TMP, "config-mode-%s.json" % uuid.uuid4().hex[:8])
        with open(path, "w") as f:
            json.dump(config, f)
        os.chmod(path, mode)
        self.addCleanup(os.unlink, path)
        r = Daemon(self.db, extra_env={"SIGNPOST_CONFIG": path}).run("migrate", check=False)
        return r, path

    def test_refused_modes(self):
        for config, mode, why in (
                (self.TWILIO, 0o644, "holds provider credentials (providers[0].auth_token) "
                                     "and can be read by users other than its owner (mode 0644)"),
                (self.TWILIO, 0o640, "(mode 0640)"),
                (self.TWILIO, 0o604, "(mode 0604)"),
                (self.SIM, 0o664, "can be changed by users other than its owner (mode 0664)"),
                (self.SIM, 0o602, "can be changed by users other than its owner (mode 0602)"),
                (self.TWILIO, 0o620, "can be changed by users other than its owner")):
            r, path = self.migrate(config, mode)
            self.assertNotEqual(r.returncode, 0, (oct(mode), r.stderr))
            self.assertIn("SIGNPOST_CONFIG: %s " % path, r.stderr)
            self.assertIn(why, r.stderr)
            self.assertIn("run: chmod 600 %s" % path, r.stderr)

    def test_accepted_modes(self):
        for config, mode in ((self.TWILIO, 0o600), (self.TWILIO, 0o400), (self.SIM, 0o644)):
            r, _ = self.migrate(config, mode)
            self.assertEqual(r.returncode, 0, (oct(mode), r.stderr))


MB_KEY = "signing-key-for-replays"
HUB_SECRET = "whsec_" + base64.b64encode(b"replay-test-hub-secret").decode()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def messagebird_jwt(url, body, jti, now=None, exp=True, alg="HS256", key=MB_KEY):
    """A MessageBird-Signature-JWT as MessageBird makes one (exp = nbf + 60)."""
    now = int(time.time()) if now is None else now
    claims = {"iss": "MessageBird", "nbf": now, "jti": jti,
              "url_hash": hashlib.sha256(url.encode()).hexdigest()}
    if exp:
        claims["exp"] = now + 60
    if body:
        claims["payload_hash"] = hashlib.sha256(body.encode()).hexdigest()
    signing = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode()) + "." + \
        b64url(json.dumps(claims).encode())
    digest = {"HS256": hashlib.sha256}.get(alg, hashlib.sha256)
    mac = hmac.new(key.encode(), signing.encode(), digest).digest()
    return signing + "." + b64url(mac)


def stdwebhook_headers(msg_id, body, ts=None):
    ts = int(time.time()) if ts is None else ts
    key = base64.b64decode(HUB_SECRET[len("whsec_"):])
    mac = hmac.new(key, ("%s.%d.%s" % (msg_id, ts, body)).encode(), hashlib.sha256).digest()
    return {"Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(ts), "webhook-signature": "v1," + base64.b64encode(mac).decode()}


class ReplayTest(IntegrationCase):
    """A signed webhook sent again is refused with 403 and stores nothing, whether it is
    an inbound text, a receipt or a repeat of either, and even when both copies arrive
    at once. Ids are kept until their signatures would be refused anyway, then purged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, config={"providers": [
            {"name": "mb", "type": "messagebird", "base_url": "http://127.0.0.1:9",
             "access_key": "live_x", "originator": "447700900000", "signing_key": MB_KEY},
            {"name": "hub", "type": "webhook", "url": "http://127.0.0.1:9/messages",
             "secret": HUB_SECRET, "from": "+447700900000"}]}).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def mb(self, path, fields, jti, **jwt_args):
        """POSTs fields as MessageBird's JSON webhook to /v1/providers/mb/<path>."""
        url = self.d.public_url + "/v1/providers/mb/" + path
        body = json.dumps(fields)
        return http("POST", self.d.base + "/v1/providers/mb/" + path, body, {
            "Content-Type": "application/json",
            "MessageBird-Signature-JWT": messagebird_jwt(url, body, jti, **jwt_args)})

    def hub(self, path, event, msg_id, **kw):
        body = json.dumps(event)
        return http("POST", self.d.base + "/v1/providers/hub/" + path, body,
                    stdwebhook_headers(msg_id, body, **kw))

    def count(self, table):
        return self.db.value("SELECT count(*) FROM %s" % table)

    def assertReplayed(self, r):
        self.assertEqual((r.status, r.json["error"]["code"]), (403, "replayed"), r)

    def test_messagebird_inbound_once(self):
        fields = {"id": "mb-in-1", "originator": drama_number(911)[1:],
                  "recipient": "447700900000", "body": "SKILLS"}
        jti = str(uuid.uuid4())
        self.assertEqual(self.mb("inbound", fields, jti).status, 200)
        stored = self.count("inbound_messages"), self.count("help_requests"), self.count("messages")
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                       "provider_msg_id = 'mb-in-1'"), 1)
        r = self.mb("inbound", fields, jti)
        self.assertReplayed(r)
        # A fresh signature of the same text (a provider's retry) is taken and changes
        # nothing; sent again, it too is refused.
        jti2 = str(uuid.uuid4())
        self.assertEqual(self.mb("inbound", fields, jti2).status, 200)
        self.assertReplayed(self.mb("inbound", fields, jti2))
        self.assertEqual((self.count("inbound_messages"), self.count("help_requests"),
                          self.count("messages")), stored)
        self.assertEqual(self.db.value("SELECT expires_at - now() < interval '70 seconds' FROM "
                                       "webhook_replays WHERE replay_id = %s", jti), True)
        self.assertIn('reason="a repeat: replay id %s was received before"' % jti, self.d.log())

    def test_messagebird_receipt_once(self):
        fields = {"id": "mb-unknown-1", "reference": "12345", "recipient": "447700900911",
                  "status": "delivered"}
        jti = str(uuid.uuid4())
        before = self.count("receipts")
        self.assertEqual(self.mb("status", fields, jti).status, 200)
        self.assertEqual(self.count("receipts"), before + 1)
        self.assertReplayed(self.mb("status", fields, jti))
        # A status word MessageBird does not define stores nothing, but its id is kept.
        odd = dict(fields, status="teleported")
        self.assertEqual(self.mb("status", odd, "odd-" + jti).status, 200)
        self.assertReplayed(self.mb("status", odd, "odd-" + jti))
        self.assertEqual(self.count("receipts"), before + 1)

    def test_messagebird_exp_required(self):
        fields = {"id": "mb-in-2", "originator": drama_number(912)[1:],
                  "recipient": "447700900000", "body": "hello"}
        r = self.mb("inbound", fields, str(uuid.uuid4()), exp=False)
        self.assertEqual((r.status, r.json["error"]["code"]), (403, "bad_signature"), r)
        self.assertIn('reason="claim exp is missing"', self.d.log())
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                       "provider_msg_id = 'mb-in-2'"), 0)

    def test_both_copies_at_once(self):
        fields = {"id": "mb-in-3", "originator": drama_number(913)[1:],
                  "recipient": "447700900000", "body": "MONEY"}
        url = self.d.public_url + "/v1/providers/mb/inbound"
        body = json.dumps(fields)
        headers = {"Content-Type": "application/json",
                   "MessageBird-Signature-JWT": messagebird_jwt(url, body, str(uuid.uuid4()))}
        for _ in range(5):
            got = []
            start = threading.Barrier(2)

            def post():
                start.wait()
                got.append(http("POST", self.d.base + "/v1/providers/mb/inbound", body,
                                headers).status)
            threads = [threading.Thread(target=post) for _ in range(2)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertIn(sorted(got), ([200, 403], [403, 403]), got)
            headers["MessageBird-Signature-JWT"] = messagebird_jwt(url, body, str(uuid.uuid4()))
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                       "provider_msg_id = 'mb-in-3'"), 1)

    def test_standard_webhooks_once(self):
        event = {"type": "sms.received", "data": {"message_id": "hub-1",
                                                  "from": drama_number(914),
                                                  "to": "+447700900000", "text": "SKILLS"}}
        self.assertEqual(self.hub("inbound", event, "msg_hub_1").status, 200)
        stored = self.count("inbound_messages")
        self.assertReplayed(self.hub("inbound", event, "msg_hub_1"))
        # The same id signed again later is still the same webhook.
        self.assertReplayed(self.hub("inbound", event, "msg_hub_1", ts=int(time.time()) + 2))
        self.assertEqual(self.hub("inbound", event, "msg_hub_1b").status, 200)
        self.assertEqual(self.count("inbound_messages"), stored)
        receipt = {"type": "sms.delivered", "data": {"message_id": "nope", "reference": "777",
                                                     "status": "delivered"}}
        before = self.count("receipts")
        self.assertEqual(self.hub("status", receipt, "msg_hub_r1").status, 200)
        self.assertReplayed(self.hub("status", receipt, "msg_hub_r1"))
        self.assertEqual(self.count("receipts"), before + 1)
        ping = {"type": "hub.ping", "data": {}}
        self.assertEqual(self.hub("inbound", ping, "msg_hub_ping").status, 200)
        self.assertReplayed(self.hub("inbound", ping, "msg_hub_ping"))

    def test_expired_ids_are_purged(self):
        event = {"type": "hub.ping", "data": {}}
        self.assertEqual(self.hub("inbound", event, "msg_hub_old").status, 200)
        self.db.query("UPDATE webhook_replays SET expires_at = now() - interval '1 second' "
                      "WHERE replay_id = 'msg_hub_old'")
        wait_until(lambda: self.db.value("SELECT count(*) FROM webhook_replays WHERE "
                                         "replay_id = 'msg_hub_old'") == 0,
                   timeout=30, what="the janitor to purge an expired replay id")

    def test_log_lines_are_escaped(self):
        """A JWT's alg, unauthenticated, reaches the log escaped: it cannot forge a line."""
        fields = {"id": "mb-in-4", "originator": "447700900915", "recipient": "447700900000",
                  "body": "x"}
        forged = "HS256\n2026-01-01T00:00:00.000Z error forged=yes\r\x1b[2K\u00ff"
        r = self.mb("inbound", fields, "j-log", alg=forged)
        self.assertEqual(r.status, 403, r)
        log = self.d.log()
        self.assertIn('signing method HS256\\n2026-01-01T00:00:00.000Z error forged=yes'
                      '\\r\\x1b[2K\u00ff is invalid', log)
        self.assertFalse([l for l in log.splitlines() if l.startswith("2026-01-01T00:00:00")])


PARTNER_SECRET = "whsec_" + base64.b64encode(b"hardening-partner-secret").decode()


class PartnerUrlTest(IntegrationCase):
    """Where partner webhooks may go: https only, and never to an address off the public
    internet, unless the configuration says so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, sim_config()).start()
        cls.admin = cls.d.key("admin")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def save(self, url, pid=None):
        body = {"webhook_url": url, "webhook_secret": PARTNER_SECRET}
        if pid is None:
            return self.d.api("POST", "/v1/partners", dict(body, name="P " + url),
                              key=self.admin)
        return self.d.api("PUT", "/v1/partners/%d" % pid, body, key=self.admin)

    def assertRefusedUrl(self, r, words):
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "webhook_url"), r)
        self.assertIn(words, r.json["error"]["message"])

    def test_refused_when_saved(self):
        partners = self.db.value("SELECT count(*) FROM partners")
        for url, words in (
                ("http://partner.example/hook", "must be an https:// URL"),
                ("HTTP://partner.example/hook", "must be an https:// URL"),
                ("ftp://partner.example/", "must be an https:// URL"),
                ("https:///hook", "has no host"),
                ("https://127.0.0.1:9/hook", "leads to 127.0.0.1, a loopback address"),
                ("https://localhost/hook", "a loopback address"),
                ("https://[::1]:8443/", "leads to ::1, a loopback address"),
                ("https://[::ffff:127.0.0.1]/", "leads to 127.0.0.1, a loopback address"),
                ("https://10.1.2.3/", "leads to 10.1.2.3, a private address"),
                ("https://172.20.0.1/", "a private address"),
                ("https://192.168.0.10/", "a private address"),
                ("https://[fd12:3456::1]/", "a private address"),
                ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local"),
                ("https://0.0.0.0/", "an unspecified address"),
                ("https://224.0.0.1/", "a multicast address"),
                ("https://100.64.1.1/", "shared (carrier-grade NAT)"),
                ("https://2130706433/", "a loopback address"),   # 127.0.0.1 as a number
                ("https://exa mple.org/", "not a URL signpost can use")):
            self.assertRefusedUrl(self.save(url), words)
        self.assertEqual(self.db.value("SELECT count(*) FROM partners"), partners,
                         "nothing stored")
        # Public addresses, and names that do not resolve yet (checked again when sent).
        for url in ("https://93.184.216.34/hook", "https://partner.example/hook"):
            r = self.save(url)
            self.assertEqual(r.status, 201, r)
        pid = r.json["id"]
        self.assertRefusedUrl(self.save("https://127.0.0.1/hook", pid), "a loopback address")
        self.assertRefusedUrl(self.save("http://partner.example/other", pid), "https://")
        self.assertEqual(self.db.value("SELECT webhook_url FROM partners WHERE id = %s", pid),
                         "https://partner.example/hook")

    def test_checked_again_on_each_connection(self):
        """A URL that reaches loopback when sent (as a name that resolved elsewhere when
        saved would, here written into the database) is never connected to."""
        fake = FakePartner(PARTNER_SECRET)
        self.addCleanup(fake.stop)
        db = Database("partnerurlsend")  # this daemon's alone: no other sends its webhooks
        self.addCleanup(db.drop)
        d = Daemon(db, sim_config(allow_insecure_partner_urls=True))
        d.start()
        self.addCleanup(d.stop)
        admin, officer = d.key("admin"), d.key("officer")
        port = fake.url.split(":")[2].split("/")[0]
        for n, url in enumerate((fake.url, "http://localhost:%s/hook" % port)):
            r = d.api("POST", "/v1/partners", {"name": "Loop %d" % n, "categories": ["loop%d" % n],
                                               "boroughs": ["Loopton"],
                                               "webhook_url": "https://partner.example/hook",
                                               "webhook_secret": PARTNER_SECRET}, key=admin)
            self.assertEqual(r.status, 201, r)
            db.query("UPDATE partners SET webhook_url = %s WHERE id = %s", url, r.json["id"])
            r = d.api("POST", "/v1/referrals", {"first_name": "Lo", "phone": "01632 960%03d" % n,
                                                "borough": "Loopton", "category": "loop%d" % n,
                                                "consent": True}, key=officer)
            self.assertEqual(r.status, 201, r)
            hid = r.json["id"]
            error = wait_until(lambda: db.value(
                "SELECT last_error FROM partner_outbox WHERE help_request_id = %s", hid),
                what="the webhook attempted")
            self.assertRegex(error, r"^refused to connect to (127\.0\.0\.1|::1), a loopback "
                                    r"address")
        self.assertEqual(fake.received, [], "nothing reached the partner")
        self.assertIn("partner webhook failed", d.log())


if __name__ == "__main__":
    unittest.main()
