"""The SCORM run-time data models on the server: which elements a SCO may write, and which values.

``validate_data(scorm_version, data)`` checks one commit's snapshot: a flat map of SCORM element names
to values, as the browser runtime sends it (``{"cmi.core.lesson_status": "incomplete", ...}``).

- Every key is an element the SCO may write in that version (SCORM 1.2 RTE 3.4.4; SCORM 2004 4th
  edition RTE 4.2), plus ``adl.nav.request`` in 2004. A read-only element (``cmi.core.student_id``,
  ``cmi.entry``, ``cmi.total_time``, ``_count``, ...) or an unknown one is refused: the LMS sets those.
- Every value is a string, checked against the element's data type: vocabularies, decimals and their
  ranges, time spans, timestamps, identifiers, character strings and their lengths, 2004 localized
  strings (``{lang=de}Text``), 2004 interaction responses by interaction type (responses.py).
  ``""`` is the value of an element the SCO has not set (a snapshot carries the data model's
  defaults), so it is accepted everywhere but in identifiers.
- Collections (objectives, interactions, their objectives and correct responses, 2004 comments) are
  numbered from 0 without gaps. In SCORM 2004 every objective and interaction entry has its ``id``:
  the SCO sets it first (2004 RTE 4.2.9, 4.2.17: error 408 otherwise). SCORM 1.2 sets no such order
  and scorm-again takes an entry's other fields before its id, so a 1.2 entry may lack it (the
  bridge then names the activity after its index).

The rules follow the data model that runs in the browser, scorm-again 3.4.3, and are never stricter
than it for a value it accepts through SetValue: a value the browser took is never refused on commit
(a refused commit would leave the learner's whole snapshot unsaved). Where scorm-again goes beyond
the specification on purpose, so does the server:

- SCORM 1.2 ``cmi.suspend_data`` holds up to 64000 characters (the 1.2 SPM is 4096; real content
  overflows it, and scorm-again accepts 64000).
- SCORM 1.2 identifiers (objective and interaction ids) are any printable ASCII and spaces, up to 255
  characters (1.2 strictly allows letters, digits, ``-`` and ``_``).
- SCORM 1.2 ``student_response`` and ``correct_responses.n.pattern`` are free text: scorm-again does
  not check the 1.2 per-type formats (SCORM 1.2 RTE 3.4.4, cmi.interactions.n.student_response) and
  1.2 content in the field writes words where the format wants single characters.
  They are capped at ``MAX_FREE_TEXT`` characters.
- SCORM 1.2 ``cmi.interactions.n.result`` ``incorrect`` (2004's word) is taken as ``wrong``, the 1.2
  word, as scorm-again normalizes it.

Caps (constants, not settings; chosen from the SCORM 2004 smallest permitted maximums, SPMs, with room
for long assessments, since scorm-again caps no collection):

===============================  =========  ========================================================
``MAX_INTERACTIONS``             500        interactions (2004 SPM 250; a 50-question quiz taken 10 times)
``MAX_OBJECTIVES``               250        objectives (2004 SPM 100)
``MAX_COMMENTS``                 250        2004 comments_from_learner (SPM 250)
``MAX_INTERACTION_OBJECTIVES``   50         objective ids of one interaction (SPM 10)
``MAX_CORRECT_RESPONSES``        50         correct response patterns of one interaction (SPM 10)
``MAX_FREE_TEXT``                64000      characters of a value whose type sets no length
``MAX_ELEMENTS``                 12000      keys in one commit
``MAX_TOTAL_CHARS``              1000000    characters of all keys and values of one commit
===============================  =========  ========================================================

Every refusal is a ``CommitRejected`` (400) whose ``path`` is the element name and whose message
says what the element accepts.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Callable

from . import responses
from .durations import DURATION_2004, TIMESPAN_12
from .errors import CommitRejected, bad

MAX_INTERACTIONS = 500
MAX_OBJECTIVES = 250
MAX_COMMENTS = 250
MAX_INTERACTION_OBJECTIVES = 50
MAX_CORRECT_RESPONSES = 50
MAX_FREE_TEXT = 64000
MAX_ELEMENTS = 12000
MAX_TOTAL_CHARS = 1_000_000

VERSIONS = ("1.2", "2004")

# ---------------------------------------------------------------------------------------------
# Value types. Each checker takes a non-empty string and raises ValueError with what it accepts.
# ---------------------------------------------------------------------------------------------

Check = Callable[[str], None]

_DECIMAL_12 = re.compile(r"^-?(?:[0-9]{1,10}(?:\.[0-9]*)?|\.[0-9]+)$")      # RTE 1.2 CMIDecimal
_DECIMAL_2004 = re.compile(r"^-?[0-9]{1,10}(?:\.[0-9]{1,18})?$")            # RTE 2004 real(10,7)
_SINTEGER = re.compile(r"^-?[0-9]{1,10}$")
_IDENTIFIER_12 = re.compile(r"^[\x21-\x7e\s]{1,255}$")                      # CMIIdentifier (relaxed)
_TIME_12 = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,2})?$")   # CMITime
_TIME_2004 = re.compile(                                                   # RTE 2004 data type time (second,10,0)
    r"^(?:19[7-9][0-9]|[2-9][0-9]{3})"
    r"(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3])(?::[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?)?"
    r"(?:Z|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)?)?)?)?$")
_LANG = re.compile(r"^(?:[a-zA-Z]{1,8}|i|x)(?:-[a-zA-Z0-9-]{2,8})?$")
_NAV_REQUEST = re.compile(
    r"^(?:_?(?:start|resumeAll|previous|continue|exit|exitAll|abandon|abandonAll|suspendAll|retry|"
    r"retryAll)|_none_|(?:\{target=\S*[a-zA-Z0-9_-]+\})?(?:choice|jump))$")


def _vocabulary(*words: str) -> Check:
    allowed = frozenset(words)
    listing = ", ".join(repr(w) for w in words)

    def check(value: str) -> None:
        if value not in allowed:
            raise ValueError(f"{value[:60]!r} is not one of {listing}")
    return check


def _decimal(pattern: re.Pattern, low: float | None = None, high: float | None = None) -> Check:
    span = "" if low is None else f" from {_num(low)} to {_num(high)}" if high is not None \
        else f" of at least {_num(low)}"

    def check(value: str) -> None:
        if not pattern.match(value):
            raise ValueError(f"{value[:60]!r} is not a decimal number{span}")
        number = float(value)
        if not math.isfinite(number) or (low is not None and number < low) or \
                (high is not None and number > high):
            raise ValueError(f"{value!r} is out of range: the value must be{span}")
    return check


def _integer(low: int, high: int) -> Check:
    def check(value: str) -> None:
        if not _SINTEGER.match(value):
            raise ValueError(f"{value[:60]!r} is not an integer from {low} to {high}")
        if not low <= int(value) <= high:
            raise ValueError(f"{value!r} is out of range: the value must be from {low} to {high}")
    return check


def _string(limit: int) -> Check:
    def check(value: str) -> None:
        if len(value) > limit:
            raise ValueError(f"the value is {len(value)} characters long; at most {limit} are allowed")
    return check


def _localized(limit: int) -> Check:
    """A 2004 localized_string_type: an optional ``{lang=xx}`` delimiter, then up to ``limit`` characters."""
    def check(value: str) -> None:
        responses._localized(value, limit, "the text")
    return check


def _pattern(regex: re.Pattern, what: str) -> Check:
    def check(value: str) -> None:
        if not regex.match(value):
            raise ValueError(f"{value[:60]!r} is not {what}")
    return check


def _identifier_12(value: str) -> None:
    if not _IDENTIFIER_12.match(value):
        raise ValueError(f"{value[:60]!r} is not a CMIIdentifier (1 to 255 printable ASCII characters)")


def _identifier_2004(value: str) -> None:
    if not value.strip() or len(value) > 4000:
        raise ValueError(f"{value[:60]!r} is not a long_identifier_type (1 to 4000 characters, "
                         "not only spaces)")


def _timespan_12(value: str) -> None:
    if not TIMESPAN_12.match(value):
        raise ValueError(f"{value[:60]!r} is not a CMITimespan (HHHH:MM:SS.SS, e.g. 0000:01:30.5)")


def _duration_2004(value: str) -> None:
    if not DURATION_2004.match(value):
        raise ValueError(f"{value[:60]!r} is not a timeinterval (ISO 8601 duration, seconds to "
                         "two decimals, e.g. PT1M30.5S)")


def _result_12(value: str) -> None:
    if value in ("correct", "wrong", "unanticipated", "neutral", "incorrect"):
        return
    if not re.match(r"^[0-9]{0,3}(?:\.[0-9]*)?$", value) or value in (".",):
        raise ValueError(f"{value[:60]!r} is not 'correct', 'wrong', 'unanticipated', 'neutral' "
                         "or a number")


def _result_2004(value: str) -> None:
    if value in ("correct", "incorrect", "unanticipated", "neutral"):
        return
    if not re.match(r"^-?[0-9]{1,4}(?:\.[0-9]{1,18})?$", value):
        raise ValueError(f"{value[:60]!r} is not 'correct', 'incorrect', 'unanticipated', 'neutral' "
                         "or a number")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


# ---------------------------------------------------------------------------------------------
# The element tables. Index segments are written "n"; None marks a read-only element.
# ---------------------------------------------------------------------------------------------

_SCORE_12 = _decimal(_DECIMAL_12, 0, 100)
_STATUS_12 = ("passed", "completed", "failed", "incomplete", "browsed", "not attempted")

ELEMENTS_12: dict[str, Check | None] = {
    # SCORM 1.2 RTE 3.4.4 (the data model elements)
    "cmi.core.lesson_location": _string(255),
    # "not attempted" is the LMS's initial value; the SCO writes the others. A snapshot carries both.
    "cmi.core.lesson_status": _vocabulary(*_STATUS_12),
    "cmi.core.score.raw": _SCORE_12,
    "cmi.core.score.min": _SCORE_12,
    "cmi.core.score.max": _SCORE_12,
    "cmi.core.exit": _vocabulary("time-out", "suspend", "logout", ""),
    "cmi.core.session_time": _timespan_12,
    "cmi.suspend_data": _string(64000),
    "cmi.comments": _string(4096),
    "cmi.objectives.n.id": _identifier_12,
    "cmi.objectives.n.score.raw": _SCORE_12,
    "cmi.objectives.n.score.min": _SCORE_12,
    "cmi.objectives.n.score.max": _SCORE_12,
    "cmi.objectives.n.status": _vocabulary(*_STATUS_12),
    "cmi.student_preference.audio": _integer(-1, 100),
    "cmi.student_preference.language": _string(255),
    "cmi.student_preference.speed": _integer(-100, 100),
    "cmi.student_preference.text": _integer(-1, 1),
    "cmi.interactions.n.id": _identifier_12,
    "cmi.interactions.n.objectives.n.id": _identifier_12,
    "cmi.interactions.n.time": _pattern(_TIME_12, "a CMITime (HH:MM:SS, e.g. 14:05:09)"),
    "cmi.interactions.n.type": _vocabulary("true-false", "choice", "fill-in", "matching", "performance",
                                           "sequencing", "likert", "numeric"),
    "cmi.interactions.n.correct_responses.n.pattern": _string(MAX_FREE_TEXT),
    "cmi.interactions.n.weighting": _decimal(_DECIMAL_12, -100, 100),
    "cmi.interactions.n.student_response": _string(MAX_FREE_TEXT),
    "cmi.interactions.n.result": _result_12,
    "cmi.interactions.n.latency": _timespan_12,
    # read-only: the LMS sets them at launch
    "cmi._version": None, "cmi._children": None,
    "cmi.core._children": None, "cmi.core.student_id": None, "cmi.core.student_name": None,
    "cmi.core.credit": None, "cmi.core.entry": None, "cmi.core.total_time": None,
    "cmi.core.lesson_mode": None, "cmi.core.score._children": None,
    "cmi.launch_data": None, "cmi.comments_from_lms": None,
    "cmi.objectives._children": None, "cmi.objectives._count": None,
    "cmi.objectives.n.score._children": None,
    "cmi.student_data._children": None, "cmi.student_data.mastery_score": None,
    "cmi.student_data.max_time_allowed": None, "cmi.student_data.time_limit_action": None,
    "cmi.student_preference._children": None,
    "cmi.interactions._children": None, "cmi.interactions._count": None,
    "cmi.interactions.n.objectives._count": None, "cmi.interactions.n.correct_responses._count": None,
}

_SCORE_2004 = _decimal(_DECIMAL_2004)
_SCALED = _decimal(_DECIMAL_2004, -1, 1)
_MEASURE = _decimal(_DECIMAL_2004, 0, 1)
_COMPLETION = _vocabulary("completed", "incomplete", "not attempted", "unknown")
_SUCCESS = _vocabulary("passed", "failed", "unknown")

ELEMENTS_2004: dict[str, Check | None] = {
    # SCORM 2004 4th edition RTE 4.2
    "cmi.comments_from_learner.n.comment": _localized(4000),
    "cmi.comments_from_learner.n.location": _string(250),
    "cmi.comments_from_learner.n.timestamp": _pattern(_TIME_2004, "a time (second,10,0) "
                                                      "(ISO 8601, e.g. 2026-11-30T02:03:04.5Z)"),
    "cmi.completion_status": _COMPLETION,
    "cmi.exit": _vocabulary("time-out", "suspend", "logout", "normal", ""),
    "cmi.interactions.n.id": _identifier_2004,
    "cmi.interactions.n.type": _vocabulary(*responses.TYPES),
    "cmi.interactions.n.objectives.n.id": _identifier_2004,
    "cmi.interactions.n.timestamp": _pattern(_TIME_2004, "a time (second,10,0) "
                                             "(ISO 8601, e.g. 2026-11-30T02:03:04.5Z)"),
    # the response formats depend on the interaction's type: checked in _check_responses
    "cmi.interactions.n.correct_responses.n.pattern": _string(MAX_FREE_TEXT),
    "cmi.interactions.n.weighting": _SCORE_2004,
    "cmi.interactions.n.learner_response": _string(MAX_FREE_TEXT),
    "cmi.interactions.n.result": _result_2004,
    "cmi.interactions.n.latency": _duration_2004,
    "cmi.interactions.n.description": _localized(MAX_FREE_TEXT),
    "cmi.learner_preference.audio_level": _decimal(_DECIMAL_2004, 0, 999.9999999),
    "cmi.learner_preference.language": _pattern(_LANG, "a language code (e.g. en, fr-CA)"),
    "cmi.learner_preference.delivery_speed": _decimal(_DECIMAL_2004, 0, 999.9999999),
    "cmi.learner_preference.audio_captioning": _integer(-1, 1),
    "cmi.location": _string(1000),
    "cmi.objectives.n.id": _identifier_2004,
    "cmi.objectives.n.score.scaled": _SCALED,
    "cmi.objectives.n.score.raw": _SCORE_2004,
    "cmi.objectives.n.score.min": _SCORE_2004,
    "cmi.objectives.n.score.max": _SCORE_2004,
    "cmi.objectives.n.success_status": _SUCCESS,
    "cmi.objectives.n.completion_status": _COMPLETION,
    "cmi.objectives.n.progress_measure": _MEASURE,
    "cmi.objectives.n.description": _localized(MAX_FREE_TEXT),
    "cmi.progress_measure": _MEASURE,
    "cmi.score.scaled": _SCALED,
    "cmi.score.raw": _SCORE_2004,
    "cmi.score.min": _SCORE_2004,
    "cmi.score.max": _SCORE_2004,
    "cmi.session_time": _duration_2004,
    "cmi.success_status": _SUCCESS,
    "cmi.suspend_data": _string(64000),
    "adl.nav.request": _pattern(_NAV_REQUEST, "a navigation request (continue, previous, exit, "
                                "exitAll, abandon, abandonAll, suspendAll, {target=ID}choice, "
                                "{target=ID}jump or _none_)"),
    # read-only: the LMS sets them at launch
    "cmi._version": None, "cmi._children": None,
    "cmi.comments_from_learner._children": None, "cmi.comments_from_learner._count": None,
    "cmi.comments_from_lms._children": None, "cmi.comments_from_lms._count": None,
    "cmi.comments_from_lms.n.comment": None, "cmi.comments_from_lms.n.location": None,
    "cmi.comments_from_lms.n.timestamp": None,
    "cmi.completion_threshold": None, "cmi.credit": None, "cmi.entry": None,
    "cmi.interactions._children": None, "cmi.interactions._count": None,
    "cmi.interactions.n.objectives._count": None, "cmi.interactions.n.correct_responses._count": None,
    "cmi.launch_data": None, "cmi.learner_id": None, "cmi.learner_name": None,
    "cmi.learner_preference._children": None, "cmi.max_time_allowed": None, "cmi.mode": None,
    "cmi.objectives._children": None, "cmi.objectives._count": None,
    "cmi.objectives.n.score._children": None, "cmi.score._children": None,
    "cmi.scaled_passing_score": None, "cmi.time_limit_action": None, "cmi.total_time": None,
    "adl.nav.request_valid.continue": None, "adl.nav.request_valid.previous": None,
    "adl.nav.request_valid.choice": None, "adl.nav.request_valid.jump": None,
}

TABLES = {"1.2": ELEMENTS_12, "2004": ELEMENTS_2004}

# collection template -> (cap, whether each entry needs an id)
_COLLECTIONS = {
    "cmi.objectives": (MAX_OBJECTIVES, True),
    "cmi.interactions": (MAX_INTERACTIONS, True),
    "cmi.interactions.n.objectives": (MAX_INTERACTION_OBJECTIVES, True),
    "cmi.interactions.n.correct_responses": (MAX_CORRECT_RESPONSES, False),
    "cmi.comments_from_learner": (MAX_COMMENTS, False),
}
_SPEC = {"1.2": "SCORM 1.2", "2004": "SCORM 2004"}


def template(key: str) -> tuple[str, list[tuple[str, int]]] | None:
    """``cmi.interactions.3.objectives.0.id`` -> (``cmi.interactions.n.objectives.n.id``,
    [(``cmi.interactions``, 3), (``cmi.interactions.3.objectives``, 0)]); None for a malformed index
    (a sign, a leading zero, non-ASCII digits)."""
    parts = key.split(".")
    names = list(parts)
    indexes: list[tuple[str, int]] = []
    for i, part in enumerate(parts):
        if part and (part[0] in "0123456789-" or not part.isascii() or part.isdigit()):
            if not (part.isascii() and part.isdigit()) or (len(part) > 1 and part[0] == "0") or len(part) > 6:
                return None
            indexes.append((".".join(parts[:i]), int(part)))
            names[i] = "n"
    return ".".join(names), indexes


@lru_cache(maxsize=1 << 16)
def _shape(key: str) -> tuple[str, tuple[tuple[str, str, int, str], ...]] | None:
    """``template`` of a key with, for each index, (collection template, concrete prefix, index, the
    field after it). Cached: the same keys come back in every commit of every learner."""
    found = template(key)
    if found is None:
        return None
    name, indexes = found
    names = name.split(".")
    slots = []
    for prefix, index in indexes:
        depth = prefix.count(".") + 1
        slots.append((".".join(names[:depth]), prefix, index, key[len(prefix) + len(str(index)) + 2:]))
    return name, tuple(slots)


def validate_data(scorm_version: str, data: dict) -> dict:
    """The snapshot ``data`` checked against the SCORM ``scorm_version`` ("1.2" or "2004") data model.

    Answers a new dict with the same keys and values (SCORM 1.2 result ``incorrect`` written
    ``wrong``). Raises ``CommitRejected`` (400, path = the element) for the first element refused.
    """
    if scorm_version not in TABLES:
        raise ValueError(f"scorm_version must be '1.2' or '2004', not {scorm_version!r}")
    table = TABLES[scorm_version]
    spec = _SPEC[scorm_version]
    if not isinstance(data, dict):
        raise bad("data must be a JSON object of SCORM element names to string values", "data")
    if len(data) > MAX_ELEMENTS:
        raise bad(f"data holds {len(data)} elements; at most {MAX_ELEMENTS} are accepted in one commit",
                  "data")
    total = 0
    out: dict[str, str] = {}
    entries: dict[tuple[str, str], dict[int, set[str]]] = {}   # (collection template, concrete prefix)
    for key, value in data.items():
        if not isinstance(value, str):
            raise bad(f"the value of {key} must be a string, as SCORM holds it (\"80\", not 80), "
                      f"not {type(value).__name__}", key)
        total += len(key) + len(value)
        if total > MAX_TOTAL_CHARS:
            raise bad(f"data is over {MAX_TOTAL_CHARS} characters; a commit holds less", "data")
        shape = _shape(key) if len(key) <= 255 else None
        if shape is None:
            raise bad(f"{key[:100]} is not a {spec} data model element", key[:255])
        name, slots = shape
        if name not in table:
            raise bad(_unknown_message(key, name, scorm_version), key)
        check = table[name]
        if check is None:
            raise bad(f"{key} is read-only in {spec}: the LMS sets it at launch; leave it out of "
                      "the commit", key)
        if value == "":
            if name.endswith(".id"):
                raise bad(f"{key} is empty; an identifier needs at least one character", key)
        else:
            try:
                check(value)
            except ValueError as exc:
                raise bad(f"{key}: {exc}", key) from None
        if scorm_version == "1.2" and name == "cmi.interactions.n.result" and value == "incorrect":
            value = "wrong"
        out[key] = value
        for coll, prefix, index, field in slots:
            entries.setdefault((coll, prefix), {}).setdefault(index, set()).add(field)
    _check_collections(entries, out, scorm_version)
    if scorm_version == "2004":
        _check_responses(out, entries)
    return out


def _unknown_message(key: str, name: str, version: str) -> str:
    other = "2004" if version == "1.2" else "1.2"
    hint = ""
    if name in TABLES[other]:
        hint = f" (it is a SCORM {other} element: the course is SCORM {version})"
    elif name.startswith("adl.data"):
        hint = " (adl.data shared data is not supported by this player)"
    return f"{key} is not a {_SPEC[version]} data model element{hint}"


def _check_collections(entries: dict, data: dict, version: str) -> None:
    for (coll, prefix), by_index in sorted(entries.items(), key=lambda kv: kv[0][1]):
        cap, needs_id = _COLLECTIONS[coll]
        count = len(by_index)
        if count > cap:
            raise bad(f"{prefix} has {count} entries; at most {cap} are accepted", f"{prefix}.{cap}")
        if max(by_index) != count - 1:
            missing = min(set(range(count)) - set(by_index))
            after = min(i for i in by_index if i > missing)
            raise bad(f"{prefix}.{missing} is missing but {prefix}.{after} is set: entries are "
                      f"numbered from 0 without gaps, each new one at index _count",
                      f"{prefix}.{after}")
        if needs_id and version == "2004":   # scorm-again 1.2 takes an entry's fields before its id
            for index in sorted(by_index):
                if "id" not in by_index[index]:
                    raise bad(f"{prefix}.{index} has no id: set {prefix}.{index}.id first; every "
                              "entry is named by its id", f"{prefix}.{index}.id")


def _check_responses(data: dict, entries: dict) -> None:
    """2004: a learner response or a correct pattern needs the interaction's type and its format
    (RTE 2004 4.2.9.1; error 408 in the browser when the type is not set first)."""
    for (coll, prefix), by_index in entries.items():
        if coll != "cmi.interactions":
            continue
        for index in by_index:
            base = f"{prefix}.{index}"
            kind = data.get(f"{base}.type", "")
            response = data.get(f"{base}.learner_response", "")
            patterns = [(f"{base}.correct_responses.{i}.pattern", data[f"{base}.correct_responses.{i}.pattern"])
                        for i in sorted(entries.get(("cmi.interactions.n.correct_responses",
                                                     f"{base}.correct_responses"), {}))]
            if not kind:
                for key, value in [(f"{base}.learner_response", response)] + patterns:
                    if value:
                        raise bad(f"{key} is set but {base}.type is not: set the interaction's type "
                                  "first; the response format depends on it", key)
                continue
            if response:
                try:
                    responses.check_learner_response(kind, response)
                except ValueError as exc:
                    raise bad(f"{base}.learner_response: {exc}", f"{base}.learner_response") from None
            if len(patterns) > 1 and kind in responses.SINGLE_PATTERN:
                raise bad(f"a {kind} interaction has one correct response pattern, not {len(patterns)}",
                          patterns[1][0])
            seen = set()
            for key, value in patterns:
                try:
                    responses.check_correct_pattern(kind, value)
                except ValueError as exc:
                    raise bad(f"{key}: {exc}", key) from None
                if kind == "choice" and value in seen:
                    raise bad(f"{key} repeats a correct response pattern of {base}", key)
                seen.add(value)


__all__ = ["validate_data", "CommitRejected", "ELEMENTS_12", "ELEMENTS_2004", "MAX_INTERACTIONS",
           "MAX_OBJECTIVES", "MAX_COMMENTS", "MAX_INTERACTION_OBJECTIVES", "MAX_CORRECT_RESPONSES",
           "MAX_FREE_TEXT", "MAX_ELEMENTS", "MAX_TOTAL_CHARS"]
