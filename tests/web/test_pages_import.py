"""Importing people from the page (/app/people/import) over HTTP, on both backends: a CSV or JSON file
uploaded as multipart, its report with the errors first (line and field) then the people created,
updated and unchanged; nothing imported from a file with errors unless "partial"; a file above the
limit refused with a 413 page before it is read; admins only, CSRF-checked; cells shown as text."""
from __future__ import annotations

import json
import re

import pytest

from web_kit import ADMIN, HOSTILE, csrf_of, make_world

import web.pages.directory as directory_page

GOOD = ("person_id,email,roles,site\n"
        "m1,m1@example.com,mechanic,North\n"
        "m2,m2@example.com,mechanic,South\n")
BAD = ("person_id,email,roles,site\n"
       "m3,m3@example.com,mechanic,North\n"
       f"m4,\"{HOSTILE}\",mechanic,North\n"
       "m5,m5@example.com,mechanic,South,extra\n"
       "m6,m6@example.com,mechanic,East\n")


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    if request.param == "mongo":
        from lrs_testkit import fresh_mongodb_url

        backend = fresh_mongodb_url()
    else:
        backend = ""
    svc = make_world(tmp_path_factory.mktemp("import"), backend)
    with svc:
        yield svc


def upload(client, text: str | bytes, filename: str = "people.csv", token: str | None = None, **fields):
    if token is None:
        token = csrf_of(client.get("/app/people/import").text)
    data = {**({"csrf": token} if token else {}), **fields}
    body = text.encode() if isinstance(text, str) else text
    return client.post("/app/people/import", data=data, files={"file": (filename, body, "text/csv")})


def person(world, pid: str):
    return world.client.get(f"/rules/people/{pid}", headers=ADMIN)


def report_of(html: str) -> str:
    return html[html.index('id="report-h"'):html.index('<form method="post" action="/app/people/import"')]


