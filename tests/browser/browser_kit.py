"""What the browser tests share besides fixtures: how Chromium is started, the phone profile, where
artefacts go, where the fixture packages are, and ``LrsServer``: a real ``lrs serve`` process to play
courses on, which can be killed and started again on the same data folder and ports."""
from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
PACKAGES = REPO.parent / "shared" / "fixtures" / "packages"
ARTEFACTS_ROOT = REPO / "var" / "test-artifacts" / "browser"
VENV_BIN = Path(sys.executable).parent

sys.path.insert(0, str(REPO / "tests" / "lrs"))
from lrs_testkit import create_credential, free_port  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach hosts this machine cannot reach.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]

# A phone between shifts: 360x740 CSS pixels, touch, a mobile viewport, device scale factor 2.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "screen": {"width": 360, "height": 740},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
    "user_agent": ("Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/156.0.0.0 Mobile Safari/537.36"),
}

ADMIN = ("browser-admin", "browser-admin-secret-1")
LEARNER = {"objectType": "Agent", "name": "Ana Learner", "mbox": "mailto:ana@example.com"}


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def package_path(name: str) -> Path:
    """A fixture package by name, with or without ``.zip``."""
    path = PACKAGES / (name if name.endswith(".zip") else name + ".zip")
    if not path.is_file():
        import pytest

        pytest.skip(f"{path} is absent: third-party fixtures are read from ../shared")
    return path


def content_origin_env(port: int) -> dict[str, str]:
    """The settings that put the content origin (course files, the learner's player) on ``port``
    (service/config.py): ``LRS_CONTENT_PORT``, the second port ``lrs serve`` listens on (default: the
    main port + 1, which may be taken here, hence a free one), and ``LRS_CONTENT_ORIGIN``, its URL as
    browsers reach it, where launch links point."""
    return {"LRS_CONTENT_ORIGIN": f"http://127.0.0.1:{port}", "LRS_CONTENT_PORT": str(port)}


