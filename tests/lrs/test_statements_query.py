"""Reading Statements: GET one, GET with filters, formats, paging (Communication 2.1.3, 2.1.4;
Data 2.5 StatementResult)."""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from urllib.parse import urlsplit

import pytest

from lrs_testkit import error_of, make_statement

ADA = {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"}
BOB = {"objectType": "Agent", "name": "Bob", "mbox": "mailto:bob@example.com"}
CAROL = {"name": "Carol", "account": {"homePage": "http://lms.example.com", "name": "carol"}}
DAVE = {"mbox": "mailto:dave@example.com"}
ERIN = {"mbox": "mailto:erin@example.com"}
TEAM = {"objectType": "Group", "mbox": "mailto:team@example.com", "member": [ERIN]}
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COURSE_A = "http://example.com/courses/a"
COURSE_B = "http://example.com/courses/b"


def st(actor=ADA, verb=COMPLETED, obj=COURSE_A, **kw):
    s = make_statement(actor=actor, verb={"id": verb, "display": {"en-US": verb.rsplit("/", 1)[-1]}},
                       object={"id": obj} if isinstance(obj, str) else obj, **kw)
    if "context" not in kw:
        s["context"] = {"registration": str(uuid.uuid4())}
    return s


def post(client, *statements):
    resp = client.post("/statements", json=list(statements))
    assert resp.status_code == 200, resp.text
    return resp.json()


def query(client, headers=None, **params):
    params = {k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else v)
              for k, v in params.items()}
    resp = client.get("/statements", params=params, headers=headers or {})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) >= {"statements"}
    return body


def ids(client, **params):
    return [s["id"] for s in query(client, **params)["statements"]]


# -- single Statement ---------------------------------------------------------------------------

def test_get_by_statement_id_returns_the_statement(client):
    s = st()
    post(client, s)
    resp = client.get("/statements", params={"statementId": s["id"]})
    assert resp.status_code == 200
    assert resp.json()["id"] == s["id"]
    assert resp.headers["content-type"].startswith("application/json")


def test_get_unknown_statement_id_is_404(client):
    resp = client.get("/statements", params={"statementId": str(uuid.uuid4())})
    assert resp.status_code == 404
    error_of(resp)


def test_statement_id_and_voided_statement_id_together_is_400_2_1_3_s2_b1(client):
    s = st()
    post(client, s)
    resp = client.get("/statements", params={"statementId": s["id"], "voidedStatementId": s["id"]})
    assert resp.status_code == 400


@pytest.mark.parametrize("extra", [{"verb": COMPLETED}, {"limit": "1"}, {"ascending": "true"},
                                   {"agent": json.dumps(ADA)}, {"since": "2020-01-01T00:00:00Z"}])
def test_statement_id_with_other_parameter_is_400_2_1_3_s2_b2(client, extra):
    s = st()
    post(client, s)
    resp = client.get("/statements", params={"statementId": s["id"], **extra})
    assert resp.status_code == 400
    resp = client.get("/statements", params={"voidedStatementId": s["id"], **extra})
    assert resp.status_code == 400


@pytest.mark.parametrize("extra", [{"format": "ids"}, {"attachments": "false"}, {"format": "canonical"}])
def test_statement_id_with_format_or_attachments_is_allowed(client, extra):
    s = st()
    post(client, s)
    assert client.get("/statements", params={"statementId": s["id"], **extra}).status_code == 200


@pytest.mark.parametrize("params", [{"verbs": COMPLETED}, {"statementID": str(uuid.uuid4())}, {"Limit": "2"},
                                    {"page": "2"}], ids=["unknown", "statementId_wrong_case", "limit_wrong_case",
                                                         "page"])
def test_unknown_or_wrong_case_parameter_is_400_3_2_s3_b7_b8(client, params):
    resp = client.get("/statements", params=params)
    assert resp.status_code == 400
    error_of(resp)


@pytest.mark.parametrize("params", [
    {"limit": "-1"}, {"limit": "ten"}, {"ascending": "yes"}, {"related_agents": "1"}, {"format": "full"},
    {"agent": "{not json"}, {"agent": json.dumps({"name": "no ifi"})}, {"verb": "completed"},
    {"activity": "course a"}, {"registration": "123"}, {"since": "yesterday"}, {"until": "2024-02-30T00:00:00Z"},
    {"statementId": "not-a-uuid"},
], ids=lambda p: "-".join(f"{k}={v}"[:30] for k, v in p.items()))
def test_malformed_parameter_value_is_400_2_2_s4_b4(client, params):
    resp = client.get("/statements", params=params)
    assert resp.status_code == 400, resp.text
    error_of(resp)


