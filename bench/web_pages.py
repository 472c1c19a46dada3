"""The web pages' speed (issue 15, acceptance 4): every page's server time with 10,000 people, 50
certifications and 1,000,000 statements.

    python bench/web_pages.py --data-dir /tmp/pages [--requests 50]

Builds the world in DATA_DIR when it is not there (or reuses it): about ``--statements`` statements of
bench/rules_world.py written through the LRS store's own insert path (``StatementStore.insert``,
batches of 1,000: bench/rules_rebuild.py's ``make``; the HTTP path would take hours on 2 cores), then
the people (CSV import) and definitions (created and published through ``Rules``), and the rules
engine's run over the whole stream (``Engine.run_until_idle``), which derives every status. Each
step's time is printed. Then it makes three staff accounts (admin, supervisor of the 25 people whose
supervisor is p00000, auditor), starts ``lrs serve`` on DATA_DIR (the rules engine off: the world is
derived already), signs each in through the sign-in form, opens a learner's sign-in link, and
requests every page of ``PAGES`` ``--requests`` times, one at a time (after ``--warmup`` requests
not counted), reporting p50/p95/max of the **server time**: the ``Server-Timing: app;dur=`` header
the pages' app puts on each answer (from the request reaching the pages' app to its headers;
web/site.py ``ServerTiming``), with the load average (1/5/15 min) before each page's requests. A page
computed in the background (web/jobs.py: the preview, the chain's verification) answers with its progress;
after its requests the page is opened every half second until the result shows, and that time is reported. Embedded SQLite stores.

``PAGES`` is a table of (name, role, URL): add a row for a new page. A URL may name ``{person}`` (a
random person of the world, a new one each request), ``{team_person}`` (one of the supervisor's
team), ``{cert}`` (the certification with the most records), ``{site}``/``{role}``, ``{statement}`` (a
statement id of the store) and ``{course}`` (a fixture package from ../shared/fixtures imported at the
start; its rows are left out without it).
"""
from __future__ import annotations

import argparse
import base64
import os
import random
import re
import sqlite3
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import KEY, SECRET, Server, machine, percentile  # noqa: E402

TARGET_MS = 200.0
PASSWORD = "bench pages password"
ACCOUNTS = {"admin": ("bench-admin", None), "supervisor": ("bench-supervisor", "p00000"),
            "auditor": ("bench-auditor", None)}

# (name, role, URL): role is admin, supervisor, auditor or learner (the learner's page session)
PAGES = [
    ("dashboard", "admin", "/app/"),
    ("dashboard", "supervisor", "/app/"),
    ("dashboard", "auditor", "/app/"),
    ("dashboard narrowed to a site", "admin", "/app/?site={site}"),
    ("people, no query", "admin", "/app/people"),
    ("people, query", "admin", "/app/people?q=learner{n}@"),
    ("people, query matching many", "admin", "/app/people?q=example.com&role={role}"),
    ("people, query matching nobody", "admin", "/app/people?q=nobody-at-all"),
    ("people, no query", "supervisor", "/app/people"),
    ("people, query", "supervisor", "/app/people?q=p000"),
    ("transcript", "admin", "/app/people/{person}"),
    ("transcript", "supervisor", "/app/people/{team_person}"),
    ("transcript CSV", "auditor", "/app/people/{person}/transcript.csv"),
    ("roster", "admin", "/app/certifications/{cert}/roster"),
    ("roster, status", "admin", "/app/certifications/{cert}/roster?status=overdue"),
    ("roster, site", "admin", "/app/certifications/{cert}/roster?site={site}"),
    ("roster, role", "admin", "/app/certifications/{cert}/roster?role={role}"),
    ("roster, expiring within 30 days", "admin", "/app/certifications/{cert}/roster?expiring_within_days=30"),
    ("roster, expiring within 90 days", "admin", "/app/certifications/{cert}/roster?expiring_within_days=90"),
    ("roster, all filters", "admin",
     "/app/certifications/{cert}/roster?status=certified&site={site}&role={role}&expiring_within_days=365"),
    ("roster", "supervisor", "/app/certifications/{cert}/roster"),
    ("roster CSV, expiring within 30 days", "auditor",
     "/app/certifications/{cert}/roster.csv?expiring_within_days=30"),
    ("roster CSV, one site", "auditor", "/app/certifications/{cert}/roster.csv?site={site}"),
    ("roster CSV, whole roster", "auditor", "/app/certifications/{cert}/roster.csv"),
    ("audit", "auditor", "/app/audit"),
    ("accounts", "admin", "/app/accounts"),
    ("learner page", "learner", "/app/me"),
    ("certifications", "admin", "/app/certifications"),
    ("certifications", "supervisor", "/app/certifications"),
    ("certifications CSV", "auditor", "/app/certifications.csv"),
    ("definition", "auditor", "/app/definitions/certification/{cert}"),
    ("definition form", "admin", "/app/definitions/new?kind=certification&id={cert}"),
    ("people import form", "admin", "/app/people/import"),
    ("courses", "admin", "/app/courses"),
    ("course", "admin", "/app/courses/{course}"),
    ("course version", "auditor", "/app/courses/{course}/versions/1"),
    ("statements", "auditor", "/app/statements"),
    ("statements of a person", "admin", "/app/statements?person={person}"),
    ("statements of a person", "supervisor", "/app/statements?person={team_person}"),
    ("statement", "auditor", "/app/statements/{statement}"),
    ("statements CSV of a person", "auditor", "/app/statements.csv?person={person}"),
    ("transcript PDF", "auditor", "/app/people/{person}/transcript.pdf"),
    ("evidence pack", "auditor", "/app/people/{person}/evidence.json"),
    ("learner transcript PDF", "learner", "/app/me/transcript.pdf"),
]
# requested fewer times: an action more than a page (recomputes the whole chain)
SLOW = [("audit, verify the chain", "auditor", "/app/audit?verify=1", 3),
        ("preview of a certification's version", "admin", "/app/definitions/certification/{cert}/versions/1/preview", 3)]
