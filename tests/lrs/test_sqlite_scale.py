"""The SQLite store at scale (issue 16): the per-term summary of which buckets hold a term
(``term_spans``) and the writer's saved id filter. Buckets are shrunk to 4 Statements and
spans to 2 buckets, 2 levels (a level-2 span is 16 Statements), so that a small store crosses
many summary merges; the filter is saved every 8 Statements; the merges made a slice a write group
(a level-2 span, ids into the top-level bucket) take 4 slices."""
from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import orjson
import pytest

import lrs.storage.sqlite as sqlite_adapter
from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import Conflict, NewStatement, StatementQuery
from lrs_testkit import make_statement

AUTHORITY = {"objectType": "Agent", "name": "test", "mbox": "mailto:authority@example.com"}
SMALL = {"BUCKET_BITS": 2, "SPAN_BITS": 1, "SPAN_LEVELS": 2, "FILTER_CHECKPOINT": 8, "ID_LEVEL_BITS": (2, 4, 6),
         "CATCH_UP_SLICES": 4, "WALK_BUCKETS": 2}


@pytest.fixture
def small(monkeypatch):
    for name, value in SMALL.items():
        monkeypatch.setattr(sqlite_adapter, name, value)


@pytest.fixture
def path(tmp_path, small):
    return tmp_path / "lrs.sqlite3"


def _new(rng: random.Random, **kw) -> NewStatement:
    kw.setdefault("actor", {"objectType": "Agent", "mbox": f"mailto:l{rng.randrange(6)}@example.com"})
    kw.setdefault("verb", {"id": f"http://example.com/verbs/{rng.randrange(3)}"})
    kw.setdefault("context", {"registration": str(uuid.UUID(int=rng.getrandbits(128), version=4))})
    st = prepare(make_statement(**kw), AUTHORITY, "1.0.3")
    return NewStatement(st, statement_terms(st))


def _ref(rng: random.Random, target: str, verb: str = "http://example.com/verbs/refers") -> NewStatement:
    st = prepare(make_statement(verb={"id": verb}, object={"objectType": "StatementRef", "id": target},
                                actor={"objectType": "Agent", "mbox": "mailto:referrer@example.com"}),
                 AUTHORITY, "1.0.3")
    voids = target if verb == "http://adlnet.gov/expapi/verbs/voided" else None
    return NewStatement(st, statement_terms(st), voids, target)


def _summary(conn) -> list[tuple]:
    return conn.execute("SELECT span, term, bits FROM term_spans ORDER BY span, term").fetchall()


