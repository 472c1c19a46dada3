"""Each role walks its pages in Chromium, on a real ``lrs serve`` with nothing set up beforehand but the
three staff accounts, from an empty store to a certification held:

- the admin uploads a real SCORM package, imports the people from a CSV file, defines a completion rule
  on the course, a certification and a requirement through the forms, publishes each from its preview,
  and makes a learner's sign-in link;
- the learner, on a phone, opens the link, starts the course from their page, plays it to the end and
  sees the certification appear on their page;
- the supervisor sees their team only: the other people are neither listed nor open, and their POSTs
  are refused;
- the auditor opens every page and can change nothing: each change is tried with a valid session and
  CSRF token and refused by the server (403), and nothing changed.

Screenshots of each step are kept as artefacts (desktop for staff, 360 px for the learner)."""
from __future__ import annotations

import re
import time

import pytest

from browser_kit import PHONE, LrsServer, package_path
from learners import PASS, dialog_answers, play_golf_single_sco
from real_player import LaunchPagePlayer
from test_browser_web_pages import DESKTOP, PASSWORD, sign_in

from web.accounts import Accounts, open_account_store

PACKAGE = "RuntimeBasicCalls_SCORM12"
PEOPLE = ("person_id,email,roles,site,supervisor\n"
          "w1,w1@example.com,bus_operator,North,s1\n"
          "w2,w2@example.com,bus_operator,North,s1\n"
          "w3,w3@example.com,bus_operator,South,s9\n"
          "s1,s1@example.com,supervisor,North,\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LrsServer(tmp_path_factory.mktemp("web-walk"))
    accounts = Accounts(open_account_store(srv.data_dir))
    accounts.create("ada", "admin", PASSWORD)
    accounts.create("sam", "supervisor", PASSWORD, "s1")
    accounts.create("aud", "auditor", PASSWORD)
    accounts.store.close()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def shot(page, artefacts, name: str) -> None:
    page.screenshot(path=str(artefacts / f"walk-{name}.png"), full_page=True)


def define(page, server, kind: str, fields: dict, checks=(), labels=()) -> None:
    """Fill the definition form of ``kind``, save it, and publish version 1 from its preview."""
    page.goto(server.url + f"/app/definitions/new?kind={kind}")
    for name, value in fields.items():
        page.fill(f"#f-{name}", value)
    for name in checks:
        page.check(f"#f-{name}")
    for label in labels:
        page.get_by_label(label, exact=True).check()
    page.fill("#f-reason", f"the {kind} of the walk")
    page.get_by_role("button", name="Save this version").click()
    page.wait_for_url("**/preview")
    page.fill("#reason", "in force")
    page.get_by_role("button", name="Publish version 1").click()
    page.wait_for_url("**?published=1")


def status_of(server, pid: str, cid: str) -> str | None:
    t = server.request("GET", f"/rules/people/{pid}/transcript").json()
    return next((c["status"] for c in t.get("certifications", []) if c["certification"] == cid), None)


def wait_for_status(server, pid: str, cid: str, wanted: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while status_of(server, pid, cid) != wanted:
        assert time.monotonic() < deadline, f"{pid} not {wanted} on {cid} within {seconds} s"
        time.sleep(0.2)


def test_1_an_admin_sets_up_a_course_people_and_a_certification_from_the_pages(browser, server, artefacts, tmp_path):
    ctx = browser.new_context(**DESKTOP)
    try:
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, server, "ada")
        shot(page, artefacts, "1-admin-dashboard-empty")

        page.goto(server.url + "/app/courses")
        page.set_input_files("#package", str(package_path(PACKAGE)))
        page.get_by_role("button", name="Upload and check").click()
        page.wait_for_url(re.compile(r".*/app/courses/[^/]+/versions/1\?imported=new$"))
        server.course_id = re.search(r"/app/courses/([^/]+)/versions/1", page.url).group(1)
        shot(page, artefacts, "2-admin-course-uploaded")

        people = tmp_path / "people.csv"
        people.write_text(PEOPLE)
        page.goto(server.url + "/app/people/import")
        page.set_input_files("#file", str(people))
        page.get_by_role("button", name="Import").click()
        page.wait_for_load_state()
        assert "4 created" in page.inner_text("main")
        shot(page, artefacts, "3-admin-people-imported")

        course_iri = f"{server.url}/courses/{server.course_id}"       # the player's course activity
        define(page, server, "completion", {"id": "golf-course", "title": "Golf course", "activity": course_iri},
               checks=["success"])
        define(page, server, "certification", {"id": "golf", "title": "Golf rules", "initial": "golf-course",
                                               "validity_days": "365", "renewal_window_days": "30"})
        define(page, server, "requirement", {"id": "golfers", "roles": "bus_operator", "due_days": "14"},
               labels=["golf"])
        shot(page, artefacts, "4-admin-requirement-published")
        wait_for_status(server, "w1", "golf", "assigned")
        page.goto(server.url + "/app/certifications/golf/roster")
        assert page.locator("tbody tr").count() == 3
        shot(page, artefacts, "5-admin-roster")
        assert dialogs == []
    finally:
        ctx.close()


def test_2_a_learner_takes_the_course_from_their_page_and_sees_the_certification(browser, server, artefacts):
    admin = browser.new_context(**DESKTOP)
    phone = browser.new_context(**PHONE)
    try:
        page = admin.new_page()
        sign_in(page, server, "ada")
        page.goto(server.url + "/app/people/w1")
        page.get_by_role("button", name="Make a sign-in link").click()
        link = page.input_value("#link")

        me = phone.new_page()
        answers = dialog_answers(me)
        me.goto(link)
        assert "Golf rules" in me.inner_text("main")
        shot(me, artefacts, "6-learner-to-do-phone")
        me.get_by_role("button", name=re.compile(r"^Start: ")).click()
        me.wait_for_url(server.content_url + "/player/**")
        player = LaunchPagePlayer(me)
        me.locator(LaunchPagePlayer.SCO_FRAME).wait_for(state="attached")
        me.locator("#save-state:not([data-state=opening])").wait_for(state="attached")
        shot(me, artefacts, "7-learner-course-phone")
        outcome = play_golf_single_sco(player.sco(), plan=PASS)
        assert outcome.submitted and outcome.exited
        me.wait_for_url(server.url + "/app/me", timeout=30000)
        assert answers.alerts == []

        wait_for_status(server, "w1", "golf", "certified")
        me.goto(server.url + "/app/me")
        held = me.locator("#held + ul").inner_text()
        assert "Golf rules" in held and "Valid until" in held
        shot(me, artefacts, "8-learner-certified-phone")
    finally:
        admin.close()
        phone.close()


def test_3_a_supervisor_sees_their_team_only(browser, server, artefacts):
    ctx = browser.new_context(**DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server, "sam")
        page.goto(server.url + "/app/people")
        listed = page.inner_text("main")
        assert "w1" in listed and "w2" in listed and "w3" not in listed
        shot(page, artefacts, "9-supervisor-people")
        assert page.goto(server.url + "/app/people/w3").status == 403
        assert page.goto(server.url + "/app/people/w1").status == 200
        page.goto(server.url + "/app/certifications/golf/roster")
        roster = page.inner_text("main")
        assert "w1" in roster and "w2" in roster and "w3" not in roster
        shot(page, artefacts, "10-supervisor-roster")
        assert page.goto(server.url + "/app/statements?person=w3").status == 403
        token = page.locator("input[name=csrf]").first.input_value()
        for path, form in [("/app/people/w1/actions", {"kind": "exemption", "certification": "golf", "reason": "x"}),
                           ("/app/people/w1/link", {}),
                           ("/app/definitions/completion", {"id": "sam-course", "reason": "x",
                                                            "activity": "http://example.com/a"})]:
            assert page.request.post(server.url + path, form={**form, "csrf": token}).status == 403, path
    finally:
        ctx.close()


def test_4_an_auditor_reads_every_page_and_the_server_refuses_each_change(browser, server, artefacts):
    course = server.course_id
    ctx = browser.new_context(**DESKTOP)
    try:
        page = ctx.new_page()
        sign_in(page, server, "aud")
        for n, path in enumerate(["/app/", "/app/people", "/app/people/w1", "/app/certifications",
                                  "/app/definitions/certification/golf", "/app/certifications/golf/roster",
                                  f"/app/courses/{course}", f"/app/courses/{course}/versions/1",
                                  "/app/statements", "/app/audit?verify=1"]):
            assert page.goto(server.url + path).status == 200, path
            shot(page, artefacts, f"11-auditor-{n}")
        token = page.locator("input[name=csrf]").first.input_value()
        before = (server.request("GET", "/rules/definitions").json(),
                  server.request("GET", "/rules/people/w2/transcript").json()["certifications"],
                  server.request("GET", "/content/courses").json())
        forms = [("/app/people/w2/actions", {"kind": "exemption", "certification": "golf", "reason": "try"}),
                 ("/app/people/w2/link", {}),
                 ("/app/definitions/completion", {"id": "aud-course", "reason": "try",
                                                  "activity": "http://example.com/a"}),
                 ("/app/definitions/certification/golf/versions/1/publish", {"reason": "try"}),
                 (f"/app/courses/{course}/retire", {"reason": "try", "confirm": "on"}),
                 (f"/app/courses/{course}/versions/1/preview", {}),
                 ("/app/accounts", {"username": "eve", "role": "admin", "password": PASSWORD}),
                 ("/app/accounts/ada/disable", {})]
        for path, form in forms:
            assert page.request.post(server.url + path, form={**form, "csrf": token}).status == 403, path
        for path, field, name in [("/app/courses", "package", "p.zip"), ("/app/people/import", "file", "p.csv")]:
            resp = page.request.post(server.url + path, multipart={
                "csrf": token, field: {"name": name, "mimeType": "application/octet-stream", "buffer": b"x,y\n1,2\n"}})
            assert resp.status == 403, path
        after = (server.request("GET", "/rules/definitions").json(),
                 server.request("GET", "/rules/people/w2/transcript").json()["certifications"],
                 server.request("GET", "/content/courses").json())
        assert after == before
        assert server.request("GET", "/player/registrations?course=" + course).json()["registrations"] and all(
            r["learner"].get("account", {}).get("name") != "aud"
            for r in server.request("GET", "/player/registrations?course=" + course).json()["registrations"])
        assert page.goto(server.url + "/app/accounts").status == 403
    finally:
        ctx.close()
