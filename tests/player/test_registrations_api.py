"""GET /player/registrations and /player/registrations/{id}: what an admin sees of a learner's course:
status, score, total time, attempts, last activity, and the statements behind them."""
from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))

from cs_helpers import scorm12_zip  # noqa: E402
from launch_helpers import ADMIN, ALICE, BOB, CONTENT, READER, import_package, launch, service  # noqa: E402

XAPI = {"X-Experience-API-Version": "1.0.3"}
MASTERY = """
  <organizations default="org">
    <organization identifier="org">
      <title>Quiz</title>
      <item identifier="item_1" identifierref="res_1"><title>Lesson</title>
        <adlcp:masteryscore>70</adlcp:masteryscore></item>
    </organization>
  </organizations>"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def play(client, registration: str, raw: str) -> None:
    """A learner's browser: open the attempt, initialize, score, finish."""
    assert client.post(CONTENT + "/player/attempts", json={"registration": registration, "sco": "item_1"}).status_code == 200
    batch = [{"registration": registration, "sco": "item_1", "attempt": 1, "seq": 1, "event": "initialize",
              "at": now(), "data": {"cmi.core.lesson_status": "incomplete"}},
             {"registration": registration, "sco": "item_1", "attempt": 1, "seq": 2, "event": "terminate",
              "at": now(), "data": {"cmi.core.lesson_status": "completed", "cmi.core.score.raw": raw,
                                    "cmi.core.session_time": "0000:02:30.00", "cmi.core.exit": ""}}]
    r = client.post(CONTENT + "/player/commits", json={"commits": batch})
    assert r.status_code == 200, r.text


@pytest.fixture
def played(tmp_path):
    with service(tmp_path) as client:
        course_id = import_package(client, scorm12_zip(organizations=MASTERY))["course"]["id"]
        made = launch(client, learner=ALICE, course_id=course_id).json()
        client.get(made["launch_url"])            # opens it: the session cookie
        play(client, made["registration"]["id"], "85")
        client.cookies.clear()
        bob = launch(client, learner=BOB, course_id=course_id).json()
        yield client, course_id, made["registration"]["id"], bob["registration"]["id"]


def test_a_registration_shows_status_score_time_attempts_and_the_statements_behind_them(played):
    client, course_id, reg, _ = played
    r = client.get(f"/player/registrations/{reg}", headers=ADMIN)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == reg and body["learner"] == ALICE and body["course"]["id"] == course_id
    status = body["status"]
    assert status["completion_status"] == "completed" and status["success_status"] == "passed"   # 85 >= 70
    assert status["score_scaled"] == 0.85 and status["total_time"] == "PT2M30S" and status["attempts"] == 1
    assert status["last_activity"].endswith("Z")
    assert body["attempts"][0]["ended"] is True and body["attempts"][0]["commits"] == 2
    verbs = {s["verb"].rsplit("/", 1)[1] for s in body["statements"]}
    assert {"completed", "passed", "scored", "terminated"} <= verbs
    for evidence in body["statements"]:      # each one is in the LRS, readable through /xapi
        got = client.get("/xapi/statements", params={"statementId": evidence["id"]}, headers={**ADMIN, **XAPI})
        assert got.status_code == 200 and got.json()["context"]["registration"] == reg


def test_registrations_are_listed_by_learner_and_course(played):
    client, course_id, reg, bob_reg = played
    everyone = client.get("/player/registrations", params={"course": course_id}, headers=ADMIN).json()
    assert {r["id"] for r in everyone["registrations"]} == {reg, bob_reg}
    alice = client.get("/player/registrations", params={"learner": "mailto:alice@example.com"}, headers=ADMIN).json()
    assert [r["id"] for r in alice["registrations"]] == [reg]
    assert alice["registrations"][0]["status"]["success_status"] == "passed"
    bob = client.get("/player/registrations", params={"learner": '{"mbox": "mailto:bob@example.com"}'},
                     headers=ADMIN).json()["registrations"]
    assert [r["id"] for r in bob] == [bob_reg] and bob[0]["status"]["completion_status"] == "not attempted"


def test_the_list_pages_with_a_more_link(played):
    client, course_id, reg, bob_reg = played
    first = client.get("/player/registrations", params={"limit": 1}, headers=ADMIN).json()
    assert len(first["registrations"]) == 1 and "more" in first
    second = client.get(first["more"], headers=ADMIN).json()
    assert {first["registrations"][0]["id"], second["registrations"][0]["id"]} == {reg, bob_reg}


def test_the_registrations_api_needs_an_admin_credential_and_says_what_is_wrong(played):
    client, _, reg, _ = played
    assert client.get("/player/registrations").status_code == 401
    assert client.get(f"/player/registrations/{reg}", headers=READER).status_code == 403
    assert client.get(CONTENT + f"/player/registrations/{reg}", headers=ADMIN).status_code == 404  # main origin only
    r = client.get("/player/registrations/not-a-registration", headers=ADMIN)
    assert r.status_code == 404 and r.json()["error"]["path"] == "id"
    r = client.get("/player/registrations", params={"learner": "nobody"}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["path"] == "learner"
    r = client.get("/player/registrations", params={"limit": "0"}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["path"] == "limit"
    r = client.get("/player/registrations", params={"status": "done"}, headers=ADMIN)
    assert r.status_code == 400 and r.json()["error"]["path"] == "status"
