"""The xAPI ASGI app: every request is read, negotiated and authenticated here, then
dispatched by path to its resource; every XAPIError becomes its 4xx JSON answer."""
from __future__ import annotations

import logging

from starlette.responses import Response

from ..auth import Credentials
from ..errors import XAPIError
from ..statements.forms import now_timestamp
from ..storage import StoreBusy
from . import documents, resources
from .request import build_request, negotiate_version, read_body, response_version
from .responses import error_response
from .statements import StatementsResource

log = logging.getLogger("lrs.xapi")

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, HEAD, PUT, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Experience-API-Version, If-Match, "
                                    "If-None-Match, Accept-Language",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, X-Experience-API-Version, "
                                     "X-Experience-API-Consistent-Through",
}


class XAPIApp:
    def __init__(self, store, max_request_bytes: int, max_batch_statements: int, max_query_limit: int):
        self.store = store
        self.credentials = Credentials(store)
        self.max_request_bytes = max_request_bytes
        self._last_version: dict[str | None, str] = {}
        self.routes = {
            "/statements": StatementsResource(store, max_batch_statements, max_query_limit),
            "/activities/state": documents.DocumentsResource(store, documents.STATE),
            "/activities/profile": documents.DocumentsResource(store, documents.ACTIVITY_PROFILE),
            "/agents/profile": documents.DocumentsResource(store, documents.AGENT_PROFILE),
            "/agents": resources.agents,
            "/activities": resources.ActivitiesResource(store),
            "/about": resources.about,
        }

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        version = headers.get("x-experience-api-version")
        try:
            response = await self._handle(scope, receive, headers)
        except XAPIError as exc:
            response = error_response(exc)
            if exc.status >= 500:
                log.error("xapi error %s: %s", exc.status, exc.message)
        except StoreBusy as exc:  # a read passed its deadline: the client may try again later
            log.warning("store busy on %s %s: %s", scope["method"], scope["path"], exc.message)
            response = error_response(XAPIError(503, exc.message, headers={"Retry-After": str(exc.retry_after)}))
        except Exception:  # a defect of ours: log it, answer 500 without a stack trace
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            response = error_response(XAPIError(500, "internal error; the request id is in the X-Request-Id header"))
        version = scope.get("state", {}).get("xapi_version", version)
        response.headers["X-Experience-API-Version"] = response_version(version)
        if scope["path"].rstrip("/").endswith("/statements"):  # on every answer, errors too (XAPI-00153)
            response.headers.setdefault("X-Experience-API-Consistent-Through", now_timestamp())
        for key, value in CORS.items():
            response.headers.setdefault(key, value)
        if scope["method"] == "HEAD":
            response.body = b""
        await response(scope, receive, send)

    async def _handle(self, scope, receive, headers) -> Response:
        if scope["method"] == "OPTIONS":
            return Response(status_code=204)
        body = await read_body(receive, headers, self.max_request_bytes)
        req = build_request(scope, body, headers)
        resource = self.routes.get(req.path)
        if resource is None:
            raise XAPIError(404, f"no xAPI resource at {req.path}")
        if req.path == "/about":
            return await resource(req)
        req.credential = await self.credentials.authenticate_async(req.headers.get("authorization"))
        key = req.credential["key"] if req.credential else None
        try:
            negotiate_version(req)
        except XAPIError:
            # A request without a usable version header cannot say which version it speaks: answer
            # in the one its credential last used (the newest, 2.0.0, for a client never seen).
            scope.setdefault("state", {})["xapi_version"] = self._last_version.get(key, "2.0.0")
            raise
        scope.setdefault("state", {})["xapi_version"] = req.version
        if req.credential is None:
            raise XAPIError(401, "authentication required: send HTTP Basic credentials",
                            headers={"WWW-Authenticate": 'Basic realm="xAPI"'})
        self._last_version[key] = req.version
        return await resource(req)


def create_app(store, max_request_bytes: int = 50 * 1024 * 1024, max_batch_statements: int = 1000,
               max_query_limit: int = 100) -> XAPIApp:
    return XAPIApp(store, max_request_bytes, max_batch_statements, max_query_limit)
