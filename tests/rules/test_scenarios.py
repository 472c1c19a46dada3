"""Acceptance 1 of issue 11: scenarios driven only by xAPI statements through the HTTP API, the people
and definitions APIs, and an injected clock. Each runs on the embedded store and on mongo."""
from __future__ import annotations

import pytest

from scenario_kit import ADMIN, BASE, COMPLETED, Service, bus_definitions

PEOPLE = "person_id,email,roles,site,hire_date\nada,ada@example.com,bus_operator,north,2025-06-01\n"


@pytest.fixture
def svc(tmp_path, backend, clock):
    clock.set("2026-01-05T09:00:00Z")
    with Service(tmp_path, backend, clock) as s:
        yield s


def test_bus_operator_certified_by_the_course_and_renewed_by_the_refresher_in_its_window(svc):
    bus_definitions(svc)
    assert svc.people(PEOPLE).status_code == 200
    assert svc.status("ada", "bus-operator") == "assigned"
    svc.travel("2026-03-01")
    first = svc.statement("ada", "bus-course")
    rec = svc.record("ada", "bus-operator")
    assert (rec["status"], rec["valid_from"], rec["expires"]) == ("certified", "2026-03-01", "2027-03-01")
    assert rec["evidence"]["statements"] == [first] and rec["evidence"]["definition_version"] == 1
    svc.travel("2026-12-30")
    assert svc.status("ada", "bus-operator") == "certified"
    svc.travel("2026-12-31")                       # 60 days before 1 March 2027
    assert svc.status("ada", "bus-operator") == "in_renewal_window"
    refresher = svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)
    rec = svc.record("ada", "bus-operator")
    assert (rec["status"], rec["valid_from"], rec["expires"], rec["earned"]) == \
           ("certified", "2026-12-31", "2028-03-01", "2026-03-01")
    assert rec["evidence"]["statements"] == [refresher] and rec["evidence"]["rule"] == "bus-refresher"


def test_a_refresher_before_the_window_renews_nothing(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2026-06-01")
    svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)
    assert svc.record("ada", "bus-operator")["expires"] == "2027-03-01"


def test_early_renewal_keeps_the_anniversary(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2027-01-10")                       # 50 days early, inside the window
    svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)
    assert svc.record("ada", "bus-operator")["expires"] == "2028-03-01"


def test_renewal_counted_from_completion_loses_the_early_days(svc):
    bus_definitions(svc, basis="completion")
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2027-01-10")
    svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)
    assert svc.record("ada", "bus-operator")["expires"] == "2028-01-10"


def test_overdue_in_grace_then_expired_then_renewal_after_grace_restarts_the_cycle(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2027-03-02")
    assert svc.status("ada", "bus-operator") == "overdue"
    svc.travel("2027-03-31")                       # grace: 30 days after 1 March
    assert svc.status("ada", "bus-operator") == "overdue"
    svc.travel("2027-04-01")
    assert svc.status("ada", "bus-operator") == "expired"
    svc.travel("2027-04-05")
    svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)   # too late for the refresher
    assert svc.status("ada", "bus-operator") == "expired"
    svc.travel("2027-04-10")
    svc.statement("ada", "bus-course")
    rec = svc.record("ada", "bus-operator")
    assert (rec["status"], rec["earned"], rec["valid_from"], rec["expires"]) == \
           ("certified", "2027-04-10", "2027-04-10", "2028-04-10")
    timeline = [(t["at"], t["status"]) for t in svc.transcript("ada")["certifications"][0]["timeline"]]
    assert timeline == [("2026-01-05", "assigned"), ("2026-03-01", "certified"), ("2026-12-31", "in_renewal_window"),
                        ("2027-03-02", "overdue"), ("2027-04-01", "expired"), ("2027-04-10", "certified")]


def test_a_renewal_in_grace_restarts_or_credits_as_defined(svc):
    bus_definitions(svc, late="credit")
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2027-03-20")
    svc.statement("ada", "bus-refresher", verb=COMPLETED, success=None)
    assert svc.record("ada", "bus-operator")["expires"] == "2028-03-01"   # credit: from the missed expiry


