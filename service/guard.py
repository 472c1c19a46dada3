"""Admin-only access for the content store's management API and the player's launch API.

Uploading, listing and retiring courses, and making launch links, need an LRS credential with the
``all`` scope. (Course files and the learner's player pages are not here: the content origin serves
them, to a learner's session, player/files.py.) The guard lives in the composition root because
content_store must not import lrs.

The management API takes HTML-form uploads (``multipart/form-data``) with Basic credentials,
which a browser attaches on its own when it has them cached: so a page of another site could
make an admin's browser upload or retire courses. A request a browser marks as coming from
another site (``Sec-Fetch-Site: cross-site`` or ``same-site``), or whose ``Origin`` is not this
service's own, is refused with 403 before its credentials are looked at. Scripts and command-line
clients send neither header and are not affected.

The content origin (course files and the learner's player, service/origins.py) is such another
site's page as far as this guard goes: its pages run packages' scripts. Its requests carry
``Sec-Fetch-Site: same-site`` (only the port differs) or ``cross-site``, and an ``Origin`` that is not
this service's; its origin is also refused by name (``refused_origins``), whatever the Host header
says.

Credentials are checked from the headers before any body is read.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import orjson

from lrs.auth import Credentials, NotAuthenticated

ADMIN_SCOPES = {"all"}
PUBLIC_PREFIXES = ("/files/",)
NOSNIFF = (b"x-content-type-options", b"nosniff")


class RequireAdmin:
    """``public``: path prefixes (relative to the mount) that pass unguarded; ``what``: the API's name
    in messages; ``realm``: the Basic realm; ``refused_origins``: origins (the content origin) whose
    requests are always refused."""

    def __init__(self, app, credentials: Credentials, public_url: str = "", public: tuple[str, ...] = PUBLIC_PREFIXES,
                 what: str = "the content management API", action: str = "managing courses",
                 realm: str = "content", refused_origins: tuple[str, ...] = ()):
        self.app = app
        self.credentials = credentials
        self.public_origin = _origin(public_url) if public_url else None
        self.refused_origins = {_origin(o) for o in refused_origins if o}
        self.public, self.what, self.action, self.realm = public, what, action, realm

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _relative(scope).startswith(self.public):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        if self._cross_site(headers):
            return await _error(send, 403, f"{self.what} does not take requests from other sites' "
                                           "pages (Sec-Fetch-Site or Origin names another site)")
        auth = headers.get(b"authorization")
        authorization = auth.decode("latin-1") if auth else None
        client = (scope.get("client") or ("", 0))[0]
        try:
            cred = await self.credentials.require(authorization, client, realm=self.realm)
        except NotAuthenticated as exc:
            return await _error(send, exc.status, exc.message,
                                [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()])
        if not ADMIN_SCOPES.intersection(cred["scopes"]):
            return await _error(send, 403, f"{self.action} needs a credential with the 'all' scope")

        async def send_nosniff(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [NOSNIFF]
            await send(message)

        scope["lrs.credential"] = cred.get("key", "")   # who asked: the audit trail of the rules' admin actions
        return await self.app(scope, receive, send_nosniff)

    def _cross_site(self, headers: dict[bytes, bytes]) -> bool:
        site = headers.get(b"sec-fetch-site", b"").lower()
        if site in (b"cross-site", b"same-site"):
            return True
        origin = headers.get(b"origin")
        if origin is None:
            return False
        origin = origin.decode("latin-1").lower()
        if origin == "null" or origin in self.refused_origins:
            return True
        host = headers.get(b"host", b"").decode("latin-1").lower()
        return origin != self.public_origin and urlsplit(origin).netloc != host


def _origin(url: str) -> str:
    parts = urlsplit(url.lower())
    return f"{parts.scheme}://{parts.netloc}"


def _relative(scope) -> str:
    root = scope.get("root_path", "")
    path = scope["path"]
    return path[len(root):] if root and path.startswith(root) else path


async def _error(send, status: int, message: str, extra: list | None = None):
    body = orjson.dumps({"error": {"status": status, "message": message}})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), NOSNIFF] + (extra or [])})
    await send({"type": "http.response.body", "body": body})
