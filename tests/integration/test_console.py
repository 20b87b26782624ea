"""The console in a real browser: tests/console/journeys.mjs drives Debian's chromium
through playwright-core against this daemon, as housing officers, partner staff and an
administrator would, and checks every page with axe-core. This side starts the daemon,
makes the accounts and checks what the journeys left in the database."""
import json
import os
import subprocess

from harness import IntegrationCase, Daemon, ROOT, BUILD, drama_number

OUT = os.path.abspath(os.environ.get("SIGNPOST_TEST_OUT") or os.path.join(BUILD, "test-output"))
PASSWORD = "kettle river orange"


class ConsoleJourneysTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, config={
            "providers": [{"name": "sim", "type": "sim", "price_per_segment": 0.035}],
            "default_provider": "sim", "simulator": True, "org_name": "Kent Digital Help",
            "staff_numbers": ["07700 900990"]}).start()
        admin_key = cls.d.key("admin")
        cls.officer_key = cls.d.key("officer")
        cls.d.landlords("Orbit", "Golding Homes", "West Kent")
        every = ["digital_skills", "getting_online", "communicating", "universal_credit",
                 "money", "jobs", "staying_safe"]
        cls.p1 = cls.d.api("POST", "/v1/partners", {"name": "Thanet Library", "categories": every,
                                                    "boroughs": ["Thanet"]}, key=admin_key).json["id"]
        cls.p2 = cls.d.api("POST", "/v1/partners", {"name": "Maidstone Job Club",
                                                    "categories": ["jobs"],
                                                    "boroughs": ["Maidstone"]}, key=admin_key).json["id"]
        cls.users = {
            "admin": cls.d.user("ada@kent-digital.example", PASSWORD, "admin"),
            "officer": cls.d.user("olu@kent-digital.example", PASSWORD, "officer"),
            "partner1": cls.d.user("pat@thanet-library.example", PASSWORD, "partner", cls.p1),
            "partner2": cls.d.user("max@maidstone-jobs.example", PASSWORD, "partner", cls.p2),
        }

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def test_journeys(self):
        out = os.path.join(OUT, "console")
        config = {"base": self.d.base, "out": out, "officer_key": self.officer_key,
                  "users": self.users, "tenant_phone": drama_number(301),
                  "staff_number": drama_number(990), "partner1_name": "Thanet Library"}
        env = dict(os.environ, SIGNPOST_CONSOLE_TEST=json.dumps(config))
        r = subprocess.run(["node", os.path.join(ROOT, "tests", "console", "journeys.mjs")],
                           env=env, cwd=os.path.join(ROOT, "tests", "console"),
                           capture_output=True, text=True, timeout=900)
        print(r.stdout[-6000:], r.stderr[-3000:])
        self.assertEqual(r.returncode, 0, "browser journeys failed (screenshots in %s)" % out)
        ids = json.loads(r.stdout.strip().splitlines()[-1])

        # The partner's moves are in the request's history, with who made them.
        moves = self.db.query("SELECT to_state, actor, outcome FROM help_request_events "
                              "WHERE help_request_id = %s AND actor IS NOT NULL ORDER BY id",
                              ids["request"])
        self.assertEqual([m[0] for m in moves], ["accepted", "contacted", "resolved"])
        self.assertEqual({m[1] for m in moves}, {self.users["partner1"]["email"]})
        self.assertEqual(moves[-1][2], "helped")
        # The staff referral: marked as one, with who made it and the details given.
        ref = self.db.query("SELECT source, referred_by_user, phone, first_name, borough, note, "
                            "consent, tenant_id FROM help_requests WHERE id = %s", ids["referral"])[0]
        officer = self.db.value("SELECT id FROM users WHERE email = %s",
                                self.users["officer"]["email"])
        self.assertEqual(ref, ("staff", officer, "+441632960555", "Jo", "Thanet",
                               "Mornings are best.", True, None))
        # The officer's opt-out, the erasure left undone, the campaign sent once.
        self.assertEqual(self.db.value("SELECT count(*) FROM opt_outs WHERE phone = %s",
                                       drama_number(302)), 1)
        self.assertEqual(self.db.value("SELECT count(*) FROM tenants WHERE erased_at IS NOT NULL"), 0)
        self.assertEqual(self.db.value(
            "SELECT count(*) FROM messages m JOIN campaigns c ON c.id = m.campaign_id "
            "WHERE c.name = 'Get online in Thanet' AND m.kind = 'campaign' AND m.state = 'delivered'"), 1)
        shots = os.listdir(out)
        self.assertGreaterEqual(len([s for s in shots if s.endswith("-375.png")]), 30, shots)
