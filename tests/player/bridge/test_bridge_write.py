"""``Bridge.write`` through the LRS's own storage port, on both adapters (SQLite, and mongo when
LRS_TEST_MONGODB_URL names a server): statements stored with the player's authority, documents
through the document port, and a retried commit (the same plan recomputed) storing nothing twice,
whether the first try finished or died between its statements and its documents."""
from __future__ import annotations

import json

import orjson
import pytest

from bridge_kit import BASE, LEARNER, REG, SCO_IRI, Sco, at, context
from lrs.statements.agents import agent_key
from lrs.statements.forms import prepare
from lrs.statements.terms import statement_terms
from lrs.storage import Conflict, Document, NewStatement
from lrs_testkit import fresh_database_name, make_statement
from player.bridge import (ACTIVITY_PROFILE, ACTIVITY_STATE, AGENT_PROFILE, ATTEMPT_STATE, SUSPEND_DATA, Bridge,
                           BridgeError, Plan, player_authority)

AUTHORITY = player_authority(BASE)
LEARNER_KEY = agent_key(LEARNER)
ATTEMPT_1 = f"{SCO_IRI}/attempts/{REG}/1"


def sqlite_store(tmp_path):
    from lrs.storage.sqlite import SqliteStore

    return SqliteStore(tmp_path / "lrs.sqlite3")


def mongo_store(tmp_path):
    from lrs_testkit import mongo_url_or_skip

    from lrs.storage.mongo import MongoStore

    return MongoStore(mongo_url_or_skip(), database=fresh_database_name())


@pytest.fixture(params=["sqlite", "mongo"])
def store(request, tmp_path):
    s = (sqlite_store if request.param == "sqlite" else mongo_store)(tmp_path)
    yield s
    s.close()


def session_plans() -> list[Plan]:
    """A 2004 SCO: initialize, answer and score, suspend; resume, finish; a second attempt."""
    s = Sco(context("2004", item={"completion_threshold": {"min_progress_measure": 0.5}},
                    learner_id="e-1042", learner_name="Ada"))
    s.initialize(at(0))
    s.commit(at(1), {"cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "choice",
                     "cmi.interactions.0.learner_response": "a", "cmi.interactions.0.result": "correct",
                     "cmi.score.scaled": "0.5", "cmi.location": "p2", "cmi.suspend_data": "s=1"})
    s.terminate(at(2), {"cmi.exit": "suspend", "cmi.session_time": "PT2M"})
    s.initialize(at(10))
    s.terminate(at(12), {"cmi.completion_status": "completed", "cmi.success_status": "passed",
                         "cmi.exit": "normal", "cmi.session_time": "PT2M"}, completion="completed", success="passed")
    s.initialize(at(20))
    return s.plans


def stored(store) -> list[dict]:
    return [orjson.loads(body) for _, body in store.stream(0, 1000)]


def document(store, kind: str, scope: tuple, doc_id: str) -> Document | None:
    return store.get_document(kind, scope, doc_id)


def state(store, activity: str, doc_id: str) -> Document | None:
    return document(store, "state", (activity, LEARNER_KEY, ""), doc_id)


def test_write_stores_the_statements_with_the_players_authority_and_returns_their_ids(store):
    bridge = Bridge(store, iri_base=BASE)
    plans = session_plans()
    ids = [bridge.write(p) for p in plans]
    assert ids == [p.statement_ids for p in plans]
    rows = stored(store)
    assert [st["id"] for st in rows] == [i for p in plans for i in p.statement_ids]   # in plan order
    for st, planned in zip(rows, (st for p in plans for st in p.statements)):
        assert st["authority"] == AUTHORITY == {"objectType": "Agent",
                                                "account": {"homePage": "http://lrs.test", "name": "player"}}
        assert st["stored"] and st["version"] == "1.0.0"
        assert {k: v for k, v in st.items() if k not in ("authority", "stored", "version")} == planned
    assert [st["verb"]["display"]["en-US"] for st in rows] == [
        "initialized", "responded", "scored", "suspended", "resumed", "completed", "passed", "terminated",
        "initialized"]


