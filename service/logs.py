"""One log line per event, with a request id; JSON lines when configured.

``RequestLogMiddleware`` gives each request an id (sent back as ``X-Request-Id``) and puts it in
the ``request_id`` context variable, so every log line written while the request runs, by any
module, carries it. A line with an exception carries its traceback: as the ``traceback`` field in
JSON, and with its newlines escaped in text, so that it stays one line.
"""
from __future__ import annotations

import contextvars
import json
import logging
import time
import traceback
import uuid

from .config import Settings

log = logging.getLogger("lrs.request")

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def _fields(record: logging.LogRecord) -> dict:
    out = {}
    rid = request_id.get()
    if rid is not None:
        out["request_id"] = rid
    out.update(getattr(record, "fields", {}))
    if record.exc_info and record.exc_info[0] is not None:
        out["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
    return out


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
               "message": record.getMessage()}
        out.update(_fields(record))
        return json.dumps(out, default=str)


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = _fields(record)
        tb = fields.pop("traceback", None)
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        line = f"{self.formatTime(record)} {record.levelname} {record.name} {record.getMessage()} {extra}".rstrip()
        if tb:
            line += " traceback=" + json.dumps(tb)  # quoted, newlines escaped: still one line
        return line


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(_JsonFormatter() if settings.log_json else _TextFormatter())
    root = logging.getLogger("lrs")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())
    root.propagate = False


class RequestLogMiddleware:
    """Pure ASGI middleware: gives each request an id (``X-Request-Id``) and logs it once."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        rid = uuid.uuid4().hex[:16]
        token = request_id.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        start = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [(b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info("request", extra={"fields": {
                    "method": scope["method"], "path": scope["path"], "status": status,
                    "ms": round((time.perf_counter() - start) * 1000, 2)}})
            request_id.reset(token)


class ErrorGuard:
    """The outermost guard of the service: an exception that escapes an app is logged once, with
    its traceback, method and path (and the request id), and answered with a JSON 500, so the
    connection stays usable for the client's next request. Only when the response had already
    started (it cannot be completed) is the exception passed on, which closes the connection."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = complete = False

        async def tracked(message):
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            logging.getLogger("lrs.error").error(
                "unhandled error", exc_info=True,
                extra={"fields": {"method": scope.get("method"), "path": scope.get("path")}})
            if complete:
                return
            if started:
                raise
            body = json.dumps({"error": {"status": 500, "message": "internal error; the request id is in the "
                                                                   "X-Request-Id header"}}).encode()
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode()),
                                    (b"x-content-type-options", b"nosniff")]})
            await send({"type": "http.response.body", "body": body})
