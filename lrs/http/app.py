"""The xAPI ASGI app: every request is authenticated from its headers, then read and negotiated
here, then dispatched by path to its resource; every XAPIError becomes its 4xx JSON answer."""
from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..auth import AuthLimits, Credentials, NotAuthenticated, unauthorized
from ..errors import XAPIError
from ..statements.forms import now_timestamp
from ..storage import StoreBusy
from . import documents, resources
from .request import (XRequest, apply_alternate_syntax, build_request, form_field, negotiate_version, read_body,
                      read_prefix, response_version)
from .responses import error_response, json_response
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
RESOURCE_PATHS = ["statements", "activities/state", "activities/profile", "agents/profile", "agents", "activities",
                  "about"]


class XAPIApp:
    def __init__(self, store, max_request_bytes: int, max_batch_statements: int, max_query_limit: int,
                 alternate_auth_prefix_bytes: int = 65536, auth_limits: AuthLimits | None = None):
        self.store = store
        self.credentials = Credentials(store, limits=auth_limits)
        self.cmi5 = None   # lrs.cmi5.lms.Cmi5LMS when cmi5 launches are served: AU session tokens and rules
        self.max_request_bytes = max_request_bytes
        self.alternate_auth_prefix_bytes = alternate_auth_prefix_bytes
        self._last_version: dict[str | None, str] = {}
        self.routes = {
            "/statements": StatementsResource(store, max_batch_statements, max_query_limit),
            "/activities/state": documents.DocumentsResource(store, documents.STATE),
            "/activities/profile": documents.DocumentsResource(store, documents.ACTIVITY_PROFILE),
            "/agents/profile": documents.DocumentsResource(store, documents.AGENT_PROFILE),
            "/agents": resources.agents,
            "/activities": resources.ActivitiesResource(store),
            "/about": resources.about,
            "/": index,
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
        except Exception:  # a defect of ours: log it with its traceback, answer 500 without a stack trace
            log.exception("unhandled error", extra={"fields": {"method": scope["method"], "path": scope["path"]}})
            response = error_response(XAPIError(500, "internal error; the request id is in the X-Request-Id header"))
        version = scope.get("state", {}).get("xapi_version", version)
        response.headers["X-Experience-API-Version"] = response_version(version)
        if scope["path"].rstrip("/").endswith("/statements"):  # on every answer, errors too (XAPI-00153)
            response.headers.setdefault("X-Experience-API-Consistent-Through", now_timestamp())
        for key, value in CORS.items():
            response.headers.setdefault(key, value)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if scope["method"] == "HEAD":
            response.body = b""
        await response(scope, receive, send)

    async def _handle(self, scope, receive, headers) -> Response:
        if scope["method"] == "OPTIONS":
            return Response(status_code=204)
        req = build_request(scope, headers)
        resource = self.routes.get(req.path)
        if resource is None:
            raise XAPIError(404, f"no xAPI resource at {req.path}")
        if req.path in ("/about", "/"):
            return await resource(req)
        client = (scope.get("client") or ("", 0))[0]
        # Authenticate from the headers before reading any body: a client without credentials
        # costs no more than its headers.
        if req.alternate:
            await self._authenticate_alternate(req, receive, client)
        else:
            req.credential = await self._authenticate(headers.get("authorization"), client)
        key = req.credential["key"]
        try:
            negotiate_version(req)
        except XAPIError:
            # A request without a usable version header cannot say which version it speaks: answer
            # in the one its credential last used (the newest, 2.0.0, for a client never seen).
            scope.setdefault("state", {})["xapi_version"] = self._last_version.get(key, "2.0.0")
            raise
        scope.setdefault("state", {})["xapi_version"] = req.version
        self._last_version[key] = req.version
        if "cmi5" in req.credential:
            await self._cmi5_limit(req)
        if not req.alternate:
            req.body = await read_body(receive, headers, self.max_request_bytes)
        return await resource(req)

    async def _cmi5_limit(self, req: XRequest) -> None:
        from ..cmi5.lms import Cmi5Error

        try:
            await run_in_threadpool(self.cmi5.limit, req.credential, req.method, req.path, req.params)
        except Cmi5Error as exc:
            raise XAPIError(exc.status, exc.message, exc.path) from None

    async def _authenticate_alternate(self, req: XRequest, receive, client: str) -> None:
        """The alternate syntax (Communication 1.3) may carry Authorization as a form field. Only a
        bounded prefix of the body is read before authenticating; the rest after.

        It is also what a cross-site HTML form can send, and a browser attaches the Basic credentials
        it has cached to such a form: so a request from a browser (one with an Origin or
        Sec-Fetch-Site header) is authenticated only by the Authorization form field, never by an
        Authorization header the browser may have added on its own."""
        from_browser = "origin" in req.headers or "sec-fetch-site" in req.headers
        header_auth = None if from_browser else req.headers.get("authorization")
        prefix, complete = await read_prefix(receive, req.headers, self.max_request_bytes,
                                             self.alternate_auth_prefix_bytes)
        form_auth = form_field(prefix, complete, "authorization")
        if form_auth is None and header_auth is None:
            if from_browser:
                message = ("authentication required: from a browser, the alternate request syntax takes "
                           "credentials only in the Authorization form field")
            elif not complete:
                message = (f"authentication required: send HTTP Basic credentials in the Authorization header, "
                           f"or as the Authorization form field within the first "
                           f"{self.alternate_auth_prefix_bytes} bytes of the form")
            else:
                message = None
            exc = unauthorized(message)
            raise XAPIError(exc.status, exc.message, headers=exc.headers)
        authorization = form_auth if form_auth is not None else header_auth
        req.credential = await self._authenticate(authorization, client)
        body = prefix if complete else await read_body(receive, req.headers, self.max_request_bytes, start=prefix)
        apply_alternate_syntax(req, body)
        if from_browser:
            req.headers["authorization"] = authorization
        if req.headers.get("authorization") != authorization:  # a later form field overrides the header
            req.credential = await self._authenticate(req.headers.get("authorization"), client)

    async def _authenticate(self, authorization: str | None, client: str) -> dict:
        if self.cmi5 is not None and authorization and authorization[6:].lstrip().startswith("Y21pNS"):
            # an AU session's token (base64 of "cmi5-..."): lrs/cmi5/lms.py
            from ..cmi5.lms import Cmi5Error

            try:
                credential = await run_in_threadpool(self.cmi5.credential, authorization)
            except Cmi5Error as exc:
                raise XAPIError(exc.status, exc.message, headers={"WWW-Authenticate": 'Basic realm="xAPI"'}) from None
            if credential is not None:
                return credential
        try:
            return await self.credentials.require(authorization, client)
        except NotAuthenticated as exc:
            raise XAPIError(exc.status, exc.message, headers=exc.headers) from None


async def index(req: XRequest) -> Response:
    """``/xapi/``: where the resources are, for a person or a client that starts at the endpoint."""
    if req.method not in ("GET", "HEAD"):
        raise XAPIError(405, f"{req.method} is not allowed here", headers={"Allow": "GET, HEAD"})
    base = req.root_path.rstrip("/") + "/"
    return json_response({"endpoint": base, "version": resources.SUPPORTED_VERSIONS,
                          "resources": {name: base + name for name in RESOURCE_PATHS},
                          "authentication": "HTTP Basic; every resource but about needs credentials and the "
                                            "X-Experience-API-Version header"})


def create_app(store, max_request_bytes: int = 50 * 1024 * 1024, max_batch_statements: int = 1000,
               max_query_limit: int = 100, alternate_auth_prefix_bytes: int = 65536,
               auth_limits: AuthLimits | None = None) -> XAPIApp:
    return XAPIApp(store, max_request_bytes, max_batch_statements, max_query_limit, alternate_auth_prefix_bytes,
                   auth_limits)