def test_empty_result_is_200_with_empty_statements_2_1_3_s2_b4(client):
    body = query(client, verb="http://example.com/verbs/never-used")
    assert body["statements"] == []
    assert body.get("more", "") == ""


def test_consistent_through_header_on_statement_gets_2_1_3_s2_b5(client):
    s = st()
    post(client, s)
    for params in ({}, {"statementId": s["id"]}, {"verb": "http://example.com/none"}):
        resp = client.get("/statements", params=params)
        value = resp.headers["X-Experience-API-Consistent-Through"]
        datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_consistent_through_header_on_statement_writes_2_1_3_s2_b5(client):
    s = st()
    assert "X-Experience-API-Consistent-Through" in client.post("/statements", json=st()).headers
    assert "X-Experience-API-Consistent-Through" in client.put(
        "/statements", params={"statementId": s["id"]}, json=s).headers


def test_last_modified_of_a_single_statement_is_its_stored_time_2_1_3_s2_b8(client):
    s = st()
    post(client, s)
    resp = client.get("/statements", params={"statementId": s["id"]})
    from email.utils import parsedate_to_datetime

    stored = datetime.fromisoformat(resp.json()["stored"].replace("Z", "+00:00"))
    assert parsedate_to_datetime(resp.headers["Last-Modified"]) == stored.replace(microsecond=0)


def test_head_statements_has_headers_and_no_body_1_1(client):
    post(client, st())
    resp = client.head("/statements")
    assert resp.status_code == 200
    assert resp.content == b""
    assert "X-Experience-API-Consistent-Through" in resp.headers


# -- voided Statements: Communication 2.1.4 -----------------------------------------------------

def voiding(target_id, actor=BOB):
    return make_statement(actor=actor, verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target_id},
                          context=None, result=None)


def test_voided_statement_is_only_returned_by_voided_statement_id_2_1_4_s1_b1(client):
    target, v = st(), None
    post(client, target)
    v = voiding(target["id"])
    post(client, v)
    assert client.get("/statements", params={"statementId": target["id"]}).status_code == 404
    resp = client.get("/statements", params={"voidedStatementId": target["id"]})
    assert resp.status_code == 200
    assert resp.json()["id"] == target["id"]
    assert target["id"] not in ids(client)
    assert target["id"] not in ids(client, activity=COURSE_A)
    assert target["id"] not in ids(client, agent=ADA)


def test_voided_statement_id_of_a_statement_not_voided_is_404(client):
    s = st()
    post(client, s)
    assert client.get("/statements", params={"voidedStatementId": s["id"]}).status_code == 404


def test_voiding_statement_is_returned_by_queries_2_1_4_s1_b2(client):
    target = st()
    post(client, target)
    v = voiding(target["id"])
    post(client, v)
    assert ids(client) == [v["id"]]
    # it targets the voided Statement, so it matches that Statement's filters too
    assert ids(client, activity=COURSE_A) == [v["id"]]
    assert ids(client, agent=ADA) == [v["id"]]
    assert client.get("/statements", params={"statementId": v["id"]}).status_code == 200


def test_voiding_sent_before_its_target_still_voids_it(client):
    target = st()
    v = voiding(target["id"])
    post(client, v)
    post(client, target)
    assert client.get("/statements", params={"statementId": target["id"]}).status_code == 404
    assert client.get("/statements", params={"voidedStatementId": target["id"]}).status_code == 200
    assert target["id"] not in ids(client)


def test_voiding_and_target_in_one_batch(client):
    target = st()
    v = voiding(target["id"])
    post(client, target, v)
    assert ids(client) == [v["id"]]
    assert client.get("/statements", params={"voidedStatementId": target["id"]}).status_code == 200


# -- filters ----------------------------------------------------------------------------------------

