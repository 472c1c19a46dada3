"""Rules engine rebuild: read a whole LRS store's statement stream into a fresh rules store.

    python bench/rules_rebuild.py --data-dir /tmp/rw --make 1000000      # make the store (once)
    python bench/rules_rebuild.py --data-dir /tmp/rw [--people 10000 --certs 50] [--keep]

``--make N``: writes about N statements of bench/rules_world.py (learning sessions over 36 months
up to today, in time order, a few voided) through the LRS store's own insert path (prepare, terms,
``StatementStore.insert``, batches of 1,000), then exits. Without it: a fresh rules store in
DATA_DIR/rules.sqlite3 (deleted first) gets the world's people (CSV import) and definitions (created
and published through ``Rules``), then the engine reads the whole stream; prints statements/s of
the engine's run alone. ``--keep`` leaves the rules store for bench/rules_reads.py and bench/rules_lag.py (a server on
DATA_DIR serves it). ``--profile F``
writes a cProfile of the engine's run to F. Embedded SQLite store only (the mongo adapter through
FerretDB is not representative of speed).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402
from rules_world import definitions, people_csv, statements  # noqa: E402

from lrs.statements.forms import prepare  # noqa: E402
from lrs.statements.terms import statement_terms  # noqa: E402
from lrs.storage import NewStatement, open_store  # noqa: E402
from rules.core import Rules  # noqa: E402
from rules.engine import Engine  # noqa: E402
from rules.people import parse_csv  # noqa: E402
from rules.storage import open_rules_store  # noqa: E402

AUTHORITY = {"objectType": "Agent", "name": "bench", "mbox": "mailto:bench@example.com"}


def make(data_dir: Path, total: int, people: int, certs: int) -> None:
    lrs = open_store(data_dir)
    lrs.start()
    start = time.perf_counter()
    n = 0
    for month in statements(people, certs, total, datetime.now(timezone.utc).date()):
        for i in range(0, len(month), 1000):
            batch = []
            for st in month[i:i + 1000]:
                prepare(st, AUTHORITY, "1.0.3")
                obj = st["object"]
                ref = obj["id"] if obj.get("objectType") == "StatementRef" else None
                batch.append(NewStatement(st, statement_terms(st), voids=ref, ref=ref))
            lrs.insert(batch, {})
            n += len(batch)
        print(f"  {n:,} statements stored", flush=True)
    lrs.close()
    print(f"made {n:,} statements in {time.perf_counter() - start:.0f} s ({people:,} people, {certs} certifications)")


def setup(rules: Rules, people: int, certs: int) -> None:
    done = rules.import_people(parse_csv(people_csv(people)), "bench")
    assert done.get("applied", True) and not done.get("errors"), done
    defs = definitions(certs)
    for kind, body in defs:
        rules.create_definition(kind, body, "bench", "bench world")
    order = {"completion": 0, "certification": 1, "requirement": 3}
    for kind, body in sorted(defs, key=lambda d: order[d[0]] + ("prerequisites" in d[1] or "equivalents" in d[1])):
        rules.publish(kind, body["id"], 1, "bench", "bench world")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True, help="folder of the LRS store (lrs.sqlite3)")
    ap.add_argument("--make", type=int, default=0, help="write about this many statements first, then exit")
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--certs", type=int, default=50)
    ap.add_argument("--batch", type=int, default=5000, help="statements the engine reads a pass")
    ap.add_argument("--keep", action="store_true", help="keep the rules store (DATA_DIR/rules.sqlite3)")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the engine's run here")
    args = ap.parse_args()
    if args.make:
        make(args.data_dir, args.make, args.people, args.certs)
        return
    lrs = open_store(args.data_dir)
    total = lrs.last_seq()
    for old in args.data_dir.glob("rules.sqlite3*"):
        old.unlink()
    store = open_rules_store(args.data_dir)
    rules = Rules(store, lrs)
    t0 = time.perf_counter()
    setup(rules, args.people, args.certs)
    print(f"setup: {args.people:,} people imported, {len(definitions(args.certs))} definitions published "
          f"in {time.perf_counter() - t0:.1f} s")
    engine = Engine(lrs, store, batch=args.batch)
    prof = cProfile.Profile() if args.profile else None
    load = os.getloadavg()
    start = time.perf_counter()
    if prof:
        prof.enable()
    done = engine.run_until_idle()
    took = time.perf_counter() - start
    engine.release()
    if prof:
        prof.disable()
        prof.dump_stats(args.profile)
    store.close()
    lrs.close()
    if not args.keep:
        for old in args.data_dir.glob("rules.sqlite3*"):
            old.unlink()
    print(f"machine: {machine()}; load average before the run {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    print(f"data: {total:,} statements in the store (embedded SQLite), {args.people:,} people, {args.certs} "
          f"certifications; engine batch {args.batch}")
    print(f"rebuild: {done['statements']:,} statements in {took:.1f} s: {done['statements'] / took:,.0f} statements/s; "
          f"{done['people']:,} person derivations, {done['events']:,} history events, {done['passes']} passes")


if __name__ == "__main__":
    main()
