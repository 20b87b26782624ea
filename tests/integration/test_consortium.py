"""A consortium of landlords: landlords as records, tenants each belonging to one, officers
bound to a landlord seeing and changing only its tenants (row-level security in the data
access), and the scoping matrix generated from the route table in gateway/api.c."""
import json
import os
import re
import unittest

from harness import ALL_WEEK, ROOT, Daemon, IntegrationCase, drama_number, sim_config, wait_until

# Tenants seeded with ids no other row reaches, so their ids, numbers and names can be
# searched for in any answer.
OWN = [(8100001, 901, "Ownfirst"), (8100002, 902, "Ownsecond")]
OTHER = [(9700001, 951, "Zedotherone"), (9700002, 952, "Zedothertwo")]


def route_table():
    """(method, pattern, roles) for every route in gateway/api.c's api_routes[]."""
    with open(os.path.join(ROOT, "gateway", "api.c")) as f:
        text = f.read()
    table = text[text.index("api_routes[] = {"):]
    table = table[:table.index("\n};")]
    return re.findall(r'\{\s*"([A-Z]+)",\s*"([^"]+)",\s*([A-Z_| ]+),', table)


# A campaign's audience and window as the API stores them.
AUDIENCE = {"boroughs": [], "landlords": [], "languages": [], "tags_all": [], "tags_any": [],
            "tags_none": []}


class ConsortiumCase(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, config=sim_config()).start()
        cls.admin = cls.d.key("admin")
        for code, name in (("ORBIT", "Orbit"), ("WKH", "West Kent Housing")):
            r = cls.d.api("POST", "/v1/landlords", {"code": code, "name": name}, key=cls.admin)
            assert r.status == 201, r
        cls.orbit = cls.db.value("SELECT id FROM landlords WHERE code = 'ORBIT'")
        cls.wkh = cls.db.value("SELECT id FROM landlords WHERE code = 'WKH'")
        cls.officer = cls.d.key("officer")
        cls.bound = cls.d.run("keys", "create", "--role", "officer", "--landlord", "orbit",
                              "--label", "Orbit officer").stdout.strip()
        cls.seed()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    @classmethod
    def seed(cls):
        q = cls.db.query
        for landlord, rows in (("ORBIT", OWN), ("WKH", OTHER)):
            for tid, n, name in rows:
                q("INSERT INTO tenants (id, external_ref, first_name, phone, borough, landlord) "
                  "VALUES (%s, %s, %s, %s, 'Thanet', %s)", tid, "R%d" % tid, name,
                  drama_number(n), landlord)
        cls.partner = q("INSERT INTO partners (name, categories, boroughs) VALUES "
                        "('Library', '{skills}', '{Thanet}') RETURNING id")[0][0]
        cls.partner_key = cls.d.key("partner", partner=cls.partner)
        cls.ids = {}
        for side, rows, landlord in (("own", OWN, cls.orbit), ("other", OTHER, cls.wkh)):
            tid, n, _ = rows[0]
            cid = q("INSERT INTO campaigns (name, body, audience, send_window, landlord_id) "
                    "VALUES (%s, 'Hello', %s, %s, %s) RETURNING id",
                    "Campaign " + side, json.dumps(AUDIENCE), json.dumps(dict(ALL_WEEK, skip_holidays=False)),
                    landlord)[0][0]
            q("INSERT INTO messages (kind, campaign_id, tenant_id, to_phone, body, provider) "
              "VALUES ('campaign', %s, %s, %s, 'Hello', 'sim')", cid, tid, drama_number(n))
            q("INSERT INTO inbound_messages (provider, provider_msg_id, from_phone, body, "
              "tenant_id, campaign_id) VALUES ('sim', %s, %s, 'SKILLS', %s, %s)",
              "in-" + side, drama_number(n), tid, cid)
            hid = q("INSERT INTO help_requests (tenant_id, phone, category, borough, "
                    "partner_id, state, first_name) VALUES (%s, %s, 'skills', 'Thanet', %s, "
                    "'assigned', %s) RETURNING id", tid, drama_number(n), cls.partner,
                    rows[0][2])[0][0]
            cls.ids[side] = {"tenants": tid, "campaigns": cid, "help-requests": hid}

    # ---- helpers ----

    def leaks(self, body):
        """The other landlord's tenant ids, numbers and names found in an answer."""
        found = []
        for tid, n, name in OTHER:
            for s in (str(tid), drama_number(n), drama_number(n)[1:], name):
                if s in body:
                    found.append(s)
        return found

    def api(self, method, path, body=None, key=None):
        return self.d.api(method, path, body, key=key or self.bound)


