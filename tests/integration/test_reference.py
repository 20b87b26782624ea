"""The API reference as the daemon serves it: GET /v1/openapi.json is docs/openapi.json, and
GET /v1/docs the static page made from it, neither needing a key, both revalidated by
ETag, under the same Content-Security-Policy as every other answer."""
import gzip
import json
import os
import urllib.parse

from harness import IntegrationCase, Daemon, ROOT
from harness import http as request

CSP = "default-src 'self'; frame-ancestors 'none'"


class ReferenceTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def test_openapi_json_is_the_file_in_the_repository(self):
        r = request("GET", self.d.base + "/v1/openapi.json")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Content-Type"], "application/json")
        with open(os.path.join(ROOT, "docs", "openapi.json"), "rb") as f:
            self.assertEqual(r.body, f.read())
        self.assertEqual(r.json["openapi"], "3.1.0")
        self.assertEqual(r.headers["Cache-Control"], "no-cache")
        self.assertEqual(r.headers["Content-Security-Policy"], CSP)
        again = request("GET", self.d.base + "/v1/openapi.json",
                        headers={"If-None-Match": r.headers["ETag"]})
        self.assertEqual(again.status, 304)
        self.assertEqual(again.body, b"")
        z = request("GET", self.d.base + "/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(z.headers.get("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(z.body), r.body)
        self.assertNotEqual(z.headers["ETag"], r.headers["ETag"])

    def test_docs_page_without_script_or_inline_style(self):
        r = request("GET", self.d.base + "/v1/docs")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.headers["Content-Type"], "text/html; charset=utf-8")
        self.assertEqual(r.headers["Content-Security-Policy"], CSP)
        self.assertEqual(r.headers["X-Content-Type-Options"], "nosniff")
        page = r.body.decode()
        self.assertNotIn("<script", page)
        self.assertNotIn("style=", page)
        self.assertNotIn("<style", page)
        self.assertIn('href="/v1/docs/docs.css"', page)
        self.assertIn('href="/v1/openapi.json"', page)
        for op in ("createTenant", "scheduleCampaign", "referSomeone", "signIn"):
            self.assertIn('id="op-%s"' % op, page)
        self.assertEqual(request("GET", self.d.base + "/v1/docs",
                                 headers={"If-None-Match": r.headers["ETag"]}).status, 304)
        css = request("GET", self.d.base + "/v1/docs/docs.css")
        self.assertEqual(css.status, 200)
        self.assertEqual(css.headers["Content-Type"], "text/css; charset=utf-8")
        self.assertEqual(request("POST", self.d.base + "/v1/docs", b"").status, 405)

    def test_root_and_console_lead_to_the_console(self):
        for path in ("/", "/console"):
            r = request("GET", self.d.base + path)
            self.assertEqual((r.status, urllib.parse.urlsplit(r.url).path), (200, "/console/"), path)

    def test_errors_are_json(self):
        r = request("GET", self.d.base + "/v1/docs/nothing.js")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.json["error"]["code"], "not_found")
        self.assertEqual(json.loads(request("GET", self.d.base + "/v1/openapi.json?x=%zz").body)
                         ["error"]["code"], "bad_request")
