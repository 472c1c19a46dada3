"""POST /player/sequencing and the launch config of a SCORM 2004 sequenced course (issue 12): the engine's
state kept per registration (newest save wins), the learner's global objectives kept across courses when
objectivesGlobalToSystem allows it, the course rollup written once as the profile's course-level
statements and shown as the registration's status; every bad save a 4xx naming what was wrong."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))
sys.path.insert(0, str(Path(__file__).resolve().parent / "sequencing"))

from cs_helpers import scorm12_zip, zip_bytes  # noqa: E402
from launch_helpers import ADMIN, ALICE, BOB, CONTENT, import_package, launch, player_config, service  # noqa: E402
from seq_kit import flow, item, manifest, seq  # noqa: E402

ADL = "http://adlnet.gov/expapi/verbs/"
DONE = {"completion_status": "completed", "success_status": "passed", "score_scaled": 0.9}
STARTED = {"completion_status": "incomplete", "success_status": "unknown", "score_scaled": None}


def sequenced_zip(org_attrs: str = "") -> bytes:
    xml = manifest(item("lesson_a") + item("lesson_b"), seq(flow(choice=False)), org_attrs=org_attrs)
    return zip_bytes({"imsmanifest.xml": xml, "index.html": "<html>lesson</html>"})


@pytest.fixture
def client(tmp_path):
    with service(tmp_path / "data") as c:
        yield c


def open_course(client, data: bytes, learner=ALICE) -> tuple[str, str, dict]:
    """Import (once), launch for ``learner`` and open the link: (course id, registration, launch config)."""
    course_id = import_package(client, data)["course"]["id"]
    body = launch(client, learner=learner, course_id=course_id).json()
    page = client.get(body["launch_url"])
    assert page.status_code == 200, page.text
    return course_id, body["registration"]["id"], player_config(page.text)


def save(client, registration: str, seq_: int, rollup: dict, state: str = '{"sequencing": {}}', **extra):
    return client.post(CONTENT + "/player/sequencing",
                       json={"registration": registration, "seq": seq_, "state": state, "rollup": rollup, **extra})


def course_verbs(client, registration: str, course_id: str) -> list[str]:
    r = client.get("/xapi/statements", params={"registration": registration, "ascending": "true"},
                   headers={**ADMIN, "X-Experience-API-Version": "1.0.3"})
    assert r.status_code == 200, r.text
    return [st["verb"]["id"][len(ADL):] for st in r.json()["statements"]
            if st["object"]["id"].endswith(f"/courses/{course_id}")]


def test_the_launch_config_of_a_sequenced_course_carries_the_activity_tree_and_no_state_yet(client):
    course_id, registration, config = open_course(client, sequenced_zip())
    sequencing = config["sequencing"]
    tree = sequencing["settings"]["activityTree"]
    assert [c["id"] for c in tree["children"]] == ["lesson_a", "lesson_b"]
    assert (sequencing["state"], sequencing["seq"], sequencing["global_to_system"]) == (None, 0, True)
    assert config["urls"]["sequencing"] == "/player/sequencing"


def test_a_single_sco_or_scorm_12_course_is_not_sequenced(client):
    _, registration, config = open_course(client, scorm12_zip())
    assert "sequencing" not in config
    r = save(client, registration, 1, STARTED)
    assert r.status_code == 409 and r.json()["error"]["path"] == "registration"


def test_a_save_is_kept_and_the_next_launch_resumes_from_it_with_the_learners_global_objectives(client):
    course_id, registration, _ = open_course(client, sequenced_zip())
    globals_ = {"obj.shared": {"id": "obj.shared", "satisfiedStatus": True, "satisfiedStatusKnown": True}}
    r = save(client, registration, 1, STARTED, state='{"at": "lesson_b"}', global_objectives=globals_)
    assert r.status_code == 200 and r.json() == {"seq": 1, "stored": True}
    _, again, config = open_course(client, sequenced_zip())
    assert again == registration
    assert config["sequencing"]["state"] == '{"at": "lesson_b"}' and config["sequencing"]["seq"] == 1
    assert config["sequencing"]["global_objectives"] == globals_


def test_global_objectives_stay_in_the_registration_when_the_course_keeps_them_to_itself(client):
    data = sequenced_zip('adlseq:objectivesGlobalToSystem="false"')
    _, registration, config = open_course(client, data)
    assert config["sequencing"]["global_to_system"] is False
    save(client, registration, 1, STARTED, global_objectives={"obj.own": {"satisfiedStatus": True}})
    _, _, other = open_course(client, sequenced_zip())      # another course of the same learner
    assert other["sequencing"]["global_objectives"] == {}


def test_a_stale_save_changes_nothing_and_writes_no_statement(client):
    course_id, registration, _ = open_course(client, sequenced_zip())
    assert save(client, registration, 2, DONE, state='{"n": 2}').json() == {"seq": 2, "stored": True}
    for seq_ in (2, 1):
        assert save(client, registration, seq_, STARTED, state='{"n": 1}').json() == {"seq": 2, "stored": False}
    _, _, config = open_course(client, sequenced_zip())
    assert config["sequencing"]["state"] == '{"n": 2}'
    assert course_verbs(client, registration, course_id) == ["scored", "completed", "passed"]


def test_the_rollup_is_written_once_as_course_statements_and_shown_as_the_registration_status(client):
    course_id, registration, _ = open_course(client, sequenced_zip())
    save(client, registration, 1, STARTED)
    assert course_verbs(client, registration, course_id) == []
    save(client, registration, 2, {**DONE, "success_status": "failed", "score_scaled": 0.4})
    save(client, registration, 3, DONE)
    save(client, registration, 4, DONE)                        # nothing changed: nothing written
    assert course_verbs(client, registration, course_id) == ["scored", "completed", "failed", "scored", "passed"]
    status = client.get(f"/player/registrations/{registration}", headers=ADMIN).json()["status"]
    assert (status["completion_status"], status["success_status"], status["score_scaled"]) == ("completed", "passed", 0.9)


@pytest.mark.parametrize("body, path", [
    ({"seq": 0}, "seq"),
    ({"seq": "1"}, "seq"),
    ({"state": {"not": "text"}}, "state"),
    ({"state": "not json"}, "state"),
    ({"rollup": "done"}, "rollup"),
    ({"rollup": {**DONE, "success_status": "mastered"}}, "rollup.success_status"),
    ({"rollup": {**DONE, "completion_status": "done"}}, "rollup.completion_status"),
    ({"rollup": {**DONE, "score_scaled": 2}}, "rollup.score_scaled"),
    ({"rollup": {**DONE, "grade": "A"}}, "rollup.grade"),
    ({"global_objectives": {"obj": "satisfied"}}, "global_objectives"),
    ({"extra": 1}, "extra"),
])
def test_a_bad_save_is_refused_naming_the_field_and_stores_nothing(client, body, path):
    course_id, registration, _ = open_course(client, sequenced_zip())
    full = {"registration": registration, "seq": 1, "state": "{}", "rollup": DONE, **body}
    r = client.post(CONTENT + "/player/sequencing", json=full)
    assert r.status_code == 400 and r.json()["error"]["path"] == path, r.text
    assert course_verbs(client, registration, course_id) == []
    _, _, config = open_course(client, sequenced_zip())
    assert config["sequencing"]["state"] is None


def test_a_save_for_a_registration_the_browser_does_not_hold_is_forbidden(client):
    course_id, alice_registration, _ = open_course(client, sequenced_zip())
    client.cookies.clear()
    open_course(client, sequenced_zip(), learner=BOB)
    r = save(client, alice_registration, 1, DONE)
    assert r.status_code == 403 and r.json()["error"]["path"] == "registration"
    assert course_verbs(client, alice_registration, course_id) == []


TWO_12 = """
  <organizations default="org">
    <organization identifier="org">
      <title>Two lessons</title>
      <item identifier="one" identifierref="r1"><title>One</title><adlcp:masteryscore>80</adlcp:masteryscore></item>
      <item identifier="two" identifierref="r2"><title>Two</title></item>
    </organization>
  </organizations>"""
TWO_12_RESOURCES = """
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one.html"><file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two.html"><file href="two.html"/></resource>
  </resources>"""


def play_12(client, registration: str, sco: str, data: dict) -> None:
    from datetime import datetime, timezone

    opened = client.post(CONTENT + "/player/attempts", json={"registration": registration, "sco": sco})
    assert opened.status_code == 200, opened.text
    at = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    base = {"registration": registration, "sco": sco, "attempt": opened.json()["attempt"], "at": at}
    seq0 = opened.json()["seq"]
    for n, (event, values) in enumerate((("initialize", {}), ("terminate", data)), start=seq0 + 1):
        r = client.post(CONTENT + "/player/commits", json={**base, "seq": n, "event": event, "data": values})
        assert r.status_code == 200, r.text


def test_a_scorm_12_course_of_several_scos_writes_its_course_statements_as_its_modules_roll_up(client):
    data = scorm12_zip(organizations=TWO_12, resources=TWO_12_RESOURCES,
                       files={"one.html": "<p>1</p>", "two.html": "<p>2</p>"})
    course_id, registration, config = open_course(client, data)
    assert "sequencing" not in config
    play_12(client, registration, "one", {"cmi.core.lesson_status": "incomplete", "cmi.core.score.raw": "85"})
    # one module passed (mastery 80), the other not done: no course completion or mastery yet
    assert course_verbs(client, registration, course_id) == ["scored"]
    status = client.get(f"/player/registrations/{registration}", headers=ADMIN).json()["status"]
    assert (status["completion_status"], status["success_status"]) == ("incomplete", None)
    play_12(client, registration, "two", {"cmi.core.lesson_status": "completed"})
    assert course_verbs(client, registration, course_id) == ["scored", "completed", "passed"]
    status = client.get(f"/player/registrations/{registration}", headers=ADMIN).json()["status"]
    assert (status["completion_status"], status["success_status"], status["score_scaled"]) == \
        ("completed", "passed", 0.85)


def test_a_course_whose_activity_tree_cannot_be_built_still_opens_with_flow_and_choice(client, monkeypatch):
    import player.runtime_http as runtime_http

    def broken(structure, organization=None):
        raise ValueError("no tree")

    monkeypatch.setattr(runtime_http, "settings_for", broken)
    _, registration, config = open_course(client, sequenced_zip())
    assert "sequencing" not in config and [s["id"] for s in config["scos"]] == ["lesson_a", "lesson_b"]
