"""Statements out: a certification earned, renewed, expired or revoked is written into the LRS as an xAPI
statement with the rules' authority; the engine never takes them as facts; writing again, after a
restart or a rebuild of the rules store, stores nothing twice. Driven through /xapi and /rules with an
injected clock, on both stores."""
from __future__ import annotations

import json

import pytest

from rules.outbound import CERTIFICATE, EARNED
from scenario_kit import ADMIN, COMPLETED, XAPI, Service, bus_definitions, wipe_rules_store

PEOPLE = "person_id,email,roles,site,hire_date\nada,ada@example.com,bus_operator,north,2025-06-01\n"
BASE = "http://127.0.0.1:8080"
RULES = {"objectType": "Agent", "account": {"homePage": BASE, "name": "rules"}}
CERT = BASE + "/certifications/bus-operator"
EXT = BASE + "/extensions/rules/"


@pytest.fixture
def svc(tmp_path, backend, clock):
    clock.set("2026-01-05T09:00:00Z")
    with Service(tmp_path, backend, clock) as s:
        yield s


def rules_statements(svc, verb: str | None = None) -> list[dict]:
    params = {"agent": json.dumps(RULES), "related_agents": "true", "limit": "100"}
    if verb:
        params["verb"] = verb
    resp = svc.client.get("/xapi/statements", params=params, headers=XAPI)
    assert resp.status_code == 200, resp.text
    return sorted(resp.json()["statements"], key=lambda s: s["timestamp"])


def verbs(svc) -> list[tuple[str, str]]:
    return [(s["verb"]["display"]["en-US"], s["timestamp"][:10]) for s in rules_statements(svc)]


