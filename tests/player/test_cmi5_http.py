"""cmi5 launch over HTTP, through the composition root: the launch link, the fetch URL, the session
token's reach, the LRS's cmi5 rules on statements and the LMS's statements (issue 13)."""
from __future__ import annotations

import base64
import io
import json
import os
import time
import uuid
import zipfile
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from lrs.auth import Credentials
from lrs.storage import open_store
from service.app import create_service
from service.config import Settings

MAIN, CONTENT = "http://testserver:8080", "http://testserver:8081"
ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin-secret").decode(),
         "X-Experience-API-Version": "1.0.3"}
LEARNER = {"objectType": "Agent", "account": {"homePage": "https://example.org", "name": "learner-1"}}
CMI5_XML = """<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.org/course/c1"><title><langstring lang="en">C1</langstring></title>
    <description><langstring lang="en">C1</langstring></description></course>
  <block id="https://example.org/block/b1"><title><langstring lang="en">B1</langstring></title>
    <description><langstring lang="en">B1</langstring></description>
    <au id="https://example.org/au/a1" moveOn="Completed" masteryScore="0.8">
      <title><langstring lang="en">A1</langstring></title><description><langstring lang="en">A1</langstring></description>
      <url>index.html?x=1</url><launchParameters>p=1</launchParameters></au>
  </block>
</courseStructure>"""
EXT = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"


def package() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cmi5.xml", CMI5_XML)
        z.writestr("index.html", "<!doctype html><title>AU</title>")
    return buf.getvalue()


MONGO_URL = os.environ.get("LRS_TEST_MONGODB_URL", "")


@pytest.fixture(params=["sqlite", "mongo"])
def service(request, tmp_path):
    url = ""
    if request.param == "mongo":
        if not MONGO_URL:
            pytest.skip("LRS_TEST_MONGODB_URL is not set")
        url = MONGO_URL.rstrip("/") + f"/cmi5_http_{uuid.uuid4().hex[:10]}"
    store = open_store(tmp_path, url)
    Credentials(store).create("admin", "admin-secret", ["all"])
    store.close()
    settings = Settings(data_dir=tmp_path, mongodb_url=url, content_origin=CONTENT, public_url=MAIN,
                        log_level="warning", cmi5_session_timeout_seconds=2)
    with TestClient(create_service(settings), base_url=MAIN) as client:
        r = client.post("/content/packages", content=package(), headers={**ADMIN, "Content-Type": "application/zip"})
        assert r.status_code == 201, r.text
        client.course_id = r.json()["course"]["id"]
        yield client
    if url:
        import pymongo

        with pymongo.MongoClient(url) as mc:
            mc.drop_database(mc.get_default_database().name)


def launch(client, registration=None) -> dict:
    body = {"learner": LEARNER, "course_id": client.course_id}
    if registration:
        body["registration"] = registration
    r = client.post("/player/cmi5/launches", json=body, headers=ADMIN)
    assert r.status_code == 201, r.text
    out = r.json()
    opened = client.get(out["launch_url"], follow_redirects=False)
    assert opened.status_code == 303
    out["au_url"] = opened.headers["location"]
    out["params"] = {k: v[0] for k, v in parse_qs(urlsplit(out["au_url"]).query).items()}
    return out


