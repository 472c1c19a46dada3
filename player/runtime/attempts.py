"""What a commit does to an attempt, and what a launch loads into the browser's data model.

``parse_commit(body, scorm_version)`` checks the body of ``POST /player/commits`` and answers a
``Commit``; ``apply(attempt, commit, sco)`` answers the attempt after it (a pure function, the
``change`` the player store's ``apply_commit`` stores); ``launch_values(attempt, sco, registration)``
answers the flat map of elements scorm-again loads at launch.

``Attempt.data`` layout (read by the xAPI bridge and the status API)::

    {"cmi": {<flat snapshot of the SCO-writable elements, as last committed,
              with the statuses the LMS decides written in (see below)>},
     "session": {"number": 2, "started": "<the initialize commit's at>", "time": "PT1M2.5S"},
     "closed_time": "PT10M",      # the session times of the sessions before this one, summed
     "exit": "suspend",           # cmi.core.exit / cmi.exit of the last terminate ("" before any)
     "terminated": false}         # a terminate was applied in the current session

Sessions. An ``initialize`` commit opens a session: its number is one higher, ``closed_time`` takes
the time of the session before, ``terminated`` is cleared. A ``commit`` or ``terminate`` with no open
session (none yet, or the last one terminated) opens one first, as ``initialize`` would, so a commit
is never refused for the order of the browser's events. A session's time is the SCO's own
``cmi.core.session_time`` / ``cmi.session_time`` (0 until it writes one: SCORM leaves session time to
the SCO; SCORM 1.2 RTE 3.4.4 cmi.core.session_time, SCORM 2004 RTE 4.2.21);
``total_time = closed_time + session.time`` (cmi.core.total_time, SCORM 2004 RTE 4.2.25), as an
ISO 8601 duration to 0.01 s.

Ending. In SCORM 2004 a ``terminate`` whose exit is not ``suspend`` ends the attempt (``Attempt.ended``;
RTE 4.2.9: only a suspended attempt resumes); the next launch starts a new attempt, ab-initio. SCORM 1.2
has no attempts: its data lives on across sessions, and ``cmi.core.entry`` is ``""`` for a launch that
is neither the first nor a resume (RTE 3.4.4). So a 1.2 attempt ends only when the SCO terminates
normally with the lesson done (passed, completed or failed); one left incomplete keeps its data for
the next launch (entry ``""``), which is also what a learner expects. An attempt suspended, or left
without Terminate (the tab closed), resumes with all its data: ``entry`` is ``resume``.

Statuses, SCORM 1.2 (SCORM 1.2 RTE 3.4.4: cmi.core.lesson_status and its "Additional Behavior
Requirements", cmi.student_data.mastery_score):

- At LMSFinish (a ``terminate``), a lesson_status the SCO left at ``not attempted`` becomes
  ``completed``. Initialize changes nothing: ``not attempted`` is the LMS's initial value and it is
  the SCO's to change (the golf samples set ``incomplete`` themselves).
- When the manifest has an ``adlcp:masteryscore``, the launch is ``credit`` in ``normal`` mode and
  ``cmi.core.score.raw`` is set, lesson_status is ``passed`` if raw >= mastery score, else ``failed``,
  on every commit, whatever the SCO wrote.
- ``Attempt.completion_status``: ``completed`` for completed, passed and failed (1.2 counts a failed
  lesson as completed but not mastered), ``incomplete`` for incomplete and browsed, ``not attempted``.
  ``success_status``: passed, failed, or None.
- ``score_scaled``: raw / 100, as the xAPI Profile for SCORM says to report 1.2 scores (§6 Score), so
  the status API and the statements' ``result.score.scaled`` agree; None without a raw score.

Statuses, SCORM 2004 (RTE 2004 4.2.4.1 and 4.2.22.1, evaluated on every commit as GetValue would):

- ``cmi.completion_threshold`` is the item's ``adlcp:completionThreshold`` (its minProgressMeasure;
  1.0 when only completedByMeasure="true" is given). When it is defined, completion_status is
  ``completed`` if progress_measure >= threshold, ``incomplete`` if below, ``unknown`` if the SCO set
  no progress_measure; otherwise it is what the SCO set.
- ``cmi.scaled_passing_score`` is the primary objective's ``minNormalizedMeasure`` when that
  objective has ``satisfiedByMeasure="true"`` (1.0 if no measure is given). When it is defined,
  success_status is ``passed`` if score.scaled >= it, ``failed`` if below, ``unknown`` without a
  score.scaled; otherwise it is what the SCO set.
- ``Attempt.completion_status`` is the decided completion_status (``unknown`` included);
  ``success_status`` passed, failed or None for unknown; ``score_scaled`` is cmi.score.scaled.

The decided statuses are also written into ``data["cmi"]`` (what GetValue answers, and what a resumed
launch loads); ``commit.data`` keeps what the SCO sent.
"""
from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

