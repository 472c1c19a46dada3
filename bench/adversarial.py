"""Adversarial benchmark: a normal reading client's latency alone, then while attackers run.

    python bench/adversarial.py [--statements 20000] [--duration 20] [--scenarios alone,all]

Builds a fresh store (unless --data-dir names one that has statements), loads --statements
realistic statements through the normal POST path, then for each scenario starts the server
afresh on that store and measures one reader: sequential GET /xapi/statements queries of the
shapes bench/query.py uses (agent, verb + activity, registration, related_activities,
since/until; limit=20), --reader-rate a second for --duration seconds, latency counted from
when each request was due (so a stall counts for every request it delayed). The attackers run at the same time:

    cursor      forged `more` cursors (cursor=4503599627370496.4503599627370496 and others)
                with a statements/read/mine credential, one request at a time
    slow-body   --slow-connections POSTs at once that send their body a few bytes a second
                (half without credentials, half with a valid writer's)
    bad-secret  wrong passwords for a known key, one request at a time
    bad-key     wrong passwords for an unknown key, one request at a time

Scenario `all` runs the four together; `cursor`, `slow-body` and `bad-secrets` (both
secret attackers) run alone for a breakdown. Every attacker request has its own deadline
(--attack-timeout, --slow-seconds), so the bench never hangs on a stuck server; a server that ignores
SIGTERM is killed. Latency percentiles count every reader request, a timed-out or unsent one
at the time it waited. Target (issue 9): the reader's p95 stays <= 50 ms under attack.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (KEY, REPO, SECRET, RssSampler, Server, machine, percentile, rss_mb, statement,  # noqa: E402
                    store_name)
from query import shapes  # noqa: E402

MINE_KEY, MINE_SECRET = "bench-mine", "bench-mine-secret"
WRITER_KEY, WRITER_SECRET = "bench-writer", "bench-writer-secret"
VERSION = {"X-Experience-API-Version": "1.0.3"}
FORGED_CURSORS = ["4503599627370496.4503599627370496", "9223372036854775807.9223372036854775807",
                  "18446744073709551616.18446744073709551616", "1.4503599627370496", "4503599627370496.1",
                  "99999999999999999999999.1", "-1.-1", "eyJzZXEiOjF9.c2lnbmF0dXJl", "0.0"]
SCENARIOS = {"alone": (), "cursor": ("cursor",), "slow-body": ("slow-body",),
             "bad-secrets": ("bad-secret", "bad-key"), "all": ("cursor", "slow-body", "bad-secret", "bad-key")}


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


# -- the store -------------------------------------------------------------------------------------

def create_credential(data_dir: Path, key: str, secret: str, scopes: list[str]) -> None:
    env = dict(os.environ, LRS_DATA_DIR=str(data_dir))
    lrs = [sys.executable, "-m", "service.cli"]
    listed = subprocess.run(lrs + ["credentials", "list"], env=env, cwd=REPO, capture_output=True, text=True)
    if f'"key": "{key}"' not in listed.stdout:
        subprocess.run(lrs + ["credentials", "create", "--key", key, "--secret", secret, "--scope", *scopes],
                       env=env, cwd=REPO, check=True, capture_output=True)


async def _load(url: str, total: int, batch: int, seed: int) -> None:
    rng = random.Random(seed)
    headers = dict(VERSION, **{"Content-Type": "application/json"})
    async with httpx.AsyncClient(auth=(KEY, SECRET), headers=headers, timeout=120) as http:
        queue = [orjson.dumps([statement(rng) for _ in range(min(batch, total - s))]) for s in range(0, total, batch)]

        async def worker():
            while queue:
                body = queue.pop()
                r = await http.post(url + "/statements", content=body)
                if r.status_code != 200:
                    raise RuntimeError(f"loading statements: {r.status_code} {r.text[:200]}")
        await asyncio.gather(*(worker() for _ in range(4)))


def sample_store(url: str) -> tuple[tuple[str, str], list[dict]]:
    """The stored range and ~1,000 of the newest statements, to draw the reader's parameters from."""
    root = url.rsplit("/xapi", 1)[0]
    with httpx.Client(auth=(KEY, SECRET), headers=VERSION, timeout=60) as http:
        first = http.get(url + "/statements", params={"limit": "1", "ascending": "true"}).json()["statements"]
        sample: list[dict] = []
        page = http.get(url + "/statements", params={"limit": "100"}).json()
        while True:
            sample += page["statements"]
            if not page["more"] or len(sample) >= 1000:
                break
            page = http.get(root + page["more"]).json()
    return (first[0]["stored"], sample[0]["stored"]), sample


