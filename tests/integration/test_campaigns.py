"""Campaigns officers can trust: preview figures against what is then sent, audiences,
consent, opt-outs, suppression, erasure, the lifecycle (pause, resume, cancel), test
sends, progress, paging and report.csv, with the real daemon and PostgreSQL."""
import csv
import datetime
import io
import socket
import time
import zoneinfo

from harness import IntegrationCase, Daemon, FakeServer, drama_number, wait_until

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token-not-a-secret"
ALL_WEEK = {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            "start": "00:00", "end": "24:00"}
STAFF = drama_number(990)

# GSM 03.38: the basic table and the extension table (two septets each).
GSM_BASIC = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
                "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXT = set("^{}\\[~]|€\f")


def expected_segments(text):
    """An independent count: GSM-7 160/153 septets without splitting an escape pair,
    UCS-2 70/67 UTF-16 units without splitting a surrogate pair."""
    if all(c in GSM_BASIC or c in GSM_EXT for c in text):
        units = [2 if c in GSM_EXT else 1 for c in text]
        single, multi, enc = 160, 153, "gsm7"
    else:
        units = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, multi, enc = 70, 67, "ucs2"
    if sum(units) <= single:
        return enc, 1 if units else 0
    parts, used = 1, 0
    for u in units:
        if used + u > multi:
            parts, used = parts + 1, 0
        used += u
    return enc, parts


class CampaignCase(IntegrationCase):
    config = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, cls.config).start()
        cls.key = cls.d.key("officer")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def api(self, method, path, body=None, headers=None):
        return self.d.api(method, path, body, key=self.key, headers=headers)

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r)
        return r.json if r.body and r.headers.get("Content-Type", "").startswith(
            "application/json") else r

    @classmethod
    def tenant(cls, i, **fields):
        t = {"external_ref": "C-%d" % i, "phone": drama_number(i)}
        t.update(fields)
        r = cls.d.api("POST", "/v1/tenants", t, key=cls.key)
        assert r.status == 201, r
        return r.json["id"]

    def campaign(self, body, audience, **over):
        c = {"name": "Test", "body": body, "audience": audience, "send_window": ALL_WEEK}
        c.update(over)
        return self.ok(self.api("POST", "/v1/campaigns", c), 201)["id"]

    def get(self, cid):
        return self.ok(self.api("GET", "/v1/campaigns/%d" % cid))

    def assertError(self, r, status, field):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json["error"]["field"], field, r)
        self.assertTrue(r.json["error"]["message"])


