"""Operability tests: health (php-examples/healthz.php), the operator CLI (php-examples/vault-cli.php),
the event ring across workers and its 60 s bound, the one-minute aggregates pushed to a real
VictoriaMetrics, IndexNow against a fake endpoint, and a scan of everything the run produced for the
API key and the client's address / user agent / referer.

Run through tests/ops/run.sh (it sets VAULT_EXT_SO and VAULT_OPS_WORK and prints `ops: N passed, N failed`).
Every test is written to the design (/work/shared/design.md, README, the issue); where the extension
disagrees the test fails with a message that says what the design expects.
"""

import hashlib
import math
import re
import os
import random
import signal
import subprocess
import sys
import time
import unittest
from pathlib import Path

from ops_lib import (CLIENT_ADDR, CLIENT_FORWARDED, CLIENT_REFERER, CLIENT_UA, EXT_SO, NEEDLES, PHP_CLI,
                     SECRET_API_KEY, WORK, Emulator,
                     FakeIndexNow, OpsFpm, VictoriaMetrics, chattr, kill_loop_thread, log, run_cli,
                     run_concurrently, save_artifact, wait_for)

MINUTE_FIELDS = ["calls", "ids", "fresh", "stale", "refreshed", "missing", "upstream_calls", "quota_units"]
ERROR_CLASSES = ["timeout", "server", "rate_limited", "quota", "bad_request", "forbidden", "malformed", "network"]


class OpsCase(unittest.TestCase):
    """One emulator per class (reset before each test); php-fpm pools per test, stopped in tearDown."""

    @classmethod
    def setUpClass(cls):
        cls.class_dir = WORK / cls.__name__
        cls.class_dir.mkdir(parents=True, exist_ok=True)
        cls.emu = Emulator(cls.class_dir / "emulator").start()
        cls._cursor = 0

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.emu.reset()
        self.dir = self.class_dir / self._testMethodName
        self.dir.mkdir(parents=True, exist_ok=True)
        self._fpms = []

    def tearDown(self):
        for fpm in self._fpms:
            fpm.stop(bound=5)
            fpm.kill()

    def start_fpm(self, name="fpm", **kw):
        kw.setdefault("emulator", self.emu)
        fpm = OpsFpm(self.dir / name, **kw)
        self._fpms.append(fpm)
        return fpm.start()

    def new_ids(self, count, kind="any"):
        cls = type(self)
        start = cls._cursor
        cls._cursor += count
        return self.emu.ids(count, start=start, kind=kind)

    def cli_ini(self, db=None, **extra):
        ini = {"api_base": self.emu.api_base, "api_key": SECRET_API_KEY,
               "db_path": str(db or self.dir / "cache.sqlite"), "log_level": "debug", "refresh_interval": 600,
               # The CLI's own log lines go to a file, so that the privacy scan reads them too.
               "error_log": str(self.dir / "cli_php_errors.log"), "log_errors": "1"}
        ini.update(extra)
        return ini

    def assertCliJson(self, result, rc):
        self.assertEqual(result.rc, rc, f"exit code {result.rc}, expected {rc}: {result!r}")
        return result.json()


# ================================================================================================ health

