"""Reminders: what a record calls for on a day, as a pure function of the record, the person, their
supervisor, the certification's reminder policy and the day.

- ``expiring``: to the person, at each offset before the expiry day (a certification's
  ``reminders.before_expiry_days``, else LRS_RULES_REMINDER_DAYS, default 90, 30, 7) while it is
  certified or in its renewal window. When several offsets have passed (the engine was off, or the
  certification was earned 20 days before expiry) only the nearest one is sent.
- ``overdue``: to the person, when the record is overdue (past the due day of a first assignment, or
  past expiry within grace), unless the certification says ``"overdue": false``.
- ``escalation``: to the person's supervisor (the ``supervisor`` attribute, a person id), a set number
  of days after the record became overdue (``reminders.escalate_after_days``, else
  LRS_RULES_ESCALATION_DAYS, default 7; null: never).

Each has an id, uuid5 of (person, certification, kind, the day it is about, offset), so it is stored,
and delivered, once, whatever the restarts and rebuilds.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from .storage.outbox import Reminder
from .storage.ports import PersonVersion, Record

NAMESPACE = uuid.UUID("1e7b0c55-2a64-5f0d-8c3e-94d2a7b61f08")
KINDS = ("expiring", "overdue", "escalation")


@dataclass(frozen=True)
class Policy:
    before: tuple[int, ...]
    overdue: bool = True
    escalate: int | None = 7


def policy(cert: dict, default_days: tuple[int, ...], default_escalation: int | None) -> Policy:
    r = cert.get("reminders") or {}
    return Policy(tuple(sorted(set(r.get("before_expiry_days", default_days)))), r.get("overdue", True),
                  r["escalate_after_days"] if "escalate_after_days" in r else default_escalation)


def reminder_id(person: str, cert: str, kind: str, about: str, offset) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{person}/{cert}/{kind}/{about}/{offset}"))


def _who(v: PersonVersion | None, person_id: str, role: str) -> dict:
    return {"role": role, "person_id": person_id, "agents": list(v.agents) if v else []}


def due(record: Record, person: PersonVersion, supervisor: PersonVersion | None, pol: Policy, today: date,
        created: str) -> list[Reminder]:
    """The reminders ``record`` calls for on ``today`` (what was already stored is filtered by the store)."""
    out = []
    pid, cert = record.person_id, record.certification
    base = {"status": record.status, "expires": record.expires, "due": record.due, "site": record.site,
            "roles": list(record.roles), "definition_version": record.definition_version}

    def make(kind, about, offset, recipient, extra):
        out.append(Reminder(reminder_id(pid, cert, kind, about, offset), pid, cert, kind, about, offset,
                            today.isoformat(), recipient, {**base, **extra}, created))

    if record.status in ("certified", "in_renewal_window") and record.expires and pol.before:
        left = (date.fromisoformat(record.expires) - today).days
        passed = [d for d in pol.before if left <= d]
        if left >= 0 and passed:
            make("expiring", record.expires, min(passed), _who(person, pid, "person"), {"days_left": left})
    if record.status == "overdue" and record.due:
        start = date.fromisoformat(record.due) + timedelta(days=1)
        late = (today - start).days
        if pol.overdue:
            make("overdue", record.due, None, _who(person, pid, "person"), {"days_overdue": late + 1})
        sup = (person.attributes or {}).get("supervisor")
        if pol.escalate is not None and sup and late >= pol.escalate:
            make("escalation", record.due, pol.escalate, _who(supervisor, str(sup), "supervisor"),
                 {"days_overdue": late + 1, "person": {"person_id": pid, "agents": list(person.agents)}})
    return out
