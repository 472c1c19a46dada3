"""The composition root: the content store's management API is admin-only, its files are public."""
from __future__ import annotations

import base64

import pytest

from starlette.testclient import TestClient

from lrs.auth import Credentials
from lrs.storage import open_store
from service.app import create_app
from service.config import Settings


def _client(tmp_path):
    store = open_store(tmp_path)
    creds = Credentials(store)
    creds.create("admin", "admin-secret", ["all"])
    creds.create("reader", "reader-secret", ["statements/read"])
    store.close()
    return TestClient(create_app(Settings(data_dir=tmp_path, log_level="warning")))


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


def test_course_files_need_no_credentials(tmp_path):
    with _client(tmp_path) as client:
        resp = client.get("/content/files/no-such-course/1/index.html")
        assert resp.status_code == 404


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


def test_content_management_takes_same_origin_and_non_browser_requests(tmp_path):
    with _client(tmp_path) as client:
        admin = _basic("admin", "admin-secret")
        assert client.get("/content/courses", headers=admin).status_code == 200
        same = client.get("/content/courses", headers={**admin, "Origin": "http://testserver",
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