class PreviewTest(CampaignCase):
    """A planted audience: accents, curly quotes, a long name, languages, consent,
    opt-outs and suppression."""
    config = {"providers": [{"name": "sim", "type": "sim", "price_per_segment": 0.035}],
              "staff_numbers": ["07700 900990"], "simulator": True}

    BODY = ("Hi {first_name|there}, it\u2019s free help getting online in {borough} \u2013 "
            "Reply SKILLS, or STOP to opt out.")
    WELSH = "Helo {first_name|ffrind}, help am ddim i fynd ar-lein yn {borough}. Atebwch SKILLS."

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        def mk(i, **f):
            return cls.tenant(i, borough="Thanet", tags=["pv"], **f)
        cls.sam = mk(101, first_name="Sam")
        cls.zoe = mk(102, first_name="Zo\u00eb")                       # not GSM-7: UCS-2
        cls.long = mk(103, first_name="Bartholomew-Alexander " * 4)   # two segments
        cls.nameless = mk(104)                                          # the fallback
        cls.welsh = mk(105, first_name="Gwyn", language="CY")           # Welsh body
        cls.polish = mk(106, first_name="Ewa", language="pl")           # no Polish body
        cls.opted = mk(107, first_name="Opted")
        cls.suppressed = mk(108, first_name="Supp")
        cls.consented = mk(109, first_name="Con", consent={
            "source": "tenancy form", "at": "2026-01-05T10:00:00Z",
            "wording": "I agree to texts about free digital help"})
        r = cls.d.api("PATCH", "/v1/tenants/%d" % cls.sam, {"language": None}, key=cls.key)
        assert r.status == 200 and r.json["language"] is None, r
        r = cls.d.api("POST", "/v1/tenants/%d/opt-out" % cls.opted, key=cls.key)
        assert r.status == 200 and r.json["opted_out"], r
        cls.db.query("UPDATE tenants SET suppressed_at = now(), perm_fail_streak = 3 WHERE id = %s",
                     cls.suppressed)
        # Someone outside the audience.
        cls.tenant(111, first_name="Away", borough="Maidstone", tags=["pv"])

    def render(self, tid):
        row = self.db.query("SELECT first_name, borough, language FROM tenants WHERE id = %s", tid)[0]
        body = self.WELSH if row[2] == "cy" else self.BODY
        default = "ffrind" if row[2] == "cy" else "there"
        text = body.replace("{first_name|there}", row[0] or default) \
            .replace("{first_name|ffrind}", row[0] or default).replace("{borough}", row[1])
        return text.replace("\u2019", "'").replace("\u2013", "-")

    def test_preview_figures_match_what_is_sent(self):
        cid = self.campaign(self.BODY, {"boroughs": ["thanet"], "tags": {"all": ["pv"]}},
                            bodies={"CY": self.WELSH})
        p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
        recipients = [self.sam, self.zoe, self.long, self.nameless, self.welsh, self.polish,
                      self.consented]
        self.assertEqual(p["recipients"], len(recipients), p)
        self.assertEqual(p["excluded"], {"opted_out": 1, "no_consent": 0, "suppressed": 1})
        want = [expected_segments(self.render(t)) for t in recipients]
        self.assertEqual(p["encodings"], {"gsm7": sum(e == "gsm7" for e, _ in want),
                                          "ucs2": sum(e == "ucs2" for e, _ in want)})
        self.assertEqual(p["encodings"]["ucs2"], 1, "only the accented name needs UCS-2")
        segs = [s for _, s in want]
        self.assertEqual(p["segments"], {"min": min(segs), "max": max(segs), "total": sum(segs)})
        self.assertEqual(p["segments"]["max"], 2, "the long name takes two parts")
        self.assertEqual(p["estimated_cost"], {"amount": "%.2f" % (sum(segs) * 0.035),
                                               "currency": "GBP"})
        self.assertTrue(p["expected_finish"].endswith("Z"))
        sample = p["samples"][0]
        self.assertEqual(sample["tenant_id"], self.sam)
        self.assertEqual(sample["text"], self.render(self.sam))
        self.assertEqual((sample["encoding"], sample["segments"]), expected_segments(sample["text"]))
        texts = {s["tenant_id"]: s["text"] for s in p["samples"]}
        self.assertIn("Helo Gwyn", texts[self.welsh])
        self.assertIn("Hi there,", texts[self.nameless])

        # Now send it: the texts and segments are the preview's.
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid))
        wait_until(lambda: self.get(cid)["state"] == "completed", what="completed")
        c = self.get(cid)
        self.assertEqual(c["counts"]["skipped_opted_out"], 1)
        self.assertEqual(c["counts"]["skipped_suppressed"], 1)
        sent = self.db.query("SELECT tenant_id, body, segments FROM messages WHERE campaign_id = %s "
                             "AND state <> 'skipped'", cid)
        self.assertEqual(len(sent), p["recipients"])
        self.assertEqual(sum(s for _, _, s in sent), p["segments"]["total"])
        for tid, body, _ in sent:
            self.assertEqual(body, self.render(tid))

    def test_smart_encoding_off_keeps_curly_quotes(self):
        cid = self.campaign(self.BODY, {"tags": ["pv"], "boroughs": ["Thanet"]},
                            smart_encoding=False)
        p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
        self.assertEqual(p["encodings"]["gsm7"], 0, p)
        self.assertIn("\u2019", p["samples"][0]["text"])

    def test_marketing_needs_consent(self):
        cid = self.campaign("Offers on devices near you. Reply STOP to opt out.",
                            {"boroughs": ["thanet"]}, purpose="marketing")
        p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
        self.assertEqual(p["recipients"], 1, p)
        self.assertEqual(p["excluded"], {"opted_out": 1, "no_consent": 6, "suppressed": 1})
        self.assertEqual([s["tenant_id"] for s in p["samples"]], [self.consented])
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid))
        wait_until(lambda: self.get(cid)["state"] == "completed", what="completed")
        counts = self.get(cid)["counts"]
        self.assertEqual(counts["skipped_no_consent"], 6, counts)
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE campaign_id = %s AND "
                                       "state NOT IN ('skipped')", cid), 1)

    def test_expected_finish(self):
        def finish(**over):
            cid = self.campaign("Hello", {"boroughs": ["thanet"]}, **over)
            p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
            self.assertEqual(p["recipients"], 7)
            return datetime.datetime.strptime(p["expected_finish"], "%Y-%m-%dT%H:%M:%SZ").replace(
                tzinfo=datetime.timezone.utc)
        now = datetime.datetime.now(datetime.timezone.utc)
        # 7 texts at 60 a minute take 7 seconds of open window.
        took = (finish(rate_per_minute=60) - now).total_seconds()
        self.assertTrue(5 <= took <= 12, took)
        took = (finish(rate_per_minute=1) - now).total_seconds()
        self.assertTrue(415 <= took <= 425, took)
        # A window open one minute a week: the texts wait for a Monday.
        at = finish(rate_per_minute=60, send_window={"days": ["mon"], "start": "03:00", "end": "03:01"})
        local = at.astimezone(zoneinfo.ZoneInfo("Europe/London"))
        self.assertEqual((local.weekday(), local.hour, local.minute), (0, 3, 0), local)

    def test_audience_rules(self):
        def recipients(aud):
            cid = self.campaign("Hello", aud)
            return self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))["recipients"]
        self.assertEqual(recipients({"languages": ["cy"]}), 1)
        self.assertEqual(recipients({"tags": {"any": ["pv", "nothing"]}, "boroughs": ["maidstone"]}), 1)
        self.assertEqual(recipients({"all": True, "tags": {"none": ["pv"]}}), 0)
        # One text per tenant however many rules match.
        self.assertEqual(recipients({"tags": {"any": ["pv", "PV"]}, "boroughs": ["thanet", "THANET"]}), 7)

    def test_has_not_replied(self):
        first = self.campaign("Hi. Reply SKILLS", {"boroughs": ["maidstone"]})
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % first))
        wait_until(lambda: self.get(first)["state"] == "completed", what="completed")
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(111), "text": "SKILLS"})
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: self.get(first)["replies"] == 1, what="reply counted")
        self.assertEqual(self.get(first)["help_requests"], 1)
        cid = self.campaign("Reminder", {"boroughs": ["maidstone"], "not_replied_to": first})
        self.assertEqual(self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))["recipients"], 0)

    def test_test_send_goes_to_staff_only(self):
        cid = self.campaign(self.BODY, {"boroughs": ["thanet"]})
        r = self.ok(self.api("POST", "/v1/campaigns/%d/test" % cid), 202)
        self.assertEqual(r["queued"], 1)
        wait_until(lambda: any(t["to"] == STAFF for t in
                               self.api("GET", "/v1/sim/messages").json["items"]), what="test text")
        rows = self.db.query("SELECT kind, to_phone, body FROM messages WHERE campaign_id = %s", cid)
        self.assertEqual([(k, p) for k, p, _ in rows], [("test", STAFF)])
        self.assertTrue(rows[0][2].startswith("Hi there, it's free help"))
        self.assertEqual(self.get(cid)["state"], "draft")
        self.assertEqual(self.get(cid)["counts"]["total"], 0, "a test send is not the audience")

    def test_validation(self):
        c = {"name": "x", "body": "Hi {frist_name}", "audience": {"all": True}}
        self.assertError(self.api("POST", "/v1/campaigns", c), 422, "body")
        c["body"] = "Hi"
        for key, value, field in [("purpose", "sales", "purpose"),
                                  ("rate_per_minute", 0, "rate_per_minute"),
                                  ("smart_encoding", "yes", "smart_encoding"),
                                  ("fallback_provider", "nope", "fallback_provider"),
                                  ("fallback_provider", "sim", "fallback_provider"),
                                  ("bodies", {"klingon!": "x"}, "bodies.klingon!"),
                                  ("bodies", {"cy": "Helo {enw}"}, "bodies.cy"),
                                  ("audience", {"tags": {"some": ["a"]}}, "audience.tags"),
                                  ("audience", {"languages": ["english"]}, "audience.languages"),
                                  ("audience", {"tags": {"none": ["a"]}}, "audience"),
                                  ("audience", {"not_replied_to": "x"}, "audience.not_replied_to")]:
            bad = dict(c, **{key: value})
            self.assertError(self.api("POST", "/v1/campaigns", bad), 422, field)
        self.assertError(self.api("POST", "/v1/tenants", {"external_ref": "V", "phone": drama_number(150),
                                                          "language": "Welsh"}), 422, "language")
        self.assertError(self.api("POST", "/v1/tenants", {"external_ref": "V", "phone": drama_number(150),
                                                          "consent": {"at": "2026-01-01"}}),
                         422, "consent.source")
        self.assertError(self.api("POST", "/v1/tenants", {"external_ref": "V", "phone": drama_number(150),
                                                          "consent": {"source": "x", "at": "soon"}}),
                         422, "consent.at")
        self.assertEqual(self.api("POST", "/v1/campaigns/999999/preview").status, 404)
        self.assertEqual(self.api("GET", "/v1/campaigns/999999/messages").status, 404)
        self.assertEqual(self.api("GET", "/v1/campaigns/999999/report.csv").status, 404)


