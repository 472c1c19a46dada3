"""Helpers shared by the LRS tests: realistic Statements, Basic auth headers, multipart bodies,
and a real ``lrs serve`` process for crash and concurrency tests."""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
VERSION = "1.0.3"
ADMIN = ("admin-key", "admin-secret-1234")


MONGODB_URL_VAR = "LRS_TEST_MONGODB_URL"


def mongo_url_or_skip() -> str:
    """The MongoDB (or FerretDB) server the mongo adapter's tests use; skips them when none is configured."""
    import pytest

    url = os.environ.get(MONGODB_URL_VAR, "")
    if not url:
        pytest.skip(f"{MONGODB_URL_VAR} is not set: no MongoDB/FerretDB server to test the mongo adapter on "
                    "(.ci/run starts FerretDB and sets it)")
    return url


def fresh_database_name() -> str:
    return "lrs_test_" + uuid.uuid4().hex[:16]


def fresh_mongodb_url() -> str:
    """The test server's URL with a fresh database name as its path (skips when there is no server)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(mongo_url_or_skip())
    return urlunsplit(parts._replace(path="/" + fresh_database_name()))


def basic(key: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()


def make_statement(**overrides) -> dict:
    """A realistic valid 1.0.3 Statement with a fresh id; keyword arguments replace top-level properties
    (a value of ``None`` removes the property)."""
    st = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": "Ada Lovelace", "mbox": "mailto:ada@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "fr": "a terminé"}},
        "object": {
            "objectType": "Activity",
            "id": "http://example.com/courses/safety-101",
            "definition": {
                "name": {"en-US": "Safety 101", "de": "Sicherheit 101"},
                "description": {"en-US": "Workplace safety basics"},
                "type": "http://adlnet.gov/expapi/activities/course",
            },
        },
        "result": {
            "score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100},
            "success": True,
            "completion": True,
            "duration": "PT1H12M30S",
        },
        "context": {
            "registration": str(uuid.uuid4()),
            "platform": "Example LMS",
            "language": "en-US",
            "contextActivities": {
                "parent": [{"id": "http://example.com/programs/onboarding"}],
                "grouping": [{"id": "http://example.com/catalog"}],
            },
            "extensions": {"http://example.com/ext/shift": "night"},
        },
        "timestamp": "2024-03-01T10:15:30.123Z",
    }
    for key, value in overrides.items():
        if value is None:
            st.pop(key, None)
        else:
            st[key] = value
    return st


def copy_statement(st: dict) -> dict:
    return copy.deepcopy(st)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def multipart_body(statements, parts: list[tuple[str, bytes]], boundary: str = "xapi-test-boundary",
                   part_headers: dict | None = None) -> tuple[bytes, str]:
    """A multipart/mixed body: the Statement(s) as JSON, then each (contentType, content) part."""
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), json.dumps(statements).encode()]
    for content_type, content in parts:
        headers = {"Content-Type": content_type, "Content-Transfer-Encoding": "binary",
                   "X-Experience-API-Hash": sha256(content)}
        headers.update(part_headers or {})
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if v is not None)
        out.append(f"\r\n--{boundary}\r\n{head}\r\n".encode())
        out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'


def parse_multipart(body: bytes, content_type: str) -> list[tuple[dict, bytes]]:
    """A small independent multipart/mixed reader for responses (not the LRS's own parser)."""
    import email.parser
    import email.policy

    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    assert msg.is_multipart(), "the response is not multipart"
    parts = []
    for part in msg.iter_parts():
        headers = {k.lower(): v for k, v in part.items()}
        parts.append((headers, part.get_payload(decode=True)))
    return parts


def free_port(avoid: int = 0) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port != avoid:
            return port


_HASHED: dict = {}


def create_credential(data_dir: Path, key: str, secret: str, scopes=("all",), mongodb_url: str = "", **kw) -> dict:
    """``Credentials(store).create(...)`` on the store in ``data_dir`` (or at ``mongodb_url``). Hashing a secret (scrypt) is
    deliberately slow, so the same credential made again reuses the row made the first time."""
    from lrs.auth import Credentials
    from lrs.storage import open_store

    memo = (key, secret, tuple(scopes), tuple(sorted(kw.items())))
    store = open_store(data_dir, mongodb_url)
    try:
        if memo in _HASHED:
            store.add_credential(dict(_HASHED[memo]))
            return _HASHED[memo]
        cred = _HASHED[memo] = Credentials(store).create(key, secret, list(scopes), **kw)
        return cred
    finally:
        store.close()


class LiveServer:
    """``lrs serve`` as a child process on 127.0.0.1 and a free port, on one data dir."""

    def __init__(self, data_dir: Path, env: dict | None = None):
        self.data_dir = Path(data_dir)
        self.extra_env = env or {}
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.content_port = 0  # the content origin's listener (course files, the learner's player)
        self.log_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi"

    @property
    def headers(self) -> dict:
        return {"X-Experience-API-Version": VERSION, "Authorization": basic(*ADMIN)}

    def start(self, timeout: float = 20.0) -> "LiveServer":
        self.port = free_port()
        self.content_port = free_port(avoid=self.port)
        env = dict(os.environ, LRS_DATA_DIR=str(self.data_dir), LRS_PORT=str(self.port), LRS_HOST="127.0.0.1",
                   LRS_CONTENT_PORT=str(self.content_port), LRS_LOG_LEVEL="warning", PYTHONUNBUFFERED="1",
                   **self.extra_env)
        # Output goes to a file, not a pipe nobody reads while the server runs (a full pipe would block it).
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve-{self.port}.log"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(VENV_BIN / "lrs"), "serve"], cwd=REPO, env=env,
                                     stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"lrs serve exited with {self.proc.returncode}: {self.read_output()}")
            try:
                if httpx.get(self.url + "/about", timeout=1.0).status_code == 200:
                    # Another process may hold the port (a free port can be taken between the check and
                    # the bind): only our own server, still running once it answers, counts.
                    time.sleep(0.2)
                    if self.proc.poll() is None:
                        return self
                    raise RuntimeError(f"lrs serve exited with {self.proc.returncode}: {self.read_output()}")
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"lrs serve did not answer /xapi/about in time: {self.read_output()}")

    def read_output(self) -> str:
        try:
            return self.log_path.read_bytes().decode(errors="replace")
        except OSError:
            return ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=kw.pop("timeout", 30.0), **kw)


DELETE = object()


def with_value(st: dict, path: str, value) -> dict:
    """``st`` with the property at dotted ``path`` (list indexes as numbers) set to ``value``,
    or removed when ``value`` is ``DELETE``. Intermediate objects are created as needed."""
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    node = st
    for key in keys[:-1]:
        if isinstance(node, dict) and key not in node:
            node[key] = {}
        node = node[key]
    if value is DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = copy.deepcopy(value)
    return st


def error_of(resp) -> dict:
    """The ``error`` object of a 4xx JSON body, checked for the shape DESIGN.md prescribes."""
    assert resp.headers.get("content-type", "").startswith("application/json"), resp.headers
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["status"] == resp.status_code, body
    assert isinstance(err.get("message"), str) and err["message"], body
    return err
