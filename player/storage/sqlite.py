"""The player's embedded store: the standard library's sqlite3 in its own file, ``player.sqlite3``.

All SQL of this adapter is in this file. WAL mode and ``synchronous=FULL``: a commit the store
answered survives a power cut. Writes go through one connection under a lock, each in a
``BEGIN IMMEDIATE`` transaction, which also serialises them with other processes' writers on the
same file: a read-then-write (the current registration, the next attempt number, the next commit)
sees no other writer in between. Reads use a connection per thread.

Tables: ``registrations`` (by id), ``current_registrations`` (learner key, course) -> registration id,
whose primary key is the unique constraint that gives each learner one current registration per
course; ``attempts`` (registration, SCO, number), ``tokens`` (id, expiry).
"""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable

import orjson

from .ports import (PAGE_LIMIT, Applied, Attempt, NotFound, Registration, RegistrationConflict, SequencingState,
                    changed, check_objectives, check_seq, check_sequencing, decide, learner_key, page_limit, registration_id_text, timestamp, utc_now)

LAYOUT = 1  # PRAGMA user_version of the layout this code reads and writes

SCHEMA = """
CREATE TABLE registrations (
    id          TEXT PRIMARY KEY,
    learner_key TEXT NOT NULL,
    learner     BLOB NOT NULL,
    course_id   TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);
CREATE INDEX registrations_learner ON registrations (learner_key, course_id, id);
CREATE INDEX registrations_course ON registrations (course_id, id);
CREATE TABLE current_registrations (
    learner_key     TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    registration_id TEXT NOT NULL,
    PRIMARY KEY (learner_key, course_id)
) WITHOUT ROWID;
CREATE TABLE attempts (
    registration_id   TEXT NOT NULL,
    sco_id            TEXT NOT NULL,
    number            INTEGER NOT NULL,
    started           TEXT NOT NULL,
    updated           TEXT NOT NULL,
    data              BLOB NOT NULL,
    applied_seq       INTEGER NOT NULL,
    completion_status TEXT,
    success_status    TEXT,
    score_scaled      REAL,
    total_time        TEXT,
    ended             INTEGER NOT NULL,
    PRIMARY KEY (registration_id, sco_id, number)
) WITHOUT ROWID;
CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX tokens_expiry ON tokens (expires_at);
"""

# Added to layout 1 without changing it: created when missing, on any store this code opens.
SEQUENCING_SCHEMA = """
CREATE TABLE IF NOT EXISTS sequencing_states (
    registration_id TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL,
    state           TEXT NOT NULL,
    rollup          BLOB NOT NULL,
    updated         TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS global_objectives (
    learner_key  TEXT NOT NULL,
    objective_id TEXT NOT NULL,
    entry        BLOB NOT NULL,
    updated      TEXT NOT NULL,
    PRIMARY KEY (learner_key, objective_id)
) WITHOUT ROWID;
"""

_REGISTRATION = "SELECT id, learner, learner_key, course_id, version, created, updated FROM registrations"
_ATTEMPT = ("SELECT registration_id, sco_id, number, started, updated, data, applied_seq, completion_status, "
            "success_status, score_scaled, total_time, ended FROM attempts")
_CURRENT_ATTEMPT = _ATTEMPT + " WHERE registration_id = ? AND sco_id = ? ORDER BY number DESC LIMIT 1"


def _registration(row) -> Registration:
    return Registration(row[0], orjson.loads(row[1]), *row[2:])


def _attempt(row) -> Attempt:
    return Attempt(*row[:5], orjson.loads(row[5]), *row[6:11], bool(row[11]))


