"""The rules' embedded store: the standard library's sqlite3 in its own file, ``rules.sqlite3``.

All SQL of this adapter is in this file. WAL mode and ``synchronous=FULL``; writes go through one
connection under a lock, each in a ``BEGIN IMMEDIATE`` transaction (which also serialises them
with other processes on the same file); reads use a connection per thread.
"""
from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import threading
import uuid
from datetime import datetime
from pathlib import Path
from typing import Callable

import orjson

from ..chain import link
from .ports import (GENESIS, PAGE_LIMIT, Action, DefinitionVersion, Fact, HistoryEvent, LeaseLost, PersonVersion,
                    Publication, Record, page_limit, timestamp, utc_now)

LAYOUT = 1

SCHEMA = """
CREATE TABLE people (
    person_id TEXT NOT NULL, version INTEGER NOT NULL, since TEXT NOT NULL, identities BLOB NOT NULL,
    agents BLOB NOT NULL, attributes BLOB NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (person_id, version)) WITHOUT ROWID;
CREATE TABLE identities (identity TEXT PRIMARY KEY, person_id TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE definitions (
    kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, body BLOB NOT NULL,
    created TEXT NOT NULL, who TEXT NOT NULL, why TEXT NOT NULL,
    PRIMARY KEY (kind, id, version)) WITHOUT ROWID;
CREATE TABLE publications (
    n INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL,
    at TEXT NOT NULL, who TEXT NOT NULL, why TEXT NOT NULL);
CREATE TABLE facts (
    seq INTEGER PRIMARY KEY, statement_id TEXT NOT NULL, agent_key TEXT NOT NULL, activity_id TEXT NOT NULL,
    verb TEXT NOT NULL, timestamp TEXT NOT NULL, success INTEGER, completion INTEGER, scaled REAL,
    registration TEXT);
CREATE INDEX facts_agent ON facts (agent_key);
CREATE TABLE voids (voided_id TEXT PRIMARY KEY, by_id TEXT NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE actions (
    id TEXT PRIMARY KEY, person_id TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL, body BLOB NOT NULL,
    reason TEXT NOT NULL, who TEXT NOT NULL, recorded TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX actions_person ON actions (person_id, recorded);
CREATE TABLE lease (term INTEGER PRIMARY KEY, holder TEXT NOT NULL, until REAL NOT NULL);
CREATE TABLE checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), body BLOB NOT NULL);
CREATE TABLE dirty (person_id TEXT PRIMARY KEY, stamp TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE records (
    person_id TEXT NOT NULL, certification TEXT NOT NULL, status TEXT NOT NULL, expires TEXT,
    next_change TEXT, site TEXT, roles BLOB NOT NULL, body BLOB NOT NULL,
    PRIMARY KEY (certification, person_id)) WITHOUT ROWID;
CREATE INDEX records_person ON records (person_id);
CREATE INDEX records_next ON records (next_change);
CREATE TABLE history (
    n INTEGER PRIMARY KEY, prev TEXT NOT NULL, hash TEXT NOT NULL, person_id TEXT, certification TEXT,
    body BLOB NOT NULL);
CREATE INDEX history_person ON history (person_id, certification, n);
CREATE INDEX history_certification ON history (certification, n);
"""
# Added after layout 1 (made at start-up on a store of that layout too; they change no answer):
# ``record_counts``, how many records there are per (certification, status, site, roles), kept by
# triggers on ``records`` (what the compliance report and the dashboard add up, without reading 100,000s
# of records; ``site_key`` is the site, or '' for none, as a key); an index of the records by status and
# expiry (what expires by a day); an index of the people by supervisor (a supervisor's team).
_SITE_KEY = "CASE WHEN {0}.site IS NULL THEN '' ELSE 's' || {0}.site END"
_COUNT_IN = ("INSERT INTO record_counts VALUES (new.certification, new.status, " + _SITE_KEY.format("new")
             + ", new.site, new.roles, 1) ON CONFLICT DO UPDATE SET n = n + 1;")
_COUNT_OUT = ("UPDATE record_counts SET n = n - 1 WHERE certification = old.certification AND status = old.status "
              "AND site_key = " + _SITE_KEY.format("old") + " AND roles = old.roles; "
              "DELETE FROM record_counts WHERE n <= 0;")
