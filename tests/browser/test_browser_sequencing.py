"""Issue 12, acceptance 1: SCORM 2004 sequencing and SCORM 1.2 multi-SCO courses played in Chromium on a
real ``lrs serve``: the order of the activities delivered, the navigation allowed at each step, the course
status rolled up, and the course-level statements in the LRS.

SequencingSimpleRemediation_SCORM20043rdEdition is flow-only (choice="false"): the learner moves with
the player's Continue button. Its content SCOs complete and pass on their last page; its tests pass at 70.
Each test's objective is a global the matching content SCO reads: a satisfied objective skips both. After
the last test the wrapper retries (remediation) until every objective is satisfied, then exits all.

The SCOs call the API themselves; the learner clicks their pages as in tests/browser/learners.py."""
from __future__ import annotations

import time

import pytest

from learners import (PASS, PREREQUISITE_ITEMS, QUIZ, REMEDIATION_PAGES, Plan, dialog_answers, expected_full_play,
                      frame_of, golf_answer, golf_next, golf_submit, golf_wait_ready, page_of, play_prerequisites)
from profile_checks import Course
from real_player import open_launch_link

PACKAGE = "SequencingSimpleRemediation_SCORM20043rdEdition"
CONTENT = ["playing_item", "etuqiette_item", "handicapping_item", "havingfun_item"]
TESTS = {"test_1": "Playing", "test_2": "Etiquette", "test_3": "Handicapping", "test_4": "HavingFun"}
ADL = "http://adlnet.gov/expapi/verbs/"
ONLY_ETIQUETTE_WRONG = Plan(frozenset({"etiquette_1"}))   # Playing 100, Etiquette 67 (failed), 100, 100


def learner(name: str) -> dict:
    return {"objectType": "Agent", "name": name.title(), "mbox": f"mailto:{name}@example.com"}


def start(srv, package: str, who: str):
    imported = srv.__dict__.setdefault("imported", {})
    if package not in imported:
        imported[package] = srv.import_package(package)
    course = imported[package]["course"]
    person = learner(who)
    return person, course, srv.launch(course["id"], person)


def delivered(page) -> list[str]:
    return page.evaluate("() => window.lrsPlayer.delivered()")


def wait_delivered(player, count: int, timeout: float = 20.0) -> str:
    """Wait until the ``count``-th delivery is open in the frame; its activity id."""
    page = player.page
    deadline = time.monotonic() + timeout
    while len(delivered(page)) < count:
        assert time.monotonic() < deadline, f"no delivery {count}; delivered {delivered(page)}"
        page.wait_for_timeout(30)
    ident = delivered(page)[count - 1]
    while page.evaluate("() => window.lrsPlayer.current()") != ident or player.state() == "opening":
        assert time.monotonic() < deadline, f"{ident} was delivered but not opened"
        page.wait_for_timeout(30)
    player.wait_opened(ident)
    return ident


def allowed(page) -> dict:
    """The navigation the page offers now: Previous and Continue enabled, and the contents enabled."""
    return page.evaluate("""() => ({
      previous: !document.getElementById('prev').disabled, continue: !document.getElementById('next').disabled,
      choice: Array.from(document.querySelectorAll('#contents button')).filter(b => !b.disabled)
                   .map(b => b.dataset.activity)})""")


def play_delivered(player, ident: str, plan: Plan) -> int | None:
    """Play the SCO in the frame as a learner: page to the end of a content SCO, or answer and submit a
    test. The test's score, else None."""
    sco = player.sco()
    dialog_answers(page_of(sco))
    golf_wait_ready(sco)
    if ident in TESTS:
        sco.frame_locator("#contentFrame").locator("#frmTest").wait_for()
        golf_answer(sco, QUIZ[TESTS[ident]], plan)
        return golf_submit(sco)
    page = golf_wait_ready(sco)
    while page < REMEDIATION_PAGES[ident] - 1:
        page = golf_next(sco)
    return None


def course_statements(srv, course_iri_suffix: str, registration: str) -> list[tuple[str, dict]]:
    out = []
    for st in srv.statements(registration=registration):
        if st["object"]["id"].endswith(course_iri_suffix) and "/scos/" not in st["object"]["id"]:
            out.append((st["verb"]["id"][len(ADL):], st.get("result", {})))
    return out


