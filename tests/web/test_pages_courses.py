"""The course pages at /app/courses over HTTP: a package upload streamed through the page and its report,
courses with their versions and figures, retiring and an admin's preview launch; roles and CSRF enforced
on the server for every POST, package text escaped, the session cookie refused by /content and /xapi.
Every test runs on both backends (the world's stores: sqlite, and mongo where FerretDB is configured)."""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from web_kit import ADMIN, HOSTILE, client_of, csrf_of, make_world, populate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "content_store"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from cs_helpers import manifest_12, scorm12_zip, zip_bytes  # noqa: E402
from lrs_testkit import fresh_mongodb_url  # noqa: E402
from scenario_kit import XAPI  # noqa: E402

from web.pages import courses as courses_module  # noqa: E402

PACKAGES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "packages"
ESCAPED = "&lt;script&gt;"


def package(name: str) -> bytes:
    path = PACKAGES / name
    if not path.is_file():
        pytest.skip(f"{path} is absent: third-party fixtures are read from ../shared")
    return path.read_bytes()


def hostile_package() -> bytes:
    orgs = f"""
  <organizations default="org">
    <organization identifier="org">
      <title>Course {HOSTILE.replace('<', '&lt;')}</title>
      <item identifier="item_1" identifierref="res_1"><title>SCO {HOSTILE.replace('<', '&lt;')}</title></item>
    </organization>
  </organizations>"""
    return zip_bytes({"imsmanifest.xml": manifest_12("com.example.hostile", organizations=orgs),
                      "index.html": "<html>lesson</html>"})


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    url = fresh_mongodb_url() if request.param == "mongo" else ""
    svc = make_world(tmp_path_factory.mktemp("web-courses"), url)
    with svc:
        populate(svc)
        yield svc


def upload(client, body: bytes, name: str = "package.zip", token: str | None = None, **kw):
    if token is None:
        token = csrf_of(client.get("/app/courses").text)
    return client.post("/app/courses", data={"csrf": token}, files={"file": (name, body, "application/zip")},
                       follow_redirects=False, **kw)


def imported(resp) -> tuple[str, int]:
    assert resp.status_code == 303, resp.text[:2000]
    m = re.fullmatch(r"/app/courses/([^/]+)/versions/(\d+)\?imported=(new|same)", resp.headers["location"])
    assert m, resp.headers["location"]
    return m.group(1), int(m.group(2))


def api_courses(world) -> list[dict]:
    return world.client.get("/content/courses?include_retired=true", headers=ADMIN).json()["courses"]


def test_an_admin_uploads_a_real_package_and_lands_on_its_version_page_with_structure_and_digest(world, browser_as):
    ada = browser_as("ada")
    body = package("ContentPackagingSingleSCO_SCORM20042ndEdition.zip")
    resp = upload(ada, body, "single-sco.zip")
    course, n = imported(resp)
    page = ada.get(resp.headers["location"])
    assert page.status_code == 200
    assert "Imported as version" in page.text or "already the course&#39;s latest version" in page.text
    assert hashlib.sha256(body).hexdigest() in page.text
    assert "SCORM 2004 2nd edition" in page.text and "Golf Explained" in page.text
    assert "<th scope=\"row\">" in page.text and "SCO" in page.text
    again = upload(ada, body, "single-sco.zip")
    assert imported(again) == (course, n) and again.headers["location"].endswith("imported=same")
    listing = ada.get("/app/courses").text
    assert f'href="/app/courses/{course}"' in listing and "SCORM 2004" in listing
    course_page = ada.get(f"/app/courses/{course}")
    assert course_page.status_code == 200 and f'href="/app/courses/{course}/versions/{n}"' in course_page.text
    assert hashlib.sha256(body).hexdigest() in course_page.text


@pytest.mark.parametrize("name, rule, where", [
    ("InvalidFileReferences_SCORM12.zip", "scorm.file.missing", "imsmanifest.xml, line 26"),
    ("MalformedXml_SCORM12.zip", "xml.malformed", "imsmanifest.xml, line 27"),
    ("ItemWithNonExistentResourceId_SCORM12.zip", "scorm.item.identifierref_unknown", "imsmanifest.xml, line 20"),
])
def test_a_refused_real_package_shows_its_report_as_a_list_with_where_and_what_to_do(world, browser_as, name, rule,
                                                                                      where):
    ada = browser_as("ada")
    before = api_courses(world)
    resp = upload(ada, package(name), name)
    assert resp.status_code == 400 and "The package was refused" in resp.text
    assert rule in resp.text and where in resp.text and "What to do" in resp.text
    assert 'class="issues"' in resp.text and "Traceback" not in resp.text
    assert api_courses(world) == before


