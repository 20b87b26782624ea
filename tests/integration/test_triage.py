"""Triage and referral with the real daemon: keyword replies become conversations, help
requests, signed partner webhooks (retried while a partner is down), partner actions and a
follow-up; timers are driven by moving stored times back, never by sleeping.

Each test of the journey has a database, daemon, fake Twilio and fake partners of its own,
so it passes alone and in any order (one test's partners, help requests, keywords or
flows are never another's)."""
import base64
import itertools
import json
import unittest
import urllib.request

from fake_partner import FakePartner, sign, verify
from harness import (PARTNERS_ON_LOOPBACK, IntegrationCase, Daemon, Database, FakeServer,
                     drama_number, http, post_twilio, wait_until)

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token-not-a-secret"
ALL_WEEK = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00", "end": "24:00"}
SECRET_A = "whsec_" + base64.b64encode(b"signpost-test-partner-aa").decode()
SECRET_B = "whsec_" + base64.b64encode(b"signpost-test-partner-bb").decode()
SECRET_C = "whsec_" + base64.b64encode(b"signpost-test-partner-cc").decode()
SIDS = itertools.count(1)


def config(fake):
    return {"providers": [
        {"name": "twilio", "type": "twilio", "base_url": fake.base, "account_sid": SID,
         "auth_token": TOKEN, "from": "+447700900000"},
        {"name": "sim", "type": "sim"}],
        "default_provider": "twilio", "simulator": True, "org_name": "Kent Digital Help",
        "triage": {"conversation_ttl_seconds": 3600, "reminder_after_seconds": 1800,
                   "accept_deadline_seconds": 3600, "followup_after_seconds": 604800,
                   "partner_retry_seconds": 1, "partner_retry_max_seconds": 2},
        **PARTNERS_ON_LOOPBACK}


class FakePartnerSelfCheck(IntegrationCase):
    """The fake partner must refuse what a real partner would refuse."""

    def test_refuses_a_wrong_signature(self):
        fake = FakePartner(SECRET_A)
        try:
            body = b'{"type": "help_request.assigned"}'
            now = int(__import__("time").time())
            good = {"webhook-id": "msg_1", "webhook-timestamp": str(now),
                    "webhook-signature": sign(SECRET_A, "msg_1", now, body)}
            self.assertTrue(verify(SECRET_A, good, body))
            self.assertFalse(verify(SECRET_B, good, body), "another partner's secret")
            self.assertFalse(verify(SECRET_A, good, body + b" "), "a changed body")
            self.assertFalse(verify(SECRET_A, dict(good, **{"webhook-timestamp": str(now - 900)}),
                                    body), "an old timestamp")
            wrong = dict(good, **{"webhook-signature": sign(SECRET_B, "msg_1", now, body),
                                  "Content-Type": "application/json"})
            r = urllib.request.Request(fake.url, data=body, headers=wrong, method="POST")
            with self.assertRaises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(r, timeout=10)
            self.assertEqual(e.exception.code, 401)
            self.assertEqual(fake.accepted(), [])
        finally:
            fake.stop()


