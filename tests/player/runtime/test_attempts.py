"""Commits and attempts (player/runtime/attempts.py): parse_commit, apply, launch_values."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from player.runtime.attempts import (Commit, ScoContext, apply, entry_of, launch_values, learner_id,
                                     learner_name, parse_commit)
from player.runtime.errors import CommitRejected
from player.storage.ports import Attempt, Registration

REG = "7d0f3c5e-8a53-4a5e-9d0e-1a2b3c4d5e6f"
NOW = datetime(2026, 11, 30, 2, 10, tzinfo=timezone.utc)
ALICE = {"objectType": "Agent", "mbox": "mailto:alice@example.com", "name": "Alice Smith"}
REGISTRATION = Registration(REG, ALICE, "mbox:mailto:alice@example.com", "golf", 1,
                            "2026-11-30T02:00:00.000Z", "2026-11-30T02:00:00.000Z")


def body(**changes) -> dict:
    out = {"registration": REG, "sco": "item_1", "attempt": 1, "seq": 3, "event": "commit",
           "at": "2026-11-30T02:03:04.567Z", "data": {"cmi.core.lesson_status": "incomplete"}}
    out.update(changes)
    return out


def parse(b: dict, version: str = "1.2") -> Commit:
    return parse_commit(b, version, now=NOW)


def refused(b, path: str, version: str = "1.2") -> CommitRejected:
    with pytest.raises(CommitRejected) as info:
        parse(b, version)
    assert info.value.status == 400
    assert info.value.path == path, info.value.message
    return info.value


# -- parse_commit ------------------------------------------------------------------------------

def test_a_commit_body_as_common_md_shows_it_parses():
    c = parse(body(registration=REG.upper(), data={"cmi.core.lesson_status": "incomplete",
                                                   "cmi.core.score.raw": "80",
                                                   "cmi.interactions.0.id": "q1",
                                                   "cmi.interactions.0.student_response": "a"}))
    assert c == Commit(REG, "item_1", 1, 3, "commit", "2026-11-30T02:03:04.567Z",
                       {"cmi.core.lesson_status": "incomplete", "cmi.core.score.raw": "80",
                        "cmi.interactions.0.id": "q1", "cmi.interactions.0.student_response": "a"})
    assert c.at_datetime == datetime(2026, 11, 30, 2, 3, 4, 567000, tzinfo=timezone.utc)


@pytest.mark.parametrize("event", ["initialize", "commit", "terminate"])
def test_the_three_events_parse(event):
    assert parse(body(event=event)).event == event


def test_unknown_and_missing_fields_are_refused():
    err = refused(body(extra=1), "extra")
    assert "no field 'extra'" in err.message
    for name in ("registration", "sco", "attempt", "seq", "event", "at", "data"):
        b = body()
        del b[name]
        refused(b, name)


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(CommitRejected) as info:
        parse([body()])
    assert info.value.status == 400


@pytest.mark.parametrize("field, value", [
    ("registration", "not-a-uuid"), ("registration", 12), ("sco", ""), ("sco", None), ("sco", "x" * 4001),
    ("attempt", 0), ("attempt", "1"), ("attempt", True), ("attempt", 1.0), ("seq", 0), ("seq", -1),
    ("seq", 2 ** 53), ("event", "finish"), ("event", None),
    ("at", "2026-11-30"), ("at", "2026-11-30T02:03:04"), ("at", "2026-11-30T03:03:04+01:00"),
    ("at", "yesterday"), ("at", 1764468184), ("data", []),
])
def test_each_field_is_checked(field, value):
    refused(body(**{field: value}), field)


def test_at_may_be_old_but_not_more_than_five_minutes_ahead():
    """Offline queues send old commits; a clock far ahead is a broken one."""
    assert parse(body(at="2026-11-27T02:03:04.567Z"))
    assert parse(body(at=(NOW + timedelta(minutes=4)).isoformat().replace("+00:00", "Z")))
    err = refused(body(at=(NOW + timedelta(minutes=6)).isoformat().replace("+00:00", "Z")), "at")
    assert "ahead" in err.message
    assert parse_commit(body(at="2026-11-30T02:14:00+00:00"), "1.2", now=lambda: NOW)


def test_data_is_checked_against_the_data_model_and_names_the_element():
    refused(body(data={"cmi.core.score.raw": "eighty"}), "cmi.core.score.raw")
    refused(body(data={"cmi.core.lesson_status": "incomplete"}), "cmi.core.lesson_status", version="2004")


# -- apply: sessions and time --------------------------------------------------------------------

SCO12 = ScoContext("1.2", {"identifier": "item_1", "scorm_type": "sco"})
SCO2004 = ScoContext("2004", {"identifier": "item_1", "scorm_type": "sco"})


def fresh(number: int = 1) -> Attempt:
    return Attempt(REG, "item_1", number, "2026-11-30T02:00:00.000Z", "2026-11-30T02:00:00.000Z")


def commit(event: str, data: dict, at: str = "2026-11-30T02:03:04.567Z", seq: int = 1) -> Commit:
    return Commit(REG, "item_1", 1, seq, event, at, data)


def run(sco: ScoContext, *steps, attempt: Attempt | None = None) -> Attempt:
    a = attempt or fresh()
    for seq, (event, data) in enumerate(steps, 1):
        a = apply(a, commit(event, data, seq=seq), sco)
    return a


def test_initialize_opens_the_first_session():
    a = apply(fresh(), commit("initialize", {"cmi.core.lesson_status": "incomplete"}), SCO12)
    assert a.data == {"cmi": {"cmi.core.lesson_status": "incomplete"},
                      "session": {"number": 1, "started": "2026-11-30T02:03:04.567Z", "time": "PT0S"},
                      "closed_time": "PT0S", "exit": "", "terminated": False}
    assert a.total_time == "PT0S" and a.ended is False


def test_apply_is_pure():
    before = run(SCO12, ("initialize", {"cmi.core.lesson_location": "1"}))
    snapshot = repr(before)
    apply(before, commit("terminate", {"cmi.core.exit": "", "cmi.core.lesson_location": "2"}), SCO12)
    assert repr(before) == snapshot


def test_each_commit_replaces_the_snapshot():
    """A commit is a full snapshot: an element it no longer carries is gone."""
    a = run(SCO12, ("initialize", {"cmi.core.lesson_location": "1", "cmi.suspend_data": "abc"}),
            ("commit", {"cmi.core.lesson_location": "2"}))
    assert a.data["cmi"] == {"cmi.core.lesson_location": "2"}


def test_session_time_comes_from_the_sco_and_sums_into_total_time():
    """SCORM 1.2 RTE 3.4.4 cmi.core.session_time and cmi.core.total_time: the sum of the sessions' times."""
    a = run(SCO12, ("initialize", {}), ("commit", {"cmi.core.session_time": "0000:01:02.5"}),
            ("terminate", {"cmi.core.session_time": "0000:01:02.5", "cmi.core.exit": "suspend"}))
    assert a.data["session"]["time"] == "PT1M2.5S"
    assert a.total_time == "PT1M2.5S"
    b = apply(a, commit("initialize", {}, at="2026-11-30T05:00:00.000Z", seq=4), SCO12)
    assert b.data["session"] == {"number": 2, "started": "2026-11-30T05:00:00.000Z", "time": "PT0S"}
    assert b.data["closed_time"] == "PT1M2.5S" and b.total_time == "PT1M2.5S"
    assert b.data["terminated"] is False and b.data["exit"] == "suspend"
    c = apply(b, commit("commit", {"cmi.core.session_time": "0000:00:30"}, seq=5), SCO12)
    assert c.total_time == "PT1M32.5S"


