"""rules.derive, the pure function status comes from: completion rules (criteria, children, windows),
expiry arithmetic, equivalents."""
from __future__ import annotations

from datetime import date

from rules.definitions import Definitions
from rules.derive import add_months, completions, derive
from rules.storage.ports import Fact, PersonVersion

A = "Agent|mbox:mailto:ada@example.com"
BASE = "http://example.com/a/"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PERSON = [PersonVersion("ada", 1, "2025-01-01T00:00:00.000Z", (A,), (), {"roles": ["op"]})]


def fact(sid, activity, ts, verb=PASSED, success=True, completion=None, scaled=None):
    return Fact(sid, int(sid[1:]) if sid[1:].isdigit() else 0, A, BASE + activity, verb, ts, success, completion, scaled)


def defs(*items) -> Definitions:
    d = Definitions()
    for kind, body in items:
        d = d.with_version(kind, body, 1)
    return d


def test_add_months_keeps_the_day_or_the_last_of_a_shorter_month():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_a_completion_rule_checks_verb_success_completion_score_and_window():
    rule = {"id": "r", "activity": BASE + "x", "verbs": [PASSED, COMPLETED], "success": True, "completion": True,
            "min_score": 0.8, "window": {"from": "2026-01-01", "until": "2026-12-31"}}
    d = defs(("completion", rule))
    facts = [fact("s1", "x", "2026-02-01T00:00:00Z", completion=True, scaled=0.9),
             fact("s2", "x", "2026-02-02T00:00:00Z", completion=True, scaled=0.7),          # score too low
             fact("s3", "x", "2026-02-03T00:00:00Z", completion=None, scaled=0.9),          # not completed
             fact("s4", "x", "2026-02-04T00:00:00Z", success=False, completion=True, scaled=0.9),
             fact("s5", "x", "2027-01-01T00:00:00Z", completion=True, scaled=0.9),          # outside the window
             fact("s6", "x", "2026-02-05T00:00:00Z", verb="http://adlnet.gov/expapi/verbs/attempted",
                  completion=True, scaled=0.9),
             fact("s7", "y", "2026-02-06T00:00:00Z", completion=True, scaled=0.9)]
    assert [c.statements for c in completions(d, facts)["r"]] == [("s1",)]


def test_children_all_any_and_at_least_within_days():
    kids = [("completion", {"id": k, "activity": BASE + k}) for k in ("a", "b", "c")]
    d = defs(*kids, ("completion", {"id": "all", "children": ["a", "b", "c"], "within_days": 30}),
             ("completion", {"id": "any", "children": ["a", "b", "c"], "require": "any"}),
             ("completion", {"id": "two", "children": ["a", "b", "c"], "require": {"at_least": 2}}))
    facts = [fact("s1", "a", "2026-01-01T00:00:00Z"), fact("s2", "b", "2026-01-20T00:00:00Z"),
             fact("s3", "c", "2026-03-01T00:00:00Z"), fact("s4", "a", "2026-02-15T00:00:00Z"),
             fact("s5", "b", "2026-02-20T00:00:00Z")]
    got = completions(d, facts)
    assert [c.statements for c in got["all"]] == [("s3", "s4", "s5")]   # a and b redone within 30 days of c
    assert [c.day.isoformat() for c in got["any"]][:2] == ["2026-01-01", "2026-01-20"]
    assert got["two"][0].day == date(2026, 1, 20) and got["two"][0].statements == ("s1", "s2")


def test_an_equivalent_certification_counts():
    d = defs(("completion", {"id": "ext", "activity": BASE + "ext"}),
             ("completion", {"id": "own", "activity": BASE + "own"}),
             ("certification", {"id": "cdl", "initial": "ext", "validity": {"months": 24}}),
             ("certification", {"id": "bus", "initial": "own", "validity": {"months": 12}, "equivalents": ["cdl"]}))
    facts = [fact("s1", "ext", "2026-01-10T00:00:00Z")]
    out = derive(PERSON, facts, [], d, date(2026, 6, 1))
    assert out["bus"].status == "certified" and out["bus"].period.evidence["via"] == "cdl"
    assert out["bus"].period.expires == date(2028, 1, 10)
    assert derive(PERSON, facts, [], d, date(2028, 1, 11))["bus"].status == "expired"


def test_a_certification_without_validity_never_expires():
    d = defs(("completion", {"id": "c", "activity": BASE + "c"}), ("certification", {"id": "once", "initial": "c"}))
    out = derive(PERSON, [fact("s1", "c", "2026-01-10T00:00:00Z")], [], d, date(2099, 1, 1))["once"]
    assert (out.status, out.period.expires, out.next_change) == ("certified", None, None)


def test_a_statement_dated_after_today_is_a_change_ahead():
    d = defs(("completion", {"id": "c", "activity": BASE + "c"}), ("certification", {"id": "once", "initial": "c"}))
    out = derive(PERSON, [fact("s1", "c", "2026-03-10T08:00:00+05:00")], [], d, date(2026, 3, 1))["once"]
    assert (out.status, out.next_change) == ("not_required", date(2026, 3, 10))
