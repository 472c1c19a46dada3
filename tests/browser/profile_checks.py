"""What a played course left in a real LRS, checked against ADL's xAPI Profile for SCORM
(../shared/spec/xapi-scorm-profile.md) and its JSON Schemas (../shared/spec/scorm-profile-document-schemas/).

``Course`` holds what a test knows about one learner's registration on one course (the server, the
learner, the course id, the registration, the SCORM version); from it:

- ``statements()``: GET /xapi/statements?registration=...&ascending=true, every one checked for what the
  profile requires of all its statements (``check_statement``);
- ``attempt_statements(item, n)``: those of one SCO attempt (grouping holds the attempt activity);
- ``check_attempt(item, n, expected, ...)``: exact verb counts, order, objects, results and interactions
  against ``learners.Expected``;
- the documents: ``activity_state(item)``, ``attempt_state(item, n)``, ``activity_profile(item)``,
  ``agent_profile()``, each validated against its schema.

The activity IRIs are the bridge's (player/bridge/vocabulary.py) on the server's main origin, which is
the default ``LRS_ACTIVITY_IRI_BASE``."""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass

from browser_kit import REPO, LrsServer
from learners import Expected

sys.path.insert(0, str(REPO / "tests" / "player" / "bridge"))
from bridge_kit import DOCUMENT_SCHEMAS, SCHEMAS, statement_schemas, validator  # noqa: E402

from player.bridge import vocabulary as v  # noqa: E402

PROFILE_CATEGORY = [{"id": v.PROFILE, "definition": {"type": v.PROFILE_TYPE}}]
SCO_VERBS = ("initialized", "resumed", "suspended", "terminated", "completed", "passed", "failed", "scored",
             "commented")


def verb(st: dict) -> str:
    return st["verb"]["id"].rsplit("/", 1)[1]


def schema_errors(name: str, instance) -> list[str]:
    """What the profile's schema ``name`` finds wrong with ``instance`` (none when the schemas are absent)."""
    if not SCHEMAS.is_dir():
        return []
    return [f"{name}: {e.message} at {list(e.absolute_path)}" for e in validator(name).iter_errors(instance)]


