"""Document resources: State (2.3), Activity Profile (2.7), Agent Profile (2.6), their shared rules
(2.2, JSON merge 2.2.s7/s8) and concurrency (3.1) — Communication part of xAPI 1.0.3."""
from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import pytest

from lrs_testkit import error_of

AGENT = {"objectType": "Agent", "mbox": "mailto:ada@example.com"}
ACTIVITY = "http://example.com/courses/safety-101"


@dataclass(frozen=True)
class Kind:
    name: str
    path: str
    id_param: str
    scope: dict          # the parameters naming the document's owner
    locked: bool         # PUT without If-Match/If-None-Match on an existing document is 409

    def params(self, doc_id=None, **extra):
        p = {k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in self.scope.items()}
        if doc_id is not None:
            p[self.id_param] = doc_id
        p.update({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in extra.items()})
        return p


STATE = Kind("state", "/activities/state", "stateId", {"activityId": ACTIVITY, "agent": AGENT}, False)
ACTIVITY_PROFILE = Kind("activity_profile", "/activities/profile", "profileId", {"activityId": ACTIVITY}, True)
AGENT_PROFILE = Kind("agent_profile", "/agents/profile", "profileId", {"agent": AGENT}, True)
KINDS = [STATE, ACTIVITY_PROFILE, AGENT_PROFILE]


@pytest.fixture(params=KINDS, ids=lambda k: k.name)
def kind(request):
    return request.param


@pytest.fixture(params=[ACTIVITY_PROFILE, AGENT_PROFILE], ids=lambda k: k.name)
def profile(request):
    return request.param


def put(client, kind, doc_id, content, content_type="application/json", headers=None, **extra):
    if isinstance(content, (dict, list)):
        content = json.dumps(content).encode()
    return client.put(kind.path, params=kind.params(doc_id, **extra), content=content,
                      headers={"Content-Type": content_type, **(headers or {})})


def post(client, kind, doc_id, content, content_type="application/json", headers=None, **extra):
    if isinstance(content, (dict, list)):
        content = json.dumps(content).encode()
    return client.post(kind.path, params=kind.params(doc_id, **extra), content=content,
                       headers={"Content-Type": content_type, **(headers or {})})


def get(client, kind, doc_id=None, **extra):
    return client.get(kind.path, params=kind.params(doc_id, **extra))


def create(client, kind, doc_id, content, content_type="application/json", **extra):
    resp = put(client, kind, doc_id, content, content_type, headers={"If-None-Match": "*"}, **extra)
    assert resp.status_code == 204, resp.text
    return get(client, kind, doc_id, **extra)


# -- single documents ------------------------------------------------------------------------------

def test_put_then_get_returns_the_same_bytes_and_content_type(client, kind):
    content = b"\x00\x01binary \xff document"
    resp = put(client, kind, "doc-1", content, "application/octet-stream", headers={"If-None-Match": "*"})
    assert resp.status_code == 204
    got = get(client, kind, "doc-1")
    assert got.status_code == 200
    assert got.content == content
    assert got.headers["content-type"] == "application/octet-stream"


def test_content_type_with_parameters_is_preserved(client, kind):
    got = create(client, kind, "notes", "Grüße".encode(), "text/plain; charset=utf-8")
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    assert got.content.decode() == "Grüße"


def test_etag_is_the_quoted_sha1_of_the_content_3_1_s4_b2_b4(client, kind):
    content = json.dumps({"progress": 0.5}).encode()
    got = create(client, kind, "progress", content)
    assert got.headers["ETag"] == '"' + hashlib.sha1(content).hexdigest() + '"'


def test_last_modified_is_present_on_single_document_get_2_2_s6_b1(client, kind):
    before = datetime.now(timezone.utc).replace(microsecond=0)
    got = create(client, kind, "lm", {"a": 1})
    modified = parsedate_to_datetime(got.headers["Last-Modified"])
    assert before <= modified <= datetime.now(timezone.utc)


def test_get_unknown_document_is_404(client, kind):
    resp = get(client, kind, "never-stored")
    assert resp.status_code == 404
    error_of(resp)


def test_delete_document_is_204_and_removes_it(client, kind):
    create(client, kind, "gone", {"a": 1})
    assert client.delete(kind.path, params=kind.params("gone")).status_code == 204
    assert get(client, kind, "gone").status_code == 404


