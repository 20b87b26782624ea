"""The built-in simulator as `make run` uses it: no configuration file at all."""
from harness import ALL_WEEK, IntegrationCase, Daemon, drama_number, wait_until


class SimulatorTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.key = cls.d.key("admin")
        for i in range(1, 8):
            r = cls.d.api("POST", "/v1/tenants", {"external_ref": "S-%d" % i, "first_name": "Pat",
                                                  "phone": drama_number(i), "borough": "Tunbridge Wells",
                                                  "tags": ["pilot"] if i < 6 else []}, key=cls.key)
            assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def api(self, method, path, body=None):
        return self.d.api(method, path, body, key=self.key)

    def campaign(self, window, tags=("pilot",)):
        r = self.api("POST", "/v1/campaigns", {"name": "Sim", "body": "Hello {first_name}",
                                               "audience": {"tags": list(tags)},
                                               "send_window": window})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid).status, 200)
        return cid

    def counts(self, cid):
        return self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]

    def test_magic_numbers_and_receipts(self):
        cid = self.campaign(ALL_WEEK)
        wait_until(lambda: self.counts(cid)["delivered"] == 2 and self.counts(cid)["failed"] == 2,
                   what="receipts", timeout=60)
        rows = dict(self.db.query("SELECT to_phone, state FROM messages WHERE campaign_id = %s", cid))
        self.assertEqual(rows[drama_number(1)], "delivered")
        self.assertEqual(rows[drama_number(2)], "failed")
        self.assertEqual(rows[drama_number(3)], "retry", "a temporary failure is retried later")
        self.assertEqual(rows[drama_number(4)], "failed")
        self.assertEqual(rows[drama_number(5)], "delivered")
        self.assertEqual(self.db.value("SELECT source FROM opt_outs WHERE phone = %s", drama_number(4)),
                         "provider", "an opt-out at the provider is recorded")
        texts = self.api("GET", "/v1/sim/messages").json["items"]
        self.assertIn("Hello Pat", [t["text"] for t in texts])

    def test_closed_window_defers(self):
        r = self.api("POST", "/v1/campaigns", {"name": "Later", "body": "Later {first_name}",
                                               "audience": {"boroughs": ["tunbridge wells"]},
                                               "send_window": {"days": ["mon"], "start": "00:00",
                                                               "end": "00:01"}})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.api("POST", "/v1/campaigns/%d/schedule" % cid)
        wait_until(lambda: self.counts(cid)["total"] == 7, what="expansion")
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] == "running",
                   what="running")
        counts = self.counts(cid)
        # Outside its window nothing is sent, and nothing is dropped either.
        self.assertEqual(counts["queued"], 7, counts)

    def test_the_same_id_is_stored_once(self):
        # A provider posting a text again (no answer the first time) keeps its id.
        for _ in range(2):
            r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(7), "text": "hello",
                                                     "id": "again-1"})
            self.assertEqual(r.status, 202, r)
            self.assertEqual(r.json["id"], "SIMINagain-1")
        self.assertEqual(self.db.value("SELECT count(*) FROM inbound_messages WHERE "
                                       "provider_msg_id = 'SIMINagain-1'"), 1)
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(7), "text": "x", "id": "a b"})
        self.assertEqual((r.status, r.json["error"]["field"]), (422, "id"))
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(7), "text": "hello"})
        self.assertRegex(r.json["id"], "^SIMIN[0-9a-f]{24}$")

    def test_tenant_texts_in(self):
        r = self.api("POST", "/v1/sim/inbound", {"from": drama_number(6), "text": "SKILLS"})
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: self.db.value("SELECT count(*) FROM help_requests h JOIN tenants t ON "
                                         "t.id = h.tenant_id WHERE t.phone = %s", drama_number(6)) == 1,
                   what="help request")
        # The sim cannot carry a reply in its webhook answer, so the reply goes out as a text.
        wait_until(lambda: any(t["to"] == drama_number(6) and "touch" in t["text"]
                               for t in self.api("GET", "/v1/sim/messages").json["items"]),
                   what="reply text")
        wait_until(lambda: self.db.value("SELECT state FROM messages WHERE kind = 'reply' AND "
                                         "to_phone = %s", drama_number(6)) == "delivered",
                   what="reply delivered")

    def test_unsigned_send_refused(self):
        """The simulator's send endpoint takes only what the sim adapter signed."""
        r = self.d.api("POST", "/sim/messages", {"to": drama_number(17), "text": "Hello"})
        self.assertEqual((r.status, r.json["error"]["code"]), (403, "bad_signature"), r)
        # other tests' replies may still be going out: only this number's texts count
        self.assertEqual([t for t in self.api("GET", "/v1/sim/messages").json["items"]
                          if t["to"] == drama_number(17)], [])
