"""Sending one stored file: content type, validators, caching and Range requests.

A version's files never change, and each is stored under its sha256, so the sha256 is
a strong ETag and the file may be cached for a year. Ranges (single or multiple, with
If-Range) are Starlette's ``FileResponse``; conditional requests are answered here.
"""
from __future__ import annotations

import os

import anyio
from email.utils import formatdate, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from .mime import content_type
from .store import StoredFile

CACHE_CONTROL = "public, max-age=31536000, immutable"


class BlobResponse(FileResponse):
    chunk_size = 256 * 1024  # fewer thread hops per byte than the 64 KiB default (bench/content_serve.py)


SMALL = 1024 * 1024


class SmallBlobResponse(Response):
    """A file of at most ``SMALL`` bytes: read in one worker-thread call and sent in one
    message (half the server CPU per request of chunked streaming, bench/content_serve.py)."""

    def __init__(self, stored: StoredFile, headers: dict) -> None:
        super().__init__(headers={**headers, "accept-ranges": "bytes"})
        self.stored = stored
        self.headers["content-type"] = content_type(stored.path)
        self.headers["content-length"] = str(stored.size)

    async def __call__(self, scope, receive, send) -> None:
        body = b""
        if scope["method"] != "HEAD":
            body = await anyio.to_thread.run_sync(self.stored.blob.read_bytes)
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body})


def file_response(request: Request, stored: StoredFile) -> Response:
    etag = f'"{stored.sha256}"'
    headers = {
        "etag": etag,
        "last-modified": formatdate(stored.modified, usegmt=True),
        "cache-control": CACHE_CONTROL,
        "x-content-type-options": "nosniff",
    }
    if _not_modified(request, etag, stored.modified):
        return Response(status_code=304, headers=headers)
    if stored.size <= SMALL and "range" not in request.headers:
        return SmallBlobResponse(stored, headers)
    stat = os.stat_result((0o100644, 0, 0, 1, 0, 0, stored.size, stored.modified, stored.modified,
                           stored.modified))
    response = BlobResponse(stored.blob, headers=headers, stat_result=stat)
    response.headers["content-type"] = content_type(stored.path)
    return response


def _not_modified(request: Request, etag: str, modified: float) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return etag in tags or "*" in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return int(modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False