def test_2004_session_time_is_an_iso_duration():
    """RTE 2004 4.2.21 session_time, 4.2.25 total_time."""
    a = run(SCO2004, ("initialize", {}), ("terminate", {"cmi.session_time": "PT2M0.25S", "cmi.exit": "suspend"}),
            ("initialize", {}), ("commit", {"cmi.session_time": "PT1H"}))
    assert a.data["closed_time"] == "PT2M0.25S"
    assert a.total_time == "PT1H2M0.25S"
    assert a.data["session"]["number"] == 2


def test_a_session_left_without_terminate_is_closed_by_the_next_initialize():
    """The tab closed after an autosave: its time counts, the attempt resumes."""
    a = run(SCO12, ("initialize", {}), ("commit", {"cmi.core.session_time": "0000:00:40"}),
            ("initialize", {}))
    assert a.data["session"]["number"] == 2 and a.data["closed_time"] == "PT40S"
    assert a.ended is False


def test_a_commit_with_no_open_session_opens_one():
    first = apply(fresh(), commit("commit", {"cmi.core.lesson_location": "1"}), SCO12)
    assert first.data["session"]["number"] == 1
    done = run(SCO12, ("initialize", {}), ("terminate", {"cmi.core.exit": "suspend",
                                                          "cmi.core.session_time": "0000:00:10"}),
               ("commit", {"cmi.core.lesson_location": "3"}))
    assert done.data["session"]["number"] == 2 and done.data["closed_time"] == "PT10S"
    assert done.data["terminated"] is False


