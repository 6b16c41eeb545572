"""Tests of the YouTube Data API emulator, over real HTTP against real emulator processes.

Run from the repository root: python3 -m unittest discover -s emulator -v
"""

import calendar
import datetime
import gzip
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import youtube_emulator as ye  # noqa: E402  (only for pure helpers; the server runs as a process)

ALL_PARTS = "snippet,contentDetails,statistics,status"
ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")


def utc(*fields):
    return calendar.timegm(fields + (0,) * (6 - len(fields)))


class Emulator:
    """One emulator process started through its command line, as CI and the PHP tests will."""

    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory()
        self.port_file = os.path.join(self.dir.name, "port")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "youtube_emulator.py"), "--host", "127.0.0.1", "--port", "0",
             "--port-file", self.port_file, *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 15
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("emulator did not start: " + self.proc.stderr.read())
            time.sleep(0.02)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.banner = self.proc.stdout.readline().strip()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=5)
        finally:
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.dir.cleanup()

    # -- HTTP helpers: a fresh connection per call unless one is given ---------------------------

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        if own:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        data = None if body is None else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if data is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        if own:
            conn.close()
        return resp.status, resp, raw

    def api(self, endpoint, conn=None, headers=None, **params):
        params.setdefault("key", "test-key")
        params = {k: v for k, v in params.items() if v is not None}
        status, resp, raw = self.request("GET", f"/youtube/v3/{endpoint}?{urlencode(params)}", headers=headers,
                                         conn=conn)
        return status, resp, raw

    def api_json(self, endpoint, **params):
        status, resp, raw = self.api(endpoint, **params)
        return status, json.loads(raw)

    def videos(self, ids, part=ALL_PARTS, **params):
        return self.api_json("videos", part=part, id=",".join(ids), **params)

    def control(self, method, path, body=None, conn=None):
        status, _, raw = self.request(method, "/_control/" + path, body=body, conn=conn)
        return status, json.loads(raw)

    def ok(self, method, path, body=None):
        status, out = self.control(method, path, body)
        assert status == 200, (status, out)
        return out

    def ids(self, kind, count=10, start=0):
        return self.ok("GET", f"ids?kind={kind}&count={count}&start={start}")["ids"]

    def item(self, video_id):
        return self.ok("GET", f"video?id={video_id}")

    def counters(self):
        return self.ok("GET", "counters")


EMU = None


def setUpModule():
    global EMU
    EMU = Emulator()


def tearDownModule():
    code = EMU.stop()
    assert code == 0, code


class EmulatorTest(unittest.TestCase):
    def setUp(self):
        self.emu = EMU
        self.emu.ok("POST", "reset")

    def assertEnvelope(self, status, body, code, reason, domain=None):
        self.assertEqual(status, code, body)
        err = body["error"]
        self.assertEqual(err["code"], code)
        self.assertIsInstance(err["message"], str)
        self.assertEqual(err["errors"][0]["reason"], reason)
        self.assertEqual(err["errors"][0]["message"], err["message"])
        if domain:
            self.assertEqual(err["errors"][0]["domain"], domain)


class TestStartup(EmulatorTest):
    def test_banner_port_file_and_health(self):
        self.assertEqual(self.emu.banner, f"youtube-emulator listening on http://127.0.0.1:{self.emu.port}")
        self.assertEqual(self.emu.ok("GET", "health"), {"ok": True})

    def test_sigterm_exits_zero_quickly(self):
        other = Emulator("--corpus-size", "1000")
        t0 = time.time()
        self.assertEqual(other.stop(), 0)
        self.assertLess(time.time() - t0, 3)


