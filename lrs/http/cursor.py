"""The cursor of a `more` link: opaque and tamper-evident.

A chain of `more` pages is a window of seqs: ``max_seq``, the newest Statement the chain sees (fixed
on its first page), and ``after_seq``, where the next page continues. The client gets them as a token
it cannot read into or forge: URL-safe base64 (no padding) of a version byte, the two seqs (8 bytes
each, big-endian) and an HMAC-SHA256, cut to 16 bytes, of those and of a digest of the query's other
parameters. So a cursor can neither be made up nor moved to another query (another filter, order,
time range, or a credential limited to other Statements). The key is the store's ``cursor`` secret,
the same for every process and server sharing the store, so a link works whichever one answers it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

import orjson

from ..errors import XAPIError
from ..storage import StatementQuery

VERSION = b"\x01"
MAC_BYTES = 16
_SEQS = 16                       # after_seq, max_seq: 8 bytes each
_LENGTH = len(VERSION) + _SEQS + MAC_BYTES
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{%d}$" % -(-_LENGTH * 4 // 3))
_MAX_SEQ = (1 << 63) - 1         # seqs are SQLite integers (and mongo longs)


def query_digest(q: StatementQuery) -> bytes:
    """What a chain's pages must agree on: the filters (including a ``statements/read/mine``
    credential's authority), the time range and the order. Not ``limit`` or ``format``, which change
    how a page looks, not which Statements the chain walks."""
    terms = sorted([t, bool(d)] for t, d in q.terms)
    return hashlib.sha256(orjson.dumps([terms, q.since, q.until, bool(q.ascending)])).digest()


class Cursors:
    def __init__(self, key: bytes):
        self._key = key

    def _mac(self, payload: bytes, digest: bytes) -> bytes:
        return hmac.new(self._key, payload + digest, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, after_seq: int, max_seq: int, digest: bytes) -> str:
        payload = VERSION + after_seq.to_bytes(8, "big") + max_seq.to_bytes(8, "big")
        return base64.urlsafe_b64encode(payload + self._mac(payload, digest)).rstrip(b"=").decode()

    def decode(self, token: str, digest: bytes) -> tuple[int, int]:
        """(after_seq, max_seq) of a cursor this LRS issued for a query with ``digest``; anything
        else is a 400 naming ``cursor``."""
        if not _TOKEN.match(token):
            raise _bad("is malformed")
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise _bad("is malformed") from None
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if len(raw) != _LENGTH or payload[:1] != VERSION:
            raise _bad("is malformed")
        if not hmac.compare_digest(mac, self._mac(payload, digest)):
            raise _bad("was not issued for this query by this LRS (the other parameters must stay as "
                       "the more link gave them)")
        after_seq = int.from_bytes(payload[1:9], "big")
        max_seq = int.from_bytes(payload[9:17], "big")
        if max_seq > _MAX_SEQ or after_seq > _MAX_SEQ:  # cannot come from this LRS: its key is out
            raise _bad("is out of range")
        return after_seq, max_seq


def _bad(what: str) -> XAPIError:
    return XAPIError(400, f"the cursor of this more link {what}", "cursor")