def test_advanced_forklift_needs_forklift_and_lapses_with_it(svc):
    svc.define("completion", {"id": "forklift-course", "activity": BASE + "forklift"})
    svc.define("completion", {"id": "advanced-course", "activity": BASE + "advanced-forklift"})
    svc.define("certification", {"id": "forklift", "initial": "forklift-course", "validity": {"months": 12}})
    svc.define("certification", {"id": "advanced-forklift", "initial": "advanced-course", "validity": {"months": 36},
                                 "prerequisites": ["forklift"]})
    svc.people("person_id,email\nbo,bo@example.com\n")
    svc.travel("2026-02-01")
    svc.statement("bo", "advanced-forklift")      # without forklift: earns nothing
    assert svc.status("bo", "advanced-forklift") == "not_required"
    svc.travel("2026-02-10")
    svc.statement("bo", "forklift")
    svc.travel("2026-02-20")
    svc.statement("bo", "advanced-forklift")
    assert svc.record("bo", "advanced-forklift")["expires"] == "2029-02-20"
    svc.travel("2027-02-10")
    assert svc.status("bo", "advanced-forklift") == "certified"
    svc.travel("2027-02-11")                       # forklift expired (no grace): advanced lapses with it
    assert svc.status("bo", "forklift") == "expired"
    assert svc.status("bo", "advanced-forklift") == "expired"
    cause = svc.transcript("bo")["certifications"][0]["timeline"][-1]
    assert cause["at"] == "2027-02-11" and cause["cause"]["prerequisite"] == "forklift"


