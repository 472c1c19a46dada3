"""Profile 5.0, "Supporting the SCORM Temporal Model": initialize, resume, suspend and terminate
statements, the attempt activity in grouping, and the activity state's attempts, for a SCORM 1.2
and a SCORM 2004 SCO."""
from __future__ import annotations

import pytest

from bridge_kit import (BASE, COURSE_IRI, LEARNER, REG, SCO_IRI, SHA, Sco, at, attempt, context, course, docs,
                        expected, sco, verbs, without_ids)
from player.bridge import ACTIVITY_STATE, ATTEMPT_STATE, statement_id

EXIT = {"1.2": "cmi.core.exit", "2004": "cmi.exit"}
SESSION = {"1.2": "cmi.core.session_time", "2004": "cmi.session_time"}
SESSION_5M = {"1.2": "0000:05:00.00", "2004": "PT5M"}
NORMAL = {"1.2": "", "2004": "normal"}


def test_initializing_an_attempt_makes_the_initialized_statement_of_the_profile_exactly():
    """The Appendix example "Initialize a SCO Attempt", with this player's IRIs and definitions, in full."""
    p = Sco(context("1.2")).initialize("2026-11-30T02:00:00.000Z")
    assert p.statements == [{
        "id": statement_id(REG, "lesson 1", 1, 1, 0),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://hr.example.com", "name": "e-1042"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/initialized", "display": {"en-US": "initialized"}},
        "object": {
            "id": "http://lrs.test/courses/5e1f0c2a9b7d4e31/scos/lesson%201",
            "definition": {"name": {"und": "Lesson 1"},
                           "description": {"en-US": "The activity representing Lesson 1 in the course Forklift safety"},
                           "type": "http://adlnet.gov/expapi/activities/lesson"}},
        "context": {
            "registration": "0f6a7a52-6c1e-4f55-9a0c-3d1f0b6a2c11",
            "revision": "3",
            "contextActivities": {
                "grouping": [
                    {"id": "http://lrs.test/courses/5e1f0c2a9b7d4e31",
                     "definition": {"name": {"und": "Forklift safety"},
                                    "description": {"en-US": "The activity representing the course Forklift safety"},
                                    "type": "http://adlnet.gov/expapi/activities/course"}},
                    {"id": "http://lrs.test/courses/5e1f0c2a9b7d4e31/scos/lesson%201/attempts/"
                           "0f6a7a52-6c1e-4f55-9a0c-3d1f0b6a2c11/1",
                     "definition": {"name": {"en-US": "Attempt 1 of Lesson 1"},
                                    "description": {"en-US": "The activity representing attempt 1 of Lesson 1 in the "
                                                             "course Forklift safety"},
                                    "type": "http://adlnet.gov/expapi/activities/attempt"}}],
                "category": [{"id": "https://w3id.org/xapi/scorm",
                              "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]},
            "extensions": {"http://lrs.test/extensions/package-sha256": SHA}},
        "timestamp": "2026-11-30T02:00:00.000Z",
    }]


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_new_attempt_with_normal_exit_is_initialized_then_terminated(version):
    s = Sco(context(version))
    s.initialize(at(0))
    s.commit(at(2), {"cmi.core.lesson_location" if version == "1.2" else "cmi.location": "page-2"})
    last = s.terminate(at(5), {EXIT[version]: NORMAL[version], SESSION[version]: SESSION_5M[version]})
    assert [verbs(p) for p in s.plans] == [["initialized"], [], ["terminated"]]
    assert without_ids(s.plans[0].statements) == [expected("initialized", when=at(0))]
    assert without_ids(last.statements) == [expected("terminated", when=at(5), result={"duration": "PT5M"})]
    assert s.attempt.ended


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_new_attempt_with_suspend_is_initialized_then_suspended(version):
    s = Sco(context(version))
    s.initialize(at(0))
    last = s.terminate(at(5), {EXIT[version]: "suspend", SESSION[version]: SESSION_5M[version]})
    assert [verbs(p) for p in s.plans] == [["initialized"], ["suspended"]]
    assert without_ids(last.statements) == [expected("suspended", when=at(5), result={"duration": "PT5M"})]
    assert not s.attempt.ended


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_resume_attempt_with_suspend_is_resumed_then_suspended_in_the_same_attempt(version):
    s = Sco(context(version))
    s.initialize(at(0))
    s.terminate(at(5), {EXIT[version]: "suspend", SESSION[version]: SESSION_5M[version]})
    resumed = s.initialize(at(10))
    suspended = s.terminate(at(12), {EXIT[version]: "suspend", SESSION[version]: SESSION_5M[version]})
    assert without_ids(resumed.statements) == [expected("resumed", when=at(10))]
    assert without_ids(suspended.statements) == [expected("suspended", when=at(12), result={"duration": "PT5M"})]
    # the grouping keeps the attempt made when the SCO was first initialized (profile 5.0, "Resuming an attempt")
    assert resumed.statements[0]["context"]["contextActivities"]["grouping"][1] == attempt(1)


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_resume_attempt_with_normal_exit_is_resumed_then_terminated(version):
    s = Sco(context(version))
    s.initialize(at(0))
    s.terminate(at(5), {EXIT[version]: "suspend", SESSION[version]: SESSION_5M[version]})
    s.initialize(at(10))
    last = s.terminate(at(15), {EXIT[version]: NORMAL[version], SESSION[version]: SESSION_5M[version]})
    assert [verbs(p) for p in s.plans] == [["initialized"], ["suspended"], ["resumed"], ["terminated"]]
    assert without_ids(last.statements) == [expected("terminated", when=at(15), result={"duration": "PT5M"})]
    # the attempt state's total time counts both sessions
    assert docs(last, ATTEMPT_STATE)[0].body["total_time"] == "PT10M"


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_session_left_without_terminate_resumes_the_same_attempt(version):
    """A tab closed after a commit: the next launch resumes (entry resume), with no suspend statement
    invented for the session that was left."""
    s = Sco(context(version))
    s.initialize(at(0))
    s.commit(at(3), {SESSION[version]: SESSION_5M[version]})
    resumed = s.initialize(at(30))
    assert [verbs(p) for p in s.plans] == [["initialized"], [], ["resumed"]]
    assert resumed.statements[0]["context"]["contextActivities"]["grouping"][1] == attempt(1)


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_initializing_a_new_attempt_after_one_ended_uses_a_new_attempt_iri(version):
    s = Sco(context(version))
    s.initialize(at(0))
    s.terminate(at(5), {EXIT[version]: NORMAL[version]})
    second = s.initialize(at(20))
    assert without_ids(second.statements) == [expected("initialized", when=at(20), n=2)]
    assert docs(second, ACTIVITY_STATE)[0].body == {"attempts": [f"{SCO_IRI}/attempts/{REG}/2"]}
    assert docs(second, ACTIVITY_STATE)[0].how == "append"


def test_the_attempt_iri_is_appended_to_the_activity_state_of_the_sco_at_every_initialize():
    """Profile 5.0 "Initializing an attempt" and Appendix "Set activity state with current attempt":
    stateId activity-state, activityId the SCO IRI, agent the learner; appending an IRI already in
    the array (a resume) leaves it as it is."""
    s = Sco(context("2004"))
    first = s.initialize(at(0))
    (state,) = docs(first, ACTIVITY_STATE)
    assert (state.resource, state.activity_id, state.agent, state.registration) == ("state", SCO_IRI, LEARNER, "")
    assert state.body == {"attempts": [f"{SCO_IRI}/attempts/{REG}/1"]}
    assert state.params()["stateId"] == "https://w3id.org/xapi/scorm/activity-state"
    s.commit(at(1), {"cmi.location": "2"})
    assert docs(s.plans[-1], ACTIVITY_STATE) == []


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_terminated_result_holds_success_completion_score_and_session_time(version):
    """Profile 5.0 "Terminating an attempt" and 7.0 "SCO Status": the overall result of the SCO."""
    s = Sco(context(version))
    s.initialize(at(0))
    if version == "1.2":
        cmi = {"cmi.core.lesson_status": "passed", "cmi.core.score.raw": "95", "cmi.core.score.min": "0",
               "cmi.core.score.max": "100", "cmi.core.exit": "", "cmi.core.session_time": "0001:02:03.40"}
    else:
        cmi = {"cmi.completion_status": "completed", "cmi.success_status": "passed", "cmi.score.scaled": "0.95",
               "cmi.score.raw": "95", "cmi.score.min": "0", "cmi.score.max": "100", "cmi.exit": "normal",
               "cmi.session_time": "PT1H2M3.4S"}
    last = s.terminate(at(9), cmi, completion="completed", success="passed")
    assert verbs(last) == ["scored", "completed", "passed", "terminated"]
    assert last.statements[-1]["result"] == {"score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
                                             "success": True, "completion": True, "duration": "PT1H2M3.4S"}


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_suspended_result_reports_incomplete_as_completion_false(version):
    s = Sco(context(version))
    s.initialize(at(0))
    status = {"cmi.core.lesson_status": "incomplete"} if version == "1.2" else {"cmi.completion_status": "incomplete"}
    last = s.terminate(at(2), {**status, EXIT[version]: "suspend"}, completion="incomplete")
    assert last.statements[-1]["result"] == {"completion": False, "duration": "PT0S"}


def test_2004_suspend_all_navigation_request_suspends_the_attempt():
    s = Sco(context("2004"))
    s.initialize(at(0))
    last = s.terminate(at(1), {"cmi.exit": "", "adl.nav.request": "suspendAll"})
    assert verbs(last) == ["suspended"]


@pytest.mark.parametrize("version", ["1.2", "2004"])
@pytest.mark.parametrize("exit_value", ["logout", "time-out"])
def test_exits_other_than_suspend_terminate_the_attempt(version, exit_value):
    s = Sco(context(version))
    s.initialize(at(0))
    assert verbs(s.terminate(at(1), {EXIT[version]: exit_value})) == ["terminated"]


def test_statement_ids_are_deterministic_per_registration_sco_attempt_seq_and_index():
    one, two = Sco(context("2004")), Sco(context("2004"))
    for s in (one, two):
        s.initialize(at(0))
        s.terminate(at(5), {"cmi.completion_status": "completed", "cmi.exit": "normal"}, completion="completed")
    assert [p.statement_ids for p in one.plans] == [p.statement_ids for p in two.plans]
    assert one.plans[1].statement_ids == [statement_id(REG, "lesson 1", 1, 2, 0),
                                          statement_id(REG, "lesson 1", 1, 2, 1)]
    other = Sco(context("2004", registration="7a1b6c54-2b8e-4b1e-8f7a-1c2d3e4f5a6b"))
    other.initialize(at(0))
    assert other.plans[0].statement_ids != one.plans[0].statement_ids


def test_statements_of_one_commit_share_its_timestamp_and_keep_their_order():
    s = Sco(context("2004"))
    s.initialize(at(0))
    p = s.terminate(at(7), {"cmi.score.scaled": "0.5", "cmi.completion_status": "completed",
                            "cmi.success_status": "failed", "cmi.exit": "normal"},
                    completion="completed", success="failed")
    assert verbs(p) == ["scored", "completed", "failed", "terminated"]
    assert {st["timestamp"] for st in p.statements} == {at(7)}


def test_every_statement_carries_the_profile_category_the_course_and_the_attempt():
    s = Sco(context("1.2"))
    s.initialize(at(0))
    p = s.commit(at(1), {"cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "choice",
                         "cmi.interactions.0.student_response": "a", "cmi.core.lesson_status": "completed"},
                 completion="completed")
    for st in p.statements:
        ca = st["context"]["contextActivities"]
        assert ca["category"] == [{"id": "https://w3id.org/xapi/scorm",
                                   "definition": {"type": "http://adlnet.gov/expapi/activities/profile"}}]
        assert [a["id"] for a in ca["grouping"]] == [COURSE_IRI, f"{SCO_IRI}/attempts/{REG}/1"]
        assert st["context"]["registration"] == REG
    assert [st["context"]["contextActivities"].get("parent") for st in p.statements] == [[sco()], None]
    assert course()["id"] == f"{BASE}/courses/5e1f0c2a9b7d4e31"


def test_plan_is_pure_and_leaves_its_inputs_alone():
    import copy

    from player.bridge import CommitInfo, plan

    s = Sco(context("2004"))
    s.initialize(at(0))
    before = s.attempt
    s.commit(at(1), {"cmi.score.scaled": "0.4", "cmi.interactions.0.id": "q",
                     "cmi.interactions.0.learner_response": "x"})
    after = s.attempt
    frozen = copy.deepcopy((before.data, after.data))
    commit = CommitInfo(after.applied_seq, "commit", at(1))
    one, two = plan(before, after, commit, s.ctx), plan(before, after, commit, s.ctx)
    assert one == two == s.plans[-1]
    assert (before.data, after.data) == frozen


def test_the_ended_attempt_given_as_before_of_a_new_attempt_counts_as_none():
    """The handler may pass the SCO's latest attempt (ended) as ``before`` of the next one."""
    from player.bridge import CommitInfo, plan

    s = Sco(context("1.2"))
    s.initialize(at(0))
    ended = s.terminate(at(1), {"cmi.core.lesson_status": "completed", "cmi.core.exit": ""}, completion="completed")
    old = s.attempt
    s.initialize(at(5), completion="completed")
    new = s.attempt
    p = plan(old, new, CommitInfo(1, "initialize", at(5)), s.ctx)
    assert verbs(p) == ["initialized", "completed"]
    assert p == plan(None, new, CommitInfo(1, "initialize", at(5)), s.ctx)
    assert verbs(ended) == ["completed", "terminated"]


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_score_range_without_raw_or_scaled_is_no_score_in_the_result(version):
    """scorm-again starts a 1.2 cmi.core.score.max at "100", so a SCO that never scores still commits a
    max: the SCO's score is not known then, and the profile reports a score only when it is."""
    s = Sco(context(version))
    s.initialize(at(0))
    prefix = "cmi.core.score." if version == "1.2" else "cmi.score."
    status = {"cmi.core.lesson_status": "completed"} if version == "1.2" else {"cmi.completion_status": "completed"}
    last = s.terminate(at(2), {**status, prefix + "max": "100", prefix + "min": "0", EXIT[version]: ""},
                       completion="completed")
    assert verbs(last) == ["completed", "terminated"]
    assert last.statements[-1]["result"] == {"completion": True, "duration": "PT0S"}
