"""The learner scripts played in Chromium against the harness (a stand-in LMS that records every SCORM
call), once with a minimal fake API and once with scorm-again when it is installed. They pin down
what each fixture package calls and when (tests/browser/README.md), which the statements the player
writes are checked against; and they prove the scripts work before the real player runs them."""
from __future__ import annotations

import re

import pytest

from learners import (ALL_QUESTIONS, FAIL, PASS, QUIZ, REMEDIATION_ITEMS, Stop, dialog_answers, expected_full_play,
                      play_one_file_per_sco, play_prerequisites, play_runtime_advanced_calls,
                      play_runtime_basic_calls, play_simple_remediation, play_single_sco_2004_2nd)
from scorm_harness import HarnessPlayer, HarnessServer, scorm_again_dist

# Kept after the player is wired: cheap, and they document each package's calls (README.md's table).
pytestmark = pytest.mark.scorm_harness


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    srv = HarnessServer(tmp_path_factory.mktemp("harness")).start()
    yield srv
    srv.stop()


@pytest.fixture(params=["fake", "scorm-again"])
def api(request) -> str:
    if request.param == "scorm-again" and scorm_again_dist() is None:
        pytest.skip("scorm-again is not installed (npm ci, or LRS_TEST_SCORM_AGAIN_DIR=<its dist folder>)")
    return request.param


def player_for(page, harness, name, api) -> HarnessPlayer:
    dialog_answers(page)  # before anything loads: the golf SCOs ask confirm() while they start
    return HarnessPlayer(page, harness, name, api)


def compact(calls) -> list[tuple]:
    """(fn, *args) of each call; session times, which depend on the clock, as "<time>"."""
    out = []
    for c in calls:
        args = list(c["args"])
        if len(args) == 2 and args[0] in ("cmi.core.session_time", "cmi.session_time"):
            args[1] = "<time>"
        out.append((c["fn"], *args))
    return out


def expected_error(c) -> bool:
    """SCORM 2004: cmi.location read before it was ever set is error 403 (not initialized); the golf
    SCOs read it without checking, on purpose ("cmi.location may not be initialized")."""
    return c["fn"] == "GetValue" and c["args"] == ["cmi.location"] and c["error"] == "403"


def assert_all_succeeded(calls, answers):
    failed = [c for c in calls if (c["error"] != "0" or c["result"] == "false") and not expected_error(c)]
    assert failed == [], failed
    assert answers.alerts == []


def js_number(x: float) -> str:
    """A number as JavaScript's String() writes it (1 not 1.0)."""
    return "%g" % x


SESSION_TIME_12 = re.compile(r"^\d{4}:\d{2}:\d{2}$")  # the 1.2 sample drops the fraction
SESSION_TIME_2004 = re.compile(r"^P(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?|T?0S)$")


# -- RuntimeBasicCalls_SCORM12 -------------------------------------------------------------------------

def basic_start():
    return [("LMSInitialize", ""), ("LMSGetValue", "cmi.core.lesson_status"),
            ("LMSSetValue", "cmi.core.lesson_status", "incomplete"), ("LMSGetValue", "cmi.core.lesson_location")]


def test_runtime_basic_calls_a_full_play_sets_location_per_page_then_score_status_and_finishes(page, harness, api):
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", api)
    player.open_item("item_1")
    out = play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.END)
    calls = player.calls()
    assert out.score == PASS.score(ALL_QUESTIONS) == 87 and out.exited
    assert compact(calls) == basic_start() + [("LMSSetValue", "cmi.core.lesson_location", str(i)) for i in range(15)] + [
        ("LMSSetValue", "cmi.core.lesson_status", "completed"),
        ("LMSSetValue", "cmi.core.score.raw", "87"), ("LMSSetValue", "cmi.core.score.min", "0"),
        ("LMSSetValue", "cmi.core.score.max", "100"), ("LMSSetValue", "cmi.core.lesson_status", "passed"),
        ("LMSSetValue", "cmi.core.exit", ""), ("LMSSetValue", "cmi.core.session_time", "<time>"), ("LMSFinish", "")]
    assert SESSION_TIME_12.match(calls[-2]["args"][1])
    assert_all_succeeded(calls, dialog_answers(page))
    assert player.values("item_1")["cmi.core.lesson_status"] == "passed"
    player.close_item()  # leaving the page after Exit calls nothing more
    assert len(player.calls()) == len(calls)


