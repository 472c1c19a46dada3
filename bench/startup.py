"""Start-up benchmark: how long from `lrs serve` to answering, after a clean shutdown and after a crash.

    python bench/startup.py --data-dir DIR [--rounds 1] [--crash]

Each round starts the real service on the store in DIR and times (from the moment the process is
started) the first answer of GET /xapi/about (reads served) and the first stored statement of a
POST /xapi/statements sent at the same time (writes accepted: the writer's duplicate check is
sound). Then it stops the server with SIGTERM (a clean shutdown: the writer saves its id filter).
With --crash, one more round: while 4 clients post batches, SIGKILL the writer process and the
server (a crash mid-batch: nothing saved at shutdown), then start and time it again.
Each posted statement is new (a few are added to the store per round).
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, Server, machine, statement  # noqa: E402

HEADERS = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}


def timed_start(data_dir: Path) -> tuple[Server, float, float]:
    """Start the server; seconds to the first /about answer and to the first accepted write."""
    body = orjson.dumps([statement(random.Random())])
    for _ in range(3):  # a port taken by another process before the server bound it: a new port
        server = Server(data_dir)
        server.launch(["serve"])
        times: dict[str, float] = {}

        def poll(name: str, ask) -> None:
            deadline = time.time() + 300
            while time.time() < deadline and not server.exited():
                try:
                    if ask().status_code == 200:
                        times[name] = time.perf_counter() - server.started
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.01)

        with httpx.Client(auth=(KEY, SECRET), headers=HEADERS, timeout=300) as http:
            threads = [threading.Thread(target=poll, args=("read", lambda: http.get(server.url + "/about"))),
                       threading.Thread(target=poll, args=("write", lambda: http.post(server.url + "/statements",
                                                                                         content=body)))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        why = server.exited()
        if why is None:
            return server, times.get("read", float("nan")), times.get("write", float("nan"))
        if "address already in use" not in why.lower():
            raise RuntimeError(f"the server exited before answering ({why})")
    raise RuntimeError("three ports in a row were taken before the server bound them")


def crash_mid_ingest(server: Server, seconds: float = 3.0) -> int:
    """Post batches from 4 clients, then SIGKILL the writer process and the server. Returns statements stored."""
    stop = threading.Event()
    stored = [0]

    def post(seed: int):
        rng = random.Random(seed)
        with httpx.Client(auth=(KEY, SECRET), headers=HEADERS, timeout=30) as http:
            while not stop.is_set():
                try:
                    if http.post(server.url + "/statements",
                                 content=orjson.dumps([statement(rng) for _ in range(100)])).status_code == 200:
                        stored[0] += 100
                except httpx.TransportError:
                    return

    clients = [threading.Thread(target=post, args=(time.time_ns() + k,)) for k in range(4)]
    for c in clients:
        c.start()
    time.sleep(seconds)
    pids = server.pids()
    for pid in reversed(pids):  # the writer process first: it must not get to save anything
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    server.proc.wait(10)
    stop.set()
    for c in clients:
        c.join()
    Path(server.log.name).unlink(missing_ok=True)
    return stored[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=1, help="clean starts to time")
    ap.add_argument("--crash", action="store_true", help="then a crash mid-batch and a start after it")
    args = ap.parse_args()
    for n in range(args.rounds):
        server, read, write = timed_start(args.data_dir)
        server.__exit__(None, None, None)
        print(f"  start after a clean shutdown: /about answered after {read:.2f} s, first write stored after "
              f"{write:.2f} s", flush=True)
        print(f"RESULT\tclean\t{read:.2f}\t{write:.2f}", flush=True)
    if args.crash:
        server, _, _ = timed_start(args.data_dir)
        stored = crash_mid_ingest(server)
        server, read, write = timed_start(args.data_dir)
        server.__exit__(None, None, None)
        print(f"  start after SIGKILL of the server and its writer mid-batch ({stored} statements posted before): "
              f"/about answered after {read:.2f} s, first write stored after {write:.2f} s", flush=True)
        print(f"RESULT\tcrash\t{read:.2f}\t{write:.2f}", flush=True)
    import sqlite3

    conn = sqlite3.connect(f"file:{args.data_dir / 'lrs.sqlite3'}?mode=ro", uri=True)
    print(f"{conn.execute('SELECT max(seq) FROM statements').fetchone()[0] or 0} statements in the store "
          "(its newest seq)")
    conn.close()
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