@pytest.mark.parametrize("sco, key, value, ended", [
    (SCO12, "cmi.core.exit", "suspend", False), (SCO12, "cmi.core.exit", "", True),
    (SCO12, "cmi.core.exit", "logout", True), (SCO12, "cmi.core.exit", "time-out", True),
    (SCO2004, "cmi.exit", "suspend", False), (SCO2004, "cmi.exit", "normal", True),
    (SCO2004, "cmi.exit", "", True), (SCO2004, "cmi.exit", "logout", True),
])
def test_terminate_ends_the_attempt_unless_the_exit_is_suspend(sco, key, value, ended):
    a = run(sco, ("initialize", {}), ("terminate", {key: value}))
    assert a.ended is ended
    assert a.data["exit"] == value and a.data["terminated"] is True


def test_a_1_2_lesson_left_incomplete_keeps_its_attempt_and_data_for_the_next_launch():
    """SCORM 1.2 has no attempts: data lives on across sessions, and the next launch's entry is ""
    (RTE 3.4.4 cmi.core.entry) when the SCO exited normally without finishing the lesson."""
    a = run(SCO12, ("initialize", {}), ("terminate", {"cmi.core.lesson_status": "incomplete",
                                                      "cmi.core.lesson_location": "p4", "cmi.core.exit": ""}))
    assert a.ended is False and a.data["terminated"] is True
    assert entry_of(a) == ""


def test_terminate_without_an_exit_ends_the_attempt():
    assert run(SCO2004, ("initialize", {}), ("terminate", {})).ended is True


def test_a_commit_on_an_ended_attempt_is_refused_as_gone():
    a = run(SCO12, ("initialize", {}), ("terminate", {"cmi.core.exit": ""}))
    with pytest.raises(CommitRejected) as info:
        apply(a, commit("commit", {}), SCO12)
    assert info.value.status == 410


# -- apply: SCORM 1.2 statuses -------------------------------------------------------------------

MASTERY = ScoContext("1.2", {"identifier": "module1", "scorm_type": "sco", "mastery_score": 80.0})


def test_1_2_initialize_leaves_not_attempted_for_the_sco_to_change():
    """SCORM 1.2 RTE 3.4.4 cmi.core.lesson_status: the LMS's initial value is 'not attempted'; the SCO sets the rest."""
    a = run(SCO12, ("initialize", {"cmi.core.lesson_status": "not attempted"}))
    assert a.completion_status == "not attempted" and a.success_status is None
    assert a.data["cmi"]["cmi.core.lesson_status"] == "not attempted"