def test_runtime_basic_calls_a_failing_quiz_sets_failed(page, harness, api):
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", api)
    player.open_item("item_1")
    out = play_runtime_basic_calls(player.sco(), plan=FAIL, stop=Stop.END)
    assert out.score == 60
    assert ("LMSSetValue", "cmi.core.lesson_status", "failed") in compact(player.calls())
    assert ("LMSSetValue", "cmi.core.score.raw", "60") in compact(player.calls())


def test_runtime_basic_calls_suspend_then_resume_at_the_bookmark(page, harness, api):
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", api)
    player.open_item("item_1")
    out = play_runtime_basic_calls(player.sco(), stop=Stop.SUSPEND, pages=3)
    assert out.pages == [0, 1, 2] and out.suspended
    assert compact(player.calls()) == basic_start() + [
        ("LMSSetValue", "cmi.core.lesson_location", "0"), ("LMSSetValue", "cmi.core.lesson_location", "1"),
        ("LMSSetValue", "cmi.core.lesson_location", "2"), ("LMSSetValue", "cmi.core.exit", "suspend"),
        ("LMSSetValue", "cmi.core.session_time", "<time>"), ("LMSFinish", "")]
    left = player.values("item_1")
    assert left["cmi.core.lesson_location"] == "2" and left["cmi.core.exit"] == "suspend"
    # The next launch resumes: the LMS loads the saved data, the SCO offers to resume, the learner accepts.
    first = len(player.calls())
    player.set_values("item_1", {"cmi.core.lesson_location": "2", "cmi.core.lesson_status": "incomplete",
                                 "cmi.core.entry": "resume"})
    player.open_item("item_1")
    again = play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.END)
    assert again.resumed_at == 2 and again.pages == list(range(2, 15)) and again.score == 87
    resumed = compact(player.calls()[first:])
    assert resumed[:4] == [("LMSInitialize", ""), ("LMSGetValue", "cmi.core.lesson_status"),
                           ("LMSGetValue", "cmi.core.lesson_location"), ("LMSSetValue", "cmi.core.lesson_location", "2")]
    assert resumed[-3:] == [("LMSSetValue", "cmi.core.exit", ""), ("LMSSetValue", "cmi.core.session_time", "<time>"),
                            ("LMSFinish", "")]
    assert_all_succeeded(player.calls(), dialog_answers(page))


def test_runtime_basic_calls_closing_right_after_the_answers_only_finishes_on_unload(page, harness, api):
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", api)
    player.open_item("item_1")
    out = play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.AFTER_SUBMIT)
    assert out.submitted and not out.exited
    submitted = compact(player.calls())
    assert submitted[-1] == ("LMSSetValue", "cmi.core.lesson_status", "passed")
    assert not any(c[0] in ("LMSCommit", "LMSFinish") for c in submitted)  # no Commit, ever
    player.close_item()  # the tab goes away: the unload handler sets session_time and finishes
    assert compact(player.calls())[len(submitted):] == [("LMSSetValue", "cmi.core.session_time", "<time>"),
                                                        ("LMSFinish", "")]


def test_runtime_basic_calls_answering_without_submitting_reports_nothing(page, harness, api):
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", api)
    player.open_item("item_1")
    out = play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.AFTER_ANSWER, k=4)
    assert [a[0].id.rsplit(".", 1)[1] for a in out.answered] == ["playing_1", "playing_2", "playing_3", "playing_4"]
    assert not any("score" in " ".join(c) for c in compact(player.calls()))
    # The quiz page is the last page, so the SCO has already set "completed" and counts as at its end:
    # leaving now (unanswered quiz) ends the attempt, with no score and no suspend.
    assert ("LMSSetValue", "cmi.core.lesson_status", "completed") in compact(player.calls())
    before = len(player.calls())
    player.close_item()
    assert compact(player.calls())[before:] == [("LMSSetValue", "cmi.core.session_time", "<time>"), ("LMSFinish", "")]


