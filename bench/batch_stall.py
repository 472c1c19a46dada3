"""How long one big batch holds up everyone else: the event loop and the other writers.

    python bench/batch_stall.py [--statements 1000] [--kib 22] [--rounds 3]

A real server (one worker) on an empty store. While one client POSTs a batch of ``--statements``
Statements of about ``--kib`` KiB each (22 MB with the defaults: big result extensions, the
largest the default LRS_MAX_REQUEST_BYTES and LRS_MAX_BATCH_STATEMENTS allow for such
Statements), a pinger GETs /xapi/about every 10 ms and another writer POSTs batches of 100
small Statements one after another. Prints the longest /about answer (the event loop's
longest stall), the longest small-batch POST, and the big batch's own time.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, Server, machine, statement, store_name  # noqa: E402

HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def big_batch(rng: random.Random, n: int, kib: int) -> bytes:
    out = []
    for _ in range(n):
        st = statement(rng)
        items = [{"q": f"question {i}", "a": rng.randrange(1000), "ok": i % 3 == 0} for i in range(kib * 1024 // 40)]
        st["result"]["extensions"]["https://example.com/xapi/ext/answers"] = items
        out.append(st)
    return orjson.dumps(out)


class Loop(threading.Thread):
    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.times: list[tuple[float, float]] = []   # (start, duration)
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            start = time.perf_counter()
            self.fn()
            self.times.append((start, time.perf_counter() - start))

    def worst(self, t0: float, t1: float) -> float:
        return max((d for s, d in self.times if s + d >= t0 and s <= t1), default=0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--statements", type=int, default=1000)
    ap.add_argument("--kib", type=int, default=22)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(1)
    body = big_batch(rng, args.statements, args.kib)
    print(f"{machine()}; {store_name()}; big batch {len(body) / 1e6:.1f} MB ({args.statements} Statements)")
    with tempfile.TemporaryDirectory() as d, Server(Path(d)) as srv:
        about = httpx.Client(headers=HEADERS, timeout=120)
        small = httpx.Client(auth=(KEY, SECRET), headers=HEADERS, timeout=120)
        big = httpx.Client(auth=(KEY, SECRET), headers=HEADERS, timeout=300)

        def ping():
            about.get(srv.url + "/about")
            time.sleep(0.01)

        def write():
            r = small.post(srv.url + "/statements", content=orjson.dumps([statement(rng) for _ in range(100)]))
            assert r.status_code == 200, r.text[:200]

        pinger, writer = Loop(ping), Loop(write)
        pinger.start()
        writer.start()
        time.sleep(1)
        idle_ping = pinger.worst(0, time.perf_counter())
        idle_write = writer.worst(0, time.perf_counter())
        print(f"before the big batch: longest /about {idle_ping * 1000:.0f} ms, longest 100-statement POST "
              f"{idle_write * 1000:.0f} ms")
        for r in range(args.rounds):
            body = big_batch(rng, args.statements, args.kib)
            t0 = time.perf_counter()
            resp = big.post(srv.url + "/statements", content=body)
            t1 = time.perf_counter()
            time.sleep(0.5)
            print(f"round {r + 1}: big batch {resp.status_code} in {t1 - t0:.2f} s; meanwhile longest /about "
                  f"{pinger.worst(t0, t1) * 1000:.0f} ms, longest 100-statement POST "
                  f"{writer.worst(t0, t1) * 1000:.0f} ms")
        pinger.halt.set()
        writer.halt.set()
        pinger.join()
        writer.join()


if __name__ == "__main__":
    main()
