"""The learner's runtime routes: a session acts only on its own registration, every commit is applied
exactly once and in order, and a bad commit is refused whole, naming the element."""
from __future__ import annotations

import os
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))

from cs_helpers import scorm12_zip  # noqa: E402
from content_store.importer import import_file  # noqa: E402
from content_store.limits import Limits  # noqa: E402
from content_store.store import ContentStore  # noqa: E402
from player.launch import Launcher  # noqa: E402
from player.runtime_http import Runtime, runtime_routes  # noqa: E402
from player.storage import open_player_store  # noqa: E402

ALICE = {"objectType": "Agent", "mbox": "mailto:alice@example.com"}
BOB = {"objectType": "Agent", "mbox": "mailto:bob@example.com"}
COOKIE = "lrs_player"
TWO_SCOS = """
  <organizations default="org">
    <organization identifier="org">
      <title>Two lessons</title>
      <item identifier="one" identifierref="r1"><title>One</title></item>
      <item identifier="two" identifierref="r2"><title>Two</title>
        <adlcp:prerequisites type="aicc_script">one</adlcp:prerequisites></item>
    </organization>
  </organizations>"""
TWO_RESOURCES = """
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one.html"><file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two.html"><file href="two.html"/></resource>
  </resources>"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.fixture
def world(tmp_path):
    content = ContentStore(tmp_path / "content")
    package = tmp_path / "two.zip"
    package.write_bytes(scorm12_zip(organizations=TWO_SCOS, resources=TWO_RESOURCES,
                                    files={"one.html": "<p>1</p>", "two.html": "<p>2</p>"}))
    result = import_file(content, package, Limits())
    course_id = content.courses()[0]["id"]
    players = open_player_store(tmp_path, "")
    launcher = Launcher(players, content, lambda name: (name * 32).encode()[:32])
    app = Starlette(routes=[Mount("/player", routes=runtime_routes(Runtime(launcher), COOKIE))])
    yield launcher, course_id, TestClient(app, base_url="http://content.test")
    players.close()
    content.close()
    assert result is not None


def session_for(launcher: Launcher, learner: dict, course_id: str) -> tuple[str, str]:
    made = launcher.create(learner, course_id, "http://content.test")
    claims = launcher.open(made.token)
    return made.registration.id, launcher.session_token(claims)


def commit(reg: str, seq: int, data: dict, event: str = "commit", sco: str = "one", attempt: int = 1) -> dict:
    return {"registration": reg, "sco": sco, "attempt": attempt, "seq": seq, "event": event, "at": now(), "data": data}


@pytest.fixture
def alice(world):
    launcher, course_id, client = world
    reg, cookie = session_for(launcher, ALICE, course_id)
    client.cookies.set(COOKIE, cookie)
    opened = client.post("/player/attempts", json={"registration": reg, "sco": "one"})
    assert opened.status_code == 200, opened.text
    return reg, client, launcher, course_id


def test_without_a_session_the_runtime_routes_answer_401(world):
    launcher, course_id, client = world
    r = client.post("/player/attempts", json={"registration": "x", "sco": "one"})
    assert r.status_code == 401 and r.json()["error"]["path"] == "cookie"
    r = client.post("/player/commits", json=commit("x", 1, {}))
    assert r.status_code == 401


def test_a_commit_for_another_learners_registration_is_403_and_changes_nothing(alice):
    reg, client, launcher, course_id = alice
    bob_reg, _ = session_for(launcher, BOB, course_id)
    r = client.post("/player/commits", json=commit(bob_reg, 1, {"cmi.core.lesson_location": "x"}, "initialize"))
    assert r.status_code == 403 and r.json()["error"]["path"] == "registration"
    r = client.post("/player/attempts", json={"registration": bob_reg, "sco": "one"})
    assert r.status_code == 403
    assert launcher.player.attempts(bob_reg) == []


def test_commits_apply_once_and_in_order(alice):
    reg, client, launcher, _ = alice
    first = commit(reg, 1, {"cmi.core.lesson_status": "incomplete"}, "initialize")
    assert client.post("/player/commits", json=first).json()["applied"] is True
    assert client.post("/player/commits", json=first).json()["applied"] is False    # a retry: nothing twice
    early = client.post("/player/commits", json=commit(reg, 3, {"cmi.core.lesson_location": "3"}))
    assert early.status_code == 409 and early.json()["error"]["expected"] == 2
    assert client.post("/player/commits", json=commit(reg, 2, {"cmi.core.lesson_location": "2"})).status_code == 200
    attempt = launcher.player.current_attempt(reg, "one")
    assert attempt.applied_seq == 2


def test_a_commit_that_arrives_before_the_one_it_follows_waits_for_it(alice):
    """A closing page sends its pagehide commit and the SCO's Terminate in two keepalive requests, which
    may arrive in either order: the later one waits for the earlier one and both are applied."""
    reg, client, launcher, _ = alice
    assert client.post("/player/commits", json=commit(reg, 1, {"cmi.core.lesson_status": "incomplete"},
                                                      "initialize")).status_code == 200
    answers = {}
    later = threading.Thread(target=lambda: answers.update(
        late=client.post("/player/commits", json=commit(reg, 3, {"cmi.core.lesson_location": "3"}, "terminate"))))
    started = time.monotonic()
    later.start()
    time.sleep(0.3)
    assert client.post("/player/commits", json=commit(reg, 2, {"cmi.core.lesson_location": "2"})).status_code == 200
    later.join(10)
    assert answers["late"].status_code == 200, answers["late"].text
    assert answers["late"].json()["applied"] is True and time.monotonic() - started < 2
    attempt = launcher.player.attempts(reg)[0]
    assert (attempt.applied_seq, attempt.ended) == (3, True)


def test_a_batch_applies_in_order_and_stops_at_the_first_refusal_naming_its_index(alice):
    reg, client, launcher, _ = alice
    batch = {"commits": [commit(reg, 1, {"cmi.core.lesson_status": "incomplete"}, "initialize"),
                         commit(reg, 2, {"cmi.core.lesson_location": "p2"}),
                         commit(reg, 3, {"cmi.core.score.raw": "not a number"}),
                         commit(reg, 4, {"cmi.core.lesson_location": "p4"})]}
    r = client.post("/player/commits", json=batch)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["index"] == 2 and error["path"] == "cmi.core.score.raw"
    assert launcher.player.current_attempt(reg, "one").applied_seq == 2     # the two before it, nothing after


def test_a_commit_with_an_unknown_or_read_only_element_is_refused_naming_it(alice):
    reg, client, launcher, _ = alice
    for element in ("cmi.core.student_id", "cmi.core.total_time", "cmi.no_such_thing"):
        r = client.post("/player/commits", json=commit(reg, 1, {element: "x"}, "initialize"))
        assert r.status_code == 400, (element, r.text)
        assert r.json()["error"]["path"] == element
    assert launcher.player.current_attempt(reg, "one").applied_seq == 0


def test_commits_must_be_json_and_bounded(alice):
    reg, client, _, _ = alice
    r = client.post("/player/commits", content=b"seq=1", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = client.post("/player/commits", content=b"{", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["path"] == "body"
    big = b'{"x": "' + b"a" * (4 * 1024 * 1024 + 10) + b'"}'
    r = client.post("/player/commits", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_suspended_attempt_resumes_with_its_data(alice):
    reg, client, launcher, _ = alice
    data = {"cmi.core.lesson_location": "page-7", "cmi.suspend_data": "abc", "cmi.core.lesson_status": "incomplete",
            "cmi.core.exit": "suspend", "cmi.core.session_time": "0000:01:00.00"}
    assert client.post("/player/commits", json=commit(reg, 1, {}, "initialize")).status_code == 200
    assert client.post("/player/commits", json=commit(reg, 2, data, "terminate")).status_code == 200
    opened = client.post("/player/attempts", json={"registration": reg, "sco": "one"}).json()
    assert opened["attempt"] == 1 and opened["seq"] == 2
    values = opened["values"]
    assert values["cmi.core.entry"] == "resume"
    assert values["cmi.core.lesson_location"] == "page-7" and values["cmi.suspend_data"] == "abc"


def test_an_asset_opens_with_its_launch_and_no_attempt(tmp_path):
    """A course of assets (ContentPackagingOneFilePerSCO) could not be opened at all: the learner saw
    "the course has no SCO". An asset is shown, with no API and nothing tracked."""
    content = ContentStore(tmp_path / "content")
    package = tmp_path / "assets.zip"
    package.write_bytes(scorm12_zip(
        organizations=TWO_SCOS.replace("<adlcp:prerequisites type=\"aicc_script\">one</adlcp:prerequisites>", ""),
        resources=TWO_RESOURCES.replace('adlcp:scormtype="sco" href="one.html"', 'adlcp:scormtype="asset" href="one.html"'),
        files={"one.html": "<p>1</p>", "two.html": "<p>2</p>"}))
    assert import_file(content, package, Limits()) is not None
    course_id = content.courses()[0]["id"]
    players = open_player_store(tmp_path, "")
    try:
        launcher = Launcher(players, content, lambda name: (name * 32).encode()[:32])
        client = TestClient(Starlette(routes=[Mount("/player", routes=runtime_routes(Runtime(launcher), COOKIE))]),
                            base_url="http://content.test")
        reg, cookie = session_for(launcher, ALICE, course_id)
        client.cookies.set(COOKIE, cookie)
        opened = client.post("/player/attempts", json={"registration": reg, "sco": "one"})
        assert opened.status_code == 200, opened.text
        body = opened.json()
        assert (body["asset"], body["attempt"], body["values"], body["launch"]) == (True, None, {}, "one.html")
        assert [s["id"] for s in body["scos"]] == ["one", "two"]
        assert players.attempts(reg) == []
        sco = client.post("/player/attempts", json={"registration": reg, "sco": "two"}).json()
        assert "asset" not in sco and sco["attempt"] == 1
    finally:
        players.close()
        content.close()


def test_an_ended_attempt_takes_no_more_commits_and_the_next_open_starts_a_new_one(alice):
    reg, client, launcher, _ = alice
    done = {"cmi.core.lesson_status": "completed", "cmi.core.exit": "", "cmi.core.session_time": "0000:00:10.00"}
    assert client.post("/player/commits", json=commit(reg, 1, {}, "initialize")).status_code == 200
    assert client.post("/player/commits", json=commit(reg, 2, done, "terminate")).json()["ended"] is True
    late = client.post("/player/commits", json=commit(reg, 3, {"cmi.core.lesson_location": "x"}))
    assert late.status_code == 410 and late.json()["error"]["path"] == "attempt"
    opened = client.post("/player/attempts", json={"registration": reg, "sco": "one"}).json()
    assert opened["attempt"] == 2 and opened["seq"] == 0


def test_prerequisites_lock_a_sco_until_they_are_met(alice):
    reg, client, launcher, _ = alice
    contents = client.get("/player/contents", params={"registration": reg}).json()["scos"]
    assert [(s["id"], s["available"]) for s in contents] == [("one", True), ("two", False)]
    locked = client.post("/player/attempts", json={"registration": reg, "sco": "two"})
    assert locked.status_code == 409 and locked.json()["error"]["path"] == "sco"
    done = {"cmi.core.lesson_status": "completed", "cmi.core.session_time": "0000:00:10.00"}
    client.post("/player/commits", json=commit(reg, 1, {}, "initialize"))
    client.post("/player/commits", json=commit(reg, 2, done, "terminate"))
    contents = client.get("/player/contents", params={"registration": reg}).json()["scos"]
    assert [(s["id"], s["status"], s["available"]) for s in contents] == [
        ("one", "completed", True), ("two", "not attempted", True)]
    assert client.post("/player/attempts", json={"registration": reg, "sco": "two"}).status_code == 200


def test_runtime_js_is_served_and_paths_outside_the_static_folders_are_not(world):
    _, _, client = world
    r = client.get("/player/static/runtime.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert client.get("/player/static/../runtime_http.py").status_code == 404
    assert client.get("/player/static/scorm-again/3.4.3/../../../pyproject.toml").status_code == 404


def test_scorm_again_is_served_from_the_installed_package(world):
    from player.runtime_http import default_scorm_again_dir

    _, _, client = world
    if not default_scorm_again_dir().is_dir():
        if os.environ.get("CI"):
            pytest.fail("scorm-again is not installed: .ci/run must run npm ci")
        pytest.skip("scorm-again is not installed here (npm ci installs it; CI runs it)")
    r = client.get("/player/static/scorm-again/3.4.3/scorm12.min.js")
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]


def test_two_courses_open_in_one_browser_each_keep_their_session(world):
    """Opening a second launch link adds a session to the browser's cookie instead of replacing it: a
    learner with two courses in two tabs saves in both."""
    launcher, course_id, client = world
    reg_a, cookie = session_for(launcher, ALICE, course_id)
    made = launcher.create(ALICE, course_id, "http://content.test", registration="6f1d3c1e-7a52-4d2b-9a5e-2f7c6b0c9a12")
    cookie = launcher.session_token(launcher.open(made.token), cookie)
    reg_b = made.registration.id
    assert [s["reg"] for s in launcher.sessions(cookie)] == [reg_b, reg_a]
    client.cookies.set(COOKIE, cookie)
    for reg in (reg_a, reg_b):
        assert client.post("/player/attempts", json={"registration": reg, "sco": "one"}).status_code == 200
        assert client.post("/player/commits", json=commit(reg, 1, {}, "initialize")).status_code == 200
    bob_reg, _ = session_for(launcher, BOB, course_id)
    assert client.post("/player/commits", json=commit(bob_reg, 1, {}, "initialize")).status_code == 403


def test_a_cookie_holds_a_bounded_number_of_sessions_newest_first(world):
    from player.launch import MAX_SESSIONS

    launcher, course_id, _ = world
    cookie = None
    regs = []
    for i in range(MAX_SESSIONS + 2):
        made = launcher.create(ALICE, course_id, "http://content.test",
                               registration=f"00000000-0000-4000-8000-{i:012d}")
        cookie = launcher.session_token(launcher.open(made.token), cookie)
        regs.append(made.registration.id)
    assert [s["reg"] for s in launcher.sessions(cookie)] == regs[::-1][:MAX_SESSIONS]


def test_another_learners_launch_link_replaces_the_sessions_of_a_shared_browser(world):
    """On a shared device the next learner's course must never act on the previous learner's
    registration: a launch link of another learner drops every session the cookie held."""
    launcher, course_id, client = world
    reg_a, cookie = session_for(launcher, ALICE, course_id)
    made = launcher.create(BOB, course_id, "http://content.test")
    cookie = launcher.session_token(launcher.open(made.token), cookie)
    assert [s["reg"] for s in launcher.sessions(cookie)] == [made.registration.id]
    client.cookies.set(COOKIE, cookie)
    r = client.post("/player/commits", json=commit(reg_a, 1, {}, "initialize"))
    assert r.status_code == 403
