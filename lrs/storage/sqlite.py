"""The embedded store: the standard library's sqlite3 in WAL mode, one writer, readers in parallel.

All SQL of this adapter is in this file. Statements are found through ``statement_terms``
(bucket, term hash, seq, direct): one row per value a query can filter on
(lrs/statements/terms.py), including the values a Statement inherits from the Statement it
targets (StatementRef). The bucket is ``seq >> BUCKET_BITS``: new rows all land in the
newest bucket's region of the index, so ingest does not slow down as the store grows. The
region is kept small (a few hundred pages) because a commit writes every page it dirtied:
with big buckets each Statement's learner, registration and Activity rows each dirtied a
page of their own. A query walks the buckets newest first (or oldest first when ascending)
in one SQL statement, one index seek per bucket, and stops once it has its page.
A term is stored as a 64-bit hash of its text, so the index needs no dictionary table; a
query checks each Statement it returns against the terms themselves, so a hash collision
can never put a wrong Statement into an answer.

Statement ids are found the same way, through ``statement_ids`` (bucket, id hash, seq), so
that a commit writes to a small region of it and not to a random leaf for every Statement (a
unique index on the random ids took over half the pages of each commit at 3M Statements).
Its buckets are merged as they fill: 16 full buckets of 4,096 Statements become one of 65,536
(a sequential copy in the write that fills them), and 16 of those one of 1,048,576 (a slice of the
id hashes a write group, see CATCH_UP_SLICES; meanwhile an id is in whichever of them holds it). A lookup by id probes every bucket:
one per million Statements and at most 31 more (12 at 1.4M, 0.18 ms). The writer keeps a Bloom
filter of the stored ids (lrs/storage/idfilter.py) and looks up only the ids it may hold.

The term summary, ``term_spans`` (span, term hash, bits), says which buckets hold a term, so that a
query on a rare or absent term does not seek every bucket (2,442 at 10M Statements). A span of level 1
is 16 buckets (65,536 Statements); its row for a term has a bit for each of its buckets that holds the
term. A span of level 2 is 16 spans of level 1 (1,048,576 Statements), its bits say which of them hold
the term. The writer adds a level-1 span's rows once, in term order, in the transaction in which its last
bucket fills (one SQL statement over its buckets' rows in the term index), and a level-2 span's from its 16
children's once the last of them is written, a slice of the term hashes a write group (``summary_pending``
says how far it is; a lookup uses a span only once it is whole, its children until then): new rows only
ever go to the newest end of the table, as the term index's do. A lookup reads the level-2 rows of the
term, then the level-1 rows their bits name, then walks the buckets theirs name plus the at most 16 buckets
not in a full span yet: about 10 + 15 + 16 seeks for an absent term at 10M Statements. It goes newest first
(oldest first when ascending) and reads a span's rows only when the walk gets to it, so a page of a
common term is found in the newest spans without reading the rest of the summary. Terms a Statement
inherits later (its StatementRef target arrives after it) are added to the spans already written.

No loop runs over seq distance: the summary holds every level-1 span before its newest one, so a lookup
lists only spans the summary holds and the buckets after them, and asks SQL which of those hold rows (one
seek each) when a window has more than MAX_ROOTS of them; the id index lists the buckets that hold ids the
same way. A row put in far past the data (a seq gap) costs nothing, and the writer summarises the buckets
before it that hold rows when it next writes.

The writer saves its id filter in the store (``id_filter``, ``id_filter_top``) in the transaction of the
Statements it holds, every FILTER_CHECKPOINT Statements and at a clean close; at start it reads it back,
checks it (the seq it was saved at is in the store with the same Statement id, every part's checksum),
and adds the ids stored after that seq from the id index before it writes anything.
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import orjson

from ..statements.forms import now_timestamp, same_statement
from ..statements.activities import SeenDefinitions, merge_definition
from ..statements.attachments import legacy_uploads, uploads
from ..statements.terms import Terms, hash64, inheritable, merge, statement_terms, term_hash
from .ports import READ_TIMEOUT, Conflict, Document, NewStatement, StatementQuery, StoreBusy
from .bodies import Bodies
from .idfilter import PARAMS as FILTER_PARAMS, IdFilter, checksum
from .sqlite_writer import WriterProcess

STATEMENTS_COLUMNS = """(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    stored TEXT NOT NULL,
    voided INTEGER NOT NULL DEFAULT 0,
    is_voiding INTEGER NOT NULL DEFAULT 0,
    ref TEXT,
    body BLOB NOT NULL
)"""
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS statements {STATEMENTS_COLUMNS};
CREATE INDEX IF NOT EXISTS statements_stored ON statements(stored);
CREATE INDEX IF NOT EXISTS statements_ref ON statements(ref) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS statements_voiding ON statements(id) WHERE is_voiding = 1;
CREATE TABLE IF NOT EXISTS statement_ids (
    bucket INTEGER NOT NULL, idh INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (bucket, idh, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS statement_terms (
    bucket INTEGER NOT NULL, term INTEGER NOT NULL, seq INTEGER NOT NULL, direct INTEGER NOT NULL,
    PRIMARY KEY (bucket, term, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS term_spans (
    span INTEGER NOT NULL, term INTEGER NOT NULL, bits INTEGER NOT NULL,
    PRIMARY KEY (span, term)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS summary_pending (
    level INTEGER PRIMARY KEY, span INTEGER NOT NULL, next_term INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS id_filter (
    part INTEGER PRIMARY KEY, capacity INTEGER NOT NULL, count INTEGER NOT NULL, crc INTEGER NOT NULL,
    bits BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS id_filter_top (
    one INTEGER PRIMARY KEY CHECK (one = 1), top INTEGER NOT NULL, top_id TEXT, params TEXT NOT NULL,
    parts INTEGER NOT NULL, generation TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attachments (sha2 TEXT PRIMARY KEY, content_type TEXT NOT NULL, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS uploads (sha2 TEXT NOT NULL, authority TEXT NOT NULL, PRIMARY KEY (sha2, authority))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, definition BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, activity_id TEXT NOT NULL, agent_key TEXT NOT NULL, registration TEXT NOT NULL,
    doc_id TEXT NOT NULL, content BLOB NOT NULL, content_type TEXT NOT NULL, etag TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (kind, activity_id, agent_key, registration, doc_id));
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS body_dicts (n INTEGER PRIMARY KEY, id INTEGER NOT NULL UNIQUE, dict BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS credentials (
    key TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, authority TEXT NOT NULL,
    created TEXT NOT NULL);
"""

log = logging.getLogger("lrs.store")

