"""JWS payloads that are not Statements (issue 9 finding 8): a 400 naming the signature attachment,
never a 500."""
from __future__ import annotations

import base64

import pytest

from lrs_testkit import make_statement
from test_attachments import post_multipart, signed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.mark.parametrize("payload", [b"{}", b'{"actor": 5, "verb": 1, "object": 2}', b'{"id": 7}',
                                     b'{"a":' * 2000 + b"1" + b"}" * 2000, b'{"a":' * 900 + b"1" + b"}" * 900])
def test_signature_payload_that_is_no_statement_is_400(make_client, payload):
    """Issue 9 finding 8: a signature whose JWS payload lacks a Statement's properties, has them of the
    wrong type, or nests 900-2000 levels is a 400 naming the attachment (it was a 500)."""
    client = make_client()
    st = make_statement()
    header = _b64(b'{"alg":"RS256"}')
    token = f"{header}.{_b64(payload)}.{_b64(b'sig')}".encode()
    resp = post_multipart(client, signed(st, token), [("application/octet-stream", token)])
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["path"] == "attachments[0]"
