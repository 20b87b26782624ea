"""The HTTP API: keys and roles, the JSON error shape, tenant validation and the CSV import."""
import socket

from harness import IntegrationCase, Daemon, drama_number, http


class ApiTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.admin = cls.d.key("admin")
        cls.officer = cls.d.key("officer")
        cls.d.landlords("Orbit", "Golding Homes")
        partner = cls.db.value("INSERT INTO partners (name) VALUES ('Library') RETURNING id")
        cls.partner = cls.d.key("partner", partner)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def assertError(self, r, status, field=None, code=None):
        self.assertEqual(r.status, status, r)
        err = r.json["error"]
        self.assertTrue(err["message"])
        if field is not None:
            self.assertEqual(err.get("field"), field, r)
        if code is not None:
            self.assertEqual(err["code"], code, r)
        return err

    def tenant(self, i, **over):
        t = {"external_ref": "T-%d" % i, "first_name": "Sam", "phone": drama_number(i),
             "borough": "Thanet", "landlord": "Orbit", "tags": ["Older", "no-broadband"]}
        t.update(over)
        return t

    # ---- health and keys ----

    def test_health(self):
        self.assertEqual(self.d.api("GET", "/healthz").json, {"status": "ok"})
        r = self.d.api("GET", "/readyz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "ready")

    def test_keys_and_roles(self):
        self.assertError(self.d.api("GET", "/v1/tenants/1"), 401, code="unauthorized")
        self.assertError(self.d.api("GET", "/v1/tenants/1", key="sp_" + "0" * 64), 401)
        self.assertError(self.d.api("GET", "/v1/tenants/1", key=self.partner), 403,
                         code="forbidden")
        self.assertEqual(self.d.api("GET", "/v1/tenants/999999", key=self.officer).status, 404)
        self.assertEqual(self.d.api("GET", "/v1/tenants/999999", key=self.admin).status, 404)
        self.assertEqual(self.db.value("SELECT count(*) FROM api_keys WHERE key_hash = %s",
                                       self.admin), 0, "keys are stored hashed")

    def test_unknown_routes_and_methods(self):
        self.assertError(self.d.api("GET", "/v1/nothing", key=self.admin), 404, code="not_found")
        self.assertError(self.d.api("DELETE", "/v1/campaigns", key=self.admin), 405)

    # ---- tenants ----

    def test_create_and_get_tenant(self):
        r = self.d.api("POST", "/v1/tenants", self.tenant(1, phone="07700 900001"),
                       key=self.officer)
        self.assertEqual(r.status, 201, r)
        t = r.json
        self.assertEqual(t["phone"], "+447700900001")
        self.assertEqual(t["tags"], ["older", "no-broadband"])
        self.assertFalse(t["opted_out"])
        got = self.d.api("GET", "/v1/tenants/%d" % t["id"], key=self.officer).json
        self.assertEqual(got["external_ref"], "T-1")
        self.assertError(self.d.api("POST", "/v1/tenants", self.tenant(1, phone=drama_number(2)),
                                    key=self.officer), 409, field="external_ref")
        self.assertError(self.d.api("POST", "/v1/tenants", self.tenant(3, phone="+447700900001"),
                                    key=self.officer), 409, field="phone")

    def test_phone_formats(self):
        for i, written in enumerate(["07700 900010", "+44 7700 900011", "0044 7700-900012",
                                     "(07700) 900.013", "7700900014", "447700900015"]):
            r = self.d.api("POST", "/v1/tenants", self.tenant(100 + i, phone=written),
                           key=self.officer)
            self.assertEqual(r.status, 201, (written, r))
            self.assertEqual(r.json["phone"], "+4477009000%d" % (10 + i))

    def test_bad_tenants(self):
        cases = [
            ({"phone": "01632 960000"}, "phone", "landline"),
            ({"phone": "+33 6 12 34 56 78"}, "phone", "UK"),
            ({"phone": "07000 900123"}, "phone", None),
            ({"phone": "07600 900123"}, "phone", None),
            ({"phone": "hello"}, "phone", None),
            ({"external_ref": ""}, "external_ref", None),
            ({"first_name": "x" * 101}, "first_name", "too long"),
            ({"tags": "older"}, "tags", None),
            ({"tags": [1]}, "tags", None),
            ({"nickname": "Sam"}, "nickname", None),
        ]
        for over, field, words in cases:
            err = self.assertError(self.d.api("POST", "/v1/tenants", self.tenant(200, **over),
                                              key=self.officer), 422, field=field)
            if words:
                self.assertIn(words.lower(), err["message"].lower(), over)
        r = self.d.api("POST", "/v1/tenants", self.tenant(200, phone=None), key=self.officer)
        self.assertError(r, 422, field="phone")

    def test_bad_bodies(self):
        h = {"Content-Type": "application/json"}
        self.assertError(self.d.api("POST", "/v1/tenants", "{not json", key=self.officer,
                                    headers=h), 400, code="invalid_json")
        self.assertError(self.d.api("POST", "/v1/tenants", "[1, 2]", key=self.officer,
                                    headers=h), 400)
        self.assertError(self.d.api("POST", "/v1/tenants", b'{"first_name": "\xff\xfe"}',
                                    key=self.officer, headers=h), 400)
        big = '{"external_ref": "%s"}' % ("x" * (1 << 20))
        self.assertError(self.d.api("POST", "/v1/tenants", big, key=self.officer, headers=h), 413)
        r = self.d.api("POST", "/v1/campaigns", {"name": "x", "body": "caf\u00e9 \u0175 \U0001F600",
                                                  "audience": {"all": True}}, key=self.officer)
        self.assertEqual(r.status, 201, "valid UTF-8 text is accepted")
        raw = b'{"name": "x", "body": "bad \xc3\x28 text", "audience": {"all": true}}'
        self.assertError(self.d.api("POST", "/v1/campaigns", raw, key=self.officer, headers=h), 400)
        # The daemon is still well after all of it.
        self.assertEqual(self.d.api("GET", "/healthz").status, 200)

    def test_garbage_requests(self):
        for raw in [b"GARBAGE\r\n\r\n", b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n",
                    b"POST /v1/tenants HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"y" * 20000 + b"\r\n\r\n"]:
            with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
                s.sendall(raw)
                answer = s.recv(4096)
                self.assertTrue(answer.startswith(b"HTTP/1.1 4"), (raw[:40], answer[:80]))
        self.assertEqual(self.d.api("GET", "/healthz").status, 200)

    def test_keep_alive_and_pipelining(self):
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 3)
            data = b""
            while data.count(b"HTTP/1.1 200") < 3:
                chunk = s.recv(4096)
                self.assertTrue(chunk, data)
                data += chunk

    # ---- CSV import ----

    def import_csv(self, text, content_type="text/csv", key=None, chunked=False):
        body = text.encode() if isinstance(text, str) else text
        headers = {"Content-Type": content_type, "Authorization": "Bearer " + (key or self.officer)}
        if chunked:
            def gen():
                for i in range(0, len(body), 7000):
                    yield body[i:i + 7000]
            return http("POST", self.d.base + "/v1/tenants/import", gen(),
                        dict(headers, **{"Transfer-Encoding": "chunked"}))
        return http("POST", self.d.base + "/v1/tenants/import", body, headers)

    def test_import_report(self):
        csv = ("external_ref,first_name,phone,borough,landlord,tags\n"
               "C-1,Ann,07700 900301,Maidstone,Golding Homes,older;carer\n"
               "C-2,Bob,01632 960001,Maidstone,Golding Homes,\n"
               "C-3,\"Cho, Li\",+447700900303,Thanet,Orbit,\n"
               "\n"
               ",Dee,07700900304,Thanet,Orbit,\n"
               "C-5,Eve,07700900305,Thanet\n"
               "C-6,\"Fay\nMultiline\",07700900306,Thanet,Orbit,\n"
               "C-7,Gus,07700900301,Thanet,Orbit,\n")
        r = self.import_csv(csv)
        self.assertEqual(r.status, 200, r)
        rep = r.json
        self.assertEqual((rep["created"], rep["updated"]), (2, 0), rep)
        lines = {x["line"]: x["error"] for x in rep["rejected"]}
        self.assertEqual(sorted(lines), [3, 6, 7, 8, 10], rep)
        self.assertIn("landline", lines[3])
        self.assertIn("external_ref", lines[6])
        self.assertIn("fields", lines[7])
        self.assertIn("control character", lines[8])
        self.assertIn("C-1", lines[10])
        self.assertEqual(self.db.value("SELECT first_name FROM tenants WHERE external_ref = 'C-3'"),
                         "Cho, Li")
        self.assertEqual(self.db.value("SELECT tags FROM tenants WHERE external_ref = 'C-1'"),
                         ["older", "carer"])

        # Re-importing updates, and cannot re-subscribe an opted-out number.
        self.db.query("INSERT INTO opt_outs (phone, source) VALUES ('+447700900301', 'sms')")
        r = self.import_csv("external_ref,phone,first_name\nC-1,07700900301,Annie\n")
        self.assertEqual((r.json["created"], r.json["updated"]), (0, 1), r)
        t = self.db.value("SELECT id FROM tenants WHERE external_ref = 'C-1'")
        got = self.d.api("GET", "/v1/tenants/%d" % t, key=self.officer).json
        self.assertTrue(got["opted_out"])
        self.assertEqual(got["first_name"], "Annie")
        self.assertEqual(got["tags"], ["older", "carer"], "absent columns are left alone")
        # A new number for an opted-out tenant keeps the opt-out.
        r = self.import_csv("external_ref,phone\nC-1,07700900399\n")
        got = self.d.api("GET", "/v1/tenants/%d" % t, key=self.officer).json
        self.assertEqual(got["phone"], "+447700900399")
        self.assertTrue(got["opted_out"])

    def test_import_errors(self):
        r = self.import_csv("external_ref,phone\n", content_type="application/json")
        self.assertError(r, 415)
        self.assertError(self.import_csv("external_ref,phon\nX,07700900401\n"), 422, field="header")
        self.assertError(self.import_csv("first_name\nX\n"), 422, field="header")
        self.assertError(self.import_csv(""), 422, field="header")
        r = self.import_csv("external_ref,phone\nX-1,07700900402\n", key=self.partner)
        self.assertError(r, 403)


class ImportStreamTest(IntegrationCase):
    """A large file, streamed in chunks, in a database of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.officer = cls.d.key("officer")
        cls.d.landlords("Orbit")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    import_csv = ApiTest.import_csv

    def test_import_streams_a_large_file(self):
        rows = ["external_ref,first_name,phone,borough,landlord,tags"]
        # 30,000 rows (about 2 MB) over 1,000 drama numbers: later rows reuse a number
        # and are rejected for it, earlier ones are created or updated.
        for i in range(30000):
            rows.append("L-%d,Name%d,07700 900%03d,Thanet,Orbit,bulk" % (i % 1500, i, i % 1000))
        r = self.import_csv("\n".join(rows) + "\n", chunked=True)
        self.assertEqual(r.status, 200, r)
        rep = r.json
        self.assertEqual(rep["created"] + rep["updated"] + rep["rejected_count"], 30000, rep)
        self.assertEqual(self.db.value("SELECT count(*) FROM tenants WHERE external_ref LIKE 'L-%%'"),
                         rep["created"])
        self.assertEqual(self.d.api("GET", "/healthz").status, 200)