# Most selective first: the first term drives the index walk, the others are point probes.
_TERM_ORDER = {"r": 0, "O": 1, "A": 2, "au": 3, "v": 4}
_CHUNK = 500
BUCKET_BITS = 12            # 4,096 statements a bucket: see "The term index" in bench/RESULTS.md
ID_LEVEL_BITS = (12, 16, 20)  # id index buckets: 4,096 Statements, merged into 65,536, merged into 1,048,576
# The term summary: a span of level 1 is 2**SPAN_BITS buckets, a span of level L 2**SPAN_BITS spans of
# level L-1 (16 buckets = 65,536 Statements, then 1,048,576), up to SPAN_LEVELS.
SPAN_BITS = 4
SPAN_LEVELS = 2
# Past this many top-level spans, or buckets after the summary, in a window (over 4 billion Statements: a
# store with a row far past its data, planted or imported), a lookup asks SQL which of them hold rows,
# one seek each, instead of listing them all: every loop is over what is stored, never over seq distance.
MAX_ROOTS = 4096
ROOT_READS = 4              # a lookup reads the summary rows of this many top-level spans at a time
WALK_BUCKETS = 64            # a query's walk asks at least this many buckets at a time (the last part fewer)
# The two merges that come once a million Statements (a level-2 span of the summary, 1.4M rows at 1M
# Statements; 16 id buckets into one of 1,048,576) are made a slice of the hash space at a time, one slice
# a write group, so that no write waits for a whole one (4.6 s at the first million, measured).
CATCH_UP_SLICES = 64
_HASH_MIN, _HASH_MAX = -(1 << 63), (1 << 63) - 1  # term and id hashes are signed 64-bit
FILTER_CHECKPOINT = 1 << 18  # the writer saves its id filter at least every this many Statements it stores
FORMAT = 6                  # PRAGMA user_version of the store layout this code reads and writes
# Layout 5: bodies may be compressed (lrs/storage/bodies.py); a layout-4 store becomes one by getting
# the dictionaries' table, and code reading layout 4 only refuses it rather than misread a body.
# Layout 6: a span of level 2 or more may be part made (``summary_pending``); code reading layout 5 would
# take it for whole, so it refuses the store.
READERS = 4                 # reader connections per process
READER_CACHE_KIB = 16384    # page cache of each reader
# How often a running read checks its deadline: every this many SQLite VM steps, about 2.5 ms of work
# on the 2-core bench machine (40M steps/s). Each check takes the GIL, so reads shorter than that
# never pay for it.
PROGRESS_STEPS = 100_000
WRITER_CACHE_KIB = 32768    # page cache of the writer


