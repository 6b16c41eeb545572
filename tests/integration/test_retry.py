"""The retry policy as upstream sees it (emulator counters and request timestamps), through php-fpm."""

import unittest

from harness import IntegrationCase


class RetryPolicy(IntegrationCase):

    def setUp(self):
        super().setUp()
        self.fpm = self.start_fpm(pm="static", max_children=2, ini={"upstream_timeout_ms": 10000})

    def videos_requests(self):
        return [r for r in self.emu.counters(ids=False)["requests"] if r["endpoint"] == "videos"]

    def fetch_with_fault(self, fault, timeout_ms=8000):
        self.emu.faults([dict(fault, endpoint="videos")])
        ids = self.new_ids(50)
        return ids, self.fpm.fetch(ids, timeout_ms=timeout_ms)

    def assert_ledger_matches_upstream(self):
        self.settle_units(self.fpm)

    def _retried_until_success(self, fault_type):
        ids, r = self.fetch_with_fault({"type": fault_type, "count": 2})
        self.assertEqual(r["count"], 50)
        self.assertEqual(r["stale"], [])
        reqs = self.videos_requests()
        self.assertEqual([q["status"] for q in reqs], [int(fault_type), int(fault_type), 200])
        # Capped exponential backoff with full jitter: delays in [0, 250] then [0, 500] ms (plus slack).
        gaps = [b["t"] - a["t"] for a, b in zip(reqs, reqs[1:])]
        self.assertLess(gaps[0], 0.25 + 0.75)
        self.assertLess(gaps[1], 0.5 + 0.75)
        self.assert_ledger_matches_upstream()

    def test_500_twice_then_success(self):
        self._retried_until_success("500")

    def test_503_twice_then_success(self):
        self._retried_until_success("503")

    def test_429_retry_after_is_honoured(self):
        gaps = []
        for _ in range(3):  # three rounds: the bound must hold every time, whatever the jitter drew
            self.emu.reset()
            _ids, r = self.fetch_with_fault({"type": "429", "count": 1, "retry_after": 1})
            self.assertEqual(r["count"], 50)
            reqs = self.videos_requests()
            self.assertEqual([q["status"] for q in reqs], [429, 200])
            gaps.append(reqs[1]["t"] - reqs[0]["t"])
        # t is stamped as each answer is sent; the retry may start 1 s after the 429 reached the
        # client, so allow a few ms of clock and timer granularity below 1 s.
        self.assertGreaterEqual(min(gaps), 0.98, f"Retry-After: 1 not honoured, gaps {gaps}")
        self.assertLess(max(gaps), 3.0, f"the retry came much later than Retry-After, gaps {gaps}")

    def test_403_rate_limit_is_retried(self):
        _ids, r = self.fetch_with_fault({"type": "403_rate", "count": 1})
        self.assertEqual(r["count"], 50)
        self.assertEqual([q["status"] for q in self.videos_requests()], [403, 200])

    def test_dropped_connection_is_retried(self):
        _ids, r = self.fetch_with_fault({"type": "drop", "count": 1})
        self.assertEqual(r["count"], 50)
        self.assertEqual(self.emu.videos_calls(), 2)

    def test_403_quota_is_never_retried(self):
        _ids, r = self.fetch_with_fault({"type": "403_quota", "count": 1})
        self.assertEqual(r["count"], 0)
        self.assertLess(r["elapsed_ms"], 1500, "quotaExceeded should end the call, not wait for its timeout")
        self.assertEqual([q["status"] for q in self.videos_requests()], [403])
        # Nor is anything else sent today.
        again = self.fpm.fetch(self.new_ids(50), timeout_ms=3000)
        self.assertEqual(again["count"], 0)
        self.assertEqual(self.emu.videos_calls(), 1)
        self.assertEqual(self.fpm.ledger()["exhausted"], 1)

    def test_malformed_is_not_retried_and_not_negative_cached(self):
        ids, r = self.fetch_with_fault({"type": "malformed", "count": 1})
        self.assertEqual(r["count"], 0)
        self.assertEqual(self.emu.videos_calls(), 1)
        # Its ids stay stale/missing: the next request asks again.
        again = self.fpm.fetch(ids)
        self.assertEqual(again["count"], 50)
        self.assertEqual(self.emu.videos_calls(), 2)
        self.assert_ledger_matches_upstream()

    def test_400_is_not_retried_and_not_negative_cached(self):
        ids, r = self.fetch_with_fault({"type": "400", "count": 1})
        self.assertEqual(r["count"], 0)
        self.assertEqual([q["status"] for q in self.videos_requests()], [400])
        again = self.fpm.fetch(ids)
        self.assertEqual(again["count"], 50, "a 400's ids must not be negative-cached")
        self.assertEqual(self.emu.videos_calls(), 2)
        self.assert_ledger_matches_upstream()


if __name__ == "__main__":
    unittest.main()