def test_write_stores_the_documents_through_the_document_port(store):
    bridge = Bridge(store, iri_base=BASE)
    for p in session_plans():
        bridge.write(p)
    activity_state = state(store, SCO_IRI, ACTIVITY_STATE)
    assert activity_state.content_type == "application/json"
    assert json.loads(activity_state.content) == {"attempts": [ATTEMPT_1, f"{SCO_IRI}/attempts/{REG}/2"]}
    assert json.loads(state(store, ATTEMPT_1, ATTEMPT_STATE).content) == {
        "credit": "credit", "mode": "normal", "location": "p2", "total_time": "PT4M"}
    suspend = state(store, ATTEMPT_1, SUSPEND_DATA)
    assert (suspend.content, suspend.content_type) == (b"s=1", "text/plain; charset=utf-8")
    assert json.loads(document(store, "activity_profile", (SCO_IRI, "", ""), ACTIVITY_PROFILE).content) == {
        "completion_threshold": 0.5}
    assert json.loads(document(store, "agent_profile", ("", LEARNER_KEY, ""), AGENT_PROFILE).content) == {
        "learner_id": "e-1042", "learner_name": "Ada"}


def test_writing_the_same_plan_twice_stores_each_statement_once_and_leaves_the_documents_alone(store):
    """Each commit's plan written again right after it (the browser's retry of a commit whose answer
    was lost): the statement count is that of the plans, and no document changes, not even its ETag."""
    bridge = Bridge(store, iri_base=BASE)
    plans = session_plans()
    for p in plans:
        bridge.write(p)
        documents = {d.doc_id + d.activity_id: store.get_document(d.resource, d.scope(), d.doc_id) for d in p.documents}
        assert bridge.write(p) == p.statement_ids
        assert {d.doc_id + d.activity_id: store.get_document(d.resource, d.scope(), d.doc_id)
                for d in p.documents} == documents
    assert len(stored(store)) == sum(len(p.statements) for p in plans) == 9
    assert json.loads(state(store, SCO_IRI, ACTIVITY_STATE).content)["attempts"] == [
        ATTEMPT_1, f"{SCO_IRI}/attempts/{REG}/2"]


class Crash(Exception):
    pass


@pytest.mark.parametrize("crash_at", [0, 1, 2])
def test_a_crash_between_statements_and_documents_then_the_retry_stores_nothing_twice(store, crash_at, monkeypatch):
    """The first try dies at document ``crash_at`` (SQLite: in the statements' own transaction, so
    nothing of it is stored; mongo: after the statements); the browser retries the commit, the plan is
    recomputed and written again: every statement once, every document whole."""
    from player.bridge import write as bridge_write

    first = session_plans()[0]
    assert len(first.documents) > 2
    bridge = Bridge(store, iri_base=BASE)
    real = bridge_write._Change.__call__
    calls = []

    def dying(self, current):
        calls.append(self.doc.doc_id)
        if len(calls) > crash_at:
            raise Crash
        return real(self, current)

    monkeypatch.setattr(bridge_write._Change, "__call__", dying)
    with pytest.raises(Crash):
        bridge.write(first)
    monkeypatch.setattr(bridge_write._Change, "__call__", real)
    assert [st["id"] for st in stored(store)] in ([], first.statement_ids)   # all or nothing
    retried = session_plans()[0]      # recomputed from the same attempts and commit
    assert retried == first
    assert bridge.write(retried) == first.statement_ids
    assert [st["id"] for st in stored(store)] == first.statement_ids
    assert json.loads(state(store, SCO_IRI, ACTIVITY_STATE).content) == {"attempts": [ATTEMPT_1]}
    assert json.loads(state(store, ATTEMPT_1, ATTEMPT_STATE).content) == {
        "credit": "credit", "mode": "normal", "total_time": "PT0S"}
    assert document(store, "agent_profile", ("", LEARNER_KEY, ""), AGENT_PROFILE) is not None


def test_the_attempt_state_merges_into_what_others_stored_and_the_activity_state_appends(store):
    bridge = Bridge(store, iri_base=BASE)
    others = {"adl_data": [{"activityId": "http://example.com/data", "agent": LEARNER, "stateId": "store1"}],
              "location": "old"}
    content = orjson.dumps(others)
    store.update_document("state", (ATTEMPT_1, LEARNER_KEY, ""), ATTEMPT_STATE,
                          lambda cur: Document(content, "application/json", "e1", "2026-01-01T00:00:00.000000Z"))
    earlier = orjson.dumps({"attempts": ["http://example.com/attempts/0"]})
    store.update_document("state", (SCO_IRI, LEARNER_KEY, ""), ACTIVITY_STATE,
                          lambda cur: Document(earlier, "application/json", "e2", "2026-01-01T00:00:00.000000Z"))
    plans = session_plans()
    bridge.write(plans[0])
    bridge.write(plans[1])
    assert json.loads(state(store, ATTEMPT_1, ATTEMPT_STATE).content) == {
        "adl_data": others["adl_data"], "location": "p2", "credit": "credit", "mode": "normal", "total_time": "PT0S"}
    assert json.loads(state(store, SCO_IRI, ACTIVITY_STATE).content) == {
        "attempts": ["http://example.com/attempts/0", ATTEMPT_1]}