COUNTS_TABLE = """CREATE TABLE record_counts (
    certification TEXT NOT NULL, status TEXT NOT NULL, site_key TEXT NOT NULL, site TEXT, roles BLOB NOT NULL,
    n INTEGER NOT NULL, PRIMARY KEY (certification, status, site_key, roles)) WITHOUT ROWID"""
COUNTS_FILL = ("INSERT INTO record_counts SELECT certification, status, " + _SITE_KEY.format("records")
               + ", site, roles, COUNT(*) FROM records GROUP BY certification, status, site, roles")
ADDED = [
    "CREATE INDEX IF NOT EXISTS records_expiring ON records (status, expires, certification, site, roles)",
    "CREATE INDEX IF NOT EXISTS people_supervisor ON people (json_extract(CAST(attributes AS TEXT), '$.supervisor'))",
    f"CREATE TRIGGER IF NOT EXISTS records_counted_in AFTER INSERT ON records BEGIN {_COUNT_IN} END",
    f"CREATE TRIGGER IF NOT EXISTS records_counted_out AFTER DELETE ON records BEGIN {_COUNT_OUT} END",
    "CREATE TRIGGER IF NOT EXISTS records_counted_again AFTER UPDATE OF status, site, roles ON records "
    "WHEN old.status IS NOT new.status OR old.site IS NOT new.site OR old.roles IS NOT new.roles "
    f"BEGIN {_COUNT_OUT} {_COUNT_IN} END",
]

_PERSON = "SELECT person_id, version, since, identities, agents, attributes, source FROM people"
_DEF = "SELECT kind, id, version, body, created, who, why FROM definitions"
_FACT = ("SELECT f.statement_id, f.seq, f.agent_key, f.activity_id, f.verb, f.timestamp, f.success, f.completion, "
         "f.scaled, f.registration FROM facts f")
_ACTION = "SELECT id, person_id, kind, target, body, reason, who, recorded FROM actions"
_HISTORY = "SELECT n, prev, hash, body FROM history"


def _person(row) -> PersonVersion:
    return PersonVersion(row[0], row[1], row[2], tuple(orjson.loads(row[3])), tuple(orjson.loads(row[4])),
                         orjson.loads(row[5]), row[6])


def _definition(row) -> DefinitionVersion:
    return DefinitionVersion(row[0], row[1], row[2], orjson.loads(row[3]), *row[4:])


def _bool(v):
    return None if v is None else bool(v)


_FACT_FIELDS = tuple(f.name for f in dataclasses.fields(Fact))
_new = object.__new__


def _fact(row) -> Fact:
    # what Fact(*row) gives (with 0/1 as booleans), without the frozen dataclass's __init__, which
    # sets each field through object.__setattr__: a person's derivation reads all their facts
    f = _new(Fact)
    d = f.__dict__
    d.update(zip(_FACT_FIELDS, row))
    if row[6] is not None:
        d["success"] = bool(row[6])
    if row[7] is not None:
        d["completion"] = bool(row[7])
    return f


def _action(row) -> Action:
    return Action(row[0], row[1], row[2], row[3], orjson.loads(row[4]), *row[5:])


def _event(row) -> HistoryEvent:
    return HistoryEvent(row[0], row[1], row[2], orjson.loads(row[3]))


def record_body(r: Record) -> bytes:
    return orjson.dumps({"earned": r.earned, "valid_from": r.valid_from, "due": r.due,
                         "definition_version": r.definition_version, "evidence": r.evidence,
                         "timeline": r.timeline, "updated": r.updated})


def record_from(person_id, certification, status, expires, next_change, site, roles, body) -> Record:
    b = orjson.loads(body) if isinstance(body, (bytes, str)) else body
    return Record(person_id, certification, status, b["earned"], b["valid_from"], expires, b["due"], next_change,
                  b["definition_version"], b["evidence"], site, tuple(orjson.loads(roles) if isinstance(roles, bytes) else roles),
                  tuple(tuple(t) for t in b["timeline"]), b["updated"])


