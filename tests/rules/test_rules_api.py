"""The rules API's input checks and forms: admin only, definitions refused with the path and rule,
cycles refused, CSV imports that report bad rows by line and import nothing unless asked, CSV output,
pagination."""
from __future__ import annotations

import base64

import pytest

from scenario_kit import ADMIN, BASE, Service, bus_definitions


@pytest.fixture
def svc(tmp_path, clock):
    clock.set("2026-01-05T09:00:00Z")
    with Service(tmp_path, "", clock) as s:
        yield s


def test_the_rules_api_needs_an_admin_credential(svc):
    from lrs.auth import Credentials
    from lrs.storage import open_store

    assert svc.client.get("/rules/definitions").status_code == 401
    s = open_store(svc.settings.data_dir)        # a credential without the all scope
    Credentials(s).create("reader", "reader-secret", ["statements/read"])
    s.close()
    reader = {"Authorization": "Basic " + base64.b64encode(b"reader:reader-secret").decode()}
    resp = svc.client.get("/rules/definitions", headers=reader)
    assert resp.status_code == 403 and resp.json()["error"]["status"] == 403


def test_a_definition_that_breaks_its_schema_is_refused_with_the_path_and_rule(svc):
    resp = svc.client.post("/rules/definitions/certification", headers=ADMIN, json={
        "definition": {"id": "bus", "initial": "c", "validity": {"months": -1}}, "reason": "x"})
    assert resp.status_code == 400
    body = resp.json()
    assert body["error"]["path"] == "definition.validity.months" and body["rule"] == "minimum"
    resp = svc.client.post("/rules/definitions/certification", headers=ADMIN, json={
        "definition": {"id": "bus", "initial": "c", "expiry": {"basis": "fixed_date", "month": 12}}, "reason": "x"})
    assert resp.status_code == 400 and resp.json()["error"]["path"] == "definition.expiry" and resp.json()["rule"] == "required"
    resp = svc.client.post("/rules/definitions/completion", headers=ADMIN, json={
        "definition": {"id": "c", "activity": BASE + "a", "children": ["d"]}, "reason": "x"})
    assert resp.status_code == 400 and resp.json()["error"]["path"] == "definition.children"
    resp = svc.client.post("/rules/definitions/certification", headers=ADMIN, json={
        "definition": {"id": "bus", "initial": "c", "colour": "red"}, "reason": "x"})
    assert resp.status_code == 400 and resp.json()["rule"] == "additionalProperties"
    assert svc.client.post("/rules/definitions/widget", headers=ADMIN,
                           json={"definition": {"id": "w"}, "reason": "x"}).status_code == 404
    no_reason = svc.client.post("/rules/definitions/completion", headers=ADMIN,
                                json={"definition": {"id": "c", "activity": BASE + "a"}})
    assert no_reason.status_code == 400 and no_reason.json()["error"]["path"] == "reason"
    assert svc.client.get("/rules/definitions", headers=ADMIN).json()["definitions"] == []


def test_prerequisite_cycles_are_refused(svc):
    svc.define("completion", {"id": "c", "activity": BASE + "a"})
    svc.define("certification", {"id": "a", "initial": "c"})
    svc.define("certification", {"id": "b", "initial": "c", "prerequisites": ["a"]})
    resp = svc.client.post("/rules/definitions/certification", headers=ADMIN, json={
        "definition": {"id": "a", "initial": "c", "prerequisites": ["b"]}, "reason": "loop"})
    assert resp.status_code == 400
    assert resp.json()["rule"] == "cycle" and resp.json()["error"]["path"] == "definition.prerequisites"
    assert "a -> b" in resp.json()["error"]["message"] or "b -> a" in resp.json()["error"]["message"]


def test_completion_rules_among_their_own_children_are_refused(svc):
    svc.define("completion", {"id": "x", "activity": BASE + "x"})
    svc.define("completion", {"id": "both", "children": ["x"]})
    resp = svc.client.post("/rules/definitions/completion", headers=ADMIN, json={
        "definition": {"id": "x", "children": ["both"]}, "reason": "loop"})
    assert resp.status_code == 400 and resp.json()["rule"] == "cycle"


def test_publishing_a_definition_that_names_nothing_is_refused(svc):
    made = svc.define("certification", {"id": "bus", "initial": "no-such-rule"}, publish=False)
    resp = svc.client.post(f"/rules/definitions/certification/bus/versions/{made['version']}/publish",
                           json={"reason": "go"}, headers=ADMIN)
    assert resp.status_code == 409 and resp.json()["error"]["path"] == "initial"
    assert svc.client.post("/rules/definitions/certification/bus/versions/9/publish", json={"reason": "go"},
                           headers=ADMIN).status_code == 404