class Health(OpsCase):

    def test_healthz_200_then_503_when_the_cache_is_unwritable_then_200_again(self):
        fpm = self.start_fpm(max_children=2)
        r = fpm.healthz()
        save_artifact("healthz-ok.json", r.body)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.headers.get("content-type", "").startswith("application/json"), r.headers)
        body = r.json()
        self.assertIs(body["ok"], True)
        for key in ("cache", "pool", "background_thread", "upstream", "quota"):
            self.assertIn(key, body)
        self.assertNotIn("path", body["cache"], "healthz should not publish the cache path")
        self.assertTrue(body["background_thread"]["alive"])
        self.assertTrue(fpm.db_path.exists())

        ok, why = chattr("+i", fpm.db_path)
        if not ok:
            self.skipTest(f"chattr +i is not supported here ({why}): cannot make the cache unwritable for root")
        try:
            bodies = []
            for _ in range(6):  # both workers
                r = fpm.healthz()
                bodies.append(r.body)
                self.assertEqual(r.status, 503, f"healthz with an immutable cache file: {r}")
                body = r.json()
                self.assertIs(body["ok"], False)
                self.assertTrue(body["cache"]["error"], body)
            save_artifact("healthz-unwritable.json", "\n".join(bodies))
            status = run_cli(["status", "--json"], ini=self.cli_ini(db=fpm.db_path, quota_path=fpm.quota_path))
            data = self.assertCliJson(status, 1)
            self.assertIs(data["ok"], False)
            self.assertTrue(data["cache"]["error"])
            text = run_cli(["status"], ini=self.cli_ini(db=fpm.db_path, quota_path=fpm.quota_path))
            self.assertEqual(text.rc, 1, text)
            self.assertIn("NOT OK", text.out)
        finally:
            chattr("-i", fpm.db_path)

        for _ in range(6):
            r = fpm.healthz()
            self.assertEqual(r.status, 200, f"healthz after the cache became writable again: {r}")
            self.assertIs(r.json()["ok"], True)
        status = run_cli(["status", "--json"], ini=self.cli_ini(db=fpm.db_path, quota_path=fpm.quota_path))
        self.assertIs(self.assertCliJson(status, 0)["ok"], True)

    def test_healthz_503_when_the_loop_thread_is_dead_then_200_in_a_new_worker(self):
        fpm = self.start_fpm(max_children=1)
        r = fpm.healthz()
        self.assertEqual(r.status, 200, r)
        pid = r.json()["pid"]
        threads_before = len(os.listdir(f"/proc/{pid}/task"))
        tid = kill_loop_thread(pid)
        log(f"ended loop thread {tid} of worker {pid} ({threads_before} -> "
            f"{len(os.listdir(f'/proc/{pid}/task'))} threads)")

        problems = []
        r = fpm.healthz()
        save_artifact("healthz-dead-thread.json", r.body)
        body = r.json()
        self.assertEqual(body["pid"], pid, "the one worker of the pool changed")
        if r.status != 503 or body["ok"] is not False:
            problems.append(f"healthz answered {r.status} ok={body['ok']} after the loop thread {tid} ended")
        if body["background_thread"]["alive"] is not False:
            problems.append(f"health says background_thread.alive={body['background_thread']['alive']} "
                            f"but thread {tid} is gone from /proc/{pid}/task")
        # What the dead thread costs a page: every miss waits its whole timeout_ms.
        t0 = time.monotonic()
        fetched = fpm.ops_json("fetch", ids=",".join(self.new_ids(3)), timeout_ms=1500)
        took = time.monotonic() - t0
        log(f"fetch of 3 missing ids on the worker without a loop thread: {took:.2f} s, "
            f"{fetched['count']} item(s)")

        # Fixed: the worker is replaced (what pm.max_requests or a reload does).
        os.kill(pid, signal.SIGKILL)
        self.assertTrue(wait_for(lambda: [w for w in fpm.workers() if w != pid], 10), "no new worker")
        r = wait_for(lambda: (lambda x: x if x.status == 200 else None)(fpm.healthz()), 10, interval=0.2)
        self.assertIsNotNone(r, "healthz never answered 200 from the new worker")
        self.assertNotEqual(r.json()["pid"], pid)
        self.assertTrue(r.json()["background_thread"]["alive"])
        if problems:
            self.fail("; ".join(problems) + " (design: health rests on 'background thread alive'; "
                      "expected 503 and background_thread.alive=false)")


# ================================================================================================ events

class EventsAcrossWorkers(OpsCase):

    def test_cli_finds_correlation_ids_of_both_workers_and_not_after_60_s(self):
        fpm = self.start_fpm(max_children=2, ini={"refresh_interval": 2})
        by_pid = {}
        for _ in range(10):
            results = run_concurrently(lambda ids: fpm.ops_json("fetch", ids=",".join(ids), sleep_ms=300),
                                       [(self.new_ids(4),) for _ in range(4)])
            for r in results:
                if isinstance(r, BaseException):
                    raise r
                self.assertRegex(r["correlation_id"], r"^[0-9a-f]{24}$")
                by_pid.setdefault(r["pid"], []).append(r["correlation_id"])
            if len(by_pid) >= 2:
                break
        self.assertEqual(len(by_pid), 2, f"both workers should have answered: {list(by_pid)}")
        ini = self.cli_ini(db=fpm.db_path, quota_path=fpm.quota_path)

        for pid, cids in by_pid.items():
            found = self.assertCliJson(run_cli(["events", "--id", cids[0], "--json"], ini=ini), 0)
            self.assertEqual(found["count"], 1, f"events --id {cids[0]} (worker {pid}): {found}")
            event = found["events"][0]
            self.assertEqual(event["correlation_id"], cids[0])
            self.assertEqual(event["pid"], pid)
            self.assertEqual(event["function"], "fetch_batch")
            self.assertEqual(event["ids"], 4)
        every = self.assertCliJson(run_cli(["events", "--json"], ini=ini), 0)
        save_artifact("events-all.json", every)
        listed = {e["correlation_id"] for e in every["events"]}
        for cids in by_pid.values():
            self.assertTrue(set(cids) <= listed, "events without --id should list every call of the last 60 s")
        one = next(iter(by_pid.values()))[0]
        text = run_cli(["events", "--id", one], ini=ini)
        self.assertEqual(text.rc, 0, text)
        self.assertIn(one, text.out)

        # The status of the host: a background leader among the workers, the upstream's last success.
        lease = wait_for(fpm.lease, 8, interval=0.2)
        self.assertIsNotNone(lease, "no refresh lease within 8 s")
        status = self.assertCliJson(run_cli(["status", "--json"], ini=ini), 0)
        save_artifact("status.json", status)
        leader = status["background_leader"]
        self.assertIn(leader["pid"], fpm.workers(), f"leader {leader} is not a worker of {fpm.workers()}")
        self.assertTrue(leader["valid"])
        self.assertIsNotNone(status["upstream"]["last_success_at"])
        self.assertEqual(status["settings"]["api_key"], "set")
        stats = self.assertCliJson(run_cli(["stats", "--minutes", "2", "--json"], ini=ini), 0)
        self.assertGreaterEqual(stats["total"]["calls"], sum(len(c) for c in by_pid.values()))

        # 61 s later (libfaketime for the CLI process only) the ring has forgotten them.
        for pid, cids in by_pid.items():
            later = self.assertCliJson(run_cli(["events", "--id", cids[0], "--json"], ini=ini, faketime="+61"), 0)
            self.assertEqual(later["count"], 0, f"event {cids[0]} of worker {pid} still listed 61 s later: {later}")
        later_all = self.assertCliJson(run_cli(["events", "--json"], ini=ini, faketime="+61"), 0)
        left = {e["correlation_id"] for e in later_all["events"]} & {c for cs in by_pid.values() for c in cs}
        self.assertFalse(left, f"still listed 61 s later: {left}")


