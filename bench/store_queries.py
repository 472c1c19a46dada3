"""Statement queries in the store alone (no HTTP): what a query costs the store, for an A/B of store code.

    python bench/store_queries.py --data-dir DIR [--queries 200] [--repo DIR]

Opens the store of ``DIR`` (built by bench/ingest.py) in this process, draws ``--queries`` stored
Statements from one random place, and asks a page of 20 for each shape: its learner (agent), its verb
and activity, its registration, and a registration no Statement has. Prints p50 / p95 ms of each shape
after a warm-up of 30 queries. ``--repo`` times the store code of another checkout (its ``lrs``
package). Opening the store converts it to the layout of the code that opens it.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repo", type=Path, default=BENCH.parent)
    args = ap.parse_args()
    sys.path[:0] = [str(args.repo.resolve()), str(BENCH)]
    from common import machine
    from lrs.statements.terms import statement_terms
    from lrs.storage import StatementQuery
    import lrs.storage.sqlite as sqlite_store

    store = sqlite_store.SqliteStore(args.data_dir / "lrs.sqlite3")
    rng = random.Random(args.seed)
    try:
        top = store.last_seq()
        sample = [orjson.loads(b) for _, b in store.stream(rng.randrange(1, max(2, top - args.queries)), args.queries)]
        shapes = {
            "agent": lambda st: [(next(t for t in statement_terms(st) if t.startswith("A:")), False)],
            "verb+activity": lambda st: [("v:" + st["verb"]["id"], False), ("O:" + st["object"]["id"], False)],
            "registration": lambda st: [("r:" + st["context"]["registration"], False)],
            "absent registration": lambda st: [("r:%032x" % rng.getrandbits(128), False)],
        }
        print(machine())
        print(f"store code: {sqlite_store.__file__}; {top:,} statements")
        for name, terms in shapes.items():
            queries = [StatementQuery(terms=terms(st), limit=20) for st in sample]
            for q in queries[:30]:
                store.query(q)
            times, found = [], 0
            for q in queries:
                started = time.perf_counter()
                rows, _ = store.query(q)
                times.append((time.perf_counter() - started) * 1000)
                found += len(rows)
            times.sort()
            print(f"{name:22s} p50 {times[len(times) // 2]:.2f} ms  p95 {times[int(len(times) * 0.95)]:.2f} ms  "
                  f"({found} statements)")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
