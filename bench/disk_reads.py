"""Random 4 KiB reads of a file (a store), with 1, 4, 8 and 16 readers at once: what one uncached
page of a query costs on this machine's disk, and how much reading in parallel would gain.

    sync; echo 3 > /proc/sys/vm/drop_caches     # as root, so that the reads reach the disk
    python bench/disk_reads.py DIR/lrs.sqlite3 [--reads 400]
"""
from __future__ import annotations

import argparse
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--reads", type=int, default=400, help="reads per reader count")
    args = ap.parse_args()
    fd = os.open(args.file, os.O_RDONLY)
    pages = os.fstat(fd).st_size // 4096
    rng = random.Random()

    def read(_) -> float:
        offset = rng.randrange(pages) * 4096
        start = time.perf_counter()
        os.pread(fd, 4096, offset)
        return time.perf_counter() - start

    for readers in (1, 4, 8, 16):
        start = time.perf_counter()
        with ThreadPoolExecutor(readers) as pool:
            lat = sorted(pool.map(read, range(args.reads)))
        elapsed = time.perf_counter() - start
        print(f"{readers:2d} readers: {args.reads / elapsed:,.0f} reads/s, p50 {lat[len(lat) // 2] * 1000:.2f} ms, "
              f"p95 {lat[int(len(lat) * 0.95)] * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