def test_an_admin_imports_a_csv_and_the_report_counts_created_updated_and_unchanged(world, browser_as):
    ada = browser_as("ada")
    page = ada.get("/app/people/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    for name in ('name="file"', 'name="format"', 'name="partial"'):
        assert name in page.text
    resp = upload(ada, GOOD)
    assert resp.status_code == 200, resp.text
    assert "2 created, 0 updated, 0 unchanged" in resp.text and "error" not in report_of(resp.text).lower()
    assert person(world, "m1").json()["attributes"]["site"] == "North"
    resp = upload(ada, GOOD.replace("m2,m2@example.com,mechanic,South", "m2,m2@example.com,mechanic,West"))
    assert "0 created, 1 updated, 1 unchanged" in resp.text
    assert person(world, "m2").json()["attributes"]["site"] == "West"
    assert "0 created, 0 updated, 2 unchanged" in upload(ada, GOOD.replace("South", "West")).text


def test_a_file_with_errors_is_reported_errors_first_and_nothing_is_imported_unless_partial(world, browser_as):
    ada = browser_as("ada")
    resp = upload(ada, BAD)
    assert resp.status_code == 400
    report = report_of(resp.text)
    assert "2 errors" in report and "Nothing was imported" in report
    items = re.findall(r"<li>(.*?)</li>", report)
    assert items[0].startswith("Line 3, field email: ") and items[1].startswith("Line 4: 5 values for 4 columns")
    assert person(world, "m3").status_code == 404
    resp = upload(ada, BAD, partial="on")
    assert resp.status_code == 200
    report = report_of(resp.text)
    assert report.index("Line 3, field email") < report.index("2 created, 0 updated, 0 unchanged")
    assert person(world, "m3").status_code == 200 and person(world, "m6").status_code == 200
    assert person(world, "m4").status_code == 404


def test_a_json_file_is_imported_by_its_name_or_the_format_chosen(world, browser_as):
    ada = browser_as("ada")
    people = [{"person_id": "j1", "agents": [{"mbox": "mailto:j1@example.com"}], "roles": ["clerk"]}]
    resp = upload(ada, json.dumps(people), "people.json")
    assert resp.status_code == 200 and "1 created" in resp.text and "(JSON)" in resp.text
    resp = upload(ada, json.dumps(people), "export.txt", format="json")
    assert resp.status_code == 200 and "1 unchanged" in resp.text
    resp = upload(ada, "[not json", "people.json")
    assert resp.status_code == 400 and "not JSON" in resp.text and "nothing was imported" in resp.text
    bad = upload(ada, json.dumps([{"person_id": "j2", "agents": []}]), "people.json")
    assert bad.status_code == 400 and "Line 1, field 0.agents" in bad.text


def test_a_file_above_the_limit_gets_a_413_page_and_a_missing_or_binary_file_is_named(world, browser_as, monkeypatch):
    ada = browser_as("ada")
    monkeypatch.setattr(directory_page, "MAX_FILE", 1024)
    monkeypatch.setattr(directory_page, "MAX_UPLOAD", 1024 + 4096)
    big = GOOD + "".join(f"b{i},b{i}@example.com,mechanic,North\n" for i in range(400))
    resp = upload(ada, big)
    assert resp.status_code == 413 and "larger than" in resp.text and "What to do:" in resp.text
    assert person(world, "b1").status_code == 404
    resp = upload(ada, GOOD + "x" * 1100 + "\n")           # the form fits, the file does not
    assert resp.status_code == 413
    token = csrf_of(ada.get("/app/people/import").text)
    resp = ada.post("/app/people/import", data={"csrf": token}, files={"other": ("x.csv", b"", "text/csv")})
    assert resp.status_code == 400 and "Choose a file" in resp.text
    resp = upload(ada, b"person_id,email\n\xff\xfe,x\n")
    assert resp.status_code == 400 and "not UTF-8" in resp.text


def test_the_limit_is_5_mb_by_default(world, browser_as):
    assert directory_page.MAX_FILE == 5 * 1024 * 1024
    ada = browser_as("ada")
    resp = ada.post("/app/people/import", content=b"x", headers={
        "Content-Type": "multipart/form-data; boundary=b", "Content-Length": str(directory_page.MAX_UPLOAD + 1)})
    assert resp.status_code == 413


@pytest.mark.parametrize("username", ["sam", "aud"])
def test_only_admins_import_and_every_post_of_others_is_refused(world, browser_as, username):
    c = browser_as(username)
    assert c.get("/app/people/import").status_code == 403
    assert 'href="/app/people/import"' not in c.get("/app/people").text
    token = csrf_of(c.get("/app/people").text)
    resp = upload(c, "person_id,email\nz1,z1@example.com\n", token=token)
    assert resp.status_code == 403 and person(world, "z1").status_code == 404


def test_an_import_without_its_csrf_token_or_with_another_sessions_is_refused(world, browser_as):
    ada, other = browser_as("ada"), browser_as("ada")
    assert 'href="/app/people/import"' in ada.get("/app/people").text
    text = "person_id,email\nz2,z2@example.com\n"
    assert upload(ada, text, token="").status_code == 403
    resp = upload(ada, text, token=csrf_of(other.get("/app/people").text))
    assert resp.status_code == 403 and "security token" in resp.text
    assert person(world, "z2").status_code == 404
    assert ada.post("/app/people/import", data={"csrf": csrf_of(ada.get("/app/people").text)}).status_code == 415


def test_script_in_cells_and_the_file_name_is_shown_as_text(world, browser_as):
    ada = browser_as("ada")
    text = f"person_id,email,site\n\"{HOSTILE}\",h1@example.com,x\nh2,\"{HOSTILE}\",y\n"
    resp = upload(ada, text, f"{HOSTILE}.csv")
    assert resp.status_code == 400
    assert "<script>" not in resp.text and resp.text.count("&lt;script&gt;") >= 3
