"""What the rules send out: statements into the LRS (rules/outbound.py) and reminders delivered through
pluggable transports (rules/reminders.py, rules/webhooks.py), and the admin functions over them.

``Outbox.attach(engine)`` hooks it into the engine: at the end of every pass (under the lease) it
writes the statements of the history events it has not written yet, then stores the reminders the
records call for (all records near expiry or overdue when the day changed, else those of the people the
new history events concern) and a delivery of each to every active endpoint that takes its kind.
Sending is apart (``deliver``: the service's background task, or POST /rules/deliveries/run).
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from urllib.parse import urlsplit

from .core import RulesError
from .definitions import published
from .outbound import StatementsOut
from .reminders import KINDS, due, policy
from .storage.outbox import DELIVERY_STATES, PENDING, Delivery, Endpoint
from .storage.ports import timestamp
from .webhooks import Deliverer, Transport, WebhookTransport

CURSOR = "reminders"
SWEEP_PAGE = 1000     # records the day's sweep over every near or overdue record reads in one engine pass
NEAR = ("certified", "in_renewal_window")


class Outbox:
    def __init__(self, store, outbox, lrs, clock: Callable[[], datetime], iri_base: str,
                 reminder_days: tuple[int, ...] = (90, 30, 7), escalation_days: int | None = 7,
                 transports: dict[str, Transport] | None = None, retry_seconds: float = 30.0, max_attempts: int = 8,
                 timeout: float = 5.0):
        self.store, self.outbox, self.lrs, self.clock = store, outbox, lrs, clock
        self.reminder_days, self.escalation_days = tuple(reminder_days), escalation_days
        self.statements = StatementsOut(store, outbox, lrs, iri_base)
        self.transports = transports if transports is not None else {"webhook": WebhookTransport(timeout)}
        self.deliverer = Deliverer(outbox, self.transports, clock, retry_seconds, max_attempts)
        self.sweeping = False      # the day's sweep of the reminders is not done

    def attach(self, engine) -> None:
        engine.own_authority = self.statements.authority
        engine.hooks.append(self.after_pass)

    def after_pass(self, engine, now: datetime) -> int:
        """The engine's hook: the number of statements written, plus one while the day's sweep of the
        reminders goes on (either way the engine passes again at once)."""
        wrote = self.statements.run(now)
        self.remind(now)
        return wrote + (1 if self.sweeping else 0)

    # -- reminders -------------------------------------------------------------------------

    def remind(self, now: datetime) -> int:
        """Store the reminders due today and their deliveries; how many reminders were new.

        The people the new history events concern are looked at on every pass. When the day changes
        (or the history was rebuilt) every record near expiry or overdue is too: that sweep goes a page of
        SWEEP_PAGE records a pass, its place kept in the cursor, so no pass of the engine (and so no
        statement's derivation) waits for the whole world at once."""
        today = now.date().isoformat()
        cur = self.outbox.cursor(CURSOR)
        head = self.store.chain_head()
        n = cur.get("n", -1)
        sweep = cur.get("sweep")
        self.sweeping = False
        if cur.get("day") == today and n == head[0] and not sweep:
            return 0
        defs = published(self.store)
        policies = {cid: policy(c, self.reminder_days, self.escalation_days) for cid, c in defs.certifications.items()}
        records = []
        if cur.get("day") != today or n > head[0]:
            sweep = {"certs": sorted(policies), "phase": "near", "after": None}
        else:
            records += self._changed_since(n, policies)
        if sweep:
            page, sweep = self._sweep_page(sweep, policies, now.date())
            records += page
        count = self._store(records, policies, now.date(), now)
        self.outbox.set_cursor(CURSOR, {"day": today, "n": head[0], **({"sweep": sweep} if sweep else {})})
        self.sweeping = bool(sweep)
        return count

    def _changed_since(self, n: int, policies: dict) -> list:
        people = set()
        after = n
        while True:
            events = self.store.history(after)
            if not events:
                break
            people.update(ev.body.get("person") for ev in events if ev.body.get("person"))
            after = events[-1].n
        return [r for pid in sorted(people) for r in self.store.records_for(pid) if r.certification in policies]

    def _sweep_page(self, sweep: dict, policies: dict, today: date) -> tuple[list, dict | None]:
        """One page of the day's sweep, and where the next one starts (None: the sweep is done). Near
        expiry: certified or in the renewal window, expiring within the farthest offset; then overdue."""
        certs = [c for c in sweep["certs"] if c in policies]
        while certs:
            cid, pol = certs[0], policies[certs[0]]
            if sweep["phase"] == "near" and not pol.before:
                sweep = {**sweep, "phase": "overdue", "after": None}
            if sweep["phase"] == "near":
                horizon = (today + timedelta(days=max(pol.before))).isoformat()
                page = self.store.roster(cid, list(NEAR), None, None, horizon, sweep["after"], SWEEP_PAGE)
            else:
                page = self.store.roster(cid, ["overdue"], None, None, None, sweep["after"], SWEEP_PAGE)
            if len(page) == SWEEP_PAGE:
                return page, {"certs": certs, "phase": sweep["phase"], "after": page[-1].person_id}
            if sweep["phase"] == "near":
                sweep = {"certs": certs, "phase": "overdue", "after": None}
            else:
                certs = certs[1:]
                sweep = {"certs": certs, "phase": "near", "after": None}
            if page:
                return page, (sweep if certs else None)
        return [], None

    def _store(self, records, policies, today: date, now: datetime) -> int:
        created = timestamp(now)
        people: dict[str, object] = {}

        def person(pid):
            if pid not in people:
                versions = self.store.person(pid)
                people[pid] = versions[-1] if versions else None
            return people[pid]

        wanted = []
        for r in records:
            p = person(r.person_id)
            if p is None or (p.attributes or {}).get("active", True) is False:
                continue        # nobody to remind: unknown, or has left
            sup = (p.attributes or {}).get("supervisor")
            wanted += due(r, p, person(str(sup)) if sup else None, policies[r.certification], today, created)
        if not wanted:
            return 0
        new = self.outbox.add_reminders(wanted)
        endpoints = [e for e in self.outbox.endpoints() if e.active]
        deliveries = [Delivery(f"{r.id}|{e.id}", r.id, e.id, PENDING, 0, now.timestamp(), created=created)
                      for r in new for e in endpoints if not e.kinds or r.kind in e.kinds]
        if deliveries:
            self.outbox.add_deliveries(deliveries)
        return len(new)

    def deliver(self, limit: int = 100) -> dict:
        return self.deliverer.run_once(limit)

    # -- admin -----------------------------------------------------------------------------

    def add_endpoint(self, body, who: str) -> dict:
        if not isinstance(body, dict):
            raise RulesError(400, "the body is a JSON object", "")
        transport = body.get("transport", "webhook")
        if transport not in self.transports:
            raise RulesError(400, f"transport is one of {', '.join(sorted(self.transports))}", "transport")
        url = body.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2048:
            raise RulesError(400, "url is an absolute http or https URL (at most 2048 characters)", "url")
        secret = body.get("secret")
        if secret is None:
            secret = secrets.token_urlsafe(32)
        elif not isinstance(secret, str) or not 16 <= len(secret) <= 256:
            raise RulesError(400, "secret is a string of 16 to 256 characters (absent: one is made)", "secret")
        kinds = body.get("kinds", [])
        if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
            raise RulesError(400, f"kinds is a list of {', '.join(KINDS)} (empty: all)", "kinds")
        active = body.get("active", True)
        if not isinstance(active, bool):
            raise RulesError(400, "active is true or false", "active")
        unknown = sorted(set(body) - {"transport", "url", "secret", "kinds", "active"})
        if unknown:
            raise RulesError(400, f"unknown property {unknown[0]!r}", unknown[0])
        ep = Endpoint(str(uuid.uuid4()), transport, url, secret, tuple(sorted(set(kinds))), active,
                      timestamp(self.clock()), who)
        self.outbox.put_endpoint(ep)
        return {**self.endpoint_view(ep), "secret": secret}

    @staticmethod
    def endpoint_view(ep: Endpoint) -> dict:
        """An endpoint without its secret (shown once, when it is made)."""
        return {"id": ep.id, "transport": ep.transport, "url": ep.url, "kinds": list(ep.kinds), "active": ep.active,
                "created": ep.created, "who": ep.who}

    def endpoints(self) -> dict:
        return {"endpoints": [self.endpoint_view(e) for e in self.outbox.endpoints()]}

    def delete_endpoint(self, endpoint_id: str) -> None:
        if not self.outbox.delete_endpoint(endpoint_id):
            raise RulesError(404, f"no endpoint {endpoint_id!r}", "endpoint_id")

    def reminders(self, person_id: str | None, after: str | None, limit: int) -> dict:
        rows = [asdict(r) for r in self.outbox.reminders(person_id, after, limit)]
        return {"reminders": rows, "next": rows[-1]["id"] if len(rows) == limit else None}

    def deliveries(self, states: list[str] | None, after: str | None, limit: int) -> dict:
        bad = next((s for s in states or () if s not in DELIVERY_STATES), None)
        if bad:
            raise RulesError(400, f"state {bad!r} is not one of {', '.join(DELIVERY_STATES)}", "state")
        rows = []
        for d in self.outbox.deliveries(states, after, limit):
            row = asdict(d)
            row["log"] = list(d.log)
            row["next_at"] = (timestamp(datetime.fromtimestamp(d.next_at, timezone.utc))
                              if d.state in ("pending", "retrying") else None)
            row.pop("claimed_until")
            rows.append(row)
        return {"deliveries": rows, "next": rows[-1]["id"] if len(rows) == limit else None}