class TestLandlords(ConsortiumCase):
    def test_landlords_are_records_with_checked_fields(self):
        r = self.api("GET", "/v1/landlords")
        self.assertEqual(r.status, 200, r)
        codes = [l["code"] for l in r.json["items"]]
        self.assertEqual(codes, ["ORBIT", "WKH"])
        bad = self.d.api("POST", "/v1/landlords", {"code": "no spaces", "name": "X"},
                         key=self.admin)
        self.assertEqual((bad.status, bad.json["error"]["field"]), (422, "code"), bad)
        bad = self.d.api("POST", "/v1/landlords", {"code": "GH", "name": "Golding",
                                                   "provider": "nope"}, key=self.admin)
        self.assertEqual((bad.status, bad.json["error"]["field"]), (422, "provider"), bad)
        bad = self.d.api("POST", "/v1/landlords", {"code": "GH", "name": "Golding",
                                                   "sender_id": "Much too long a name"},
                         key=self.admin)
        self.assertEqual((bad.status, bad.json["error"]["field"]), (422, "sender_id"), bad)
        dup = self.d.api("POST", "/v1/landlords", {"code": "orbit", "name": "Orbit 2"},
                         key=self.admin)
        self.assertEqual((dup.status, dup.json["error"]["field"]), (409, "code"), dup)
        self.assertEqual(self.d.api("POST", "/v1/landlords", {"code": "GH", "name": "G"},
                                    key=self.officer).status, 403)
        r = self.d.api("PUT", "/v1/landlords/%d" % self.wkh,
                       {"sender_id": "WestKent", "privacy_notice_version": "2026-03"},
                       key=self.admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["sender_id"], r.json["privacy_notice_version"]),
                         ("WestKent", "2026-03"))
        self.assertEqual(r.json["tenants"], self.db.value(
            "SELECT count(*) FROM tenants WHERE landlord_id = %s", self.wkh))

    def test_bound_key_needs_a_known_landlord_and_an_officer(self):
        r = self.d.run("keys", "create", "--role", "officer", "--landlord", "NOPE", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no landlord with code NOPE", r.stderr)
        r = self.d.run("keys", "create", "--role", "admin", "--landlord", "ORBIT", check=False)
        self.assertNotEqual(r.returncode, 0)

    def test_console_users_bound_to_a_landlord(self):
        r = self.d.api("POST", "/v1/users", {"email": "a@orbit.example", "role": "officer",
                                             "landlord": "orbit"}, key=self.admin)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["landlord_id"], r.json["landlord_code"]), (self.orbit, "ORBIT"))
        for body, field in (({"email": "b@x.example", "role": "officer", "landlord": "NOPE"},
                             "landlord"),
                            ({"email": "c@x.example", "role": "admin", "landlord": "ORBIT"},
                             "landlord")):
            r = self.d.api("POST", "/v1/users", body, key=self.admin)
            self.assertEqual((r.status, r.json["error"]["field"]), (422, field), r)
        self.d.user("w@wkh.example", "kettle river orange", "officer")
        self.d.run("users", "create", "--email", "o@orbit.example", "--role", "officer",
                   "--landlord", "ORBIT", input="kettle river orange\n")
        r = self.d.api("POST", "/v1/session", {"email": "o@orbit.example",
                                               "password": "kettle river orange"},
                       headers={"Origin": self.d.base})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["user"]["landlord_code"], "ORBIT")
        cookie = re.match(r"signpost_session=([0-9a-f]{64});", r.headers["Set-Cookie"]).group(1)
        h = {"Cookie": "signpost_session=" + cookie}
        listed = self.d.api("GET", "/v1/tenants?limit=500", headers=h)
        self.assertEqual(listed.status, 200, listed)
        self.assertIn(OWN[0][2], listed.body.decode())
        self.assertEqual(self.leaks(listed.body.decode()), [])
        self.assertEqual(self.d.api("GET", "/v1/tenants/%d" % OTHER[0][0], headers=h).status,
                         404)

    def test_bound_officer_refers_and_moves_help_requests(self):
        r = self.api("POST", "/v1/referrals", {"first_name": "Morgan", "phone": drama_number(961),
                                               "borough": "Thanet", "category": "money",
                                               "consent": True})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.db.value("SELECT landlord_id FROM help_requests WHERE id = %s",
                                       r.json["id"]), self.orbit)
        got = self.api("GET", "/v1/help-requests/%d" % r.json["id"])
        self.assertEqual(got.status, 200, got)
        self.assertTrue(got.json["history"], got.json)
        r = self.api("POST", "/v1/referrals", {"tenant_id": OTHER[0][0], "category": "money",
                                               "consent": True})
        self.assertEqual(r.status // 100, 4, r)
        own = self.ids["own"]["help-requests"]
        r = self.api("POST", "/v1/help-requests/%d/accept" % own, {})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.db.value("SELECT count(*) FROM help_request_events WHERE "
                                       "help_request_id = %s AND to_state = 'accepted'", own), 1)

    def test_export_is_everything_held_about_a_tenant(self):
        tid = OWN[0][0]
        r = self.api("GET", "/v1/tenants/%d/export" % tid)
        self.assertEqual(r.status, 200, r)
        e = r.json
        self.assertEqual((e["tenant"]["id"], e["tenant"]["first_name"]), (tid, OWN[0][2]))
        self.assertEqual(e["landlord"]["code"], "ORBIT")
        self.assertEqual([m["body"] for m in e["texts_sent"]], ["Hello"])
        self.assertEqual([m["body"] for m in e["texts_received"]], ["SKILLS"])
        self.assertEqual([h["category"] for h in e["help_requests"]], ["skills"])
        self.assertEqual(e["help_requests"][0]["partner"], "Library")
        self.assertEqual(self.leaks(r.body.decode()), [])
        self.assertEqual(self.api("GET", "/v1/tenants/%d/export" % OTHER[0][0]).status, 404)
        other = self.d.api("GET", "/v1/tenants/%d/export" % OTHER[0][0], key=self.officer)
        self.assertEqual((other.status, other.json["tenant"]["first_name"]), (200, OTHER[0][2]))
        self.assertEqual(self.d.api("GET", "/v1/tenants/%d/export" % tid,
                                    key=self.partner_key).status, 403)

    def test_consent_records_the_privacy_notice_in_force(self):
        self.d.api("PUT", "/v1/landlords/%d" % self.orbit, {"privacy_notice_version": "v7"},
                   key=self.admin)
        r = self.api("POST", "/v1/tenants", {"external_ref": "CONSENT-1", "phone": drama_number(
            911), "consent": {"source": "paper form"}})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["consent"]["privacy_notice_version"], "v7")
        self.assertEqual(r.json["landlord_id"], self.orbit)