from player.sequencing import objective_id
from player.storage.ports import Attempt, Registration

from .durations import iso_duration, parse_duration, timespan_12
from .elements import validate_data
from .errors import CommitRejected, bad

EVENTS = ("initialize", "commit", "terminate")
FIELDS = ("registration", "sco", "attempt", "seq", "event", "at", "data")
MAX_FUTURE = timedelta(minutes=5)   # how far ahead of the server's clock a commit's ``at`` may be
MAX_NUMBER = 2 ** 53 - 1            # the largest integer a browser's JSON keeps exact
MAX_SCO_ID = 4000

# elements a resumed launch does not load back: they belong to one session (write-only in SCORM)
_PER_SESSION = {"cmi.core.session_time", "cmi.core.exit", "cmi.session_time", "cmi.exit",
                "adl.nav.request"}


@dataclass(frozen=True)
class ScoContext:
    """What the runtime needs to know about the SCO and its launch.

    ``item`` is the manifest item from the content store's version structure (``mastery_score``,
    ``max_time_allowed``, ``time_limit_action``, ``data_from_lms``, ``completion_threshold``,
    ``objectives``, ``sequencing``); ``sequencing`` is the item's sequencing with a referenced
    ``sequencingCollection`` entry filled in (``from_structure`` resolves it; by default the item's own).
    """
    scorm_version: str                  # "1.2" or "2004"
    item: dict
    learner: dict | None = None         # the learner's xAPI Agent
    credit: str = "credit"
    mode: str = "normal"
    sequencing: dict | None = None

    def __post_init__(self):
        if self.scorm_version not in ("1.2", "2004"):
            raise ValueError(f"scorm_version must be '1.2' or '2004', not {self.scorm_version!r}")
        if self.sequencing is None and isinstance(self.item.get("sequencing"), dict):
            object.__setattr__(self, "sequencing", self.item["sequencing"])

    @property
    def sco_id(self) -> str:
        return self.item.get("identifier") or ""

    # What the SCO is launched with as cmi.core.student_id / cmi.learner_id and the name: the bridge
    # writes the same into the profile's agent profile (learner_id, learner_name).
    @property
    def learner_id(self) -> str | None:
        return learner_id(self.learner) or None if self.learner else None

    @property
    def learner_name(self) -> str | None:
        return learner_name(self.learner) or None if self.learner else None

    @classmethod
    def from_structure(cls, structure: dict, sco_id: str, learner: dict | None = None,
                       credit: str = "credit", mode: str = "normal") -> "ScoContext":
        """The context of SCO ``sco_id`` of a content store version structure; CommitRejected (404,
        path ``sco``) if the course has no such SCO."""
        version = scorm_version_of(structure)
        item = find_item(structure, sco_id)
        if version is None or item is None or item.get("scorm_type") != "sco":
            raise CommitRejected(404, f"the course has no SCO {sco_id!r}", "sco")
        seq = item.get("sequencing") if isinstance(item.get("sequencing"), dict) else None
        ref = (seq or {}).get("IDRef")
        collection = ((structure.get("scorm") or {}).get("sequencing_collection") or {})
        if ref and isinstance(collection.get(ref), dict):
            seq = {**collection[ref], **{k: v for k, v in seq.items() if k != "IDRef"}}
        return cls(version, item, learner, credit, mode, seq)

    # -- values from the manifest ------------------------------------------------------------

    def mastery_score(self) -> float | None:
        """SCORM 1.2 ``adlcp:masteryscore`` (0..100) or None."""
        value = self.item.get("mastery_score")
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def scaled_passing_score(self) -> float | None:
        """SCORM 2004 cmi.scaled_passing_score (RTE 4.2.19): the primary objective's
        minNormalizedMeasure when it is satisfied by measure (1.0 by default), else None."""
        for objective in self.item.get("objectives") or []:
            if objective.get("primary"):
                if objective.get("satisfied_by_measure") is not True:
                    return None
                value = objective.get("min_normalized_measure", 1.0)
                return float(value) if isinstance(value, (int, float)) else None
        return None

    def completion_threshold(self) -> float | None:
        """SCORM 2004 cmi.completion_threshold (RTE 4.2.5) from adlcp:completionThreshold, or None."""
        threshold = self.item.get("completion_threshold")
        if not isinstance(threshold, dict):
            return None
        value = threshold.get("min_progress_measure")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        return 1.0 if threshold.get("completed_by_measure") is True else None

    def max_time_allowed(self) -> str | None:
        """1.2: adlcp:maxtimeallowed (HHHH:MM:SS); 2004: imsss:limitConditions
        attemptAbsoluteDurationLimit (an ISO 8601 duration)."""
        if self.scorm_version == "1.2":
            return self.item.get("max_time_allowed") or None
        limits = (self.sequencing or {}).get("limitConditions")
        value = limits.get("attemptAbsoluteDurationLimit") if isinstance(limits, dict) else None
        return value if isinstance(value, str) and value else None

    def time_limit_action(self) -> str | None:
        return self.item.get("time_limit_action") or None

    def launch_data(self) -> str | None:
        return self.item.get("data_from_lms")

    def objective_ids(self) -> list[str]:
        """2004: the objective ids the manifest declares, primary first (RTE 4.2.17: the LMS
        initializes cmi.objectives with them), written as the sequencing engine knows them (whitespace
        collapsed, percent-decoded: ``player.sequencing.objective_id``)."""
        ids = [objective_id(o.get("id")) for o in self.item.get("objectives") or []]
        return [i for i in ids if i]