PACKAGES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "packages"
PACKAGE = "RuntimeBasicCalls_SCORM12.zip"   # imported for the course pages when ../shared is there


def build(data_dir: Path, statements: int, people: int, certs: int, batch: int) -> None:
    """The world, each step made only when DATA_DIR does not hold it yet."""
    from rules_rebuild import make, setup

    from lrs.storage import open_store
    from rules.core import Rules
    from rules.engine import Engine
    from rules.storage import open_rules_store

    data_dir.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "lrs.sqlite3").exists():
        load = os.getloadavg()
        start = time.perf_counter()
        make(data_dir, statements, people, certs)
        print(f"build: statements stored in {time.perf_counter() - start:.0f} s (load before {load[0]:.2f})")
    if not _records(data_dir):
        load = os.getloadavg()
        lrs = open_store(data_dir)
        for old in data_dir.glob("rules.sqlite3*"):
            old.unlink()
        store = open_rules_store(data_dir)
        rules = Rules(store, lrs)
        start = time.perf_counter()
        setup(rules, people, certs)
        print(f"build: {people:,} people imported and the definitions published in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        engine = Engine(lrs, store, batch=batch)
        done = engine.run_until_idle()
        engine.release()
        store.close()
        lrs.close()
        print(f"build: the engine derived {done['people']:,} people over {done['statements']:,} statements in "
              f"{time.perf_counter() - start:.0f} s (load before {load[0]:.2f})")


def _records(data_dir: Path) -> int:
    path = data_dir / "rules.sqlite3"
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        return db.execute("SELECT count(*) FROM records").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        db.close()


def make_accounts(data_dir: Path) -> None:
    from web.accounts import Accounts, open_account_store

    accounts = Accounts(open_account_store(data_dir, ""))
    try:
        for role, (name, person) in ACCOUNTS.items():
            if accounts.store.account(name) is None:
                accounts.create(name, role, PASSWORD, person)
    finally:
        accounts.store.close()


class Browser:
    """One signed-in browser. The pages' cookies are Secure, which an HTTP client keeps for HTTPS only:
    they are kept here by hand."""

    def __init__(self, base: str):
        self.http = httpx.Client(base_url=base, timeout=120, follow_redirects=False)
        self.cookies: dict[str, str] = {}

    def _keep(self, resp: httpx.Response) -> httpx.Response:
        for header in resp.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp

    def get(self, url: str) -> httpx.Response:
        return self._keep(self.http.get(url, headers=self._header()))

    def post(self, url: str, data: dict) -> httpx.Response:
        return self._keep(self.http.post(url, data=data, headers=self._header()))

    def _header(self) -> dict:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def sign_in(self, username: str) -> "Browser":
        page = self.get("/app/sign-in")
        token = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
        resp = self.post("/app/sign-in", {"csrf": token, "username": username, "password": PASSWORD})
        assert resp.status_code == 303, (username, resp.status_code, resp.text[:300])
        return self


def server_ms(resp: httpx.Response) -> float:
    m = re.search(r"app;dur=([0-9.]+)", resp.headers.get("server-timing", ""))
    assert m, f"no Server-Timing on {resp.request.url}"
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--requests", type=int, default=50, help="requests of each page")
    ap.add_argument("--statements", type=int, default=1_000_000)
    ap.add_argument("--people", type=int, default=10_000)
    ap.add_argument("--certs", type=int, default=50)
    ap.add_argument("--batch", type=int, default=5000, help="statements the engine reads a pass while building")
    ap.add_argument("--warmup", type=int, default=1, help="requests of each page made first and not counted")
    ap.add_argument("--only", help="only the pages whose name contains this")
    args = ap.parse_args()
    build(args.data_dir, args.statements, args.people, args.certs, args.batch)
    make_accounts(args.data_dir)
    db = sqlite3.connect(args.data_dir / "rules.sqlite3")
    cert, cert_records = db.execute("SELECT certification, count(*) FROM records GROUP BY certification "
                                    "ORDER BY 2 DESC, 1 LIMIT 1").fetchone()
    people = [r[0] for r in db.execute("SELECT DISTINCT person_id FROM people ORDER BY person_id")]
    records = db.execute("SELECT count(*) FROM records").fetchone()[0]
    events = db.execute("SELECT count(*) FROM history").fetchone()[0]
    facts = db.execute("SELECT count(*) FROM facts").fetchone()[0]
    db.close()
    lrs_db = sqlite3.connect(args.data_dir / "lrs.sqlite3")
    statements = lrs_db.execute("SELECT max(seq) FROM statements").fetchone()[0]
    sample = [r[0] for r in lrs_db.execute("SELECT id FROM statements WHERE seq % 10007 = 0")]
    lrs_db.close()
    team = [p for i, p in enumerate(people) if i < 25]          # p00000's team (rules_world: supervisor p{i//25*25})
    rng = random.Random(11)
    os.environ["LRS_RULES_ENGINE"] = "false"
    results, background = [], []
    with Server(args.data_dir) as server:
        base = server.url.rsplit("/xapi", 1)[0]
        browsers = {role: Browser(base).sign_in(name) for role, (name, _) in ACCOUNTS.items()}
        course = None
        if (PACKAGES / PACKAGE).exists():
            auth = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()}
            r = httpx.post(base + "/content/packages", content=(PACKAGES / PACKAGE).read_bytes(),
                           headers={"content-type": "application/zip", **auth}, timeout=60)
            r.raise_for_status()
            course = r.json()["course"]["id"]
        admin = browsers["admin"]
        learner_id = rng.choice(people)
        page = admin.get(f"/app/people/{learner_id}")
        token = re.search(r'name="csrf" value="([^"]*)"', page.text).group(1)
        link = re.search(r'id="link" readonly value="([^"]+)"',
                         admin.post(f"/app/people/{learner_id}/link", {"csrf": token}).text).group(1)
        browsers["learner"] = Browser(base)
        assert browsers["learner"].get("/app/learn/" + link.rsplit("/learn/", 1)[1]).status_code == 200
        table = [(n, r, u, args.requests) for n, r, u in PAGES] + SLOW
        for name, role, url, n in table:
            if args.only and args.only not in name or "{course}" in url and course is None:
                continue
            b = browsers[role]
            load = os.getloadavg()
            times, client, size = [], [], 0
            began = time.perf_counter()
            for i in range(n + args.warmup):
                warm, i = i < args.warmup, rng.randrange(len(people))
                target = url.format(person=people[i], team_person=rng.choice(team), cert=cert, n=i, course=course,
                                    statement=rng.choice(sample),
                                    site=f"site-{rng.randrange(40)}",
                                    role=rng.choice(("driver", "mechanic", "operator")))
                start = time.perf_counter()
                resp = b.get(target)
                client.append((time.perf_counter() - start) * 1000)
                assert resp.status_code == 200, (target, resp.status_code, resp.text[:500])
                if warm:
                    client.pop()
                    continue
                times.append(server_ms(resp))
                size = max(size, len(resp.content))
            if 'http-equiv="refresh"' in resp.text:   # a background job's progress page: time its result
                while 'http-equiv="refresh"' in resp.text:
                    time.sleep(0.5)
                    resp = b.get(target)
                    assert resp.status_code == 200, (target, resp.status_code, resp.text[:500])
                took = time.perf_counter() - began
                background.append((name, role, url, took, server_ms(resp)))
                print(f"{name} ({role}) {url}: the background job's result shown {took:.1f} s after the first "
                      f"request (that page {server_ms(resp):.1f} ms)", flush=True)
            row = (name, role, url, n, percentile(times, 50), percentile(times, 95), max(times),
                   percentile(client, 95), size, load)
            results.append(row)
            print(f"{name} ({role}) {url}: server p50 {row[4]:.1f} ms, p95 {row[5]:.1f} ms, max {row[6]:.1f} ms; "
                  f"client p95 {row[7]:.1f} ms; {size:,} bytes; load before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
                  flush=True)
    print()
    print(f"machine: {machine()}")
    print(f"data: {statements:,} statements, {facts:,} facts, {len(people):,} people, {args.certs} certifications, "
          f"{records:,} records, {events:,} history events; roster of {cert} ({cert_records:,} records); "
          f"supervisor's team: {len(team)} people; embedded SQLite stores; server time from Server-Timing; "
          f"{args.warmup} warm-up request(s) a page not counted")
    print()
    print("| page | role | URL | requests | p50 ms | p95 ms | max ms | load before (1/5/15 min) | p95 <= 200 ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, role, url, n, p50, p95, top, _, _, load in results:
        print(f"| {name} | {role} | `{url}` | {n} | {p50:.1f} | {p95:.1f} | {top:.1f} | "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} | {'yes' if p95 <= TARGET_MS else 'no'} |")
    for name, role, url, took, ms in background:
        print(f"\n{name} ({role}) `{url}`: computed in the background (web/jobs.py); its pages showed the progress, "
              f"the result was shown {took:.1f} s after the first request (that page: {ms:.1f} ms server time)")


if __name__ == "__main__":
    main()
