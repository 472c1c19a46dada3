"""From one applied commit to the statements and documents ADL's xAPI Profile for SCORM prescribes.

``plan(before, after, commit, ctx)`` is pure: the attempt before the commit (None for a new
attempt), the attempt after it (``Attempt.data`` laid out as the player's runtime keeps it:
``{"cmi": {flat snapshot}, "session": {"number", "started", "time"}, "closed_time", "exit",
"terminated"}``), the commit's ``seq``, ``event`` and ``at``, and the context (learner, course,
SCO). It diffs ``before.data["cmi"]`` against ``after.data["cmi"]``:

- ``initialize``: ``initialized`` for the first session of an attempt, ``resumed`` for a later one
  (profile 5.0); the attempt IRI is appended to the SCO's activity state; the activity profile
  and the agent profile are written.
- every commit, in this order: ``responded`` for each interaction answered or changed, in index
  order; ``commented`` for each new learner comment; for each objective ``passed``/``failed``
  (success status became that), ``completed`` (completion status became completed),
  ``scored`` (its score changed), ``progressed`` (its progress measure changed, 2004); then for
  the SCO ``progressed`` (cmi.progress_measure, 2004), ``scored``, ``completed``, ``passed``/``failed``.
- ``terminate``: ``suspended`` when the exit is suspend (2004 also ``adl.nav.request`` suspendAll),
  else ``terminated``, with the SCO's overall result (success, completion, score, session time).
- the attempt state whenever it changed (and at initialize), suspend data whenever it changed.

SCO completion and success are the attempt's statuses as the runtime decided them
(``Attempt.completion_status``/``success_status``: 1.2 lesson_status and mastery score, 2004 the
statuses with completion threshold and scaled passing score), read from the raw elements only
when the attempt has none.

Every statement has a deterministic id (``vocabulary.statement_id``), the commit's time as its
timestamp (a 2004 learner comment: the comment's own timestamp, as the profile says), the
learner as actor, the registration, ``contextActivities`` with the SCO as parent for what is
inside it, the course and the attempt as grouping (in that order) and the profile activity as
category, and the course version as ``context.revision``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import documents, interactions, values
from .vocabulary import (ATTEMPT, CONTENT_LANGUAGE, COURSE, INTERACTION, LESSON, OBJECTIVE, OWN_LANGUAGE,
                         PROFILE, PROFILE_TYPE, attempt_iri, course_iri, interaction_iri, objective_iri,
                         sco_iri, statement_id, verb)

PACKAGE_EXTENSION = "/extensions/package-sha256"   # after the IRI base: the context extension naming the package


@dataclass(frozen=True)
class Context:
    """What a commit's statements are about, beyond the attempt itself.

    ``scorm_version``: "1.2" or "2004". ``item``: the SCO's manifest item from the course version's
    structure (mastery_score, max_time_allowed, time_limit_action, data_from_lms,
    completion_threshold, objectives, sequencing). ``iri_base``: LRS_ACTIVITY_IRI_BASE.
    ``learner_id``/``learner_name``: what cmi.core.student_id/learner_id and the name are launched
    with (the agent profile). ``credit``/``mode``: what the attempt was launched with."""
    learner: dict
    registration: str
    course_id: str
    course_title: str
    course_version: int
    package_sha256: str
    sco_id: str
    sco_title: str
    scorm_version: str
    item: dict
    iri_base: str
    learner_id: str | None = None
    learner_name: str | None = None
    credit: str = "credit"
    mode: str = "normal"

    @property
    def course_iri(self) -> str:
        return course_iri(self.iri_base, self.course_id)

    @property
    def sco_iri(self) -> str:
        return sco_iri(self.course_iri, self.sco_id)

    def attempt_iri(self, number: int) -> str:
        return attempt_iri(self.sco_iri, self.registration, number)


def context_for(registration, course: dict, version: dict, item: dict, scorm_version: str, iri_base: str,
                learner_id: str | None = None, learner_name: str | None = None, credit: str = "credit",
                mode: str = "normal") -> Context:
    """The Context of a commit from what the player's commit route holds: the registration
    (player.storage.Registration), the content store's course and version dicts, and the SCO's
    manifest item (its ``identifier`` and ``title``)."""
    course_id = registration.course_id or course.get("id")
    title = version.get("title") or course.get("title") or course_id
    sco_id = item["identifier"]
    return Context(learner=registration.learner, registration=registration.id, course_id=course_id,
                   course_title=title, course_version=registration.version,
                   package_sha256=version.get("package_sha256") or "", sco_id=sco_id,
                   sco_title=item.get("title") or sco_id, scorm_version=scorm_version, item=item,
                   iri_base=iri_base, learner_id=learner_id, learner_name=learner_name, credit=credit, mode=mode)


@dataclass(frozen=True)
class CommitInfo:
    """The parts of a commit the bridge reads (player.runtime.attempts.Commit has them too)."""
    seq: int
    event: str          # "initialize", "commit" or "terminate"
    at: str             # ISO 8601 timestamp the browser gave the commit
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """The statements (full xAPI statements, in the order they are stored) and the documents one
    commit produces."""
    statements: list[dict]
    documents: list[documents.DocumentWrite]

    @property
    def statement_ids(self) -> list[str]:
        return [st["id"] for st in self.statements]


def plan(before, after, commit, ctx: Context) -> Plan:
    version = ctx.scorm_version
    if version not in ("1.2", "2004"):
        raise ValueError(f"scorm_version must be '1.2' or '2004', not {version!r}")
    prev = before if before is not None and before.number == after.number else None
    old = ((prev.data or {}).get("cmi") if prev else None) or {}
    new = (after.data or {}).get("cmi") or {}
    out = _Statements(ctx, after.number, commit)

    if commit.event == "initialize":
        out.add("resumed" if _resumed(prev, after) else "initialized", out.sco)
    _interactions(out, old, new, version)
    _comments(out, old, new, version, commit.at)
    _objectives(out, old, new, version)
    if version == "2004":
        _progress(out, out.sco, old.get("cmi.progress_measure"), new.get("cmi.progress_measure"), parent=False)
    score_prefix = "cmi.core.score." if version == "1.2" else "cmi.score."
    _scored(out, out.sco, score(old, score_prefix, version), score(new, score_prefix, version), parent=False)
    old_completion, old_success = statuses(prev, version)
    completion, success = statuses(after, version)
    if completion == "completed" and old_completion != "completed":
        out.add("completed", out.sco)
    if success in ("passed", "failed") and old_success != success:
        out.add(success, out.sco)
    if commit.event == "terminate":
        out.add("suspended" if _suspends(after, new, version) else "terminated", out.sco,
                result=overall_result(after, version))

    return Plan(out.statements, _documents(prev, after, commit, ctx, old, new))


# -- statements ------------------------------------------------------------------------------

class _Statements:
    def __init__(self, ctx: Context, attempt: int, commit):
        self.ctx = ctx
        self.commit = commit
        self.attempt_number = attempt
        self.statements: list[dict] = []
        self.course = {"id": ctx.course_iri, "definition": {
            "name": {CONTENT_LANGUAGE: ctx.course_title},
            "description": {OWN_LANGUAGE: f"The activity representing the course {ctx.course_title}"},
            "type": COURSE}}
        self.sco = {"id": ctx.sco_iri, "definition": {
            "name": {CONTENT_LANGUAGE: ctx.sco_title},
            "description": {OWN_LANGUAGE: f"The activity representing {ctx.sco_title} in the course "
                                          f"{ctx.course_title}"},
            "type": LESSON}}
        self.attempt = {"id": ctx.attempt_iri(attempt), "definition": {
            "name": {OWN_LANGUAGE: f"Attempt {attempt} of {ctx.sco_title}"},
            "description": {OWN_LANGUAGE: f"The activity representing attempt {attempt} of {ctx.sco_title} "
                                          f"in the course {ctx.course_title}"},
            "type": ATTEMPT}}
        self.profile = {"id": PROFILE, "definition": {"type": PROFILE_TYPE}}

    def add(self, name: str, obj: dict, result: dict | None = None, parent: bool = False,
            timestamp: str | None = None) -> None:
        ctx = self.ctx
        activities = {}
        if parent:
            activities["parent"] = [self.sco]
        activities["grouping"] = [self.course, self.attempt]
        activities["category"] = [self.profile]
        context = {"registration": ctx.registration, "revision": str(ctx.course_version),
                   "contextActivities": activities}
        if ctx.package_sha256:
            context["extensions"] = {ctx.iri_base.rstrip("/") + PACKAGE_EXTENSION: ctx.package_sha256}
        st = {"id": statement_id(ctx.registration, ctx.sco_id, self.attempt_number, self.commit.seq,
                                 len(self.statements)),
              "actor": dict(ctx.learner), "verb": verb(name), "object": obj}
        if result:
            st["result"] = result
        st["context"] = context
        st["timestamp"] = timestamp or self.commit.at
        self.statements.append(st)


def _resumed(prev, after) -> bool:
    """Whether an initialize starts a later session of the attempt (entry resume) rather than its first."""
    number = ((after.data or {}).get("session") or {}).get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        return number > 1
    return prev is not None and (prev.applied_seq > 0 or bool((prev.data or {}).get("cmi")))


def _suspends(after, cmi: dict, version: str) -> bool:
    exit_ = cmi.get("cmi.core.exit" if version == "1.2" else "cmi.exit")
    if exit_ is None:
        exit_ = (after.data or {}).get("exit")
    if exit_ == "suspend":
        return True
    return version == "2004" and cmi.get("adl.nav.request") == "suspendAll"


def _interactions(out: _Statements, old: dict, new: dict, version: str) -> None:
    before = interactions.indexed(old, "cmi.interactions.")
    for n, entry in interactions.indexed(new, "cmi.interactions.").items():
        ident = entry.get("id") or (f"index-{n}" if version == "1.2" else None)   # 1.2 may leave the id out
        if not ident or not interactions.answered(entry, version):
            continue
        if before.get(n) == entry:
            continue
        obj = {"id": interaction_iri(out.ctx.sco_iri, ident),
               "definition": interactions.definition(entry, version, {CONTENT_LANGUAGE: ident}, INTERACTION)}
        out.add("responded", obj, result=interactions.result(entry, version), parent=True)


def _comments(out: _Statements, old: dict, new: dict, version: str, at: str) -> None:
    if version == "1.2":
        text, was = new.get("cmi.comments"), old.get("cmi.comments") or ""
        if not isinstance(text, str) or text == was:
            return
        comment = text[len(was):] if was and text.startswith(was) else text  # 1.2 comments may be appended
        if comment:
            out.add("commented", out.sco, result={"response": comment})
        return
    before = interactions.indexed(old, "cmi.comments_from_learner.")
    for n, entry in interactions.indexed(new, "cmi.comments_from_learner.").items():
        comment = entry.get("comment")
        if not isinstance(comment, str) or not comment or (before.get(n) or {}).get("comment") == comment:
            continue
        out.add("commented", out.sco, result={"response": comment},
                timestamp=values.timestamp(entry.get("timestamp")) or at)


def _objectives(out: _Statements, old: dict, new: dict, version: str) -> None:
    before = interactions.indexed(old, "cmi.objectives.")
    for n, entry in interactions.indexed(new, "cmi.objectives.").items():
        ident = entry.get("id") or (f"index-{n}" if version == "1.2" else None)   # 1.2 may leave the id out
        if not ident:
            continue
        was = before.get(n) or {}
        if (was.get("id") or (f"index-{n}" if version == "1.2" else None)) != ident:
            was = {}
        definition = {"name": {CONTENT_LANGUAGE: ident}}
        description = values.localized(entry.get("description"))
        if description:
            definition["description"] = description
        definition["type"] = OBJECTIVE
        obj = {"id": objective_iri(out.ctx.sco_iri, ident), "definition": definition}
        if version == "1.2":
            status, old_status = entry.get("status"), was.get("status")
            if status != old_status and status in ("passed", "failed", "completed"):
                out.add(status, obj, parent=True)
        else:
            success, old_success = entry.get("success_status"), was.get("success_status")
            if success != old_success and success in ("passed", "failed"):
                out.add(success, obj, parent=True)
            completion = entry.get("completion_status")
            if completion == "completed" and was.get("completion_status") != "completed":
                out.add("completed", obj, parent=True)
        _scored(out, obj, score(_prefixed(was, "score."), "", version), score(_prefixed(entry, "score."), "", version),
                parent=True)
        if version == "2004":
            _progress(out, obj, was.get("progress_measure"), entry.get("progress_measure"), parent=True)


def _prefixed(entry: dict, prefix: str) -> dict:
    return {key[len(prefix):]: value for key, value in entry.items() if key.startswith(prefix)}


def _progress(out: _Statements, obj: dict, old, new, parent: bool) -> None:
    """``progressed`` with the progress measure as ``result.score.scaled`` (profile 6.0, "Progress Measure")."""
    value = values.number(new)
    if value is None or not 0 <= value <= 1 or value == values.number(old):
        return
    out.add("progressed", obj, result={"score": {"scaled": value}}, parent=parent)


def _scored(out: _Statements, obj: dict, old: dict | None, new: dict | None, parent: bool) -> None:
    """``scored`` when the score changed and has a scaled value (profile 6.0, "Score": 2004
    cmi.score.scaled, 1.2 cmi.core.score.raw / 100), with every part of the score known."""
    if new and "scaled" in new and new != old:
        out.add("scored", obj, result={"score": new}, parent=parent)


def score(cmi: dict, prefix: str, version: str) -> dict | None:
    """The xAPI score of a SCORM score (``prefix``: "cmi.score.", "cmi.core.score.", or "" for the
    elements of one objective's score): scaled (2004), or raw / 100 (1.2, as the profile says),
    raw, min and max, each left out where xAPI would refuse it (scaled outside -1..1, min not
    below max, raw outside min..max). None without a raw or scaled value: a range alone (scorm-again
    starts a 1.2 score.max at "100") is no score."""
    raw = values.number(cmi.get(prefix + "raw"))
    low = values.number(cmi.get(prefix + "min"))
    high = values.number(cmi.get(prefix + "max"))
    if version == "1.2":
        scaled = values.number(round(raw / 100, 7)) if raw is not None else None
    else:
        scaled = values.number(cmi.get(prefix + "scaled"))
    if raw is None and scaled is None:
        return None
    out: dict = {}
    if scaled is not None and -1 <= scaled <= 1:
        out["scaled"] = scaled
    if raw is not None:
        out["raw"] = raw
    if low is not None and high is not None and low >= high:
        low = high = None
    if raw is not None and ((low is not None and raw < low) or (high is not None and raw > high)):
        low = high = None
    if low is not None:
        out["min"] = low
    if high is not None:
        out["max"] = high
    return out or None


def statuses(attempt, version: str) -> tuple[str | None, str | None]:
    """(completion status, success status) of an attempt: as the runtime decided them, else the raw elements."""
    if attempt is None:
        return None, None
    cmi = (attempt.data or {}).get("cmi") or {}
    completion, success = attempt.completion_status, attempt.success_status
    if version == "1.2":
        lesson = cmi.get("cmi.core.lesson_status")
        if completion is None and lesson in ("passed", "failed", "completed"):
            completion = "completed"
        elif completion is None and lesson in ("incomplete", "browsed", "not attempted"):
            completion = lesson
        if success is None and lesson in ("passed", "failed"):
            success = lesson
    else:
        if completion is None and cmi.get("cmi.completion_status") not in (None, "unknown"):
            completion = cmi["cmi.completion_status"]
        if success is None and cmi.get("cmi.success_status") in ("passed", "failed"):
            success = cmi["cmi.success_status"]
    if completion in ("passed", "failed"):   # a 1.2 lesson_status given as the completion status
        success = success or completion
        completion = "completed"
    return completion, success


def overall_result(attempt, version: str) -> dict:
    """The SCO's result on a terminated or suspended statement (profile 5.0, "Terminating an
    attempt"; 6.0 "Session Time"): score, success, completion and the session time as duration."""
    cmi = (attempt.data or {}).get("cmi") or {}
    completion, success = statuses(attempt, version)
    out: dict = {}
    sc = score(cmi, "cmi.core.score." if version == "1.2" else "cmi.score.", version)
    if sc:
        out["score"] = sc
    if success in ("passed", "failed"):
        out["success"] = success == "passed"
    if completion in ("completed", "incomplete"):
        out["completion"] = completion == "completed"
    session = values.iso_duration(((attempt.data or {}).get("session") or {}).get("time"))
    if session is None:
        session = values.iso_duration(cmi.get("cmi.core.session_time" if version == "1.2" else "cmi.session_time"))
    if session is not None:
        out["duration"] = session
    return out


# -- documents -------------------------------------------------------------------------------

def _documents(prev, after, commit, ctx: Context, old: dict, new: dict) -> list[documents.DocumentWrite]:
    version = ctx.scorm_version
    attempt = ctx.attempt_iri(after.number)
    out: list[documents.DocumentWrite] = []
    initialize = commit.event == "initialize"
    if initialize:
        out.append(documents.activity_state(ctx.sco_iri, ctx.learner, attempt))
    body = documents.attempt_state_body(after, version, ctx.credit, ctx.mode)
    if initialize or prev is None or body != documents.attempt_state_body(prev, version, ctx.credit, ctx.mode):
        out.append(documents.attempt_state(attempt, ctx.learner, body))
    suspend = new.get("cmi.suspend_data")
    if isinstance(suspend, str) and suspend != old.get("cmi.suspend_data"):
        out.append(documents.suspend_data(attempt, ctx.learner, suspend))
    if initialize:
        for doc in (documents.activity_profile(ctx.sco_iri, ctx.item, version),
                    documents.agent_profile(ctx.learner, ctx.learner_id, ctx.learner_name)):
            if doc is not None:
                out.append(doc)
    return out
