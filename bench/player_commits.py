"""Many learners saving their progress at once: commit latency, errors and server memory.

Starts ``lrs serve`` on a fresh data folder, imports a SCORM 1.2 fixture package, makes one launch
link per learner, opens each (as a browser would: the session cookie), opens the SCO's attempt, then
every learner commits a full snapshot every ``--interval`` seconds for ``--seconds`` (the starts are
spread over the first interval). Each commit answers a new question (an interaction) and moves the
bookmark, so snapshots grow as they do in a real course. Prints the commit latency percentiles, the
number of errors (any non-200 answer or transport error) and the peak RSS of the server processes.

    .venv/bin/python bench/player_commits.py --learners 500 --interval 5 --seconds 120
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, RssSampler, Server, machine, percentile, store_name  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "packages" / "RuntimeBasicCalls_SCORM12.zip"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def open_learner(main: httpx.AsyncClient, course_id: str, i: int) -> dict:
    r = await main.post("/player/launches", json={"learner": {"objectType": "Agent", "mbox": f"mailto:l{i}@example.com"},
                                                  "course_id": course_id}, headers=AUTH)
    r.raise_for_status()
    url = r.json()["launch_url"]
    origin = url.split("/player/", 1)[0]
    client = httpx.AsyncClient(base_url=origin, timeout=30)
    r = await client.get(url[len(origin):])
    if r.status_code != 303:
        raise RuntimeError(f"opening a launch link answered {r.status_code}")
    body = await client.get("/player/session")
    body.raise_for_status()
    reg = body.text.split('"registration":"', 1)[1].split('"', 1)[0]
    opened = await client.post("/player/attempts", json={"registration": reg, "sco": "item_1"})
    opened.raise_for_status()
    a = opened.json()
    return {"client": client, "registration": reg, "attempt": a["attempt"], "seq": a["seq"], "answers": 0}


async def learner(state: dict, first_delay: float, interval: float, until: float, out: dict) -> None:
    await asyncio.sleep(first_delay)
    client = state["client"]
    while time.monotonic() < until:
        started = time.monotonic()
        state["seq"] += 1
        n = state["answers"]
        data = {"cmi.core.lesson_location": str(n % 20), "cmi.core.lesson_status": "incomplete",
                "cmi.core.session_time": f"0000:{n // 60 % 60:02d}:{n % 60:02d}.00",
                "cmi.suspend_data": "x" * (200 + 10 * n)}
        for k in range(n + 1):
            data[f"cmi.interactions.{k}.id"] = f"q{k}"
            data[f"cmi.interactions.{k}.type"] = "choice"
            data[f"cmi.interactions.{k}.student_response"] = "abcd"[k % 4]
            data[f"cmi.interactions.{k}.result"] = "correct" if k % 3 else "wrong"
        event = "initialize" if state["seq"] == 1 else "commit"
        body = {"commits": [{"registration": state["registration"], "sco": "item_1", "attempt": state["attempt"],
                             "seq": state["seq"], "event": event, "at": now(), "data": data}]}
        ok = False
        for _ in range(3):   # as runtime.js does: a commit whose answer never came is sent again
            try:
                r = await client.post("/player/commits", json=body)
                ok = r.status_code == 200
                if not ok and len(out["samples"]) < 5:
                    out["samples"].append(f"{r.status_code} {r.text[:200]}")
                break
            except httpx.TransportError as exc:
                out["resent"] += 1
                if len(out["samples"]) < 5:
                    out["samples"].append(f"resent after {exc!r}")
        elapsed = time.monotonic() - started
        out["latencies"].append(elapsed * 1000)
        out["errors"] += not ok
        state["answers"] = min(n + 1, 40)
        await asyncio.sleep(max(0.0, interval - elapsed))


async def run(args) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="bench-player-"))
    with Server(data_dir) as server:
        base = server.url.rsplit("/xapi", 1)[0]
        async with httpx.AsyncClient(base_url=base, timeout=60) as main:
            r = await main.post("/content/packages", content=PACKAGE.read_bytes(),
                                headers={"content-type": "application/zip", **AUTH})
            r.raise_for_status()
            course_id = r.json()["course"]["id"]
            learners = []
            for start in range(0, args.learners, 50):
                learners += await asyncio.gather(*(open_learner(main, course_id, i)
                                                   for i in range(start, min(args.learners, start + 50))))
        sampler = RssSampler(server)
        sampler.start()
        out = {"latencies": [], "errors": 0, "resent": 0, "samples": []}
        until = time.monotonic() + args.seconds
        await asyncio.gather(*(learner(s, args.interval * i / len(learners), args.interval, until, out)
                               for i, s in enumerate(learners)))
        peak = sampler.stop()
        for s in learners:
            await s["client"].aclose()
    out["rss_peak_mb"] = peak
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between a learner's commits")
    parser.add_argument("--seconds", type=float, default=120.0, help="how long the learners commit")
    args = parser.parse_args()
    if not PACKAGE.is_file():
        sys.exit(f"the fixture package is missing: {PACKAGE}")
    out = asyncio.run(run(args))
    lat = out["latencies"]
    print(f"machine: {machine()}; {store_name()}")
    print(f"{args.learners} learners, a commit each every {args.interval:g} s for {args.seconds:g} s: "
          f"{len(lat)} commits, {out['errors']} errors "
          f"({out['resent']} sent again after the connection closed under them, as the browser runtime does)")
    print(f"commit latency ms: p50 {percentile(lat, 50):.1f}  p95 {percentile(lat, 95):.1f}  "
          f"p99 {percentile(lat, 99):.1f}  max {max(lat or [0]):.1f}")
    print(f"server RSS peak: {out['rss_peak_mb']:.0f} MB")
    for sample in out["samples"]:
        print("sample:", sample)


if __name__ == "__main__":
    main()