BAD_CSV = ("person_id,email,roles,hire_date,active\n"
           "ada,ada@example.com,driver,2026-01-01,true\n"
           "bob,not-an-email,driver,,\n"
           "cy,cy@example.com,driver,01/02/2026,\n"
           "dee,dee@example.com,driver,,maybe\n"
           "ada,ada2@example.com,,,\n"
           "eve,eve@example.com,,,\n")


def test_a_csv_with_bad_rows_imports_nothing_and_names_each_line(svc):
    resp = svc.people(BAD_CSV)
    assert resp.status_code == 400
    body = resp.json()
    assert [(e["line"], e["path"]) for e in body["errors"]] == [(3, "email"), (4, "hire_date"), (5, "active"),
                                                                (6, "person_id")]
    assert body["error"]["path"] == "email" and "line 3" in body["error"]["message"]
    assert svc.client.get("/rules/people", headers=ADMIN).json()["people"] == []


def test_partial_import_takes_the_good_rows_and_the_same_file_twice_changes_nothing(svc):
    first = svc.people(BAD_CSV, partial="true").json()
    assert (first["imported"], first["unchanged"], len(first["errors"])) == (2, 0, 4)
    again = svc.people(BAD_CSV, partial="true").json()
    assert (again["imported"], again["unchanged"]) == (0, 2)
    person = svc.client.get("/rules/people/ada", headers=ADMIN).json()
    assert len(person["versions"]) == 1 and person["attributes"]["hire_date"] == "2026-01-01"


def test_json_import_and_an_identity_already_someone_elses(svc):
    people = [{"person_id": "ada", "agents": [{"mbox": "mailto:ada@example.com"},
                                              {"account": {"homePage": "https://hr.example.com", "name": "A1"}}],
               "roles": ["driver"], "site": "north", "active": True}]
    resp = svc.client.post("/rules/people", json=people, headers=ADMIN)
    assert resp.status_code == 200 and resp.json()["imported"] == 1
    taken = svc.client.post("/rules/people", json=[{"person_id": "zed", "agents": [{"mbox": "mailto:ada@example.com"}]}],
                            headers=ADMIN)
    assert taken.status_code == 400 and "belongs to person ada" in taken.json()["errors"][0]["message"]
    bad = svc.client.post("/rules/people", json=[{"person_id": "x", "agents": [{"name": "no id"}]}], headers=ADMIN)
    assert bad.status_code == 400 and bad.json()["errors"][0]["path"] == "0.agents.0"
    assert svc.client.post("/rules/people", content=b"x", headers={**ADMIN, "Content-Type": "text/plain"}).status_code == 415


def test_statements_from_any_identity_of_a_person_count_for_them(svc):
    bus_definitions(svc)
    svc.client.post("/rules/people", headers=ADMIN, json=[{"person_id": "ada", "roles": ["bus_operator"], "agents": [
        {"mbox": "mailto:ada.old@example.com"}, {"mbox": "mailto:ada@example.com"}]}])
    svc.statement("ada", "bus-course")
    assert svc.status("ada", "bus-operator") == "certified"


