"""Course files for a learner's session only (the content origin's ``/content/files/...``).

``SessionFiles`` wraps the content store's file app (mounted at ``/content/files``): a request for
``/{course}/{version}/{path}`` is passed on only with a valid ``lrs_player`` session cookie holding a
session of that course and version. Without a session (none, forged, expired) it is 401,
with a session of another course or version 403: a JSON error, or a short page for a browser that
asks for HTML (the SCO's frame). So a package's scripts can load the files of their own course and
version only, and nobody reads course files without a launch link.

Every method (GET, HEAD, with or without Range or If-None-Match) is checked the same way: browsers
send the cookie with every same-origin request a page makes (frames, scripts, media ranges, fetch). A
file is cached by the browser only (``Cache-Control: private``), never by a shared cache that would
answer it to anyone.

cmi5 AUs and TinCan packages launch through the player too, so their files load with the session
in the same way; an AU whose URL is absolute (another host) is not served here at all. The xAPI
calls those packages make go to the main origin's ``/xapi`` with the credentials their launch gives
them in an explicit Authorization header (CORS, no cookies), not with this session.

A browser's ``lrs_player`` cookie holds up to MAX_SESSIONS course sessions (player/launch.py): two
courses open in two tabs both load their files.
"""
from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from content_store.numbers import whole_number

from . import pages
from .http import COOKIE
from .launch import Launcher

PRIVATE_CACHE = b"private, max-age=31536000, immutable"


class SessionFiles:
    def __init__(self, app, launcher: Launcher):
        self.app = app
        self.launcher = launcher

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        conn = HTTPConnection(scope)
        held = await run_in_threadpool(self.launcher.sessions, conn.cookies.get(COOKIE))
        if not held:
            return await _refuse(conn, send, 401, "course files are served to a course session only: open a "
                                                  "launch link first (no valid lrs_player cookie)", COOKIE)
        course, version = _course_and_version(_relative(scope))
        if not any(course == e["course"] and version == e["ver"] for e in held):
            return await _refuse(conn, send, 403, "this course session is for another course or version; "
                                                  "its files are not served to it", "path")

        async def send_private(message):
            if message["type"] == "http.response.start":
                message["headers"] = [(k, PRIVATE_CACHE if k.lower() == b"cache-control" else v)
                                      for k, v in message.get("headers", [])]
            await send(message)

        return await self.app(scope, receive, send_private)


def _course_and_version(path: str) -> tuple[str | None, int | None]:
    """``/{course}/{version}/...`` (the path as decoded by the server, as the file route reads it)."""
    parts = path.lstrip("/").split("/", 2)
    if len(parts) < 3:
        return None, None
    return parts[0], whole_number(parts[1])


def _relative(scope) -> str:
    root, path = scope.get("root_path", ""), scope["path"]
    return path[len(root):] if root and path.startswith(root) else path


async def _refuse(conn: HTTPConnection, send, status: int, message: str, where: str) -> None:
    if "text/html" in conn.headers.get("accept", ""):
        response = pages.no_session() if status == 401 else pages.other_course()
        return await response(conn.scope, _no_body, send)
    body = orjson.dumps({"error": {"status": status, "message": message, "path": where}})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body if conn.scope["method"] != "HEAD" else b""})


async def _no_body():
    return {"type": "http.request", "body": b"", "more_body": False}
