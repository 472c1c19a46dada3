"""Authentication comes from the headers before any body is read (issue 9 finding 2); the alternate
syntax, whose Authorization may be a form field, reads only a bounded prefix of its form first."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import anyio
import pytest

from lrs.http import create_app
from lrs.storage import open_store
from lrs_testkit import ADMIN, basic, make_statement


class Recorder:
    """An ASGI receive that hands out ``body`` in ``chunk``-byte pieces and counts what it gave."""

    def __init__(self, body: bytes, chunk: int = 500):
        self.body, self.chunk, self.given = body, chunk, 0

    async def __call__(self):
        piece = self.body[self.given:self.given + self.chunk]
        self.given += len(piece)
        return {"type": "http.request", "body": piece, "more_body": self.given < len(self.body)}


def call(app, method, path, headers: dict, body: bytes, query: str = "", chunk: int = 500):
    receive = Recorder(body, chunk)
    sent = []

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/xapi" + path, "root_path": "/xapi",
             "query_string": query.encode(), "client": ("10.0.0.1", 5000),
             "headers": [(k.lower().encode(), v.encode()) for k, v in
                         {**headers, "content-length": str(len(body))}.items()]}
    anyio.run(app, scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body_out = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body_out) if body_out else None, receive.given


@pytest.fixture
def store(data_dir):
    store = open_store(data_dir)
    yield store
    store.close()


@pytest.fixture
def app(store):
    return create_app(store)


@pytest.fixture
def small_prefix_app(store):
    return create_app(store, alternate_auth_prefix_bytes=1000)


BIG = json.dumps([make_statement() for _ in range(200)]).encode()


@pytest.mark.parametrize("headers", [{}, {"X-Experience-API-Version": "1.0.3"},
                                     {"X-Experience-API-Version": "1.0.3", "Authorization": basic("nobody", "x")}],
                         ids=["no_credentials_no_version", "no_credentials", "unknown_key"])
def test_a_request_without_valid_credentials_is_401_and_its_body_is_never_read(app, headers):
    """Issue 9 finding 2: without valid credentials the answer is 401 (not 400, even without the
    version header), decided from the headers alone: not one byte of the body is read."""
    status, body, read = call(app, "POST", "/statements", {"Content-Type": "application/json", **headers}, BIG)
    assert status == 401
    assert read == 0


def test_an_authenticated_request_reads_its_body(app):
    status, body, read = call(app, "POST", "/statements", {
        "Content-Type": "application/json", "X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN)}, BIG)
    assert status == 200, body
    assert read == len(BIG)


def form(**fields) -> bytes:
    return urlencode(fields).encode()


def test_alternate_syntax_without_authorization_reads_only_a_bounded_prefix(small_prefix_app):
    """Issue 9 finding 2: an alternate-syntax request without an Authorization header is refused
    once the first LRS_ALTERNATE_AUTH_PREFIX_BYTES of its form hold no Authorization field; the rest
    of the body is not read."""
    body = form(content=BIG.decode(), **{"X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN)})
    status, err, read = call(small_prefix_app, "POST", "/statements",
                             {"Content-Type": "application/x-www-form-urlencoded"}, body, query="method=POST")
    assert status == 401
    assert "1000 bytes" in err["error"]["message"]
    assert read <= 1000 + 500  # the prefix, rounded up to the receive chunk


def test_alternate_syntax_with_authorization_first_in_the_form_is_accepted(app):
    st = make_statement()
    body = form(**{"Authorization": basic(*ADMIN), "X-Experience-API-Version": "1.0.3"}, content=json.dumps(st))
    status, out, read = call(app, "POST", "/statements", {"Content-Type": "application/x-www-form-urlencoded"},
                             body, query="method=POST")
    assert status == 200, out
    assert out == [st["id"]]