def test_roster_and_transcript_as_csv_and_paginated(svc):
    bus_definitions(svc)
    rows = "".join(f"p{i},p{i}@example.com,bus_operator,{'north' if i % 2 else 'south'}\n" for i in range(5))
    svc.people("person_id,email,roles,site\n" + rows)
    svc.statement("p1", "bus-course")
    page = svc.roster("bus-operator", limit=2)
    assert [r["person_id"] for r in page["people"]] == ["p0", "p1"] and page["next"] == "p1"
    rest = svc.roster("bus-operator", limit=2, after=page["next"])
    assert [r["person_id"] for r in rest["people"]] == ["p2", "p3"]
    assert [r["person_id"] for r in svc.roster("bus-operator", site="north", status="assigned")["people"]] == ["p3"]
    assert [r["person_id"] for r in svc.roster("bus-operator", expiring_within_days=400)["people"]] == ["p1"]
    assert svc.roster("bus-operator", expiring_within_days=30)["people"] == []
    csv = svc.client.get("/rules/certifications/bus-operator/roster", params={"limit": 2},
                         headers={**ADMIN, "Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().split("\r\n")
    assert lines[0].startswith("person_id,status,") and lines[2].startswith("p1,certified,")
    assert 'rel="next"' in csv.headers["link"] and len(csv.headers["x-chain-head"]) == 64
    t = svc.client.get("/rules/people/p1/transcript", headers={**ADMIN, "Accept": "text/csv"})
    assert "certification,bus-operator,certified" in t.text and "completion,bus-course,completed" in t.text
    bad = svc.client.get("/rules/certifications/bus-operator/roster", params={"status": "sleeping"}, headers=ADMIN)
    assert bad.status_code == 400 and bad.json()["error"]["path"] == "status"
    assert svc.client.get("/rules/certifications/nope/roster", headers=ADMIN).status_code == 404
    assert svc.client.get("/rules/people/nobody/transcript", headers=ADMIN).status_code == 404
    assert svc.client.get("/rules/certifications/bus-operator/roster", params={"limit": "x"},
                          headers=ADMIN).json()["error"]["path"] == "limit"


def test_admin_actions_are_checked(svc):
    bus_definitions(svc)
    svc.people("person_id,email\nada,ada@example.com\n")
    cases = [({"kind": "magic", "certification": "bus-operator", "reason": "r"}, "kind"),
             ({"kind": "exemption", "certification": "nope", "reason": "r"}, "certification"),
             ({"kind": "exemption", "certification": "bus-operator", "reason": "r", "until": "soon"}, "until"),
             ({"kind": "external_certificate", "certification": "bus-operator", "reason": "r"}, "issuer"),
             ({"kind": "exemption", "certification": "bus-operator", "reason": " "}, "reason"),
             ({"kind": "exemption", "certification": "bus-operator", "reason": "r", "date": "2026-03-01",
               "until": "2026-02-01"}, "until"),
             ({"kind": "external_certificate", "certification": "bus-operator", "reason": "r", "issuer": "x",
               "date": "2026-03-01", "expires": "2025-03-01"}, "expires")]
    for body, path in cases:
        resp = svc.action("ada", body)
        assert resp.status_code == 400 and resp.json()["error"]["path"] == path, body
    assert svc.action("nobody", {"kind": "exemption", "certification": "bus-operator", "reason": "r"}).status_code == 404


def test_the_engine_runs_in_the_background_of_the_service(tmp_path, clock):
    import time

    clock.set("2026-01-05T09:00:00Z")
    with Service(tmp_path, "", clock, engine=True) as svc:
        bus_definitions(svc)
        svc.people("person_id,email,roles\nada,ada@example.com,bus_operator\n")
        svc.client.post("/xapi/statements", headers={**ADMIN, "X-Experience-API-Version": "1.0.3"}, json={
            "actor": {"mbox": "mailto:ada@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": BASE + "bus-course"}, "result": {"success": True}, "timestamp": "2026-01-05T09:00:00Z"})
        deadline = time.monotonic() + 5
        while svc.client.get("/rules/engine", headers=ADMIN).json()["behind"] and time.monotonic() < deadline:
            time.sleep(0.05)
        deadline = time.monotonic() + 5
        while svc.status("ada", "bus-operator") != "certified" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.status("ada", "bus-operator") == "certified"


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted(svc):
    bus_definitions(svc)
    svc.people('person_id,email,roles,site\nada,ada@example.com,bus_operator,"=HYPERLINK(""http://evil"")"\n')
    csv = svc.client.get("/rules/certifications/bus-operator/roster", headers={**ADMIN, "Accept": "text/csv"}).text
    assert "'=HYPERLINK" in csv


def test_compliance_counts_people_past_the_first_page(svc):
    svc.define("completion", {"id": "c", "activity": BASE + "c"})
    svc.define("certification", {"id": "badge", "initial": "c"})
    svc.define("requirement", {"id": "all", "applies_to": {"roles": ["r"]}, "certifications": ["badge"]})
    rows = "".join(f"p{i:04d},p{i}@example.com,r\n" for i in range(1203))
    svc.people("person_id,email,roles\n" + rows)
    c = svc.client.get("/rules/certifications/badge/compliance", headers=ADMIN).json()
    assert c["people"] == 1203 and c["by_status"] == {"assigned": 1203}
    page = svc.roster("badge", limit=500)
    assert len(page["people"]) == 500 and page["next"] == "p0499"
    too_many = svc.client.get("/rules/certifications/badge/roster", params={"limit": 501}, headers=ADMIN)
    assert too_many.status_code == 400 and too_many.json()["error"]["path"] == "limit"


def test_the_chain_head_is_read_without_verifying_the_chain(svc):
    bus_definitions(svc)
    svc.people("person_id,email,roles\nada,ada@example.com,bus_operator\n")
    head = svc.client.get("/rules/audit/head", headers=ADMIN).json()
    verified = svc.client.get("/rules/audit/verify", headers=ADMIN).json()
    assert head == {"events": verified["events"], "head": verified["head"]} and head["events"] > 0
