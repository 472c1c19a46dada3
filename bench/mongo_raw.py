"""What the MongoDB-compatible server itself can do, without the LRS: the ceiling for the mongo adapter.

    LRS_MONGODB_URL=mongodb://127.0.0.1:27017/ python bench/mongo_raw.py --total 20000 --clients 4

Inserts documents shaped as the adapter stores statements (id, seq, stored time, term hashes,
the ~1.3 KB body) with ``insert_many`` of 100 from concurrent clients, then times the reads the
adapter's queries need, at that collection size: one document by ``_id``, and the newest 21
documents with one term (``{t: h}`` sorted by seq, as the term_seq index serves on MongoDB).
Uses its own database (``lrs_bench_raw``), dropped first.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

import orjson
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, percentile, statement  # noqa: E402
from lrs.statements.forms import prepare  # noqa: E402
from lrs.statements.terms import statement_terms  # noqa: E402
from lrs.storage.mongo import term_hashes  # noqa: E402

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://lrs.example.com", "name": "bench"}}


def documents(rng: random.Random, start: int, n: int) -> list[dict]:
    out = []
    for i in range(n):
        st = prepare(statement(rng), AUTHORITY, "1.0.3")
        st["stored"] = st["timestamp"]
        out.append({"_id": st["id"], "s": start + i, "st": st["stored"], "vd": False, "vg": False,
                    "body": orjson.dumps(st), "t": term_hashes(statement_terms(st))})
    return out


async def insert(coll, batches: asyncio.Queue, latencies: list[float]) -> None:
    while True:
        try:
            docs = batches.get_nowait()
        except asyncio.QueueEmpty:
            return
        start = time.perf_counter()
        await coll.insert_many(docs, ordered=True)
        latencies.append(time.perf_counter() - start)


async def timed(n: int, call) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


async def run(url: str, total: int, clients: int, reads: int) -> None:
    client = AsyncMongoClient(url)
    db = client["lrs_bench_raw"]
    await client.drop_database("lrs_bench_raw")
    coll = db["statements"]
    await coll.create_index([("s", ASCENDING)], unique=True)
    await coll.create_index([("t", ASCENDING), ("s", ASCENDING)])
    rng = random.Random(1)
    all_docs = [documents(rng, b * 100, 100) for b in range(total // 100)]  # built outside the timing
    queue: asyncio.Queue = asyncio.Queue()
    for docs in all_docs:
        queue.put_nowait(docs)
    latencies: list[float] = []
    start = time.perf_counter()
    await asyncio.gather(*(insert(coll, queue, latencies) for _ in range(clients)))
    took = time.perf_counter() - start
    print(f"machine: {machine()}")
    print(f"insert_many of 100, {clients} clients: {total:,} documents in {took:.1f} s = {total / took:,.0f} documents/s; "
          f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms per call")
    ids = [d["_id"] for docs in all_docs for d in docs]
    terms = [d["t"][1] for docs in all_docs for d in docs]  # the actor's term
    by_id = await timed(reads, lambda: coll.find_one({"_id": rng.choice(ids)}))
    by_term = await timed(reads, lambda: coll.find({"t": rng.choice(terms)}).sort("s", DESCENDING).limit(21).to_list(None))
    for name, lat in (("find_one by _id", by_id), ("21 newest with one term", by_term)):
        print(f"{name} over {total:,} documents: p50 {percentile(lat, 50) * 1000:.1f} ms, "
              f"p95 {percentile(lat, 95) * 1000:.1f} ms ({reads} reads)")
    await client.drop_database("lrs_bench_raw")
    await client.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=20_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--reads", type=int, default=50)
    args = ap.parse_args()
    url = os.environ.get("LRS_MONGODB_URL")
    if not url:
        print("set LRS_MONGODB_URL to the server to measure", file=sys.stderr)
        return 2
    asyncio.run(run(url, args.total, args.clients, args.reads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