class TestVideos(EmulatorTest):
    def test_response_shape_and_part_filtering(self):
        ids = self.emu.ids("any", 5)
        status, body = self.emu.videos(ids, part="statistics")
        self.assertEqual(status, 200)
        self.assertEqual(body["kind"], "youtube#videoListResponse")
        self.assertIsInstance(body["etag"], str)
        self.assertEqual(body["pageInfo"], {"totalResults": 5, "resultsPerPage": 5})
        for item in body["items"]:
            self.assertEqual(set(item), {"kind", "etag", "id", "statistics"})
            self.assertEqual(item["kind"], "youtube#video")
        _, body = self.emu.videos(ids, part="id")
        self.assertEqual({tuple(sorted(i)) for i in body["items"]}, {("etag", "id", "kind")})
        _, body = self.emu.videos(ids, part="status,snippet")
        self.assertEqual(list(body["items"][0]), ["kind", "etag", "id", "snippet", "status"])
        _, body = self.emu.videos(ids)
        for item in body["items"]:
            self.assertEqual(item, self.emu.item(item["id"]))  # the control view is the full API item

    def test_omitted_ids_and_all_missing(self):
        good = self.emu.ids("any", 3)
        deleted = self.emu.ids("deleted", 3)
        unknown = self.emu.ids("unknown", 3)
        status, body = self.emu.videos(good + deleted + unknown + ["not-an-id"])
        self.assertEqual(status, 200)
        self.assertEqual(sorted(i["id"] for i in body["items"]), sorted(good))
        status, body = self.emu.videos(deleted + unknown)
        self.assertEqual(status, 200)
        self.assertEqual(body["items"], [])
        self.assertEqual(body["pageInfo"]["totalResults"], 0)
        for vid in deleted + unknown:
            self.assertTrue(ID_RE.match(vid))
            self.assertEqual(self.emu.control("GET", f"video?id={vid}")[0], 404)

    def test_order_is_not_request_order_but_deterministic(self):
        ids = self.emu.ids("any", 50, start=100)
        _, first = self.emu.videos(ids, part="id")
        _, second = self.emu.videos(ids, part="id")
        got = [i["id"] for i in first["items"]]
        self.assertEqual(sorted(got), sorted(ids))
        self.assertNotEqual(got, ids)
        self.assertEqual(got, [i["id"] for i in second["items"]])
        _, two = self.emu.videos(ids[:2], part="id")
        self.assertEqual([i["id"] for i in two["items"]], [ids[1], ids[0]])  # never request order

    def test_duplicates_answered_once_and_counted_once(self):
        vid = self.emu.ids("any", 1)[0]
        _, body = self.emu.videos([vid, vid, vid])
        self.assertEqual(len(body["items"]), 1)
        self.emu.videos([vid])
        self.assertEqual(self.emu.counters()["id_fetches"][vid], 2)

    def test_counts_are_strings_and_may_be_absent(self):
        normal = self.emu.videos(self.emu.ids("normal", 20))[1]["items"]
        for item in normal:
            stats = item["statistics"]
            for key in ("viewCount", "likeCount", "commentCount", "favoriteCount"):
                self.assertIsInstance(stats[key], str)
                self.assertTrue(stats[key].isdigit())
            self.assertNotIn("dislikeCount", stats)
        for item in self.emu.videos(self.emu.ids("hidden_likes", 20))[1]["items"]:
            self.assertNotIn("likeCount", item["statistics"])
            self.assertIn("viewCount", item["statistics"])
        for kind in ("no_comments", "made_for_kids"):
            for item in self.emu.videos(self.emu.ids(kind, 20))[1]["items"]:
                self.assertNotIn("commentCount", item["statistics"])
        for item in self.emu.videos(self.emu.ids("huge_counts", 10))[1]["items"]:
            self.assertGreater(int(item["statistics"]["viewCount"]), 2 ** 32)

    def test_durations(self):
        shapes = set()
        pattern = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")
        for item in self.emu.videos(self.emu.ids("normal", 50))[1]["items"] + \
                self.emu.videos(self.emu.ids("normal", 50, start=50))[1]["items"]:
            duration = item["contentDetails"]["duration"]
            self.assertRegex(duration, pattern)
            self.assertNotEqual(duration, "P0D")
            self.assertEqual(item["snippet"]["liveBroadcastContent"], "none")
            shapes.add(re.sub(r"\d+", "n", duration))
        self.assertTrue({"PTnMnS", "PTnS", "PTnHnMnS"} <= shapes, shapes)
        for item in self.emu.videos(self.emu.ids("day_long", 10))[1]["items"]:
            self.assertRegex(item["contentDetails"]["duration"], r"^P\d+DT")
        for kind, live in (("live", "live"), ("upcoming", "upcoming")):
            for item in self.emu.videos(self.emu.ids(kind, 10))[1]["items"]:
                self.assertEqual(item["contentDetails"]["duration"], "P0D")
                self.assertEqual(item["snippet"]["liveBroadcastContent"], live)
        for item in self.emu.videos(self.emu.ids("premiere", 10))[1]["items"]:
            self.assertNotIn("duration", item["contentDetails"])
            self.assertEqual(item["snippet"]["liveBroadcastContent"], "live")
        # Every shape the design names occurs somewhere in the corpus.
        self.assertEqual(ye.iso_duration(253), "PT4M13S")
        self.assertEqual(ye.iso_duration(3720), "PT1H2M")
        self.assertEqual(ye.iso_duration(45), "PT45S")
        self.assertEqual(ye.iso_duration(93784), "P1DT2H3M4S")

    def test_published_at(self):
        for item in self.emu.videos(self.emu.ids("fractional_published", 20))[1]["items"]:
            self.assertRegex(item["snippet"]["publishedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}Z$")
        for item in self.emu.videos(self.emu.ids("normal", 20))[1]["items"]:
            self.assertRegex(item["snippet"]["publishedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_region_restriction_shapes(self):
        for item in self.emu.videos(self.emu.ids("region_allowed", 20))[1]["items"]:
            rr = item["contentDetails"]["regionRestriction"]
            self.assertEqual(list(rr), ["allowed"])
            self.assertTrue(rr["allowed"])
            self.assertTrue(all(re.match(r"^[A-Z]{2}$", c) for c in rr["allowed"]))
        for item in self.emu.videos(self.emu.ids("region_blocked", 20))[1]["items"]:
            rr = item["contentDetails"]["regionRestriction"]
            self.assertEqual(list(rr), ["blocked"])
            self.assertTrue(rr["blocked"])
        for item in self.emu.videos(self.emu.ids("region_empty_allowed", 10))[1]["items"]:
            self.assertEqual(item["contentDetails"]["regionRestriction"], {"allowed": []})
        for item in self.emu.videos(self.emu.ids("normal", 20))[1]["items"]:
            self.assertNotIn("regionRestriction", item["contentDetails"])

    def test_flags(self):
        def items(kind):
            return self.emu.videos(self.emu.ids(kind, 10))[1]["items"]
        for item in items("age_restricted"):
            self.assertEqual(item["contentDetails"]["contentRating"], {"ytRating": "ytAgeRestricted"})
        for item in items("unlisted"):
            self.assertEqual(item["status"]["privacyStatus"], "unlisted")
        for item in items("made_for_kids"):
            self.assertIs(item["status"]["madeForKids"], True)
        for item in items("not_embeddable"):
            self.assertIs(item["status"]["embeddable"], False)
        licensed = set()
        for item in items("normal") + self.emu.videos(self.emu.ids("normal", 40, 10))[1]["items"]:
            self.assertEqual(item["contentDetails"]["contentRating"], {})
            self.assertEqual(item["status"]["privacyStatus"], "public")
            self.assertIs(item["status"]["embeddable"], True)
            self.assertIs(item["status"]["madeForKids"], False)
            self.assertIn(item["contentDetails"]["caption"], ("true", "false"))
            licensed.add(item["contentDetails"]["licensedContent"])
        self.assertEqual(licensed, {True, False})

    def test_ids_and_titles_vary(self):
        ids = self.emu.ids("any", 2000)
        self.assertEqual(len(set(ids)), 2000)
        for vid in ids:
            self.assertTrue(ID_RE.match(vid))
            self.assertFalse(vid.isdigit())
        self.assertGreater(len({v[0] for v in ids}), 40)
        titles = []
        for k in range(0, 2000, 50):
            titles += [i["snippet"]["title"] for i in self.emu.videos(ids[k:k + 50], part="snippet")[1]["items"]]
        self.assertTrue(all(0 < len(t) <= 100 for t in titles))
        joined = "".join(titles)
        for needle in ('"', "\\", "é", "東", "🔥", "&", "'"):
            self.assertIn(needle, joined)
        self.assertTrue(any(t.isascii() for t in titles))

    def test_too_many_ids(self):
        status, body = self.emu.videos(self.emu.ids("any", 51))
        self.assertEnvelope(status, body, 400, "invalidFilters", "youtube.parameter")
        status, body = self.emu.videos(self.emu.ids("any", 50))
        self.assertEqual(status, 200)
        self.assertEqual(len(body["items"]), 50)

    def test_part_errors(self):
        ids = self.emu.ids("any", 2)
        status, body = self.emu.api_json("videos", id=",".join(ids))
        self.assertEnvelope(status, body, 400, "required")
        status, body = self.emu.videos(ids, part="snippet,player")
        self.assertEnvelope(status, body, 400, "unknownPart", "youtube.part")
        status, body = self.emu.api_json("videos", part="snippet")
        self.assertEnvelope(status, body, 400, "missingRequiredParameter")
        self.assertEqual(self.emu.counters()["units"], 3)  # 400s are billed

    def test_keys(self):
        ids = self.emu.ids("any", 2)
        status, body = self.emu.videos(ids, key="invalid")
        self.assertEnvelope(status, body, 400, "keyInvalid")
        self.assertEqual(body["error"]["message"], "API key not valid. Please pass a valid API key.")
        status, body = self.emu.videos(ids, key=None)
        self.assertEnvelope(status, body, 403, "forbidden")
        self.assertEqual(body["error"]["message"], "The request is missing a valid API key.")
        self.emu.ok("POST", "config", {"invalid_keys": ["revoked-1"]})
        self.assertEqual(self.emu.videos(ids, key="revoked-1")[0], 400)
        self.assertEqual(self.emu.videos(ids, key="invalid")[0], 200)
        counters = self.emu.counters()
        self.assertEqual(counters["calls"]["videos"], 4)
        self.assertEqual(counters["units"], 1)  # a call without a valid key bills no project

    def test_error_content_type(self):
        status, resp, _ = self.emu.api("videos", part="snippet", id="x", key=None)
        self.assertEqual(resp.getheader("Content-Type"), "application/json; charset=UTF-8")

    def test_gzip_and_etag_revalidation(self):
        ids = self.emu.ids("any", 10)
        status, resp, raw = self.emu.api("videos", part=ALL_PARTS, id=",".join(ids),
                                         headers={"Accept-Encoding": "gzip"})
        self.assertEqual(resp.getheader("Content-Encoding"), "gzip")
        body = json.loads(gzip.decompress(raw))
        self.assertEqual(len(body["items"]), 10)
        status, resp, raw = self.emu.api("videos", part=ALL_PARTS, id=",".join(ids),
                                         headers={"If-None-Match": resp.getheader("ETag")})
        self.assertEqual((status, raw), (304, b""))
        self.assertEqual(self.emu.counters()["units"], 2)  # a 304 costs a unit too

    def test_pretty_and_compact(self):
        ids = self.emu.ids("any", 7)
        _, _, raw = self.emu.api("videos", part=ALL_PARTS, id=",".join(ids))
        self.assertEqual(raw.decode(), json.dumps(json.loads(raw), indent=2, ensure_ascii=False))
        _, _, raw = self.emu.api("videos", part=ALL_PARTS, id=",".join(ids), prettyPrint="false")
        self.assertNotIn(b"\n", raw)
        self.assertEqual(len(json.loads(raw)["items"]), 7)

    def test_overrides(self):
        vid = self.emu.ids("normal", 1)[0]
        original = self.emu.item(vid)
        self.emu.ok("POST", "video", {"id": vid, "patch": {"snippet": {"title": "x"},
                                                           "statistics": {"viewCount": "5", "likeCount": None}}})
        item = self.emu.videos([vid])[1]["items"][0]
        self.assertEqual(item["snippet"]["title"], "x")
        self.assertEqual(item["snippet"]["channelId"], original["snippet"]["channelId"])
        self.assertEqual(item["statistics"]["viewCount"], "5")
        self.assertNotIn("likeCount", item["statistics"])
        self.assertNotEqual(item["etag"], original["etag"])
        self.emu.ok("POST", "video", {"id": vid, "delete": True})
        self.assertEqual(self.emu.videos([vid])[1]["items"], [])
        self.emu.ok("POST", "video", {"id": vid, "restore": True})
        self.assertEqual(self.emu.videos([vid])[1]["items"][0], original)
        # A clone under an all-digit id, for the client's integer-key rule.
        self.emu.ok("POST", "video", {"id": "12345678901", "clone": vid})
        self.assertEqual(self.emu.videos(["12345678901"])[1]["items"][0]["id"], "12345678901")
        self.emu.ok("POST", "video", {"id": vid, "patch": {"snippet": {"title": "y"}}})
        self.emu.ok("POST", "reset")
        self.assertEqual(self.emu.item(vid), original)
        self.assertEqual(self.emu.videos(["12345678901"])[1]["items"], [])


class TestChannels(EmulatorTest):
    def test_channels(self):
        videos = self.emu.videos(self.emu.ids("any", 20))[1]["items"]
        channel_ids = sorted({v["snippet"]["channelId"] for v in videos})
        status, body = self.emu.api_json("channels", part="snippet", id=",".join(channel_ids))
        self.assertEqual(status, 200)
        self.assertEqual(body["kind"], "youtube#channelListResponse")
        self.assertEqual(sorted(c["id"] for c in body["items"]), channel_ids)
        titles = {c["id"]: c["snippet"]["title"] for c in body["items"]}
        for v in videos:
            self.assertEqual(v["snippet"]["channelTitle"], titles[v["snippet"]["channelId"]])
        for c in body["items"]:
            self.assertRegex(c["id"], r"^UC[A-Za-z0-9_-]{22}$")
            self.assertEqual(set(c), {"kind", "etag", "id", "snippet"})
            url = c["snippet"].get("customUrl")
            if url is not None:
                self.assertRegex(url, r"^@[a-z0-9._-]{3,40}$")
        self.assertEqual(self.emu.counters()["channel_fetches"][channel_ids[0]], 1)

    def test_channel_without_handle_and_errors(self):
        vid = self.emu.ids("channel_without_handle", 1)[0]
        cid = self.emu.item(vid)["snippet"]["channelId"]
        item = self.emu.api_json("channels", part="snippet", id=cid)[1]["items"][0]
        self.assertNotIn("customUrl", item["snippet"])
        many = self.emu.ids("channels", 51)
        status, body = self.emu.api_json("channels", part="snippet", id=",".join(many))
        self.assertEnvelope(status, body, 400, "invalidFilters")
        status, body = self.emu.api_json("channels", part="snippet", id="UC" + "A" * 22)
        self.assertEqual((status, body["items"]), (200, []))


class TestFaults(EmulatorTest):
    ERRORS = {"500": (500, "backendError"), "502": (502, "badGateway"), "503": (503, "backendError"),
              "429": (429, "rateLimitExceeded"), "403_rate": (403, "rateLimitExceeded"),
              "403_forbidden": (403, "forbidden"), "400": (400, "badRequest")}

    def test_error_faults(self):
        ids = self.emu.ids("any", 3)
        for ftype, (code, reason) in self.ERRORS.items():
            self.emu.ok("POST", "faults", {"faults": [{"type": ftype}]})
            status, body = self.emu.videos(ids)
            self.assertEnvelope(status, body, code, reason)
            self.assertEqual(self.emu.videos(ids)[0], 200, ftype)  # one call only
        self.assertEqual(self.emu.videos(ids)[0], 200)
        counters = self.emu.counters()
        self.assertEqual(counters["faults_applied"], len(self.ERRORS))
        self.assertEqual(counters["units"], 2 * len(self.ERRORS) + 1)  # failed calls are billed
        self.assertEqual([r["status"] for r in counters["requests"][:2]], [500, 200])

    def test_rate_limit_domains_and_retry_after(self):
        self.emu.ok("POST", "faults", {"faults": [{"type": "429", "retry_after": 7},
                                                  {"type": "403_rate", "retry_after": 2}]})
        status, resp, raw = self.emu.api("videos", part="id", id="x")
        self.assertEqual((status, resp.getheader("Retry-After")), (429, "7"))
        self.assertEqual(json.loads(raw)["error"]["errors"][0]["domain"], "usageLimits")
        status, resp, raw = self.emu.api("videos", part="id", id="x")
        self.assertEqual((status, resp.getheader("Retry-After")), (403, "2"))
        status, resp, raw = self.emu.api("videos", part="id", id="x")
        self.assertEqual((status, resp.getheader("Retry-After")), (200, None))

    def test_count_endpoint_append_and_listing(self):
        self.emu.ok("POST", "faults", {"faults": [{"type": "503", "count": 2, "endpoint": "channels"}]})
        self.emu.ok("POST", "faults", {"faults": [{"type": "500"}], "append": True})
        queued = self.emu.ok("GET", "faults")["faults"]
        self.assertEqual([(f["type"], f["remaining"]) for f in queued], [("503", 2), ("500", 1)])
        self.assertEqual(self.emu.api_json("videos", part="id", id="x")[0], 500)  # skips the channels fault
        self.assertEqual(self.emu.api_json("channels", part="id", id="x")[0], 503)
        self.assertEqual(self.emu.api_json("videos", part="id", id="x")[0], 200)
        self.assertEqual(self.emu.api_json("channels", part="id", id="x")[0], 503)
        self.assertEqual(self.emu.api_json("channels", part="id", id="x")[0], 200)
        self.assertEqual(self.emu.ok("GET", "faults")["faults"], [])
        self.emu.ok("POST", "faults", {"faults": [{"type": "500"}]})
        self.emu.ok("POST", "faults", {"faults": [{"type": "502"}]})  # replaces, not appends
        self.assertEqual([f["type"] for f in self.emu.ok("GET", "faults")["faults"]], ["502"])
        self.assertEqual(self.emu.control("POST", "faults", {"faults": [{"type": "418"}]})[0], 400)

    def test_body_faults(self):
        ids = self.emu.ids("any", 4)
        self.emu.ok("POST", "faults", {"faults": [{"type": "malformed"}, {"type": "malformed_shape"},
                                                  {"type": "empty"}, {"type": "502", "html": True}]})
        status, _, raw = self.emu.api("videos", part=ALL_PARTS, id=",".join(ids))
        self.assertEqual(status, 200)
        with self.assertRaises(ValueError):
            json.loads(raw)
        status, body = self.emu.videos(ids)
        self.assertEqual(status, 200)
        self.assertIsInstance(body["items"], str)
        status, body = self.emu.videos(ids)
        self.assertEqual((status, body["items"]), (200, []))
        status, resp, raw = self.emu.api("videos", part="id", id="x")
        self.assertEqual(status, 502)
        self.assertTrue(resp.getheader("Content-Type").startswith("text/html"))
        self.assertEqual(self.emu.counters()["units"], 4)

    def test_drop_and_slow(self):
        ids = self.emu.ids("any", 2)
        self.emu.ok("POST", "faults", {"faults": [{"type": "drop"}, {"type": "slow", "delay_ms": 300}]})
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        with self.assertRaises((http.client.HTTPException, ConnectionError)):
            self.emu.api("videos", conn=conn, part="id", id=",".join(ids))
        conn.close()
        t0 = time.time()
        status, body = self.emu.videos(ids)
        self.assertGreaterEqual(time.time() - t0, 0.3)
        self.assertEqual((status, len(body["items"])), (200, 2))
        counters = self.emu.counters()
        self.assertEqual([r["fault"] for r in counters["requests"]], ["drop", "slow"])
        self.assertEqual(counters["units"], 2)

    def test_quota_fault_exhausts_until_pacific_midnight(self):
        self.emu.ok("POST", "config", {"now": utc(2024, 7, 1, 18)})  # 11:00 PDT
        self.emu.ok("POST", "faults", {"faults": [{"type": "403_quota"}]})
        status, body = self.emu.videos(["x" * 11])
        self.assertEnvelope(status, body, 403, "quotaExceeded", "youtube.quota")
        self.assertEqual(self.emu.videos(["x" * 11])[0], 403)  # the day stays exhausted
        self.assertEqual(self.emu.counters()["units"], 0)
        self.emu.ok("POST", "config", {"now": utc(2024, 7, 2, 7)})  # 00:00 PDT
        self.assertEqual(self.emu.videos(["x" * 11])[0], 200)


class TestQuota(EmulatorTest):
    def exhaust(self, limit):
        for _ in range(limit):
            self.assertEqual(self.emu.videos(["x" * 11])[0], 200)
        status, body = self.emu.videos(["x" * 11])
        self.assertEnvelope(status, body, 403, "quotaExceeded", "youtube.quota")
        self.assertIn('<a href="/youtube/v3/getting-started#quota">quota</a>', body["error"]["message"])

    def test_limit_and_failed_calls_count(self):
        self.emu.ok("POST", "config", {"quota_limit": 3})
        self.assertEqual(self.emu.videos(["x" * 11], part="bogus")[0], 400)  # billed
        self.emu.ok("POST", "faults", {"faults": [{"type": "503"}]})
        self.assertEqual(self.emu.videos(["x" * 11])[0], 503)                # billed
        self.exhaust(1)
        counters = self.emu.counters()
        self.assertEqual((counters["units"], counters["units_today"]), (3, 3))  # refusals are free
        self.assertTrue(counters["quota_exhausted"])
        self.assertEqual(self.emu.api_json("channels", part="snippet", id="UCx")[0], 403)
        self.emu.ok("POST", "config", {"quota_limit": 4})
        self.assertEqual(self.emu.videos(["x" * 11])[0], 200)

    def test_reset_at_pacific_midnight_across_dst(self):
        cases = [
            # (a moment shortly before Pacific midnight, that midnight in UTC)
            (utc(2024, 1, 15, 7, 59, 0), utc(2024, 1, 15, 8)),     # PST: midnight is 08:00 UTC
            (utc(2024, 3, 10, 7, 59, 0), utc(2024, 3, 10, 8)),     # the night before spring-forward
            (utc(2024, 3, 11, 6, 59, 0), utc(2024, 3, 11, 7)),     # first PDT midnight: 07:00 UTC
            (utc(2024, 11, 3, 6, 59, 0), utc(2024, 11, 3, 7)),     # the night before fall-back (PDT)
            (utc(2024, 11, 4, 7, 59, 0), utc(2024, 11, 4, 8)),     # after the 25-hour day: PST again
        ]
        for before, midnight in cases:
            self.emu.ok("POST", "reset")
            self.emu.ok("POST", "config", {"quota_limit": 2, "now": before})
            self.exhaust(2)
            counters = self.emu.counters()
            self.assertEqual(counters["quota_resets_at"], midnight)
            self.emu.ok("POST", "config", {"advance": midnight - before - 1})
            self.assertEqual(self.emu.videos(["x" * 11])[0], 403, before)  # 23:59:59 Pacific
            self.emu.ok("POST", "config", {"advance": 1})
            self.assertEqual(self.emu.videos(["x" * 11])[0], 200, before)
            counters = self.emu.counters()
            self.assertEqual((counters["units_today"], counters["units"]), (1, 3))

    def test_fallback_pacific_rules_match_zoneinfo(self):
        if ye.PACIFIC is None:
            self.skipTest("no tzdata on this machine; the fallback is in use")
        start = utc(2020, 1, 1)
        for k in range(0, 6 * 366 * 24 * 3600, 1800 + 7):
            ts = start + k
            offset = datetime.datetime.fromtimestamp(ts, ye.PACIFIC).utcoffset().total_seconds()
            self.assertEqual(ye.fallback_pacific_offset(ts), offset, ts)


class TestClockAndCounters(EmulatorTest):
    def test_clock_pin_advance_release(self):
        self.assertEqual(self.emu.ok("POST", "config", {"now": 1_700_000_000})["now"], 1_700_000_000)
        self.assertEqual(self.emu.ok("POST", "config", {"advance": 60})["now"], 1_700_000_060)
        self.assertEqual(self.emu.counters()["now"], 1_700_000_060)
        self.assertIsNone(self.emu.ok("POST", "config", {"now": None})["now"])
        self.assertAlmostEqual(self.emu.counters()["now"], time.time(), delta=5)
        self.assertEqual(self.emu.control("POST", "config", {"bogus": 1})[0], 400)

    def test_counters_shape(self):
        ids = self.emu.ids("any", 3)
        self.emu.videos(ids)
        self.emu.videos(ids[:1])
        self.emu.api_json("channels", part="snippet", id="UCabc")
        c = self.emu.counters()
        self.assertEqual(c["calls"], {"videos": 2, "channels": 1})
        self.assertEqual((c["units"], c["units_today"]), (3, 3))
        self.assertEqual(c["id_fetches"], {ids[0]: 2, ids[1]: 1, ids[2]: 1})
        self.assertEqual(c["channel_fetches"], {"UCabc": 1})
        self.assertEqual([(r["endpoint"], r["ids"], r["status"]) for r in c["requests"]],
                         [("videos", 3, 200), ("videos", 1, 200), ("channels", 1, 200)])
        self.assertEqual((c["in_flight"], c["faults_applied"], c["max_concurrency_seen"]), (0, 0, 1))
        self.assertEqual(self.emu.ok("POST", "reset"), {"ok": True})
        c = self.emu.counters()
        self.assertEqual((c["units"], c["id_fetches"], c["requests"]), (0, {}, []))

    def test_connection_reuse(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        ids = self.emu.ids("any", 2)
        self.emu.ok("POST", "reset")
        for _ in range(2):
            status, resp, _ = self.emu.api("videos", conn=conn, part="id", id=",".join(ids))
            self.assertEqual(status, 200)
            self.assertIsNotNone(resp.getheader("Content-Length"))
        status, counters = self.emu.control("GET", "counters", conn=conn)
        conn.close()
        self.assertEqual(counters["connections_opened"], 1)
        self.assertEqual(counters["calls"]["videos"], 2)

    def test_twenty_concurrent_keepalive_clients(self):
        ids = self.emu.ids("any", 1000)
        self.emu.ok("POST", "config", {"latency_ms": 300, "jitter_ms": 20})
        results, errors = [], []

        def worker(n):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=20)
                for _ in range(2):
                    status, _, raw = self.emu.api("videos", conn=conn, part=ALL_PARTS,
                                                  id=",".join(ids[n * 50:(n + 1) * 50]))
                    results.append((status, len(json.loads(raw)["items"])))
                conn.close()
            except Exception as e:  # surfaced below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
        t0 = time.time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        self.assertEqual(errors, [])
        self.assertEqual(results, [(200, 50)] * 40)
        c = self.emu.counters()
        self.assertGreaterEqual(c["max_concurrency_seen"], 10)
        # keep-alive: one connection per client, plus one each for ids, config and counters
        self.assertLessEqual(c["connections_opened"], 23)
        self.assertLess(elapsed, 3.0)  # 2 x 300 ms each, run side by side


class TestScale(EmulatorTest):
    def test_thousand_calls_of_fifty_distinct_ids(self):
        ids = self.emu.ids("any", 50_000)
        self.assertEqual(len(set(ids)), 50_000)
        errors = []
        chunks = [ids[k:k + 50] for k in range(0, 50_000, 50)]

        def worker(mine):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=30)
                for chunk in mine:
                    status, _, raw = self.emu.api("videos", conn=conn, part=ALL_PARTS, id=",".join(chunk),
                                                  prettyPrint="false" if chunk[0] < chunk[1] else None)
                    if status != 200 or raw.count(b'"youtube#video"') != 50:
                        errors.append(status)
                conn.close()
            except Exception as e:
                errors.append(e)

        t0 = time.time()
        threads = [threading.Thread(target=worker, args=(chunks[n::8],)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.time() - t0
        self.assertEqual(errors, [])
        self.assertEqual(self.emu.ok("GET", "counters?ids=0")["calls"]["videos"], 1000)
        sys.stderr.write(f"[1000 calls x 50 ids in {elapsed:.2f}s] ")
        self.assertLess(elapsed, 20)


class TestDeterminism(EmulatorTest):
    def test_same_id_same_item_across_instances(self):
        other = Emulator()
        try:
            ids = []
            for kind in ("normal", "live", "premiere", "region_allowed", "hidden_likes", "fractional_published"):
                ids += self.emu.ids(kind, 5)
                self.assertEqual(other.ids(kind, 5), self.emu.ids(kind, 5))
            for vid in ids:
                self.assertEqual(other.item(vid), self.emu.item(vid))
            _, _, a = self.emu.api("videos", part=ALL_PARTS, id=",".join(ids))
            _, _, b = other.api("videos", part=ALL_PARTS, id=",".join(ids))
            self.assertEqual(a, b)
        finally:
            self.assertEqual(other.stop(), 0)


if __name__ == "__main__":
    unittest.main()
