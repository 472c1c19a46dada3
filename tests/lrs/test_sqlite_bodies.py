"""Compressed Statement bodies in the SQLite store (lrs/storage/bodies.py): once the store holds
``TRAIN_AFTER`` Statements the writer trains a dictionary on them and compresses every body it stores
from then on; JSON bodies stored before stay as they are; every read gives the JSON back."""
from __future__ import annotations

import random
import sqlite3
import uuid

import orjson
import pytest

import lrs.storage.bodies as bodies
import lrs.storage.sqlite as sqlite_adapter
from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import Conflict, NewStatement, StatementQuery
from lrs_testkit import make_statement

AUTHORITY = {"objectType": "Agent", "name": "test", "mbox": "mailto:authority@example.com"}


def _new(rng: random.Random, **kw) -> NewStatement:
    kw.setdefault("actor", {"objectType": "Agent", "mbox": f"mailto:l{rng.randrange(20)}@example.com"})
    kw.setdefault("verb", {"id": f"http://example.com/verbs/{rng.randrange(5)}"})
    kw.setdefault("object", {"id": f"http://example.com/courses/{rng.randrange(30)}",
                             "definition": {"name": {"en-US": f"Course {rng.randrange(30)}"}}})
    kw.setdefault("context", {"registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                              "extensions": {"http://example.com/ext/attempt": rng.randrange(9)}})
    st = prepare(make_statement(**kw), AUTHORITY, "1.0.3")
    return NewStatement(st, statement_terms(st))


def _raw(path, seq: int) -> bytes:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT body FROM statements WHERE seq = ?", (seq,)).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def train_after(monkeypatch):
    monkeypatch.setattr(bodies, "TRAIN_AFTER", 64)
    return 64


def _fill(store, rng, batches: int, size: int) -> dict[str, dict]:
    sent = {}
    for _ in range(batches):
        batch = [_new(rng) for _ in range(size)]
        store.insert(batch, {})
        sent.update({n.statement["id"]: n.statement for n in batch})
    return sent


def test_bodies_are_compressed_once_the_store_holds_enough_and_every_read_gives_the_json(tmp_path, train_after):
    path = tmp_path / "lrs.sqlite3"
    rng = random.Random(1)
    store = sqlite_adapter.SqliteStore(path)
    try:
        sent = _fill(store, rng, 20, 10)
        assert store.last_seq() == 200
        # the first batches, stored before the dictionary, stay JSON; the rest are zstd frames
        assert _raw(path, 1)[:1] == b"{" and _raw(path, 60)[:1] == b"{"
        assert _raw(path, 71)[:4] == b"\x28\xb5\x2f\xfd" and _raw(path, 200)[:4] == b"\x28\xb5\x2f\xfd"
        assert len(_raw(path, 200)) * 3 < len(store.get(orjson.loads(store.stream(199, 1)[0][1])["id"], False))
        streamed = {orjson.loads(b)["id"]: orjson.loads(b) for _, b in store.stream(0, 1000)}
        assert streamed.keys() == sent.keys()
        for sid, st in sent.items():
            assert orjson.loads(store.get(sid, False)) == streamed[sid] == st
        # queries (one term and several) read compressed rows too
        some = sent[next(iter(reversed(sent)))]
        rows, _ = store.query(StatementQuery(terms=[("v:" + some["verb"]["id"], True),
                                                    ("O:" + some["object"]["id"], True)], limit=500))
        want = [s for s in sent.values() if s["verb"] == some["verb"] and s["object"]["id"] == some["object"]["id"]]
        assert sorted(orjson.loads(b)["id"] for _, b in rows) == sorted(s["id"] for s in want)
        # the same Statement again is no conflict, the same id with other content is, both against compressed rows
        store.insert([NewStatement(dict(some), statement_terms(some))], {})
        other = dict(some, verb={"id": "http://example.com/verbs/other"})
        with pytest.raises(Conflict):
            store.insert([NewStatement(other, statement_terms(other))], {})
        assert store.last_seq() == 200
    finally:
        store.close()
    # another process opening the store reads the dictionary back from it
    again = sqlite_adapter.SqliteStore(path)
    try:
        assert {orjson.loads(b)["id"] for _, b in again.stream(0, 1000)} == sent.keys()
        assert len(again._writer.execute("SELECT id FROM body_dicts").fetchall()) == 1
    finally:
        again.close()


def test_a_dictionary_trained_in_a_group_that_rolls_back_is_not_used_after(tmp_path, train_after, monkeypatch):
    path = tmp_path / "lrs.sqlite3"
    rng = random.Random(2)
    store = sqlite_adapter.SqliteStore(path)
    try:
        _fill(store, rng, 7, 10)   # 70: the next group trains
        real = store._summarise
        calls = []

        def fail_once(conn, old_top, top):
            calls.append(top)
            if len(calls) == 1:
                raise RuntimeError("disk full")
            return real(conn, old_top, top)

        monkeypatch.setattr(store, "_summarise", fail_once)
        with pytest.raises(RuntimeError):
            store.insert([_new(rng) for _ in range(10)], {})
        assert store.last_seq() == 70
        assert store._writer.execute("SELECT count(*) FROM body_dicts").fetchone()[0] == 0
        sent = _fill(store, rng, 2, 10)
        assert store.last_seq() == 90 and _raw(path, 90)[:1] != b"{"
        assert store._writer.execute("SELECT count(*) FROM body_dicts").fetchone()[0] == 1
        for sid, st in sent.items():
            assert orjson.loads(store.get(sid, False)) == st
    finally:
        store.close()


def test_the_writer_process_compresses_and_the_server_side_reads_its_bodies(tmp_path):
    path = tmp_path / "lrs.sqlite3"
    rng = random.Random(3)
    store = sqlite_adapter.SqliteStore(path, writer_process=True)
    try:
        store.start(wait=30)
        sent = _fill(store, rng, 12, 100)   # past the default TRAIN_AFTER
        assert store.last_seq() == 1200 > bodies.TRAIN_AFTER
        assert _raw(path, 1200)[:1] != b"{"
        for sid, st in sent.items():   # the writer's process set stored (and timestamp) on its copy
            got = orjson.loads(store.get(sid, False))
            assert {k: v for k, v in got.items() if k not in ("stored", "timestamp")} == {
                k: v for k, v in st.items() if k not in ("stored", "timestamp")} and got["stored"]
    finally:
        store.close()


def test_a_layout_4_store_opens_as_the_current_layout_with_its_json_bodies_read_as_before(tmp_path):
    path = tmp_path / "lrs.sqlite3"
    rng = random.Random(4)
    store = sqlite_adapter.SqliteStore(path)
    try:
        sent = _fill(store, rng, 3, 10)
    finally:
        store.close()
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE body_dicts; DROP TABLE summary_pending; PRAGMA user_version = 4;")
    conn.close()
    store = sqlite_adapter.SqliteStore(path)
    try:
        assert store._writer.execute("PRAGMA user_version").fetchone()[0] == sqlite_adapter.FORMAT == 6
        assert {orjson.loads(b)["id"] for _, b in store.stream(0, 100)} == sent.keys()
    finally:
        store.close()


def test_a_body_naming_a_dictionary_the_store_lacks_is_an_error_not_a_wrong_answer(tmp_path, train_after):
    path = tmp_path / "lrs.sqlite3"
    store = sqlite_adapter.SqliteStore(path)
    try:
        _fill(store, random.Random(5), 10, 10)
    finally:
        store.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM body_dicts")
    conn.commit()
    conn.close()
    store = sqlite_adapter.SqliteStore(path)
    try:
        with pytest.raises(RuntimeError, match="dictionary"):
            store.stream(0, 100)
    finally:
        store.close()
