#!/usr/bin/python3
"""Baseline (a): the design vault_metadata replaces, rebuilt for comparison.

An asyncio service on a Unix socket. A frame is a 4-byte big-endian length followed by
that many bytes of msgpack. Request: {"video_ids": [id, ...]}. Response: a map
{id: item} in request order, holding only ids that have metadata, items in the contract's
shape (the same keys as vault_metadata_fetch_batch()). The service holds its own SQLite
cache (WAL, one msgpack blob per video, like the old service) and fetches what it lacks
from the API (the emulator) in chunks of 50, in parallel threads, then answers from it.

Runs on Debian's python3 with python3-msgpack (bench/install-deps.sh):
    /usr/bin/python3 bench/socket_service.py --socket S --db D --api-base URL [--prefill ID,ID,...]
It prints "ready" once it listens and exits 0 on SIGTERM.
"""

import argparse
import asyncio
import concurrent.futures
import json
import re
import signal
import sqlite3
import struct
import time
import urllib.request
from datetime import datetime

import msgpack

PART = "snippet,contentDetails,statistics,status"
DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def iso_duration(d):
    m = DURATION.match(d or "")
    if not m:
        return 0
    days, h, mi, s = (int(x or 0) for x in m.groups())
    return days * 86400 + h * 3600 + mi * 60 + s


def item_from_api(v):
    s, c = v.get("snippet", {}), v.get("contentDetails", {})
    st, status = v.get("statistics", {}), v.get("status", {})
    region = c.get("regionRestriction", {})
    published = re.sub(r"\.\d+", "", s.get("publishedAt", "1970-01-01T00:00:00Z")).replace("Z", "+00:00")

    def count(k):
        return int(st[k]) if k in st else None

    return {
        "video_id": v["id"],
        "title": s.get("title", ""),
        "channel_id": s.get("channelId", ""),
        "channel_title": s.get("channelTitle", ""),
        "channel_handle": None,
        "published_at": int(datetime.fromisoformat(published).timestamp()),
        "duration_seconds": iso_duration(c.get("duration")),
        "view_count": count("viewCount"),
        "like_count": count("likeCount"),
        "comment_count": count("commentCount"),
        "category_id": s.get("categoryId", ""),
        "live_broadcast_content": s.get("liveBroadcastContent", "none"),
        "age_restricted": c.get("contentRating", {}).get("ytRating") == "ytAgeRestricted",
        "licensed_content": bool(c.get("licensedContent", False)),
        "embeddable": bool(status.get("embeddable", False)),
        "made_for_kids": bool(status.get("madeForKids", False)),
        "privacy_status": status.get("privacyStatus", ""),
        "allowed_countries": region.get("allowed"),
        "blocked_countries": region.get("blocked", []),
    }


class Service:
    def __init__(self, db_path, api_base, max_age):
        self.db = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
        self.db.executescript(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;"
            "CREATE TABLE IF NOT EXISTS videos (video_id TEXT PRIMARY KEY, fetched_at INTEGER NOT NULL,"
            " payload BLOB NOT NULL) WITHOUT ROWID;")
        self.api_base = api_base.rstrip("/")
        self.max_age = max_age
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=20)

    def _videos_list(self, ids):
        url = f"{self.api_base}/videos?part={PART}&id={','.join(ids)}&key=bench"
        with urllib.request.urlopen(url, timeout=30) as r:
            return json.loads(r.read())["items"]

    async def fetch(self, ids):
        loop = asyncio.get_running_loop()
        chunks = [ids[i:i + 50] for i in range(0, len(ids), 50)]
        answers = await asyncio.gather(*(loop.run_in_executor(self.pool, self._videos_list, c) for c in chunks))
        now = int(time.time())
        rows = [(v["id"], now, msgpack.packb(item_from_api(v))) for items in answers for v in items]
        self.db.execute("BEGIN IMMEDIATE")
        self.db.executemany(
            "INSERT INTO videos (video_id, fetched_at, payload) VALUES (?, ?, ?) ON CONFLICT (video_id)"
            " DO UPDATE SET fetched_at = excluded.fetched_at, payload = excluded.payload", rows)
        self.db.execute("COMMIT")

    def read(self, ids):
        marks = ",".join("?" * len(ids))
        cur = self.db.execute(f"SELECT video_id, fetched_at, payload FROM videos WHERE video_id IN ({marks})", ids)
        now = int(time.time())
        found = {}
        for video_id, fetched_at, payload in cur:
            if now - fetched_at < self.max_age:
                item = msgpack.unpackb(payload)
                item["ttl"] = self.max_age - (now - fetched_at)
                item["fetched_at"] = fetched_at
                item["stale"] = False
                found[video_id] = item
        return found

    async def answer(self, ids):
        ids = list(dict.fromkeys(ids))
        found = self.read(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            await self.fetch(missing)
            found.update(self.read(missing))
        return {i: found[i] for i in ids if i in found}

    async def client(self, reader, writer):
        try:
            while True:
                head = await reader.readexactly(4)
                (length,) = struct.unpack(">I", head)
                request = msgpack.unpackb(await reader.readexactly(length))
                body = msgpack.packb(await self.answer(request["video_ids"]))
                writer.write(struct.pack(">I", len(body)) + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--socket", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--api-base", required=True)
    p.add_argument("--max-age", type=int, default=3600)
    p.add_argument("--prefill", default="")
    a = p.parse_args()
    service = Service(a.db, a.api_base, a.max_age)
    if a.prefill:
        await service.answer(a.prefill.split(","))
    server = await asyncio.start_unix_server(service.client, path=a.socket)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
