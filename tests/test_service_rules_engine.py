"""`lrs serve` runs the rules engine (LRS_RULES_ENGINE=true, the default) in a child process of its own,
`lrs rules run`, so it never competes with the requests for the GIL: the child computes the records, and
it stops when the server stops and when the server dies.

A real `lrs serve` on free ports and a temporary data folder, as tests/test_service_origins.py does."""
from __future__ import annotations

import os
import re
import signal
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent / "lrs"))

from lrs_testkit import ADMIN, LiveServer, basic, create_credential  # noqa: E402

AUTH = {"Authorization": basic(*ADMIN)}
XAPI = {**AUTH, "X-Experience-API-Version": "1.0.3"}
COURSE = "http://example.com/activities/bus-course"


def engine_pid(server: LiveServer) -> int:
    found = re.search(r"rules engine: +process (\d+)", server.read_output())
    assert found, server.read_output()
    return int(found.group(1))


def running(pid: int) -> bool:
    """The process exists and is not a zombie (an orphan's zombie may wait for a parent that never reaps)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.05)
    return not running(pid)


def start(tmp_path, env: dict | None = None) -> LiveServer:
    d = tmp_path / "data"
    create_credential(d, *ADMIN, ["all"])
    return LiveServer(d, env).start()


def test_the_engine_child_of_lrs_serve_computes_the_records(tmp_path):
    server = start(tmp_path)
    try:
        pid = engine_pid(server)
        assert running(pid) and pid != server.proc.pid
        base = f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=base, timeout=10) as c:
            assert c.post("/rules/people", headers={**AUTH, "Content-Type": "text/csv"},
                          content=b"person_id,email,roles\nada,ada@example.com,bus_operator\n").status_code < 300
            for kind, body in [("completion", {"id": "bus-course", "activity": COURSE, "success": True}),
                               ("certification", {"id": "bus-operator", "initial": "bus-course",
                                                  "validity": {"months": 12}}),
                               ("requirement", {"id": "bus-operators", "applies_to": {"roles": ["bus_operator"]},
                                                "certifications": ["bus-operator"]})]:
                made = c.post(f"/rules/definitions/{kind}", headers=AUTH, json={"definition": body, "reason": "new"})
                assert made.status_code < 300, made.text
                published = c.post(f"/rules/definitions/{kind}/{body['id']}/versions/{made.json()['version']}"
                                   "/publish", headers=AUTH, json={"reason": "in force"})
                assert published.status_code < 300, published.text
            now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            assert c.post("/xapi/statements", headers=XAPI, json={
                "actor": {"mbox": "mailto:ada@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
                "object": {"id": COURSE}, "result": {"success": True}, "timestamp": now}).status_code == 200
            record = {}
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                resp = c.get("/rules/certifications/bus-operator/roster", headers=AUTH)
                assert resp.status_code == 200, resp.text
                record = next((r for r in resp.json()["people"] if r["person_id"] == "ada"), {})
                if record.get("status") == "certified":
                    break
                time.sleep(0.1)
            assert record.get("status") == "certified", (record, server.read_output())
            assert running(pid)  # the server's own processes hold no engine: the child did the work
    finally:
        server.stop()


def test_the_engine_child_stops_when_the_server_is_stopped(tmp_path):
    server = start(tmp_path)
    pid = engine_pid(server)
    assert running(pid)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0
    assert not running(pid)  # the server waited for it


def test_the_engine_child_stops_when_the_server_is_killed(tmp_path):
    server = start(tmp_path)
    pid = engine_pid(server)
    assert running(pid)
    server.kill()
    assert wait_gone(pid, 5), f"the rules engine (process {pid}) outlived the killed server"


def test_no_engine_child_without_lrs_rules_engine(tmp_path):
    server = start(tmp_path, {"LRS_RULES_ENGINE": "false"})
    try:
        assert "rules engine:   not run here" in server.read_output()
        # the SQLite store's writer process (and multiprocessing's resource tracker) are children too,
        # started before the server listens; the engine would be `... service.cli ... rules run`
        children = Path(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children").read_text().split()
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in children]
        assert not [c for c in commands if b"rules" in c and b"run" in c], commands
    finally:
        server.stop()