def stop(server: Server) -> str:
    """Stop the server and its children (those this bench started); kill them if SIGTERM is ignored."""
    if not server.proc or server.proc.poll() is not None:
        return "already exited"
    pids = server.pids()
    server.proc.terminate()
    try:
        server.proc.wait(10)
        outcome = f"exited {server.proc.returncode} on SIGTERM"
    except subprocess.TimeoutExpired:
        outcome = "ignored SIGTERM for 10 s: killed"
    for pid in pids:  # the writer process and workers, if any are left
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    server.proc.wait(10)
    return outcome


# -- the reader --------------------------------------------------------------------------------------

def reader(url: str, make_params, duration: float, timeout: float, limit: int, rate: float) -> dict:
    """A client that means to send ``rate`` requests a second for ``duration`` seconds, one at a time.

    Each request's latency counts from when it was due, not from when it could be sent: a request
    stuck behind a stalled one waited too (no coordinated omission). Requests still unsent when the
    run ends (duration plus one timeout) count as unanswered, with the time they had waited."""
    lat: list[float] = []
    statuses: Counter = Counter()
    names = list(make_params)
    interval = 1.0 / rate
    count = max(1, int(duration * rate))
    t0 = time.monotonic()
    give_up = t0 + duration + timeout
    with httpx.Client(auth=(KEY, SECRET), headers=VERSION, timeout=timeout) as http:
        for i in range(count):
            due = t0 + i * interval
            now = time.monotonic()
            if now > give_up:
                for j in range(i, count):  # never sent: the reader was stuck
                    statuses["unanswered"] += 1
                    lat.append(now - (t0 + j * interval))
                break
            if now < due:
                time.sleep(due - now)
            params = dict(make_params[names[i % len(names)]](), limit=str(limit))
            try:
                r = http.get(url + "/statements", params=params)
                statuses[r.status_code] += 1
            except httpx.TimeoutException:
                statuses["timeout"] += 1
            except httpx.TransportError as exc:
                statuses[type(exc).__name__] += 1
            lat.append(time.monotonic() - due)
    return {"lat": lat, "statuses": statuses}


# -- the attackers -------------------------------------------------------------------------------------

class Attacker(threading.Thread):
    def __init__(self, kind: str, url: str, args, halt: threading.Event, real_more: str):
        super().__init__(daemon=True, name=kind)
        self.kind, self.url, self.args, self.halt, self.real_more = kind, url, args, halt, real_more
        self.outcomes: Counter = Counter()
        self.rng = random.Random(sum(kind.encode()))

    def run(self):
        try:
            {"cursor": self.cursors, "bad-secret": self.bad_secrets, "bad-key": self.bad_secrets,
             "slow-body": self.slow_bodies}[self.kind]()
        except Exception as exc:  # an attacker's own failure must not end the bench
            self.outcomes[f"attacker error {type(exc).__name__}"] += 1

    def _get(self, http: httpx.Client, path: str, params: dict) -> None:
        try:
            r = http.get(self.url + path, params=params)
            self.outcomes[r.status_code] += 1
        except httpx.TimeoutException:
            self.outcomes["timeout"] += 1
            time.sleep(0.05)
        except httpx.TransportError as exc:
            self.outcomes[type(exc).__name__] += 1
            time.sleep(0.05)

    def cursors(self):
        real = httpx.URL(self.real_more).params.get("cursor", "1.1")
        forged = FORGED_CURSORS + [real.split(".")[0] + ".4503599627370496", real + "0"]
        filters = [{"verb": "http://adlnet.gov/expapi/verbs/completed"},
                   {"agent": '{"mbox": "mailto:learner1@example.com"}'},
                   {"activity": "https://courses.example.com/course/1/module/1"}]
        with httpx.Client(auth=(MINE_KEY, MINE_SECRET), headers=VERSION, timeout=self.args.attack_timeout) as http:
            while not self.halt.is_set():
                params = dict(self.rng.choice(filters), cursor=self.rng.choice(forged))
                self._get(http, "/statements", params)

    def bad_secrets(self):
        key = KEY if self.kind == "bad-secret" else "no-such-key"
        with httpx.Client(headers=VERSION, timeout=self.args.attack_timeout) as http:
            while not self.halt.is_set():
                guess = f"guess-{self.rng.randrange(10 ** 9)}"
                http.headers["Authorization"] = basic(key, guess)
                self._get(http, "/statements", {"limit": "1"})

    def slow_bodies(self):
        """--slow-connections POSTs at once, each sending a byte every 1/--slow-rate s until its body ends,
        the server answers or closes, or --slow-seconds pass (then this side gives up)."""
        host, port = httpx.URL(self.url).host, httpx.URL(self.url).port
        body_len = 64 * 1024
        conns: list[dict] = []
        interval = 1.0 / self.args.slow_rate
        n = 0
        while not self.halt.is_set() or conns:
            while not self.halt.is_set() and len(conns) < self.args.slow_connections:
                n += 1
                auth = f"Authorization: {basic(WRITER_KEY, WRITER_SECRET)}\r\n" if n % 2 else ""
                head = (f"POST /xapi/statements HTTP/1.1\r\nHost: {host}:{port}\r\n{auth}"
                        f"X-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {body_len}\r\n\r\n").encode()
                s = socket.create_connection((host, port), timeout=5)
                s.sendall(head)
                s.setblocking(False)
                conns.append({"sock": s, "sent": 0, "deadline": time.monotonic() + self.args.slow_seconds,
                              "reply": b""})
            if self.halt.is_set():  # stop: give up the connections still open
                for c in conns:
                    self.outcomes["abandoned at the end"] += 1
                    c["sock"].close()
                conns = []
                break
            time.sleep(interval)
            for c in list(conns):
                done = self._slow_step(c)
                if done:
                    self.outcomes[done] += 1
                    c["sock"].close()
                    conns.remove(c)

    @staticmethod
    def _slow_step(c: dict) -> str | None:
        s = c["sock"]
        try:
            chunk = s.recv(65536)
            if chunk:
                c["reply"] += chunk
            elif c["reply"]:
                return _status_of(c["reply"])
            else:
                return "closed by server"
        except BlockingIOError:
            pass
        except OSError:
            return _status_of(c["reply"]) if c["reply"] else "reset by server"
        if c["reply"].count(b"\r\n\r\n"):
            return _status_of(c["reply"])
        if time.monotonic() > c["deadline"]:
            return "no answer by the deadline (gave up)"
        try:
            s.send(b" ")
            c["sent"] += 1
        except BlockingIOError:
            pass
        except OSError:
            return _status_of(c["reply"]) if c["reply"] else "closed by server while sending"
        return None


