"""Limits on input sizes (issue 9 findings 6 and 8): long strings and deep nesting are refused with a
400 naming where, and the caches that keep input text are bounded in bytes."""
from __future__ import annotations

import gc
import json
import tracemalloc

import pytest

from lrs.statements.activities import SeenDefinitions
from lrs.statements.terms import term_hash

AGENT = json.dumps({"mbox": "mailto:ada@example.com"})
STATE = {"activityId": "http://example.com/act", "agent": AGENT, "stateId": "s1"}
JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def _default_limits():
    """Tests set small limits through settings; later tests get the defaults back."""
    yield
    try:
        from lrs.statements import limits
    except ImportError:  # code from before the limits (checking that these tests fail there)
        return
    limits.configure(limits.InputLimits())


def _err(resp, status=400):
    assert resp.status_code == status, resp.text
    return resp.json()["error"]


def _nested(depth: int, leaf: str = '"x"') -> str:
    """JSON text of ``depth`` objects nested in each other (built as text: encoders stop at ~255)."""
    return '{"a":' * depth + leaf + "}" * depth


def _with_extension(statement, text: str) -> str:
    st = statement()
    st["context"]["extensions"] = {"http://example.com/ext/deep": "@@"}
    return json.dumps(st).replace('"@@"', text)


# -- finding 6: lengths ----------------------------------------------------------------------


def test_activity_id_longer_than_the_iri_limit_is_400_naming_object_id(make_client, statement):
    """Issue 9 finding 6: an IRI over LRS_MAX_IRI_LENGTH (default 4096 characters) is refused with a
    400 whose path names it, so the writer never keeps it."""
    client = make_client()
    st = statement()
    st["object"]["id"] = "http://example.com/" + "a" * 5000
    err = _err(client.post("/statements", json=st))
    assert err["path"] == "object.id"
    assert "4096" in err["message"] and len(err["message"]) < 400
    st["object"]["id"] = "http://example.com/" + "a" * 4000  # within the limit
    assert client.post("/statements", json=st).status_code == 200


def test_string_limits_are_settings_and_name_the_path(make_client, statement):
    """Issue 9 finding 6: LRS_MAX_IRI_LENGTH and LRS_MAX_STRING_LENGTH are settings; identifiers
    (account name, extension keys) and other strings (language map values, extension values) over
    them are refused with a 400 naming where."""
    client = make_client(max_iri_length=64, max_string_length=100)
    cases = []
    st = statement()
    st["actor"] = {"account": {"homePage": "http://example.com", "name": "n" * 65}}
    cases.append((st, "actor.account.name"))
    st = statement()
    st["object"]["definition"]["name"]["en-US"] = "n" * 101
    cases.append((st, "object.definition.name.en-US"))
    st = statement()
    st["context"]["extensions"] = {"http://example.com/ext": {"list": ["ok", "v" * 101]}}
    cases.append((st, "context.extensions.http://example.com/ext.list[1]"))
    st = statement()
    st["result"]["extensions"] = {"http://example.com/" + "k" * 60: 1}
    cases.append((st, "result.extensions"))
    st = statement()
    st["verb"]["id"] = "http://example.com/" + "v" * 50
    cases.append((st, "verb.id"))
    for st, path in cases:
        assert _err(client.post("/statements", json=st))["path"] == path
    batch = [statement(), cases[1][0]]
    assert _err(client.post("/statements", json=batch))["path"] == "[1].object.definition.name.en-US"


def test_parameters_longer_than_the_limits_are_400_naming_the_parameter(make_client):
    """Issue 9 finding 6: query and document parameters have the same length limits as Statements."""
    client = make_client(max_iri_length=64, max_string_length=200)
    long_iri = "http://example.com/" + "a" * 60
    for name in ("verb", "activity"):
        assert _err(client.get("/statements", params={name: long_iri}))["path"] == name
    agent = json.dumps({"account": {"homePage": "http://example.com", "name": "n" * 100}})
    assert _err(client.get("/statements", params={"agent": agent}))["path"] == "agent"
    assert _err(client.put("/activities/state", params={**STATE, "stateId": "s" * 65}, content=b"x"))["path"] \
        == "stateId"
    assert _err(client.put("/activities/state", params={**STATE, "activityId": long_iri}, content=b"x"))["path"] \
        == "activityId"
    assert client.put("/activities/state", params=STATE, content=b"x").status_code == 204


