"""Authentication (Communication 4.0, HTTP Basic) and the OAuth scopes of 4.2 applied to Basic credentials."""
from __future__ import annotations

import base64
import json

import bson
import pytest

from lrs_testkit import ADMIN, basic, error_of, make_statement

AGENT = json.dumps({"mbox": "mailto:ada@example.com"})
ACTIVITY = "http://example.com/courses/safety-101"
CREDS = [
    ("reader", "reader-secret", ["statements/read"]),
    ("writer", "writer-secret", ["statements/write"]),
    ("stater", "stater-secret", ["state"]),
    ("profiler", "profiler-secret", ["profile"]),
    ("allread", "allread-secret", ["all/read"]),
    ("mine", "mine-secret", ["statements/write", "statements/read/mine"]),
    ("mine2", "mine2-secret", ["statements/write", "statements/read/mine"]),
]
SECRETS = {key: secret for key, secret, _ in CREDS}


@pytest.fixture
def lrs(make_client):
    """The admin client; ``lrs.as_(key)`` gives the headers of another credential."""
    client = make_client(credentials=CREDS)
    return client


def as_(key):
    return {"Authorization": basic(key, SECRETS[key])}


# Each request of the API, as (name, method, path, params, body-or-None).
def requests_of_each_resource():
    st = make_statement()
    return [
        ("statements_get", "GET", "/statements", {}, None),
        ("statements_post", "POST", "/statements", {}, st),
        ("statements_put", "PUT", "/statements", {"statementId": st["id"]}, st),
        ("state_get", "GET", "/activities/state", {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}, None),
        ("state_put", "PUT", "/activities/state", {"activityId": ACTIVITY, "agent": AGENT, "stateId": "s"}, {"a": 1}),
        ("activity_profile_get", "GET", "/activities/profile", {"activityId": ACTIVITY, "profileId": "p"}, None),
        ("agent_profile_get", "GET", "/agents/profile", {"agent": AGENT, "profileId": "p"}, None),
        ("activities_get", "GET", "/activities", {"activityId": ACTIVITY}, None),
        ("agents_get", "GET", "/agents", {"agent": AGENT}, None),
    ]


@pytest.mark.parametrize("name, method, path, params, body", requests_of_each_resource(),
                         ids=[r[0] for r in requests_of_each_resource()])
def test_request_without_credentials_is_401_with_www_authenticate_3_2_s2_b2(make_client, name, method, path, params,
                                                                             body):
    anon = make_client(auth=None)
    resp = anon.request(method, path, params=params, json=body)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].lower().startswith("basic")
    error_of(resp)


@pytest.mark.parametrize("authorization", [
    basic(ADMIN[0], "wrong-secret"), basic("nobody", ADMIN[1]), basic(ADMIN[0], ""),
    "Basic " + base64.b64encode(ADMIN[0].encode()).decode(), "Basic !!!not-base64", "Bearer " + ADMIN[1], "",
], ids=["wrong_secret", "unknown_key", "empty_secret", "no_colon", "not_base64", "bearer_token", "empty"])
def test_refused_credentials_are_401(client, authorization):
    resp = client.get("/statements", headers={"Authorization": authorization})
    assert resp.status_code == 401
    error_of(resp)


def test_right_credentials_are_accepted(client):
    assert client.get("/statements").status_code == 200


def test_about_needs_no_credentials_2_8_s5_b3(make_client):
    assert make_client(auth=None).get("/about").status_code == 200


# -- scopes: Communication 4.2 ------------------------------------------------------------------

SCOPE_MATRIX = {
    # name: set of requests allowed
    "reader": {"statements_get", "activities_get", "agents_get"},
    "writer": {"statements_post", "statements_put"},
    "stater": {"state_get", "state_put", "activities_get", "agents_get"},
    "profiler": {"activity_profile_get", "agent_profile_get", "activities_get", "agents_get"},
    "allread": {"statements_get", "state_get", "activity_profile_get", "agent_profile_get", "activities_get",
                "agents_get"},
}


@pytest.mark.parametrize("key", list(SCOPE_MATRIX))
def test_each_scope_allows_only_its_requests_others_are_403_3_2_s3_b10(lrs, key):
    for name, method, path, params, body in requests_of_each_resource():
        resp = lrs.request(method, path, params=params, json=body, headers=as_(key))
        if name in SCOPE_MATRIX[key]:
            assert resp.status_code in (200, 204, 404), (key, name, resp.status_code, resp.text)
        else:
            assert resp.status_code == 403, (key, name, resp.status_code, resp.text)
            error_of(resp)


def test_statements_read_cannot_post_statements(lrs):
    st = make_statement()
    assert lrs.post("/statements", json=st, headers=as_("reader")).status_code == 403
    assert lrs.get("/statements", params={"statementId": st["id"]}).status_code == 404