def token(client, launched) -> dict:
    r = client.post(launched["params"]["fetch"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    return {"Authorization": "Basic " + r.json()["auth-token"], "X-Experience-API-Version": "1.0.3"}


def statement(launched, verb, **extra) -> dict:
    cats = [{"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}]
    if verb in ("completed", "passed", "failed"):
        cats.append({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"})
    st = {"id": str(uuid.uuid4()), "timestamp": "2026-11-30T05:00:00.000Z", "actor": LEARNER,
          "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"}, "object": {"id": launched["activity_id"]},
          "context": {"registration": launched["registration"], "contextActivities": {"category": cats},
                      "extensions": {EXT: launched["session"]}}}
    st.update(extra)
    return st


def start(client, launched, auth) -> None:
    p = launched["params"]
    assert client.get("/xapi/agents/profile", params={"agent": p["actor"], "profileId": "cmi5LearnerPreferences"},
                      headers=auth).status_code == 404
    r = client.post("/xapi/statements", json=statement(launched, "initialized"), headers=auth)
    assert r.status_code == 200, r.text


def verbs(client, registration) -> list[str]:
    r = client.get("/xapi/statements", params={"registration": registration, "ascending": "true"}, headers=ADMIN)
    return [s["verb"]["id"].rsplit("/", 1)[1] for s in r.json()["statements"]]


def test_the_launch_url_carries_the_cmi5_parameters_and_the_au_query(service):
    launched = launch(service)
    p = launched["params"]
    assert p["x"] == "1" and p["endpoint"] == MAIN + "/xapi" and p["registration"] == launched["registration"]
    assert p["activityId"] == launched["activity_id"] != "https://example.org/au/a1"
    assert json.loads(p["actor"]) == LEARNER
    assert service.get(launched["au_url"]).status_code == 200   # the cookie the link set opens the AU's files


def test_the_launch_data_document_holds_what_the_au_needs(service):
    launched = launch(service)
    p = launched["params"]
    auth = token(service, launched)
    r = service.get("/xapi/activities/state", headers=auth, params={
        "activityId": p["activityId"], "agent": p["actor"], "registration": p["registration"], "stateId": "LMS.LaunchData"})
    data = r.json()
    assert data["contextTemplate"]["extensions"][EXT] == launched["session"]
    assert data["contextTemplate"]["contextActivities"]["grouping"] == [{"id": "https://example.org/au/a1"}]
    assert (data["launchMode"], data["moveOn"], data["masteryScore"], data["launchParameters"]) == \
        ("Normal", "Completed", 0.8, "p=1")
    assert data["returnURL"]


def test_a_reused_fetch_url_answers_error_code_1_without_a_token(service):
    launched = launch(service)
    token(service, launched)
    again = service.post(launched["params"]["fetch"])
    assert again.status_code == 200 and again.json()["error-code"] == "1" and "auth-token" not in again.json()


def test_the_token_is_refused_for_another_registration(service):
    launched = launch(service)
    auth = token(service, launched)
    start(service, launched, auth)
    other = str(uuid.uuid4())
    st = statement(launched, "experienced")
    st["context"]["registration"] = other
    assert service.post("/xapi/statements", json=st, headers=auth).status_code == 403
    p = launched["params"]
    r = service.get("/xapi/activities/state", headers=auth, params={
        "activityId": p["activityId"], "agent": p["actor"], "registration": other, "stateId": "s"})
    assert r.status_code == 403 and r.json()["error"]["path"] == "registration"
    assert service.get("/xapi/statements", headers=auth).status_code == 403


def test_completed_meets_move_on_and_the_lms_records_satisfied_for_the_block_then_the_course(service):
    launched = launch(service)
    auth = token(service, launched)
    start(service, launched, auth)
    done = statement(launched, "completed", result={"completion": True, "duration": "PT5S"})
    assert service.post("/xapi/statements", json=done, headers=auth).status_code == 200
    assert service.post("/xapi/statements", json=statement(launched, "terminated", result={"duration": "PT9S"}),
                        headers=auth).status_code == 200
    assert verbs(service, launched["registration"]) == ["launched", "initialized", "completed", "satisfied",
                                                        "satisfied", "terminated"]
    status = service.get(f"/player/cmi5/registrations/{launched['registration']}", headers=ADMIN).json()
    assert status["satisfied"] is True and status["blocks"] == [{"id": "https://example.org/block/b1", "satisfied": True}]
    player = service.get(f"/player/registrations/{launched['registration']}", headers=ADMIN).json()
    assert player["status"]["satisfied"] is True and player["cmi5"]["aus"][0]["completed"] is True
    # the token ended with the session
    after = service.post("/xapi/statements", json=statement(launched, "experienced"), headers=auth)
    assert after.status_code == 401


def test_a_rule_breaking_statement_is_refused_with_403_and_nothing_stored(service):
    launched = launch(service)
    auth = token(service, launched)
    start(service, launched, auth)
    bad = statement(launched, "completed", result={"completion": True, "duration": "PT5S", "success": True})
    r = service.post("/xapi/statements", json=[statement(launched, "experienced"), bad], headers=auth)
    assert r.status_code == 403 and r.json()["error"]["path"] == "[1].result.success"
    assert verbs(service, launched["registration"]) == ["launched", "initialized"]


def test_an_expired_session_refuses_its_token_and_is_abandoned(service):
    launched = launch(service)
    auth = token(service, launched)
    time.sleep(2.1)
    assert service.post("/xapi/statements", json=statement(launched, "initialized"), headers=auth).status_code == 401
    assert verbs(service, launched["registration"]) == ["launched", "abandoned"]


def test_statements_outside_cmi5_sessions_are_untouched(service):
    st = {"actor": {"mbox": "mailto:x@example.org"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
          "object": {"id": "https://example.org/other"}, "context": {"registration": str(uuid.uuid4())}}
    assert service.post("/xapi/statements", json=st, headers=ADMIN).status_code == 200


def test_a_statement_naming_an_ended_cmi5_session_is_refused_even_for_an_admin(service):
    launched = launch(service)
    service.post(f"/player/cmi5/sessions/{launched['session']}/abandon", headers=ADMIN)
    st = statement(launched, "completed", result={"completion": True, "duration": "PT5S"})
    r = service.post("/xapi/statements", json=st, headers=ADMIN)
    assert r.status_code == 403 and r.json()["error"]["path"] == "context.extensions"
    st["context"]["extensions"][EXT] = str(uuid.uuid4())    # a session id the LMS never made
    r = service.post("/xapi/statements", json=st, headers=ADMIN)
    assert r.status_code == 403 and r.json()["error"]["path"] == "context.extensions"


def test_a_statement_with_a_cmi5_registration_but_no_session_id_from_another_client_is_untouched(service):
    launched = launch(service)
    st = statement(launched, "experienced")
    del st["context"]["extensions"]
    del st["timestamp"]
    assert service.post("/xapi/statements", json=st, headers=ADMIN).status_code == 200


def test_waiving_an_au_from_the_admin_api(service):
    launched = launch(service)
    r = service.post(f"/player/cmi5/registrations/{launched['registration']}/waive", json={"au": 0, "reason": "Tested"},
                     headers=ADMIN)
    assert r.status_code == 201
    assert verbs(service, launched["registration"]) == ["launched", "waived", "satisfied", "satisfied"]
    again = service.post(f"/player/cmi5/registrations/{launched['registration']}/waive",
                         json={"au": 0, "reason": "Tested"}, headers=ADMIN)
    assert again.status_code == 409


def test_a_new_launch_abandons_the_active_session(service):
    first = launch(service)
    second = launch(service, registration=first["registration"])
    assert verbs(service, first["registration"]) == ["launched", "abandoned", "launched"]
    assert second["session"] != first["session"]


def test_post_player_launches_launches_a_cmi5_course_as_cmi5(service):
    r = service.post("/player/launches", json={"learner": LEARNER, "course_id": service.course_id}, headers=ADMIN)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["launch_url"].startswith(CONTENT + "/player/cmi5/launch/") and body["au"] == "https://example.org/au/a1"
    assert verbs(service, body["registration"]) == ["launched"]
