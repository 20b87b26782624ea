"""The console's accounts and its security: sessions, CSRF, cookies, headers, sign-in
throttling, invitations, and the console's files as the daemon serves them."""
import gzip
import http.client
import re
import statistics
import time

from harness import IntegrationCase, Daemon
from harness import http as request


class Browser:
    """A browser's view of the API: a session cookie, its CSRF token and an Origin."""

    def __init__(self, daemon, origin=None):
        self.d = daemon
        self.origin = origin or daemon.base
        self.cookie = None
        self.csrf = None

    def sign_in(self, email, password):
        r = request("POST", self.d.base + "/v1/session", {"email": email, "password": password},
                 {"Origin": self.origin, "Content-Type": "application/json"})
        if r.status == 201:
            self.cookie = re.match(r"signpost_session=([0-9a-f]{64});",
                                   r.headers["Set-Cookie"]).group(1)
            self.csrf = r.json["csrf_token"]
        return r

    def call(self, method, path, body=None, csrf=True, origin=True, headers=None):
        h = dict(headers or {})
        if self.cookie:
            h["Cookie"] = "theme=dark; signpost_session=%s" % self.cookie
        if csrf and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        if origin:
            h["Origin"] = self.origin if origin is True else origin
        if isinstance(body, dict):
            h["Content-Type"] = "application/json"
        return request(method, self.d.base + path, body, h)


