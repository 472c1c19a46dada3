"""The pages at /app over HTTP (no browser): sign-in and its cookie, CSRF, roles enforced on the server,
the session cookie refused by the APIs, escaping, learner links, exports and error pages."""
from __future__ import annotations

import re

import pytest

from web_kit import ADMIN, client_of, csrf_of, make_world, populate, sign_in


@pytest.fixture(autouse=True)
def pages_wait_for_their_jobs(monkeypatch):
    """A chain verification here shows its result at once, however slow the machine (web/jobs.py)."""
    from web.jobs import Jobs

    monkeypatch.setattr(Jobs, "wait", 30.0)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    svc = make_world(tmp_path_factory.mktemp("web"))
    with svc:
        populate(svc)
        yield svc


def test_sign_in_sets_a_secure_httponly_samesite_strict_session_cookie_for_the_pages_only(world):
    c = client_of(world)
    resp = sign_in(c, "ada")
    assert resp.status_code == 303 and resp.headers["location"] == "/app/"
    cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith("lrs_web="))
    attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")}
    assert {"secure", "httponly"} <= attrs
    assert "samesite=strict" in cookie.lower() and "path=/app" in cookie.lower()
    assert "Compliance" in c.get("/app/").text


def test_a_wrong_password_is_refused_with_a_page_that_says_so(world):
    c = client_of(world)
    resp = sign_in(c, "ada", "not the password at all")
    assert resp.status_code == 401 and "password is wrong" in resp.text
    assert c.get("/app/people").status_code == 401


def test_sign_in_without_its_form_token_is_refused(world):
    c = client_of(world)
    resp = c.post("/app/sign-in", data={"username": "ada", "password": "a long enough password"},
                  follow_redirects=False)
    assert resp.status_code == 403 and "lrs_web=" not in resp.headers.get("set-cookie", "")


def test_pages_need_a_session_and_the_dashboard_sends_to_sign_in(world):
    c = client_of(world)
    assert c.get("/app/", follow_redirects=False).headers["location"] == "/app/sign-in"
    resp = c.get("/app/people/p1")
    assert resp.status_code == 401 and "Sign in" in resp.text


@pytest.mark.parametrize("path", ["/xapi/statements", "/content/courses", "/rules/people", "/player/registrations"])
def test_the_session_cookie_is_never_accepted_by_the_apis(world, browser_as, path):
    c = browser_as("ada")
    sid = c.cookies.get("lrs_web")
    assert sid
    resp = c.get(path, headers={"Cookie": f"lrs_web={sid}", "X-Experience-API-Version": "1.0.3"})
    assert resp.status_code == 401


def test_a_form_without_the_csrf_token_or_with_another_sessions_token_is_refused(world, browser_as):
    ada, other = browser_as("ada"), browser_as("ada")
    before = world.transcript("p2")
    body = {"kind": "exemption", "certification": "bus-operator", "reason": "medical"}
    assert ada.post("/app/people/p2/actions", data=body).status_code == 403
    foreign = csrf_of(other.get("/app/people/p2").text)
    resp = ada.post("/app/people/p2/actions", data={**body, "csrf": foreign})
    assert resp.status_code == 403 and "security token" in resp.text
    assert world.transcript("p2") == before


def test_an_admin_action_needs_a_reason_and_is_recorded_with_the_account(world, browser_as):
    ada = browser_as("ada")
    token = csrf_of(ada.get("/app/people/p2").text)
    resp = ada.post("/app/people/p2/actions", data={"csrf": token, "kind": "exemption",
                                                      "certification": "bus-operator", "reason": "  "})
    assert resp.status_code == 400 and "reason" in resp.text
    resp = ada.post("/app/people/p2/actions", data={"csrf": token, "kind": "exemption",
                                                      "certification": "bus-operator", "reason": "on leave"})
    assert resp.status_code == 200 and "Recorded" in resp.text
    world.run()
    cert = next(c for c in world.transcript("p2")["certifications"] if c["certification"] == "bus-operator")
    assert cert["status"] == "exempt"


def test_an_auditor_reads_every_page_but_every_change_is_refused_by_the_server(world, browser_as):
    aud = browser_as("aud")
    for path in ("/app/", "/app/people", "/app/people/p3", "/app/certifications/bus-operator/roster", "/app/audit",
                 "/app/audit?verify=1", "/app/certifications/bus-operator/roster.csv"):
        assert aud.get(path).status_code == 200, path
    token = csrf_of(aud.get("/app/people/p3").text)
    before = world.transcript("p3")
    for path, body in [("/app/people/p3/actions", {"kind": "revocation", "certification": "bus-operator",
                                                   "reason": "x"}),
                       ("/app/people/p3/link", {}),
                       ("/app/accounts", {"username": "eve", "role": "admin", "password": "a long enough password"}),
                       ("/app/accounts/ada/disable", {})]:
        resp = aud.post(path, data={**body, "csrf": token})
        assert resp.status_code == 403, path
    assert world.transcript("p3") == before
    assert aud.get("/app/accounts").status_code == 403


