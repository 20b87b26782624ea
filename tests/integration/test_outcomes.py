"""Outcomes with the real daemon: a history written straight into the tables at chosen
instants (months, boroughs, landlords, categories, partners, follow-up answers, opt-outs,
a staff referral, events a second either side of the range and of a month's end in
Europe/London), and one journey through the API (a campaign through the simulator, a
SKILLS reply, a partner taking the request to "helped", the follow-up answered), then
every grouping's figures, the totals, the CSV and the refusals."""
import csv
import datetime
import io
import zoneinfo

from harness import IntegrationCase, Daemon, ALL_WEEK, drama_number, wait_until

LONDON = zoneinfo.ZoneInfo("Europe/London")
METRICS = ("texted", "replied", "referred", "contacted", "helped", "opted_out",
           "followup_yes", "followup_no")
RANGE = "from=2023-01-15&to=2023-04-10"
HYPERLINK = '=HYPERLINK("http://example.com","x")'

TENANTS = [  # id, number, borough, landlord
    (1, 10, "Thanet", "Orbit"),
    (2, 11, "thanet ", "orbit"),
    (3, 12, "Maidstone", "Golding Homes"),
    (4, 13, "", HYPERLINK),
    (5, 14, "Tunbridge Wells", "-Minus Homes"),
    (6, 15, "Maidstone", "+Plus Housing"),
]
CAMPAIGN_TEXTS = [  # tenant, campaign, kind, submitted_at (UTC)
    (1, 1, "campaign", "2023-01-20 10:00"),
    (1, 2, "campaign", "2023-01-25 10:00"),    # January again: T1 counts once there
    (1, 3, "campaign", "2023-03-05 10:00"),
    (2, 1, "campaign", "2023-01-14 23:59"),    # the day before the range
    (2, 2, "campaign", "2023-03-10 10:00"),
    (3, 1, "campaign", "2023-01-15 00:00"),    # the range's first instant
    (3, 2, "campaign", "2023-03-31 23:30"),    # 00:30 BST on 1 April: April
    (4, 1, "campaign", None),                  # never handed to a provider
    (5, None, "reply", "2023-03-12 10:00"),    # not a campaign text
    (6, 1, "campaign", "2023-04-10 22:30"),    # 23:30 BST on the range's last day
    (6, 2, "campaign", "2023-04-10 23:00"),    # midnight BST: 11 April, outside
]
INBOUND = [  # tenant (None: a number that is no tenant's), number, received_at (UTC)
    (1, 10, "2023-01-21 10:00"),
    (1, 10, "2023-01-22 10:00"),
    (1, 10, "2023-03-02 10:00"),
    (None, 20, "2023-03-03 10:00"),
    (None, 20, "2023-04-02 10:00"),
    (3, 12, "2023-04-10 22:59"),
    (6, 15, "2023-01-14 23:00"),               # outside
]
PARTNERS = [(901, "Margate Library, Thanet"), (902, "@Digital Champions"),
            (903, "Quiet partner")]
HELP = [  # tenant, number, category, borough, partner, created (UTC), contacted, outcome,
    # follow-up answer, source
    (1, 10, "digital_skills", "Thanet", 901, "2023-01-16 10:00", True, "helped", "yes", "sms"),
    (2, 11, "universal_credit", "THANET", 901, "2023-03-05 10:00", True, "no_longer_needed",
     "no", "sms"),
    (3, 12, "money", "Maidstone", 902, "2023-03-31 23:30", True, "helped", "no", "sms"),
    (None, 20, "digital_skills", None, None, "2023-04-05 10:00", False, None, None, "sms"),
    (6, 15, "jobs", "Maidstone", 902, "2023-01-15 00:00", True, "helped", None, "staff"),
    (1, 10, "money", "Thanet", 901, "2023-01-14 23:59", True, "helped", "yes", "sms"),
    (5, 14, "digital_skills", "Tunbridge Wells", 901, "2023-04-10 23:00", True, "helped",
     "no", "sms"),
]
OPT_OUTS = [(13, "2023-01-31 23:59:59"), (11, "2023-03-15 10:00"), (14, "2023-03-20 10:00"),
            (20, "2023-04-03 10:00"), (21, "2023-01-14 23:59")]


