"""Shared pieces of the rules tests: a hand-moved clock, and a world of an LRS store and a rules store
with people and definitions in place, fed statements directly (tests/rules/scenario_kit.py drives the
whole service over HTTP instead)."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from lrs.statements.terms import statement_terms
from lrs.storage import open_store
from lrs.storage.ports import NewStatement
from rules.core import Rules
from rules.engine import replay
from rules.people import parse_csv
from rules.storage import open_rules_store


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=timezone.utc)



BASE = "http://example.com/activities/"
PEOPLE = "person_id,email,roles\n" + "".join(f"p{i},p{i}@example.com,bus_operator\n" for i in range(3))
START = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)


BUS = {"validity": {"months": 12}, "expiry": {"basis": "previous_expiry"}, "renewal_window_days": 60,
       "grace_days": 30}


def define(rules: Rules, bus: dict | None = None) -> None:
    for kind, body in [
        ("completion", {"id": "bus-course", "activity": BASE + "bus-course", "success": True}),
        ("completion", {"id": "bus-refresher", "activity": BASE + "bus-refresher"}),
        ("completion", {"id": "forklift-course", "activity": BASE + "forklift", "min_score": 0.8}),
        ("completion", {"id": "both", "children": ["bus-course", "forklift-course"], "within_days": 200}),
        ("certification", {"id": "bus-operator", "initial": "bus-course", "renewal": "bus-refresher",
                           **(bus or BUS)}),
        ("certification", {"id": "forklift", "initial": "forklift-course", "validity": {"months": 6},
                           "grace_days": 10, "late_renewal": "credit"}),
        ("certification", {"id": "yard-lead", "initial": "both", "prerequisites": ["forklift"],
                           "validity": {"days": 300}}),
        ("requirement", {"id": "ops", "applies_to": {"roles": ["bus_operator"]}, "certifications": ["bus-operator"],
                         "due": {"days": 30}}),
    ]:
        rules.create_definition(kind, body, "admin", "test")
        rules.publish(kind, body["id"], 1, "admin", "test")


class World:
    """An LRS store and a rules store on one backend, people and definitions in place."""

    def __init__(self, path, backend: str, clock: Clock, bus: dict | None = None):
        self.lrs = open_store(path, backend)
        self.lrs.start()
        self.store = open_rules_store(path, backend, clock=clock)
        self.clock = clock
        self.rules = Rules(self.store, self.lrs, clock=clock)
        self.rules.import_people(parse_csv(PEOPLE), "test")
        define(self.rules, bus)

    def close(self):
        self.store.close()
        self.lrs.close()

    def insert(self, statements: list[dict]) -> None:
        self.lrs.insert([NewStatement(s, statement_terms(s), voids=_voids(s)) for s in statements], {})

    def records(self) -> dict:
        """Records by (person, certification); one that says not required with nothing in its timeline and
        no change ahead says what no record says."""
        out = {}
        for pid in ("p0", "p1", "p2"):
            for r in self.store.records_for(pid):
                if r.status == "not_required" and not r.timeline and r.next_change is None:
                    continue
                out[(pid, r.certification)] = (r.status, r.earned, r.valid_from, r.expires, r.due, r.next_change,
                                               r.definition_version, r.evidence, r.timeline)
        return out

    def known(self) -> dict:
        """The net timelines the history says (a timeline wholly retracted says what none says)."""
        return {pid: {c: t for c, t in replay(self.store.history_for(pid))[0].items() if t}
                for pid in ("p0", "p1", "p2")}


def _voids(s):
    return s["object"]["id"] if s["verb"]["id"].endswith("/voided") else None


def statement(person: int, activity: str, when: datetime, success=True, scaled=None, verb="passed") -> dict:
    st = {"id": str(uuid.uuid4()), "actor": {"mbox": f"mailto:p{person}@example.com"},
          "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, "object": {"id": BASE + activity},
          "timestamp": when.isoformat().replace("+00:00", "Z"), "authority": {"mbox": "mailto:admin@example.com"}}
    result = {"success": success}
    if scaled is not None:
        result["score"] = {"scaled": scaled}
    st["result"] = result
    return st


def voiding(target: str) -> dict:
    return {"id": str(uuid.uuid4()), "actor": {"mbox": "mailto:admin@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target}, "authority": {"mbox": "mailto:admin@example.com"}}


