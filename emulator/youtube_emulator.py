#!/usr/bin/env python3
"""A faithful emulator of the parts of the YouTube Data API v3 that vault_metadata uses.

videos.list and channels.list over a deterministic, lazily computed corpus, plus a JSON
control surface under /_control/ for tests: latency, injected faults, quota and a
controllable clock, counters of what the client really sent.

Standard library only: it must run on a fresh Debian 12 with nothing but `python3`.
See README.md beside this file for the control API and the corpus rules.
"""

import argparse
import base64
import calendar
import collections
import copy
import datetime
import functools
import gzip
import hashlib
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from json.encoder import encode_basestring
from urllib.parse import parse_qs, urlsplit

API_PREFIX = "/youtube/v3/"
CONTROL_PREFIX = "/_control/"
JSON_CT = "application/json; charset=UTF-8"
MAX_IDS = 50  # the real API's cap on ids per list call
VIDEO_ID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
B64_INDEX = {c: n for n, c in enumerate(B64)}
M32 = 0xFFFFFFFF
M64 = (1 << 64) - 1

VIDEO_PARTS = ("snippet", "contentDetails", "status", "statistics")  # the API's own output order
CHANNEL_PARTS = ("snippet", "statistics")
FAULT_TYPES = ("500", "502", "503", "429", "403_rate", "403_quota", "403_forbidden", "400",
               "malformed", "malformed_shape", "drop", "slow", "empty")


# ---------------------------------------------------------------------------------------------
# Pacific time. zoneinfo needs the tzdata files, which a minimal Debian 12 image may lack, so a
# hand-written rule for America/Los_Angeles (US DST rules since 2007) stands in when they are absent.

def _nth_sunday_utc_midnight(year, month, n):
    first_weekday, _ = calendar.monthrange(year, month)  # Monday == 0
    first_sunday = 1 + (6 - first_weekday) % 7
    return calendar.timegm((year, month, first_sunday + 7 * (n - 1), 0, 0, 0))


def fallback_pacific_offset(ts):
    """Seconds east of UTC for America/Los_Angeles at Unix time ts (post-2007 rules)."""
    year = time.gmtime(ts).tm_year
    dst_start = _nth_sunday_utc_midnight(year, 3, 2) + 10 * 3600  # 02:00 PST
    dst_end = _nth_sunday_utc_midnight(year, 11, 1) + 9 * 3600    # 02:00 PDT
    return -7 * 3600 if dst_start <= ts < dst_end else -8 * 3600


try:
    from zoneinfo import ZoneInfo
    PACIFIC = ZoneInfo("America/Los_Angeles")
except Exception:  # ZoneInfoNotFoundError without tzdata; ImportError cannot happen on 3.9+
    PACIFIC = None


def pacific_day(ts):
    """The Pacific calendar date (the quota day) at Unix time ts."""
    if PACIFIC is not None:
        return datetime.datetime.fromtimestamp(ts, PACIFIC).date()
    return datetime.datetime.fromtimestamp(ts + fallback_pacific_offset(ts), datetime.timezone.utc).date()


def next_pacific_midnight(ts):
    """Unix time of the next Pacific midnight after ts: when the quota resets."""
    day = pacific_day(ts) + datetime.timedelta(days=1)
    if PACIFIC is not None:
        return int(datetime.datetime(day.year, day.month, day.day, tzinfo=PACIFIC).timestamp())
    utc_midnight = calendar.timegm((day.year, day.month, day.day, 0, 0, 0))
    # Midnight never falls in a DST gap (changes happen at 02:00), so one of the two offsets is right.
    for offset in (-7 * 3600, -8 * 3600):
        candidate = utc_midnight - offset
        if fallback_pacific_offset(candidate) == offset:
            return candidate
    return utc_midnight + 8 * 3600


# ---------------------------------------------------------------------------------------------
# Ids. A video id is an 11-char base64url rendering of 64 bits (the two spare low bits are zero,
# as on YouTube, so the last char is one of AEIMQUYcgkosw048). The 64 bits are a keyed Feistel
# permutation of the corpus index, so ids look random yet map back to their index without a table.

def _feistel_round(x, key):
    x = ((x ^ key) * 0x9E3779B1) & M32
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & M32
    x ^= x >> 13
    return x


class Feistel64:
    def __init__(self, keys):
        self.keys = keys

    def forward(self, v):
        left, right = v >> 32, v & M32
        for k in self.keys:
            left, right = right, left ^ _feistel_round(right, k)
        return (left << 32) | right

    def backward(self, v):
        left, right = v >> 32, v & M32
        for k in reversed(self.keys):
            left, right = right ^ _feistel_round(left, k), left
        return (left << 32) | right


VIDEO_PERM = Feistel64((0x1F2E3D4C, 0x5A6B7C8D, 0x0BADF00D, 0x7E57AB1E))
CHANNEL_PERM_HI = Feistel64((0x2468ACE0, 0x13579BDF, 0x0C0FFEE0, 0x5EED5EED))
CHANNEL_PERM_LO = Feistel64((0x31415926, 0x27182818, 0x16180339, 0x14142135))


def _encode_bits(value, nbits, nchars):
    """Render nbits of value as nchars base64url chars, spare low bits zero (as YouTube does)."""
    # base64 works on whole bytes: left-align the bits in a byte string, then keep nchars chars.
    nbytes = (nchars * 6 + 7) // 8
    nbytes += (-nbytes) % 3
    raw = (value << (nbytes * 8 - nbits)).to_bytes(nbytes, "big")
    return base64.urlsafe_b64encode(raw)[:nchars].decode()


def _decode_bits(text, nbits):
    padded = text + "A" * ((-len(text)) % 4)
    value = int.from_bytes(base64.urlsafe_b64decode(padded), "big") >> (len(padded) - len(text)) * 6
    spare = len(text) * 6 - nbits
    if value & ((1 << spare) - 1):
        return None  # not a rendering this encoder produces
    return value >> spare


def _all_digits(value64):
    return _encode_bits(value64, 64, 11).isdigit()


