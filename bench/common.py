"""Shared by the benchmarks: realistic statements, a real server in a subprocess, RSS sampling."""
from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
KEY, SECRET = "bench", "bench-secret"
VERBS = ["http://adlnet.gov/expapi/verbs/" + v for v in
         ("attempted", "completed", "passed", "failed", "experienced", "answered", "launched", "initialized",
          "terminated", "progressed")]
LEARNERS = 20_000
COURSES = 200
MODULES_PER_COURSE = 10
NS = uuid.UUID("6f1d3c1e-7a52-4d2b-9a5e-2f7c6b0c9a11")


def learner(i: int) -> dict:
    return {"objectType": "Agent", "name": f"Learner {i}", "mbox": f"mailto:learner{i}@example.com"}


RARE_LEARNERS = 1_000_000


def rare_learner(k: int) -> dict:
    return {"objectType": "Agent", "name": f"Occasional learner {k}", "mbox": f"mailto:occasional{k}@example.com"}


def course_id(c: int) -> str:
    return f"https://courses.example.com/course/{c}"


def module_id(c: int, m: int) -> str:
    return f"https://courses.example.com/course/{c}/module/{m}"


def registration(i: int, c: int) -> str:
    return str(uuid.uuid5(NS, f"{i}/{c}"))


def statement(rng: random.Random) -> dict:
    """A statement like a SCORM/cmi5 course sends: context, result and extensions."""
    i = rng.randrange(LEARNERS)
    c = rng.randrange(COURSES)
    m = rng.randrange(MODULES_PER_COURSE)
    verb = rng.choice(VERBS)
    raw = rng.randrange(0, 101)
    sid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return {
        "id": str(sid),
        # 1 in 1,000 from a learner of 1,000,000 occasional ones (about one statement each at 10M): the
        # rare agents bench/query.py asks for. Drawn from the id, so the rest of the data is unchanged.
        "actor": rare_learner(sid.int % RARE_LEARNERS) if i < LEARNERS // 1000 else learner(i),
        "verb": {"id": verb, "display": {"en-US": verb.rsplit("/", 1)[1]}},
        "object": {
            "objectType": "Activity", "id": module_id(c, m),
            "definition": {"name": {"en-US": f"Course {c} module {m}"},
                           "description": {"en-US": f"Module {m} of course {c}"},
                           "type": "http://adlnet.gov/expapi/activities/module"},
        },
        "result": {
            "score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100},
            "success": raw >= 70, "completion": True,
            "duration": f"PT{rng.randrange(1, 3600)}.{rng.randrange(100):02d}S",
            "extensions": {"https://example.com/xapi/ext/attempt": rng.randrange(1, 5)},
        },
        "context": {
            "registration": registration(i, c),
            "platform": "bench",
            "language": "en-US",
            "contextActivities": {
                "parent": [{"id": course_id(c), "objectType": "Activity"}],
                "grouping": [{"id": "https://courses.example.com/catalog"}],
                "category": [{"id": "https://w3id.org/xapi/scorm"}],
            },
            "extensions": {"https://example.com/xapi/ext/site": f"site-{i % 40}",
                           "https://example.com/xapi/ext/session": str(uuid.UUID(int=rng.getrandbits(128)))},
        },
        "timestamp": "2026-11-01T08:00:00.000Z",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``lrs serve`` on a data folder, with a bench credential, stopped on exit."""

    def __init__(self, data_dir: Path, port: int | None = None, workers: int = 1):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.log = None
        self.url = f"http://127.0.0.1:{self.port}/xapi"

    def env(self) -> dict:
        return dict(os.environ, LRS_DATA_DIR=str(self.data_dir), LRS_PORT=str(self.port), LRS_LOG_LEVEL="warning")

    def launch(self, args: list[str]) -> None:
        """Start ``lrs <args>`` (the bench credential made first), its output kept in a temporary log that
        says why if it exits before listening (stopping on a port another process took in between is
        retried on a new port by ``wait_listening``)."""
        lrs = [sys.executable, "-m", "service.cli"]
        existing = subprocess.run(lrs + ["credentials", "list"], env=self.env(), cwd=REPO, capture_output=True,
                                  text=True)
        if f'"key": "{KEY}"' not in existing.stdout:
            subprocess.run(lrs + ["credentials", "create", "--key", KEY, "--secret", SECRET], env=self.env(),
                           cwd=REPO, check=True, capture_output=True)
        self._args = args
        self.log = tempfile.NamedTemporaryFile(prefix="lrs-bench-serve-", suffix=".log", delete=False)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(lrs + args, env=self.env(), cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT)

    def exited(self) -> str | None:
        """None while the server runs; else its exit status and the end of its log."""
        if self.proc is None or self.proc.poll() is None:
            return None
        return f"status {self.proc.returncode}: {Path(self.log.name).read_text(errors='replace')[-2000:]}"

    def relaunch_if_port_taken(self) -> bool:
        """The server exited because its port was taken between ``free_port`` and its bind (another
        process on this machine): start it again on a new port. True if it did."""
        why = self.exited()
        if why is None or "address already in use" not in why.lower():
            return False
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xapi"
        self.launch(self._args)
        return True

    def __enter__(self) -> "Server":
        self.launch(["serve", "--workers", str(self.workers)])
        deadline = time.time() + 120  # a big store: the writer builds its id filter before the server listens
        while time.time() < deadline:
            try:
                httpx.get(self.url + "/about", timeout=1)
                return self
            except httpx.TransportError:
                if self.exited() and not self.relaunch_if_port_taken():
                    raise RuntimeError(f"the server exited before listening ({self.exited()})")
                time.sleep(0.2)
        self.proc.terminate()  # do not leave it running behind the failed bench
        self.proc.wait(10)
        raise RuntimeError(f"the server did not start in 120 s (log: {self.log.name})")

    def __exit__(self, *exc):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            Path(self.log.name).unlink(missing_ok=True)

    def pids(self) -> list[int]:
        """The server process and all its descendants (workers, the SQLite writer process). A
        child is listed under the thread that started it, so every thread's list is read."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                try:
                    todo += [int(c) for c in (task / "children").read_text().split()]
                except OSError:
                    pass
        return out


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class RssSampler(threading.Thread):
    """Samples the total RSS of the server's processes every 0.2 s; ``peak`` is the highest seen."""

    def __init__(self, server: Server):
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            self.peak = max(self.peak, sum(rss_mb(p) for p in self.server.pids()))
            time.sleep(0.2)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {sys.version.split()[0]}"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def store_name() -> str:
    """Which store the bench's server runs on: LRS_MONGODB_URL in the environment selects the mongo adapter."""
    url = os.environ.get("LRS_MONGODB_URL", "")
    return f"mongo store at {url}" if url else "embedded SQLite store"
