"""Delivering reminders: the transport interface, the signed webhook transport, and the deliverer that
sends what is due with retries and exponential backoff.

A webhook is ``POST {url}`` with a JSON body and these headers:

    Content-Type: application/json
    X-LRS-Event: certification.expiring | certification.overdue | certification.escalation
    X-LRS-Delivery: <delivery id>            (the same on every retry of one delivery)
    X-LRS-Timestamp: <Unix time, seconds>
    X-LRS-Signature: sha256=<hex HMAC-SHA256 over "<timestamp>.<body>" with the endpoint's secret>

A receiver recomputes the HMAC over the timestamp header, a full stop and the raw body, compares it in
constant time, and refuses old timestamps (replays). Any 2xx answer is success; anything else (another
status, a refused connection, no answer within LRS_RULES_WEBHOOK_TIMEOUT_SECONDS) is a failure, tried
again after LRS_RULES_WEBHOOK_RETRY_SECONDS, doubling each time (at most 6 hours), until
LRS_RULES_WEBHOOK_MAX_ATTEMPTS attempts, after which the delivery is ``failed``. Deliveries run apart
from the engine, so a dead endpoint never holds it up.

Other transports (email, SMS) implement ``Transport`` and register under the endpoint's ``transport``.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import replace
from datetime import datetime
from typing import Callable, Protocol

import httpx
import orjson

from .storage.outbox import DELIVERED, FAILED, RETRYING, Delivery, Endpoint, Reminder
from .storage.ports import timestamp

log = logging.getLogger("lrs.rules")

MAX_BACKOFF = 6 * 3600.0
LOG_KEEP = 20            # attempts kept in a delivery's log


class DeliveryFailed(Exception):
    pass


class Transport(Protocol):
    name: str

    def send(self, endpoint: Endpoint, delivery_id: str, event: str, body: bytes) -> None:
        """Deliver ``body`` (JSON) or raise DeliveryFailed saying why."""


def signature(secret: str, ts: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), str(ts).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


class WebhookTransport:
    name = "webhook"

    def __init__(self, timeout: float = 5.0, wall: Callable[[], float] = time.time):
        self.timeout, self.wall = timeout, wall

    def send(self, endpoint, delivery_id, event, body):
        ts = int(self.wall())
        headers = {"Content-Type": "application/json", "X-LRS-Event": event, "X-LRS-Delivery": delivery_id,
                   "X-LRS-Timestamp": str(ts), "X-LRS-Signature": signature(endpoint.secret, ts, body),
                   "User-Agent": "lrs-rules"}
        try:
            resp = httpx.post(endpoint.url, content=body, headers=headers, timeout=self.timeout, follow_redirects=False)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__) from None
        if not 200 <= resp.status_code < 300:
            raise DeliveryFailed(f"HTTP {resp.status_code}")


def message(reminder: Reminder, delivery: Delivery) -> tuple[str, bytes]:
    event = f"certification.{reminder.kind}"
    return event, orjson.dumps({"type": event, "delivery": delivery.id, "reminder": {
        "id": reminder.id, "person_id": reminder.person_id, "certification": reminder.certification,
        "kind": reminder.kind, "about": reminder.about, "offset_days": reminder.offset_days, "day": reminder.day,
        "recipient": reminder.recipient, **reminder.body}})


class Deliverer:
    def __init__(self, outbox, transports: dict[str, Transport], clock: Callable[[], datetime],
                 retry_seconds: float = 30.0, max_attempts: int = 8, claim_seconds: float = 300.0):
        self.outbox, self.transports, self.clock = outbox, transports, clock
        self.retry_seconds, self.max_attempts, self.claim_seconds = retry_seconds, max_attempts, claim_seconds

    def backoff(self, attempts: int) -> float:
        return min(self.retry_seconds * 2 ** (attempts - 1), MAX_BACKOFF)

    def run_once(self, limit: int = 100) -> dict:
        """Send the deliveries due now; counts of delivered, retrying and failed."""
        now = self.clock()
        t = now.timestamp()
        done = {"delivered": 0, "retrying": 0, "failed": 0}
        for d in self.outbox.claim_deliveries(t, t + self.claim_seconds, limit):
            state = self._attempt(d, now)
            done[state] += 1
        return done

    def _attempt(self, d: Delivery, now: datetime) -> str:
        attempts = d.attempts + 1
        at = timestamp(now)
        error = ""
        endpoint = self.outbox.endpoint(d.endpoint_id)
        reminder = self.outbox.reminder(d.reminder_id)
        transport = self.transports.get(endpoint.transport) if endpoint else None
        if endpoint is None or not endpoint.active:
            error = "the endpoint was deleted or deactivated"
        elif reminder is None:
            error = "the reminder is gone"
        elif transport is None:
            error = f"no transport {endpoint.transport!r}"
        else:
            event, body = message(reminder, d)
            try:
                transport.send(endpoint, d.id, event, body)
            except DeliveryFailed as exc:
                error = str(exc)
            except Exception as exc:   # a transport's own failure is the delivery's, never the caller's
                log.exception("transport %s failed", endpoint.transport)
                error = f"{type(exc).__name__}: {exc}"
        entry = {"at": at, "error": error} if error else {"at": at, "status": "delivered"}
        logged = (tuple(d.log) + (entry,))[-LOG_KEEP:]
        if not error:
            state, next_at = DELIVERED, d.next_at
        elif attempts >= self.max_attempts or endpoint is None:
            state, next_at = FAILED, d.next_at
        else:
            state, next_at = RETRYING, now.timestamp() + self.backoff(attempts)
        self.outbox.finish_delivery(replace(d, state=state, attempts=attempts, next_at=next_at, last_error=error,
                                            last_at=at, claimed_until=0.0, log=logged))
        return "delivered" if state == DELIVERED else "failed" if state == FAILED else "retrying"
