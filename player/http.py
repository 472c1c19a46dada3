"""The player's HTTP routes (mounted at ``/player`` by service/app.py).

    POST /launches         a launch link (admin credential: the composition root guards this route)
    GET  /launch/{token}   what the learner's browser opens: consumes the token, starts a session, 303
    GET  /session          the launch page of the session's registration

The session is the ``lrs_player`` cookie, a signed JWT bound to one registration; only these routes
read it (``/xapi`` and ``/content`` never accept cookies).
"""
from __future__ import annotations

from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from lrs.errors import XAPIError

from . import pages
from .launch import Launcher, TokenRejected
from .runtime_http import SCORM_AGAIN_VERSION, Runtime, runtime_routes

COOKIE = "lrs_player"
COOKIE_PATH = "/player/"
MAX_BODY = 64 * 1024
FIELDS = ("learner", "course_id", "registration", "version", "return_url")


def create_app(launcher: Launcher, public_url: str = "", content_files: str = "/content/files",
               runtime: Runtime | None = None) -> Starlette:
    runtime = runtime or Runtime(launcher)

    async def create_launch(request: Request) -> Response:
        try:
            body = await _json_body(request)
            base = public_url.rstrip("/") or str(request.base_url).rstrip("/")
            launch = await run_in_threadpool(
                launcher.create, body.get("learner"), body.get("course_id"), base,
                registration=body.get("registration"), version=body.get("version"),
                return_url=body.get("return_url"))
        except XAPIError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
        return JSONResponse(launch.body(), status_code=201, headers={"Cache-Control": "no-store"})

    async def open_launch(request: Request) -> Response:
        try:
            claims = await run_in_threadpool(launcher.open, request.path_params["token"])
        except TokenRejected as exc:
            return pages.refused(exc.reason)
        session = await run_in_threadpool(launcher.session_token, claims)
        secure = public_url.lower().startswith("https:") if public_url else request.url.scheme == "https"
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/session", status_code=303,
                                    headers=pages.HEADERS)
        response.set_cookie(COOKIE, session, max_age=launcher.session_seconds, path=COOKIE_PATH,
                            httponly=True, samesite="lax", secure=secure)
        return response

    async def show_session(request: Request) -> Response:
        claims = await run_in_threadpool(launcher.session, request.cookies.get(COOKIE))
        if claims is None:
            return pages.no_session()
        try:
            course, version, scos = await run_in_threadpool(_session_course, runtime, claims)
        except XAPIError:
            return pages.no_session()
        if not scos:
            return pages.page("Nothing to launch", "<h1>Nothing to launch</h1><p>This course version has no "
                                                   "item a browser can open.</p>", 409)
        root = request.scope.get("root_path", "")
        twelve = version.get("format") == "scorm12"
        config = {
            "registration": claims["reg"], "scorm_version": "1.2" if twelve else "2004",
            "course": {"id": course["id"], "title": course.get("title") or course["id"], "version": version["version"]},
            "scos": scos, "start": _start(scos),
            "urls": {"attempts": f"{root}/attempts", "commits": f"{root}/commits", "contents": f"{root}/contents",
                     "files": frame_url(content_files, course["id"], version["version"], ""),
                     "return": claims.get("ret") or ""},
        }
        build = "scorm12" if twelve else "scorm2004"
        scripts = [f"{root}/static/scorm-again/{SCORM_AGAIN_VERSION}/{build}.min.js", f"{root}/static/runtime.js"]
        return pages.player_page(config, config["course"]["title"], version["version"], scripts)

    routes = [
        Route("/launches", create_launch, methods=["POST"]),
        Route("/launch/{token}", open_launch, methods=["GET"]),
        Route("/session", show_session, methods=["GET"]),
        *runtime_routes(runtime, COOKIE),
    ]
    async def http_error(request: Request, exc: HTTPException) -> Response:
        # 404 and 405 in the project's JSON error shape (Starlette's default is plain text)
        body = XAPIError(exc.status_code, str(exc.detail), request.url.path).body()
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.launcher = launcher
    return app


def frame_url(content_files: str, course_id: str, version: int, launch: str) -> str:
    """The URL of a version's launch file under the content store's file route (absolute launch URLs as they are)."""
    if launch.lower().startswith(("http://", "https://")):
        return launch
    return f"{content_files}/{quote(course_id, safe='')}/{int(version)}/{launch.lstrip('/')}"


def _session_course(runtime: Runtime, claims: dict):
    course, version = runtime.course(claims)
    return course, version, runtime.navigation(claims["reg"], version)


def _start(scos: list[dict]) -> str:
    """Where a launch opens: the first available SCO not yet done (passed or completed), else the first."""
    for sco in scos:
        if sco["available"] and sco["status"] not in ("passed", "completed"):
            return sco["id"]
    return scos[0]["id"]


async def _json_body(request: Request) -> dict:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise XAPIError(415, "send the launch request as JSON (Content-Type: application/json)", "Content-Type")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise XAPIError(413, f"a launch request is at most {MAX_BODY} bytes", "body")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise XAPIError(400, "the body is not valid JSON", "body") from None
    if not isinstance(body, dict):
        raise XAPIError(400, "the body must be a JSON object", "body")
    for name in body:
        if name not in FIELDS:
            raise XAPIError(400, f"unknown field {name!r}; the fields are {', '.join(FIELDS)}", name)
    if "learner" not in body:
        raise XAPIError(400, "learner is required: the learner's xAPI Agent", "learner")
    if "course_id" not in body:
        raise XAPIError(400, "course_id is required", "course_id")
    return body
