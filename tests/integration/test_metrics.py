"""GET /metrics: the Prometheus exposition parsed with prometheus_client, counters moved by
exactly what a journey did, OpenMetrics on request, and who may read it: no key on
SIGNPOST_METRICS_LISTEN (and nothing else there, and no /metrics on the main listener),
else admin keys only on the main listener."""
import unittest

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse

from fake_partner import FakePartner
from harness import (ALL_WEEK, PARTNERS_ON_LOOPBACK, Daemon, Database, FakeServer, drama_number,
                     free_port, http, post_twilio, wait_until)

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token-not-a-secret"
PARTNER_SECRET = "whsec_" + "bWV0cmljcy10ZXN0LXNlY3JldC0wMTIz"  # base64 of a test string


def twilio_config(fake):
    return {"providers": [
        {"name": "twilio", "type": "twilio", "base_url": fake.base, "account_sid": SID,
         "auth_token": TOKEN, "from": "+447700900000", "segments_per_second": 50},
        {"name": "sim", "type": "sim"}],
        "default_provider": "twilio", "simulator": True, "org_name": "Kent Digital Help",
        "triage": {"partner_retry_seconds": 1, "partner_retry_max_seconds": 2},
        **PARTNERS_ON_LOOPBACK}


def samples(text, parse=text_parse):
    """{(sample name, frozenset of labels): value}, and the families by name."""
    out, families = {}, {}
    for fam in parse(text):
        families[fam.name] = fam
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out, families


def value(snap, name, **labels):
    return snap.get((name, frozenset(labels.items())), 0.0)


