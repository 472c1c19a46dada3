"""The learner's runtime routes on the content origin: the SCORM API's scripts, attempts and commits.

    GET  /static/{path}      runtime.js (ours) and scorm-again's browser builds (from node_modules)
    POST /attempts           start or resume the attempt on a SCO: the values scorm-again loads (an
                             asset: its launch only, no attempt)
    GET  /contents           the course's SCOs with their status and whether each may be opened now
    POST /commits            commits of attempts (one, or {"commits": [...]} in order): each applied
                             exactly once and in order
    POST /sequencing         SCORM 2004 sequenced courses: the engine's state for leave-and-resume, the
                             course rollup (written as the profile's course-level statements) and
                             the learner's global objectives (objectivesGlobalToSystem)

Both POST routes act only on the registration of the session cookie (``lrs_player``): a body naming
another registration is a 403, whatever it holds. A commit is checked whole (every element, every
value) before anything is written; then its statements and documents are written (idempotent: their
ids come from the commit), and only then is the commit applied, so a crash in between loses nothing
and a retry stores nothing twice.
"""
from __future__ import annotations

import asyncio
import logging
import mimetypes
import time
from pathlib import Path
from typing import Callable

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from lrs.errors import XAPIError

from . import navigation
from .bridge import BridgeError
from .launch import Launcher
from .runtime.attempts import ScoContext, apply, find_item, launch_values, parse_commit
from .runtime.errors import CommitRejected
from .runtime.status import course_status
from .storage import Attempt, NotFound, OutOfOrder, AttemptEnded
from .storage.ports import MAX_SEQUENCING_STATE

try:   # the activity tree scorm-again's engine takes (player/sequencing/tree.py)
    from .sequencing.tree import settings_for
except ImportError:   # pragma: no cover - without it 2004 courses get flow and choice navigation
    settings_for = None

log = logging.getLogger("lrs.player")
STATIC_DIR = Path(__file__).parent / "static"
SCORM_AGAIN_VERSION = "3.4.3"
MAX_COMMIT_BYTES = 4 * 1024 * 1024   # a batch of full snapshots: 2004 suspend data (64000) plus interactions
MAX_BATCH = 20
# A page that closes sends what it holds in one keepalive request per event (its pagehide, then the SCO's
# own Terminate), and those may arrive in any order: a commit that comes before the one it follows waits
# this long for it, polling, without holding a thread, before it is refused with 409.
OUT_OF_ORDER_WAIT = 2.0
MAX_SEQUENCING_BYTES = 4 * 1024 * 1024   # a sequencing save: the engine's state (JSON text) and the global objectives
MAX_GLOBAL_OBJECTIVES = 1000
COMPLETION = ("completed", "incomplete", "not attempted", "unknown")
SUCCESS = ("passed", "failed", "unknown")
COURSE_CACHE_SECONDS = 30
COURSE_CACHE_ENTRIES = 256
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def default_scorm_again_dir() -> Path:
    """Where the setup command's ``npm ci`` puts scorm-again's browser builds."""
    return Path(__file__).resolve().parent.parent / "node_modules" / "scorm-again" / "dist"


def scorm_version(version: dict) -> str:
    return "1.2" if version.get("format") == "scorm12" else "2004"


def sco_count(version: dict) -> int:
    return sum(1 for l in (version.get("structure") or {}).get("launchables") or [] if l.get("type") == "sco")


def objectives_global_to_system(structure: dict) -> bool:
    """The default organization's adlseq:objectivesGlobalToSystem (true when not given)."""
    scorm = (structure or {}).get("scorm") or {}
    orgs = scorm.get("organizations") or []
    default = scorm.get("default_organization")
    org = next((o for o in orgs if o.get("identifier") == default), orgs[0] if orgs else {})
    return org.get("objectives_global_to_system", True) is not False


def sco_status(attempt: Attempt | None) -> str:
    """A SCO's status in SCORM 1.2 words, from its latest attempt."""
    if attempt is None:
        return "not attempted"
    if attempt.success_status in ("passed", "failed"):
        return attempt.success_status
    return attempt.completion_status or "incomplete"


