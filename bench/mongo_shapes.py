"""The mongo adapter's real query shapes, timed through the adapter itself on a MongoDB-wire server.

    LRS_MONGODB_URL=mongodb://127.0.0.1:27017/ python bench/mongo_shapes.py --total 100000 --reads 20

Stores --total realistic Statements (bench/common.py's generator) with the adapter's own write path
(``AsyncMongoStore.insert``, batches of --batch), then abandons one batch through the adapter (as a
writer that died leaves it), so that every read carries the filter the adapter sends once any batch
was abandoned: ``{s: {$gte, $lte}, vd: false, p: {$nin: [...]}}`` plus ``t: h`` or ``t: {$all: [...]}``
per term, sorted by ``s``, with the index named by ``hint`` (lrs/storage/mongo.py ``query_filter``).
Each shape is ``AsyncMongoStore.query`` (or ``stream``/``get``) end to end: watermark, abandoned list,
since/until bounds, the find, and the exact term check. For comparison it also times the bare
``{t: h}`` find that bench/mongo_raw.py times. Uses the database ``lrs_bench_shapes``, dropped first
unless --keep finds it already filled.

``--no-hints`` drops the ``hint`` of every call (a proxy around the adapter's collections, the adapter
unchanged), leaving the plan to the server's own planner: SecantusDB 0.7.0b3 walks the whole hinted
index for a hinted find (secantus/storage.py ``_candidates_from_hint``), ignoring the filter's bounds,
so with hints its figures are its hint walk's, not the filter's.
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
from pymongo import DESCENDING

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from common import machine, percentile, statement  # noqa: E402
from lrs.statements.forms import prepare  # noqa: E402
from lrs.statements.terms import agent_term, statement_terms, term_hash  # noqa: E402
from lrs.storage.mongo import AsyncMongoStore  # noqa: E402
from lrs.storage.ports import NewStatement, StatementQuery  # noqa: E402

AUTHORITY = {"objectType": "Agent", "account": {"homePage": "https://lrs.example.com", "name": "bench"}}
DATABASE = "lrs_bench_shapes"


async def load(store: AsyncMongoStore, total: int, batch: int, clients: int, rng: random.Random) -> list[dict]:
    """Store ``total`` Statements through the adapter; a sample of them (for query parameters)."""
    statements = [prepare(statement(rng), AUTHORITY, "1.0.3") for _ in range(total)]
    batches = [statements[i:i + batch] for i in range(0, total, batch)]
    queue: asyncio.Queue = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    done = 0
    start = time.perf_counter()

    async def client():
        nonlocal done
        while not queue.empty():
            b = queue.get_nowait()
            await store.insert([NewStatement(st, statement_terms(st)) for st in b], {}, True)
            done += len(b)
            if done % (total // 10 or 1) < len(b):
                print(f"  stored {done:,} ({done / (time.perf_counter() - start):,.0f}/s)", flush=True)

    await asyncio.gather(*(client() for _ in range(clients)))
    took = time.perf_counter() - start
    print(f"stored {total:,} Statements through AsyncMongoStore.insert (batches of {batch}, {clients} clients) "
          f"in {took:.1f} s = {total / took:,.0f}/s")
    return rng.sample(statements, min(2000, total))


async def timed(reads: int, call) -> list[float]:
    out = []
    for _ in range(reads):
        start = time.perf_counter()
        await call()
        out.append(time.perf_counter() - start)
    return out


class _NoHints:
    """A collection whose calls leave out ``hint``."""

    def __init__(self, coll):
        self._coll = coll

    def __getattr__(self, name):
        attr = getattr(self._coll, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            kwargs.pop("hint", None)
            return attr(*args, **kwargs)
        return call


def without_hints(store: AsyncMongoStore) -> None:
    for name in ("statements", "batches", "outcomes", "abandoned", "refs", "attachments_", "uploads", "activities_",
                 "documents", "credentials_", "secrets"):
        setattr(store, name, _NoHints(getattr(store, name)))


async def run(url: str, total: int, batch: int, clients: int, reads: int, keep: bool, hints: bool) -> None:
    rng = random.Random(1)
    store = AsyncMongoStore(url, DATABASE)
    if not hints:
        without_hints(store)
    count = await store.statements.estimated_document_count() if keep else 0
    if count < total:
        await store.client.drop_database(DATABASE)
        await store.setup()
        sample = await load(store, total, batch, clients, rng)
        number, _ = await store._claim(0)          # a batch whose writer died: the adapter abandons it
        await store._resolve(number, False)
    else:
        await store.setup()
        print(f"reusing {count:,} stored Statements in {DATABASE}")
        step = max(1, count // 2000)  # every step-th Statement ($sample: FerretDB 1.24 has no such stage)
        sample = [orjson.loads(d["body"]) async for d in store.statements.find({}, {"body": 1}, hint="_id_")
                  if rng.randrange(step) == 0]
    print(f"hints: {'as the adapter sends them' if hints else 'left out (--no-hints)'}")
    print(f"machine: {machine()}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"abandoned batches: {len(await store.abandoned.find({}, hint='_id_').to_list(None))} "
          f"(every read carries p: {{$nin: [...]}})")
    first = min(s["stored"] for s in sample)
    last = max(s["stored"] for s in sample)

    def pick():
        return rng.choice(sample)

    def agent(st):
        return ("A:" + agent_term(st["actor"]), True)

    def window():
        lo, hi = sorted(rng.sample(sorted({s["stored"] for s in sample}), 2))
        return lo, hi

    shapes = {
        "no filter, newest 100": lambda: StatementQuery(limit=100),
        "agent (t: h)": lambda: StatementQuery(terms=[agent(pick())], limit=100),
        "verb + activity (t: {$all: [2]})": lambda: (lambda st: StatementQuery(
            terms=[("v:" + st["verb"]["id"], False), ("O:" + st["object"]["id"], True)], limit=100))(pick()),
        "registration (t: h)": lambda: StatementQuery(
            terms=[("r:" + pick()["context"]["registration"].lower(), False)], limit=100),
        "since + until": lambda: (lambda w: StatementQuery(since=w[0], until=w[1], limit=100))(window()),
        "agent + since + until": lambda: (lambda w: StatementQuery(
            terms=[agent(pick())], since=w[0], until=w[1], limit=100))(window()),
    }
    print(f"{total:,} Statements, {reads} reads per shape (stored from {first} to {last}):")

    def show(name, lat):
        print(f"  {name}: p50 {percentile(lat, 50) * 1000:.1f} ms, p95 {percentile(lat, 95) * 1000:.1f} ms", flush=True)

    for name, make in shapes.items():
        show(f"query: {name}", await timed(reads, lambda: store.query(make())))
    top = await store.last_seq()
    show("stream: 1,000 after a random seq", await timed(reads, lambda: store.stream(rng.randrange(top), 1000)))
    show("get: one Statement by id", await timed(reads, lambda: store.get(pick()["id"], False)))
    hashes = [term_hash("A:" + agent_term(s["actor"])) for s in sample]
    show("bare find {t: h} sort s desc limit 21 (bench/mongo_raw.py's shape, no hint)",
         await timed(reads, lambda: store.statements.find({"t": rng.choice(hashes)})
                     .sort("s", DESCENDING).limit(21).to_list(None)))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    await store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--reads", type=int, default=20)
    ap.add_argument("--keep", action="store_true", help="reuse the database when it already holds --total Statements")
    ap.add_argument("--no-hints", action="store_true", help="leave every hint out (the server's planner decides)")
    args = ap.parse_args()
    url = os.environ.get("LRS_MONGODB_URL")
    if not url:
        print("set LRS_MONGODB_URL to the server to measure", file=sys.stderr)
        return 2
    asyncio.run(run(url, args.total, args.batch, args.clients, args.reads, args.keep, not args.no_hints))
    return 0


if __name__ == "__main__":
    sys.exit(main())