def total(snap, name, **labels):
    """The sum over every sample of name whose labels include labels."""
    want = set(labels.items())
    return sum(v for (n, ls), v in snap.items() if n == name and want <= ls)


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.db = Database("metrics")
        cls.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        cls.metrics_port = free_port()
        cls.d = Daemon(cls.db, twilio_config(cls.fake), extra_env={
            "SIGNPOST_METRICS_LISTEN": "127.0.0.1:%d" % cls.metrics_port}).start()
        cls.d.landlords("Orbit")
        cls.metrics = "http://127.0.0.1:%d" % cls.metrics_port
        cls.key = cls.d.key("officer")
        cls.admin = cls.d.key("admin")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()
        cls.fake.stop()
        cls.db.drop()

    def scrape(self, accept=None):
        r = http("GET", self.metrics + "/metrics", headers={"Accept": accept} if accept else {})
        self.assertEqual(r.status, 200, r)
        return r

    def snap(self):
        r = self.scrape()
        self.assertEqual(r.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        return samples(r.body.decode())[0]

    def api(self, method, path, body=None):
        return self.d.api(method, path, body, key=self.key)

    def inbound(self, frm, body, sid, token=TOKEN):
        params = [("MessageSid", sid), ("SmsSid", sid), ("AccountSid", SID), ("From", frm),
                  ("To", "+447700900000"), ("Body", body), ("NumMedia", "0")]
        return post_twilio(self.d, "/v1/providers/twilio/inbound", params, token)

    def campaign(self, n, first):
        for i in range(first, first + n):
            r = self.api("POST", "/v1/tenants", {
                "external_ref": "M-%d" % i, "first_name": "Name%d" % i,
                "phone": drama_number(i), "borough": "Thanet", "landlord": "Orbit"})
            self.assertEqual(r.status, 201, r)
        r = self.api("POST", "/v1/campaigns", {"name": "Metrics %d" % first, "body": "Hi, reply SKILLS",
                                               "audience": {"boroughs": ["Thanet"]},
                                               "send_window": ALL_WEEK})
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        self.assertEqual(self.api("POST", "/v1/campaigns/%d/schedule" % cid, {}).status, 200)
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["state"] == "completed",
                   what="campaign completed")
        return cid

    def test_1_format(self):
        text = self.scrape().body.decode()
        snap, fams = samples(text)
        for name, kind in [("signpost_texts", "counter"), ("signpost_send_attempts", "counter"),
                           ("signpost_provider_request_duration_seconds", "histogram"),
                           ("signpost_provider_breaker_state", "gauge"),
                           ("signpost_provider_bucket_tokens", "gauge"),
                           ("signpost_inbound_webhooks", "counter"),
                           ("signpost_webhooks_refused", "counter"),
                           ("signpost_partner_webhooks", "counter"),
                           ("signpost_help_requests", "gauge"), ("signpost_campaigns", "gauge"),
                           ("signpost_messages_waiting", "gauge"),
                           ("signpost_database_pool_in_use", "gauge"),
                           ("signpost_database_queue_wait_seconds", "histogram"),
                           ("signpost_database_query_errors", "counter"),
                           ("signpost_http_requests", "counter"),
                           ("signpost_http_request_duration_seconds", "histogram"),
                           ("process_resident_memory_bytes", "gauge"), ("process_open_fds", "gauge"),
                           ("process_cpu_seconds", "counter"), ("process_start_time_seconds", "gauge")]:
            self.assertIn(name, fams, name)
            self.assertEqual(fams[name].type, kind, name)
            self.assertTrue(fams[name].documentation, name)
        self.assertIn("# TYPE signpost_texts_total counter", text)
        self.assertEqual(value(snap, "signpost_provider_breaker_state", provider="twilio",
                               state="closed"), 1)
        self.assertEqual(value(snap, "signpost_database_up"), 1)
        self.assertGreater(value(snap, "process_resident_memory_bytes"), 1 << 20)
        self.assertGreater(value(snap, "process_open_fds"), 3)
        self.assertGreater(value(snap, "process_start_time_seconds"), 1.7e9)
        self.assertEqual(value(snap, "signpost_database_pool_connections"), 4)

    def test_2_openmetrics(self):
        r = self.scrape("application/openmetrics-text; version=1.0.0,text/plain;q=0.5")
        self.assertTrue(r.headers["Content-Type"].startswith("application/openmetrics-text"), r.headers)
        text = r.body.decode()
        self.assertTrue(text.endswith("# EOF\n"))
        self.assertIn("# TYPE signpost_texts counter", text)
        snap, fams = samples(text, om_parse)
        self.assertEqual(fams["signpost_texts"].type, "counter")
        self.assertIn(("process_start_time_seconds", frozenset()), snap)

    def test_3_journey(self):
        before = self.snap()
        n = 4
        cid = self.campaign(n, 100)
        after_send = self.snap()
        d = lambda name, **l: value(after_send, name, **l) - value(before, name, **l)
        self.assertEqual(d("signpost_send_attempts_total", provider="twilio", outcome="accepted",
                           status_class="2xx"), n)
        self.assertEqual(d("signpost_provider_request_duration_seconds_count", provider="twilio"), n)
        self.assertEqual(d("signpost_http_requests_total", method="POST", route="/v1/campaigns",
                           code="201"), 1)
        self.assertEqual(d("signpost_http_requests_total", method="POST", route="/v1/tenants",
                           code="201"), n)
        self.assertEqual(value(after_send, "signpost_campaigns", state="completed"), 1)
        self.assertEqual(value(after_send, "signpost_messages_waiting"), 0)

        # Receipts: every text delivered, then a repeat that moves nothing.
        self.fake.control("POST", "/_fake/callbacks", {"status": "delivered"})
        wait_until(lambda: self.api("GET", "/v1/campaigns/%d" % cid).json["counts"]["delivered"] == n,
                   what="delivered")
        self.fake.control("POST", "/_fake/callbacks", {"status": "delivered"})
        receipts = lambda: value(self.snap(), "signpost_inbound_webhooks_total", provider="twilio",
                                 action="delivery_receipt") - value(
            before, "signpost_inbound_webhooks_total", provider="twilio", action="delivery_receipt")
        wait_until(lambda: receipts() == 2 * n, what="receipts counted")
        # Tenants reply: two SKILLS, one STOP; one signature is forged; one body is too large.
        for i, (text, sid) in enumerate([("SKILLS", "a"), ("SKILLS", "b"), ("STOP", "c")]):
            self.assertEqual(self.inbound(drama_number(100 + i), text, "SM" + sid * 32).status, 200)
        self.assertEqual(self.inbound(drama_number(103), "SKILLS", "SM" + "d" * 32,
                                      token="wrong").status, 403)
        r = http("POST", self.d.base + "/v1/providers/twilio/inbound", "x" * (300 << 10),
                 {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 413, r)
        after = self.snap()
        d = lambda name, **l: value(after, name, **l) - value(before, name, **l)
        self.assertEqual(d("signpost_texts_total", provider="twilio", state="delivered"), n)
        self.assertEqual(d("signpost_inbound_webhooks_total", provider="twilio",
                           action="delivery_receipt"), 2 * n)
        self.assertEqual(d("signpost_inbound_webhooks_total", provider="twilio", action="opt_out"), 1)
        replies = sum(d("signpost_inbound_webhooks_total", provider="twilio", action=a)
                      for a in ("none", "opt_out", "opt_in", "info", "help_request", "suggest",
                                "flow", "record"))
        self.assertEqual(replies, 3)
        self.assertEqual(d("signpost_webhooks_refused_total", reason="bad_signature"), 1)
        self.assertEqual(d("signpost_webhooks_refused_total", reason="too_large"), 1)
        self.assertEqual(d("signpost_http_requests_total", method="POST",
                           route="/v1/providers/{}/inbound", code="413"), 1)
        # Gauges read from PostgreSQL agree with it.
        for state, count in self.db.query("SELECT state, count(*) FROM help_requests GROUP BY 1"):
            self.assertEqual(total(after, "signpost_help_requests", state=state), count, state)
        self.assertEqual(sum(v for (name, _), v in after.items() if name == "signpost_help_requests"),
                         self.db.value("SELECT count(*) FROM help_requests"))
        self.assertEqual(value(after, "signpost_help_requests_overdue"), 0)

    def test_4_listeners(self):
        # On the metrics listener: /metrics alone, no key.
        self.assertEqual(http("GET", self.metrics + "/readyz").status, 404)
        r = http("POST", self.metrics + "/metrics", "")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.json["error"]["code"], "method_not_allowed")
        # On the main listener: not there at all, even for an admin key.
        r = self.d.api("GET", "/metrics", key=self.admin)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json["error"]["code"], "not_found")

    def test_5_admin_key_without_metrics_listener(self):
        d = Daemon(self.db, twilio_config(self.fake)).start()
        try:
            r = d.api("GET", "/metrics")
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.json["error"]["code"], "unauthorized")
            r = d.api("GET", "/metrics", key=self.key)
            self.assertEqual(r.status, 403, r)
            r = d.api("GET", "/metrics", key=self.admin)
            self.assertEqual(r.status, 200, r)
            snap, _ = samples(r.body.decode())
            self.assertEqual(value(snap, "signpost_http_requests_total", method="GET",
                                   route="/metrics", code="403"), 1)
            self.assertEqual(value(snap, "signpost_http_requests_total", method="GET",
                                   route="/metrics", code="401"), 1)
        finally:
            d.stop()

    def test_6_partner_webhooks(self):
        """A partner that is down, then up: each answer counted once, by outcome."""
        fake = FakePartner(PARTNER_SECRET)
        self.addCleanup(fake.stop)
        r = self.d.api("POST", "/v1/partners", {
            "name": "Maidstone Digital Champions", "categories": ["digital_skills"],
            "boroughs": ["Maidstone"], "capacity": 5, "webhook_url": fake.url,
            "webhook_secret": PARTNER_SECRET}, key=self.admin)
        self.assertEqual(r.status, 201, r)
        r = self.api("POST", "/v1/tenants", {"external_ref": "M-200", "first_name": "Jo",
                                             "phone": drama_number(200), "borough": "Maidstone",
                                             "landlord": "Orbit"})
        self.assertEqual(r.status, 201, r)
        before = self.snap()
        fake.down = True
        self.assertEqual(self.inbound(drama_number(200), "SKILLS", "SM" + "p" * 32).status, 200)
        wait_until(lambda: len(fake.all()) >= 2, what="partner webhook retried while down")
        fake.down = False
        d = lambda snap, outcome: (value(snap, "signpost_partner_webhooks_total", outcome=outcome) -
                                   value(before, "signpost_partner_webhooks_total", outcome=outcome))
        # The fake records a request before it answers: wait for the daemon to read the answer.
        wait_until(lambda: d(self.snap(), "delivered") == 1, what="partner webhook delivered")
        after = self.snap()
        failed = [x for x in fake.all() if x[3] == 503]
        self.assertEqual(len(fake.accepted()), 1)
        self.assertEqual(d(after, "delivered"), 1)
        self.assertEqual(d(after, "failed"), len(failed))
        self.assertEqual(value(after, "signpost_help_requests", state="assigned",
                               partner="Maidstone Digital Champions"), 1)

    def test_7_bad_listen_address(self):
        r = Daemon(self.db, extra_env={"SIGNPOST_METRICS_LISTEN": "nowhere"}).run(
            "serve", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("SIGNPOST_METRICS_LISTEN", r.stderr)


if __name__ == "__main__":
    unittest.main()
