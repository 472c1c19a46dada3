"""Fixtures for the LRS tests.

- ``data_dir``: an empty data folder per test.
- ``make_client(**settings, credentials=[...])``: an in-process TestClient over
  ``service.app.create_app(Settings(data_dir=...))`` with an ``all``-scoped admin credential
  (plus any others asked for), sending X-Experience-API-Version 1.0.3 and Basic auth by default.
- ``client``: ``make_client()`` with default settings.
- ``backend``: the store those clients run on, each test once per adapter: ``""`` for the embedded
  SQLite store, or the URL of a fresh database on the server LRS_TEST_MONGODB_URL names (the
  mongo runs skip when it is not set).
- ``live_server``: a factory for real ``lrs serve`` processes (crash and concurrency tests).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from lrs_testkit import (ADMIN, VERSION, LiveServer, basic, create_credential, fresh_mongodb_url,  # noqa: E402
                         make_statement)


@pytest.fixture(scope="session")
def _seeded_store(tmp_path_factory) -> Path:
    """A data dir holding only the admin credential, made once: hashing a secret (scrypt) is slow."""
    d = tmp_path_factory.mktemp("seed")
    create_credential(d, *ADMIN, ["all"], name="LRS admin", email="admin@example.com")
    return d


@pytest.fixture
def data_dir(tmp_path, _seeded_store) -> Path:
    """An empty store (with the admin credential already in it) per test."""
    d = tmp_path / "data"
    shutil.copytree(_seeded_store, d)
    return d


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request) -> str:
    """The MongoDB URL of a fresh database for the mongo adapter, "" for the embedded store."""
    return fresh_mongodb_url() if request.param == "mongo" else ""


def _client_factory(data_dir: Path, mongodb_url: str = ""):
    """Clients over apps on ``data_dir`` (and the database ``mongodb_url`` names, if any); the embedded
    store in ``data_dir`` must already hold the admin credential."""
    from starlette.testclient import TestClient

    from service.app import create_app
    from service.config import Settings

    opened = []
    if mongodb_url:
        create_credential(data_dir, *ADMIN, ["all"], name="LRS admin", email="admin@example.com",
                          mongodb_url=mongodb_url)

    def factory(credentials=(), auth=ADMIN, version=VERSION, **settings):
        for cred in credentials:
            key, secret, scopes, *rest = cred
            create_credential(data_dir, key, secret, scopes, mongodb_url=mongodb_url, **(rest[0] if rest else {}))
        headers = {}
        if version is not None:
            headers["X-Experience-API-Version"] = version
        if auth is not None:
            headers["Authorization"] = basic(*auth)
        app = create_app(Settings(data_dir=data_dir, mongodb_url=mongodb_url, **settings))
        tc = TestClient(app, base_url="http://testserver/xapi", headers=headers)
        tc.__enter__()
        opened.append(tc)
        return tc

    def close():
        for tc in opened:
            tc.__exit__(None, None, None)

    return factory, close


@pytest.fixture
def make_client(data_dir, backend):
    factory, close = _client_factory(data_dir, backend)
    yield factory
    close()


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def shared_client(request, tmp_path_factory, _seeded_store):
    """One client and store for a whole module: for tests that only add Statements with fresh ids
    and do not depend on what else is stored (validation), to keep the suite fast."""
    url = fresh_mongodb_url() if request.param == "mongo" else ""
    d = tmp_path_factory.mktemp("shared") / "data"
    shutil.copytree(_seeded_store, d)
    factory, close = _client_factory(d, url)
    yield factory()
    close()


@pytest.fixture
def statement():
    """Factory for realistic valid Statements: ``statement(**overrides)``."""
    return make_statement


@pytest.fixture
def live_server(tmp_path, _seeded_store):
    """Factory: ``live_server(data_dir=None, env=None)`` starts ``lrs serve`` with an admin credential."""
    servers: list[LiveServer] = []

    def factory(data_dir: Path | None = None, env: dict | None = None, start: bool = True) -> LiveServer:
        d = data_dir or tmp_path / f"live{len(servers)}"
        if not d.exists():
            shutil.copytree(_seeded_store, d)
        server = LiveServer(d, env)
        servers.append(server)
        if start:
            server.start()
        return server

    yield factory
    for server in servers:
        server.stop()
