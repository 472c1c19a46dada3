"""Query benchmark over a store built by bench/ingest.py (--data-dir), on a real server.

    python bench/query.py --data-dir DIR [--queries 200] [--pages 3] [--clients 4] [--passes 2]

Each query shape is asked with parameters drawn from stored statements, and each answer is
followed through its `more` links for up to --pages pages. Prints p50/p95/p99 latency of every
request per shape, and peak server RSS. Shapes: agent (one of 20,000 learners), verb + activity,
registration (1-4 statements each at 1-10M), related activities, since/until, rare agent (an
occasional learner: about one statement each, see bench/common.py) and absent registration (a
random one no statement has). Pass 1 runs right after the server started, before any other
query (cold: the server's SQLite page caches are empty; the OS page cache is not dropped), pass 2
after it (warm).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, RssSampler, Server, machine, percentile, store_name  # noqa: E402

from lrs.storage.bodies import Bodies  # noqa: E402


def shapes(rng: random.Random, stored_range: tuple[str, str], sample: list[dict]):
    """Each shape yields query parameters for one request chain, drawn from stored statements."""
    first, last = stored_range

    def agent():
        return {"agent": json.dumps({"mbox": rng.choice(sample)["actor"]["mbox"]})}

    def verb_activity():
        st = rng.choice(sample)
        return {"verb": st["verb"]["id"], "activity": st["object"]["id"]}

    def reg():
        return {"registration": rng.choice(sample)["context"]["registration"]}

    def related():
        return {"activity": rng.choice(sample)["context"]["contextActivities"]["parent"][0]["id"],
                "related_activities": "true"}

    def since_until():
        a, b = _t(first), _t(last)
        start = a + rng.random() * (b - a) * 0.9
        return {"since": _iso(start), "until": _iso(start + (b - a) * 0.05)}

    rare = [st for st in sample if st["actor"].get("mbox", "").startswith("mailto:occasional")]

    def rare_agent():
        return {"agent": json.dumps({"mbox": rng.choice(rare)["actor"]["mbox"]})}

    def absent_registration():
        return {"registration": str(uuid.UUID(int=rng.getrandbits(128), version=4))}

    out = {"agent": agent, "verb+activity": verb_activity, "registration": reg,
           "related_activities": related, "since/until": since_until}
    if rare:
        out["rare agent"] = rare_agent
    out["absent registration"] = absent_registration
    return out


def _t(iso: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def _iso(ts: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def chain(http: httpx.AsyncClient, base: str, params: dict, pages: int, lat: list, counts: list):
    resp = await _get(http, base + "/statements", params, lat)
    n = len(resp["statements"])
    for _ in range(pages - 1):
        if not resp["more"]:
            break
        resp = await _get(http, base.rsplit("/xapi", 1)[0] + resp["more"], None, lat)
        n += len(resp["statements"])
    counts.append(n)


async def _get(http, url, params, lat):
    start = time.perf_counter()
    r = await http.get(url, params=params)
    lat.append(time.perf_counter() - start)
    if r.status_code != 200:
        raise RuntimeError(f"{r.status_code} {r.text[:200]}")
    return r.json()


async def run_shape(base, make, queries, pages, clients, limit=20):
    lat: list[float] = []
    counts: list[int] = []
    headers = {"X-Experience-API-Version": "1.0.3"}
    sem = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(auth=(KEY, SECRET), headers=headers, timeout=60) as http:
        async def one():
            async with sem:
                await chain(http, base, dict(make(), limit=str(limit)), pages, lat, counts)
        await asyncio.gather(*(one() for _ in range(queries)))
    return lat, counts


def mongo_sample(url: str, rng: random.Random) -> tuple[int, str, str, list[dict]]:
    """Count, stored range and ~2,000 stored statements of the mongo store (whole batches drawn at random)."""
    import pymongo

    from lrs.storage.mongo import SHIFT

    with pymongo.MongoClient(url) as client:
        db = client.get_default_database("lrs")
        total = db.statements.count_documents({})
        first = db.statements.find_one({}, {"st": 1}, sort=[("s", 1)])["st"]
        last = db.statements.find_one({}, {"st": 1}, sort=[("s", -1)])["st"]
        numbers = [b["_id"] for b in db.batches.find({}, {"_id": 1})]
        sample: list[dict] = []
        while len(sample) < 2000 and numbers:
            n = numbers.pop(rng.randrange(len(numbers)))
            sample += [orjson.loads(d["body"]) for d in db.statements.find(
                {"s": {"$gte": n << SHIFT, "$lt": (n + 1) << SHIFT}}, {"body": 1})]
    return total, first, last, sample[:2000]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=200, help="request chains per shape")
    ap.add_argument("--pages", type=int, default=3, help="pages followed through `more` per chain")
    ap.add_argument("--limit", type=int, default=20, help="statements per page (the limit parameter)")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--passes", type=int, default=2, help="passes over the shapes: the first cold, then warm")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    if os.environ.get("LRS_MONGODB_URL"):
        total, first, last, sample = mongo_sample(os.environ["LRS_MONGODB_URL"], rng)
    else:
        db = sqlite3.connect(args.data_dir / "lrs.sqlite3")
        total, first, last = db.execute("SELECT count(*), min(stored), max(stored) FROM statements").fetchone()
        # 20,000 statements at random: about 20 of them are rare agents' (1 in 1,000)
        seqs = sorted({rng.randrange(1, total + 1) for _ in range(20_000)})
        sample, bodies = [], Bodies()   # bodies may be compressed (lrs/storage/bodies.py)
        for k in range(0, len(seqs), 500):
            chunk = seqs[k:k + 500]
            sample += [orjson.loads(bodies.plain(db, b)) for (b,) in db.execute(
                f"SELECT body FROM statements WHERE seq IN ({','.join('?' * len(chunk))})", chunk)]
        db.close()
    results = {}
    with Server(args.data_dir) as server:
        sampler = RssSampler(server)
        sampler.start()
        for n in range(1, args.passes + 1):
            label = "cold" if n == 1 else "warm"
            for name, make in shapes(rng, (first, last), sample).items():
                lat, counts = asyncio.run(run_shape(server.url, make, args.queries, args.pages, args.clients,
                                                    args.limit))
                results[name, label] = (lat, counts)
                print(f"  {label} {name:<20} {len(lat):>5} requests  p50 {percentile(lat, 50) * 1000:6.1f} ms  "
                      f"p95 {percentile(lat, 95) * 1000:6.1f} ms  p99 {percentile(lat, 99) * 1000:6.1f} ms  "
                      f"avg {sum(counts) / len(counts):6.1f} statements/chain", flush=True)
                print(f"RESULT\t{args.clients}\t{label}\t{name}\t{percentile(lat, 50) * 1000:.1f}\t"
                      f"{percentile(lat, 95) * 1000:.1f}\t{percentile(lat, 99) * 1000:.1f}", flush=True)
        peak = sampler.stop()
    print(f"machine: {machine()}")
    print(f"data: {total:,} statements in the {store_name()}; {args.queries} chains per shape, "
          f"up to {args.pages} pages of {args.limit} each through `more`, {args.clients} concurrent clients")
    worst = max(percentile(lat, 95) for lat, _ in results.values())
    print(f"worst p95: {worst * 1000:.1f} ms; server RSS peak: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
