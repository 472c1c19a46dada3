"""Query and document parameters (issue 9 finding 8): values that used to end in a 500 are 400s
naming the parameter."""
from __future__ import annotations

import json

import pytest

ANONYMOUS_GROUP = json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:ada@example.com"}]})
STATE = {"activityId": "http://example.com/act", "agent": json.dumps({"mbox": "mailto:ada@example.com"}),
         "stateId": "s1"}


def _err(resp, status=400):
    assert resp.status_code == status, resp.text
    return resp.json()["error"]


def test_anonymous_group_as_statement_query_agent_is_400(make_client):
    """Issue 9 finding 8: an anonymous Group (members, no IFI) as the agent of a statement query
    identifies no one: a 400 naming agent, not a 500."""
    client = make_client()
    assert _err(client.get("/statements", params={"agent": ANONYMOUS_GROUP}))["path"] == "agent"


@pytest.mark.parametrize("method", ["put", "get", "delete"])
def test_anonymous_group_as_state_agent_is_400(make_client, method):
    """Issue 9 finding 8: an anonymous Group as the agent of the State resource is a 400 naming agent."""
    client = make_client()
    params = {**STATE, "agent": ANONYMOUS_GROUP}
    kwargs = {"content": b"x"} if method == "put" else {}
    assert _err(getattr(client, method)("/activities/state", params=params, **kwargs))["path"] == "agent"


def test_identified_group_as_query_agent_is_accepted(make_client):
    """Issue 9 finding 8: a Group with an IFI still identifies whose Statements are meant."""
    client = make_client()
    group = json.dumps({"objectType": "Group", "mbox": "mailto:team@example.com"})
    assert client.get("/statements", params={"agent": group}).status_code == 200


@pytest.mark.parametrize("value", ["²", "١٢", "𝟗", "٣", "1e3", "+5", "-1", " 5", "5 ", "0x10", "", "1.0"])
def test_limit_that_is_not_ascii_digits_is_400_naming_limit(make_client, value):
    """Issue 9 finding 8: limit must be written with the digits 0-9 (str.isdigit accepts '²', int()
    accepts '١٢'); anything else is a 400 naming limit, never a 500 or a silent number."""
    client = make_client()
    assert _err(client.get("/statements", params={"limit": value}))["path"] == "limit"


@pytest.mark.parametrize("value", ["0", "1", "007", "99999999999999999999999999999"])
def test_limit_in_ascii_digits_is_accepted_and_large_means_the_maximum(make_client, value):
    """Issue 9 finding 8: a limit in ASCII digits is accepted; above the server's maximum it means the maximum."""
    client = make_client()
    assert client.get("/statements", params={"limit": value}).status_code == 200
