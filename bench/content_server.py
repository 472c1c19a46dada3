"""Start the real service (`lrs serve` in a subprocess, loopback only) for the content benches."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`lrs serve` (one process) on 127.0.0.1, with its own data folder and an admin credential
    (``auth``) for the content management API. The main origin is ``base`` (port ``port``); course
    files are on the content origin (``content_port``), for a player session (``session_cookie``)."""

    auth = ("bench-admin", "bench-admin-secret")

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.content_port = free_port()
        while self.content_port == self.port:
            self.content_port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, LRS_DATA_DIR=str(data_dir), LRS_LOG_LEVEL="warning", LRS_HOST="127.0.0.1",
                   LRS_PORT=str(self.port), LRS_CONTENT_PORT=str(self.content_port))
        subprocess.run([sys.executable, "-m", "service.cli", "credentials", "create", "--key", self.auth[0],
                        "--secret", self.auth[1], "--scope", "all"], cwd=REPO, env=env, check=True,
                       capture_output=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "service.cli", "serve"], cwd=REPO, env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/content/courses", auth=self.auth, timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the service did not start: " + self.proc.stderr.read().decode(errors="replace"))

    def session_cookie(self, course_id: str) -> str:
        """A learner's ``lrs_player`` session on the course: a launch link made and opened."""
        made = httpx.post(self.base + "/player/launches", auth=self.auth, timeout=10,
                          json={"learner": {"mbox": "mailto:bench@example.com"}, "course_id": course_id})
        made.raise_for_status()
        opened = httpx.get(made.json()["launch_url"], timeout=10)
        return opened.cookies["lrs_player"]

    def rss_kib(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) of the server process in KiB."""
        values = {}
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    values[key] = int(value.split()[0])
        return values["VmRSS"], values["VmHWM"]

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem = 0
    return f"{os.cpu_count()} cores ({cpu}), {mem / 1024 / 1024:.0f} GiB RAM, Python {sys.version.split()[0]}"