def test_1_2_lesson_status_left_not_attempted_is_completed_at_finish():
    """SCORM 1.2 RTE 3.4.4 cmi.core.lesson_status, Additional Behavior Requirements: on LMSFinish the
    LMS sets 'completed' if the SCO did not."""
    a = run(SCO12, ("initialize", {"cmi.core.lesson_status": "not attempted"}),
            ("commit", {"cmi.core.lesson_status": "not attempted"}))
    assert a.completion_status == "not attempted"
    a = apply(a, commit("terminate", {"cmi.core.lesson_status": "not attempted", "cmi.core.exit": ""}, seq=3), SCO12)
    assert a.completion_status == "completed"
    assert a.data["cmi"]["cmi.core.lesson_status"] == "completed"
    b = run(SCO12, ("initialize", {}), ("terminate", {"cmi.core.exit": "suspend"}))
    assert b.completion_status == "completed"


def test_1_2_a_status_the_sco_set_is_kept_at_finish():
    a = run(SCO12, ("initialize", {}), ("terminate", {"cmi.core.lesson_status": "incomplete",
                                                       "cmi.core.exit": "suspend"}))
    assert a.completion_status == "incomplete"
    assert a.data["cmi"]["cmi.core.lesson_status"] == "incomplete"


@pytest.mark.parametrize("status, raw, decided", [
    ("completed", "85", "passed"), ("passed", "70", "failed"), ("incomplete", "80", "passed"),
    ("failed", "100", "passed"), ("completed", "79.99", "failed"),
])
def test_1_2_mastery_score_decides_passed_or_failed_from_the_raw_score(status, raw, decided):
    """SCORM 1.2 RTE 3.4.4 cmi.student_data.mastery_score: with credit, in normal mode, raw >= mastery
    passes, below fails, whatever lesson_status the SCO set."""
    a = run(MASTERY, ("initialize", {}), ("commit", {"cmi.core.lesson_status": status, "cmi.core.score.raw": raw}))
    assert a.data["cmi"]["cmi.core.lesson_status"] == decided
    assert a.success_status == decided and a.completion_status == "completed"