def test_term_hash_cache_does_not_keep_long_terms():
    """Issue 9 finding 6: the term hash cache is bounded in bytes: 2,000 distinct 4 KB terms (what
    posts of long IRIs produce) leave no more than a small fraction of their size behind."""
    gc.collect()
    tracemalloc.start()  # before the terms are made: memory allocated earlier is not traced
    before = tracemalloc.get_traced_memory()[0]
    for i in range(2000):
        term_hash(f"O:http://example.com/{i}/" + "x" * 4000)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert kept < 1_000_000, f"the cache kept {kept} bytes of 8 MB of terms"


def test_seen_definitions_stay_within_their_byte_budget():
    """Issue 9 finding 6: the cache of merged definitions is bounded in bytes, not entries."""
    seen = SeenDefinitions(max_bytes=1024 * 1024, max_entry_bytes=64 * 1024)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(300):  # 300 definitions of 20 KB: 6 MB
        seen.remember(f"http://example.com/act/{i}", b"d" * 20_000 + str(i).encode())
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert kept < 1.5 * 1024 * 1024, kept
    seen.remember("http://example.com/huge", b"d" * 100_000)  # over max_entry_bytes: not remembered
    assert list(seen.changed([{"object": {"id": "http://example.com/huge", "definition": {"x": 1}}}]))


# -- finding 8: nesting depth ------------------------------------------------------------------


@pytest.mark.parametrize("depth", [65, 250, 600, 1000])
def test_deeply_nested_extension_is_400_naming_the_extension(make_client, statement, depth):
    """Issue 9 finding 8: JSON nested 65 to 1022 levels in an extension is a 400 naming the extension
    (it was a 500 from 250 levels on, where a serialiser or a recursive check gave up)."""
    client = make_client()
    resp = client.post("/statements", content=_with_extension(statement, _nested(depth)), headers=JSON)
    err = _err(resp)
    assert err["path"] == "context.extensions.http://example.com/ext/deep"
    assert "nested" in err["message"]


def test_extension_nested_64_levels_is_accepted(make_client, statement):
    """Issue 9 finding 8: the nesting limit (64 levels inside an extension) is far above real content."""
    client = make_client()
    resp = client.post("/statements", content=_with_extension(statement, _nested(64)), headers=JSON)
    assert resp.status_code == 200, resp.text


def test_deep_value_where_a_string_belongs_is_400(make_client, statement):
    """Issue 9 finding 8: deep JSON outside an extension is refused with a 400 too, not a 500."""
    client = make_client()
    st = json.dumps(statement()).replace('"PT1H12M30S"', _nested(1000))
    err = _err(client.post("/statements", content=st, headers=JSON))
    assert err["path"].startswith("result.duration")


@pytest.mark.parametrize("depth", [300, 1000])
def test_state_merge_of_a_deep_document_is_400_not_500(make_client, depth):
    """Issue 9 finding 8: a POST merge with a stored or posted JSON document nested deeper than a merge
    can write back (254 levels) is a 400; PUT still stores such a document as sent."""
    client = make_client()
    deep = '{"k":' + _nested(depth) + "}"
    assert client.put("/activities/state", params=STATE, content=deep, headers=JSON).status_code == 204
    _err(client.post("/activities/state", params=STATE, content=b'{"j": 1}', headers=JSON))
    assert client.get("/activities/state", params=STATE).content == deep.encode()  # unchanged
    other = {**STATE, "stateId": "s2"}
    _err(client.post("/activities/state", params=other, content=deep, headers=JSON))
    client.post("/activities/state", params=other, content=b'{"j": 1}', headers=JSON)
    _err(client.post("/activities/state", params=other, content=deep, headers=JSON))


def test_state_merge_of_documents_nested_200_levels_works(make_client):
    """Issue 9 finding 8: documents may nest deeper than Statements; merging 200 levels is fine."""
    client = make_client()
    deep = '{"k":' + _nested(200) + "}"
    assert client.post("/activities/state", params=STATE, content=deep, headers=JSON).status_code == 204
    assert client.post("/activities/state", params=STATE, content=b'{"j": 1}', headers=JSON).status_code == 204
    merged = client.get("/activities/state", params=STATE).json()
    assert merged["j"] == 1 and "k" in merged