def test_earning_a_certification_writes_an_earned_statement_with_the_rules_authority(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    passed = svc.statement("ada", "bus-course")
    [st] = rules_statements(svc, EARNED)
    assert st["authority"] == RULES
    assert st["actor"] == {"objectType": "Agent", "mbox": "mailto:ada@example.com"}
    assert st["object"] == {"objectType": "Activity", "id": CERT,
                            "definition": {"type": CERTIFICATE, "name": {"und": "bus-operator"}}}
    assert st["timestamp"].startswith("2026-03-01T00:00:00")
    assert st["result"]["success"] is True
    assert st["result"]["extensions"][EXT + "record"] == {
        "status": "certified", "earned": "2026-03-01", "valid_from": "2026-03-01", "expires": "2027-03-01",
        "period": "initial", "statements": [passed]}
    ctx = st["context"]["extensions"]
    assert ctx[EXT + "definition-version"] == 1 and ctx[EXT + "person"] == "ada"
    event = [e for e in svc.transcript("ada")["certifications"]][0]
    assert event["status"] == "certified"
    n = ctx[EXT + "history-event"]
    verify = svc.client.get("/rules/audit/verify", headers=ADMIN).json()
    assert verify["ok"] and n < verify["events"]
    assert len(ctx[EXT + "chain-head"]) == 64


def test_the_engine_does_not_take_its_own_statements_as_facts(svc):
    bus_definitions(svc)
    svc.define("completion", {"id": "cert-seen", "activity": CERT, "verbs": [EARNED]})
    svc.define("certification", {"id": "echo", "initial": "cert-seen"})
    svc.define("requirement", {"id": "echoes", "applies_to": {"roles": ["bus_operator"]}, "certifications": ["echo"]})
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    assert len(rules_statements(svc, EARNED)) == 1
    svc.run()
    assert svc.status("ada", "echo") == "assigned"     # the earned statement of bus-operator earned nothing


def test_renewed_expired_and_revoked_each_write_one_statement_and_rerunning_writes_none(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2027-01-10")
    svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)
    renewed = rules_statements(svc, BASE + "/rules/verbs/renewed")
    assert [s["result"]["extensions"][EXT + "record"]["expires"] for s in renewed] == ["2028-03-01"]
    svc.travel("2028-04-01")                                  # expiry 1 March + 30 days grace: expired on 1 April
    assert svc.status("ada", "bus-operator") == "expired"
    svc.travel("2028-05-02")
    svc.statement("ada", "bus-course")                        # earned again (the cycle restarts)
    resp = svc.action("ada", {"kind": "revocation", "certification": "bus-operator", "reason": "failed a check",
                              "date": "2028-06-01"})
    assert resp.status_code == 201, resp.text
    svc.travel("2028-06-02")
    assert verbs(svc) == [("earned", "2026-03-01"), ("renewed", "2027-01-10"), ("expired", "2028-04-01"),
                          ("earned", "2028-05-02"), ("revoked", "2028-06-01")]
    svc.run()
    svc.client.post("/rules/engine/run", headers=ADMIN)
    assert len(verbs(svc)) == 5


def test_voiding_the_passing_statement_voids_the_earned_statement(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    passed = svc.statement("ada", "bus-course")
    [earned] = rules_statements(svc, EARNED)
    svc.void(passed)
    assert svc.status("ada", "bus-operator") == "assigned"
    [voiding] = rules_statements(svc, EARNED)        # a query by verb also finds what refers to a match
    assert voiding["object"] == {"objectType": "StatementRef", "id": earned["id"]}
    assert voiding["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided" and voiding["authority"] == RULES
    resp = svc.client.get("/xapi/statements", params={"voidedStatementId": earned["id"]}, headers=XAPI)
    assert resp.status_code == 200 and resp.json()["id"] == earned["id"]


def test_a_rebuilt_rules_store_writes_no_statement_twice(tmp_path, backend, clock):
    """The same LRS with a new rules store: the history is made again (other hashes), the ids are the same."""
    clock.set("2026-01-05T09:00:00Z")
    with Service(tmp_path, backend, clock) as svc:
        bus_definitions(svc)
        svc.people(PEOPLE)
        svc.travel("2026-03-01")
        svc.statement("ada", "bus-course")
        svc.travel("2027-04-01")
        before = verbs(svc)
    assert before == [("earned", "2026-03-01"), ("expired", "2027-04-01")]
    wipe_rules_store(tmp_path, backend)
    with Service(tmp_path, backend, clock, fresh=False) as svc:
        bus_definitions(svc)
        clock.set("2027-04-02T12:00:00Z")
        svc.statement("ada", "bus-course")               # earned again, in the same pass as the rebuilt history
        svc.people(PEOPLE)
        assert svc.status("ada", "bus-operator") == "certified"
        assert verbs(svc) == before + [("earned", "2027-04-02")]


def test_changes_older_than_the_record_carry_the_dates_of_their_own_period(tmp_path, backend, clock):
    """One pass over a year of statements: the earned statement has the first period's dates, although
    the record by then holds the renewal's."""
    from datetime import datetime, timezone

    from rules.outbox import Outbox
    from rules.storage.outbox import open_outbox_store
    from rules_kit import World, statement

    start = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
    clock.now = start
    w = World(tmp_path, backend, clock)
    box = open_outbox_store(tmp_path, backend)
    try:
        Outbox(w.store, box, w.lrs, clock, BASE).attach(w.rules.engine)
        w.insert([statement(0, "bus-course", datetime(2026, 2, 1, 9, tzinfo=timezone.utc)),
                  statement(0, "bus-refresher", datetime(2027, 1, 5, 9, tzinfo=timezone.utc))])
        clock.now = datetime(2027, 2, 1, 12, tzinfo=timezone.utc)
        w.rules.engine.run_until_idle()
        out = {}
        for seq, body in w.lrs.stream(0, 100):
            st = json.loads(body)
            if st["authority"] == RULES:
                out[st["verb"]["display"]["en-US"]] = st["result"]["extensions"][EXT + "record"]
        assert out["earned"] | {"statements": []} == {"status": "certified", "earned": "2026-02-01",
                                                      "valid_from": "2026-02-01", "expires": "2027-02-01",
                                                      "period": "initial", "statements": []}
        assert (out["renewed"]["valid_from"], out["renewed"]["expires"], out["renewed"]["period"]) == \
               ("2027-01-05", "2028-02-01", "renewal")
    finally:
        box.close()
        w.close()
