"""The cmi5 rules the LRS enforces on statements of an AU session (lrs/cmi5/rules.py), one test a rule."""
from __future__ import annotations

import copy

import pytest

from lrs.cmi5 import rules
from lrs.cmi5.rules import Rejected, check

ACTOR = {"objectType": "Agent", "account": {"homePage": "https://example.org", "name": "learner"}}
REG = "8e9b4f3a-6a43-4bb8-9f3a-1d2c3b4a5f60"
AU = "https://lms.example/courses/c/cmi5/aus/au1"


def session(state="initialized", **kw):
    s = {"id": "sess-1", "registration": REG, "au": "pub-au", "activity_id": AU, "state": state, "verbs": [],
         "actor_key": rules._actor_key(ACTOR), "mastery_score": 0.8, "launch_mode": "Normal", "prefs_read": True}
    s.update(kw)
    return s


def statement(verb, result=None, moveon=False, **ctx_ext):
    cats = [{"id": rules.CAT_CMI5}] + ([{"id": rules.CAT_MOVEON}] if moveon else [])
    st = {"id": "0d3d6d4a-4b7c-4f0e-9a55-111111111111", "actor": copy.deepcopy(ACTOR), "verb": {"id": verb},
          "object": {"id": AU}, "timestamp": "2026-11-30T06:00:00.000Z",
          "context": {"registration": REG, "contextActivities": {"category": cats},
                      "extensions": {rules.EXT_SESSION: "sess-1", **ctx_ext}}}
    if result is not None:
        st["result"] = result
    return st


def rejected(st, s=None, au=None, had_id=True):
    with pytest.raises(Rejected) as exc:
        check(st, s or session(), au or {}, "", had_id)
    assert exc.value.status == 403
    return exc.value


def test_initialized_is_accepted_first_and_moves_the_session_to_initialized():
    s, _ = check(statement(rules.INITIALIZED), session("launched"), {})
    assert s["state"] == "initialized"


def test_any_statement_before_initialized_is_rejected():
    rejected(statement("http://adlnet.gov/expapi/verbs/experienced"), session("launched"))


def test_initialized_before_the_learner_preferences_were_read_is_rejected():
    rejected(statement(rules.INITIALIZED), session("launched", prefs_read=False))


def test_initialized_twice_in_a_session_is_rejected():
    rejected(statement(rules.INITIALIZED), session("initialized"))


def test_nothing_is_accepted_after_terminated_or_abandoned():
    rejected(statement("http://adlnet.gov/expapi/verbs/experienced"), session("terminated"))
    rejected(statement("http://adlnet.gov/expapi/verbs/experienced"), session("abandoned"))


def test_passed_below_the_mastery_score_is_rejected_and_at_it_accepted():
    e = rejected(statement(rules.PASSED, {"success": True, "duration": "PT1S", "score": {"scaled": 0.79}},
                           moveon=True, **{rules.EXT_MASTERY: 0.8}))
    assert e.path == "result.score.scaled"
    _, au = check(statement(rules.PASSED, {"success": True, "duration": "PT1S", "score": {"scaled": 0.8}},
                            moveon=True, **{rules.EXT_MASTERY: 0.8}), session(), {})
    assert au["passed"]


def test_failed_at_or_above_the_mastery_score_is_rejected():
    rejected(statement(rules.FAILED, {"success": False, "duration": "PT1S", "score": {"scaled": 0.8}},
                       moveon=True, **{rules.EXT_MASTERY: 0.8}))


def test_a_scored_judgment_without_the_launch_mastery_score_extension_is_rejected():
    rejected(statement(rules.PASSED, {"success": True, "duration": "PT1S", "score": {"scaled": 0.9}}, moveon=True))


def test_completed_once_per_registration():
    st = statement(rules.COMPLETED, {"completion": True, "duration": "PT1S"}, moveon=True)
    s, au = check(st, session(), {})
    assert au["completed"]
    rejected(st, session(), {"completed": True})


def test_completed_needs_completion_true_and_no_success_nor_score():
    rejected(statement(rules.COMPLETED, {"duration": "PT1S"}, moveon=True))
    rejected(statement(rules.COMPLETED, {"completion": True, "success": True, "duration": "PT1S"}, moveon=True))
    rejected(statement(rules.COMPLETED, {"completion": True, "duration": "PT1S", "score": {"scaled": 1}}, moveon=True))