class Runtime:
    """What the routes need: the launcher (sessions, stores), the bridge and the data model."""

    def __init__(self, launcher: Launcher, bridge=None, scorm_again_dir: Path | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.launcher = launcher
        self.player = launcher.player
        self.content = launcher.content
        self.bridge = bridge
        self.scorm_again_dir = scorm_again_dir or default_scorm_again_dir()
        self.clock = clock
        self._courses: dict[tuple[str, int], tuple[float, dict, dict]] = {}

    # -- the course a session holds --------------------------------------------------------

    def course(self, claims: dict) -> tuple[dict, dict]:
        """The session's course and version. Every commit needs them, so they are kept for
        COURSE_CACHE_SECONDS (a version never changes; a course's title may, with a new version)."""
        key = (claims["course"], claims["ver"])
        now = self.clock()
        cached = self._courses.get(key)
        if cached is not None and now - cached[0] < COURSE_CACHE_SECONDS:
            return cached[1], cached[2]
        course = self.content.course(claims["course"])
        version = self.content.version(claims["course"], claims["ver"]) if course else None
        if version is None:
            raise XAPIError(404, "the course of this session is no longer available", "registration")
        if len(self._courses) >= COURSE_CACHE_ENTRIES:
            self._courses.clear()
        self._courses[key] = (now, course, version)
        return course, version

    def navigation(self, registration_id: str, version: dict) -> list[dict]:
        """Every SCO with its status and whether it may be opened now."""
        latest: dict[str, Attempt] = {}
        for attempt in self.player.attempts(registration_id):
            latest[attempt.sco_id] = attempt   # ordered by SCO then number: the last is the latest
        statuses = {sco_id: sco_status(a) for sco_id, a in latest.items()}
        out = []
        twelve = scorm_version(version) == "1.2"
        for sco in navigation.scos(version.get("structure") or {}):
            status = statuses.get(sco.id, "not attempted")
            out.append({"id": sco.id, "title": sco.title, "status": status,
                        "available": navigation.available(sco.prerequisites, statuses) if twelve else True})
        return out

    # -- sequencing (SCORM 2004) ----------------------------------------------------------------

    def sequenced(self, version: dict) -> bool:
        """Whether the course runs under scorm-again's sequencing engine in the browser: a SCORM 2004
        course of several SCOs (one SCO alone needs no navigation), when the activity tree can be built."""
        return settings_for is not None and scorm_version(version) == "2004" and sco_count(version) > 1

    def sequencing_launch(self, claims: dict, version: dict) -> dict | None:
        """What the launch page's runtime.js needs to run the engine: the settings (activity tree,
        rules, controls, rollup, objectives), the registration's saved state, the learner's global
        objectives; None for a course that is not sequenced."""
        if not self.sequenced(version):
            return None
        structure = version.get("structure") or {}
        try:
            settings = settings_for(structure)
        except Exception:   # noqa: BLE001 - a tree the builder cannot make: flow and choice navigation instead
            log.warning("course %s version %s: no activity tree for the sequencing engine; flow and choice "
                        "navigation instead", claims["course"], claims["ver"], exc_info=True)
            return None
        saved = self.player.sequencing_state(claims["reg"])
        shared = objectives_global_to_system(structure)
        return {"settings": settings, "state": saved.state if saved else None,
                "seq": saved.seq if saved else 0, "global_to_system": shared,
                "global_objectives": self.player.global_objectives(claims["sub"]) if shared else {}}

    def save_sequencing(self, held: list[dict], body: dict) -> dict:
        """POST /sequencing: ``{"registration", "seq", "state", "rollup", "global_objectives", "at"}``.
        A save not newer than the stored one is answered ``stored: false`` and changes nothing. The
        course-level statements of a rollup change are written first (idempotent), then the state."""
        claims = _session_for(held, body)
        for name in body:
            if name not in ("registration", "seq", "state", "rollup", "global_objectives", "at"):
                raise XAPIError(400, f"a sequencing save has no field {str(name)[:60]!r}", str(name)[:100])
        course, version = self.course(claims)
        if not self.sequenced(version):
            raise XAPIError(409, "this course is not sequenced: it has no sequencing state", "registration")
        seq = body.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= 2 ** 53 - 1:
            raise XAPIError(400, "seq must be an integer from 1", "seq")
        state = body.get("state")
        if not isinstance(state, str) or len(state) > MAX_SEQUENCING_STATE:
            raise XAPIError(400, f"state must be the engine's serialized state (text of at most "
                                 f"{MAX_SEQUENCING_STATE} characters)", "state")
        try:
            orjson.loads(state)
        except orjson.JSONDecodeError:
            raise XAPIError(400, "state must be JSON text (the engine's serialized state)", "state") from None
        rollup = _rollup(body.get("rollup"))
        objectives = body.get("global_objectives", {})
        if not isinstance(objectives, dict) or len(objectives) > MAX_GLOBAL_OBJECTIVES or not all(
                isinstance(k, str) and 0 < len(k) <= 4000 and isinstance(v, dict) for k, v in objectives.items()):
            raise XAPIError(400, f"global_objectives must be an object of at most {MAX_GLOBAL_OBJECTIVES} "
                                 "objective ids, each an object", "global_objectives")
        at = body.get("at")
        if at is not None and (not isinstance(at, str) or len(at) > 64):
            raise XAPIError(400, "at must be an ISO 8601 timestamp", "at")
        registration = self.player.get_registration(claims["reg"])
        current = self.player.sequencing_state(registration.id)
        if current is not None and current.seq >= seq:
            return {"seq": current.seq, "stored": False}
        before = current.rollup if current is not None else None
        if self.bridge is not None:
            when = at or _now_iso()
            try:
                self.bridge.record_course(before, rollup, ("#sequencing", 0, seq), when, registration, course,
                                          version)
            except BridgeError as exc:
                raise XAPIError(400, f"the rollup cannot be recorded in xAPI: {exc.message}", "rollup") from None
        if objectives and objectives_global_to_system(version.get("structure") or {}):
            self.player.save_global_objectives(registration.learner_key, objectives)
        saved, stored = self.player.save_sequencing_state(registration.id, seq, state, rollup)
        return {"seq": saved.seq, "stored": stored}

    def course_rollup(self, registration_id: str) -> dict | None:
        saved = self.player.sequencing_state(registration_id)
        return saved.rollup if saved else None

    # -- POST /attempts ------------------------------------------------------------------------

    def open_attempt(self, held: list[dict], body: dict) -> dict:
        claims = _session_for(held, body)
        registration_id = claims["reg"]
        sco_id = body.get("sco")
        if not isinstance(sco_id, str) or not sco_id:
            raise XAPIError(400, "sco must be the identifier of an item of the course", "sco")
        course, version = self.course(claims)
        scos = self.navigation(registration_id, version)
        entry = next((s for s in scos if s["id"] == sco_id), None)
        if entry is None:
            raise XAPIError(404, f"the course has no item {sco_id!r} to launch", "sco")
        if not entry["available"]:
            raise XAPIError(409, f"{entry['title']!r} opens when its prerequisites are met", "sco")
        launch = next(s for s in navigation.scos(version["structure"]) if s.id == sco_id).launch
        if (find_item(version.get("structure") or {}, sco_id) or {}).get("scorm_type") != "sco":
            # An asset: shown in the frame, with no SCORM API and nothing tracked (SCORM CAM: assets do
            # not communicate with the LMS); no attempt is made for it.
            return {"registration": registration_id, "sco": sco_id, "asset": True, "attempt": None, "seq": 0,
                    "scorm_version": scorm_version(version), "values": {}, "launch": launch, "scos": scos}
        registration = self.player.get_registration(registration_id)
        sco = ScoContext.from_structure(version.get("structure") or {}, sco_id, learner=registration.learner)
        attempt = self.player.start_attempt(registration_id, sco_id)
        return {"registration": registration_id, "sco": sco_id, "attempt": attempt.number,
                "seq": attempt.applied_seq, "scorm_version": sco.scorm_version,
                "values": launch_values(attempt, sco, registration),
                "launch": launch, "scos": scos}

    def contents(self, held: list[dict], params: dict) -> dict:
        claims = _session_for(held, params)
        course, version = self.course(claims)
        return {"scos": self.navigation(claims["reg"], version)}

    # -- POST /commits -------------------------------------------------------------------------

    def commits(self, held: list[dict], body: dict) -> dict:
        """A batch ``{"commits": [...]}`` (at most MAX_BATCH) is applied in order and stops at the first
        refusal, whose error names its ``index`` (those before it are applied); one commit alone is
        answered as itself."""
        if "commits" not in body:
            return self.commit(held, body)
        batch = body["commits"]
        if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_BATCH or len(body) != 1:
            raise XAPIError(400, f"commits must be a list of 1 to {MAX_BATCH} commits, alone in the body", "commits")
        results = []
        for index, one in enumerate(batch):
            if not isinstance(one, dict):
                raise _at(XAPIError(400, "each commit must be a JSON object", f"commits[{index}]"), index)
            try:
                results.append(self.commit(held, one))
            except XAPIError as exc:
                raise _at(exc, index) from None
            except CommitRejected as exc:
                raise _at(exc, index) from None
        return {"commits": results}

    def commit(self, held: list[dict], body: dict) -> dict:
        claims = _session_for(held, body)
        registration_id = claims["reg"]
        course, version = self.course(claims)
        commit = parse_commit(body, scorm_version(version))
        sco_id = commit.sco
        registration = self.player.get_registration(registration_id)
        sco = ScoContext.from_structure(version.get("structure") or {}, sco_id, learner=registration.learner)
        number = commit.attempt
        attempt = self.player.current_attempt(registration_id, sco_id)
        if attempt is not None and attempt.number != number:   # an older attempt's late commit
            attempt = next((a for a in self.player.attempts(registration_id)
                            if a.sco_id == sco_id and a.number == number), None)
        if attempt is None:
            raise XAPIError(404, f"no attempt {number} on {sco_id!r}: open it first", "attempt")
        if commit.seq <= attempt.applied_seq:
            return {"seq": commit.seq, "applied": False}
        if commit.seq > attempt.applied_seq + 1:
            raise _out_of_order(OutOfOrder(commit.seq, attempt.applied_seq + 1))
        if attempt.ended:
            raise XAPIError(410, f"attempt {number} on {sco_id!r} has ended; open the SCO again", "attempt")
        after = apply(attempt, commit, sco)
        if self.bridge is not None:
            try:
                self.bridge.record(attempt, after, commit, registration, course, version, sco)
                self._record_course(registration, course, version, attempt, after, commit)
            except BridgeError as exc:   # a value xAPI cannot carry (say, an IRI over the LRS's limit)
                raise XAPIError(400, f"the commit cannot be recorded in xAPI: {exc.message}", exc.path) from None

        def change(current: Attempt) -> Attempt:
            return after if current.applied_seq == attempt.applied_seq else apply(current, commit, sco)

        try:
            applied = self.player.apply_commit(registration_id, sco_id, number, commit.seq, change)
        except OutOfOrder as exc:
            raise _out_of_order(exc) from None
        except AttemptEnded:
            raise XAPIError(410, f"attempt {number} on {sco_id!r} has ended; open the SCO again", "attempt")
        except NotFound:
            raise XAPIError(404, f"no attempt {number} on {sco_id!r}", "attempt") from None
        done = applied.attempt
        return {"seq": commit.seq, "applied": not applied.duplicate, "ended": done.ended,
                "status": sco_status(done)}


    def _record_course(self, registration, course: dict, version: dict, before: Attempt, after: Attempt,
                       commit) -> None:
        """A course not run by the sequencing engine (SCORM 1.2, unsequenced 2004, any course of one SCO):
        the course-level statements when the commit changes the course status rolled up from its SCOs.
        A course of one SCO gets them too, so a rule names the course whatever its number of SCOs."""
        if self.sequenced(version):
            return
        structure = version.get("structure") or {}
        attempts = [a for a in self.player.attempts(registration.id)
                    if (a.sco_id, a.number) != (before.sco_id, before.number)]
        was = course_status(attempts + [before], structure)
        now = course_status(attempts + [after], structure)
        if was != now:
            self.bridge.record_course(was, now, (commit.sco, commit.attempt, commit.seq), commit.at, registration,
                                      course, version)


def _rollup(value) -> dict:
    if not isinstance(value, dict):
        raise XAPIError(400, "rollup must be {completion_status, success_status, score_scaled}", "rollup")
    for name in value:
        if name not in ("completion_status", "success_status", "score_scaled"):
            raise XAPIError(400, f"rollup has no field {str(name)[:60]!r}", f"rollup.{str(name)[:60]}")
    completion = value.get("completion_status") or "unknown"
    if completion not in COMPLETION:
        raise XAPIError(400, f"completion_status must be one of {', '.join(COMPLETION)}", "rollup.completion_status")
    success = value.get("success_status") or "unknown"
    if success not in SUCCESS:
        raise XAPIError(400, f"success_status must be one of {', '.join(SUCCESS)}", "rollup.success_status")
    score = value.get("score_scaled")
    if score is not None and (not isinstance(score, (int, float)) or isinstance(score, bool) or not -1 <= score <= 1):
        raise XAPIError(400, "score_scaled must be a number from -1 to 1, or null", "rollup.score_scaled")
    return {"completion_status": completion, "success_status": success if success != "unknown" else None,
            "score_scaled": score}


def _now_iso() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _session_for(held: list[dict], body: dict) -> dict:
    """The session of the registration the request names; 403 when this browser holds none for it."""
    registration = body.get("registration")
    found = next((e for e in held if e["reg"] == registration), None)
    if found is None:
        raise XAPIError(403, "this browser holds no course session for that registration: a course can act "
                             "only on its own learner's registration", "registration")
    return found


def _at(error: XAPIError, index: int) -> XAPIError:
    error.extra = {**(getattr(error, "extra", None) or {}), "index": index}
    return error


async def _in_order(work: Callable[[dict, dict], dict], held: list[dict], body: dict) -> dict:
    """``work`` (commits), run again while it stops at a commit that came before the one it follows, for
    OUT_OF_ORDER_WAIT at most: the commits before it are applied once whatever the runs."""
    deadline = time.monotonic() + OUT_OF_ORDER_WAIT
    while True:
        try:
            return await run_in_threadpool(work, held, body)
        except XAPIError as exc:
            if "expected" not in (getattr(exc, "extra", None) or {}) or time.monotonic() >= deadline:
                raise
        await asyncio.sleep(0.05)


def _out_of_order(exc: OutOfOrder) -> XAPIError:
    error = XAPIError(409, str(exc), "seq")
    error.extra = {"expected": exc.expected}
    return error


def runtime_routes(runtime: Runtime, cookie: str) -> list[Route]:
    async def static(request: Request) -> Response:
        name = request.path_params["path"]
        if name.startswith(f"scorm-again/{SCORM_AGAIN_VERSION}/"):
            base, rest = runtime.scorm_again_dir, name.split("/", 2)[2]
            cache = "public, max-age=31536000, immutable"   # the version is in the URL
        else:
            base, rest, cache = STATIC_DIR, name, "no-cache"
        path = (base / rest).resolve()
        if rest.startswith(".") or "/" in rest or not path.is_file() or path.parent != base.resolve():
            detail = ("scorm-again is not installed: run `npm ci` in the project folder"
                      if base == runtime.scorm_again_dir and not base.is_dir() else f"no file {name!r}")
            return JSONResponse(XAPIError(404, detail, "path").body(), status_code=404, headers=NO_STORE)
        media = mimetypes.guess_type(rest)[0] or "application/octet-stream"
        if media in ("application/javascript", "text/javascript"):
            media = "text/javascript; charset=utf-8"
        return FileResponse(path, media_type=media, headers={"Cache-Control": cache,
                                                             "X-Content-Type-Options": "nosniff"})

    def handler(work: Callable[[dict, dict], dict], read_body: bool = True, in_order: bool = False):
        async def endpoint(request: Request) -> Response:
            try:
                held = await run_in_threadpool(runtime.launcher.sessions, request.cookies.get(cookie))
                if not held:
                    raise XAPIError(401, "no course session: open the launch link again", "cookie")
                body = await _json_body(request) if read_body else dict(request.query_params)
                answer = await (_in_order(work, held, body) if in_order else run_in_threadpool(work, held, body))
            except ClientDisconnect:   # the page went away mid-body: nothing was applied; it sends again
                return Response(status_code=400, headers=NO_STORE)
            except XAPIError as exc:
                payload = exc.body()
                payload["error"].update(getattr(exc, "extra", {}) or {})
                return JSONResponse(payload, status_code=exc.status, headers={**NO_STORE, **exc.headers})
            return Response(orjson.dumps(answer), media_type="application/json", headers=NO_STORE)
        return endpoint

    return [Route("/static/{path:path}", static, methods=["GET", "HEAD"]),
            Route("/attempts", handler(runtime.open_attempt), methods=["POST"]),
            Route("/contents", handler(runtime.contents, read_body=False), methods=["GET"]),
            Route("/commits", handler(runtime.commits, in_order=True), methods=["POST"]),
            Route("/sequencing", handler(runtime.save_sequencing), methods=["POST"])]


async def _json_body(request: Request) -> dict:
    return await json_object(request, MAX_COMMIT_BYTES, "a commit")


async def json_object(request: Request, limit: int, what: str) -> dict:
    """The request's body: a JSON object of at most ``limit`` bytes (415, 413 or 400 otherwise)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise XAPIError(415, "send the body as JSON (Content-Type: application/json)", "Content-Type")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise XAPIError(413, f"{what} is at most {limit} bytes", "body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise XAPIError(400, "the body is not valid JSON", "body") from None
    if not isinstance(body, dict):
        raise XAPIError(400, "the body must be a JSON object", "body")
    return body
