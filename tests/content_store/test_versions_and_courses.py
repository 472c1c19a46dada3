"""Versions, content-addressed storage, and the course API (list, show, retire)."""
from __future__ import annotations

import os

from cs_helpers import scorm12_zip, upload


def two_versions(client):
    shared_media = os.urandom(50_000)
    v1 = upload(client, scorm12_zip(files={"media/big.bin": shared_media, "index.html": "<html>one</html>"}))
    v2 = upload(client, scorm12_zip(files={"media/big.bin": shared_media, "index.html": "<html>two</html>"}))
    assert (v1.status_code, v2.status_code) == (201, 201)
    return v1.json(), v2.json()


def test_same_identifier_makes_a_new_version_and_the_old_one_stays_servable(client):
    v1, v2 = two_versions(client)
    assert v1["course"]["id"] == v2["course"]["id"]
    assert (v1["version"]["version"], v2["version"]["version"]) == (1, 2)
    assert client.get(v1["version"]["files_url"] + "index.html").text == "<html>one</html>"
    assert client.get(v2["version"]["files_url"] + "index.html").text == "<html>two</html>"
    course = client.get(f"/courses/{v1['course']['id']}").json()
    assert [v["version"] for v in course["versions"]] == [1, 2]
    assert course["latest_version"] == 2 and course["version"]["version"] == 2


def test_unchanged_file_is_stored_once_across_versions(client, store):
    two_versions(client)
    # imsmanifest.xml and media/big.bin are shared; index.html differs: 2 + 2 blobs
    assert store.blob_count() == 4
    assert len([p for p in store.blobs.rglob("*") if p.is_file()]) == 4
    sizes = sorted(p.stat().st_size for p in store.blobs.rglob("*") if p.is_file())
    assert sizes[-1] == 50_000


def test_same_zip_twice_does_not_make_a_new_version(client):
    data = scorm12_zip()
    first, again = upload(client, data), upload(client, data)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["created"] is False and again.json()["version"]["version"] == 1


def test_other_identifier_is_another_course(client):
    a = upload(client, scorm12_zip("course.a")).json()
    b = upload(client, scorm12_zip("course.b")).json()
    assert a["course"]["id"] != b["course"]["id"]
    listed = client.get("/courses").json()["courses"]
    assert {c["identifier"] for c in listed} == {"course.a", "course.b"}


def test_show_a_given_version_with_structure_and_report(client):
    v1, _ = two_versions(client)
    cid = v1["course"]["id"]
    shown = client.get(f"/courses/{cid}", params={"version": 1}).json()
    assert shown["version"]["version"] == 1
    assert shown["version"]["structure"]["identifier"] == "com.example.course"
    assert shown["version"]["report"] == {"accepted": True, "errors": [], "warnings": []}
    direct = client.get(f"/courses/{cid}/versions/2").json()
    assert direct["version"] == 2 and direct["files_url"].endswith(f"/files/{cid}/2/")


def test_unknown_course_or_version_is_404_with_json_error(client):
    assert client.get("/courses/nope").json()["error"]["status"] == 404
    cid = upload(client, scorm12_zip()).json()["course"]["id"]
    missing = client.get(f"/courses/{cid}/versions/9")
    assert missing.status_code == 404 and missing.json()["error"]["path"] == "version"
    bad = client.get(f"/courses/{cid}", params={"version": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["path"] == "version"
    assert client.post("/courses/nope/retire").status_code == 404


def test_retired_course_is_unlisted_but_kept_and_still_served(client):
    body = upload(client, scorm12_zip()).json()
    cid = body["course"]["id"]
    retired = client.post(f"/courses/{cid}/retire")
    assert retired.status_code == 200 and retired.json()["retired"]
    assert client.get("/courses").json()["courses"] == []
    assert [c["id"] for c in client.get("/courses?include_retired=true").json()["courses"]] == [cid]
    assert client.get(f"/courses/{cid}").json()["retired"] == retired.json()["retired"]
    assert client.get(body["version"]["files_url"] + "index.html").status_code == 200


def test_new_version_of_a_retired_course_brings_it_back(client):
    cid = upload(client, scorm12_zip()).json()["course"]["id"]
    client.post(f"/courses/{cid}/retire")
    upload(client, scorm12_zip(files={"index.html": "<html>new</html>"}))
    (course,) = client.get("/courses").json()["courses"]
    assert course["id"] == cid and course["retired"] is None and course["latest_version"] == 2


def test_warnings_are_kept_with_the_version(client):
    res = '<resources><resource identifier="res_1" type="webcontent" href="index.html"/></resources>'
    body = upload(client, scorm12_zip(resources=res)).json()
    assert body["course"]["versions"][0]["warnings"] == 1
    (warning,) = body["version"]["report"]["warnings"]
    assert warning["rule"] == "scorm.resource.scormtype_missing" and warning["file"] == "imsmanifest.xml"
