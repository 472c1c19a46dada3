"""Registrations for admins: each one's status, score, time, attempts, last activity, and the xAPI
statements behind them (what ``GET /player/registrations`` and ``/player/registrations/{id}`` answer).

The status is the runtime's (player/runtime/status.py) over the registration's attempts (for a
SCORM 2004 sequenced course: the rollup of its sequencing engine, saved with its state). The
statements are those the bridge wrote for the registration with a verb that carries status
(completed, passed, failed, scored, terminated, suspended) on the course or one of its SCOs, newest
first: the evidence an auditor follows into ``/xapi/statements``.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import orjson

from lrs.errors import XAPIError
from lrs.storage.ports import StatementQuery

from .launch import check_learner, learner_from_text
from .runtime.status import summary
from .storage.ports import PAGE_LIMIT, NotFound, Registration, learner_key

ADL = "http://adlnet.gov/expapi/verbs/"
STATUS_VERBS = tuple(ADL + v for v in ("completed", "passed", "failed", "scored", "terminated", "suspended"))
EVIDENCE_PER_VERB = 20


@dataclass
class Registrations:
    player: object          # the player store
    content: object         # the content store
    lrs: object             # the LRS store (statements)
    cmi5: object = None     # lrs.cmi5.lms.Cmi5LMS: a cmi5 registration's moveOn status (AUs, blocks, course)

    def page(self, learner: str | None = None, course: str | None = None, limit: int | None = None,
             after: str | None = None) -> dict:
        key = None
        if learner is not None:
            try:
                key = learner_key(check_learner(learner_from_text(learner)))
            except (ValueError, XAPIError):
                raise XAPIError(400, "learner must be a mailto: IRI or an xAPI Agent as JSON", "learner") from None
        try:
            size = PAGE_LIMIT if limit is None else int(limit)
        except ValueError:
            raise XAPIError(400, f"limit must be a whole number from 1 to {PAGE_LIMIT}", "limit") from None
        if not 1 <= size <= PAGE_LIMIT:
            raise XAPIError(400, f"limit must be a whole number from 1 to {PAGE_LIMIT}", "limit")
        found = self.player.registrations(key, course, size, after)
        out = {"registrations": [self._entry(r, detail=False) for r in found]}
        if len(found) == size:
            params = {k: v for k, v in (("learner", learner), ("course", course), ("limit", limit)) if v}
            out["more"] = "/player/registrations?" + urlencode({**params, "after": found[-1].id})
        return out

    def one(self, registration_id: str) -> dict:
        registration = self.player.get_registration(registration_id)
        if registration is None:
            raise XAPIError(404, f"no registration {registration_id!r}", "id")
        return self._entry(registration, detail=True)

    def _entry(self, r: Registration, detail: bool) -> dict:
        course = self.content.course(r.course_id) or {"id": r.course_id}
        version = self.content.version(r.course_id, r.version) or {}
        try:
            attempts = self.player.attempts(r.id)
        except NotFound:
            attempts = []
        saved = self.player.sequencing_state(r.id)
        status = summary(attempts, version.get("structure") or {}, saved.rollup if saved else None)
        scos = status.pop("scos")
        out = {"id": r.id, "learner": r.learner,
               "course": {"id": r.course_id, "title": course.get("title"), "version": r.version},
               "created": r.created, "updated": r.updated, "status": status}
        if self.cmi5 is not None and version.get("format") == "cmi5":
            cmi5 = self.cmi5.status(r.id)
            if cmi5 is not None:
                status["satisfied"] = cmi5["satisfied"]   # the course's moveOn met (cmi5 9.3.9)
                if detail:
                    out["cmi5"] = cmi5
        if detail:
            out["scos"] = scos
            out["attempts"] = [{"sco": a.sco_id, "number": a.number, "started": a.started, "updated": a.updated,
                                "completion_status": a.completion_status, "success_status": a.success_status,
                                "score_scaled": a.score_scaled, "total_time": a.total_time, "ended": a.ended,
                                "commits": a.applied_seq} for a in attempts]
            out["statements"] = self._evidence(r.id)
        return out

    def _evidence(self, registration_id: str) -> list[dict]:
        rows: list[tuple[int, dict]] = []
        for verb in STATUS_VERBS:
            query = StatementQuery(terms=[("r:" + registration_id.lower(), True), ("v:" + verb, True)],
                                   limit=EVIDENCE_PER_VERB)
            found, _ = self.lrs.query(query)
            rows += [(seq, orjson.loads(raw)) for seq, raw in found]
        rows.sort(key=lambda row: row[0], reverse=True)
        return [{"id": st["id"], "verb": st["verb"]["id"], "object": st["object"].get("id"),
                 "timestamp": st.get("timestamp"), "stored": st.get("stored"),
                 **({"result": st["result"]} if "result" in st else {})} for _, st in rows]
