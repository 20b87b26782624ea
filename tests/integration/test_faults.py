"""A provider that fails, throttles or is slow: nothing lost, nothing sent twice, and the
daemon slows down when asked. The provider is the fake Twilio on 127.0.0.1."""
import collections
import datetime
import time

from harness import (ALL_WEEK, IntegrationCase, Daemon, FakeServer, generated_number,
                     import_tenants, wait_until)
from test_twilio import SID, TOKEN, twilio_config


class FaultCase(IntegrationCase):
    provider_options = {}

    def setUp(self):
        self.fake = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        self.d = Daemon(self.db, self.daemon_config()).start()
        self.key = self.d.key("officer")

    def daemon_config(self):
        config = twilio_config(self.fake)
        config["providers"][0].update(self.provider_options)
        return config

    def tearDown(self):
        self.d.stop()
        self.fake.stop()

    def start_campaign(self, n, body="Free help getting online, {first_name}. Reply SKILLS",
                       borough="Dover", first=0, **fields):
        import_tenants(self.d, self.key, n, borough, prefix=borough, first=first)
        fields.update({"name": "Faults", "body": body, "audience": {"boroughs": [borough]},
                       "send_window": ALL_WEEK})
        r = self.d.api("POST", "/v1/campaigns", fields, key=self.key)
        self.assertEqual(r.status, 201, r)
        cid = r.json["id"]
        r = self.d.api("POST", "/v1/campaigns/%d/schedule" % cid, key=self.key)
        self.assertEqual(r.status, 200, r)
        return cid

    def campaign(self, cid):
        return self.d.api("GET", "/v1/campaigns/%d" % cid, key=self.key).json

    def wait_completed(self, cid, timeout=90):
        wait_until(lambda: self.campaign(cid)["state"] == "completed", timeout=timeout,
                   what="campaign completed")
        return self.campaign(cid)["counts"]

    def provider(self, name="twilio"):
        r = self.d.api("GET", "/v1/providers", key=self.key)
        self.assertEqual(r.status, 200, r)
        return next(p for p in r.json["items"] if p["name"] == name)

    def received(self):
        return self.fake.control("GET", "/_fake/messages")

    def received_times(self):
        return sorted(datetime.datetime.fromisoformat(m["received_at"].replace("Z", "+00:00"))
                      .timestamp() for m in self.received())

    def assert_each_texted_once(self, n):
        per_number = collections.Counter(m["to"] for m in self.received())
        self.assertEqual(len(per_number), n, "a tenant was never texted")
        self.assertEqual(max(per_number.values()), 1, "a tenant was texted twice")


class ServerErrorsTest(FaultCase):
    def test_500_for_a_while_then_recovers(self):
        self.fake.control("POST", "/_fake/mode", {"mode": "error500", "count": 25})
        cid = self.start_campaign(80)
        counts = self.wait_completed(cid)
        self.assertEqual(counts["submitted"], 80, counts)
        self.assertEqual(counts["unknown"], 0, counts)
        self.assert_each_texted_once(80)
        self.assertEqual(self.fake.control("GET", "/_fake/stats")["injected"], 25)
        retried = self.db.value("SELECT count(*) FROM messages WHERE attempts > 1")
        self.assertGreaterEqual(retried, 25)
        log = self.d.log()
        self.assertTrue("closed -> open" in log, "the circuit breaker never opened")
        self.assertTrue(" -> closed" in log, "the circuit breaker never closed again")
        p = self.provider()
        self.assertEqual((p["breaker"], p["type"], p["in_flight"]), ("closed", "twilio", 0))


class ThrottleTest(FaultCase):
    def test_429_storm_pauses_for_retry_after(self):
        self.fake.control("POST", "/_fake/mode", {"mode": "throttle429", "count": 40,
                                                  "retry_after": 2})
        cid = self.start_campaign(100)
        samples = []
        deadline = time.monotonic() + 90
        while self.campaign(cid)["state"] != "completed":
            self.assertLess(time.monotonic(), deadline, "campaign did not complete")
            s = self.fake.control("GET", "/_fake/stats")
            samples.append((time.monotonic(), s["requests"], s["injected"]))
            time.sleep(0.05)
        self.assert_each_texted_once(100)
        self.assertEqual(self.campaign(cid)["counts"]["submitted"], 100)
        # From the first 429 the daemon sends nothing for Retry-After (2 s); requests
        # already in flight then may still arrive, so look from half a second on.
        t0 = next(t for t, _, injected in samples if injected > 0)
        during = [req for t, req, _ in samples if t0 + 0.5 <= t <= t0 + 1.6]
        self.assertTrue(during, "no samples during the pause")
        self.assertEqual(min(during), max(during), "requests during the Retry-After pause")
        self.assertTrue("provider asked us to slow down" in self.d.log(), "no slow-down logged")


