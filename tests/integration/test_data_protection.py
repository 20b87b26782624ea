"""Data protection: erasure leaves nothing of the person in the database while the figures
stay, retention clears what is old enough and nothing else, the simulator cannot be used
to text in as a tenant, and a revoked key or a deactivated partner stops working on every
daemon within a second.

Each test has a database and daemons of its own, so each passes alone and in any order:
`python3 -m unittest test_data_protection.ErasureTest`."""
import base64
import re
import time
import unittest

from fake_partner import FakePartner
from harness import (ALL_WEEK, Daemon, Database, daemon_with_fake, drama_number, http,
                     wait_until)

NOWHERE = "http://127.0.0.1:9"
TWILIO = {"name": "twilio", "type": "twilio", "base_url": NOWHERE,
          "account_sid": "AC" + "0" * 32, "auth_token": "not-a-secret", "from": "+447700900000"}

PARTNER_SECRET = "whsec_" + base64.b64encode(b"signpost-erasure-partner").decode()


def vonage_entry(fake):
    return {"type": "vonage", "base_url": fake.base, "api_key": "key123",
            "api_secret": "secret456", "from": "447700900000",
            "signature_secret": "sigsecret789", "signature_method": "sha256"}


VONAGE_ARGS = ["--api-key", "key123", "--api-secret", "secret456",
               "--signature-secret", "sigsecret789", "--signature-method", "sha256",
               "--webhook-format", "form"]


def number_forms(e164):
    """A UK mobile number as people and providers write it: +447700900123, 447700900123,
    07700900123, 07700 900123, 7700900123, 7700 900123."""
    national = e164[3:]
    return [e164, e164[1:], "0" + national, "0%s %s" % (national[:4], national[4:]),
            national, "%s %s" % (national[:4], national[4:])]


def database_text(db):
    """Every row of every table of the database, as JSON text, by table."""
    tables = [r[0] for r in db.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
        "AND table_type = 'BASE TABLE' ORDER BY 1")]
    return {t: [r[0] for r in db.query('SELECT row_to_json(x)::text FROM "%s" x' % t)]
            for t in tables}


def leaks(db, needles):
    """Where any of needles (case ignored) is still in the database: {table: [rows]}."""
    found = {}
    for table, rows in database_text(db).items():
        for row in rows:
            if any(needle.lower() in row.lower() for needle in needles):
                found.setdefault(table, []).append(row[:400])
    return found


def describe(found):
    return "left in %s:\n%s" % (", ".join(sorted(found)), "\n".join(
        "%s: %s" % (t, row) for t, rows in sorted(found.items()) for row in rows))


