"""The identifiers the bridge uses: ADL verbs, activity types, the profile's document ids, and the
IRIs of the course, SCO, attempt, interaction and objective activities (xAPI Profile for SCORM 3.2).

Activity IRIs (COMMON to the player): course ``{base}/courses/{course_id}``; SCO
``{course}/scos/{quote(item identifier)}``; attempt ``{sco}/attempts/{registration}/{n}``;
interaction ``{sco}/interactions/{quote(id)}``; objective ``{sco}/objectives/{quote(id)}``, where
``quote`` percent-encodes everything but letters, digits and ``_.-~`` (so an identifier with a slash
or a colon stays one path segment).
"""
from __future__ import annotations

import uuid
from urllib.parse import quote

ADL_VERBS = "http://adlnet.gov/expapi/verbs/"
VERBS = ("initialized", "resumed", "suspended", "terminated", "completed", "passed", "failed", "scored",
         "responded", "progressed", "commented")

ACTIVITY_TYPES = "http://adlnet.gov/expapi/activities/"
COURSE = ACTIVITY_TYPES + "course"
LESSON = ACTIVITY_TYPES + "lesson"          # a SCO
ATTEMPT = ACTIVITY_TYPES + "attempt"
INTERACTION = ACTIVITY_TYPES + "interaction"
OBJECTIVE = ACTIVITY_TYPES + "objective"
PROFILE_TYPE = ACTIVITY_TYPES + "profile"

PROFILE = "https://w3id.org/xapi/scorm"     # the category activity every statement carries
ACTIVITY_STATE = "https://w3id.org/xapi/scorm/activity-state"      # stateId: the SCO's attempts
ATTEMPT_STATE = "https://w3id.org/xapi/scorm/attempt-state"        # stateId: one attempt's values
SUSPEND_DATA = "https://w3id.org/xapi/scorm/types/adl-suspend-data"  # stateId: cmi.suspend_data
ACTIVITY_PROFILE = "https://w3id.org/xapi/scorm/activity-profile"  # profileId: the SCO's manifest values
AGENT_PROFILE = "https://w3id.org/xapi/scorm/agent-profile"        # profileId: the learner's id and name

# Statement ids are uuid5 of this namespace and "registration/SCO/attempt/seq/index": a commit
# recomputed after a crash gets the ids it had, so nothing is stored twice.
STATEMENT_NAMESPACE = uuid.UUID("5d3c1c8e-6a47-5b0e-9f0e-2f6b8f3e0a71")

# Text the bridge writes itself (verb displays, attempt names) is English; text that comes from the
# package (titles, identifiers, descriptions without a {lang=} tag) has no known language: "und".
OWN_LANGUAGE = "en-US"
CONTENT_LANGUAGE = "und"


def verb(name: str) -> dict:
    return {"id": ADL_VERBS + name, "display": {OWN_LANGUAGE: name}}


def segment(identifier: str) -> str:
    return quote(identifier, safe="")


def course_iri(base: str, course_id: str) -> str:
    return f"{base.rstrip('/')}/courses/{segment(course_id)}"


def sco_iri(course: str, item_identifier: str) -> str:
    return f"{course}/scos/{segment(item_identifier)}"


def attempt_iri(sco: str, registration: str, number: int) -> str:
    return f"{sco}/attempts/{registration}/{number}"


def interaction_iri(sco: str, interaction_id: str) -> str:
    return f"{sco}/interactions/{segment(interaction_id)}"


def objective_iri(sco: str, objective_id: str) -> str:
    return f"{sco}/objectives/{segment(objective_id)}"


def statement_id(registration: str, sco_id: str, attempt: int, seq: int, index: int) -> str:
    return str(uuid.uuid5(STATEMENT_NAMESPACE, f"{registration}/{sco_id}/{attempt}/{seq}/{index}"))


def player_authority(iri_base: str) -> dict:
    """The Agent the player's statements are stored with (their ``authority``): an account named
    ``player`` on the activity IRI base, so ``GET /xapi/statements?agent=...&related_agents=true``
    with it finds exactly what the player wrote (profile 7.0, "Authority")."""
    return {"objectType": "Agent", "account": {"homePage": iri_base.rstrip("/"), "name": "player"}}