class ConsoleSecurityTest(IntegrationCase):
    PASSWORD = "kettle river orange"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db, config={
            "providers": [{"name": "sim", "type": "sim"}], "simulator": True,
            "org_name": "Kent <Digital> & Help"}).start()
        cls.admin_key = cls.d.key("admin")
        cls.p1 = cls.d.api("POST", "/v1/partners", {"name": "Library", "categories": ["money"],
                                                    "boroughs": ["Thanet"]}, key=cls.admin_key).json["id"]
        cls.p2 = cls.d.api("POST", "/v1/partners", {"name": "Job centre", "categories": ["jobs"],
                                                    "boroughs": ["Thanet"]}, key=cls.admin_key).json["id"]
        cls.admin = cls.d.user("ada@example.org", cls.PASSWORD, "admin")
        cls.officer = cls.d.user("olu@example.org", cls.PASSWORD, "officer")
        cls.partner = cls.d.user("pat@library.example", cls.PASSWORD, "partner", cls.p1)
        cls.partner_key = cls.d.key("partner", cls.p1)

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def browser(self, who):
        b = Browser(self.d)
        r = b.sign_in(who["email"], who["password"])
        self.assertEqual(r.status, 201, r)
        return b

    def assertError(self, r, status, code=None, field=None):
        self.assertEqual(r.status, status, r)
        if code:
            self.assertEqual(r.json["error"]["code"], code, r)
        if field:
            self.assertEqual(r.json["error"].get("field"), field, r)
        self.assertTrue(r.json["error"]["message"])

    # ---- signing in and out ----

    def test_sign_in_sets_a_safe_cookie(self):
        b = Browser(self.d)
        r = b.sign_in("OLU@example.org", self.PASSWORD)
        self.assertEqual(r.status, 201, r)
        cookie = r.headers["Set-Cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertIn("Path=/", cookie)
        self.assertNotIn("Secure", cookie, "the public URL is http here")
        self.assertEqual(r.json["user"]["role"], "officer")
        self.assertEqual(r.json["org_name"], "Kent <Digital> & Help")
        self.assertNotIn("password_hash", r.body.decode())
        me = b.call("GET", "/v1/session").json
        self.assertEqual(me["user"]["email"], "olu@example.org")
        self.assertEqual(me["csrf_token"], b.csrf)
        # Only the token's hash is stored.
        self.assertEqual(self.db.value("SELECT count(*) FROM sessions WHERE token_hash = %s",
                                       b.cookie), 0)
        # Signing out ends the session on the server, not only in the browser.
        out = b.call("DELETE", "/v1/session")
        self.assertEqual(out.status, 204, out)
        self.assertIn("Max-Age=0", out.headers["Set-Cookie"])
        self.assertError(b.call("GET", "/v1/session"), 401, "session_expired")

    def test_secure_cookie_behind_https(self):
        d = Daemon(self.db, public_url="https://signpost.example").start()
        try:
            b = Browser(d, origin="https://signpost.example")
            r = b.sign_in("olu@example.org", self.PASSWORD)
            self.assertEqual(r.status, 201, r)
            self.assertIn("; Secure", r.headers["Set-Cookie"])
            # The Origin must be the public one (or the Host the request was sent to).
            self.assertError(b.call("POST", "/v1/campaigns", {}, origin="http://signpost.example"),
                             403, "bad_origin")
        finally:
            d.stop()

    def test_wrong_password_and_unknown_email(self):
        r = Browser(self.d).sign_in("olu@example.org", "not the password at all")
        self.assertError(r, 401, "sign_in_failed", "email")
        r = Browser(self.d).sign_in("nobody@example.org", "not the password at all")
        self.assertError(r, 401, "sign_in_failed", "email")
        self.assertError(Browser(self.d).sign_in("", ""), 422, field="email")

    def test_unknown_email_takes_as_long_as_a_wrong_password(self):
        def timed(email):
            t = time.monotonic()
            Browser(self.d).sign_in(email, "not the password at all")
            return time.monotonic() - t
        self.d.user("timing-known@example.org", self.PASSWORD)
        known = statistics.median(timed("timing-known@example.org") for _ in range(3))
        unknown = statistics.median(timed("timing-unknown@example.org") for _ in range(3))
        # Both run the same memory-hard hash (a tenth of a second or so); a refusal that
        # skipped it would be many times faster.
        self.assertGreater(unknown, known / 3, (known, unknown))
        self.assertGreater(known, unknown / 3, (known, unknown))

    def test_five_failures_throttle_that_email(self):
        who = self.d.user("throttled@example.org", self.PASSWORD)
        for i in range(5):
            r = Browser(self.d).sign_in(who["email"], "wrong password %d!" % i)
            self.assertError(r, 401, "sign_in_failed")
        self.assertIn("15 minutes", r.json["error"]["message"])
        r = Browser(self.d).sign_in(who["email"], self.PASSWORD)
        self.assertError(r, 429, "too_many_attempts", "email")
        self.assertRegex(r.json["error"]["message"], r"Try again after \d\d:\d\d")
        self.assertGreater(int(r.headers["Retry-After"]), 800)
        # Another email is not affected, and the block lifts after 15 minutes.
        self.assertEqual(Browser(self.d).sign_in("olu@example.org", self.PASSWORD).status, 201)
        self.db.query("UPDATE sign_in_failures SET at = at - interval '16 minutes' "
                      "WHERE email = %s", who["email"])
        self.assertEqual(Browser(self.d).sign_in(who["email"], self.PASSWORD).status, 201)
        self.assertEqual(self.db.value("SELECT count(*) FROM sign_in_failures WHERE email = %s",
                                       who["email"]), 0, "a success clears the failures")

    def test_idle_session_expires(self):
        b = self.browser(self.officer)
        self.db.query("UPDATE sessions SET expires_at = now() - interval '1 second' "
                      "WHERE user_id = (SELECT id FROM users WHERE email = %s)",
                      self.officer["email"])
        r = b.call("GET", "/v1/campaigns")
        self.assertError(r, 401, "session_expired")
        self.assertIn("Max-Age=0", r.headers["Set-Cookie"])

    def test_use_slides_the_expiry(self):
        b = self.browser(self.officer)
        self.db.query("UPDATE sessions SET last_seen_at = now() - interval '2 hours', "
                      "expires_at = now() + interval '1 hour'")
        self.assertEqual(b.call("GET", "/v1/campaigns").status, 200)
        left = self.db.value("SELECT extract(epoch FROM min(expires_at) - now()) FROM sessions "
                             "WHERE last_seen_at > now() - interval '1 minute'")
        self.assertGreater(left, 7.9 * 3600, "8 hours from the last use")

    def test_deactivating_a_user_signs_them_out(self):
        who = self.d.user("leaving@example.org", self.PASSWORD)
        b = self.browser(who)
        admin = self.browser(self.admin)
        uid = self.db.value("SELECT id FROM users WHERE email = %s", who["email"])
        r = admin.call("PUT", "/v1/users/%d" % uid, {"active": False})
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["active"])
        self.assertError(b.call("GET", "/v1/campaigns"), 401, "session_expired")
        self.assertError(Browser(self.d).sign_in(who["email"], self.PASSWORD), 401)
        me = self.db.value("SELECT id FROM users WHERE email = %s", self.admin["email"])
        self.assertError(admin.call("PUT", "/v1/users/%d" % me, {"active": False}), 422,
                         field="active")

    # ---- CSRF ----

    def test_cookie_writes_need_the_csrf_token_and_origin(self):
        b = self.browser(self.admin)
        before = self.db.value("SELECT count(*) FROM partners")
        body = {"name": "Should not exist"}
        self.assertError(b.call("POST", "/v1/partners", body, csrf=False), 403, "bad_csrf_token")
        self.assertError(b.call("POST", "/v1/partners", body, origin=False), 403, "bad_origin")
        self.assertError(b.call("POST", "/v1/partners", body, origin="https://evil.example"),
                         403, "bad_origin")
        self.assertError(b.call("POST", "/v1/partners", body,
                                headers={"X-CSRF-Token": "0" * 64}, csrf=False), 403,
                         "bad_csrf_token")
        self.assertEqual(self.db.value("SELECT count(*) FROM partners"), before)
        # A CSV import is refused before its body is read.
        r = b.call("POST", "/v1/tenants/import", "external_ref,phone\nX-1,07700900001\n",
                   csrf=False, headers={"Content-Type": "text/csv"})
        self.assertError(r, 403, "bad_csrf_token")
        self.assertEqual(self.db.value("SELECT count(*) FROM tenants WHERE external_ref = 'X-1'"), 0)
        # Reads need neither; a write with both works; keys need neither.
        self.assertEqual(b.call("GET", "/v1/partners", csrf=False, origin=False).status, 200)
        r = b.call("POST", "/v1/partners", {"name": "Made in the console"})
        self.assertEqual(r.status, 201, r)
        r = self.d.api("POST", "/v1/partners", {"name": "Made with a key"}, key=self.admin_key)
        self.assertEqual(r.status, 201, r)

    def test_sign_in_from_another_site_is_refused(self):
        b = Browser(self.d, origin="https://evil.example")
        self.assertError(b.sign_in("olu@example.org", self.PASSWORD), 403, "bad_origin")

    # ---- roles ----

    def test_partner_user_is_as_limited_as_a_partner_key(self):
        b = self.browser(self.partner)
        routes = [("GET", "/v1/tenants/1"), ("GET", "/v1/campaigns"), ("GET", "/v1/partners"),
                  ("GET", "/v1/users"), ("POST", "/v1/campaigns"), ("GET", "/v1/keywords"),
                  ("GET", "/v1/help-requests"), ("GET", "/v1/help-requests/999999"),
                  ("GET", "/v1/help-requests/report.csv"), ("POST", "/v1/partners"),
                  ("POST", "/v1/tenants/import")]
        for method, path in routes:
            body = {} if method == "POST" else None
            by_cookie = b.call(method, path, body)
            by_key = self.d.api(method, path, body, key=self.partner_key)
            self.assertEqual(by_cookie.status, by_key.status, (method, path, by_cookie, by_key))
        self.assertEqual(b.call("GET", "/v1/tenants/1").status, 403)
        # Its own partner's requests only.
        mine = self.db.value("INSERT INTO help_requests (category, borough, partner_id, state) "
                             "VALUES ('money', 'Thanet', %s, 'assigned') RETURNING id", self.p1)
        theirs = self.db.value("INSERT INTO help_requests (category, borough, partner_id, state) "
                               "VALUES ('jobs', 'Thanet', %s, 'assigned') RETURNING id", self.p2)
        ids = [h["id"] for h in b.call("GET", "/v1/help-requests").json["items"]]
        self.assertIn(mine, ids)
        self.assertNotIn(theirs, ids)
        self.assertEqual(b.call("GET", "/v1/help-requests/%d" % theirs).status, 404)
        self.assertEqual(b.call("POST", "/v1/help-requests/%d/accept" % theirs, {}).status, 404)
        r = b.call("POST", "/v1/help-requests/%d/accept" % mine, {})
        self.assertEqual(r.status, 200, r)

    # ---- invitations ----

    def test_invitation_sets_a_password_once(self):
        admin = self.browser(self.admin)
        r = admin.call("POST", "/v1/users", {"email": "New.Person@Example.org", "role": "partner",
                                             "partner_id": self.p1, "name": "New Person"})
        self.assertEqual(r.status, 201, r)
        u = r.json
        self.assertEqual(u["email"], "new.person@example.org")
        self.assertFalse(u["has_password"])
        link = u["invite_url"]
        self.assertTrue(link.startswith(self.d.public_url + "/console/invite#"), link)
        token = link.split("#", 1)[1]
        self.assertEqual(self.db.value("SELECT count(*) FROM user_invites WHERE token_hash = %s",
                                       token), 0, "only the token's hash is stored")
        self.assertError(admin.call("POST", "/v1/users", {"email": "new.person@example.org",
                                                          "role": "officer"}), 409, field="email")
        self.assertError(admin.call("POST", "/v1/users", {"email": "x@example.org",
                                                          "role": "partner"}), 422,
                         field="partner_id")
        self.assertError(admin.call("POST", "/v1/users", {"email": "not an email",
                                                          "role": "officer"}), 422, field="email")
        self.assertError(admin.call("POST", "/v1/users", {"email": "y@example.org",
                                                          "role": "officer", "partner_id": self.p1}),
                         422, field="partner_id")
        b = Browser(self.d)
        check = b.call("POST", "/v1/invites/check", {"token": token})
        self.assertEqual(check.json["email"], "new.person@example.org")
        self.assertError(b.call("POST", "/v1/invites/accept", {"token": token, "password": "short"}),
                         422, field="password")
        self.assertError(b.call("POST", "/v1/invites/accept",
                                {"token": token, "password": "Password123"}), 422, field="password")
        r = b.call("POST", "/v1/invites/accept", {"token": token, "password": "blue whale lantern"})
        self.assertEqual(r.status, 201, r)
        self.assertIn("signpost_session=", r.headers["Set-Cookie"])
        self.assertEqual(r.json["user"]["partner_id"], self.p1)
        # Once only.
        self.assertError(b.call("POST", "/v1/invites/accept",
                                {"token": token, "password": "another good phrase"}), 404,
                         "invite_invalid")
        self.assertEqual(Browser(self.d).sign_in("new.person@example.org",
                                                 "blue whale lantern").status, 201)
        # A fresh link; an expired one does not work.
        uid = u["id"]
        again = admin.call("POST", "/v1/users/%d/invite" % uid, {}).json
        token2 = again["invite_url"].split("#", 1)[1]
        self.db.query("UPDATE user_invites SET expires_at = now() - interval '1 second' "
                      "WHERE user_id = %s AND used_at IS NULL", uid)
        self.assertError(b.call("POST", "/v1/invites/check", {"token": token2}), 404,
                         "invite_invalid")

    def test_users_command_line(self):
        r = self.d.run("users", "create", "--email", "cli@example.org", "--role", "officer",
                       input="short\n", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("at least 10 characters", r.stderr)
        r = self.d.run("users", "create", "--email", "cli@example.org", "--role", "partner",
                       input=self.PASSWORD + "\n", check=False)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.d.user("cli@example.org", self.PASSWORD)
        stored = self.db.value("SELECT password_hash FROM users WHERE email = 'cli@example.org'")
        self.assertTrue(stored.startswith("$scrypt$ln=15,r=8,p=1$"), stored)
        self.assertNotIn(self.PASSWORD, stored)
        self.d.run("users", "set-password", "--email", "CLI@example.org",
                   input="a different long phrase\n")
        self.assertEqual(Browser(self.d).sign_in("cli@example.org",
                                                 "a different long phrase").status, 201)
        r = self.d.run("users", "set-password", "--email", "nobody@example.org",
                       input="a different long phrase\n", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no user", r.stderr)

    # ---- what every answer carries, and the console's files ----

    def test_security_headers_on_every_answer(self):
        for path in ["/console/", "/console/campaigns/7", "/v1/session", "/healthz", "/nothing"]:
            r = request("GET", self.d.base + path)
            self.assertEqual(r.headers.get("Content-Security-Policy"),
                             "default-src 'self'; frame-ancestors 'none'", path)
            self.assertEqual(r.headers.get("X-Content-Type-Options"), "nosniff", path)
            self.assertEqual(r.headers.get("Referrer-Policy"), "same-origin", path)

    def test_console_page_and_assets(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10)
        conn.request("GET", "/")
        r = conn.getresponse()
        self.assertEqual(r.status, 302)
        self.assertEqual(r.getheader("Location"), "/console/")
        conn.close()
        page = request("GET", self.d.base + "/console/help-requests/12")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.headers["Cache-Control"], "no-cache")
        text = page.body.decode()
        self.assertIn("Kent &lt;Digital&gt; &amp; Help", text, "org_name is escaped")
        self.assertNotIn("<Digital>", text)
        self.assertNotIn("<script>", text, "no inline script")
        self.assertNotIn("style=", text, "no inline style")
        self.assertEqual(request("GET", self.d.base + "/console/", headers={
            "If-None-Match": page.headers["ETag"]}).status, 304)
        assets = re.findall(r'(?:href|src)="(/console/assets/[0-9a-f]{12}/[^"]+)"', text)
        self.assertGreaterEqual(len(assets), 4, assets)
        for a in assets:
            r = request("GET", self.d.base + a)
            self.assertEqual(r.status, 200, a)
            self.assertEqual(r.headers["Cache-Control"], "public, max-age=31536000, immutable")
            self.assertEqual(request("GET", self.d.base + a, headers={
                "If-None-Match": r.headers["ETag"]}).status, 304)
        js = [a for a in assets if a.endswith("app.js")][0]
        self.assertIn("javascript", request("GET", self.d.base + js).headers["Content-Type"])
        r = request("GET", self.d.base + js, headers={"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(r.headers.get("Content-Encoding"), "gzip")
        self.assertEqual(gzip.decompress(r.body), request("GET", self.d.base + js).body)
        build = js.split("/")[3]
        self.assertEqual(request("GET", self.d.base + js.replace(build, "0" * 12)).status, 404)
        self.assertEqual(request("GET", self.d.base + "/console/assets/%s/nothing.js" % build).status, 404)
        self.assertEqual(request("GET", self.d.base + "/console/assets/%s/index.html" % build).status, 404)
        lic = request("GET", self.d.base + "/console/assets/%s/vendor/govuk-frontend/LICENSE.txt" % build)
        self.assertIn("MIT License", lic.body.decode())
        self.assertEqual(request("HEAD", self.d.base + js).body, b"")
