"""An admin in Chromium, on a real ``lrs serve``: imports people from a CSV file, defines a completion
rule, a certification and a requirement through the forms (no JSON), previews who would change status
and publishes, and the roster follows. Each page of the way is checked with axe-core (no serious or
critical violation) at desktop and 360 px, with screenshots kept; an auditor's POSTs are refused."""
from __future__ import annotations

import time

import pytest

from browser_kit import LrsServer
from test_browser_web_pages import DESKTOP, HOSTILE, PASSWORD, check_page, new_context, sign_in

from web.accounts import Accounts, open_account_store

PEOPLE = ("person_id,email,roles,site\n"
          f"d1,d1@example.com,bus_operator,\"Depot {HOSTILE}\"\n"
          "d2,d2@example.com,bus_operator,North\n"
          "d3,d3@example.com,bus_operator,South\n"
          "d4,d4@example.com,clerk,North\n"
          "d5,not-an-email,clerk,North\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LrsServer(tmp_path_factory.mktemp("web-definitions"))
    accounts = Accounts(open_account_store(srv.data_dir))
    accounts.create("ada", "admin", PASSWORD)
    accounts.create("aud", "auditor", PASSWORD)
    accounts.store.close()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def save_and_publish(page, reason: str) -> str:
    """On a filled definition form: the reason, save, then on the preview publish; the preview's text."""
    page.fill("#f-reason", reason)
    page.get_by_role("button", name="Save this version").click()
    page.wait_for_url("**/preview")
    page.wait_for_selector("#reason")    # a preview still being computed reloads itself until it is done
    text = page.inner_text("main")
    page.fill("#reason", "in force: " + reason)
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_url("**?published=1")
    assert "Version 1 is published" in page.inner_text("main")
    return text


def test_an_admin_imports_people_defines_a_certification_with_the_forms_previews_and_publishes_it(
        browser, server, artefacts, tmp_path):
    ctx = browser.new_context(**DESKTOP)
    try:
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, server, "ada")

        page.goto(server.url + "/app/people")
        page.get_by_role("link", name="Import people from a CSV or JSON file").click()
        people = tmp_path / "people.csv"
        people.write_text(PEOPLE)
        page.set_input_files("#file", str(people))
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        text = page.inner_text("main")
        assert "Line 6, field email" in text and "Nothing was imported" in text    # the bad row, nothing stored
        page.set_input_files("#file", str(people))
        page.check("#partial")
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        text = page.inner_text("main")
        assert text.index("Line 6, field email") < text.index("4 created, 0 updated, 0 unchanged")
        assert server.request("GET", "/rules/people/d4").status_code == 200

        page.goto(server.url + "/app/certifications")
        page.get_by_role("link", name="Define a certification, completion rule or requirement").click()
        page.get_by_role("link", name="A completion rule").click()
        page.fill("#f-id", "depot-course")
        page.fill("#f-title", "Depot safety course")
        page.fill("#f-activity", "http://example.com/activities/depot-course")
        page.check("#f-success")
        assert "Nobody's status would change" in save_and_publish(page, "the depot course")

        page.goto(server.url + "/app/definitions/new?kind=certification")
        page.fill("#f-id", "depot-safety")
        page.fill("#f-title", f"Depot safety {HOSTILE}")
        page.fill("#f-initial", "depot-course")
        page.fill("#f-validity_days", "40000")           # a mistake first (at most 36500): named, the form kept
        page.fill("#f-reason", "yearly depot safety")
        page.get_by_role("button", name="Save this version").click()
        page.wait_for_load_state()
        assert "The field “Validity (days)” is not right" in page.inner_text("main")
        assert page.input_value("#f-title") == f"Depot safety {HOSTILE}"
        page.fill("#f-validity_days", "365")
        page.fill("#f-renewal_window_days", "30")
        save_and_publish(page, "yearly depot safety")

        page.goto(server.url + "/app/definitions/new?kind=requirement")
        page.fill("#f-id", "depot-staff")
        page.fill("#f-roles", "bus_operator")
        page.get_by_label("depot-safety").check()
        page.fill("#f-due_days", "30")
        preview = save_and_publish(page, "everyone at the depots")
        assert "3 changes among 4 people" in preview and "not required → assigned" in preview

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            roster = server.request("GET", "/rules/certifications/depot-safety/roster").json()
            if len(roster.get("people", [])) == 3:
                break
            time.sleep(0.2)
        else:
            pytest.fail("the roster did not follow the publication within 20 s")
        assert {r["status"] for r in roster["people"]} == {"assigned"}
        page.goto(server.url + "/app/certifications")
        page.get_by_role("link", name="assigned: 3").click()
        assert page.locator("tbody tr").count() == 3 and page.locator("a[href$='/people/d4']").count() == 0
        assert dialogs == [] and page.evaluate("document.scripts.length") == 0
    finally:
        ctx.close()


