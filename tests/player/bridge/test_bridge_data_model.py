"""Profile 6.0, "Mapping the SCORM Data Model to xAPI Statements": completion and success status,
score, progress measure, comments from the learner, objectives; for SCORM 1.2 and 2004."""
from __future__ import annotations

import pytest

from bridge_kit import SCO_IRI, Sco, at, context, expected, verbs, without_ids


def started(version: str, **kw) -> Sco:
    s = Sco(context(version, **kw))
    s.initialize(at(0))
    return s


# -- completion and success status -----------------------------------------------------------

def test_completion_status_completed_is_a_completed_statement_once_1_2():
    s = started("1.2")
    p = s.commit(at(1), {"cmi.core.lesson_status": "completed"}, completion="completed")
    assert without_ids(p.statements) == [expected("completed", when=at(1))]
    assert verbs(s.commit(at(2), {"cmi.core.lesson_location": "p3"})) == []


def test_completion_status_completed_is_a_completed_statement_once_2004():
    s = started("2004")
    assert verbs(s.commit(at(1), {"cmi.completion_status": "incomplete"}, completion="incomplete")) == []
    p = s.commit(at(2), {"cmi.completion_status": "completed"}, completion="completed")
    assert without_ids(p.statements) == [expected("completed", when=at(2))]
    assert verbs(s.commit(at(3), {"cmi.completion_status": "completed"}, completion="completed")) == []


def test_success_status_passed_and_failed_are_statements_when_the_status_changes_to_them():
    s = started("2004")
    assert without_ids(s.commit(at(1), {"cmi.success_status": "failed"}, success="failed").statements) == [
        expected("failed", when=at(1))]
    assert verbs(s.commit(at(2), {"cmi.location": "x"}, success="failed")) == []
    assert without_ids(s.commit(at(3), {"cmi.success_status": "passed"}, success="passed").statements) == [
        expected("passed", when=at(3))]


def test_1_2_lesson_status_passed_is_completed_and_passed():
    s = started("1.2")
    p = s.commit(at(1), {"cmi.core.lesson_status": "passed"}, completion="completed", success="passed")
    assert verbs(p) == ["completed", "passed"]


def test_the_status_the_runtime_decided_wins_over_the_raw_element():
    """1.2: lesson_status completed with a score under the mastery score is failed (RTE 1.2
    3.4.4); 2004: a completion threshold met makes completed whatever completion_status says.
    The runtime decides; the bridge reports the attempt's statuses."""
    s = started("1.2", item={"mastery_score": 80})
    p = s.commit(at(1), {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "60"},
                 completion="completed", success="failed")
    assert verbs(p) == ["scored", "completed", "failed"]
    s = started("2004", item={"completion_threshold": {"min_progress_measure": 0.5, "completed_by_measure": True}})
    p = s.commit(at(1), {"cmi.progress_measure": "0.6", "cmi.completion_status": "incomplete"},
                 completion="completed")
    assert verbs(p) == ["progressed", "completed"]


def test_without_a_decided_status_the_raw_elements_are_read():
    s = started("2004")
    p = s.commit(at(1), {"cmi.completion_status": "completed", "cmi.success_status": "passed"})
    assert verbs(p) == ["completed", "passed"]


# -- score -----------------------------------------------------------------------------------

def test_score_1_2_raw_divided_by_100_is_score_scaled():
    s = started("1.2")
    p = s.commit(at(1), {"cmi.core.score.raw": "95"})
    assert without_ids(p.statements) == [expected("scored", when=at(1), result={"score": {"scaled": 0.95, "raw": 95}})]


def test_score_2004_scaled_raw_min_and_max_are_reported_when_the_score_changes():
    s = started("2004")
    p = s.commit(at(1), {"cmi.score.scaled": "0.95", "cmi.score.raw": "19", "cmi.score.min": "0",
                         "cmi.score.max": "20"})
    assert without_ids(p.statements) == [expected("scored", when=at(1), result={
        "score": {"scaled": 0.95, "raw": 19, "min": 0, "max": 20}})]
    assert verbs(s.commit(at(2), {"cmi.location": "end"})) == []
    assert s.commit(at(3), {"cmi.score.scaled": "1", "cmi.score.raw": "20"}).statements[0]["result"] == {
        "score": {"scaled": 1, "raw": 20, "min": 0, "max": 20}}


def test_a_2004_score_without_scaled_is_not_a_scored_statement_but_is_in_the_terminated_result():
    s = started("2004")
    assert verbs(s.commit(at(1), {"cmi.score.raw": "7"})) == []
    assert s.terminate(at(2), {"cmi.exit": "normal"}).statements[-1]["result"]["score"] == {"raw": 7}


@pytest.mark.parametrize("cmi, score", [
    ({"cmi.core.score.raw": "50", "cmi.core.score.min": "100", "cmi.core.score.max": "0"}, {"scaled": 0.5, "raw": 50}),
    ({"cmi.core.score.raw": "150", "cmi.core.score.min": "0", "cmi.core.score.max": "100"}, {"raw": 150}),
    ({"cmi.core.score.raw": "", "cmi.core.score.max": "100"}, None),   # a range without a score: none known
])
def test_score_parts_xapi_would_refuse_are_left_out(cmi, score):
    """xAPI: scaled in -1..1, min below max, raw between them; the statement stays valid."""
    s = started("1.2")
    last = s.terminate(at(1), {**cmi, "cmi.core.exit": ""})
    assert last.statements[-1]["result"].get("score") == score