def test_1_2_mastery_score_needs_a_raw_score_credit_and_normal_mode():
    a = run(MASTERY, ("initialize", {}), ("commit", {"cmi.core.lesson_status": "completed"}))
    assert a.success_status is None and a.completion_status == "completed"
    a = run(MASTERY, ("initialize", {}), ("commit", {"cmi.core.lesson_status": "completed",
                                                     "cmi.core.score.raw": ""}))
    assert a.success_status is None
    for sco in (ScoContext("1.2", MASTERY.item, credit="no-credit"), ScoContext("1.2", MASTERY.item, mode="browse")):
        a = run(sco, ("initialize", {}),
                ("commit", {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": "10"}))
        assert a.success_status is None and a.data["cmi"]["cmi.core.lesson_status"] == "completed"


def test_1_2_without_a_mastery_score_the_sco_decides():
    """The golf 1.2 sample decides passed (>= 70) itself; the manifest has no masteryscore."""
    a = run(SCO12, ("initialize", {}), ("commit", {"cmi.core.lesson_status": "failed", "cmi.core.score.raw": "60",
                                                   "cmi.core.score.min": "0", "cmi.core.score.max": "100"}))
    assert (a.completion_status, a.success_status, a.score_scaled) == ("completed", "failed", 0.6)


@pytest.mark.parametrize("status, completion, success", [
    ("passed", "completed", "passed"), ("failed", "completed", "failed"), ("completed", "completed", None),
    ("incomplete", "incomplete", None), ("browsed", "incomplete", None), ("not attempted", "not attempted", None),
])
def test_1_2_lesson_status_maps_to_completion_and_success(status, completion, success):
    a = run(SCO12, ("initialize", {}), ("commit", {"cmi.core.lesson_status": status}))
    assert (a.completion_status, a.success_status) == (completion, success)


def test_1_2_scaled_score_is_raw_over_100_as_the_xapi_profile_reports_it():
    """xAPI Profile for SCORM §6 Score: 1.2 cmi.core.score.raw / 100 is reported as score.scaled."""
    a = run(SCO12, ("initialize", {}), ("commit", {"cmi.core.score.raw": "80", "cmi.core.score.min": "0",
                                                   "cmi.core.score.max": "100"}))
    assert a.score_scaled == 0.8
    a = run(SCO12, ("initialize", {}), ("commit", {"cmi.core.score.raw": "15", "cmi.core.score.max": "20"}))
    assert a.score_scaled == 0.15
    assert run(SCO12, ("initialize", {}), ("commit", {})).score_scaled is None


# -- apply: SCORM 2004 statuses ------------------------------------------------------------------

def ctx2004(**item) -> ScoContext:
    return ScoContext("2004", {"identifier": "item_1", "scorm_type": "sco", **item})


THRESHOLD = ctx2004(completion_threshold={"min_progress_measure": 0.75, "completed_by_measure": True})


@pytest.mark.parametrize("data, decided", [
    ({"cmi.progress_measure": "0.75"}, "completed"),
    ({"cmi.progress_measure": "0.9", "cmi.completion_status": "incomplete"}, "completed"),
    ({"cmi.progress_measure": "0.5", "cmi.completion_status": "completed"}, "incomplete"),
    ({"cmi.completion_status": "completed"}, "unknown"),
])
def test_2004_completion_threshold_decides_completion_from_progress_measure(data, decided):
    """RTE 2004 4.2.4.1 (Table 4.2.4.1a): with a completion_threshold, progress_measure >= threshold is
    completed, below is incomplete, no progress_measure is unknown, whatever the SCO set."""
    a = run(THRESHOLD, ("initialize", {}), ("commit", data))
    assert a.completion_status == decided
    assert a.data["cmi"]["cmi.completion_status"] == decided


def test_2004_without_a_threshold_the_sco_decides_completion():
    a = run(SCO2004, ("initialize", {}), ("commit", {"cmi.completion_status": "completed",
                                                     "cmi.progress_measure": "0.1"}))
    assert a.completion_status == "completed"
    assert run(SCO2004, ("initialize", {}), ("commit", {})).completion_status == "unknown"


def test_2004_completed_by_measure_without_a_measure_means_a_threshold_of_1():
    """CAM 4th ed adlcp:completionThreshold minProgressMeasure defaults to 1.0."""
    sco = ctx2004(completion_threshold={"completed_by_measure": True})
    assert sco.completion_threshold() == 1.0
    assert run(sco, ("initialize", {}), ("commit", {"cmi.progress_measure": "0.99"})).completion_status == "incomplete"
    assert ctx2004(completion_threshold={"completed_by_measure": False}).completion_threshold() is None


PASSING = ctx2004(objectives=[{"id": "PRIMARYOBJ", "primary": True, "satisfied_by_measure": True,
                               "min_normalized_measure": 0.8}, {"id": "obj_playing", "primary": False}])


@pytest.mark.parametrize("data, decided", [
    ({"cmi.score.scaled": "0.8"}, "passed"), ({"cmi.score.scaled": "1"}, "passed"),
    ({"cmi.score.scaled": "0.79", "cmi.success_status": "passed"}, "failed"),
    ({"cmi.success_status": "passed"}, None),
])
def test_2004_scaled_passing_score_decides_success_from_score_scaled(data, decided):
    """RTE 2004 4.2.22.1 (Table 4.2.22.1a): with a scaled_passing_score, score.scaled >= it passes,
    below fails, no score.scaled is unknown, whatever the SCO set. The golf 2004 sample relies on
    it: it reports score.scaled = score / 100 and leaves success to the manifest's 0.8."""
    a = run(PASSING, ("initialize", {}), ("commit", data))
    assert a.success_status == decided
    assert a.data["cmi"]["cmi.success_status"] == (decided or "unknown")


def test_2004_scaled_passing_score_comes_from_a_primary_objective_satisfied_by_measure():
    """RTE 2004 4.2.19: minNormalizedMeasure of the primary objective when satisfiedByMeasure is true."""
    assert PASSING.scaled_passing_score() == 0.8
    assert ctx2004(objectives=[{"id": "p", "primary": True, "satisfied_by_measure": False,
                                "min_normalized_measure": 0.8}]).scaled_passing_score() is None
    by_measure = ctx2004(objectives=[{"id": "p", "primary": True, "satisfied_by_measure": True}])
    assert by_measure.scaled_passing_score() == 1.0
    sco = ctx2004(objectives=[{"id": "p", "primary": True, "satisfied_by_measure": False}])
    a = run(sco, ("initialize", {}), ("commit", {"cmi.success_status": "passed", "cmi.score.scaled": "0.1"}))
    assert a.success_status == "passed" and a.score_scaled == 0.1


# -- launch_values -------------------------------------------------------------------------------

PREREQ_ITEM = {"identifier": "module1", "scorm_type": "sco", "mastery_score": 80.0, "max_time_allowed": "02:30:00",
               "time_limit_action": "exit,message", "data_from_lms": "custom_data"}


def test_1_2_launch_values_of_a_new_attempt():
    """SCORM 1.2 RTE 3.4.4: the LMS-set elements; entry ab-initio for a first launch."""
    values = launch_values(fresh(), ScoContext("1.2", PREREQ_ITEM), REGISTRATION)
    assert values == {
        "cmi.core.student_id": "alice@example.com", "cmi.core.student_name": "Alice Smith",
        "cmi.core.lesson_mode": "normal", "cmi.core.credit": "credit", "cmi.core.entry": "ab-initio",
        "cmi.core.total_time": "0000:00:00.00", "cmi.launch_data": "custom_data",
        "cmi.student_data.mastery_score": "80", "cmi.student_data.max_time_allowed": "02:30:00",
        "cmi.student_data.time_limit_action": "exit,message"}
    assert launch_values(None, SCO12, REGISTRATION)["cmi.core.entry"] == "ab-initio"


def test_1_2_a_suspended_attempt_resumes_with_its_data():
    """SCORM 1.2 RTE 3.4.4 cmi.core.entry: 'resume' after exit suspend; the saved data comes back but not the
    write-only session elements."""
    a = run(SCO12, ("initialize", {}), ("terminate", {"cmi.core.lesson_location": "7", "cmi.suspend_data": "p=7",
                                                       "cmi.core.lesson_status": "incomplete",
                                                       "cmi.core.session_time": "0000:02:00",
                                                       "cmi.core.exit": "suspend",
                                                       "cmi.interactions.0.id": "q1",
                                                       "cmi.interactions.0.result": "correct"}))
    values = launch_values(a, SCO12, REGISTRATION)
    assert values["cmi.core.entry"] == "resume"
    assert values["cmi.core.total_time"] == "0000:02:00.00"
    assert values["cmi.core.lesson_location"] == "7" and values["cmi.suspend_data"] == "p=7"
    assert values["cmi.interactions.0.id"] == "q1" and values["cmi.core.lesson_status"] == "incomplete"
    assert "cmi.core.session_time" not in values and "cmi.core.exit" not in values


def test_an_attempt_left_without_terminate_resumes():
    a = run(SCO2004, ("initialize", {}), ("commit", {"cmi.location": "3", "cmi.session_time": "PT30S"}))
    values = launch_values(a, SCO2004, REGISTRATION)
    assert values["cmi.entry"] == "resume" and values["cmi.location"] == "3"
    assert values["cmi.total_time"] == "PT30S" and "cmi.session_time" not in values


def test_entry_is_empty_after_a_normal_exit():
    """RTE 2004 4.2.7: entry is '' unless the attempt is new or resumed."""
    a = run(SCO2004, ("initialize", {}), ("terminate", {"cmi.exit": "normal"}))
    assert entry_of(a) == ""
    assert entry_of(fresh()) == "ab-initio"


def test_2004_launch_values_of_a_new_attempt_carry_the_manifest_objectives():
    """RTE 2004 4.2.17: the LMS initializes cmi.objectives with the manifest's objective ids, which the
    golf 2004 sample looks up with FindObjectiveIndex; 4.2.19 scaled_passing_score; 4.2.5
    completion_threshold; 4.2.15 max_time_allowed from attemptAbsoluteDurationLimit; 4.2.24
    time_limit_action defaults to 'continue,no message'."""
    sco = ctx2004(objectives=PASSING.item["objectives"], data_from_lms="start=2",
                  completion_threshold={"min_progress_measure": 0.5},
                  sequencing={"limitConditions": {"attemptAbsoluteDurationLimit": "PT1H"}})
    values = launch_values(fresh(), sco, REGISTRATION)
    assert values == {
        "cmi.learner_id": "alice@example.com", "cmi.learner_name": "Alice Smith", "cmi.mode": "normal",
        "cmi.credit": "credit", "cmi.entry": "ab-initio", "cmi.total_time": "PT0S", "cmi.launch_data": "start=2",
        "cmi.scaled_passing_score": "0.8", "cmi.completion_threshold": "0.5", "cmi.max_time_allowed": "PT1H",
        "cmi.time_limit_action": "continue,no message",
        "cmi.objectives.0.id": "PRIMARYOBJ", "cmi.objectives.1.id": "obj_playing"}


def test_2004_manifest_objective_ids_are_given_as_the_sequencing_engine_knows_them():
    """objectiveID is xs:anyURI: " ob%20j%201 " is the objective the engine (and its rules) call
    "ob j 1"; cmi.objectives must name it the same way (ADL test OB-12a)."""
    sco = ctx2004(objectives=[{"id": " ob%20j%201     ", "primary": False}, {"id": "  ", "primary": False}])
    values = launch_values(fresh(), sco, REGISTRATION)
    assert [v for k, v in values.items() if k.startswith("cmi.objectives.")] == ["ob j 1"]


def test_2004_a_resumed_attempt_loads_its_snapshot_not_the_manifest_objectives_again():
    a = run(PASSING, ("initialize", {"cmi.objectives.0.id": "PRIMARYOBJ", "cmi.objectives.1.id": "obj_playing",
                                     "cmi.objectives.1.progress_measure": "0.5"}),
            ("terminate", {"cmi.objectives.0.id": "PRIMARYOBJ", "cmi.objectives.1.id": "obj_playing",
                           "cmi.objectives.1.progress_measure": "1", "cmi.exit": "suspend",
                           "adl.nav.request": "suspendAll", "cmi.session_time": "PT5S"}))
    values = launch_values(a, PASSING, REGISTRATION)
    assert values["cmi.entry"] == "resume"
    assert values["cmi.objectives.1.progress_measure"] == "1"
    assert not {"cmi.exit", "cmi.session_time", "adl.nav.request"} & set(values)


@pytest.mark.parametrize("agent, expected_id, expected_name", [
    ({"account": {"homePage": "https://lms.example.com", "name": "500-627-490"}}, "500-627-490", "500-627-490"),
    ({"mbox": "mailto:bob@example.com", "name": "Bob"}, "bob@example.com", "Bob"),
    ({"openid": "https://id.example.com/carol"}, "https://id.example.com/carol", "https://id.example.com/carol"),
    ({"mbox_sha1sum": "ab" * 20, "name": "  "}, "ab" * 20, "ab" * 20),
])
def test_learner_id_and_name_come_from_the_agent(agent, expected_id, expected_name):
    """xAPI Profile for SCORM §6 Learner ID / Learner Name: the LMS's identifier and name of the learner."""
    assert learner_id(agent) == expected_id
    assert learner_name(agent) == expected_name


def test_launch_values_prefer_the_context_learner_over_the_registration():
    sco = ScoContext("1.2", {"identifier": "item_1"}, learner={"account": {"homePage": "h", "name": "x1"}})
    assert launch_values(fresh(), sco, REGISTRATION)["cmi.core.student_id"] == "x1"


def test_sco_context_rejects_an_unknown_version():
    with pytest.raises(ValueError):
        ScoContext("1.3", {})
