"""The course and statement pages (/app/courses, /app/statements) in Chromium on a real ``lrs serve``: an
admin uploads a real package through the page and reads its report, opens the course and its versions,
launches a preview (redirected to the content origin under the page's own CSP), and browses statements and
a statement's JSON; axe-core on each page at desktop and 360 px, screenshots kept. The server runs on
each backend (sqlite, and mongo where FerretDB is configured)."""
from __future__ import annotations

import re

import pytest

from browser_kit import ADMIN, LrsServer, package_path
from lrs_testkit import create_credential, fresh_mongodb_url
from test_browser_web_pages import HOSTILE, PASSWORD, check_page, new_context, sign_in

from web.accounts import Accounts, open_account_store

ACTIVITY = "http://example.com/activities/browser-hostile"


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def server(request, tmp_path_factory):
    """``lrs serve`` on each backend: the embedded stores, or MongoDB (FerretDB) where configured."""
    url = fresh_mongodb_url() if request.param == "mongo" else ""
    srv = LrsServer(tmp_path_factory.mktemp("web-courses"), env={"LRS_MONGODB_URL": url} if url else None)
    if url:
        create_credential(srv.data_dir, *ADMIN, ["all"], mongodb_url=url)
    accounts = Accounts(open_account_store(srv.data_dir, url))
    accounts.create("ada", "admin", PASSWORD)
    accounts.store.close()
    srv.start()
    try:
        st = {"actor": {"objectType": "Agent", "mbox": "mailto:p1@example.com", "name": f"Pat {HOSTILE}"},
              "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": f"passed {HOSTILE}"}},
              "object": {"objectType": "Activity", "id": ACTIVITY,
                         "definition": {"name": {"en-US": f"Module {HOSTILE}"}}},
              "result": {"success": True, "score": {"scaled": 0.9}, "duration": "PT3M"}}
        assert srv.request("POST", "/xapi/statements", json=st).status_code == 200
        yield srv
    finally:
        srv.stop()


def no_dialogs(page) -> list:
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return dialogs


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_an_admin_uploads_a_real_package_reads_its_report_and_opens_the_course_and_versions(browser, server,
                                                                                         artefacts, phone):
    good = package_path("RuntimeBasicCalls_SCORM12")
    bad = package_path("InvalidFileReferences_SCORM12")
    ctx = new_context(browser, phone)
    try:
        page = ctx.new_page()
        dialogs = no_dialogs(page)
        sign_in(page, server, "ada")
        page.goto(server.url + "/app/courses")
        check_page(page, artefacts, "courses", phone)
        page.set_input_files("#package", str(bad))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_load_state()
        text = page.inner_text("main")
        assert "The package was refused" in text and "scorm.file.missing" in text and "What to do" in text
        check_page(page, artefacts, "courses_report", phone)
        page.set_input_files("#package", str(good))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_url(re.compile(r".*/app/courses/[^/]+/versions/1\?imported=(new|same)$"))
        text = page.inner_text("main")
        assert "version 1" in text and "Structure" in text and "sha256:" in text
        check_page(page, artefacts, "courses_version", phone)
        page.get_by_role("link", name="The course and its other versions").click()
        page.wait_for_load_state()
        assert "Versions" in page.inner_text("main") and "Retire this course" in page.inner_text("main")
        check_page(page, artefacts, "courses_course", phone)
        page.get_by_role("link", name=re.compile(r"^Version 1")).click()
        page.wait_for_load_state()
        assert "/versions/1" in page.url
        page.goto(server.url + "/app/courses")
        assert "Runtime Basic Calls" in page.inner_text("main") or "Golf" in page.inner_text("main")
        assert dialogs == []
    finally:
        ctx.close()


def test_a_preview_launch_takes_the_admin_to_the_player_on_the_content_origin(browser, server):
    course = server.import_package("RuntimeBasicCalls_SCORM12")["course"]["id"]
    ctx = browser.new_context()          # the pages' own CSP applies: its form-action must allow the redirect
    try:
        page = ctx.new_page()
        sign_in(page, server, "ada")
        page.goto(server.url + f"/app/courses/{course}/versions/1")
        page.get_by_role("button", name="Launch a preview").click()
        page.wait_for_url(re.compile(re.escape(server.content_url) + r"/player/session\?registration=.*"))
        regs = server.request("GET", f"/player/registrations?course={course}").json()["registrations"]
        assert any(r["learner"].get("account", {}).get("name") == "ada" for r in regs)
    finally:
        ctx.close()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_an_admin_browses_statements_and_opens_one_with_its_json(browser, server, artefacts, phone):
    ctx = new_context(browser, phone)
    try:
        page = ctx.new_page()
        dialogs = no_dialogs(page)
        sign_in(page, server, "ada")
        page.goto(server.url + "/app/statements")
        page.fill("#activity", ACTIVITY)
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state()
        main = page.inner_text("main")
        assert f"Pat {HOSTILE}" in main and f"passed {HOSTILE}" in main and f"Module {HOSTILE}" in main
        assert "score 90.0 %, passed, took PT3M" in main
        summary = page.locator("details summary").first
        summary.focus()
        page.keyboard.press("Enter")                                    # opens with the keyboard
        assert '"actor"' in page.locator("details pre.json").first.inner_text()
        check_page(page, artefacts, "statements_json_open", phone)
        page.get_by_role("link", name=re.compile(r"^Open statement")).first.click()
        page.wait_for_load_state()
        assert re.search(r"/app/statements/[0-9a-f-]{36}$", page.url)
        assert f'"name": "Pat {HOSTILE}"' in page.inner_text("pre.json")
        check_page(page, artefacts, "statement", phone)
        page.goto(server.url + "/app/statements?verb=nonsense")
        assert "field: verb" in page.inner_text("main")
        check_page(page, artefacts, "statements_400", phone)
        assert dialogs == []
    finally:
        ctx.close()