def video_id_of(index):
    # Cycle-walking keeps the mapping a bijection while skipping the (~1e-9 likely) all-digit
    # renderings: an all-digit id would become an integer key in PHP, which tests must opt into.
    v = VIDEO_PERM.forward(index)
    while _all_digits(v):
        v = VIDEO_PERM.forward(v)
    return _encode_bits(v, 64, 11)


def video_index_of(video_id):
    """Index for an id this encoder produced, else None. Does not check the corpus size."""
    if not VIDEO_ID_RE.match(video_id) or video_id.isdigit():
        return None
    v = _decode_bits(video_id, 64)
    if v is None:
        return None
    v = VIDEO_PERM.backward(v)
    while _all_digits(v):
        v = VIDEO_PERM.backward(v)
    return v


def channel_id_of(c):
    # 128 bits as 22 chars, like real channel ids ("UC" + 22, last char one of AQgw); the low
    # half is a check value so a random UC-id does not decode to a channel.
    value = (CHANNEL_PERM_HI.forward(c) << 64) | CHANNEL_PERM_LO.forward(c)
    return "UC" + _encode_bits(value, 128, 22)


def channel_index_of(channel_id):
    if len(channel_id) != 24 or not channel_id.startswith("UC") or not VIDEO_ID_RE.match(channel_id[2:13]):
        return None
    if any(ch not in B64_INDEX for ch in channel_id[2:]):
        return None
    value = _decode_bits(channel_id[2:], 128)
    if value is None:
        return None
    c = CHANNEL_PERM_HI.backward(value >> 64)
    if CHANNEL_PERM_LO.forward(c) != value & M64:
        return None
    return c


