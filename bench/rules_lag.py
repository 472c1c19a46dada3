"""Rules lag under full ingest: how long after a statement is stored the engine has derived it.

    python bench/rules_lag.py --total 200000 --clients 4 --batch 100 [--people 10000 --certs 50]
                              [--day-pass before|during]

A fresh data folder gets the world of bench/rules_world.py (people ``learner{i}@example.com``,
i < PEOPLE, and the certifications over courses 0..CERTS-1 of bench/common.py, all published), then
``lrs serve`` runs on it with the rules engine as the server runs it by default (``--engine server``,
LRS_RULES_ENGINE=true: since the engine left the server's process, in the child process ``lrs serve``
starts, ``lrs rules run``; ``--engine process``: the server with LRS_RULES_ENGINE=false and ``lrs rules
run`` started by this script) while
bench/ingest.py's clients post its statements at full speed (the same code: random learners of
20,000, random modules of 200 courses, so about one statement in 40 concerns a rule of a person in
the directory). A monitor reads, every 20 ms, the LRS store's last seq and the engine's checkpoint
(``derived``: the seq up to which the people concerned have been derived and their records
written). The lag of a sample is the time from the moment a seq was seen stored until the first
moment ``derived`` reached it; printed as percentiles over the samples taken during the ingest.
Embedded SQLite store.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, Server, machine, percentile  # noqa: E402
from ingest import make_batches, run  # noqa: E402
from rules_rebuild import setup  # noqa: E402

from lrs.storage import open_store  # noqa: E402
from rules.cli import _outbox  # noqa: E402
from rules.core import Rules  # noqa: E402
from rules.outbox import CURSOR  # noqa: E402
from rules.storage import open_rules_store  # noqa: E402
from rules.storage.outbox import open_outbox_store  # noqa: E402
from service.config import Settings  # noqa: E402


class Monitor(threading.Thread):
    def __init__(self, data_dir: Path, every: float):
        super().__init__(daemon=True)
        self.data_dir, self.every = data_dir, every
        self.samples: list[tuple[float, int, int]] = []     # (time, last seq stored, seq derived)
        self._halt = threading.Event()

    def run(self):
        lrs = sqlite3.connect(f"file:{self.data_dir / 'lrs.sqlite3'}?mode=ro", uri=True, timeout=30)
        rules = sqlite3.connect(f"file:{self.data_dir / 'rules.sqlite3'}?mode=ro", uri=True, timeout=30)
        while not self._halt.is_set():
            top = lrs.execute("SELECT max(seq) FROM statements").fetchone()[0] or 0
            row = rules.execute("SELECT body FROM checkpoint WHERE id = 1").fetchone()
            cp = orjson.loads(row[0]) if row else {}
            self.samples.append((time.perf_counter(), top, cp.get("derived", 0)))
            time.sleep(self.every)

    def stop(self):
        self._halt.set()
        self.join()


def new_day(data_dir: Path) -> None:
    """As if the day had changed: the engine's next pass starts the day's sweep of the reminders."""
    outbox = open_outbox_store(data_dir)
    outbox.set_cursor(CURSOR, {"day": "2000-01-01", "n": outbox.cursor(CURSOR).get("n", -1)})
    outbox.close()


def lags(samples: list[tuple[float, int, int]], start: float, end: float) -> list[float]:
    out = []
    j = 0
    for t, top, _ in samples:
        if not start <= t <= end or top == 0:
            continue
        j = max(j, 0)
        while j < len(samples) and (samples[j][0] < t or samples[j][2] < top):
            j += 1
        if j == len(samples):
            break
        out.append(samples[j][0] - t)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--total", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--certs", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--every", type=float, default=0.02, help="monitor period (s)")
    ap.add_argument("--engine", choices=["server", "process"], default="server",
                    help="the engine as `lrs serve` runs it (LRS_RULES_ENGINE=true: its child process), or "
                         "the server with LRS_RULES_ENGINE=false and `lrs rules run` started by this script")
    ap.add_argument("--day-pass", choices=["before", "during"], default="before",
                    help="the reminders' sweep of the day over every record (rules/outbox.py): done before "
                         "the clock starts only, or also started again 5 s into the ingest (as if the day changed)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lrs-lag-") as tmp:
        data_dir = Path(tmp)
        lrs = open_store(data_dir)
        store = open_rules_store(data_dir)
        rules = Rules(store, lrs)
        setup(rules, args.people, args.certs)
        # what the engine's process sends out (statements, the day's reminders: rules/outbox.py), as in `lrs
        # rules run`, so its first pass of the day over the world is done before the clock starts too
        outbox = _outbox(Settings(data_dir=data_dir), store, lrs)
        outbox.attach(rules.engine)
        rules.engine.run_until_idle()         # everyone derived under the new definitions, before the clock starts
        outbox.outbox.close()
        rules.engine.release()                # the server's engine takes the lease at once
        store.close()
        lrs.close()
        batches = make_batches(args.total, args.batch, args.seed)
        interval = os.environ.get("LRS_RULES_ENGINE_INTERVAL_SECONDS", f"{Settings.rules_engine_interval_seconds} (default)")
        load = os.getloadavg()
        engine = None
        if args.engine == "process":
            os.environ["LRS_RULES_ENGINE"] = "false"
            env = dict(os.environ, LRS_DATA_DIR=str(data_dir), LRS_LOG_LEVEL="warning")
            engine = subprocess.Popen([sys.executable, "-m", "service.cli", "rules", "run"], env=env, cwd=REPO)
        with Server(data_dir) as server:
            monitor = Monitor(data_dir, args.every)
            monitor.start()
            start = time.perf_counter()
            if args.day_pass == "during":
                threading.Timer(5.0, new_day, (data_dir,)).start()
            took, latencies, errors, stored = asyncio.run(run(server.url, batches, args.clients))
            end = time.perf_counter()
            deadline = time.time() + 600
            while time.time() < deadline:
                if monitor.samples and monitor.samples[-1][2] >= monitor.samples[-1][1] >= stored:
                    break
                time.sleep(0.1)
            caught_up = time.perf_counter() - end
            monitor.stop()
        if engine is not None:
            engine.terminate()
            engine.wait(30)
    lag = lags(monitor.samples, start, end)
    print(f"machine: {machine()}; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    print(f"data: {args.people:,} people, {args.certs} certifications; ingest {stored:,} statements, batches of "
          f"{args.batch}, {args.clients} clients, embedded SQLite store, engine "
          f"{'as lrs serve runs it (its child process)' if args.engine == 'server' else 'in its own process (lrs rules run)'}, "
          f"LRS_RULES_ENGINE_INTERVAL_SECONDS={interval}; the reminders' day pass {args.day_pass} the ingest")
    print(f"ingest: {stored / took:,.0f} statements/s over {took:.1f} s; errors {len(errors)}; request p95 "
          f"{percentile(latencies, 95) * 1000:.0f} ms")
    print(f"lag ({len(lag)} samples every {args.every * 1000:.0f} ms during the ingest): p50 "
          f"{percentile(lag, 50):.2f} s, p95 {percentile(lag, 95):.2f} s, p99 {percentile(lag, 99):.2f} s, "
          f"max {max(lag) if lag else 0:.2f} s; caught up {caught_up:.1f} s after the last request")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
