"""The embedded store: the standard library's sqlite3 in WAL mode, one writer, readers in parallel.

All SQL of this adapter is in this file. Statements are found through ``statement_terms``
(term id, seq): one row per filter value a query can ask for (see lrs/statements/terms.py),
including the values a Statement inherits from the Statement it targets (StatementRef).
"""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Callable, Iterable

import orjson

from ..statements.forms import now_timestamp, same_statement
from ..statements.terms import statement_terms
from .ports import Conflict, Document, NewStatement, StatementQuery

SCHEMA = """
CREATE TABLE IF NOT EXISTS statements (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    stored TEXT NOT NULL,
    voided INTEGER NOT NULL DEFAULT 0,
    is_voiding INTEGER NOT NULL DEFAULT 0,
    ref TEXT,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS statements_stored ON statements(stored);
CREATE INDEX IF NOT EXISTS statements_ref ON statements(ref) WHERE ref IS NOT NULL;
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS statement_terms (
    term INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (term, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS attachments (sha2 TEXT PRIMARY KEY, content_type TEXT NOT NULL, content BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS activities (id TEXT PRIMARY KEY, definition BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    kind TEXT NOT NULL, activity_id TEXT NOT NULL, agent_key TEXT NOT NULL, registration TEXT NOT NULL,
    doc_id TEXT NOT NULL, content BLOB NOT NULL, content_type TEXT NOT NULL, etag TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (kind, activity_id, agent_key, registration, doc_id));
CREATE TABLE IF NOT EXISTS credentials (
    key TEXT PRIMARY KEY, secret_hash TEXT NOT NULL, scopes TEXT NOT NULL, authority TEXT NOT NULL,
    created TEXT NOT NULL);
"""

# Most selective first: the first term drives the index walk, the others are point probes.
_TERM_ORDER = {"r": 0, "o": 1, "a": 2, "ro": 3, "ra": 4, "v": 5}
_CHUNK = 500


class SqliteStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._writer = self._connect()
        self._writer.executescript(SCHEMA)
        self._term_ids: dict[str, int] = {}
        self._activity_seen: dict[str, bytes] = {}
        self._all: list[sqlite3.Connection] = [self._writer]

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
            conn.execute("PRAGMA query_only=1")
            self._all.append(conn)
        return conn

    def close(self) -> None:
        for conn in self._all:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._all = []

    # -- statements -----------------------------------------------------------------------

    def insert(self, batch: list[NewStatement], attachments: dict[str, tuple[str, bytes]]) -> list[str]:
        ids = [n.statement["id"] for n in batch]
        with self._write_lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            new_terms: dict[str, int] = {}
            try:
                existing = self._bodies(conn, ids)
                fresh = []
                for n in batch:
                    old = existing.get(n.statement["id"])
                    if old is None:
                        fresh.append(n)
                    elif not same_statement(orjson.loads(old), n.statement):
                        raise Conflict(n.statement["id"])
                if fresh:
                    self._insert_fresh(conn, fresh, new_terms)
                if attachments:
                    conn.executemany("INSERT OR IGNORE INTO attachments (sha2, content_type, content) VALUES (?, ?, ?)",
                                     [(sha, ct, data) for sha, (ct, data) in attachments.items()])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            self._term_ids.update(new_terms)
        return ids

    def _insert_fresh(self, conn, fresh: list[NewStatement], new_terms: dict[str, int]) -> None:
        row = conn.execute("SELECT seq, stored FROM statements ORDER BY seq DESC LIMIT 1").fetchone()
        base = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'statements'").fetchone()
        base = base[0] if base else 0
        stored = now_timestamp()
        if row and row[1] > stored:  # keep stored non-decreasing with seq, whatever the clock does
            stored = row[1]
        voided_targets = self._voided_targets(conn, [n.statement["id"] for n in fresh])
        rows = []
        for i, n in enumerate(fresh):
            st = n.statement
            st["stored"] = stored
            st.setdefault("timestamp", stored)
            voided = 1 if (n.voids is None and st["id"] in voided_targets) else 0
            rows.append((base + i + 1, st["id"], stored, voided, 1 if n.voids else 0, n.ref, orjson.dumps(st)))
        conn.executemany("INSERT INTO statements (seq, id, stored, voided, is_voiding, ref, body) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        voids = [(n.voids,) for n in fresh if n.voids]
        if voids:
            conn.executemany("UPDATE statements SET voided = 1 WHERE id = ? AND is_voiding = 0", voids)
        pairs: list[tuple[str, int]] = []
        by_id = {n.statement["id"]: n for n in fresh}
        full: dict[str, set[str]] = {}
        for i, n in enumerate(fresh):
            terms = self._full_terms(conn, n.statement["id"], n.statement, full, by_id)
            seq = base + i + 1
            pairs.extend((t, seq) for t in terms)
        # Statements stored earlier that target one of these now match what it matches.
        targets = [sid for sid in by_id]
        for chunk in _chunks(targets):
            q = f"SELECT seq, id, ref FROM statements WHERE ref IN ({','.join('?' * len(chunk))})"
            for seq, rid, ref in conn.execute(q, chunk).fetchall():
                if rid in by_id:
                    continue
                inherited = full[ref]
                pairs.extend((t, seq) for t in inherited)
                pairs.extend(self._propagate(conn, rid, inherited, depth=1))
        conn.executemany("INSERT OR IGNORE INTO statement_terms (term, seq) VALUES (?, ?)",
                         [(self._term_id(conn, t, new_terms), seq) for t, seq in pairs])
        self._merge_activities(conn, [n.statement for n in fresh])

    def _full_terms(self, conn, sid: str, st: dict | None, memo: dict, by_id: dict, depth: int = 0) -> set[str]:
        """A Statement's own terms and, through StatementRef, those of its target, recursively."""
        if sid in memo:
            return memo[sid]
        if st is None:
            if sid in by_id:
                st = by_id[sid].statement
            else:
                row = conn.execute("SELECT body FROM statements WHERE id = ?", (sid,)).fetchone()
                if row is None:
                    return set()
                st = orjson.loads(row[0])
        memo[sid] = terms = statement_terms(st)
        obj = st["object"]
        if obj.get("objectType") == "StatementRef" and depth < 32:
            terms |= self._full_terms(conn, obj["id"].lower(), None, memo, by_id, depth + 1)
        return terms

    def _propagate(self, conn, sid: str, terms: set[str], depth: int) -> list[tuple[str, int]]:
        if depth > 32:
            return []
        out = []
        for seq, rid in conn.execute("SELECT seq, id FROM statements WHERE ref = ?", (sid,)).fetchall():
            out.extend((t, seq) for t in terms)
            out.extend(self._propagate(conn, rid, terms, depth + 1))
        return out

    def _voided_targets(self, conn, ids: list[str]) -> set[str]:
        found = set()
        for chunk in _chunks(ids):
            q = f"SELECT ref FROM statements WHERE is_voiding = 1 AND ref IN ({','.join('?' * len(chunk))})"
            found.update(r[0] for r in conn.execute(q, chunk))
        return found

    def _term_id(self, conn, term: str, new_terms: dict[str, int]) -> int:
        tid = self._term_ids.get(term) or new_terms.get(term)
        if tid is None:
            conn.execute("INSERT OR IGNORE INTO terms (term) VALUES (?)", (term,))
            tid = conn.execute("SELECT id FROM terms WHERE term = ?", (term,)).fetchone()[0]
            new_terms[term] = tid
        return tid

    def _merge_activities(self, conn, statements: list[dict]) -> None:
        for st in statements:
            for act in _activities(st):
                definition = act.get("definition")
                if not definition:
                    continue
                raw = orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)
                if self._activity_seen.get(act["id"]) == raw:
                    continue
                row = conn.execute("SELECT definition FROM activities WHERE id = ?", (act["id"],)).fetchone()
                merged = merge_definition(orjson.loads(row[0]) if row else {}, definition)
                conn.execute("INSERT OR REPLACE INTO activities (id, definition) VALUES (?, ?)",
                             (act["id"], orjson.dumps(merged)))
                self._activity_seen[act["id"]] = raw
                if len(self._activity_seen) > 100_000:
                    self._activity_seen.clear()

    def _bodies(self, conn, ids: list[str]) -> dict[str, bytes]:
        out = {}
        for chunk in _chunks(ids):
            q = f"SELECT id, body FROM statements WHERE id IN ({','.join('?' * len(chunk))})"
            out.update(conn.execute(q, chunk).fetchall())
        return out

    def voiding_ids(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` that are stored voiding Statements."""
        conn = self._reader()
        out = set()
        for chunk in _chunks(ids):
            q = f"SELECT id FROM statements WHERE is_voiding = 1 AND id IN ({','.join('?' * len(chunk))})"
            out.update(r[0] for r in conn.execute(q, chunk))
        return out

    def get(self, statement_id: str, voided: bool) -> bytes | None:
        row = self._reader().execute("SELECT body, voided FROM statements WHERE id = ?",
                                     (statement_id.lower(),)).fetchone()
        if row is None or bool(row[1]) != voided:
            return None
        return row[0]

    def last_seq(self) -> int:
        row = self._reader().execute("SELECT max(seq) FROM statements").fetchone()
        return row[0] or 0

    def query(self, q: StatementQuery) -> tuple[list[tuple[int, bytes]], bool]:
        conn = self._reader()
        params: list = []
        where = ["s.voided = 0"]
        if q.terms:
            ids = []
            for term in sorted(q.terms, key=lambda t: _TERM_ORDER.get(t.split(":", 1)[0], 9)):
                tid = self._term_ids.get(term)
                if tid is None:
                    row = conn.execute("SELECT id FROM terms WHERE term = ?", (term,)).fetchone()
                    if row is None:
                        return [], False
                    tid = row[0]
                ids.append(tid)
            sql = "SELECT s.seq, s.body FROM statement_terms t0 "
            for i in range(1, len(ids)):
                sql += f"JOIN statement_terms t{i} ON t{i}.term = ? AND t{i}.seq = t0.seq "
            sql += "JOIN statements s ON s.seq = t0.seq "
            params.extend(ids[1:])
            where.insert(0, "t0.term = ?")
            params.insert(len(ids) - 1, ids[0])
            col = "t0.seq"
        else:
            sql = "SELECT s.seq, s.body FROM statements s "
            col = "s.seq"
        lo, hi = self._seq_bounds(conn, q)
        if lo is not None:
            where.append(f"{col} >= ?")
            params.append(lo)
        if hi is not None:
            where.append(f"{col} <= ?")
            params.append(hi)
        order = "ASC" if q.ascending else "DESC"
        sql += "WHERE " + " AND ".join(where) + f" ORDER BY {col} {order} LIMIT ?"
        params.append(q.limit + 1)
        rows = conn.execute(sql, params).fetchall()
        more = len(rows) > q.limit
        return rows[: q.limit], more

    def _seq_bounds(self, conn, q: StatementQuery) -> tuple[int | None, int | None]:
        lo = hi = None
        if q.since:
            row = conn.execute("SELECT seq FROM statements WHERE stored > ? ORDER BY stored, seq LIMIT 1",
                               (q.since,)).fetchone()
            lo = row[0] if row else (1 << 62)
        if q.until:
            row = conn.execute("SELECT seq FROM statements WHERE stored <= ? ORDER BY stored DESC, seq DESC LIMIT 1",
                               (q.until,)).fetchone()
            hi = row[0] if row else 0
        if q.max_seq is not None:
            hi = q.max_seq if hi is None else min(hi, q.max_seq)
        if q.after_seq is not None:
            if q.ascending:
                lo = q.after_seq + 1 if lo is None else max(lo, q.after_seq + 1)
            else:
                hi = q.after_seq - 1 if hi is None else min(hi, q.after_seq - 1)
        return lo, hi

    def stream(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        return self._reader().execute("SELECT seq, body FROM statements WHERE seq > ? ORDER BY seq LIMIT ?",
                                      (after_seq, limit)).fetchall()

    def attachment(self, sha2: str) -> tuple[str, bytes] | None:
        row = self._reader().execute("SELECT content_type, content FROM attachments WHERE sha2 = ?",
                                     (sha2,)).fetchone()
        return (row[0], row[1]) if row else None

    def activity(self, activity_id: str) -> dict | None:
        row = self._reader().execute("SELECT definition FROM activities WHERE id = ?", (activity_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def activities(self, ids: Iterable[str]) -> dict[str, dict]:
        ids = list(ids)
        out = {}
        conn = self._reader()
        for chunk in _chunks(ids):
            q = f"SELECT id, definition FROM activities WHERE id IN ({','.join('?' * len(chunk))})"
            out.update((i, orjson.loads(d)) for i, d in conn.execute(q, chunk))
        return out

    def activity_known(self, activity_id: str) -> bool:
        conn = self._reader()
        if conn.execute("SELECT 1 FROM activities WHERE id = ?", (activity_id,)).fetchone():
            return True
        return conn.execute("SELECT 1 FROM terms WHERE term = ?", ("ro:" + activity_id,)).fetchone() is not None

    # -- documents -----------------------------------------------------------------------

    def get_document(self, kind: str, scope: tuple[str, str, str], doc_id: str) -> Document | None:
        row = self._reader().execute(
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
                row = conn.execute(
                    "SELECT content, content_type, etag, updated FROM documents WHERE kind = ? AND activity_id = ? "
                    "AND agent_key = ? AND registration = ? AND doc_id = ?", key).fetchone()
                new = change(Document(*row) if row else None)
                if new is None:
                    conn.execute("DELETE FROM documents WHERE kind = ? AND activity_id = ? AND agent_key = ? "
                                 "AND registration = ? AND doc_id = ?", key)
                else:
                    conn.execute("INSERT OR REPLACE INTO documents (kind, activity_id, agent_key, registration, "
                                 "doc_id, content, content_type, etag, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (*key, new.content, new.content_type, new.etag, new.updated))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return new

    def document_ids(self, kind: str, scope: tuple[str, str, str], since: str | None) -> list[str]:
        sql = ("SELECT doc_id FROM documents WHERE kind = ? AND activity_id = ? AND agent_key = ? "
               "AND registration = ?")
        params = [kind, *scope]
        if since:
            sql += " AND updated > ?"
            params.append(since)
        return [r[0] for r in self._reader().execute(sql + " ORDER BY doc_id", params)]

    def delete_documents(self, kind: str, scope: tuple[str, str, str]) -> int:
        sql = "DELETE FROM documents WHERE kind = ? AND activity_id = ? AND agent_key = ?"
        params = [kind, scope[0], scope[1]]
        if scope[2]:
            sql += " AND registration = ?"
            params.append(scope[2])
        with self._write_lock:
            return self._writer.execute(sql, params).rowcount

    # -- credentials ---------------------------------------------------------------------

    def credentials(self) -> list[dict]:
        rows = self._reader().execute("SELECT key, secret_hash, scopes, authority, created FROM credentials "
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


def _chunks(items: list, size: int = _CHUNK):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _activities(st: dict):
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        yield obj
    elif kind == "SubStatement":
        yield from _activities(obj)
    ctx = st.get("context") or {}
    for acts in (ctx.get("contextActivities") or {}).values():
        yield from (acts if isinstance(acts, list) else (acts,))


def merge_definition(old: dict, new: dict) -> dict:
    """The canonical definition: the newest value of each property, language maps merged."""
    out = dict(old)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out