@pytest.fixture
def corpus(client):
    """A small store with one Statement per filter situation, posted in this order."""
    reg = str(uuid.uuid4())
    s = {
        "ada_a": st(ADA, COMPLETED, COURSE_A, context={"registration": reg}),
        "bob_b_parent_a": st(BOB, ATTEMPTED, COURSE_B, context={
            "contextActivities": {"parent": [{"id": COURSE_A}]}, "instructor": CAROL}),
        "team_b": st(TEAM, COMPLETED, COURSE_B, context={"registration": reg}),
        "bob_mentored_ada": st(BOB, "http://example.com/verbs/mentored",
                               {"objectType": "Agent", "mbox": ADA["mbox"]}, context=None),
        "dave_sub_ada_a": st(DAVE, "http://example.com/verbs/planned", {
            "objectType": "SubStatement", "actor": ADA, "verb": {"id": ATTEMPTED}, "object": {"id": COURSE_A},
            "context": {"contextActivities": {"category": [{"id": "http://example.com/cat/x"}]}}}, context=None),
        "carol_b_team": st(CAROL, ATTEMPTED, COURSE_B, context={"team": TEAM}),
    }
    for one in s.values():
        post(client, one)
    ordered = list(s)
    return client, {k: v["id"] for k, v in s.items()}, ordered, reg


def names(corpus, found):
    by_id = {v: k for k, v in corpus[1].items()}
    return {by_id.get(i, i) for i in found}


def test_default_order_is_newest_stored_first_2_1_3(corpus):
    client, sids, ordered, _ = corpus
    assert ids(client) == [sids[k] for k in reversed(ordered)]


def test_ascending_true_returns_oldest_first(corpus):
    client, sids, ordered, _ = corpus
    assert ids(client, ascending=True) == [sids[k] for k in ordered]


def test_agent_filter_matches_actor_or_object_2_1_3(corpus):
    client = corpus[0]
    assert names(corpus, ids(client, agent=ADA)) == {"ada_a", "bob_mentored_ada"}
    assert names(corpus, ids(client, agent=BOB)) == {"bob_b_parent_a", "bob_mentored_ada"}


def test_agent_filter_matches_on_ifi_only_not_name(corpus):
    client = corpus[0]
    assert names(corpus, ids(client, agent={"mbox": ADA["mbox"], "name": "Someone else"})) == {
        "ada_a", "bob_mentored_ada"}


def test_agent_filter_with_identified_group(corpus):
    client = corpus[0]
    assert names(corpus, ids(client, agent={"objectType": "Group", "mbox": TEAM["mbox"]})) == {"team_b"}


def test_agent_filter_matches_group_actor_with_that_member_2_1_3(corpus):
    client = corpus[0]
    assert "team_b" in names(corpus, ids(client, agent=ERIN))


def test_related_agents_matches_instructor_team_authority_and_substatement(corpus):
    client = corpus[0]
    assert "bob_b_parent_a" in names(corpus, ids(client, agent=CAROL, related_agents=True))
    assert "bob_b_parent_a" not in names(corpus, ids(client, agent=CAROL))
    assert "carol_b_team" in names(corpus, ids(client, agent={"objectType": "Group", "mbox": TEAM["mbox"]},
                                                related_agents=True))
    assert "dave_sub_ada_a" in names(corpus, ids(client, agent=ADA, related_agents=True))
    assert "dave_sub_ada_a" not in names(corpus, ids(client, agent=ADA))
    authority = {"mbox": "mailto:admin@example.com"}
    assert len(ids(client, agent=authority, related_agents=True)) == 6
    assert ids(client, agent=authority) == []


def test_verb_filter(corpus):
    client = corpus[0]
    assert names(corpus, ids(client, verb=COMPLETED)) == {"ada_a", "team_b"}


def test_activity_filter_matches_object_only(corpus):
    client = corpus[0]
    assert names(corpus, ids(client, activity=COURSE_A)) == {"ada_a"}


def test_related_activities_matches_context_and_substatement(corpus):
    client = corpus[0]
    assert names(corpus, ids(client, activity=COURSE_A, related_activities=True)) == {
        "ada_a", "bob_b_parent_a", "dave_sub_ada_a"}
    assert names(corpus, ids(client, activity="http://example.com/cat/x", related_activities=True)) == {
        "dave_sub_ada_a"}


