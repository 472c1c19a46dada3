"""The writer alone: how long each write waits, over a store grown past a million Statements.

    python bench/write_stalls.py [--statements 1056000] [--batch 100] [--top 8] [--repo DIR]

Opens a fresh SQLite store in this process (no HTTP, no writer process), makes each batch of
``bench/common.py`` Statements before its clock starts, and times each ``insert``. Prints the total
write time, the part after the 1,048,576th Statement (where the merges due once a million fall) and
the slowest batches with the Statement count they ended at. ``--repo`` times the store code of another
checkout (its ``lrs`` package) with this bench's data, for an A/B.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
MILLION = 1 << 20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--statements", type=int, default=1_056_000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--repo", type=Path, default=BENCH.parent)
    args = ap.parse_args()
    sys.path[:0] = [str(args.repo.resolve()), str(BENCH)]
    from common import machine, statement
    from lrs.statements.forms import prepare
    from lrs.statements.terms import statement_terms
    from lrs.storage import NewStatement
    import lrs.storage.sqlite as sqlite_store

    authority = {"objectType": "Agent", "name": "bench", "mbox": "mailto:bench@example.com"}
    rng = random.Random(5)
    folder = tempfile.mkdtemp(prefix="write-stalls-")
    store = sqlite_store.SqliteStore(Path(folder) / "lrs.sqlite3")
    times = []
    try:
        for n in range(args.batch, args.statements + 1, args.batch):
            batch = [NewStatement(st, statement_terms(st))
                     for st in (prepare(statement(rng), authority, "1.0.3") for _ in range(args.batch))]
            started = time.perf_counter()
            store.insert(batch, {})
            times.append((time.perf_counter() - started, n))
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    total = sum(t for t, _ in times)
    late = sum(t for t, n in times if n > MILLION)
    print(machine())
    print(f"store code: {sqlite_store.__file__}")
    print(f"{args.statements:,} statements in batches of {args.batch}: write time {total:.1f} s "
          f"({total - late:.1f} s to the 1,048,576th, {late:.1f} s after)")
    for t, n in sorted(times, reverse=True)[:args.top]:
        print(f"  {t * 1000:8.1f} ms  the batch ending at {n:,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