class LrsServer:
    """``lrs serve`` as a child process on 127.0.0.1, on free ports and its own LRS_DATA_DIR, with an
    admin credential (``all`` scope). ``kill()`` ends it with SIGKILL, as a crash would; ``start()``
    again brings it back on the same data folder and the same ports."""

    def __init__(self, root: Path, env: dict | None = None):
        self.root = Path(root)
        self.data_dir = self.root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.content_port = free_port()
        self.extra_env = dict(env or {})
        self.proc: subprocess.Popen | None = None
        self.log_path = self.root / "serve.log"
        self.starts = 0
        create_credential(self.data_dir, *ADMIN, ["all"])

    # -- where it is --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The main origin: /xapi, /content (admin), /player/launches."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def content_url(self) -> str:
        """The content origin (course files, the learner's player), once the player serves one."""
        return f"http://127.0.0.1:{self.content_port}"

    @property
    def admin_headers(self) -> dict:
        return {"Authorization": basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}

    def env(self) -> dict:
        return dict(os.environ, LRS_DATA_DIR=str(self.data_dir), LRS_HOST="127.0.0.1", LRS_PORT=str(self.port),
                    LRS_LOG_LEVEL="warning", PYTHONUNBUFFERED="1", **content_origin_env(self.content_port),
                    **self.extra_env)

    # -- process ------------------------------------------------------------------------------------

    def start(self, timeout: float = 30.0) -> "LrsServer":
        assert not self.running, "already running"
        log = open(self.log_path, "ab")
        log.write(f"--- start {self.starts + 1} ---\n".encode())
        log.flush()
        self.proc = subprocess.Popen([str(VENV_BIN / "lrs"), "serve"], cwd=REPO, env=self.env(),
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        self.starts += 1
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lrs serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/xapi/about", timeout=1.0).status_code == 200:
                    time.sleep(0.1)
                    if self.proc.poll() is None:  # our own server answered, not another on a reused port
                        return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"lrs serve did not answer {self.url}/xapi/about in {timeout} s:\n{self.output()}")

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the server and every process it started (its statement writer too), as a crash."""
        if self.running:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self, timeout: float = 30.0) -> "LrsServer":
        """Kill it and start it again on the same data folder and ports."""
        self.kill()
        return self.start(timeout)

    def stop(self) -> None:
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def output(self) -> str:
        try:
            return self.log_path.read_bytes().decode(errors="replace")
        except OSError:
            return ""

    # -- admin API ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, **kw) -> httpx.Response:
        headers = {**self.admin_headers, **kw.pop("headers", {})}
        return httpx.request(method, self.url + path, headers=headers, timeout=30.0, **kw)

    def import_package(self, name: str) -> dict:
        """POST a fixture package to /content/packages; the answer: {"created", "course", "version"}."""
        r = self.request("POST", "/content/packages", content=package_path(name).read_bytes(),
                         headers={"Content-Type": "application/zip"})
        assert r.status_code in (200, 201), f"import of {name}: {r.status_code} {r.text}"
        return r.json()

    def launch(self, course_id: str, learner: dict | None = None, **fields) -> dict:
        """POST /player/launches: {"launch_url", "expires", "registration": {...}}."""
        body = {"learner": learner or LEARNER, "course_id": course_id, **fields}
        r = self.request("POST", "/player/launches", content=json.dumps(body),
                         headers={"Content-Type": "application/json"})
        assert r.status_code == 201, f"launch of {course_id}: {r.status_code} {r.text}"
        return r.json()

    def document(self, resource: str, **params) -> tuple[int, object]:
        """GET /xapi/activities/state, /xapi/activities/profile or /xapi/agents/profile (``resource``:
        "activities/state" ...): (status, the JSON body, or the text when it is not JSON)."""
        params = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in params.items()}
        r = self.request("GET", f"/xapi/{resource}", params=params)
        if r.status_code != 200:
            return r.status_code, r.text
        try:
            return 200, r.json()
        except ValueError:
            return 200, r.text

    def attempts(self, registration: str) -> list[dict]:
        """The registration's attempts as admins see them: sco, number, completion_status, success_status,
        score_scaled, total_time, ended, commits (the last applied sequence number).

        From the status API (GET /player/registrations/{id}) when this build has it; else from the player
        store in the data folder (``stored_attempts``)."""
        found = self.registration(registration)
        if found is not None and "attempts" in found:
            return found["attempts"]
        return [{k: v for k, v in a.items() if k != "data"} for a in self.stored_attempts(registration)]

    def stored_attempts(self, registration: str) -> list[dict]:
        """The registration's attempts read from the embedded player store (SQLite, readable while the
        server runs), with each attempt's runtime ``data`` ({"cmi": {...}, "session": ..., ...})."""
        from player.storage.sqlite import SqlitePlayerStore

        store = SqlitePlayerStore(self.data_dir / "player.sqlite3")
        try:
            return [{"sco": a.sco_id, "number": a.number, "completion_status": a.completion_status,
                     "success_status": a.success_status, "score_scaled": a.score_scaled,
                     "total_time": a.total_time, "ended": a.ended, "commits": a.applied_seq, "data": a.data}
                    for a in store.attempts(registration)]
        finally:
            store.close()

    def registration_status(self, registration: str) -> dict:
        """The registration's status as admins see it: completion_status, success_status, score_scaled,
        total_time, attempts, last_activity. The status API's ``status`` when this build has it; else the
        same summary (player/runtime/status.py) over the player store's attempts and the version's structure."""
        found = self.registration(registration)
        if found is not None and "status" in found:
            return found["status"]
        from player.runtime.status import summary
        from player.storage.sqlite import SqlitePlayerStore

        store = SqlitePlayerStore(self.data_dir / "player.sqlite3")
        try:
            reg, attempts = store.get_registration(registration), store.attempts(registration)
        finally:
            store.close()
        r = self.request("GET", f"/content/courses/{reg.course_id}/versions/{reg.version}")
        assert r.status_code == 200, r.text
        out = summary(attempts, r.json().get("structure") or {})
        out.pop("scos")
        return out

    def registration(self, registration: str) -> dict | None:
        """GET /player/registrations/{id} (the status API), or None where this build has no such route."""
        r = self.request("GET", f"/player/registrations/{registration}")
        return r.json() if r.status_code == 200 else None

    def statements(self, **params) -> list[dict]:
        """Every statement that matches ``params`` (GET /xapi/statements, following ``more``), oldest first."""
        params = {"ascending": "true", "limit": "500", **params}
        r = self.request("GET", "/xapi/statements", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        out = list(body["statements"])
        while body.get("more"):
            r = self.request("GET", body["more"])
            assert r.status_code == 200, r.text
            body = r.json()
            out += body["statements"]
        return out