class TestTenantsOfOneLandlord(ConsortiumCase):
    def test_create_names_the_landlord_by_code(self):
        r = self.d.api("POST", "/v1/tenants", {"external_ref": "C-1", "phone": drama_number(921),
                                               "landlord": "wkh"}, key=self.officer)
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["landlord"], r.json["landlord_id"]),
                         ("West Kent Housing", self.wkh))
        r = self.d.api("POST", "/v1/tenants", {"external_ref": "C-2", "phone": drama_number(922),
                                               "landlord": "NOSUCH"}, key=self.officer)
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "landlord"), r)

    def test_bound_officer_adds_only_its_own_landlords_tenants(self):
        r = self.api("POST", "/v1/tenants", {"external_ref": "B-1", "phone": drama_number(923)})
        self.assertEqual((r.status, r.json["landlord_id"]), (201, self.orbit), r)
        r = self.api("POST", "/v1/tenants", {"external_ref": "B-2", "phone": drama_number(924),
                                             "landlord": "WKH"})
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "landlord"), r)
        r = self.api("POST", "/v1/tenants", {"external_ref": "B-3", "phone": drama_number(951)})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.leaks(r.body.decode()), [])

    def test_import_rows_name_their_landlord(self):
        csv = ("external_ref,first_name,phone,landlord\n"
               "I-1,Ann,%s,ORBIT\n"
               "I-2,Bob,%s,NOSUCH\n"
               "I-3,Cat,%s,WKH\n"
               "I-4,Dan,%s,\n"
               "R9700002,Eve,%s,ORBIT\n"
               "I-6,Fay,%s,ORBIT\n" % (drama_number(931), drama_number(932), drama_number(933),
                                       drama_number(934), drama_number(935), drama_number(952)))
        r = self.d.api("POST", "/v1/tenants/import", csv.encode(), key=self.bound,
                       headers={"Content-Type": "text/csv"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["created"], r.json["updated"]), (2, 0), r.json)
        errors = {e["line"]: e["error"] for e in r.json["rejected"]}
        self.assertEqual(sorted(errors), [3, 4, 6, 7], errors)
        self.assertIn("no landlord has the code", errors[3])
        self.assertIn("another landlord", errors[4])
        self.assertIn("another landlord", errors[6])
        self.assertIn("another landlord", errors[7])
        self.assertEqual(self.db.value("SELECT landlord_id FROM tenants WHERE external_ref = "
                                       "'I-4'"), self.orbit)
        self.assertEqual(self.db.value("SELECT first_name FROM tenants WHERE id = 9700002"),
                         "Zedothertwo")

    def test_another_landlords_tenant_is_not_found(self):
        tid = OTHER[1][0]
        for method, path, body in (("GET", "/v1/tenants/%d", None),
                                   ("GET", "/v1/tenants/%d/texts", None),
                                   ("PATCH", "/v1/tenants/%d", {"language": "cy"}),
                                   ("POST", "/v1/tenants/%d/opt-out", {}),
                                   ("DELETE", "/v1/tenants/%d", None)):
            r = self.api(method, path % tid, body)
            self.assertEqual(r.status, 404, (method, path, r))
        self.assertEqual(self.db.value("SELECT erased_at IS NULL FROM tenants WHERE id = %s",
                                       tid), True)
        listed = self.api("GET", "/v1/tenants?limit=500")
        self.assertEqual(self.leaks(listed.body.decode()), [])
        everyone = self.d.api("GET", "/v1/tenants?limit=500", key=self.officer).body.decode()
        self.assertIn(OTHER[0][2], everyone)

    def test_bound_officers_campaign_reaches_only_its_landlord(self):
        body = {"name": "Everyone", "body": "Digital help at the library", "audience": {
            "all": True}, "send_window": {"days": ["mon", "tue", "wed", "thu", "fri", "sat",
                                                   "sun"], "start": "00:00", "end": "24:00"}}
        self.d.api("PUT", "/v1/landlords/%d" % self.orbit, {"sender_id": "OrbitHomes"},
                   key=self.admin)
        r = self.api("POST", "/v1/campaigns", body)
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        pv = self.api("POST", "/v1/campaigns/%d/preview" % cid, {})
        self.assertEqual(pv.status, 200, pv)
        own = self.db.value("SELECT count(*) FROM tenants WHERE landlord_id = %s AND "
                            "erased_at IS NULL AND phone IS NOT NULL", self.orbit)
        self.assertEqual(pv.json["recipients"], own, pv.json)
        self.assertEqual(self.leaks(pv.body.decode()), [])
        # a consortium officer's preview of the same campaign counts the same audience
        pv = self.d.api("POST", "/v1/campaigns/%d/preview" % cid, {}, key=self.officer)
        self.assertEqual(pv.json["recipients"], own, pv.json)
        r = self.api("POST", "/v1/campaigns/%d/schedule" % cid, {})
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: self.db.value("SELECT expanded_at IS NOT NULL FROM campaigns "
                                         "WHERE id = %s", cid), what="expansion")
        self.assertEqual(self.db.value(
            "SELECT count(*) FROM messages m JOIN tenants t ON t.id = m.tenant_id "
            "WHERE m.campaign_id = %s AND t.landlord_id <> %s", cid, self.orbit), 0)
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE campaign_id = %s "
                                       "AND landlord_id = %s", cid, self.orbit), own)
        # texts go from the landlord's sender ID
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE campaign_id = %s "
                                         "AND state IN ('submitted', 'delivered')", cid) == own,
                   what="the texts sent")
        sent = [m for m in self.d.api("GET", "/v1/sim/messages", key=self.officer).json["items"]
                if m["text"] == body["body"]]
        self.assertEqual(len(sent), own, sent)
        self.assertEqual({m["from"] for m in sent}, {"OrbitHomes"}, sent)