class TimeRulesSqlTest(IntegrationCase):
    """Quiet hours, working days and partner matching, with fixed times and fixtures."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Daemon(cls.db).run("migrate")

    def reply_at(self, at, last=None):
        return self.db.value("SELECT to_char(signpost_reply_at(%s::timestamptz, %s::timestamptz) "
                             "AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')", at, last)

    def test_quiet_hours(self):
        self.assertEqual(self.reply_at("2026-11-25 12:00Z"), "2026-11-25 12:00")
        self.assertEqual(self.reply_at("2026-11-25 20:59Z"), "2026-11-25 20:59")
        self.assertEqual(self.reply_at("2026-11-25 21:00Z"), "2026-11-26 08:00")
        self.assertEqual(self.reply_at("2026-11-25 22:30Z"), "2026-11-26 08:00")
        self.assertEqual(self.reply_at("2026-11-26 07:59Z"), "2026-11-26 08:00")
        # British Summer Time: 21:30 in London is 20:30 UTC; 08:00 is 07:00 UTC.
        self.assertEqual(self.reply_at("2026-07-01 20:30Z"), "2026-07-02 07:00")
        self.assertEqual(self.reply_at("2026-07-01 19:59Z"), "2026-07-01 19:59")
        # The night the clocks go forward (29 March 2026).
        self.assertEqual(self.reply_at("2026-03-28 23:30Z"), "2026-03-29 07:00")
        # A tenant who texted in the last ten minutes gets an answer at once.
        self.assertEqual(self.reply_at("2026-11-25 22:30Z", "2026-11-25 22:25Z"), "2026-11-25 22:30")
        self.assertEqual(self.reply_at("2026-11-25 22:30Z", "2026-11-25 22:19Z"), "2026-11-26 08:00")

    def test_partner_matching(self):
        q = self.db.query
        q("INSERT INTO partners (id, name, categories, boroughs, capacity) VALUES "
          "(101, 'small', '{money}', '{Thanet}', 1), (102, 'big', '{money,jobs}', '{Thanet}', 3), "
          "(103, 'elsewhere', '{money}', '{Maidstone}', 9), (104, 'off', '{money}', '{Thanet}', 9)")
        q("UPDATE partners SET active = false WHERE id = 104")
        pick = lambda cat, borough, excluded="{}": self.db.value(
            "SELECT signpost_pick_partner(%s, %s, %s::bigint[])", cat, borough, excluded)
        self.assertEqual(pick("money", "thanet"), 102, "most spare capacity, any case")
        self.assertEqual(pick("money", "Thanet", "{102}"), 101, "not one that declined")
        self.assertEqual(pick("jobs", "Thanet"), 102)
        self.assertIsNone(pick("staying_safe", "Thanet"), "nobody covers the category")
        self.assertIsNone(pick("money", None))
        q("INSERT INTO help_requests (category, state, partner_id) VALUES "
          "('money', 'assigned', 102), ('money', 'accepted', 102), ('money', 'resolved', 101)")
        self.assertEqual(pick("money", "Thanet"), 101, "102 has 1 spare, 101 has 1: lower id")
        q("INSERT INTO help_requests (category, state, partner_id) VALUES ('money', 'contacted', 101)")
        self.assertEqual(pick("money", "Thanet"), 102)
        q("INSERT INTO help_requests (category, state, partner_id) VALUES ('money', 'assigned', 102)")
        self.assertIsNone(pick("money", "Thanet"), "everyone is full: officers' queue")


class TriageTest(unittest.TestCase):
    def setUp(self):
        """A world of this test's own; cleanups stop the daemon first and drop the
        database last, even when a step here fails."""
        self.db = Database("triagetest")
        self.addCleanup(self.db.drop)
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        self.addCleanup(self.fake.stop)
        self.partner_a = FakePartner(SECRET_A)
        self.addCleanup(self.partner_a.stop)
        self.partner_b = FakePartner(SECRET_B)
        self.addCleanup(self.partner_b.stop)
        self.partner_c = FakePartner(SECRET_C)
        self.addCleanup(self.partner_c.stop)
        self.d = Daemon(self.db, config(self.fake))
        self.addCleanup(self.d.stop)
        self.d.start()
        self.admin = self.d.key("admin")
        self.officer = self.d.key("officer")

    def api(self, method, path, body=None, key=None):
        return self.d.api(method, path, body, key=key or self.officer)

    def tenant(self, i, borough, name="Sam"):
        r = self.api("POST", "/v1/tenants", {"external_ref": "TR-%d" % i, "first_name": name,
                                             "phone": drama_number(i), "borough": borough})
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def partner(self, body):
        r = self.api("POST", "/v1/partners", body, key=self.admin)
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def text(self, frm, body, sid=None):
        """The tenant texts in through Twilio; returns the reply in the TwiML answer."""
        sid = sid or "SM%032d" % next(SIDS)
        params = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", SID), ("From", frm),
                  ("To", "+447700900000"), ("Body", body), ("NumMedia", "0")]
        r = post_twilio(self.d, "/v1/providers/twilio/inbound", params, TOKEN)
        self.assertEqual(r.status, 200, r)
        text = r.body.decode()
        if "<Message>" not in text:
            return None
        return text.split("<Message>", 1)[1].split("</Message>", 1)[0].replace("&apos;", "'")

    def conversation(self, tid):
        return self.api("GET", "/v1/tenants/%d" % tid).json["conversation"]

    def help_request(self, hid, key=None):
        return self.api("GET", "/v1/help-requests/%d" % hid, key=key)

    # ---- the whole journey ----

    def test_1_journey_campaign_to_partner_to_follow_up(self):
        tid = self.tenant(101, "Thanet", "Alex")
        small = self.partner({"name": "Margate Library", "categories": ["money"],
                              "boroughs": ["Thanet"], "capacity": 1,
                              "webhook_url": self.partner_a.url, "webhook_secret": SECRET_A})
        big = self.partner({"name": "Thanet Money Advice", "categories": ["money", "jobs"],
                            "boroughs": ["thanet"], "capacity": 3,
                            "webhook_url": self.partner_b.url, "webhook_secret": SECRET_B})
        key_small = self.d.key("partner", small)
        key_big = self.d.key("partner", big)

        r = self.api("POST", "/v1/campaigns", {"name": "Money online", "body": "Hi {first_name}, "
                                               "free help with money online. Reply MONEY",
                                               "audience": {"boroughs": ["Thanet"]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid, {}).status, 200)
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]["submitted"] == 1,
                   what="campaign text sent")

        self.assertIsNone(self.conversation(tid))
        reply = self.text(drama_number(101), "money please")
        self.assertTrue(reply.startswith("Which money help?"), reply)
        conv = self.conversation(tid)
        self.assertEqual((conv["flow"], conv["step"]), ("digital_skills", "money"))
        self.assertIsNotNone(conv["expires_at"])
        self.assertTrue(self.text(drama_number(101), "2").startswith("How would you like help?"))
        self.assertTrue(self.text(drama_number(101), "Face to face please").startswith("What time"))
        # Not an answer: asked again once, with the options.
        again = self.text(drama_number(101), "banana")
        self.assertTrue(again.startswith("Sorry, we did not understand that. What time"), again)
        self.assertIn("Reply YES so a local helper can contact you", self.text(drama_number(101), "1."))
        self.assertEqual(self.conversation(tid)["step"], "consent")
        done = self.text(drama_number(101), "Yes!")
        self.assertIn("local helper will contact you", done)
        self.assertIsNone(self.conversation(tid))

        items = self.api("GET", "/v1/help-requests?category=money").json["items"]
        self.assertEqual(len(items), 1, items)
        h = items[0]
        self.assertEqual((h["tenant_id"], h["campaign_id"], h["borough"], h["consent"]),
                         (tid, cid, "Thanet", True))
        self.assertEqual(h["answers"], {"money": "bills", "how": "face_to_face",
                                        "when": "morning", "consent": "yes"})
        hid = h["id"]
        # The partner with the most spare capacity gets it, and a signed webhook.
        wait_until(lambda: self.help_request(hid).json["state"] == "assigned", what="assigned")
        self.assertEqual(self.help_request(hid).json["partner_id"], big)
        got = wait_until(lambda: self.partner_b.accepted(), what="webhook to the partner")
        wid, payload, valid, _ = got[0]
        self.assertTrue(valid)
        self.assertEqual(payload["type"], "help_request.assigned")
        self.assertEqual(payload["data"]["id"], hid)
        self.assertEqual(payload["data"]["first_name"], "Alex", "consented: contact details")
        self.assertEqual(payload["data"]["phone"], drama_number(101))
        self.assertEqual(payload["data"]["answers"]["how"], "face_to_face")
        self.assertEqual(self.partner_a.all(), [])

        # Another partner's key sees nothing of it, and cannot touch it.
        self.assertEqual(self.help_request(hid, key_small).status, 404)
        self.assertEqual(self.api("POST", "/v1/help-requests/%d/accept" % hid, {}, key_small).status, 404)
        self.assertEqual(self.api("GET", "/v1/help-requests", key=key_small).json["items"], [])
        mine = self.api("GET", "/v1/help-requests", key=key_big).json["items"]
        self.assertEqual([m["id"] for m in mine], [hid])
        self.assertNotIn("tenant_id", mine[0])
        self.assertEqual(self.api("GET", "/v1/partners", key=key_big).status, 403)

        # It declines: the request goes to the next partner.
        r = self.api("POST", "/v1/help-requests/%d/decline" % hid, {"note": "no advisers free"}, key_big)
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: self.help_request(hid).json["partner_id"] == small, what="next partner")
        wait_until(lambda: self.partner_a.accepted(), what="webhook to the second partner")
        self.assertEqual(self.help_request(hid, key_big).status, 404)
        # Accept, contacted, resolve, with a timestamp for each.
        r = self.api("POST", "/v1/help-requests/%d/contacted" % hid, {}, key_small)
        self.assertEqual(r.status, 409, r)
        self.assertEqual(r.json["error"]["field"], "state")
        for action, body in (("accept", {}), ("contacted", {}), ("resolve", {"outcome": "helped"})):
            r = self.api("POST", "/v1/help-requests/%d/%s" % (hid, action), body, key_small)
            self.assertEqual(r.status, 200, (action, r))
        h = r.json
        self.assertEqual((h["state"], h["outcome"]), ("resolved", "helped"))
        for ts in ("assigned_at", "accepted_at", "contacted_at", "resolved_at", "closed_at"):
            self.assertIsNotNone(h[ts], ts)
        r = self.api("POST", "/v1/help-requests/%d/resolve" % hid, {"outcome": "maybe"}, key_small)
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "outcome"))

        # A week later (moved back, not waited for): one follow-up text, and its answer.
        self.db.query("UPDATE help_requests SET resolved_at = now() - interval '8 days' WHERE id = %s", hid)
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply' AND "
                                         "to_phone = %s AND body LIKE 'Did you get the help%%'",
                                         drama_number(101)) == 1, what="follow-up text")
        self.assertEqual(self.conversation(tid)["flow"], "followup")
        sid = "SM%032d" % next(SIDS)
        self.assertIn("Thank you", self.text(drama_number(101), "yes", sid))
        self.assertEqual(self.help_request(hid).json["followup_outcome"], "yes")
        # The same webhook again changes nothing and answers nothing.
        before = self.db.value("SELECT count(*) FROM inbound_messages")
        self.assertIsNone(self.text(drama_number(101), "no", sid))
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages"), before)
        self.assertEqual(self.help_request(hid).json["followup_outcome"], "yes")
        self.db.query("UPDATE help_requests SET resolved_at = now() - interval '30 days' WHERE id = %s", hid)
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE body LIKE 'Did you get%%'"), 1)

        csv = self.api("GET", "/v1/help-requests/report.csv?category=money")
        self.assertEqual(csv.status, 200)
        lines = csv.body.decode().splitlines()
        self.assertTrue(lines[0].startswith("id,created_at,state,category,borough,partner"))
        self.assertIn("resolved,money,Thanet,Margate Library", lines[1])

    # ---- a partner that is down ----

    def test_2_partner_down_then_recovers(self):
        self.tenant(102, "Maidstone", "Jo")
        self.partner({"name": "Maidstone Digital Champions", "categories": ["digital_skills"],
                      "boroughs": ["Maidstone"], "capacity": 5,
                      "webhook_url": self.partner_c.url, "webhook_secret": SECRET_C})
        self.partner_c.down = True
        self.assertIn("in touch", self.text(drama_number(102), "SKILLS"))
        hid = self.db.value("SELECT id FROM help_requests WHERE phone = %s", drama_number(102))
        wait_until(lambda: len(self.partner_c.all()) >= 3, what="retries while down")
        row = self.db.query("SELECT attempts, delivered_at, last_status FROM partner_outbox "
                            "WHERE help_request_id = %s", hid)[0]
        self.assertGreaterEqual(row[0], 3)
        self.assertEqual((row[1], row[2]), (None, 503))
        # An hour passes (stored times moved back): still down, still retried, not given up.
        self.db.query("UPDATE partner_outbox SET created_at = created_at - interval '1 hour', "
                      "next_attempt_at = now() WHERE help_request_id = %s", hid)
        n = len(self.partner_c.all())
        wait_until(lambda: len(self.partner_c.all()) > n, what="retry after an hour")
        self.partner_c.down = False
        wait_until(lambda: self.partner_c.accepted(), what="delivered after recovery")
        wait_until(lambda: self.db.value("SELECT delivered_at IS NOT NULL FROM partner_outbox "
                                         "WHERE help_request_id = %s", hid), what="recorded")
        ids = {r[0] for r in self.partner_c.all()}
        self.assertEqual(len(ids), 1, "every attempt carries the same webhook-id")
        self.assertTrue(all(r[2] for r in self.partner_c.all()), "every attempt is signed")
        self.assertEqual(len(self.partner_c.accepted()), 1)
        self.assertEqual(self.partner_c.accepted()[0][1]["data"]["consent"], False)
        self.assertNotIn("phone", self.partner_c.accepted()[0][1]["data"],
                         "no consent to share: no contact details")

    def test_3_deadline_and_give_up_escalate(self):
        self.tenant(103, "Swale")
        self.partner({"name": "Sheerness Library", "categories": ["digital_skills"],
                      "boroughs": ["Swale"], "webhook_url": self.partner_c.url,
                      "webhook_secret": SECRET_C})
        self.text(drama_number(103), "skills")
        hid = self.db.value("SELECT id FROM help_requests WHERE phone = %s", drama_number(103))
        wait_until(lambda: self.help_request(hid).json["state"] == "assigned", what="assigned")
        # accept_deadline_seconds is 3600 here (0, the default, counts two working days).
        self.assertAlmostEqual(self.db.value(
            "SELECT extract(epoch FROM deadline_at - assigned_at) FROM help_requests "
            "WHERE id = %s", hid), 3600, delta=5)
        self.db.query("UPDATE help_requests SET deadline_at = now() - interval '1 second' "
                      "WHERE id = %s", hid)
        wait_until(lambda: self.help_request(hid).json["escalation_reason"] == "not_accepted",
                   what="escalated")
        queue = self.api("GET", "/v1/help-requests?queue=officers").json["items"]
        self.assertIn(hid, [q["id"] for q in queue])
        # A webhook that never gets through escalates too.
        self.db.query("UPDATE help_requests SET escalated_at = NULL, escalation_reason = NULL, "
                      "deadline_at = now() + interval '1 day' WHERE id = %s", hid)
        self.db.query("INSERT INTO partner_outbox (partner_id, help_request_id, event, payload, "
                      "give_up_at, next_attempt_at) SELECT partner_id, id, 'x', '{}', now(), "
                      "now() + interval '1 day' FROM help_requests WHERE id = %s", hid)
        wait_until(lambda: self.help_request(hid).json["escalation_reason"] == "webhook_failed",
                   what="escalated after giving up")

    # ---- conversations ----

    def test_4_reminder_then_expiry(self):
        tid = self.tenant(104, "Tunbridge Wells")
        self.assertTrue(self.text(drama_number(104), "JOBS").startswith("Which job help?"))
        self.db.query("UPDATE conversations SET last_inbound_at = now() - interval '31 minutes' "
                      "WHERE phone = %s", drama_number(104))
        body = wait_until(lambda: self.db.value(
            "SELECT body FROM messages WHERE kind = 'reply' AND to_phone = %s AND body LIKE "
            "'Reminder:%%'", drama_number(104)), what="reminder")
        self.assertTrue(body.startswith("Reminder: Which job help?"), body)
        due = self.db.value("SELECT next_attempt_at = signpost_reply_at(created_at, now() - "
                            "interval '31 minutes') OR next_attempt_at <= now() FROM messages "
                            "WHERE body LIKE 'Reminder:%%' AND to_phone = %s", drama_number(104))
        self.assertTrue(due, "the reminder follows quiet hours")
        # One reminder only.
        self.db.query("UPDATE conversations SET last_inbound_at = now() - interval '59 minutes' "
                      "WHERE phone = %s", drama_number(104))
        self.db.query("UPDATE conversations SET expires_at = now() - interval '1 second' "
                      "WHERE phone = %s", drama_number(104))
        wait_until(lambda: self.db.value("SELECT state FROM conversations WHERE phone = %s",
                                         drama_number(104)) == "expired", what="expired")
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE body LIKE 'Reminder:%%' "
                                       "AND to_phone = %s", drama_number(104)), 1)
        self.assertIsNone(self.conversation(tid))
        # An answer after expiry is not taken as an answer.
        self.assertTrue(self.text(drama_number(104), "1").startswith("Sorry, we did not understand"))

    def test_5_not_understood_twice_needs_a_call(self):
        tid = self.tenant(105, "Tunbridge Wells")
        self.assertTrue(self.text(drama_number(105), "UC").startswith("Which Universal Credit help?"))
        self.assertTrue(self.text(drama_number(105), "what").startswith("Sorry, we did not understand"))
        self.assertIn("will call you", self.text(drama_number(105), "I do not know"))
        h = self.api("GET", "/v1/help-requests?queue=officers").json["items"]
        mine = [x for x in h if x["tenant_id"] == tid]
        self.assertEqual(len(mine), 1, h)
        self.assertTrue(mine[0]["needs_call"])
        self.assertIsNone(mine[0]["partner_id"])
        self.assertIsNone(self.conversation(tid))

    def test_6_typo_asks_first(self):
        self.tenant(106, "Tunbridge Wells")
        self.assertEqual(self.text(drama_number(106), "SKILS"), "Did you mean SKILLS? Reply YES")
        self.assertEqual(self.db.value("SELECT count(*) FROM help_requests WHERE phone = %s",
                                       drama_number(106)), 0)
        self.assertIn("in touch", self.text(drama_number(106), "yes"))
        self.assertEqual(self.db.value("SELECT count(*) FROM help_requests WHERE phone = %s",
                                       drama_number(106)), 1)
        # A typo of STOP asks too; anything but YES leaves the tenant subscribed.
        self.assertEqual(self.text(drama_number(106), "STOPP"), "Did you mean STOP? Reply YES")
        self.text(drama_number(106), "no")
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                       drama_number(106)), 0)

    def test_7_stop_in_a_conversation(self):
        tid = self.tenant(107, "Tunbridge Wells")
        self.text(drama_number(107), "MONEY")
        self.assertIn("not get any more texts", self.text(drama_number(107), "stop"))
        self.assertIsNone(self.conversation(tid))
        self.assertTrue(self.api("GET", "/v1/tenants/%d" % tid).json["opted_out"])

    def test_8_unknown_number(self):
        reply = self.text(drama_number(908), "hello?")
        self.assertIn("digital help service", reply)
        self.text(drama_number(908), "MONEY")
        for answer in ("3", "1", "2", "YES"):
            self.text(drama_number(908), answer)
        rows = self.db.query("SELECT tenant_id, category, consent FROM help_requests WHERE phone = %s",
                             drama_number(908))
        self.assertEqual(rows, [(None, "money", True)])

    # ---- keywords and flows as data ----

    def test_9_keywords_and_flows_api(self):
        r = self.api("GET", "/v1/keywords")
        self.assertEqual(r.status, 200)
        words = [k["word"] for k in r.json["keywords"]]
        self.assertIn("MONEY", words)
        new = json.loads(json.dumps(r.json))
        new["keywords"].append({"word": "CHAT", "action": "flow", "target": "digital_skills"})
        new["keywords"].append({"word": "PEIDIWCH", "action": "opt_out"})
        self.assertEqual(self.api("PUT", "/v1/keywords", new).status, 403, "officers cannot")
        r = self.api("PUT", "/v1/keywords", new, key=self.admin)
        self.assertEqual(r.status, 200, r)
        self.tenant(109, "Tunbridge Wells")
        self.assertTrue(self.text(drama_number(109), "chat").startswith("What would you like help with?"))
        self.tenant(112, "Tunbridge Wells")
        self.assertIn("not get any more texts", self.text(drama_number(112), "Peidiwch."))
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                       drama_number(112)), 1)
        bad = json.loads(json.dumps(new))
        bad["keywords"].append({"word": "TALK", "action": "flow", "target": "nope"})
        r = self.api("PUT", "/v1/keywords", bad, key=self.admin)
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "keywords"), r)
        bad["keywords"][-1] = {"word": "STOP", "action": "info"}
        self.assertEqual(self.api("PUT", "/v1/keywords", bad, key=self.admin).status, 422)

        flow = self.api("GET", "/v1/flows/digital_skills").json
        self.assertEqual(flow["start"], "topic")
        broken = json.loads(json.dumps(flow))
        broken["steps"][-1]["answers"] = [{"match": ["YES"], "value": "yes", "next": "consent"}]
        r = self.api("PUT", "/v1/flows/digital_skills", broken, key=self.admin)
        self.assertEqual(r.status, 422, r)
        self.assertIn("dead end", r.json["error"]["message"])
        no_entry = json.loads(json.dumps(flow))
        no_entry["entries"] = []
        no_entry["steps"] = [s for s in no_entry["steps"] if s["id"] != "money"]
        for s in no_entry["steps"]:
            for a in s["answers"]:
                if a.get("next") == "money":
                    a["next"] = "how"
        r = self.api("PUT", "/v1/flows/digital_skills", no_entry, key=self.admin)
        self.assertEqual(r.status, 422, r)
        self.assertIn("MONEY", r.json["error"]["message"], "a keyword still jumps there")
        edited = json.loads(json.dumps(flow))
        edited["steps"][0]["question"] = "What can we help with? Reply 1 to 6"
        r = self.api("PUT", "/v1/flows/digital_skills", edited, key=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.text(drama_number(109), "chat"), "What can we help with? Reply 1 to 6")
        self.assertEqual(self.api("GET", "/v1/flows/nope").status, 404)
        confirm = dict(edited, name="confirm")
        r = self.api("PUT", "/v1/flows/confirm", confirm, key=self.admin)
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "name"), r)

    def test_replies_as_texts_without_a_synchronous_answer(self):
        # A number that is no tenant's: tenants here are texted through Twilio, and the
        # simulator may not text in as one of them.
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(111), "text": "UC"})
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: any(t["to"] == drama_number(111) and
                               t["text"].startswith("Which Universal Credit help?")
                               for t in self.api("GET", "/v1/sim/messages").json["items"]),
                   what="the question as a reply text")
        self.assertEqual(self.db.value("SELECT step FROM conversations WHERE phone = %s AND "
                                       "state = 'open'", drama_number(111)), "uc")
        self.assertEqual(self.db.value("SELECT kind FROM messages WHERE to_phone = %s",
                                       drama_number(111)), "reply")

    def test_partner_added_later_takes_waiting_requests(self):
        self.tenant(110, "Dover")
        self.text(drama_number(110), "SKILLS")
        hid = self.db.value("SELECT id FROM help_requests WHERE phone = %s", drama_number(110))
        wait_until(lambda: self.help_request(hid).json["escalation_reason"] == "no_partner",
                   what="officers' queue")
        self.assertIn(hid, [q["id"] for q in
                            self.api("GET", "/v1/help-requests?queue=officers").json["items"]])
        pid = self.partner({"name": "Dover Library", "categories": ["jobs"], "boroughs": ["Dover"]})
        r = self.api("PUT", "/v1/partners/%d" % pid, {"categories": ["jobs", "digital_skills"]},
                     key=self.admin)
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: self.help_request(hid).json["partner_id"] == pid, what="matched again")
        self.assertEqual(self.help_request(hid).json["state"], "assigned")

    def test_partner_api_validation(self):
        for body, field in (({}, "name"),
                            ({"name": "x", "capacity": -1}, "capacity"),
                            ({"name": "x", "categories": ["Money!"]}, "categories"),
                            ({"name": "x", "webhook_url": "ftp://x"}, "webhook_url"),
                            ({"name": "x", "webhook_url": "http://127.0.0.1:9/"}, "webhook_secret"),
                            ({"name": "x", "webhook_url": "http://127.0.0.1:9/",
                              "webhook_secret": "whsec_c2hvcnQ="}, "webhook_secret"),
                            ({"name": "x", "colour": "red"}, "colour")):
            r = self.api("POST", "/v1/partners", body, key=self.admin)
            self.assertEqual((r.status, r.json["error"]["field"]), (422, field), (body, r))
        self.assertEqual(self.api("POST", "/v1/partners", {"name": "x"}).status, 403)
        pid = self.partner({"name": "Quiet partner", "webhook_url": "http://127.0.0.1:9/",
                            "webhook_secret": SECRET_A})
        r = self.api("GET", "/v1/partners/%d" % pid, key=self.admin)
        self.assertEqual(r.status, 200)
        self.assertNotIn("webhook_secret", r.json)
        self.assertTrue(r.json["has_webhook_secret"])
        r = self.api("PUT", "/v1/partners/%d" % pid, {"active": False, "capacity": 0}, key=self.admin)
        self.assertEqual((r.status, r.json["active"], r.json["capacity"]), (200, False, 0), r)
        self.assertEqual(self.api("PUT", "/v1/partners/99999", {}, key=self.admin).status, 404)
        r = self.api("GET", "/v1/help-requests?queue=everyone")
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "queue"))
