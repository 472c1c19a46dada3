"""cmi5 launch time: from asking for a launch to the AU holding its auth token, in a real browser.

Starts ``lrs serve`` on a fresh data folder, imports the cmi5 fixture package
(cmi5_single_au_basic_responsive.zip, whose AU uses cmi5.js), then ``--launches`` times: makes a launch
(``POST /player/cmi5/launches``: registration, LaunchData, launched statement) and opens the link in a
fresh Chromium context (no cache, no cookies). Two figures per launch:

- create: the admin POST, timed by this script;
- open to token: the browser's own clock, from the start of the navigation (the launch link, before its
  303) to the end of the AU's response from the fetch URL (Resource Timing), which covers the token
  check, the cookie, loading the AU's page and scripts and the fetch itself.

Their sum is launch to token. Prints the percentiles.

    .venv/bin/python bench/cmi5_launch.py --launches 50
"""
from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, Server, machine, percentile, store_name  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "packages"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
TOKEN_AT = """() => { const e = performance.getEntriesByType('resource')
                    .find(r => r.name.includes('/player/cmi5/fetch/'));
                    return e ? e.responseEnd : null; }"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--launches", type=int, default=50)
    parser.add_argument("--package", default="cmi5_single_au_basic_responsive.zip")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    create: list[float] = []
    opened: list[float] = []
    total: list[float] = []
    with Server(Path(tempfile.mkdtemp(prefix="bench-cmi5-"))) as server:
        base = server.url.rsplit("/xapi", 1)[0]
        r = httpx.post(base + "/content/packages", content=(FIXTURES / args.package).read_bytes(),
                       headers={"content-type": "application/zip", **AUTH}, timeout=60)
        r.raise_for_status()
        course_id = r.json()["course"]["id"]
        with sync_playwright() as p, httpx.Client(headers=AUTH, timeout=30) as client:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.launches + 1):
                t0 = time.perf_counter()
                r = client.post(base + "/player/cmi5/launches", json={
                    "learner": {"objectType": "Agent", "mbox": f"mailto:cmi5-{i}@example.com"},
                    "course_id": course_id})
                made = (time.perf_counter() - t0) * 1000
                r.raise_for_status()
                context = browser.new_context()
                page = context.new_page()
                page.on("dialog", lambda d: d.dismiss())
                page.goto(r.json()["launch_url"])
                token_at = None
                deadline = time.monotonic() + 30
                while token_at is None and time.monotonic() < deadline:
                    token_at = page.evaluate(TOKEN_AT)
                    if token_at is None:
                        page.wait_for_timeout(20)
                if token_at is None:
                    raise SystemExit(f"launch {i}: the AU never called the fetch URL")
                if i:   # the first warms the server's caches and the browser
                    create.append(made)
                    opened.append(token_at)
                    total.append(made + token_at)
                context.close()
            browser.close()
    print(f"machine: {machine()}; {store_name()}")
    print(f"{args.launches} launches of {args.package} (fresh browser context each), ms:")
    for name, values in (("create (admin POST)", create), ("open link to token", opened),
                         ("launch to token (sum)", total)):
        print(f"  {name:24s} p50 {percentile(values, 50):6.0f}  p95 {percentile(values, 95):6.0f}  "
              f"max {max(values):6.0f}")


if __name__ == "__main__":
    main()