class LifecycleTest(CampaignCase):
    """Pause, resume and cancel; a sender tenants cannot reply to."""

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        cls.config = {"providers": [
            {"name": "slow", "type": "sim", "segments_per_second": 20},
            {"name": "alpha", "type": "twilio", "base_url": cls.fake.base, "account_sid": SID,
             "auth_token": TOKEN, "from": "KentHelp"},
            {"name": "sim", "type": "sim"}], "default_provider": "sim", "simulator": True}
        super().setUpClass()
        for i in range(200, 280):
            cls.tenant(i, first_name="P%d" % i, borough="Pause")
        for i in range(400, 420):
            cls.tenant(i, first_name="C%d" % i, borough="Cancel")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.fake.stop()

    def handled(self, cid):
        """Texts no longer waiting to be sent."""
        counts = self.get(cid)["counts"]
        return counts["total"] - counts["queued"] - counts["retry"]

    def test_pause_stops_sends_within_a_second(self):
        # The "slow" simulator takes 20 texts a second: 80 texts take 4 s.
        cid = self.campaign("Hi {first_name}", {"boroughs": ["pause"]}, provider="slow")
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid))
        wait_until(lambda: self.handled(cid) >= 10, what="first sends")
        paused = self.ok(self.api("POST", "/v1/campaigns/%d/pause" % cid))
        self.assertEqual(paused["state"], "paused")
        time.sleep(1.0)
        at_pause = self.handled(cid)
        time.sleep(2.0)  # a running campaign would have sent 40 more by now
        self.assertEqual(self.handled(cid), at_pause, "no new send a second after pause")
        self.assertLess(at_pause, 80)
        self.assertError(self.api("POST", "/v1/campaigns/%d/pause" % cid), 409, "state")
        self.assertEqual(self.ok(self.api("POST", "/v1/campaigns/%d/resume" % cid))["state"], "running")
        wait_until(lambda: self.get(cid)["state"] == "completed", what="completed", timeout=60)
        self.assertEqual(self.handled(cid), 80)
        self.assertError(self.api("POST", "/v1/campaigns/%d/resume" % cid), 409, "state")
        self.assertError(self.api("POST", "/v1/campaigns/%d/cancel" % cid), 409, "state")

    def scheduled_then_paused(self):
        """A campaign paused before its start: expanded, nothing sent."""
        cid = self.campaign("Hi {first_name}", {"boroughs": ["cancel"]}, provider="sim")
        start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=2)
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid,
                         {"start_at": start.strftime("%Y-%m-%dT%H:%M:%SZ")}))
        self.ok(self.api("POST", "/v1/campaigns/%d/pause" % cid))
        wait_until(lambda: self.get(cid)["counts"]["total"] == 20, what="expansion")
        return cid

    def test_cancel(self):
        cid = self.scheduled_then_paused()
        sent_before = self.handled(cid)
        self.assertEqual(sent_before, 0)
        c = self.ok(self.api("POST", "/v1/campaigns/%d/cancel" % cid))
        self.assertEqual(c["state"], "cancelled")
        self.assertEqual(c["counts"]["cancelled"], 20 - sent_before, c["counts"])
        self.assertError(self.api("POST", "/v1/campaigns/%d/resume" % cid), 409, "state")
        self.assertError(self.api("POST", "/v1/campaigns/%d/schedule" % cid), 409, "state")
        time.sleep(1.5)
        self.assertEqual(self.get(cid)["counts"]["cancelled"], 20 - sent_before)
        self.assertEqual(self.handled(cid), 20)
        # A text an expansion batch under way at the cancel queued is cancelled too: one
        # text is taken out and written again as that batch would have written it.
        self.db.query("WITH gone AS (DELETE FROM messages WHERE id = (SELECT max(id) FROM "
                      "messages WHERE campaign_id = %s) RETURNING kind, campaign_id, tenant_id, "
                      "to_phone, provider) INSERT INTO messages (kind, campaign_id, tenant_id, "
                      "to_phone, provider) SELECT * FROM gone", cid)
        wait_until(lambda: self.get(cid)["counts"]["cancelled"] == 20, timeout=30,
                   what="the janitor cancelling a late text")

    def test_opt_out_between_scheduling_and_sending(self):
        cid = self.scheduled_then_paused()
        tid = self.db.value("SELECT tenant_id FROM messages WHERE campaign_id = %s AND "
                            "state = 'queued' ORDER BY id DESC LIMIT 1", cid)
        self.ok(self.api("POST", "/v1/tenants/%d/opt-out" % tid))
        self.ok(self.api("POST", "/v1/campaigns/%d/resume" % cid))
        wait_until(lambda: self.get(cid)["state"] == "completed", what="completed")
        self.assertEqual(self.get(cid)["counts"]["skipped_opted_out"], 1)
        self.assertEqual(self.db.value("SELECT state || '/' || skip_reason FROM messages "
                                       "WHERE campaign_id = %s AND tenant_id = %s", cid, tid),
                         "skipped/opted_out")

    def test_reply_needs_a_phone_number_sender(self):
        cid = self.campaign("Free help: Reply SKILLS", {"boroughs": ["nowhere"]}, provider="alpha")
        self.assertError(self.api("POST", "/v1/campaigns/%d/schedule" % cid), 422, "body")
        cid = self.campaign("Free help at the library on Monday", {"boroughs": ["nowhere"]},
                            provider="alpha")
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid))