def test_a_supervisor_sees_only_the_people_they_supervise(world, browser_as):
    sam = browser_as("sam")
    people = sam.get("/app/people").text
    assert "/app/people/p1" in people and "/app/people/p2" in people and "/app/people/p3" not in people
    assert sam.get("/app/people/p3").status_code == 403
    assert sam.get("/app/people/p3/transcript.csv").status_code == 403
    roster = sam.get("/app/certifications/bus-operator/roster").text
    assert "/app/people/p3" not in roster and "/app/people/p1" in roster
    assert "p3" not in sam.get("/app/certifications/bus-operator/roster.csv").text
    assert "your team: 2 people" in sam.get("/app/").text
    token = csrf_of(sam.get("/app/people/p1").text)
    assert sam.post("/app/people/p1/actions", data={"csrf": token, "kind": "exemption",
                                                     "certification": "bus-operator", "reason": "x"}).status_code == 403


def test_values_from_people_definitions_and_statements_are_escaped_on_every_page(world, browser_as):
    ada = browser_as("ada")
    for path in ("/app/", "/app/people", "/app/people/p1", "/app/certifications/bus-operator/roster"):
        html = ada.get(path).text
        assert "<script>" not in html, path
    assert "&lt;script&gt;" in ada.get("/app/people/p1").text
    assert "&lt;script&gt;" in ada.get("/app/").text


def test_the_dashboard_links_each_figure_to_the_list_behind_it(world, browser_as):
    html = browser_as("ada").get("/app/").text
    assert 'href="/app/certifications/bus-operator/roster?status=overdue"' in html
    for n in (30, 60, 90):
        assert f'href="/app/certifications/bus-operator/roster?expiring_within_days={n}"' in html
    # p1 earned a 60-day certificate today: expiring within 60 and 90 days, not 30
    assert re.search(r'expiring_within_days=30">0<', html) and re.search(r'expiring_within_days=60">1<', html)


def test_the_roster_filters_and_exports_the_same_rows_as_csv(world, browser_as):
    ada = browser_as("ada")
    html = ada.get("/app/certifications/bus-operator/roster?status=certified").text
    assert "/app/people/p1" in html and "/app/people/p3" not in html
    assert 'href="/app/certifications/bus-operator/roster.csv?status=certified"' in html
    csv = ada.get("/app/certifications/bus-operator/roster.csv?status=certified")
    assert csv.headers["content-type"].startswith("text/csv") and csv.headers["x-chain-head"]
    lines = csv.text.strip().splitlines()
    assert lines[0].startswith("person_id,status") and len(lines) == 2 and lines[1].startswith("p1,certified")
    bad = ada.get("/app/certifications/bus-operator/roster?status=nonsense")
    assert bad.status_code == 400 and "no status" in bad.text


def test_the_audit_page_shows_the_chain_head_and_verifies_it(world, browser_as):
    ada = browser_as("ada")
    head = world.client.get("/rules/audit/verify", headers=ADMIN).json()["head"]
    html = ada.get("/app/audit?verify=1").text
    assert head in html and "The chain is intact" in html


def test_a_learner_opens_their_page_through_a_signed_link_without_a_password(world, browser_as):
    ada = browser_as("ada")
    token = csrf_of(ada.get("/app/people/p1").text)
    html = ada.post("/app/people/p1/link", data={"csrf": token}).text
    link = re.search(r'id="link" readonly value="([^"]+)"', html).group(1)
    assert link.startswith("https://testserver/app/learn/")
    learner = client_of(world)
    page = learner.get(link.replace("https://testserver", ""))
    assert page.status_code == 200 and "My training" in page.text and "Valid until" in page.text
    assert "&lt;script&gt;" in page.text and "<script>" not in page.text
    assert learner.get("/app/me").status_code == 200               # the learner session cookie
    assert learner.get("/app/people/p2").status_code == 401         # not a staff session
    forged = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert client_of(world).get(forged.replace("https://testserver", "")).status_code == 403
    assert client_of(world).get("/app/me").status_code == 401
    assert learner.post("/app/me/sign-out", data={"csrf": "forged"}).status_code == 403
    out = learner.post("/app/me/sign-out", data={"csrf": csrf_of(learner.get("/app/me").text)})
    assert out.status_code == 200 and "signed out" in out.text
    assert learner.get("/app/me").status_code == 401


