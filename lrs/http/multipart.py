"""multipart/mixed (RFC 2046) as xAPI uses it for Statements with attachments."""
from __future__ import annotations

import hashlib
import re
import uuid

from ..errors import XAPIError

_BOUNDARY_RE = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.I)
_SHA2 = {56: hashlib.sha224, 64: hashlib.sha256, 96: hashlib.sha384, 128: hashlib.sha512}


def parse(body: bytes, content_type_header: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/mixed body into (headers, content) parts; a malformed body is a 400."""
    m = _BOUNDARY_RE.search(content_type_header)
    if not m:
        raise XAPIError(400, "multipart/mixed needs a boundary parameter in Content-Type", "Content-Type")
    boundary = (m.group(1) or m.group(2)).encode()
    delimiter = b"--" + boundary
    if not body.startswith(delimiter):
        start = body.find(b"\r\n" + delimiter)
        if start < 0:
            raise XAPIError(400, "the multipart body does not contain its boundary")
        body = body[start + 2:]
    pieces = body.split(b"\r\n" + delimiter)
    pieces[0] = pieces[0][len(delimiter):]
    parts = []
    closed = False
    for piece in pieces:
        if piece.startswith(b"--"):
            closed = True
            break
        if piece.startswith(b"\r\n"):
            piece = piece[2:]
        head, sep, content = piece.partition(b"\r\n\r\n")
        if not sep:
            if piece.startswith(b"\r\n"):  # a part with no headers
                head, content = b"", piece[2:]
            else:
                raise XAPIError(400, "a multipart part has no blank line between headers and content")
        headers = {}
        for line in head.split(b"\r\n"):
            if not line:
                continue
            name, colon, value = line.partition(b":")
            if not colon:
                raise XAPIError(400, f"malformed multipart part header {line[:60]!r}")
            headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
        parts.append((headers, content))
    if not closed:
        raise XAPIError(400, "the multipart body is not closed by its final boundary")
    if not parts:
        raise XAPIError(400, "the multipart body has no parts")
    return parts


def sha2_matches(declared: str, content: bytes) -> bool:
    algo = _SHA2.get(len(declared))
    return bool(algo) and algo(content).hexdigest() == declared.lower()


def build(first: bytes, attachments: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON part, then each (sha2, contentType, content)."""
    boundary = uuid.uuid4().hex
    out = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), first]
    for sha2, content_type, content in attachments:
        out.append(f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode())
        out.append(content)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(out), f'multipart/mixed; boundary="{boundary}"'