def test_a_statement_id_stored_with_other_content_is_a_conflict_and_nothing_of_the_batch_is_stored(store):
    p = session_plans()[1]
    taken = prepare(make_statement(id=p.statement_ids[1]), AUTHORITY, "1.0.3")
    store.insert([NewStatement(taken, statement_terms(taken))], {})
    with pytest.raises(Conflict):
        Bridge(store, iri_base=BASE).write(p)
    assert [st["id"] for st in stored(store)] == [p.statement_ids[1]]
    assert state(store, ATTEMPT_1, ATTEMPT_STATE) is None


def test_a_statement_the_lrs_would_refuse_raises_bridge_error_and_writes_nothing(store):
    p = session_plans()[1]
    bad = json.loads(json.dumps(p.statements))
    bad[1]["result"]["score"] = {"scaled": 2}
    with pytest.raises(BridgeError) as err:
        Bridge(store, iri_base=BASE).write(Plan(bad, p.documents))
    assert err.value.path == "statements[1].result.score.scaled"
    assert stored(store) == []
    assert state(store, ATTEMPT_1, ATTEMPT_STATE) is None


def test_the_plan_is_left_as_it_was_by_writing_it(store):
    p = session_plans()[1]
    before = json.loads(json.dumps(p.statements))
    Bridge(store, iri_base=BASE).write(p)
    assert p.statements == before


def test_a_bridge_needs_an_authority_or_the_iri_base_it_is_made_from(store):
    with pytest.raises(ValueError):
        Bridge(store)
    other = {"objectType": "Agent", "mbox": "mailto:player@example.com"}
    p = session_plans()[0]
    Bridge(store, other).write(p)
    assert stored(store)[0]["authority"] == other


