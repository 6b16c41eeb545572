"""Background refresh: one lease holder per host; when it dies another worker takes over."""

import os
import signal
import time
import unittest

from harness import HOSTNAME, IntegrationCase, log, pid_alive, run_concurrently, wait_for

REFRESH_INTERVAL = 2


class RefreshLease(IntegrationCase):

    def _start_pool(self, workers=3):
        fpm = self.start_fpm(pm="static", max_children=workers, ini={"refresh_interval": REFRESH_INTERVAL})
        # Wake every worker's engine: concurrent requests that each hold their worker a moment.
        seen = set()
        for _ in range(5):
            results = run_concurrently(lambda ids: fpm.fetch(ids, sleep_ms=400),
                                       [(self.new_ids(10),) for _ in range(workers)])
            self.assertAllOk(results)
            seen |= {r["pid"] for r in results}
            if seen >= set(fpm.workers()):
                break
        self.assertTrue(seen >= set(fpm.workers()), f"not every worker answered: {seen} vs {fpm.workers()}")
        return fpm

    def _holder_pid(self, lease):
        holder = lease[0]
        host, _, pid = holder.rpartition(":")
        self.assertEqual(host, HOSTNAME, f"holder {holder!r} is not '<hostname>:<pid>'")
        return int(pid)

    def test_one_holder_and_takeover_after_sigkill(self):
        fpm = self._start_pool()
        lease = wait_for(fpm.lease, 3 * REFRESH_INTERVAL + 2, interval=0.1)
        self.assertIsNotNone(lease, "no 'refresh' row in the leases table of the cache DB "
                                    f"within {3 * REFRESH_INTERVAL + 2} s")
        holder = self._holder_pid(lease)
        self.assertIn(holder, fpm.workers(), "the lease holder is not a php-fpm worker")
        self.assertGreater(lease[1], time.time() - 1, "the lease expired while its holder lives")
        self.assertLessEqual(lease[1], time.time() + 2 * REFRESH_INTERVAL + 1,
                             "a lease should expire after 2 x refresh_interval unless renewed")

        # The holder keeps it while alive (renewed, not handed around).
        time.sleep(2.5 * REFRESH_INTERVAL)
        renewed = fpm.lease()
        self.assertEqual(self._holder_pid(renewed), holder)
        self.assertGreater(renewed[1], time.time(), "the live holder did not renew its lease")

        units_before = used_before = self.settle_units(fpm)

        os.kill(holder, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: not pid_alive(holder), 5)

        def new_holder():
            row = fpm.lease()
            return row if row and row[0] != lease[0] else None

        bound = 2 * REFRESH_INTERVAL + 1.0
        taken = wait_for(new_holder, bound + 3 * REFRESH_INTERVAL, interval=0.1)
        took = time.monotonic() - killed_at
        log(f"lease takeover {took:.1f} s after SIGKILL (interval {REFRESH_INTERVAL} s)")
        self.assertIsNotNone(taken, "nobody took the lease over after its holder died")
        self.assertLessEqual(took, bound, f"the lease was taken over after {took:.1f} s (bound {bound} s)")
        successor = self._holder_pid(taken)
        self.assertNotEqual(successor, holder)
        self.assertTrue(pid_alive(successor))
        self.assertIn(successor, fpm.workers())

        # The quota ledger is untouched by the kill and agrees with what upstream billed.
        time.sleep(REFRESH_INTERVAL)
        self.assertEqual(fpm.ledger()["used"], used_before)
        self.assertEqual(self.emu.counters(ids=False)["units"], units_before)
        # Still one lease, and the pool still answers.
        self.assertEqual(fpm.fetch(self.new_ids(5))["count"], 5)
        self.settle_units(fpm)

    def test_background_refresh_keeps_requested_rows_fresh(self):
        """Rows requested recently are refreshed by the lease holder before they go stale: requests
        that never wait (timeout_ms=0) never see them stale, and a round spends at most
        refresh_budget_units."""
        max_age, budget, window = 6, 1, 11.0
        fpm = self.start_fpm(pm="static", max_children=3,
                             ini={"refresh_interval": REFRESH_INTERVAL, "max_age": max_age,
                                  "refresh_budget_units": budget})
        ids = self.new_ids(50)  # one chunk: refreshing it costs one unit
        first = fpm.fetch(ids)
        self.assertEqual(first["count"], 50)
        units_after_first = self.settle_units(fpm)  # channels.list for the handles included
        t0 = time.monotonic()
        seen_stale, seen_missing, answers = [], [], 0
        while time.monotonic() - t0 < window:
            r = fpm.fetch(ids, timeout_ms=0)
            answers += 1
            if r["stale"]:
                seen_stale.append((round(time.monotonic() - t0, 1), len(r["stale"])))
            if r["missing"]:
                seen_missing.append((round(time.monotonic() - t0, 1), len(r["missing"])))
            time.sleep(0.5)
        elapsed = time.monotonic() - t0
        calls = self.emu.videos_calls()
        refresh_units = self.emu.counters(ids=False)["units"] - units_after_first
        self.assertEqual(seen_missing, [])
        self.assertGreaterEqual(calls, 2, "no background refresh happened")
        self.assertEqual(seen_stale, [], "requests saw stale rows (time s, how many): the refresh came too late")
        rounds = elapsed / REFRESH_INTERVAL + 1
        self.assertLessEqual(refresh_units, rounds * budget, f"{refresh_units} units in {rounds:.0f} refresh rounds")
        self.settle_units(fpm)


if __name__ == "__main__":
    unittest.main()
