"""The web stack, through real HTTP (the curl CLI): the origin endpoint, the edge helper and the
example controllers, behind nginx and php-fpm, against the emulator. Started by tests/web/run.sh,
which sets:
  VAULT_WEB_URL        nginx, e.g. http://127.0.0.1:PORT
  VAULT_EMULATOR_URL   the YouTube emulator (its control surface picks ids and injects faults)
  VAULT_WEB_DB         the cache file the php-fpm workers use
  VAULT_WEB_CATALOG    the catalog file php-examples/category.php reads
Python 3 standard library plus python3-msgpack (Debian), used only to build and read bodies.
The last line is "python: N passed, N failed".
"""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import msgpack

WEB = os.environ.get("VAULT_WEB_URL", "")
EMULATOR = os.environ.get("VAULT_EMULATOR_URL", "")
DB = os.environ.get("VAULT_WEB_DB", "")
CATALOG = os.environ.get("VAULT_WEB_CATALOG", "")
ORIGIN = "/v1/metadata/batch"
MSGPACK = "application/msgpack"
JSON = "application/json"

ITEM_KEYS = [
    "video_id", "title", "channel_id", "channel_title", "channel_handle", "published_at", "duration_seconds",
    "view_count", "like_count", "comment_count", "category_id", "live_broadcast_content", "age_restricted",
    "licensed_content", "embeddable", "made_for_kids", "privacy_status", "allowed_countries", "blocked_countries",
    "ttl", "fetched_at", "stale",
]
ANSWER_KEYS = ["fresh", "stale_refreshed", "stale", "missing", "quota_remaining"]
COUNTRIES = ["FR", "DE", "US", "JP", "BR", "IN", "ZA", "AU", "CA", "MX", "NG", "SE", "KR", "IT", "ES"]


# ------------------------------------------------------------------------------------------------ HTTP

class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # lower-case names; the last value wins
        self.body = body

    def header(self, name):
        return self.headers.get(name.lower())

    def msgpack(self):
        return msgpack.unpackb(self.body, raw=False, strict_map_key=False)

    def json(self):
        return json.loads(self.body)

    def decoded(self):
        ct = self.header("content-type") or ""
        return self.msgpack() if ct.startswith(MSGPACK) else self.json()

    def max_age(self):
        for part in (self.header("cache-control") or "").split(","):
            part = part.strip()
            if part.startswith("max-age="):
                return int(part[len("max-age="):])
        return None

    def __repr__(self):
        return f"<HTTP {self.status} {self.headers.get('content-type')} {self.body[:200]!r}>"


