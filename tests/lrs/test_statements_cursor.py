"""The cursor of a `more` link (lrs/http/cursor.py): opaque, signed with the store's key, bound to its
query; anything else is a 400 naming ``cursor``, answered at once."""
from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from lrs.storage import StoreBusy
from lrs_testkit import basic, error_of, make_statement

COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"


def post(client, *statements):
    resp = client.post("/statements", json=list(statements))
    assert resp.status_code == 200, resp.text


def more_of(client, **params) -> str:
    resp = client.get("/statements", params=params)
    assert resp.status_code == 200, resp.text
    more = resp.json()["more"]
    assert more
    return more


def cursor_of(more: str) -> str:
    return parse_qs(urlsplit(more).query)["cursor"][0]


def get_with_cursor(client, cursor: str, auth=None, **params):
    headers = {"Authorization": basic(*auth)} if auth else None
    started = time.monotonic()
    resp = client.get("/statements", params={**params, "cursor": cursor}, headers=headers)
    return resp, time.monotonic() - started


@pytest.fixture
def filled(client):
    post(client, *[make_statement(verb={"id": COMPLETED}) for _ in range(3)])
    post(client, *[make_statement(verb={"id": ATTEMPTED}) for _ in range(3)])
    return client


@pytest.mark.parametrize("cursor", [
    "4503599627370496.4503599627370496",            # the reported attack: 2^52, a walk of 2^40 buckets
    "18446744073709551616.18446744073709551616",    # 2^64: gave a 500
    "9223372036854775808.9223372036854775808",      # 2^63: gave a 500
    "1." + "9" * 40,
    "0.4503599627370496",
], ids=["2^52", "2^64", "2^63", "40_digits", "zero_after"])
def test_forged_numeric_cursor_is_400_at_once(filled, cursor):
    """Issue 9 finding 1: a cursor a client wrote itself, whatever the size of its numbers, is a 400
    naming ``cursor`` answered at once (it used to walk one index bucket per 4,096 seqs up to the number,
    holding a reader for good, or to give a 500 past 2^63)."""
    resp, took = get_with_cursor(filled, cursor, verb=COMPLETED)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["path"] == "cursor"
    assert took < 2.0


def test_tampered_cursor_is_400(filled):
    """Issue 9 finding 1: changing any character of a genuine cursor makes it a 400 naming ``cursor``."""
    cursor = cursor_of(more_of(filled, verb=COMPLETED, limit=1))
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    for i in (1, 9, 16, len(raw) - 1):  # after_seq, max_seq, their last byte, the signature
        bad = bytearray(raw)
        bad[i] ^= 0x40
        token = base64.urlsafe_b64encode(bytes(bad)).rstrip(b"=").decode()
        resp, _ = get_with_cursor(filled, token, verb=COMPLETED, limit=1)
        assert resp.status_code == 400, resp.text
        assert error_of(resp)["path"] == "cursor"
    for token in (cursor[:-1], cursor + "A", cursor + "=", "", "x", cursor[:5] + "+" + cursor[6:]):
        resp, _ = get_with_cursor(filled, token, verb=COMPLETED, limit=1)
        assert resp.status_code == 400, (token, resp.text)
        assert error_of(resp)["path"] == "cursor"


def test_cursor_signed_with_another_key_is_400(filled):
    """Issue 9 finding 1: a well-formed cursor signed with any key but this store's is a 400."""
    from lrs.http.cursor import Cursors, query_digest
    from lrs.storage import StatementQuery

    q = StatementQuery(terms=[("v:" + COMPLETED, False)])
    token = Cursors(b"k" * 32).encode(1 << 52, 1 << 52, query_digest(q))
    resp, took = get_with_cursor(filled, token, verb=COMPLETED)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["path"] == "cursor"
    assert took < 2.0


@pytest.mark.parametrize("other", [
    {"verb": ATTEMPTED, "limit": "1"},
    {"limit": "1"},
    {"verb": COMPLETED, "limit": "1", "ascending": "true"},
    {"verb": COMPLETED, "limit": "1", "since": "2000-01-01T00:00:00Z"},
], ids=["other_verb", "no_verb", "ascending", "since"])
def test_cursor_of_one_query_on_another_is_400(filled, other):
    """Issue 9 finding 1: a genuine cursor of query A used with the parameters of query B is a 400
    naming ``cursor``: a cursor is bound to the filters, order and time range it was issued for."""
    cursor = cursor_of(more_of(filled, verb=COMPLETED, limit=1))
    resp, _ = get_with_cursor(filled, cursor, **other)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["path"] == "cursor"
    resp, _ = get_with_cursor(filled, cursor, verb=COMPLETED, limit=1)  # its own query still takes it
    assert resp.status_code == 200, resp.text


def test_cursor_of_a_full_read_credential_is_400_for_a_mine_credential(make_client):
    """Issue 9 finding 1: a cursor issued to a credential that reads every Statement does not carry
    over to a ``statements/read/mine`` credential's query (whose filter differs)."""
    mine = ("mine", "mine-secret")
    client = make_client(credentials=[(*mine, ["statements/write", "statements/read/mine"])])
    post(client, make_statement(), make_statement())
    cursor = cursor_of(more_of(client, limit=1))
    resp, _ = get_with_cursor(client, cursor, auth=mine, limit=1)
    assert resp.status_code == 400, resp.text
    assert error_of(resp)["path"] == "cursor"


def test_more_cursor_is_opaque(filled):
    """Issue 9 finding 1: the cursor shows no seq a client could edit: URL-safe base64 without padding."""
    cursor = cursor_of(more_of(filled, limit=2))
    assert "." not in cursor and "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_more_links_of_two_apps_on_one_store_work_on_either(data_dir, backend, make_client):
    """The signing key is kept in the store: a `more` link one server gave is followed on another
    server sharing the store (several `lrs serve` processes on one data folder or database)."""
    a, b = make_client(), make_client()
    post(a, *[make_statement() for _ in range(5)])
    body = a.get("/statements", params={"limit": 2}).json()
    seen = [s["id"] for s in body["statements"]]
    for client in (b, a):
        resp = client.get("http://testserver" + body["more"])
        assert resp.status_code == 200, resp.text
        body = resp.json()
        seen += [s["id"] for s in body["statements"]]
    assert not body["more"]
    assert len(seen) == len(set(seen)) == 5


def test_store_busy_is_503_with_retry_after(client, monkeypatch):
    """Issue 9 finding 1: a read that passes its deadline (StoreBusy) is a 503 with Retry-After and
    the usual JSON error body, not a 500."""
    from lrs.storage.mongo import MongoStore
    from lrs.storage.sqlite import SqliteStore

    def busy(self, q):
        raise StoreBusy("the read took longer than 10 s; try again later", 10)

    monkeypatch.setattr(SqliteStore, "query", busy)
    monkeypatch.setattr(MongoStore, "query", busy)
    resp = client.get("/statements")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "10"
    assert error_of(resp)["message"].startswith("the read took longer")
