"""The store from empty to N million statements, measured at each million (issue 16).

    python bench/scale.py --data-dir DIR [--millions 10] [--queries 100] [--out FILE]

At each step: bench/ingest.py adds 1,000,000 statements (4 clients; its own server), then
bench/startup.py times a start after a clean shutdown, then bench/query.py runs every shape with
1 client and with 4 (each on a fresh server: pass 1 cold, pass 2 warm). Prints, and appends to
--out as JSON lines: ingest rate, start-up times, each shape's p50/p95, server RSS peaks, disk.
--start-at resumes a store already built to that many millions (each step's ingest uses seed = the
step's number, so a step stopped part way is resumed by running it again: the statements it already
stored are sent again and stored once). --crash adds a start after SIGKILL mid-batch at each step.

    python bench/scale.py --table FILE

prints the rows of FILE (its --out) as the Markdown tables of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def run(args: list[str]) -> str:
    out = subprocess.run([sys.executable, *args], cwd=BENCH.parent, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{args[0]} failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    return out.stdout


def disk(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file())


def measure(data_dir: Path, millions: int, queries: int, crash: bool = False) -> dict:
    row: dict = {"millions": millions, "at": time.strftime("%H:%M:%S", time.gmtime()),
                 "load": round(os.getloadavg()[0], 1)}
    startup = run(["bench/startup.py", "--data-dir", str(data_dir)] + (["--crash"] if crash else []))
    for line in startup.splitlines():
        if line.startswith("RESULT"):
            _, kind, read, write = line.split("\t")
            prefix = "start" if kind == "clean" else "crash"
            row[f"{prefix}_read_s"], row[f"{prefix}_write_s"] = float(read), float(write)
    row["statements"] = int(re.search(r"(\d+) statements in the store", startup).group(1))
    for clients in (1, 4):
        out = run(["bench/query.py", "--data-dir", str(data_dir), "--clients", str(clients),
                   "--queries", str(queries)])
        for line in out.splitlines():
            if line.startswith("RESULT"):
                _, c, label, shape, p50, p95, _ = line.split("\t")
                row[f"{shape} {label} {c}c"] = [float(p50), float(p95)]
        row[f"query_rss_{clients}c_mb"] = float(re.search(r"server RSS peak: (\d+)", out).group(1))
    row["disk_gib"] = round(disk(data_dir) / 2 ** 30, 2)
    return row


SHAPES = ["agent", "verb+activity", "registration", "related_activities", "since/until", "rare agent",
          "absent registration"]


def table(path: Path) -> str:
    """The rows of a --out file as Markdown: one table per million of ingest, start-up, RSS and disk, then
    one of query p50 / p95 for each pass (1 and 4 clients, cold and warm)."""
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    out = ["| statements | load | ingest /s (per 100k) | start: /about, first write | after kill -9: /about, "
           "first write | RSS ingest / query 1c / 4c | disk |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        rounds = " / ".join(f"{x:,}" for x in r.get("ingest_rounds", []))
        ingest = f"{r['ingest_per_s']:,.0f} ({rounds})" if "ingest_per_s" in r else "-"
        crash = f"{r['crash_read_s']} s, {r['crash_write_s']} s" if "crash_read_s" in r else "-"
        rss = (f"{r['ingest_rss_mb']:.0f} / {r['query_rss_1c_mb']:.0f} / {r['query_rss_4c_mb']:.0f} MB"
               if "ingest_rss_mb" in r else "-")
        out.append(f"| {r.get('statements', 0):,} | {r['load']} | {ingest} | {r['start_read_s']} s, "
                   f"{r['start_write_s']} s | {crash} | {rss} | {r['disk_gib']:.2f} GiB |")
    for clients in (1, 4):
        for label in ("cold", "warm"):
            out += ["", f"Queries, {clients} client{'s' if clients > 1 else ''}, {label}: p50 / p95 ms", "",
                    "| statements | " + " | ".join(SHAPES) + " |", "|---" * (len(SHAPES) + 1) + "|"]
            for r in rows:
                cells = [r.get(f"{shape} {label} {clients}c") for shape in SHAPES]
                if any(cells):
                    out.append(f"| {r['statements']:,} | " + " | ".join(
                        f"{c[0]} / {c[1]}" if c else "-" for c in cells) + " |")
    return "\n".join(out)


def main() -> int:
    if sys.argv[1:2] == ["--table"]:
        print(table(Path(sys.argv[2])))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--millions", type=int, default=10)
    ap.add_argument("--start-at", type=int, default=0)
    ap.add_argument("--queries", type=int, default=100)
    ap.add_argument("--step", type=int, default=1_000_000, help="statements added between measurements")
    ap.add_argument("--out", type=Path, default=Path("scale-results.jsonl"))
    ap.add_argument("--crash", action="store_true",
                    help="at each step also a start after SIGKILL mid-batch (bench/startup.py --crash)")
    args = ap.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    def emit(row: dict) -> None:
        print(json.dumps(row), flush=True)
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")

    if args.start_at == 0:
        startup = run(["bench/startup.py", "--data-dir", str(args.data_dir)])  # an empty store: no queries
        _, _, read, write = next(line for line in startup.splitlines() if line.startswith("RESULT")).split("\t")
        emit({"millions": 0, "start_read_s": float(read), "start_write_s": float(write),
              "load": round(os.getloadavg()[0], 1), "disk_gib": round(disk(args.data_dir) / 2 ** 30, 2)})
    for m in range(args.start_at + 1, args.millions + 1):
        out = run(["bench/ingest.py", "--total", str(args.step), "--clients", "4", "--data-dir", str(args.data_dir),
                   "--seed", str(m)])
        rate = float(re.search(r"ingest: ([\d,]+) statements/s", out).group(1).replace(",", ""))
        rss = float(re.search(r"server RSS peak: (\d+)", out).group(1))
        rounds = [int(x.replace(",", "")) for x in re.findall(r"([\d,]+) statements/s this round", out)]
        row = measure(args.data_dir, m, args.queries, args.crash)
        row.update(ingest_per_s=rate, ingest_rss_mb=rss, ingest_rounds=rounds)
        emit(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
