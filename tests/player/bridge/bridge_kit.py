"""Scripted SCO sessions for the bridge tests, and the checks every plan goes through.

``Sco`` plays the part of the player's runtime: it keeps one SCO's attempts in the layout of
COMMON ``Attempt.data`` (the flat cmi snapshot, the session, closed_time, exit, terminated), starts
a new attempt after one ended and resumes one that did not, and hands each commit with the
attempt before and after it to ``plan``. Statuses are those the test gives (as the runtime would
decide them); without one the bridge reads the raw elements.

``check(plan)`` validates every statement with the LRS's own statement validator, and, when
../shared holds them, every statement and document against the profile's JSON Schemas.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from lrs.statements.validate import validate_statement
from player.bridge import CommitInfo, Context, plan
from player.bridge.values import centiseconds, duration
from player.storage import Attempt

REG = "0f6a7a52-6c1e-4f55-9a0c-3d1f0b6a2c11"
BASE = "http://lrs.test"
LEARNER = {"objectType": "Agent", "account": {"homePage": "https://hr.example.com", "name": "e-1042"}}
COURSE_ID = "5e1f0c2a9b7d4e31"
SHA = "9f" * 32
COURSE_IRI = f"{BASE}/courses/{COURSE_ID}"
SCO_IRI = f"{COURSE_IRI}/scos/lesson%201"
T0 = "2026-11-30T02:00:00.000Z"

SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "spec" / "scorm-profile-document-schemas"
VERB = "http://adlnet.gov/expapi/verbs/"


def context(version: str = "1.2", item: dict | None = None, **kw) -> Context:
    values = dict(learner=LEARNER, registration=REG, course_id=COURSE_ID, course_title="Forklift safety",
                  course_version=3, package_sha256=SHA, sco_id="lesson 1", sco_title="Lesson 1",
                  scorm_version=version, item=item if item is not None else {}, iri_base=BASE)
    values.update(kw)
    return Context(**values)


def at(minute: int, second: int = 0) -> str:
    return f"2026-11-30T02:{minute:02d}:{second:02d}.000Z"


class Sco:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.attempt: Attempt | None = None
        self.plans = []

    @property
    def v12(self) -> bool:
        return self.ctx.scorm_version == "1.2"

    def initialize(self, when: str, cmi: dict | None = None, **statuses):
        cur = self.attempt
        if cur is None or cur.ended:
            number = 1 if cur is None else cur.number + 1
            before = None
            data = {"cmi": dict(cmi or {}), "session": {"number": 1, "started": when, "time": "PT0S"},
                    "closed_time": "PT0S", "exit": "", "terminated": False}
            base = Attempt(self.ctx.registration, self.ctx.sco_id, number, when, when)
        else:   # resume: the SCO gets its data back, but not the write-only exit and session time
            before = cur
            number = cur.number
            old = cur.data
            closed = centiseconds(old["closed_time"]) + centiseconds(old["session"]["time"])
            snapshot = {k: v for k, v in old["cmi"].items()
                        if k not in ("cmi.core.exit", "cmi.exit", "cmi.core.session_time", "cmi.session_time")}
            snapshot.update(cmi or {})
            data = {"cmi": snapshot, "session": {"number": old["session"]["number"] + 1, "started": when,
                                                 "time": "PT0S"},
                    "closed_time": duration(closed), "exit": old["exit"], "terminated": False}
            base = cur
        return self._apply(before, base, data, "initialize", when, statuses)

    def commit(self, when: str, cmi: dict | None = None, **statuses):
        return self._change("commit", when, cmi, statuses)

    def terminate(self, when: str, cmi: dict | None = None, **statuses):
        return self._change("terminate", when, cmi, statuses)

    def _change(self, event: str, when: str, cmi: dict | None, statuses: dict):
        before = self.attempt
        data = json.loads(json.dumps(before.data))
        data["cmi"].update(cmi or {})
        session_key = "cmi.core.session_time" if self.v12 else "cmi.session_time"
        if session_key in data["cmi"]:
            data["session"]["time"] = duration(centiseconds(data["cmi"][session_key]))
        if event == "terminate":
            data["terminated"] = True
            data["exit"] = data["cmi"].get("cmi.core.exit" if self.v12 else "cmi.exit", "")
        return self._apply(before, before, data, event, when, statuses)

    def _apply(self, before, base: Attempt, data: dict, event: str, when: str, statuses: dict):
        seq = base.applied_seq + 1
        total = duration(centiseconds(data["closed_time"]) + centiseconds(data["session"]["time"]))
        ended = event == "terminate" and data["exit"] != "suspend"
        after = Attempt(base.registration_id, base.sco_id, base.number, base.started, when, data, seq,
                        statuses.get("completion", base.completion_status if before else None),
                        statuses.get("success", base.success_status if before else None),
                        None, total, ended)
        p = plan(before, after, CommitInfo(seq, event, when, {}), self.ctx)
        check(p)
        self.attempt = after
        self.plans.append(p)
        return p


# -- expected statements ---------------------------------------------------------------------

def course() -> dict:
    return {"id": COURSE_IRI, "definition": {"name": {"und": "Forklift safety"},
                                             "description": {"en-US": "The activity representing the course "
                                                                      "Forklift safety"},
                                             "type": "http://adlnet.gov/expapi/activities/course"}}


def sco() -> dict:
    return {"id": SCO_IRI, "definition": {"name": {"und": "Lesson 1"},
                                          "description": {"en-US": "The activity representing Lesson 1 in the "
                                                                   "course Forklift safety"},
                                          "type": "http://adlnet.gov/expapi/activities/lesson"}}


def attempt(n: int = 1) -> dict:
    return {"id": f"{SCO_IRI}/attempts/{REG}/{n}",
            "definition": {"name": {"en-US": f"Attempt {n} of Lesson 1"},
                           "description": {"en-US": f"The activity representing attempt {n} of Lesson 1 in the "
                                                    "course Forklift safety"},
                           "type": "http://adlnet.gov/expapi/activities/attempt"}}


PROFILE = {"id": "https://w3id.org/xapi/scorm", "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}


def expected(verb: str, obj: dict | None = None, when: str = T0, result: dict | None = None, n: int = 1,
             parent: bool = False) -> dict:
    """A statement as the profile's examples have it (without its id)."""
    activities = {}
    if parent:
        activities["parent"] = [sco()]
    activities["grouping"] = [course(), attempt(n)]
    activities["category"] = [PROFILE]
    st = {"actor": LEARNER, "verb": {"id": VERB + verb, "display": {"en-US": verb}}, "object": obj or sco()}
    if result is not None:
        st["result"] = result
    st["context"] = {"registration": REG, "revision": "3", "contextActivities": activities,
                     "extensions": {f"{BASE}/extensions/package-sha256": SHA}}
    st["timestamp"] = when
    return st