def test_statements_and_documents_the_bridge_writes_are_visible_through_xapi(tmp_path, backend):
    """Through /xapi like any other statement: the profile's queries (Appendix "Query Examples")
    find them by registration, by the attempt IRI, by the player's authority, and read the documents."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from launch_helpers import ADMIN, service

    from lrs.storage import open_store

    data = tmp_path / "data"
    client = service(data, backend)
    lrs = open_store(data, backend)
    try:
        plans = session_plans()
        bridge = Bridge(lrs, iri_base=BASE)
        for p in plans:
            bridge.write(p)
    finally:
        lrs.close()
    headers = {**ADMIN, "X-Experience-API-Version": "1.0.3"}

    def statements(**params):
        r = client.get("/xapi/statements", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["statements"]

    everything = [i for p in plans for i in p.statement_ids]
    assert [st["id"] for st in statements(registration=REG, ascending="true")] == everything
    assert [st["id"] for st in statements(agent=json.dumps(AUTHORITY), related_agents="true",
                                          ascending="true")] == everything
    assert len(statements(agent=json.dumps(LEARNER), activity=ATTEMPT_1, related_activities="true")) == 8
    (terminated,) = statements(verb="http://adlnet.gov/expapi/verbs/terminated", activity=SCO_IRI)
    assert terminated["result"] == {"score": {"scaled": 0.5}, "success": True, "completion": True,
                                    "duration": "PT2M"}
    r = client.get("/xapi/activities/state", headers=headers, params={
        "activityId": SCO_IRI, "agent": json.dumps(LEARNER), "stateId": ACTIVITY_STATE})
    assert r.status_code == 200 and r.json() == {"attempts": [ATTEMPT_1, f"{SCO_IRI}/attempts/{REG}/2"]}
    assert r.headers["etag"]
    r = client.get("/xapi/activities/state", headers=headers, params={
        "activityId": ATTEMPT_1, "agent": json.dumps(LEARNER), "stateId": SUSPEND_DATA})
    assert r.status_code == 200 and r.content == b"s=1"
    r = client.get("/xapi/activities/profile", headers=headers, params={
        "activityId": SCO_IRI, "profileId": ACTIVITY_PROFILE})
    assert r.status_code == 200 and r.json() == {"completion_threshold": 0.5}
    r = client.get("/xapi/agents/profile", headers=headers, params={
        "agent": json.dumps(LEARNER), "profileId": AGENT_PROFILE})
    assert r.status_code == 200 and r.json() == {"learner_id": "e-1042", "learner_name": "Ada"}
    r = client.get("/xapi/activities", headers=headers, params={"activityId": SCO_IRI})
    assert r.json()["definition"]["type"] == "http://adlnet.gov/expapi/activities/lesson"


def test_record_plans_and_writes_a_commit_from_what_the_commit_route_holds(store):
    """``Bridge.record`` takes the player's Registration, the content store's course and version dicts
    and the runtime's ScoContext, and writes what ``plan`` makes of them."""
    from types import SimpleNamespace

    from player.bridge import CommitInfo
    from player.storage import Attempt, Registration

    registration = Registration(REG, LEARNER, "learner-key", "5e1f0c2a9b7d4e31", 3, T, T)
    course = {"id": "5e1f0c2a9b7d4e31", "title": "Old title"}
    version = {"course_id": "5e1f0c2a9b7d4e31", "version": 3, "title": "Forklift safety", "package_sha256": "9f" * 32}
    item = {"identifier": "lesson 1", "title": "Lesson 1", "mastery_score": 80.0, "items": [], "isvisible": True}
    sco = SimpleNamespace(scorm_version="1.2", item=item, learner=LEARNER, learner_id="e-1042")
    before = Attempt(REG, "lesson 1", 1, T, T)
    after = Attempt(REG, "lesson 1", 1, T, T, {"cmi": {}, "session": {"number": 1, "started": T, "time": "PT0S"},
                                               "closed_time": "PT0S", "exit": "", "terminated": False}, 1)
    ids = Bridge(store, iri_base=BASE).record(before, after, CommitInfo(1, "initialize", T), registration, course,
                                             version, sco)
    assert ids == session_plans_12_first().statement_ids
    assert [st["object"]["id"] for st in stored(store)] == [SCO_IRI]
    assert stored(store)[0]["context"]["contextActivities"]["grouping"][0]["definition"]["name"] == {
        "und": "Forklift safety"}
    assert json.loads(document(store, "activity_profile", (SCO_IRI, "", ""), ACTIVITY_PROFILE).content) == {
        "scaled_passing_score": 0.8}
    assert json.loads(document(store, "agent_profile", ("", LEARNER_KEY, ""), AGENT_PROFILE).content) == {
        "learner_id": "e-1042"}


T = "2026-11-30T02:00:00.000Z"


def session_plans_12_first() -> Plan:
    return Sco(context("1.2")).initialize(T)


def test_record_with_the_runtimes_sco_context_writes_the_agent_profile_the_sco_was_launched_with(store):
    """The commit route hands the bridge the runtime's ScoContext: the agent profile must then hold the
    learner id and name the SCO got as cmi.learner_id / cmi.learner_name (it was never written before)."""
    from player.runtime.attempts import Commit, ScoContext, apply, launch_values
    from player.storage import Attempt, Registration

    learner = {"objectType": "Agent", "name": "Ada Lovelace", "mbox": "mailto:ada@example.com"}
    registration = Registration(REG, learner, agent_key(learner), "c1", 1, at(0), at(0))
    sco = ScoContext("2004", {"identifier": "lesson 1", "title": "Lesson 1"}, learner)
    before = Attempt(REG, "lesson 1", 1, at(0), at(0))
    commit = Commit(REG, "lesson 1", 1, 1, "initialize", at(1), {})
    after = apply(before, commit, sco)
    Bridge(store, iri_base=BASE).record(before, after, commit, registration, {"id": "c1", "title": "C"},
                                        {"version": 1, "title": "C"}, sco)
    values = launch_values(None, sco, registration)
    profile = store.get_document("agent_profile", ("", agent_key(learner), ""), AGENT_PROFILE)
    assert profile is not None, "no agent profile written"
    assert json.loads(profile.content) == {"learner_id": values["cmi.learner_id"],
                                           "learner_name": values["cmi.learner_name"]} == {
        "learner_id": "ada@example.com", "learner_name": "Ada Lovelace"}
