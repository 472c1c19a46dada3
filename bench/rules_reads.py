"""Rules reads: the roster of one certification (expiring within 30 days), people's transcripts and
compliance (one certification; every certification by site and role).

    python bench/rules_rebuild.py --data-dir /tmp/rw --make 1000000     # the world (once)
    python bench/rules_rebuild.py --data-dir /tmp/rw --keep             # its rules store
    python bench/rules_reads.py --data-dir /tmp/rw [--requests 300]

Starts ``lrs serve`` on DATA_DIR (a bench credential with the ``all`` scope), then, one request at
a time: ``GET /rules/certifications/{c}/roster?expiring_within_days=30&limit=500`` (JSON and CSV)
for the certification with the most records, and ``GET /rules/people/{id}/transcript`` for random
people, ``GET /rules/certifications/{c}/compliance`` and ``GET /rules/compliance`` (every published
certification, by site and role, and their sum: a tenth as many requests); then the roster and the
transcript in process (``Rules.roster``, ``Rules.transcript``), without HTTP.
Prints p50/p95/p99 of each and the data size. Embedded SQLite store.
"""
from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, Server, machine, percentile  # noqa: E402

from lrs.storage import open_store  # noqa: E402
from rules.core import Rules  # noqa: E402
from rules.storage import open_rules_store  # noqa: E402


def timed(fn, n: int) -> tuple[list[float], object]:
    out, last = [], None
    for i in range(n):
        start = time.perf_counter()
        last = fn(i)
        out.append(time.perf_counter() - start)
    return out, last


def show(what: str, lat: list[float]) -> None:
    print(f"{what}: p50 {percentile(lat, 50) * 1000:.1f} ms, p95 {percentile(lat, 95) * 1000:.1f} ms, "
          f"p99 {percentile(lat, 99) * 1000:.1f} ms over {len(lat)} requests")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    db = sqlite3.connect(args.data_dir / "rules.sqlite3")
    cert, nrec = db.execute("SELECT certification, count(*) FROM records GROUP BY certification "
                            "ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    people = [r[0] for r in db.execute("SELECT DISTINCT person_id FROM people ORDER BY person_id")]
    records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    facts = db.execute("SELECT count(*) FROM facts").fetchone()[0]
    db.close()
    rng = random.Random(5)
    sample = [rng.choice(people) for _ in range(args.requests)]
    load = os.getloadavg()
    with Server(args.data_dir) as server:
        base = server.url.rsplit("/xapi", 1)[0] + "/rules"
        with httpx.Client(auth=(KEY, SECRET), timeout=60) as http:
            url = f"{base}/certifications/{cert}/roster"
            params = {"expiring_within_days": args.days, "limit": 500}
            first = http.get(url, params=params)
            first.raise_for_status()
            rows, pages, after = 0, 0, None
            while True:   # the whole roster, page by page
                page = http.get(url, params={**params, **({"after": after} if after else {})}).json()
                rows += len(page["people"])
                pages += 1
                after = page["next"]
                if after is None:
                    break
            roster_json, _ = timed(lambda i: http.get(url, params=params).raise_for_status(), args.requests)
            roster_csv, _ = timed(lambda i: http.get(url, params=params, headers={"Accept": "text/csv"})
                                  .raise_for_status(), args.requests)
            transcript, last = timed(lambda i: http.get(f"{base}/people/{sample[i]}/transcript").raise_for_status(),
                                     args.requests)
            compliance, _ = timed(lambda i: http.get(f"{base}/certifications/{cert}/compliance").raise_for_status(),
                                  args.requests)
            report, last_report = timed(lambda i: http.get(f"{base}/compliance").raise_for_status().json(),
                                        max(1, args.requests // 10))
    lrs = open_store(args.data_dir)
    store = open_rules_store(args.data_dir)
    rules = Rules(store, lrs)
    core_roster, _ = timed(lambda i: rules.roster(cert, None, None, None, args.days, None, None, 500), args.requests)
    core_transcript, _ = timed(lambda i: rules.transcript(sample[i]), args.requests)
    sizes = [len(rules.transcript(p)["certifications"]) for p in sample[:50]]
    store.close()
    lrs.close()
    print(f"machine: {machine()}; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}")
    print(f"data: {len(people):,} people, {facts:,} facts, {records:,} records; roster of {cert} "
          f"({nrec:,} records), expiring within {args.days} days: {rows:,} people in {pages} page(s) of <= 500; "
          f"transcripts of random people ({sum(sizes) / len(sizes):.1f} certifications each on average); "
          f"embedded SQLite store")
    show("HTTP roster page (JSON)", roster_json)
    show("HTTP roster page (CSV)", roster_csv)
    show("HTTP transcript (JSON)", transcript)
    show("HTTP compliance of one certification, by site and role", compliance)
    show(f"HTTP compliance of all {len(last_report['certifications'])} certifications, by site and role", report)
    show("in-process Rules.roster", core_roster)
    show("in-process Rules.transcript", core_transcript)


if __name__ == "__main__":
    main()
