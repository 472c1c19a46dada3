"""Launch links: POST /player/launches makes one, the learner's browser opens it once, and the
session page frames the registration's own version of the course."""
from __future__ import annotations

import base64
import json
import sqlite3
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))

from cs_helpers import manifest_12, scorm12_zip, zip_bytes  # noqa: E402
from launch_helpers import (ADMIN, ALICE, BOB, CONTENT, READER, import_package, launch, player_config,  # noqa: E402
                            service, token_of)


def _tokens_consumed(data_dir) -> int:
    conn = sqlite3.connect(data_dir / "player.sqlite3")
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = next(t for t in tables if "token" in t)
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def course(tmp_path):
    with service(tmp_path) as client:
        course_id = import_package(client, scorm12_zip())["course"]["id"]
        yield client, course_id


def test_a_launch_link_opens_once_then_shows_a_used_page_and_writes_nothing(course, tmp_path):
    client, course_id = course
    r = launch(client, learner=ALICE, course_id=course_id)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["launch_url"].startswith(CONTENT + "/player/launch/")
    assert body["registration"]["course"] == course_id and body["registration"]["version"] == 1
    assert body["registration"]["learner"] == ALICE
    assert body["expires"].endswith("Z")
    uuid.UUID(body["registration"]["id"])

    first = client.get(body["launch_url"], follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/player/session?registration=" + body["registration"]["id"]
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("lrs_player=") and "HttpOnly" in cookie and "Path=/;" in cookie
    assert "samesite=lax" in cookie.lower() and "Secure" not in cookie
    assert _tokens_consumed(tmp_path) == 1

    client.cookies.clear()
    again = client.get(body["launch_url"], follow_redirects=False)
    assert again.status_code == 410 and "already been used" in again.text
    assert "set-cookie" not in again.headers and again.headers["content-type"].startswith("text/html")
    assert _tokens_consumed(tmp_path) == 1


def test_the_session_page_frames_the_launch_file_which_the_content_origin_serves_to_the_session(course):
    client, course_id = course
    url = launch(client, learner=ALICE, course_id=course_id).json()["launch_url"]
    page = client.get(url)  # follows the 303 with the cookie
    assert page.status_code == 200 and 'name="viewport"' in page.text
    assert str(page.url).startswith(CONTENT + "/player/session?registration=")
    assert "Example</h1>" in page.text and "(version 1)" in page.text
    config = player_config(page.text)
    assert config["urls"]["files"] == f"/content/files/{course_id}/1/"   # relative: on the page's (content) origin
    assert config["scos"] == [{"id": "item_1", "title": "Lesson", "status": "not attempted", "available": True}]
    src = f"/content/files/{course_id}/1/index.html"   # where runtime.js frames it (files + launch)
    served = client.get(CONTENT + src)
    assert served.status_code == 200 and served.text == "<html>lesson</html>"
    client.cookies.clear()
    assert client.get(CONTENT + src).status_code == 401


def test_the_session_page_without_a_session_is_a_401_page(course):
    client, _ = course
    r = client.get(CONTENT + "/player/session")
    assert r.status_code == 401 and "launch link" in r.text and r.headers["content-type"].startswith("text/html")
    r = client.get(CONTENT + "/player/session", cookies={"lrs_player": "not-a-jwt"})
    assert r.status_code == 401


def test_an_expired_link_shows_an_expired_page_and_consumes_nothing(tmp_path):
    with service(tmp_path, launch_token_seconds=0) as client:
        course_id = import_package(client, scorm12_zip())["course"]["id"]
        url = launch(client, learner=ALICE, course_id=course_id).json()["launch_url"]
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 410 and "expired" in r.text and "set-cookie" not in r.headers
        assert _tokens_consumed(tmp_path) == 0


def _forgeries(token: str) -> list[str]:
    header, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    flipped = sig[:-2] + ("AA" if sig[-2:] != "AA" else "BB")
    return [
        f"{header}.{payload}.{flipped}",                                    # signature changed
        jwt.encode(claims, b"k" * 32, algorithm="HS256"),                   # another key
        jwt.encode(claims, None, algorithm="none"),                         # alg none
        "not.a.token",                                                      # malformed
        jwt.encode({**claims, "ver": 2}, b"k" * 32, algorithm="HS256"),
    ]


def test_forged_links_show_an_invalid_page_and_consume_nothing(course, tmp_path):
    client, course_id = course
    url = launch(client, learner=ALICE, course_id=course_id).json()["launch_url"]
    for forged in _forgeries(token_of(url)):
        r = client.get(f"{CONTENT}/player/launch/{forged}", follow_redirects=False)
        assert r.status_code == 400 and "not valid" in r.text and "set-cookie" not in r.headers, forged
    assert _tokens_consumed(tmp_path) == 0
    assert client.get(url, follow_redirects=False).status_code == 303   # the real one still works


def test_a_session_cookie_signed_with_another_key_is_refused(course):
    client, course_id = course
    url = launch(client, learner=ALICE, course_id=course_id).json()["launch_url"]
    client.get(url, follow_redirects=False)
    real = client.cookies["lrs_player"]
    claims = jwt.decode(real, options={"verify_signature": False})
    client.cookies.clear()
    forged = jwt.encode(claims, b"k" * 32, algorithm="HS256")
    assert client.get(CONTENT + "/player/session", cookies={"lrs_player": forged}).status_code == 401


def test_making_a_launch_link_needs_admin_credentials(course):
    client, course_id = course
    r = client.post("/player/launches", json={"learner": ALICE, "course_id": course_id})
    assert r.status_code == 401 and "www-authenticate" in r.headers
    assert r.json()["error"]["status"] == 401
    r = client.post("/player/launches", json={"learner": ALICE, "course_id": course_id}, headers=READER)
    assert r.status_code == 403 and "'all' scope" in r.json()["error"]["message"]
    r = client.post("/player/launches", json={"learner": ALICE, "course_id": course_id},
                    headers={**ADMIN, "Origin": "https://evil.example"})
    assert r.status_code == 403


@pytest.mark.parametrize("body, status, path", [
    ({"learner": {"mbox": "alice@example.com"}}, 400, "learner"),
    ({"learner": {"name": "no identifier"}}, 400, "learner"),
    ({"learner": {"objectType": "Group", "mbox": "mailto:g@example.com"}}, 400, "learner"),
    ({"learner": "mailto:alice@example.com"}, 400, "learner"),
    ({"course_id": "no-such-course"}, 404, "course_id"),
    ({"course_id": 7}, 400, "course_id"),
    ({"version": 9}, 404, "version"),
    ({"version": 0}, 400, "version"),
    ({"version": "1"}, 400, "version"),
    ({"return_url": "javascript:alert(1)"}, 400, "return_url"),
    ({"return_url": "/relative"}, 400, "return_url"),
    ({"registration": "not-a-uuid"}, 400, "registration"),
    ({"colour": "blue"}, 400, "colour"),
])
def test_bad_launch_requests_get_a_4xx_naming_the_field(course, body, status, path):
    client, course_id = course
    r = launch(client, **{"learner": ALICE, "course_id": course_id, **body})
    assert r.status_code == status, r.text
    assert r.json()["error"]["status"] == status and r.json()["error"]["path"] == path


def test_a_body_that_is_not_a_json_object_is_400(course):
    client, _ = course
    for content in (b"[1]", b"{not json"):
        r = client.post("/player/launches", content=content,
                        headers={**ADMIN, "content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["path"] == "body"


def test_a_retired_course_cannot_be_launched(course):
    client, course_id = course
    assert client.post(f"/content/courses/{course_id}/retire", headers=ADMIN).status_code == 200
    r = launch(client, learner=ALICE, course_id=course_id)
    assert r.status_code == 409 and r.json()["error"]["path"] == "course_id"


def test_an_explicit_registration_is_made_then_reused_and_other_learners_conflict(course):
    client, course_id = course
    reg = str(uuid.uuid4())
    made = launch(client, learner=ALICE, course_id=course_id, registration=reg)
    assert made.status_code == 201 and made.json()["registration"]["id"] == reg
    again = launch(client, learner=ALICE, course_id=course_id, registration=reg.upper())
    assert again.status_code == 201 and again.json()["registration"]["id"] == reg
    other = launch(client, learner=BOB, course_id=course_id, registration=reg)
    assert other.status_code == 409 and other.json()["error"]["path"] == "registration"


def _v2(course_identifier="com.example.course") -> bytes:
    return zip_bytes({"imsmanifest.xml": manifest_12(course_identifier), "index.html": "<html>lesson v2</html>"})


def test_a_registration_keeps_its_version_and_a_new_learner_gets_the_latest(course):
    client, course_id = course
    first = launch(client, learner=ALICE, course_id=course_id).json()
    assert first["registration"]["version"] == 1
    assert import_package(client, _v2())["version"]["version"] == 2
    second = launch(client, learner=ALICE, course_id=course_id).json()
    assert second["registration"] == first["registration"]
    page = client.get(second["launch_url"])
    assert player_config(page.text)["urls"]["files"] == f"/content/files/{course_id}/1/"
    client.cookies.clear()
    bob = launch(client, learner=BOB, course_id=course_id).json()
    assert bob["registration"]["version"] == 2
    assert player_config(client.get(bob["launch_url"]).text)["urls"]["files"] == f"/content/files/{course_id}/2/"


def test_a_version_can_be_chosen_for_a_new_registration_only(course):
    client, course_id = course
    import_package(client, _v2())
    pinned = launch(client, learner=BOB, course_id=course_id, version=1)
    assert pinned.status_code == 201 and pinned.json()["registration"]["version"] == 1
    reg = pinned.json()["registration"]["id"]
    clash = launch(client, learner=BOB, course_id=course_id, registration=reg, version=2)
    assert clash.status_code == 409 and clash.json()["error"]["path"] == "version"


def test_a_multi_sco_course_opens_its_first_item_and_lists_the_items(tmp_path):
    orgs = """
  <organizations default="org">
    <organization identifier="org"><title>Two</title>
      <item identifier="i1" identifierref="r1"><title>Part &lt;one&gt;</title></item>
      <item identifier="i2" identifierref="r2"><title>Part two</title></item>
    </organization>
  </organizations>"""
    res = """
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="one.html"><file href="one.html"/></resource>
    <resource identifier="r2" type="webcontent" adlcp:scormtype="sco" href="two.html"><file href="two.html"/></resource>
  </resources>"""
    data = zip_bytes({"imsmanifest.xml": manifest_12("com.example.two", organizations=orgs, resources=res),
                      "one.html": "1", "two.html": "2"})
    with service(tmp_path) as client:
        course_id = import_package(client, data)["course"]["id"]
        page = client.get(launch(client, learner=ALICE, course_id=course_id).json()["launch_url"]).text
        config = player_config(page)
        assert config["start"] == "i1" and [s["title"] for s in config["scos"]] == ["Part <one>", "Part two"]
        assert "Part <one>" not in page and 'id="contents"' in page   # data escaped; a table of contents


def test_the_cookie_is_secure_when_the_content_origin_is_https(tmp_path):
    with service(tmp_path, public_url="https://lrs.example.com", content_origin="https://learn.example.com:8081") \
            as client:
        course_id = import_package(client, scorm12_zip())["course"]["id"]
        body = launch(client, learner=ALICE, course_id=course_id).json()
        assert body["launch_url"].startswith("https://learn.example.com:8081/player/launch/")
        r = client.get(body["launch_url"], follow_redirects=False)
        assert r.status_code == 303 and "Secure" in r.headers["set-cookie"]


def test_by_default_the_content_origin_is_the_public_urls_host_on_the_content_port(tmp_path):
    with service(tmp_path, public_url="https://lrs.example.com", content_origin="", content_port=9443) as client:
        course_id = import_package(client, scorm12_zip())["course"]["id"]
        body = launch(client, learner=ALICE, course_id=course_id).json()
        assert body["launch_url"].startswith("https://lrs.example.com:9443/player/launch/")


def test_xapi_ignores_the_player_cookie(course):
    client, course_id = course
    client.get(launch(client, learner=ALICE, course_id=course_id).json()["launch_url"])
    assert "lrs_player" in client.cookies
    r = client.get("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"},
                   cookies={"lrs_player": client.cookies["lrs_player"]})
    assert r.status_code == 401
    r = client.get("/content/courses", cookies={"lrs_player": client.cookies["lrs_player"]})
    assert r.status_code == 401


def test_a_link_opens_once_and_keeps_its_version_on_every_backend(tmp_path, backend):
    with service(tmp_path, backend) as client:
        course_id = import_package(client, scorm12_zip())["course"]["id"]
        made = launch(client, learner=ALICE, course_id=course_id).json()
        assert client.get(made["launch_url"], follow_redirects=False).status_code == 303
        assert client.get(made["launch_url"], follow_redirects=False).status_code == 410
        import_package(client, _v2())
        again = launch(client, learner=ALICE, course_id=course_id).json()
        assert again["registration"] == made["registration"]
        assert launch(client, learner=BOB, course_id=course_id).json()["registration"]["version"] == 2


def test_other_methods_and_paths_answer_json_errors(course):
    client, _ = course
    r = client.get("/player/launches", headers=ADMIN)
    assert r.status_code == 405 and r.json()["error"]["status"] == 405
    r = client.get(CONTENT + "/player/launch/")
    assert r.status_code == 404 and r.json()["error"]["status"] == 404