def play_through(player, plans: dict, count: int, *, first: int = 1) -> list:
    """Play deliveries ``first``..``count``, pressing Continue after each; the navigation allowed at each."""
    seen = []
    for n in range(first, count + 1):
        ident = wait_delivered(player, n)
        seen.append((ident, allowed(player.page)))
        play_delivered(player, ident, plans.get(ident, PASS))
        player.page.locator("#next").click()
    return seen


def test_simple_remediation_passed_first_time_delivers_each_activity_once_and_rolls_up_to_passed(module_server,
                                                                                                 context):
    srv = module_server
    person, course, link = start(srv, PACKAGE, "seqpass")
    registration = link["registration"]["id"]
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    seen = play_through(player, {}, 8)
    order = CONTENT + list(TESTS)
    assert [i for i, _ in seen] == order
    # flow only: Continue everywhere, Previous from the second activity on, no choice in the contents
    assert seen[0][1] == {"previous": False, "continue": True, "choice": []}
    assert all(a == {"previous": True, "continue": True, "choice": []} for _, a in seen[1:])
    assert player.wait_ended() == "You have finished the course. Your progress is saved."
    assert delivered(page) == order
    assert page.evaluate("() => window.lrsPlayer.ended().reason") == "exit_all"
    assert page.evaluate("() => window.lrsPlayer.refusals") == []
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    status = srv.registration_status(registration)
    assert (status["completion_status"], status["success_status"]) == ("completed", "passed")
    course_iri = f"/courses/{course['id']}"
    verbs = course_statements(srv, course_iri, registration)
    assert [v for v, _ in verbs if v in ("completed", "passed", "failed")] == ["completed", "passed"]
    assert all(r.get("completion") is True for v, r in verbs if v in ("completed", "passed"))
    assert answers.alerts == []
    # every SCO's own statements and documents exactly as the profile says; nothing else but the course's
    lrs = Course(srv, person, course["id"], registration, "2004", srv.imported[PACKAGE]["version"]["version"])
    everything = lrs.statements()
    seen = 0
    for expected in expected_full_play(PACKAGE, PASS):
        seen += len(lrs.check_attempt(expected, 1, statements=everything))
        lrs.check_documents(expected.item, attempts=1, activity_profile=None)
    assert seen + len(verbs) == len(everything)


def test_simple_remediation_failed_test_sends_the_learner_back_through_what_is_not_mastered(module_server, context):
    srv = module_server
    person, course, link = start(srv, PACKAGE, "seqfail")
    registration = link["registration"]["id"]
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    first = play_through(player, {"test_2": ONLY_ETIQUETTE_WRONG}, 8)
    assert [i for i, _ in first] == CONTENT + list(TESTS)
    # remediation: only the etiquette content and its test; every other activity is skipped (its
    # objective is satisfied), and the flow runs off the end of the course
    again = play_through(player, {}, 10, first=9)
    assert [i for i, _ in again] == ["etuqiette_item", "test_2"]
    assert all(a["continue"] and a["choice"] == [] for _, a in again)
    player.wait_ended()
    assert delivered(page) == CONTENT + list(TESTS) + ["etuqiette_item", "test_2"]
    assert page.evaluate("() => window.lrsPlayer.ended().reason") == "end_of_content"
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    status = srv.registration_status(registration)
    assert (status["completion_status"], status["success_status"]) == ("completed", "passed")
    attempts = {(a["sco"], a["number"]) for a in srv.attempts(registration)}
    assert {("etuqiette_item", 2), ("test_2", 2)} <= attempts          # a new attempt per delivery
    assert ("playing_item", 2) not in attempts                           # mastered: skipped
    verbs = [v for v, _ in course_statements(srv, f"/courses/{course['id']}", registration)]
    # the rollup said failed after the first pass (an objective not satisfied), passed after remediation
    assert [v for v in verbs if v in ("completed", "passed", "failed")] == ["failed", "completed", "passed"]
    tests_2 = [st for st in srv.statements(registration=registration, verb=ADL + "failed")
               if st["object"]["id"].endswith("/scos/test_2")]
    assert len(tests_2) == 1                                             # the first try of test_2 failed