def _reference_summary(path: Path) -> list[tuple]:
    """The summary made from nothing out of the term index, in a copy (the layout 3 -> 4 conversion's code)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        sqlite_adapter._summarise_all(conn, progress=False)
        out = _summary(conn)
        conn.execute("ROLLBACK")
        return out
    finally:
        conn.close()


def _term_buckets(conn, term: int, lo: int, hi: int, top: int) -> list[int]:
    """Every bucket from ``lo`` to ``hi`` the summary says may hold ``term``, sorted: all the parts a
    lookup gives."""
    return sorted(b for part in sqlite_adapter._term_bucket_parts(conn, term, lo, hi, top, False) for b in part)


def _walk_all_buckets(conn, term: int, top: int) -> list[int]:
    return [b for (b,) in conn.execute("SELECT DISTINCT bucket FROM statement_terms WHERE term = ? ORDER BY bucket",
                                       (term,))]


def _check_summary(store, path: Path) -> None:
    """The incremental summary is the one made from nothing, and for every term the buckets a lookup
    finds through it are the buckets that hold it."""
    conn = store._writer
    _same_summary(_summary(conn), _reference_summary(path), _part_made(conn))
    top = store.last_seq()
    summarised = ((top >> 2) >> 1) << 1  # the buckets before this one are in full level-1 spans
    for (term,) in conn.execute("SELECT DISTINCT term FROM statement_terms").fetchall():
        found = _term_buckets(conn, term, 0, top >> 2, top)
        holding = _walk_all_buckets(conn, term, top)
        assert set(holding) <= set(found)
        assert [b for b in found if b < summarised] == [b for b in holding if b < summarised]
        # in parts, in the query's order either way
        for descending in (False, True):
            parts = sqlite_adapter._term_bucket_parts(conn, term, 0, top >> 2, top, descending)
            assert [b for part in parts for b in part] == sorted(found, reverse=descending)


def _part_made(conn) -> dict[int, int]:
    """The spans being made a slice a write group: span key -> the first term not made yet."""
    return {(level << 40) | span: next_term
            for level, span, next_term in conn.execute("SELECT level, span, next_term FROM summary_pending")}


def _same_summary(got: list[tuple], want: list[tuple], part_made: dict[int, int]) -> None:
    """``got`` is the whole summary ``want`` but for the spans of ``part_made``, whose slices made are."""
    assert len(part_made) <= sqlite_adapter.SPAN_LEVELS - 1  # one a level at most
    assert [r for r in got if r[0] not in part_made] == [r for r in want if r[0] not in part_made]
    for key, next_term in part_made.items():
        mine = {term: bits for span, term, bits in got if span == key}
        whole = {term: bits for span, term, bits in want if span == key}
        # The slices made are whole; past them only what late terms added, within the whole span's bits.
        assert {t: b for t, b in mine.items() if t < next_term} == {t: b for t, b in whole.items() if t < next_term}
        assert all(t in whole and b & ~whole[t] == 0 for t, b in mine.items())


def test_summary_stays_right_as_spans_fill_and_merge_over_two_levels(path):
    rng = random.Random(1)
    store = sqlite_adapter.SqliteStore(path)
    try:
        for size in [1, 3, 5, 2, 7, 16, 1, 9, 4, 33, 2, 6]:  # batches that end inside and across spans
            store.insert([_new(rng) for _ in range(size)], {})
            _check_summary(store, path)
        assert store.last_seq() == 89
        levels = {span >> 40 for span, _, _ in _summary(store._writer)}
        assert levels == {1, 2}
    finally:
        store.close()


def test_absent_term_is_answered_from_the_summary_without_walking_the_buckets(path):
    rng = random.Random(2)
    store = sqlite_adapter.SqliteStore(path)
    try:
        for _ in range(20):
            store.insert([_new(rng) for _ in range(5)], {})
        top = store.last_seq()
        absent = sqlite_adapter.term_hash("r:" + str(uuid.uuid4()))
        # Only the buckets not yet in a full span are asked (one seek each), none of the 24 before them.
        assert _term_buckets(store._writer, absent, 0, top >> 2, top) == [24, 25]
        # A rare term: its own bucket and those not yet summarised.
        st = orjson.loads(store.stream(37, 1)[0][1])
        term = sqlite_adapter.term_hash("r:" + st["context"]["registration"])
        assert _term_buckets(store._writer, term, 0, top >> 2, top) == [38 >> 2, 24, 25]
        rows, _ = store.query(StatementQuery(terms=[("r:" + st["context"]["registration"], False)], limit=10))
        assert [seq for seq, _ in rows] == [38]
    finally:
        store.close()


@pytest.mark.parametrize("ascending", [False, True])
def test_queries_through_the_summary_give_every_match_in_order(path, ascending):
    rng = random.Random(3)
    store = sqlite_adapter.SqliteStore(path)
    try:
        for _ in range(25):
            store.insert([_new(rng) for _ in range(rng.randrange(1, 8))], {})
        bodies = {seq: orjson.loads(b) for seq, b in store.stream(0, 10_000)}
        for i in range(6):
            mbox = f"mailto:l{i}@example.com"
            want = sorted((s for s, st in bodies.items() if st["actor"]["mbox"] == mbox), reverse=not ascending)
            term = next(t for t in statement_terms(bodies[want[0]]) if t.startswith("A:") and mbox in t)
            got, q = [], StatementQuery(terms=[(term, True)], limit=3, ascending=ascending)
            while True:
                rows, cursor = store.query(q)
                got += [seq for seq, _ in rows]
                if cursor is None:
                    break
                q.after_seq = cursor
            assert got == want
    finally:
        store.close()


def test_a_query_of_several_terms_reads_the_row_only_of_statements_that_have_them_all(path):
    """The other terms are probed in the term index before a statement's row is read: a verb and an
    activity at 10M read 11 rows for each one returned when the row came first (a disk read each on a
    store larger than the page cache)."""
    rng = random.Random(4)
    store = sqlite_adapter.SqliteStore(path)
    try:
        for _ in range(10):
            store.insert([_new(rng) for _ in range(5)], {})
        st = orjson.loads(store.stream(0, 1)[0][1])
        q = StatementQuery(terms=[("v:" + st["verb"]["id"], False), ("O:" + st["object"]["id"], False)], limit=5)
        sqls: list[str] = []
        with store._read() as conn:
            conn.set_trace_callback(sqls.append)
            try:
                rows, _ = store._query(conn, q)
            finally:
                conn.set_trace_callback(None)
            query = next(s for s in sqls if "statement_terms t1" in s)
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + query)]
        searches = [p.split()[1] for p in plan if p.startswith("SEARCH")]
        assert searches == ["t0", "t1", "s"], plan
        want = [seq for seq, b in store.stream(0, 1000)
                if {q.terms[0][0], q.terms[1][0]} <= set(statement_terms(orjson.loads(b)))]
        assert [seq for seq, _ in rows] == sorted(want, reverse=True)[:5] and want
    finally:
        store.close()


def test_summary_gets_the_terms_a_referrer_stored_spans_earlier_inherits_from_its_late_target(path):
    """A StatementRef (and a voiding Statement) stored before its target: when the target comes, many
    spans later, the referrer's old bucket gets the target's terms, and the summary of its span too."""
    rng = random.Random(4)
    store = sqlite_adapter.SqliteStore(path)
    try:
        late = _new(rng, actor={"objectType": "Agent", "mbox": "mailto:late@example.com"})
        voided_late = _new(rng, actor={"objectType": "Agent", "mbox": "mailto:voided-late@example.com"})
        store.insert([_new(rng), _ref(rng, late.statement["id"]),
                      _ref(rng, voided_late.statement["id"], "http://adlnet.gov/expapi/verbs/voided")], {})
        for _ in range(10):
            store.insert([_new(rng) for _ in range(5)], {})
        store.insert([late, voided_late], {})
        _check_summary(store, path)
        term = next(t for t in late.terms if "late@example.com" in t)
        rows, _ = store.query(StatementQuery(terms=[(term, False)], limit=10))
        assert sorted(seq for seq, _ in rows) == [2, store.last_seq() - 1]
        assert store.get(voided_late.statement["id"], voided=True) is not None
        # The voided target is left out; the voiding Statement, stored spans before it, matches its terms.
        term = next(t for t in voided_late.terms if "voided-late@example.com" in t)
        rows, _ = store.query(StatementQuery(terms=[(term, False)], limit=10))
        assert [seq for seq, _ in rows] == [3]
        for _ in range(4):  # and the summary stays right as more spans fill after it
            store.insert([_new(rng) for _ in range(7)], {})
        _check_summary(store, path)
    finally:
        store.close()


def _merging_ids(conn, top: int) -> set[int]:
    """The top-level id buckets (full) whose ids are still, some of them, in buckets of the level below."""
    levels = sqlite_adapter.ID_LEVEL_BITS
    step = levels[-1] - levels[-2]
    below = [b & ((1 << 40) - 1) for (b,) in conn.execute(
        "SELECT DISTINCT bucket FROM statement_ids WHERE bucket >= ? AND bucket < ?",
        ((len(levels) - 2) << 40, (len(levels) - 1) << 40))]
    return {b >> step for b in below if b >> step < top >> levels[-1]}


def test_the_merges_due_once_a_million_are_made_a_slice_a_write_group_and_reads_stay_right(path):
    """A level-2 span of the summary (1.4M rows at 1M Statements) and the merge of 16 id buckets into one
    of the top level were made in the write group that filled them: one write of 4.6 s at the first
    million. Each is made a slice of the hash space a write group now: none stays part made longer than
    CATCH_UP_SLICES groups, reads and the duplicate check are right meanwhile, and once done the summary
    and the id index are those made at once."""
    rng = random.Random(12)
    store = sqlite_adapter.SqliteStore(path)
    slices = sqlite_adapter.CATCH_UP_SLICES
    try:
        written, since, seen_spans, seen_ids = [], {}, set(), set()
        for group in range(90):
            batch = [_new(rng) for _ in range(rng.randrange(1, 5))]
            store.insert(batch, {})
            written += batch
            conn, top = store._writer, store.last_seq()
            due = {("span", k) for k in _part_made(conn)} | {("ids", n) for n in _merging_ids(conn, top)}
            seen_spans |= {k for kind, k in due if kind == "span"}
            seen_ids |= {n for kind, n in due if kind == "ids"}
            since = {k: since.get(k, group) for k in due}
            assert all(group - first < slices for first in since.values()), (group, since)
            _check_summary(store, path)
            for n in written[::9]:
                assert orjson.loads(store.get(n.statement["id"], False))["id"] == n.statement["id"]
        assert len(seen_spans) >= 3 and seen_ids  # both kinds were seen part made
        _reinsert_all(store, written)  # no duplicate gets in while ids sit in either bucket
        for _ in range(slices):
            store.insert([_new(rng)], {})
        conn, top = store._writer, store.last_seq()
        assert not _part_made(conn) and not _merging_ids(conn, top)
        assert _summary(conn) == _reference_summary(path)
        assert all(b == sqlite_adapter._id_bucket(seq, top) for b, seq in conn.execute("SELECT bucket, seq FROM statement_ids"))
    finally:
        store.close()


def test_a_layout_5_store_opens_as_layout_6_and_its_next_spans_are_made_a_slice_a_group(path):
    rng = random.Random(13)
    store = sqlite_adapter.SqliteStore(path)
    try:
        for _ in range(30):
            store.insert([_new(rng) for _ in range(3)], {})
        while _part_made(store._writer):  # layout 5 made every span whole at once
            store.insert([_new(rng)], {})
        before = _summary(store._writer)
    finally:
        store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("DROP TABLE summary_pending; PRAGMA user_version = 5;")
    conn.close()
    store = sqlite_adapter.SqliteStore(path)
    try:
        assert store._writer.execute("PRAGMA user_version").fetchone()[0] == sqlite_adapter.FORMAT == 6
        assert _summary(store._writer) == before
        for _ in range(20):
            store.insert([_new(rng) for _ in range(2)], {})
            _check_summary(store, path)
    finally:
        store.close()


def test_a_statement_voided_spans_after_it_was_stored_leaves_queries_and_the_voiding_one_matches(path):
    """Voiding across the summary: a Statement in a span summarised long ago is voided; a query on its
    terms gives the voiding Statement (it targets it) and never the voided one, cold and after restart."""
    rng = random.Random(13)
    store = sqlite_adapter.SqliteStore(path)
    try:
        target = _new(rng)
        store.insert([target], {})
        for _ in range(12):
            store.insert([_new(rng) for _ in range(5)], {})
        store.insert([_ref(rng, target.statement["id"], "http://adlnet.gov/expapi/verbs/voided")], {})
        voiding = store.last_seq()
        for _ in range(6):
            store.insert([_new(rng) for _ in range(5)], {})
        _check_summary(store, path)
        registration = "r:" + target.statement["context"]["registration"]
        rows, _ = store.query(StatementQuery(terms=[(registration, False)], limit=10))
        assert [seq for seq, _ in rows] == [voiding]
        assert store.get(target.statement["id"], voided=True) is not None
        assert store.get(target.statement["id"], voided=False) is None
    finally:
        store.close()
    store = sqlite_adapter.SqliteStore(path)
    try:
        rows, _ = store.query(StatementQuery(terms=[(registration, False)], limit=10))
        assert [seq for seq, _ in rows] == [voiding]
    finally:
        store.close()


def test_layout_3_store_gets_its_summary_when_opened_with_progress_in_the_log(path, caplog):
    rng = random.Random(5)
    store = sqlite_adapter.SqliteStore(path)
    for _ in range(40):
        store.insert([_new(rng) for _ in range(4)], {})
    before, part_made = _summary(store._writer), _part_made(store._writer)
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript("DROP TABLE term_spans; DROP TABLE summary_pending; DROP TABLE id_filter; "
                       "DROP TABLE id_filter_top; PRAGMA user_version = 3;")
    conn.close()
    with caplog.at_level(logging.WARNING, logger="lrs.store"):
        store = sqlite_adapter.SqliteStore(path)
    try:
        assert store._writer.execute("PRAGMA user_version").fetchone()[0] == sqlite_adapter.FORMAT
        assert before and not _part_made(store._writer)  # the conversion makes every span whole at once
        _same_summary(before, _summary(store._writer), part_made)
        assert "term summary: 16 of 20 spans" in caplog.text
        store.insert([_new(rng)], {})  # the filter, never saved, is built from the id index
        assert "id filter built from the id index" in caplog.text
    finally:
        store.close()


# -- the saved id filter ---------------------------------------------------------------------

def _fill(path: Path, n: int, seed: int = 6) -> list[NewStatement]:
    rng = random.Random(seed)
    store = sqlite_adapter.SqliteStore(path)
    written = []
    try:
        for _ in range(n):
            batch = [_new(rng) for _ in range(3)]
            store.insert(batch, {})
            written += batch
    finally:
        store.close()
    return written


def _reinsert_all(store, written: list[NewStatement]) -> None:
    """Every stored id sent again: the same Statement stores nothing, a changed one is refused."""
    top = store.last_seq()
    for i in range(0, len(written), 7):
        store.insert(written[i:i + 7], {})
    assert store.last_seq() == top
    for n in written[::5]:
        changed = dict(n.statement, verb={"id": "http://example.com/verbs/changed"})
        with pytest.raises(Conflict):
            store.insert([NewStatement(changed, statement_terms(changed))], {})
    assert store.last_seq() == top
    ids = [r[0] for r in store._writer.execute("SELECT id FROM statements")]
    assert len(ids) == len(set(ids))


def test_clean_close_saves_the_filter_and_the_next_start_reads_it_back_without_the_index(path, caplog):
    written = _fill(path, 5)
    saved = sqlite3.connect(path).execute("SELECT top FROM id_filter_top").fetchone()
    assert saved == (15,)
    store = sqlite_adapter.SqliteStore(path)
    try:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lrs.store"):
            store.load_ids()
        assert "not used" not in caplog.text and "built from the id index" not in caplog.text
        _reinsert_all(store, written)
    finally:
        store.close()


def test_ids_stored_after_the_saved_filter_are_added_before_the_first_write(path, caplog):
    written = _fill(path, 2)
    # Statements stored by a writer that never saved (a crash, an older version): the tail.
    conn = sqlite3.connect(path, isolation_level=None)
    saved = conn.execute("SELECT * FROM id_filter_top").fetchone()
    parts = conn.execute("SELECT * FROM id_filter").fetchall()
    conn.close()
    written += _fill(path, 4, seed=7)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DELETE FROM id_filter")
    conn.executemany("INSERT INTO id_filter VALUES (?, ?, ?, ?, ?)", parts)
    conn.execute("INSERT OR REPLACE INTO id_filter_top VALUES (?, ?, ?, ?, ?, ?)", saved)
    conn.close()
    store = sqlite_adapter.SqliteStore(path)
    try:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lrs.store"):
            _reinsert_all(store, written)
        assert "added the 12 ids stored after it was saved (seq 7 to 18)" in caplog.text
    finally:
        store.close()


@pytest.mark.parametrize("damage, why", [
    ("UPDATE id_filter SET bits = zeroblob(length(bits))", "checksum"),
    ("UPDATE id_filter SET bits = substr(bits, 1, 100)", "checksum"),
    ("DELETE FROM id_filter", "parts"),
    ("UPDATE id_filter_top SET top = top + 5", "after the newest Statement"),
    ("UPDATE id_filter_top SET top_id = 'another store'", "not the one it was saved with"),
    ("UPDATE id_filter_top SET params = 'bloom/8/2'", "made with bloom/8/2"),
])
def test_a_stale_or_corrupt_saved_filter_is_detected_and_rebuilt(path, caplog, damage, why):
    written = _fill(path, 4)
    conn = sqlite3.connect(path, isolation_level=None)
    if "id_filter_top" in damage:
        # A stale filter's bits check out, but hold none of the ids: trusted, it would let every one in.
        size = conn.execute("SELECT length(bits) FROM id_filter").fetchone()[0]
        conn.execute("UPDATE id_filter SET bits = zeroblob(length(bits)), crc = ?",
                     (sqlite_adapter.checksum(bytes(size)),))
    conn.execute(damage)
    conn.close()
    store = sqlite_adapter.SqliteStore(path)
    try:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lrs.store"):
            store.load_ids()
        assert "the saved id filter is not used" in caplog.text and why in caplog.text
        assert "id filter built from the id index" in caplog.text
        _reinsert_all(store, written)
    finally:
        store.close()
    conn = sqlite3.connect(path)  # and the rebuilt filter was saved for the next start
    assert conn.execute("SELECT top FROM id_filter_top").fetchone() == (12,)


WRITER = textwrap.dedent("""
    import random, sys, uuid
    sys.path[:0] = [{tests!r}]
    import lrs.storage.sqlite as s
    for k, v in {small!r}.items():
        setattr(s, k, v)
    from test_sqlite_scale import _new
    store = s.SqliteStore({path!r})
    rng = random.Random({seed})
    n = 0
    while True:
        store.insert([_new(rng) for _ in range(rng.randrange(1, 12))], {{}})
        n += 1
        if n == 20:
            print("writing", flush=True)
