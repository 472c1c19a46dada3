"""Every store read has a deadline (LRS_READ_TIMEOUT_SECONDS): a read that passes it, the wait for a
connection included, raises StoreBusy, and the store goes on serving the next reads."""
from __future__ import annotations

import contextlib
import time

import orjson
import pytest

from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import NewStatement, StatementQuery, StoreBusy
from lrs_testkit import error_of, fresh_database_name, make_statement

AUTHORITY = {"objectType": "Agent", "name": "test", "mbox": "mailto:authority@example.com"}
FAR = 1 << 52  # the seq of the reported attack's cursor: 2^40 buckets of the term index below it
# A read that never ends by itself: only the deadline stops it.
ENDLESS = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c"


def _new() -> NewStatement:
    st = prepare(make_statement(), AUTHORITY, "1.0.3")
    return NewStatement(st, statement_terms(st))


def _plant_far_statement(conn) -> None:
    """A Statement row at seq 2^52: the newest seq is then far past the data, as a window a client could
    once choose made it; the store's clamp to its newest seq no longer shortens the walk."""
    st = prepare(make_statement(), AUTHORITY, "1.0.3")
    st["stored"] = "2000-01-01T00:00:00.000Z"
    conn.execute("INSERT INTO statements (seq, id, stored, body) VALUES (?, ?, ?, ?)",
                 (FAR, st["id"], st["stored"], orjson.dumps(st)))


def _endless_lookup(conn, *args):
    """In place of the term lookup: a read that runs until its deadline stops it. (A window far past the
    data, as the reported cursor made, no longer makes a long read: tests/lrs/test_sqlite_scale.py.)"""
    conn.execute(ENDLESS).fetchall()
    raise AssertionError("the endless read ended by itself")


@pytest.fixture
def endless_term_lookup(monkeypatch):
    import lrs.storage.sqlite as sqlite_adapter

    monkeypatch.setattr(sqlite_adapter, "_term_bucket_parts", _endless_lookup)


@pytest.fixture
def sqlite_store(tmp_path):
    from lrs.storage.sqlite import SqliteStore

    store = SqliteStore(tmp_path / "lrs.sqlite3", read_timeout=0.3)
    store.insert([_new() for _ in range(3)], {})
    yield store
    store.close()


def test_sqlite_read_past_its_deadline_raises_store_busy_and_the_pool_serves_on(sqlite_store,
                                                                                endless_term_lookup):
    """Issue 9 finding 1: a SQLite read that runs long (the bucket walk a tampered cursor once caused;
    here a lookup that never ends) is interrupted at the read timeout with StoreBusy, instead of holding
    a reader for good; the reader goes back to the pool and serves the next reads."""
    from lrs.storage.sqlite import READERS

    _plant_far_statement(sqlite_store._writer)
    for _ in range(READERS + 1):  # more than the pool holds: each interrupted reader is given back
        started = time.monotonic()
        with pytest.raises(StoreBusy) as caught:
            sqlite_store.query(StatementQuery(terms=[("v:urn:no-such-verb", False)], limit=10))
        assert time.monotonic() - started < 2.0
        assert caught.value.retry_after >= 1
    assert sqlite_store.last_seq() == FAR
    rows, _ = sqlite_store.query(StatementQuery(limit=10, after_seq=4, max_seq=4))
    assert len(rows) == 3


def test_sqlite_wait_for_a_reader_is_bounded(sqlite_store):
    """Issue 9 finding 1: when every reader connection is taken, a read waits for one at most the read
    timeout, then raises StoreBusy; once they are given back, reads go on."""
    from lrs.storage.sqlite import READERS

    with contextlib.ExitStack() as held:
        for _ in range(READERS):
            held.enter_context(sqlite_store._read())
        started = time.monotonic()
        with pytest.raises(StoreBusy):
            sqlite_store.last_seq()
        assert 0.25 < time.monotonic() - started < 2.0
    assert sqlite_store.last_seq() == 3


def test_mongo_read_past_its_deadline_raises_store_busy_and_the_store_serves_on():
    """Issue 9 finding 1: a mongo read that passes the read timeout raises StoreBusy (PyMongo's
    operation timeout, maxTimeMS on the server); the next reads are served."""
    from lrs_testkit import mongo_url_or_skip

    from lrs.storage.mongo import MongoStore

    store = MongoStore(mongo_url_or_skip(), database=fresh_database_name(), read_timeout=1e-6)
    try:
        with pytest.raises(StoreBusy):  # the deadline passes before the read can even be sent
            store.query(StatementQuery(limit=10))
        with pytest.raises(StoreBusy):
            store.credentials()
        store.read_timeout = 10.0
        store.insert([_new() for _ in range(3)], {})
        rows, _ = store.query(StatementQuery(limit=10))
        assert len(rows) == 3
    finally:
        store.close()


def test_read_past_its_deadline_is_503_with_retry_after(make_client, data_dir, backend, monkeypatch):
    """Issue 9 finding 1: over HTTP, a read that passes LRS_READ_TIMEOUT_SECONDS answers 503 with
    Retry-After and the JSON error body, and the server answers the next requests."""
    if backend:
        pytest.skip("the endless lookup is the SQLite term index's; the mongo deadline is tested above")
    import lrs.storage.sqlite as sqlite_adapter

    monkeypatch.setattr(sqlite_adapter, "_term_bucket_parts", _endless_lookup)
    import sqlite3

    client = make_client(read_timeout_seconds=0.3)
    assert client.post("/statements", json=make_statement()).status_code == 200
    conn = sqlite3.connect(data_dir / "lrs.sqlite3", isolation_level=None)
    _plant_far_statement(conn)
    conn.close()
    started = time.monotonic()
    resp = client.get("/statements", params={"verb": "urn:no-such-verb"})
    assert time.monotonic() - started < 2.0
    assert resp.status_code == 503, resp.text
    assert int(resp.headers["Retry-After"]) >= 1
    error_of(resp)
    assert client.get("/statements", params={"limit": 1}).status_code == 200


def test_read_timeout_setting(monkeypatch, tmp_path):
    """LRS_READ_TIMEOUT_SECONDS reaches the store; it must be a positive number."""
    from service.config import Settings

    from lrs.storage import open_store

    assert Settings.from_env({}).read_timeout_seconds == 10.0
    settings = Settings.from_env({"LRS_READ_TIMEOUT_SECONDS": "2.5"})
    assert settings.read_timeout_seconds == 2.5
    for bad in ("0", "-1", "soon", "inf", "nan"):
        with pytest.raises(ValueError, match="LRS_READ_TIMEOUT_SECONDS"):
            Settings.from_env({"LRS_READ_TIMEOUT_SECONDS": bad})
    store = open_store(tmp_path, read_timeout=settings.read_timeout_seconds)
    try:
        assert store.read_timeout == 2.5
    finally:
        store.close()