def _status_of(reply: bytes) -> str:
    try:
        return reply.split(b" ", 2)[1].decode()
    except IndexError:
        return "garbled reply"


# -- the scenarios ---------------------------------------------------------------------------------------

def run_scenario(name: str, data_dir: Path, args, params, real_more: str) -> dict:
    server = Server(data_dir)
    server.__enter__()
    result: dict = {}
    try:
        sampler = RssSampler(server)
        sampler.start()
        reader(server.url, params, 2.0, args.reader_timeout, args.limit, args.reader_rate)  # warm up
        halt = threading.Event()
        attackers = [Attacker(kind, server.url, args, halt, real_more) for kind in SCENARIOS[name]]
        for a in attackers:
            a.start()
        if attackers:
            time.sleep(args.ramp)  # the attack is on before the reader starts measuring
        result = reader(server.url, params, args.duration, args.reader_timeout, args.limit, args.reader_rate)
        halt.set()
        for a in attackers:
            a.join(max(args.attack_timeout, args.slow_seconds) + 5)
        result["attackers"] = {a.kind: a.outcomes for a in attackers}
        result["rss_end"] = sum(rss_mb(p) for p in server.pids())
        result["rss_peak"] = sampler.stop()
    finally:
        result["stop"] = stop(server)
    return result


