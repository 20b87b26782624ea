"""Hardening (issue 13): what the daemon refuses and neutralises on its boundaries.

- every CSV download neutralises cells a spreadsheet would run as a formula;
- SIGNPOST_CONFIG is refused when others may change it, or read it while it holds a
  credential;
"""
import csv
import io
import json
import os
import unittest
import uuid

from harness import (ALL_WEEK, TMP, Daemon, IntegrationCase, drama_number, wait_until)

HYPERLINK = '=HYPERLINK("http://example.com/x","Open me")'


class CsvCellsTest(IntegrationCase):
    """Each report.csv, with formula-like values in every column a person or provider can
    write: no cell starts with =, +, - or @ unless it is a plain number."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.d = Daemon(cls.db).start()
        cls.admin = cls.d.key("admin")
        cls.officer = cls.d.key("officer")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        super().tearDownClass()

    def api(self, method, path, body=None, key=None):
        return self.d.api(method, path, body, key=key or self.officer)

    def download(self, path):
        r = self.api("GET", path)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers["Content-Type"].startswith("text/csv"), r.headers)
        return list(csv.reader(io.StringIO(r.body.decode(), newline="")))

    def assertNeutral(self, rows):
        for row in rows:
            for cell in row:
                if cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
                    self.assertRegex(cell, r"^[+-][0-9]+(\.[0-9]+)?$", "a formula: %r" % row)

    def test_every_report(self):
        # A partner and a referral whose borough and name are formulas, for a tenant whose
        # borough and landlord are too.
        r = self.api("POST", "/v1/partners", {"name": HYPERLINK, "categories": ["money"],
                                              "boroughs": ["+Swale"]}, key=self.admin)
        self.assertEqual(r.status, 201, r)
        r = self.api("POST", "/v1/tenants", {"external_ref": "CSV-1", "first_name": "Cas",
                                             "phone": drama_number(901), "borough": "+Swale",
                                             "landlord": "@Landlord"})
        self.assertEqual(r.status, 201, r)
        tenant = r.json["id"]
        r = self.api("POST", "/v1/referrals", {"tenant_id": tenant, "category": "money",
                                               "consent": True, "note": "-note"})
        self.assertEqual(r.status, 201, r)
        wait_until(lambda: self.api("GET", "/v1/help-requests/%d" % r.json["id"]).json[
            "partner_id"] is not None, what="the referral assigned")

        rows = self.download("/v1/help-requests/report.csv")
        self.assertEqual(len(rows), 2, rows)
        head = rows[0]
        self.assertEqual(rows[1][head.index("borough")], "'+Swale")
        self.assertEqual(rows[1][head.index("partner")], "'" + HYPERLINK)
        self.assertNeutral(rows)

        rows = self.download("/v1/outcomes/report.csv?by=landlord")
        self.assertIn("'@Landlord", [row[0] for row in rows])
        self.assertNeutral(rows)
        rows = self.download("/v1/outcomes/report.csv?by=partner")
        self.assertIn("'" + HYPERLINK, [row[0] for row in rows])
        self.assertNeutral(rows)

        # A campaign text a provider failed with a formula for its code and its reason.
        r = self.api("POST", "/v1/campaigns", {"name": "CSV", "body": "Hello",
                                               "audience": {"boroughs": ["+Swale"]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid, {}).status, 200)
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] ==
                   "completed", what="the campaign completed")
        self.db.query("UPDATE messages SET error_code = %s, error_text = %s, provider = %s "
                      "WHERE campaign_id = %s", "@SUM(1+1)*cmd|' /C calc'!A0",
                      "-2+3+cmd|' /C calc'!A0", "=sim", cid)
        rows = self.download("/v1/campaigns/%d/report.csv" % cid)
        self.assertEqual(len(rows), 2, rows)
        head, row = rows
        self.assertEqual(row[head.index("phone")], drama_number(901), "numbers stay numbers")
        self.assertEqual(row[head.index("error_code")], "'@SUM(1+1)*cmd|' /C calc'!A0")
        self.assertEqual(row[head.index("last_error")], "'-2+3+cmd|' /C calc'!A0")
        self.assertEqual(row[head.index("provider")], "'=sim")
        self.assertNeutral(rows)


class ConfigFileTest(IntegrationCase):
    """Start-up refuses a configuration file others may change, or read when it holds a
    provider credential, and says what to run."""

    TWILIO = {"providers": [{"name": "twilio", "type": "twilio", "account_sid": "AC" + "0" * 32,
                             "auth_token": "a-token", "from": "+447700900000"}]}
    SIM = {"providers": [{"name": "sim", "type": "sim"}]}

    def migrate(self, config, mode):
        path = os.path.join(TMP, "config-mode-%s.json" % uuid.uuid4().hex[:8])
        with open(path, "w") as f:
            json.dump(config, f)
        os.chmod(path, mode)
        self.addCleanup(os.unlink, path)
        r = Daemon(self.db, extra_env={"SIGNPOST_CONFIG": path}).run("migrate", check=False)
        return r, path

    def test_refused_modes(self):
        for config, mode, why in (
                (self.TWILIO, 0o644, "holds provider credentials (providers[0].auth_token) "
                                     "and can be read by users other than its owner (mode 0644)"),
                (self.TWILIO, 0o640, "(mode 0640)"),
                (self.TWILIO, 0o604, "(mode 0604)"),
                (self.SIM, 0o664, "can be changed by users other than its owner (mode 0664)"),
                (self.SIM, 0o602, "can be changed by users other than its owner (mode 0602)"),
                (self.TWILIO, 0o620, "can be changed by users other than its owner")):
            r, path = self.migrate(config, mode)
            self.assertNotEqual(r.returncode, 0, (oct(mode), r.stderr))
            self.assertIn("SIGNPOST_CONFIG: %s " % path, r.stderr)
            self.assertIn(why, r.stderr)
            self.assertIn("run: chmod 600 %s" % path, r.stderr)

    def test_accepted_modes(self):
        for config, mode in ((self.TWILIO, 0o600), (self.TWILIO, 0o400), (self.SIM, 0o644)):
            r, _ = self.migrate(config, mode)
            self.assertEqual(r.returncode, 0, (oct(mode), r.stderr))


if __name__ == "__main__":
    unittest.main()
