"""Launch time: from opening a launch link to the SCORM API being ready, in a real browser.

Starts ``lrs serve`` on a fresh data folder, imports a SCORM package, then ``--launches`` times makes a
launch link and opens it in a fresh Chromium context (no cache, no cookies: a learner's first open).
The time is the browser's own: from the start of the navigation (the launch link, before its 303
redirect) to the moment runtime.js has installed the API with the learner's saved data
(``performance.mark('lrs-api-ready')``), so it covers the token check, the session page, scorm-again,
runtime.js and the attempt's data. Prints the percentiles.

    .venv/bin/python bench/player_launch.py --launches 50
"""
from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, Server, machine, percentile, store_name  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "packages"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--launches", type=int, default=50)
    parser.add_argument("--package", default="RuntimeBasicCalls_SCORM12.zip", help="a fixture package name")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    times: list[float] = []
    with Server(Path(tempfile.mkdtemp(prefix="bench-launch-"))) as server:
        base = server.url.rsplit("/xapi", 1)[0]
        r = httpx.post(base + "/content/packages", content=(FIXTURES / args.package).read_bytes(),
                       headers={"content-type": "application/zip", **AUTH}, timeout=60)
        r.raise_for_status()
        course_id = r.json()["course"]["id"]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.launches + 1):
                link = httpx.post(base + "/player/launches", headers=AUTH, json={
                    "learner": {"objectType": "Agent", "mbox": f"mailto:launch{i}@example.com"},
                    "course_id": course_id}).json()["launch_url"]
                context = browser.new_context()
                page = context.new_page()
                page.on("dialog", lambda d: d.dismiss())
                page.goto(link)
                page.locator("#save-state[data-state=saved], #save-state[data-state=pending]").wait_for(timeout=30000)
                ready = page.evaluate("performance.getEntriesByName('lrs-api-ready')[0].startTime")
                if i:   # the first warms the server's caches and the browser
                    times.append(ready)
                context.close()
            browser.close()
    print(f"machine: {machine()}; {store_name()}")
    print(f"{args.launches} launches of {args.package} (fresh browser context each), launch link to API ready, ms: "
          f"p50 {percentile(times, 50):.0f}  p95 {percentile(times, 95):.0f}  max {max(times):.0f}")


if __name__ == "__main__":
    main()
