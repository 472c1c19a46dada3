"""The engine: reads the LRS store's ordered statement stream from a checkpoint and keeps the records.

One pass, under the lease (one engine at a time across processes):

1. read the next statements after the checkpoint (``StatementStore.stream``), keep a fact for each
   whose object is an Activity and a void for each voiding statement (idempotent, by statement id);
2. recompute the people those statements concern, the people marked dirty (an import, an admin
   action), everyone when a definition was published, and the people whose status changes with
   the day when the clock reaches a new day;
3. for each, derive the status from facts, definitions, actions and the clock (rules.derive), append
   to the hash-chained history what differs from what the history already says (new transitions,
   retracted ones, admin actions not yet chained), then replace the records;
4. move the checkpoint.

Nothing in 2-4 depends on what the records said before: the history is compared, not the records,
so a pass that died half way is simply done again, and a rebuild from nothing gives the same records.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import replace
from datetime import datetime
from typing import Callable

import orjson

from lrs.statements.terms import agent_term

from .definitions import Definitions, published
from .derive import Derived, derive
from .storage.ports import PAGE_LIMIT, Fact, LeaseLost, Record, Void, timestamp, utc_now

log = logging.getLogger("lrs.rules")

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
BATCH = 1000
LEASE_SECONDS = 30.0
# The engine shares its process with the HTTP requests: a thread that keeps the GIL for its whole
# switch interval (5 ms) makes every request that waits on it slower, so the engine gives it up
# after each YIELD_SECONDS of work when it runs in the background of the service (``polite``).
# Each give-up costs the engine a wait for the GIL (up to a switch interval per busy thread), so
# it is counted in time, not in statements or people: giving it up every 32 statements and every
# person made a pass of 1,000 statements wait 50-odd times, and the engine fell far behind a
# full-speed ingest; in single runs at 2 ms the lag p95 was 16-19 s, at 5 ms 8 s, for about the
# same ingest rate (bench/RESULTS.md, "Rules engine").
YIELD_SECONDS = 0.005
# While the stream is behind by more than a batch (a rebuild, a restart after a long stop, a burst), a
# pass only reads: it keeps the facts, marks the people they concern dirty (or nobody, when everyone
# is to be recomputed anyway) and moves the checkpoint; the people are derived once, by the pass
# that reads the last batch, instead of once per batch they appear in.


def extract(seq: int, body: bytes | str, own: dict | None = None) -> Fact | Void | None:
    """What the rules keep of one stored statement (nothing of one stored with the authority ``own``: the
    statements the rules write themselves, rules/outbound.py, are not facts)."""
    st = orjson.loads(body)
    if own is not None and st.get("authority") == own:
        return None
    obj = st.get("object") or {}
    verb = (st.get("verb") or {}).get("id", "")
    if verb == VOIDED and obj.get("objectType") == "StatementRef":
        return Void(obj["id"], st["id"], seq)
    if obj.get("objectType", "Activity") != "Activity":
        return None
    actor = st.get("actor") or {}
    key = agent_term(actor) if actor.get("objectType", "Agent") == "Agent" else None
    if not key:
        return None
    result = st.get("result") or {}
    scaled = (result.get("score") or {}).get("scaled")
    return Fact(st["id"], seq, key, obj["id"], verb, st.get("timestamp") or st.get("stored"),
                result.get("success"), result.get("completion"), None if scaled is None else float(scaled),
                (st.get("context") or {}).get("registration"))


def replay(events) -> tuple[dict[str, dict[str, str]], set[str]]:
    """What the history says: certification -> {day: status} transitions, and the action ids chained."""
    known: dict[str, dict[str, str]] = {}
    chained: set[str] = set()
    for ev in events:
        b = ev.body
        if b.get("kind") == "status":
            known.setdefault(b["certification"], {})[b["at"]] = b["status"]
        elif b.get("kind") == "retract":
            known.setdefault(b["certification"], {}).pop(b["at"], None)
        elif b.get("kind") == "action":
            chained.add(b["action"]["id"])
    return known, chained


def status_as_of(transitions: dict[str, str], day: str) -> str:
    """The status on ``day`` from {day: status} transitions."""
    status = "not_required"
    for d in sorted(transitions):
        if d > day:
            break
        status = transitions[d]
    return status


class Engine:
    def __init__(self, lrs_store, store, clock: Callable[[], datetime] = utc_now, holder: str | None = None,
                 lease_seconds: float = LEASE_SECONDS, batch: int = BATCH, wall: Callable[[], float] = time.time):
        self.lrs, self.store, self.clock = lrs_store, store, clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease_seconds, self.batch, self.wall = lease_seconds, batch, wall
        self._leased_at = 0.0
        self._head = -1                    # the last history event this engine knows of
        self.polite = False                # give up the GIL often: set by run_forever (shares a process)
        self._worked_since = time.perf_counter()
        self._running = threading.Lock()   # one pass at a time in this process (the lease covers the others)
        self.own_authority: dict | None = None   # statements stored with it are the rules' own: not facts
        # called as hook(engine, now) at the end of each pass, under the lease (rules/outbox.py), returning
        # how many statements it wrote to the LRS; one that fails is logged and the pass still counts
        self.hooks: list[Callable[["Engine", datetime], None]] = []

    def pause(self) -> None:
        """Let the request threads of this process have the GIL, if this thread has had it for
        YIELD_SECONDS (a sleep(0) costs a system call, 10-120 us here, so a rebuild on its own
        does not)."""
        now = time.perf_counter()
        if now - self._worked_since >= YIELD_SECONDS:
            time.sleep(0)
            self._worked_since = time.perf_counter()

    # -- the lease -------------------------------------------------------------------------

    def _lease(self) -> bool:
        now = self.wall()
        if now - self._leased_at < self.lease_seconds / 3:
            return True
        if self.store.take_lease(self.holder, now, self.lease_seconds):
            self._leased_at = now
            return True
        self._leased_at = 0.0
        return False

    def wait_idle(self) -> None:
        """Block until no pass runs in this process (a cancelled task's thread may still be in one)."""
        with self._running:
            pass

    def release(self) -> None:
        if self._leased_at:
            self.store.release_lease(self.holder, self.wall())
            self._leased_at = 0.0

    # -- passes ----------------------------------------------------------------------------

    def run_once(self) -> dict:
        """One pass; {"leased": False} when another engine holds the lease."""
        with self._running:
            if not self._lease():
                return {"leased": False, "statements": 0, "people": 0, "events": 0}
            try:
                return self._pass()
            except LeaseLost:
                self._leased_at = 0.0
                return {"leased": False, "statements": 0, "people": 0, "events": 0}

    def run_until_idle(self, max_passes: int = 1_000_000) -> dict:
        """Passes until the stream is read to its end and nothing is left to recompute."""
        total = {"leased": True, "statements": 0, "people": 0, "events": 0, "passes": 0}
        for _ in range(max_passes):
            done = self.run_once()
            if not done["leased"]:
                total["leased"] = False
                break
            total["passes"] += 1
            for k in ("statements", "people", "events"):
                total[k] += done[k]
            if not done.get("more"):
                break
        total["checkpoint"] = self.store.checkpoint()
        return total

    async def run_forever(self, interval: float = 1.0) -> None:
        """The background task of the service: a pass whenever there may be work, else a pause. Cancelling
        it leaves a pass already in a worker thread running: the caller waits for it (``wait_idle``),
        then gives the lease back (``release``)."""
        import anyio

        self.polite = True
        while True:
            try:
                done = await anyio.to_thread.run_sync(self.run_once)
            except Exception:
                log.exception("rules engine pass failed")
                done = {}
            if not done.get("more"):
                await asyncio.sleep(interval)

    def _pass(self) -> dict:
        # the history as this pass finds it: what it appends must follow it directly, or another
        # process appended in between (its view of the history is stale) and the pass stops
        self._head = self.store.chain_head()[0]
        cp = self.store.checkpoint()
        seq = cp.get("seq", 0)
        pubs = self.store.publications()
        npub = pubs[-1].n if pubs else 0
        defs = published(self.store)
        now = self.clock()
        today = now.date()
        people: set[str] = set()
        everyone = npub != cp.get("publications", 0)

        rows = self.lrs.stream(seq, self.batch)
        facts, voids = [], []
        for i, (s, body) in enumerate(rows):
            if self.polite:
                self.pause()
            item = extract(s, body, self.own_authority)
            if isinstance(item, Fact):
                facts.append(item)
            elif isinstance(item, Void):
                voids.append(item)
        self.store.add_facts(facts, voids)
        new_seq = rows[-1][0] if rows else seq
        # only statements on an activity a completion rule names can change a status (derive reads
        # no other fact); a definition naming another activity is a publication: everyone is recomputed
        relevant = defs.activities()
        agents = {f.agent_key for f in facts if f.activity_id in relevant}
        if voids:
            agents |= self._voided_agents(voids, relevant)
        derived = cp.get("derived", seq)
        if len(rows) >= self.batch and self.lrs.last_seq() - new_seq >= self.batch:
            if agents and not everyone:
                self.store.mark_dirty(sorted(set(self.store.persons_for(sorted(agents)).values())))
            self.store.set_checkpoint({**cp, "seq": new_seq, "derived": derived})
            return {"leased": True, "statements": len(rows), "people": 0, "events": 0, "more": True}
        if agents:
            people.update(self.store.persons_for(sorted(agents)).values())
        due = self.store.due_people(today.isoformat())   # their status changes with the day, by today
        people.update(due)
        marks = self.store.dirty()
        while everyone and len(marks) % PAGE_LIMIT == 0 and marks:
            # everyone is derived now: every mark is done with (read before the derivations, so a
            # mark made meanwhile keeps its new stamp and stays), not a page of them a pass
            page = self.store.dirty(after=marks[-1][0])
            if not page:
                break
            marks += page
        people.update(p for p, _ in marks)

        work = _Work(self)
        if everyone:
            after = None
            while True:
                page = self.store.people(after=after)
                if not page:
                    break
                for v in page:
                    work.add(self.derive_person(v.person_id, defs, now))
                    people.discard(v.person_id)
                after = page[-1].person_id
        for pid in sorted(people):
            work.add(self.derive_person(pid, defs, now))
        work.flush()
        events, count = work.events, work.people
        self.store.clear_dirty(marks)
        more = (len(marks) >= PAGE_LIMIT and not everyone) or len(due) >= PAGE_LIMIT
        checkpoint = {"seq": new_seq, "publications": npub, "day": today.isoformat(),
                      "derived": derived if more else new_seq}
        if checkpoint != cp:      # an idle pass (every LRS_RULES_ENGINE_INTERVAL_SECONDS) writes nothing
            self.store.set_checkpoint(checkpoint)
        wrote = 0
        for hook in self.hooks:
            try:
                wrote += hook(self, now) or 0
            except LeaseLost:
                raise
            except Exception:
                log.exception("rules engine hook %r failed", hook)
        return {"leased": True, "statements": len(rows), "people": count, "events": events,
                "more": len(rows) >= self.batch or more or wrote > 0}   # a hook wrote (read past it) or goes on

    def _voided_agents(self, voids: list[Void], relevant: set[str]) -> set[str]:
        """Whose statements on ``relevant`` activities the voids take back (read from the LRS store:
        voids are rare)."""
        agents = set()
        for v in voids:
            body = self.lrs.get(v.voided_id, True)
            item = extract(0, body) if body else None
            if isinstance(item, Fact) and item.activity_id in relevant:
                agents.add(item.agent_key)
        return agents

    def recompute(self, person_id: str, defs: Definitions, now: datetime) -> int:
        """Derive one person's records and chain what changed; the number of history events appended."""
        self._head = self.store.chain_head()[0]
        work = _Work(self)
        work.add(self.derive_person(person_id, defs, now))
        work.flush()
        return work.events

    def derive_person(self, person_id: str, defs: Definitions, now: datetime) -> tuple[list[dict], list[Record]] | None:
        """What to append to the history (what differs from what it says) and the records to write."""
        versions = self.store.person(person_id)
        if not versions:
            return None
        current = versions[-1]
        facts = self.store.facts_for(list(current.identities))
        actions = self.store.actions_for(person_id)
        derived = derive(versions, facts, actions, defs, now.date())
        known, chained = replay(self.store.history_for(person_id))
        recorded = timestamp(now)
        bodies = []
        for a in actions:
            if a.id not in chained:
                bodies.append({"kind": "action", "person": person_id, "certification": a.target,
                               "action": {"id": a.id, "kind": a.kind, "body": a.body, "reason": a.reason,
                                          "who": a.who, "recorded": a.recorded},
                               "recorded": recorded})
        records = []
        stored = {r.certification: r for r in self.store.records_for(person_id)}
        for cert_id in sorted(derived):
            d = derived[cert_id]
            new = {day: status for day, status, _ in d.timeline}
            old = known.get(cert_id, {})
            for day in sorted(old):
                if new.get(day) != old[day]:
                    bodies.append({"kind": "retract", "person": person_id, "certification": cert_id, "at": day,
                                   "status": old[day], "definition_version": d.definition_version,
                                   "recorded": recorded})
            for day, status, cause in d.timeline:
                if old.get(day) != status:
                    bodies.append({"kind": "status", "person": person_id, "certification": cert_id, "at": day,
                                   "status": status, "cause": cause, "definition_version": d.definition_version,
                                   "recorded": recorded})
            if d.status != "not_required" or d.timeline or old or d.next_change or cert_id in stored:
                rec = to_record(person_id, d, current.attributes, recorded)
                was = stored.get(cert_id)
                if was is None or replace(was, updated=rec.updated) != rec:
                    records.append(rec)   # a record the derivation leaves as it was is not rewritten
        return bodies, records


class _Work:
    """History events and records of the people a pass derived, written a few hundred people at a time:
    the history first (a record never says more than the history), then the records."""

    FLUSH = 500

    def __init__(self, engine: Engine):
        self.engine = engine
        self.bodies: list[dict] = []
        self.records: list[Record] = []
        self.pending = 0
        self.events = 0
        self.people = 0

    def add(self, derived) -> None:
        if self.engine.polite:
            self.engine.pause()
        self.people += 1
        if derived is not None:
            bodies, records = derived
            self.bodies.extend(bodies)
            self.records.extend(records)
            self.pending += 1
        if self.pending >= self.FLUSH:
            self.flush()

    def flush(self) -> None:
        if not self.bodies and not self.records:
            return
        self.engine._leased_at = 0.0        # renew now: the lease must be ours when the records are written
        if not self.engine._lease():
            raise LeaseLost("lease lost during a pass")
        events = self.engine.store.append_history(self.bodies, holder=self.engine.holder, after=self.engine._head)
        if events:
            self.engine._head = events[-1].n
        self.engine.store.put_records(self.records)
        self.events += len(self.bodies)
        self.bodies, self.records, self.pending = [], [], 0


def to_record(person_id: str, d: Derived, attributes: dict, updated: str) -> Record:
    p = d.period
    evidence = {"definition_version": d.definition_version}
    if p is not None:
        evidence.update({"period": p.kind, **p.evidence})
    roles = attributes.get("roles") or ()
    return Record(person_id, d.certification, d.status,
                  p.earned.isoformat() if p else None, p.valid_from.isoformat() if p else None,
                  p.expires.isoformat() if p and p.expires else None, d.due.isoformat() if d.due else None,
                  d.next_change.isoformat() if d.next_change else None, d.definition_version, evidence,
                  attributes.get("site"), tuple(roles) if isinstance(roles, (list, tuple)) else (str(roles),),
                  tuple((day, status) for day, status, _ in d.timeline), updated)
