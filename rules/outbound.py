"""Statements out: a certification earned, renewed, expired or revoked (a status event of the history)
is also written as an xAPI statement into the LRS's own store, so other consumers and forwarded LRSs
see it.

Vocabulary (``base`` is LRS_ACTIVITY_IRI_BASE, default the main origin's public URL):

- verbs: earned ``http://id.tincanapi.com/verb/earned`` (the Tin Can registry's "earned or has been
  awarded the object"); renewed, expired and revoked have no registered verb (neither ADL's nor the
  Tin Can registry's nor cmi5's fit) and are ``{base}/rules/verbs/renewed``, ``.../expired``,
  ``.../revoked``; a withdrawn earned or renewed (the statement that earned it was voided) voids the
  statement written for it (``http://adlnet.gov/expapi/verbs/voided``);
- object: the certification, activity ``{base}/certifications/{quote(certification id)}`` of type
  ``http://id.tincanapi.com/activitytype/certificate``;
- actor: the person's first xAPI identity (as imported); authority: the Agent
  ``{"account": {"homePage": base, "name": "rules"}}``. The engine skips statements stored with this
  authority (rules.engine.extract), so its own statements are never facts;
- timestamp: the day of the change (00:00 UTC); result (earned, renewed): success true, completion
  true; ``result.extensions["{base}/extensions/rules/record"]``: status, earned, valid_from, expires,
  the kind of period and the statement ids that met the requirement; ``context.extensions``:
  ``{base}/extensions/rules/definition-version`` (the certification's version the change was computed
  under), ``.../chain-head`` (the hash of the history event, the chain head just after it),
  ``.../history-event`` (its number) and ``.../person`` (the person id).

Ids are uuid5 of (person, certification, day, status, occurrence), so writing again after a crash, or
after the rules store was rebuilt, stores nothing twice (an id already stored is left as it is, even
when the chain head it carried differs).
"""
from __future__ import annotations

import copy
import logging
import uuid
from datetime import datetime
from urllib.parse import quote

from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.statements.validate import validate_statement
from lrs.storage import NewStatement
from lrs.storage.ports import Conflict

from .definitions import published
from .derive import derive, parse_day

log = logging.getLogger("lrs.rules")

XAPI_VERSION = "1.0.3"
NAMESPACE = uuid.UUID("8f1c2d6e-3b9a-5e47-a1d0-6c4b2e9f7a35")
EARNED = "http://id.tincanapi.com/verb/earned"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
CERTIFICATE = "http://id.tincanapi.com/activitytype/certificate"
CURSOR = "statements"
EARNING = ("initial", "manual", "external", "equivalent")


