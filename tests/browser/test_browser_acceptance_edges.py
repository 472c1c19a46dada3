"""Issue 10, acceptance 1, the edges: a tab closed right after the answers with no explicit commit, the
network gone for part of a session, the server killed mid-session and started again. In each, every
answer arrives and none is stored twice: one ``responded`` per interaction, one ``scored``, the
attempt's data holding the 15 interactions once.

The package is the golf quiz in SCORM 2004 (RunTimeAdvancedCalls: 15 interactions, never Commit), so
what reaches the server is what the launch page sends by itself (autosave, pagehide, Terminate)."""
from __future__ import annotations

import time

from learners import (ALL_QUESTIONS, PASS, Stop, expected_full_play, golf_answer, golf_submit, golf_wait_ready,
                      play_runtime_advanced_calls)
from profile_checks import Course, per_key, verb
from real_player import open_launch_link

PACKAGE = "RunTimeAdvancedCalls_SCORM20043rdEdition"
[EXPECTED] = expected_full_play(PACKAGE, PASS)


def begin(srv, who: str):
    imported = srv.__dict__.setdefault("imported", {})
    if PACKAGE not in imported:
        imported[PACKAGE] = srv.import_package(PACKAGE)
    course = imported[PACKAGE]["course"]
    person = {"objectType": "Agent", "name": who.title(), "mbox": f"mailto:{who}@example.com"}
    link = srv.launch(course["id"], person)
    lrs = Course(srv, person, course["id"], link["registration"]["id"], "2004", imported[PACKAGE]["version"]["version"])
    return lrs, link["launch_url"]


def relaunch_url(lrs: Course) -> str:
    link = lrs.srv.launch(lrs.course_id, lrs.learner)
    assert link["registration"]["id"] == lrs.registration
    return link["launch_url"]


def interactions_in(data: dict) -> list[tuple[str, str]]:
    """(id, learner_response) of each interaction in an attempt's stored snapshot, by index."""
    cmi = data.get("cmi") or {}
    out, n = [], 0
    while f"cmi.interactions.{n}.id" in cmi:
        out.append((cmi[f"cmi.interactions.{n}.id"], cmi.get(f"cmi.interactions.{n}.learner_response")))
        n += 1
    return out


EXPECTED_ANSWERS = [(i, r) for i, _, r, _ in EXPECTED.interactions]


def wait_stored(srv, registration: str, predicate, what: str, timeout: float = 15.0) -> list[dict]:
    """Poll the player store until ``predicate(attempts)`` holds (the browser sends on its own time)."""
    deadline = time.monotonic() + timeout
    while True:
        attempts = srv.stored_attempts(registration)
        if predicate(attempts):
            return attempts
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {attempts}"
        time.sleep(0.1)


def assert_every_answer_once(lrs: Course, attempt: int = 1) -> list[dict]:
    """The attempt's statements hold one responded per question, with the response given, and one scored
    on the SCO; its stored data the 15 interactions once. Its statements."""
    sts = lrs.attempt_statements("item_1", attempt)
    responded = [st for st in sts if verb(st) == "responded"]
    assert [(st["object"]["id"].rsplit("/", 1)[1], st["result"]["response"]) for st in responded] == \
        [(i, r) for i, r in EXPECTED_ANSWERS], [st["object"]["id"] for st in responded]
    twice = {key: n for key, n in per_key(sts).items() if n > 1 and key[0] != "progressed"}
    assert twice == {}, twice
    scored = [st for st in sts if verb(st) == "scored" and st["object"]["id"] == lrs.sco_iri("item_1")]
    assert [st["result"]["score"] for st in scored] == [EXPECTED.result["score"]]
    [stored] = [a for a in lrs.srv.stored_attempts(lrs.registration) if a["number"] == attempt]
    assert interactions_in(stored["data"]) == EXPECTED_ANSWERS
    return sts


def answered(srv, context, who: str):
    """A new learner's tab with the golf quiz answered to pass and submitted (87), nothing closed yet:
    the course, the page and its player."""
    lrs, url = begin(srv, who)
    page = context.new_page()
    player, _ = open_launch_link(page, url)
    to_the_quiz(player)
    golf_answer(player.sco(), ALL_QUESTIONS, PASS)
    assert golf_submit(player.sco()) == 87
    return lrs, page, player


def to_the_quiz(player, k: int = 0):
    """Page through the golf SCO to its quiz and answer its first ``k`` questions (nothing recorded yet)."""
    out = play_runtime_advanced_calls(player.sco(), plan=PASS, stop=Stop.AFTER_ANSWER, k=max(k, 1))
    assert out.pages[-1] == 14
    return out


