"""What a learner's credential may do beyond its own Statements (issue 9 finding 11; README "Scopes"):
a credential voids only Statements it could read, and a credential limited to
statements/read/mine reaches only its own Agent's State and Agent Profile documents."""
from __future__ import annotations

import json

import pytest

from lrs_testkit import basic, error_of, make_statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
CREDS = [("ann", "ann-secret", ["statements/write", "statements/read/mine", "state", "profile"],
          {"email": "ann@example.com"}),
         ("ben", "ben-secret", ["statements/write", "statements/read/mine"], {"email": "ben@example.com"}),
         ("tool", "tool-secret", ["statements/write"], {"email": "tool@example.com"}),
         ("teacher", "teacher-secret", ["statements/write", "statements/read", "state"],
          {"email": "teacher@example.com"})]
ANN = {"Authorization": basic("ann", "ann-secret")}
BEN = {"Authorization": basic("ben", "ben-secret")}
TOOL = {"Authorization": basic("tool", "tool-secret")}
TEACHER = {"Authorization": basic("teacher", "teacher-secret")}
ACTIVITY = "http://example.com/courses/safety-101"


def voiding(target_id: str) -> dict:
    return make_statement(verb={"id": VOIDED, "display": {"en-US": "voided"}}, result=None, context=None,
                          object={"objectType": "StatementRef", "id": target_id})


@pytest.fixture
def lrs(make_client):
    return make_client(credentials=CREDS)


@pytest.mark.parametrize("who", [BEN, TOOL], ids=["read-mine", "write-only"])
def test_a_credential_without_full_read_cannot_void_another_authoritys_statement(lrs, who):
    """Issue 9 finding 11: statements/write (+ statements/read/mine) may void only Statements stored
    with its own authority: another's is a 403 naming object.id, and the target stays unvoided."""
    theirs = make_statement()
    assert lrs.post("/statements", json=theirs, headers=ANN).status_code == 200
    resp = lrs.post("/statements", json=voiding(theirs["id"]), headers=who)
    assert resp.status_code == 403, resp.text
    assert error_of(resp)["path"] == "object.id"
    resp = lrs.post("/statements", json=[make_statement(), voiding(theirs["id"])], headers=who)
    assert resp.status_code == 403
    assert error_of(resp)["path"] == "[1].object.id"
    assert lrs.get("/statements", params={"statementId": theirs["id"]}).status_code == 200


def test_a_credential_voids_its_own_statements_and_unknown_targets(lrs):
    """Issue 9 finding 11 (what keeps working): a learner voids what it stored, and a target the LRS
    does not have is accepted (Data 2.3.2.s2.b5)."""
    own = make_statement()
    assert lrs.post("/statements", json=own, headers=BEN).status_code == 200
    assert lrs.post("/statements", json=voiding(own["id"]), headers=BEN).status_code == 200
    assert lrs.get("/statements", params={"voidedStatementId": own["id"]}).status_code == 200
    unknown = voiding("6690e6c9-3ef0-4ed3-8b37-7f3964730bee")
    assert lrs.post("/statements", json=unknown, headers=TOOL).status_code == 200


def test_a_credential_with_full_read_voids_any_statement(lrs):
    """Issue 9 finding 11 (what keeps working): statements/read (or all/read, all) may void any Statement."""
    theirs = make_statement()
    assert lrs.post("/statements", json=theirs, headers=ANN).status_code == 200
    assert lrs.post("/statements", json=voiding(theirs["id"]), headers=TEACHER).status_code == 200
    assert lrs.get("/statements", params={"voidedStatementId": theirs["id"]}).status_code == 200


def agent(email: str) -> str:
    return json.dumps({"objectType": "Agent", "mbox": f"mailto:{email}"})


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
def test_a_learner_reaches_only_its_own_agents_state(lrs, method):
    """Issue 9 finding 11: a statements/read/mine credential's State access (read, write, delete) is
    limited to its own authority Agent: another agent is a 403 naming agent."""
    params = {"activityId": ACTIVITY, "agent": agent("ben@example.com"), "stateId": "bookmark"}
    assert lrs.put("/activities/state", params=params, json={"page": 7}).status_code == 204  # admin
    body = None if method in ("GET", "DELETE") else json.dumps({"page": 1})
    headers = {**ANN, "Content-Type": "application/json"}
    resp = lrs.request(method, "/activities/state", params=params, content=body, headers=headers)
    assert resp.status_code == 403
    assert error_of(resp)["path"] == "agent"
    resp = lrs.request(method, "/activities/state", params={k: v for k, v in params.items() if k != "stateId"},
                       content=body, headers=headers)
    assert resp.status_code in (400, 403)  # without stateId: a PUT/POST is a 400 before or after the check
    assert lrs.get("/activities/state", params=params).json() == {"page": 7}

    own = {**params, "agent": agent("ann@example.com")}
    resp = lrs.request(method, "/activities/state", params=own, content=body, headers=headers)
    assert resp.status_code in (200, 204, 404)


def test_a_learner_reaches_only_its_own_agent_profile(lrs):
    """Issue 9 finding 11: the same limit holds for Agent Profile documents."""
    params = {"agent": agent("ben@example.com"), "profileId": "prefs"}
    resp = lrs.get("/agents/profile", params=params, headers=ANN)
    assert resp.status_code == 403
    assert error_of(resp)["path"] == "agent"
    own = {"agent": agent("ann@example.com"), "profileId": "prefs"}
    assert lrs.put("/agents/profile", params=own, json={"a": 1},
                   headers={**ANN, "If-None-Match": "*"}).status_code == 204
    assert lrs.get("/agents/profile", params=own, headers=ANN).json() == {"a": 1}


def test_credentials_with_full_read_keep_their_document_access(lrs):
    """Issue 9 finding 11 (what keeps working): other credentials are unchanged: a teacher reaches
    any learner's State."""
    params = {"activityId": ACTIVITY, "agent": agent("ben@example.com"), "stateId": "bookmark"}
    assert lrs.put("/activities/state", params=params, json={"page": 2}, headers=TEACHER).status_code == 204
    assert lrs.get("/activities/state", params=params, headers=TEACHER).json() == {"page": 2}
