"""The Agents resource (Communication 2.4) and the Activities resource (2.5)."""
from __future__ import annotations

import json

from lrs_testkit import error_of, make_statement

ADA = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}


def test_agents_returns_a_person_for_an_unknown_agent_2_4_s3_b3(client):
    resp = client.get("/agents", params={"agent": json.dumps(ADA)})
    assert resp.status_code == 200
    person = resp.json()
    assert person["objectType"] == "Person"
    assert person["mbox"] == [ADA["mbox"]]
    assert person["name"] == ["Ada"]
    assert set(person) <= {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"}


def test_agents_person_properties_are_arrays_2_4_s6_b1(client):
    account = {"homePage": "http://lms.example.com", "name": "ada"}
    person = client.get("/agents", params={"agent": json.dumps({"account": account})}).json()
    assert person["account"] == [account]


def test_agents_needs_the_agent_parameter(client):
    resp = client.get("/agents")
    assert resp.status_code == 400
    assert error_of(resp)["path"] == "agent"


def test_agents_rejects_an_invalid_agent(client):
    assert client.get("/agents", params={"agent": json.dumps({"name": "no ifi"})}).status_code == 400


def test_activities_returns_the_canonical_definition_2_5(client):
    st = make_statement()
    client.post("/statements", json=st)
    later = make_statement()
    later["object"]["definition"] = {"name": {"fr": "Sécurité 101"}}
    client.post("/statements", json=later)
    resp = client.get("/activities", params={"activityId": st["object"]["id"]})
    assert resp.status_code == 200
    activity = resp.json()
    assert activity["id"] == st["object"]["id"]
    assert activity["objectType"] == "Activity"
    assert activity["definition"]["type"] == st["object"]["definition"]["type"]
    assert activity["definition"]["name"]["fr"] == "Sécurité 101"


def test_activities_returns_an_activity_object_even_when_unknown_2_5_s2_b1(client):
    resp = client.get("/activities", params={"activityId": "http://example.com/never-seen"})
    assert resp.status_code == 200
    assert resp.json()["id"] == "http://example.com/never-seen"


def test_activities_needs_a_valid_activity_id(client):
    assert client.get("/activities").status_code == 400
    assert client.get("/activities", params={"activityId": "not an iri"}).status_code == 400


def test_activities_and_agents_are_read_only(client):
    assert client.post("/activities", params={"activityId": "http://example.com/a"}, json={}).status_code == 405
    assert client.put("/agents", params={"agent": json.dumps(ADA)}, json={}).status_code == 405