def without_ids(statements: list[dict]) -> list[dict]:
    return [{k: v for k, v in st.items() if k != "id"} for st in statements]


def verbs(p) -> list[str]:
    return [st["verb"]["id"].rsplit("/", 1)[1] for st in p.statements]


def docs(p, doc_id: str | None = None) -> list:
    return [d for d in p.documents if doc_id is None or d.doc_id == doc_id]


# -- checks ----------------------------------------------------------------------------------

def check(p) -> None:
    """Every statement passes the LRS's own validator (as a 1.0.3 client's would); with the profile's
    schemas at hand, every statement and JSON document passes the schema for what it is."""
    for st in p.statements:
        validate_statement(json.loads(json.dumps(st)), "1.0.3")
    if not SCHEMAS.is_dir():
        return
    for st in p.statements:
        for name in statement_schemas(st):
            errors = list(validator(name).iter_errors(st))
            assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"
    for d in p.documents:
        name = DOCUMENT_SCHEMAS.get(d.doc_id)
        if name:
            errors = list(validator(name).iter_errors(d.body))
            assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


DOCUMENT_SCHEMAS = {
    "https://w3id.org/xapi/scorm/activity-state": "scorm.profile.activity.state.schema.json",
    "https://w3id.org/xapi/scorm/attempt-state": "scorm.profile.attempt.state.schema.json",
    "https://w3id.org/xapi/scorm/activity-profile": "scorm.profile.activity.profile.schema.json",
    "https://w3id.org/xapi/scorm/agent-profile": "scorm.profile.agent.profile.schema.json",
}
SCO_STATEMENT_SCHEMAS = {
    "initialized": ["scorm.profile.initializing.attempt.schema.json"],
    "resumed": ["scorm.profile.resuming.attempt.schema.json"],
    "suspended": ["scorm.profile.suspending.attempt.schema.json", "scorm.profile.session.time.schema.json"],
    "terminated": ["scorm.profile.terminating.attempt.schema.json", "scorm.profile.session.time.schema.json"],
    "completed": ["scorm.profile.completion.status.schema.json"],
    "passed": ["scorm.profile.success.status.schema.json"],
    "failed": ["scorm.profile.success.status.schema.json"],
    "scored": ["scorm.profile.score.schema.json"],
    "progressed": ["scorm.profile.progress.measure.schema.json"],
    "commented": ["scorm.profile.comments.from.learner.schema.json"],
}
DURING = "scorm.profile.reporting.learner.activity.during.attempt.schema.json"
_validators: dict[str, jsonschema.Draft4Validator] = {}


def statement_schemas(st: dict) -> list[str]:
    """The profile's statement schemas ``st`` must pass: the general one ("Reporting learner activity
    during an attempt") always; the one for its verb when its object is the SCO."""
    name = st["verb"]["id"].rsplit("/", 1)[1]
    on_sco = st["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"
    return [DURING] + (SCO_STATEMENT_SCHEMAS.get(name, []) if on_sco else [])


def validator(name: str) -> jsonschema.Draft4Validator:
    if name not in _validators:
        _validators[name] = jsonschema.Draft4Validator(json.loads((SCHEMAS / name).read_text()))
    return _validators[name]