class ErasureTest(unittest.TestCase):
    """A tenant with a full history is erased: nothing of them is left anywhere, and every
    figure stays."""

    PHONE = drama_number(123)
    NAME = "Ysolde"
    REF = "ERASE-YSOLDE-7"

    def setUp(self):
        self.db = Database("erasure")
        self.addCleanup(self.db.drop)
        self.d, self.fake = daemon_with_fake(self.db, "vonage", "vonage", VONAGE_ARGS,
                                             vonage_entry)
        self.addCleanup(self.fake.stop)
        self.partner = FakePartner(PARTNER_SECRET)
        self.addCleanup(self.partner.stop)
        self.addCleanup(self.d.stop)
        self.d.start()
        self.admin = self.d.key("admin")
        self.officer = self.d.key("officer")

    def api(self, method, path, body=None, key=None):
        r = self.d.api(method, path, body, key=key or self.officer)
        self.assertLess(r.status, 300, r)
        return r.json

    def inbound(self, text, **extra):
        """The tenant's number texts in through Vonage; waits until it is stored."""
        before = self.db.value("SELECT count(*) FROM inbound_messages")
        self.fake.control("POST", "/_fake/inbound", dict({"from": self.PHONE, "text": text},
                                                        **extra))
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages") > before,
                   what="inbound %r stored" % text)

    def settled(self):
        return self.db.value("SELECT count(*) FROM messages WHERE state IN "
                             "('queued', 'retry', 'sending')") == 0

    def figures(self, cid):
        c = self.api("GET", "/v1/campaigns/%d" % cid)
        outcomes = self.api("GET", "/v1/outcomes")
        return {"counts": c["counts"], "replies": c["replies"], "opt_outs": c["opt_outs"],
                "help_requests": c["help_requests"], "helped": c["helped"],
                "outcomes": outcomes["totals"], "months": outcomes["rows"]}

    def history(self):
        """Everything the tenant leaves behind: a text from the number before it was
        theirs, a campaign text, replies (one in two Vonage parts, one part of another
        still waiting), a conversation, a help request from texts and a referral assigned
        to a partner with a webhook, a partner's note naming them. Returns (tenant id,
        campaign id, referral id, partner key)."""
        self.inbound("Hello, who is this?")
        wait_until(self.settled, what="the answer to a number that is no tenant's")
        pid = self.api("POST", "/v1/partners", {
            "name": "Margate Library", "categories": ["money", "digital_skills"],
            "boroughs": ["Thanet"], "webhook_url": self.partner.url,
            "webhook_secret": PARTNER_SECRET}, key=self.admin)["id"]
        partner_key = self.d.key("partner", pid)
        tid = self.api("POST", "/v1/tenants", {
            "external_ref": self.REF, "first_name": self.NAME, "phone": "07700 900123",
            "borough": "Thanet", "landlord": "Orbit", "tags": ["older"],
            "consent": {"source": "tenancy form"}})["id"]
        cid = self.api("POST", "/v1/campaigns", {
            "name": "Get online", "body": "Hi {first_name}, free help getting online. "
            "Reply SKILLS", "audience": {"boroughs": ["Thanet"]}, "send_window": ALL_WEEK})["id"]
        self.api("POST", "/v1/campaigns/%d/schedule" % cid, {})
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid)["state"] == "completed",
                   what="the campaign sent")
        self.fake.control("POST", "/_fake/callbacks", {"status": "delivered"})
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid)["counts"]["delivered"] == 1,
                   what="the campaign text delivered")
        self.inbound("SKILLS", parts=2)                  # a reply in two parts
        self.fake.control("POST", "/_fake/inbound", {"from": self.PHONE, "text": "Ysolde here "
                                                     "and more", "parts": 2, "order": [1]})
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_parts WHERE "
                                         "series_key IS NULL") == 1, what="a part waiting")
        self.inbound("MONEY")                            # a conversation, left open
        wait_until(lambda: self.db.value("SELECT count(*) FROM conversations WHERE "
                                         "state = 'open'") == 1, what="a conversation")
        self.inbound("2")
        wait_until(lambda: self.db.value("SELECT answers::text FROM conversations WHERE "
                                         "state = 'open'") != "{}", what="an answer")
        ref = self.api("POST", "/v1/referrals", {
            "tenant_id": tid, "category": "money", "answers": {"money": "bills"},
            "consent": True, "note": "Ysolde asked at the office, call 07700 900123"})["id"]
        wait_until(lambda: any(p[1]["data"]["id"] == ref and p[1]["data"].get("phone")
                               for p in self.partner.accepted()), what="the partner's webhook")
        self.api("POST", "/v1/help-requests/%d/accept" % ref,
                 {"note": "Rang Ysolde on +447700900123"}, key=partner_key)
        wait_until(self.settled, what="replies sent")
        return tid, cid, ref, partner_key

    def test_erase_leaves_nothing_and_keeps_figures(self):
        tid, cid, ref, partner_key = self.history()
        needles = number_forms(self.PHONE) + [self.NAME, self.REF]
        before = leaks(self.db, needles)
        self.assertIn("help_requests", before, "the history is there")

        # A reply in flight when the erase comes: its answer arrives afterwards.
        self.fake.control("POST", "/_fake/mode", {"mode": "ok", "delay_ms": 3000})
        self.inbound("HELP")
        in_flight = wait_until(lambda: self.db.value(
            "SELECT id FROM messages WHERE state = 'sending' AND tenant_id = %s", tid),
            what="a reply in flight")
        figures = self.figures(cid)
        erased = self.api("DELETE", "/v1/tenants/%d" % tid)
        self.assertIsNotNone(erased["erased_at"])
        wait_until(lambda: self.db.value("SELECT state FROM messages WHERE id = %s",
                                         in_flight) == "submitted",
                   what="the reply's answer written after the erase")
        self.fake.control("POST", "/_fake/mode", {"mode": "ok"})
        wait_until(self.settled, what="nothing in flight")

        with self.subTest("a send result after the erase writes no body back"):
            self.assertIsNone(self.db.value("SELECT body FROM messages WHERE id = %s",
                                            in_flight))
        with self.subTest("nothing of the tenant is left"):
            found = leaks(self.db, needles)
            self.assertFalse(found, describe(found))
        with self.subTest("campaign counts and outcomes stay"):
            self.assertEqual(self.figures(cid), figures)
        with self.subTest("staff and the partner see no personal fields"):
            for key in (self.officer, partner_key):
                h = self.api("GET", "/v1/help-requests/%d" % ref, key=key)
                self.assertEqual((h["phone"], h["first_name"], h["answers"], h["note"]),
                                 (None, None, {}, None), h)
        texts = self.api("GET", "/v1/tenants/%d/texts" % tid)["items"]
        self.assertEqual([t["body"] for t in texts], [None] * len(texts))