class TestOutcomesByLandlord(ConsortiumCase):
    def test_texts_in_carry_the_tenants_landlord(self):
        for phone in (drama_number(OTHER[1][1]), drama_number(990)):
            r = self.d.api("POST", "/v1/sim/inbound", {"from": phone, "text": "SKILLS"},
                           key=self.officer)
            self.assertLess(r.status, 300, r)
        wait_until(lambda: self.db.value("SELECT count(*) FROM help_requests h JOIN "
                                         "inbound_messages i ON i.id = h.inbound_message_id") == 2,
                   what="two help requests from texts")
        self.assertEqual(self.db.query(
            "SELECT i.landlord_id, h.landlord_id FROM inbound_messages i JOIN help_requests h "
            "ON h.inbound_message_id = i.id WHERE i.from_phone = %s", drama_number(OTHER[1][1])),
            [(self.wkh, self.wkh)])
        self.assertEqual(self.db.value("SELECT landlord_id FROM inbound_messages WHERE "
                                       "from_phone = %s", drama_number(990)), None)
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply' "
                                         "AND to_phone = %s", drama_number(OTHER[1][1])),
                   what="the reply")
        self.assertEqual(self.db.value("SELECT landlord_id FROM messages WHERE kind = 'reply' "
                                       "AND to_phone = %s LIMIT 1", drama_number(OTHER[1][1])),
                         self.wkh)
        # the bound officer of the other landlord sees neither
        listed = self.api("GET", "/v1/tenants/%d/texts" % OTHER[1][0])
        self.assertEqual(listed.status, 404, listed)


    def test_bound_officer_sees_its_own_figures(self):
        for _, n, _ in OWN[:1] + OTHER:
            self.db.query("INSERT INTO opt_outs (phone, source) VALUES (%s, 'sms')",
                          drama_number(n))
        self.db.query("INSERT INTO opt_outs (phone, source) VALUES (%s, 'sms')",
                      drama_number(999))
        everyone = self.d.api("GET", "/v1/outcomes?by=landlord", key=self.officer)
        self.assertEqual(everyone.status, 200, everyone)
        names = {row["key"] for row in everyone.json["rows"]}
        self.assertTrue({"Orbit", "West Kent Housing"} <= names, everyone.json)
        mine = self.api("GET", "/v1/outcomes?by=landlord")
        self.assertEqual(mine.status, 200, mine)
        names = {row["key"] for row in mine.json["rows"]}
        self.assertEqual(names, {"Orbit"}, mine.json)
        self.assertEqual(mine.json["totals"]["opted_out"], 1, mine.json)
        self.assertEqual(mine.json["totals"]["referred"], 1, mine.json)
        self.assertEqual(everyone.json["totals"]["opted_out"], 4, everyone.json)
        self.assertEqual(everyone.json["totals"]["referred"], 2, everyone.json)
        by_month = self.api("GET", "/v1/outcomes?by=month")
        self.assertEqual(by_month.json["totals"], mine.json["totals"])