def test_runtime_basic_calls_closing_in_the_middle_suspends(page, harness, api):
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", api)
    player.open_item("item_1")
    out = play_runtime_basic_calls(player.sco(), stop=Stop.AFTER_PAGES, pages=5)
    assert out.pages == [0, 1, 2, 3, 4] and not out.exited
    before = len(player.calls())
    player.close_item()  # the tab closed without Exit: the unload handler suspends
    assert compact(player.calls())[before:] == [("LMSSetValue", "cmi.core.session_time", "<time>"),
                                                ("LMSSetValue", "cmi.core.exit", "suspend"), ("LMSFinish", "")]
    assert player.values("item_1")["cmi.core.lesson_location"] == "4"


def last_beacon(player, timeout: float = 5.0) -> list[tuple]:
    import time

    deadline = time.monotonic() + timeout
    while not player.beacons() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert player.beacons(), "the host page sent nothing on pagehide"
    return compact(player.beacons()[-1])


@pytest.mark.parametrize("stop, exit_calls", [
    (Stop.AFTER_SUBMIT, [("LMSSetValue", "cmi.core.session_time", "<time>"), ("LMSFinish", "")]),
    (Stop.AFTER_PAGES, [("LMSSetValue", "cmi.core.session_time", "<time>"), ("LMSSetValue", "cmi.core.exit", "suspend"),
                        ("LMSFinish", "")]),
])
def test_closing_the_tab_with_beforeunload_finishes_before_the_hosts_pagehide(context, harness, stop, exit_calls):
    """A tab closed as a browser closes it (beforeunload runs): the SCO's onbeforeunload handler sets
    session_time (and suspend in the middle) and calls LMSFinish before the host page's pagehide, so a
    runtime that sends on pagehide sends the Finish too."""
    page = context.new_page()
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", "fake")
    player.open_item("item_1")
    play_runtime_basic_calls(player.sco(), plan=PASS, stop=stop, pages=3)
    before = compact(player.calls())
    page.close(run_before_unload=True)
    assert last_beacon(player) == before + exit_calls


def test_closing_the_tab_without_beforeunload_sends_the_last_answers_but_no_finish(context, harness):
    """A tab that goes away without beforeunload (Playwright's page.close() default; a mobile browser
    discarding a tab): the host's pagehide comes before the SCO's unload handler could Finish. The
    score is in what was sent; the attempt was not terminated, so it stays open and resumes."""
    page = context.new_page()
    player = player_for(page, harness, "RuntimeBasicCalls_SCORM12", "fake")
    player.open_item("item_1")
    play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.AFTER_SUBMIT)
    before = compact(player.calls())
    page.close()
    sent = last_beacon(player)
    assert sent == before and ("LMSSetValue", "cmi.core.score.raw", "87") in sent
    assert not any(c[0] == "LMSFinish" for c in sent)


# -- RunTimeAdvancedCalls_SCORM20043rdEdition ----------------------------------------------------------

