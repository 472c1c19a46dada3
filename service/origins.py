"""The two origins of the service and what keeps them apart.

`lrs serve` listens on two ports of one process: the main origin (``LRS_PORT``: ``/xapi``, the
content management API, the admin routes of the player) and the content origin (``LRS_CONTENT_PORT``:
course files and the learner's player). ``ByListener`` sends each connection to the app of the port
it came in on; both share the stores and one lifespan (the main app's).

Browsers keep origins apart by scheme, host and port, so a package's scripts, which run on the
content origin, cannot read the main origin's answers (CORS on ``/xapi`` never allows credentials)
and cannot frame its pages. ``SecurityHeaders`` adds the headers that say so to every answer of an
origin: the main origin's may not be framed at all, the content origin's only by its own pages
(the player frames the SCO) and not loaded by other origins' pages.
"""
from __future__ import annotations

import orjson

MAIN_HEADERS = {
    b"x-frame-options": b"DENY",
    b"content-security-policy": b"frame-ancestors 'none'",
    b"x-content-type-options": b"nosniff",
}
CONTENT_HEADERS = {
    b"x-frame-options": b"SAMEORIGIN",
    b"content-security-policy": b"frame-ancestors 'self'",
    b"x-content-type-options": b"nosniff",
    b"cross-origin-resource-policy": b"same-origin",
}


class SecurityHeaders:
    """Adds ``headers`` to every response that does not set them itself. A response with its own
    Content-Security-Policy but no ``frame-ancestors`` directive gets this one as a second header
    (browsers enforce every policy they are given)."""

    def __init__(self, app, headers: dict[bytes, bytes]):
        self.app = app
        self.headers = headers

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in self.headers.items():
                    if name == b"content-security-policy" and name in present:
                        if not any(k.lower() == name and b"frame-ancestors" in v for k, v in headers):
                            headers.append((name, value))
                    elif name not in present:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        return await self.app(scope, receive, send_with_headers)


class ByListener:
    """One ASGI app for both listeners: a request on ``content_port`` (the local port of its
    connection, ``scope["server"]``) goes to ``content``, any other to ``main``; the lifespan to
    ``main``, which opens and closes the stores both share."""

    def __init__(self, main, content, content_port: int):
        self.main, self.content, self.content_port = main, content, content_port

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            server = scope.get("server")
            if server and len(server) > 1 and server[1] == self.content_port:
                return await self.content(scope, receive, send)
        return await self.main(scope, receive, send)


async def not_found(scope, receive, send):
    """404 in the project's error shape: what one origin does not serve (the other origin's paths)."""
    if scope["type"] != "http":
        return
    body = orjson.dumps({"error": {"status": 404, "message": f"nothing at {scope['path']} on this origin",
                                   "path": scope["path"]}})
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