def test_simple_remediation_left_mid_course_resumes_where_the_learner_was(module_server, context):
    srv = module_server
    person, course, link = start(srv, PACKAGE, "seqresume")
    registration = link["registration"]["id"]
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    play_through(player, {}, 5)
    assert wait_delivered(player, 6) == "test_2"
    player.save_and_exit()
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    assert page.evaluate("() => window.lrsPlayer.ended().reason") == "suspend_all"
    page.close()
    status = srv.registration_status(registration)
    assert status["completion_status"] != "completed"

    page = context.new_page()
    relaunch = srv.launch(course["id"], person)
    assert relaunch["registration"]["id"] == registration
    player, answers = open_launch_link(page, relaunch["launch_url"])
    assert wait_delivered(player, 1) == "test_2"                         # resumeAll: where the learner was
    rest = play_through(player, {}, 3)
    assert [i for i, _ in rest] == ["test_2", "test_3", "test_4"]
    assert rest[0][1]["previous"] is True
    player.wait_ended()
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    status = srv.registration_status(registration)
    assert (status["completion_status"], status["success_status"]) == ("completed", "passed")


def test_a_refused_navigation_request_is_reported_with_its_exception_code(module_server, context):
    srv = module_server
    person, course, link = start(srv, PACKAGE, "seqrefuse")
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    assert wait_delivered(player, 1) == "playing_item"
    # choice="false": a choice request from the content is refused by the engine, and said so
    frame_of(player.sco()).evaluate("""() => { const api = window.parent.API_1484_11;
      api.SetValue('adl.nav.request', '{target=test_3}choice'); api.SetValue('cmi.exit', ''); api.Terminate(''); }""")
    player.page.locator("#notice").wait_for()
    refusals = page.evaluate("() => window.lrsPlayer.refusals")
    assert refusals and refusals[0]["request"] == "{target=test_3}choice"
    assert "test_3" in player.notice() or "choice" in player.notice()
    assert delivered(page) == ["playing_item"]


# -- SCORM 1.2 multi-SCO ---------------------------------------------------------------------------

def test_prerequisites_12_course_status_and_course_statements_roll_up_from_the_modules(module_server, context):
    srv = module_server
    person, course, link = start(srv, "PrerequisitesTest_SCORM12", "seqprereq")
    registration = link["registration"]["id"]
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    assert player.enabled_items() == ["module1"]
    play_prerequisites(player, upto=2)
    assert player.enabled_items() == PREREQUISITE_ITEMS
    status = srv.registration_status(registration)
    assert (status["completion_status"], status["success_status"]) == ("incomplete", None)
    assert course_statements(srv, f"/courses/{course['id']}", registration) == [("scored", {"score": {"scaled": 0.85}, "completion": False})]
    play_prerequisites(player, start=2)
    player.save_and_exit()
    status = srv.registration_status(registration)
    # module 4 scored 85 against a mastery score of 90: failed, so the course is failed
    assert (status["completion_status"], status["success_status"]) == ("completed", "failed")
    verbs = course_statements(srv, f"/courses/{course['id']}", registration)
    assert [v for v, _ in verbs if v != "scored"] == ["completed", "failed"]
    assert verbs[-1][1]["success"] is False and verbs[-1][1]["completion"] is True


def test_one_file_per_sco_12_plays_in_order_with_previous_and_next(module_server, context):
    srv = module_server
    person, course, link = start(srv, "ContentPackagingOneFilePerSCO_SCORM12", "seqassets")
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    ids = player.item_ids()
    assert player.current_item() == ids[0]
    assert allowed(page)["previous"] is False and allowed(page)["continue"] is True
    visited = [player.current_item()]
    for _ in range(3):
        player.next()
        visited.append(player.current_item())
    assert visited == ids[:4]
    player.prev()
    assert player.current_item() == ids[2]


# -- a course built by the test: choice, jump, hideLMSUI ----------------------------------------------

