"""The outbox store on SQLite: tables ``outbox_*`` in the rules' file (rules.sqlite3), next to the rules
store's tables, written through a connection of its own (``BEGIN IMMEDIATE`` serialises the two)."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

import orjson

from .outbox import DELIVERED, FAILED, Delivery, Endpoint, Reminder, page

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox_cursors (name TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_reminders (
    id TEXT PRIMARY KEY, person_id TEXT NOT NULL, body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_reminders_person ON outbox_reminders (person_id, id);
CREATE TABLE IF NOT EXISTS outbox_endpoints (id TEXT PRIMARY KEY, body BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox_deliveries (
    id TEXT PRIMARY KEY, state TEXT NOT NULL, next_at REAL NOT NULL, claimed_until REAL NOT NULL,
    body BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS outbox_deliveries_due ON outbox_deliveries (state, next_at);
"""


def _reminder(body) -> Reminder:
    return Reminder(**orjson.loads(body))


def _endpoint(body) -> Endpoint:
    d = orjson.loads(body)
    return Endpoint(**{**d, "kinds": tuple(d["kinds"])})


def _delivery(row) -> Delivery:
    d = orjson.loads(row[4])
    return Delivery(**{**d, "state": row[1], "next_at": row[2], "claimed_until": row[3],
                       "log": tuple(d.get("log", ()))})


def _delivery_row(d: Delivery) -> tuple:
    body = {k: v for k, v in d.__dict__.items() if k not in ("state", "next_at", "claimed_until")}
    body["log"] = list(d.log)
    return (d.id, d.state, d.next_at, d.claimed_until, orjson.dumps(body))


class SqliteOutboxStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        with self._write() as conn:
            for sql in SCHEMA.split(";"):
                if sql.strip():
                    conn.execute(sql)

    @contextlib.contextmanager
    def _write(self):
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _rows(self, sql, args=()):
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._conn.close()

    # -- cursors -------------------------------------------------------------------------

    def cursor(self, name):
        rows = self._rows("SELECT body FROM outbox_cursors WHERE name = ?", (name,))
        return orjson.loads(rows[0][0]) if rows else {}

    def set_cursor(self, name, value):
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO outbox_cursors VALUES (?, ?)", (name, orjson.dumps(value)))

    # -- reminders -----------------------------------------------------------------------

    def add_reminders(self, reminders):
        out = []
        with self._write() as conn:
            for r in reminders:
                cur = conn.execute("INSERT OR IGNORE INTO outbox_reminders VALUES (?, ?, ?)",
                                   (r.id, r.person_id, orjson.dumps(r.__dict__)))
                if cur.rowcount:
                    out.append(r)
        return out

    def reminder(self, reminder_id):
        rows = self._rows("SELECT body FROM outbox_reminders WHERE id = ?", (reminder_id,))
        return _reminder(rows[0][0]) if rows else None

    def reminders(self, person_id=None, after=None, limit=1000):
        sql, args = "SELECT body FROM outbox_reminders WHERE id > ?", [after or ""]
        if person_id is not None:
            sql += " AND person_id = ?"
            args.append(person_id)
        return [_reminder(r[0]) for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, page(limit)))]

    # -- endpoints -----------------------------------------------------------------------

    def put_endpoint(self, endpoint):
        body = {**endpoint.__dict__, "kinds": list(endpoint.kinds)}
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO outbox_endpoints VALUES (?, ?)", (endpoint.id, orjson.dumps(body)))

    def endpoint(self, endpoint_id):
        rows = self._rows("SELECT body FROM outbox_endpoints WHERE id = ?", (endpoint_id,))
        return _endpoint(rows[0][0]) if rows else None

    def endpoints(self):
        return [_endpoint(r[0]) for r in self._rows("SELECT body FROM outbox_endpoints ORDER BY id")]

    def delete_endpoint(self, endpoint_id):
        with self._write() as conn:
            return conn.execute("DELETE FROM outbox_endpoints WHERE id = ?", (endpoint_id,)).rowcount > 0

    # -- deliveries ----------------------------------------------------------------------

    def add_deliveries(self, deliveries):
        stored = 0
        with self._write() as conn:
            for d in deliveries:
                stored += conn.execute("INSERT OR IGNORE INTO outbox_deliveries VALUES (?, ?, ?, ?, ?)",
                                       _delivery_row(d)).rowcount
        return stored

    _DELIVERY = "SELECT id, state, next_at, claimed_until, body FROM outbox_deliveries"

    def claim_deliveries(self, now, until, limit=100):
        with self._write() as conn:
            rows = conn.execute(self._DELIVERY + " WHERE state NOT IN (?, ?) AND next_at <= ? AND claimed_until <= ? "
                                "ORDER BY next_at, id LIMIT ?", (DELIVERED, FAILED, now, now, page(limit))).fetchall()
            conn.executemany("UPDATE outbox_deliveries SET claimed_until = ? WHERE id = ?", [(until, r[0]) for r in rows])
        return [_delivery(r[:3] + (until,) + r[4:]) for r in rows]

    def finish_delivery(self, delivery):
        row = _delivery_row(delivery)
        with self._write() as conn:
            conn.execute("UPDATE outbox_deliveries SET state = ?, next_at = ?, claimed_until = 0, body = ? WHERE id = ?",
                         (row[1], row[2], row[4], row[0]))

    def deliveries(self, states=None, after=None, limit=1000):
        sql, args = self._DELIVERY + " WHERE id > ?", [after or ""]
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            args += list(states)
        return [_delivery(r) for r in self._rows(sql + " ORDER BY id LIMIT ?", (*args, page(limit)))]


__all__ = ["SqliteOutboxStore"]
