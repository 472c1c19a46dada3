"""Receiving an upload: the request body goes to disk as it arrives, never whole in memory.

The body is either the zip itself (any content type but multipart) or a
``multipart/form-data`` form whose file part (the first with a file name, or the field
``file``/``package``) is the zip; python-multipart parses the form incrementally. The form's text
fields before the file part are kept (at most ``FIELD_BYTES`` each) and handed to ``before_file``, so a
caller (the pages' upload form) can check them, its CSRF token say, before a byte of the file is written.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import aiofiles
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .errors import PackageRejected, reject
from .numbers import is_digits, whole_number

_FIELDS = (b"file", b"package")
FIELD_BYTES = 4096     # a text field of an upload form


class UploadTooLarge(Exception):
    pass


async def receive_upload(request: Request, dest: Path, max_bytes: int,
                         before_file: Callable[[dict[str, str], str], None] | None = None) -> tuple[str, int]:
    """Write the package in the request to ``dest``; return its sha256 and size in bytes.

    Raises ``PackageRejected``: 413 when the body (or the file in it) is over ``max_bytes`` or a text
    field over ``FIELD_BYTES``, 400 when the form holds no file. ``before_file(fields, file name)``: called
    for a multipart form with its text fields when the file part begins (or at the end when there is no
    file); what it raises is raised before anything of the file is written. The caller removes ``dest``
    on failure.
    """
    declared = request.headers.get("content-length")
    size_declared = whole_number(declared) if declared and is_digits(declared) else -1  # None: past 2**63
    if size_declared is None or size_declared > max_bytes + 64 * 1024:
        raise _too_large(max_bytes)
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    digest = hashlib.sha256()
    size = 0
    async with aiofiles.open(dest, "wb") as out:
        async def write(data: bytes) -> None:
            nonlocal size
            size += len(data)
            if size > max_bytes:
                raise _too_large(max_bytes)
            digest.update(data)
            await out.write(data)

        try:
            if content_type == b"multipart/form-data":
                found = await _multipart(request, params.get(b"boundary"), write, before_file)
                if not found:
                    raise reject(400, "upload.no_file", "the form holds no file: send the zip as the "
                                 "field 'file', or send the zip itself as the request body")
            else:
                async for chunk in request.stream():
                    if chunk:
                        await write(chunk)
        except ClientDisconnect:
            raise reject(400, "upload.incomplete", "the client went away before the upload ended") from None
    if size == 0:
        raise reject(400, "upload.empty", "the request body is empty: send the package zip as the body")
    return digest.hexdigest(), size


async def _multipart(request: Request, boundary: bytes | None, write, before_file) -> bool:
    if not boundary:
        raise reject(400, "upload.bad_form", "the multipart/form-data content type has no boundary")
    fields: dict[str, bytes] = {}
    state = {"headers": {}, "field": b"", "value": b"", "target": False, "found": False, "part": None,
             "refused": None}
    pending: list[bytes] = []

    def text_fields() -> dict[str, str]:
        return {k: v.decode("utf-8", "replace") for k, v in fields.items()}

    def on_part_begin():
        state["headers"], state["part"] = {}, None

    def on_header_field(data, start, end):
        state["field"] += data[start:end]

    def on_header_value(data, start, end):
        state["value"] += data[start:end]

    def on_header_end():
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_headers_finished():
        _, disp = parse_options_header(state["headers"].get(b"content-disposition", b""))
        is_file = b"filename" in disp or disp.get(b"name") in _FIELDS
        if not is_file:
            if before_file is not None:     # the fields are kept only for it
                state["part"] = disp.get(b"name", b"").decode("utf-8", "replace")
                fields[state["part"]] = b""
            return
        state["target"] = not state["found"] and state["refused"] is None
        if state["target"] and before_file is not None:
            try:
                before_file(text_fields(), disp.get(b"filename", b"").decode("utf-8", "replace"))
            except Exception as exc:   # raised to the caller once the parser returns
                state["refused"], state["target"] = exc, False
        state["found"] = state["found"] or state["target"]

    def on_part_data(data, start, end):
        if state["target"]:
            pending.append(data[start:end])
        elif state["part"] is not None:
            fields[state["part"]] += data[start:end]
            if len(fields[state["part"]]) > FIELD_BYTES:
                state["refused"] = reject(413, "upload.field_too_long",
                                          f"the form field {state['part'][:40]!r} is over {FIELD_BYTES} bytes")

    def on_part_end():
        state["target"], state["part"] = False, None

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if state["refused"] is not None:
                raise state["refused"]
            for data in pending:
                await write(data)
            pending.clear()
        parser.finalize()
    except PackageRejected:
        raise
    except Exception as exc:
        if exc is state["refused"]:
            raise
        # python-multipart's parse errors
        raise reject(400, "upload.bad_form", f"the multipart/form-data body cannot be read ({exc})") from None
    if not state["found"] and before_file is not None:
        before_file(text_fields(), "")
    return state["found"]


def _too_large(max_bytes: int) -> PackageRejected:
    return reject(413, "upload.too_large", f"the upload is larger than {max_bytes} bytes, the most this "
                  "service accepts (LRS_PACKAGE_MAX_UPLOAD_BYTES)")
