"""The account store on SQLite: ``web.sqlite3`` in the data folder, WAL mode, one writer at a time."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from .accounts import Account, Session

SCHEMA = """
CREATE TABLE IF NOT EXISTS web_accounts (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, person_id TEXT,
    disabled INTEGER NOT NULL, created TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS web_sessions (
    id TEXT PRIMARY KEY, username TEXT NOT NULL, expires REAL NOT NULL, created TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (username);
"""
_ACCOUNT = "username, role, password_hash, person_id, disabled, created"


def _account(row) -> Account:
    return Account(row[0], row[1], row[2], row[3], bool(row[4]), row[5])


class SqliteAccountStore:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _exec(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._conn.execute(sql, args)

    def add_account(self, account):
        try:
            self._exec(f"INSERT INTO web_accounts ({_ACCOUNT}) VALUES (?, ?, ?, ?, ?, ?)",
                       (account.username, account.role, account.password_hash, account.person_id,
                        int(account.disabled), account.created))
        except sqlite3.IntegrityError:
            return False
        return True

    def put_account(self, account):
        self._exec("UPDATE web_accounts SET role = ?, password_hash = ?, person_id = ?, disabled = ?, created = ? "
                   "WHERE username = ?", (account.role, account.password_hash, account.person_id,
                                          int(account.disabled), account.created, account.username))

    def account(self, username):
        row = self._exec(f"SELECT {_ACCOUNT} FROM web_accounts WHERE username = ?", (username,)).fetchone()
        return _account(row) if row else None

    def accounts(self):
        return [_account(r) for r in self._exec(f"SELECT {_ACCOUNT} FROM web_accounts ORDER BY username").fetchall()]

    def add_session(self, session):
        self._exec("INSERT INTO web_sessions (id, username, expires, created) VALUES (?, ?, ?, ?)",
                   (session.id, session.username, session.expires, session.created))

    def session(self, session_id):
        row = self._exec("SELECT id, username, expires, created FROM web_sessions WHERE id = ?", (session_id,)).fetchone()
        return Session(*row) if row else None

    def delete_session(self, session_id):
        self._exec("DELETE FROM web_sessions WHERE id = ?", (session_id,))

    def delete_sessions(self, username):
        return self._exec("DELETE FROM web_sessions WHERE username = ?", (username,)).rowcount
