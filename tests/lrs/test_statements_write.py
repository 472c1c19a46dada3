"""Writing Statements: PUT and POST (Communication 2.1.1, 2.1.2), immutability (Data 2.3.1),
the properties the LRS sets (Data 2.4.1, 2.4.8, 2.4.9, 2.4.10), batches and size limits (3.2)."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from lrs_testkit import error_of, make_statement


def get_statement(client, sid, **params):
    resp = client.get("/statements", params={"statementId": sid, **params})
    assert resp.status_code == 200, resp.text
    return resp.json()


def all_statements(client):
    resp = client.get("/statements", params={"limit": 0})
    assert resp.status_code == 200
    return resp.json()["statements"]


# -- PUT ----------------------------------------------------------------------------------------

def test_put_statement_is_204_and_stores_it_2_1_1(client):
    st = make_statement()
    resp = client.put("/statements", params={"statementId": st["id"]}, json=st)
    assert resp.status_code == 204
    assert resp.content == b""
    assert get_statement(client, st["id"])["actor"] == st["actor"]


def test_put_statement_without_id_in_body_takes_statement_id_parameter(client):
    st = make_statement(id=None)
    sid = str(uuid.uuid4())
    assert client.put("/statements", params={"statementId": sid}, json=st).status_code == 204
    assert get_statement(client, sid)["id"] == sid


def test_put_statement_without_statement_id_parameter_is_400(client):
    resp = client.put("/statements", json=make_statement())
    assert resp.status_code == 400
    assert error_of(resp)["path"] == "statementId"


def test_put_statement_with_id_differing_from_statement_id_is_400_2_1_1_s3_b3(client):
    st = make_statement()
    other = str(uuid.uuid4())
    resp = client.put("/statements", params={"statementId": other}, json=st)
    assert resp.status_code == 400
    error_of(resp)
    for sid in (st["id"], other):
        assert client.get("/statements", params={"statementId": sid}).status_code == 404


def test_put_statement_with_malformed_statement_id_is_400(client):
    resp = client.put("/statements", params={"statementId": "not-a-uuid"}, json=make_statement(id=None))
    assert resp.status_code == 400
    assert error_of(resp)["path"] == "statementId"


def test_put_statement_with_a_batch_is_400(client):
    st = make_statement()
    resp = client.put("/statements", params={"statementId": st["id"]}, json=[st])
    assert resp.status_code == 400


# -- POST ---------------------------------------------------------------------------------------

def test_post_single_statement_returns_its_id_in_an_array_2_1_2(client):
    st = make_statement()
    resp = client.post("/statements", json=st)
    assert resp.status_code == 200
    assert resp.json() == [st["id"]]


def test_post_batch_returns_ids_in_the_order_sent_2_1_2(client):
    batch = [make_statement() for _ in range(5)]
    batch[2].pop("id")
    resp = client.post("/statements", json=batch)
    assert resp.status_code == 200
    ids = resp.json()
    assert len(ids) == 5
    assert [ids[i] for i in (0, 1, 3, 4)] == [batch[i]["id"] for i in (0, 1, 3, 4)]
    uuid.UUID(ids[2])
    for sid in ids:
        get_statement(client, sid)


def test_post_empty_batch_is_400(client):
    assert client.post("/statements", json=[]).status_code == 400


def test_post_with_query_parameter_is_400_3_2_s3_b7(client):
    resp = client.post("/statements", params={"statementId": str(uuid.uuid4())}, json=make_statement())
    assert resp.status_code == 400


def test_statement_id_is_returned_in_lowercase_form_it_was_stored(client):
    st = make_statement()
    st["id"] = st["id"].upper()
    resp = client.post("/statements", json=st)
    assert resp.status_code == 200
    assert uuid.UUID(resp.json()[0]) == uuid.UUID(st["id"])
    get_statement(client, st["id"].lower())


# -- immutability: Data 2.3.1, Communication 2.1.1.s2, 2.1.2.s2 -----------------------------------

def test_post_same_id_same_content_is_accepted_and_changes_nothing(client):
    st = make_statement()
    assert client.post("/statements", json=st).status_code == 200
    first = get_statement(client, st["id"])
    resp = client.post("/statements", json=st)
    assert resp.status_code == 200
    assert resp.json() == [st["id"]]
    assert get_statement(client, st["id"]) == first
    assert len(all_statements(client)) == 1


def test_put_same_id_same_content_is_204_and_changes_nothing(client):
    st = make_statement()
    assert client.put("/statements", params={"statementId": st["id"]}, json=st).status_code == 204
    first = get_statement(client, st["id"])
    assert client.put("/statements", params={"statementId": st["id"]}, json=st).status_code == 204
    assert get_statement(client, st["id"]) == first


def test_same_id_with_only_exception_properties_changed_is_not_a_conflict_2_3_1_s9(client):
    st = make_statement()
    assert client.post("/statements", json=st).status_code == 200
    again = dict(st, timestamp="2024-03-01T11:15:30.123+01:00", version="1.0.0",
                 stored="2020-01-01T00:00:00Z")
    again["context"] = dict(st["context"], contextActivities={
        "parent": st["context"]["contextActivities"]["parent"][0],  # single object vs array of one
        "grouping": st["context"]["contextActivities"]["grouping"]})
    assert client.post("/statements", json=again).status_code == 200


def test_put_statement_with_existing_id_and_different_content_is_409(client):
    st = make_statement()
    assert client.put("/statements", params={"statementId": st["id"]}, json=st).status_code == 204
    changed = dict(st, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    resp = client.put("/statements", params={"statementId": st["id"]}, json=changed)
    assert resp.status_code == 409
    error_of(resp)
    assert get_statement(client, st["id"])["verb"] == st["verb"]


def test_post_statement_with_existing_id_and_different_content_is_409(client):
    st = make_statement()
    assert client.post("/statements", json=st).status_code == 200
    changed = json.loads(json.dumps(st))
    changed["result"]["score"]["raw"] = 10
    changed["result"]["score"]["scaled"] = 0.1
    resp = client.post("/statements", json=changed)
    assert resp.status_code == 409
    error_of(resp)
    assert get_statement(client, st["id"])["result"] == st["result"]


def test_conflict_in_a_batch_stores_none_of_the_batch(client):
    st = make_statement()
    assert client.post("/statements", json=st).status_code == 200
    fresh = make_statement()
    changed = dict(st, verb={"id": "http://adlnet.gov/expapi/verbs/failed"})
    resp = client.post("/statements", json=[fresh, changed])
    assert resp.status_code == 409
    assert client.get("/statements", params={"statementId": fresh["id"]}).status_code == 404


def test_duplicate_ids_in_one_batch_is_400_and_nothing_stored_2_1_2_s2_b6(client):
    a, b = make_statement(), make_statement()
    dup = make_statement(id=a["id"])
    resp = client.post("/statements", json=[a, b, dup])
    assert resp.status_code == 400
    error_of(resp)
    assert all_statements(client) == []


def test_duplicate_identical_statements_in_one_batch_is_400(client):
    a = make_statement()
    resp = client.post("/statements", json=[a, a])
    assert resp.status_code == 400
    assert all_statements(client) == []


def test_one_invalid_statement_rejects_the_whole_batch_3_2_s3_b9(client):
    batch = [make_statement() for _ in range(4)]
    batch[3]["verb"]["id"] = "not an iri"
    resp = client.post("/statements", json=batch)
    assert resp.status_code == 400
    assert error_of(resp)["path"].startswith("[3]")
    assert all_statements(client) == []
    for st in batch:
        assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


# -- properties the LRS sets --------------------------------------------------------------------

def test_lrs_sets_stored_to_now_overriding_a_sent_one_2_4_8(client):
    st = make_statement(stored="2001-01-01T00:00:00Z")
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    client.post("/statements", json=st)
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    stored = datetime.fromisoformat(get_statement(client, st["id"])["stored"].replace("Z", "+00:00"))
    assert before <= stored <= after


def test_lrs_sets_authority_to_the_credentials_agent_overriding_a_sent_one_2_4_9(client):
    st = make_statement(authority={"objectType": "Agent", "mbox": "mailto:impostor@example.com"})
    assert client.post("/statements", json=st).status_code == 200
    authority = get_statement(client, st["id"])["authority"]
    assert authority.get("mbox") == "mailto:admin@example.com"
    assert authority.get("objectType", "Agent") == "Agent"


def test_authority_follows_the_credential_used(make_client):
    client = make_client(credentials=[("writer", "writer-secret", ["all"], {"name": "Writer app"})])
    other = make_client(auth=("writer", "writer-secret"))
    st = make_statement()
    assert other.post("/statements", json=st).status_code == 200
    authority = get_statement(client, st["id"])["authority"]
    assert authority["account"]["name"] == "writer"
    assert authority["name"] == "Writer app"


def test_lrs_sets_version_1_0_0_when_missing_2_4_10_s3_b3(client):
    st = make_statement()
    client.post("/statements", json=st)
    assert get_statement(client, st["id"])["version"] == "1.0.0"


def test_lrs_assigns_a_uuid_when_id_missing_2_4_1(client):
    st = make_statement(id=None)
    resp = client.post("/statements", json=st)
    sid = resp.json()[0]
    assert str(uuid.UUID(sid)) == sid
    assert get_statement(client, sid)["id"] == sid


def test_single_context_activity_is_returned_as_an_array_2_4_6_2_s4_b3(client):
    st = make_statement()
    single = {"id": "http://example.com/programs/onboarding", "objectType": "Activity"}
    st["context"]["contextActivities"] = {"parent": single, "category": {"id": "http://example.com/cat"}}
    client.post("/statements", json=st)
    for fmt in ("exact", "ids", "canonical"):
        ca = get_statement(client, st["id"], format=fmt)["context"]["contextActivities"]
        assert isinstance(ca["parent"], list) and len(ca["parent"]) == 1, (fmt, ca)
        assert ca["parent"][0]["id"] == single["id"]
        assert isinstance(ca["category"], list) and len(ca["category"]) == 1


def test_substatement_context_activity_single_object_is_returned_as_array(client):
    st = make_statement(context=None, object={
        "objectType": "SubStatement", "actor": {"mbox": "mailto:c@example.com"}, "verb": {"id": "urn:v:x"},
        "object": {"id": "urn:o:x"}, "context": {"contextActivities": {"parent": {"id": "urn:p:x"}}}})
    assert client.post("/statements", json=st).status_code == 200
    ca = get_statement(client, st["id"])["object"]["context"]["contextActivities"]
    assert ca["parent"] == [{"id": "urn:p:x"}]


def test_exact_format_returns_the_statement_as_sent_plus_lrs_properties_2_2_s4_b5(client):
    st = make_statement()
    client.post("/statements", json=st)
    got = get_statement(client, st["id"])
    for key in ("actor", "verb", "object", "result", "context", "timestamp"):
        assert got[key] == st[key], key


def test_timestamp_precision_is_kept_4_5_s1_b3(client):
    st = make_statement(timestamp="2024-03-01T10:15:30.123456Z")
    client.post("/statements", json=st)
    assert get_statement(client, st["id"])["timestamp"] == "2024-03-01T10:15:30.123456Z"


def test_timestamp_with_offset_keeps_the_same_instant(client):
    st = make_statement(timestamp="2024-03-01T12:15:30.120+02:00")
    client.post("/statements", json=st)
    got = get_statement(client, st["id"])["timestamp"]
    parsed = datetime.fromisoformat(got.replace("Z", "+00:00"))
    assert parsed == datetime(2024, 3, 1, 10, 15, 30, 120000, tzinfo=timezone.utc)


def test_lrs_sets_timestamp_when_missing_2_4_7(client):
    st = make_statement(timestamp=None)
    client.post("/statements", json=st)
    got = get_statement(client, st["id"])
    assert got["timestamp"]


def test_numbers_keep_float32_precision_2_2_s4_b3(client):
    st = make_statement()
    st["result"]["score"] = {"scaled": 0.123456789, "raw": 1.5e-7, "min": 0, "max": 1}
    client.post("/statements", json=st)
    score = get_statement(client, st["id"])["result"]["score"]
    assert abs(score["scaled"] - 0.123456789) < 1e-7
    assert abs(score["raw"] - 1.5e-7) < 1e-13


# -- size limits: Communication 3.2.s3.b11 ---------------------------------------------------------

def test_batch_bigger_than_max_batch_statements_is_413(make_client):
    client = make_client(max_batch_statements=3)
    batch = [make_statement() for _ in range(4)]
    resp = client.post("/statements", json=batch)
    assert resp.status_code == 413
    error_of(resp)
    assert client.post("/statements", json=batch[:3]).status_code == 200


def test_body_larger_than_max_request_bytes_is_413_with_a_message(make_client):
    client = make_client(max_request_bytes=2000)
    st = make_statement()
    st["context"]["extensions"] = {"http://example.com/ext/blob": "x" * 3000}
    resp = client.post("/statements", json=st)
    assert resp.status_code == 413
    assert "limit" in error_of(resp)["message"]
    assert client.get("/statements", params={"statementId": st["id"]}).status_code == 404


def test_body_larger_than_max_request_bytes_without_content_length_is_413(make_client):
    client = make_client(max_request_bytes=2000)

    def chunks():
        for _ in range(10):
            yield b" " * 500

    resp = client.post("/statements", content=chunks(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    error_of(resp)


# -- voiding: Data 2.3.2 --------------------------------------------------------------------------

def voiding(target_id):
    return make_statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
                          object={"objectType": "StatementRef", "id": target_id}, context=None, result=None)


def test_voiding_a_voiding_statement_is_rejected_2_3_2_s2(client):
    target = make_statement()
    client.post("/statements", json=target)
    v1 = voiding(target["id"])
    assert client.post("/statements", json=v1).status_code == 200
    resp = client.post("/statements", json=voiding(v1["id"]))
    assert resp.status_code == 400
    assert client.get("/statements", params={"statementId": v1["id"]}).status_code == 200


def test_voiding_an_unknown_statement_is_accepted(client):
    assert client.post("/statements", json=voiding(str(uuid.uuid4()))).status_code == 200


def test_voiding_statement_does_not_change_the_voided_statement(client):
    target = make_statement()
    client.post("/statements", json=target)
    before = get_statement(client, target["id"])
    client.post("/statements", json=voiding(target["id"]))
    after = client.get("/statements", params={"voidedStatementId": target["id"]}).json()
    assert after == before


@pytest.mark.parametrize("method", ["DELETE", "PATCH"])
def test_other_methods_on_statements_are_405(client, method):
    resp = client.request(method, "/statements")
    assert resp.status_code == 405


# -- Statement comparison: Data 2.3.1.s9 ---------------------------------------------------------------
# Differences that could have been caused by the exceptions to immutability MUST be ignored; others not.

def resend(client, change):
    st = make_statement(actor={"objectType": "Group", "member": [
        {"mbox": "mailto:ann@example.com"}, {"account": {"homePage": "http://lms.example.com", "name": "bo"}}]})
    assert client.post("/statements", json=st).status_code == 200
    again = json.loads(json.dumps(st))
    change(again)
    return client.post("/statements", json=again)


def test_resend_with_group_members_in_another_order_is_not_a_conflict_2_3_1_b5(client):
    assert resend(client, lambda s: s["actor"]["member"].reverse()).status_code == 200


def test_resend_with_different_duration_serialisation_is_a_conflict_2_3_1_b8(client):
    assert resend(client, lambda s: s["result"].update(duration="PT72M30S")).status_code == 409


def test_resend_with_different_verb_display_is_not_a_conflict_2_3_1_b3(client):
    assert resend(client, lambda s: s["verb"].update(display={"en-US": "finished"})).status_code == 200


def test_resend_with_different_activity_definition_is_not_a_conflict_2_3_1_b2(client):
    assert resend(client, lambda s: s["object"].update(
        definition={"name": {"en-US": "Safety 101 (2nd ed.)"}})).status_code == 200


def test_resend_with_mbox_domain_in_other_case_is_not_a_conflict_2_3_1_b7(client):
    assert resend(client, lambda s: s["actor"]["member"][0].update(mbox="mailto:ann@EXAMPLE.COM")).status_code == 200


def test_resend_with_different_result_is_a_conflict(client):
    assert resend(client, lambda s: s["result"].update(success=False)).status_code == 409


def test_post_with_charset_parameter_in_content_type_is_accepted(client):
    st = make_statement()
    resp = client.post("/statements", content=json.dumps(st).encode(),
                       headers={"Content-Type": "application/json; charset=utf-8"})
    assert resp.status_code == 200