def choice_course_zip(flow: bool = True) -> bytes:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "player" / "sequencing"))
    from cs_helpers import zip_bytes
    from seq_kit import item, manifest, seq

    hide = ('<adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>continue</adlnav:hideLMSUI>'
            '<adlnav:hideLMSUI>previous</adlnav:hideLMSUI></adlnav:navigationInterface></adlnav:presentation>')
    xml = manifest(item("a", title="A") + item("b", hide, title="B") + item("c", title="C"),
                   seq(f'<imsss:controlMode choice="true" flow="{str(flow).lower()}"/>'))
    return zip_bytes({"imsmanifest.xml": xml, "index.html": "<!doctype html><title>lesson</title><h1>Lesson</h1>"})


SCO_CALLS = """([request, initialize]) => {
  const api = window.parent.API_1484_11;
  if (initialize) api.Initialize('');
  if (request === null) return api.GetLastError();
  api.SetValue('cmi.completion_status', 'completed');
  api.SetValue('adl.nav.request', request);
  api.SetValue('cmi.exit', '');
  api.Terminate('');
  return api.GetLastError();
}"""


def test_choice_and_jump_from_content_and_the_contents_are_honoured_and_hide_lms_ui_hides_buttons(lrs_server,
                                                                                                     context):
    srv = lrs_server()
    r = srv.request("POST", "/content/packages", content=choice_course_zip(), headers={"Content-Type": "application/zip"})
    assert r.status_code in (200, 201), r.text
    course = r.json()["course"]
    link = srv.launch(course["id"], learner("seqchoice"))
    page = context.new_page()
    player, _ = open_launch_link(page, link["launch_url"])
    assert wait_delivered(player, 1) == "a"
    assert allowed(page) == {"previous": False, "continue": True, "choice": ["a", "b", "c"]}
    # the SCO asks for a choice: the engine delivers it
    assert frame_of(player.sco()).evaluate(SCO_CALLS, ["{target=c}choice", True]) == "0"
    assert wait_delivered(player, 2) == "c"
    # the learner picks B in the contents while C is open: C is taken away, B delivered
    frame_of(player.sco()).evaluate(SCO_CALLS, [None, True])
    player.open_contents()
    page.locator('#contents button[data-activity="b"]').click()
    assert wait_delivered(player, 3) == "b"
    # B hides the player's Previous and Next (adlnav:hideLMSUI)
    assert page.locator("#next").is_hidden() and page.locator("#prev").is_hidden()
    # the SCO jumps back to A (4th edition): delivered
    assert frame_of(player.sco()).evaluate(SCO_CALLS, ["{target=a}jump", True]) == "0"
    assert wait_delivered(player, 4) == "a"
    assert page.locator("#next").is_visible()
    assert delivered(page) == ["a", "c", "b", "a"]
    assert page.evaluate("() => window.lrsPlayer.refusals") == []
    attempts = {(a["sco"], a["number"]) for a in srv.attempts(link["registration"]["id"])}
    assert attempts == {("a", 1), ("a", 2), ("b", 1), ("c", 1)}


SCO_LEAVES_REQUEST = """([request]) => {
  const api = window.parent.API_1484_11;
  api.Initialize('');
  api.SetValue('cmi.completion_status', 'completed');
  api.SetValue('adl.nav.request', request);
  return api.GetLastError();
}"""


def test_a_learners_move_in_the_player_wins_over_the_request_the_sco_left_pending(lrs_server, context):
    """SCORM 2004 4th ed. (ADL LMS tests CM-09aa-cb): a navigation event the learner triggers in the
    player after the SCO set adl.nav.request, before it terminated, is the one processed."""
    srv = lrs_server()
    r = srv.request("POST", "/content/packages", content=choice_course_zip(), headers={"Content-Type": "application/zip"})
    course = r.json()["course"]
    link = srv.launch(course["id"], learner("seqprecedence"))
    page = context.new_page()
    player, _ = open_launch_link(page, link["launch_url"])
    assert wait_delivered(player, 1) == "a"
    # A asks for C and stays open; the learner presses Continue: B, not C
    assert frame_of(player.sco()).evaluate(SCO_LEAVES_REQUEST, ["{target=c}choice"]) == "0"
    page.locator("#next").click()
    assert wait_delivered(player, 2) == "b"
    # B asks for Previous and stays open; the learner picks C in the contents: C, not A
    assert frame_of(player.sco()).evaluate(SCO_LEAVES_REQUEST, ["previous"]) == "0"
    player.open_contents()
    page.locator('#contents button[data-activity="c"]').click()
    assert wait_delivered(player, 3) == "c"
    assert delivered(page) == ["a", "b", "c"]
    assert page.evaluate("() => window.lrsPlayer.refusals") == []


