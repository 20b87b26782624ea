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


def own_world(case, prefix, config=None, daemons=1):
    """A database and started daemons of the test's own, stopped and dropped after it."""
    case.db = Database(prefix)
    case.addCleanup(case.db.drop)
    started = []
    for _ in range(daemons):
        d = Daemon(case.db, config)
        case.addCleanup(d.stop)
        started.append(d.start())
    return started


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
        self.d.landlords("Orbit")
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
        self.d, = own_world(self, "erasedoptout")
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
        self.a, self.b = own_world(self, "keys", daemons=2)
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
        self.assertEqual(lines[0], "id\trole\tpartner\tlabel\tcreated\tstatus")
        self.assertEqual([l.split("\t")[5] for l in lines[1:]], ["active"] * 3)
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
        self.assertTrue(listed[2].split("\t")[5].startswith("revoked 20"), listed[2])

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


class RetentionTest(unittest.TestCase):
    """Rows of every kind, some aged past their retention period (by moving their times
    back) and some not; after a pass exactly the aged ones are cleared, in batches."""

    CONFIG = {"providers": [{"name": "sim", "type": "sim"}], "default_provider": "sim",
              "simulator": True, "retention": {"batch_rows": 2}}

    def setUp(self):
        self.d, = own_world(self, "retention", self.CONFIG)
        self.key = self.d.key("admin")

    def api(self, method, path, body=None):
        r = self.d.api(method, path, body, key=self.key)
        self.assertLess(r.status, 300, r)
        return r.json

    def q(self, sql, *args):
        return self.db.query(sql, *args)

    def campaign(self, name):
        cid = self.api("POST", "/v1/campaigns", {"name": name, "body": "Hi {first_name}",
                                                 "audience": {"boroughs": ["Thanet"]},
                                                 "send_window": ALL_WEEK})["id"]
        self.api("POST", "/v1/campaigns/%d/schedule" % cid, {})
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid)["counts"]["delivered"] == 3,
                   what="campaign %s delivered" % name)
        return cid

    def history(self):
        """Texts both ways through the API, the rest written directly."""
        for i in range(3):
            self.api("POST", "/v1/tenants", {"external_ref": "RT-%d" % i, "first_name": "Ret",
                                             "phone": drama_number(140 + i), "borough": "Thanet"})
        old_c, new_c = self.campaign("Old"), self.campaign("New")
        for i in range(6):
            self.api("POST", "/v1/sim/inbound", {"from": drama_number(140 + i), "text": "HELLO"})
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply' "
                                         "AND state = 'delivered'") == 6, what="six replies")
        q = self.q
        q("INSERT INTO inbound_parts (provider, provider_msg_id, from_phone, to_phone, "
          "concat_ref, total, part, body, received_at) VALUES "
          "('sim', 'p-old', %s, '+447700900000', '1', 2, 1, 'SKI', now() - interval '3 days'), "
          "('sim', 'p-new', %s, '+447700900000', '2', 2, 1, 'MON', now())",
          drama_number(150), drama_number(151))
        q("INSERT INTO conversations (id, phone, provider, flow, step, answers, state, "
          "expires_at, closed_at) VALUES "
          "(901, %s, 'sim', 'digital_skills', 'how', '{\"money\": \"bills\"}', 'expired', now(), "
          "  now() - interval '91 days'), "
          "(902, %s, 'sim', 'digital_skills', 'how', '{\"money\": \"bills\"}', 'done', now(), "
          "  now() - interval '89 days'), "
          "(903, %s, 'sim', 'digital_skills', 'how', '{\"money\": \"bills\"}', 'open', "
          "  now() + interval '1 day', NULL)",
          drama_number(152), drama_number(153), drama_number(154))
        q("UPDATE conversations SET created_at = now() - interval '200 days' WHERE id = 903")
        pid = self.api("POST", "/v1/partners", {"name": "Library", "categories": ["money"],
                                                "boroughs": ["Thanet"]})["id"]
        # 911 closed a year ago, 912 two years ago, 913 ten days ago; 914 open for longer.
        for hid, state, closed in ((911, "resolved", "366 days"),
                                   (912, "closed_no_contact", "731 days"),
                                   (913, "resolved", "10 days"), (914, "assigned", None)):
            q("INSERT INTO help_requests (id, category, state, borough, phone, first_name, "
              "answers, note, partner_id, consent, outcome, created_at, closed_at, resolved_at, "
              "followup_sent_at) VALUES (%s, 'money', %s, 'Thanet', %s, 'Rhiannon', "
              "'{\"money\": \"bills\"}', 'call after 5', %s, true, "
              "CASE WHEN %s = 'resolved' THEN 'helped' END, now() - interval '800 days', "
              "now() - %s::interval, CASE WHEN %s = 'resolved' THEN now() - %s::interval END, "
              "now())", hid, state, drama_number(160), pid, state, closed, state, closed)
            q("INSERT INTO help_request_events (help_request_id, to_state, note) "
              "VALUES (%s, 'new', 'rang Rhiannon')", hid)
            q("INSERT INTO partner_outbox (partner_id, help_request_id, event, payload, "
              "give_up_at, delivered_at) VALUES (%s, %s, 'help_request.assigned', "
              "jsonb_build_object('data', jsonb_build_object('id', %s::int, 'phone', %s::text, "
              "'first_name', 'Rhiannon', 'answers', '{}'::jsonb, 'category', 'money')), now(), "
              "now())", pid, hid, hid, drama_number(160))
        q("INSERT INTO sign_in_failures (email, at) VALUES ('a@example.org', now() - "
          "interval '2 days'), ('b@example.org', now() - interval '23 hours'), "
          "('c@example.org', now())")
        self.d.user("staff@example.org", "kettle river orange")
        uid = self.db.value("SELECT id FROM users WHERE email = 'staff@example.org'")
        q("INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at) VALUES "
          "('s-old', %s, 'x', now() - interval '2 days'), ('s-ended', %s, 'x', now() - "
          "interval '1 hour'), ('s-live', %s, 'x', now() + interval '1 hour')", uid, uid, uid)
        q("INSERT INTO user_invites (token_hash, user_id, expires_at, used_at) VALUES "
          "('i-used', %s, now() + interval '1 day', now() - interval '2 days'), "
          "('i-expired', %s, now() - interval '2 days', NULL), "
          "('i-valid', %s, now() + interval '1 day', NULL)", uid, uid, uid)
        return old_c, new_c

    def age(self, old_c):
        q = self.q
        q("UPDATE campaigns SET completed_at = completed_at - interval '181 days' WHERE id = %s",
          old_c)
        q("UPDATE messages SET created_at = created_at - interval '181 days' WHERE id IN "
          "(SELECT id FROM messages WHERE kind = 'reply' ORDER BY id LIMIT 3)")
        q("UPDATE inbound_messages SET received_at = received_at - interval '181 days' "
          "WHERE id IN (SELECT id FROM inbound_messages ORDER BY id LIMIT 5)")
        q("UPDATE receipts SET received_at = received_at - interval '31 days' WHERE id IN "
          "(SELECT id FROM receipts ORDER BY id LIMIT 3)")

    def ids(self, sql, *args):
        return sorted(r[0] for r in self.q(sql, *args))

    def test_configuration_errors(self):
        d = Daemon(self.db)
        for retention, message in (
                ({"message_body_day": 5}, 'retention: unknown key "message_body_day", did you '
                                          'mean "message_body_days"?'),
                ({"receipt_days": 0}, "retention.receipt_days: must be between 1 and 3650"),
                ({"batch_rows": "many"}, "retention.batch_rows: must be a number"),
                ({"help_request_personal_days": 7}, "retention.help_request_personal_days: "
                                                    "must be longer than")):
            d.config = dict(self.CONFIG, retention=retention)
            r = d.run("migrate", check=False)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn(message, r.stderr)

    def test_pass_clears_exactly_what_is_old_enough(self):
        old_c, new_c = self.history()
        counts = {c: self.api("GET", "/v1/campaigns/%d" % c)["counts"] for c in (old_c, new_c)}
        replies = self.ids("SELECT id FROM messages WHERE kind = 'reply'")
        inbound = self.ids("SELECT id FROM inbound_messages")
        receipts = self.ids("SELECT id FROM receipts")
        self.age(old_c)
        self.d.stop()
        self.d.start()   # a pass at start-up
        wait_until(lambda: "retention pass finished" in self.d.log(), what="a retention pass")
        log = self.d.log()

        q, ids = self.q, self.ids
        self.assertEqual(q("SELECT count(*), count(body) FROM messages WHERE campaign_id = %s",
                           old_c), [(3, 0)], "an old campaign's texts lose their bodies")
        self.assertEqual(q("SELECT count(*), count(body) FROM messages WHERE campaign_id = %s",
                           new_c), [(3, 3)])
        self.assertIsNotNone(self.db.value("SELECT bodies_cleared_at FROM campaigns WHERE id = %s",
                                           old_c))
        self.assertEqual(ids("SELECT id FROM messages WHERE kind = 'reply' AND body IS NULL"),
                         replies[:3])
        self.assertEqual(ids("SELECT id FROM inbound_messages WHERE body IS NULL"), inbound[:5])
        self.assertEqual(self.db.value("SELECT count(from_phone) FROM inbound_messages"), 6,
                         "numbers stay with their texts")
        self.assertEqual(ids("SELECT provider_msg_id FROM inbound_parts"), ["p-new"])
        self.assertEqual(q("SELECT id, phone IS NULL, answers = '{}' FROM conversations "
                           "WHERE id > 900 ORDER BY id"),
                         [(901, True, True), (902, False, False), (903, False, False)])
        self.assertEqual(q("SELECT id, state, phone, first_name, answers::text, note, outcome, "
                           "category, borough FROM help_requests ORDER BY id"),
                         [(911, "resolved", None, None, "{}", None, "helped", "money", "Thanet"),
                          (913, "resolved", drama_number(160), "Rhiannon",
                           '{"money": "bills"}', "call after 5", "helped", "money", "Thanet"),
                          (914, "assigned", drama_number(160), "Rhiannon",
                           '{"money": "bills"}', "call after 5", None, "money", "Thanet")])
        self.assertEqual(q("SELECT help_request_id, note FROM help_request_events "
                           "ORDER BY help_request_id"),
                         [(911, None), (913, "rang Rhiannon"), (914, "rang Rhiannon")])
        self.assertEqual(q("SELECT help_request_id, payload->'data' ? 'phone', "
                           "payload->'data'->>'category' FROM partner_outbox "
                           "ORDER BY help_request_id"),
                         [(911, False, "money"), (913, True, "money"), (914, True, "money")])
        self.assertEqual(ids("SELECT id FROM receipts"), receipts[3:])
        self.assertEqual(ids("SELECT email FROM sign_in_failures"), ["b@example.org",
                                                                     "c@example.org"])
        self.assertEqual(ids("SELECT token_hash FROM sessions"), ["s-ended", "s-live"])
        self.assertEqual(ids("SELECT token_hash FROM user_invites"), ["i-valid"])
        for c in (old_c, new_c):
            self.assertEqual(self.api("GET", "/v1/campaigns/%d" % c)["counts"], counts[c])
        # Bounded batches of two rows: five old texts in, cleared two, two and one.
        self.assertEqual(re.findall(r"retention batch task=inbound_texts cleared=(\d)", log),
                         ["2", "2", "1"])
        self.assertEqual(re.findall(r"retention batch task=campaign_texts cleared=(\d)", log),
                         ["2", "1", "0"])


if __name__ == "__main__":
    unittest.main()