def test_runtime_advanced_calls_records_each_answer_as_an_interaction_with_objective_scores(page, harness, api):
    player = player_for(page, harness, "RunTimeAdvancedCalls_SCORM20043rdEdition", api)
    player.open_item("item_1")
    out = play_runtime_advanced_calls(player.sco(), plan=PASS, stop=Stop.END)
    calls = player.calls()
    assert_all_succeeded(calls, dialog_answers(page))
    c = compact(calls)
    assert c[:4] == [("Initialize", ""), ("GetValue", "cmi.completion_status"),
                     ("SetValue", "cmi.completion_status", "incomplete"), ("GetValue", "cmi.location")]
    sets = [x[1:] for x in c if x[0] == "SetValue"]
    assert [v for k, v in sets if k == "cmi.location"] == [str(i) for i in range(15)]
    assert [v for k, v in sets if k == "cmi.progress_measure"] == [
        js_number(round((i + 1) / 15, 2)) for i in range(1, 15)]
    assert ("cmi.completion_status", "completed") in sets
    values = player.values("item_1")
    # 15 interactions in quiz order, each with id, description, objective, type, response, pattern, result.
    for n, (q, recorded, right) in enumerate(out.answered):
        assert values[f"cmi.interactions.{n}.id"] == q.id
        assert values[f"cmi.interactions.{n}.type"] == q.type
        assert values[f"cmi.interactions.{n}.objectives.0.id"] == q.objective
        assert values[f"cmi.interactions.{n}.learner_response"] == str(recorded)
        assert values[f"cmi.interactions.{n}.result"] == ("correct" if right else "incorrect")
    assert len(out.answered) == 15
    for key, value in {"cmi.score.raw": "87", "cmi.score.min": "0", "cmi.score.max": "100", "cmi.score.scaled": "0.87",
                       "cmi.exit": "", "adl.nav.request": "exitAll"}.items():
        assert (key, value) in sets, key
    assert not any(k == "cmi.success_status" for k, _ in sets)  # left to the LMS: scaled 0.87 >= 0.8 passes
    # Objective scores: objectives are found by the ids the LMS loaded from the manifest.
    by_id = {values[f"cmi.objectives.{i}.id"]: i for i in range(5)}
    playing = by_id["obj_playing"]
    assert values[f"cmi.objectives.{playing}.score.raw"] == "4" and values[f"cmi.objectives.{playing}.score.max"] == "5"
    assert values[f"cmi.objectives.{by_id['obj_handicapping']}.score.scaled"] == "0.75"
    assert c[-2:] == [("SetValue", "cmi.session_time", "<time>"), ("Terminate", "")]
    assert SESSION_TIME_2004.match(calls[-2]["args"][1])
    assert not any(x[0] == "Commit" for x in c)


def test_runtime_advanced_calls_suspend_sets_exit_suspend_and_suspend_all(page, harness, api):
    player = player_for(page, harness, "RunTimeAdvancedCalls_SCORM20043rdEdition", api)
    player.open_item("item_1")
    play_runtime_advanced_calls(player.sco(), stop=Stop.SUSPEND, pages=4)
    c = compact(player.calls())
    assert c[-4:] == [("SetValue", "cmi.exit", "suspend"), ("SetValue", "adl.nav.request", "suspendAll"),
                      ("SetValue", "cmi.session_time", "<time>"), ("Terminate", "")]
    assert player.values("item_1")["cmi.location"] == "3"
    assert_all_succeeded(player.calls(), dialog_answers(page))


def test_runtime_advanced_calls_resumes_at_the_bookmark_and_finishes(page, harness, api):
    player = player_for(page, harness, "RunTimeAdvancedCalls_SCORM20043rdEdition", api)
    player.set_values("item_1", {"cmi.location": "9", "cmi.completion_status": "incomplete", "cmi.entry": "resume"})
    player.open_item("item_1")
    out = play_runtime_advanced_calls(player.sco(), plan=FAIL, stop=Stop.END)
    assert out.resumed_at == 9 and out.pages == list(range(9, 15)) and out.score == 60
    c = compact(player.calls())
    assert c[:3] == [("Initialize", ""), ("GetValue", "cmi.completion_status"), ("GetValue", "cmi.location")]
    assert ("SetValue", "cmi.location", "9") in c and ("SetValue", "cmi.location", "8") not in c
    assert ("SetValue", "cmi.score.scaled", "0.6") in c
    assert c[-4:] == [("SetValue", "cmi.exit", ""), ("SetValue", "adl.nav.request", "exitAll"),
                      ("SetValue", "cmi.session_time", "<time>"), ("Terminate", "")]
    assert_all_succeeded(player.calls(), dialog_answers(page))


