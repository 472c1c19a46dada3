"""The SQLite term index is clustered by sequence bucket (lrs/storage/sqlite.py): queries and
`more` chains must give the same answers whichever buckets the statements fall in. The bucket
size is shrunk to 4 statements so that a small store spans many buckets."""
from __future__ import annotations

import sqlite3

import orjson
import pytest

import lrs.storage.sqlite as sqlite_adapter
from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import NewStatement, StatementQuery
from lrs_testkit import make_statement

AUTHORITY = {"objectType": "Agent", "name": "test", "mbox": "mailto:authority@example.com"}
VERBS = ["http://example.com/verbs/a", "http://example.com/verbs/b", "http://example.com/verbs/c"]


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_adapter, "BUCKET_BITS", 2)
    s = sqlite_adapter.SqliteStore(tmp_path / "lrs.sqlite3")
    yield s
    s.close()


def _new(verb: str) -> NewStatement:
    st = prepare(make_statement(verb={"id": verb}), AUTHORITY, "1.0.3")
    return NewStatement(st, statement_terms(st))


def _chain(store, q: StatementQuery) -> list[int]:
    seqs = []
    while True:
        rows, cursor = store.query(q)
        seqs += [seq for seq, _ in rows]
        if cursor is None:
            return seqs
        q.after_seq = cursor


@pytest.mark.parametrize("ascending", [False, True])
@pytest.mark.parametrize("limit", [1, 3, 5, 50])
def test_paging_across_buckets_returns_each_match_once_in_order(store, ascending, limit):
    stored = {v: [] for v in VERBS}
    for i in range(41):  # 41 statements over 11 buckets of 4, in batches of 3
        batch = [_new(VERBS[(i + k) % 3]) for k in range(3)]
        store.insert(batch, {})
    for seq, body in store.stream(0, 1000):
        stored[orjson.loads(body)["verb"]["id"]].append(seq)
    for verb in VERBS:
        q = StatementQuery(terms=[("v:" + verb, False)], limit=limit, ascending=ascending)
        got = _chain(store, q)
        assert got == sorted(stored[verb], reverse=not ascending)


def test_seq_window_limits_the_buckets_walked(store):
    for _ in range(10):
        store.insert([_new(VERBS[0]) for _ in range(3)], {})
    q = StatementQuery(terms=[("v:" + VERBS[0], False)], limit=100)
    q.max_seq = 17  # a chain that began when 17 statements were stored
    q.after_seq = 11  # and has returned down to seq 11
    rows, cursor = store.query(q)
    assert [seq for seq, _ in rows] == list(range(10, 0, -1))
    assert cursor is None


def test_store_of_an_unknown_layout_is_refused(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE statements (seq INTEGER PRIMARY KEY)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="layout"):
        sqlite_adapter.SqliteStore(path)


def test_layout_1_store_is_rebucketed_and_answers_the_same(tmp_path, monkeypatch):
    """Layout 1 had buckets of 65,536 statements; opening it with layout 2 moves the rows."""
    path = tmp_path / "lrs.sqlite3"
    monkeypatch.setattr(sqlite_adapter, "BUCKET_BITS", 16)
    old = sqlite_adapter.SqliteStore(path)
    old._writer.execute("PRAGMA user_version = 1")
    for i in range(20):
        old.insert([_new(VERBS[(i + k) % 3]) for k in range(3)], {})
    before = {v: _chain(old, StatementQuery(terms=[("v:" + v, False)], limit=7)) for v in VERBS}
    old.close()
    monkeypatch.setattr(sqlite_adapter, "BUCKET_BITS", 2)
    new = sqlite_adapter.SqliteStore(path)
    try:
        assert new._writer.execute("PRAGMA user_version").fetchone()[0] == sqlite_adapter.FORMAT
        buckets = {b for (b,) in new._writer.execute("SELECT DISTINCT bucket FROM statement_terms")}
        assert buckets == set(range((60 >> 2) + 1))
        after = {v: _chain(new, StatementQuery(terms=[("v:" + v, False)], limit=7)) for v in VERBS}
        assert after == before and sum(map(len, after.values())) == 60
    finally:
        new.close()
