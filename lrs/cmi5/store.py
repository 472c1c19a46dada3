"""The cmi5 store: registrations (one learner on one cmi5 course, with its course tree and what each
AU has reached) and AU sessions. A port and two adapters (SQLite here, mongo in mongo.py) passing the
same contract tests (tests/lrs/test_cmi5_store_contract.py).

Records are JSON objects with a ``rev`` (1, 2, ...): ``put_*`` with ``expected_rev`` stores the record
only if the stored one still has that revision (0: only if there is none), so two writers of one
session or registration never lose each other's change; the loser reads again and retries.
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

import orjson

ACTIVE = ("launched", "initialized")   # session states in which the AU may still send statements


class Cmi5Store(Protocol):
    def close(self) -> None: ...
    def get_registration(self, registration_id: str) -> dict | None: ...
    def put_registration(self, record: dict, expected_rev: int) -> bool:
        """Store ``record`` (its ``id`` and the other fields) with rev ``expected_rev + 1`` if the stored
        one has rev ``expected_rev`` (0: none stored); True if stored."""
    def get_session(self, session_id: str) -> dict | None: ...
    def put_session(self, record: dict, expected_rev: int) -> bool:
        """As ``put_registration``, for a session (fields ``id``, ``registration``, ``state``, ``last``)."""
    def active_sessions(self, registration_id: str) -> list[dict]:
        """The sessions of the registration whose state is launched or initialized."""
    def stale_sessions(self, before: float, limit: int = 100) -> list[dict]:
        """Active sessions whose last activity (``last``, Unix seconds) is before ``before``."""


class SqliteCmi5Store:
    """The embedded adapter: ``cmi5.sqlite3`` (WAL; one writing connection under a lock)."""

    def __init__(self, path: Path | str):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS cmi5_registrations (id TEXT PRIMARY KEY, rev INTEGER NOT NULL,
                                                           data BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS cmi5_sessions (id TEXT PRIMARY KEY, rev INTEGER NOT NULL,
                registration TEXT NOT NULL, active INTEGER NOT NULL, last REAL NOT NULL, data BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS cmi5_sessions_registration ON cmi5_sessions (registration, active);
            CREATE INDEX IF NOT EXISTS cmi5_sessions_stale ON cmi5_sessions (active, last);
        """)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, args) -> dict | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        return orjson.loads(row[0]) if row else None

    def _put(self, table: str, record: dict, expected_rev: int, extra: dict) -> bool:
        record = {**record, "rev": expected_rev + 1}
        cols = ["id", "rev", *extra, "data"]
        vals = [record["id"], record["rev"], *extra.values(), orjson.dumps(record)]
        with self._lock:
            if expected_rev == 0:
                cur = self._db.execute(f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) "
                                       f"VALUES ({', '.join('?' * len(cols))})", vals)
            else:
                sets = ", ".join(f"{c} = ?" for c in cols[1:])
                cur = self._db.execute(f"UPDATE {table} SET {sets} WHERE id = ? AND rev = ?",
                                       [*vals[1:], record["id"], expected_rev])
        return cur.rowcount == 1

    def get_registration(self, registration_id: str) -> dict | None:
        return self._one("SELECT data FROM cmi5_registrations WHERE id = ?", (registration_id,))

    def put_registration(self, record: dict, expected_rev: int) -> bool:
        return self._put("cmi5_registrations", record, expected_rev, {})

    def get_session(self, session_id: str) -> dict | None:
        return self._one("SELECT data FROM cmi5_sessions WHERE id = ?", (session_id,))

    def put_session(self, record: dict, expected_rev: int) -> bool:
        return self._put("cmi5_sessions", record, expected_rev,
                         {"registration": record["registration"], "active": int(record["state"] in ACTIVE),
                          "last": float(record["last"])})

    def active_sessions(self, registration_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM cmi5_sessions WHERE registration = ? AND active = 1",
                                    (registration_id,)).fetchall()
        return [orjson.loads(r[0]) for r in rows]

    def stale_sessions(self, before: float, limit: int = 100) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM cmi5_sessions WHERE active = 1 AND last < ? LIMIT ?",
                                    (before, limit)).fetchall()
        return [orjson.loads(r[0]) for r in rows]


def open_cmi5_store(data_dir: Path | str, mongodb_url: str = "") -> Cmi5Store:
    """The mongo adapter when a MongoDB URL is configured (collections ``cmi5_*``), else ``cmi5.sqlite3``
    in ``data_dir``."""
    if mongodb_url:
        from .mongo import MongoCmi5Store

        return MongoCmi5Store(mongodb_url)
    return SqliteCmi5Store(Path(data_dir) / "cmi5.sqlite3")