# -- the packages without a SCO that talks ------------------------------------------------------------

def test_single_sco_2004_2nd_edition_makes_no_scorm_call(page, harness, api):
    player = player_for(page, harness, "ContentPackagingSingleSCO_SCORM20042ndEdition", api)
    player.open_item("item_1")
    play_single_sco_2004_2nd(player.sco())
    player.close_item()
    assert player.calls() == []


def test_one_file_per_sco_has_only_assets_and_its_quizzes_report_nothing(page, harness, api):
    player = player_for(page, harness, "ContentPackagingOneFilePerSCO_SCORM12", api)
    outcomes = play_one_file_per_sco(player, plan=PASS)
    assert len(outcomes) == 18
    assert {i: o.score for i, o in outcomes.items() if o.submitted} == {
        "playing_quiz_item": 80, "etiquette_quiz_item": 100, "handicapping_quiz_item": 75, "havingfun_quiz_item": 100}
    player.close_item()
    assert player.calls() == []
    assert dialog_answers(page).alerts == []


def test_prerequisites_pages_make_no_call_and_the_stand_in_plays_them_as_scos(page, harness, api):
    player = player_for(page, harness, "PrerequisitesTest_SCORM12", api)
    assert play_prerequisites(player, as_sco=False) == {m: [] for m in ("module1", "module2", "module3", "module4")}
    assert player.calls() == []
    played = play_prerequisites(player, as_sco=True)
    assert [c[0] for c in played["module1"]] == ["LMSInitialize", "LMSSetValue", "LMSSetValue", "LMSSetValue",
                                                 "LMSSetValue", "LMSCommit", "LMSSetValue", "LMSFinish"]
    assert all(c[-1] == "true" for calls in played.values() for c in calls)
    assert ("LMSSetValue", "cmi.core.lesson_status", "completed") in compact(player.calls("module2"))
    assert ("LMSSetValue", "cmi.core.score.raw", "85") in compact(player.calls("module4"))


# -- SequencingSimpleRemediation_SCORM20043rdEdition ---------------------------------------------------

def test_simple_remediation_each_sco_reports_status_commits_and_terminates_when_left(page, harness, api):
    player = player_for(page, harness, "SequencingSimpleRemediation_SCORM20043rdEdition", api)
    outcomes = play_simple_remediation(player, plan=FAIL)
    player.close_item()
    assert_all_succeeded(player.calls(), dialog_answers(page))
    assert {i: o.score for i, o in outcomes.items() if o.submitted} == {
        "test_1": 60, "test_2": 67, "test_3": 50, "test_4": 67}
    for identifier, section in REMEDIATION_ITEMS:
        c = compact(player.calls(identifier))
        assert c[:4] == [("Initialize", ""), ("GetValue", "cmi.completion_status"),
                         ("SetValue", "cmi.completion_status", "incomplete"), ("GetValue", "cmi.location")], identifier
        assert c[-3:] == [("SetValue", "cmi.session_time", "<time>"), ("SetValue", "cmi.exit", ""),
                          ("Terminate", "")], identifier
        assert c.count(("Commit", "")) == 1, identifier
        if section is None:
            assert c[-6:-3] == [("SetValue", "cmi.completion_status", "completed"),
                                ("SetValue", "cmi.success_status", "passed"), ("Commit", "")], identifier
        else:
            score = str(outcomes[identifier].score)
            assert c[-9:-3] == [("SetValue", "cmi.score.raw", score), ("SetValue", "cmi.score.min", "0"),
                                ("SetValue", "cmi.score.max", "100"),
                                ("SetValue", "cmi.score.scaled", js_number(int(score) / 100)),
                                ("SetValue", "cmi.completion_status", "completed"),
                                ("SetValue", "cmi.success_status", "failed")], identifier
            assert len(outcomes[identifier].answered) == len(QUIZ[section])


# -- expected_full_play agrees with what the packages leave in the data model -------------------------