def test_registration_filter(corpus):
    client, _, _, reg = corpus
    assert names(corpus, ids(client, registration=reg)) == {"ada_a", "team_b"}
    assert names(corpus, ids(client, registration=reg.upper())) == {"ada_a", "team_b"}


def test_filters_combine_with_and(corpus):
    client, _, _, reg = corpus
    assert names(corpus, ids(client, registration=reg, verb=COMPLETED, agent=ADA)) == {"ada_a"}
    assert ids(client, registration=reg, verb=ATTEMPTED) == []


def test_limit_returns_that_many_and_a_more_link(corpus):
    client, sids, ordered, _ = corpus
    body = query(client, limit=2)
    assert [s["id"] for s in body["statements"]] == [sids[k] for k in reversed(ordered)][:2]
    assert body["more"]


def test_limit_zero_means_server_maximum(corpus):
    assert len(ids(corpus[0], limit=0)) == 6


def test_since_and_until_use_stored_time(client):
    first, second, third = st(), st(), st()
    post(client, first)
    time.sleep(0.01)
    post(client, second)
    time.sleep(0.01)
    post(client, third)
    stored = {s["id"]: client.get("/statements", params={"statementId": s["id"]}).json()["stored"]
              for s in (first, second, third)}
    assert ids(client, since=stored[first["id"]]) == [third["id"], second["id"]]  # exclusive
    assert ids(client, until=stored[second["id"]]) == [second["id"], first["id"]]  # inclusive
    assert ids(client, since=stored[first["id"]], until=stored[second["id"]]) == [second["id"]]


def test_since_with_offset_is_compared_as_an_instant(client):
    a = st()
    post(client, a)
    stored = client.get("/statements", params={"statementId": a["id"]}).json()["stored"]
    ts = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    from datetime import timedelta, timezone

    earlier = (ts - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=2))).isoformat()
    later = (ts + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5))).isoformat()
    assert ids(client, since=earlier) == [a["id"]]
    assert ids(client, since=later) == []


# -- StatementRef filter rule: Communication 2.1.3.s3 ----------------------------------------------

def ref(target_id, actor=CAROL, verb="http://example.com/verbs/confirmed"):
    return make_statement(actor=actor, verb={"id": verb}, object={"objectType": "StatementRef", "id": target_id},
                          context=None, result=None)


def test_statement_targeting_a_matching_statement_matches_2_1_3_s3(client):
    target = st(ADA, COMPLETED, COURSE_A)
    confirm = ref(target["id"])
    other = st(BOB, ATTEMPTED, COURSE_B)
    post(client, target, confirm, other)
    assert set(ids(client, activity=COURSE_A)) == {target["id"], confirm["id"]}
    assert set(ids(client, agent=ADA)) == {target["id"], confirm["id"]}
    assert set(ids(client, verb=COMPLETED)) == {target["id"], confirm["id"]}
    assert set(ids(client, registration=target["context"]["registration"])) == {target["id"], confirm["id"]}


def test_statement_ref_rule_is_recursive_2_1_3_s3(client):
    c = st(ADA, COMPLETED, COURSE_A)
    b = ref(c["id"])
    a = ref(b["id"], actor=DAVE)
    post(client, c)
    post(client, b)
    post(client, a)
    assert set(ids(client, activity=COURSE_A)) == {a["id"], b["id"], c["id"]}


def test_statement_ref_rule_applies_when_target_arrives_later(client):
    c = st(ADA, COMPLETED, COURSE_A)
    b = ref(c["id"])
    a = ref(b["id"], actor=DAVE)
    post(client, a)
    post(client, b)
    post(client, c)
    assert set(ids(client, activity=COURSE_A)) == {a["id"], b["id"], c["id"]}


def test_statement_ref_rule_still_applies_time_filters_to_the_referencing_statement(client):
    target = st(ADA, COMPLETED, COURSE_A)
    post(client, target)
    stored = client.get("/statements", params={"statementId": target["id"]}).json()["stored"]
    time.sleep(0.01)
    confirm = ref(target["id"])
    post(client, confirm)
    assert ids(client, activity=COURSE_A, since=stored) == [confirm["id"]]
    assert ids(client, activity=COURSE_A, until=stored) == [target["id"]]