def test_documents_for_unknown_activity_or_agent_are_accepted_2_2_s4_b2(client, kind):
    other = Kind(kind.name, kind.path, kind.id_param,
                 {k: ("http://example.com/never-seen/" + uuid.uuid4().hex if k == "activityId" else
                      {"mbox": f"mailto:{uuid.uuid4().hex}@example.com"}) for k in kind.scope}, kind.locked)
    create(client, other, "x", {"a": 1})


@pytest.mark.parametrize("kind", [STATE, AGENT_PROFILE], ids=lambda k: k.name)
def test_agent_is_matched_by_ifi_not_by_name(client, kind):
    create(client, kind, "by-ifi", {"a": 1})
    named = Kind(kind.name, kind.path, kind.id_param, dict(kind.scope, agent=dict(AGENT, name="Ada L.")), kind.locked)
    assert get(client, named, "by-ifi").json() == {"a": 1}


def test_unknown_parameter_is_400_3_2_s3_b7(client, kind):
    resp = client.get(kind.path, params=kind.params("x", color="red"))
    assert resp.status_code == 400


def test_missing_scope_parameter_is_400(client, kind):
    for missing in kind.scope:
        params = {k: v for k, v in kind.params("x").items() if k != missing}
        resp = client.get(kind.path, params=params)
        assert resp.status_code == 400, missing
        assert error_of(resp)["path"] == missing


@pytest.mark.parametrize("bad", ["{not json", json.dumps({"name": "no ifi"})], ids=["not_json", "no_ifi"])
@pytest.mark.parametrize("kind", [STATE, AGENT_PROFILE], ids=lambda k: k.name)
def test_malformed_agent_parameter_is_400(client, kind, bad):
    resp = client.get(kind.path, params=dict(kind.params("x"), agent=bad))
    assert resp.status_code == 400
    assert error_of(resp)["path"] == "agent"


@pytest.mark.parametrize("kind", [STATE, ACTIVITY_PROFILE], ids=lambda k: k.name)
def test_activity_id_that_is_not_an_iri_is_400(client, kind):
    resp = client.get(kind.path, params=dict(kind.params("x"), activityId="not an iri"))
    assert resp.status_code == 400


# -- concurrency: Communication 3.1 ---------------------------------------------------------------

def test_if_match_with_current_etag_replaces_the_document(client, kind):
    etag = create(client, kind, "doc", {"v": 1}).headers["ETag"]
    assert put(client, kind, "doc", {"v": 2}, headers={"If-Match": etag}).status_code == 204
    assert get(client, kind, "doc").json() == {"v": 2}


def test_if_match_mismatch_is_412_and_changes_nothing_3_1_s4_b9(client, kind):
    create(client, kind, "doc", {"v": 1})
    stale = '"' + hashlib.sha1(b"something else").hexdigest() + '"'
    resp = put(client, kind, "doc", {"v": 2}, headers={"If-Match": stale})
    assert resp.status_code == 412
    error_of(resp)
    assert get(client, kind, "doc").json() == {"v": 1}


def test_if_match_on_missing_document_is_412(client, kind):
    resp = put(client, kind, "absent", {"v": 1}, headers={"If-Match": '"' + "0" * 40 + '"'})
    assert resp.status_code == 412
    assert get(client, kind, "absent").status_code == 404


def test_if_none_match_star_on_existing_document_is_412_3_1_s4_b6(client, kind):
    create(client, kind, "doc", {"v": 1})
    resp = put(client, kind, "doc", {"v": 2}, headers={"If-None-Match": "*"})
    assert resp.status_code == 412
    assert get(client, kind, "doc").json() == {"v": 1}


def test_if_none_match_star_on_new_document_creates_it(client, kind):
    assert put(client, kind, "new", {"v": 1}, headers={"If-None-Match": "*"}).status_code == 204
    assert get(client, kind, "new").json() == {"v": 1}


def test_put_without_precondition_on_existing_profile_is_409_3_1_s4_b13(client, profile):
    create(client, profile, "doc", {"v": 1})
    resp = put(client, profile, "doc", {"v": 2})
    assert resp.status_code == 409
    assert "If-Match" in error_of(resp)["message"]
    assert get(client, profile, "doc").json() == {"v": 1}


