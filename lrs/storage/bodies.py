"""Statement bodies as the SQLite store keeps them: the JSON itself, or a zstd frame compressed with a
dictionary of the store (table ``body_dicts``).

xAPI Statements repeat their keys, verbs, IRIs and extensions from one to the next, so a dictionary
trained on a store's own Statements makes each body several times smaller (bench/RESULTS.md: about 9
times on the bench's Statements, 2-3 µs to compress one and 1 µs to read it back). A smaller store keeps
more of itself in the page cache, which is what a query on a common term waits for once the store
outgrows the memory.

The writer trains the dictionary once the store holds ``TRAIN_AFTER`` Statements, from the newest of
them, in the transaction that stores the batch crossing that count, and compresses every body it
stores from then on. Bodies stored before stay JSON: a body is JSON when it starts with ``{`` (a JSON
object always does; a zstd frame starts with its magic number), so both kinds are read alike, and no
conversion is needed. A frame names its dictionary's id, so a store could hold several.
"""
from __future__ import annotations

import sqlite3
import threading

import zstandard

TRAIN_AFTER = 1024          # Statements in the store before a dictionary is trained on them
DICT_BYTES = 32 * 1024      # the dictionary's size
LEVEL = 3                   # zstd level: 2-3 µs a Statement to compress


class Bodies:
    """Encode bodies for the writer, decode them for everyone. Decompressors are per thread (a zstd
    (de)compressor is not for concurrent use); dictionaries are read from the store once each."""

    def __init__(self):
        self._dicts: dict[int, zstandard.ZstdCompressionDict] = {}
        self._dicts_lock = threading.Lock()
        self._local = threading.local()
        self._packer: zstandard.ZstdCompressor | None = None
        self._no_dict_below = 0   # the writer found no dictionary at this store size: look again above it

    # -- reading -------------------------------------------------------------------------

    def plain(self, conn: sqlite3.Connection, body: bytes) -> bytes:
        """The Statement's JSON, whichever way it is stored."""
        if body[:1] == b"{":
            return body
        return self._decompressor(conn, zstandard.get_frame_parameters(body).dict_id).decompress(body)

    def plain_rows(self, conn: sqlite3.Connection, rows: list[tuple], at: int) -> list[tuple]:
        """``rows`` with the body in column ``at`` made plain."""
        plain = self.plain
        return [(*r[:at], plain(conn, r[at]), *r[at + 1:]) if r[at][:1] != b"{" else r for r in rows]

    def _decompressor(self, conn, dict_id: int) -> zstandard.ZstdDecompressor:
        mine = getattr(self._local, "decompressors", None)
        if mine is None:
            mine = self._local.decompressors = {}
        d = mine.get(dict_id)
        if d is None:
            d = mine[dict_id] = zstandard.ZstdDecompressor(dict_data=self._dict(conn, dict_id))
        return d

    def _dict(self, conn, dict_id: int) -> zstandard.ZstdCompressionDict:
        with self._dicts_lock:
            d = self._dicts.get(dict_id)
        if d is None:
            row = conn.execute("SELECT dict FROM body_dicts WHERE id = ?", (dict_id,)).fetchone()
            if row is None:
                raise RuntimeError(f"a Statement body names compression dictionary {dict_id}, which the store "
                                   "does not hold")
            d = zstandard.ZstdCompressionDict(row[0])
            with self._dicts_lock:
                self._dicts[dict_id] = d
        return d

    # -- writing (the writer's thread only) ----------------------------------------------

    def packer(self, conn: sqlite3.Connection, top: int) -> zstandard.ZstdCompressor | None:
        """The compressor for the bodies of a write group, in a store whose newest seq is ``top``: with
        the store's newest dictionary; once the store holds ``TRAIN_AFTER`` Statements and no dictionary
        yet, one trained now on the newest of them, in the group's transaction before any batch's
        savepoint (so no batch's rollback takes it away). None: store JSON. After the group's transaction
        rolls back, call ``forget_packer``."""
        if self._packer is not None:
            return self._packer
        if top < max(TRAIN_AFTER, self._no_dict_below):
            return None
        row = conn.execute("SELECT id, dict FROM body_dicts ORDER BY n DESC LIMIT 1").fetchone()
        if row is None:
            samples = [self.plain(conn, b) for (b,) in conn.execute(
                "SELECT body FROM statements ORDER BY seq DESC LIMIT ?", (TRAIN_AFTER,))]
            try:
                trained = zstandard.train_dictionary(DICT_BYTES, samples, level=LEVEL)
            except zstandard.ZstdError:   # too little to learn from (tiny Statements): try again later
                self._no_dict_below = top + TRAIN_AFTER
                return None
            row = (trained.dict_id(), trained.as_bytes())
            conn.execute("INSERT INTO body_dicts (id, dict) VALUES (?, ?)", row)
        d = zstandard.ZstdCompressionDict(row[1])
        self._packer = zstandard.ZstdCompressor(level=LEVEL, dict_data=d, write_checksum=True)
        return self._packer

    def forget_packer(self) -> None:
        """After a rollback: a dictionary the rolled-back transaction trained is gone with it."""
        self._packer = None