def test_context_statement_ref_does_not_affect_filtering_2_1_3_s3(client):
    target = st(ADA, COMPLETED, COURSE_A)
    follow = st(BOB, ATTEMPTED, COURSE_B, context={"statement": {"objectType": "StatementRef", "id": target["id"]}})
    post(client, target, follow)
    assert ids(client, activity=COURSE_A) == [target["id"]]


# -- formats ------------------------------------------------------------------------------------------

def test_format_ids_reduces_agents_verbs_and_activities_to_identifiers(client):
    s = st(ADA, COMPLETED, COURSE_A)
    s["object"]["definition"] = {"name": {"en-US": "A"}}
    s["context"] = {"instructor": CAROL, "contextActivities": {"parent": [
        {"id": COURSE_B, "definition": {"name": {"en-US": "B"}}}]}}
    post(client, s)
    got = client.get("/statements", params={"statementId": s["id"], "format": "ids"}).json()
    assert got["actor"] == {"objectType": "Agent", "mbox": ADA["mbox"]}
    assert got["verb"] == {"id": COMPLETED}
    assert got["object"]["id"] == COURSE_A and "definition" not in got["object"]
    assert got["context"]["instructor"] == {"objectType": "Agent", "account": CAROL["account"]}
    assert got["context"]["contextActivities"]["parent"] == [{"id": COURSE_B}]
    listed = query(client, format="ids")["statements"][0]
    assert listed["actor"] == got["actor"] and "display" not in listed["verb"]


def test_format_ids_keeps_anonymous_group_members_identifiers(client):
    s = st({"objectType": "Group", "name": "G", "member": [dict(ADA), dict(CAROL)]})
    post(client, s)
    got = client.get("/statements", params={"statementId": s["id"], "format": "ids"}).json()
    assert got["actor"]["member"] == [{"objectType": "Agent", "mbox": ADA["mbox"]},
                                      {"objectType": "Agent", "account": CAROL["account"]}]
    assert "name" not in got["actor"]


def test_format_exact_is_the_default_and_keeps_definitions(client):
    s = st()
    s["object"]["definition"] = {"name": {"en-US": "A", "de": "A-de"}}
    post(client, s)
    got = client.get("/statements", params={"statementId": s["id"]}).json()
    assert got["object"]["definition"] == s["object"]["definition"]
    assert got["verb"] == s["verb"]


@pytest.mark.parametrize("accept, lang", [("de", "de"), ("fr;q=0.5, de;q=0.9", "de"), ("en-US", "en-US"),
                                          ("de-AT", "de"), ("fr", "fr")])
def test_canonical_format_returns_one_language_by_accept_language_2_1_3_s4(client, accept, lang):
    s = st()
    s["verb"]["display"] = {"en-US": "completed", "de": "abgeschlossen", "fr": "terminé"}
    s["object"]["definition"] = {"name": {"en-US": "Safety", "de": "Sicherheit", "fr": "Sécurité"},
                                 "description": {"en-US": "Basics"}}
    post(client, s)
    for params in ({"statementId": s["id"]}, {}):
        resp = client.get("/statements", params={"format": "canonical", **params},
                          headers={"Accept-Language": accept})
        got = resp.json() if params else resp.json()["statements"][0]
        name = got["object"]["definition"]["name"]
        assert list(name) == [lang], name
        assert got["object"]["definition"]["description"] == {"en-US": "Basics"}
        assert len(got["verb"]["display"]) == 1


def test_canonical_format_uses_the_lrs_canonical_definition(client):
    old = st()
    old["object"]["definition"] = {"name": {"en-US": "Old name"}}
    post(client, old)
    new = st()
    new["object"]["definition"] = {"name": {"en-US": "New name"},
                                   "description": {"en-US": "Added later"}}
    post(client, new)
    got = client.get("/statements", params={"statementId": old["id"], "format": "canonical"},
                     headers={"Accept-Language": "en-US"}).json()
    assert got["object"]["definition"]["name"] == {"en-US": "New name"}
    assert got["object"]["definition"]["description"] == {"en-US": "Added later"}
    exact = client.get("/statements", params={"statementId": old["id"]}).json()
    assert exact["object"]["definition"] == {"name": {"en-US": "Old name"}}


def test_canonical_format_keeps_agents_as_exact(client):
    s = st(dict(ADA))
    post(client, s)
    got = client.get("/statements", params={"statementId": s["id"], "format": "canonical"}).json()
    assert got["actor"] == ADA


