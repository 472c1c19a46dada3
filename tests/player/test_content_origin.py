"""The content origin: what each origin serves, the headers that keep their answers from being framed
or read by other origins, and course files served to a player session of their own course only.

A package's scripts run on the content origin: they must act only with their own learner's session,
never reach the admin APIs or the xAPI with an admin's credentials, never load another course."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))

from cs_helpers import manifest_12, scorm12_zip, zip_bytes  # noqa: E402
from launch_helpers import ADMIN, ALICE, BOB, CONTENT, MAIN, import_package, launch, service  # noqa: E402

MEDIA = bytes(range(256)) * 400  # 100 KiB


def _course(identifier: str, lesson: str = "<html>lesson</html>") -> bytes:
    return zip_bytes({"imsmanifest.xml": manifest_12(identifier), "index.html": lesson, "media/clip.bin": MEDIA})


@pytest.fixture
def site(tmp_path):
    """A service with two courses (a: two versions; b: one); ``open(url)`` opens a launch link as the
    learner's browser does and leaves its session cookie in the client."""
    with service(tmp_path) as client:
        a = import_package(client, _course("com.example.a"))["course"]["id"]
        import_package(client, _course("com.example.a", "<html>lesson v2</html>"))
        b = import_package(client, _course("com.example.b", "<html>other course</html>"))["course"]["id"]

        def open_link(learner=ALICE, course_id=a, **body):
            client.cookies.clear()
            made = launch(client, learner=learner, course_id=course_id, **body)
            assert made.status_code == 201, made.text
            r = client.get(made.json()["launch_url"], follow_redirects=False)
            assert r.status_code == 303
            return r

        yield client, a, b, open_link


def files(course_id: str, version: int, path: str = "index.html") -> str:
    return f"{CONTENT}/content/files/{course_id}/{version}/{path}"


# -- what is served where --------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/content/files/{a}/1/index.html"), ("HEAD", "/content/files/{a}/1/index.html"),
    ("GET", "/player/session"), ("GET", "/player/launch/some-token"),
])
def test_course_files_and_learner_pages_are_404_on_the_main_origin(site, method, path):
    client, a, _, open_link = site
    open_link()  # with a session cookie and admin credentials: still nothing there
    r = client.request(method, MAIN + path.format(a=a), headers=ADMIN)
    assert r.status_code == 404
    if method == "GET":
        assert r.json()["error"]["status"] == 404


@pytest.mark.parametrize("method, path", [
    ("GET", "/xapi/about"), ("GET", "/xapi/statements"), ("GET", "/xapi/"), ("GET", "/xapi"),
    ("POST", "/xapi/statements"), ("GET", "/content/courses"), ("GET", "/content/courses/{a}"),
    ("POST", "/content/packages"), ("POST", "/content/courses/{a}/retire"), ("POST", "/player/launches"),
])
def test_the_xapi_and_admin_apis_are_404_on_the_content_origin(site, method, path):
    client, a, _, _ = site
    headers = {**ADMIN, "X-Experience-API-Version": "1.0.3"}
    r = client.request(method, CONTENT + path.format(a=a), headers=headers,
                       **({"json": {"learner": ALICE, "course_id": a}} if method == "POST" else {}))
    assert r.status_code == 404 and r.json()["error"]["status"] == 404
    assert client.get(f"{MAIN}/content/courses/{a}", headers=ADMIN).json()["retired"] is None  # not retired


def test_the_content_api_links_course_files_on_the_content_origin(site):
    client, a, _, _ = site
    course = client.get(f"/content/courses/{a}", headers=ADMIN).json()
    assert course["version"]["files_url"] == f"{CONTENT}/content/files/{a}/2/"


# -- course files need the session of their course and version ------------------------------------

def test_course_files_without_a_session_are_401_json_or_a_page_for_a_browser(site):
    client, a, _, _ = site
    r = client.get(files(a, 1))
    assert r.status_code == 401 and r.json()["error"] == {
        "status": 401, "path": "lrs_player",
        "message": "course files are served to a course session only: open a launch link first "
                   "(no valid lrs_player cookie)"}
    page = client.get(files(a, 1), headers={"Accept": "text/html,*/*"})
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "launch link" in page.text and "lesson" not in page.text
    for bad in ("not-a-jwt", ""):
        assert client.get(files(a, 1), cookies={"lrs_player": bad}).status_code == 401
    assert client.head(files(a, 1)).status_code == 401
    assert client.get(files(a, 1, "media/clip.bin"), headers={"Range": "bytes=0-9"}).status_code == 401