def test_a_tab_discarded_right_after_the_answers_loses_none_and_the_next_launch_stores_none_twice(module_server,
                                                                                                  context):
    lrs, page, player = answered(module_server, context, "discarded")
    # No beforeunload: the launch page's pagehide sends first, then the SCO's own unload handler
    # Terminates (exit "" on the quiz page); both reach the server with no later launch.
    page.close()
    wait_stored(module_server, lrs.registration, lambda a: a and a[0]["ended"], "the attempt to end")
    first = lrs.check_attempt(EXPECTED, 1)
    assert_every_answer_once(lrs)

    # The next launch sends again what the closed tab left in storage: stored once already, skipped.
    page = context.new_page()
    player, answers = open_launch_link(page, relaunch_url(lrs))
    golf_wait_ready(player.sco())
    assert (player.sco_value("cmi.entry"), player.sco_value("cmi.interactions._count")) == ("ab-initio", "0")
    assert player.drain() and player.queue() == []
    assert lrs.attempt_statements("item_1", 1) == first
    assert_every_answer_once(lrs)
    assert [(a["number"], a["ended"], a["success_status"]) for a in module_server.attempts(lrs.registration)] == \
        [(1, True, "passed"), (2, False, None)]


def test_a_tab_discarded_with_snapshots_of_15_kb_still_sends_the_terminate_at_once(module_server, context):
    """A closing page sends its pagehide commit, then the SCO's own commit and Terminate, each with
    keepalive, and the browser refuses a keepalive request past 64 KiB in flight for the page. Each
    request used to carry the whole queue again (15 + 30 + 45 KB here): the Terminate was refused and
    the attempt stayed open until the next launch. Each commit now goes once."""
    lrs, page, player = answered(module_server, context, "discarded-large")
    assert player.sco_frame().evaluate(
        "() => window.parent.API_1484_11.SetValue('cmi.suspend_data', 'x'.repeat(5000))") == "true"
    assert player.drain() and player.queue() == []
    page.close()
    [attempt] = wait_stored(module_server, lrs.registration, lambda a: a and a[0]["ended"], "the attempt to end")
    assert attempt["data"]["cmi"]["cmi.suspend_data"] == "x" * 5000
    lrs.check_attempt(EXPECTED, 1)
    assert_every_answer_once(lrs)


def test_a_tab_closed_right_after_the_answers_finishes_the_attempt_with_every_answer_once(module_server, context):
    lrs, page, player = answered(module_server, context, "closed")
    page.close(run_before_unload=True)   # the SCO's onbeforeunload Terminates, then pagehide sends
    wait_stored(module_server, lrs.registration, lambda a: a and a[0]["ended"], "the attempt to end")
    lrs.check_attempt(EXPECTED, 1)
    assert_every_answer_once(lrs)


def test_answers_given_offline_arrive_once_when_the_network_is_back(module_server, context):
    lrs, url = begin(module_server, "offline")
    page = context.new_page()
    player, answers = open_launch_link(page, url)
    to_the_quiz(player, k=5)
    assert player.drain()
    context.set_offline(True)
    golf_answer(player.sco(), ALL_QUESTIONS[5:], PASS)
    # the first five were answered online but are recorded only now, on Submit
    assert golf_submit(player.sco()) == 87
    player.wait_state("offline")
    assert module_server.stored_attempts(lrs.registration)[0]["data"]["cmi"].get("cmi.interactions.0.id") is None
    player.sco().locator("#butExit").click()
    queued = player.queue()
    assert queued and queued[-1]["event"] == "terminate", queued
    assert player.state() == "offline"
    context.set_offline(False)
    player.wait_ended()
    assert player.queue() == []
    lrs.check_attempt(EXPECTED, 1)
    assert_every_answer_once(lrs)
    assert answers.alerts == []


def test_a_server_killed_mid_session_and_started_again_loses_no_answer_and_stores_none_twice(lrs_server, context):
    srv = lrs_server()
    lrs, url = begin(srv, "killed")
    page = context.new_page()
    player, answers = open_launch_link(page, url)
    to_the_quiz(player, k=5)
    assert player.drain()
    srv.kill()
    golf_answer(player.sco(), ALL_QUESTIONS[5:], PASS)
    assert golf_submit(player.sco()) == 87
    player.wait_state("offline", "retrying")
    srv.start()
    player.sco().locator("#butExit").click()
    player.wait_ended()
    lrs.check_attempt(EXPECTED, 1)
    assert_every_answer_once(lrs)
    assert answers.alerts == []
