"""Responses every resource shares: JSON, no content, errors, and HTTP dates."""
from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime

import orjson
from starlette.responses import Response

from ..errors import XAPIError
from ..statements.validate import parse_timestamp


def json_response(data, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(data), status_code=status, headers=headers, media_type="application/json")


def raw_json(body: bytes, status: int = 200, headers: dict | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def no_content(headers: dict | None = None) -> Response:
    return Response(status_code=204, headers=headers)


def error_response(exc: XAPIError) -> Response:
    return Response(orjson.dumps(exc.body()), status_code=exc.status, headers=exc.headers,
                    media_type="application/json")


def http_date(timestamp: str | datetime) -> str:
    ts = parse_timestamp(timestamp) if isinstance(timestamp, str) else timestamp
    return format_datetime(ts, usegmt=True)
