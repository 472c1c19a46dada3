"""Whatever a client sends, the answer is a 2xx or a 4xx with a JSON error, never a 500 and never a
stack trace (DESIGN.md conventions; Communication 3.2 — a client's error is a 4xx)."""
from __future__ import annotations

import json

import pytest

from lrs_testkit import error_of, make_statement

ST = json.dumps(make_statement())
STATE = {"activityId": "http://example.com/a", "agent": json.dumps({"mbox": "mailto:ada@example.com"})}


@pytest.fixture
def client(shared_client):
    return shared_client


@pytest.mark.parametrize("body", [
    ST.replace('"raw": 90', '"raw": 1e400').encode(),
    ST.replace('"raw": 90', '"raw": NaN').encode(),
    ST.encode().replace(b"Ada Lovelace", b"Ada \xff\xfe"),
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"\xef\xbb\xbf" + ST.encode(),
    json.dumps(make_statement(object={"objectType": None, "id": "http://x.example.com"})).encode(),
    json.dumps(make_statement(attachments=["x"])).encode(),
    json.dumps(make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
                              object={"objectType": "StatementRef"}, context=None)).encode(),
    json.dumps(make_statement(context=None, object={
        "objectType": "SubStatement", "actor": {"mbox": "mailto:a@example.com"}, "verb": {"id": "urn:a"},
        "object": "x"})).encode(),
    json.dumps([make_statement(), "not a statement"]).encode(),
], ids=["infinite_number", "nan", "invalid_utf8", "deeply_nested", "bom", "null_object_type",
        "attachment_not_object", "statementref_without_id", "substatement_object_string", "batch_with_string"])
def test_odd_statement_bodies_are_400_not_500(client, body):
    resp = client.post("/statements", content=body, headers={"Content-Type": "application/json"})
    assert resp.status_code == 400, resp.text
    error_of(resp)


EDGE_TIMESTAMPS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]


@pytest.mark.parametrize("ts", EDGE_TIMESTAMPS)
def test_statement_timestamp_at_the_edge_of_the_calendar_is_not_500(client, ts):
    resp = client.post("/statements", json=make_statement(timestamp=ts))
    assert resp.status_code in (200, 400), resp.text


@pytest.mark.parametrize("name", ["since", "until"])
@pytest.mark.parametrize("ts", EDGE_TIMESTAMPS)
def test_statement_query_since_until_at_the_edge_of_the_calendar_is_not_500(client, name, ts):
    resp = client.get("/statements", params={name: ts})
    assert resp.status_code in (200, 400), resp.text


@pytest.mark.parametrize("ts", EDGE_TIMESTAMPS)
def test_document_ids_since_at_the_edge_of_the_calendar_is_not_500(client, ts):
    resp = client.get("/activities/state", params={**STATE, "since": ts})
    assert resp.status_code in (200, 400), resp.text


@pytest.mark.parametrize("params", [{"agent": "[]"}, {"agent": "5"}, {"cursor": "x"}, {"limit": "9" * 30},
                                    {"since": "9999-12-31T23:59:59Z"}, {"verb": "urn:x", "verb2": "urn:y"}])
def test_odd_query_parameters_are_not_500(client, params):
    resp = client.get("/statements", params=params)
    assert resp.status_code in (200, 400), resp.text
    if resp.status_code == 400:
        error_of(resp)


def test_repeated_query_parameter_is_400(client):
    resp = client.get("/statements?verb=urn:a&verb=urn:b")
    assert resp.status_code == 400
    error_of(resp)


def test_query_string_that_is_not_utf8_is_400(client):
    assert client.get("/statements?agent=%ff%fe").status_code == 400