class ErasedOptOutTest(unittest.TestCase):
    """An opted-out tenant's number is never texted again after the erase, though only a
    hash of it is kept."""

    def setUp(self):
        self.db = Database("erasedoptout")
        self.addCleanup(self.db.drop)
        self.d = Daemon(self.db)
        self.addCleanup(self.d.stop)
        self.d.start()
        self.key = self.d.key("officer")

    def api(self, method, path, body=None, headers=None):
        return self.d.api(method, path, body, key=self.key, headers=headers)

    def test_opt_out_survives_the_erase_as_a_hash(self):
        phone = drama_number(124)
        r = self.api("POST", "/v1/tenants", {"external_ref": "OO-1", "first_name": "Olwen",
                                             "phone": phone, "borough": "Thanet"})
        tid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/tenants/%d/opt-out" % tid).status, 200)
        opted = self.api("GET", "/v1/outcomes").json["totals"]["opted_out"]
        self.assertEqual(self.api("DELETE", "/v1/tenants/%d" % tid).status, 200)
        found = leaks(self.db, number_forms(phone) + ["Olwen", "OO-1"])
        self.assertFalse(found, describe(found))
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs"), 1)
        self.assertEqual(self.api("GET", "/v1/outcomes").json["totals"]["opted_out"], opted)
        # The housing system sends the person again: they are still opted out, once.
        csv_body = "external_ref,first_name,phone,borough\nOO-2,Olwen,07700 900124,Thanet\n"
        r = self.api("POST", "/v1/tenants/import", csv_body, headers={"Content-Type": "text/csv"})
        self.assertEqual(r.json["created"], 1, r)
        again = self.db.value("SELECT id FROM tenants WHERE phone = %s", phone)
        self.assertTrue(self.api("GET", "/v1/tenants/%d" % again).json["opted_out"])
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs"), 1)
        self.assertEqual(self.api("GET", "/v1/outcomes").json["totals"]["opted_out"], opted)
        # Erased a second time, and back through the API: still opted out.
        self.assertEqual(self.api("DELETE", "/v1/tenants/%d" % again).status, 200)
        r = self.api("POST", "/v1/tenants", {"external_ref": "OO-3", "phone": phone})
        self.assertTrue(self.api("GET", "/v1/tenants/%d" % r.json["id"]).json["opted_out"])


