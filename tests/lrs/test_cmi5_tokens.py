"""AU session tokens (lrs/cmi5/lms.py): the fetch URL answers a token once, the token reaches only its
registration, AU and learner, and it stops working when its session ends or expires."""
from __future__ import annotations

import base64

import orjson
import pytest

from lrs.cmi5.lms import Cmi5Error, Cmi5LMS
from lrs.cmi5.store import SqliteCmi5Store
from lrs.storage import open_store

ACTOR = {"objectType": "Agent", "account": {"homePage": "https://example.org", "name": "learner"}}
REG = "8e9b4f3a-6a43-4bb8-9f3a-1d2c3b4a5f60"
AU = "https://lms.example/courses/c/cmi5/aus/au1"
TREE = {"course": {"pub": "https://pub.example/course", "lms": "https://lms.example/courses/c/cmi5/course"},
        "blocks": [], "aus": [{"pub": "https://pub.example/au1", "activity_id": AU, "move_on": "Completed",
                               "mastery_score": None, "launch_parameters": None, "entitlement_key": None,
                               "launch_method": "AnyWindow"}]}


class Clock:
    t = 1_000_000.0

    def __call__(self):
        return self.t


@pytest.fixture
def lms(tmp_path):
    store = open_store(tmp_path)
    clock = Clock()
    lms = Cmi5LMS(store, SqliteCmi5Store(tmp_path / "cmi5.sqlite3"), b"k" * 32,
                  {"objectType": "Agent", "account": {"homePage": "https://lms.example", "name": "lms"}},
                  session_timeout=60, clock=clock)
    lms.register(REG, ACTOR, "c", 1, TREE)
    lms.clock_ = clock
    yield lms
    store.close()


def verbs(lms):
    rows = lms.lrs.stream(0, 100)
    return [orjson.loads(body)["verb"]["id"].rsplit("/", 1)[1] for _, body in rows]


def test_the_fetch_url_answers_the_token_once_then_error_code_1(lms):
    s = lms.start_session(REG, "https://pub.example/au1")
    first = lms.fetch(lms.fetch_token(s["id"]))
    assert "auth-token" in first
    again = lms.fetch(lms.fetch_token(s["id"]))
    assert again["error-code"] == "1" and "auth-token" not in again


def test_a_forged_fetch_url_gets_error_code_2(lms):
    s = lms.start_session(REG, "https://pub.example/au1")
    assert lms.fetch(s["id"] + ".forged")["error-code"] == "2"


def test_the_token_reaches_only_its_registration_au_and_learner(lms):
    s = lms.start_session(REG, "https://pub.example/au1")
    cred = lms.credential("Basic " + lms.fetch(lms.fetch_token(s["id"]))["auth-token"])
    agent = orjson.dumps(ACTOR).decode()
    lms.limit(cred, "GET", "/activities/state", {"activityId": AU, "agent": agent, "registration": REG,
                                                  "stateId": "LMS.LaunchData"})
    with pytest.raises(Cmi5Error) as exc:
        lms.limit(cred, "GET", "/activities/state", {"activityId": AU, "agent": agent, "stateId": "x",
                                                      "registration": "00000000-0000-4000-8000-000000000000"})
    assert exc.value.status == 403
    with pytest.raises(Cmi5Error):
        lms.limit(cred, "PUT", "/activities/state", {"activityId": AU, "agent": agent, "registration": REG,
                                                      "stateId": "LMS.LaunchData"})
    other = orjson.dumps({"mbox": "mailto:other@example.org"}).decode()
    with pytest.raises(Cmi5Error):
        lms.limit(cred, "GET", "/agents/profile", {"agent": other, "profileId": "cmi5LearnerPreferences"})
    with pytest.raises(Cmi5Error):
        lms.limit(cred, "GET", "/statements", {})


def test_a_forged_token_is_refused_with_401(lms):
    s = lms.start_session(REG, "https://pub.example/au1")
    forged = base64.b64encode(f"cmi5-{s['id']}:not-the-secret".encode()).decode()
    with pytest.raises(Cmi5Error) as exc:
        lms.credential("Basic " + forged)
    assert exc.value.status == 401


def test_an_expired_session_refuses_its_token_and_is_abandoned_once(lms):
    s = lms.start_session(REG, "https://pub.example/au1")
    header = "Basic " + lms.fetch(lms.fetch_token(s["id"]))["auth-token"]
    lms.clock_.t += 61
    with pytest.raises(Cmi5Error) as exc:
        lms.credential(header)
    assert exc.value.status == 401
    assert lms.sweep() == 0          # already abandoned by the lazy check
    assert verbs(lms) == ["launched", "abandoned"]


def test_a_new_launch_abandons_the_active_session_of_the_registration(lms):
    first = lms.start_session(REG, "https://pub.example/au1")
    lms.start_session(REG, "https://pub.example/au1")
    assert lms.session(first["id"])["state"] == "abandoned"
    assert verbs(lms) == ["launched", "abandoned", "launched"]


def test_waiving_an_au_records_waived_then_satisfied_for_the_course(lms):
    lms.waive(REG, "https://pub.example/au1", "Administrative")
    assert verbs(lms) == ["waived", "satisfied"]
    assert lms.status(REG)["satisfied"] is True


def test_the_sweep_abandons_sessions_idle_past_the_timeout_once(lms):
    s = lms.start_session(REG, "https://pub.example/au1")
    assert lms.sweep() == 0
    lms.clock_.t += 61
    assert lms.sweep() == 1 and lms.sweep() == 0
    assert lms.session(s["id"])["state"] == "abandoned"
    assert verbs(lms) == ["launched", "abandoned"]
