"""Admin-only access for the content store's management API.

Uploading, listing and retiring courses need an LRS credential with the ``all`` scope;
course files (``/files/...``) stay public, since learners' browsers load them directly.
The guard lives in the composition root because content_store must not import lrs.
"""
from __future__ import annotations

import orjson

from lrs.auth import Credentials

ADMIN_SCOPES = {"all"}
PUBLIC_PREFIXES = ("/files/",)


class RequireAdmin:
    def __init__(self, app, credentials: Credentials):
        self.app = app
        self.credentials = credentials

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _relative(scope).startswith(PUBLIC_PREFIXES):
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization")
        cred = await self.credentials.authenticate_async(auth.decode("latin-1") if auth else None)
        if cred is None:
            return await _error(send, 401, "authentication required: send HTTP Basic credentials of an admin",
                                [(b"www-authenticate", b'Basic realm="content"')])
        if not ADMIN_SCOPES.intersection(cred["scopes"]):
            return await _error(send, 403, "managing courses needs a credential with the 'all' scope")
        return await self.app(scope, receive, send)


def _relative(scope) -> str:
    root = scope.get("root_path", "")
    path = scope["path"]
    return path[len(root):] if root and path.startswith(root) else path


async def _error(send, status: int, message: str, extra: list | None = None):
    body = orjson.dumps({"error": {"status": status, "message": message}})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())] + (extra or [])})
    await send({"type": "http.response.body", "body": body})
