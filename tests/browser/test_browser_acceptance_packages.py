"""Issue 10, acceptance 1: every SCORM fixture package played in Chromium on a real ``lrs serve`` as a
learner would (open the launch link, answer the quiz, suspend, close the tab, relaunch, resume where they
left, finish), then the exact statements and documents ADL's xAPI Profile for SCORM prescribes, and the
registration's status as the player keeps it.

One server for the module; each test has its own learner, so registrations never meet."""
from __future__ import annotations

import pytest

from learners import (ALL_QUESTIONS, PASS, PREREQUISITE_ITEMS, REMEDIATION_ITEMS, Stop, expected_full_play,
                      play_one_file_per_sco, play_prerequisites, play_runtime_advanced_calls,
                      play_runtime_basic_calls, play_simple_remediation, play_single_sco_2004_2nd)
from profile_checks import Course, per_key, verb
from real_player import open_launch_link


def learner(name: str) -> dict:
    return {"objectType": "Agent", "name": name.title(), "mbox": f"mailto:{name}@example.com"}


def start(srv, package: str, who: str):
    """Import ``package`` (once per server) and make the first launch link for ``who``."""
    imported = srv.__dict__.setdefault("imported", {})
    if package not in imported:
        imported[package] = srv.import_package(package)
    course = imported[package]["course"]
    person = learner(who)
    link = srv.launch(course["id"], person)
    version = imported[package]["version"]
    return person, course, link, version


def relaunch(srv, person, course, registration: str) -> str:
    """A new launch link for the same learner and course answers the same registration."""
    link = srv.launch(course["id"], person)
    assert link["registration"]["id"] == registration
    return link["launch_url"]


def test_runtime_basic_calls_12_suspended_resumed_and_finished_leaves_the_profiles_statements(module_server, context):
    srv = module_server
    person, course, link, version = start(srv, "RuntimeBasicCalls_SCORM12", "basic")
    registration = link["registration"]["id"]
    page = context.new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    assert player.registration == registration
    assert player.sco_value("cmi.core.entry") == "ab-initio"
    out = play_runtime_basic_calls(player.sco(), stop=Stop.SUSPEND, pages=3)
    assert out.pages == [0, 1, 2] and out.suspended
    message = player.wait_ended()
    assert "saved" in message.lower()
    page.close()

    page = context.new_page()
    player, answers = open_launch_link(page, relaunch(srv, person, course, registration))
    assert player.sco_value("cmi.core.entry") == "resume"
    assert player.sco_value("cmi.core.lesson_location") == "2"
    out = play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.END)
    assert out.resumed_at == 2 and out.pages[-1] == 14 and out.score == 87
    player.wait_ended()
    assert answers.alerts == []

    lrs = Course(srv, person, course["id"], registration, "1.2", version["version"])
    expected = expected_full_play("RuntimeBasicCalls_SCORM12", PASS)
    sts = lrs.check_attempt(expected[0], 1, sessions=2, suspended=1)
    assert len(sts) == len(lrs.statements())   # nothing outside the one attempt
    names = [verb(st) for st in sts]
    suspended = sts[names.index("suspended")]
    assert suspended["result"]["completion"] is False and "success" not in suspended["result"]
    assert max(per_key(sts).values()) == 1
    lrs.check_documents("item_1", attempts=1, location="14", activity_profile=None)
    [attempt] = srv.attempts(registration)
    assert (attempt["sco"], attempt["number"], attempt["ended"]) == ("item_1", 1, True)
    assert (attempt["completion_status"], attempt["success_status"], attempt["score_scaled"]) == \
        ("completed", "passed", 0.87)
