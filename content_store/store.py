"""Courses, their versions and their files: sqlite (WAL) for the records, and a
content-addressed folder for the bytes.

Layout under the store's root (``<data_dir>/content``)::

    content.sqlite3      courses, versions, files (path -> blob) and blobs
    blobs/ab/abcdef...   each distinct file once, named by its sha256
    tmp/                 uploads and extractions in progress; emptied on failure

A version is added in one ``BEGIN IMMEDIATE`` transaction that also moves its new blobs
into place, so a failed import leaves neither rows nor blobs behind, and concurrent
importers (threads or worker processes) never see each other's half-done work. Versions
are never changed once written; retiring a course only marks it.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import orjson

SCHEMA = """
CREATE TABLE IF NOT EXISTS courses (
    id          TEXT PRIMARY KEY,
    identifier  TEXT NOT NULL UNIQUE,
    format      TEXT NOT NULL,
    title       TEXT,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL,
    retired     TEXT
);
CREATE TABLE IF NOT EXISTS versions (
    course_id       TEXT NOT NULL REFERENCES courses(id),
    version         INTEGER NOT NULL,
    format          TEXT NOT NULL,
    edition         TEXT,
    title           TEXT,
    created         TEXT NOT NULL,
    package_sha256  TEXT NOT NULL,
    package_bytes   INTEGER NOT NULL,
    file_count      INTEGER NOT NULL,
    content_bytes   INTEGER NOT NULL,
    structure       BLOB NOT NULL,
    report          BLOB NOT NULL,
    PRIMARY KEY (course_id, version)
);
CREATE TABLE IF NOT EXISTS blobs (
    sha256   TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    created  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    course_id  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    path       TEXT NOT NULL,
    sha256     TEXT NOT NULL REFERENCES blobs(sha256),
    PRIMARY KEY (course_id, version, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_nocase ON files (course_id, version, lower(path));
"""

_VERSION_COLUMNS = ("version, format, edition, title, created, package_sha256, package_bytes, "
                    "file_count, content_bytes")


def _storable(version) -> bool:
    """A version number SQLite can compare (its integers are 64-bit; larger ones raise OverflowError)."""
    return isinstance(version, int) and 0 < version < 2**63


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def course_id_for(identifier: str) -> str:
    """The stable id a course has in URLs: derived from its package identifier."""
    return hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class StagedFile:
    """An extracted file waiting in ``tmp/`` for its version to be committed."""

    path: str
    sha256: str
    size: int
    staged: Path


@dataclass(frozen=True)
class StoredFile:
    """A file of a version, as the server sends it."""

    path: str
    blob: Path
    sha256: str
    size: int
    modified: float


class ContentStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.blobs = self.root / "blobs"
        self.tmp = self.root / "tmp"
        for folder in (self.root, self.blobs, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "content.sqlite3"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._file_cache: dict[tuple[str, int, str], StoredFile] = {}
        conn = self._conn()
        conn.executescript(SCHEMA)
        self._sweep_tmp()

    # -- connections --------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.db_path, isolation_level=None, timeout=30,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    # -- temporary space ----------------------------------------------------------------

    def temp_path(self, suffix: str = "") -> Path:
        """A fresh path in ``tmp/`` (on the blobs' file system, so blobs move in by rename)."""
        return self.tmp / f"{uuid.uuid4().hex}{suffix}"

    def _sweep_tmp(self, older_than: float = 3600) -> None:
        """Remove what a crashed import left in ``tmp/`` (only old entries: another worker
        process may be importing right now)."""
        limit = time.time() - older_than
        for entry in self.tmp.iterdir():
            try:
                if entry.stat().st_mtime < limit:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            except OSError:
                pass

    # -- writing ------------------------------------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.blobs / sha256[:2] / sha256

    def find_identical(self, identifier: str, package_sha256: str) -> tuple[dict, dict] | None:
        """The latest version of the course, when it was made from this very zip."""
        conn = self._conn()
        row = conn.execute(
            "SELECT c.id, v.version, v.package_sha256 FROM courses c JOIN versions v ON v.course_id = c.id "
            "WHERE c.identifier = ? ORDER BY v.version DESC LIMIT 1", (identifier,)).fetchone()
        if row is None or row["package_sha256"] != package_sha256:
            return None
        return self.course(row["id"]), self.version(row["id"], row["version"])

    def add_version(self, model: dict, report: dict, files: list[StagedFile], package_sha256: str,
                    package_bytes: int) -> tuple[dict, dict]:
        """Store a new version of the course ``model["identifier"]``; return (course, version)."""
        identifier = model["identifier"]
        course_id = course_id_for(identifier)
        now = utc_now()
        conn = self._conn()
        moved: list[Path] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            known = conn.execute("SELECT id FROM courses WHERE identifier = ?", (identifier,)).fetchone()
            if known is None:
                conn.execute("INSERT INTO courses (id, identifier, format, title, created, updated) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (course_id, identifier, model["format"], model.get("title"), now, now))
            else:
                conn.execute("UPDATE courses SET format = ?, title = ?, updated = ?, retired = NULL "
                             "WHERE id = ?", (model["format"], model.get("title"), now, course_id))
            version = conn.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE course_id = ?",
                                   (course_id,)).fetchone()[0]
            stamp = time.time()
            for f in files:
                blob = self.blob_path(f.sha256)
                if not blob.exists():
                    blob.parent.mkdir(exist_ok=True)
                    os.replace(f.staged, blob)
                    moved.append(blob)
            conn.executemany("INSERT OR IGNORE INTO blobs (sha256, size, created) VALUES (?, ?, ?)",
                             [(f.sha256, f.size, stamp) for f in files])
            conn.executemany("INSERT INTO files (course_id, version, path, sha256) VALUES (?, ?, ?, ?)",
                             [(course_id, version, f.path, f.sha256) for f in files])
            conn.execute(
                f"INSERT INTO versions (course_id, {_VERSION_COLUMNS}, structure, report) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (course_id, version, model["format"], model.get("edition"), model.get("title"), now,
                 package_sha256, package_bytes, len(files), sum(f.size for f in files),
                 orjson.dumps(model), orjson.dumps(report)))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            for blob in moved:
                blob.unlink(missing_ok=True)
            raise
        return self.course(course_id), self.version(course_id, version)

    def retire(self, course_id: str) -> dict | None:
        conn = self._conn()
        conn.execute("UPDATE courses SET retired = ? WHERE id = ? AND retired IS NULL", (utc_now(), course_id))
        return self.course(course_id)

    # -- reading ------------------------------------------------------------------------

    def courses(self, include_retired: bool = False) -> list[dict]:
        sql = ("SELECT c.*, MAX(v.version) AS latest_version, COUNT(v.version) AS version_count "
               "FROM courses c LEFT JOIN versions v ON v.course_id = c.id ")
        if not include_retired:
            sql += "WHERE c.retired IS NULL "
        sql += "GROUP BY c.id ORDER BY c.updated DESC, c.id"
        return [dict(row) for row in self._conn().execute(sql)]

    def course(self, course_id: str) -> dict | None:
        conn = self._conn()
        row = conn.execute("SELECT * FROM courses WHERE id = ?", (course_id,)).fetchone()
        if row is None:
            return None
        course = dict(row)
        versions = conn.execute(
            f"SELECT {_VERSION_COLUMNS}, report FROM versions WHERE course_id = ? ORDER BY version",
            (course_id,)).fetchall()
        course["versions"] = []
        for v in versions:
            entry = {k: v[k] for k in v.keys() if k != "report"}
            report = orjson.loads(v["report"])
            entry["warnings"] = len(report.get("warnings", []))
            course["versions"].append(entry)
        course["latest_version"] = versions[-1]["version"] if versions else None
        return course

    def version(self, course_id: str, version: int) -> dict | None:
        if not _storable(version):
            return None
        row = self._conn().execute(
            f"SELECT course_id, {_VERSION_COLUMNS}, structure, report FROM versions "
            "WHERE course_id = ? AND version = ?", (course_id, version)).fetchone()
        if row is None:
            return None
        out = dict(row)
        out["structure"] = orjson.loads(row["structure"])
        out["report"] = orjson.loads(row["report"])
        return out

    def cached_file(self, course_id: str, version: int, path: str) -> StoredFile | None:
        """A file already looked up once: answered without touching the database."""
        return self._file_cache.get((course_id, version, path))

    def file(self, course_id: str, version: int, path: str) -> StoredFile | None:
        """A file of a version: by exact path, else by path ignoring case (Windows-made content
        often gets the case of its links wrong). Versions never change, so hits are cached."""
        key = (course_id, version, path)
        hit = self._file_cache.get(key)
        if hit is not None:
            return hit
        if not _storable(version):
            return None
        conn = self._conn()
        sql = ("SELECT f.path, f.sha256, b.size, b.created FROM files f JOIN blobs b ON b.sha256 = f.sha256 "
               "WHERE f.course_id = ? AND f.version = ? AND ")
        row = conn.execute(sql + "f.path = ?", (course_id, version, path)).fetchone()
        if row is None:
            row = conn.execute(sql + "lower(f.path) = lower(?) ORDER BY f.path LIMIT 1",
                               (course_id, version, path)).fetchone()
        if row is None:
            return None
        found = StoredFile(row["path"], self.blob_path(row["sha256"]), row["sha256"], row["size"],
                           row["created"])
        if len(self._file_cache) > 10_000:
            self._file_cache.clear()
        self._file_cache[key] = found
        return found

    def file_count(self, course_id: str, version: int) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM files WHERE course_id = ? AND version = ?",
                                    (course_id, version)).fetchone()[0]

    def blob_count(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
