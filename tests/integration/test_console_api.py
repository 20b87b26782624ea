"""What the web console asks of the API, with the real daemon and the simulator: finding
tenants, a tenant's texts both ways, help requests filtered and with their history, staff
referrals routed to partners, flows with labels read by partners, and webhook secrets
signpost generates and shows once."""
import base64
import hashlib
import json
import time
import urllib.parse

from fake_partner import FakePartner
from harness import (ALL_WEEK, PARTNERS_ON_LOOPBACK, IntegrationCase, Daemon, drama_number,
                     sim_config, wait_until)

SECRET = "whsec_" + base64.b64encode(b"signpost-console-partner").decode()
ITEM_KEYS = {"id", "external_ref", "first_name", "phone", "borough", "landlord", "tags",
             "language", "opted_out", "suppressed_at", "created_at"}
HISTORY_KEYS = {"at", "from_state", "to_state", "partner_id", "partner_name",
                "escalation_reason", "outcome", "actor", "note"}


class ConsoleApiTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakePartner(SECRET)
        cls.d = Daemon(cls.db, sim_config(**PARTNERS_ON_LOOPBACK)).start()
        cls.admin = cls.d.key("admin")
        cls.officer = cls.d.key("officer")
        cls.d.landlords("Orbit")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.fake.stop()
        super().tearDownClass()

    def api(self, method, path, body=None, key=None):
        return self.d.api(method, path, body, key=key or self.officer)

    def assertRefused(self, r, status, field):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.json["error"].get("field"), field, r)
        return r.json["error"]["message"]

    def key_id(self, key):
        return self.db.value("SELECT id FROM api_keys WHERE key_hash = %s",
                             hashlib.sha256(key.encode()).hexdigest())

    def tenant(self, ref, name, i, borough="Thanet"):
        r = self.api("POST", "/v1/tenants", {"external_ref": ref, "first_name": name,
                                             "phone": drama_number(i), "borough": borough,
                                             "landlord": "Orbit", "tags": ["console"]})
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def partner(self, name, categories, boroughs, **extra):
        body = dict({"name": name, "categories": categories, "boroughs": boroughs}, **extra)
        r = self.api("POST", "/v1/partners", body, key=self.admin)
        self.assertEqual(r.status, 201, r)
        return r.json["id"]

    def search(self, q=None, **params):
        if q is not None:
            params["q"] = q
        query = urllib.parse.urlencode(params)
        r = self.api("GET", "/v1/tenants" + ("?" + query if query else ""))
        self.assertEqual(r.status, 200, (params, r))
        return r.json["items"]

    def request(self, hid, key=None):
        r = self.api("GET", "/v1/help-requests/%d" % hid, key=key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def wait_state(self, hid, state, timeout=30):
        return wait_until(lambda: (lambda h: h if h["state"] == state else None)(self.request(hid)),
                          timeout=timeout, what="help request %d %s" % (hid, state))

    def refer(self, body, key=None, status=201):
        r = self.api("POST", "/v1/referrals", body, key=key)
        self.assertEqual(r.status, status, (body, r))
        return r.json

    # ---- 1. finding tenants ----

    def test_1_tenant_search(self):
        ids = {}
        for ref, name, i in (("ORB-1001", "Samantha", 301), ("ORB-1002", "Sam", 302),
                             ("TCH-77", "Alex", 303), ("orb-2001", "Zoë", 304),
                             ("GH-5", "Samuel", 305), ("GH-6", "Pat_ty", 306)):
            ids[ref] = self.tenant(ref, name, i)
        self.assertEqual(self.api("DELETE", "/v1/tenants/%d" % ids["GH-5"]).status, 200)

        everyone = self.search()
        self.assertEqual([t["id"] for t in everyone], sorted((t["id"] for t in everyone),
                                                             reverse=True), "newest first")
        self.assertNotIn(ids["GH-5"], [t["id"] for t in everyone], "erased tenants are not listed")
        self.assertEqual(set(everyone[0]), ITEM_KEYS)
        sam = everyone[[t["id"] for t in everyone].index(ids["ORB-1002"])]
        self.assertEqual((sam["first_name"], sam["phone"], sam["borough"], sam["tags"],
                          sam["opted_out"], sam["suppressed_at"]),
                         ("Sam", drama_number(302), "Thanet", ["console"], False, None))

        found = lambda q: [t["external_ref"] for t in self.search(q)]
        # A name contains the text, whatever its case; an erased Samuel is not found.
        self.assertEqual(found("sam"), ["ORB-1002", "ORB-1001"])
        self.assertEqual(found("SAM"), ["ORB-1002", "ORB-1001"])
        self.assertEqual(found("mant"), ["ORB-1001"])
        # One or two characters: names that start with them.
        self.assertEqual(found("Zo"), ["orb-2001"])
        self.assertEqual(found("am"), [])
        # A reference starts with the text, whatever its case; it does not merely contain it.
        self.assertEqual(found("orb"), ["orb-2001", "ORB-1002", "ORB-1001"])
        self.assertEqual(found("Orb-100"), ["ORB-1002", "ORB-1001"])
        self.assertEqual(found("rb-1"), [])
        # A number, however it is written, or its last six digits or more.
        for q in ("07700 900302", "+447700900302", "+44 (0)7700 900302", "7700 900 302",
                  "900302", "0900302"):
            self.assertEqual(found(q), ["ORB-1002"], q)
        self.assertEqual(found("00302"), [], "five digits are not a number to search for")
        self.assertEqual(found("900305"), [], "an erased tenant has no number")
        # LIKE's wildcards are text like any other.
        self.assertEqual(found("%"), [])
        self.assertEqual(found("___"), [])
        self.assertEqual(found("t_t"), ["GH-6"])
        self.assertEqual(found("  sam  "), ["ORB-1002", "ORB-1001"], "spaces around are dropped")

        # Paging: limit and before, as every list.
        first = self.search("orb", limit=2)
        self.assertEqual([t["external_ref"] for t in first], ["orb-2001", "ORB-1002"])
        rest = self.search("orb", limit=2, before=first[-1]["id"])
        self.assertEqual([t["external_ref"] for t in rest], ["ORB-1001"])
        all_pages = self.search(limit=3)
        self.assertEqual(len(all_pages), 3)
        more = self.search(limit=500, before=all_pages[-1]["id"])
        self.assertEqual([t["id"] for t in all_pages + more], [t["id"] for t in everyone])

        self.assertRefused(self.api("GET", "/v1/tenants?limit=0"), 422, "limit")
        self.assertRefused(self.api("GET", "/v1/tenants?before=x"), 422, "before")
        self.assertRefused(self.api("GET", "/v1/tenants?q=" + "x" * 101), 422, "q")
        partner = self.d.key("partner", self.partner("Search partner", ["none"], ["Nowhere"]))
        self.assertEqual(self.api("GET", "/v1/tenants?q=sam", key=partner).status, 403)

    def test_1b_search_plans_use_indexes(self):
        """The statement the daemon runs, on enough tenants for the planner to prefer an
        index: a search matching nobody must not read the table."""
        self.db.query("INSERT INTO tenants (external_ref, first_name, phone, borough) "
                      "SELECT 'BULK-' || g, 'Person' || g, '+447700' || (100000 + g), "
                      "'Bulk' FROM generate_series(1, 20000) g")
        self.db.query("ANALYZE tenants")
        sql = ("EXPLAIN SELECT id FROM tenants t WHERE t.erased_at IS NULL "
               "AND (%s::text IS NULL OR t.first_name ILIKE %s "
               "OR lower(t.external_ref) LIKE lower(%s::text) || '%%' "
               "OR reverse(t.phone) LIKE reverse(%s::text) || '%%') ORDER BY t.id DESC LIMIT 100")
        plan = "\n".join(r[0] for r in self.db.query(sql, "%qqq%", "%qqq%", "qqq", "123987"))
        for index in ("tenants_first_name_trgm", "tenants_ref_lower", "tenants_phone_reversed"):
            self.assertIn(index, plan, plan)
        self.assertNotIn("Seq Scan", plan, plan)
        started = time.monotonic()
        self.assertEqual(self.search("qqqzzz"), [])
        self.assertEqual(self.search("123987"), [])
        self.assertLess(time.monotonic() - started, 2.0)
        self.db.query("DELETE FROM tenants WHERE borough = 'Bulk'")

    # ---- 2. a tenant's texts ----

    def test_2_tenant_texts_both_ways(self):
        tid = self.tenant("TX-1", "Robin", 350, borough="Textshire")
        other = self.tenant("TX-2", "Kit", 351, borough="Textshire")
        r = self.api("POST", "/v1/campaigns", {"name": "Get online", "body": "Hi {first_name}, "
                                               "free help getting online. Reply SKILLS",
                                               "audience": {"boroughs": ["Textshire"]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid, {}).status, 200)
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE campaign_id = %s "
                                         "AND submitted_at IS NOT NULL", cid) == 2,
                   what="campaign texts handed to the simulator")
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(350), "text": "SKILLS"})
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE tenant_id = %s "
                                         "AND state = 'delivered'", tid) == 2,
                   what="the campaign text and the reply delivered")

        r = self.api("GET", "/v1/tenants/%d/texts" % tid)
        self.assertEqual(r.status, 200, r)
        items = r.json["items"]
        self.assertEqual([(t["direction"], t.get("kind")) for t in items],
                         [("out", "reply"), ("in", None), ("out", "campaign")], items)
        reply, inbound, campaign = items
        self.assertEqual((campaign["campaign_id"], campaign["campaign_name"], campaign["body"]),
                         (cid, "Get online", "Hi Robin, free help getting online. Reply SKILLS"))
        self.assertIn(campaign["state"], ("submitted", "delivered"))
        self.assertEqual((inbound["body"], inbound["action"], inbound["keyword"],
                          inbound["campaign_id"], inbound["campaign_name"]),
                         ("SKILLS", "help_request", "SKILLS", cid, "Get online"))
        self.assertIn("touch", reply["body"])
        self.assertEqual(set(campaign), {"direction", "id", "at", "kind", "state", "body",
                                         "campaign_id", "campaign_name"})
        self.assertEqual(set(inbound), {"direction", "id", "at", "body", "action", "keyword",
                                        "campaign_id", "campaign_name"})
        self.assertGreaterEqual(reply["at"], inbound["at"])
        self.assertGreater(inbound["at"], campaign["at"])

        one = self.api("GET", "/v1/tenants/%d/texts?limit=1" % tid).json["items"]
        self.assertEqual(one, items[:1])
        theirs = self.api("GET", "/v1/tenants/%d/texts" % other).json["items"]
        self.assertEqual([(t["direction"], t["kind"]) for t in theirs], [("out", "campaign")])
        self.assertIn("Kit", theirs[0]["body"])
        self.assertEqual(self.api("GET", "/v1/tenants/999999/texts").status, 404)
        self.assertRefused(self.api("GET", "/v1/tenants/%d/texts?limit=501" % tid), 422, "limit")
        self.assertRefused(self.api("GET", "/v1/tenants/%d/texts?limit=0" % tid), 422, "limit")
        partner = self.d.key("partner", self.partner("Texts partner", ["none"], ["Nowhere"]))
        self.assertEqual(self.api("GET", "/v1/tenants/%d/texts" % tid, key=partner).status, 403)

    # ---- 3 and 4. referrals, filters and history ----

    def test_3_referrals_routed_to_partners(self):
        tid = self.tenant("RF-1", "Jordan", 360, borough="Swale")
        helper = self.partner("Sheerness Money Advice", ["money"], ["swale"], capacity=10,
                              webhook_url=self.fake.url, webhook_secret=SECRET)
        other = self.partner("Dover Jobs Club", ["jobs"], ["Dover"])
        helper_key = self.d.key("partner", helper)
        other_key = self.d.key("partner", other)

        # An officer refers a tenant on record: number and borough come from the record.
        made = self.refer({"tenant_id": tid, "category": "money",
                           "answers": {"money": "bills", "how": "phone"}, "consent": True,
                           "note": "Prefers mornings"})
        self.assertEqual((made["source"], made["tenant_id"], made["borough"], made["phone"],
                          made["first_name"], made["consent"], made["note"]),
                         ("staff", tid, "Swale", drama_number(360), "Jordan", True,
                          "Prefers mornings"))
        self.assertIn(made["state"], ("new", "assigned"), "matched as it is made, or just after")
        self.assertEqual(made["answers"], {"money": "bills", "how": "phone"})
        self.assertEqual(made["referred_by"], "API key %d" % self.key_id(self.officer))
        self.assertEqual(made["history"][0]["actor"], made["referred_by"])
        hid = made["id"]
        # Assigned like a request made by texts, at once (the tick would take a second).
        started = time.monotonic()
        got = self.wait_state(hid, "assigned", timeout=5)
        self.assertLess(time.monotonic() - started, 2.5)
        self.assertEqual((got["partner_id"], got["partner_name"]), (helper, "Sheerness Money Advice"))
        mine = self.api("GET", "/v1/help-requests", key=helper_key).json["items"]
        self.assertIn(hid, [m["id"] for m in mine])
        self.assertEqual(self.api("GET", "/v1/help-requests/%d" % hid, key=other_key).status, 404)
        self.assertNotIn(hid, [m["id"] for m in
                               self.api("GET", "/v1/help-requests", key=other_key).json["items"]])

        # Someone not on record: a landline will do, and the borough routes it.
        before = self.db.value("SELECT count(*) FROM help_requests")
        person = self.refer({"first_name": "Morgan", "phone": "01632 960123", "borough": "SWALE",
                             "category": "money", "answers": {"money": "banking"},
                             "consent": True})
        self.assertEqual((person["phone"], person["first_name"], person["tenant_id"],
                          person["borough"]), ("+441632960123", "Morgan", None, "SWALE"))
        self.assertEqual(self.db.value("SELECT count(*) FROM help_requests"), before + 1)
        wait_until(lambda: any(p[1]["data"]["id"] == person["id"] for p in self.fake.accepted()),
                   what="the partner's webhook for the referral")
        payload = [p[1] for p in self.fake.accepted() if p[1]["data"]["id"] == person["id"]][0]
        self.assertEqual((payload["data"]["first_name"], payload["data"]["phone"],
                          payload["data"]["source"]), ("Morgan", "+441632960123", "staff"))
        london = self.refer({"first_name": "Ade", "phone": "020 7946 0123", "borough": "Swale",
                             "category": "money", "consent": False})
        self.assertEqual((london["phone"], london["answers"]), ("+442079460123", {}))
        # Without consent the partner sees neither name nor number.
        wait_until(lambda: self.api("GET", "/v1/help-requests/%d" % london["id"],
                                    key=helper_key).status == 200, what="assigned to the helper")
        seen = self.api("GET", "/v1/help-requests/%d" % london["id"], key=helper_key).json
        self.assertNotIn("first_name", seen)
        self.assertNotIn("phone", seen)
        self.assertNotIn("tenant_id", seen)
        self.assertNotIn("campaign_name", seen)

        # A partner refers someone it met: the answer is the request as a partner sees it.
        by_partner = self.refer({"first_name": "Lee", "phone": "07700 900361", "borough": "Swale",
                                 "category": "money", "consent": True}, key=other_key)
        self.assertEqual(by_partner["referred_by"], "API key %d" % self.key_id(other_key))
        self.assertNotIn("tenant_id", by_partner)
        self.assertEqual((by_partner["first_name"], by_partner["phone"]), ("Lee", "+447700900361"))
        wait_until(lambda: self.api("GET", "/v1/help-requests/%d" % by_partner["id"]).json[
            "partner_id"] == helper, what="the partner's referral routed to the helper")
        self.assertEqual(self.api("GET", "/v1/help-requests/%d" % by_partner["id"],
                                  key=other_key).status, 404)

        # Every field error is a 422 naming the field, and stores nothing.
        before = self.db.value("SELECT count(*) FROM help_requests")
        person_ok = {"first_name": "Max", "phone": "07700 900362", "borough": "Swale",
                     "category": "money", "consent": True}
        cases = [
            (dict(person_ok, phone="07000 900123"), "phone"),
            (dict(person_ok, phone="07600 900123"), "phone"),
            (dict(person_ok, phone="0800 123 4567"), "phone"),
            (dict(person_ok, phone="12345"), "phone"),
            (dict(person_ok, phone="+33 6 12 34 56 78"), "phone"),
            (dict(person_ok, phone="call me"), "phone"),
            ({k: v for k, v in person_ok.items() if k != "borough"}, "borough"),
            (dict(person_ok, borough=""), "borough"),
            ({k: v for k, v in person_ok.items() if k != "phone"}, "phone"),
            ({k: v for k, v in person_ok.items() if k != "first_name"}, "first_name"),
            (dict(person_ok, first_name="Max\nPower"), "first_name"),
            ({k: v for k, v in person_ok.items() if k != "category"}, "category"),
            (dict(person_ok, category="Money!"), "category"),
            ({k: v for k, v in person_ok.items() if k != "consent"}, "consent"),
            (dict(person_ok, consent="yes"), "consent"),
            (dict(person_ok, answers=["money"]), "answers"),
            (dict(person_ok, answers={"Step!": "x"}), "answers"),
            (dict(person_ok, answers={"s%d" % i: "x" for i in range(21)}), "answers"),
            (dict(person_ok, answers={"money": "x" * 201}), "answers.money"),
            (dict(person_ok, answers={"money": 3}), "answers.money"),
            (dict(person_ok, note="x" * 2001), "note"),
            (dict(person_ok, colour="red"), "colour"),
            (dict(person_ok, tenant_id=tid), "first_name"),
            ({"tenant_id": 999999, "category": "money", "consent": True}, "tenant_id"),
            ({"tenant_id": "7", "category": "money", "consent": True}, "tenant_id"),
            ({"tenant_id": 0, "category": "money", "consent": True}, "tenant_id"),
        ]
        for body, field in cases:
            self.assertRefused(self.api("POST", "/v1/referrals", body), 422, field)
        msg = self.assertRefused(self.api("POST", "/v1/referrals",
                                          {"tenant_id": tid, "category": "money", "consent": True},
                                          key=other_key), 422, "tenant_id")
        self.assertEqual(msg, "a partner cannot refer a tenant record; give the person's first "
                              "name, phone and borough")
        erased = self.tenant("RF-2", "Gone", 363, borough="Swale")
        self.api("DELETE", "/v1/tenants/%d" % erased)
        self.assertIn("erased", self.assertRefused(self.api("POST", "/v1/referrals", {
            "tenant_id": erased, "category": "money", "consent": True}), 422, "tenant_id"))
        self.assertEqual(self.db.value("SELECT count(*) FROM help_requests"), before,
                         "nothing stored on error")
        self.assertEqual(self.refer(dict(person_ok, answers={"s%d" % i: "x" for i in range(20)}))[
            "source"], "staff", "twenty answers are fine")

    def test_4_filters_and_history(self):
        tid = self.tenant("HI-1", "Casey", 370, borough="Ashford")
        helper = self.partner("Ashford Library", ["digital_skills"], ["Ashford"])
        helper_key = self.d.key("partner", helper)
        # One request by text (SKILLS), one referred by an officer, for the same tenant.
        self.assertEqual(self.api("POST", "/v1/sim/inbound", {"from": drama_number(370),
                                                             "text": "SKILLS"}).status, 202)
        sms = wait_until(lambda: self.db.value("SELECT id FROM help_requests WHERE tenant_id = %s "
                                               "AND source = 'sms'", tid), what="request by text")
        staff = self.refer({"tenant_id": tid, "category": "digital_skills", "consent": True,
                            "note": "Asked at the office"})["id"]
        self.refer({"first_name": "Noor", "phone": "01632 960370", "borough": "Ashford",
                    "category": "digital_skills", "consent": True})

        ids = lambda q, key=None: [h["id"] for h in
                                   self.api("GET", "/v1/help-requests?" + q, key=key).json["items"]]
        self.assertEqual(ids("tenant_id=%d" % tid), [staff, sms])
        self.assertEqual(ids("tenant_id=%d&source=staff" % tid), [staff])
        self.assertEqual(ids("tenant_id=%d&source=sms" % tid), [sms])
        self.assertNotIn(sms, ids("source=staff"))
        self.assertNotIn(staff, ids("source=sms"))
        self.assertRefused(self.api("GET", "/v1/help-requests?source=email"), 422, "source")
        self.assertRefused(self.api("GET", "/v1/help-requests?tenant_id=abc"), 422, "tenant_id")
        self.assertRefused(self.api("GET", "/v1/help-requests?tenant_id=%d" % tid, key=helper_key),
                           422, "tenant_id")
        items = {h["id"]: h for h in self.api("GET", "/v1/help-requests?tenant_id=%d" % tid)
                 .json["items"]}
        self.assertEqual((items[sms]["source"], items[sms]["referred_by"], items[sms]["first_name"]),
                         ("sms", None, "Casey"))
        self.assertEqual((items[staff]["source"], items[staff]["referred_by"],
                          items[staff]["first_name"]),
                         ("staff", "API key %d" % self.key_id(self.officer), "Casey"))
        for h in items.values():
            self.assertIn("partner_name", h)
            self.assertIn("campaign_name", h)
        # Report filters the same way.
        csv = self.api("GET", "/v1/help-requests/report.csv?source=staff&tenant_id=%d" % tid)
        self.assertEqual(len(csv.body.decode().splitlines()), 2)

        # The partner and an officer move the referral; history says who did what.
        self.wait_state(staff, "assigned")
        self.assertEqual(self.api("POST", "/v1/help-requests/%d/accept" % staff, {},
                                  key=helper_key).status, 200)
        self.assertEqual(self.api("POST", "/v1/help-requests/%d/contacted" % staff,
                                  {"note": "Left a voicemail"}, key=helper_key).status, 200)
        r = self.api("POST", "/v1/help-requests/%d/resolve" % staff,
                     {"outcome": "helped", "note": "Set up email"})
        self.assertEqual(r.status, 200, r)
        history = self.api("GET", "/v1/help-requests/%d" % staff).json["history"]
        partner_actor = "API key %d" % self.key_id(helper_key)
        officer_actor = "API key %d" % self.key_id(self.officer)
        self.assertEqual([(e["from_state"], e["to_state"], e["actor"]) for e in history], [
            (None, "new", officer_actor), ("new", "assigned", None),
            ("assigned", "accepted", partner_actor), ("accepted", "contacted", partner_actor),
            ("contacted", "resolved", officer_actor)])
        for e in history:
            self.assertEqual(set(e), HISTORY_KEYS)
        self.assertEqual(history[0]["note"], "Asked at the office")
        self.assertEqual((history[1]["partner_id"], history[1]["partner_name"]),
                         (helper, "Ashford Library"))
        self.assertEqual(history[3]["note"], "Left a voicemail")
        self.assertEqual((history[4]["outcome"], history[4]["note"]), ("helped", "Set up email"))
        self.assertEqual([e["at"] for e in history], sorted(e["at"] for e in history))
        # Partners see the history too; the list does not carry it.
        self.assertEqual(self.api("GET", "/v1/help-requests/%d" % staff, key=helper_key)
                         .json["history"], history)
        self.assertNotIn("history", self.api("GET", "/v1/help-requests?source=staff").json["items"][0])

        # A request made by text starts with a made-up creation entry; an officer accepts it
        # from the officers' queue after another helper declined it.
        declined = self.wait_state(sms, "assigned")
        self.assertEqual(declined["partner_id"], helper)
        r = self.api("POST", "/v1/help-requests/%d/decline" % sms, {"note": "Full this week"},
                     key=helper_key)
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: self.api("GET", "/v1/help-requests/%d" % sms).json[
            "escalation_reason"] == "no_partner", what="to the officers' queue")
        self.assertEqual(self.api("POST", "/v1/help-requests/%d/accept" % sms, {}).status, 200)
        history = self.api("GET", "/v1/help-requests/%d" % sms).json["history"]
        self.assertEqual([(e["from_state"], e["to_state"], e["actor"], e["escalation_reason"])
                          for e in history], [
            (None, "new", None, None), ("new", "assigned", None, None),
            ("assigned", "new", partner_actor, None), ("new", "new", None, "no_partner"),
            ("new", "accepted", officer_actor, None)])
        self.assertEqual(history[0]["at"], self.api("GET", "/v1/help-requests/%d" % sms)
                         .json["created_at"])
        self.assertEqual(history[2]["note"], "Full this week")

    # ---- 5. flows for the console's walker ----

    def test_5_flows_for_partners_and_labels(self):
        partner = self.d.key("partner", self.partner("Flow reader", ["none"], ["Nowhere"]))
        r = self.api("GET", "/v1/flows", key=partner)
        self.assertEqual(r.status, 200, r)
        self.assertIn("digital_skills", [f["name"] for f in r.json["items"]])
        flow = self.api("GET", "/v1/flows/digital_skills", key=partner).json
        topic = flow["steps"][0]
        self.assertEqual(topic["label"], "What would they like help with?")
        self.assertTrue(all(s.get("label") and all(a.get("label") for a in s["answers"])
                            for s in flow["steps"]), "every step and answer has a label")
        self.assertTrue(topic["question"].startswith("What would you like help with? Reply 1"),
                        "the text to tenants is unchanged")
        self.assertEqual(self.api("PUT", "/v1/flows/digital_skills", flow, key=partner).status, 403)
        self.assertEqual(self.api("GET", "/v1/flows/nope", key=partner).status, 404)

        mine = {"name": "console_walk", "category": "money", "start": "need",
                "steps": [{"id": "need", "question": "Need help? Reply 1 or 2",
                           "label": "What do they need?",
                           "answers": [{"match": ["1"], "value": "bills", "label": "Bills",
                                        "outcome": "help_request"},
                                       {"match": ["2"], "value": "none", "outcome": "end"}]}]}
        r = self.api("PUT", "/v1/flows/console_walk", mine, key=self.admin)
        self.assertEqual(r.status, 200, r)
        back = self.api("GET", "/v1/flows/console_walk", key=partner).json
        self.assertEqual(back["steps"][0]["label"], "What do they need?")
        self.assertEqual(back["steps"][0]["answers"][0]["label"], "Bills")
        self.assertNotIn("label", back["steps"][0]["answers"][1])
        bad = json.loads(json.dumps(mine))
        bad["steps"][0]["label"] = "two\nlines"
        r = self.api("PUT", "/v1/flows/console_walk", bad, key=self.admin)
        self.assertEqual(r.status, 422, r)
        self.assertIn("label", r.json["error"]["message"])
        bad["steps"][0]["label"] = "x" * 201
        self.assertEqual(self.api("PUT", "/v1/flows/console_walk", bad, key=self.admin).status, 422)
        bad["steps"][0]["label"] = "fine"
        bad["steps"][0]["answers"][0]["label"] = 5
        self.assertEqual(self.api("PUT", "/v1/flows/console_walk", bad, key=self.admin).status, 422)
        self.assertEqual(self.api("GET", "/v1/flows/console_walk").json, back, "refusals change nothing")

    # ---- 6. webhook secrets made by signpost ----

    def test_6_generated_webhook_secret(self):
        fake = FakePartner("whsec_" + base64.b64encode(b"not-the-secret-yet-x").decode())
        try:
            r = self.api("POST", "/v1/partners", {"name": "Generated", "categories": ["gen"],
                                                  "boroughs": ["Genshire"], "webhook_url": fake.url,
                                                  "generate_webhook_secret": True}, key=self.admin)
            self.assertEqual(r.status, 201, r)
            pid, secret = r.json["id"], r.json["webhook_secret"]
            self.assertTrue(secret.startswith("whsec_"), secret)
            self.assertEqual(len(base64.b64decode(secret[6:], validate=True)), 24)
            self.assertTrue(r.json["has_webhook_secret"])
            for got in (self.api("GET", "/v1/partners/%d" % pid, key=self.admin),
                        self.api("GET", "/v1/partners", key=self.admin)):
                self.assertEqual(got.status, 200)
                self.assertNotIn(secret, got.body.decode())
                self.assertNotIn("webhook_secret", got.body.decode().replace(
                    "has_webhook_secret", ""))
            self.assertNotIn(secret, self.d.log(), "never logged")
            # It is the secret the partner's webhooks are signed with.
            fake.secret = secret
            made = self.refer({"first_name": "Gen", "phone": "01632 960999", "borough": "Genshire",
                               "category": "gen", "consent": True})
            wait_until(lambda: any(p[1]["data"]["id"] == made["id"] for p in fake.accepted()),
                       what="a webhook signed with the generated secret")

            r = self.api("PUT", "/v1/partners/%d" % pid, {"generate_webhook_secret": True},
                         key=self.admin)
            self.assertEqual(r.status, 200, r)
            self.assertNotEqual(r.json["webhook_secret"], secret, "a new one each time")
            r = self.api("PUT", "/v1/partners/%d" % pid, {"capacity": 3}, key=self.admin)
            self.assertNotIn("webhook_secret", r.json)
            self.assertEqual(self.db.value("SELECT webhook_secret FROM partners WHERE id = %s", pid)[:6],
                             "whsec_")

            for body, field in (({"name": "x", "webhook_secret": SECRET,
                                  "generate_webhook_secret": True}, "generate_webhook_secret"),
                                ({"name": "x", "generate_webhook_secret": "yes"},
                                 "generate_webhook_secret"),
                                ({"name": "x", "webhook_url": fake.url,
                                  "generate_webhook_secret": False}, "webhook_secret")):
                self.assertRefused(self.api("POST", "/v1/partners", body, key=self.admin), 422, field)
            r = self.api("POST", "/v1/partners", {"name": "No hook", "generate_webhook_secret": False},
                         key=self.admin)
            self.assertEqual((r.status, "webhook_secret" in r.json), (201, False), r)
        finally:
            fake.stop()

    # ---- who, for a person signed in to the console ----

    def test_7_console_user_is_named_by_email(self):
        r = self.api("POST", "/v1/users", {"email": "Ola@Example.org", "role": "officer"},
                     key=self.admin)
        self.assertEqual(r.status, 201, r)
        token = r.json["invite_url"].split("#", 1)[1]
        got = self.api("GET", "/v1/users/%d" % r.json["id"], key=self.admin)
        self.assertEqual((got.status, got.json["email"], got.json["has_password"]),
                         (200, "ola@example.org", False), got)
        password = "kettle tangerine lighthouse 47"
        r = self.d.api("POST", "/v1/invites/accept", {"token": token, "password": password})
        self.assertEqual(r.status, 201, r)
        r = self.d.api("POST", "/v1/session", {"email": "ola@example.org", "password": password})
        self.assertEqual(r.status, 201, r)
        cookie = r.headers["Set-Cookie"].split(";", 1)[0]
        browser = {"Cookie": cookie, "X-CSRF-Token": r.json["csrf_token"],
                   "Origin": self.d.public_url}

        helper = self.partner("Hythe Digital Champions", ["console_user"], ["Hythe"])
        r = self.d.api("POST", "/v1/referrals", {"first_name": "Ife", "phone": "020 7946 0370",
                                                 "borough": "Hythe", "category": "console_user",
                                                 "consent": True, "note": "Met at the library"},
                       headers=browser)
        self.assertEqual(r.status, 201, r)
        hid = r.json["id"]
        self.assertEqual(r.json["referred_by"], "ola@example.org")
        self.assertEqual(self.db.value("SELECT (referred_by_user IS NOT NULL, referred_by_key IS NULL)"
                                       "::text FROM help_requests WHERE id = %s", hid), "(t,t)")
        self.wait_state(hid, "assigned")
        self.assertEqual(self.d.api("POST", "/v1/help-requests/%d/decline" % hid, {},
                                    headers=browser).status, 200)
        history = self.request(hid)["history"]
        self.assertEqual([(e["to_state"], e["actor"]) for e in history][:3],
                         [("new", "ola@example.org"), ("assigned", None), ("new", "ola@example.org")])
        self.assertEqual((history[0]["note"], history[1]["partner_id"]),
                         ("Met at the library", helper))
