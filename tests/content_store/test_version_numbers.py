"""Version numbers in content store requests (issue 9 finding 8): ASCII digits only, and numbers
past what SQLite holds are a 404 or 400, never a 500."""
from __future__ import annotations

import pytest

from cs_helpers import scorm12_zip, upload

HUGE = "99999999999999999999999"


@pytest.fixture
def course_id(client):
    return upload(client, scorm12_zip()).json()["course"]["id"]


@pytest.mark.parametrize("number", [HUGE, "9223372036854775808", "0", "²", "١"])
def test_file_of_an_impossible_version_is_404(client, course_id, number):
    """Issue 9 finding 8: GET /files/{id}/{n}/{path} with n past 2**63, 0, or not ASCII digits is a 404
    naming version (it was a 500: SQLite integers overflow past 2**63)."""
    for cid in (course_id, "x"):
        response = client.get(f"/files/{cid}/{number}/index.html")
        assert response.status_code == 404, response.text
        assert response.json()["error"]["path"] == "version"


@pytest.mark.parametrize("number", [HUGE, "9223372036854775808", "0"])
def test_course_version_past_the_store_range_is_404(client, course_id, number):
    """Issue 9 finding 8: GET /courses/{id}/versions/{n} with n past 2**63 is a 404, not a 500."""
    response = client.get(f"/courses/{course_id}/versions/{number}")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["path"] == "version"


@pytest.mark.parametrize("value", ["²", "١٢", "1e3", "-1", " 1", ""])
def test_version_query_parameter_in_other_digits_is_400(client, course_id, value):
    """Issue 9 finding 8: ?version= must be ASCII digits ('²'.isdigit() is true and int('١٢') is 12)."""
    response = client.get(f"/courses/{course_id}", params={"version": value})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["path"] == "version"


def test_version_query_parameter_past_the_store_range_is_404(client, course_id):
    """Issue 9 finding 8: ?version=99999999999999999999999 is a 404 (no such version), not a 500."""
    response = client.get(f"/courses/{course_id}", params={"version": HUGE})
    assert response.status_code == 404, response.text


def test_real_versions_still_answer(client, course_id):
    """Issue 9 finding 8: version 1 (and 01) still answer."""
    assert client.get(f"/files/{course_id}/1/index.html").status_code == 200
    assert client.get(f"/courses/{course_id}/versions/1").status_code == 200
    assert client.get(f"/courses/{course_id}", params={"version": "01"}).status_code == 200


def test_content_length_in_other_digits_is_not_a_500(client):
    """Issue 9 finding 8: a Content-Length header of '²' on an upload is refused as a client error."""
    response = client.post("/packages", content=b"", headers={"content-type": "application/zip",
                                                               "content-length": b"\xb2"})
    assert 400 <= response.status_code < 500, response.text
