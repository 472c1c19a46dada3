"""A registration's status from its attempts (player/runtime/status.py)."""
from __future__ import annotations

from player.runtime.status import summary
from player.storage.ports import Attempt

REG = "7d0f3c5e-8a53-4a5e-9d0e-1a2b3c4d5e6f"
ONE = {"launchables": [{"id": "item_1", "title": "Golf Explained", "type": "sco"}]}
MANY = {"launchables": [{"id": "sco_a", "title": "A", "type": "sco"}, {"id": "sco_b", "title": "B", "type": "sco"},
                        {"id": "pdf", "title": "Handout", "type": "asset"}]}


def attempt(sco: str, number: int, completion=None, success=None, score=None, total="PT0S",
            updated="2026-11-30T02:00:00.000Z") -> Attempt:
    return Attempt(REG, sco, number, "2026-11-30T01:00:00.000Z", updated, {}, 1, completion, success, score,
                   total, completion == "completed")


def test_no_attempts_is_not_attempted():
    s = summary([], ONE)
    assert s["completion_status"] == "not attempted" and s["success_status"] is None
    assert s["attempts"] == 0 and s["total_time"] == "PT0S" and s["last_activity"] is None
    assert s["scos"][0]["id"] == "item_1" and s["scos"][0]["attempt"] is None


def test_a_single_sco_course_has_its_sco_status():
    s = summary([attempt("item_1", 1, "completed", "passed", 0.9, "PT3M", "2026-11-30T02:05:00.000Z")], ONE)
    assert (s["completion_status"], s["success_status"], s["score_scaled"]) == ("completed", "passed", 0.9)
    assert s["total_time"] == "PT3M" and s["attempts"] == 1 and s["last_activity"] == "2026-11-30T02:05:00.000Z"
    assert s["scos"][0] | {} == {"id": "item_1", "title": "Golf Explained", "attempt": 1,
                                 "completion_status": "completed", "success_status": "passed",
                                 "score_scaled": 0.9, "total_time": "PT3M", "attempts": 1,
                                 "last_activity": "2026-11-30T02:05:00.000Z"}


def test_an_attempt_in_progress_does_not_hide_the_result_of_the_one_before():
    done = attempt("item_1", 1, "completed", "passed", 0.9, "PT3M")
    again = attempt("item_1", 2, "incomplete", None, None, "PT1M", "2026-11-30T03:00:00.000Z")
    s = summary([again, done], ONE)
    assert (s["completion_status"], s["success_status"], s["scos"][0]["attempt"]) == ("completed", "passed", 1)
    assert s["total_time"] == "PT4M" and s["attempts"] == 2
    assert s["last_activity"] == "2026-11-30T03:00:00.000Z"


def test_a_later_outcome_replaces_an_earlier_one():
    """xAPI Profile for SCORM §7 Attempt: the latest attempt's results count."""
    s = summary([attempt("item_1", 1, "completed", "passed", 0.9),
                 attempt("item_1", 2, "completed", "failed", 0.4)], ONE)
    assert (s["success_status"], s["score_scaled"], s["scos"][0]["attempt"]) == ("failed", 0.4, 2)


def test_a_course_of_several_scos_is_completed_when_every_sco_is():
    only_a = summary([attempt("sco_a", 1, "completed")], MANY)
    assert only_a["completion_status"] == "incomplete"
    assert [s["id"] for s in only_a["scos"]] == ["sco_a", "sco_b"]        # assets have no status
    both = summary([attempt("sco_a", 1, "completed"), attempt("sco_b", 1, "completed")], MANY)
    assert both["completion_status"] == "completed"
    assert summary([], MANY)["completion_status"] == "not attempted"


def test_a_course_of_several_scos_fails_if_one_failed_and_passes_when_all_done_and_all_known_passed():
    early = summary([attempt("sco_a", 1, "completed", "passed", 1.0), attempt("sco_b", 1, "incomplete", None)], MANY)
    assert early["success_status"] is None              # one lesson passed is no course mastery yet
    failed_early = summary([attempt("sco_a", 1, "completed", "failed", 0.2)], MANY)
    assert failed_early["success_status"] == "failed"
    passed = summary([attempt("sco_a", 1, "completed", "passed", 1.0), attempt("sco_b", 1, "completed", None)], MANY)
    assert passed["success_status"] == "passed"
    failed = summary([attempt("sco_a", 1, "completed", "passed", 1.0),
                      attempt("sco_b", 1, "completed", "failed", 0.5)], MANY)
    assert failed["success_status"] == "failed"
    assert failed["score_scaled"] == 0.75                                   # mean of the known scores
    unknown = summary([attempt("sco_a", 1, "incomplete")], MANY)
    assert unknown["success_status"] is None and unknown["score_scaled"] is None


def test_total_time_sums_every_attempt_of_every_sco():
    s = summary([attempt("sco_a", 1, "completed", total="PT1M30.5S"), attempt("sco_a", 2, total="PT10S"),
                 attempt("sco_b", 1, total="PT1H")], MANY)
    assert s["total_time"] == "PT1H1M40.5S" and s["attempts"] == 3
    assert s["scos"][0]["total_time"] == "PT1M40.5S" and s["scos"][0]["attempts"] == 2


def test_a_sequenced_course_has_the_status_its_rollup_decided():
    attempts = [attempt("sco_a", 1, "completed", "failed", 0.4)]
    s = summary(attempts, MANY, {"completion_status": "completed", "success_status": "passed", "score_scaled": 0.8})
    assert (s["completion_status"], s["success_status"], s["score_scaled"]) == ("completed", "passed", 0.8)
    assert s["scos"][0]["success_status"] == "failed"     # the SCOs keep their own