# -- more: Data 2.5 ------------------------------------------------------------------------------

def follow(client, more):
    parts = urlsplit(more)
    assert not parts.scheme or parts.netloc == "testserver"
    resp = client.get("http://testserver" + parts.path + ("?" + parts.query if parts.query else ""))
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("ascending", [False, True])
def test_more_paging_returns_each_statement_exactly_once(client, ascending):
    batch = [st() for _ in range(7)]
    for s in batch:
        post(client, s)
    seen = []
    body = query(client, limit=3, ascending=ascending)
    pages = 0
    while True:
        seen.extend(s["id"] for s in body["statements"])
        pages += 1
        if not body.get("more"):
            break
        body = follow(client, body["more"])
        assert pages < 10
    assert pages == 3
    expected = [s["id"] for s in batch]
    assert seen == (expected if ascending else expected[::-1])


def test_more_paging_stays_correct_while_statements_are_posted_between_pages(client):
    batch = [st() for _ in range(6)]
    for s in batch:
        post(client, s)
    seen = []
    body = query(client, limit=2)
    while True:
        seen.extend(s["id"] for s in body["statements"])
        post(client, st())  # newer Statements arrive while the client pages
        post(client, st(), st())
        if not body.get("more"):
            break
        body = follow(client, body["more"])
    assert len(seen) == len(set(seen)), "a statement was returned twice"
    assert seen == [s["id"] for s in reversed(batch)]


def test_more_link_keeps_the_filters(client):
    matching = [st(verb=COMPLETED) for _ in range(3)]
    for s in matching:
        post(client, s, st(verb=ATTEMPTED))
    body = query(client, verb=COMPLETED, limit=2)
    seen = [s["id"] for s in body["statements"]]
    body = follow(client, body["more"])
    seen += [s["id"] for s in body["statements"]]
    assert seen == [s["id"] for s in reversed(matching)]


def test_more_link_is_empty_on_the_last_page_2_5(client):
    post(client, st(), st())
    body = query(client, limit=2)
    assert len(body["statements"]) == 2
    assert body.get("more", "") == ""


def test_page_size_is_capped_by_max_query_limit(make_client):
    client = make_client(max_query_limit=3)
    post(client, *[st() for _ in range(5)])
    body = query(client, limit=50)
    assert len(body["statements"]) == 3
    assert body["more"]


def test_canonical_format_reduces_interaction_components_and_context_activities_to_one_language(client):
    s = st()
    s["object"]["definition"] = {"interactionType": "choice", "name": {"en-US": "Q", "de": "F"},
                                 "choices": [{"id": "a", "description": {"en-US": "A", "de": "A-de"}}]}
    s["context"]["contextActivities"] = {"parent": [{"id": COURSE_B, "definition": {
        "name": {"en-US": "P", "de": "P-de"}}}]}
    post(client, s)
    got = client.get("/statements", params={"statementId": s["id"], "format": "canonical"},
                     headers={"Accept-Language": "de"}).json()
    assert got["object"]["definition"]["choices"][0]["description"] == {"de": "A-de"}
    assert got["context"]["contextActivities"]["parent"][0]["definition"]["name"] == {"de": "P-de"}


def test_canonical_format_without_accept_language_still_returns_one_language(client):
    s = st()
    s["object"]["definition"] = {"name": {"en-US": "Q", "de": "F", "fr": "Qf"}}
    post(client, s)
    got = client.get("/statements", params={"statementId": s["id"], "format": "canonical"}).json()
    assert len(got["object"]["definition"]["name"]) == 1


def test_more_is_a_relative_irl_with_full_path_data_2_5(client):
    post(client, st(), st())
    more = query(client, limit=1)["more"]
    parts = urlsplit(more)
    assert not parts.scheme and not parts.netloc
    assert parts.path == "/xapi/statements"


def test_statement_result_has_last_modified_of_newest_statement(client):
    post(client, st())
    newest = st()
    post(client, newest)
    resp = client.get("/statements")
    from email.utils import parsedate_to_datetime

    stored = datetime.fromisoformat(client.get("/statements", params={"statementId": newest["id"]}).json()[
        "stored"].replace("Z", "+00:00"))
    assert parsedate_to_datetime(resp.headers["Last-Modified"]) == stored.replace(microsecond=0)
