"""The server writes Statements from a writer process (lrs/storage/sqlite_writer.py): the same
answers as in-process, Conflict passed back, and a writer that dies loses nothing acknowledged
and is replaced."""
from __future__ import annotations

import os
import signal
import time

import pytest

from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import Conflict, NewStatement, StatementQuery
from lrs.storage.sqlite import SqliteStore
from lrs_testkit import make_statement

AUTHORITY = {"objectType": "Agent", "name": "test", "mbox": "mailto:authority@example.com"}


def _new(**kw) -> NewStatement:
    st = prepare(make_statement(**kw), AUTHORITY, "1.0.3")
    return NewStatement(st, statement_terms(st))


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(tmp_path / "lrs.sqlite3", writer_process=True)
    yield s
    s.close()


def test_batches_written_by_the_process_are_read_back(store):
    batch = [_new() for _ in range(50)]
    assert store.insert(batch, {}) == [n.statement["id"] for n in batch]
    rows, _ = store.query(StatementQuery(limit=100))
    assert len(rows) == 50
    assert store.get(batch[0].statement["id"], voided=False) is not None


def test_conflict_comes_back_as_conflict_and_nothing_of_the_batch_is_stored(store):
    first = _new()
    store.insert([first], {})
    changed = dict(first.statement, verb={"id": "http://example.com/verbs/other"})
    with pytest.raises(Conflict):
        store.insert([_new(), NewStatement(changed, statement_terms(changed))], {})
    assert store.last_seq() == 1
    rows, _ = store.query(StatementQuery(limit=100))
    assert len(rows) == 1


def test_a_killed_writer_is_replaced_and_acknowledged_batches_stay(store):
    kept = [_new() for _ in range(10)]
    store.insert(kept, {})
    os.kill(store._process._proc.pid, signal.SIGKILL)
    store._process._proc.join(5)
    deadline = time.time() + 5
    while store._process._conn is not None and time.time() < deadline:  # the answer thread sees it go
        time.sleep(0.05)
    more = [_new() for _ in range(10)]
    store.insert(more, {})
    for n in kept + more:
        assert store.get(n.statement["id"], voided=False) is not None


def test_close_stops_the_process_promptly(tmp_path):
    s = SqliteStore(tmp_path / "lrs.sqlite3", writer_process=True)
    s.insert([_new()], {})
    proc = s._process._proc
    start = time.time()
    s.close()
    assert time.time() - start < 5
    assert not proc.is_alive()


def test_start_readies_the_writer_before_the_first_batch(tmp_path):
    """The server calls start() before it listens: the process is up, its id filter built from
    the Statements already stored, so a stored id sent again is recognised."""
    path = tmp_path / "lrs.sqlite3"
    first = _new()
    with_data = SqliteStore(path)
    with_data.insert([first], {})
    with_data.close()
    s = SqliteStore(path, writer_process=True)
    try:
        s.start()
        assert s._process._proc.is_alive()
        s.insert([NewStatement(dict(first.statement), first.terms)], {})
        changed = dict(first.statement, verb={"id": "http://example.com/verbs/other"})
        with pytest.raises(Conflict):
            s.insert([NewStatement(changed, statement_terms(changed))], {})
        assert s.last_seq() == 1
    finally:
        s.close()


def test_documents_sent_with_a_batch_are_written_by_the_process_in_its_transaction(store):
    """The player's statements and their documents go to one writer (the process), so the documents
    never wait for the process's turns on the file; their change functions travel pickled."""
    from test_storage_contract import SCOPE, _Put

    n = _new()
    store.insert([n], {}, documents=[("state", SCOPE, "d", _Put(b"1"))])
    assert store.get(n.statement["id"], voided=False) is not None
    assert store.get_document("state", SCOPE, "d").content == b"1"
    first = store.get_document("state", SCOPE, "d")
    store.insert([], {}, documents=[("state", SCOPE, "d", _Put(b"1"))])
    assert store.get_document("state", SCOPE, "d") == first   # unchanged: ETag and time kept
    changed = dict(n.statement, verb={"id": "http://example.com/verbs/other"})
    with pytest.raises(Conflict):
        store.insert([NewStatement(changed, statement_terms(changed))], {},
                     documents=[("state", SCOPE, "d", _Put(b"2"))])
    assert store.get_document("state", SCOPE, "d").content == b"1"
