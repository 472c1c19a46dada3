"""Upload bodies: the raw zip, or a multipart form; broken bodies get 4xx."""
from __future__ import annotations

from cs_helpers import assert_nothing_left, scorm12_zip


def test_zip_sent_as_a_form_file(client):
    response = client.post("/packages", files={"file": ("course.zip", scorm12_zip(), "application/zip")},
                           data={"note": "first"})
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/courses/{response.json()['course']['id']}"


def test_form_file_under_another_field_name_with_a_filename(client):
    response = client.post("/packages", files={"upload": ("course.zip", scorm12_zip(), "application/zip")})
    assert response.status_code == 201


def test_form_without_a_file_is_400(client, store):
    response = client.post("/packages", data={"note": "no file"}, files={"x": (None, b"plain field")})
    assert response.status_code == 400
    assert response.json()["error"]["report"]["errors"][0]["rule"] == "upload.no_file"
    assert_nothing_left(store)


def test_empty_body_is_400(client, store):
    response = client.post("/packages", content=b"", headers={"content-type": "application/zip"})
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("the request body is empty")
    assert_nothing_left(store)


def test_get_on_the_upload_url_is_405_json(client):
    response = client.get("/packages")
    assert response.status_code == 405 and response.json()["error"]["status"] == 405