def test_the_report_lists_errors_before_warnings_each_with_advice():
    report = {"warnings": [{"rule": "scorm.sequencing.x", "message": "w", "file": "imsmanifest.xml", "line": 3}],
              "errors": [{"rule": "zip.encrypted", "message": "e", "file": "a.html"},
                         {"rule": "scorm.file.missing", "message": "m", "file": "imsmanifest.xml", "line": 9,
                          "element": "manifest/resources"}]}
    issues = courses_module.issues_view(report)
    assert [i["severity"] for i in issues] == ["error", "error", "warning"]
    assert issues[0]["todo"].startswith("Export the package again") and issues[1]["where"] == "imsmanifest.xml, line 9"
    assert issues[2]["todo"].startswith("The package was accepted")


class FakeRegistrations:
    """Registrations.page's answer over a list of statuses, in pages as the player gives them."""

    def __init__(self, statuses: list[dict]):
        self.regs = [{"id": f"{i:04d}", "status": s} for i, s in enumerate(statuses)]

    def page(self, learner=None, course=None, limit=None, after=None):
        rest = [r for r in self.regs if after is None or r["id"] > after][:limit]
        return {"registrations": rest, **({"more": "next"} if len(rest) == limit else {})}


def test_course_figures_count_started_completed_and_passed_registrations_per_format():
    statuses = [{"attempts": 0, "completion_status": "not attempted"},
                {"attempts": 2, "completion_status": "incomplete"},
                {"attempts": 1, "completion_status": "completed", "success_status": "failed"},
                {"attempts": 1, "completion_status": "completed", "success_status": "passed"}] * 60
    regs = FakeRegistrations(statuses)
    scorm = courses_module.course_figures(regs, {"id": "c", "format": "scorm12"})
    assert (scorm["registrations"], scorm["started"], scorm["completed"], scorm["passed"]) == (240, 180, 120, 60)
    assert not scorm["capped"] and scorm["passed_tracked"]
    cmi5 = courses_module.course_figures(FakeRegistrations([{"attempts": 0, "satisfied": True},
                                                            {"attempts": 0, "satisfied": False}]),
                                         {"id": "c", "format": "cmi5"})
    assert (cmi5["started"], cmi5["completed"], cmi5["passed_tracked"]) == (2, 1, False)
    capped = courses_module.course_figures(regs, {"id": "c", "format": "scorm12"}, limit=100)
    assert capped["registrations"] == 100 and capped["capped"]
    exact = courses_module.course_figures(regs, {"id": "c", "format": "scorm12"}, limit=240)
    assert exact["registrations"] == 240 and not exact["capped"]
    assert not courses_module.course_figures(regs, {"id": "c", "format": "tincan"})["tracked"]


def test_supervisors_and_auditors_are_refused_every_course_post_by_the_server(world, browser_as):
    ada = browser_as("ada")
    course, n = imported(upload(ada, scorm12_zip("com.example.roles")))
    before = api_courses(world)
    for who in ("sam", "aud"):
        c = browser_as(who)
        token = csrf_of(c.get("/app/courses").text)
        assert 'enctype="multipart/form-data"' not in c.get("/app/courses").text       # hidden ...
        assert upload(c, scorm12_zip("com.example.refused"), token=token).status_code == 403   # ... and refused
        assert c.post(f"/app/courses/{course}/retire", data={"csrf": token, "reason": "x", "confirm": "yes"}
                      ).status_code == 403
        resp = c.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": token}, follow_redirects=False)
        assert resp.status_code == 403
    assert api_courses(world) == before