class SqlitePlayerStore:
    def __init__(self, path: Path | str, clock: Callable[[], datetime] = utc_now):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.Lock()        # the writer connection
        self._pool_lock = threading.Lock()   # the list of connections
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._writer = self._connect()
        self._create_schema()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        self._connections.append(conn)
        return conn

    def _create_schema(self) -> None:
        with self._write() as conn:
            layout = conn.execute("PRAGMA user_version").fetchone()[0]
            if layout == 0:
                for sql in SCHEMA.split(";"):
                    conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {LAYOUT}")
            elif layout != LAYOUT:
                raise RuntimeError(f"the player store at {self.path} has layout {layout}; "
                                   f"this version reads layout {LAYOUT}")
            for sql in SEQUENCING_SCHEMA.split(";"):
                if sql.strip():
                    conn.execute(sql)

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._pool_lock:
                conn = self._local.conn = self._connect()
        return conn

    @contextlib.contextmanager
    def _write(self):
        """One write transaction on the writer connection: committed when the block ends, rolled back
        if it raises (nothing half-applied)."""
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def _now(self) -> str:
        return timestamp(self.clock())

    def close(self) -> None:
        with self._lock, self._pool_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()

    # -- registrations -------------------------------------------------------------------

    def registration_for(self, learner: dict, course_id: str, latest_version: int) -> Registration:
        key = learner_key(learner)
        with self._write() as conn:
            row = conn.execute(_REGISTRATION + " WHERE id = (SELECT registration_id FROM current_registrations "
                               "WHERE learner_key = ? AND course_id = ?)", (key, course_id)).fetchone()
            if row:
                return _registration(row)
            return self._insert_registration(conn, learner, key, course_id, latest_version, str(uuid.uuid4()))

    def new_registration(self, learner: dict, course_id: str, version: int,
                         registration_id: str | None = None) -> Registration:
        key = learner_key(learner)
        rid = registration_id_text(registration_id) if registration_id is not None else str(uuid.uuid4())
        with self._write() as conn:
            row = conn.execute(_REGISTRATION + " WHERE id = ?", (rid,)).fetchone()
            if row:
                found = _registration(row)
                if (found.learner_key, found.course_id) != (key, course_id):
                    raise RegistrationConflict(rid, f"registration {rid} belongs to another learner or course")
                return found
            return self._insert_registration(conn, learner, key, course_id, version, rid)

    def _insert_registration(self, conn, learner, key, course_id, version, rid) -> Registration:
        now = self._now()
        reg = Registration(rid, learner, key, course_id, int(version), now, now)
        conn.execute("INSERT INTO registrations (id, learner, learner_key, course_id, version, created, updated) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (rid, orjson.dumps(learner), key, course_id, reg.version, now, now))
        conn.execute("INSERT OR REPLACE INTO current_registrations (learner_key, course_id, registration_id) "
                     "VALUES (?, ?, ?)", (key, course_id, rid))
        return reg

    def close_registration(self, registration_id: str) -> bool:
        rid = registration_id_text(registration_id)
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM registrations WHERE id = ?", (rid,)).fetchone():
                raise NotFound(f"no registration {rid}")
            return conn.execute("DELETE FROM current_registrations WHERE registration_id = ?",
                                (rid,)).rowcount > 0

    def get_registration(self, registration_id: str) -> Registration | None:
        try:
            rid = registration_id_text(registration_id)
        except ValueError:
            return None
        row = self._reader().execute(_REGISTRATION + " WHERE id = ?", (rid,)).fetchone()
        return _registration(row) if row else None

    def registrations(self, learner_key: str | None = None, course_id: str | None = None,
                      limit: int = PAGE_LIMIT, after: str | None = None) -> list[Registration]:
        where, args = [], []
        if learner_key is not None:
            where.append("learner_key = ?")
            args.append(learner_key)
        if course_id is not None:
            where.append("course_id = ?")
            args.append(course_id)
        if after is not None:
            where.append("id > ?")
            args.append(after)
        sql = _REGISTRATION + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id LIMIT ?"
        return [_registration(r) for r in self._reader().execute(sql, (*args, page_limit(limit)))]

    # -- attempts ------------------------------------------------------------------------

    def current_attempt(self, registration_id: str, sco_id: str) -> Attempt | None:
        row = self._reader().execute(_CURRENT_ATTEMPT, (registration_id, sco_id)).fetchone()
        return _attempt(row) if row else None

    def start_attempt(self, registration_id: str, sco_id: str) -> Attempt:
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM registrations WHERE id = ?", (registration_id,)).fetchone():
                raise NotFound(f"no registration {registration_id}")
            row = conn.execute(_CURRENT_ATTEMPT, (registration_id, sco_id)).fetchone()
            if row and not row[11]:
                return _attempt(row)
            now = self._now()
            attempt = Attempt(registration_id, sco_id, row[2] + 1 if row else 1, now, now)
            self._store_attempt(conn, "INSERT", attempt)
            return attempt

    def attempts(self, registration_id: str) -> list[Attempt]:
        return [_attempt(r) for r in self._reader().execute(
            _ATTEMPT + " WHERE registration_id = ? ORDER BY sco_id, number", (registration_id,))]

    def apply_commit(self, registration_id: str, sco_id: str, attempt_number: int, seq: int,
                     change: Callable[[Attempt], Attempt]) -> Applied:
        check_seq(seq)
        with self._write() as conn:
            row = conn.execute(_ATTEMPT + " WHERE registration_id = ? AND sco_id = ? AND number = ?",
                               (registration_id, sco_id, attempt_number)).fetchone()
            if row is None:
                raise NotFound(f"no attempt {attempt_number} of SCO {sco_id!r} in registration {registration_id}")
            current = _attempt(row)
            if not decide(current, seq):
                return Applied(current, True)
            new = changed(current, change(current), seq, self._now())
            self._store_attempt(conn, "REPLACE", new)
            return Applied(new, False)

    @staticmethod
    def _store_attempt(conn, verb: str, a: Attempt) -> None:
        conn.execute(f"{verb} INTO attempts (registration_id, sco_id, number, started, updated, data, applied_seq, "
                     "completion_status, success_status, score_scaled, total_time, ended) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (a.registration_id, a.sco_id, a.number, a.started, a.updated, orjson.dumps(a.data),
                      a.applied_seq, a.completion_status, a.success_status, a.score_scaled, a.total_time,
                      int(a.ended)))

    # -- sequencing ----------------------------------------------------------------------

    def sequencing_state(self, registration_id: str) -> SequencingState | None:
        row = self._reader().execute("SELECT registration_id, seq, state, rollup, updated FROM sequencing_states "
                                     "WHERE registration_id = ?", (registration_id,)).fetchone()
        return SequencingState(row[0], row[1], row[2], orjson.loads(row[3]), row[4]) if row else None

    def save_sequencing_state(self, registration_id: str, seq: int, state: str,
                              rollup: dict) -> tuple[SequencingState, bool]:
        check_sequencing(seq, state, rollup)
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM registrations WHERE id = ?", (registration_id,)).fetchone():
                raise NotFound(f"no registration {registration_id}")
            row = conn.execute("SELECT registration_id, seq, state, rollup, updated FROM sequencing_states "
                               "WHERE registration_id = ?", (registration_id,)).fetchone()
            if row and row[1] >= seq:
                return SequencingState(row[0], row[1], row[2], orjson.loads(row[3]), row[4]), False
            saved = SequencingState(registration_id, seq, state, dict(rollup), self._now())
            conn.execute("REPLACE INTO sequencing_states (registration_id, seq, state, rollup, updated) "
                         "VALUES (?, ?, ?, ?, ?)", (registration_id, seq, state, orjson.dumps(saved.rollup),
                                                    saved.updated))
            return saved, True

    def global_objectives(self, learner_key: str) -> dict[str, dict]:
        return {r[0]: orjson.loads(r[1]) for r in self._reader().execute(
            "SELECT objective_id, entry FROM global_objectives WHERE learner_key = ? ORDER BY objective_id",
            (learner_key,))}

    def save_global_objectives(self, learner_key: str, objectives: dict[str, dict]) -> None:
        check_objectives(objectives)
        now = self._now()
        with self._write() as conn:
            conn.executemany("REPLACE INTO global_objectives (learner_key, objective_id, entry, updated) "
                             "VALUES (?, ?, ?, ?)",
                             [(learner_key, k, orjson.dumps(v), now) for k, v in objectives.items()])

    # -- launch tokens -------------------------------------------------------------------

    def consume_token(self, token_id: str, expires_at: float) -> bool:
        with self._write() as conn:
            return conn.execute("INSERT OR IGNORE INTO tokens (id, expires_at) VALUES (?, ?)",
                                (token_id, float(expires_at))).rowcount == 1

    def purge_tokens(self, now: float) -> int:
        with self._write() as conn:
            return conn.execute("DELETE FROM tokens WHERE expires_at < ?", (float(now),)).rowcount
