"""Signed Statements (Data 2.6): the JWS must be well formed, use RS256/384/512, carry the
Statement it is attached to, and verify against its x5c certificate when it has one."""
from __future__ import annotations

import base64

import jwt
import orjson
from cryptography import x509

from ..errors import XAPIError
from .forms import same_statement
from .validate import SIGNATURE

ALGORITHMS = ("RS256", "RS384", "RS512")


def check_signatures(st: dict, parts: dict[str, tuple[str, bytes]], path: str) -> None:
    for i, att in enumerate(st.get("attachments") or ()):
        if att["usageType"] != SIGNATURE:
            continue
        where = f"{path}attachments[{i}]"
        part = parts.get(att["sha2"])
        if part is None:
            raise XAPIError(400, "a signature attachment must be sent as a multipart part", where)
        _check(st, part[1], where)


def _check(st: dict, token: bytes, where: str) -> None:
    try:
        text = token.decode("ascii").strip()
        header = jwt.get_unverified_header(text)
        payload_b64 = text.split(".")[1]
        # orjson: a payload nested past 1024 levels is a decode error, not a RecursionError
        payload = orjson.loads(base64.urlsafe_b64decode(payload_b64 + "=" * (-len(payload_b64) % 4)))
    except (UnicodeDecodeError, jwt.exceptions.DecodeError, IndexError, ValueError) as exc:
        raise XAPIError(400, f"the signature is not a valid JWS: {exc}", where) from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise XAPIError(400, f"the signature uses algorithm {alg!r}; xAPI allows RS256, RS384 or RS512", where)
    if not isinstance(payload, dict):
        raise XAPIError(400, "the signature's payload is not a Statement", where)
    unsigned = dict(st)
    unsigned["attachments"] = [a for a in st.get("attachments", ()) if a["usageType"] != SIGNATURE]
    if not unsigned["attachments"]:
        del unsigned["attachments"]
    if "id" in payload and "id" in st and str(payload["id"]).lower() != st["id"].lower():
        raise XAPIError(400, "the signed Statement's id differs from the Statement's id", where)
    try:
        same = same_statement(payload, unsigned)
    except (KeyError, TypeError, AttributeError, RecursionError):  # the payload is not shaped like a Statement
        same = False
    if not same:
        raise XAPIError(400, "the signed Statement (JWS payload) does not match the Statement", where)
    chain = header.get("x5c")
    if chain:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
            jwt.PyJWS().decode(text, key=cert.public_key(), algorithms=[alg])
        except Exception as exc:  # any failure to verify is the client's: a 400, never a 500
            raise XAPIError(400, f"the signature does not verify against its x5c certificate: {exc}", where) from None