def test_put_without_precondition_on_new_profile_is_400_3_1_s3_b1(client, profile):
    # the client MUST send If-Match or If-None-Match on a profile PUT; this LRS says so rather than guess
    resp = put(client, profile, "fresh", {"v": 1})
    assert resp.status_code == 400
    assert "If-None-Match" in error_of(resp)["message"]
    assert get(client, profile, "fresh").status_code == 404


def test_put_without_precondition_on_existing_state_replaces_it_3_1_s3(client):
    create(client, STATE, "doc", {"v": 1})
    assert put(client, STATE, "doc", {"v": 2}).status_code == 204
    assert get(client, STATE, "doc").json() == {"v": 2}


def test_post_with_stale_if_match_is_412_3_1_s4_b11(client, kind):
    create(client, kind, "doc", {"v": 1})
    resp = post(client, kind, "doc", {"w": 2}, headers={"If-Match": '"' + "0" * 40 + '"'})
    assert resp.status_code == 412
    assert get(client, kind, "doc").json() == {"v": 1}


def test_delete_with_stale_if_match_is_412_3_1_s4_b11(client, kind):
    create(client, kind, "doc", {"v": 1})
    resp = client.delete(kind.path, params=kind.params("doc"), headers={"If-Match": '"' + "0" * 40 + '"'})
    assert resp.status_code == 412
    assert get(client, kind, "doc").status_code == 200


def test_delete_with_current_if_match_deletes(client, kind):
    etag = create(client, kind, "doc", {"v": 1}).headers["ETag"]
    assert client.delete(kind.path, params=kind.params("doc"), headers={"If-Match": etag}).status_code == 204
    assert get(client, kind, "doc").status_code == 404


# -- POST merge: Communication 2.2.s7, 2.2.s8 --------------------------------------------------------

def test_post_merges_json_top_level_properties_2_2_s7(client, kind):
    create(client, kind, "vars", {"x": "foo", "y": "bar", "nested": {"a": 1, "b": 1}})
    resp = post(client, kind, "vars", {"x": "bash", "z": "faz", "nested": {"c": 3}})
    assert resp.status_code == 204
    got = get(client, kind, "vars")
    assert got.json() == {"x": "bash", "y": "bar", "z": "faz", "nested": {"c": 3}}
    assert got.headers["content-type"].startswith("application/json")
    assert got.headers["ETag"] == '"' + hashlib.sha1(got.content).hexdigest() + '"'


def test_post_to_missing_document_creates_it(client, kind):
    assert post(client, kind, "new", {"a": 1}).status_code == 204
    assert get(client, kind, "new").json() == {"a": 1}


def test_post_non_json_onto_json_document_is_400_2_2_s8_b1(client, kind):
    create(client, kind, "vars", {"x": 1})
    resp = post(client, kind, "vars", b"x=2", "text/plain")
    assert resp.status_code == 400
    error_of(resp)
    assert get(client, kind, "vars").json() == {"x": 1}


def test_post_json_onto_non_json_document_is_400_2_2_s8_b1(client, kind):
    create(client, kind, "blob", b"plain text", "text/plain")
    resp = post(client, kind, "blob", {"x": 1})
    assert resp.status_code == 400
    got = get(client, kind, "blob")
    assert got.content == b"plain text"
    assert got.headers["content-type"] == "text/plain"


@pytest.mark.parametrize("content", [b"[1, 2]", b"{broken", b'"string"'], ids=["array", "malformed", "string"])
def test_post_json_that_is_not_an_object_is_400_2_2_s8_b1(client, kind, content):
    create(client, kind, "vars", {"x": 1})
    resp = post(client, kind, "vars", content)
    assert resp.status_code == 400
    assert get(client, kind, "vars").json() == {"x": 1}


# -- multiple documents -------------------------------------------------------------------------

def test_get_without_id_lists_the_ids(client, kind):
    for doc_id in ("b", "a", "c"):
        create(client, kind, doc_id, {"id": doc_id})
    resp = get(client, kind)
    assert resp.status_code == 200
    assert sorted(resp.json()) == ["a", "b", "c"]


def test_get_ids_since_returns_only_documents_updated_after_it(client, kind):
    create(client, kind, "old", {"v": 1})
    time.sleep(0.02)
    since = datetime.now(timezone.utc).isoformat()
    time.sleep(0.02)
    create(client, kind, "new", {"v": 1})
    assert get(client, kind, since=since).json() == ["new"]
    put(client, kind, "old", {"v": 2}, headers={"If-Match": get(client, kind, "old").headers["ETag"]})
    assert sorted(get(client, kind, since=since).json()) == ["new", "old"]