class SqliteStore:
    def __init__(self, path: Path, writer_process: bool = False, read_timeout: float = READ_TIMEOUT):
        """``writer_process``: write Statements from a process of its own (lrs/storage/sqlite_writer.py),
        as the server does; the CLI and tests write in-process. ``read_timeout``: seconds a read may take,
        the wait for a reader connection included, before it raises StoreBusy."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.read_timeout = read_timeout
        self._readers: queue.SimpleQueue = queue.SimpleQueue()
        self._reader_count = 0
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._pending: list[_Job] = []
        self._writer = self._connect()
        self._check_format(self._writer)
        self._definitions = SeenDefinitions()
        self._bodies = Bodies()             # statement bodies: JSON or compressed (lrs/storage/bodies.py)
        self._pack = None                   # the compressor of the write group being written
        self._ids: IdFilter | None = None   # the writer's filter of stored ids, built at its first write
        self._ids_top = 0                   # the newest seq the filter has seen
        self._ids_saved: tuple[int, list[int], str] | None = None  # (top, part counts, generation) as saved
        self._terms_top = -1                # the top this writer last committed at
        self._group_top = 0                 # the top when the write group being written began
        self._all: list[sqlite3.Connection] = [self._writer]
        self._process = WriterProcess(self.path) if writer_process else None

    @staticmethod
    def _check_format(conn) -> None:
        """Create the schema of an empty store, or convert an older layout, in one transaction
        (another process opening the store meanwhile waits for it)."""
        conn.execute("PRAGMA busy_timeout = 86400000")
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'statements'").fetchone():
                version = FORMAT
            elif version not in (1, 2, 3, 4, 5, FORMAT):
                raise RuntimeError(f"the store at {conn.execute('PRAGMA database_list').fetchone()[2]} has "
                                   f"layout {version}; this version reads layouts 1 to {FORMAT}")
            if version < 4:
                count = conn.execute("SELECT max(seq) FROM statements").fetchone()[0] or 0
                log.warning("converting the store from layout %d to %d (%d Statements; %s): do not stop the server",
                            version, FORMAT, count, "about 2 minutes a million on a 2-core machine" if version < 3
                            else "the term summary is made from the term index, progress below")
            if version == 1:
                _rebucket(conn)
            if version in (1, 2):
                _bucket_ids(conn)
            recorded = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'uploads'").fetchone()
            for sql in SCHEMA.split(";"):
                conn.execute(sql)
            if not recorded:  # attachments stored before uploads were recorded: credit their uploaders, once
                _fill_uploads(conn)
            if version < 4:
                _summarise_all(conn)
            conn.execute(f"PRAGMA user_version = {FORMAT}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.execute("PRAGMA busy_timeout = 30000")
        if version < 4:
            log.warning("store converted to layout %d; the old statements table left free pages in the file, "
                        "which new Statements reuse (VACUUM, with the server stopped, gives them back)", FORMAT)

    def _connect(self, cache_kib: int = WRITER_CACHE_KIB) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA wal_autocheckpoint=20000")
        conn.execute(f"PRAGMA cache_size=-{cache_kib}")
        return conn

    @contextlib.contextmanager
    def _read(self):
        """A reader connection from a small pool: its page caches bound the memory reads use.

        Every read has a deadline, ``read_timeout`` from now: waiting for a pooled connection stops at
        it, and the connection's progress handler interrupts SQL still running past it. Either raises
        StoreBusy, and the connection goes back to the pool ready for the next read."""
        deadline_at = time.monotonic() + self.read_timeout
        try:
            conn, deadline = self._readers.get_nowait()
        except queue.Empty:
            with self._pool_lock:
                grow = self._reader_count < READERS
                self._reader_count += grow
            if grow:
                conn, deadline = self._connect_reader()
            else:
                try:
                    conn, deadline = self._readers.get(timeout=max(0.0, deadline_at - time.monotonic()))
                except queue.Empty:
                    raise StoreBusy.after("no store reader came free within", self.read_timeout) from None
        deadline.arm(deadline_at)
        try:
            # One snapshot for all the reads of a call: a writer's merge moves ids between buckets.
            conn.execute("BEGIN")
            try:
                yield conn
            except sqlite3.OperationalError:
                if deadline.fired:
                    raise StoreBusy.after("the read took longer than", self.read_timeout) from None
                raise
            finally:
                deadline.disarm()
                if conn.in_transaction:  # not when an error has already ended it
                    conn.execute("COMMIT")
        finally:
            deadline.disarm()
            self._readers.put((conn, deadline))

    def _connect_reader(self) -> tuple[sqlite3.Connection, "_Deadline"]:
        conn = self._connect(cache_kib=READER_CACHE_KIB)
        conn.execute("PRAGMA query_only=1")
        deadline = _Deadline()
        conn.set_progress_handler(deadline.passed, PROGRESS_STEPS)
        self._all.append(conn)
        return conn, deadline

    def start(self, wait: float | None = None) -> None:
        """Before the server listens: start the writer process and wait until it is ready (its id
        filter read back, or rebuilt from the id index when none was saved: 3.9 s at 1.4M Statements),
        for ``wait`` seconds at most (None: as long as it takes). Reads never need the writer; a write
        that comes while it is still starting waits for it."""
        if self._process is not None:
            self._process.start(wait)

    def close(self) -> None:
        if self._process is not None:
            self._process.close()
        if self._ids is not None and self._all:
            try:
                self._save_on_close()
            except sqlite3.Error as exc:
                log.warning("the id filter was not saved at close (%s): the next start rebuilds it", exc)
        for conn in self._all:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._all = []

    # -- statements -----------------------------------------------------------------------

    def insert(self, batch: list[NewStatement], attachments: dict[str, tuple[str, bytes]],
               define: bool = True, documents=()) -> list[str]:
        """Store the batch whole or not at all. ``define``: the writer may change stored Activity
        definitions (the ``define`` scope); without it only new Activities get one.

        Group commit: batches that arrive while another is being written wait for the write lock,
        and whoever takes it next writes every waiting batch in one transaction, each in its own
        savepoint (a batch that fails rolls back alone). One commit, one fsync, for all of them.
        """
        if self._process is not None:
            self._process.insert(batch, attachments, define, list(documents))
            return [n.statement["id"] for n in batch]
        job = _Job(batch, attachments, define, list(documents))
        with self._pending_lock:
            self._pending.append(job)
        with self._write_lock:
            if not job.done:
                with self._pending_lock:
                    jobs, self._pending = self._pending, []
                self._write_group(jobs)
        if job.error is not None:
            raise job.error
        return [n.statement["id"] for n in batch]

    def _write_group(self, jobs: list["_Job"]) -> None:
        conn = self._writer
        saved = None
        try:
            conn.execute("BEGIN IMMEDIATE")
            top, stored = self._next(conn)
            self._see_ids(conn, top)
            self._pack = self._bodies.packer(conn, top)
            if top != self._terms_top:  # another writer, or none, stored Statements since
                _summarise_upto(conn, top)  # Statements no writer summarised (a row planted far ahead)
            self._group_top = first = top
            for job in jobs:
                conn.execute("SAVEPOINT batch")
                try:
                    top = self._write_batch(conn, job, top, stored)
                    for kind, scope, doc_id, change in job.documents:
                        self._change_document(conn, (kind, *scope, doc_id), change)
                except Exception as exc:
                    conn.execute("ROLLBACK TO batch")
                    self._definitions.forget()
                    job.error = exc
                conn.execute("RELEASE batch")
            if top > first:
                self._summarise(conn, first, top)
            _catch_up(conn, top)
            if top - (self._ids_saved[0] if self._ids_saved else 0) >= FILTER_CHECKPOINT:
                saved = self._save_ids(conn, top)
            conn.execute("COMMIT")
            self._ids_top = self._terms_top = top
            if saved:
                self._ids_saved = saved
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._definitions.forget()
            self._bodies.forget_packer()
            self._terms_top = -1
            for job in jobs:
                if job.error is None:
                    job.error = exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for job in jobs:
                job.done = True

    @staticmethod
    def _next(conn) -> tuple[int, str]:
        """The newest seq, and the stored time for this transaction: never earlier than the
        newest Statement's, whatever the clock does, so stored grows with seq."""
        row = conn.execute("SELECT seq, stored FROM statements ORDER BY seq DESC LIMIT 1").fetchone()
        stored = now_timestamp()
        return (row[0], max(stored, row[1])) if row else (0, stored)

    def load_ids(self) -> None:
        """Make the writer's id filter ready now rather than at the first write: the saved one and the
        ids stored after it was saved, or, when none was saved or it cannot be trusted, one built from
        the whole id index (3.9 s for 1.4M ids), saved at once so that the next start reads it."""
        conn = self._writer
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                top = self._top(conn)
                self._see_ids(conn, top)
                saved = self._save_ids(conn, top) if self._ids_saved is None or self._ids_saved[0] != top else None
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                self._ids = None
                raise
            if saved:
                self._ids_saved = saved

    def _see_ids(self, conn, top: int) -> None:
        """Bring the id filter up to ``top``. The first time: the saved filter if it checks out, else one
        built from the whole id index; then the ids stored after the filter's seq (by this writer before a
        crash, by another writer: another worker, the CLI), read from the id index. Nothing is written
        while this runs, so every id stored up to ``top`` is in the filter when it returns."""
        if self._ids is None:
            loaded = self._load_ids(conn, top)
            if loaded is not None:
                self._ids, self._ids_top, self._ids_saved = loaded
            else:
                started = time.monotonic()
                # sized for the ids the index can hold (top ~ the count unless a row sits far past the data)
                room = sum(_id_bucket_end(b) - _id_bucket_start(b) + 1 for b in _present_id_buckets(conn))
                ids = IdFilter(min(top, room))
                ids.update(h for (h,) in conn.execute("SELECT idh FROM statement_ids"))
                self._ids, self._ids_top, self._ids_saved = ids, top, None
                (log.warning if top else log.debug)("id filter built from the id index: the ids up to seq %d "
                                                    "in %.1f s", top, time.monotonic() - started)
            if top > self._ids_top:
                started = time.monotonic()
                n = self._add_tail(conn, top)
                log.warning("id filter: added the %d ids stored after it was saved (seq %d to %d) in %.2f s",
                            n, self._ids_top + 1, top, time.monotonic() - started)
        elif top > self._ids_top:
            self._add_tail(conn, top)
        self._ids_top = top

    def _add_tail(self, conn, top: int) -> int:
        """Add to the filter the ids of the Statements after ``self._ids_top`` up to ``top``, from the id
        index (their hashes are there, in the few newest buckets)."""
        after = self._ids_top
        buckets = [b for b in _present_id_buckets(conn) if _id_bucket_end(b) > after]
        hashes = [h for (h,) in conn.execute(
            "SELECT idh FROM statement_ids WHERE bucket IN (SELECT value FROM json_each(?)) AND seq > ? AND seq <= ?",
            (orjson.dumps(buckets).decode(), after, top))]
        self._ids.update(hashes)
        return len(hashes)

    @staticmethod
    def _load_ids(conn, top: int) -> tuple[IdFilter, int, tuple[int, list[int], str]] | None:
        """The saved id filter and the seq it holds every id up to, if it checks out: made with these
        parameters, saved at a seq this store has, with the Statement it was saved with at that seq (not
        a store restored from an older copy or another store's file), every part there with its checksum.
        None (and a log line saying why) otherwise."""
        row = conn.execute("SELECT top, top_id, params, parts, generation FROM id_filter_top").fetchone()
        if row is None:
            return None
        saved_top, top_id, params, count, generation = row
        why = None
        if params != FILTER_PARAMS:
            why = f"it was made with {params}, this version uses {FILTER_PARAMS}"
        elif saved_top > top:
            why = f"it was saved at seq {saved_top}, after the newest Statement ({top}): the store is older than it"
        elif saved_top and conn.execute("SELECT id FROM statements WHERE seq = ?", (saved_top,)).fetchone() != (top_id,):
            why = f"the Statement at seq {saved_top} is not the one it was saved with"
        else:
            parts = conn.execute("SELECT part, capacity, count, crc, bits FROM id_filter ORDER BY part").fetchall()
            if [p[0] for p in parts] != list(range(count)):
                why = f"it has parts {[p[0] for p in parts]}, it was saved with {count}"
            elif any(checksum(bits) != crc for _, _, _, crc, bits in parts):
                why = "a part's checksum does not match its bits"
            else:
                try:
                    ids = IdFilter.restore([(cap, n, bits) for _, cap, n, _, bits in parts])
                except ValueError as exc:
                    why = str(exc)
                else:
                    return ids, saved_top, (saved_top, ids.counts(), generation)
        log.warning("the saved id filter is not used (%s): it is rebuilt from the id index", why)
        return None

    def _save_ids(self, conn, top: int) -> tuple[int, list[int], str]:
        """Write the id filter, which holds every id up to ``top``, in the caller's transaction: the parts
        that changed since this writer last saved it, all of them if another writer saved since.
        Returns what to remember as saved once the transaction commits."""
        row = conn.execute("SELECT generation FROM id_filter_top").fetchone()
        mine = self._ids_saved if self._ids_saved and row and row[0] == self._ids_saved[2] else None
        counts = self._ids.counts()
        for i, (capacity, count, bits) in enumerate(self._ids.parts_changed(mine[1] if mine else [])):
            if bits is not None:
                conn.execute("INSERT OR REPLACE INTO id_filter (part, capacity, count, crc, bits) VALUES (?, ?, ?, ?, ?)",
                             (i, capacity, count, checksum(bits), bits))
        conn.execute("DELETE FROM id_filter WHERE part >= ?", (len(counts),))
        top_id = conn.execute("SELECT id FROM statements WHERE seq = ?", (top,)).fetchone() if top else None
        generation = os.urandom(8).hex()
        conn.execute("INSERT OR REPLACE INTO id_filter_top (one, top, top_id, params, parts, generation) "
                     "VALUES (1, ?, ?, ?, ?, ?)", (top, top_id[0] if top_id else None, FILTER_PARAMS, len(counts),
                                                   generation))
        return top, counts, generation

    def _save_on_close(self) -> None:
        """A clean shutdown: save the id filter if it holds ids not saved yet, so the next start reads it."""
        conn = self._writer
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                top = self._top(conn)
                self._see_ids(conn, top)
                saved = None
                if self._ids_saved is None or self._ids_saved[1] != self._ids.counts() or self._ids_saved[0] != top:
                    saved = self._save_ids(conn, top)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        if saved:
            self._ids_saved = saved

    # -- the term summary ----------------------------------------------------------------

    def _summarise(self, conn, old_top: int, top: int) -> None:
        """The store's newest seq went from ``old_top`` to ``top`` in this transaction: add to the summary
        every level-1 span that is now full, in one SQL statement each from its 16 buckets' rows in the
        term index (just written, so in the page cache), then the spans above it it completes."""
        for n in range((old_top >> BUCKET_BITS) >> SPAN_BITS, (top >> BUCKET_BITS) >> SPAN_BITS):
            _summarise_span(conn, n)
            _span_done(conn, 1, n)

    def _summarise_late(self, conn, rows: list[tuple[int, int, int, int]]) -> None:
        """Term rows just added to Statements stored earlier (they inherit from a StatementRef target that
        came after them): the spans already summarised get them too (a span not full yet reads them from
        the term index when it fills)."""
        top_bucket = self._group_top >> BUCKET_BITS
        mask = (1 << SPAN_BITS) - 1
        for b, th, _, _ in rows:
            for level in range(1, SPAN_LEVELS + 1):
                n = b >> (SPAN_BITS * level)
                if n >= top_bucket >> (SPAN_BITS * level):
                    break
                child = b >> (SPAN_BITS * (level - 1))
                conn.execute("INSERT INTO term_spans (span, term, bits) VALUES (?, ?, ?) "
                             "ON CONFLICT (span, term) DO UPDATE SET bits = bits | excluded.bits",
                             ((level << 40) | n, th, 1 << (child & mask)))

    def _write_batch(self, conn, job: "_Job", top: int, stored: str) -> int:
        """Store the batch's new Statements after ``top``; those already stored are skipped (the
        same Statement) or refused (different content). Returns the new top."""
        batch = job.batch
        hashes = [hash64(n.statement["id"]) for n in batch]
        maybe = [n.statement["id"] for n, h in zip(batch, hashes) if h in self._ids]
        found = {sid: orjson.loads(self._bodies.plain(conn, body))
                 for _, sid, body in self._find(conn, maybe, top, "s.body")}
        kept = []
        for n, h in zip(batch, hashes):
            sid = n.statement["id"]
            if sid not in found:
                kept.append((n, h))
                found[sid] = n.statement  # the same id again in this batch is checked against it
            elif not same_statement(found[sid], n.statement):
                raise Conflict(sid)
        if kept:
            if top + len(kept) > _max_seq():
                raise RuntimeError(f"the store's newest seq is {top}: its index keys hold seqs up to {_max_seq()}, "
                                   "so it stores nothing more (a row far past the data was put in by hand?)")
            self._store_new(conn, kept, top, stored)
            self._merge_activities(conn, [n.statement for n, _ in kept], job.define)
            top += len(kept)
        if job.attachments:
            conn.executemany("INSERT OR IGNORE INTO attachments (sha2, content_type, content) VALUES (?, ?, ?)",
                             [(sha, ct, data) for sha, (ct, data) in job.attachments.items()])
            conn.executemany("INSERT OR IGNORE INTO uploads (sha2, authority) VALUES (?, ?)",
                             sorted(uploads((n.statement for n in batch), job.attachments)))
        return top

    def _store_new(self, conn, kept: list[tuple[NewStatement, int]], top: int, stored: str) -> None:
        referrers = self._referrers_of(conn, [n.statement["id"] for n, _ in kept])  # stored ones that target these
        voided = {ref for _, _, ref, is_voiding in referrers if is_voiding}
        rows, ids = [], []
        pack = self._pack.compress if self._pack is not None else bytes
        for seq, (n, h) in enumerate(kept, top + 1):
            st = n.statement
            st["stored"] = stored
            st.setdefault("timestamp", stored)
            rows.append((seq, st["id"], stored, 1 if n.voids is None and st["id"] in voided else 0,
                         1 if n.voids else 0, n.ref, pack(orjson.dumps(st))))
            ids.append((seq >> ID_LEVEL_BITS[0], h, seq))
        conn.executemany("INSERT INTO statements (seq, id, stored, voided, is_voiding, ref, body) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        ids.sort()
        conn.executemany("INSERT INTO statement_ids (bucket, idh, seq) VALUES (?, ?, ?)", ids)
        self._ids.update(h for _, h in kept)
        _merge_id_buckets(conn, top, top + len(kept))  # before any lookup sees the new top
        self._index(conn, [(seq, n) for seq, (n, _) in enumerate(kept, top + 1)], referrers)

    @staticmethod
    def _find(conn, ids: list[str], top: int, columns: str) -> list[tuple]:
        """(seq, id, *columns) of the stored Statements with one of ``ids``, in a store whose
        newest seq is ``top`` (read in the same transaction: a merge moves ids between buckets)."""
        if not top or not ids:
            return []
        buckets = orjson.dumps(_present_id_buckets(conn)).decode()
        out = []
        for chunk in _chunks(ids):
            out += conn.execute(
                f"SELECT s.seq, s.id, {columns} FROM statement_ids x JOIN statements s ON s.seq = x.seq "
                "WHERE x.bucket IN (SELECT value FROM json_each(?)) AND x.idh IN (SELECT value FROM json_each(?)) "
                "AND s.id IN (SELECT value FROM json_each(?))",
                (buckets, orjson.dumps([hash64(i) for i in chunk]).decode(), orjson.dumps(chunk).decode())).fetchall()
        return out

    def _index(self, conn, fresh: list[tuple[int, NewStatement]], referrers: list[tuple]) -> None:
        voids = [n.voids for _, n in fresh if n.voids]
        if voids:
            top = fresh[-1][0]
            conn.executemany("UPDATE statements SET voided = 1 WHERE seq = ? AND is_voiding = 0",
                             [(row[0],) for row in self._find(conn, voids, top, "1")])
        rows = []
        by_id = {n.statement["id"]: n for _, n in fresh}
        full: dict[str, Terms] = {}
        for seq, n in fresh:
            if n.ref is None:
                terms = n.terms
            else:
                terms = self._full_terms(conn, n.statement["id"], n.statement, full, by_id)
            bucket = seq >> BUCKET_BITS
            rows.extend((bucket, term_hash(t), seq, direct) for t, direct in terms.items())
        # Statements stored earlier that target one of these now match what it matches.
        late = []
        for seq, rid, ref, _ in referrers:
            if ref not in by_id:
                continue
            inherited = inheritable(self._full_terms(conn, ref, None, full, by_id))
            for rseq in [seq] + self._referrers(conn, rid, depth=1):
                late.extend((rseq >> BUCKET_BITS, term_hash(t), rseq, d) for t, d in inherited.items())
        rows += late
        # One SQL step for all rows: sqlite3 releases the GIL around each step, and every retake
        # can wait behind the event loop.
        conn.execute("INSERT INTO statement_terms (bucket, term, seq, direct) "
                     "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?) ORDER BY 1, 2, 3 "
                     "ON CONFLICT (bucket, term, seq) DO UPDATE SET direct = max(direct, excluded.direct)",
                     (orjson.dumps(rows).decode(),))
        if late:
            self._summarise_late(conn, late)

    def _full_terms(self, conn, sid: str, st: dict | None, memo: dict, by_id: dict, depth: int = 0) -> Terms:
        """A Statement's own terms and, through StatementRef, those of its target, recursively."""
        if sid in memo:
            return memo[sid]
        if st is None:
            if sid in by_id:
                st = by_id[sid].statement
            else:
                found = self._find(conn, [sid], self._top(conn), "s.body")
                if not found:
                    return {}
                st = orjson.loads(self._bodies.plain(conn, found[0][2]))
        memo[sid] = terms = dict(statement_terms(st))
        obj = st["object"]
        if obj.get("objectType") == "StatementRef" and depth < 32:
            merge(terms, self._full_terms(conn, obj["id"].lower(), None, memo, by_id, depth + 1))
        return terms

    def _referrers(self, conn, sid: str, depth: int) -> list[int]:
        """The seqs of the Statements that target ``sid`` through StatementRef, recursively."""
        if depth > 32:
            return []
        out = []
        for seq, rid in conn.execute("SELECT seq, id FROM statements WHERE ref = ?", (sid,)).fetchall():
            out.append(seq)
            out.extend(self._referrers(conn, rid, depth + 1))
        return out

    @staticmethod
    def _referrers_of(conn, ids: list[str]) -> list[tuple[int, str, str, int]]:
        """(seq, id, ref, is_voiding) of the stored Statements whose StatementRef targets one of ``ids``."""
        out = []
        for chunk in _chunks(ids):
            q = f"SELECT seq, id, ref, is_voiding FROM statements WHERE ref IN ({','.join('?' * len(chunk))})"
            out += conn.execute(q, chunk).fetchall()
        return out

    def _merge_activities(self, conn, statements: list[dict], define: bool) -> None:
        for activity_id, definition, raw in self._definitions.changed(statements):
            row = conn.execute("SELECT definition FROM activities WHERE id = ?", (activity_id,)).fetchone()
            if row and not define:  # xAPI 4.2 `define`: only then is a stored definition updated
                continue
            merged = merge_definition(orjson.loads(row[0]) if row else {}, definition)
            conn.execute("INSERT OR REPLACE INTO activities (id, definition) VALUES (?, ?)",
                         (activity_id, orjson.dumps(merged)))
            self._definitions.remember(activity_id, raw)

    def voiding_ids(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` that are stored voiding Statements."""
        out = set()
        with self._read() as conn:
            for chunk in _chunks(ids):
                q = f"SELECT id FROM statements WHERE is_voiding = 1 AND id IN ({','.join('?' * len(chunk))})"
                out.update(r[0] for r in conn.execute(q, chunk))
        return out

    def get(self, statement_id: str, voided: bool) -> bytes | None:
        with self._read() as conn:
            found = self._find(conn, [statement_id.lower()], self._top(conn), "s.body, s.voided")
            if not found or bool(found[0][3]) != voided:
                return None
            return self._bodies.plain(conn, found[0][2])

    @staticmethod
    def _top(conn) -> int:
        return conn.execute("SELECT max(seq) FROM statements").fetchone()[0] or 0

    def last_seq(self) -> int:
        with self._read() as conn:
            row = conn.execute("SELECT max(seq) FROM statements").fetchone()
        return row[0] or 0

    def query(self, q: StatementQuery) -> tuple[list[tuple[int, bytes]], int | None]:
        with self._read() as conn:
            return self._query(conn, q)

    def _query(self, conn, q: StatementQuery) -> tuple[list[tuple[int, bytes]], int | None]:
        lo, hi = self._seq_bounds(conn, q)
        lo = 1 if lo is None else lo
        order = "ASC" if q.ascending else "DESC"
        want = q.limit + 1
        if not q.terms:
            rows = conn.execute(f"SELECT seq, body FROM statements WHERE voided = 0 AND seq >= ? AND seq <= ? "
                                f"ORDER BY seq {order} LIMIT ?", (lo, hi, want)).fetchall()
        else:
            terms = sorted(q.terms, key=lambda t: _TERM_ORDER.get(t[0].split(":", 1)[0], 9) - 0.5 * t[1])
            ids = [term_hash(t) for t, _ in terms]
            # The buckets that hold the first term, from the summary: a rare or absent term costs a few
            # index seeks, whatever the store's size. One statement walks them in order (the IN list is
            # read sorted, so no sort step) and stops at the limit. CROSS JOIN keeps SQLite's join order
            # as written: every other term is probed in the index before the statement's row is read, so
            # only matching rows are read (left to itself the planner read the row of each candidate
            # first: 11 rows for each one returned for a verb and an activity at 10M, each a disk read
            # when the store is larger than the page cache).
            sql = "SELECT s.seq, s.body FROM statement_terms t0 "
            for i in range(1, len(ids)):
                direct = f" AND t{i}.direct = 1" if terms[i][1] else ""
                sql += (f"CROSS JOIN statement_terms t{i} ON t{i}.bucket = t0.bucket AND t{i}.term = ? "
                        f"AND t{i}.seq = t0.seq{direct} ")
            sql += ("CROSS JOIN statements s ON s.seq = t0.seq WHERE t0.bucket IN (SELECT value FROM json_each(?)) "
                    "AND t0.term = ?"
                    + (" AND t0.direct = 1" if terms[0][1] else "")
                    + f" AND t0.seq >= ? AND t0.seq <= ? AND s.voided = 0 "
                      f"ORDER BY t0.bucket {order}, t0.seq {order} LIMIT ?")
            # The buckets come in parts, newest first (oldest when ascending): each walk takes the buckets
            # gathered so far, WALK_BUCKETS at least, and the lookup goes on only while the page is short.
            rows, buckets = [], []
            parts = _term_bucket_parts(conn, ids[0], lo >> BUCKET_BITS, hi >> BUCKET_BITS, self._top(conn),
                                       not q.ascending)
            for part in itertools.chain(parts, [None]):  # None: the end, walk what is left
                if part is not None:
                    buckets += part
                    if len(buckets) < WALK_BUCKETS:
                        continue
                if buckets:
                    rows += conn.execute(sql, [*ids[1:], orjson.dumps(buckets).decode(), ids[0], lo, hi,
                                               want - len(rows)]).fetchall()
                    buckets = []
                    if len(rows) >= want:
                        break
        cursor = rows[q.limit - 1][0] if len(rows) > q.limit else None  # where the next page starts after
        rows = self._bodies.plain_rows(conn, rows[: q.limit], 1)
        if q.terms:
            rows = [r for r in rows if self._matches(conn, r[1], q.terms)]
        return rows, cursor

    def _matches(self, conn, body: bytes, terms: list[tuple[str, bool]]) -> bool:
        """The exact check behind the hashed index: does the Statement (or one it targets) have every term?"""
        st = orjson.loads(body)
        own = statement_terms(st)
        if _has(own, terms):
            return True
        return _has(self._full_terms(conn, st["id"], st, {}, {}), terms)

    def _seq_bounds(self, conn, q: StatementQuery) -> tuple[int | None, int]:
        """The seq window of ``q``, never above the newest seq: on the first page of a chain that fixes
        what the whole `more` chain will see."""
        lo = hi = None
        if q.since:
            row = conn.execute("SELECT seq FROM statements WHERE stored > ? ORDER BY stored, seq LIMIT 1",
                               (q.since,)).fetchone()
            lo = row[0] if row else (1 << 62)
        if q.until:
            row = conn.execute("SELECT seq FROM statements WHERE stored <= ? ORDER BY stored DESC, seq DESC LIMIT 1",
                               (q.until,)).fetchone()
            hi = row[0] if row else 0
        return q.seq_window(lo, hi, self._top(conn))

    def stream(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        with self._read() as conn:
            return self._bodies.plain_rows(conn, conn.execute(
                "SELECT seq, body FROM statements WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit)).fetchall(), 1)

    def attachment(self, sha2: str, authority: str) -> tuple[str, bytes] | None:
        with self._read() as conn:
            row = conn.execute("SELECT a.content_type, a.content FROM uploads u JOIN attachments a ON a.sha2 = u.sha2 "
                               "WHERE u.sha2 = ? AND u.authority = ?", (sha2, authority)).fetchone()
        return (row[0], row[1]) if row else None

    def activity(self, activity_id: str) -> dict | None:
        with self._read() as conn:
            row = conn.execute("SELECT definition FROM activities WHERE id = ?", (activity_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def activities(self, ids: Iterable[str]) -> dict[str, dict]:
        ids = list(ids)
        out = {}
        with self._read() as conn:
            for chunk in _chunks(ids):
                q = f"SELECT id, definition FROM activities WHERE id IN ({','.join('?' * len(chunk))})"
                out.update((i, orjson.loads(d)) for i, d in conn.execute(q, chunk))
        return out

    # -- documents -----------------------------------------------------------------------

    def get_document(self, kind: str, scope: tuple[str, str, str], doc_id: str) -> Document | None:
        with self._read() as conn:
            row = conn.execute(
                "SELECT content, content_type, etag, updated FROM documents WHERE kind = ? AND activity_id = ? "
                "AND agent_key = ? AND registration = ? AND doc_id = ?", (kind, *scope, doc_id)).fetchone()
        return Document(*row) if row else None

    def update_document(self, kind: str, scope: tuple[str, str, str], doc_id: str,
                        change: Callable[[Document | None], Document | None]) -> Document | None:
        key = (kind, *scope, doc_id)
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                new = self._change_document(conn, key, change)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return new

    @staticmethod
    def _change_document(conn, key: tuple, change) -> Document | None:
        """One document's change inside the caller's transaction; a change that answers the current
        document itself writes nothing."""
        row = conn.execute(
            "SELECT content, content_type, etag, updated FROM documents WHERE kind = ? AND activity_id = ? "
            "AND agent_key = ? AND registration = ? AND doc_id = ?", key).fetchone()
        current = Document(*row) if row else None
        new = change(current)
        if new is current and current is not None:
            return new
        if new is None:
            conn.execute("DELETE FROM documents WHERE kind = ? AND activity_id = ? AND agent_key = ? "
                         "AND registration = ? AND doc_id = ?", key)
        else:
            conn.execute("INSERT OR REPLACE INTO documents (kind, activity_id, agent_key, registration, "
                         "doc_id, content, content_type, etag, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (*key, new.content, new.content_type, new.etag, new.updated))
        return new

    def document_ids(self, kind: str, scope: tuple[str, str, str], since: str | None) -> tuple[list[str], str | None]:
        sql = ("SELECT doc_id, updated FROM documents WHERE kind = ? AND activity_id = ? AND agent_key = ? "
               "AND registration = ?")
        params = [kind, *scope]
        if since:
            sql += " AND updated > ?"
            params.append(since)
        with self._read() as conn:
            rows = conn.execute(sql + " ORDER BY doc_id", params).fetchall()
        return [r[0] for r in rows], max((r[1] for r in rows), default=None)

    def delete_documents(self, kind: str, scope: tuple[str, str, str]) -> int:
        sql = "DELETE FROM documents WHERE kind = ? AND activity_id = ? AND agent_key = ?"
        params = [kind, scope[0], scope[1]]
        if scope[2]:
            sql += " AND registration = ?"
            params.append(scope[2])
        with self._write_lock:
            return self._writer.execute(sql, params).rowcount

    # -- secrets -------------------------------------------------------------------------

    def secret(self, name: str) -> bytes:
        """The store's random 32-byte key ``name``, made on the first call: of processes that race to
        make it, the first insert wins and every one reads that."""
        with self._write_lock:
            conn = self._writer
            conn.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)", (name, os.urandom(32)))
            return conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()[0]

    # -- credentials ---------------------------------------------------------------------

    def credentials(self) -> list[dict]:
        with self._read() as conn:
            rows = conn.execute("SELECT key, secret_hash, scopes, authority, created FROM credentials "
                                "ORDER BY created").fetchall()
        return [{"key": k, "secret_hash": h, "scopes": orjson.loads(s), "authority": orjson.loads(a), "created": c}
                for k, h, s, a, c in rows]

    def add_credential(self, cred: dict) -> None:
        with self._write_lock:
            try:
                self._writer.execute(
                    "INSERT INTO credentials (key, secret_hash, scopes, authority, created) VALUES (?, ?, ?, ?, ?)",
                    (cred["key"], cred["secret_hash"], orjson.dumps(cred["scopes"]).decode(),
                     orjson.dumps(cred["authority"]).decode(), cred["created"]))
            except sqlite3.IntegrityError:
                raise ValueError(f"a credential with key {cred['key']!r} already exists") from None

    def remove_credential(self, key: str) -> bool:
        with self._write_lock:
            return self._writer.execute("DELETE FROM credentials WHERE key = ?", (key,)).rowcount > 0


def _id_bucket(seq: int, top: int) -> int:
    """The ``statement_ids`` bucket of ``seq`` in a store whose newest Statement is ``top``: the
    biggest size of bucket whose range of seqs is full (``top`` is past it). Key: level << 40 | number."""
    for level in range(len(ID_LEVEL_BITS) - 1, 0, -1):
        bits = ID_LEVEL_BITS[level]
        if seq >> bits < top >> bits:
            return (level << 40) | (seq >> bits)
    return seq >> ID_LEVEL_BITS[0]


def _max_seq() -> int:
    """The largest seq the index keys (level << 40 | number) can hold: a bucket of 4,096 Statements
    numbered up to 2**40, 2**52 - 1 (no store grows there by itself; only a row put in by hand)."""
    return (1 << (40 + min(BUCKET_BITS, ID_LEVEL_BITS[0]))) - 1


def _present(conn, table: str, lo: int, hi: int) -> list[int]:
    """The distinct values from ``lo`` to ``hi`` of the first key column (``bucket`` or ``span``) of
    ``table`` that hold rows, in order: one index seek each, however far apart they are."""
    col = "span" if table == "term_spans" else "bucket"
    return [v for (v,) in conn.execute(
        f"WITH RECURSIVE k(v) AS (SELECT (SELECT min({col}) FROM {table} WHERE {col} >= ?1 AND {col} <= ?2) "
        f"UNION ALL SELECT (SELECT min({col}) FROM {table} WHERE {col} > k.v AND {col} <= ?2) "
        "FROM k WHERE k.v IS NOT NULL) SELECT v FROM k WHERE v IS NOT NULL", (lo, hi))]


def _present_id_buckets(conn) -> list[int]:
    """Every ``statement_ids`` bucket that holds ids (about 1 a million Statements and at most 31 more,
    one seek each). Not worked out from the newest seq: Statements before a seq gap (a row planted far
    ahead) stay in the small buckets they were in, and the gap's empty buckets cost nothing."""
    return _present(conn, "statement_ids", 0, (len(ID_LEVEL_BITS) << 40) - 1)


def _merge_id_buckets(conn, old_top: int, top: int) -> None:
    """The store's newest seq went from ``old_top`` to ``top``: merge the buckets whose range is now full,
    up to the level below the top one (16 of 4,096 into 65,536: a copy of 65,536 rows); the merge into the
    top level (a million rows) is made in slices by ``_catch_up``."""
    for level in range(1, len(ID_LEVEL_BITS) - 1):
        for n in range(old_top >> ID_LEVEL_BITS[level], top >> ID_LEVEL_BITS[level]):
            _move_ids(conn, level, n, _HASH_MIN, _HASH_MAX)


def _move_ids(conn, level: int, n: int, lo: int, hi: int) -> None:
    """Move the ids hashed from ``lo`` to ``hi`` of the buckets of ``level`` - 1 that bucket ``n`` of
    ``level`` covers into it (a seek and a range read in each, one sorted insert)."""
    step = ID_LEVEL_BITS[level] - ID_LEVEL_BITS[level - 1]
    children = orjson.dumps([((level - 1) << 40) | (n << step) | i for i in range(1 << step)]).decode()
    conn.execute("INSERT INTO statement_ids (bucket, idh, seq) SELECT ?, idh, seq FROM statement_ids "
                 "WHERE bucket IN (SELECT value FROM json_each(?)) AND idh BETWEEN ? AND ? ORDER BY idh, seq",
                 ((level << 40) | n, children, lo, hi))
    conn.execute("DELETE FROM statement_ids WHERE bucket IN (SELECT value FROM json_each(?)) AND idh BETWEEN ? AND ?",
                 (children, lo, hi))


def _id_bucket_end(key: int) -> int:
    """The last seq an id bucket (a key of ``_id_bucket``) can hold."""
    level, n = key >> 40, key & ((1 << 40) - 1)
    return ((n + 1) << ID_LEVEL_BITS[level]) - 1


def _id_bucket_start(key: int) -> int:
    """The first seq an id bucket can hold."""
    level, n = key >> 40, key & ((1 << 40) - 1)
    return n << ID_LEVEL_BITS[level]


def _summarised(conn) -> int:
    """How many level-1 spans the summary holds: every one before this number (each full span holds
    Statements, so its rows are there), from the newest level-1 row: one seek."""
    row = conn.execute("SELECT max(span) FROM term_spans WHERE span >= ? AND span < ?", (1 << 40, 2 << 40)).fetchone()
    return 0 if row[0] is None else (row[0] & ((1 << 40) - 1)) + 1


def _term_bucket_parts(conn, th: int, lo: int, hi: int, top: int, descending: bool):
    """The buckets from ``lo`` to ``hi`` that may hold term ``th``, in the query's order (newest first when
    ``descending``), in parts: the summary's spans read top down, one index seek per span asked (a span's
    bits say which of its parts hold the term), plus the buckets after the summary. A span's children are
    read only when the query gets to it, so a query that has its page from the newest parts reads no
    more of the summary (a learner's page of 20 at 10M read the ~150 level-1 rows of its term, 1.5 ms of
    its 2.4, for the 21 newest buckets). A term no span holds costs a seek per root and no walk.

    The roots: the spans of the top level the summary holds whole, then those of each level below after
    them (at most 2**SPAN_BITS - 1 each, 2**SPAN_BITS while a span above them is part made), then the
    buckets after the summary (normally the at most 16 of the span filling). A window with more than
    MAX_ROOTS top-level spans or buckets after the summary (a row far past the data) asks SQL which of
    them hold rows."""
    def overlaps(level: int, n: int) -> bool:
        shift = SPAN_BITS * level
        return n << shift <= hi and ((n + 1) << shift) - 1 >= lo

    def read(keys: list[int]) -> dict[int, int]:
        return dict(conn.execute("SELECT span, bits FROM term_spans WHERE span IN (SELECT value FROM json_each(?)) "
                                 "AND term = ?", (orjson.dumps(keys).decode(), th)).fetchall()) if keys else {}

    def expand(key: int, bits: int):
        level, n = key >> 40, key & ((1 << 40) - 1)
        children = [(n << SPAN_BITS) | i for i in range(1 << SPAN_BITS)
                    if bits >> i & 1 and overlaps(level - 1, (n << SPAN_BITS) | i)]
        if descending:
            children.reverse()
        if level == 1:
            yield children
            return
        keys = [((level - 1) << 40) | c for c in children]
        found = read(keys)
        for k in keys:
            if k in found:
                yield from expand(k, found[k])

    done = _summarised(conn)  # level-1 spans
    part_made = dict(conn.execute("SELECT level, span FROM summary_pending"))
    groups = []  # the roots of each level, the top level's first: in seq order, as the levels are
    first = 0
    for level in range(SPAN_LEVELS, 0, -1):
        shift = SPAN_BITS * (level - 1)
        end = min(done >> shift, part_made.get(level, done))
        a, b = max(first, lo >> (shift + SPAN_BITS)), min(end - 1, hi >> (shift + SPAN_BITS))
        if b - a >= MAX_ROOTS:
            roots = _present(conn, "term_spans", (level << 40) | a, (level << 40) | b)
        else:
            roots = [(level << 40) | n for n in range(a, b + 1)]
        groups.append(roots[::-1] if descending else roots)
        first = end << SPAN_BITS
    a, b = max(first, lo), min(top >> BUCKET_BITS, hi)
    after = _present(conn, "statement_terms", a, b) if b - a >= MAX_ROOTS else list(range(a, b + 1))
    if descending:
        yield after[::-1]
        groups.reverse()
    # The roots are read a few at a time as the walk gets to them (the level-1 ones, at most 16, at once).
    for roots in groups:
        step = 1 << SPAN_BITS if roots and roots[0] >> 40 == 1 else ROOT_READS
        for i in range(0, len(roots), step):
            found = read(roots[i:i + step])
            for key in roots[i:i + step]:
                if key in found:
                    yield from expand(key, found[key])
    if not descending:
        yield after


def _summarise_span(conn, n: int) -> None:
    """The level-1 rows of span ``n`` (full): for each term its buckets' bits, from the term index in one
    statement (an index-ordered read of the span's rows, a sort of its distinct bucket-terms)."""
    first = n << SPAN_BITS
    conn.execute("INSERT INTO term_spans (span, term, bits) "
                 "SELECT ?, term, sum(1 << (bucket & ?)) FROM "
                 "(SELECT DISTINCT bucket, term FROM statement_terms WHERE bucket BETWEEN ? AND ?) "
                 "GROUP BY term ORDER BY term",
                 ((1 << 40) | n, (1 << SPAN_BITS) - 1, first, first + (1 << SPAN_BITS) - 1))


def _span_done(conn, level: int, n: int) -> None:
    """Span ``n`` of ``level`` is whole: if it completes its parent span, the parent is to be made from its
    2**SPAN_BITS children's rows, a slice of terms a write group (``_catch_up``). A parent of that level
    still part made is finished first (only a group of over a million Statements can get there)."""
    if level < SPAN_LEVELS and (n + 1) & ((1 << SPAN_BITS) - 1) == 0:
        row = conn.execute("SELECT span, next_term FROM summary_pending WHERE level = ?", (level + 1,)).fetchone()
        if row is not None:
            _make_span(conn, level + 1, row[0], row[1], _HASH_MAX)
        conn.execute("INSERT INTO summary_pending (level, span, next_term) VALUES (?, ?, ?)",
                     (level + 1, n >> SPAN_BITS, _HASH_MIN))



def _slice_end(lo: int) -> int:
    """The last hash of the slice of the hash space (CATCH_UP_SLICES of them) that holds ``lo``."""
    width = (1 << 64) // CATCH_UP_SLICES
    return min(_HASH_MAX, _HASH_MIN + ((lo - _HASH_MIN) // width + 1) * width - 1)


def _span_rows(conn, level: int, n: int, lo: int, hi: int) -> None:
    """Add to span ``n`` of ``level`` (2 or more) the rows of the terms from ``lo`` to ``hi`` that its
    children hold (a seek and a range read in each, one sorted insert)."""
    children = orjson.dumps([((level - 1) << 40) | (n << SPAN_BITS) | i for i in range(1 << SPAN_BITS)]).decode()
    conn.execute("INSERT INTO term_spans (span, term, bits) "
                 "SELECT ?, term, sum(1 << (span & ?)) FROM term_spans "
                 "WHERE span IN (SELECT value FROM json_each(?)) AND term BETWEEN ? AND ? "
                 "GROUP BY term ORDER BY term "
                 "ON CONFLICT (span, term) DO UPDATE SET bits = bits | excluded.bits",
                 ((level << 40) | n, (1 << SPAN_BITS) - 1, children, lo, hi))


def _make_span(conn, level: int, n: int, lo: int, hi: int) -> None:
    """The rows of span ``n`` of ``level`` (2 or more) for the terms from ``lo`` to ``hi``, from its
    children's rows (a seek and a range read in each); at ``hi`` = the last hash it is whole."""
    _span_rows(conn, level, n, lo, hi)
    if hi < _HASH_MAX:
        conn.execute("UPDATE summary_pending SET next_term = ? WHERE level = ?", (hi + 1, level))
    else:
        conn.execute("DELETE FROM summary_pending WHERE level = ?", (level,))
        _span_done(conn, level, n)


def _catch_up(conn, top: int) -> None:
    """One slice of each merge that is due: the lowest part-made summary span, and the id buckets of the
    level below the top whose top-level bucket is full (a seek each when nothing is due). Done in the
    write group's transaction, so a crash leaves each merge where its last slice left it: a lookup uses a
    span only once whole, and finds an id in whichever bucket holds it."""
    row = conn.execute("SELECT level, span, next_term FROM summary_pending ORDER BY level LIMIT 1").fetchone()
    if row is not None:
        _make_span(conn, row[0], row[1], row[2], _slice_end(row[2]))
    level = len(ID_LEVEL_BITS) - 1
    step = ID_LEVEL_BITS[level] - ID_LEVEL_BITS[level - 1]
    (first,) = conn.execute("SELECT min(bucket) FROM statement_ids WHERE bucket >= ? AND bucket < ?",
                            ((level - 1) << 40, level << 40)).fetchone()
    if first is None:
        return
    n = (first & ((1 << 40) - 1)) >> step
    if n >= top >> ID_LEVEL_BITS[level]:
        return  # the top-level bucket it goes to is not full yet
    children = orjson.dumps([((level - 1) << 40) | (n << step) | i for i in range(1 << step)]).decode()
    (lo,) = conn.execute("SELECT min((SELECT min(idh) FROM statement_ids WHERE bucket = value)) FROM json_each(?)",
                         (children,)).fetchone()
    _move_ids(conn, level, n, lo, _slice_end(lo))


def _summarise_all(conn, progress: bool = True) -> None:
    """Layout 3 -> 4 (and the tests' reference): the term summary of every full span, from the term index."""
    conn.execute("DELETE FROM term_spans")
    conn.execute("DELETE FROM summary_pending")
    _summarise_upto(conn, conn.execute("SELECT max(seq) FROM statements").fetchone()[0] or 0, progress)


def _summarise_upto(conn, top: int, progress: bool = False) -> None:
    """Bring the summary up to a store whose newest seq is ``top``: the full level-1 spans after those it
    holds that hold Statements, from the term index, then the spans above them now complete. Nothing to do
    when the writers summarised every span as it filled (one seek); after a seq gap (a row planted far
    ahead) the work is one seek per bucket that holds rows, never a step per empty bucket or span."""
    done, end = _summarised(conn), (top >> BUCKET_BITS) >> SPAN_BITS
    if done >= end:
        return
    present = _present(conn, "statement_terms", done << SPAN_BITS, (end << SPAN_BITS) - 1)
    spans = sorted({b >> SPAN_BITS for b in present})
    started = time.monotonic()
    for i, n in enumerate(spans):
        _summarise_span(conn, n)
        if progress and (i + 1) % 16 == 0:
            log.warning("term summary: %d of %d spans (%d Statements) in %.0f s", i + 1, len(spans),
                        (i + 1) << (SPAN_BITS + BUCKET_BITS), time.monotonic() - started)
    # A span of level L is complete once every span of level L-1 it covers is below ``end``: those with a
    # child made now, and the one whose earlier children were made before (it was filling).
    for level in range(2, SPAN_LEVELS + 1):
        below = SPAN_BITS * (level - 2)
        before, after = done >> (below + SPAN_BITS), end >> (below + SPAN_BITS)
        parents = {c >> SPAN_BITS for c in spans}
        if done >> below > before << SPAN_BITS:
            parents.add(before)
        spans = sorted(p for p in parents if before <= p < after)
        for p in spans:
            _span_rows(conn, level, p, _HASH_MIN, _HASH_MAX)
            conn.execute("DELETE FROM summary_pending WHERE level = ? AND span = ?", (level, p))


def _bucket_ids(conn) -> None:
    """Layout 2 -> 3: the unique index on ``statements.id`` gives way to ``statement_ids``.
    SQLite cannot drop a UNIQUE constraint, so the table is copied: about 2 minutes a million Statements."""
    conn.create_function("lrs_id_hash", 1, hash64, deterministic=True)
    conn.create_function("lrs_id_bucket", 2, _id_bucket, deterministic=True)
    for sql in [
            f"CREATE TABLE statements_new {STATEMENTS_COLUMNS}",
            "INSERT INTO statements_new (seq, id, stored, voided, is_voiding, ref, body) "
            "SELECT seq, id, stored, voided, is_voiding, ref, body FROM statements ORDER BY seq",
            "DROP TABLE statements",
            "ALTER TABLE statements_new RENAME TO statements",
            *SCHEMA.split(";"),
            "INSERT INTO statement_ids (bucket, idh, seq) SELECT lrs_id_bucket(seq, (SELECT max(seq) FROM statements)), "
            "lrs_id_hash(id), seq FROM statements ORDER BY 1, 2, 3"]:
        conn.execute(sql)


def _rebucket(conn) -> None:
    """Layout 1 -> 2: the term index had buckets of 65,536 statements; the rows are the same."""
    for sql in [
            "CREATE TABLE statement_terms_new (bucket INTEGER NOT NULL, term INTEGER NOT NULL, seq INTEGER NOT NULL, "
            "direct INTEGER NOT NULL, PRIMARY KEY (bucket, term, seq)) WITHOUT ROWID",
            f"INSERT INTO statement_terms_new SELECT seq >> {BUCKET_BITS}, term, seq, direct FROM statement_terms "
            f"ORDER BY seq >> {BUCKET_BITS}, term, seq",
            "DROP TABLE statement_terms",
            "ALTER TABLE statement_terms_new RENAME TO statement_terms"]:
        conn.execute(sql)


def _has(own: Terms, terms: list[tuple[str, bool]]) -> bool:
    return all(t in own and (own[t] or not direct) for t, direct in terms)


def _fill_uploads(conn) -> None:
    """The uploads of the attachments a store held before it recorded them (lrs/statements/attachments.py)."""
    stored = {sha for (sha,) in conn.execute("SELECT sha2 FROM attachments")}
    if stored:
        rows = (body for (body,) in conn.execute("SELECT body FROM statements WHERE instr(body, ?) > 0 ORDER BY seq",
                                                 (b'"attachments"',)))
        conn.executemany("INSERT OR IGNORE INTO uploads (sha2, authority) VALUES (?, ?)",
                         sorted(legacy_uploads(rows, stored)))


class _Deadline:
    """The deadline of the read a reader connection is running; its progress handler asks ``passed``."""
    __slots__ = ("at", "fired")

    def __init__(self):
        self.at = math.inf
        self.fired = False

    def arm(self, at: float) -> None:
        self.at = at
        self.fired = False

    def disarm(self) -> None:
        self.at = math.inf

    def passed(self) -> int:
        """Nonzero interrupts the running SQL (sqlite3 raises OperationalError "interrupted")."""
        if time.monotonic() > self.at:
            self.fired = True
            return 1
        return 0


class _Job:
    __slots__ = ("batch", "attachments", "define", "documents", "done", "error")

    def __init__(self, batch: list[NewStatement], attachments: dict, define: bool = True, documents=()):
        self.batch = batch
        self.attachments = attachments
        self.define = define
        self.documents = documents
        self.done = False
        self.error: BaseException | None = None


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]