def fmt_counter(c: Counter) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(c.items(), key=lambda kv: str(kv[0]))) or "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--statements", type=int, default=20_000, help="statements to load into a fresh store")
    ap.add_argument("--batch", type=int, default=500, help="statements per POST while loading")
    ap.add_argument("--data-dir", type=Path, help="use (and keep) this store; loaded only if it has no statements")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds the reader measures per scenario")
    ap.add_argument("--ramp", type=float, default=2.0, help="seconds the attack runs before the reader measures")
    ap.add_argument("--limit", type=int, default=20, help="the reader's limit parameter")
    ap.add_argument("--reader-rate", type=float, default=20.0, help="requests a second the reader means to send")
    ap.add_argument("--reader-timeout", type=float, default=10.0, help="seconds one reader request may take")
    ap.add_argument("--attack-timeout", type=float, default=5.0,
                    help="seconds one cursor or bad-secret request may take before its attacker gives up on it")
    ap.add_argument("--slow-seconds", type=float, default=30.0,
                    help="seconds one slow POST keeps sending before the attacker gives up on it")
    ap.add_argument("--slow-connections", type=int, default=8, help="slow POSTs the slow-body attacker keeps open")
    ap.add_argument("--slow-rate", type=float, default=4.0, help="bytes a second each slow POST sends")
    ap.add_argument("--scenarios", default="alone,all",
                    help=f"comma-separated, run in this order; of: {', '.join(SCENARIOS)} (default alone,all)")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in scenarios if s not in SCENARIOS]
    if unknown:
        ap.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")

    tmp = None
    data_dir = args.data_dir
    if data_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="lrs-adversarial-"))
        data_dir = tmp / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        create_credential(data_dir, MINE_KEY, MINE_SECRET, ["statements/read/mine"])
        create_credential(data_dir, WRITER_KEY, WRITER_SECRET, ["statements/write"])
        with Server(data_dir) as server:
            with httpx.Client(auth=(KEY, SECRET), headers=VERSION, timeout=60) as http:
                have = http.get(server.url + "/statements", params={"limit": "1"}).json()["statements"]
            if not have:
                began = time.perf_counter()
                asyncio.run(_load(server.url, args.statements, args.batch, args.seed))
                print(f"loaded {args.statements:,} statements in {time.perf_counter() - began:.1f} s", flush=True)
            stored_range, sample = sample_store(server.url)
            with httpx.Client(auth=(MINE_KEY, MINE_SECRET), headers=VERSION, timeout=60) as http:
                more = http.get(server.url + "/statements", params={"limit": "1"}).json().get("more") or ""
            with httpx.Client(auth=(KEY, SECRET), headers=VERSION, timeout=60) as http:
                more = more or http.get(server.url + "/statements", params={"limit": "1"}).json()["more"]
        params = shapes(random.Random(args.seed), stored_range, sample)
        rows = []
        for name in scenarios:
            print(f"scenario {name}: {', '.join(SCENARIOS[name]) or 'no attackers'} ...", flush=True)
            r = run_scenario(name, data_dir, args, params, more)
            rows.append((name, r))
            lat = r["lat"]
            print(f"  reader {len(lat)} requests p50 {percentile(lat, 50) * 1000:.1f} ms p95 "
                  f"{percentile(lat, 95) * 1000:.1f} ms max {max(lat, default=0) * 1000:.1f} ms; "
                  f"{fmt_counter(r['statuses'])}; server {r['stop']}", flush=True)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print(f"machine: {machine()}")
    print(f"data: {args.statements:,} statements (loaded through POST /xapi/statements) in the {store_name()}; "
          f"reader: one client, sequential GET /xapi/statements of the bench/query.py shapes, limit={args.limit}, "
          f"{args.reader_rate:g} a second (latency counted from when each was due), {args.duration:g} s per "
          f"scenario, timeout {args.reader_timeout:g} s; attacker request deadline "
          f"{args.attack_timeout:g} s; slow bodies: {args.slow_connections} connections at {args.slow_rate:g} B/s, "
          f"given up after {args.slow_seconds:g} s")
    print()
    print("| scenario | reader requests | p50 | p95 | max | reader errors / timeouts+unanswered | "
          "attacker responses | server RSS peak / end | server stop |")
    print("|---|---|---|---|---|---|---|---|---|")
    worst = 0.0
    failed_reads = 0
    for name, r in rows:
        lat = r["lat"]
        ok = r["statuses"].get(200, 0)
        lost = r["statuses"].get("timeout", 0) + r["statuses"].get("unanswered", 0)
        bad = sum(v for k, v in r["statuses"].items() if k not in (200, "timeout", "unanswered"))
        attackers = "; ".join(f"{k}: {fmt_counter(v)}" for k, v in r["attackers"].items()) or "-"
        p95 = percentile(lat, 95)
        if name != "alone":
            worst = max(worst, p95)
            failed_reads += bad + lost
        print(f"| {name} | {len(lat)} ({ok} ok) | {percentile(lat, 50) * 1000:.1f} ms | {p95 * 1000:.1f} ms | "
              f"{max(lat, default=0) * 1000:.1f} ms | {bad} / {lost} | {attackers} | "
              f"{r['rss_peak']:.0f} / {r['rss_end']:.0f} MB | {r['stop']} |")
    if any(name != "alone" for name, _ in rows):
        verdict = "met" if worst <= 0.050 and not failed_reads else "NOT met"
        print(f"\ntarget (reader p95 <= 50 ms under attack, every read answered): {verdict} (worst p95 under "
              f"attack {worst * 1000:.1f} ms; {failed_reads} reads failed, timed out or unanswered)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
