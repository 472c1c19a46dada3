"""The composition root: the content store's management API is admin-only; course files are served on
the content origin only (tests/player/test_content_origin.py checks them there)."""
from __future__ import annotations

import base64

import pytest

from starlette.testclient import TestClient

from lrs.auth import Credentials
from lrs.storage import open_store
from service.app import create_apps, create_service
from service.config import Settings

MAIN, CONTENT = "http://testserver:8080", "http://testserver:8081"  # the default ports: the two origins


def _client(tmp_path):
    store = open_store(tmp_path)
    creds = Credentials(store)
    creds.create("admin", "admin-secret", ["all"])
    creds.create("reader", "reader-secret", ["statements/read"])
    store.close()
    return TestClient(create_service(Settings(data_dir=tmp_path, content_origin=CONTENT, log_level="warning")),
                      base_url=MAIN)


def _basic(key, secret):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


def test_package_upload_without_credentials_is_401(tmp_path):
    with _client(tmp_path) as client:
        resp = client.post("/content/packages", content=b"not a zip")
        assert resp.status_code == 401
        assert resp.headers["www-authenticate"].startswith("Basic")
        assert resp.json()["error"]["status"] == 401


def test_course_list_with_a_non_admin_credential_is_403(tmp_path):
    with _client(tmp_path) as client:
        resp = client.get("/content/courses", headers=_basic("reader", "reader-secret"))
        assert resp.status_code == 403


def test_admin_reaches_the_content_api(tmp_path):
    with _client(tmp_path) as client:
        assert client.get("/content/courses", headers=_basic("admin", "admin-secret")).status_code == 200
        bad = client.post("/content/packages", content=b"not a zip", headers=_basic("admin", "admin-secret"))
        assert 400 <= bad.status_code < 500


def test_course_files_are_not_served_on_the_main_origin_and_need_a_session_on_the_content_origin(tmp_path):
    with _client(tmp_path) as client:
        resp = client.get("/content/files/no-such-course/1/index.html", headers=_basic("admin", "admin-secret"))
        assert resp.status_code == 404 and resp.json()["error"]["status"] == 404
        resp = client.get(CONTENT + "/content/files/no-such-course/1/index.html",
                          headers=_basic("admin", "admin-secret"))
        assert resp.status_code == 401 and resp.json()["error"]["path"] == "lrs_player"


def test_create_apps_gives_both_origins_apps_over_the_same_stores(tmp_path):
    """The in-process way to the content origin: create_apps' second app, run beside the first (whose
    lifespan opens the stores)."""
    main, content = create_apps(Settings(data_dir=tmp_path, log_level="warning"))
    with TestClient(main) as m:
        c = TestClient(content)
        assert m.get("/xapi/about").status_code == 200 and c.get("/xapi/about").status_code == 404
        assert c.get("/player/session").status_code == 401 and m.get("/player/session").status_code == 404


# -- issue 9 --------------------------------------------------------------------------------------

@pytest.mark.parametrize("browser", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Origin": "https://evil.example.com"}, {"Origin": "null"}],
                         ids=["sec_fetch_cross_site", "sec_fetch_same_site", "foreign_origin", "null_origin"])
def test_content_management_refuses_requests_from_other_sites_pages(tmp_path, browser):
    """Issue 9 finding 10: the content management API takes form uploads with Basic credentials, which a
    browser attaches on its own: a request a browser marks as coming from another site is 403, even
    with an admin's credentials."""
    with _client(tmp_path) as client:
        resp = client.post("/content/packages", files={"file": ("x.zip", b"not a zip")},
                           headers={**_basic("admin", "admin-secret"), **browser})
        assert resp.status_code == 403
        assert resp.json()["error"]["status"] == 403


@pytest.mark.parametrize("path, method", [("/content/courses", "GET"), ("/content/packages", "POST"),
                                          ("/player/launches", "POST")])
@pytest.mark.parametrize("browser", [{"Origin": CONTENT}, {"Origin": CONTENT, "Sec-Fetch-Site": "same-site"},
                                     {"Sec-Fetch-Site": "same-site"}],
                         ids=["origin", "origin_and_sec_fetch_site", "sec_fetch_site"])
def test_the_admin_apis_refuse_requests_from_the_content_origins_pages(tmp_path, path, method, browser):
    """A package's scripts run on the content origin: even when the browser holds an admin's Basic
    credentials for the main origin (and attaches them), the admin APIs answer its requests 403."""
    with _client(tmp_path) as client:
        resp = client.request(method, path, headers={**_basic("admin", "admin-secret"), **browser},
                              **({"json": {}} if method == "POST" else {}))
        assert resp.status_code == 403, resp.text
        assert "other sites" in resp.json()["error"]["message"]


def test_the_content_origin_is_refused_by_name_even_when_the_host_header_matches_it(tmp_path):
    """A proxy that sends both origins to the main port with the content origin's Host: its Origin is
    still refused (RequireAdmin's refused_origins), not taken for the request's own."""
    with _client(tmp_path) as client:
        resp = client.get("/content/courses", headers={**_basic("admin", "admin-secret"), "Origin": CONTENT,
                                                       "Host": "testserver:8081"})
        assert resp.status_code == 403


def test_content_management_takes_same_origin_and_non_browser_requests(tmp_path):
    with _client(tmp_path) as client:
        admin = _basic("admin", "admin-secret")
        assert client.get("/content/courses", headers=admin).status_code == 200
        same = client.get("/content/courses", headers={**admin, "Origin": MAIN,
                                                       "Sec-Fetch-Site": "same-origin"})
        assert same.status_code == 200
        assert same.headers["X-Content-Type-Options"] == "nosniff"


def test_wrong_secret_and_missing_credentials_get_different_messages(tmp_path):
    """Issue 9 finding 13: a wrong password and no credentials are both 401, with different messages."""
    with _client(tmp_path) as client:
        for base in ("/xapi/statements", "/content/courses"):
            headers = {"X-Experience-API-Version": "1.0.3"}
            none = client.get(base, headers=headers)
            wrong = client.get(base, headers={**headers, **_basic("admin", "wrong")})
            assert none.status_code == wrong.status_code == 401
            assert none.json()["error"]["message"] != wrong.json()["error"]["message"], base
            assert "refused" in wrong.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/xapi/", "/xapi"])
def test_the_xapi_endpoint_answers_an_index_of_its_resources(tmp_path, path):
    """Issue 9 finding 13: the printed endpoint /xapi/ (and /xapi) answers a JSON index, not 404;
    About stays at /xapi/about."""
    with _client(tmp_path) as client:
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 200
        index = resp.json()
        assert index["resources"]["statements"] == "/xapi/statements"
        assert index["resources"]["about"] == "/xapi/about"
        assert "1.0.3" in index["version"]
        assert client.get("/xapi/about").json()["version"]