@dataclass
class Course:
    srv: LrsServer
    learner: dict
    course_id: str
    registration: str
    scorm_version: str        # "1.2" or "2004"
    revision: int = 1

    # -- IRIs --------------------------------------------------------------------------------------

    @property
    def course_iri(self) -> str:
        return v.course_iri(self.srv.url, self.course_id)

    def sco_iri(self, item: str) -> str:
        return v.sco_iri(self.course_iri, item)

    def attempt_iri(self, item: str, n: int) -> str:
        return v.attempt_iri(self.sco_iri(item), self.registration, n)

    # -- statements ---------------------------------------------------------------------------------

    def statements(self) -> list[dict]:
        found = self.srv.statements(registration=self.registration)
        for st in found:
            self.check_statement(st)
        return found

    def check_statement(self, st: dict) -> None:
        """What the profile asks of every statement of an attempt (3.2, 5.0 "Reporting learner activity"):
        the learner as actor, an ADL verb, the registration, the course and the attempt in grouping, the
        profile activity in category, the SCO as parent of what is inside it; the schemas for its verb."""
        assert st["actor"]["mbox"] == self.learner["mbox"], st["actor"]
        assert st["verb"]["id"].startswith(v.ADL_VERBS) and verb(st) in v.VERBS, st["verb"]
        ctx = st["context"]
        assert ctx["registration"] == self.registration
        assert ctx["revision"] == str(self.revision)
        acts = ctx["contextActivities"]
        if st["object"]["definition"]["type"] == v.COURSE:
            # a course-level statement (issue 12): the course's rolled-up status, no attempt around it
            assert st["object"]["id"] == self.course_iri and verb(st) in ("completed", "passed", "failed", "scored")
            assert set(acts) == {"category"} and acts["category"] == PROFILE_CATEGORY, acts
            assert st["authority"] == v.player_authority(self.srv.url), st["authority"]
            # The profile's schemas describe a SCO attempt's statements; of those only the result's apply
            # (the "during an attempt" one asks for an attempt in grouping, which a course does not have).
            errors = [e for name in statement_schemas(st) if "during.attempt" not in name
                      for e in schema_errors(name, st)]
            assert not errors, (errors, st)
            return
        grouping = acts["grouping"]
        assert [g["definition"]["type"] for g in grouping] == [v.COURSE, v.ATTEMPT], grouping
        assert grouping[0]["id"] == self.course_iri
        attempt = grouping[1]["id"]
        assert attempt.startswith(self.course_iri + "/scos/") and f"/attempts/{self.registration}/" in attempt
        sco = attempt.split("/attempts/")[0]
        assert acts["category"] == PROFILE_CATEGORY
        obj_type = st["object"]["definition"]["type"]
        if obj_type == v.LESSON:
            assert st["object"]["id"] == sco and "parent" not in acts, st
            assert verb(st) in SCO_VERBS + ("progressed",)
        else:
            assert [p["id"] for p in acts["parent"]] == [sco], st
            assert [p["definition"]["type"] for p in acts["parent"]] == [v.LESSON]
            kind = {v.INTERACTION: "/interactions/", v.OBJECTIVE: "/objectives/"}[obj_type]
            assert st["object"]["id"].startswith(sco + kind), st["object"]["id"]
        assert st["authority"] == v.player_authority(self.srv.url), st["authority"]
        errors = [e for name in statement_schemas(st) for e in schema_errors(name, st)]
        assert not errors, (errors, st)

    def attempt_statements(self, item: str, n: int, statements: list[dict] | None = None) -> list[dict]:
        attempt = self.attempt_iri(item, n)
        return [st for st in (self.statements() if statements is None else statements)
                if len(st["context"]["contextActivities"].get("grouping", [])) > 1
                and st["context"]["contextActivities"]["grouping"][1]["id"] == attempt]

    def check_attempt(self, expected: Expected, n: int = 1, *, statements: list[dict] | None = None,
                      sessions: int = 1, suspended: int = 0, ended: bool = True) -> list[dict]:
        """Check attempt ``n`` of ``expected.item`` exactly: verb counts on the SCO and its interactions
        (``expected.verbs`` plus one ``resumed`` per later session and ``suspended`` ones), initialized
        first, terminated (or suspended) last, each resumed right after a suspended, the terminated
        result, the responded interactions, the objective scores and the last progress. Its statements."""
        sts = self.attempt_statements(expected.item, n, statements)
        sco = self.sco_iri(expected.item)
        assert sts, f"no statement for attempt {n} of {expected.item}"
        on_sco = [st for st in sts if st["object"]["id"] == sco]
        counts = Counter(verb(st) for st in on_sco if verb(st) != "progressed")
        counts.update(verb(st) for st in sts if st["object"]["definition"]["type"] == v.INTERACTION)
        want = Counter(expected.verbs)
        if sessions > 1:
            want["resumed"] += sessions - 1
        if suspended:
            want["suspended"] += suspended
        assert counts == want, (expected.item, dict(counts), dict(want), [verb(s) for s in sts])
        names = [verb(st) for st in on_sco if verb(st) != "progressed"]
        assert names[0] == "initialized", names
        if ended:
            assert names[-1] == "terminated", names
        for i, name in enumerate(names):
            if name == "resumed":
                assert names[i - 1] == "suspended" or "suspended" not in names[:i], names
        # timestamps never go back within the attempt
        stamps = [st["timestamp"] for st in on_sco]
        assert stamps == sorted(stamps), stamps
        if ended:
            result = dict(on_sco[-1]["result"])
            assert result.pop("duration").startswith("PT"), on_sco[-1]["result"]
            assert result == expected.result, (expected.item, result, expected.result)
        responded = [st for st in sts if verb(st) == "responded"]
        got = tuple((st["object"]["id"], st["object"]["definition"]["interactionType"], st["result"]["response"],
                     st["result"]["success"]) for st in responded)
        assert got == tuple((v.interaction_iri(sco, i), t, r, s) for i, t, r, s in expected.interactions), got
        for objective, score in expected.objectives.items():
            scored = [st for st in sts if verb(st) == "scored" and st["object"]["id"] == v.objective_iri(sco, objective)]
            assert scored and scored[-1]["result"]["score"] == score, (objective, [s.get("result") for s in scored])
        if expected.progress is not None:
            progressed = [st for st in on_sco if verb(st) == "progressed"]
            assert progressed and progressed[-1]["result"]["score"]["scaled"] == expected.progress
        return sts

    # -- documents ----------------------------------------------------------------------------------

    def _document(self, resource: str, schema_id: str, **params):
        status, body = self.srv.document(resource, **params)
        if status != 200:
            return None
        name = DOCUMENT_SCHEMAS.get(schema_id)
        if name and isinstance(body, dict):
            errors = schema_errors(name, body)
            assert not errors, errors
        return body

    def activity_state(self, item: str):
        """The SCO's activity state (profile Appendix "SCORM Activity State"): {"attempts": [attempt IRIs]}."""
        return self._document("activities/state", v.ACTIVITY_STATE, activityId=self.sco_iri(item),
                              agent=self.learner, stateId=v.ACTIVITY_STATE)

    def attempt_state(self, item: str, n: int = 1):
        return self._document("activities/state", v.ATTEMPT_STATE, activityId=self.attempt_iri(item, n),
                              agent=self.learner, stateId=v.ATTEMPT_STATE)

    def suspend_data(self, item: str, n: int = 1):
        return self._document("activities/state", v.SUSPEND_DATA, activityId=self.attempt_iri(item, n),
                              agent=self.learner, stateId=v.SUSPEND_DATA)

    def activity_profile(self, item: str):
        return self._document("activities/profile", v.ACTIVITY_PROFILE, activityId=self.sco_iri(item),
                              profileId=v.ACTIVITY_PROFILE)

    def agent_profile(self):
        return self._document("agents/profile", v.AGENT_PROFILE, agent=self.learner, profileId=v.AGENT_PROFILE)

    def check_documents(self, item: str, attempts: int = 1, location: str | None = None,
                        activity_profile: dict | None = None) -> dict:
        """The activity state lists the SCO's attempts in order; the last attempt's state has credit,
        mode, the location and a total time; the activity profile holds what the manifest says; the
        agent profile the learner's id and name. The last attempt state."""
        assert self.activity_state(item) == {"attempts": [self.attempt_iri(item, n) for n in range(1, attempts + 1)]}
        state = self.attempt_state(item, attempts)
        assert state is not None, f"no attempt state for attempt {attempts} of {item}"
        assert state["credit"] == "credit" and state["mode"] == "normal", state
        assert state["total_time"].startswith("PT"), state
        if location is not None:
            assert state.get("location") == location, state
        assert self.activity_profile(item) == activity_profile
        assert self.agent_profile() == {"learner_id": self.learner["mbox"][len("mailto:"):],
                                        "learner_name": self.learner["name"]}
        return state


def per_key(statements: list[dict]) -> Counter:
    """How many statements there are of each (verb, object id): a count above one for a ``responded``
    means an answer stored twice."""
    return Counter((verb(st), st["object"]["id"]) for st in statements)


def seconds(duration: str) -> float:
    """An ISO 8601 duration PT#H#M#S as seconds."""
    import re

    m = re.fullmatch(r"PT(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", duration)
    assert m, duration
    h, mi, s = m.groups()
    return int(h or 0) * 3600 + int(mi or 0) * 60 + float(s or 0)
