"""What every xAPI request goes through before a resource sees it: the body (with its size
limit), the alternate request syntax, the version header, and authentication."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..errors import XAPIError

VERSION_RE = re.compile(r"^(1\.0(\.\d+)?|2\.0(\.\d+)?)$")
ALT_HEADERS = {"authorization", "x-experience-api-version", "content-type", "content-length", "if-match",
               "if-none-match"}
ALT_METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}


@dataclass
class XRequest:
    method: str
    path: str
    root_path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    version: str = "1.0.3"
    credential: dict | None = None
    alternate: bool = False
    state: dict = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    @property
    def v2(self) -> bool:
        return self.version.startswith("2.")

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.params.get(name)
        if value is None:
            return default
        if value in ("true", "false"):
            return value == "true"
        raise XAPIError(400, f"parameter {name} must be true or false, not {value!r}", name)


def check_declared_length(headers: dict[str, str], limit: int) -> None:
    declared = headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise XAPIError(413, f"the request body of {declared} bytes is larger than the limit of "
                                     f"{limit} bytes (LRS_MAX_REQUEST_BYTES)")
        except ValueError:
            raise XAPIError(400, "the Content-Length header is not a number") from None


async def read_body(receive, headers: dict[str, str], limit: int, start: bytes = b"") -> bytes:
    """The whole request body (over ``limit`` bytes is a 413); ``start`` is what ``read_prefix`` read."""
    body, _ = await _read(receive, headers, limit, start, None)
    return body


async def read_prefix(receive, headers: dict[str, str], limit: int, upto: int) -> tuple[bytes, bool]:
    """At least ``upto`` bytes of the body (or all of it, if shorter), and whether that is all of it."""
    return await _read(receive, headers, limit, b"", upto)


async def _read(receive, headers: dict[str, str], limit: int, start: bytes, upto: int | None) -> tuple[bytes, bool]:
    check_declared_length(headers, limit)
    chunks = [start]
    size = len(start)
    while upto is None or size < upto:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise XAPIError(400, "the client closed the connection before sending the whole body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise XAPIError(413, f"the request body is larger than the limit of {limit} bytes (LRS_MAX_REQUEST_BYTES)")
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks), True
    return b"".join(chunks), False


def parse_query(query_string: bytes) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if key in params:
            raise XAPIError(400, f"parameter {key} is given more than once", key)
        params[key] = value
    return params


def build_request(scope, headers: dict[str, str], body: bytes = b"") -> XRequest:
    """The request as the resources see it, before its body is read: ``alternate`` is set when it
    uses the alternate syntax (POST with ``method=``), whose form body ``apply_alternate_syntax``
    turns into method, parameters, headers and content once it is read."""
    try:
        params = parse_query(scope.get("query_string", b""))
    except UnicodeDecodeError:
        raise XAPIError(400, "the query string is not valid UTF-8") from None
    path = scope["path"][len(scope.get("root_path", "")):] if scope["path"].startswith(scope.get("root_path", "")) \
        else scope["path"]
    req = XRequest(method=scope["method"], path=path.rstrip("/") or "/", root_path=scope.get("root_path", ""),
                   params=params, headers=headers, body=body)
    if "method" in params and req.method == "POST":
        req.alternate = True
        _check_alternate_syntax(req)
    return req


def _check_alternate_syntax(req: XRequest) -> None:
    method = req.params["method"]
    if len(req.params) > 1:
        others = sorted(k for k in req.params if k != "method")
        raise XAPIError(400, "with the alternate request syntax, 'method' must be the only query parameter; "
                             f"send {', '.join(others)} as form parameters", "method")
    if method.upper() not in ALT_METHODS or method != method.upper():
        raise XAPIError(400, f"method={method!r} is not an xAPI method", "method")
    if req.content_type != "application/x-www-form-urlencoded":
        raise XAPIError(400, "the alternate request syntax needs Content-Type application/x-www-form-urlencoded",
                        "Content-Type")


def form_field(prefix: bytes, complete: bool, name: str) -> str | None:
    """The value of form field ``name`` (case-insensitive) if it is whole within ``prefix``, the first
    bytes of a form body (all of it when ``complete``)."""
    if not complete:
        prefix = prefix[:prefix.rfind(b"&") + 1]
    for key, value in parse_qsl(prefix.decode("utf-8", errors="replace"), keep_blank_values=True):
        if key.lower() == name:
            return value
    return None


def apply_alternate_syntax(req: XRequest, body: bytes) -> None:
    """Communication 1.3: the form fields named like headers become headers, ``content`` the body,
    and every other field a parameter."""
    method = req.params.pop("method")
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise XAPIError(400, "the form body is not valid UTF-8") from None
    headers = {k: v for k, v in req.headers.items() if k not in ("content-type", "content-length")}
    params: dict[str, str] = {}
    content = b""
    for key, value in form:
        low = key.lower()
        if low in ALT_HEADERS:
            headers[low] = value
        elif key == "content":
            content = value.encode("utf-8")
        else:
            if key in params:
                raise XAPIError(400, f"parameter {key} is given more than once", key)
            params[key] = value
    req.method = method
    req.params = params
    req.headers = headers
    req.body = content


def negotiate_version(req: XRequest) -> None:
    value = req.headers.get("x-experience-api-version")
    if value is None:
        raise XAPIError(400, "the X-Experience-API-Version header is required (1.0.3 or 2.0.0)",
                        "X-Experience-API-Version")
    value = value.strip()
    if not VERSION_RE.match(value):
        raise XAPIError(400, f"X-Experience-API-Version {value!r} is not supported; use 1.0.x or 2.0.x",
                        "X-Experience-API-Version")
    req.version = value
    if req.alternate and req.v2:
        raise XAPIError(400, "the alternate request syntax (method=...) is not part of xAPI 2.0", "method")


def response_version(version: str | None) -> str:
    return "2.0.0" if version and version.startswith("2.") else "1.0.3"