class RateLimitTest(FaultCase):
    provider_options = {"segments_per_second": 10}

    def test_segments_per_second_counts_long_texts(self):
        body = "Free help with {first_name}'s phone. " + "More about it. " * 10  # 2 segments
        cid = self.start_campaign(30, body)
        self.wait_completed(cid)
        self.assertEqual(set(self.db.query("SELECT DISTINCT segments FROM messages "
                                           "WHERE campaign_id = %s", cid)), {(2,)})
        self.assert_each_texted_once(30)
        times = self.received_times()
        # 60 segments at 10 a second, with one second's worth at once to start: about 5 s.
        self.assertGreaterEqual(times[-1] - times[0], 4.0)
        most_in_a_second = max(sum(1 for u in times if t <= u < t + 1.0) for t in times)
        self.assertLessEqual(most_in_a_second, 10)

    def test_campaigns_share_the_provider(self):
        first = self.start_campaign(30, borough="Hythe", first=600)
        second = self.start_campaign(30, borough="Lydd", first=700)
        self.wait_completed(first)
        self.wait_completed(second)
        order = [m["to"] for m in sorted(self.received(), key=lambda m: m["received_at"])]
        # The first campaign may use the whole first second's burst before the second is
        # scheduled; from then on the 10 texts a second are shared, not first come first
        # served.
        first_numbers = set(generated_number(i) for i in range(600, 630))
        shared = order[10:30]
        from_first = sum(1 for to in shared if to in first_numbers)
        self.assertTrue(7 <= from_first <= 13, shared)

    def test_campaign_rate_per_minute(self):
        cid = self.start_campaign(8, borough="Deal", first=500, rate_per_minute=120)
        self.wait_completed(cid)
        self.assert_each_texted_once(8)
        times = self.received_times()
        # Two a second, two at once to start: the last of 8 about 3 s after the first.
        self.assertGreaterEqual(times[-1] - times[0], 2.5)
        self.assertLess(times[-1] - times[0], 15)


class ExpiryTest(FaultCase):
    provider_options = {"validity_seconds": 12}

    def test_retries_stop_when_the_text_expires(self):
        self.fake.control("POST", "/_fake/mode", {"mode": "error500"})
        cid = self.start_campaign(3)
        wait_until(lambda: self.provider()["breaker"] != "closed", what="breaker open")
        counts = self.wait_completed(cid, timeout=60)
        self.assertEqual(counts["expired"], 3, counts)
        self.assertEqual(self.received(), [])
        # Retried with backoff first (while the circuit breaker is open only one probe goes
        # out at a time, so not every text gets a second attempt), then given up in time.
        self.assertGreater(self.db.value("SELECT sum(attempts) FROM messages"), 3)
        self.assertLess(self.db.value("SELECT max(extract(epoch FROM final_at - created_at)) "
                                      "FROM messages"), 30)


class FallbackTest(FaultCase):
    provider_options = {"timeout_ms": 1500}

    def setUp(self):
        self.backup = FakeServer("twilio", ["--account-sid", SID, "--auth-token", TOKEN])
        super().setUp()

    def tearDown(self):
        super().tearDown()
        self.backup.stop()

    def daemon_config(self):
        config = super().daemon_config()
        backup = dict(config["providers"][0], name="backup", base_url=self.backup.base)
        backup.pop("timeout_ms")
        config["providers"].append(backup)
        return config

    def test_hanging_provider_fails_over(self):
        self.fake.control("POST", "/_fake/mode", {"mode": "hang"})
        cid = self.start_campaign(150, fallback_provider="backup")
        counts = self.wait_completed(cid)
        hung = self.fake.control("GET", "/_fake/stats")["hanging"]
        self.assertEqual(self.received(), [])
        via_backup = collections.Counter(m["to"] for m in self.backup.control("GET", "/_fake/messages"))
        self.assertEqual(max(via_backup.values()), 1, "a tenant was texted twice")
        # Requests that timed out may have been delivered: unknown, never resent.
        self.assertEqual(counts["unknown"], hung, counts)
        self.assertEqual(counts["submitted"], len(via_backup), counts)
        self.assertEqual(counts["submitted"] + counts["unknown"], 150, counts)
        self.assertGreaterEqual(len(via_backup), 150 - 64 - 5)
        self.assertEqual(self.db.value("SELECT count(*) FROM messages WHERE state = 'unknown' "
                                       "AND provider = 'twilio'"), hung)
        self.assertIn(self.provider()["breaker"], ("open", "half-open"))
