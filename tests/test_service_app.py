"""The composition root: the content store's management API is admin-only, its files are public."""
from __future__ import annotations

import base64

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
