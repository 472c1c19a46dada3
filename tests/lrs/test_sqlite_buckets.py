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


def _downgrade(path, version: int) -> None:
    """Give a store written by this code the statements table of layouts 1 and 2: a unique id, no statement_ids."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(f"""
        BEGIN;
        CREATE TABLE old (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, stored TEXT NOT NULL,
            voided INTEGER NOT NULL DEFAULT 0, is_voiding INTEGER NOT NULL DEFAULT 0, ref TEXT, body BLOB NOT NULL);
        INSERT INTO old SELECT * FROM statements;
        DROP TABLE statements;
        DROP TABLE statement_ids;
        ALTER TABLE old RENAME TO statements;
        CREATE INDEX statements_stored ON statements(stored);
        CREATE INDEX statements_ref ON statements(ref) WHERE ref IS NOT NULL;
        PRAGMA user_version = {version};
        COMMIT;""")
    conn.close()


def test_layout_1_store_is_rebucketed_and_answers_the_same(tmp_path, monkeypatch):
    """Layout 1 had term buckets of 65,536 statements; opening it moves the rows to today's buckets."""
    path = tmp_path / "lrs.sqlite3"
    monkeypatch.setattr(sqlite_adapter, "BUCKET_BITS", 16)
    old = sqlite_adapter.SqliteStore(path)
    for i in range(20):
        old.insert([_new(VERBS[(i + k) % 3]) for k in range(3)], {})
    before = {v: _chain(old, StatementQuery(terms=[("v:" + v, False)], limit=7)) for v in VERBS}
    old.close()
    _downgrade(path, 1)
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


# -- the id index ------------------------------------------------------------------------

@pytest.fixture
def small_id_buckets(monkeypatch):
    """Id buckets of 4 statements, merged by 4 into 16 and by 4 into 64."""
    monkeypatch.setattr(sqlite_adapter, "ID_LEVEL_BITS", (2, 4, 6))


def _id_rows(store) -> list[tuple[int, int]]:
    return store._writer.execute("SELECT bucket, seq FROM statement_ids ORDER BY seq").fetchall()


def _check_ids(store, stored: dict[str, bytes]) -> None:
    top = store.last_seq()
    rows = _id_rows(store)
    assert [seq for _, seq in rows] == list(range(1, top + 1))
    # Each id is in the biggest bucket whose range is full, or, while the merge into a top-level bucket
    # is being made (a slice a write group), still in the bucket of the level below.
    levels = sqlite_adapter.ID_LEVEL_BITS
    for bucket, seq in rows:
        whole = sqlite_adapter._id_bucket(seq, top)
        below = ((len(levels) - 2) << 40) | (seq >> levels[-2])
        assert bucket == whole or (whole >> 40 == len(levels) - 1 and bucket == below), (bucket, seq, top)
    assert sqlite_adapter._present_id_buckets(store._writer) == sorted({b for b, _ in rows})
    for sid, body in stored.items():
        assert store.get(sid, voided=False) == body


@pytest.mark.parametrize("batch_size", [1, 3, 7, 50])
def test_ids_are_found_in_every_bucket_as_buckets_merge(tmp_path, small_id_buckets, batch_size):
    store = sqlite_adapter.SqliteStore(tmp_path / "lrs.sqlite3")
    try:
        stored = {}
        for _ in range(150 // batch_size):
            batch = [_new(VERBS[0]) for _ in range(batch_size)]
            store.insert(batch, {})
            stored.update((n.statement["id"], orjson.dumps(n.statement)) for n in batch)
            _check_ids(store, stored)
        # Every stored id is recognised again, whichever bucket it is in now.
        again = [NewStatement(orjson.loads(b), {}) for b in stored.values()]
        top = store.last_seq()
        store.insert(again, {})
        assert store.last_seq() == top
        changed = orjson.loads(next(iter(stored.values())))
        changed["result"] = {"completion": True}
        with pytest.raises(sqlite_adapter.Conflict):
            store.insert([NewStatement(changed, {})], {})
    finally:
        store.close()


def test_ids_another_writer_stored_are_refused_when_different(tmp_path):
    """Each writer's id filter learns the ids other writers (another worker, the CLI) stored."""
    path = tmp_path / "lrs.sqlite3"
    a, b = sqlite_adapter.SqliteStore(path), sqlite_adapter.SqliteStore(path)
    try:
        a.insert([_new(VERBS[0])], {})
        b.insert([_new(VERBS[0])], {})  # b builds its filter now
        first = _new(VERBS[1])
        a.insert([first], {})  # stored after b's filter was built
        changed = dict(first.statement, verb={"id": VERBS[2]})
        with pytest.raises(sqlite_adapter.Conflict):
            b.insert([NewStatement(changed, {})], {})
        b.insert([NewStatement(dict(first.statement), {})], {})  # the same Statement: accepted, not stored twice
        assert a.last_seq() == 3
    finally:
        a.close()
        b.close()


def test_layout_2_store_gets_the_id_index_and_answers_the_same(tmp_path, small_id_buckets):
    path = tmp_path / "lrs.sqlite3"
    old = sqlite_adapter.SqliteStore(path)
    stored = {}
    for _ in range(23):
        batch = [_new(VERBS[0]) for _ in range(3)]
        old.insert(batch, {})
        stored.update((n.statement["id"], orjson.dumps(n.statement)) for n in batch)
    old.close()
    _downgrade(path, 2)
    new = sqlite_adapter.SqliteStore(path)
    try:
        assert new._writer.execute("PRAGMA user_version").fetchone()[0] == sqlite_adapter.FORMAT
        assert new._writer.execute("SELECT seq FROM sqlite_sequence WHERE name = 'statements'").fetchone() == (69,)
        _check_ids(new, stored)
        new.insert([_new(VERBS[1])], {})
        assert new.last_seq() == 70
        with pytest.raises(sqlite_adapter.Conflict):
            st = orjson.loads(next(iter(stored.values())))
            new.insert([NewStatement(dict(st, verb={"id": VERBS[2]}), {})], {})
    finally:
        new.close()
