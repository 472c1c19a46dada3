"""Rules engine rebuild: read a whole LRS store's statement stream into a fresh rules store.

    python bench/ingest.py --total 200000 --data-dir /tmp/store      # make a store first
    python bench/rules_rebuild.py --data-dir /tmp/store [--people 1000]

With --people, that many people are imported first (the ingest bench's learners are
mailto:learner{n}@example.com) and a certification with a requirement on them is published over the
bench's activities, so the rebuild also derives and chains their records. Prints statements/s.
The rules store is made in a temporary folder; the LRS store is only read.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine  # noqa: E402

from lrs.storage import open_store  # noqa: E402
from rules.core import Rules  # noqa: E402
from rules.engine import Engine  # noqa: E402
from rules.people import parse_csv  # noqa: E402
from rules.storage import open_rules_store  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", type=Path, required=True, help="folder of the LRS store (lrs.sqlite3)")
    ap.add_argument("--people", type=int, default=0)
    args = ap.parse_args()
    lrs = open_store(args.data_dir)
    total = lrs.last_seq()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_rules_store(tmp)
        rules = Rules(store, lrs)
        if args.people:
            rows = "".join(f"l{n},learner{n}@example.com,operator\n" for n in range(args.people))
            print(rules.import_people(parse_csv("person_id,email,roles\n" + rows), "bench")["imported"], "people")
            for kind, body in [("completion", {"id": "any-module", "activity": "https://courses.example.com/course/0/module/0"}),
                               ("certification", {"id": "module-1", "initial": "any-module", "validity": {"months": 12},
                                                  "renewal_window_days": 30, "grace_days": 10}),
                               ("requirement", {"id": "operators", "applies_to": {"roles": ["operator"]},
                                                "certifications": ["module-1"], "due": {"days": 30}})]:
                rules.create_definition(kind, body, "bench", "bench")
                rules.publish(kind, body["id"], 1, "bench", "bench")
        engine = Engine(lrs, store, batch=5000)
        start = time.perf_counter()
        done = engine.run_until_idle()
        took = time.perf_counter() - start
        store.close()
    lrs.close()
    print(machine())
    print(f"rebuild: {done['statements']:,} statements (store holds seq up to {total:,}) in {took:.1f} s: "
          f"{done['statements'] / took:,.0f} statements/s; {done['people']:,} people recomputed, "
          f"{done['events']:,} history events")


if __name__ == "__main__":
    main()