def test_a_relaunch_after_the_learner_went_past_the_end_of_the_course_delivers_nothing_again(lrs_server, context):
    """Continue from the last activity ends the sequencing session (end of content); the engine keeps
    that activity as its current one. A relaunch shows the course as finished, not that activity again."""
    srv = lrs_server()
    r = srv.request("POST", "/content/packages", content=choice_course_zip(), headers={"Content-Type": "application/zip"})
    course = r.json()["course"]
    link = srv.launch(course["id"], learner("seqfinished"))
    page = context.new_page()
    player, _ = open_launch_link(page, link["launch_url"])
    for n, ident in enumerate("abc", 1):
        assert wait_delivered(player, n) == ident
        assert frame_of(player.sco()).evaluate(SCO_CALLS, ["continue", True]) == "0"
    page.wait_for_selector("body.ended", timeout=20000)
    assert "finished the course" in page.locator("#ended-message").inner_text()
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    before = {(a["sco"], a["number"]) for a in srv.attempts(link["registration"]["id"])}
    page.close()
    relaunch = srv.launch(course["id"], learner("seqfinished"))
    assert relaunch["registration"]["id"] == link["registration"]["id"]
    again = context.new_page()
    again.goto(relaunch["launch_url"])
    again.wait_for_selector("body.ended", timeout=20000)
    assert again.evaluate("() => window.lrsPlayer.delivered()") == []
    assert "finished the course" in again.locator("#ended-message").inner_text()
    assert {(a["sco"], a["number"]) for a in srv.attempts(link["registration"]["id"])} == before == \
        {("a", 1), ("b", 1), ("c", 1)}


def test_a_choice_only_course_opens_its_contents_for_the_learner_to_pick_where_to_begin(lrs_server, context):
    srv = lrs_server()
    r = srv.request("POST", "/content/packages", content=choice_course_zip(flow=False),
                    headers={"Content-Type": "application/zip"})
    course = r.json()["course"]
    link = srv.launch(course["id"], learner("seqpick"))
    page = context.new_page()
    page.goto(link["launch_url"])
    page.locator("#notice").wait_for()
    assert "Choose where to begin" in page.locator("#notice").inner_text()
    assert page.locator("details.toc").get_attribute("open") is not None
    assert delivered(page) == []
    assert allowed(page) == {"previous": False, "continue": False, "choice": ["a", "b", "c"]}
    page.locator('#contents button[data-activity="b"]').click()
    player = __import__("real_player").LaunchPagePlayer(page)
    assert wait_delivered(player, 1) == "b"
    assert page.locator("#notice").is_hidden()


def test_simple_remediation_tab_closed_mid_sco_reopens_that_activity(module_server, context):
    srv = module_server
    person, course, link = start(srv, PACKAGE, "seqclosed")
    registration = link["registration"]["id"]
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    play_through(player, {}, 4)
    assert wait_delivered(player, 5) == "test_1"
    golf_wait_ready(player.sco())
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    page.close(run_before_unload=True)                    # no Save and exit: the tab is just closed

    page = context.new_page()
    player, answers = open_launch_link(page, srv.launch(course["id"], person)["launch_url"])
    assert wait_delivered(player, 1) == "test_1"          # the activity the learner was in
    assert allowed(page)["previous"] is True and allowed(page)["continue"] is True
    rest = play_through(player, {}, 4)
    assert [i for i, _ in rest] == ["test_1", "test_2", "test_3", "test_4"]
    player.wait_ended()
    page.evaluate("() => window.lrsPlayer.sequencingSaved()")
    status = srv.registration_status(registration)
    assert (status["completion_status"], status["success_status"]) == ("completed", "passed")


