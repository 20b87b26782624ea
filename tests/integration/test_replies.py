"""How tenants' replies are read, with the real daemon and the built-in simulator: why a
reply does what it does (GET /v1/replies/explain), the replies nobody understood grouped
by their core (GET /v1/replies/unrecognised) and taught as a keyword's alias (POST
/v1/replies/unrecognised/{key}/map), and replies in the tenant's language."""
import urllib.parse

from harness import IntegrationCase, Daemon, drama_number, wait_until


class RepliesTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.admin = cls.d.key("admin")
        cls.officer = cls.d.key("officer")
        tenants = [("R-1", 201, None), ("R-2", 202, None), ("R-3", 203, None),
                   ("R-4", 204, None), ("R-5", 205, "ro"), ("R-6", 206, None)]
        for ref, n, lang in tenants:
            body = {"external_ref": ref, "first_name": "Alex", "phone": drama_number(n),
                    "borough": "Thanet"}
            if lang:
                body["language"] = lang
            r = cls.d.api("POST", "/v1/tenants", body, key=cls.admin)
            assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def api(self, method, path, body=None, key=None):
        return self.d.api(method, path, body, key=key or self.admin)

    def assertError(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertTrue(r.json["error"]["message"], r)
        if field is not None:
            self.assertEqual(r.json["error"].get("field"), field, r)

    def explain(self, text, key=None, **extra):
        q = urllib.parse.urlencode(dict(text=text, **extra))
        return self.api("GET", "/v1/replies/explain?" + q, key=key or self.officer)

    def text_in(self, n, text):
        """Tenant n texts; returns once the text is stored and answered."""
        before = self.db.value("SELECT count(*) FROM inbound_messages")
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(n), "text": text})
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: self.db.value("SELECT count(*) FROM inbound_messages") > before,
                   what="text stored")

    def last_reply(self, n):
        wait_until(lambda: self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply' "
                                         "AND to_phone = %s", drama_number(n)) > 0,
                   what="a reply")
        return self.db.value("SELECT body FROM messages WHERE kind = 'reply' AND to_phone = %s "
                             "ORDER BY id DESC LIMIT 1", drama_number(n))

    def test_explain_says_what_and_why(self):
        r = self.explain("I don't want these texts any more")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["decision"]["action"], "opt_out")
        self.assertEqual(r.json["match"]["rule"], "opt_out_phrase")
        self.assertEqual(r.json["match"]["keyword"], "STOP")
        self.assertIn("opt-out phrase", r.json["match"]["explanation"])
        near = self.explain("please don't stop texting me")
        self.assertEqual(near.json["decision"]["action"], "none", near)
        self.assertEqual(near.json["match"]["rule"], "none")
        swap = self.explain("STPO")
        self.assertEqual(swap.json["match"]["match"], "typo")
        self.assertEqual(swap.json["match"]["rule"], "swapped_letters")
        self.assertEqual(swap.json["decision"]["reply"], "Did you mean STOP? Reply YES")
        self.assertEqual(self.explain("monkey").json["match"]["match"], "none",
                         "a common word is no typo of MONEY")
        email = self.explain("I want to learn to use email")
        self.assertEqual(email.json["decision"]["action"], "flow")
        self.assertEqual(email.json["decision"]["step"], "how")
        self.assertEqual(email.json["match"]["rule"], "keyword_in_sentence")
        pl = self.explain("Pomoc")
        self.assertEqual(pl.json["match"]["language"], "pl")
        self.assertEqual(pl.json["decision"]["reply_language"], "pl")
        ro = self.explain("STOP", language="ro")
        self.assertTrue(ro.json["decision"]["reply"].startswith("Nu veți mai primi"), ro)
        self.assertEqual(self.explain("STOP", key=self.admin).status, 200)

    def test_explain_refuses_bad_input(self):
        self.assertError(self.api("GET", "/v1/replies/explain", key=self.officer), 422, "text")
        self.assertError(self.explain(""), 422, "text")
        self.assertError(self.explain("x" * 1601), 422, "text")
        self.assertError(self.explain("STOP", language="Polish"), 422, "language")
        self.assertError(self.api("GET", "/v1/replies/explain?text=STOP", key="sp_nokey"), 401)

    def test_unrecognised_grouped_then_taught(self):
        self.text_in(201, "sort my telly out")
        self.text_in(202, "Sort my telly out please!")
        self.text_in(203, "what is this about")
        self.text_in(204, "SKILLS")
        r = self.api("GET", "/v1/replies/unrecognised", key=self.officer)
        self.assertEqual(r.status, 200, r)
        groups = {g["text"]: g for g in r.json["items"]}
        self.assertEqual(groups["SORT MY TELLY OUT"]["count"], 2, groups)
        self.assertEqual(groups["SORT MY TELLY OUT"]["example"], "Sort my telly out please!")
        self.assertEqual(groups["WHAT IS THIS ABOUT"]["count"], 1)
        self.assertNotIn("SKILLS", groups)
        self.assertEqual(r.json["items"][0]["text"], "WHAT IS THIS ABOUT", "newest first")
        key = groups["SORT MY TELLY OUT"]["key"]
        stored = self.db.query("SELECT core, rule, action FROM inbound_messages WHERE "
                               "from_phone = %s", drama_number(201))
        self.assertEqual(stored, [("SORT MY TELLY OUT", "none", "none")])

        path = "/v1/replies/unrecognised/%s/map" % key
        self.assertError(self.api("POST", path, {"keyword": "COMPUTER"}, key=self.officer), 403)
        self.assertError(self.api("POST", path, {"keyword": "TELLY"}), 422, "keyword")
        self.assertError(self.api("POST", path, {"keyword": "STOP"}), 422, "keyword")
        self.assertError(self.api("POST", path, {}), 422, "keyword")
        self.assertError(self.api("POST", path, {"keyword": "COMPUTER", "x": 1}), 422, "x")
        self.assertError(self.api("POST", "/v1/replies/unrecognised/%s/map" % ("0" * 32),
                                  {"keyword": "COMPUTER"}), 404)
        self.assertError(self.api("POST", "/v1/replies/unrecognised/nope/map",
                                  {"keyword": "COMPUTER"}), 404)
        replies_before = self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply'")
        r = self.api("POST", path, {"keyword": "computer"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"key": key, "text": "SORT MY TELLY OUT", "keyword": "COMPUTER"})
        computer = [k for k in self.api("GET", "/v1/keywords").json["keywords"]
                    if k["word"] == "COMPUTER"][0]
        self.assertIn("SORT MY TELLY OUT", computer["aliases"])
        # Nothing already answered is handled again, and the group leaves the list.
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE kind = 'reply'"),
                         replies_before)
        texts = [g["text"] for g in self.api("GET", "/v1/replies/unrecognised").json["items"]]
        self.assertNotIn("SORT MY TELLY OUT", texts)
        self.assertIn("WHAT IS THIS ABOUT", texts)
        self.assertError(self.api("POST", path, {"keyword": "EMAIL"}), 422, "keyword")
        # The next tenant who writes it is understood.
        self.text_in(206, "sort my telly out")
        self.assertEqual(self.db.value("SELECT action FROM inbound_messages WHERE from_phone = %s",
                                       drama_number(206)), "flow")

    def test_unrecognised_refuses_bad_input(self):
        self.assertError(self.api("GET", "/v1/replies/unrecognised?days=0"), 422, "days")
        self.assertError(self.api("GET", "/v1/replies/unrecognised?days=x"), 422, "days")
        self.assertError(self.api("GET", "/v1/replies/unrecognised?limit=501"), 422, "limit")
        self.assertEqual(self.api("GET", "/v1/replies/unrecognised?days=1&limit=1").status, 200)

    def test_languages_learned_and_answered(self):
        self.text_in(203, "Pomocy, proszę")
        self.assertEqual(self.db.value("SELECT language FROM tenants WHERE phone = %s",
                                       drama_number(203)), "pl")
        self.assertTrue(self.last_reply(203).startswith("Dziękujemy"), self.last_reply(203))
        # A tenant's own language is kept and used for words of no language.
        self.text_in(205, "STOP")
        self.assertEqual(self.db.value("SELECT language FROM tenants WHERE phone = %s",
                                       drama_number(205)), "ro")
        self.assertTrue(self.last_reply(205).startswith("Nu veți mai primi"),
                        self.last_reply(205))