def etag_of(obj):
    """A 27-char etag like the API's, derived from the content so it changes when the item does."""
    digest = hashlib.sha1(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# ---------------------------------------------------------------------------------------------
# The corpus. Every property of video i comes from i alone (class membership by modular rules,
# the rest from random.Random(i)), so two instances agree and nothing is built up front.

CLASS_RULES = collections.OrderedDict([
    # name: (predicate, description for the README and /_control/ids)
    ("deleted", (lambda i: i % 50 in (7, 31), "i % 50 == 7 (deleted) or 31 (private): omitted")),
    ("hidden_likes", (lambda i: i % 11 == 3, "i % 11 == 3: no likeCount")),
    ("no_comments", (lambda i: i % 13 == 5, "i % 13 == 5: no commentCount")),
    ("age_restricted", (lambda i: i % 17 == 2, "i % 17 == 2: contentRating.ytRating = ytAgeRestricted")),
    ("region_allowed", (lambda i: i % 29 == 4, "i % 29 == 4: regionRestriction.allowed (non-empty)")),
    ("region_blocked", (lambda i: i % 29 == 6, "i % 29 == 6: regionRestriction.blocked")),
    ("region_empty_allowed", (lambda i: i % 29 == 9, "i % 29 == 9: regionRestriction.allowed == []")),
    ("live", (lambda i: i % 31 == 10, "i % 31 == 10: liveBroadcastContent live, duration P0D")),
    ("upcoming", (lambda i: i % 31 == 12, "i % 31 == 12: liveBroadcastContent upcoming, duration P0D")),
    ("premiere", (lambda i: i % 31 == 14, "i % 31 == 14: ongoing premiere, live, no duration")),
    ("fractional_published", (lambda i: i % 7 == 1, "i % 7 == 1: publishedAt has fractional seconds")),
    ("unlisted", (lambda i: i % 37 == 8, "i % 37 == 8: privacyStatus unlisted")),
    ("made_for_kids", (lambda i: i % 41 == 9, "i % 41 == 9: madeForKids true (and, as on YouTube, no commentCount)")),
    ("not_embeddable", (lambda i: i % 43 == 10, "i % 43 == 10: embeddable false")),
    ("day_long", (lambda i: i % 101 == 50 and i % 31 not in (10, 12, 14),
                  "i % 101 == 50, unless live/upcoming/premiere: duration of a day or more (P1DT2H3M4S)")),
    ("huge_counts", (lambda i: i % 997 == 0 and i % 31 != 12,
                     "i % 997 == 0, unless upcoming: viewCount above 2^32")),
])
SPECIAL_CLASSES = [name for name in CLASS_RULES if name != "deleted"]


def is_omitted_index(i):
    return CLASS_RULES["deleted"][0](i)


def classes_of(i):
    return [name for name, (pred, _) in CLASS_RULES.items() if pred(i)]


def channel_has_handle(c):
    return c % 50 != 13  # ~2% of channels predate handles: no customUrl


CATEGORY_IDS = ["1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"]
WORDS = ["official", "music", "video", "live", "tutorial", "review", "highlights", "reaction", "best",
         "moments", "full", "episode", "trailer", "unboxing", "compilation", "how", "to", "make",
         "epic", "fail", "guitar", "cover", "remix", "vlog", "travel", "cooking", "recipe", "game",
         "speedrun", "news", "update", "part", "behind", "the", "scenes", "lofi", "beats", "study",
         "morning", "routine", "science", "explained", "in", "minutes", "world", "record", "cat", "dog"]
ACCENTED = ["Café", "déjà vu", "Ñandú", "Straße", "Zürich", "São Paulo", "naïve", "Crème brûlée",
            "Łódź", "Ærøskøbing", "Ελληνικά", "Привет мир"]
CJK = ["東京の夜景", "初音ミク", "한국어 노래", "中文标题", "ラーメン屋", "猫の日常", "歌ってみた"]
EMOJI = ["🔥", "😂", "🎵", "👨\u200d👩\u200d👧\u200d👦", "🇯🇵", "❤️", "🚀", "👍🏽", "✨"]
RTL = ["مرحبا بالعالم", "שלום עולם"]
AWKWARD = ['"Quoted"', "it's", "back\\slash", "C:\\Users\\demo", "\\o/", "Tom & Jerry", "<b>not bold</b>",
           "100% real", "a/b", "\\u0041 literally", "'single'", "\\\\double\\\\"]
COUNTRIES = ["AD", "AE", "AR", "AT", "AU", "BE", "BR", "CA", "CH", "CL", "CN", "CO", "CZ", "DE", "DK", "EG",
             "ES", "FI", "FR", "GB", "GR", "HK", "HU", "ID", "IE", "IL", "IN", "IT", "JP", "KR", "MX", "MY",
             "NG", "NL", "NO", "NZ", "PE", "PH", "PK", "PL", "PT", "RO", "RU", "SA", "SE", "SG", "TH", "TR",
             "TW", "UA", "US", "VN", "ZA"]
CORPUS_VERSION = 1  # bump when generation changes, so etags change with content
PUBLISHED_MIN = 1136073600  # 2006-01-01
PUBLISHED_MAX = 1748736000  # 2025-06-01


class _Rng(random.Random):
    """random.Random with float-based choice/randint: about twice as fast as the exact
    rejection sampling, and bias does not matter for a synthetic corpus."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a, b):
        return a + int(self.random() * (b - a + 1))


def rfc3339(ts, frac_digits=None, rng=None):
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))
    if frac_digits:
        base += "." + "".join(str(rng.randint(0, 9)) for _ in range(frac_digits))
    return base + "Z"


def iso_duration(seconds):
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "") + (f"{secs}S" if secs else "")
    if clock:
        out += "T" + clock
    return out if out != "P" else "P0D"


def _title(rng):
    words = [rng.choice(WORDS) for _ in range(rng.randint(2, 7))]
    words[0] = words[0].capitalize()
    style = rng.random()
    extras = []
    if style > 0.45:
        for _ in range(rng.randint(1, 2)):
            pool = rng.choice((ACCENTED, CJK, EMOJI, RTL, AWKWARD, AWKWARD))
            extras.append(rng.choice(pool))
    for extra in extras:
        words.insert(rng.randint(0, len(words)), extra)
    return " ".join(words)[:100]  # YouTube caps titles at 100 characters


def _thumbnails(url_base, rng, maxres):
    sizes = [("default", 120, 90, "default"), ("medium", 320, 180, "mqdefault"), ("high", 480, 360, "hqdefault"),
             ("standard", 640, 480, "sddefault")]
    if maxres:
        sizes.append(("maxres", 1280, 720, "maxresdefault"))
    return {name: {"url": f"{url_base}/{file}.jpg", "width": w, "height": h} for name, w, h, file in sizes}


class Corpus:
    def __init__(self, size):
        self.size = size
        self.channel_count = max(1, size // 100)

    def contains_index(self, i):
        return i is not None and 0 <= i < self.size

    def channel_of(self, i):
        # Spread videos over channels unevenly-looking but deterministically.
        return _feistel_round(i & M32, 0x0C4A77E1) % self.channel_count

    def channel_exists(self, c):
        return c is not None and 0 <= c < self.channel_count

    @functools.lru_cache(maxsize=8192)
    def channel(self, c):
        rng = _Rng(f"channel:{c}")
        base_words = [rng.choice(WORDS) for _ in range(rng.randint(1, 3))]
        title = " ".join(w.capitalize() for w in base_words)
        flavor = rng.random()
        if flavor < 0.15:
            title = rng.choice(ACCENTED) + " " + title
        elif flavor < 0.25:
            title = rng.choice(CJK) + " " + title
        elif flavor < 0.30:
            title = title + " " + rng.choice(EMOJI)
        elif flavor < 0.33:
            title = title + ' "TV"'
        # Handles are unique: letters, then a separator, then the channel number in base 36.
        handle = "".join(w.capitalize() if rng.random() < 0.5 else w for w in base_words)
        handle = handle + rng.choice("._-") + _base36(c)
        snippet = {
            "title": title,
            "description": rng.choice(["", f"Welcome to {title}!", "Subscribe for more.\nNew videos weekly."]),
        }
        if channel_has_handle(c):
            snippet["customUrl"] = "@" + handle.lower()
        snippet["publishedAt"] = rfc3339(rng.randint(PUBLISHED_MIN - 86400 * 365, PUBLISHED_MIN + 86400 * 3000))
        snippet["thumbnails"] = {name: {"url": f"https://yt3.ggpht.com/emulated-{c}={px}", "width": px, "height": px}
                                 for name, px in (("default", 88), ("medium", 240), ("high", 800))}
        snippet["localized"] = {"title": title, "description": snippet["description"]}
        if rng.random() < 0.6:
            snippet["country"] = rng.choice(COUNTRIES)
        subscribers = int(10 ** rng.uniform(1, 8))
        stats = {"viewCount": str(subscribers * rng.randint(5, 400)), "subscriberCount": str(subscribers),
                 "hiddenSubscriberCount": False, "videoCount": str(rng.randint(1, 3000))}
        return {"kind": "youtube#channel", "etag": "", "id": channel_id_of(c), "snippet": snippet,
                "statistics": stats, "_handle": handle}

    def channel_item(self, c):
        """Full channels.list item (all parts), with its etag; None when no such channel."""
        if not self.channel_exists(c):
            return None
        raw = dict(self.channel(c))
        del raw["_handle"]
        raw["etag"] = etag_of(raw)
        return raw

    @functools.lru_cache(maxsize=4096)
    def video(self, i):
        """Full videos.list item with all four parts; callers must not mutate it."""
        rng = _Rng(i)
        vid = video_id_of(i)
        c = self.channel_of(i)
        channel = self.channel(c)
        title = _title(rng)

        published = rng.randint(PUBLISHED_MIN, PUBLISHED_MAX)
        frac = rng.choice((3, 3, 3, 6, 1, 2)) if i % 7 == 1 else None
        description = rng.choice([
            "",
            f"{title}\n\nFollow us: https://example.com/{vid}\n#{rng.choice(WORDS)} #{rng.choice(WORDS)}",
            "Thanks for watching!",
            f"Chapters:\n0:00 Intro\n1:23 {rng.choice(WORDS)}\n\n{rng.choice(AWKWARD)}",
        ])
        live = "none"
        duration = self._duration_seconds(i, rng)
        if i % 31 == 10 or i % 31 == 14:
            live = "live"
        elif i % 31 == 12:
            live = "upcoming"
        snippet = {
            "publishedAt": rfc3339(published, frac, rng),
            "channelId": channel["id"],
            "title": title,
            "description": description,
            "thumbnails": _thumbnails(f"https://i.ytimg.com/vi/{vid}", rng, rng.random() < 0.7),
            "channelTitle": channel["snippet"]["title"],
        }
        if rng.random() < 0.6:
            snippet["tags"] = [rng.choice(WORDS + ACCENTED + CJK) for _ in range(rng.randint(1, 8))]
        snippet["categoryId"] = rng.choice(CATEGORY_IDS)
        snippet["liveBroadcastContent"] = live
        if rng.random() < 0.4:
            snippet["defaultLanguage"] = rng.choice(["en", "ja", "de", "fr", "es", "ko", "pt-BR"])
        snippet["localized"] = {"title": title, "description": description}
        if rng.random() < 0.7:
            snippet["defaultAudioLanguage"] = rng.choice(["en", "en-US", "ja", "de", "fr", "es", "zxx"])

        content = {}
        if i % 31 in (10, 12):
            content["duration"] = "P0D"
        elif i % 31 != 14:  # an ongoing premiere has no duration at all
            content["duration"] = iso_duration(duration)
        content["dimension"] = "2d"
        content["definition"] = "hd" if rng.random() < 0.8 else "sd"
        content["caption"] = "true" if rng.random() < 0.3 else "false"
        content["licensedContent"] = rng.random() < 0.6
        region = i % 29
        if region == 4:
            content["regionRestriction"] = {"allowed": sorted(rng.sample(COUNTRIES, rng.randint(1, 12)))}
        elif region == 6:
            count = len(COUNTRIES) - 1 if rng.random() < 0.1 else rng.randint(1, 8)
            content["regionRestriction"] = {"blocked": sorted(rng.sample(COUNTRIES, count))}
        elif region == 9:
            content["regionRestriction"] = {"allowed": []}
        content["contentRating"] = {"ytRating": "ytAgeRestricted"} if i % 17 == 2 else {}
        content["projection"] = "360" if rng.random() < 0.02 else "rectangular"

        kids = i % 41 == 9
        status = {
            "uploadStatus": "processed",
            "privacyStatus": "unlisted" if i % 37 == 8 else "public",
            "license": "creativeCommon" if rng.random() < 0.05 else "youtube",
            "embeddable": i % 43 != 10,
            "publicStatsViewable": True,
            "madeForKids": kids,
        }

        if live == "upcoming":
            views = likes = comments = 0
        elif i % 997 == 0:
            views = rng.randint(5_000_000_000, 15_000_000_000)
            likes = int(views * rng.uniform(0.005, 0.02))
            comments = int(likes * rng.uniform(0.01, 0.05))
        else:
            views = int(10 ** rng.uniform(0, 8.5))
            likes = int(views * rng.uniform(0.0, 0.08))
            comments = int(likes * rng.uniform(0.0, 0.2))
        stats = {"viewCount": str(views)}
        if i % 11 != 3:
            stats["likeCount"] = str(likes)
        stats["favoriteCount"] = "0"
        if i % 13 != 5 and not kids:
            stats["commentCount"] = str(comments)

        # The content is a function of i alone, so an etag of i is as good as one of the content and
        # much cheaper; overrides get a content etag instead (State.edit).
        etag = base64.urlsafe_b64encode(hashlib.sha1(f"{CORPUS_VERSION}:video:{i}".encode()).digest())
        return {"kind": "youtube#video", "etag": etag.decode().rstrip("="), "id": vid,
                "snippet": snippet, "contentDetails": content, "status": status, "statistics": stats}

    @staticmethod
    def _duration_seconds(i, rng):
        if i % 101 == 50:
            return rng.randint(1, 3) * 86400 + rng.randint(1, 86399)
        r = rng.random()
        if r < 0.10:
            return rng.randint(1, 59)                       # PT45S
        if r < 0.70:
            return rng.randint(60, 3599)                    # PT4M13S (PT4M when secs hit 0)
        if r < 0.85:
            return rng.randint(3600, 86399)                 # PT1H2M3S
        if r < 0.92:
            return rng.randint(1, 20) * 3600 + rng.randint(1, 59) * 60   # PT1H2M
        if r < 0.96:
            return rng.randint(1, 59) * 60                  # PT4M
        if r < 0.99:
            return rng.randint(1, 10) * 3600                # PT2H
        return rng.randint(1, 2) * 86400                    # P1D

    # -- id listing for tests -------------------------------------------------------------------

    def ids_of_kind(self, kind, start, count):
        if kind == "unknown":
            return [video_id_of(self.size + start + k) for k in range(count)]
        if kind == "channels":
            return [channel_id_of(c) for c in range(start, min(self.channel_count, start + count))]
        if kind == "deleted":
            pred = is_omitted_index
        elif kind == "any":
            def pred(i):
                return not is_omitted_index(i)
        elif kind == "normal":
            rules = [p for p, _ in CLASS_RULES.values()]

            def pred(i):
                return not any(p(i) for p in rules)
        elif kind == "channel_without_handle":
            def pred(i):
                return not is_omitted_index(i) and not channel_has_handle(self.channel_of(i))
        elif kind in CLASS_RULES:
            rule = CLASS_RULES[kind][0]

            def pred(i):
                return rule(i) and not is_omitted_index(i)
        else:
            raise KeyError(kind)
        out, seen = [], 0
        for i in range(self.size):
            if pred(i):
                if seen >= start:
                    out.append(video_id_of(i))
                    if len(out) >= count:
                        break
                seen += 1
        return out


def _base36(n):
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out


def deep_merge(target, patch):
    """Merge patch into target in place; a None value deletes the key (JSON merge patch)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


# ---------------------------------------------------------------------------------------------
# Errors, in the API's envelope.

QUOTA_MESSAGE = ('The request cannot be completed because you have exceeded your '
                 '<a href="/youtube/v3/getting-started#quota">quota</a>.')


class ApiError(Exception):
    def __init__(self, code, reason, message, domain="global", status=None, extra=None):
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain
        self.status, self.extra = status, extra or {}

    def body(self):
        detail = {"message": self.message, "domain": self.domain, "reason": self.reason}
        detail.update(self.extra)
        err = {"code": self.code, "message": self.message, "errors": [detail]}
        if self.status:
            err["status"] = self.status
        return {"error": err}


def err_missing_key():
    return ApiError(403, "forbidden", "The request is missing a valid API key.", status="PERMISSION_DENIED")


def err_key_invalid():
    return ApiError(400, "keyInvalid", "API key not valid. Please pass a valid API key.",
                    domain="usageLimits", status="INVALID_ARGUMENT")


def err_quota():
    return ApiError(403, "quotaExceeded", QUOTA_MESSAGE, domain="youtube.quota")


FAULT_ERRORS = {
    "500": lambda: ApiError(500, "backendError", "Internal error encountered.", status="INTERNAL"),
    "502": lambda: ApiError(502, "badGateway", "Bad Gateway"),
    "503": lambda: ApiError(503, "backendError", "The service is currently unavailable.", status="UNAVAILABLE"),
    "429": lambda: ApiError(429, "rateLimitExceeded", "Resource has been exhausted (e.g. check quota).",
                            domain="usageLimits", status="RESOURCE_EXHAUSTED"),
    "403_rate": lambda: ApiError(403, "rateLimitExceeded", "Rate Limit Exceeded", domain="usageLimits"),
    "403_quota": err_quota,
    "403_forbidden": lambda: ApiError(403, "forbidden", "The caller does not have permission",
                                      status="PERMISSION_DENIED"),
    "400": lambda: ApiError(400, "badRequest", "Request contains an invalid argument.", status="INVALID_ARGUMENT"),
}

GOOGLE_502_HTML = (b"<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 502 (Server Error)!!1</title>\n"
                   b"  <p><b>502.</b> <ins>That\xe2\x80\x99s an error.</ins>\n  <p>The server encountered a temporary "
                   b"error and could not complete your request.<p>Please try again in 30 seconds.  "
                   b"<ins>That\xe2\x80\x99s all we know.</ins>\n")


class ControlError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code, self.message = code, message


# ---------------------------------------------------------------------------------------------
# Mutable emulator state, shared by all handler threads under one lock.

class State:
    def __init__(self, corpus, quota_limit, latency_ms, jitter_ms):
        self.corpus = corpus
        self.lock = threading.Lock()
        self.defaults = {"quota_limit": quota_limit, "latency_ms": latency_ms, "jitter_ms": jitter_ms}
        self.in_flight = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.quota_limit = self.defaults["quota_limit"]
            self.latency_ms = self.defaults["latency_ms"]
            self.jitter_ms = self.defaults["jitter_ms"]
            self.invalid_keys = {"invalid"}
            self.pinned_now = None
            self.faults = []
            self.video_overrides = {}    # id -> full item, or None when deleted
            self.channel_overrides = {}
            self.calls = {"videos": 0, "channels": 0}
            self.units = 0
            self.units_today = 0
            self.quota_day = pacific_day(self._now())
            self.exhausted_day = None
            self.id_fetches = collections.Counter()
            self.channel_fetches = collections.Counter()
            self.max_concurrency_seen = 0
            self.connections_opened = 0
            self.requests = collections.deque(maxlen=200)
            self.faults_applied = 0

    # -- clock and quota day --------------------------------------------------------------------

    def _now(self):
        return self.pinned_now if self.pinned_now is not None else time.time()

    def now(self):
        with self.lock:
            return self._now()

    def _roll_day(self):
        today = pacific_day(self._now())
        if today != self.quota_day:
            self.quota_day = today
            self.units_today = 0
        if self.exhausted_day is not None and self.exhausted_day != today:
            self.exhausted_day = None

    def try_charge(self):
        """Atomically spend one unit unless the day is exhausted; False means quotaExceeded."""
        with self.lock:
            self._roll_day()
            if self.exhausted_day is not None or self.units_today >= self.quota_limit:
                return False
            self.units += 1
            self.units_today += 1
            return True

    def charge_unconditionally(self):
        # An injected failure happened "inside Google": the real API bills those too.
        with self.lock:
            self._roll_day()
            self.units += 1
            self.units_today += 1

    def mark_exhausted(self):
        with self.lock:
            self._roll_day()
            self.exhausted_day = self.quota_day

    # -- bookkeeping ----------------------------------------------------------------------------

    def begin_call(self, endpoint, ids):
        with self.lock:
            self.in_flight += 1
            self.max_concurrency_seen = max(self.max_concurrency_seen, self.in_flight)
            if endpoint in self.calls:
                self.calls[endpoint] += 1
            fetches = self.id_fetches if endpoint == "videos" else self.channel_fetches
            for i in dict.fromkeys(ids):  # duplicates within one call count once
                fetches[i] += 1
            return self._pop_fault(endpoint)

    def end_call(self, endpoint, n_ids, status, fault):
        with self.lock:
            self.in_flight -= 1
            self.requests.append({"endpoint": endpoint, "ids": n_ids, "status": status,
                                  "t": round(time.time(), 6), "fault": fault})

    def _pop_fault(self, endpoint):
        for n, fault in enumerate(self.faults):
            if fault["endpoint"] in ("any", endpoint):
                fault["remaining"] -= 1
                if fault["remaining"] <= 0:
                    del self.faults[n]
                self.faults_applied += 1
                return dict(fault)
        return None

    def connection_opened(self):
        with self.lock:
            self.connections_opened += 1

    def latency(self):
        with self.lock:
            base, jitter = self.latency_ms, self.jitter_ms
        return (base + (random.uniform(0, jitter) if jitter > 0 else 0)) / 1000.0

    def counters(self, with_ids=True):
        with self.lock:
            self._roll_day()
            out = {
                "calls": dict(self.calls),
                "units": self.units,
                "units_today": self.units_today,
                "quota_limit": self.quota_limit,
                "quota_day": self.quota_day.isoformat(),
                "quota_exhausted": self.exhausted_day is not None or self.units_today >= self.quota_limit,
                "quota_resets_at": next_pacific_midnight(self._now()),
                "now": self._now(),
                "max_concurrency_seen": self.max_concurrency_seen,
                "in_flight": self.in_flight,
                "connections_opened": self.connections_opened,
                "requests": list(self.requests),
                "faults_applied": self.faults_applied,
            }
            if with_ids:
                out["id_fetches"] = dict(self.id_fetches)
                out["channel_fetches"] = dict(self.channel_fetches)
            return out

    def config_view(self):
        return {"latency_ms": self.latency_ms, "jitter_ms": self.jitter_ms, "quota_limit": self.quota_limit,
                "now": self.pinned_now, "invalid_keys": sorted(self.invalid_keys),
                "corpus_size": self.corpus.size}

    def configure(self, body):
        known = {"latency_ms", "jitter_ms", "quota_limit", "now", "advance", "invalid_keys"}
        unknown = set(body) - known
        if unknown:
            raise ControlError(400, f"unknown config keys: {sorted(unknown)}")
        with self.lock:
            for key in ("latency_ms", "jitter_ms", "quota_limit"):
                if key in body:
                    value = body[key]
                    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                        raise ControlError(400, f"{key} must be a number >= 0")
                    setattr(self, key, int(value) if key == "quota_limit" else value)
            if "now" in body:
                value = body["now"]
                if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
                    raise ControlError(400, "now must be Unix seconds or null")
                self.pinned_now = None if value is None else float(value)
            if "advance" in body:
                value = body["advance"]
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise ControlError(400, "advance must be seconds")
                # Advancing a real clock pins it: tests want a clock that then stays put.
                self.pinned_now = self._now() + float(value)
            if "invalid_keys" in body:
                keys = body["invalid_keys"]
                if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
                    raise ControlError(400, "invalid_keys must be a list of strings")
                self.invalid_keys = set(keys)
            self._roll_day()
            return self.config_view()

    def set_faults(self, body):
        faults = body.get("faults")
        if not isinstance(faults, list):
            raise ControlError(400, "faults must be a list")
        parsed = []
        for spec in faults:
            if not isinstance(spec, dict) or str(spec.get("type")) not in FAULT_TYPES:
                raise ControlError(400, f"bad fault {spec!r}; types: {', '.join(FAULT_TYPES)}")
            endpoint = spec.get("endpoint", "any")
            if endpoint not in ("videos", "channels", "any"):
                raise ControlError(400, "endpoint must be videos, channels or any")
            count = spec.get("count", 1)
            if not isinstance(count, int) or count < 1:
                raise ControlError(400, "count must be an int >= 1")
            parsed.append({"type": str(spec["type"]), "count": count, "remaining": count, "endpoint": endpoint,
                           "retry_after": spec.get("retry_after"), "delay_ms": spec.get("delay_ms", 2000),
                           "html": bool(spec.get("html", False))})
        with self.lock:
            if not body.get("append", False):
                self.faults = []
            self.faults.extend(parsed)
            return list(self.faults)

    def list_faults(self):
        with self.lock:
            return [dict(f) for f in self.faults]

    # -- items, with overrides ------------------------------------------------------------------

    def video_item(self, video_id):
        """Full item as the API would return it now, or None when omitted."""
        with self.lock:
            if video_id in self.video_overrides:
                return self.video_overrides[video_id]
        i = video_index_of(video_id)
        if not self.corpus.contains_index(i) or is_omitted_index(i):
            return None
        return self.corpus.video(i)

    def channel_item(self, channel_id):
        with self.lock:
            if channel_id in self.channel_overrides:
                return self.channel_overrides[channel_id]
        return self.corpus.channel_item(channel_index_of(channel_id))

    def edit(self, kind, body):
        overrides = self.video_overrides if kind == "video" else self.channel_overrides
        lookup = self.video_item if kind == "video" else self.channel_item
        item_id = body.get("id")
        if not isinstance(item_id, str) or not item_id:
            raise ControlError(400, "id is required")
        if body.get("restore"):
            with self.lock:
                overrides.pop(item_id, None)
            return {"id": item_id, "item": lookup(item_id)}
        if body.get("delete"):
            with self.lock:
                overrides[item_id] = None
            return {"id": item_id, "item": None}
        source_id = body.get("clone", item_id)
        base = lookup(source_id)
        if base is None:
            raise ControlError(404, f"no such {kind}: {source_id}")
        if kind == "video" and not VIDEO_ID_RE.match(item_id):
            raise ControlError(400, "a video id is 11 characters of A-Za-z0-9_-")
        item = copy.deepcopy(base)
        item["id"] = item_id
        patch = body.get("patch") or {}
        if not isinstance(patch, dict):
            raise ControlError(400, "patch must be an object")
        deep_merge(item, patch)
        item["id"] = item_id
        item["etag"] = ""
        item["etag"] = etag_of(item)
        with self.lock:
            overrides[item_id] = item
        return {"id": item_id, "item": item}


# ---------------------------------------------------------------------------------------------
# HTTP.

def _split_ids(values):
    out = []
    for value in values:
        out.extend(x.strip() for x in value.split(",") if x.strip())
    return out


def order_items(items):
    """Deterministic order that is not the request order: clients must match by id."""
    ordered = sorted(items, key=lambda it: hashlib.md5(it["id"].encode()).digest())
    if len(ordered) > 1 and [it["id"] for it in ordered] == [it["id"] for it in items]:
        ordered.reverse()
    return ordered


class FragmentCache:
    """Serialized items by (id, etag, parts, pretty). Serializing with indent is the emulator's main
    cost (the json module has no C path for indent), and benchmarks ask for the same ids again."""

    def __init__(self, maxsize=20000):
        self.lock = threading.Lock()
        self.data = collections.OrderedDict()
        self.maxsize = maxsize

    def get(self, item, parts, pretty):
        key = (item["id"], item["etag"], parts, pretty)
        with self.lock:
            text = self.data.get(key)
            if text is not None:
                self.data.move_to_end(key)
                return text
        view = {"kind": item["kind"], "etag": item["etag"], "id": item["id"]}
        for part in parts:
            if part in item:
                view[part] = item[part]
        if pretty:
            text = pretty_json(view, "    ").encode()  # indented for its place inside "items": [...]
        else:
            text = json.dumps(view, ensure_ascii=False, separators=(",", ":")).encode()
        with self.lock:
            self.data[key] = text
            if len(self.data) > self.maxsize:
                self.data.popitem(last=False)
        return text


def pretty_json(obj, indent=""):
    """Same text as json.dumps(obj, indent=2, ensure_ascii=False), about 2-3x faster: the json
    module's indenting encoder is pure Python and generic, while encode_basestring is C and the
    leaves (strings, bools, ints) are handled inline here."""
    kind = type(obj)
    if kind is dict:
        if not obj:
            return "{}"
        inner = indent + "  "
        members = []
        for key, value in obj.items():
            vkind = type(value)
            if vkind is str:
                members.append(f"{inner}{encode_basestring(key)}: {encode_basestring(value)}")
            elif vkind is bool:
                members.append(f"{inner}{encode_basestring(key)}: {'true' if value else 'false'}")
            elif vkind is int:
                members.append(f"{inner}{encode_basestring(key)}: {value}")
            else:
                members.append(f"{inner}{encode_basestring(key)}: {pretty_json(value, inner)}")
        return "{\n" + ",\n".join(members) + "\n" + indent + "}"
    if kind is list:
        if not obj:
            return "[]"
        inner = indent + "  "
        return ("[\n" + ",\n".join(inner + (encode_basestring(v) if type(v) is str else pretty_json(v, inner))
                                   for v in obj) + "\n" + indent + "]")
    if kind is str:
        return encode_basestring(obj)
    return json.dumps(obj)  # numbers, booleans, null


def render_list(kind, etag, fragments, pretty):
    """The list response as bytes from UTF-8 item fragments; the same text as
    json.dumps(body, indent=2, ensure_ascii=False) when pretty."""
    n = len(fragments)
    if not pretty:
        return b"".join((f'{{"kind":"{kind}","etag":"{etag}","items":['.encode(), b",".join(fragments),
                         f'],"pageInfo":{{"totalResults":{n},"resultsPerPage":{n}}}}}'.encode()))
    items = b"[\n    " + b",\n    ".join(fragments) + b"\n  ]" if fragments else b"[]"
    return b"".join((f'{{\n  "kind": "{kind}",\n  "etag": "{etag}",\n  "items": '.encode(), items,
                     f',\n  "pageInfo": {{\n    "totalResults": {n},\n    "resultsPerPage": {n}\n  }}\n}}'.encode()))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "scaffolding on HTTPServer2"
    sys_version = ""
    # Buffer the response so headers and body leave in one write (no Nagle/delayed-ACK stall).
    wbufsize = 64 * 1024
    timeout = 120  # idle keep-alive connections are closed, as Google's front end does

    def version_string(self):
        return self.server_version  # what Google's front end sends, without a Python version

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.server.state.connection_opened()

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    # -- plumbing ---------------------------------------------------------------------------------

    def _send(self, code, body, content_type=JSON_CT, headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False, indent=2 if self.server.pretty else None).encode()
        if body and "gzip" in self.headers.get("Accept-Encoding", "") and len(body) > 256:
            body = gzip.compress(body, compresslevel=1, mtime=0)
            headers = dict(headers or {})
            headers["Content-Encoding"] = "gzip"
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Origin, X-Origin, Referer")
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _consume_body(self):
        # Read the whole body before answering, whether or not the handler wants it: on a
        # kept-alive connection an unread body would be taken for the next request line.
        length = int(self.headers.get("Content-Length") or 0)
        self._raw_body = self.rfile.read(length) if length > 0 else b""

    def _read_json(self):
        raw = getattr(self, "_raw_body", b"")
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except ValueError:
            raise ControlError(400, "body is not JSON")
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        return body

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method):
        self._consume_body()
        url = urlsplit(self.path)
        query = parse_qs(url.query, keep_blank_values=True)
        try:
            if url.path.startswith(API_PREFIX):
                endpoint = url.path[len(API_PREFIX):].strip("/")
                if method == "GET" and endpoint in ("videos", "channels"):
                    return self._api(endpoint, query)
                return self._send(404, ApiError(404, "notFound", "Not Found").body())
            if url.path.startswith(CONTROL_PREFIX):
                return self._control(method, url.path[len(CONTROL_PREFIX):].strip("/"), query)
            return self._send(404, ApiError(404, "notFound", "Not Found").body())
        except ControlError as e:
            self._send(e.code, {"error": e.message})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception as e:  # an emulator bug: say so loudly rather than drop the connection
            traceback.print_exc()
            self.close_connection = True
            try:
                self._send(500, {"error": f"emulator bug: {e!r}"})
            except OSError:
                pass

    # -- the API ------------------------------------------------------------------------------------

    def _api(self, endpoint, query):
        state = self.server.state
        ids = _split_ids(query.get("id", []))
        fault = state.begin_call(endpoint, ids)
        status = 0
        try:
            status = self._api_call(endpoint, query, ids, fault)
        finally:
            state.end_call(endpoint, len(ids), status, fault["type"] if fault else None)

    def _api_call(self, endpoint, query, ids, fault):
        state = self.server.state
        delay = state.latency()
        if fault and fault["type"] == "slow":
            delay += float(fault["delay_ms"]) / 1000.0
        if delay > 0:
            time.sleep(delay)
        headers = {"Cache-Control": "private"}
        if fault and fault.get("retry_after") is not None:
            headers["Retry-After"] = fault["retry_after"]
        ftype = fault["type"] if fault else None

        try:
            if ftype == "403_quota":
                state.mark_exhausted()  # a refusal: no unit spent
                raise err_quota()
            # Error faults replace the answer and are billed whatever the key and quota; body faults
            # (malformed, malformed_shape, empty) and slow go through the normal checks below.
            if ftype in FAULT_ERRORS or ftype == "drop":
                state.charge_unconditionally()
                if ftype == "drop":
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return 0
                if ftype == "502" and fault.get("html"):
                    self._send(502, GOOGLE_502_HTML, "text/html; charset=UTF-8", headers)
                    return 502
                if ftype in FAULT_ERRORS:
                    raise FAULT_ERRORS[ftype]()

            key = (query.get("key") or [""])[0]
            if not key:
                raise err_missing_key()
            if key in state.invalid_keys:
                raise err_key_invalid()
            if not state.try_charge():
                raise err_quota()

            # Validation after charging: a 400 costs a unit, as on YouTube.
            allowed = VIDEO_PARTS if endpoint == "videos" else CHANNEL_PARTS
            parts = _split_ids(query.get("part", []))
            if not parts:
                raise ApiError(400, "required", "Required parameter: part",
                               extra={"location": "part", "locationType": "parameter"})
            for part in parts:
                if part != "id" and part not in allowed:
                    raise ApiError(400, "unknownPart", f"'{part}'", domain="youtube.part",
                                   extra={"location": "part", "locationType": "parameter"})
            if "id" not in query:
                raise ApiError(400, "missingRequiredParameter",
                               "No filter selected. Expected one of: id, chart, myRated",
                               domain="youtube.parameter",
                               extra={"location": "parameters.", "locationType": "other"})
            if len(ids) > MAX_IDS:
                raise ApiError(400, "invalidFilters", "The request specifies an invalid filter parameter.",
                               domain="youtube.parameter",
                               extra={"location": "parameters.", "locationType": "other"})
        except ApiError as e:
            self._send(e.code, e.body(), headers=headers)
            return e.code

        lookup = state.video_item if endpoint == "videos" else state.channel_item
        kind = "youtube#videoListResponse" if endpoint == "videos" else "youtube#channelListResponse"
        wanted = tuple(p for p in allowed if p in parts)
        items = []
        if ftype != "empty":
            for item_id in dict.fromkeys(ids):  # a duplicate id is answered once
                full = lookup(item_id)
                if full is not None:
                    items.append(full)
        items = order_items(items)
        etag = etag_of([list(wanted)] + [it["etag"] for it in items])
        if ftype == "malformed_shape":
            body = {"kind": kind, "etag": etag, "items": "unexpected", "pageInfo": {"totalResults": len(items)}}
            self._send(200, body, headers=headers)
            return 200
        headers["ETag"] = f'"{etag}"'
        if_none_match = self.headers.get("If-None-Match", "").strip().removeprefix("W/").strip('"')
        if if_none_match == etag and ftype is None:
            # A revalidation: no body, but billed like any call (it was charged above).
            self.send_response(304)
            for name, value in headers.items():
                self.send_header(name, str(value))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return 304
        pretty_param = query.get("prettyPrint", [""])[0].lower()
        pretty = self.server.pretty if pretty_param not in ("true", "false") else pretty_param == "true"
        fragments = [self.server.fragments.get(item, wanted, pretty) for item in items]
        payload = render_list(kind, etag, fragments, pretty)
        if ftype == "malformed":
            payload = payload[: max(1, len(payload) // 2)]  # cut mid-document: not valid JSON
        self._send(200, payload, headers=headers)
        return 200

    # -- the control surface ------------------------------------------------------------------------

    def _control(self, method, path, query):
        state = self.server.state
        corpus = state.corpus
        route = (method, path)
        if route == ("GET", "health"):
            return self._send(200, {"ok": True})
        if route == ("POST", "reset"):
            state.reset()
            return self._send(200, {"ok": True})
        if route == ("GET", "config"):
            with state.lock:
                return self._send(200, state.config_view())
        if route == ("POST", "config"):
            return self._send(200, state.configure(self._read_json()))
        if route == ("GET", "faults"):
            return self._send(200, {"faults": state.list_faults()})
        if route == ("POST", "faults"):
            return self._send(200, {"faults": state.set_faults(self._read_json())})
        if route == ("GET", "counters"):
            with_ids = query.get("ids", ["1"])[0] not in ("0", "false")
            return self._send(200, state.counters(with_ids))
        if route == ("GET", "ids"):
            kind = query.get("kind", ["normal"])[0]
            try:
                start = int(query.get("start", ["0"])[0])
                count = min(int(query.get("count", ["10"])[0]), 100000)
            except ValueError:
                raise ControlError(400, "start and count must be integers")
            try:
                return self._send(200, {"kind": kind, "ids": corpus.ids_of_kind(kind, max(0, start), max(0, count))})
            except KeyError:
                kinds = ["normal", "any", "unknown", "channels", "channel_without_handle"] + list(CLASS_RULES)
                raise ControlError(400, f"unknown kind {kind!r}; kinds: {', '.join(kinds)}")
        if path in ("video", "channel"):
            if method == "POST":
                return self._send(200, state.edit(path, self._read_json()))
            item_id = query.get("id", [""])[0]
            item = state.video_item(item_id) if path == "video" else state.channel_item(item_id)
            if item is None:
                raise ControlError(404, f"{path} {item_id!r} is omitted by the API")
            return self._send(200, item)
        if route == ("GET", "classes"):
            i = video_index_of(query.get("id", [""])[0])
            if not corpus.contains_index(i):
                raise ControlError(404, "not a corpus id")
            return self._send(200, {"index": i, "classes": classes_of(i)})
        raise ControlError(404, f"no control route {method} /_control/{path}")


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address, state, verbose=False, pretty=True):
        self.state = state
        self.fragments = FragmentCache()
        self.verbose = verbose
        self.pretty = pretty
        super().__init__(address, Handler)

    def handle_error(self, request, client_address):
        # A client that hangs up mid-response is routine (timeouts, drops); not worth a traceback.
        if self.verbose:
            super().handle_error(request, client_address)


def make_server(host="127.0.0.1", port=0, quota_limit=1_000_000, latency_ms=0, jitter_ms=0,
                corpus_size=200_000, verbose=False, pretty=True):
    """Build (but do not start) a server; call serve_forever() on it, e.g. in a thread."""
    state = State(Corpus(corpus_size), quota_limit, latency_ms, jitter_ms)
    return EmulatorServer((host, port), state, verbose=verbose, pretty=pretty)


def main(argv=None):
    parser = argparse.ArgumentParser(description="YouTube Data API v3 emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = ephemeral")
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--quota-limit", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--jitter-ms", type=float, default=0)
    parser.add_argument("--corpus-size", type=int, default=200_000)
    parser.add_argument("--compact", action="store_true", help="compact JSON (the real API pretty-prints)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)

    server = make_server(args.host, args.port, args.quota_limit, args.latency_ms, args.jitter_ms,
                         args.corpus_size, args.verbose, pretty=not args.compact)
    port = server.server_address[1]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    if args.port_file:
        tmp = f"{args.port_file}.tmp.{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)  # readers never see a half-written file
    print(f"youtube-emulator listening on http://{args.host}:{port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