def test_only_one_of_passed_and_failed_per_session_and_no_failed_after_passed():
    failed = statement(rules.FAILED, {"success": False, "duration": "PT1S"}, moveon=True)
    rejected(failed, session(verbs=[rules.FAILED]))
    rejected(failed, session(), {"passed": True})


def test_moveon_verbs_need_the_moveon_category_and_others_must_not_carry_it():
    rejected(statement(rules.COMPLETED, {"completion": True, "duration": "PT1S"}))
    rejected(statement(rules.TERMINATED, {"duration": "PT1S"}, moveon=True))


def test_defined_statements_need_duration_and_the_au_as_object():
    rejected(statement(rules.TERMINATED, {}))
    st = statement(rules.TERMINATED, {"duration": "PT1S"})
    st["object"]["id"] = "https://example.org/other"
    rejected(st)


def test_a_defined_verb_outside_the_cmi5_category_is_an_allowed_statement():
    """cmi5 7.1.3: without the cmi5 category a statement is "cmi5 allowed" whatever its verb; the video
    profile's initialized and terminated about a video (the cmi5 fixture course sends them) are recorded
    and neither start nor end the session."""
    video = "https://example.com/vid/1"
    for verb in (rules.INITIALIZED, rules.TERMINATED, rules.PASSED):
        st = statement(verb)
        st["context"]["contextActivities"]["category"] = [{"id": "https://w3id.org/xapi/video"}]
        st["object"]["id"] = video
        s, au = check(st, session(), {})
        assert s["state"] == "initialized" and s["verbs"] == [] and au == {}
    # still only between the session's initialized and terminated
    st = statement(rules.INITIALIZED)
    st["context"]["contextActivities"]["category"] = []
    rejected(st, session("launched"))
    rejected(st, session("terminated"))
    # and the moveon category stays reserved to the defined completed, passed and failed
    st = statement(rules.PASSED, {"success": True, "duration": "PT1S"}, moveon=True)
    st["context"]["contextActivities"]["category"].pop(0)
    rejected(st)


def test_session_id_registration_actor_timestamp_and_id_are_required():
    st = statement("http://adlnet.gov/expapi/verbs/experienced")
    del st["context"]["extensions"][rules.EXT_SESSION]
    assert rejected(st).path == "context.extensions"
    st = statement("http://adlnet.gov/expapi/verbs/experienced")
    st["context"]["registration"] = "00000000-0000-4000-8000-000000000000"
    assert rejected(st).path == "context.registration"
    st = statement("http://adlnet.gov/expapi/verbs/experienced")
    st["actor"] = {"mbox": "mailto:other@example.org"}
    assert rejected(st).path == "actor"
    st = statement("http://adlnet.gov/expapi/verbs/experienced")
    del st["timestamp"]
    assert rejected(st).path == "timestamp"
    st = statement("http://adlnet.gov/expapi/verbs/experienced")
    st["timestamp"] = "2026-11-30T06:00:00-06:00"
    assert rejected(st).path == "timestamp"
    assert rejected(statement("http://adlnet.gov/expapi/verbs/experienced"), had_id=False).path == "id"


def test_browse_and_review_modes_record_no_judgment():
    for mode in ("Browse", "Review"):
        rejected(statement(rules.COMPLETED, {"completion": True, "duration": "PT1S"}, moveon=True),
                 session(launch_mode=mode))


def test_voiding_by_an_au_is_rejected():
    rejected(statement(rules.VOIDED))


@pytest.mark.parametrize("move_on,state,met", [
    ("Passed", {"passed": True}, True), ("Passed", {"completed": True}, False),
    ("Completed", {"completed": True}, True), ("CompletedAndPassed", {"completed": True}, False),
    ("CompletedAndPassed", {"completed": True, "passed": True}, True),
    ("CompletedOrPassed", {"passed": True}, True), ("NotApplicable", {}, True), ("Passed", {"waived": True}, True)])
def test_move_on_of_an_au(move_on, state, met):
    assert rules.au_satisfied(move_on, state) is met