def test_get_ids_with_malformed_since_is_400(client, kind):
    assert get(client, kind, since="last week").status_code == 400


def test_empty_id_list_is_an_empty_array(client, kind):
    resp = get(client, kind)
    assert resp.status_code == 200
    assert resp.json() == []


def test_get_id_list_has_last_modified_of_newest_document_2_2_s6_b2(client, kind):
    create(client, kind, "a", {"v": 1})
    newest = create(client, kind, "b", {"v": 1}).headers["Last-Modified"]
    resp = get(client, kind)
    assert parsedate_to_datetime(resp.headers["Last-Modified"]) == parsedate_to_datetime(newest)


def test_profile_delete_without_id_is_400(client, profile):
    create(client, profile, "keep", {"v": 1})
    resp = client.delete(profile.path, params=profile.params())
    assert resp.status_code == 400
    assert get(client, profile, "keep").status_code == 200


# -- State specifics: Communication 2.3 -----------------------------------------------------------------

def test_registration_separates_state_2_3(client):
    r1, r2 = str(uuid.uuid4()), str(uuid.uuid4())
    create(client, STATE, "bookmark", {"page": 0})
    create(client, STATE, "bookmark", {"page": 1}, registration=r1)
    create(client, STATE, "bookmark", {"page": 2}, registration=r2)
    assert get(client, STATE, "bookmark").json() == {"page": 0}
    assert get(client, STATE, "bookmark", registration=r1).json() == {"page": 1}
    assert get(client, STATE, "bookmark", registration=r2).json() == {"page": 2}
    assert get(client, STATE, registration=r1).json() == ["bookmark"]


def test_state_registration_must_be_a_uuid(client):
    assert get(client, STATE, "bookmark", registration="not-a-uuid").status_code == 400


def test_delete_without_state_id_deletes_all_state_of_activity_and_agent_2_3_s5(client):
    other_agent = Kind("state", STATE.path, "stateId", {"activityId": ACTIVITY,
                                                         "agent": {"mbox": "mailto:bob@example.com"}}, False)
    for doc_id in ("a", "b"):
        create(client, STATE, doc_id, {"v": 1})
    create(client, other_agent, "a", {"v": 1})
    resp = client.delete(STATE.path, params=STATE.params())
    assert resp.status_code == 204
    assert get(client, STATE).json() == []
    assert get(client, other_agent, "a").status_code == 200


def test_delete_all_state_with_registration_keeps_other_registrations(client):
    r1, r2 = str(uuid.uuid4()), str(uuid.uuid4())
    create(client, STATE, "a", {"v": 1}, registration=r1)
    create(client, STATE, "a", {"v": 2}, registration=r2)
    assert client.delete(STATE.path, params=STATE.params(registration=r1)).status_code == 204
    assert get(client, STATE, "a", registration=r1).status_code == 404
    assert get(client, STATE, "a", registration=r2).json() == {"v": 2}


# -- HEAD: Communication 1.1 -----------------------------------------------------------------------

def test_head_of_a_document_is_like_get_without_body_1_1(client, kind):
    got = create(client, kind, "doc", {"v": 1})
    head = client.head(kind.path, params=kind.params("doc"))
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["ETag"] == got.headers["ETag"]
    assert client.head(kind.path, params=kind.params("missing")).status_code == 404


def test_two_writers_with_the_same_etag_cannot_both_win_3_1(client, kind):
    etag = create(client, kind, "shared", {"owner": "nobody"}).headers["ETag"]
    first = put(client, kind, "shared", {"owner": "first"}, headers={"If-Match": etag})
    second = put(client, kind, "shared", {"owner": "second"}, headers={"If-Match": etag})
    assert (first.status_code, second.status_code) == (204, 412)
    assert get(client, kind, "shared").json() == {"owner": "first"}


def test_post_with_if_none_match_star_on_existing_document_is_412_3_1_s4_b8(client, kind):
    create(client, kind, "doc", {"v": 1})
    resp = post(client, kind, "doc", {"w": 2}, headers={"If-None-Match": "*"})
    assert resp.status_code == 412
    assert get(client, kind, "doc").json() == {"v": 1}