""")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_writer_killed_mid_batch_leaves_a_right_summary_and_lets_no_duplicate_in(path, seed):
    # Saved every 50 Statements: the kill most likely leaves ids stored after the last save (the tail).
    code = WRITER.format(tests=str(Path(__file__).parent), small=dict(SMALL, FILTER_CHECKPOINT=50), path=str(path),
                         seed=seed)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout.readline().strip() == "writing"
        time.sleep(0.1 + 0.1 * seed)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    store = sqlite_adapter.SqliteStore(path)
    try:
        top = store.last_seq()
        assert top > 60
        saved = store._writer.execute("SELECT top FROM id_filter_top").fetchone()[0]
        assert 0 < saved <= top
        _check_summary(store, path)
        written = [NewStatement(orjson.loads(b), statement_terms(orjson.loads(b)))
                   for _, b in store.stream(0, 100_000)]
        for n in written:  # sent again as a client would: without the stored time
            n.statement.pop("stored")
        _reinsert_all(store, written)
        rng = random.Random(99)
        for _ in range(5):  # and it goes on storing, its summary right
            store.insert([_new(rng) for _ in range(5)], {})
        _check_summary(store, path)
    finally:
        store.close()


def test_server_start_waits_at_most_its_bound_and_the_first_write_waits_for_the_writer(tmp_path):
    """Reads never need the writer process; a write sent while it is still starting waits for it."""
    store = sqlite_adapter.SqliteStore(tmp_path / "lrs.sqlite3", writer_process=True)
    try:
        started = time.monotonic()
        store.start(wait=0)
        assert time.monotonic() - started < 0.5  # spawning the writer alone takes longer
        assert store.query(StatementQuery(limit=10)) == ([], None)
        rng = random.Random(8)
        batch = [_new(rng) for _ in range(3)]
        store.insert(batch, {})
        assert store.last_seq() == 3
    finally:
        store.close()
    saved = sqlite3.connect(tmp_path / "lrs.sqlite3").execute("SELECT top FROM id_filter_top").fetchone()
    assert saved == (3,)  # the writer process saved its filter at the clean shutdown


# -- a seq far past the data -----------------------------------------------------------------

# A seq far past the data: 2^39 buckets, 2^35 id buckets of the top level below it at these sizes. (The
# reported row was at 2^52, the first seq the index keys cannot hold at full size: see the test after.)
FAR = 1 << 41


def _far_gap_scenario(path: str) -> None:
    """A store with a row planted at seq 2^52 (no writer stored it): reads before any write, then the
    writer storing after it, its summary, its id filter saved, read back and rebuilt; every result right.
    Run in a process whose address space is capped: a loop or a list as long as the gap cannot fit."""
    rng = random.Random(11)
    store = sqlite_adapter.SqliteStore(path)
    before = [_new(rng) for _ in range(41)]
    for i in range(0, len(before), 5):
        store.insert(before[i:i + 5], {})
    planted = prepare(make_statement(), AUTHORITY, "1.0.3")
    planted["stored"] = "2000-01-01T00:00:00.000Z"
    store._writer.execute("INSERT INTO statements (seq, id, stored, body) VALUES (?, ?, ?, ?)",
                          (FAR, planted["id"], planted["stored"], orjson.dumps(planted)))

    def by_registration(n: NewStatement) -> list[int]:
        rows, _ = store.query(StatementQuery(terms=[("r:" + n.statement["context"]["registration"], False)],
                                             limit=10))
        return [seq for seq, _ in rows]

    # Reads before any writer has seen the gap: the Statements before it are found through the buckets
    # no span holds yet, the gap costs nothing.
    assert [by_registration(n) for n in before] == [[seq] for seq in range(1, 42)]
    assert store.query(StatementQuery(terms=[("r:" + str(uuid.uuid4()), False)], limit=10)) == ([], None)
    assert store.get(before[3].statement["id"], False) is not None
    # The writer stores after it: the summary is brought up to the gap from the buckets that hold rows.
    after = [_new(rng) for _ in range(41)]
    for i in range(0, len(after), 5):
        store.insert(after[i:i + 5], {})
    top = store.last_seq()
    assert top == FAR + 41
    assert [by_registration(n) for n in after] == [[FAR + seq] for seq in range(1, 42)]
    assert [by_registration(n) for n in before[::7]] == [[seq] for seq in range(1, 42, 7)]
    verb = "v:http://example.com/verbs/1"
    rows, _ = store.query(StatementQuery(terms=[(verb, False)], limit=200, ascending=True))
    assert [seq for seq, _ in rows] == [seq for seq, n in zip([*range(1, 42), *range(FAR + 1, FAR + 42)],
                                                              before + after) if verb in n.terms]
    conn = store._writer
    _same_summary(_summary(conn), _reference_summary(Path(path)), _part_made(conn))
    bits = sqlite_adapter.BUCKET_BITS
    for (term,) in conn.execute("SELECT DISTINCT term FROM statement_terms").fetchall():
        found = _term_buckets(conn, term, 0, top >> bits, top)
        holding = _walk_all_buckets(conn, term, top)
        assert set(holding) <= set(found), (found, holding)
        assert len(found) <= len(holding) + (1 << sqlite_adapter.SPAN_BITS), (found, holding)
    _reinsert_all(store, before + after)
    store.close()
    # Read back at the next start, then rebuilt from the id index when it cannot be trusted.
    for damage in ("", "DELETE FROM id_filter_top"):
        if damage:
            sqlite3.connect(path, isolation_level=None).execute(damage)
        store = sqlite_adapter.SqliteStore(path)
        store.load_ids()
        _reinsert_all(store, before + after)
        store.insert([_new(rng)], {})
        assert store.last_seq() == top + 1 + bool(damage)
        store.close()


GAP = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
    sys.path[:0] = [{tests!r}]
    import lrs.storage.sqlite as s
    for k, v in {small!r}.items():
        setattr(s, k, v)
    from test_sqlite_scale import _far_gap_scenario
    _far_gap_scenario({path!r})
    # this process's own peak (VmHWM): ru_maxrss would count the parent's, kept across exec
    print("peak KiB", next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
""")