def figures(*values):
    return dict(zip(METRICS, values))


NA = (None, None)  # texted and replied where they do not apply
MONTHS = [("2023-01", "January 2023", figures(2, 1, 2, 2, 2, 1, 1, 0)),
          ("2023-02", "February 2023", figures(0, 0, 0, 0, 0, 0, 0, 0)),
          ("2023-03", "March 2023", figures(2, 2, 1, 1, 0, 2, 0, 1)),
          ("2023-04", "April 2023", figures(2, 2, 2, 1, 1, 1, 0, 1))]
TOTALS = figures(4, 3, 5, 4, 3, 4, 1, 2)
REQUEST_TOTALS = figures(None, None, 5, 4, 3, None, 1, 2)


def at(utc):
    return None if utc is None else utc + "+00"


class OutcomesTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.admin = cls.d.key("admin")
        cls.officer = cls.d.key("officer")
        cls.d.landlords("Orbit")
        cls.history()
        cls.partner_key = cls.d.key("partner", 901)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    @classmethod
    def history(cls):
        q = cls.db.query
        for tid, n, borough, landlord in TENANTS:
            q("INSERT INTO tenants (id, external_ref, first_name, phone, borough, landlord) "
              "VALUES (%s, %s, 'Sam', %s, %s, %s)", tid, "H-%d" % tid, drama_number(n),
              borough, landlord)
        q("SELECT setval('tenants_id_seq', 100)")
        for c in (1, 2, 3):
            q("INSERT INTO campaigns (id, name, body, audience, send_window, state) VALUES "
              "(%s, 'Old', 'Hi', '{}', '{}', 'completed')", c)
        q("SELECT setval('campaigns_id_seq', 100)")
        for tid, cid, kind, sent in CAMPAIGN_TEXTS:
            q("INSERT INTO messages (kind, campaign_id, tenant_id, to_phone, body, provider, "
              "state, submitted_at) VALUES (%s, %s, %s, %s, 'Hi', 'sim', %s, %s)", kind, cid,
              tid, drama_number(TENANTS[tid - 1][1]), "delivered" if sent else "cancelled",
              at(sent))
        for i, (tid, n, received) in enumerate(INBOUND):
            q("INSERT INTO inbound_messages (provider, provider_msg_id, from_phone, body, "
              "tenant_id, received_at) VALUES ('sim', %s, %s, 'SKILLS', %s, %s)",
              "old-%d" % i, drama_number(n), tid, at(received))
        for pid, name in PARTNERS:
            q("INSERT INTO partners (id, name, categories, boroughs) VALUES "
              "(%s, %s, '{digital_skills}', '{Canterbury}')", pid, name)
        for (tid, n, category, borough, pid, created, contacted, outcome, answer,
             source) in HELP:
            state = "resolved" if outcome else "contacted" if contacted else "new"
            q("INSERT INTO help_requests (tenant_id, phone, category, borough, partner_id, "
              "created_at, state, contacted_at, outcome, resolved_at, followup_sent_at, "
              "followup_outcome, source, escalated_at, escalation_reason) VALUES "
              "(%s, %s, %s, %s, %s, %s, %s, CASE WHEN %s THEN %s::timestamptz END, %s, "
              "CASE WHEN %s IS NOT NULL THEN %s::timestamptz END, "
              "CASE WHEN %s IS NOT NULL THEN %s::timestamptz END, %s, %s, "
              "CASE WHEN %s = 'new' THEN %s::timestamptz END, "
              "CASE WHEN %s = 'new' THEN 'no_partner' END)",
              tid, drama_number(n), category, borough, pid, at(created), state, contacted,
              at(created), outcome, outcome, at(created), outcome, at(created), answer,
              source, state, at(created), state)
        for n, created in OPT_OUTS:
            q("INSERT INTO opt_outs (phone, source, created_at) VALUES (%s, 'sms', %s)",
              drama_number(n), at(created))

    def get(self, query, key=None, path="/v1/outcomes"):
        return self.d.api("GET", path + ("?" + query if query else ""),
                          key=key or self.officer)

    def outcomes(self, query, key=None):
        r = self.get(query, key)
        self.assertEqual(r.status, 200, r)
        return r.json

    def report(self, query):
        r = self.get(query, path="/v1/outcomes/report.csv")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Content-Type"], "text/csv; charset=utf-8")
        return r, list(csv.reader(io.StringIO(r.body.decode(), newline="")))

    def assertRows(self, answer, expected):
        got = [(row["key"], row["label"], {m: row[m] for m in METRICS})
               for row in answer["rows"]]
        self.assertEqual(got, expected)
        for row in answer["rows"]:
            self.assertEqual(sorted(row), sorted(("key", "label") + METRICS), row)

    def assertRefused(self, query, field, path="/v1/outcomes"):
        r = self.get(query, path=path)
        self.assertEqual(r.status, 422, (query, r))
        self.assertEqual(r.json["error"]["field"], field, (query, r))

    # ---- the history, grouped every way ----

    def test_by_month(self):
        a = self.outcomes(RANGE)
        self.assertEqual((a["by"], a["from"], a["to"]), ("month", "2023-01-15", "2023-04-10"))
        self.assertRows(a, MONTHS)
        self.assertEqual(a["totals"], TOTALS, "texted and replied are distinct over the range")
        self.assertEqual(a["not_applicable"], [])
        self.assertEqual(self.outcomes("by=month&" + RANGE), a)

    def test_one_day(self):
        a = self.outcomes("from=2023-04-10&to=2023-04-10")
        self.assertRows(a, [("2023-04", "April 2023", figures(1, 1, 0, 0, 0, 0, 0, 0))])
        # Midnight BST starts 11 April at 23:00 UTC on the 10th.
        a = self.outcomes("from=2023-04-11&to=2023-04-11")
        self.assertRows(a, [("2023-04", "April 2023", figures(1, 0, 1, 1, 1, 0, 0, 1))])
        self.assertEqual(a["totals"], figures(1, 0, 1, 1, 1, 0, 0, 1))
        a = self.outcomes("from=2023-02-01&to=2023-02-28")
        self.assertRows(a, [("2023-02", "February 2023", figures(0, 0, 0, 0, 0, 0, 0, 0))])
        self.assertEqual(a["totals"], figures(0, 0, 0, 0, 0, 0, 0, 0))
        self.assertEqual(self.outcomes("by=borough&from=2023-02-01&to=2023-02-28")["rows"], [])

    def test_by_borough(self):
        a = self.outcomes("by=borough&" + RANGE)
        self.assertRows(a, [("Maidstone", "Maidstone", figures(2, 1, 2, 2, 2, 0, 0, 1)),
                            (None, "Not recorded", figures(0, 1, 1, 0, 0, 2, 0, 0)),
                            ("Thanet", "Thanet", figures(2, 1, 2, 2, 1, 1, 1, 1)),
                            ("Tunbridge Wells", "Tunbridge Wells",
                             figures(0, 0, 0, 0, 0, 1, 0, 0))])
        self.assertEqual(a["totals"], TOTALS)
        self.assertEqual(a["not_applicable"], [])

    def test_by_landlord(self):
        a = self.outcomes("by=landlord&" + RANGE)
        self.assertRows(a, [("+Plus Housing", "+Plus Housing", figures(1, 0, 1, 1, 1, 0, 0, 0)),
                            ("-Minus Homes", "-Minus Homes", figures(0, 0, 0, 0, 0, 1, 0, 0)),
                            (HYPERLINK, HYPERLINK, figures(0, 0, 0, 0, 0, 1, 0, 0)),
                            ("Golding Homes", "Golding Homes", figures(1, 1, 1, 1, 1, 0, 0, 1)),
                            (None, "Not recorded", figures(0, 1, 1, 0, 0, 1, 0, 0)),
                            ("Orbit", "Orbit", figures(2, 1, 2, 2, 1, 1, 1, 1))])
        self.assertEqual(a["totals"], TOTALS)

    def test_by_category(self):
        a = self.outcomes("by=category&" + RANGE)
        self.assertRows(a, [
            ("digital_skills", "Digital skills", figures(*NA, 2, 1, 1, None, 1, 0)),
            ("jobs", "Jobs", figures(*NA, 1, 1, 1, None, 0, 0)),
            ("money", "Money", figures(*NA, 1, 1, 1, None, 0, 1)),
            ("universal_credit", "Universal credit", figures(*NA, 1, 1, 0, None, 0, 1))])
        self.assertEqual(a["totals"], REQUEST_TOTALS)
        self.assertEqual(a["not_applicable"], ["texted", "replied", "opted_out"])

    def test_by_partner(self):
        a = self.outcomes("by=partner&" + RANGE)
        self.assertRows(a, [
            (902, "@Digital Champions", figures(*NA, 2, 2, 2, None, 0, 1)),
            (901, "Margate Library, Thanet", figures(*NA, 2, 2, 1, None, 1, 1)),
            (None, "No partner yet", figures(*NA, 1, 0, 0, None, 0, 0))])
        self.assertEqual(a["totals"], REQUEST_TOTALS)
        self.assertEqual(a["not_applicable"], ["texted", "replied", "opted_out"])

    def test_a_second_either_side_moves_the_figures(self):
        """The exact figures above would not notice an off-by-one at an edge unless they
        move when an event crosses it: they do, and come back."""
        h5 = "SELECT id FROM help_requests WHERE source = 'staff'"
        self.db.query("UPDATE help_requests SET created_at = created_at - interval '1 second' "
                      "WHERE id = (%s)" % h5)
        try:
            a = self.outcomes(RANGE)
            self.assertEqual(a["rows"][0]["referred"], 1)
            self.assertEqual(a["totals"]["referred"], 4)
        finally:
            self.db.query("UPDATE help_requests SET created_at = created_at + "
                          "interval '1 second' WHERE id = (%s)" % h5)
        # 22:59:59 UTC on 31 March is still March in London; a second later it is April.
        self.db.query("UPDATE opt_outs SET created_at = '2023-03-31 22:59:59+00' WHERE phone = %s",
                      drama_number(20))
        try:
            a = self.outcomes(RANGE)
            self.assertEqual([r["opted_out"] for r in a["rows"]], [1, 0, 3, 0])
            self.db.query("UPDATE opt_outs SET created_at = '2023-03-31 23:00:00+00' "
                          "WHERE phone = %s", drama_number(20))
            a = self.outcomes(RANGE)
            self.assertEqual([r["opted_out"] for r in a["rows"]], [1, 0, 2, 1])
        finally:
            self.db.query("UPDATE opt_outs SET created_at = '2023-04-03 10:00+00' WHERE phone = %s",
                          drama_number(20))
        self.assertRows(self.outcomes(RANGE), MONTHS)

    # ---- the spreadsheet ----

    def test_report_csv(self):
        r, rows = self.report(RANGE)
        self.assertEqual(r.headers["Content-Disposition"],
                         'attachment; filename="outcomes-month-2023-01-15-to-2023-04-10.csv"')
        self.assertEqual(rows[0], ["month"] + list(METRICS))
        self.assertEqual(rows[1:], [[label] + [str(f[m]) for m in METRICS]
                                    for _, label, f in MONTHS] +
                         [["Total"] + [str(TOTALS[m]) for m in METRICS]])

        r, rows = self.report("by=partner&" + RANGE)
        self.assertEqual(r.headers["Content-Disposition"],
                         'attachment; filename="outcomes-partner-2023-01-15-to-2023-04-10.csv"')
        self.assertEqual(rows, [
            ["partner"] + list(METRICS),
            ["'@Digital Champions", "", "", "2", "2", "2", "", "0", "1"],
            ["Margate Library, Thanet", "", "", "2", "2", "1", "", "1", "1"],
            ["No partner yet", "", "", "1", "0", "0", "", "0", "0"],
            ["Total", "", "", "5", "4", "3", "", "1", "2"]])
        self.assertIn(b'\r\n"Margate Library, Thanet",', r.body)

    def test_report_csv_formula_injection(self):
        r, rows = self.report("by=landlord&" + RANGE)
        self.assertEqual([row[0] for row in rows], [
            "landlord", "'+Plus Housing", "'-Minus Homes", "'" + HYPERLINK, "Golding Homes",
            "Not recorded", "Orbit", "Total"])
        self.assertIn(b'\r\n"\'=HYPERLINK(""http://example.com"",""x"")",0,0,0,0,0,1,0,0\r\n',
                      r.body)
        self.assertEqual(rows[-1], ["Total"] + [str(TOTALS[m]) for m in METRICS])
        _, rows = self.report("by=category&" + RANGE)
        self.assertEqual(rows[1], ["Digital skills", "", "", "2", "1", "1", "", "1", "0"])

    # ---- defaults, refusals and who may ask ----

    def test_defaults_are_a_year_of_months_to_today(self):
        a = self.outcomes("")
        today = datetime.datetime.now(LONDON).date()
        first = today.replace(day=1)
        for _ in range(11):
            first = (first - datetime.timedelta(days=1)).replace(day=1)
        self.assertEqual((a["by"], a["from"], a["to"]),
                         ("month", first.isoformat(), today.isoformat()))
        self.assertEqual(len(a["rows"]), 12)
        self.assertEqual(a["rows"][0]["key"], first.isoformat()[:7])
        self.assertEqual(a["rows"][-1]["key"], today.isoformat()[:7])
        # From 1 May 2022: all of January, with what happened before the 15th.
        a = self.outcomes("to=2023-04-10")
        self.assertEqual((a["from"], len(a["rows"])), ("2022-05-01", 12))
        self.assertRows({"rows": a["rows"][8:]},
                        [("2023-01", "January 2023", figures(3, 2, 3, 3, 3, 2, 2, 0))] + MONTHS[1:])
        for row in a["rows"][:8]:
            self.assertEqual({m: row[m] for m in METRICS}, figures(0, 0, 0, 0, 0, 0, 0, 0), row)
        self.assertEqual(a["totals"], figures(4, 4, 6, 5, 4, 5, 2, 2))

    def test_five_years_at_most(self):
        a = self.outcomes("from=2018-01-02&to=2023-01-01")
        self.assertEqual(len(a["rows"]), 61)
        self.assertEqual((a["rows"][0]["label"], a["rows"][-1]["label"]),
                         ("January 2018", "January 2023"))
        self.assertRefused("from=2018-01-01&to=2023-01-01", "from")
        self.assertRefused("from=2018-01-01&to=2023-01-01", "from", "/v1/outcomes/report.csv")
        self.assertRefused("from=2000-01-01", "from")

    def test_bad_parameters(self):
        for query, field in (("by=week", "by"), ("by=", "by"), ("by=Month", "by"),
                             ("from=2023-02-29", "from"), ("from=2024-02-30", "from"),
                             ("from=20230101", "from"), ("from=2023-1-05", "from"),
                             ("from=", "from"), ("to=2023-13-01", "to"),
                             ("to=2023-04-10T00:00", "to"), ("to=yesterday", "to"),
                             ("from=2023-04-11&to=2023-04-10", "from"),
                             ("by=partner&from=2023-05-01&to=2023-04-30", "from")):
            self.assertRefused(query, field)
            self.assertRefused(query, field, "/v1/outcomes/report.csv")
        self.assertEqual(self.outcomes("from=2024-02-29&to=2024-02-29")["rows"][0]["key"],
                         "2024-02")

    def test_who_may_ask(self):
        for path in ("/v1/outcomes", "/v1/outcomes/report.csv"):
            self.assertEqual(self.get(RANGE, self.admin, path).status, 200)
            self.assertEqual(self.get(RANGE, self.officer, path).status, 200)
            r = self.get(RANGE, self.partner_key, path)
            self.assertEqual((r.status, r.json["error"]["code"]), (403, "forbidden"), r)
            self.assertEqual(self.d.api("GET", path).status, 401)
            self.assertEqual(self.d.api("POST", path, {}, key=self.admin).status, 405)

    # ---- a journey through the API, counted in this month ----

    def test_journey_through_the_api(self):
        api = lambda method, path, body=None, key=None: self.d.api(method, path, body,
                                                                    key=key or self.officer)
        for n, landlord in ((30, "Orbit"), (31, None)):
            r = api("POST", "/v1/tenants", {"external_ref": "J-%d" % n, "first_name": "Alex",
                                            "phone": drama_number(n), "borough": "Dover",
                                            "landlord": landlord})
            self.assertEqual(r.status, 201, r)
        r = api("POST", "/v1/partners", {"name": "Dover Digital Champions",
                                         "categories": ["digital_skills"],
                                         "boroughs": ["Dover"]}, key=self.admin)
        self.assertEqual(r.status, 201, r)
        pid = r.json["id"]
        dover = self.d.key("partner", pid)
        r = api("POST", "/v1/campaigns", {"name": "Get online",
                                          "body": "Free help getting online. Reply SKILLS",
                                          "audience": {"boroughs": ["Dover"]},
                                          "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(api("POST", "/v1/campaigns/%d/schedule" % cid).status, 200)
        wait_until(lambda: api("GET", "/v1/campaigns/%d" % cid).json["counts"]["delivered"] == 2,
                   what="both campaign texts delivered")

        for n, text in ((30, "SKILLS"), (31, "STOP")):
            r = api("POST", "/v1/sim/inbound", {"from": drama_number(n), "text": text})
            self.assertEqual(r.status, 202, r)
        hid = wait_until(lambda: self.db.value("SELECT id FROM help_requests WHERE phone = %s "
                                               "AND partner_id = %s", drama_number(30), pid),
                         what="the help request assigned to the partner")
        wait_until(lambda: self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                         drama_number(31)) == 1, what="the opt-out")
        for action, body in (("accept", {}), ("contacted", {}), ("resolve", {"outcome": "helped"})):
            r = api("POST", "/v1/help-requests/%d/%s" % (hid, action), body, key=dover)
            self.assertEqual(r.status, 200, (action, r))
        # A week later (moved back, not waited for) the follow-up question; the tenant says yes.
        self.db.query("UPDATE help_requests SET resolved_at = now() - interval '8 days' "
                      "WHERE id = %s", hid)
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply' "
                                         "AND to_phone = %s AND body LIKE 'Did you get%%'",
                                         drama_number(30)) == 1, what="the follow-up question")
        self.assertEqual(api("POST", "/v1/sim/inbound", {"from": drama_number(30),
                                                         "text": "yes"}).status, 202)
        wait_until(lambda: self.db.value("SELECT followup_outcome FROM help_requests "
                                         "WHERE id = %s", hid) == "yes", what="the answer")

        a = self.outcomes("")
        month = datetime.datetime.now(LONDON).strftime("%Y-%m")
        journey = figures(2, 2, 1, 1, 1, 1, 1, 0)
        self.assertEqual([(r["key"], {m: r[m] for m in METRICS}) for r in a["rows"][-1:]],
                         [(month, journey)])
        for r in a["rows"][:-1]:
            self.assertEqual({m: r[m] for m in METRICS}, figures(0, 0, 0, 0, 0, 0, 0, 0), r)
        self.assertEqual(a["totals"], journey)
        self.assertRows(self.outcomes("by=borough"), [("Dover", "Dover", journey)])
        self.assertRows(self.outcomes("by=landlord"), [
            ("Orbit", "Orbit", figures(1, 1, 1, 1, 1, 0, 1, 0)),
            # a tenant added with no landlord belongs to the UNASSIGNED landlord
            ("Unassigned", "Unassigned", figures(1, 1, 0, 0, 0, 1, 0, 0))])
        self.assertRows(self.outcomes("by=category"), [
            ("digital_skills", "Digital skills", figures(*NA, 1, 1, 1, None, 1, 0))])
        self.assertRows(self.outcomes("by=partner"), [
            (pid, "Dover Digital Champions", figures(*NA, 1, 1, 1, None, 1, 0))])
        _, rows = self.report("by=borough")
        self.assertEqual(rows[1:], [["Dover", "2", "2", "1", "1", "1", "1", "1", "0"],
                                    ["Total", "2", "2", "1", "1", "1", "1", "1", "0"]])
