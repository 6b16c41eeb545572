"""One fetch per video, not one per worker: concurrent requests in many php-fpm workers."""

import time
import unittest

from harness import IntegrationCase, run_concurrently, wait_for


class CrossWorkerCoalescing(IntegrationCase):

    def _same_ids_from_many_workers(self, fpm, n_requests):
        ids = self.new_ids(50)
        # Upstream takes a while, so the workers' requests overlap for certain.
        self.emu.config(latency_ms=400)
        results = run_concurrently(lambda: fpm.fetch(ids, timeout_ms=8000, sleep_ms=50),
                                   [()] * n_requests)
        self.assertAllOk(results)
        counters = self.emu.counters()
        pids = {r["pid"] for r in results}
        for r in results:
            self.assertEqual(r["count"], 50, f"worker {r['pid']} got {r['count']} of 50 (missing {r['missing'][:5]})")
            self.assertEqual(r["bad"], [])
            self.assertEqual(r["stale"], [])
        return ids, counters, pids

    def test_static_pool_same_missing_ids_cost_one_call(self):
        """8 concurrent requests, static pool of 4, the same 50 missing ids: exactly 1 videos call."""
        fpm = self.start_fpm(pm="static", max_children=4)
        ids, counters, pids = self._same_ids_from_many_workers(fpm, 8)
        self.assertGreaterEqual(len(pids), 2, "the requests should have been spread over several workers")
        self.assertEqual(counters["calls"]["videos"], 1,
                         f"{counters['calls']['videos']} upstream calls from {len(pids)} workers for one chunk")
        self.assertEqual(sorted(counters["id_fetches"]), sorted(ids))
        self.assertEqual(set(counters["id_fetches"].values()), {1})
        # channels.list for the handles of the new channels is billed too: the ledger counts every unit.
        self.settle_units(fpm)

    def test_dynamic_pool_basic_fetch(self):
        """pm = dynamic: a cold fetch costs one call, warm requests from any worker cost none."""
        fpm = self.start_fpm(pm="dynamic", max_children=4, start_servers=1, min_spare=1, max_spare=3)
        ids = self.new_ids(50)
        first = fpm.fetch(ids)
        self.assertEqual(first["count"], 50)
        self.assertEqual(first["stale"], [])
        self.assertEqual(self.emu.videos_calls(), 1)
        # Warm requests, concurrent enough that the pool grows; every worker answers from the cache.
        results = run_concurrently(lambda: fpm.fetch(ids, sleep_ms=150), [()] * 8)
        self.assertAllOk(results)
        for r in results:
            self.assertEqual(r["count"], 50)
            self.assertEqual(r["stale"], [])
        self.assertEqual(self.emu.videos_calls(), 1)
        self.assertGreaterEqual(len({r["pid"] for r in results} | {first["pid"]}), 2,
                                "the dynamic pool should have spawned a second worker")
        # A cold chunk after the pool grew is fetched once too.
        more = self.new_ids(50)
        self.assertEqual(fpm.fetch(more)["count"], 50)
        self.assertEqual(self.emu.videos_calls(), 2)

    def test_prefetch_then_every_worker_reads_the_cache(self):
        """vault_metadata_prefetch() queues without waiting; afterwards any worker serves the ids from
        the cache with timeout_ms=0, and the prefetch cost exactly one call."""
        fpm = self.start_fpm(pm="static", max_children=3)
        ids = self.new_ids(50)
        self.emu.config(latency_ms=300)
        r = fpm.fetch(ids, prefetch=1)
        self.assertEqual(r.get("queued"), 50, r)
        self.assertLess(r["http_elapsed"], 0.25, "prefetch waited for upstream")
        self.assertIsNotNone(wait_for(lambda: self.emu.counters(ids=False)["calls"]["videos"] >= 1
                                      and self.emu.counters(ids=False)["in_flight"] <= 0, 5),
                             "the prefetch never reached upstream")
        time.sleep(0.3)  # the write-back transaction
        results = run_concurrently(lambda: fpm.fetch(ids, timeout_ms=0, sleep_ms=100), [()] * 6)
        self.assertAllOk(results)
        for res in results:
            self.assertEqual(res["count"], 50)
            self.assertEqual(res["stale"], [])
        self.assertEqual(self.emu.videos_calls(), 1)
        # Already fresh: prefetching again queues nothing.
        self.assertEqual(fpm.fetch(ids, prefetch=1)["queued"], 0)

    def test_dynamic_pool_same_missing_ids_cost_one_call(self):
        """The coalescing promise holds in a dynamic pool as well."""
        fpm = self.start_fpm(pm="dynamic", max_children=4, start_servers=4, min_spare=2, max_spare=4)
        _ids, counters, pids = self._same_ids_from_many_workers(fpm, 6)
        self.assertEqual(counters["calls"]["videos"], 1,
                         f"{counters['calls']['videos']} upstream calls from {len(pids)} workers for one chunk")


if __name__ == "__main__":
    unittest.main()
