"""The ``lrs`` command line: help texts, credentials, and the first-run admin credential of ``lrs serve``.

(Named test_service_cli.py, not test_cli.py: tests/content_store/test_cli.py already takes that module
name and the test folders are not packages.)
"""
from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from dataclasses import fields
from pathlib import Path

import httpx
import pytest

from service.cli import main
from service.config import Settings

REPO = Path(__file__).resolve().parents[1]
LRS = str(Path(sys.executable).parent / "lrs")
SETTINGS_VARS = ["LRS_" + f.name.upper() for f in fields(Settings)]


def run(argv, capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


# -- help ------------------------------------------------------------------------------------------

def test_lrs_help_exits_0_and_lists_every_setting():
    proc = subprocess.run([LRS, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    for var in SETTINGS_VARS:
        assert var in proc.stdout, var
    for command in ("serve", "credentials"):
        assert command in proc.stdout


STORE_VARS = {"LRS_DATA_DIR", "LRS_MONGODB_URL"}


@pytest.mark.parametrize("argv, expected", [
    (["serve"], set(SETTINGS_VARS)),
    (["credentials"], STORE_VARS), (["credentials", "create"], STORE_VARS), (["credentials", "list"], STORE_VARS),
    (["credentials", "revoke"], STORE_VARS),
    (["packages", "import"], {"LRS_DATA_DIR"} | {v for v in SETTINGS_VARS if v.startswith("LRS_PACKAGE_")}),
    (["launch", "create"], STORE_VARS | {"LRS_HOST", "LRS_PORT", "LRS_PUBLIC_URL", "LRS_CONTENT_PORT",
                                         "LRS_CONTENT_ORIGIN", "LRS_LAUNCH_TOKEN_SECONDS"}),
    (["people", "import"], STORE_VARS), (["audit", "verify"], STORE_VARS),
    (["rules", "run"], STORE_VARS | {v for v in SETTINGS_VARS if v.startswith("LRS_RULES_")}),
], ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_each_subcommand_help_lists_the_settings_it_reads_and_no_others(capsys, argv, expected):
    """Issue 9 finding 13: each subcommand's help lists only the environment variables that subcommand
    reads (the top-level help keeps the full table)."""
    code, out, _ = run(argv + ["--help"], capsys)
    assert code == 0
    listed = set(re.findall(r"^\s+(LRS_[A-Z0-9_]+)\s", out, re.M))
    assert listed == expected, (argv, listed ^ expected)


def test_serve_help_names_its_options_and_their_variables(capsys):
    _, out, _ = run(["serve", "--help"], capsys)
    assert "--port" in out and "LRS_PORT" in out
    assert "--host" in out and "LRS_HOST" in out
    assert "--content-port" in out and "LRS_CONTENT_PORT" in out and "LRS_CONTENT_ORIGIN" in out
    assert re.search(r"LRS_CONTENT_PORT\s.*\(LRS_PORT \+ 1\)", out)


def test_credentials_create_help_lists_the_scopes(capsys):
    _, out, _ = run(["credentials", "create", "--help"], capsys)
    for scope in ("all", "all/read", "statements/write", "statements/read/mine", "state", "profile"):
        assert scope in out


# -- credentials ----------------------------------------------------------------------------------

@pytest.fixture
def data_env(tmp_path, monkeypatch):
    d = tmp_path / "data"
    monkeypatch.setenv("LRS_DATA_DIR", str(d))
    return d


def authenticates(data_dir: Path, key: str, secret: str) -> bool:
    from lrs.auth import Credentials
    from lrs.storage import open_store

    store = open_store(data_dir)
    try:
        header = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
        return Credentials(store).authenticate(header) is not None
    finally:
        store.close()


def test_credentials_create_list_revoke(capsys, data_env):
    code, out, _ = run(["credentials", "create", "--key", "lms", "--secret", "s3cret-value",
                        "--scope", "statements/write", "statements/read", "--name", "The LMS"], capsys)
    assert code == 0
    created = json.loads(out.splitlines()[0])
    assert created["key"] == "lms"
    assert created["scopes"] == ["statements/write", "statements/read"]
    assert created["authority"]["name"] == "The LMS"
    assert "s3cret-value" not in out
    assert (data_env / "lrs.sqlite3").exists()
    assert authenticates(data_env, "lms", "s3cret-value")
    assert not authenticates(data_env, "lms", "wrong")

    code, out, _ = run(["credentials", "list"], capsys)
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert [c["key"] for c in listed] == ["lms"]
    assert "s3cret-value" not in out and "secret_hash" not in out

    code, out, _ = run(["credentials", "revoke", "lms"], capsys)
    assert code == 0
    assert not authenticates(data_env, "lms", "s3cret-value")
    code, out, _ = run(["credentials", "list"], capsys)
    assert out.strip() == ""


def test_credentials_create_without_secret_prints_a_generated_one_once(capsys, data_env):
    code, out, _ = run(["credentials", "create", "--key", "app"], capsys)
    assert code == 0
    match = re.search(r"secret \(shown once\): (\S+)", out)
    assert match
    assert authenticates(data_env, "app", match.group(1))
    _, listed, _ = run(["credentials", "list"], capsys)
    assert match.group(1) not in listed


def test_credentials_create_with_email_sets_mbox_authority(capsys, data_env):
    _, out, _ = run(["credentials", "create", "--key", "hr", "--secret", "x", "--email", "hr@example.com"], capsys)
    assert json.loads(out.splitlines()[0])["authority"]["mbox"] == "mailto:hr@example.com"


def test_credentials_create_duplicate_key_fails(capsys, data_env):
    assert run(["credentials", "create", "--key", "dup", "--secret", "a"], capsys)[0] == 0
    code, _, err = run(["credentials", "create", "--key", "dup", "--secret", "b"], capsys)
    assert code != 0
    assert "dup" in err
    assert authenticates(data_env, "dup", "a")


def test_credentials_create_unknown_scope_fails(capsys, data_env):
    code, _, err = run(["credentials", "create", "--key", "x", "--secret", "y", "--scope", "everything"], capsys)
    assert code == 2
    assert "everything" in err


def test_credentials_revoke_unknown_key_fails(capsys, data_env):
    code, _, err = run(["credentials", "revoke", "nobody"], capsys)
    assert code == 1
    assert "nobody" in err


# -- lrs serve: the first-run admin credential ----------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    def __init__(self, data_dir: Path, args: tuple[str, ...] = (), env: dict | None = None):
        self.port = free_port()
        self.content_port = free_port()
        while self.content_port == self.port:
            self.content_port = free_port()
        env = dict(os.environ, LRS_DATA_DIR=str(data_dir), LRS_PORT=str(self.port), LRS_HOST="127.0.0.1",
                   LRS_CONTENT_PORT=str(self.content_port), PYTHONUNBUFFERED="1", **(env or {}))
        self.proc = subprocess.Popen([LRS, "serve", *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_ready(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "".join(self.lines)
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/xapi/about", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("lrs serve did not answer: " + "".join(self.lines))

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(5)
        return "".join(self.lines)


def test_first_serve_prints_the_admin_credential_once(tmp_path):
    data_dir = tmp_path / "data"
    first = Serve(data_dir)
    try:
        first.wait_ready()
        time.sleep(0.3)
        out = "".join(first.lines)
        match = re.search(r"secret:\s+(\S+)", out)
        assert match, out
        assert re.search(r"key:\s+admin", out)
        assert f"http://127.0.0.1:{first.port}/xapi/" in out
        resp = httpx.get(f"http://127.0.0.1:{first.port}/xapi/statements", timeout=5,
                         headers={"X-Experience-API-Version": "1.0.3",
                                  "Authorization": "Basic " + base64.b64encode(
                                      f"admin:{match.group(1)}".encode()).decode()})
        assert resp.status_code == 200
    finally:
        first.stop()

    second = Serve(data_dir)
    try:
        second.wait_ready()
        time.sleep(0.3)
    finally:
        out2 = second.stop()
    assert "secret" not in out2.lower()
    assert match.group(1) not in out2


# -- issue 9 finding 13 ---------------------------------------------------------------------------

def test_generated_secrets_are_url_safe_and_never_start_with_a_dash(capsys, data_env):
    """Issue 9 finding 13: generated secrets (first run and `credentials create`) use a URL-safe
    alphabet and never start with '-', which command-line tools would take for an option."""
    from service import cli

    for _ in range(2000):
        secret = cli.generate_secret()
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]+", secret), secret
        assert len(secret) >= 24
    code, out, _ = run(["credentials", "create", "--key", "gen"], capsys)
    assert code == 0
    assert re.search(r"secret \(shown once\): ([A-Za-z0-9][A-Za-z0-9_-]+)$", out, re.M)


def test_lrs_version_prints_the_version(capsys):
    """Issue 9 finding 13: `lrs --version` exists."""
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert re.match(r"lrs \d+\.\d+", out)


def test_serve_prints_where_it_listens_and_where_the_data_is_on_every_start(tmp_path):
    """Issue 9 finding 13: `lrs serve` prints where it listens, the xAPI endpoint and where the data is
    on every start, not only the first."""
    data_dir = tmp_path / "data"
    for _ in range(2):
        srv = Serve(data_dir)
        try:
            srv.wait_ready()
            time.sleep(0.3)
        finally:
            out = srv.stop()
        assert f"listening on http://127.0.0.1:{srv.port}" in out, out
        assert f"and http://127.0.0.1:{srv.content_port} (content origin)" in out
        assert f"http://127.0.0.1:{srv.port}/xapi/" in out
        assert str(data_dir.resolve()) in out