@dataclass(frozen=True)
class Commit:
    """One parsed ``POST /player/commits`` body; ``data`` is checked by elements.validate_data."""
    registration: str      # lower-case UUID text
    sco: str
    attempt: int
    seq: int
    event: str             # "initialize", "commit" or "terminate"
    at: str                # as the browser sent it (ISO 8601 UTC)
    data: dict = field(default_factory=dict)

    @property
    def at_datetime(self) -> datetime:
        return _parse_at(self.at)


def scorm_version_of(structure: dict) -> str | None:
    """"1.2" or "2004" for a content store structure of a SCORM course, None for anything else."""
    return {"scorm12": "1.2", "scorm2004": "2004"}.get((structure or {}).get("format"))


def find_item(structure: dict, sco_id: str) -> dict | None:
    """The manifest item named ``sco_id`` in any organization of the structure, or None."""
    def walk(items):
        for item in items or []:
            if item.get("identifier") == sco_id:
                return item
            found = walk(item.get("items"))
            if found is not None:
                return found
        return None
    for org in ((structure or {}).get("scorm") or {}).get("organizations") or []:
        found = walk(org.get("items"))
        if found is not None:
            return found
    return None


# -- parse_commit ------------------------------------------------------------------------------

def _parse_at(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError("not UTC")
    return moment


def parse_commit(body: dict, scorm_version: str, now: Callable[[], datetime] | datetime | None = None) -> Commit:
    """The commit in a request body, every field checked; ``CommitRejected`` (400, path = the field or
    the element) otherwise. ``now`` (a datetime or a function answering one; the system clock by
    default) bounds ``at``: at most ``MAX_FUTURE`` ahead. An older ``at`` is fine: a queue that waited
    offline sends old commits."""
    if not isinstance(body, dict):
        raise bad("a commit is a JSON object: {registration, sco, attempt, seq, event, at, data}", None)
    for name in body:
        if name not in FIELDS:
            raise bad(f"a commit has no field {str(name)[:60]!r}; its fields are {', '.join(FIELDS)}",
                      str(name)[:100])
    for name in FIELDS:
        if name not in body:
            raise bad(f"the commit has no {name}", name)
    registration = body["registration"]
    try:
        if not isinstance(registration, str):
            raise ValueError
        registration = str(uuid.UUID(registration))
    except ValueError:
        raise bad("registration must be the registration's UUID as text", "registration") from None
    sco = body["sco"]
    if not isinstance(sco, str) or not sco or len(sco) > MAX_SCO_ID:
        raise bad("sco must be the SCO's item identifier from the manifest (non-empty text)", "sco")
    numbers = {}
    for name in ("attempt", "seq"):
        value = body[name]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_NUMBER:
            raise bad(f"{name} must be an integer from 1, not {str(value)[:40]}", name)
        numbers[name] = value
    event = body["event"]
    if event not in EVENTS:
        raise bad(f"event must be one of {', '.join(EVENTS)}, not {str(event)[:40]!r}", "event")
    at = body["at"]
    try:
        if not isinstance(at, str) or len(at) > 64 or "T" not in at:
            raise ValueError
        moment = _parse_at(at)
    except ValueError:
        raise bad("at must be an ISO 8601 UTC timestamp with a time, as Date.toISOString() writes it "
                  "(2026-11-30T02:03:04.567Z)", "at") from None
    clock = now() if callable(now) else now or datetime.now(timezone.utc)
    if moment - clock > MAX_FUTURE:
        raise bad(f"at ({at}) is more than {int(MAX_FUTURE.total_seconds() // 60)} minutes ahead of the "
                  f"server's clock ({clock.astimezone(timezone.utc).isoformat(timespec='seconds')}); "
                  "check the device's clock", "at")
    data = validate_data(scorm_version, body["data"])
    return Commit(registration, sco, numbers["attempt"], numbers["seq"], event, at, data)


# -- apply -------------------------------------------------------------------------------------

def apply(attempt: Attempt, commit: Commit, sco: ScoContext) -> Attempt:
    """The attempt after ``commit`` (see the module doc). Pure: ``attempt`` is not changed."""
    if attempt.ended:
        raise CommitRejected(410, f"attempt {attempt.number} has ended; start a new attempt", "attempt")
    old = attempt.data or {}
    session = dict(old.get("session") or {"number": 0, "started": None, "time": "PT0S"})
    closed = parse_duration(old.get("closed_time"))
    terminated = bool(old.get("terminated", False))
    exit_value = old.get("exit", "")
    if commit.event == "initialize" or session.get("number", 0) == 0 or terminated:
        if session.get("number", 0) > 0:
            closed += parse_duration(session.get("time"))
        session = {"number": session.get("number", 0) + 1, "started": commit.at, "time": "PT0S"}
        terminated = False
    v12 = sco.scorm_version == "1.2"
    cmi = dict(commit.data)
    session["time"] = iso_duration(parse_duration(cmi.get("cmi.core.session_time" if v12 else "cmi.session_time")))
    ended = False
    if v12:
        completion, success, scaled = _decide_12(cmi, sco, finishing=commit.event == "terminate")
    else:
        completion, success, scaled = _decide_2004(cmi, sco)
    if commit.event == "terminate":
        exit_value = cmi.get("cmi.core.exit" if v12 else "cmi.exit", "")
        terminated = True
        ended = exit_value != "suspend" and (not v12 or completion == "completed")
    data = {"cmi": cmi, "session": session, "closed_time": iso_duration(closed),
            "exit": exit_value, "terminated": terminated}
    return dataclasses.replace(attempt, data=data, completion_status=completion, success_status=success,
                               score_scaled=scaled,
                               total_time=iso_duration(closed + parse_duration(session["time"])),
                               ended=ended)


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


_COMPLETION_12 = {"passed": "completed", "failed": "completed", "completed": "completed",
                  "incomplete": "incomplete", "browsed": "incomplete", "not attempted": "not attempted"}


def _decide_12(cmi: dict, sco: ScoContext, finishing: bool) -> tuple[str, str | None, float | None]:
    key = "cmi.core.lesson_status"
    given = cmi.get(key) or "not attempted"
    status = given
    if finishing and status == "not attempted":
        status = "completed"                     # SCORM 1.2 RTE 3.4.4: set at LMSFinish
    mastery = sco.mastery_score()
    raw = _float(cmi.get("cmi.core.score.raw"))
    if mastery is not None and raw is not None and sco.credit == "credit" and sco.mode == "normal":
        status = "passed" if raw >= mastery else "failed"
    if status != given:
        cmi[key] = status
    success = status if status in ("passed", "failed") else None
    scaled = None if raw is None else max(-1.0, min(1.0, raw / 100))
    return _COMPLETION_12.get(status, "incomplete"), success, scaled


def _decide_2004(cmi: dict, sco: ScoContext) -> tuple[str, str | None, float | None]:
    completion = cmi.get("cmi.completion_status") or "unknown"
    threshold = sco.completion_threshold()
    if threshold is not None:
        measure = _float(cmi.get("cmi.progress_measure"))
        completion = "unknown" if measure is None else "completed" if measure >= threshold else "incomplete"
        if completion != (cmi.get("cmi.completion_status") or "unknown"):
            cmi["cmi.completion_status"] = completion
    success = cmi.get("cmi.success_status") or "unknown"
    passing = sco.scaled_passing_score()
    scaled = _float(cmi.get("cmi.score.scaled"))
    if passing is not None:
        success = "unknown" if scaled is None else "passed" if scaled >= passing else "failed"
        if success != (cmi.get("cmi.success_status") or "unknown"):
            cmi["cmi.success_status"] = success
    return completion, (success if success in ("passed", "failed") else None), scaled


# -- launch_values -----------------------------------------------------------------------------

def learner_id(learner: dict | None) -> str:
    """The learner's id for cmi.core.student_id / cmi.learner_id, from the Agent's identifier: an
    account's name, an mbox's address without ``mailto:``, an openid, or an mbox_sha1sum."""
    learner = learner or {}
    account = learner.get("account")
    if isinstance(account, dict) and account.get("name"):
        return str(account["name"])
    mbox = learner.get("mbox")
    if isinstance(mbox, str) and mbox:
        return mbox[7:] if mbox.lower().startswith("mailto:") else mbox
    for key in ("openid", "mbox_sha1sum"):
        if learner.get(key):
            return str(learner[key])
    return ""


def learner_name(learner: dict | None) -> str:
    """The Agent's name, or its id when it has none."""
    name = (learner or {}).get("name")
    return name if isinstance(name, str) and name.strip() else learner_id(learner)


def entry_of(attempt: Attempt | None) -> str:
    """``ab-initio`` before the attempt's first session, ``resume`` for an attempt suspended or left
    without Terminate, ``""`` otherwise (SCORM 1.2 RTE 3.4.4 cmi.core.entry, RTE 2004 4.2.7)."""
    data = (attempt.data if attempt else None) or {}
    if not (data.get("session") or {}).get("number"):
        return "ab-initio"
    if data.get("exit") == "suspend" or not data.get("terminated"):
        return "resume"
    return ""


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def launch_values(attempt: Attempt | None, sco: ScoContext, registration: Registration) -> dict:
    """The flat map of elements scorm-again loads before the SCO's Initialize.

    The LMS-set elements of the version (learner id and name, credit, mode, entry, total time,
    launch data and the manifest's limits), then, for an attempt that resumes, every element of its
    saved snapshot but those of one session (session_time, exit, adl.nav.request). A new SCORM 2004
    attempt gets the manifest's objective ids as cmi.objectives.n.id (RTE 4.2.17).
    """
    learner = sco.learner or registration.learner
    entry = entry_of(attempt)
    total = attempt.total_time if attempt and attempt.total_time else "PT0S"
    cs = parse_duration(total)
    out: dict[str, str] = {}
    if sco.scorm_version == "1.2":
        out["cmi.core.student_id"] = learner_id(learner)[:255]
        out["cmi.core.student_name"] = learner_name(learner)[:255]
        out["cmi.core.lesson_mode"] = sco.mode
        out["cmi.core.credit"] = sco.credit
        out["cmi.core.entry"] = entry
        out["cmi.core.total_time"] = timespan_12(cs)
        if sco.launch_data() is not None:
            out["cmi.launch_data"] = sco.launch_data()[:4096]
        if sco.mastery_score() is not None:
            out["cmi.student_data.mastery_score"] = _number_text(sco.mastery_score())
        if sco.max_time_allowed():
            out["cmi.student_data.max_time_allowed"] = sco.max_time_allowed()
        if sco.time_limit_action():
            out["cmi.student_data.time_limit_action"] = sco.time_limit_action()
    else:
        out["cmi.learner_id"] = learner_id(learner)[:4000]
        out["cmi.learner_name"] = learner_name(learner)[:250]
        out["cmi.mode"] = sco.mode
        out["cmi.credit"] = sco.credit
        out["cmi.entry"] = entry
        out["cmi.total_time"] = iso_duration(cs)
        if sco.launch_data() is not None:
            out["cmi.launch_data"] = sco.launch_data()[:4000]
        if sco.scaled_passing_score() is not None:
            out["cmi.scaled_passing_score"] = _number_text(sco.scaled_passing_score())
        if sco.completion_threshold() is not None:
            out["cmi.completion_threshold"] = _number_text(sco.completion_threshold())
        if sco.max_time_allowed():
            out["cmi.max_time_allowed"] = sco.max_time_allowed()
        out["cmi.time_limit_action"] = sco.time_limit_action() or "continue,no message"
    if entry == "ab-initio":
        if sco.scorm_version == "2004":
            for n, objective_id in enumerate(sco.objective_ids()):
                out[f"cmi.objectives.{n}.id"] = objective_id
    elif attempt is not None:
        for key, value in ((attempt.data or {}).get("cmi") or {}).items():
            if key not in _PER_SESSION:
                out[key] = value
    return out


__all__ = ["ScoContext", "Commit", "parse_commit", "apply", "launch_values", "learner_id", "learner_name",
           "entry_of", "scorm_version_of", "find_item", "CommitRejected", "MAX_FUTURE"]
