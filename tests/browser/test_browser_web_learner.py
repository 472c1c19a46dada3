"""A learner on a phone (360 px) takes the course their to-do needs from their own page, on a real
``lrs serve``: the admin makes their sign-in link, the learner opens it, presses Start, plays a real SCORM
course (RuntimeBasicCalls_SCORM12) in the player to the end, comes back, and once the rules engine has
run sees the certification on their page and downloads its certificate PDF (the player brings them back to their page when the course ends). axe-core finds no serious
or critical violation on the learner page at desktop and phone size; screenshots are kept."""
from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from browser_kit import PHONE, LrsServer
from learners import PASS, dialog_answers, play_golf_single_sco
from real_player import LaunchPagePlayer
from test_browser_web_pages import DESKTOP, PASSWORD, check_page, sign_in

from web.accounts import Accounts, open_account_store

PACKAGE = "RuntimeBasicCalls_SCORM12"
TITLE = "Golf rules <script>alert('x')</script> Ωmega"
PEOPLE = ("person_id,email,roles,site,supervisor\np1,p1@example.com,bus_operator,North,\n"
          "p2,p2@example.com,bus_operator,North,\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = LrsServer(tmp_path_factory.mktemp("web-learner"))
    accounts = Accounts(open_account_store(srv.data_dir))
    accounts.create("ada", "admin", PASSWORD)
    accounts.store.close()
    srv.start()
    try:
        r = srv.request("POST", "/rules/people", content=PEOPLE.encode(), headers={"Content-Type": "text/csv"})
        assert r.status_code == 200, r.text
        srv.course = srv.import_package(PACKAGE)["course"]
        # LRS_ACTIVITY_IRI_BASE defaults to the main origin; a course of one SCO reports on its SCO
        iri = f"{srv.url}/courses/{srv.course['id']}/scos/item_1"
        for kind, body in [
            ("completion", {"id": "golf-course", "activity": iri, "verbs": ["http://adlnet.gov/expapi/verbs/passed"]}),
            ("certification", {"id": "golf", "title": TITLE, "initial": "golf-course", "validity": {"days": 365}}),
            ("requirement", {"id": "golfers", "applies_to": {"roles": ["bus_operator"]},
                             "certifications": ["golf"], "due": {"days": 14}})]:
            r = srv.request("POST", f"/rules/definitions/{kind}", json={"definition": body, "reason": "setup"})
            assert r.status_code == 201, r.text
            r = srv.request("POST", f"/rules/definitions/{kind}/{body['id']}/versions/1/publish", json={"reason": "go"})
            assert r.status_code == 200, r.text
        yield srv
    finally:
        srv.stop()


def status_of(srv, pid: str, cid: str) -> str | None:
    t = srv.request("GET", f"/rules/people/{pid}/transcript").json()
    return next((c["status"] for c in t.get("certifications", []) if c["certification"] == cid), None)


def test_a_learner_takes_their_course_on_a_phone_and_gets_the_certificate(browser, server, artefacts):
    admin = browser.new_context(**DESKTOP, bypass_csp=True)
    phone = browser.new_context(**PHONE, accept_downloads=True)
    try:
        page = admin.new_page()
        sign_in(page, server, "ada")
        page.goto(server.url + "/app/people/p1")
        page.get_by_role("button", name="Make a sign-in link").click()
        link = page.input_value("#link")

        me = phone.new_page()
        answers = dialog_answers(me)
        me.goto(link)
        text = me.inner_text("main")
        assert "What I must do" in text and TITLE in text and "Due by" in text
        assert status_of(server, "p1", "golf") == "assigned"
        me.screenshot(path=str(artefacts / "1-to-do-phone.png"), full_page=True)
        start = me.get_by_role("button", name=f"Start: {server.course['title']}")
        start.click()                                              # POST, then the launch link, then the player
        me.wait_for_url(server.content_url + "/player/**")
        player = LaunchPagePlayer(me)
        me.locator(LaunchPagePlayer.SCO_FRAME).wait_for(state="attached")
        me.locator("#save-state:not([data-state=opening])").wait_for(state="attached")
        me.screenshot(path=str(artefacts / "2-course-phone.png"))
        outcome = play_golf_single_sco(player.sco(), plan=PASS)
        assert outcome.submitted and outcome.exited
        me.wait_for_url(server.url + "/app/me", timeout=30000)     # the player sends the learner back
        assert "My training" in me.inner_text("main")
        me.screenshot(path=str(artefacts / "3-back-from-the-course-phone.png"), full_page=True)
        assert answers.alerts == []

        deadline = time.monotonic() + 30
        while status_of(server, "p1", "golf") != "certified":
            assert time.monotonic() < deadline, "the rules engine did not certify p1 in 30 s"
            time.sleep(0.2)
        me.goto(server.url + "/app/me")
        held = me.locator("#held + ul").inner_text()
        assert TITLE in held and "Valid until" in held
        me.screenshot(path=str(artefacts / "4-certified-phone.png"), full_page=True)
        with me.expect_download() as got:
            me.locator("a[href='/app/me/certificates/golf.pdf']").click()
        body = open(got.value.path(), "rb").read()
        assert body[:5] == b"%PDF-"
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)
        assert "Golf rules <script>alert('x')</script>" in text and "p1" in text
        (artefacts / "certificate.pdf").write_bytes(body)
    finally:
        admin.close()
        phone.close()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_learner_and_person_pages_are_accessible_at_desktop_and_phone_size(browser, server, artefacts, phone):
    """p2 has the course to do (a Start button); p1 (after the test above) holds the certification."""
    size = PHONE if phone else DESKTOP
    admin = browser.new_context(**size, bypass_csp=True)
    ctx = browser.new_context(**size, bypass_csp=True)
    try:
        page = admin.new_page()
        sign_in(page, server, "ada")
        links = {}
        for pid in ("p1", "p2"):
            page.goto(server.url + f"/app/people/{pid}")
            page.get_by_role("button", name="Make a sign-in link").click()
            links[pid] = page.input_value("#link")
            check_page(page, artefacts, f"person-{pid}", phone)
        for pid, link in links.items():
            me = ctx.new_page()
            me.goto(link)
            assert "My training" in me.inner_text("main")
            check_page(me, artefacts, f"learner-me-{pid}", phone)
            me.close()
    finally:
        admin.close()
        ctx.close()
