"""The course-level statements of ADL's xAPI Profile for SCORM: ``completed``, ``passed``, ``failed`` and
``scored`` with the course activity as object (the profile's verb table lists the course among their
objects), written when the registration's rolled-up course status changes.

``course_statements(before, after, ctx, trigger)`` is pure. ``before`` and ``after`` are course
statuses ``{"completion_status", "success_status", "score_scaled"}`` (None for "none yet"):

- ``completed`` when completion became ``completed``;
- ``passed`` / ``failed`` when success became that;
- ``scored`` when the scaled score changed to a known value (before the status verbs, as for a SCO);

each with the course's result (score, success, completion). The context: the registration, the
course version as ``revision``, the profile as category and the package digest extension; no
grouping (the course is the top of the hierarchy). ``trigger`` names what caused the change (a SCO
commit: ``(sco_id, attempt, seq)``; a sequencing save: ``("#sequencing", 0, seq)``): the ids are
uuid5 of the registration, the trigger and the index, so a retry stores nothing twice.

Where the status comes from is the caller's: SCORM 1.2 and unsequenced courses roll up their SCOs
(player/runtime/status.py ``course_status``); SCORM 2004 sequenced courses report the root activity's
status as scorm-again's rollup decided it.
"""
from __future__ import annotations

from .plan import PACKAGE_EXTENSION, Context
from .vocabulary import CONTENT_LANGUAGE, COURSE, OWN_LANGUAGE, PROFILE, PROFILE_TYPE, statement_id, verb

COURSE_INDEX = 1000   # statement index offset: a commit's course statements never share an id with its SCO ones


def course_activity(ctx: Context) -> dict:
    return {"id": ctx.course_iri, "definition": {
        "name": {CONTENT_LANGUAGE: ctx.course_title},
        "description": {OWN_LANGUAGE: f"The activity representing the course {ctx.course_title}"},
        "type": COURSE}}


def course_result(status: dict) -> dict:
    out: dict = {}
    scaled = status.get("score_scaled")
    if isinstance(scaled, (int, float)) and not isinstance(scaled, bool) and -1 <= scaled <= 1:
        out["score"] = {"scaled": scaled}
    if status.get("success_status") in ("passed", "failed"):
        out["success"] = status["success_status"] == "passed"
    if status.get("completion_status") in ("completed", "incomplete"):
        out["completion"] = status["completion_status"] == "completed"
    return out


def course_statements(before: dict | None, after: dict, ctx: Context, trigger: tuple[str, int, int],
                      at: str) -> list[dict]:
    before = before or {}
    names = []
    scaled = after.get("score_scaled")
    if scaled is not None and scaled != before.get("score_scaled"):
        names.append("scored")
    if after.get("completion_status") == "completed" and before.get("completion_status") != "completed":
        names.append("completed")
    success = after.get("success_status")
    if success in ("passed", "failed") and before.get("success_status") != success:
        names.append(success)
    if not names:
        return []
    obj = course_activity(ctx)
    result = course_result(after)
    context = {"registration": ctx.registration, "revision": str(ctx.course_version),
               "contextActivities": {"category": [{"id": PROFILE, "definition": {"type": PROFILE_TYPE}}]}}
    if ctx.package_sha256:
        context["extensions"] = {ctx.iri_base.rstrip("/") + PACKAGE_EXTENSION: ctx.package_sha256}
    sco, attempt, seq = trigger
    out = []
    for index, name in enumerate(names):
        st = {"id": statement_id(ctx.registration, sco, attempt, seq, COURSE_INDEX + index),
              "actor": dict(ctx.learner), "verb": verb(name), "object": obj}
        if result:
            st["result"] = dict(result)
        st["context"] = context
        st["timestamp"] = at
        out.append(st)
    return out
