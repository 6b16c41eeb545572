"""The host-wide quota ledger, seen from many php-fpm workers: the daily limit, quotaExceeded, and the
reset at midnight America/Los_Angeles (run under libfaketime, across the DST changes of 2026)."""

import calendar
import datetime
import time
import unittest

from harness import IntegrationCase, PhpFpm, log, next_pacific_midnight, pacific_day, run_concurrently


def utc(y, mo, d, h=0, mi=0, s=0):
    return calendar.timegm((y, mo, d, h, mi, s))


# The first Pacific midnight after each 2026 DST change: the end of the 23-hour day 2026-03-08
# (07:00 UTC, an hour earlier than the midnight before it) and of the 25-hour day 2026-11-01 (08:00 UTC).
MIDNIGHT_AFTER_SPRING_FORWARD = utc(2026, 3, 9, 7)
MIDNIGHT_AFTER_FALL_BACK = utc(2026, 11, 2, 8)


class QuotaLimit(IntegrationCase):

    def test_daily_limit_shared_by_ten_workers(self):
        """quota_daily_units=3, 10 workers each needing another chunk at once: exactly 3 calls, the ledger
        says 3, the 7 others answer quickly with absent rows and HTTP 200."""
        fpm = self.start_fpm(pm="static", max_children=10, ini={"quota_daily_units": 3})
        chunks = [self.new_ids(50) for _ in range(10)]
        self.emu.config(latency_ms=300)  # the granted calls are still in flight while the others reserve
        results = run_concurrently(lambda ids: fpm.fetch(ids, timeout_ms=5000), [(c,) for c in chunks])
        self.assertAllOk(results)
        self.settle_units(fpm)
        counters = self.emu.counters(ids=False)

        videos, channels = counters["calls"]["videos"], counters["calls"]["channels"]
        if channels:
            log(f"quota 3 went to {videos} videos.list + {channels} channels.list calls")
        self.assertEqual(videos + channels, 3, "upstream calls (videos + channels) with a daily limit of 3")
        self.assertEqual(counters["units"], 3)
        ledger = fpm.ledger()
        self.assertIsNotNone(ledger, "no ledger row for today")
        self.assertEqual(ledger["used"], 3)
        served = sorted(r["count"] for r in results)
        self.assertEqual(served, [0] * (10 - videos) + [50] * videos)
        for r in results:
            if r["count"] == 0:
                self.assertEqual(len(r["missing"]), 50)
                self.assertLess(r["elapsed_ms"], 1500,
                                "a request refused for quota should not wait for its timeout (5000 ms)")

        # The refused ids were not negative-cached: with quota again (a new pool on the same files,
        # a higher limit) they are fetched.
        fpm.stop()
        refused = [c for c, r in zip(chunks, results) if r["count"] == 0]
        fpm2 = PhpFpm(fpm.workdir, emulator=self.emu, max_children=2, ini={"quota_daily_units": 10})
        self._fpms.append(fpm2)
        fpm2.start()
        self.emu.config(latency_ms=0)
        again = fpm2.fetch(refused[0])
        self.assertEqual(again["count"], 50)
        self.assertEqual(self.emu.videos_calls(), videos + 1)
        self.settle_units(fpm2)

    def test_quota_function_reports_the_shared_ledger(self):
        """vault_metadata_quota() in every worker reads the one ledger of the host."""
        fpm = self.start_fpm(pm="static", max_children=3, ini={"quota_daily_units": 5})
        for _ in range(2):
            self.assertEqual(fpm.fetch(self.new_ids(50))["count"], 50)
        self.settle_units(fpm)
        answers = run_concurrently(lambda: fpm.request("quota.php", {"sleep": 1}), [()] * 6)
        self.assertAllOk(answers)
        now = time.time()
        units = self.emu.counters(ids=False)["units"]  # 2 videos calls, plus channels.list for handles
        self.assertGreaterEqual(units, 2)
        for a in answers:
            self.assertEqual(a.status, 200, a.body)
            q = a.json()
            self.assertEqual({k: q[k] for k in ("limit", "used", "remaining", "exhausted", "backend")},
                             {"limit": 5, "used": units, "remaining": max(0, 5 - units), "exhausted": units >= 5,
                              "backend": "sqlite"})
            self.assertEqual(q["resets_at"], next_pacific_midnight(now))
        self.assertEqual(fpm.ledger()["used"], units)


