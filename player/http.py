"""The player's HTTP routes, in two apps for two origins (service/app.py mounts both at ``/player``).

The admin app, on the main origin (an admin credential: the composition root guards each route):

    POST /launches         a launch link, pointing at the content origin

The learner app, on the content origin, next to the course files (``/content/files/...``):

    GET  /launch/{token}   what the learner's browser opens: consumes the token, starts a session, 303
    GET  /session          the launch page of the session's registration
    (the runtime's routes, player/runtime_http.py: /static/..., POST /attempts, POST /commits)

The session is the ``lrs_player`` cookie, a signed JWT bound to one registration, set by the content
origin only (host-only, HttpOnly, SameSite=Lax, Path=/ so that it reaches both /player/ and the
course files at /content/files/). Only the learner app and the course files read it; nothing on the
main origin accepts cookies.
"""
from __future__ import annotations

from typing import Callable
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, request_response

from lrs.errors import XAPIError

from . import pages
from .launch import Launcher, TokenRejected
from .registrations import Registrations
from .runtime_http import SCORM_AGAIN_VERSION, Runtime, json_object, runtime_routes

COOKIE = "lrs_player"
COOKIE_PATH = "/"  # the learner pages (/player/...) and the course files (/content/files/...)
MAX_BODY = 64 * 1024
FIELDS = ("learner", "course_id", "registration", "version", "return_url")


def create_admin_app(launcher: Launcher, content_origin: str = "",
                     guard: Callable = lambda app: app, registrations: Registrations | None = None,
                     other_formats: Callable | None = None) -> Starlette:
    """The admin routes, each wrapped in ``guard`` (an ASGI middleware: the composition root's
    RequireAdmin), so that a path that is no route is a 404 for everyone.

    ``content_origin``: the content origin's URL (launch links point there); default: the request's.
    ``registrations``: the status API's reader (without it, /registrations answers 404).
    ``other_formats``: ``(body) -> dict | None``, the launch of a course SCORM does not play (cmi5,
    TinCan: player/cmi5), None for a SCORM course."""
    async def create_launch(request: Request) -> Response:
        try:
            body = await _json_body(request)
            if other_formats is not None:
                other = await run_in_threadpool(other_formats, body)
                if other is not None:
                    return JSONResponse(other, status_code=201, headers={"Cache-Control": "no-store"})
            base = content_origin.rstrip("/") or str(request.base_url).rstrip("/")
            launch = await run_in_threadpool(
                launcher.create, body.get("learner"), body.get("course_id"), base,
                registration=body.get("registration"), version=body.get("version"),
                return_url=body.get("return_url"))
        except XAPIError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
        return JSONResponse(launch.body(), status_code=201, headers={"Cache-Control": "no-store"})

    async def list_registrations(request: Request) -> Response:
        params = request.query_params
        for name in params:
            if name not in ("learner", "course", "limit", "after"):
                return _error(XAPIError(400, f"unknown parameter {name!r}; the parameters are learner, course, "
                                             "limit and after", name))
        try:
            page = await run_in_threadpool(registrations.page, params.get("learner"), params.get("course"),
                                           params.get("limit"), params.get("after"))
        except XAPIError as exc:
            return _error(exc)
        return JSONResponse(page, headers={"Cache-Control": "no-store"})

    async def show_registration(request: Request) -> Response:
        try:
            found = await run_in_threadpool(registrations.one, request.path_params["registration"])
        except XAPIError as exc:
            return _error(exc)
        return JSONResponse(found, headers={"Cache-Control": "no-store"})

    routes = [Route("/launches", _ASGIApp(guard(request_response(create_launch))), methods=["POST"])]
    if registrations is not None:
        routes += [Route("/registrations", _ASGIApp(guard(request_response(list_registrations))), methods=["GET"]),
                   Route("/registrations/{registration}", _ASGIApp(guard(request_response(show_registration))),
                         methods=["GET"])]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.launcher = launcher
    return app


def _error(exc: XAPIError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers={**exc.headers, "Cache-Control": "no-store"})


def create_learner_app(launcher: Launcher, content_origin: str = "", content_files: str = "/content/files",
                       runtime: Runtime | None = None) -> Starlette:
    """The learner's routes, for the content origin: the launch link, the launch page and the runtime
    (player/runtime_http.py). ``content_origin``: its URL (an https one makes the cookie Secure);
    default: the request's. ``runtime``: the runtime with its bridge (default: one without a bridge)."""
    runtime = runtime or Runtime(launcher)

    async def open_launch(request: Request) -> Response:
        try:
            claims = await run_in_threadpool(launcher.open, request.path_params["token"])
        except TokenRejected as exc:
            return pages.refused(exc.reason)
        session = await run_in_threadpool(launcher.session_token, claims, request.cookies.get(COOKIE))
        origin = content_origin or str(request.base_url)
        response = RedirectResponse(f"{request.scope.get('root_path', '')}/session?registration={claims['reg']}",
                                    status_code=303, headers=pages.HEADERS)
        # No Domain attribute: a host-only cookie, which the content origin's host alone gets back.
        response.set_cookie(COOKIE, session, max_age=launcher.session_seconds, path=COOKIE_PATH,
                            httponly=True, samesite="lax", secure=origin.lower().startswith("https:"))
        return response

    async def show_session(request: Request) -> Response:
        claims = await run_in_threadpool(launcher.session, request.cookies.get(COOKIE),
                                         request.query_params.get("registration"))
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
            "urls": {"attempts": f"{root}/attempts", "commits": f"{root}/commits", "contents": f"{root}/contents?registration={claims['reg']}",
                     "files": frame_url(content_files, course["id"], version["version"], ""),
                     "return": claims.get("ret") or ""},
        }
        sequencing = await run_in_threadpool(runtime.sequencing_launch, claims, version)
        if sequencing is not None:
            config["sequencing"] = sequencing
            config["urls"]["sequencing"] = f"{root}/sequencing"
        build = "scorm12" if twelve else "scorm2004"
        scripts = [f"{root}/static/scorm-again/{SCORM_AGAIN_VERSION}/{build}.min.js", f"{root}/static/runtime.js"]
        return pages.player_page(config, config["course"]["title"], version["version"], scripts)

    routes = [
        Route("/launch/{token}", open_launch, methods=["GET"]),
        Route("/session", show_session, methods=["GET"]),
        *runtime_routes(runtime, COOKIE),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.launcher = launcher
    return app


class _ASGIApp:
    """An ASGI callable as a Route endpoint (a plain function there would be taken for a request handler)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    # 404 and 405 in the project's JSON error shape (Starlette's default is plain text)
    body = XAPIError(exc.status_code, str(exc.detail), request.url.path).body()
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


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
    body = await json_object(request, MAX_BODY, "a launch request")
    for name in body:
        if name not in FIELDS:
            raise XAPIError(400, f"unknown field {name!r}; the fields are {', '.join(FIELDS)}", name)
    if "learner" not in body:
        raise XAPIError(400, "learner is required: the learner's xAPI Agent", "learner")
    if "course_id" not in body:
        raise XAPIError(400, "course_id is required", "course_id")
    return body