class SimulatorTest(unittest.TestCase):
    """The simulator's routes exist only when the configuration turns it on, and where
    tenants are texted through a real provider it cannot text in as one of them."""

    def setUp(self):
        self.db = Database("simulator")
        self.addCleanup(self.db.drop)

    def daemon(self, config=None):
        d = Daemon(self.db, config)
        self.addCleanup(d.stop)
        return d.start()

    def test_routes_only_when_turned_on(self):
        d = self.daemon({"providers": [TWILIO]})
        key = d.key("admin")
        for method, path, body in (("POST", "/v1/sim/inbound", {"from": drama_number(130),
                                                                  "text": "START"}),
                                   ("GET", "/v1/sim/messages", None),
                                   ("POST", "/sim/messages", {"to": drama_number(130),
                                                              "text": "hi"})):
            r = d.api(method, path, body, key=key)
            self.assertEqual((r.status, r.json["error"]["code"]), (404, "not_found"), path)
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), 0)

    def test_a_sim_provider_needs_the_simulator(self):
        d = Daemon(self.db, {"providers": [TWILIO, {"name": "sim", "type": "sim"}]})
        r = d.run("migrate", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn('providers[1].type: a "sim" provider needs "simulator": true', r.stderr)
        d.config = {"providers": [TWILIO], "simulator": "yes"}
        r = d.run("migrate", check=False)
        self.assertIn("simulator: must be true or false", r.stderr)

    def test_no_texting_in_as_a_tenant_of_a_real_provider(self):
        d = self.daemon({"providers": [TWILIO, {"name": "sim", "type": "sim"}],
                         "simulator": True})
        key = d.key("officer")
        r = d.api("POST", "/v1/tenants", {"external_ref": "SIM-T", "phone": drama_number(131)},
                  key=key)
        self.assertEqual(r.status, 201, r)
        self.assertEqual(d.api("POST", "/v1/tenants/%d/opt-out" % r.json["id"], key=key).status,
                         200)
        for text in ("START", "YES"):
            r = d.api("POST", "/v1/sim/inbound", {"from": "07700 900131", "text": text}, key=key)
            self.assertEqual((r.status, r.json["error"]["code"], r.json["error"]["field"]),
                             (422, "tenant_number", "from"), r)
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), 0)
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs"), 1, "still opted out")
        r = d.api("POST", "/v1/sim/inbound", {"from": drama_number(132), "text": "HELP"},
                  key=key)
        self.assertEqual(r.status, 202, "a number that is no tenant's")

    def test_demo_tenants_text_in(self):
        d = self.daemon()   # the built-in configuration, as make run uses it
        key = d.key("officer")
        r = d.api("POST", "/v1/tenants", {"external_ref": "SIM-D", "phone": drama_number(133)},
                  key=key)
        self.assertEqual(r.status, 201, r)
        r = d.api("POST", "/v1/sim/inbound", {"from": drama_number(133), "text": "SKILLS"},
                  key=key)
        self.assertEqual(r.status, 202, r)