# ================================================================================================ IndexNow

INDEXNOW_KEY = "ops-indexnow-key-4f2a9c"
INDEXNOW_HOST = "site.example"
INDEXNOW_KEY_LOCATION = f"https://{INDEXNOW_HOST}/{INDEXNOW_KEY}.txt"


class IndexNow(OpsCase):

    def setUp(self):
        super().setUp()
        self.fake = FakeIndexNow()
        self.fpm = self.start_fpm(max_children=1, ini={
            "indexnow_endpoint": self.fake.url, "indexnow_key": INDEXNOW_KEY,
            "indexnow_key_location": INDEXNOW_KEY_LOCATION, "indexnow_host": INDEXNOW_HOST})

    def tearDown(self):
        super().tearDown()
        posts = self.fake.snapshot()
        save_artifact(f"indexnow-{self._testMethodName}.json",
                      [{"status": p["status"], "urls": len((p["body"] or {}).get("urlList", []))} for p in posts])
        self.fake.stop()

    def submit(self, prefix, count, start=0):
        t0 = time.monotonic()
        r = self.fpm.ops_json("indexnow", prefix=prefix, start=start, count=count, timeout=60)
        self.assertEqual(r["accepted"], count, r)
        return t0, [f"{prefix}{i}" for i in range(start, start + count)]

    def assertBody(self, post, urls):
        self.assertEqual(post["content_type"].replace(" ", "").lower(), "application/json;charset=utf-8")
        body = post["body"]
        self.assertIsInstance(body, dict, post["raw"][:300])
        self.assertEqual(list(body), ["host", "key", "keyLocation", "urlList"], "exact keys, in this order")
        self.assertEqual(body["host"], INDEXNOW_HOST)
        self.assertEqual(body["key"], INDEXNOW_KEY)
        self.assertEqual(body["keyLocation"], INDEXNOW_KEY_LOCATION)
        self.assertEqual(body["urlList"], urls)

    def test_25000_urls_go_out_as_10000_10000_5000_within_a_second(self):
        prefix = f"https://{INDEXNOW_HOST}/watch/batch-"
        t0, urls = self.submit(prefix, 25000)
        self.assertTrue(wait_for(lambda: self.fake.count() >= 3, 5), f"{self.fake.count()} POST(s) after 5 s")
        time.sleep(3)  # nothing more may come
        posts = self.fake.snapshot()
        self.assertEqual(len(posts), 3, [len((p["body"] or {}).get("urlList", [])) for p in posts])
        posts.sort(key=lambda p: int(p["body"]["urlList"][0].rsplit("-", 1)[1]))
        self.assertEqual([len(p["body"]["urlList"]) for p in posts], [10000, 10000, 5000])
        self.assertBody(posts[0], urls[:10000])
        self.assertBody(posts[1], urls[10000:20000])
        self.assertBody(posts[2], urls[20000:])
        first = min(p["t"] for p in posts) - t0
        self.assertLess(first, 2.0, f"the first POST came {first:.2f} s after the submit (design: within ~1 s)")

    def test_429_and_503_are_retried_with_backoff_then_done(self):
        prefix = f"https://{INDEXNOW_HOST}/watch/retry-"
        self.fake.script[prefix + "0"] = [429, 503, 200]
        t0, urls = self.submit(prefix, 3)
        self.assertTrue(wait_for(lambda: self.fake.count() >= 3, 12), f"{self.fake.count()} POST(s) after 12 s")
        time.sleep(3)
        posts = self.fake.snapshot()
        self.assertEqual([p["status"] for p in posts], [429, 503, 200], "one POST per attempt, none after 200")
        for p in posts:
            self.assertBody(p, urls)
        gap1, gap2 = posts[1]["t"] - posts[0]["t"], posts[2]["t"] - posts[1]["t"]
        log(f"IndexNow retry gaps: {gap1:.2f} s, {gap2:.2f} s")
        # Design: 1-2 s first, doubling (the loop's 1 s housekeeping tick quantises the draw).
        self.assertGreaterEqual(gap1, 0.9, f"first retry after {gap1:.2f} s")
        self.assertLessEqual(gap1, 2.6, f"first retry after {gap1:.2f} s")
        self.assertGreaterEqual(gap2, 1.8, f"second retry after {gap2:.2f} s (should double)")
        self.assertLessEqual(gap2, 5.0, f"second retry after {gap2:.2f} s")

    def test_422_is_dropped_without_retry(self):
        prefix = f"https://{INDEXNOW_HOST}/watch/drop-"
        self.fake.script[prefix + "0"] = [422, 200, 200]
        _t0, urls = self.submit(prefix, 2)
        self.assertTrue(wait_for(lambda: self.fake.count() >= 1, 5))
        time.sleep(4)
        posts = self.fake.snapshot()
        self.assertEqual([p["status"] for p in posts], [422], "a 422 is final: no second POST")
        self.assertBody(posts[0], urls)
        self.fpm.ops_json("time")  # the next request drains the loop thread's log lines
        self.assertIn("indexnow_dropped", self.fpm.php_log_path.read_text(errors="replace"))

    def test_a_retried_batch_does_not_resend_the_batches_already_done(self):
        prefix = f"https://{INDEXNOW_HOST}/watch/mixed-"
        self.fake.script[prefix + "0"] = [429, 200]
        _t0, urls = self.submit(prefix, 25000)
        self.assertTrue(wait_for(lambda: self.fake.count() >= 4, 8), f"{self.fake.count()} POST(s) after 8 s")
        time.sleep(3)
        posts = self.fake.snapshot()
        sizes = [(p["status"], len(p["body"]["urlList"])) for p in posts]
        empty = [s for s in sizes if s[1] == 0]
        self.assertFalse(empty, f"POSTs with an empty urlList: {sizes}")
        self.assertEqual(len(posts), 4, f"expected 3 batches + 1 retry, got {sizes}")
        self.assertEqual(sorted(sizes), sorted([(429, 10000), (200, 10000), (200, 10000), (200, 5000)]))
        sent = [u for p in posts if p["status"] == 200 for u in p["body"]["urlList"]]
        self.assertEqual(sorted(sent), sorted(urls))

    def test_settings_and_urls_are_validated(self):
        bad = run_php_ini_check({"vault_metadata.indexnow_key": "short"})
        self.assertEqual(bad["value"], "", "a 5-character key must be refused")
        self.assertIn("indexnow_key", bad["stderr"])
        self.assertEqual(run_php_ini_check({"vault_metadata.indexnow_key": "x" * 129})["value"], "")
        self.assertEqual(run_php_ini_check({"vault_metadata.indexnow_key": "bad_key!"})["value"], "")
        self.assertEqual(run_php_ini_check({"vault_metadata.indexnow_key": "Abc-1234"})["value"], "Abc-1234")
        self.assertEqual(run_php_ini_check({"vault_metadata.indexnow_key": "k" * 128})["value"], "k" * 128)
        # URLs off the configured host are refused and not counted.
        r = self.fpm.ops_json("indexnow", prefix=f"https://{INDEXNOW_HOST}/watch/v-", start=0, count=2,
                              extra="https://elsewhere.example/watch/x")
        self.assertEqual(r["accepted"], 2)
        self.assertTrue(wait_for(lambda: self.fake.count() >= 1, 5))
        first = self.fake.snapshot()[0]
        self.assertBody(first, [f"https://{INDEXNOW_HOST}/watch/v-0", f"https://{INDEXNOW_HOST}/watch/v-1"])


