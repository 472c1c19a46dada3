"""The profile's documents (Appendix, "xAPI SCORM Data Objects") built from an attempt and its SCO:
the attempt state, the activity state's ``attempts``, suspend data, the activity profile and the
agent profile. Each is a JSON object its schema in ``scorm-profile-document-schemas/`` accepts
(suspend data is text): values that schema would refuse are left out."""
from __future__ import annotations

import re
from dataclasses import dataclass

import orjson

from lrs.statements.agents import agent_key

from . import values
from .vocabulary import (ACTIVITY_PROFILE, ACTIVITY_STATE, AGENT_PROFILE, ATTEMPT_STATE, SUSPEND_DATA)

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
CREDIT = ("credit", "no-credit")
MODES = ("browse", "normal", "review")
TIME_LIMIT_ACTIONS = ("exit,message", "continue,message", "exit,no message", "continue,no message")
_PREFERENCE_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2,3}(?:-[a-zA-Z]{4})?)?$")  # the schemas' pattern


@dataclass(frozen=True)
class DocumentWrite:
    """One document to write through the LRS's document port.

    ``resource``: the store's kind, "state", "activity_profile" or "agent_profile"; ``doc_id``: the
    stateId or profileId; ``activity_id``/``agent``/``registration``: the parameters that address
    it ("" / None where the resource has none); ``body``: a JSON object, or text (suspend data);
    ``how``: "replace" (the body is the document), "merge" (its properties replace those of the
    stored JSON object, as an xAPI POST does) or "append" (its ``attempts`` are appended to the
    stored ``attempts`` array, those already there skipped)."""
    resource: str
    doc_id: str
    activity_id: str
    agent: dict | None
    registration: str
    body: dict | str
    content_type: str
    how: str

    def content(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else orjson.dumps(self.body)

    def scope(self) -> tuple[str, str, str]:
        """(activity id, agent key, registration) as the LRS's DocumentStore takes them."""
        return self.activity_id, agent_key(self.agent) if self.agent else "", self.registration

    def params(self) -> dict[str, str]:
        """The query parameters of the xAPI resource that reads it (``/xapi/activities/state`` ...)."""
        out: dict[str, str] = {}
        if self.activity_id:
            out["activityId"] = self.activity_id
        if self.agent:
            out["agent"] = orjson.dumps(self.agent).decode()
        if self.registration:
            out["registration"] = self.registration
        out["stateId" if self.resource == "state" else "profileId"] = self.doc_id
        return out


def activity_state(sco_iri: str, learner: dict, attempt_iri: str) -> DocumentWrite:
    """The SCO's activity state: the attempt IRI appended to ``attempts`` (profile 5.0, "Initializing
    an attempt"; Appendix "Set activity state with current attempt")."""
    return DocumentWrite("state", ACTIVITY_STATE, sco_iri, learner, "", {"attempts": [attempt_iri]}, JSON, "append")


def attempt_state_body(attempt, scorm_version: str, credit: str, mode: str) -> dict:
    """The attempt state object: credit, mode, location, the learner's content-specific
    preferences and the total time."""
    cmi = (attempt.data or {}).get("cmi") or {}
    body: dict = {}
    if credit in CREDIT:
        body["credit"] = credit
    if mode in MODES:
        body["mode"] = mode
    location = cmi.get("cmi.core.lesson_location" if scorm_version == "1.2" else "cmi.location")
    if isinstance(location, str):
        body["location"] = location
    prefs = preferences(cmi, scorm_version)
    if prefs:
        body["preferences"] = prefs
    total = total_time(attempt)
    if total is not None:
        body["total_time"] = total
    return body


def attempt_state(attempt_iri: str, learner: dict, body: dict) -> DocumentWrite:
    return DocumentWrite("state", ATTEMPT_STATE, attempt_iri, learner, "", body, JSON, "merge")


def suspend_data(attempt_iri: str, learner: dict, text: str) -> DocumentWrite:
    """cmi.suspend_data, as text, in the state document of the current attempt (profile 6.0, "Suspend Data")."""
    return DocumentWrite("state", SUSPEND_DATA, attempt_iri, learner, "", text, TEXT, "replace")


def preferences(cmi: dict, scorm_version: str) -> dict:
    """The learner preferences of the attempt, named as the profile's Preferences Object names them."""
    if scorm_version == "1.2":
        names = {"audio_level": "cmi.student_preference.audio", "language": "cmi.student_preference.language",
                 "delivery_speed": "cmi.student_preference.speed", "audio_captioning": "cmi.student_preference.text"}
    else:
        names = {name: "cmi.learner_preference." + name
                 for name in ("audio_level", "language", "delivery_speed", "audio_captioning")}
    out: dict = {}
    for name in ("audio_level", "delivery_speed"):
        value = values.number(cmi.get(names[name]))
        if value is not None and value >= 0:   # 1.2 uses -1 for "off" and negative speeds: no 2004 value
            out[name] = value
    language = cmi.get(names["language"])
    if isinstance(language, str) and _PREFERENCE_LANGUAGE.match(language):
        out["language"] = language
    captioning = values.number(cmi.get(names["audio_captioning"]))
    if captioning in (-1, 0, 1):
        out["audio_captioning"] = captioning
    return {name: out[name] for name in ("audio_level", "language", "delivery_speed", "audio_captioning")
            if name in out}


def total_time(attempt) -> str | None:
    """The attempt's total time: ``Attempt.total_time``, else closed_time plus the session's time."""
    total = values.iso_duration(getattr(attempt, "total_time", None))
    if total is not None:
        return total
    data = attempt.data or {}
    closed = values.centiseconds(data.get("closed_time"))
    session = values.centiseconds((data.get("session") or {}).get("time"))
    if closed is None and session is None:
        return None
    return values.duration((closed or 0) + (session or 0))


def activity_profile(sco_iri: str, item: dict, scorm_version: str) -> DocumentWrite | None:
    """The SCO's activity profile from its manifest item (same for every learner): completion
    threshold, launch data, max time allowed (seconds), scaled passing score, time limit action."""
    item = item or {}
    body: dict = {}
    threshold = item.get("completion_threshold")
    if isinstance(threshold, dict):
        threshold = threshold.get("min_progress_measure")
    threshold = values.number(threshold)
    if threshold is not None and 0 <= threshold <= 1:
        body["completion_threshold"] = threshold
    launch_data = item.get("data_from_lms")
    if isinstance(launch_data, str):
        body["launch_data"] = launch_data
    max_time = values.centiseconds(item.get("max_time_allowed") or _duration_limit(item))
    if max_time is not None:
        body["max_time_allowed"] = values.number(max_time / 100)
    passing = scaled_passing_score(item, scorm_version)
    if passing is not None:
        body["scaled_passing_score"] = passing
    action = item.get("time_limit_action")
    if isinstance(action, str) and action.strip().lower() in TIME_LIMIT_ACTIONS:
        body["time_limit_action"] = action.strip().lower()
    if not body:
        return None
    return DocumentWrite("activity_profile", ACTIVITY_PROFILE, sco_iri, None, "", body, JSON, "replace")


def _duration_limit(item: dict):
    """SCORM 2004: imsss:limitConditions attemptAbsoluteDurationLimit, the source of cmi.max_time_allowed."""
    limits = (item.get("sequencing") or {}).get("limitConditions")
    return limits.get("attemptAbsoluteDurationLimit") if isinstance(limits, dict) else None


def scaled_passing_score(item: dict, scorm_version: str) -> float | int | None:
    """1.2: adlcp:masteryscore / 100. 2004: the primary objective's minNormalizedMeasure when it is
    satisfied by measure (what the LMS initialises cmi.scaled_passing_score from)."""
    if scorm_version == "1.2":
        mastery = values.number(item.get("mastery_score"))
        return values.number(round(mastery / 100, 7)) if mastery is not None and 0 <= mastery <= 100 else None
    for objective in item.get("objectives") or ():
        if isinstance(objective, dict) and objective.get("primary"):
            measure = values.number(objective.get("min_normalized_measure"))
            if objective.get("satisfied_by_measure") and measure is not None and -1 <= measure <= 1:
                return measure
            return None
    return None


def agent_profile(learner: dict, learner_id: str | None, learner_name: str | None) -> DocumentWrite | None:
    body = {key: value for key, value in (("learner_id", learner_id), ("learner_name", learner_name))
            if isinstance(value, str)}
    if not body:
        return None
    return DocumentWrite("agent_profile", AGENT_PROFILE, "", learner, "", body, JSON, "merge")
