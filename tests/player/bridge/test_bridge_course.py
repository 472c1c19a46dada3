"""The course-level statements of the xAPI Profile for SCORM (player/bridge/course.py): written when the
course's rolled-up status changes, about the course activity, with deterministic ids."""
from __future__ import annotations

from player.bridge.course import course_statements
from player.bridge.plan import Context
from player.bridge.vocabulary import COURSE, PROFILE

LEARNER = {"objectType": "Agent", "mbox": "mailto:ana@example.com"}
REG = "7d0f3c5e-8a53-4a5e-9d0e-1a2b3c4d5e6f"
CTX = Context(learner=LEARNER, registration=REG, course_id="golf", course_title="Golf", course_version=2,
              package_sha256="ab" * 32, sco_id="#course", sco_title="Golf", scorm_version="2004", item={},
              iri_base="http://lrs.test")
AT = "2026-11-30T05:00:00.000Z"
NONE = {"completion_status": "incomplete", "success_status": None, "score_scaled": None}


def names(sts):
    return [st["verb"]["id"].rsplit("/", 1)[1] for st in sts]


def test_nothing_changed_writes_nothing():
    assert course_statements(NONE, dict(NONE), CTX, ("#sequencing", 0, 3), AT) == []


def test_completion_success_and_score_each_write_their_verb_about_the_course():
    after = {"completion_status": "completed", "success_status": "passed", "score_scaled": 0.9}
    sts = course_statements(NONE, after, CTX, ("#sequencing", 0, 3), AT)
    assert names(sts) == ["scored", "completed", "passed"]
    for st in sts:
        assert st["object"]["id"] == "http://lrs.test/courses/golf"
        assert st["object"]["definition"]["type"] == COURSE
        assert st["result"] == {"score": {"scaled": 0.9}, "success": True, "completion": True}
        assert st["context"]["registration"] == REG and st["context"]["revision"] == "2"
        assert st["context"]["contextActivities"] == {"category": [{"id": PROFILE, "definition": {
            "type": "http://adlnet.gov/expapi/activities/profile"}}]}
        assert st["timestamp"] == AT


def test_failed_then_passed_writes_each_and_a_completed_course_is_not_completed_again():
    failed = {"completion_status": "completed", "success_status": "failed", "score_scaled": None}
    passed = {**failed, "success_status": "passed"}
    assert names(course_statements(NONE, failed, CTX, ("x", 1, 1), AT)) == ["completed", "failed"]
    assert names(course_statements(failed, passed, CTX, ("x", 1, 2), AT)) == ["passed"]


def test_ids_depend_on_the_trigger_only_so_a_retry_stores_nothing_twice():
    after = {"completion_status": "completed", "success_status": None, "score_scaled": None}
    one = course_statements(NONE, after, CTX, ("sco_a", 1, 4), AT)
    assert [s["id"] for s in one] == [s["id"] for s in course_statements(NONE, after, CTX, ("sco_a", 1, 4), AT)]
    assert one[0]["id"] != course_statements(NONE, after, CTX, ("sco_a", 1, 5), AT)[0]["id"]