class KeysTest(unittest.TestCase):
    """Keys listed and revoked from the command line and the API; a revoked key, and a key
    or a console session of a deactivated partner, stop within a second on every daemon."""

    def setUp(self):
        self.db = Database("keys")
        self.addCleanup(self.db.drop)
        self.a = Daemon(self.db)
        self.addCleanup(self.a.stop)
        self.a.start()
        self.b = Daemon(self.db)
        self.addCleanup(self.b.stop)
        self.b.start()
        self.admin = self.a.key("admin")

    def status(self, daemon, key, path="/v1/partners"):
        return daemon.api("GET", path, key=key).status

    def works_on_both(self, key, path="/v1/partners"):
        """Both daemons take the key (and so have it cached)."""
        for d in (self.a, self.b):
            for _ in range(2):
                self.assertEqual(self.status(d, key, path), 200)

    def stops_within_a_second(self, key, path="/v1/partners"):
        started = time.monotonic()
        for d in (self.b, self.a):
            wait_until(lambda: self.status(d, key, path) == 401, timeout=1.0, interval=0.02,
                       what="the key refused by %s" % d.base)
        return time.monotonic() - started

    def key_id(self, key):
        return self.db.value("SELECT id FROM api_keys WHERE key_hash = encode(sha256(%s::bytea), "
                             "'hex')", key)

    def test_list_and_revoke(self):
        officer = self.a.key("officer")
        other = self.a.key("officer")
        hashes = [r[0] for r in self.db.query("SELECT key_hash FROM api_keys")]
        out = self.a.run("keys", "list").stdout
        lines = out.splitlines()
        self.assertEqual(lines[0], "id\trole\tpartner\tlabel\tcreated\trevoked")
        self.assertEqual([l.split("\t")[:2] for l in lines[1:]],
                         [["1", "admin"], ["2", "officer"], ["3", "officer"]])
        r = self.a.api("GET", "/v1/keys", key=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual([k["id"] for k in r.json["items"]], [3, 2, 1])
        self.assertEqual(set(r.json["items"][0]), {"id", "role", "partner_id", "partner_name",
                                                   "label", "created_at", "revoked_at",
                                                   "active"})
        for text in (out, r.body.decode()):
            for secret in [officer, other, self.admin] + hashes:
                self.assertNotIn(secret, text)
            self.assertNotIn("sp_", text)
        self.assertEqual(self.a.api("GET", "/v1/keys", key=officer).status, 403)

        self.works_on_both(officer)
        r = self.a.api("DELETE", "/v1/keys/%d" % self.key_id(officer), key=self.admin)
        self.assertEqual((r.status, r.json["active"]), (200, False), r)
        self.assertIsNotNone(r.json["revoked_at"])
        self.stops_within_a_second(officer)

        self.works_on_both(other)
        r = self.b.run("keys", "revoke", str(self.key_id(other)))
        self.assertEqual(r.stdout.strip(), "revoked key %d" % self.key_id(other))
        self.stops_within_a_second(other)
        listed = self.a.run("keys", "list").stdout.splitlines()
        self.assertNotEqual(listed[2].split("\t")[5], "active", listed[2])

        r = self.a.run("keys", "revoke", "99", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("there is no key with id 99", r.stderr)
        self.assertEqual(self.a.api("DELETE", "/v1/keys/99", key=self.admin).status, 404)
        self.assertEqual(self.a.run("keys", "revoke", check=False).returncode, 2)

    def test_revocation_missed_while_disconnected(self):
        """A daemon whose notification connection is down misses the notification; it must
        not go on trusting its cache."""
        officer = self.a.key("officer")
        self.works_on_both(officer)
        b_id = self.db.value("SELECT id FROM daemons WHERE pid = %s", self.b.process.proc.pid)
        self.assertTrue(self.db.value(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = 21328 AND objid = %s AND objsubid = 2", b_id))
        self.a.run("keys", "revoke", str(self.key_id(officer)))
        self.stops_within_a_second(officer)
        wait_until(lambda: "db session ready" in self.b.log().split("connection closed")[-1],
                   what="b's notification connection back")
        self.assertEqual(self.status(self.b, officer), 401)

    def test_deactivated_partner(self):
        pid = self.a.api("POST", "/v1/partners", {"name": "Library", "categories": ["money"],
                                                   "boroughs": ["Thanet"]},
                         key=self.admin).json["id"]
        key = self.a.key("partner", pid)
        self.a.user("helper@example.org", "kettle river orange", role="partner", partner=pid)
        r = http("POST", self.b.base + "/v1/session", {"email": "helper@example.org",
                                                       "password": "kettle river orange"},
                 {"Content-Type": "application/json"})
        self.assertEqual(r.status, 201, r)
        cookie = {"Cookie": "signpost_session=" + re.match(
            r"signpost_session=([0-9a-f]{64});", r.headers["Set-Cookie"]).group(1)}
        session = lambda: self.b.api("GET", "/v1/help-requests", headers=cookie).status
        self.assertEqual(session(), 200)
        self.works_on_both(key, "/v1/help-requests")

        r = self.a.api("PUT", "/v1/partners/%d" % pid, {"active": False}, key=self.admin)
        self.assertEqual(r.status, 200, r)
        self.stops_within_a_second(key, "/v1/help-requests")
        self.assertEqual(session(), 401)
        self.assertEqual([k["active"] for k in self.a.api("GET", "/v1/keys", key=self.admin)
                          .json["items"] if k["partner_id"] == pid], [False])
        r = self.a.api("PUT", "/v1/partners/%d" % pid, {"active": True}, key=self.admin)
        self.works_on_both(key, "/v1/help-requests")


if __name__ == "__main__":
    unittest.main()