def test_statements_write_cannot_read_statements(lrs):
    st = make_statement()
    assert lrs.post("/statements", json=st, headers=as_("writer")).status_code == 200
    assert lrs.get("/statements", params={"statementId": st["id"]}, headers=as_("writer")).status_code == 403
    assert lrs.get("/statements", headers=as_("writer")).status_code == 403


def test_state_scope_reaches_only_the_state_resource(lrs):
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}
    assert lrs.put("/activities/state", params=params, json={"page": 3}, headers=as_("stater")).status_code == 204
    assert lrs.get("/activities/state", params=params, headers=as_("stater")).json() == {"page": 3}
    assert lrs.put("/activities/profile", params={"activityId": ACTIVITY, "profileId": "p"}, json={},
                   headers={**as_("stater"), "If-None-Match": "*"}).status_code == 403
    assert lrs.post("/statements", json=make_statement(), headers=as_("stater")).status_code == 403


def test_all_read_cannot_write(lrs):
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}
    assert lrs.put("/activities/state", params=params, json={"page": 3}, headers=as_("allread")).status_code == 403
    assert lrs.post("/statements", json=make_statement(), headers=as_("allread")).status_code == 403


def test_statements_read_mine_sees_only_statements_stored_with_its_own_credential(lrs):
    own = [make_statement() for _ in range(2)]
    theirs = make_statement()
    other_mine = make_statement()
    assert lrs.post("/statements", json=own, headers=as_("mine")).status_code == 200
    assert lrs.post("/statements", json=theirs).status_code == 200
    assert lrs.post("/statements", json=other_mine, headers=as_("mine2")).status_code == 200

    listed = lrs.get("/statements", headers=as_("mine")).json()["statements"]
    assert {s["id"] for s in listed} == {s["id"] for s in own}
    filtered = lrs.get("/statements", params={"verb": own[0]["verb"]["id"]}, headers=as_("mine")).json()
    assert {s["id"] for s in filtered["statements"]} == {s["id"] for s in own}
    assert lrs.get("/statements", params={"statementId": own[0]["id"]}, headers=as_("mine")).status_code == 200
    for sid in (theirs["id"], other_mine["id"]):
        assert lrs.get("/statements", params={"statementId": sid}, headers=as_("mine")).status_code == 404
    # the admin sees all of them
    assert len(lrs.get("/statements").json()["statements"]) == 4


def test_statements_read_mine_paging_stays_within_its_own_statements(lrs):
    own = [make_statement() for _ in range(3)]
    for st in own:
        lrs.post("/statements", json=st, headers=as_("mine"))
        lrs.post("/statements", json=make_statement())
    body = lrs.get("/statements", params={"limit": 2}, headers=as_("mine")).json()
    seen = [s["id"] for s in body["statements"]]
    more = lrs.get("http://testserver" + body["more"], headers=as_("mine")).json()
    seen += [s["id"] for s in more["statements"]]
    assert seen == [s["id"] for s in reversed(own)]


# -- secrets at rest ---------------------------------------------------------------------------------

def test_secrets_are_stored_hashed_never_in_plain_text(lrs, data_dir, backend):
    assert lrs.get("/statements", headers=as_("reader")).status_code == 200  # the secret was checked
    if backend:  # what the database holds, as any other client of it reads it
        import pymongo

        with pymongo.MongoClient(backend) as mc:
            blob = b"".join(bson.encode(d) for d in mc.get_default_database()["credentials"].find())
    else:
        files = [p for p in data_dir.iterdir() if p.name.startswith("lrs.sqlite3")]
        assert any(p.name == "lrs.sqlite3" for p in files)
        blob = b"".join(p.read_bytes() for p in files)
    for key, secret, _ in CREDS:
        assert key.encode() in blob, key  # the credentials are in these files ...
        assert secret.encode() not in blob, key  # ... but not their secrets
    assert ADMIN[1].encode() not in blob


# -- revocation ----------------------------------------------------------------------------------

def test_a_revoked_key_stops_working_within_the_refresh_interval(make_client, data_dir, backend, monkeypatch):
    """A credential revoked (by another process, as `lrs credentials revoke` does) is refused by a
    running LRS within REFRESH_SECONDS (5 s; 1 s here), even though its secret was verified and cached."""
    import time

    import lrs.auth as auth
    from lrs.auth import Credentials
    from lrs.storage import open_store

    monkeypatch.setattr(auth, "REFRESH_SECONDS", 1.0)
    client = make_client(credentials=[("leaver", "leaver-secret", ["all"])])
    headers = {"Authorization": basic("leaver", "leaver-secret")}
    assert client.get("/statements", headers=headers).status_code == 200
    other = open_store(data_dir, backend)
    try:
        assert Credentials(other).revoke("leaver")
    finally:
        other.close()
    revoked = time.monotonic()
    while client.get("/statements", headers=headers).status_code == 200:
        assert time.monotonic() - revoked < 1.5, "the revoked key still works"
        time.sleep(0.05)
    assert client.get("/statements").status_code == 200  # the others still do