def run_php_ini_check(ini):
    """The value PHP keeps for a setting given with -d (a refused value leaves the default, empty)."""
    cmd = [PHP_CLI, "-n", "-d", f"extension={EXT_SO}"]
    for k, v in ini.items():
        cmd += ["-d", f"{k}={v}"]
    name = next(iter(ini))
    cmd += ["-r", f"echo '<<', ini_get('{name}'), '>>';"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    m = re.search(r"<<(.*)>>", proc.stdout)
    return {"value": m.group(1) if m else None, "stderr": proc.stderr + proc.stdout}


# ================================================================================================ CLI

class Cli(OpsCase):

    def write_ids(self, name, lines):
        path = self.dir / name
        path.write_text("\n".join(lines) + "\n")
        return path

    def test_backfill_counts_fetched_known_missing_skipped_and_units(self):
        known = self.new_ids(30)
        new = self.new_ids(70)
        deleted = self.emu.ids(20, start=0, kind="deleted")
        ini = self.cli_ini()
        warm = self.assertCliJson(run_cli(["backfill", self.write_ids("warm.txt", known), "--json"], ini=ini), 0)
        self.assertEqual(warm["fetched"], 30, warm)

        lines = ["# ids to backfill", ""] + known[:15] + ["not-an-id", "x" * 12] + new[:35] + deleted \
            + ["has space11", known[0], new[0]] + known[15:] + new[35:] + ["too/short", "ABCDEFGHIJ!", new[1]]
        calls_before = self.emu.videos_calls()
        r = run_cli(["backfill", self.write_ids("ids.txt", lines), "--chunk", "40", "--json"], ini=ini)
        s = self.assertCliJson(r, 0)
        save_artifact("backfill-summary.json", s)
        self.assertEqual(s["lines"], 128)
        self.assertEqual(s["valid"], 120)
        self.assertEqual(s["skipped_invalid"], 5)
        self.assertEqual(s["skipped_duplicates"], 3)
        self.assertEqual((s["known"], s["fetched"], s["missing"], s["stale"]), (30, 70, 20, 0), s)
        self.assertEqual(s["calls"], 3)  # 120 ids, 40 a call
        self.assertEqual(s["not_attempted"], 0)
        self.assertIsNone(s["stopped"])
        self.assertTrue(s["ok"])
        self.assertEqual(s["units_spent"], s["units_used_after"] - s["units_used_before"])
        videos_calls = self.emu.videos_calls() - calls_before
        self.assertGreaterEqual(s["units_spent"], videos_calls, "every videos.list call costs a unit")
        self.assertGreaterEqual(videos_calls, 2)
        quota = self.assertCliJson(run_cli(["quota", "--json"], ini=ini), 0)
        self.assertGreaterEqual(quota["used"], s["units_used_after"])

        again = self.assertCliJson(run_cli(["backfill", str(self.dir / "ids.txt"), "--json"], ini=ini), 0)
        self.assertEqual((again["known"], again["fetched"], again["missing"]), (100, 0, 20), again)
        self.assertEqual(again["units_spent"], 0, "a second backfill of cached and negative-cached ids is free")

        text = run_cli(["backfill", str(self.dir / "ids.txt")], ini=ini)
        self.assertEqual(text.rc, 0, text)
        self.assertIn("skipped 5 invalid and 3 duplicate(s)", text.out)
        self.assertIn("fetched 0, known 100, stale 0, missing 20", text.out)
        self.assertNotIn("\r[", text.err, "no progress bar when stderr is not a terminal")

    def test_backfill_progress_bar_on_a_terminal(self):
        path = self.write_ids("tty.txt", self.new_ids(120))
        r = run_cli(["backfill", path, "--chunk", "50"], ini=self.cli_ini(), tty=True)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("\r[", r.err)
        self.assertIn("120/120 100%", r.err)
        self.assertIn("fetched 120, known 0", r.out)

    def test_backfill_stops_at_the_quota_with_exit_1(self):
        ids = self.new_ids(400)
        ini = self.cli_ini(quota_daily_units=3)
        r = run_cli(["backfill", self.write_ids("many.txt", ids), "--chunk", "100", "--json"], ini=ini)
        s = self.assertCliJson(r, 1)
        save_artifact("backfill-quota.json", s)
        self.assertEqual(s["stopped"], "quota_exhausted", s)
        self.assertGreater(s["not_attempted"], 0)
        self.assertGreater(s["fetched"], 0)
        self.assertLessEqual(s["units_used_after"], 3)
        self.assertFalse(s["ok"])
        q = run_cli(["quota", "--json"], ini=ini)
        data = self.assertCliJson(q, 1)
        self.assertTrue(data["exhausted"])
        text = run_cli(["backfill", str(self.dir / "many.txt")], ini=ini)
        self.assertEqual(text.rc, 1, text)
        self.assertIn("STOPPED: the quota is exhausted", text.out)

    def test_backfill_reports_upstream_errors_with_exit_1(self):
        self.emu.faults([{"type": "400", "count": 1, "endpoint": "videos"}])
        r = run_cli(["backfill", self.write_ids("err.txt", self.new_ids(30)), "--json"], ini=self.cli_ini())
        s = self.assertCliJson(r, 1)
        self.assertEqual(s["upstream_errors"], {"bad_request": 1}, s)
        self.assertEqual(s["missing"], 30)

    def test_stdin_and_stats_and_quota(self):
        ids = self.new_ids(10)
        ini = self.cli_ini()
        s = self.assertCliJson(run_cli(["backfill", "-", "--json"], ini=ini, stdin_text="\n".join(ids)), 0)
        self.assertEqual(s["fetched"], 10)
        stats = self.assertCliJson(run_cli(["stats", "--minutes", "3", "--json"], ini=ini), 0)
        self.assertEqual(stats["minutes_asked"], 3)
        self.assertEqual(len(stats["minutes"]), 3)
        self.assertGreaterEqual(stats["total"]["calls"], 1)
        self.assertGreaterEqual(stats["total"]["refreshed"], 10)
        text = run_cli(["stats"], ini=ini)
        self.assertEqual(text.rc, 0, text)
        self.assertIn("total (5 min)", text.out)
        q = self.assertCliJson(run_cli(["quota", "--json"], ini=ini), 0)
        self.assertEqual(set(q), {"limit", "used", "remaining", "resets_at", "exhausted", "backend"})
        self.assertIn("remaining:", run_cli(["quota"], ini=ini).out)

    def test_status_masks_secrets(self):
        ini = self.cli_ini(api_key="", metrics_url="http://ops:hunter2-vm@127.0.0.1:9/")
        r = run_cli(["status", "--json"], ini=ini, env_extra={"VAULT_YOUTUBE_API_KEY": SECRET_API_KEY})
        data = self.assertCliJson(r, 0)
        self.assertEqual(data["settings"]["api_key"], "set (VAULT_YOUTUBE_API_KEY)")
        self.assertNotIn("hunter2-vm", r.out)
        for key in ("php", "extension", "libuv", "libcurl", "sqlite", "msgpack-c", "simdjson"):
            self.assertTrue(data["versions"].get(key), f"version of {key} missing: {data['versions']}")
        for key in ("cache", "pool", "background_thread", "background_leader", "upstream", "quota"):
            self.assertIn(key, data)
        text = run_cli(["status"], ini=ini, env_extra={"VAULT_YOUTUBE_API_KEY": SECRET_API_KEY})
        self.assertEqual(text.rc, 0, text)
        self.assertIn("health:", text.out)
        info = run_cli(["help"], ini=ini)
        self.assertEqual(info.rc, 0)
        self.assertIn("Exit codes", info.out)

    def test_usage_errors_exit_2(self):
        ini = self.cli_ini()
        cases = [
            [], ["nope"], ["status", "--bogus"], ["status", "extra"], ["backfill"],
            ["backfill", str(self.dir / "absent.txt")], ["backfill", "a", "b"],
            ["stats", "--minutes", "0"], ["stats", "--minutes", "61"], ["stats", "--minutes", "x"],
            ["events", "--id", "ABC"], ["events", "--id"], ["quota", "--chunk", "5"],
        ]
        path = self.write_ids("one.txt", self.new_ids(1))
        cases += [["backfill", path, "--chunk", "0"], ["backfill", path, "--chunk", "1001"]]
        for args in cases:
            r = run_cli(args, ini=ini)
            self.assertEqual(r.rc, 2, f"{args}: {r!r}")
        r = run_cli(["stats", "--minutes", "0", "--json"], ini=ini)
        data = self.assertCliJson(r, 2)
        self.assertEqual(data["error"], "usage")


# ================================================================================================ metrics

class MetricsToVictoriaMetrics(OpsCase):
    """php-fpm under libfaketime at 10x (a minute is 6 real seconds; monotonic clocks stay real, so the
    1 s metrics_flush_interval and the loop's timers run in real seconds). refresh_interval=20 fake
    seconds (2 real) keeps one stable lease holder: at 2 fake seconds the lease would expire between two
    housekeeping ticks and change holder every second."""

    SPEEDUP = 10

    def test_pushed_minutes_equal_vault_metadata_stats(self):
        vm = VictoriaMetrics(self.dir / "vm").start()
        self.addCleanup(vm.stop)
        fpm = self.start_fpm(max_children=2, speedup=self.SPEEDUP, ini={
            "metrics_url": vm.url, "metrics_flush_interval": 1, "refresh_interval": 20,
            "upstream_timeout_ms": 4000})

        seen_pids = set()
        fetched = []
        deadline = time.monotonic() + 15  # 2.5 fake minutes of traffic
        i = 0
        while time.monotonic() < deadline:
            i += 1
            if i % 7 == 0:
                self.emu.faults([{"type": "503", "count": 1, "endpoint": "videos"}], append=True)
            if i % 11 == 0:
                self.emu.faults([{"type": "400", "count": 1, "endpoint": "videos"}], append=True)
            batches = []
            for _ in range(2):
                ids = self.new_ids(3) + self.emu.ids(1, start=i, kind="deleted")
                if fetched:
                    ids += random.sample(fetched, min(4, len(fetched)))
                batches.append((list(dict.fromkeys(ids)),))
            results = run_concurrently(lambda ids: fpm.ops_json("fetch", ids=",".join(ids), sleep_ms=400), batches)
            for r in results:
                if isinstance(r, BaseException):
                    raise r
                seen_pids.add(r["pid"])
            for (ids,) in batches:
                fetched += ids[:3]
            time.sleep(0.15)
        self.assertEqual(len(seen_pids), 2, "both workers should have served traffic")

        def complete_and_pushed():
            stats = fpm.ops_json("stats", minutes=10)
            now_minute = int(stats["now"]) // 60 * 60
            wanted = {m["minute_start"] for m in stats["minutes"]
                      if m["minute_start"] < now_minute and (m["calls"] or m["upstream_calls"])}
            series, _ = vm.export('{__name__=~"vault_metadata_minute_.*"}')
            exported = {ts // 1000 for points in series.values() for ts, _ in points}
            with_calls = {m["minute_start"] for m in stats["minutes"] if m["minute_start"] < now_minute and m["calls"]}
            return wanted <= exported and len(with_calls & exported) >= 2 and (stats, wanted)

        # Traffic has stopped: wait until its last minute is over and pushed (a fake minute is 6 s).
        got = wait_for(complete_and_pushed, 30, interval=0.5)
        series, raw = vm.export('{__name__=~"vault_metadata_minute_.*"}')
        save_artifact("victoria-metrics-export.jsonl", raw)
        stats = fpm.ops_json("stats", minutes=20)
        save_artifact("stats-20.json", stats)
        save_artifact("metrics.prom", fpm.ops("metrics").body)
        self.assertTrue(got, f"the completed minutes with traffic were not all in VictoriaMetrics after 30 s; "
                             f"exported minutes: {sorted({ts // 1000 for p in series.values() for ts, _ in p})}, "
                             f"stats: {[(m['minute_start'], m['calls']) for m in stats['minutes']]}")
        pushes = vm.import_requests()
        self.assertGreaterEqual(pushes, 2, "at least two flushes")

        by_minute = {m["minute_start"]: m for m in stats["minutes"]}
        samples = {}  # minute -> {field: value}
        problems = []
        for (name, labels), points in series.items():
            labels = dict(labels)
            self.assertTrue(name.startswith("vault_metadata_minute_"), name)
            field = name[len("vault_metadata_minute_"):]
            if field == "upstream_errors":
                self.assertEqual(set(labels), {"class"}, labels)
                field = "upstream_errors." + labels["class"]
            else:
                self.assertEqual(labels, {}, f"{name} carries labels {labels}")
            stamps = [ts for ts, _ in points]
            if len(stamps) != len(set(stamps)):
                problems.append(f"{name}{labels} pushed twice for one minute: {sorted(stamps)}")
            for ts, value in points:
                self.assertEqual(ts % 60000, 0, f"{name} timestamp {ts} is not a minute start")
                samples.setdefault(ts // 1000, {})[field] = value

        compared = 0
        for minute, fields in sorted(samples.items()):
            m = by_minute.get(minute)
            if m is None:
                problems.append(f"minute {minute} exported but not in vault_metadata_stats(20)")
                continue
            expected = {k: m[k] for k in MINUTE_FIELDS}
            expected.update({f"upstream_errors.{c}": m["upstream_errors"][c] for c in ERROR_CLASSES})
            if m["calls"]:
                expected.update({"latency_p50_ms": m["latency_ms"]["p50"], "latency_p95_ms": m["latency_ms"]["p95"],
                                 "latency_p99_ms": m["latency_ms"]["p99"], "latency_count": m["calls"]})
            if m["ids"]:
                expected["cache_hit_ratio"] = m["cache_hit_ratio"]
            for key, want in expected.items():
                have = fields.get(key)
                if have is None:
                    problems.append(f"minute {minute}: {key} not exported (stats: {want})")
                elif not math.isclose(float(have), float(want), rel_tol=1e-9, abs_tol=1e-12):
                    problems.append(f"minute {minute}: {key} exported {have}, stats say {want}")
            for key in set(fields) - set(expected):
                if fields[key] != 0:
                    problems.append(f"minute {minute}: {key}={fields[key]} exported, not in stats")
            if m["calls"]:
                compared += 1
        log(f"metrics: {len(samples)} minute(s) exported ({compared} with calls), {pushes} import request(s)")
        self.assertGreaterEqual(compared, 2, "two completed minutes with traffic compared")
        errors = sum(by_minute[m]["upstream_errors"][c] for m in samples if m in by_minute for c in ERROR_CLASSES)
        self.assertGreater(errors, 0, "the injected 503/400 faults should show as upstream errors")
        self.assertFalse(problems, "\n".join(problems[:30]))


# ================================================================================================ privacy

class ZzPrivacyScan(OpsCase):
    """Last: everything the run produced is scanned for the API key and the client's data."""

    def test_no_api_key_ip_or_user_agent_in_anything_produced(self):
        # A worker of its own, fed the client's headers, with an upstream error and a dead upstream logged.
        fpm = self.start_fpm(max_children=2)
        proof = fpm.ops_json("client")
        sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
        self.assertEqual(proof["HTTP_USER_AGENT"], sha(CLIENT_UA), "the user agent did not reach PHP")
        self.assertEqual(proof["HTTP_X_FORWARDED_FOR"], sha(CLIENT_FORWARDED))
        self.assertEqual(proof["REMOTE_ADDR"], sha(CLIENT_ADDR))
        self.assertEqual(proof["HTTP_REFERER"], sha(CLIENT_REFERER))
        ids = self.new_ids(60)
        fpm.ops_json("fetch", ids=",".join(ids[:30]))
        self.emu.faults([{"type": "400", "count": 1}, {"type": "drop", "count": 2}, {"type": "malformed", "count": 1}])
        fpm.ops_json("fetch", ids=",".join(ids[30:]), timeout_ms=3000)
        fpm.ops_json("fetch", ids=",".join(self.new_ids(5)), timeout_ms=3000)
        save_artifact("phpinfo-fpm.html", fpm.ops("phpinfo").body)
        save_artifact("metrics-fpm.prom", fpm.ops("metrics").body)
        save_artifact("events-fpm.json", fpm.ops("events").body)
        save_artifact("health-fpm.json", fpm.ops("health").body)
        save_artifact("stats-fpm.json", fpm.ops("stats", minutes=60).body)
        ini = self.cli_ini(db=fpm.db_path, quota_path=fpm.quota_path)
        for args in (["status"], ["status", "--json"], ["events"], ["events", "--json"], ["stats", "--minutes", "60"],
                     ["quota"]):
            run_cli(args, ini=ini)
        dead = self.cli_ini(db=self.dir / "dead.sqlite", api_base="http://127.0.0.1:9/youtube/v3",
                            upstream_timeout_ms=500)
        run_cli(["backfill", "-", "--json", "--timeout-ms", "2000"], ini=dead, stdin_text="\n".join(self.new_ids(3)))
        php_i = subprocess.run([PHP_CLI, "-n", "-d", f"extension={EXT_SO}", "-d",
                                f"vault_metadata.api_key={SECRET_API_KEY}", "-i"],
                               capture_output=True, text=True, timeout=30)
        save_artifact("php-i.txt", php_i.stdout + php_i.stderr)
        ri = subprocess.run([PHP_CLI, "-n", "-d", f"extension={EXT_SO}", "-d",
                             f"vault_metadata.api_key={SECRET_API_KEY}", "--ri", "vault_metadata"],
                            capture_output=True, text=True, timeout=30)
        save_artifact("php-ri.txt", ri.stdout + ri.stderr)
        self.assertIn("API key", ri.stdout)
        for fpm_ in self._fpms:
            fpm_.stop(bound=5)

        scanned, hits = scan(WORK)
        log(f"privacy scan: {len(scanned)} file(s), {sum(p.stat().st_size for p in scanned)} bytes")
        for must in ("php_errors.log", ".telemetry", ".out"):
            self.assertTrue(any(must in str(p) for p in scanned), f"the scan covered no {must} file")
        logs = [p for p in scanned if p.name == "php_errors.log" and p.stat().st_size]
        self.assertTrue(logs, "no log lines were produced to scan")
        self.assertFalse(hits, "found in the run's outputs:\n" + "\n".join(hits[:40]))


def scan(root):
    """Every file the run produced, except what the upstream emulator logged (it is sent the key by
    design), the pool configurations the test wrote (they hold the key as a setting), VictoriaMetrics'
    compressed storage (its export is scanned instead) and the gdb helper."""
    scanned, hits = [], []
    needles = {label: value.encode() for label, value in NEEDLES.items()}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("emulator", "vm-data")]
        for name in filenames:
            path = Path(dirpath) / name
            if name.endswith(".conf") or name in ("kill_loop_thread.py", "victoria-metrics.log") or name.endswith(".port"):
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            scanned.append(path)
            for label, needle in needles.items():
                at = data.find(needle)
                if at >= 0:
                    context = data[max(0, at - 80):at].decode("utf-8", "replace").replace(needle.decode(), "<>")
                    hits.append(f"{label} in {path.relative_to(root)} at byte {at}: ...{context!r}")
    return scanned, hits


# ================================================================================================ runner

ORDER = [Health, EventsAcrossWorkers, IndexNow, Cli, MetricsToVictoriaMetrics, ZzPrivacyScan]


def main():
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    only = os.environ.get("VAULT_OPS_ONLY")  # e.g. "IndexNow" or "Cli.test_usage_errors_exit_2"
    for cls in ORDER:
        for test in loader.loadTestsFromTestCase(cls):
            if only and not any(test.id().split(".", 1)[1].startswith(o) for o in only.split(",")):
                continue
            suite.addTest(test)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    if skipped:
        print(f"skipped: {skipped} ({'; '.join(f'{t.id()}: {why}' for t, why in result.skipped)})")
    print(f"ops: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
