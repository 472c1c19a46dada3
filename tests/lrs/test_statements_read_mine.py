"""A ``statements/read/mine`` credential reads only the Statements it stored itself: authority is a
Statement's own, never inherited through StatementRef (unlike the filters of 2.1.3 s3)."""
from __future__ import annotations

import json

import orjson
import pytest

from lrs.statements.forms import prepare
from lrs.statements.terms import agent_term, statement_terms, term_hash
from lrs.storage import NewStatement, StatementQuery
from lrs_testkit import basic, fresh_database_name, make_statement

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COMMENTED = "http://adlnet.gov/expapi/verbs/commented"
LEARNER = ("learner", "learner-secret")
OTHER = ("other", "other-secret")
CREDS = [(*LEARNER, ["statements/write", "statements/read/mine"]), (*OTHER, ["statements/write"])]


def ref_to(target_id: str, verb: str = COMMENTED, **kw) -> dict:
    return make_statement(verb={"id": verb}, object={"objectType": "StatementRef", "id": target_id}, context=None,
                          result=None, **kw)


def post(client, st: dict, auth=None) -> None:
    headers = {"Authorization": basic(*auth)} if auth else None
    resp = client.post("/statements", json=st, headers=headers)
    assert resp.status_code == 200, resp.text


def ids(client, auth=None, **params) -> list[str]:
    headers = {"Authorization": basic(*auth)} if auth else None
    resp = client.get("/statements", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return [s["id"] for s in resp.json()["statements"]]


@pytest.fixture
def lrs(make_client):
    """Statements of the learner (``mine`` credential), and others' Statements that target them: the
    admin voids one, another credential comments on one, and one comment arrives before its target."""
    client = make_client(credentials=CREDS)
    voided, kept, late = make_statement(), make_statement(), make_statement()
    post(client, voided, LEARNER)
    post(client, kept, LEARNER)
    early_comment = ref_to(late["id"])  # stored before its target: inherits when the target arrives
    post(client, early_comment, OTHER)
    post(client, late, LEARNER)
    voiding = ref_to(voided["id"], VOIDED)
    post(client, voiding)  # the admin
    comment = ref_to(kept["id"])
    post(client, comment, OTHER)
    client.ids = {"kept": kept["id"], "late": late["id"], "voiding": voiding["id"], "comment": comment["id"],
                  "early_comment": early_comment["id"]}
    return client


def test_mine_query_leaves_out_others_statements_that_target_mine(lrs):
    """Issue 9 finding 3: a Statement by anyone that targets (StatementRef) a learner's
    Statement, an admin's voiding Statement included, does not appear in the learner's
    ``statements/read/mine`` queries: only the learner's own Statements do."""
    got = ids(lrs, LEARNER)
    assert sorted(got) == sorted([lrs.ids["kept"], lrs.ids["late"]])
    assert ids(lrs, LEARNER, verb=COMMENTED) == []
    assert ids(lrs, LEARNER, verb=VOIDED) == []
    learner = json.dumps({"mbox": "mailto:ada@example.com"})
    assert sorted(ids(lrs, LEARNER, agent=learner)) == sorted([lrs.ids["kept"], lrs.ids["late"]])


def test_other_filters_still_match_statements_that_target_a_matching_one(lrs):
    """Kept by the fix of issue 9 finding 3: the StatementRef rule (2.1.3 s3) still holds for every
    filter but authority: the Statements that target the learner's match the learner as agent, its
    verb and its activity, and the learner's authority as a related agent."""
    everyone = {lrs.ids[k] for k in ("kept", "late", "voiding", "comment", "early_comment")}
    learner = json.dumps({"mbox": "mailto:ada@example.com"})
    assert set(ids(lrs, agent=learner)) == everyone
    assert set(ids(lrs, activity="http://example.com/courses/safety-101")) == everyone
    assert set(ids(lrs, verb="http://adlnet.gov/expapi/verbs/completed")) == everyone
    # related_agents covers the authority, inherited like the other agents
    mine_authority = json.dumps({"account": {"homePage": "urn:lrs:credentials", "name": LEARNER[0]}})
    got = ids(lrs, agent=mine_authority, related_agents="true")
    assert set(got) == everyone


# -- stores that already hold inherited authority rows ---------------------------------------------

LEARNER_AUTHORITY = {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
ADMIN_AUTHORITY = {"objectType": "Agent", "mbox": "mailto:admin@example.com"}


def _new(st: dict, authority: dict) -> NewStatement:
    st = prepare(st, authority, "1.0.3")
    obj = st["object"]
    ref = obj["id"] if obj.get("objectType") == "StatementRef" else None
    voids = ref if st["verb"]["id"] == VOIDED else None
    return NewStatement(st, statement_terms(st), voids=voids, ref=ref)


def _sqlite(tmp_path):
    from lrs.storage.sqlite import SqliteStore

    return SqliteStore(tmp_path / "lrs.sqlite3")


def _mongo(tmp_path):
    from lrs_testkit import mongo_url_or_skip

    from lrs.storage.mongo import MongoStore

    return MongoStore(mongo_url_or_skip(), database=fresh_database_name())


@pytest.fixture(params=["sqlite", "mongo"])
def store(request, tmp_path):
    s = {"sqlite": _sqlite, "mongo": _mongo}[request.param](tmp_path)
    yield s
    s.close()


def _plant_term(store, sid: str, term: str) -> None:
    """Index ``term`` as the Statement's own, as releases before this fix did for an inherited authority."""
    from lrs.storage.sqlite import BUCKET_BITS, SqliteStore

    if isinstance(store, SqliteStore):
        seq = store._writer.execute("SELECT seq FROM statements WHERE id = ?", (sid,)).fetchone()[0]
        store._writer.execute("INSERT OR REPLACE INTO statement_terms (bucket, term, seq, direct) VALUES (?, ?, ?, 1)",
                              (seq >> BUCKET_BITS, term_hash(term), seq))
    else:
        from lrs.storage.mongo import _direct

        store._run(store.aio.statements.update_one(
            {"_id": sid}, {"$addToSet": {"t": {"$each": [term_hash(term), _direct(term)]}}}))


def test_inherited_authority_rows_of_older_stores_do_not_leak(store):
    """Issue 9 finding 3: in a store whose index already holds an authority term inherited through
    StatementRef, the exact check after the index lookup still leaves out the Statements that only
    inherited it."""
    mine = make_statement()
    store.insert([_new(mine, LEARNER_AUTHORITY)], {})
    voiding = ref_to(mine["id"], VOIDED)
    comment = ref_to(mine["id"])
    store.insert([_new(voiding, ADMIN_AUTHORITY), _new(comment, ADMIN_AUTHORITY)], {})
    term = "au:" + agent_term(LEARNER_AUTHORITY)
    for st in (voiding, comment):
        _plant_term(store, st["id"], term)
    rows, _ = store.query(StatementQuery(terms=[(term, False)], limit=10))
    assert [orjson.loads(body)["id"] for _, body in rows] == []
    other = make_statement()
    store.insert([_new(other, LEARNER_AUTHORITY)], {})
    rows, _ = store.query(StatementQuery(terms=[(term, False)], limit=10))
    assert [orjson.loads(body)["id"] for _, body in rows] == [other["id"]]