# Path parameters by the resource they name: landlord-owned ones take the seeded object
# of the landlord in question; shared ones a fixed id. A route whose resource is missing
# here fails test_every_route_has_a_row: a new route needs its row.
OWNED = {"tenants", "campaigns", "help-requests"}
SHARED = {"users": "1", "partners": "1", "landlords": "1", "flows": "default",
          "providers": "sim", "console": "index.html", "replies": "no-such-reply", "keys": "999999"}
SECOND = {"help-requests": "accept"}
ROLES = {"ADMIN": "admin", "OFFICER": "officer", "PARTNER": "partner"}


class TestScopingMatrix(ConsortiumCase):
    def resource(self, pattern):
        parts = [p for p in pattern.split("/") if p]
        return parts[1] if parts and parts[0] == "v1" and len(parts) > 1 else parts[0] if parts else ""

    def fill(self, pattern, target):
        res = self.resource(pattern)
        first = self.ids[target][res] if res in OWNED and target in self.ids else (
            SHARED.get(res, "999999"))
        path = pattern.replace("{*}", str(first))
        path = path.replace("{}", str(first), 1).replace("{}", SECOND.get(res, "x"), 1)
        return path

    def test_every_route_has_a_row(self):
        routes = route_table()
        self.assertGreater(len(routes), 50)
        for method, pattern, roles in routes:
            if "{" not in pattern:
                continue
            res = self.resource(pattern)
            self.assertTrue(res in OWNED or res in SHARED,
                            "%s %s: give its resource %r a row in the matrix" % (
                                method, pattern, res))

    def test_bound_officer_never_sees_another_landlords_tenants(self):
        checked = 0
        for method, pattern, roles in route_table():
            if "OFFICER" not in roles and "STAFF" not in roles and "API_ALL" not in roles:
                continue
            for target in ("own", "other", "none"):
                path = self.fill(pattern, target)
                body = {} if method in ("POST", "PUT", "PATCH") else None
                if pattern == "/v1/tenants/import":
                    continue  # test_import_rows_name_their_landlord
                r = self.api(method, path, body)
                text = r.body.decode(errors="replace")
                self.assertLess(r.status, 500, (method, path, text[:300]))
                if r.status >= 400:  # a refusal may quote the id it was asked for
                    text = re.sub(r"with id \d+", "", text)
                self.assertEqual(self.leaks(text), [], (method, path, text[:500]))
                if target == "other" and "{}" in pattern and self.resource(pattern) in OWNED:
                    self.assertFalse(200 <= r.status < 300, (method, path, r.status, text[:300]))
                checked += 1
        self.assertGreater(checked, 100)
        # and the other landlord's rows are all still there, unchanged
        self.assertEqual(self.db.value("SELECT count(*) FROM tenants WHERE landlord_id = %s "
                                       "AND erased_at IS NULL", self.wkh), len(OTHER))
        self.assertEqual(self.db.value("SELECT state FROM help_requests WHERE id = %s",
                                       self.ids["other"]["help-requests"]), "assigned")

    def test_other_roles_answer_every_route_without_failing(self):
        keys = {"admin": self.admin, "officer": self.officer, "partner": self.partner_key,
                "none": None}
        for method, pattern, roles in route_table():
            if method == "DELETE" or pattern in ("/v1/tenants/import", "/v1/session"):
                continue
            for role, key in keys.items():
                for target in ("own", "none"):
                    path = self.fill(pattern, target)
                    body = {} if method in ("POST", "PUT", "PATCH") else None
                    r = self.d.api(method, path, body, key=key)
                    self.assertLess(r.status, 500, (role, method, path, r.body[:300]))
                    if role == "partner" and self.resource(pattern) == "tenants":
                        self.assertEqual(r.status, 403, (method, path))

    def test_handlers_never_choose_their_scope(self):
        """Every statement of a request goes through api_db (gateway/api.c)."""
        gateway = os.path.join(ROOT, "gateway")
        for name in sorted(os.listdir(gateway)):
            if not (name.startswith("api") and name.endswith(".c")):
                continue
            with open(os.path.join(gateway, name)) as f:
                text = f.read()
            self.assertNotRegex(text, r"db_query(_grouped)?\(\s*[a-z>-]*ctx->app->db", name)
        with open(os.path.join(gateway, "api.c")) as f:
            text = f.read()
        self.assertEqual(text.count("db_query_scoped("), 1)


if __name__ == "__main__":
    unittest.main()