class SqliteRulesStore:
    def __init__(self, path: Path | str, clock: Callable[[], datetime] = utc_now):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self._lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._writer = self._connect()
        with self._write() as conn:
            layout = conn.execute("PRAGMA user_version").fetchone()[0]
            if layout == 0:
                for sql in SCHEMA.split(";"):
                    if sql.strip():
                        conn.execute(sql)
                conn.execute(f"PRAGMA user_version = {LAYOUT}")
            elif layout != LAYOUT:
                raise RuntimeError(f"the rules store at {self.path} has layout {layout}; this code reads layout {LAYOUT}")
            if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'record_counts'").fetchone():
                conn.execute(COUNTS_TABLE)
                conn.execute(COUNTS_FILL)
            for sql in ADDED:
                conn.execute(sql)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=30000")
        with self._pool_lock:
            self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _write(self):
        with self._lock:
            conn = self._writer
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _read(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    def close(self) -> None:
        with self._pool_lock:
            for conn in self._connections:
                with contextlib.suppress(Exception):
                    conn.close()
            self._connections.clear()

    def _now(self) -> str:
        return timestamp(self.clock())

    # -- people --------------------------------------------------------------------------

    def put_person(self, person_id, agents, identities, attributes, source):
        identities = sorted(set(identities))
        with self._write() as conn:
            row = conn.execute(_PERSON + " WHERE person_id = ? ORDER BY version DESC LIMIT 1", (person_id,)).fetchone()
            current = _person(row) if row else None
            if current and list(current.identities) == identities and current.attributes == attributes:
                return None
            for identity in identities:
                owner = conn.execute("SELECT person_id FROM identities WHERE identity = ?", (identity,)).fetchone()
                if owner and owner[0] != person_id:
                    raise ValueError(f"the identity {identity} belongs to person {owner[0]}")
            if current:
                conn.execute("DELETE FROM identities WHERE person_id = ?", (person_id,))
            conn.executemany("INSERT INTO identities VALUES (?, ?)", [(i, person_id) for i in identities])
            version = PersonVersion(person_id, current.version + 1 if current else 1, self._now(), tuple(identities),
                                    tuple(agents), attributes, source)
            conn.execute("INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (person_id, version.version, version.since, orjson.dumps(identities), orjson.dumps(agents),
                          orjson.dumps(attributes), source))
            return version

    def person(self, person_id):
        return [_person(r) for r in self._read().execute(_PERSON + " WHERE person_id = ? ORDER BY version", (person_id,))]

    def people(self, after=None, limit=PAGE_LIMIT):
        rows = self._read().execute(
            _PERSON + " p WHERE person_id > ? AND version = (SELECT max(version) FROM people q "
            "WHERE q.person_id = p.person_id) ORDER BY person_id LIMIT ?", (after or "", page_limit(limit))).fetchall()
        return [_person(r) for r in rows]

    def persons(self, person_ids):
        out: dict[str, list[PersonVersion]] = {}
        conn = self._read()
        for chunk in _chunks(list(person_ids)):
            q = _PERSON + f" WHERE person_id IN ({','.join('?' * len(chunk))}) ORDER BY person_id, version"
            for r in conn.execute(q, chunk):
                out.setdefault(r[0], []).append(_person(r))
        return out

    def people_versions(self):
        return self._read().execute("SELECT count(*) FROM people").fetchone()[0]

    def supervised_by(self, person_id):
        return [r[0] for r in self._read().execute(
            "SELECT person_id FROM people p WHERE json_extract(CAST(attributes AS TEXT), '$.supervisor') = ? "
            "AND version = (SELECT max(version) FROM people q WHERE q.person_id = p.person_id) ORDER BY person_id",
            (person_id,))]

    def persons_for(self, identities):
        out = {}
        conn = self._read()
        for chunk in _chunks(list(identities)):
            q = f"SELECT identity, person_id FROM identities WHERE identity IN ({','.join('?' * len(chunk))})"
            out.update(conn.execute(q, chunk).fetchall())
        return out

    # -- definitions ---------------------------------------------------------------------

    def save_definition(self, kind, def_id, body, who, why):
        with self._write() as conn:
            top = conn.execute("SELECT max(version) FROM definitions WHERE kind = ? AND id = ?", (kind, def_id)).fetchone()[0]
            d = DefinitionVersion(kind, def_id, (top or 0) + 1, body, self._now(), who, why)
            conn.execute("INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (kind, def_id, d.version, orjson.dumps(body), d.created, who, why))
            return d

    def definition(self, kind, def_id, version=None):
        if version is None:
            row = self._read().execute(_DEF + " WHERE kind = ? AND id = ? ORDER BY version DESC LIMIT 1",
                                       (kind, def_id)).fetchone()
        else:
            row = self._read().execute(_DEF + " WHERE kind = ? AND id = ? AND version = ?",
                                       (kind, def_id, version)).fetchone()
        return _definition(row) if row else None

    def definition_versions(self, kind=None):
        if kind is None:
            rows = self._read().execute(_DEF + " ORDER BY kind, id, version")
        else:
            rows = self._read().execute(_DEF + " WHERE kind = ? ORDER BY id, version", (kind,))
        return [_definition(r) for r in rows]

    def publish(self, kind, def_id, version, who, why):
        with self._write() as conn:
            if not conn.execute("SELECT 1 FROM definitions WHERE kind = ? AND id = ? AND version = ?",
                                (kind, def_id, version)).fetchone():
                raise KeyError(f"no version {version} of {kind} {def_id!r}")
            n = (conn.execute("SELECT max(n) FROM publications").fetchone()[0] or 0) + 1
            p = Publication(n, kind, def_id, version, self._now(), who, why)
            conn.execute("INSERT INTO publications VALUES (?, ?, ?, ?, ?, ?, ?)", (n, kind, def_id, version, p.at, who, why))
            return p

    def publications(self):
        return [Publication(*r) for r in self._read().execute(
            "SELECT n, kind, id, version, at, who, why FROM publications ORDER BY n")]

    # -- facts ---------------------------------------------------------------------------

    def add_facts(self, facts, voids):
        if not facts and not voids:
            return
        with self._write() as conn:
            conn.executemany("INSERT OR IGNORE INTO facts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(f.seq, f.statement_id, f.agent_key, f.activity_id, f.verb, f.timestamp,
                               f.success, f.completion, f.scaled, f.registration) for f in facts])
            conn.executemany("INSERT OR IGNORE INTO voids VALUES (?, ?, ?)", [(v.voided_id, v.by_id, v.seq) for v in voids])

    def facts_for(self, identities, activities=None):
        out = []
        conn = self._read()
        if activities is not None and not activities:
            return out
        on = [] if activities is None else sorted(set(activities))
        where = f" AND f.activity_id IN (SELECT value FROM json_each(?))" if on else ""
        for chunk in _chunks(list(identities)):
            q = (_FACT + f" WHERE f.agent_key IN ({','.join('?' * len(chunk))}){where} AND NOT EXISTS "
                 "(SELECT 1 FROM voids v WHERE v.voided_id = f.statement_id)")
            out.extend(_fact(r) for r in conn.execute(q, [*chunk, *([orjson.dumps(on).decode()] if on else [])]))
        out.sort(key=lambda f: f.seq)
        return out

    # -- actions -------------------------------------------------------------------------

    def add_action(self, action):
        with self._write() as conn:
            conn.execute("INSERT INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         (action.id, action.person_id, action.kind, action.target, orjson.dumps(action.body),
                          action.reason, action.who, action.recorded))

    def actions_for(self, person_id):
        return [_action(r) for r in self._read().execute(_ACTION + " WHERE person_id = ? ORDER BY recorded, id",
                                                         (person_id,))]

    def actions_of(self, person_ids):
        out: dict[str, list[Action]] = {}
        conn = self._read()
        for chunk in _chunks(list(person_ids)):
            q = _ACTION + f" WHERE person_id IN ({','.join('?' * len(chunk))}) ORDER BY person_id, recorded, id"
            for r in conn.execute(q, chunk):
                out.setdefault(r[1], []).append(_action(r))
        return out

    # -- engine --------------------------------------------------------------------------

    def take_lease(self, holder, now, seconds):
        with self._write() as conn:
            row = conn.execute("SELECT term, holder, until FROM lease ORDER BY term DESC LIMIT 1").fetchone()
            if row and row[1] != holder and row[2] > now:
                return False
            term = (row[0] if row else 0) + 1
            conn.execute("INSERT INTO lease VALUES (?, ?, ?)", (term, holder, now + seconds))
            conn.execute("DELETE FROM lease WHERE term < ?", (term - 10,))
            return True

    def release_lease(self, holder, now):
        with self._write() as conn:
            row = conn.execute("SELECT term, holder FROM lease ORDER BY term DESC LIMIT 1").fetchone()
            if row and row[1] == holder:
                conn.execute("INSERT INTO lease VALUES (?, ?, ?)", (row[0] + 1, "", 0.0))

    def checkpoint(self):
        row = self._read().execute("SELECT body FROM checkpoint WHERE id = 1").fetchone()
        return orjson.loads(row[0]) if row else {}

    def set_checkpoint(self, checkpoint):
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO checkpoint VALUES (1, ?)", (orjson.dumps(checkpoint),))

    def mark_dirty(self, person_ids):
        with self._write() as conn:
            conn.executemany("INSERT OR REPLACE INTO dirty VALUES (?, ?)", [(p, uuid.uuid4().hex) for p in person_ids])

    def dirty(self, limit=PAGE_LIMIT, after=None):
        return [tuple(r) for r in self._read().execute(
            "SELECT person_id, stamp FROM dirty WHERE person_id > ? ORDER BY person_id LIMIT ?",
            (after or "", page_limit(limit)))]

    def clear_dirty(self, marks):
        if marks:
            with self._write() as conn:
                conn.executemany("DELETE FROM dirty WHERE person_id = ? AND stamp = ?", marks)

    # -- records -------------------------------------------------------------------------

    def put_records(self, records):
        if not records:
            return
        with self._write() as conn:
            # an upsert, not INSERT OR REPLACE: the replace's delete would not fire the counting triggers
            conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (certification, person_id) "
                             "DO UPDATE SET status = excluded.status, expires = excluded.expires, "
                             "next_change = excluded.next_change, site = excluded.site, roles = excluded.roles, "
                             "body = excluded.body",
                             [(r.person_id, r.certification, r.status, r.expires, r.next_change, r.site,
                               orjson.dumps(list(r.roles)), record_body(r)) for r in records])

    _REC = "SELECT person_id, certification, status, expires, next_change, site, roles, body FROM records"

    def records_for(self, person_id):
        return [record_from(*r) for r in self._read().execute(self._REC + " WHERE person_id = ? ORDER BY certification",
                                                              (person_id,))]

    def roster(self, certification, status=None, site=None, role=None, expires_by=None, after=None, limit=PAGE_LIMIT,
               people=None):
        where, args = self._roster_where(certification, status, site, expires_by, after, people)
        out = []
        for row in self._read().execute(self._REC + where, args):
            rec = record_from(*row)
            if role is None or role in rec.roles:
                out.append(rec)
                if len(out) >= page_limit(limit):
                    break
        return out

    def roster_table(self, certification, status=None, site=None, role=None, expires_by=None, people=None):
        where, args = self._roster_where(certification, status, site, expires_by, None, people)
        out, loads = [], orjson.loads
        for pid, st, expires, site_of, roles, body in self._read().execute(
                "SELECT person_id, status, expires, site, roles, body FROM records" + where, args):
            roles = loads(roles)
            if role is None or role in roles:
                b = loads(body)
                out.append((pid, st, b["earned"], b["valid_from"], expires, b["due"], site_of, tuple(roles),
                            b["definition_version"], tuple(b["evidence"].get("statements", ()))))
        return out

    @staticmethod
    def _roster_where(certification, status, site, expires_by, after, people) -> tuple[str, list]:
        sql, args = " WHERE certification = ? AND person_id > ?", [certification, after or ""]
        if people is not None:
            sql += " AND person_id IN (SELECT value FROM json_each(?))"
            args.append(orjson.dumps(list(people)).decode())
        if status:
            sql += f" AND status IN ({','.join('?' * len(status))})"
            args += list(status)
        if site is not None:
            sql += " AND site = ?"
            args.append(site)
        if expires_by is not None:
            sql += " AND expires IS NOT NULL AND expires <= ?"
            args.append(expires_by)
        return sql + " ORDER BY person_id", args

    def status_counts(self, certification):
        rows = self._read().execute("SELECT status, site, roles, COUNT(*) FROM records WHERE certification = ? "
                                    "GROUP BY status, site, roles", (certification,))
        return [(status, site, tuple(orjson.loads(roles)), n) for status, site, roles, n in rows]

    def count_records(self, expires_by=(), people=None, expiring=None):
        conn, days = self._read(), list(expires_by)
        if people is None:   # the counts the triggers keep, and a range of the expiry index a status
            groups = {(c, st, site, roles): [n, [0] * len(days)] for c, st, site, roles, n in conn.execute(
                "SELECT certification, status, site, roles, n FROM record_counts")}
            if days:
                statuses = sorted({k[1] for k in groups} if expiring is None else expiring)
                sums = "".join(", SUM(expires <= ?)" for _ in days)
                for c, st, site, roles, *within in conn.execute(
                        f"SELECT certification, status, site, roles{sums} FROM records INDEXED BY records_expiring "
                        f"WHERE status IN ({','.join('?' * len(statuses))}) AND expires <= ? "
                        "GROUP BY certification, status, site, roles", [*days, *statuses, max(days)]):
                    groups[(c, st, site, roles)][1] = within
            return [(c, st, site, tuple(orjson.loads(roles)), n, tuple(within))
                    for (c, st, site, roles), (n, within) in groups.items()]
        sums = "".join(", SUM(expires IS NOT NULL AND expires <= ?)" for _ in days)
        sql = (f"SELECT certification, status, site, roles, COUNT(*){sums} FROM records "
               "WHERE person_id IN (SELECT value FROM json_each(?)) GROUP BY certification, status, site, roles")
        return [(c, st, site, tuple(orjson.loads(roles)), n,
                 tuple(rest) if expiring is None or st in expiring else (0,) * len(days))
                for c, st, site, roles, n, *rest in conn.execute(sql, [*days, orjson.dumps(list(people)).decode()])]

    def due_people(self, day, limit=PAGE_LIMIT):
        return [r[0] for r in self._read().execute(
            "SELECT DISTINCT person_id FROM records WHERE next_change IS NOT NULL AND next_change <= ? LIMIT ?",
            (day, page_limit(limit)))]

    # -- history -------------------------------------------------------------------------

    def append_history(self, bodies, holder=None, after=None):
        if not bodies:
            return []
        with self._write() as conn:
            if holder is not None:
                row = conn.execute("SELECT holder FROM lease ORDER BY term DESC LIMIT 1").fetchone()
                if not row or row[0] != holder:
                    raise LeaseLost(f"{holder} no longer holds the rules engine's lease")
            row = conn.execute("SELECT n, hash FROM history ORDER BY n DESC LIMIT 1").fetchone()
            n, prev = (row[0], row[1]) if row else (-1, GENESIS)
            if after is not None and n != after:
                raise LeaseLost(f"the history has event {n}, not {after}: another process appended since")
            out, rows = [], []
            for body in bodies:
                n += 1
                h = link(prev, body)
                out.append(HistoryEvent(n, prev, h, body))
                rows.append((n, prev, h, body.get("person"), body.get("certification"), orjson.dumps(body)))
                prev = h
            conn.executemany("INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)", rows)
            return out

    def history(self, after=-1, limit=PAGE_LIMIT):
        return [_event(r) for r in self._read().execute(_HISTORY + " WHERE n > ? ORDER BY n LIMIT ?",
                                                        (after, page_limit(limit)))]

    def history_for(self, person_id, certification=None):
        if certification is None:
            rows = self._read().execute(_HISTORY + " WHERE person_id = ? ORDER BY n", (person_id,))
        else:
            rows = self._read().execute(_HISTORY + " WHERE person_id = ? AND certification = ? ORDER BY n",
                                        (person_id, certification))
        return [_event(r) for r in rows]

    def history_of(self, certification):
        return [_event(r) for r in self._read().execute(_HISTORY + " WHERE certification = ? ORDER BY n", (certification,))]

    def chain_head(self):
        row = self._read().execute("SELECT n, hash FROM history ORDER BY n DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (-1, GENESIS)


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


__all__ = ["SqliteRulesStore", "LeaseLost"]