def ensure_definitions(server) -> None:
    """What the walk above makes, through the rules API when this test runs alone, and a draft version 2
    of the requirement (clerks too) whose preview has changes to show."""
    versions = {(d["id"], d["version"]) for d in server.request("GET", "/rules/definitions").json()["definitions"]}
    if ("depot-staff", 1) not in versions:
        make_definitions(server)
    if ("depot-staff", 2) not in versions:
        body = {"id": "depot-staff", "applies_to": {"roles": ["bus_operator", "clerk"]},
                "certifications": ["depot-safety"], "due": {"days": 30}}
        r = server.request("POST", "/rules/definitions/requirement", json={"definition": body, "reason": "clerks too"})
        assert r.status_code == 201, r.text


def make_definitions(server) -> None:
    r = server.request("POST", "/rules/people", content=PEOPLE.replace("d5,not-an-email,clerk,North\n", "").encode(),
                       headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    for kind, body in [
            ("completion", {"id": "depot-course", "activity": "http://example.com/activities/depot-course"}),
            ("certification", {"id": "depot-safety", "title": f"Depot safety {HOSTILE}", "initial": "depot-course",
                               "validity": {"days": 365}}),
            ("requirement", {"id": "depot-staff", "applies_to": {"roles": ["bus_operator"]},
                             "certifications": ["depot-safety"], "due": {"days": 30}})]:
        r = server.request("POST", f"/rules/definitions/{kind}", json={"definition": body, "reason": "setup"})
        assert r.status_code == 201, r.text
        r = server.request("POST", f"/rules/definitions/{kind}/{body['id']}/versions/1/publish", json={"reason": "go"})
        assert r.status_code == 200, r.text


PAGES = ["/app/certifications", "/app/definitions/certification/depot-safety",
         "/app/definitions/requirement/depot-staff/versions/2/preview", "/app/definitions/new",
         "/app/definitions/new?kind=certification&id=depot-safety", "/app/definitions/new?kind=requirement",
         "/app/definitions/new?kind=completion", "/app/people/import",
         "/app/certifications/depot-safety/roster?status=assigned"]


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_definition_and_import_pages_are_accessible_at_desktop_and_phone_size(browser, server, artefacts, phone):
    ctx = new_context(browser, phone)
    try:
        page = ctx.new_page()
        sign_in(page, server, "ada")
        ensure_definitions(server)
        for path in PAGES:
            assert page.goto(server.url + path).status == 200, path
            if "preview" in path:   # (a preview still being computed reloads itself until it is done)
                page.locator("a[href$='/people/d4']").wait_for(timeout=30000)     # the clerk would be assigned
                assert page.locator("a[href$='/people/d4']").count() == 1
            name = "defs" + path.replace("/app", "").replace("/", "_").replace("?", "_").replace("&", "_")
            check_page(page, artefacts, name, phone)
        page.goto(server.url + "/app/definitions/new?kind=certification")       # an error shown on the form
        page.fill("#f-id", "bad id")
        page.fill("#f-initial", "depot-course")
        page.fill("#f-reason", "x")
        page.get_by_role("button", name="Save this version").click()
        page.wait_for_load_state()
        assert "The field “Id” is not right" in page.inner_text("main")
        check_page(page, artefacts, "defs_form_error", phone)
        page.goto(server.url + "/app/people/import")                             # an import report
        page.set_input_files("#file", files=[{"name": "people.csv", "mimeType": "text/csv",
                                              "buffer": PEOPLE.encode()}])
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        assert "Nothing was imported" in page.inner_text("main")
        check_page(page, artefacts, "people_import_report", phone)
    finally:
        ctx.close()


def test_an_auditor_reads_the_definitions_but_the_server_refuses_each_change(browser, server):
    ctx = new_context(browser, False)
    try:
        page = ctx.new_page()
        sign_in(page, server, "aud")
        assert page.goto(server.url + "/app/certifications").status == 200
        assert page.get_by_role("link", name="Define a certification, completion rule or requirement").count() == 0
        token = page.locator("input[name=csrf]").first.input_value()
        for path, form in [("/app/definitions/completion", {"id": "aud-course", "reason": "try",
                                                            "activity": "http://example.com/a"}),
                           ("/app/definitions/completion/depot-course/versions/1/publish", {"reason": "try"})]:
            assert page.request.post(server.url + path, form={**form, "csrf": token}).status == 403, path
        resp = page.request.post(server.url + "/app/people/import", multipart={
            "csrf": token, "file": {"name": "p.csv", "mimeType": "text/csv", "buffer": b"person_id,email\nq,q@x.io\n"}})
        assert resp.status == 403
        assert page.goto(server.url + "/app/people/import").status == 403
        assert server.request("GET", "/rules/people/q").status_code == 404
        ids = {d["id"] for d in server.request("GET", "/rules/definitions").json()["definitions"]}
        assert "aud-course" not in ids
    finally:
        ctx.close()