def rules_authority(base: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": base.rstrip("/"), "name": "rules"}}


def certification_iri(base: str, cert_id: str) -> str:
    return f"{base.rstrip('/')}/certifications/{quote(cert_id, safe='')}"


def verb_iri(base: str, name: str) -> str:
    return EARNED if name == "earned" else f"{base.rstrip('/')}/rules/verbs/{name}"


def extension(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/extensions/rules/{name}"


def change_of(body: dict) -> str | None:
    """earned, renewed, expired, revoked or None: what a status event of the history says happened."""
    if body.get("kind") != "status":
        return None
    status = body.get("status")
    if status in ("expired", "revoked"):
        return status
    if status != "certified":
        return None
    cause = body.get("cause") or {}
    events = {c.get("event") for c in cause.get("events", [cause])}
    if "renewal" in events:
        return "renewed"
    if events & set(EARNING):
        return "earned"
    return None


def statement_id(person: str, cert: str, day: str, status: str, occurrence: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{person}/{cert}/{day}/{status}/{occurrence}"))


def _from_record(r, b: dict) -> dict | None:
    """The dates of the period a change is about, from the person's record when its period is that one."""
    if r is None or r.valid_from is None:
        return None
    ev = r.evidence or {}
    if (b["status"] == "certified" and r.valid_from == b["at"]) or \
            (b["status"] == r.status and b["status"] in ("expired", "revoked") and r.valid_from <= b["at"]):
        return {"earned": r.earned, "valid_from": r.valid_from, "expires": r.expires, "period": ev.get("period"),
                "statements": list(ev.get("statements", []))}
    return None


def _from_periods(d, b: dict) -> dict:
    """The same from the derived periods: the one that starts on the change's day, else the last before it."""
    if d is None:
        return {}
    day = parse_day(b["at"])
    starts = [p for p in d.periods if p.valid_from <= day]
    exact = [p for p in starts if p.valid_from == day]
    p = (exact or starts or [None])[-1]
    if p is None:
        return {}
    return {"earned": p.earned.isoformat(), "valid_from": p.valid_from.isoformat(),
            "expires": p.expires.isoformat() if p.expires else None, "period": p.kind,
            "statements": list(p.evidence.get("statements", []))}


class StatementsOut:
    """Writes the statements of the history events after its cursor (outbox store ``statements``)."""

    def __init__(self, store, outbox, lrs, base: str):
        self.store, self.outbox, self.lrs, self.base = store, outbox, lrs, base.rstrip("/")
        self.authority = rules_authority(self.base)
        self.pages = 4      # of 500 history events per call at most: the rest at the next pass
    def run(self, now: datetime) -> int:
        """Write what the history says since the cursor; the number of statements stored or already there
        (at least 1 while history is left for the next call)."""
        cur = self.outbox.cursor(CURSOR)
        n = cur.get("n", -1)
        if n >= 0:
            at = self.store.history(n - 1, 1)
            if not at or at[0].n != n or at[0].hash != cur.get("hash"):
                n = -1      # the history was rebuilt: go over it again (the ids make that harmless)
        if self.store.chain_head()[0] == n:
            return 0
        written = 0
        for _ in range(self.pages):
            events = self.store.history(n, 500)
            if not events:
                return written
            written += self._write(events, now)
            n = events[-1].n
            self.outbox.set_cursor(CURSOR, {"n": n, "hash": events[-1].hash})
        return max(written, 1)      # history is left: at least 1, so the engine makes another pass soon

    def _write(self, events, now: datetime) -> int:
        wanted = [ev for ev in events
                  if change_of(ev.body) or (ev.body.get("kind") == "retract" and ev.body.get("status") == "certified")]
        if not wanted:
            return 0
        defs = published(self.store)
        people: dict[str, tuple] = {}
        chains: dict[tuple[str, str], list] = {}
        count = 0
        batch: list[NewStatement] = []
        for ev in wanted:
            b = ev.body
            pid, cert = b["person"], b["certification"]
            if pid not in people:
                versions = self.store.person(pid)
                agents = versions[-1].agents if versions else ()
                people[pid] = [dict(agents[0]) if agents else None, versions, None,
                               {r.certification: r for r in self.store.records_for(pid)} if versions else {}]
            agent, versions, derived, records = people[pid]
            if agent is None:
                continue
            if (pid, cert) not in chains:
                chains[(pid, cert)] = self.store.history_for(pid, cert)
            earlier = [e for e in chains[(pid, cert)] if e.n < ev.n and e.body.get("kind") == "status"
                       and e.body["at"] == b["at"] and e.body["status"] == b["status"]]
            if b["kind"] == "retract":
                if earlier:
                    self._store(batch)      # the statement to void may be in it
                    batch = []
                    count += self._void(statement_id(pid, cert, b["at"], b["status"], len(earlier) - 1))
                continue
            details = _from_record(records.get(cert), b)
            if details is None:     # an older change than the record's period: derive the periods (once)
                if derived is None:
                    facts = self.store.facts_for(list(versions[-1].identities))
                    derived = people[pid][2] = derive(versions, facts, self.store.actions_for(pid), defs, now.date())
                details = _from_periods(derived.get(cert), b)
            batch.append(self._prepared(self._statement(ev, agent, details, len(earlier))))
            count += 1
        self._store(batch)
        return count

    def _statement(self, ev, agent: dict, details: dict, occurrence: int) -> dict:
        b = ev.body
        change = change_of(b)
        record = {"status": b["status"], **details}
        result = {"extensions": {extension(self.base, "record"): record}}
        if change in ("earned", "renewed"):
            result = {"success": True, "completion": True, **result}
        actor = {"objectType": "Agent", **{k: v for k, v in agent.items() if k != "objectType"}}
        return {"id": statement_id(b["person"], b["certification"], b["at"], b["status"], occurrence),
                "actor": actor,
                "verb": {"id": verb_iri(self.base, change), "display": {"en-US": change}},
                "object": {"objectType": "Activity", "id": certification_iri(self.base, b["certification"]),
                           "definition": {"type": CERTIFICATE, "name": {"und": b["certification"]}}},
                "result": result,
                "context": {"extensions": {
                    extension(self.base, "definition-version"): b.get("definition_version"),
                    extension(self.base, "chain-head"): ev.hash,
                    extension(self.base, "history-event"): ev.n,
                    extension(self.base, "person"): b["person"]}},
                "timestamp": b["at"] + "T00:00:00Z"}

    def _void(self, target: str) -> int:
        if self.lrs.get(target, False) is None:
            return 0
        st = {"id": str(uuid.uuid5(NAMESPACE, "void/" + target)), "actor": dict(self.authority),
              "verb": {"id": VOIDED, "display": {"en-US": "voided"}},
              "object": {"objectType": "StatementRef", "id": target}}
        self._store([self._prepared(st, voids=target)])
        return 1

    def _prepared(self, st: dict, voids: str | None = None) -> NewStatement:
        st = copy.deepcopy(st)
        validate_statement(st, XAPI_VERSION, "statement")
        prepare(st, self.authority, XAPI_VERSION)
        return NewStatement(st, statement_terms(st), voids=voids, ref=voids)

    def _store(self, batch: list[NewStatement]) -> None:
        """One batch (the store keeps it whole or not at all); when an id is already stored with other
        content (after a rebuild: another chain head), each on its own, leaving those already stored."""
        if not batch:
            return
        try:
            self.lrs.insert(batch, {}, True)
            return
        except Conflict:
            pass
        for one in batch:
            try:
                self.lrs.insert([one], {}, True)
            except Conflict:
                log.debug("statement %s already stored (a rebuilt history's chain head differs)", one.statement["id"])


__all__ = ["StatementsOut", "rules_authority", "certification_iri", "verb_iri", "extension", "change_of", "EARNED",
           "CERTIFICATE"]