def test_an_expired_session_gets_no_course_files(tmp_path):
    with service(tmp_path, player_session_seconds=0) as client:
        a = import_package(client, scorm12_zip())["course"]["id"]
        r = client.get(launch(client, learner=ALICE, course_id=a).json()["launch_url"], follow_redirects=False)
        session = r.headers["set-cookie"].split(";")[0].removeprefix("lrs_player=")
        assert session.count(".") == 2  # a JWT, expired as it is made
        assert client.get(files(a, 1), cookies={"lrs_player": session}).status_code == 401


def test_a_session_gets_its_own_course_and_version_files_with_head_range_and_etag(site):
    client, a, _, open_link = site
    open_link(version=1)
    r = client.get(files(a, 1))
    assert r.status_code == 200 and r.text == "<html>lesson</html>"
    assert r.headers["cache-control"] == "private, max-age=31536000, immutable"  # never a shared cache
    head = client.head(files(a, 1))
    assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == r.headers["etag"]
    assert client.get(files(a, 1), headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    part = client.get(files(a, 1, "media/clip.bin"), headers={"Range": "bytes=1000-1009"})
    assert part.status_code == 206 and part.content == MEDIA[1000:1010]
    assert client.get(files(a, 1, "no-such-file.js")).status_code == 404


def test_a_session_gets_no_files_of_another_course_or_another_version(site):
    client, a, b, open_link = site
    open_link(version=1)
    for url in (files(b, 1), files(a, 2), files(b, 1, "media/clip.bin")):
        r = client.get(url)
        assert r.status_code == 403 and r.json()["error"]["status"] == 403, url
        assert "another course or version" in r.json()["error"]["message"]
        assert "lesson" not in r.text
    page = client.get(files(b, 1), headers={"Accept": "text/html"})
    assert page.status_code == 403 and "another course" in page.text
    assert client.head(files(b, 1)).status_code == 403
    assert client.get(f"{CONTENT}/content/files/{a}/01/index.html").status_code == 200  # the same version 1
    assert client.get(f"{CONTENT}/content/files/{a}/x/index.html").status_code == 403


def test_another_learners_session_on_the_same_course_gets_the_files(site):
    """Files belong to a course version, not a learner: Bob's session on version 2 reads version 2."""
    client, a, _, open_link = site
    open_link(learner=BOB)
    assert client.get(files(a, 2)).text == "<html>lesson v2</html>"
    assert client.get(files(a, 1)).status_code == 403


# -- the session cookie ----------------------------------------------------------------------------

def test_the_session_cookie_is_host_only_httponly_lax_and_covers_the_player_and_the_files(site):
    _, _, _, open_link = site
    cookie = open_link().headers["set-cookie"]
    attributes = {part.split("=")[0].strip().lower() for part in cookie.split(";")[1:]}
    assert "domain" not in attributes  # host-only: the content origin's host alone gets it back
    assert {"httponly", "path", "samesite", "max-age"} <= attributes and "secure" not in attributes
    assert "Path=/;" in cookie and "samesite=lax" in cookie.lower()


def test_the_main_origin_never_sets_a_cookie(site):
    client, a, _, _ = site
    for r in (launch(client, learner=ALICE, course_id=a), client.get("/xapi/about"),
              client.get("/content/courses", headers=ADMIN)):
        assert "set-cookie" not in r.headers


# -- framing and the other headers ------------------------------------------------------------------

CONTENT_HEADERS = {"x-frame-options": "SAMEORIGIN", "content-security-policy": "frame-ancestors 'self'",
                   "x-content-type-options": "nosniff", "cross-origin-resource-policy": "same-origin"}
MAIN_HEADERS = {"x-frame-options": "DENY", "content-security-policy": "frame-ancestors 'none'",
                "x-content-type-options": "nosniff"}


def _has(response, expected: dict) -> None:
    """The expected headers; a page with its own policy (the launch page) has the expected
    frame-ancestors directive among its policies' directives."""
    got = {name: response.headers.get(name) for name in expected}
    policy = got.get("content-security-policy")
    if policy and "content-security-policy" in expected:
        directives = {d.strip() for part in policy.split(",") for d in part.split(";")}
        if expected["content-security-policy"] in directives:
            got["content-security-policy"] = expected["content-security-policy"]
    assert got == expected, (response.url, response.status_code)


def test_course_files_and_learner_pages_may_be_framed_only_by_the_content_origins_own_pages(site):
    client, a, b, open_link = site
    redirect = open_link(version=1)
    _has(redirect, CONTENT_HEADERS)
    for r in (client.get(CONTENT + "/player/session"), client.get(files(a, 1)), client.head(files(a, 1)),
              client.get(files(a, 1, "media/clip.bin"), headers={"Range": "bytes=0-1"}),
              client.get(files(b, 1)), client.get(files(a, 1, "nothing.html")),
              client.get(CONTENT + "/player/launch/not-a-token"), client.get(CONTENT + "/xapi/about")):
        _has(r, CONTENT_HEADERS)
    client.cookies.clear()
    _has(client.get(files(a, 1)), CONTENT_HEADERS)
    _has(client.get(CONTENT + "/player/session"), CONTENT_HEADERS)


def test_main_origin_answers_may_not_be_framed_and_are_nosniff(site):
    client, a, _, _ = site
    xapi = {"X-Experience-API-Version": "1.0.3"}
    for r in (client.get("/xapi/about"), client.get("/xapi/statements", headers={**ADMIN, **xapi}),
              client.get("/xapi/statements", headers=xapi), client.get("/content/courses", headers=ADMIN),
              client.get("/content/courses"), launch(client, learner=ALICE, course_id=a),
              client.get(f"/content/files/{a}/1/index.html"), client.get("/player/session"),
              client.options("/xapi/statements")):
        _has(r, MAIN_HEADERS)


def test_a_page_with_its_own_policy_keeps_it_and_gets_frame_ancestors_beside_it():
    """A learner page that sends its own Content-Security-Policy (say script-src) gets the content
    origin's frame-ancestors as a second policy; browsers enforce both."""
    import asyncio

    from service.origins import CONTENT_HEADERS as HEADERS, SecurityHeaders

    async def page(scope, receive, send):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-security-policy", b"script-src 'self'")]})
        await send({"type": "http.response.body", "body": b""})

    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(SecurityHeaders(page, HEADERS)({"type": "http"}, None, send))
    policies = [v for k, v in sent[0]["headers"] if k == b"content-security-policy"]
    assert policies == [b"script-src 'self'", b"frame-ancestors 'self'"]


# -- the xAPI's CORS stays without credentials -------------------------------------------------------

def test_xapi_cors_never_allows_credentials_for_the_content_origin(site):
    """The xAPI answers any origin (Access-Control-Allow-Origin: *) but never with
    Access-Control-Allow-Credentials, so a page of the content origin cannot have the browser send an
    admin's cached credentials and read the answer."""
    client, _, _, _ = site
    preflight = client.options("/xapi/statements", headers={
        "Origin": CONTENT, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, x-experience-api-version"})
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers
    for r in (client.get("/xapi/statements", headers={**ADMIN, "Origin": CONTENT, "Sec-Fetch-Site": "same-site",
                                                      "X-Experience-API-Version": "1.0.3"}),
              client.get("/xapi/about", headers={"Origin": CONTENT})):
        assert r.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in r.headers


def test_launch_links_point_at_the_content_origin_and_cannot_be_made_from_it(site):
    client, a, _, _ = site
    body = launch(client, learner=ALICE, course_id=a).json()
    assert body["launch_url"].startswith(CONTENT + "/player/launch/")
    r = client.post("/player/launches", json={"learner": ALICE, "course_id": a},
                    headers={**ADMIN, "Origin": CONTENT, "Sec-Fetch-Site": "same-site"})
    assert r.status_code == 403
