"""Versioning (Communication 3.3), the About resource (2.8) and the alternate request syntax (1.3)."""
from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from lrs_testkit import ADMIN, basic, error_of, make_statement

ACTIVITY = "http://example.com/courses/safety-101"
AGENT = json.dumps({"mbox": "mailto:ada@example.com"})


@pytest.fixture
def bare(make_client):
    """A client that sends neither the version header nor credentials unless told to."""
    return make_client(auth=None, version=None)


AUTH = {"Authorization": basic(*ADMIN)}


# -- version header: Communication 3.3.s3 ----------------------------------------------------------

@pytest.mark.parametrize("path, params", [("/statements", {}), ("/activities/state", {
    "activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}), ("/activities", {"activityId": ACTIVITY})],
    ids=["statements", "state", "activities"])
def test_request_without_version_header_is_400_3_3_s3_b4_1(bare, path, params):
    resp = bare.get(path, params=params, headers=AUTH)
    assert resp.status_code == 400
    assert "X-Experience-API-Version" in error_of(resp)["message"]


@pytest.mark.parametrize("version", ["0.9", "0.95", "1.1.0", "1.1", "3.0.0", "abc", "", "1.0.3.1"])
def test_unsupported_version_header_is_400_3_3_s3_b4_b6(bare, version):
    resp = bare.get("/statements", headers={**AUTH, "X-Experience-API-Version": version})
    assert resp.status_code == 400, version
    error_of(resp)


@pytest.mark.parametrize("version", ["1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3", "1.0.9"])
def test_version_header_starting_1_0_is_accepted_3_3_s3_b3_b5(bare, version):
    resp = bare.get("/statements", headers={**AUTH, "X-Experience-API-Version": version})
    assert resp.status_code == 200
    assert resp.headers["X-Experience-API-Version"] == "1.0.3"


def test_statement_posted_with_version_1_0_header_is_stored(bare):
    st = make_statement()
    resp = bare.post("/statements", json=st, headers={**AUTH, "X-Experience-API-Version": "1.0"})
    assert resp.status_code == 200
    assert resp.json() == [st["id"]]


def test_version_2_0_0_is_accepted_and_answered_as_2_0_0(bare):
    resp = bare.get("/statements", headers={**AUTH, "X-Experience-API-Version": "2.0.0"})
    assert resp.status_code == 200
    assert resp.headers["X-Experience-API-Version"] == "2.0.0"


def test_every_response_carries_the_version_header_3_3_s3_b1(make_client):
    client = make_client(max_request_bytes=5000)
    st = make_statement()
    big = make_statement()
    big["context"]["extensions"] = {"http://example.com/x": "x" * 6000}
    state = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}
    profile = {"activityId": ACTIVITY, "profileId": "p"}
    client.put("/activities/profile", params=profile, json={"a": 1}, headers={"If-None-Match": "*"})
    responses = {
        200: client.post("/statements", json=st),
        204: client.put("/activities/state", params=state, json={"a": 1}),
        400: client.get("/statements", params={"nonsense": "1"}),
        401: client.get("/statements", headers={"Authorization": basic("x", "y")}),
        404: client.get("/statements", params={"statementId": make_statement()["id"]}),
        405: client.delete("/statements"),
        409: client.put("/activities/profile", params=profile, json={"a": 2}),
        412: client.put("/activities/state", params=state, json={"a": 2}, headers={"If-Match": '"0"'}),
        413: client.post("/statements", json=big),
        "about": client.get("/about"),
        "no-version": client.get("/statements", headers={"X-Experience-API-Version": "0.9"}),
        "unknown-path": client.get("/nothing-here"),
    }
    for what, resp in responses.items():
        if isinstance(what, int):
            assert resp.status_code == what, (what, resp.text)
        assert resp.headers.get("X-Experience-API-Version") == "1.0.3", what


# -- About: Communication 2.8 -----------------------------------------------------------------------

def test_about_works_without_auth_and_lists_versions_2_8(bare):
    resp = bare.get("/about")
    assert resp.status_code == 200
    about = resp.json()
    assert set(about) <= {"version", "extensions"}
    assert "1.0.3" in about["version"]
    assert "2.0.0" in about["version"]
    assert all(v.startswith(("1.0.", "2.0.")) for v in about["version"])


@pytest.mark.parametrize("version", [None, "0.9", "7.7.7"])
def test_about_ignores_the_version_header_2_8_s5_b4(bare, version):
    headers = {"X-Experience-API-Version": version} if version else {}
    assert bare.get("/about", headers=headers).status_code == 200


# -- alternate request syntax: Communication 1.3 -------------------------------------------------------

def form(**fields) -> dict:
    return {"content": urlencode(fields).encode(), "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


def alt(client, path, method, **fields):
    return client.post(path, params={"method": method}, **form(**fields))


def test_alternate_syntax_put_statement_with_headers_as_form_fields_1_3(bare, make_client):
    st = make_statement()
    resp = alt(bare, "/statements", "PUT", statementId=st["id"], content=json.dumps(st),
               **{"X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN),
                  "Content-Type": "application/json"})
    assert resp.status_code == 204, resp.text
    got = bare.get("/statements", params={"statementId": st["id"]},
                   headers={**AUTH, "X-Experience-API-Version": "1.0.3"})
    assert got.status_code == 200
    assert got.json()["actor"] == st["actor"]


def test_alternate_syntax_post_statement(bare):
    st = make_statement()
    resp = alt(bare, "/statements", "POST", content=json.dumps(st), **{
        "X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN), "Content-Type": "application/json"})
    assert resp.status_code == 200
    assert resp.json() == [st["id"]]


def test_alternate_syntax_get_statements_with_query_as_form_fields_1_3(bare):
    st = make_statement()
    alt(bare, "/statements", "POST", content=json.dumps(st), **{
        "X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN), "Content-Type": "application/json"})
    resp = alt(bare, "/statements", "GET", verb=st["verb"]["id"], limit="5", **{
        "X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN)})
    assert resp.status_code == 200
    assert [s["id"] for s in resp.json()["statements"]] == [st["id"]]


def test_alternate_syntax_with_credentials_in_the_http_header(bare):
    resp = bare.post("/statements", params={"method": "GET"}, content=b"X-Experience-API-Version=1.0.3",
                     headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 200


def test_alternate_syntax_for_state_with_if_none_match_form_field(bare):
    fields = {"X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN)}
    resp = alt(bare, "/activities/state", "PUT", activityId=ACTIVITY, agent=AGENT, stateId="bookmark",
               content=json.dumps({"page": 7}), **{"Content-Type": "application/json"}, **fields)
    assert resp.status_code == 204, resp.text
    again = alt(bare, "/activities/state", "PUT", activityId=ACTIVITY, agent=AGENT, stateId="bookmark",
                content=json.dumps({"page": 8}), **{"Content-Type": "application/json", "If-None-Match": "*"},
                **fields)
    assert again.status_code == 412
    got = alt(bare, "/activities/state", "GET", activityId=ACTIVITY, agent=AGENT, stateId="bookmark", **fields)
    assert got.json() == {"page": 7}


def test_alternate_syntax_is_rejected_under_2_0_0(bare):
    st = make_statement()
    resp = alt(bare, "/statements", "PUT", statementId=st["id"], content=json.dumps(st),
               **{"X-Experience-API-Version": "2.0.0", "Authorization": basic(*ADMIN),
                  "Content-Type": "application/json"})
    assert resp.status_code == 400
    got = bare.get("/statements", params={"statementId": st["id"]},
                   headers={**AUTH, "X-Experience-API-Version": "1.0.3"})
    assert got.status_code == 404


def test_alternate_syntax_with_other_query_parameters_is_400_1_3_s3_b3(bare):
    st = make_statement()
    resp = bare.post("/statements", params={"method": "PUT", "statementId": st["id"]},
                     **form(content=json.dumps(st), **{"X-Experience-API-Version": "1.0.3",
                                                        "Authorization": basic(*ADMIN),
                                                        "Content-Type": "application/json"}))
    assert resp.status_code == 400
    error_of(resp)


@pytest.mark.parametrize("method", ["PATCH", "put", "FOO"])
def test_alternate_syntax_with_unknown_method_is_400(bare, method):
    resp = alt(bare, "/statements", method, **{"X-Experience-API-Version": "1.0.3", "Authorization": basic(*ADMIN)})
    assert resp.status_code == 400


def test_alternate_syntax_without_credentials_is_401(bare):
    resp = alt(bare, "/statements", "GET", **{"X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 401