class TenantsTest(CampaignCase):
    """Suppression after three permanent failures, erasure, re-import, progress, paging
    and the CSV report, with the simulator."""
    config = {"providers": [{"name": "sim", "type": "sim"}], "simulator": True}

    def run_campaign(self, audience, body="Hi {first_name|there}"):
        cid = self.campaign(body, audience)
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid))
        wait_until(lambda: self.get(cid)["state"] == "completed", what="completed")
        return cid

    def test_suppressed_after_three_permanent_failures(self):
        bad = self.tenant(2, first_name="Bounce", tags=["bounce"])   # the sim fails it for good
        good = self.tenant(1, first_name="Fine", tags=["bounce"])
        for n in range(3):
            cid = self.run_campaign({"tags": ["bounce"]})
            wait_until(lambda: self.get(cid)["counts"]["failed"] == 1, what="failure receipt")
            streak = self.ok(self.api("GET", "/v1/tenants/%d" % bad))
            self.assertEqual(streak["perm_fail_streak"], n + 1)
            self.assertEqual(streak["suppressed_at"] is not None, n == 2, streak)
        self.assertEqual(self.ok(self.api("GET", "/v1/tenants/%d" % good))["perm_fail_streak"], 0)
        listed = self.ok(self.api("GET", "/v1/tenants/suppressed"))["items"]
        self.assertEqual([t["id"] for t in listed], [bad])
        self.assertTrue(listed[0]["last_error"])
        cid = self.campaign("Hi", {"tags": ["bounce"]})
        p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
        self.assertEqual((p["recipients"], p["excluded"]["suppressed"]), (1, 1))
        cleared = self.ok(self.api("POST", "/v1/tenants/%d/unsuppress" % bad))
        self.assertEqual((cleared["suppressed_at"], cleared["perm_fail_streak"]), (None, 0))
        p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
        self.assertEqual(p["recipients"], 2)

    def test_erase_keeps_statistics(self):
        tid = self.tenant(20, first_name="Erin", borough="Erase", consent={"source": "form"})
        cid = self.run_campaign({"boroughs": ["erase"]})
        r = self.ok(self.api("DELETE", "/v1/tenants/%d" % tid))
        self.assertIsNotNone(r["erased_at"])
        for k in ("external_ref", "first_name", "phone", "borough", "consent", "language"):
            self.assertIsNone(r[k], k)
        row = self.db.query("SELECT to_phone, body, state FROM messages WHERE campaign_id = %s", cid)
        self.assertEqual(len(row), 1)
        self.assertEqual(row[0][:2], (None, None))
        self.assertEqual(self.get(cid)["counts"]["total"], 1, "statistics stay")
        self.assertEqual(self.ok(self.api("DELETE", "/v1/tenants/%d" % tid))["id"], tid)
        self.assertEqual(self.api("DELETE", "/v1/tenants/999999").status, 404)
        cid = self.campaign("Hi", {"boroughs": ["erase"]})
        self.assertEqual(self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))["recipients"], 0)
        self.assertEqual(self.api("POST", "/v1/tenants/%d/opt-out" % tid).status, 409)

    def test_reimport_keeps_opt_outs(self):
        tid = self.tenant(30, first_name="Ivy", borough="Import")
        self.ok(self.api("POST", "/v1/tenants/%d/opt-out" % tid))
        self.api("POST", "/v1/sim/inbound", {"from": drama_number(31), "text": "STOP"})
        csv_body = "external_ref,first_name,phone,borough\nC-30,Ivy,%s,Import\nC-31,Jo,%s,Import\n" % (
            drama_number(30), drama_number(31))
        r = self.api("POST", "/v1/tenants/import", csv_body, headers={"Content-Type": "text/csv"})
        self.assertEqual(r.status, 200, r)
        self.assertTrue(self.ok(self.api("GET", "/v1/tenants/%d" % tid))["opted_out"])
        cid = self.run_campaign({"boroughs": ["import"]})
        self.assertEqual(self.get(cid)["counts"]["skipped_opted_out"], 2)

    def test_progress_paging_and_report(self):
        for i in range(40, 47):
            self.tenant(i, first_name="R%d" % i, borough="Report")
        cid = self.run_campaign({"boroughs": ["report"]})
        wait_until(lambda: self.get(cid)["counts"]["delivered"] == 7, what="receipts")
        c = self.get(cid)
        self.assertEqual(c["counts"]["total"], 7)
        self.assertEqual(sum(h["sent"] for h in c["per_hour"]), 7)
        self.assertEqual((c["replies"], c["opt_outs"], c["help_requests"]), (0, 0, 0))
        seen, cursor = [], None
        while True:
            path = "/v1/campaigns/%d/messages?limit=3" % cid + ("&cursor=" + cursor if cursor else "")
            page = self.ok(self.api("GET", path))
            seen += page["items"]
            self.assertLessEqual(len(page["items"]), 3)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(len(seen), 7)
        self.assertEqual(len({m["id"] for m in seen}), 7)
        self.assertEqual({m["state"] for m in seen}, {"delivered"})
        self.assertIn("last_error", seen[0])
        page = self.ok(self.api("GET", "/v1/campaigns/%d/messages?state=failed" % cid))
        self.assertEqual(page, {"items": [], "next_cursor": None})
        self.assertError(self.api("GET", "/v1/campaigns/%d/messages?state=lost" % cid), 422, "state")
        self.assertError(self.api("GET", "/v1/campaigns/%d/messages?cursor=x" % cid), 422, "cursor")
        r = self.api("GET", "/v1/campaigns/%d/report.csv" % cid)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"))
        rows = list(csv.DictReader(io.StringIO(r.body.decode())))
        self.assertEqual(len(rows), 7)
        self.assertEqual(sorted(int(x["message_id"]) for x in rows), sorted(m["id"] for m in seen))
        self.assertEqual({x["state"] for x in rows}, {"delivered"})
        self.assertEqual(rows[0]["phone"], drama_number(40))

    def test_import_language_and_consent(self):
        body = ("external_ref,phone,first_name,borough,language,consent_source,consent_at,consent_wording\n"
                "L-1,%s,Gwen,Lang,CY,tenancy form,2026-01-05,Texts about free help\n"
                "L-2,%s,Piotr,Lang,pl,,,\n"
                "L-3,%s,Bad,Lang,Welsh,,,\n"
                "L-4,%s,Bad,Lang,en,form,2026-02-30,\n"
                "L-5,%s,Bad,Lang,en,,2026-01-01,\n"
                "L-6,%s,Ann,Lang,,phone call,2026-01-05T10:30:00+01:00,\n") % tuple(
                    drama_number(i) for i in range(60, 66))
        r = self.api("POST", "/v1/tenants/import", body, headers={"Content-Type": "text/csv"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["created"], r.json["rejected_count"]), (3, 3), r.json)
        self.assertEqual([x["line"] for x in r.json["rejected"]], [4, 5, 6])
        self.assertIn("language", r.json["rejected"][0]["error"])
        rows = dict(self.db.query("SELECT external_ref, (language, consent_source, consent_at IS NOT NULL, "
                                  "consent_wording)::text FROM tenants WHERE external_ref LIKE 'L-%%'"))
        self.assertEqual(rows["L-1"], '(cy,"tenancy form",t,"Texts about free help")')
        self.assertEqual(rows["L-2"], "(pl,,f,)")
        self.assertEqual(rows["L-6"], '(,"phone call",t,)')
        # A later file without consent cells leaves recorded consent as it was.
        r = self.api("POST", "/v1/tenants/import", "external_ref,phone,consent_source\nL-1,%s,\n" %
                     drama_number(60), headers={"Content-Type": "text/csv"})
        self.assertEqual(r.json["updated"], 1, r.json)
        self.assertEqual(self.db.value("SELECT consent_source FROM tenants WHERE external_ref = 'L-1'"),
                         "tenancy form")
        cid = self.campaign("Offers", {"boroughs": ["lang"]}, purpose="marketing",
                            bodies={"cy": "Cynigion"})
        p = self.ok(self.api("POST", "/v1/campaigns/%d/preview" % cid))
        self.assertEqual((p["recipients"], p["excluded"]["no_consent"]), (2, 1), p)
        self.assertEqual(sorted(s["text"] for s in p["samples"]), ["Cynigion", "Offers"])