def test_signing_out_ends_the_session_on_the_server(world, browser_as):
    ada = browser_as("ada")
    sid = ada.cookies.get("lrs_web")
    token = csrf_of(ada.get("/app/").text)
    assert ada.post("/app/sign-out", data={"csrf": token}, follow_redirects=False).status_code == 303
    stale = client_of(world)
    assert stale.get("/app/people", headers={"Cookie": f"lrs_web={sid}"}).status_code == 401


def test_an_admin_manages_accounts_from_the_page(world, browser_as):
    ada = browser_as("ada")
    token = csrf_of(ada.get("/app/accounts").text)
    resp = ada.post("/app/accounts", data={"csrf": token, "username": "bea", "role": "auditor",
                                             "password": "another long password"})
    assert resp.status_code == 200 and "Account bea (auditor) created" in resp.text
    assert sign_in(client_of(world), "bea", "another long password").status_code == 303
    assert ada.post("/app/accounts", data={"csrf": token, "username": "bea", "role": "auditor",
                                            "password": "another long password"}).status_code == 409
    assert ada.post("/app/accounts/bea/password", data={"csrf": token, "password": "a third long password"}
                    ).status_code == 200
    assert sign_in(client_of(world), "bea", "another long password").status_code == 401
    assert sign_in(client_of(world), "bea", "a third long password").status_code == 303
    assert ada.post("/app/accounts/bea/disable", data={"csrf": token}).status_code == 200
    assert sign_in(client_of(world), "bea", "a third long password").status_code == 401
    assert browser_as("sam").get("/app/accounts").status_code == 403


def test_an_error_page_says_what_went_wrong_and_what_to_do_never_a_stack_trace(world, browser_as):
    ada = browser_as("ada")
    for path, status in [("/app/no-such-page", 404), ("/app/people/nobody", 404),
                         ("/app/certifications/nope/roster", 404)]:
        resp = ada.get(path)
        assert resp.status_code == status and resp.headers["content-type"].startswith("text/html")
        assert "What to do" in resp.text and "Traceback" not in resp.text


def test_repeated_failed_sign_ins_for_a_name_are_refused_with_a_page_saying_when_to_retry(world):
    c = client_of(world)
    statuses = [sign_in(c, "mallory", "wrong password every time").status_code for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    resp = sign_in(c, "mallory", "wrong password every time")
    assert resp.status_code == 429 and "Too many failed sign-ins" in resp.text and "Wait" in resp.text


def test_the_stylesheet_is_served_and_nothing_else_of_the_package_is(world):
    c = client_of(world)
    css = c.get("/app/static/web.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    for path in ("/app/static/%2e%2e/app.py", "/app/static/%2e%2e/templates/base.html"):   # sent as is
        resp = c.get(path)
        assert resp.status_code == 404 and "import" not in resp.text and "{%" not in resp.text, path
    assert c.get("/app", follow_redirects=False).status_code in (307, 308, 303)


def test_pages_carry_a_content_security_policy_that_allows_no_script(world, browser_as):
    resp = browser_as("ada").get("/app/")
    policies = resp.headers.get_list("content-security-policy")
    assert any("default-src 'none'" in p and "script-src" not in p for p in policies)
    assert resp.headers["cache-control"] == "no-store"


def test_verifying_the_chain_shows_its_progress_then_the_result_from_one_job(world, browser_as, monkeypatch):
    import threading

    from rules.core import Rules
    from web.jobs import Jobs

    world.action("p3", {"kind": "exemption", "certification": "bus-operator", "reason": "a new chain head"})
    world.run()     # a chain head no earlier test verified
    events = world.client.get("/rules/audit/verify", headers=ADMIN).json()["events"]
    gate, calls, original = threading.Event(), [], Rules.verify_chain

    def verify_chain(self, progress=None):
        calls.append(1)
        assert gate.wait(10)
        return original(self, progress)
    monkeypatch.setattr(Rules, "verify_chain", verify_chain)
    monkeypatch.setattr(Jobs, "wait", 0.0)
    aud = browser_as("aud")
    first = aud.get("/app/audit?verify=1").text
    assert '<meta http-equiv="refresh" content="2">' in first
    assert re.search(rf"Verifying the chain: 0(?: of {events})? events read so far", first)
    assert "Verifying the chain:" in browser_as("ada").get("/app/audit?verify=1").text and calls == [1]
    gate.set()
    monkeypatch.setattr(Jobs, "wait", 30.0)
    done = aud.get("/app/audit?verify=1").text
    assert "The chain is intact" in done and 'http-equiv="refresh"' not in done and calls == [1]