def outcome_as_the_standards_say(values: dict, version: str, mastery: int | None = None) -> dict:
    """completion/success/score of a SCO's final data model, decided as SCORM 1.2 (masteryscore) and
    2004 (scaled_passing_score) say."""
    if version == "1.2":
        status = values.get("cmi.core.lesson_status", "")
        raw = values.get("cmi.core.score.raw", "")
        if mastery is not None and raw != "":
            status = "passed" if float(raw) >= mastery else "failed"
        out = {"completion": status in ("completed", "passed", "failed")}
        if status in ("passed", "failed"):
            out["success"] = status == "passed"
        if raw != "":
            out["score"] = {"scaled": round(float(raw) / 100, 2), "raw": int(raw),
                            "min": int(values["cmi.core.score.min"]), "max": int(values["cmi.core.score.max"])}
        return out
    out = {"completion": values.get("cmi.completion_status") == "completed"}
    success = values.get("cmi.success_status", "unknown")
    scaled = values.get("cmi.score.scaled", "")
    if "cmi.scaled_passing_score" in values and scaled != "":
        success = "passed" if float(scaled) >= float(values["cmi.scaled_passing_score"]) else "failed"
    if success in ("passed", "failed"):
        out["success"] = success == "passed"
    if scaled != "":
        out["score"] = {"scaled": float(scaled), "raw": int(values["cmi.score.raw"]),
                        "min": int(values["cmi.score.min"]), "max": int(values["cmi.score.max"])}
    return out


@pytest.mark.parametrize("plan", [PASS, FAIL], ids=["pass", "fail"])
@pytest.mark.parametrize("name", ["RuntimeBasicCalls_SCORM12", "RunTimeAdvancedCalls_SCORM20043rdEdition"])
def test_expected_full_play_matches_the_golf_scos_final_data(page, harness, name, plan):
    player = player_for(page, harness, name, "fake")
    player.open_item("item_1")
    play_golf = play_runtime_basic_calls if name.endswith("SCORM12") else play_runtime_advanced_calls
    play_golf(player.sco(), plan=plan, stop=Stop.END)
    values = player.values("item_1")
    [expected] = expected_full_play(name, plan)
    assert outcome_as_the_standards_say(values, "1.2" if name.endswith("SCORM12") else "2004") == expected.result
    got = tuple((values[f"cmi.interactions.{n}.id"], values[f"cmi.interactions.{n}.type"],
                 values[f"cmi.interactions.{n}.learner_response"], values[f"cmi.interactions.{n}.result"] == "correct")
                for n in range(len(expected.interactions)))
    assert got == expected.interactions
    if expected.progress is not None:
        assert float(values["cmi.progress_measure"]) == expected.progress
    for objective, score in expected.objectives.items():
        n = next(i for i in range(5) if values[f"cmi.objectives.{i}.id"] == objective)
        assert {k: float(values[f"cmi.objectives.{n}.score.{k}"]) for k in score} == score, objective


def test_expected_full_play_matches_the_multi_sco_courses_final_data(page, harness):
    player = player_for(page, harness, "SequencingSimpleRemediation_SCORM20043rdEdition", "fake")
    play_simple_remediation(player, plan=FAIL)
    player.close_item()
    for expected in expected_full_play("SequencingSimpleRemediation_SCORM20043rdEdition", FAIL):
        assert outcome_as_the_standards_say(player.values(expected.item), "2004") == expected.result, expected.item
    page2 = page.context.new_page()
    player = player_for(page2, harness, "PrerequisitesTest_SCORM12", "fake")
    play_prerequisites(player, as_sco=True)
    player.close_item()
    mastery = {"module1": 80, "module4": 90}
    for expected in expected_full_play("PrerequisitesTest_SCORM12"):
        values = player.values(expected.item)
        assert outcome_as_the_standards_say(values, "1.2", mastery.get(expected.item)) == expected.result, expected.item
    assert expected_full_play("ContentPackagingOneFilePerSCO_SCORM12") == []
    assert expected_full_play("ContentPackagingSingleSCO_SCORM20042ndEdition") == []
