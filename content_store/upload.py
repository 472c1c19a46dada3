"""Receiving an upload: the request body goes to disk as it arrives, never whole in memory.

The body is either the zip itself (any content type but multipart) or a
``multipart/form-data`` form whose file part (the first with a file name, or the field
``file``/``package``) is the zip; python-multipart parses the form incrementally.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import aiofiles
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from .errors import PackageRejected, reject
from .numbers import is_digits, whole_number

_FIELDS = (b"file", b"package")


class UploadTooLarge(Exception):
    pass


async def receive_upload(request: Request, dest: Path, max_bytes: int) -> tuple[str, int]:
    """Write the package in the request to ``dest``; return its sha256 and size in bytes.

    Raises ``PackageRejected``: 413 when the body (or the file in it) is over ``max_bytes``,
    400 when the form holds no file. The caller removes ``dest`` on failure.
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
                found = await _multipart(request, params.get(b"boundary"), write, max_bytes)
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


async def _multipart(request: Request, boundary: bytes | None, write, max_bytes: int) -> bool:
    if not boundary:
        raise reject(400, "upload.bad_form", "the multipart/form-data content type has no boundary")
    state = {"headers": {}, "field": b"", "value": b"", "target": False, "found": False, "done": False}
    pending: list[bytes] = []

    def on_part_begin():
        state["headers"] = {}

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
        state["target"] = is_file and not state["found"]
        if state["target"]:
            state["found"] = True

    def on_part_data(data, start, end):
        if state["target"]:
            pending.append(data[start:end])

    def on_part_end():
        state["target"] = False

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        "on_part_end": on_part_end,
    })
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            for data in pending:
                await write(data)
            pending.clear()
        parser.finalize()
    except PackageRejected:
        raise
    except Exception as exc:  # python-multipart's parse errors
        raise reject(400, "upload.bad_form", f"the multipart/form-data body cannot be read ({exc})") from None
    return state["found"]


def _too_large(max_bytes: int) -> PackageRejected:
    return reject(413, "upload.too_large", f"the upload is larger than {max_bytes} bytes, the most this "
                  "service accepts (LRS_PACKAGE_MAX_UPLOAD_BYTES)")