# -- progress measure ------------------------------------------------------------------------

def test_progress_measure_is_progressed_with_result_score_scaled():
    s = started("2004")
    p = s.commit(at(1), {"cmi.progress_measure": "0.75"})
    assert without_ids(p.statements) == [expected("progressed", when=at(1), result={"score": {"scaled": 0.75}})]
    assert verbs(s.commit(at(2), {"cmi.progress_measure": "0.75"})) == []
    assert verbs(s.commit(at(3), {"cmi.progress_measure": "0.8"})) == ["progressed"]


# -- comments from the learner ---------------------------------------------------------------

def test_comments_from_learner_2004_are_commented_with_the_comment_and_its_timestamp():
    s = started("2004")
    p = s.commit(at(1), {"cmi.comments_from_learner.0.comment": "Great lesson",
                         "cmi.comments_from_learner.0.location": "page 3",
                         "cmi.comments_from_learner.0.timestamp": "2026-11-30T01:59:30.5+01:00"})
    assert without_ids(p.statements) == [expected("commented", when="2026-11-30T00:59:30.5Z",
                                                  result={"response": "Great lesson"})]
    q = s.commit(at(2), {"cmi.comments_from_learner.1.comment": "Too long",
                         "cmi.comments_from_learner.1.timestamp": "2026"})
    assert without_ids(q.statements) == [expected("commented", when=at(2), result={"response": "Too long"})]


def test_comments_1_2_are_commented_with_what_was_added():
    s = started("1.2")
    assert s.commit(at(1), {"cmi.comments": "Nice."}).statements[0]["result"] == {"response": "Nice."}
    assert s.commit(at(2), {"cmi.comments": "Nice. Page 4 has a typo."}).statements[0]["result"] == {
        "response": " Page 4 has a typo."}
    assert verbs(s.commit(at(3), {"cmi.comments": "Nice. Page 4 has a typo."})) == []


# -- objectives ------------------------------------------------------------------------------

def objective(ident: str, description: dict | None = None) -> dict:
    definition = {"name": {"und": ident}}
    if description:
        definition["description"] = description
    definition["type"] = "http://adlnet.gov/expapi/activities/objective"
    return {"id": f"{SCO_IRI}/objectives/{ident.replace(':', '%3A')}", "definition": definition}


def test_objective_1_2_status_passed_is_passed_on_the_objective_with_the_sco_as_parent():
    s = started("1.2")
    p = s.commit(at(1), {"cmi.objectives.0.id": "obj-if-else", "cmi.objectives.0.status": "passed",
                         "cmi.objectives.0.score.raw": "80"})
    assert without_ids(p.statements) == [
        expected("passed", objective("obj-if-else"), when=at(1), parent=True),
        expected("scored", objective("obj-if-else"), when=at(1), parent=True,
                 result={"score": {"scaled": 0.8, "raw": 80}})]
    assert verbs(s.commit(at(2), {"cmi.objectives.0.status": "passed"})) == []
    assert verbs(s.commit(at(3), {"cmi.objectives.0.status": "failed"})) == ["failed"]


def test_objective_2004_success_completion_score_and_progress_are_statements_on_the_objective():
    s = started("2004")
    obj = objective("urn:obj:1", {"de": "Gabelstapler"})
    p = s.commit(at(1), {"cmi.objectives.0.id": "urn:obj:1", "cmi.objectives.0.description": "{lang=de}Gabelstapler",
                         "cmi.objectives.0.success_status": "passed", "cmi.objectives.0.completion_status": "completed",
                         "cmi.objectives.0.score.scaled": "0.9", "cmi.objectives.0.progress_measure": "1"})
    assert without_ids(p.statements) == [
        expected("passed", obj, when=at(1), parent=True),
        expected("completed", obj, when=at(1), parent=True),
        expected("scored", obj, when=at(1), parent=True, result={"score": {"scaled": 0.9}}),
        expected("progressed", obj, when=at(1), parent=True, result={"score": {"scaled": 1}}),
    ]


def test_objectives_set_at_launch_without_a_status_change_make_no_statement():
    s = Sco(context("2004"))
    s.initialize(at(0), {"cmi.objectives.0.id": "primary", "cmi.objectives.0.success_status": "unknown"})
    assert verbs(s.plans[0]) == ["initialized"]
    assert verbs(s.commit(at(1), {"cmi.objectives.1.id": "other"})) == []


def test_objective_statements_come_before_the_sco_status_they_roll_up_to():
    s = started("2004")
    p = s.commit(at(1), {"cmi.objectives.0.id": "o1", "cmi.objectives.0.success_status": "passed",
                         "cmi.success_status": "passed"}, success="passed")
    assert [(st["verb"]["display"]["en-US"], st["object"]["id"].rsplit("/", 1)[1]) for st in p.statements] == [
        ("passed", "o1"), ("passed", "lesson%201")]


def test_a_1_2_lesson_status_given_as_the_attempts_completion_status_is_read_as_the_standard_says():
    """passed/failed as ``completion_status`` (lesson_status copied whole) still mean completed and passed/failed."""
    s = started("1.2")
    p = s.commit(at(1), {"cmi.core.lesson_status": "failed"}, completion="failed")
    assert verbs(p) == ["completed", "failed"]
    assert s.terminate(at(2), {"cmi.core.exit": ""}, completion="failed").statements[-1]["result"] == {
        "success": False, "completion": True, "duration": "PT0S"}