class QuotaExceededUntilPacificMidnight(IntegrationCase):
    """A 403 quotaExceeded stops every worker until midnight Pacific, then calls resume."""

    SECONDS_BEFORE_MIDNIGHT = 14

    def fake_now(self):
        return time.time() + self.offset

    def _rollover(self, midnight):
        day_before = pacific_day(midnight - 1).isoformat()
        day_after = pacific_day(midnight + 1).isoformat()
        self.assertNotEqual(day_before, day_after)

        self.offset = (midnight - self.SECONDS_BEFORE_MIDNIGHT) - time.time()
        self.emu.config(now=self.fake_now())
        fpm = self.start_fpm(pm="static", max_children=3, faketime_offset=self.offset)

        # 1. The call that meets quotaExceeded: one call, no retry, an answer without the items.
        self.emu.faults([{"type": "403_quota", "count": 1, "endpoint": "videos"}])
        first = fpm.fetch(self.new_ids(50), timeout_ms=3000)
        self.assertEqual(first["count"], 0)
        counters = self.emu.counters(ids=False)
        self.assertEqual(counters["calls"], {"videos": 1, "channels": 0})
        self.assertEqual([r["status"] for r in counters["requests"]], [403])
        ledger = fpm.ledger(day_before)
        self.assertIsNotNone(ledger, f"no ledger row for the Pacific day {day_before} (days: {fpm.ledger_days()})")
        self.assertEqual(ledger["exhausted"], 1)

        # 2. Other ids, other workers: no upstream call at all until the reset.
        chunks = [self.new_ids(50) for _ in range(6)]
        results = run_concurrently(lambda ids: fpm.fetch(ids, timeout_ms=3000, sleep_ms=300),
                                   [(c,) for c in chunks])
        self.assertAllOk(results)
        self.assertGreaterEqual(len({r["pid"] for r in results}), 2, "expected several workers to answer")
        for r in results:
            self.assertEqual(r["count"], 0)
            self.assertLess(r["elapsed_ms"], 1500, "an exhausted day should answer without waiting")
        self.assertEqual(self.emu.counters(ids=False)["calls"], {"videos": 1, "channels": 0},
                         "a worker called upstream on an exhausted day")
        if self.fake_now() >= midnight - 1:
            self.fail("the steps before midnight took too long for this test's clock window")

        # 3. Midnight in Los Angeles (the fake clock of php-fpm); the emulator's clock follows.
        time.sleep(max(0.0, midnight + 1.5 - self.fake_now()))
        self.emu.config(now=self.fake_now())
        after = fpm.fetch(self.new_ids(50), timeout_ms=5000)
        self.assertEqual(after["count"], 50, "calls did not resume after Pacific midnight")
        self.assertEqual(self.emu.videos_calls(), 2)
        # The ids refused before midnight were not negative-cached.
        again = run_concurrently(lambda ids: fpm.fetch(ids, timeout_ms=5000), [(c,) for c in chunks[:3]])
        self.assertAllOk(again)
        self.assertEqual([r["count"] for r in again], [50, 50, 50])
        self.assertEqual(self.emu.videos_calls(), 5)
        new_day = fpm.ledger(day_after)
        self.assertIsNotNone(new_day, f"no ledger row for {day_after} (days: {fpm.ledger_days()})")
        self.settle_units(fpm, day=day_after, today=True)
        self.assertEqual(self.emu.counters(ids=False)["quota_day"], day_after)
        self.assertEqual(new_day["exhausted"], 0)
        self.assertEqual(fpm.ledger(day_before)["exhausted"], 1)

    def test_reset_after_spring_forward_23_hour_day(self):
        """2026-03-08 has 23 hours: the quota resets at 07:00 UTC, not 08:00."""
        self._rollover(MIDNIGHT_AFTER_SPRING_FORWARD)

    def test_reset_after_fall_back_25_hour_day(self):
        """2026-11-01 has 25 hours: the quota stays exhausted until 08:00 UTC, not 07:00."""
        self._rollover(MIDNIGHT_AFTER_FALL_BACK)

    def test_quota_function_resets_at_across_dst(self):
        """vault_metadata_quota()['resets_at'] is the next Los Angeles midnight, on DST days too."""
        cases = [
            utc(2026, 3, 8, 9, 30),    # 01:30 PST, before the clocks jump: resets 2026-03-09 07:00 UTC
            utc(2026, 3, 8, 11, 0),    # 04:00 PDT, after the jump: same reset
            utc(2026, 11, 1, 8, 30),   # 01:30 PDT, the first pass through 01:xx: resets 2026-11-02 08:00 UTC
            utc(2026, 11, 1, 9, 30),   # 01:30 PST, the second pass: same reset
        ]
        for n, fake in enumerate(cases):
            with self.subTest(fake=datetime.datetime.fromtimestamp(fake, datetime.timezone.utc).isoformat()):
                fpm = self.start_fpm(name=f"fpm{n}", pm="static", max_children=1,
                                     faketime_offset=fake - time.time())
                r = fpm.request("quota.php")
                self.assertEqual(r.status, 200, r.body)
                q = r.json()
                self.assertLess(abs(q["now"] - fake), 30, "php-fpm does not run on the fake clock")
                self.assertEqual(q["resets_at"], next_pacific_midnight(q["now"]))
                self.assertIn(q["resets_at"], (MIDNIGHT_AFTER_SPRING_FORWARD, MIDNIGHT_AFTER_FALL_BACK))
                fpm.stop()


if __name__ == "__main__":
    unittest.main()
