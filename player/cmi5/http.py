"""HTTP routes of cmi5 and TinCan launch, mounted at ``/player/cmi5`` (service/app.py).

Admin app (main origin, an admin credential: the composition root guards it):

    POST /launches                         {learner, course_id, au?, registration?, launch_mode?, return_url?}
    GET  /registrations/{id}               the cmi5 registration's status: AUs, blocks, course satisfied
    POST /registrations/{id}/waive         {au: index or publisher id, reason}
    POST /sessions/{id}/abandon            abandon an active AU session

Learner app (content origin): ``GET /launch/{token}`` (single use: sets the player session cookie and
redirects to the AU), ``POST /fetch/{token}`` (cmi5 8.2: the auth token once, error objects after),
``GET /returned`` (the default return URL).
"""
from __future__ import annotations

from typing import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from lrs.cmi5.lms import Cmi5Error
from lrs.errors import XAPIError

from .. import pages
from ..http import COOKIE, COOKIE_PATH
from ..runtime_http import json_object
from .launch import Cmi5Launcher

FIELDS = ("learner", "course_id", "au", "registration", "launch_mode", "return_url")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type", "Cache-Control": "no-store"}


def _error(exc) -> JSONResponse:
    err = XAPIError(exc.status, exc.message, exc.path)
    return JSONResponse(err.body(), status_code=exc.status)


def create_cmi5_admin_app(cmi5: Cmi5Launcher, guard: Callable = lambda app: app) -> Starlette:
    lms = cmi5.lms

    async def create_launch(request: Request) -> Response:
        try:
            body = await json_object(request, 64 * 1024, "a launch request")
            unknown = [k for k in body if k not in FIELDS]
            if unknown:
                raise XAPIError(400, f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}", unknown[0])
            for name in ("learner", "course_id"):
                if name not in body:
                    raise XAPIError(400, f"{name} is required", name)
            out = await run_in_threadpool(cmi5.create, body["learner"], body["course_id"], body.get("au", 0),
                                          body.get("registration"), body.get("launch_mode", "Normal"),
                                          body.get("return_url"))
        except XAPIError as exc:
            return _error(exc)
        return JSONResponse(out, status_code=201, headers={"Cache-Control": "no-store"})

    async def registration(request: Request) -> Response:
        status = await run_in_threadpool(lms.status, request.path_params["id"].lower())
        if status is None:
            return _error(XAPIError(404, "no cmi5 registration with this id", "id"))
        return JSONResponse(status, headers={"Cache-Control": "no-store"})

    async def waive(request: Request) -> Response:
        rid = request.path_params["id"].lower()
        try:
            body = await json_object(request, 16 * 1024, "a waiver")
            reg = await run_in_threadpool(lms.store.get_registration, rid)
            if reg is None:
                raise XAPIError(404, "no cmi5 registration with this id", "id")
            au = body.get("au")
            aus = reg["tree"]["aus"]
            if isinstance(au, int) and not isinstance(au, bool):
                if not 0 <= au < len(aus):
                    raise XAPIError(404, f"the course has no AU number {au}", "au")
                au = aus[au]["pub"]
            if not isinstance(au, str):
                raise XAPIError(400, "au must be the AU's index or publisher id", "au")
            out = await run_in_threadpool(lms.waive, rid, au, body.get("reason"))
        except (XAPIError, Cmi5Error) as exc:
            return _error(exc)
        return JSONResponse(out, status_code=201)

    async def abandon(request: Request) -> Response:
        done = await run_in_threadpool(lms.abandon, request.path_params["id"].lower())
        if not done:
            return _error(XAPIError(409, "no active AU session with this id", "id"))
        return Response(status_code=204)

    return Starlette(routes=[
        Route("/launches", guard(_Endpoint(create_launch)), methods=["POST"]),
        Route("/registrations/{id}", guard(_Endpoint(registration)), methods=["GET"]),
        Route("/registrations/{id}/waive", guard(_Endpoint(waive)), methods=["POST"]),
        Route("/sessions/{id}/abandon", guard(_Endpoint(abandon)), methods=["POST"]),
    ])


def create_cmi5_learner_app(cmi5: Cmi5Launcher, secure_cookie: bool = False) -> Starlette:
    launcher = cmi5.launcher

    async def open_launch(request: Request) -> Response:
        claims = await run_in_threadpool(cmi5.open, request.path_params["token"])
        if claims is None:
            return pages.refused("invalid")
        session = await run_in_threadpool(launcher.session_token, claims, request.cookies.get(COOKIE))
        response = RedirectResponse(claims["to"], status_code=303, headers=pages.HEADERS)
        response.set_cookie(COOKIE, session, max_age=launcher.session_seconds, path=COOKIE_PATH,
                            httponly=True, samesite="lax", secure=secure_cookie)
        return response

    async def fetch(request: Request) -> Response:
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=CORS)
        try:
            body = await run_in_threadpool(cmi5.lms.fetch, request.path_params["token"])
        except Exception:  # the store failed: the spec's application error, still a 200 (cmi5 8.2.3)
            body = {"error-code": "3", "error-text": "the LMS could not answer; try launching again"}
        return JSONResponse(body, headers=CORS)

    async def returned(request: Request) -> Response:
        return pages.page("Course closed", "<h1>You have left the course</h1><p>Your progress is saved. "
                                           "You can close this window.</p>", 200)

    return Starlette(routes=[
        Route("/launch/{token}", open_launch, methods=["GET"]),
        Route("/fetch/{token}", fetch, methods=["POST", "OPTIONS"]),
        Route("/returned", returned, methods=["GET"]),
    ])


class _Endpoint:
    def __init__(self, handler):
        self.handler = handler

    async def __call__(self, scope, receive, send):
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)
