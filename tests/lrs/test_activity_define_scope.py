"""The canonical Activity definition and the `define` scope (issue 9 finding 5; xAPI 1.0.3
Communication 4.2 `define`, Data 2.4.4.1): a Statement updates the LRS's canonical definition of an
Activity only when its credential has `define` (or `all`); an Activity new to the LRS gets the first
definition it is stored with. Definitions are JSON data, returned as application/json."""
from __future__ import annotations

from lrs_testkit import basic, make_statement

ACTIVITY = "http://example.com/courses/fire-safety"
CREDS = [("learner", "learner-secret", ["statements/write"]),
         ("author", "author-secret", ["statements/write", "define"])]
LEARNER = {"Authorization": basic("learner", "learner-secret")}
AUTHOR = {"Authorization": basic("author", "author-secret")}


def about(name: str, **definition) -> dict:
    return make_statement(object={"objectType": "Activity", "id": ACTIVITY,
                                  "definition": {"name": {"en-US": name}, **definition}})


def canonical(client) -> dict:
    resp = client.get("/activities", params={"activityId": ACTIVITY})
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    return resp.json()["definition"]


def test_a_writer_without_define_cannot_change_a_stored_definition(make_client):
    """Issue 9 finding 5: a statements/write-only learner's Statement is stored, but the canonical
    name stays the one the LRS had; a credential with define (or all) changes it."""
    client = make_client(credentials=CREDS)
    assert client.post("/statements", json=about("Fire safety"), headers=AUTHOR).status_code == 200
    hostile = about('<img src=x onerror="alert(1)">', description={"en-US": "<script>steal()</script>"})
    assert client.post("/statements", json=hostile, headers=LEARNER).status_code == 200
    assert canonical(client) == {"name": {"en-US": "Fire safety"}}
    assert client.get("/statements", params={"statementId": hostile["id"]}).json()["object"] == hostile["object"]

    assert client.post("/statements", json=about("Fire safety 2"), headers=AUTHOR).status_code == 200
    assert canonical(client) == {"name": {"en-US": "Fire safety 2"}}
    assert client.post("/statements", json=about("Fire safety 3")).status_code == 200  # admin: all
    assert canonical(client)["name"] == {"en-US": "Fire safety 3"}


def test_a_new_activity_keeps_the_first_definition_a_writer_without_define_sends(make_client):
    """Issue 9 finding 5: an Activity new to the LRS takes its first definition from any writer, and
    later ones without define do not change it; the text is returned as JSON data, unchanged."""
    client = make_client(credentials=CREDS)
    first = about("<b>Fire</b> & safety")
    assert client.post("/statements", json=[first, about("Renamed")], headers=LEARNER).status_code == 200
    assert canonical(client) == {"name": {"en-US": "<b>Fire</b> & safety"}}
    resp = client.get("/statements", params={"statementId": first["id"], "format": "canonical"})
    assert resp.headers["content-type"] == "application/json"
    assert resp.json()["object"]["definition"]["name"] == {"en-US": "<b>Fire</b> & safety"}
