"""A registration's status, from the attempts on its SCOs (the admin status API shows it).

``summary(attempts, structure)``:

- Each SCO of the course (the structure's launchables of type ``sco``, in course order) is reported
  from one of its attempts: the latest attempt with an outcome (completed, passed or failed), else its
  latest attempt. An attempt in progress does not hide the result of the one before it; a later
  outcome replaces an earlier one (the xAPI Profile for SCORM, §7 "Attempt": the latest attempt's
  results count).
- A course of one SCO has that SCO's completion, success and score.
- A course of several SCOs (SCORM 1.2, and SCORM 2004 without sequencing state) is ``completed``
  when every SCO is completed (a 1.2 lesson passed or failed is completed), ``not attempted`` while
  no SCO has an attempt, else ``incomplete``. It is ``failed`` as soon as any SCO's reported
  outcome is failed; ``passed`` once it is completed and every SCO with a success status passed (at
  least one has); else None (a passed lesson before the others are done is no course mastery yet).
  Its score is the mean of the SCOs' scaled scores that are known (None if none is). These are
  what the course-level statements of the xAPI Profile for SCORM report (player/bridge/course.py).
- A SCORM 2004 course with sequencing state has the status its root activity's rollup decided
  (``rollup``, saved by the browser with the sequencing state): completion, success and score.
- ``total_time`` sums every attempt's total time (every SCO, every attempt), ``attempts`` counts them,
  ``last_activity`` is the latest ``updated`` of any attempt.
"""
from __future__ import annotations

from player.storage.ports import Attempt

from .durations import iso_duration, parse_duration

_OUTCOME = ("passed", "failed")


def sco_ids(structure: dict) -> list[str]:
    """The ids of the course's SCOs, in course order."""
    return [l["id"] for l in (structure or {}).get("launchables") or []
            if l.get("type") == "sco" and l.get("id")]


def _has_outcome(a: Attempt) -> bool:
    return a.completion_status == "completed" or a.success_status in _OUTCOME


def _reported(attempts: list[Attempt]) -> Attempt | None:
    ordered = sorted(attempts, key=lambda a: a.number)
    with_outcome = [a for a in ordered if _has_outcome(a)]
    if with_outcome:
        return with_outcome[-1]
    return ordered[-1] if ordered else None


def _sco_summary(sco_id: str, title: str | None, attempts: list[Attempt]) -> dict:
    shown = _reported(attempts)
    return {
        "id": sco_id,
        "title": title,
        "attempt": shown.number if shown else None,
        "completion_status": (shown.completion_status or "not attempted") if shown else "not attempted",
        "success_status": shown.success_status if shown else None,
        "score_scaled": shown.score_scaled if shown else None,
        "total_time": iso_duration(sum(parse_duration(a.total_time) for a in attempts)),
        "attempts": len(attempts),
        "last_activity": max((a.updated for a in attempts), default=None),
    }


def course_status(attempts: list[Attempt], structure: dict, rollup: dict | None = None) -> dict:
    """Just the course's ``completion_status``, ``success_status`` and ``score_scaled``."""
    s = summary(attempts, structure, rollup)
    return {k: s[k] for k in ("completion_status", "success_status", "score_scaled")}


def summary(attempts: list[Attempt], structure: dict, rollup: dict | None = None) -> dict:
    """The registration's overall status and one entry per SCO (see the module doc)."""
    titles = {l["id"]: l.get("title") for l in (structure or {}).get("launchables") or [] if l.get("id")}
    ids = sco_ids(structure)
    by_sco: dict[str, list[Attempt]] = {}
    for a in attempts:
        by_sco.setdefault(a.sco_id, []).append(a)
    for extra in by_sco:          # attempts on an item the structure no longer lists as a SCO
        if extra not in ids:
            ids.append(extra)
    scos = [_sco_summary(i, titles.get(i), by_sco.get(i, [])) for i in ids]
    if len(scos) == 1:
        completion = scos[0]["completion_status"]
        success = scos[0]["success_status"]
        score = scos[0]["score_scaled"]
    else:
        if scos and all(s["completion_status"] == "completed" for s in scos):
            completion = "completed"
        elif not attempts:
            completion = "not attempted"
        else:
            completion = "incomplete"
        known = [s["success_status"] for s in scos if s["success_status"] in _OUTCOME]
        success = ("failed" if "failed" in known else
                   "passed" if known and completion == "completed" else None)
        scores = [s["score_scaled"] for s in scos if s["score_scaled"] is not None]
        score = sum(scores) / len(scores) if scores else None
    if rollup:
        completion = rollup.get("completion_status") or completion
        success = rollup.get("success_status") if rollup.get("success_status") in _OUTCOME else None
        score = rollup.get("score_scaled")
    return {
        "completion_status": completion,
        "success_status": success,
        "score_scaled": score,
        "total_time": iso_duration(sum(parse_duration(a.total_time) for a in attempts)),
        "attempts": len(attempts),
        "last_activity": max((a.updated for a in attempts), default=None),
        "scos": scos,
    }
