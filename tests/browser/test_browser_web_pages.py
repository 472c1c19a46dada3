"""The web pages (/app) in Chromium on a real ``lrs serve``: each role signs in with the keyboard and walks
its pages at desktop and phone size (screenshots kept, axe-core run on each page, no sideways scroll at
360 px); forbidden actions, a wrong CSRF token and the session cookie on the APIs are refused by the
server; a ``<script>`` fed through a person's site and a definition's title is shown as text."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from browser_kit import PHONE, REPO, LrsServer

from web.accounts import Accounts, open_account_store

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "a long enough password"
HOSTILE = "<script>alert('x')</script>"
PEOPLE = ("person_id,email,roles,site,supervisor\n"
          f"p1,p1@example.com,bus_operator,\"Depot {HOSTILE}\",s1\n"
          "p2,p2@example.com,bus_operator,North,s1\n"
          "p3,p3@example.com,bus_operator,South,s9\n"
          "s1,s1@example.com,supervisor,North,\n")
DESKTOP = {"viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LrsServer(tmp_path_factory.mktemp("web-pages"))
    accounts = Accounts(open_account_store(srv.data_dir))
    accounts.create("ada", "admin", PASSWORD)
    accounts.create("sam", "supervisor", PASSWORD, "s1")
    accounts.create("aud", "auditor", PASSWORD)
    accounts.store.close()
    srv.start()
    try:
        r = srv.request("POST", "/rules/people", content=PEOPLE.encode(), headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        for kind, body in [
            ("completion", {"id": "bus-course", "activity": "http://example.com/activities/bus-course", "success": True}),
            ("certification", {"id": "bus-operator", "title": f"Bus operator {HOSTILE}", "initial": "bus-course",
                               "validity": {"days": 60}, "renewal_window_days": 20}),
            ("requirement", {"id": "ops", "applies_to": {"roles": ["bus_operator"]},
                             "certifications": ["bus-operator"], "due": {"days": 30}})]:
            r = srv.request("POST", f"/rules/definitions/{kind}", json={"definition": body, "reason": "setup"})
            assert r.status_code == 201, r.text
            r = srv.request("POST", f"/rules/definitions/{kind}/{body['id']}/versions/1/publish", json={"reason": "go"})
            assert r.status_code == 200, r.text
        st = {"actor": {"objectType": "Agent", "mbox": "mailto:p1@example.com"},
              "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
              "object": {"objectType": "Activity", "id": "http://example.com/activities/bus-course"},
              "result": {"success": True}}
        assert srv.request("POST", "/xapi/statements", json=st).status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            t = srv.request("GET", "/rules/people/p1/transcript").json()
            if any(c["status"] == "certified" for c in t.get("certifications", [])):
                break
            time.sleep(0.2)
        else:
            pytest.fail("the rules engine did not certify p1 in 20 s")
        yield srv
    finally:
        srv.stop()


def new_context(browser, phone: bool):
    # bypass_csp lets the test inject axe-core; the pages' own CSP is checked over HTTP (tests/web).
    return browser.new_context(**(PHONE if phone else DESKTOP), bypass_csp=True)


def sign_in(page, server, username: str) -> None:
    """With the keyboard only: in the user name field (autofocus; focused again in case the page was
    typed into before the browser applied it), Tab to the password, Enter sends."""
    page.goto(server.url + "/app/sign-in")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'username'", timeout=5000)
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(server.url + "/app/")


def check_page(page, artefacts: Path, name: str, phone: bool) -> None:
    """No script ran from data, no serious or critical axe violation, fits the screen, a screenshot kept."""
    assert page.evaluate("document.scripts.length") == 0, "a script element is on the page"
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"
    if phone:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"{name} scrolls sideways at 360 px ({width} px wide)"
    page.screenshot(path=str(artefacts / f"{name}-{'phone' if phone else 'desktop'}.png"), full_page=True)


WALKS = {
    "ada": ["/app/", "/app/people", "/app/people/p1", "/app/certifications/bus-operator/roster",
            "/app/certifications/bus-operator/roster?status=certified", "/app/audit?verify=1", "/app/accounts",
            "/app/no-such-page"],
    "sam": ["/app/", "/app/people", "/app/people/p2", "/app/certifications/bus-operator/roster"],
    "aud": ["/app/", "/app/people", "/app/people/p3", "/app/certifications/bus-operator/roster", "/app/audit"],
}


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
@pytest.mark.parametrize("username", sorted(WALKS))
def test_each_role_walks_its_pages_accessibly_at_desktop_and_phone_size(browser, server, artefacts, username, phone):
    ctx = new_context(browser, phone)
    try:
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, server, username)
        for path in WALKS[username]:
            resp = page.goto(server.url + path)
            assert resp.status == (404 if "no-such" in path else 200), path
            check_page(page, artefacts, f"{username}{path.replace('/', '_').replace('?', '_')}", phone)
        assert dialogs == []
    finally:
        ctx.close()


def test_a_hostile_name_and_definition_title_are_shown_as_text(browser, server):
    ctx = new_context(browser, False)
    try:
        page = ctx.new_page()
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, server, "ada")
        assert f"Bus operator {HOSTILE}" in page.inner_text("main")
        page.goto(server.url + "/app/people/p1")
        assert f"Depot {HOSTILE}" in page.inner_text("main")
        assert page.evaluate("document.scripts.length") == 0 and dialogs == []
    finally:
        ctx.close()


def test_a_learner_opens_the_link_an_admin_made_and_sees_what_to_do_on_a_phone(browser, server, artefacts):
    admin = new_context(browser, False)
    phone = new_context(browser, True)
    try:
        page = admin.new_page()
        sign_in(page, server, "ada")
        page.goto(server.url + "/app/people/p2")
        page.get_by_role("button", name="Make a sign-in link").click()
        link = page.input_value("#link")
        learner = phone.new_page()
        learner.goto(link)
        text = learner.inner_text("main")
        assert "What I must do" in text and "Due by" in text       # p2 must earn the bus certificate
        check_page(learner, artefacts, "learner_me", True)
        learner.goto(server.url + "/app/me")                       # the learner session cookie
        assert "My training" in learner.inner_text("main")
        assert learner.goto(server.url + "/app/people").status == 401
    finally:
        admin.close()
        phone.close()


def test_forbidden_actions_are_refused_by_the_server_not_only_hidden(browser, server):
    ctx = new_context(browser, False)
    try:
        page = ctx.new_page()
        sign_in(page, server, "aud")
        page.goto(server.url + "/app/people/p3")
        assert page.locator("form[action$='/actions']").count() == 0      # hidden ...
        token = page.locator("input[name=csrf]").first.input_value()
        for path, form in [("/app/people/p3/actions", {"kind": "revocation", "certification": "bus-operator",
                                                       "reason": "try"}),
                           ("/app/accounts", {"username": "eve", "role": "admin", "password": PASSWORD}),
                           ("/app/people/p3/link", {})]:
            resp = page.request.post(server.url + path, form={**form, "csrf": token})
            assert resp.status == 403, path                                  # ... and refused
        ctx.clear_cookies()
        sign_in(page, server, "sam")
        assert page.goto(server.url + "/app/people/p3").status == 403
        assert "not one you supervise" in page.inner_text("main")
        assert page.goto(server.url + "/app/accounts").status == 403
        names = server.request("GET", "/rules/people/p3/transcript").json()
        assert all(c["status"] != "revoked" for c in names["certifications"])
    finally:
        ctx.close()


def test_a_form_with_a_wrong_csrf_token_is_refused(browser, server):
    ctx = new_context(browser, False)
    try:
        page = ctx.new_page()
        sign_in(page, server, "ada")
        page.goto(server.url + "/app/people/p2")
        page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(i => i.value = 'forged')")
        page.fill("#reason", "should not be stored")
        page.get_by_role("button", name="Record the action").click()
        page.wait_for_load_state()
        assert "security token" in page.inner_text("main")
        t = server.request("GET", "/rules/people/p2/transcript").json()
        assert all(c["status"] != "exempt" for c in t["certifications"])
    finally:
        ctx.close()


def test_the_session_cookie_is_refused_by_xapi_and_content(browser, server):
    ctx = new_context(browser, False)
    try:
        page = ctx.new_page()
        sign_in(page, server, "ada")
        cookie = next(c for c in ctx.cookies() if c["name"] == "lrs_web")
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/app"
        for path in ("/xapi/statements", "/content/courses", "/rules/people"):
            resp = page.request.get(server.url + path, headers={"Cookie": f"lrs_web={cookie['value']}",
                                                                 "X-Experience-API-Version": "1.0.3"})
            assert resp.status == 401, path
    finally:
        ctx.close()