def curl(method, path, body=None, content_type=None, headers=None, chunked=False):
    """One request with the curl CLI. body: bytes (sent as is) or None."""
    with tempfile.TemporaryDirectory() as tmp:
        out, head = os.path.join(tmp, "body"), os.path.join(tmp, "headers")
        cmd = ["curl", "-sS", "--max-time", "60", "-o", out, "-D", head, "-w", "%{http_code}",
               "-X", method, "-H", "Expect:"]
        if content_type is not None:
            cmd += ["-H", f"Content-Type: {content_type}"]  # "" removes curl's own
        if chunked:
            cmd += ["-H", "Transfer-Encoding: chunked"]
        for name, value in (headers or {}).items():
            cmd += ["-H", f"{name}: {value}"]
        if body is not None:
            data = os.path.join(tmp, "request")
            with open(data, "wb") as f:
                f.write(body)
            cmd += ["--data-binary", "@" + data]
        cmd.append(WEB + path)
        proc = subprocess.run(cmd, capture_output=True, timeout=90)
        if proc.returncode != 0:
            raise AssertionError(f"curl failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
        status = int(proc.stdout.decode())
        with open(head, "rb") as f:
            blocks = [b for b in f.read().decode("latin-1").split("\r\n\r\n") if b.strip()]
        parsed = {}
        for line in blocks[-1].split("\r\n")[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                parsed[name.strip().lower()] = value.strip()
        with open(out, "rb") as f:
            return Response(status, parsed, f.read())


def post_origin(payload, content_type=MSGPACK):
    body = payload if isinstance(payload, bytes) else (
        msgpack.packb(payload, use_bin_type=True) if content_type == MSGPACK else json.dumps(payload).encode())
    return curl("POST", ORIGIN, body, content_type)


def emulator(path, payload=None):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(EMULATOR + path, data=data, method="GET" if data is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def ids_of(kind, count, start):
    return emulator(f"/_control/ids?kind={kind}&start={start}&count={count}")["ids"]


def fetch_batch(ids):
    """vault_metadata_fetch_batch() of the same stack (a php-fpm worker), as {id: item}."""
    r = curl("GET", "/_test/fetch_batch.php?ids=" + ",".join(ids))
    assert r.status == 200, r
    return r.json()


def canonical(value):
    """Type-strict comparison: 1 and true differ, as do 1 and "1"."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def answer_items(answer):
    return answer["fresh"] + answer["stale_refreshed"] + answer["stale"]


def cache_rows():
    """Every row of the cache tables that hold what was fetched."""
    con = sqlite3.connect(f"file:{DB}?mode=ro", uri=True, timeout=10)
    try:
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                for t in ("videos", "negative_ids", "channels")}
    finally:
        con.close()


def settle(seconds=1.0, timeout=15):
    """Waits until the cache rows stop changing (channel handles land after the videos)."""
    deadline = time.monotonic() + timeout
    last = cache_rows()
    while time.monotonic() < deadline:
        time.sleep(seconds)
        now = cache_rows()
        if now == last:
            break
        last = now
    # A php-fpm worker keeps recent rows in memory and re-reads them after at most 2 s.
    time.sleep(2.1)
    return last


def country_outside(codes):
    return next(c for c in COUNTRIES if c not in codes)


# ------------------------------------------------------------------------------------------------ tests

class Origin(unittest.TestCase):
    def assert_same_as_fetch_batch(self, ids, answer):
        expected = fetch_batch(ids)  # after the origin call: its ttl may be a second lower
        self.assertEqual(list(answer.keys()), ANSWER_KEYS)
        got = {item["video_id"]: item for item in answer_items(answer)}
        self.assertEqual(list(got.keys()), [i for i in ids if i in got], "items keep the request order")
        self.assertEqual(sorted(got), sorted(expected))
        self.assertEqual(answer["missing"], [i for i in ids if i not in expected])
        for vid, item in got.items():
            self.assertEqual(list(item.keys()), ITEM_KEYS)
            want = dict(expected[vid])
            self.assertIn(item["ttl"] - want["ttl"], (0, 1), vid)
            want["ttl"] = item["ttl"]
            self.assertEqual(canonical(item), canonical(want), vid)
        self.assertIsInstance(answer["quota_remaining"], int)

    def test_msgpack_round_trip_equals_fetch_batch_for_1_and_50_ids(self):
        ids50 = ids_of("any", 48, 2000) + ids_of("deleted", 2, 100)
        for ids in (ids50[:1], ids50):
            with self.subTest(n=len(ids)):
                cold = post_origin({"video_ids": ids})
                self.assertEqual(cold.status, 200, cold)
                self.assertEqual(cold.header("content-type"), MSGPACK)
                self.assertRegex(cold.header("x-vault-correlation-id") or "", r"^[0-9a-f]{24}$")
                first = cold.msgpack()
                self.assertEqual(len(answer_items(first)) + len(first["missing"]), len(ids))
                settle()
                warm = post_origin({"video_ids": ids})
                self.assertEqual(warm.status, 200, warm)
                answer = warm.msgpack()
                self.assertEqual(len(answer["fresh"]), len(answer_items(answer)), "a warm call is all fresh")
                self.assertNotEqual(warm.header("x-vault-correlation-id"), cold.header("x-vault-correlation-id"))
                self.assert_same_as_fetch_batch(ids, answer)
        self.assertEqual(len(answer["missing"]), 2)

    def test_json_for_humans_has_the_same_shape(self):
        ids = ids_of("any", 5, 2500)
        post_origin({"video_ids": ids})
        settle()
        r = post_origin({"video_ids": ids + ids[:1]}, JSON)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-type"), "application/json; charset=utf-8")
        self.assertRegex(r.header("x-vault-correlation-id") or "", r"^[0-9a-f]{24}$")
        self.assert_same_as_fetch_batch(ids, r.json())

    def test_an_empty_list_is_an_empty_answer(self):
        r = post_origin({"video_ids": []})
        self.assertEqual(r.status, 200, r)
        answer = r.msgpack()
        self.assertEqual([answer[k] for k in ANSWER_KEYS[:4]], [[], [], [], []])

    def test_malformed_requests_get_the_documented_4xx_and_touch_nothing(self):
        good = ids_of("any", 3, 3000)
        post_origin({"video_ids": good})
        before = settle()
        calls_before = emulator("/_control/counters?ids=0")["calls"]["videos"]
        pack = lambda v: msgpack.packb(v, use_bin_type=True)  # noqa: E731
        good_body = pack({"video_ids": good})
        distinct_1001 = ids_of("any", 1001, 5000)
        ten_mb = pack({"video_ids": ["A" * (10 * 1024 * 1024)]})
        cases = [
            # name, method, body, content type, status, code (None: no error object expected), extra
            ("empty body", "POST", b"", MSGPACK, 400, "empty_body", {}),
            ("empty json body", "POST", b"", JSON, 400, "empty_body", {}),
            ("truncated msgpack", "POST", good_body[:-5], MSGPACK, 400, "malformed_msgpack", {}),
            ("truncated map header", "POST", good_body[:1], MSGPACK, 400, "malformed_msgpack", {}),
            ("trailing bytes", "POST", good_body + b"\xc0", MSGPACK, 400, "malformed_msgpack", {}),
            ("never-used byte 0xc1", "POST", b"\xc1", MSGPACK, 400, "malformed_msgpack", {}),
            ("array claims 4G elements", "POST", b"\x81\xa9video_ids\xdd\xff\xff\xff\xff", MSGPACK, 400,
             "malformed_msgpack", {}),
            ("nested 100 deep", "POST", b"\x91" * 100 + b"\x01", MSGPACK, 400, "malformed_msgpack", {}),
            ("JSON with a msgpack content type", "POST", json.dumps({"video_ids": good}).encode(), MSGPACK, 400,
             "malformed_msgpack", {}),
            ("msgpack with a JSON content type", "POST", good_body, JSON, 400, "malformed_json", {}),
            ("truncated JSON", "POST", b'{"video_ids": ["', JSON, 400, "malformed_json", {}),
            ("top level is a list", "POST", pack(good), MSGPACK, 400, "not_a_map", {}),
            ("top level is a string", "POST", pack("video_ids"), MSGPACK, 400, "not_a_map", {}),
            ("a map with the wrong key", "POST", pack({"ids": good}), MSGPACK, 400, "unknown_key", {}),
            ("an extra key", "POST", pack({"video_ids": good, "country": "FR"}), MSGPACK, 400, "unknown_key", {}),
            ("JSON with the wrong key", "POST", b'{"videos": []}', JSON, 400, "unknown_key", {}),
            ("duplicate key", "POST", b"\x82\xa9video_ids\x90\xa9video_ids\x90", MSGPACK, 400, "duplicate_key", {}),
            ("empty map", "POST", pack({}), MSGPACK, 400, "missing_video_ids", {}),
            ("video_ids is a string", "POST", pack({"video_ids": good[0]}), MSGPACK, 400, "video_ids_not_a_list", {}),
            ("ids of the wrong type (int)", "POST", pack({"video_ids": [12345678901]}), MSGPACK, 400,
             "id_not_a_string", {}),
            ("ids of the wrong type (bin)", "POST", pack({"video_ids": [good[0].encode()]}), MSGPACK, 400,
             "id_not_a_string", {}),
            ("ids of the wrong type (nil)", "POST", pack({"video_ids": [None]}), MSGPACK, 400, "id_not_a_string", {}),
            ("JSON number id", "POST", b'{"video_ids": [123]}', JSON, 400, "id_not_a_string", {}),
            ("an id too short", "POST", pack({"video_ids": [good[0][:10]]}), MSGPACK, 400, "invalid_id", {}),
            ("an id with a bad character", "POST", pack({"video_ids": ["abc/def.ghi"]}), MSGPACK, 400,
             "invalid_id", {}),
            ("1,001 ids", "POST", pack({"video_ids": distinct_1001}), MSGPACK, 400, "too_many_ids", {}),
            ("1,001 ids in JSON", "POST", json.dumps({"video_ids": distinct_1001}).encode(), JSON, 400,
             "too_many_ids", {}),
            ("100 KB body", "POST", pack({"video_ids": ["A" * 100000]}), MSGPACK, 400, "body_too_large", {}),
            ("10 MB body", "POST", ten_mb, MSGPACK, 400, "body_too_large", {}),
            ("10 MB body, chunked", "POST", ten_mb, MSGPACK, 400, "body_too_large", {"chunked": True}),
            ("text/plain", "POST", good_body, "text/plain", 415, "unsupported_media_type", {}),
            ("no content type", "POST", good_body, "", 415, "unsupported_media_type", {}),
            ("form content type", "POST", b"video_ids=abc", "application/x-www-form-urlencoded", 415,
             "unsupported_media_type", {}),
            ("GET", "GET", None, None, 405, "method_not_allowed", {}),
            ("PUT", "PUT", good_body, MSGPACK, 405, "method_not_allowed", {}),
            ("DELETE", "DELETE", None, None, 405, "method_not_allowed", {}),
        ]
        self.assertGreaterEqual(len(cases), 15)
        for name, method, body, ctype, status, code, extra in cases:
            with self.subTest(name):
                r = curl(method, ORIGIN, body, ctype, chunked=extra.get("chunked", False))
                self.assertLess(r.status, 500, r)
                self.assertEqual(r.status, status, r)
                error = r.decoded()["error"]
                self.assertEqual(error["code"], code, r)
                self.assertEqual(error["status"], status)
                if status == 400:
                    # The error object comes in the request's encoding.
                    want = MSGPACK if ctype == MSGPACK else "application/json; charset=utf-8"
                    self.assertEqual(r.header("content-type"), want)
                    self.assertRegex(r.header("x-vault-correlation-id") or "", r"^[0-9a-f]{24}$")
                if status == 405:
                    self.assertEqual(r.header("allow"), "POST")
        r = curl("POST", "/v1/other", good_body, MSGPACK)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(emulator("/_control/counters?ids=0")["calls"]["videos"], calls_before,
                         "no malformed request reached YouTube")
        self.assertEqual(cache_rows(), before, "the cached rows are identical before and after the table")


class EdgeHelper(unittest.TestCase):
    """php-examples/lib/edge.php: 451 for a country that may not see the video, else max-age = ttl."""

    def edge(self, video_id, country):
        return curl("GET", f"/_test/edge_item.php?v={video_id}", headers={"CF-IPCountry": country})

    def test_blocked_country_gets_451_and_others_200_with_max_age_equal_to_ttl(self):
        vid = ids_of("region_blocked", 1, 50)[0]
        item = fetch_batch([vid])[vid]
        self.assertTrue(item["blocked_countries"])
        no = self.edge(vid, item["blocked_countries"][0].lower())
        self.assertEqual(no.status, 451, no)
        self.assertEqual(no.header("cache-control"), "public, max-age=60")
        yes = self.edge(vid, country_outside(item["blocked_countries"]))
        self.assertEqual(yes.status, 200, yes)
        self.assertEqual(yes.max_age(), yes.json()["item"]["ttl"])
        self.assertEqual(yes.header("cache-control"),
                         f"public, max-age={yes.json()['item']['ttl']}, stale-while-revalidate=600")

    def test_country_outside_an_allow_list_gets_451(self):
        vid = ids_of("region_allowed", 1, 50)[0]
        item = fetch_batch([vid])[vid]
        allowed = item["allowed_countries"]
        self.assertTrue(allowed)
        self.assertEqual(self.edge(vid, country_outside(allowed)).status, 451)
        self.assertEqual(self.edge(vid, "T1").status, 451)  # Tor: no country, outside every allow-list
        yes = self.edge(vid, allowed[0])
        self.assertEqual(yes.status, 200)
        self.assertEqual(yes.max_age(), yes.json()["item"]["ttl"])
        empty = ids_of("region_empty_allowed", 1, 50)[0]
        self.assertEqual(self.edge(empty, "US").status, 451)

    def test_unrestricted_video_is_200_everywhere(self):
        vid = ids_of("normal", 1, 900)[0]
        for country in ("FR", "us", "XX", ""):
            r = self.edge(vid, country)
            self.assertEqual(r.status, 200, (country, r))
            self.assertEqual(r.max_age(), r.json()["item"]["ttl"])
            self.assertGreater(r.max_age(), 0)


class Controllers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.category_ids = ids_of("any", 48, 10000) + ids_of("deleted", 2, 300)
        cls.cold_ids = ids_of("any", 50, 20000)
        catalog = {
            "test": {"title": "Test <category>", "video_ids": cls.category_ids},
            "cold": {"title": "Cold", "video_ids": cls.cold_ids},
        }
        with open(CATALOG, "w") as f:
            json.dump(catalog, f)

    def tearDown(self):
        emulator("/_control/faults", {"faults": []})

    def watch(self, video_id, country="FR"):
        return curl("GET", f"/watch?v={video_id}", headers={"CF-IPCountry": country})

    def test_category_page_50_ids_in_one_upstream_call(self):
        calls = emulator("/_control/counters?ids=0")["calls"]["videos"]
        r = curl("GET", "/category?c=test", headers={"CF-IPCountry": "FR"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(emulator("/_control/counters?ids=0")["calls"]["videos"] - calls, 1)
        items = fetch_batch(self.category_ids)
        visible = [i for i in self.category_ids if i in items and "FR" not in items[i]["blocked_countries"]
                   and (items[i]["allowed_countries"] is None or "FR" in items[i]["allowed_countries"])]
        html = r.body.decode()
        self.assertIn(f'data-count="{len(visible)}"', html)
        self.assertIn("Test &lt;category&gt;", html)
        positions = [html.index(f'data-video-id="{i}"') for i in visible]
        self.assertEqual(positions, sorted(positions), "the catalog's order")
        self.assertLessEqual(r.max_age(), 60, "two ids are missing: the page is cached briefly")
        self.assertIn("stale-while-revalidate=600", r.header("cache-control"))

    def test_watch_page_200_with_max_age_of_the_item(self):
        vid = ids_of("normal", 1, 1200)[0]
        r = self.watch(vid)
        self.assertEqual(r.status, 200, r)
        self.assertIn(f'data-video-id="{vid}"', r.body.decode())
        ttl = fetch_batch([vid])[vid]["ttl"]
        self.assertIn(r.max_age() - ttl, (0, 1))
        self.assertIn("stale-while-revalidate=600", r.header("cache-control"))

    def test_watch_page_451_blocked_and_outside_allow_list(self):
        blocked = ids_of("region_blocked", 1, 80)[0]
        allowed = ids_of("region_allowed", 1, 80)[0]
        items = fetch_batch([blocked, allowed])
        r = self.watch(blocked, items[blocked]["blocked_countries"][0])
        self.assertEqual(r.status, 451, r)
        self.assertEqual(r.max_age(), 60)
        self.assertEqual(self.watch(blocked, country_outside(items[blocked]["blocked_countries"])).status, 200)
        self.assertEqual(self.watch(allowed, country_outside(items[allowed]["allowed_countries"])).status, 451)
        self.assertEqual(self.watch(allowed, items[allowed]["allowed_countries"][0]).status, 200)

    def test_watch_page_missing_video_and_bad_id(self):
        for vid in (ids_of("deleted", 1, 500)[0], "not-an-id", "dQw4w9WgXcQ%00"):
            r = self.watch(vid)
            self.assertEqual(r.status, 404, (vid, r))
            self.assertEqual(r.max_age(), 30)

    def test_upstream_down(self):
        cached = ids_of("normal", 1, 1500)[0]
        self.assertEqual(self.watch(cached).status, 200)
        cold = ids_of("normal", 1, 1600)[0]
        emulator("/_control/faults", {"faults": [{"type": "503", "count": 1000}]})
        # A cached video still renders; one never seen is "unavailable" for a short while, not an error.
        self.assertEqual(self.watch(cached).status, 200)
        r = self.watch(cold)
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.max_age(), 30)
        # A category whose videos were never fetched: 503, not cached, with Retry-After.
        r = curl("GET", "/category?c=cold", headers={"CF-IPCountry": "FR"})
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.header("cache-control"), "no-store")
        self.assertEqual(r.header("retry-after"), "30")
        # The origin answers 200 with the ids in `missing`: the Worker's 404, never a 5xx.
        o = post_origin({"video_ids": [cold]})
        self.assertEqual(o.status, 200, o)
        self.assertEqual(o.msgpack()["missing"], [cold])
        emulator("/_control/faults", {"faults": []})
        self.assertEqual(self.watch(cold).status, 200)


def main():
    if not (WEB and EMULATOR and DB and CATALOG):
        print("set VAULT_WEB_URL, VAULT_EMULATOR_URL, VAULT_WEB_DB, VAULT_WEB_CATALOG (tests/web/run.sh does)")
        print("python: 0 passed, 1 failed")
        return 1
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print(f"python: {result.testsRun - failed - len(result.skipped)} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
