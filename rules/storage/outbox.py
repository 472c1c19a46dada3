"""The outbox store's port: what the rules keep of what they send out, whatever the backend.

- **Cursors**: named positions (a small JSON object each), e.g. how far the statements written out
  and the reminders have read the history; replaced whole.
- **Reminders**: one per key (person, certification, kind, the date it is about, the offset): stored
  by an insert under a unique id (uuid5 of the key), so generating one twice, after a restart or a
  rebuild, stores it once.
- **Endpoints**: where reminders are delivered (a transport, e.g. "webhook", its URL and secret).
- **Deliveries**: one per (reminder, endpoint), also inserted under a unique id; a deliverer claims the
  due ones for a while (so two processes never send one at the same time), then records the outcome.

Every adapter passes the same contract tests (tests/rules/test_outbox_store_contract.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

PAGE = 1000

PENDING, RETRYING, DELIVERED, FAILED = "pending", "retrying", "delivered", "failed"
DELIVERY_STATES = (PENDING, RETRYING, DELIVERED, FAILED)


@dataclass(frozen=True)
class Reminder:
    id: str
    person_id: str
    certification: str
    kind: str               # expiring, overdue or escalation
    about: str              # the day it is about (the expiry or due day)
    offset_days: int | None  # expiring: days before ``about``; escalation: days after becoming overdue
    day: str                # the day it was generated for
    recipient: dict         # {"role": "person" | "supervisor", "person_id": ..., "agents": [...]}
    body: dict              # what the message says (status, dates, ...)
    created: str


@dataclass(frozen=True)
class Endpoint:
    id: str
    transport: str          # "webhook" (email, SMS: later transports)
    url: str
    secret: str
    kinds: tuple[str, ...] = ()   # reminder kinds it receives (empty: all)
    active: bool = True
    created: str = ""
    who: str = ""


@dataclass(frozen=True)
class Delivery:
    id: str                 # reminder id + "|" + endpoint id
    reminder_id: str
    endpoint_id: str
    state: str              # pending, retrying, delivered, failed (given up)
    attempts: int = 0
    next_at: float = 0.0    # Unix time of the next attempt
    last_error: str = ""
    last_at: str = ""       # when it was last tried
    created: str = ""
    claimed_until: float = 0.0
    log: tuple = field(default_factory=tuple)   # ({"at", "error"|"status"}, ...) one per attempt


class OutboxStore(Protocol):
    def close(self) -> None: ...

    def cursor(self, name: str) -> dict:
        """The cursor ``name`` ({} before it is first set)."""
    def set_cursor(self, name: str, value: dict) -> None: ...

    def add_reminders(self, reminders: list[Reminder]) -> list[Reminder]:
        """Store those whose id is new; the ones stored by this call (idempotent)."""
    def reminder(self, reminder_id: str) -> Reminder | None: ...
    def reminders(self, person_id: str | None = None, after: str | None = None, limit: int = PAGE) -> list[Reminder]:
        """In id order, ids above ``after``; of one person when ``person_id`` is given."""

    def put_endpoint(self, endpoint: Endpoint) -> None:
        """Insert or replace by id."""
    def endpoint(self, endpoint_id: str) -> Endpoint | None: ...
    def endpoints(self) -> list[Endpoint]:
        """Every endpoint, in id order."""
    def delete_endpoint(self, endpoint_id: str) -> bool: ...

    def add_deliveries(self, deliveries: list[Delivery]) -> int:
        """Store those whose id is new; how many were stored."""
    def claim_deliveries(self, now: float, until: float, limit: int = 100) -> list[Delivery]:
        """Pending or retrying deliveries due by ``now`` (next_at <= now) and not claimed (claimed_until <=
        now), claimed until ``until``: a delivery is claimed by one caller at a time. Oldest next_at first."""
    def finish_delivery(self, delivery: Delivery) -> None:
        """Record an attempt's outcome (state, attempts, next_at, last_error, last_at, log); releases the claim."""
    def deliveries(self, states: list[str] | None = None, after: str | None = None, limit: int = PAGE) -> list[Delivery]:
        """In id order, ids above ``after``, in one of ``states`` when given."""


def page(limit: int) -> int:
    return max(1, min(int(limit), PAGE))


def open_outbox_store(data_dir, mongodb_url: str = "") -> OutboxStore:
    """The mongo adapter when a MongoDB URL is configured (collections ``rules_outbox_*``), else tables
    ``outbox_*`` in the embedded rules store's file ``rules.sqlite3`` in ``data_dir``."""
    from pathlib import Path

    if mongodb_url:
        from .outbox_mongo import MongoOutboxStore

        return MongoOutboxStore(mongodb_url)
    from .outbox_sqlite import SqliteOutboxStore

    return SqliteOutboxStore(Path(data_dir) / "rules.sqlite3")