def test_voiding_the_passing_statement_takes_back_what_it_earned(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    passed = svc.statement("ada", "bus-course")
    assert svc.status("ada", "bus-operator") == "certified"
    svc.travel("2026-03-05")
    svc.void(passed)
    rec = svc.record("ada", "bus-operator")
    assert rec["status"] == "assigned" and rec["expires"] is None
    assert svc.transcript("ada")["completions"] == []
    history = svc.client.get("/rules/audit/verify", headers=ADMIN).json()
    assert history["ok"]


def test_a_late_statement_is_placed_by_its_timestamp(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2027-06-01")
    svc.statement("ada", "bus-course", timestamp="2026-03-01T08:00:00Z")   # sent a year late
    rec = svc.record("ada", "bus-operator")
    assert (rec["status"], rec["valid_from"], rec["expires"]) == ("expired", "2026-03-01", "2027-03-01")


def test_a_new_hire_is_due_within_30_days_of_hire(svc):
    svc.define("completion", {"id": "induction-course", "activity": BASE + "induction"})
    svc.define("certification", {"id": "induction", "initial": "induction-course"})
    svc.define("requirement", {"id": "new-hires", "applies_to": {"site": ["north"]}, "certifications": ["induction"],
                               "due": {"days": 30, "after": "hire"}})
    svc.travel("2026-05-01")
    svc.people("person_id,email,site,hire_date\ncy,cy@example.com,north,2026-05-01\n")
    rec = svc.record("cy", "induction")
    assert (rec["status"], rec["due"]) == ("assigned", "2026-05-31")
    svc.travel("2026-05-10")
    svc.statement("cy", "induction", verb="http://adlnet.gov/expapi/verbs/attempted", success=None)
    assert svc.status("cy", "induction") == "in_progress"
    svc.travel("2026-06-01")
    assert svc.status("cy", "induction") == "overdue"
    svc.statement("cy", "induction", verb=COMPLETED, success=None)
    assert svc.record("cy", "induction")["status"] == "certified"
    assert svc.record("cy", "induction")["expires"] is None


def test_a_person_who_changes_role_gains_and_loses_the_requirement(svc):
    bus_definitions(svc)
    svc.people("person_id,email,roles\ndee,dee@example.com,mechanic\n")
    assert svc.status("dee", "bus-operator") == "not_required"
    svc.travel("2026-02-01")
    svc.people("person_id,email,roles\ndee,dee@example.com,mechanic;bus_operator\n")
    assert svc.status("dee", "bus-operator") == "assigned"
    svc.travel("2026-03-01")
    svc.people("person_id,email,roles\ndee,dee@example.com,mechanic\n")
    assert svc.status("dee", "bus-operator") == "not_required"


def test_a_certification_that_expires_every_31_december(svc):
    svc.define("completion", {"id": "hazmat-course", "activity": BASE + "hazmat"})
    svc.define("certification", {"id": "hazmat", "initial": "hazmat-course", "expiry": {"basis": "fixed_date", "month": 12, "day": 31},
                                 "renewal_window_days": 61})
    svc.people("person_id,email\neve,eve@example.com\n")
    svc.travel("2026-03-10")
    svc.statement("eve", "hazmat")
    assert svc.record("eve", "hazmat")["expires"] == "2026-12-31"
    svc.travel("2026-11-15")
    assert svc.status("eve", "hazmat") == "in_renewal_window"
    svc.statement("eve", "hazmat")
    assert svc.record("eve", "hazmat")["expires"] == "2027-12-31"
    svc.travel("2027-12-31")
    assert svc.status("eve", "hazmat") == "in_renewal_window"
    svc.travel("2028-01-01")
    assert svc.status("eve", "hazmat") == "expired"


def test_an_external_certificate_is_accepted_with_a_reason_and_who(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-04-01")
    refused = svc.action("ada", {"kind": "external_certificate", "certification": "bus-operator",
                                 "issuer": "State transit board", "date": "2026-03-15", "expires": "2027-03-15"})
    assert refused.status_code == 400 and refused.json()["error"]["path"] == "reason"
    made = svc.action("ada", {"kind": "external_certificate", "certification": "bus-operator",
                              "issuer": "State transit board", "reference": "STB-77", "date": "2026-03-15",
                              "expires": "2027-03-15", "reason": "licence transferred from previous employer"})
    assert made.status_code == 201 and made.json()["who"] == "admin"
    rec = svc.record("ada", "bus-operator")
    assert (rec["status"], rec["valid_from"], rec["expires"]) == ("certified", "2026-03-15", "2027-03-15")
    assert rec["evidence"]["issuer"] == "State transit board" and rec["evidence"]["reason"].startswith("licence")
    events = svc.client.get("/rules/audit/verify", headers=ADMIN).json()
    assert events["ok"] and events["events"] >= 2


def test_an_exemption_and_a_revocation_need_a_reason_and_show_in_the_status(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    assert svc.action("ada", {"kind": "revocation", "certification": "bus-operator", "reason": "failed a check ride"}).status_code == 201
    assert svc.status("ada", "bus-operator") == "revoked"
    assert svc.action("ada", {"kind": "exemption", "certification": "bus-operator", "reason": "on leave",
                              "until": "2026-06-30"}).status_code == 201
    assert svc.status("ada", "bus-operator") == "exempt"
    svc.travel("2026-07-01")
    assert svc.status("ada", "bus-operator") == "revoked"


def test_compliance_as_of_a_past_date_comes_from_the_history(svc):
    bus_definitions(svc)
    svc.people(PEOPLE + "ben,ben@example.com,bus_operator,south,2025-06-01\n")
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2026-05-01")
    svc.statement("ben", "bus-course")
    svc.travel("2027-06-01")                       # both expired by now
    assert svc.roster("bus-operator", status="certified")["people"] == []
    past = svc.roster("bus-operator", as_of="2026-04-01")
    assert {(r["person_id"], r["status"]) for r in past["people"]} == {("ada", "certified"), ("ben", "assigned")}
    c = svc.client.get("/rules/certifications/bus-operator/compliance", params={"as_of": "2026-06-01"}, headers=ADMIN).json()
    assert (c["people"], c["compliant"], c["share"]) == (2, 2, 1.0)
    now = svc.client.get("/rules/certifications/bus-operator/compliance", headers=ADMIN).json()
    assert (now["compliant"], now["by_status"]) == (0, {"expired": 2})
    north = svc.roster("bus-operator", as_of="2026-04-01", site="north")
    assert [r["person_id"] for r in north["people"]] == ["ada"]


def test_a_definition_change_is_previewed_then_published(svc):
    bus_definitions(svc)
    svc.people(PEOPLE)
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.travel("2026-10-15")                       # 6 months + 30 days grace after 1 March have passed
    shorter = svc.define("certification", {"id": "bus-operator", "initial": "bus-course", "renewal": "bus-refresher",
                                           "validity": {"months": 6}, "expiry": {"basis": "previous_expiry"},
                                           "renewal_window_days": 60, "grace_days": 30}, publish=False,
                         reason="regulator shortened the validity")
    assert shorter["version"] == 2
    assert svc.record("ada", "bus-operator")["expires"] == "2027-03-01"      # a draft changes nothing
    preview = svc.client.post("/rules/definitions/certification/bus-operator/versions/2/preview", headers=ADMIN).json()
    assert preview["changes"] == [{"person_id": "ada", "certification": "bus-operator", "status_before": "certified",
                                   "status_after": "expired", "expires_before": "2027-03-01",
                                   "expires_after": "2026-09-01"}]
    svc.publish("certification", "bus-operator", 2, reason="regulator shortened the validity")
    rec = svc.record("ada", "bus-operator")
    assert (rec["status"], rec["expires"], rec["definition_version"]) == ("expired", "2026-09-01", 2)
    listed = svc.client.get("/rules/definitions", headers=ADMIN).json()["definitions"]
    v2 = [d for d in listed if d["kind"] == "certification" and d["version"] == 2][0]
    assert v2["published"] and v2["why"] == "regulator shortened the validity" and v2["who"] == "admin"


def test_a_requirement_published_after_the_import_is_due_from_its_publication(svc):
    svc.people(PEOPLE)
    svc.travel("2026-06-01")
    svc.define("completion", {"id": "first-aid-course", "activity": BASE + "first-aid"})
    svc.define("certification", {"id": "first-aid", "initial": "first-aid-course"})
    svc.define("requirement", {"id": "everyone-first-aid", "applies_to": {"roles": ["bus_operator"]},
                               "certifications": ["first-aid"], "due": {"days": 30}})
    rec = svc.record("ada", "first-aid")
    assert (rec["status"], rec["due"]) == ("assigned", "2026-07-01")


def test_compliance_is_broken_down_by_site_and_role_in_one_answer(svc):
    bus_definitions(svc)
    svc.define("completion", {"id": "first-aid-course", "activity": BASE + "first-aid"})
    svc.define("certification", {"id": "first-aid", "initial": "first-aid-course"})
    svc.define("requirement", {"id": "supervisors", "applies_to": {"roles": ["supervisor"]},
                               "certifications": ["first-aid"]})
    svc.people("person_id,email,roles,site,hire_date\n"
               "ada,ada@example.com,bus_operator,north,2025-06-01\n"
               "ben,ben@example.com,bus_operator;supervisor,north,2025-06-01\n"
               "cy,cy@example.com,bus_operator,south,2025-06-01\n"
               "dee,dee@example.com,mechanic,,2025-06-01\n")
    svc.travel("2026-03-01")
    svc.statement("ada", "bus-course")
    svc.statement("ben", "first-aid")
    svc.run()
    c = svc.client.get("/rules/certifications/bus-operator/compliance", headers=ADMIN).json()
    assert (c["people"], c["compliant"]) == (3, 1)
    assert [(s["site"], s["people"], s["compliant"], s["share"]) for s in c["by_site"]] == [
        ("north", 2, 1, 0.5), ("south", 1, 0, 0.0)]
    assert [(r["role"], r["people"], r["compliant"]) for r in c["by_role"]] == [
        ("bus_operator", 3, 1), ("supervisor", 1, 0)]
    north = svc.client.get("/rules/certifications/bus-operator/compliance", params={"site": "north"},
                           headers=ADMIN).json()
    assert (north["people"], [s["site"] for s in north["by_site"]]) == (2, ["north"])

    report = svc.client.get("/rules/compliance", headers=ADMIN).json()
    assert [a["certification"] for a in report["certifications"]] == ["bus-operator", "first-aid"]
    assert (report["total"]["requirements"], report["total"]["compliant"]) == (4, 2)
    assert [(s["site"], s["requirements"], s["compliant"]) for s in report["total"]["by_site"]] == [
        ("north", 3, 2), ("south", 1, 0)]
    assert report["chain_head"] == c["chain_head"]

    csv = svc.client.get("/rules/compliance", params={"certification": "first-aid"},
                         headers={**ADMIN, "Accept": "text/csv"})
    assert csv.headers["content-type"].startswith("text/csv") and csv.headers["x-chain-head"] == c["chain_head"]
    lines = csv.text.splitlines()
    assert lines[0].startswith("certification,by,value,people,compliant,share,not_required,assigned")
    assert "first-aid,all,,1,1,1.0000,,,,1," in lines[1]
    assert ",site,north,1,1,1.0000" in csv.text and "first-aid,role,supervisor,1,1,1.0000" in csv.text
    assert [line.rstrip(",") for line in lines[-4:]] == [
        ",all,,1,1,1.0000", ",site,north,1,1,1.0000", ",role,bus_operator,1,1,1.0000", ",role,supervisor,1,1,1.0000"]

    past = svc.client.get("/rules/certifications/bus-operator/compliance", params={"as_of": "2026-02-01"},
                          headers=ADMIN).json()
    assert (past["people"], past["compliant"], past["as_of"]) == (3, 0, "2026-02-01")
    assert [(s["site"], s["people"]) for s in past["by_site"]] == [("north", 2), ("south", 1)]
    unknown = svc.client.get("/rules/compliance", params={"certification": "nope"}, headers=ADMIN)
    assert unknown.status_code == 404 and unknown.json()["error"]["path"] == "certification"
