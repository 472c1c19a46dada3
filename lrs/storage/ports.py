"""The storage ports: what the LRS needs from a store, whatever the backend.

Every adapter passes the same contract tests (tests/lrs/test_storage_contract.py).
Calls are blocking; the HTTP layer runs them off the event loop.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence, Callable, Iterable, Protocol

# Seconds a store read may take, the wait for a connection included (LRS_READ_TIMEOUT_SECONDS). Normal
# reads take milliseconds (bench/RESULTS.md): this only ends reads that would otherwise hold a connection
# for good, and stays shorter than the time a client or a load balancer usually waits for an answer.
READ_TIMEOUT = 10.0


@dataclass
class NewStatement:
    """A validated Statement ready to store: ``stored`` is set by the store at write time."""
    statement: dict
    terms: dict[str, bool]                            # term -> the Statement has it directly
    voids: str | None = None        # id of the Statement this one voids
    ref: str | None = None          # id of the Statement this one targets (StatementRef object)


@dataclass
class StatementQuery:
    terms: list[tuple[str, bool]] = field(default_factory=list)  # (term, must be direct): all must match
    since: str | None = None                         # stored > since
    until: str | None = None                         # stored <= until
    ascending: bool = False
    limit: int = 100
    after_seq: int | None = None                     # cursor of a `more` link: continue past this seq
    max_seq: int | None = None                       # the last seq the chain sees; the store sets it on page one

    def seq_window(self, lo: int | None, hi: int | None, top: int) -> tuple[int | None, int]:
        """The seq range to read, from the range ``since``/``until`` map to, narrowed by the
        chain's snapshot (``max_seq``) and its cursor (``after_seq``), and never above ``top``,
        the store's newest seq: whatever window a query carries, a read cannot walk past the data.
        Sets ``max_seq`` on the first page of a chain, and clamps it to ``top`` on the others."""
        self.max_seq = top if self.max_seq is None else min(self.max_seq, top)
        hi = self.max_seq if hi is None else min(hi, self.max_seq)
        if self.after_seq is not None:
            if self.ascending:
                lo = self.after_seq + 1 if lo is None else max(lo, self.after_seq + 1)
            else:
                hi = self.after_seq - 1 if hi is None else min(hi, self.after_seq - 1)
        if lo is not None:
            lo = min(lo, self.max_seq + 1)  # an empty window stays one the store can index
        return lo, hi


DocumentChange = tuple  # (kind, scope, doc_id, change): as the arguments of update_document


@dataclass
class Document:
    content: bytes
    content_type: str
    etag: str
    updated: str


class Conflict(Exception):
    """A Statement id is already stored with different content."""

    def __init__(self, statement_id: str):
        super().__init__(statement_id)
        self.statement_id = statement_id


class StoreBusy(Exception):
    """A read passed its deadline (the store's read timeout), counting the wait for a connection:
    the store is overloaded or the read is pathological. The HTTP layer answers 503 with
    ``Retry-After: retry_after`` (seconds)."""

    def __init__(self, message: str = "the store is busy; try again later", retry_after: int = 1):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    @classmethod
    def after(cls, what: str, timeout: float) -> "StoreBusy":
        """``what`` happened after ``timeout`` seconds: try again in as many (at least 1)."""
        return cls(f"{what} {timeout:g} s; try again later", max(1, math.ceil(timeout)))


class StatementStore(Protocol):
    def start(self) -> None:
        """Prepare to write, before the server listens (blocking)."""
    def insert(self, batch: list[NewStatement], attachments: dict[str, tuple[str, bytes]],
               define: bool = True, documents: Sequence[DocumentChange] = ()) -> list[str]:
        """Store the batch whole or not at all; return the ids. Raises Conflict for an id
        stored with different content; an id stored with the same content is left as it is.
        ``attachments`` (sha2 -> (contentType, bytes)) are the parts the batch uploaded: the store
        records that the authorities of its Statements naming them uploaded them, in the same
        write. ``define``: the writer has the ``define`` scope, so the Activity definitions of the
        batch update the canonical ones; without it only an Activity new to the store gets one
        (the first definition it is stored with). ``documents``: document changes written by the
        same writer as the batch and only if the batch is stored (as ``update_document`` does them;
        a change answering the current document itself leaves it alone): SQLite writes them in the
        batch's transaction, so a writer of statements and their documents (the player) waits for
        no other writer of the file; mongo writes them after the batch. The changes must pickle
        (module-level callables): the SQLite server's writer runs in a process of its own."""
    def voiding_ids(self, ids: list[str]) -> set[str]:
        """Those of ``ids`` that are stored voiding Statements (a voiding Statement cannot be voided)."""
    def get(self, statement_id: str, voided: bool) -> bytes | None:
        """The stored body of a Statement; a voided one only when ``voided`` is asked for."""
    def query(self, q: StatementQuery) -> tuple[list[tuple[int, bytes]], int | None]:
        """One page of (seq, body), and the cursor to continue after (None on the last page)."""
    def last_seq(self) -> int: ...
    def stream(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]: ...
    def attachment(self, sha2: str, authority: str) -> tuple[str, bytes] | None:
        """(contentType, bytes) of ``sha2`` if a Statement whose authority has the key ``authority``
        (lrs/statements/attachments.py ``authority_key``) uploaded them; otherwise None."""
    def activity(self, activity_id: str) -> dict | None: ...
    def activities(self, ids: Iterable[str]) -> dict[str, dict]: ...
    def secret(self, name: str) -> bytes:
        """A random 32-byte key kept in the store, made on the first call for ``name`` (atomically: every
        process and server on the store gets the same one), e.g. the key that signs `more` cursors."""


class DocumentStore(Protocol):
    """Documents of the state, activity profile and agent profile resources.

    ``kind`` is "state", "activity_profile" or "agent_profile"; ``scope`` is
    (activity_id, agent_key, registration) with "" for the parts a kind does not use.
    """
    def get_document(self, kind: str, scope: tuple[str, str, str], doc_id: str) -> Document | None: ...
    def update_document(self, kind: str, scope: tuple[str, str, str], doc_id: str,
                        change: Callable[[Document | None], Document | None]) -> Document | None:
        """Apply ``change`` to the current document atomically: it returns the new document,
        or None to delete it, or raises to leave it as it is."""
    def document_ids(self, kind: str, scope: tuple[str, str, str], since: str | None) -> tuple[list[str], str | None]:
        """The ids of the scope's documents (updated after ``since``) and when the newest was updated."""
    def delete_documents(self, kind: str, scope: tuple[str, str, str]) -> int:
        """Delete every document of ``scope``; a registration of "" matches any registration."""


class CredentialStore(Protocol):
    """Credentials: ``secret_hash`` is a scrypt hash (lrs/auth.py); the store never sees a secret."""
    def credentials(self) -> list[dict]: ...
    def add_credential(self, cred: dict) -> None: ...
    def remove_credential(self, key: str) -> bool: ...