def dechunk(raw):
    """The body of a chunked transfer, which must end with its last (empty) chunk."""
    body = b""
    while True:
        size, rest = raw.split(b"\r\n", 1)
        n = int(size, 16)
        if n == 0:
            assert rest == b"\r\n", rest[:50]
            return body
        body += rest[:n]
        assert rest[n:n + 2] == b"\r\n"
        raw = rest[n + 2:]


class ReportTest(CampaignCase):
    """report.csv streamed a page at a time: complete when read, harmless when dropped."""
    config = {"providers": [{"name": "sim", "type": "sim"}], "simulator": True}
    FIRST = 10  # the simulator fails +447700900002 to 004 on purpose

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        body = "external_ref,phone,first_name,borough\n" + "".join(
            "R-%d,%s,Name%d,Streamed\n" % (i, drama_number(i), i) for i in range(cls.FIRST, 1000))
        r = cls.d.api("POST", "/v1/tenants/import", body, key=cls.key,
                      headers={"Content-Type": "text/csv"})
        assert r.status == 200, r

    def report(self, cid):
        r = self.api("GET", "/v1/campaigns/%d/report.csv" % cid)
        self.assertEqual(r.status, 200, r)
        return r

    def test_report_streams_every_row_once(self):
        cid = self.campaign("Hello {first_name}", {"boroughs": ["streamed"]})
        self.ok(self.api("POST", "/v1/campaigns/%d/schedule" % cid))
        wait_until(lambda: self.get(cid)["state"] == "completed", what="completed", timeout=60)
        total = self.get(cid)["counts"]["total"]
        self.assertEqual(total, 1000 - self.FIRST)  # two pages of the report
        r = self.report(cid)
        self.assertEqual(r.headers.get("Transfer-Encoding"), "chunked")
        self.assertNotIn("Content-Length", r.headers)
        rows = list(csv.DictReader(io.StringIO(r.body.decode())))
        self.assertEqual(len(rows), total)
        self.assertEqual(len({x["message_id"] for x in rows}), total)
        self.assertTrue(all(x["state"] for x in rows))

        # A client that reads slowly gets it all; one that stops reading and leaves, after
        # the head or half way, costs nothing: the daemon waits for it between pages, goes on
        # answering others, and its sanitizers check at the end that nothing was left behind.
        for keep in (None, 0, 30000):
            with socket.socket() as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.connect(("127.0.0.1", self.d.port))
                s.sendall(("GET /v1/campaigns/%d/report.csv HTTP/1.1\r\nHost: x\r\n"
                           "Connection: close\r\nAuthorization: Bearer %s\r\n\r\n"
                           % (cid, self.key)).encode())
                got = b""
                while keep is None or b"\r\n\r\n" not in got or len(got) < keep:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                    if keep is None:
                        time.sleep(0.001)
                self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:100])
                if keep is None:
                    body = dechunk(got.split(b"\r\n\r\n", 1)[1])
                    self.assertEqual(len(list(csv.DictReader(io.StringIO(body.decode())))), total)
                else:
                    time.sleep(0.3)  # the daemon fills what it may and waits
            self.assertEqual(self.api("GET", "/readyz").status, 200)
        self.assertEqual(len(list(csv.DictReader(io.StringIO(self.report(cid).body.decode())))),
                         total)


class OracleTest(IntegrationCase):
    """The segment oracle above must be able to fail."""

    def test_oracle_counts(self):
        self.assertEqual(expected_segments("a" * 160), ("gsm7", 1))
        self.assertEqual(expected_segments("a" * 161), ("gsm7", 2))
        self.assertEqual(expected_segments("a" * 158 + "\u20ac" + "a"), ("gsm7", 2))
        self.assertEqual(expected_segments("\u20ac" * 80), ("gsm7", 1))
        self.assertEqual(expected_segments("\u0175" * 70), ("ucs2", 1))
        self.assertEqual(expected_segments("\u0175" * 71), ("ucs2", 2))
        self.assertEqual(expected_segments("a" * 66 + "\U0001F600"), ("ucs2", 1))
        self.assertEqual(expected_segments("a" * 70 + "\U0001F600"), ("ucs2", 2))
        self.assertNotEqual(expected_segments("a" * 161), ("gsm7", 1), "a planted wrong answer")
