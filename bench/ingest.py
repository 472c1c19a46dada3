"""Ingest benchmark: concurrent clients POST batches of realistic statements to a real server.

    python bench/ingest.py --total 200000 --clients 4 --batch 100 [--data-dir DIR]

Full validation is on (it always is). Prints statements/s, request latency and peak server RSS.
With --data-dir the store is kept, so bench/query.py can run over it.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, RssSampler, Server, machine, percentile, statement, store_name  # noqa: E402


async def client(url: str, batches: asyncio.Queue, latencies: list, errors: list, done: list):
    headers = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    async with httpx.AsyncClient(auth=(KEY, SECRET), headers=headers, timeout=120) as http:
        while True:
            try:
                body, n = batches.get_nowait()
            except asyncio.QueueEmpty:
                return
            start = time.perf_counter()
            resp = await http.post(url + "/statements", content=body)
            latencies.append(time.perf_counter() - start)
            if resp.status_code != 200:
                errors.append((resp.status_code, resp.text[:200]))
            else:
                done.append(n)


def make_batches(total: int, batch: int, seed: int) -> list[tuple[bytes, int]]:
    rng = random.Random(seed)
    out = []
    for start in range(0, total, batch):
        n = min(batch, total - start)
        out.append((orjson.dumps([statement(rng) for _ in range(n)]), n))
    return out


async def run(url: str, batches: list, clients: int):
    queue: asyncio.Queue = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    latencies: list[float] = []
    errors: list = []
    done: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(*(client(url, queue, latencies, errors, done) for _ in range(clients)))
    return time.perf_counter() - start, latencies, errors, sum(done)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=100_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--chunk", type=int, default=100_000, help="statements generated ahead per round")
    ap.add_argument("--data-dir", type=Path, help="keep the store here (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="server worker processes (lrs serve --workers)")
    args = ap.parse_args()
    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="lrs-bench-")
        data_dir = Path(tmp.name)
    stored = 0
    elapsed = 0.0
    latencies: list[float] = []
    errors: list = []
    with Server(data_dir, workers=args.workers) as server:
        sampler = RssSampler(server)
        sampler.start()
        rounds = 0
        while stored < args.total:
            n = min(args.chunk, args.total - stored)
            batches = make_batches(n, args.batch, args.seed * 1_000_003 + rounds)  # generated outside the timing
            rounds += 1
            took, lat, errs, ok = asyncio.run(run(server.url, batches, args.clients))
            elapsed += took
            latencies += lat
            errors += errs
            stored += ok
            print(f"  {stored:>9} stored, {ok / took:,.0f} statements/s this round, "
                  f"server RSS {sampler.peak:.0f} MB peak", flush=True)
            if errs:
                break
        peak = sampler.stop()
    print(f"machine: {machine()}")
    print(f"data: {stored:,} statements in batches of {args.batch}, {args.clients} concurrent clients, "
          f"full validation, {store_name()}, {args.workers} server worker(s)")
    print(f"ingest: {stored / elapsed:,.0f} statements/s sustained over {elapsed:.1f} s")
    print(f"request latency: p50 {percentile(latencies, 50) * 1000:.1f} ms, "
          f"p95 {percentile(latencies, 95) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms")
    print(f"server RSS peak: {peak:.0f} MB")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