def test_an_upload_without_its_token_or_with_the_token_after_the_file_is_refused_and_nothing_is_kept(world,
                                                                                                    browser_as):
    ada, other = browser_as("ada"), browser_as("ada")
    before = api_courses(world)
    body = scorm12_zip("com.example.forged")
    assert upload(ada, body, token="").status_code == 403
    foreign = csrf_of(other.get("/app/courses").text)
    resp = upload(ada, body, token=foreign)
    assert resp.status_code == 403 and "security token" in resp.text
    # the token after the file: the file part is refused when it begins
    own = csrf_of(ada.get("/app/courses").text)
    boundary = "b0undary"
    raw = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.zip\"\r\n"
           "Content-Type: application/zip\r\n\r\n").encode() + body + (
           f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{own}\r\n"
           f"--{boundary}--\r\n").encode()
    resp = ada.post("/app/courses", content=raw, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert resp.status_code == 403
    assert ada.post("/app/courses", content=body, headers={"Content-Type": "application/zip"}).status_code == 400
    assert api_courses(world) == before


def test_an_upload_over_the_content_stores_limit_is_refused_with_its_report(world, browser_as):
    ada = browser_as("ada")
    token = csrf_of(ada.get("/app/courses").text)
    resp = ada.post("/app/courses", content=b"x", headers={"Content-Type": "multipart/form-data; boundary=z",
                                                            "Content-Length": str(2 * 1024 ** 4)})
    assert resp.status_code == 413 and "upload.too_large" in resp.text
    resp = upload(ada, b"", "empty.zip", token=token)
    assert resp.status_code == 400 and "upload.empty" in resp.text


def test_a_hostile_package_and_sco_title_are_escaped_on_every_course_page(world, browser_as):
    ada = browser_as("ada")
    course, n = imported(upload(ada, hostile_package()))
    bad = zip_bytes({"imsmanifest.xml": manifest_12("com.example.hostile.bad", organizations=f"""
  <organizations default="org"><organization identifier="org"><title>x</title>
    <item identifier="item_1" identifierref="{HOSTILE.replace('<', '&lt;')}"><title>t</title></item>
  </organization></organizations>"""), "index.html": "x"})
    report = upload(ada, bad)
    assert report.status_code == 400 and ESCAPED in report.text and "<script>" not in report.text
    for path in ("/app/courses", f"/app/courses/{course}", f"/app/courses/{course}/versions/{n}",
                 "/app/courses.csv"):
        text = ada.get(path).text
        assert "<script>" not in text or path.endswith(".csv"), path
    version = ada.get(f"/app/courses/{course}/versions/{n}").text
    assert f"SCO {ESCAPED}" in version and f"Course {ESCAPED}" in version


def test_the_course_list_pages_on_the_server_and_the_csv_has_every_course(world, browser_as, monkeypatch):
    ada = browser_as("ada")
    for i in range(3):
        imported(upload(ada, scorm12_zip(f"com.example.paged.{i}")))
    monkeypatch.setattr(courses_module, "PAGE", 2)
    total = len([c for c in api_courses(world) if not c["retired"]])
    first = ada.get("/app/courses").text
    assert f"2 shown of {total}" in first and 'href="/app/courses?start=2">Next page' in first
    second = ada.get("/app/courses?start=2").text
    assert "Previous page" in second and "from number 3" in second
    assert ada.get("/app/courses?start=abc").status_code == 400
    csv = ada.get("/app/courses.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("id,title,format") and len(lines) == total + 1


def test_retiring_needs_a_reason_and_a_confirmation_then_hides_the_course_from_the_list(world, browser_as):
    ada = browser_as("ada")
    course, n = imported(upload(ada, scorm12_zip("com.example.retire")))
    token = csrf_of(ada.get(f"/app/courses/{course}").text)
    resp = ada.post(f"/app/courses/{course}/retire", data={"csrf": token, "reason": " ", "confirm": "yes"})
    assert resp.status_code == 400 and "reason" in resp.text
    resp = ada.post(f"/app/courses/{course}/retire", data={"csrf": token, "reason": "outdated"})
    assert resp.status_code == 400 and "confirm" in resp.text
    assert ada.post(f"/app/courses/{course}/retire", data={"reason": "outdated", "confirm": "yes"}).status_code == 403
    assert not next(c for c in api_courses(world) if c["id"] == course)["retired"]
    resp = ada.post(f"/app/courses/{course}/retire", data={"csrf": token, "reason": "outdated", "confirm": "yes"})
    assert resp.status_code == 200 and "Retired" in resp.text
    assert next(c for c in api_courses(world) if c["id"] == course)["retired"]
    assert f'href="/app/courses/{course}"' not in ada.get("/app/courses").text
    assert f'href="/app/courses/{course}"' in ada.get("/app/courses?retired=1").text
    assert ada.get(f"/app/courses/{course}/versions/{n}").status_code == 200        # versions stay readable
    resp = ada.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": token}, follow_redirects=False)
    assert resp.status_code == 409 and "retired" in resp.text
    assert ada.post("/app/courses/nope/retire", data={"csrf": token, "reason": "x", "confirm": "yes"}
                    ).status_code == 404


def test_an_admin_preview_of_a_scorm_version_is_a_launch_for_the_admin_on_the_content_origin(world, browser_as):
    ada = browser_as("ada")
    course, n = imported(upload(ada, package("RuntimeBasicCalls_SCORM12.zip")))
    page = ada.get(f"/app/courses/{course}/versions/{n}")
    origin = world.settings.content_url
    assert any(f"form-action 'self' {origin}" in p for p in page.headers.get_list("content-security-policy"))
    token = csrf_of(page.text)
    resp = ada.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": token}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith(origin + "/player/launch/")
    regs = world.client.get(f"/player/registrations?course={course}", headers=ADMIN).json()["registrations"]
    assert len(regs) == 1 and regs[0]["learner"]["account"]["name"] == "ada"
    assert regs[0]["course"]["version"] == n
    figures = ada.get(f"/app/courses/{course}").text
    assert re.search(r"<dt>Registrations</dt><dd>1</dd>", figures) and re.search(r"<dt>Started</dt><dd>0</dd>", figures)
    assert ada.post(f"/app/courses/{course}/versions/99/preview", data={"csrf": token}).status_code == 404
    link = re.search(r'href="(/app/statements\?activity=[^"]+)">Statements about this course', page.text).group(1)
    iri = world.settings.main_url + f"/courses/{course}"
    sco = {"objectType": "Activity", "id": iri + "/scos/item_1"}
    resp = world.client.post("/xapi/statements", headers=XAPI, json={
        "actor": {"mbox": "mailto:p2@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": sco, "context": {"contextActivities": {"parent": [{"id": iri}]}}})
    assert resp.status_code == 200, resp.text
    found = ada.get(link.replace("&amp;", "&"))
    assert found.status_code == 200 and resp.json()[0] in found.text


def test_an_admin_preview_of_an_xapi_tincan_course_launches_its_activity(world, browser_as):
    ada = browser_as("ada")
    course, n = imported(upload(ada, package("xapi_tincan_basic_course.zip")))
    page = ada.get(f"/app/courses/{course}/versions/{n}")
    assert "xAPI (TinCan)" in page.text
    assert 'href="/app/statements?activity=http%3A//example.com/activities/basic-course&amp;related_activities=true"' \
        in page.text
    resp = ada.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": csrf_of(page.text)},
                    follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith(world.settings.content_url + "/player/")


def test_an_admin_preview_of_a_cmi5_course_launches_its_au(world, browser_as):
    ada = browser_as("ada")
    course, n = imported(upload(ada, package("cmi5_single_au_basic_responsive.zip")))
    token = csrf_of(ada.get(f"/app/courses/{course}/versions/{n}").text)
    resp = ada.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": token, "au": "0"},
                    follow_redirects=False)
    assert resp.status_code == 303 and "/player/cmi5/launch/" in resp.headers["location"]
    resp = ada.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": token, "au": "7"})
    assert resp.status_code == 404 and "no AU number 7" in resp.text and "(field: au)" in resp.text
    resp = ada.post(f"/app/courses/{course}/versions/{n}/preview", data={"csrf": token, "au": "x"})
    assert resp.status_code == 400 and "field: au" in resp.text


def test_unknown_courses_and_versions_are_404_pages_that_say_what_to_do(world, browser_as):
    ada = browser_as("ada")
    for path in ("/app/courses/nope", "/app/courses/nope/versions/1", "/app/courses/nope/versions/abc",
                 "/app/courses/nope/versions/99999999999999999999999"):
        resp = ada.get(path)
        assert resp.status_code == 404 and "What to do" in resp.text, path


@pytest.mark.parametrize("path", ["/content/courses", "/content/packages", "/xapi/statements"])
def test_the_session_cookie_is_never_accepted_by_content_or_xapi(world, browser_as, path):
    sid = browser_as("ada").cookies.get("lrs_web")
    c = client_of(world)
    headers = {"Cookie": f"lrs_web={sid}", "X-Experience-API-Version": "1.0.3"}
    if path == "/content/packages":
        resp = c.post(path, content=scorm12_zip("com.example.cookie"), headers={**headers,
                                                                                 "Content-Type": "application/zip"})
    else:
        resp = c.get(path, headers=headers)
    assert resp.status_code == 401
    assert all(x["identifier"] != "com.example.cookie" for x in api_courses(world))


def test_pages_need_a_session(world):
    c = client_of(world)
    assert c.get("/app/courses").status_code == 401
    assert c.post("/app/courses", files={"file": ("p.zip", b"x")}).status_code == 401
