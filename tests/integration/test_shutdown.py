"""php-fpm stops (SIGQUIT) and reloads (SIGUSR2) within seconds while fetches are in flight and the
upstream is unreachable or slow: MSHUTDOWN never waits for upstream."""

import signal
import socket
import threading
import time
import unittest

from harness import Emulator, IntegrationCase, fcgi_request, log, wait_for

FETCH_TIMEOUT_MS = 2500   # how long the in-flight PHP calls wait
SHUTDOWN_BOUND_S = 2.0    # design: MSHUTDOWN returns within 2 s
SLACK_S = 2.0


class BlackHole:
    """A TCP port that completes handshakes (the kernel backlog) but never answers: an upstream that
    hangs. Nothing is ever accepted, so every request sent there waits for its own timeout."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    @property
    def api_base(self):
        return f"http://127.0.0.1:{self.port}/youtube/v3"

    def close(self):
        self.sock.close()


class ShutdownDuringFetch(IntegrationCase):

    def _in_flight(self, fpm, n):
        """Starts n fetches that will wait for upstream; returns (threads, results list)."""
        results = [None] * n
        chunks = [self.new_ids(50) for _ in range(n)]

        def run(i):
            try:
                results[i] = fpm.fetch(chunks[i], timeout_ms=FETCH_TIMEOUT_MS, timeout=30)
            except BaseException as e:  # noqa: BLE001
                results[i] = e

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        return threads, results

    def test_sigquit_with_unreachable_upstream(self):
        hole = BlackHole()
        self.addCleanup(hole.close)
        # A long process_control_timeout: only a worker that really exits ends php-fpm early.
        fpm = self.start_fpm(pm="static", max_children=2, api_base=hole.api_base, process_control_timeout=30,
                             ini={"upstream_timeout_ms": 20000})
        self.assertEqual(fpm.request("pid.php").status, 200)
        threads, results = self._in_flight(fpm, 2)
        time.sleep(0.7)  # both calls are now waiting on the black hole
        took = fpm.stop(signal.SIGQUIT, bound=FETCH_TIMEOUT_MS / 1000 + SHUTDOWN_BOUND_S + SLACK_S + 5)
        for t in threads:
            t.join(10)
        bound = FETCH_TIMEOUT_MS / 1000 + SHUTDOWN_BOUND_S + SLACK_S
        log(f"SIGQUIT -> exit: {took if took is None else round(took, 2)} s")
        self.assertIsNotNone(took, "php-fpm did not exit after SIGQUIT")
        self.assertLess(took, bound, f"php-fpm took {took:.1f} s to stop (bound {bound:.1f} s)")
        # Graceful: the in-flight requests were answered (empty, no error) before the workers left.
        for r in results:
            if isinstance(r, BaseException):
                raise r
            self.assertEqual(r["count"], 0)

    def test_sigquit_with_slow_upstream(self):
        fpm = self.start_fpm(pm="dynamic", max_children=3, start_servers=2, min_spare=1, max_spare=2,
                             process_control_timeout=30)
        self.emu.faults([{"type": "slow", "count": 10, "delay_ms": 15000}])
        threads, results = self._in_flight(fpm, 2)
        time.sleep(0.7)
        took = fpm.stop(signal.SIGQUIT, bound=15)
        for t in threads:
            t.join(10)
        bound = FETCH_TIMEOUT_MS / 1000 + SHUTDOWN_BOUND_S + SLACK_S
        log(f"SIGQUIT -> exit: {took if took is None else round(took, 2)} s")
        self.assertIsNotNone(took, "php-fpm did not exit after SIGQUIT")
        self.assertLess(took, bound, f"php-fpm took {took:.1f} s to stop (bound {bound:.1f} s)")

    def test_sigusr2_reload_with_slow_upstream(self):
        # Its own emulator: the slow answers outlive this test.
        emu = Emulator(self.test_dir / "slow-emulator").start()
        self.addCleanup(emu.stop)
        emu.config(latency_ms=15000)
        fpm = self.start_fpm(emulator=emu, pm="static", max_children=2, process_control_timeout=30)
        old_workers = set(fpm.workers())
        threads, results = self._in_flight(fpm, 2)
        time.sleep(0.7)
        t0 = time.monotonic()
        fpm.send_signal(signal.SIGUSR2)

        def served_by_new_worker():
            try:
                r = fcgi_request(fpm.port, "pid.php", timeout=10)
            except OSError:
                return None
            if r.status == 200 and r.json()["pid"] not in old_workers:
                return r.json()
            return None

        answer = wait_for(served_by_new_worker, 15, interval=0.1)
        took = time.monotonic() - t0
        for t in threads:
            t.join(10)
        bound = FETCH_TIMEOUT_MS / 1000 + SHUTDOWN_BOUND_S + SLACK_S
        log(f"SIGUSR2 -> new worker answering: {took:.2f} s")
        self.assertIsNotNone(answer, "no new worker answered after SIGUSR2")
        self.assertLess(took, bound, f"the reload took {took:.1f} s (bound {bound:.1f} s)")
        self.assertTrue(answer["loaded"])
        self.assertIsNone(fpm.proc.poll(), "the master exited instead of reloading")
        self.assertTrue(old_workers.isdisjoint(fpm.workers()), "old workers survived the reload")
        # The reloaded pool works: the upstream is fast again.
        emu.config(latency_ms=0)
        fresh = fpm.fetch(self.emu.ids(50, start=90000))
        self.assertEqual(fresh["count"], 50)
        took_stop = fpm.stop(signal.SIGQUIT, bound=10)
        self.assertIsNotNone(took_stop)
        self.assertLess(took_stop, SHUTDOWN_BOUND_S + SLACK_S)


if __name__ == "__main__":
    unittest.main()
