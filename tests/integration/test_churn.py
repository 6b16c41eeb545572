"""Worker churn (pm.max_requests): every new worker starts exactly one loop thread after the fork,
descriptors do not pile up, and the master never gets a thread."""

import random
import threading
import time
import unittest
from collections import defaultdict

from harness import IntegrationCase, thread_count


# vault_metadata.pool_size (the default): SQLite connections a worker may keep open.
POOL_SIZE = 4

class WorkerChurn(IntegrationCase):

    REQUESTS = 500
    CLIENTS = 4
    WORKERS = 4
    MAX_REQUESTS = 5

    def test_max_requests_churn(self):
        fpm = self.start_fpm(pm="static", max_children=self.WORKERS, max_requests=self.MAX_REQUESTS)
        pool = self.new_ids(200)
        master = fpm.master_pid
        master_threads = [thread_count(master)]
        self.assertEqual(master_threads[0], 1, "the php-fpm master has threads before any request")

        stop = threading.Event()

        def sample_master():
            while not stop.is_set():
                n = thread_count(master)
                if n is not None:
                    master_threads.append(n)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample_master, daemon=True)
        sampler.start()

        lock = threading.Lock()
        next_index = [0]
        answers = []     # (completion order, response json) ; per pid order = completion order
        failures = []
        rng = random.Random(5)
        plans = []
        for n in range(self.REQUESTS):
            ids = rng.sample(pool, 5)
            # max_age=0: every request goes upstream, so the loop thread, its SQLite connection and
            # the curl connection are in use in every request, and every answer has the same descriptors.
            plans.append({"ids": ",".join(ids), "max_age": 0})

        def client():
            while True:
                with lock:
                    if next_index[0] >= len(plans):
                        return
                    plan = plans[next_index[0]]
                    next_index[0] += 1
                try:
                    r = fpm.request("threads.php", plan, timeout=20)
                    data = r.json() if r.status == 200 else None
                    with lock:
                        if data is None or "error" in data or data["count"] != 5:
                            failures.append((r.status, r.body[:300]))
                        else:
                            answers.append(data)
                except Exception as e:  # noqa: BLE001
                    with lock:
                        failures.append(("exception", repr(e)))

        t0 = time.monotonic()
        clients = [threading.Thread(target=client, daemon=True) for _ in range(self.CLIENTS)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(180)
        took = time.monotonic() - t0
        time.sleep(0.2)
        stop.set()
        sampler.join(5)
        master_threads.append(thread_count(master))

        self.assertEqual(failures[:5], [], f"{len(failures)} of {self.REQUESTS} requests failed")
        self.assertEqual(len(answers), self.REQUESTS)

        by_pid = defaultdict(list)
        for a in answers:
            by_pid[a["pid"]].append(a)
        self.assertGreaterEqual(len(by_pid), self.REQUESTS // self.MAX_REQUESTS,
                                "pm.max_requests did not recycle the workers")
        for pid, seq in by_pid.items():
            self.assertLessEqual(len(seq), self.MAX_REQUESTS, f"worker {pid} served more than max_requests")

        base = min(a["threads_before"] for a in answers)
        self.assertEqual(base, 1, "a fresh worker already had threads before its first call")
        bad_threads = [(pid, [(a["threads_before"], a["threads_after"]) for a in seq])
                       for pid, seq in by_pid.items()
                       if seq[0]["threads_before"] != base
                       or any(a["threads_after"] != base + 1 for a in seq)
                       or any(a["threads_before"] != base + 1 for a in seq[1:])]
        self.assertEqual(bad_threads[:5], [], f"{len(bad_threads)} workers broke 'exactly base+1 threads'")

        # Descriptors: no worker of the churn ever holds more than a long-lived worker holds at steady
        # state (the SQLite pool fills lazily, so counts vary below that plateau): nothing accumulates
        # from one generation of workers to the next.
        plateau = self.long_lived_plateau()
        bound = plateau + 2 * POOL_SIZE + 2
        over = [(pid, [a["fds_after"] for a in seq]) for pid, seq in by_pid.items()
                if max(a["fds_after"] for a in seq) > bound]
        self.assertEqual(over[:5], [], f"{len(over)} churned workers held more descriptors than a long-lived "
                                       f"worker's {plateau} plus its pool ({bound})")
        first_fds = [seq[0]["fds_after"] for seq in by_pid.values()]

        self.assertEqual(set(master_threads), {1}, f"the master's thread count changed: {sorted(set(master_threads))}")
        sys_note = (f"{self.REQUESTS} requests, {len(by_pid)} workers, {took:.1f} s, {len(master_threads)} master "
                    f"samples; fds after a worker's first call {min(first_fds)}..{max(first_fds)}, plateau {plateau}")
        print(f"\n    [churn] {sys_note}")

    def long_lived_plateau(self, requests=120):
        """Descriptors of one worker that never recycles, after each of `requests` upstream fetches: they
        must stay within the connection pool's bound (no per-request leak). Returns the highest count."""
        fpm = self.start_fpm(name="long-lived", pm="static", max_children=1, max_requests=0)
        pool = self.new_ids(200)
        rng = random.Random(9)
        fds, threads = [], set()
        for _ in range(requests):
            r = fpm.request("threads.php", {"ids": ",".join(rng.sample(pool, 5)), "max_age": 0})
            data = r.json()
            self.assertEqual(data.get("count"), 5, data)
            fds.append(data["fds_after"])
            threads.add(data["threads_after"])
        fpm.stop()
        self.assertEqual(threads, {2}, "a long-lived worker should keep exactly one loop thread")
        # Bounded, not constant: the SQLite pool opens a connection (the database and its WAL:
        # 2 descriptors) when the PHP thread and the loop thread need one at the same moment, up
        # to pool_size; and libcurl may keep one more connection. Nothing may grow beyond that.
        self.assertLessEqual(max(fds) - min(fds), 2 * POOL_SIZE + 2,
                             f"a long-lived worker's descriptors grow beyond its pool: {fds}")
        return max(fds)


if __name__ == "__main__":
    unittest.main()