def test_a_row_far_past_the_data_costs_reads_writes_summary_and_id_filter_nothing_and_all_stay_right(path):
    """Issue 16: a Statement row planted at seq 2^52 once made the writer's loops and lists run over every
    bucket of the gap (21.5 GB before the machine ran out). Every loop is over what is stored: in a process
    capped at 1 GiB of address space and 60 s, reads before and after the writer sees the gap, the writer,
    its summary and its id filter (saved, read back, rebuilt) all stay right."""
    code = GAP.format(limit=1 << 30, tests=str(Path(__file__).parent), small=SMALL, path=str(path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) < 300_000  # KiB: the process's peak resident size


def test_past_the_largest_seq_the_keys_hold_the_writer_refuses_and_reads_go_on(tmp_path):
    """A row put in by hand at seq 2^52 (the reported one): the writer's next seq would not fit the index
    keys (a bucket of 4,096 Statements numbered past 2^40), so it stores nothing and says why, instead of
    keying ids where a later lookup would miss them; reads still answer."""
    store = sqlite_adapter.SqliteStore(tmp_path / "lrs.sqlite3")
    try:
        rng = random.Random(12)
        store.insert([_new(rng) for _ in range(3)], {})
        planted = prepare(make_statement(), AUTHORITY, "1.0.3")
        planted["stored"] = "2000-01-01T00:00:00.000Z"
        store._writer.execute("INSERT INTO statements (seq, id, stored, body) VALUES (?, ?, ?, ?)",
                              (1 << 52, planted["id"], planted["stored"], orjson.dumps(planted)))
        with pytest.raises(RuntimeError, match="index keys hold seqs up to 4503599627370495"):
            store.insert([_new(rng)], {})
        assert store.last_seq() == 1 << 52
        rows, _ = store.query(StatementQuery(terms=[("v:http://example.com/verbs/1", False)], limit=10))
        assert all(seq <= 3 for seq, _ in rows)
        assert store.query(StatementQuery(terms=[("r:" + str(uuid.uuid4()), False)], limit=10)) == ([], None)
    finally:
        store.close()