def shared_objective_zip(identifier: str, first: str, second: str, *, skip_if_satisfied: bool) -> bytes:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "player" / "sequencing"))
    from cs_helpers import zip_bytes
    from seq_kit import item, manifest, seq

    rules = ('<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>'
             '<imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>'
             '<imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>'
             if skip_if_satisfied else "")
    objectives = ('<imsss:objectives><imsss:primaryObjective objectiveID="p">'
                  '<imsss:mapInfo targetObjectiveID="com.example.shared.safety" readSatisfiedStatus="true" '
                  'writeSatisfiedStatus="true"/></imsss:primaryObjective></imsss:objectives>')
    xml = manifest(item(first, seq(rules + objectives)) + item(second),
                   seq('<imsss:controlMode choice="true" flow="true"/>'))
    xml = xml.replace('identifier="test.course"', f'identifier="{identifier}"')
    return zip_bytes({"imsmanifest.xml": xml, "index.html": "<!doctype html><title>lesson</title><h1>Lesson</h1>"})


def test_global_objectives_are_kept_per_learner_and_read_by_the_next_course(lrs_server, context):
    srv = lrs_server()
    courses = []
    for data in (shared_objective_zip("course.x", "x1", "x2", skip_if_satisfied=False),
                 shared_objective_zip("course.y", "y1", "y2", skip_if_satisfied=True)):
        r = srv.request("POST", "/content/packages", content=data, headers={"Content-Type": "application/zip"})
        assert r.status_code in (200, 201), r.text
        courses.append(r.json()["course"]["id"])
    person = learner("seqglobal")
    page = context.new_page()
    player, _ = open_launch_link(page, srv.launch(courses[0], person)["launch_url"])
    assert wait_delivered(player, 1) == "x1"
    frame_of(player.sco()).evaluate("""() => { const api = window.parent.API_1484_11; api.Initialize('');
      api.SetValue('cmi.success_status', 'passed'); api.SetValue('cmi.completion_status', 'completed');
      api.SetValue('adl.nav.request', 'continue'); api.SetValue('cmi.exit', ''); api.Terminate(''); }""")
    assert wait_delivered(player, 2) == "x2"
    assert page.evaluate("() => window.lrsPlayer.sequencingSaved()") is True
    page.close()

    # Course Y skips y1 when the learner's shared objective is satisfied: it is, from course X
    page = context.new_page()
    player, _ = open_launch_link(page, srv.launch(courses[1], person)["launch_url"])
    assert wait_delivered(player, 1) == "y2"
    # another learner has no such objective: y1 comes first
    other = context.browser.new_context()
    try:
        page2 = other.new_page()
        player2, _ = open_launch_link(page2, srv.launch(courses[1], learner("seqglobal2"))["launch_url"])
        assert wait_delivered(player2, 1) == "y1"
    finally:
        other.close()


def test_scorm_12_modules_are_launched_with_their_manifest_values(module_server, context):
    """adlcp:masteryscore, maxtimeallowed, timelimitaction and datafromlms reach each module's data model."""
    srv = module_server
    person, course, link = start(srv, "PrerequisitesTest_SCORM12", "seqvalues")
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    read = """() => { const api = window.parent.API; api.LMSInitialize('');
      const out = {}; for (const e of ['cmi.student_data.mastery_score', 'cmi.student_data.max_time_allowed',
        'cmi.student_data.time_limit_action', 'cmi.launch_data']) out[e] = api.LMSGetValue(e);
      api.LMSSetValue('cmi.core.lesson_status', 'completed'); api.LMSFinish(''); return out; }"""
    seen = {}
    for module in PREREQUISITE_ITEMS[:3]:
        assert module in player.enabled_items()
        player.open_item(module)
        player.sco().locator("h1").wait_for()
        seen[module] = frame_of(player.sco()).evaluate(read)
    assert seen["module1"]["cmi.student_data.mastery_score"] == "80"
    assert seen["module1"]["cmi.student_data.max_time_allowed"] == "02:30:00"
    assert seen["module2"]["cmi.launch_data"] == "custom_data_for_module2"
    assert seen["module3"]["cmi.student_data.time_limit_action"] == "exit,message"
