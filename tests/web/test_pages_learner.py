"""The learner's page over HTTP: the courses a to-do needs, launched (or resumed) through the player,
certificate and transcript PDFs for the learner and for staff, and on the person page the evidence
links and the evidence pack; on both backends where data is stored."""
from __future__ import annotations

import io
import re
import sys
import uuid
from pathlib import Path

import jwt
import pytest
from pypdf import PdfReader

from web_kit import ADMIN, BUS_TITLE, HOSTILE, client_of, csrf_of, make_world, populate, sign_in

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))
from lrs_testkit import fresh_mongodb_url  # noqa: E402

from lrs.storage import open_store  # noqa: E402
from service.config import activity_iri_base  # noqa: E402
from web import pdf  # noqa: E402

PACKAGES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "packages"
PACKAGE = PACKAGES / "RuntimeBasicCalls_SCORM12.zip"
CMI5_PACKAGE = PACKAGES / "cmi5_single_au_basic_responsive.zip"
ODD = "Ωmega 🚌 日本 \u202e\ud7ff é"
SAFETY_TITLE = f"Safety {HOSTILE} {ODD}"
XAPI = {**ADMIN, "X-Experience-API-Version": "1.0.3"}
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    if not (PACKAGE.is_file() and CMI5_PACKAGE.is_file()):
        pytest.skip(f"{PACKAGES} lacks the fixture packages: third-party fixtures are read from ../shared")
    backend = fresh_mongodb_url() if request.param == "mongo" else ""
    tmp = tmp_path_factory.mktemp("learner")
    svc = make_world(tmp, backend)
    svc.tmp, svc.backend = tmp, backend
    with svc:
        populate(svc)
        r = svc.client.post("/content/packages", content=PACKAGE.read_bytes(),
                            headers={**ADMIN, "Content-Type": "application/zip"})
        assert r.status_code in (200, 201), r.text
        svc.course = r.json()["course"]["id"]
        svc.iri = f"{activity_iri_base(svc.settings)}/courses/{svc.course}"
        svc.define("completion", {"id": "safety-course", "title": f"Safety course {HOSTILE}", "activity": svc.iri})
        svc.define("certification", {"id": "safety", "title": SAFETY_TITLE, "initial": "safety-course",
                                     "validity": {"days": 365}})
        svc.define("requirement", {"id": "safety-req", "applies_to": {"roles": ["bus_operator"]},
                                   "certifications": ["safety"], "due": {"days": 10}})
        # a cmi5 course, named in its completion rule by its own course id (its course structure's)
        r = svc.client.post("/content/packages", content=CMI5_PACKAGE.read_bytes(),
                            headers={**ADMIN, "Content-Type": "application/zip"})
        assert r.status_code in (200, 201), r.text
        svc.cmi5_course = r.json()["course"]["id"]
        version = svc.client.get(f"/content/courses/{svc.cmi5_course}/versions/1", headers=ADMIN).json()
        svc.define("completion", {"id": "cmi5-course", "activity": version["structure"]["cmi5"]["course"]["id"]})
        svc.define("certification", {"id": "cmi5-cert", "title": "Responsive basics", "initial": "cmi5-course"})
        svc.define("requirement", {"id": "cmi5-req", "applies_to": {"roles": ["bus_operator"]},
                                   "certifications": ["cmi5-cert"], "due": {"days": 20}})
        # p1 has passed the course (as the player's bridge reports it: the course activity, its version)
        svc.safety_statement = str(uuid.uuid4())
        st = {"id": svc.safety_statement, "actor": {"mbox": "mailto:p1@example.com"},
              "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
              "object": {"id": svc.iri, "definition": {"type": "http://adlnet.gov/expapi/activities/course"}},
              "result": {"success": True, "completion": True}, "context": {"revision": "1"},
              "timestamp": svc.clock().isoformat().replace("+00:00", "Z")}
        assert svc.client.post("/xapi/statements", json=st, headers=XAPI).status_code == 200
        svc.run()
        yield svc


def staff(world, username: str):
    c = client_of(world)
    assert sign_in(c, username).status_code == 303
    return c


def learner(world, pid: str):
    ada = staff(world, "ada")
    html = ada.post(f"/app/people/{pid}/link", data={"csrf": csrf_of(ada.get(f"/app/people/{pid}").text)}).text
    link = re.search(r'id="link" readonly value="([^"]+)"', html).group(1)
    c = client_of(world)
    assert c.get(link.replace("https://testserver", "")).status_code == 200
    return c


def launch_form(html: str, course: str) -> tuple[str, str]:
    m = re.search(r'<form method="post" action="(/app/me/courses/' + re.escape(course) + r'/launch)"[^>]*>\s*'
                  r'<input type="hidden" name="csrf" value="([^"]+)">', html)
    assert m, "no launch form for the course"
    return m.group(1), m.group(2)


def registrations(world, mbox: str) -> list[dict]:
    r = world.client.get("/player/registrations", params={"learner": mbox}, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()["registrations"]


def launch_claims(world, location: str) -> dict:
    prefix = world.settings.content_url + "/player/launch/"
    assert location.startswith(prefix), location
    store = open_store(world.tmp, world.backend)
    try:
        key = store.secret("launch")
    finally:
        store.close()
    return jwt.decode(location[len(prefix):], key, algorithms=["HS256"], audience="lrs-launch")


def pdf_text(body: bytes) -> str:
    assert body[:5] == b"%PDF-"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def test_a_learner_launches_the_course_a_to_do_needs_and_resumes_the_same_registration(world):
    p2 = learner(world, "p2")
    page = p2.get("/app/me")
    # the launch form's answer redirects to the content origin: the page's form-action allows it, no more
    assert f"form-action 'self' {world.settings.content_url};" in page.headers["content-security-policy"]
    html = page.text
    assert "<script>" not in html and "&lt;script&gt;" in html
    action, token = launch_form(html, world.course)
    assert ">Start</button>" in html
    resp = p2.post(action, data={"csrf": token}, follow_redirects=False)
    assert resp.status_code == 303
    claims = launch_claims(world, resp.headers["location"])
    assert claims["course"] == world.course and claims["ret"] == "https://testserver/app/me"
    regs = registrations(world, "mailto:p2@example.com")
    assert [r["id"] for r in regs] == [claims["reg"]]
    html = p2.get("/app/me").text
    assert ">Resume</button>" in html and "in progress" in html
    again = p2.post(action, data={"csrf": token}, follow_redirects=False)
    assert again.status_code == 303
    second = launch_claims(world, again.headers["location"])
    assert second["reg"] == claims["reg"] and second["jti"] != claims["jti"]
    assert len(registrations(world, "mailto:p2@example.com")) == 1


def test_a_cmi5_course_is_launched_through_the_cmi5_launcher_with_the_learners_registration(world):
    p2 = learner(world, "p2")
    html = p2.get("/app/me").text
    todo = html[html.index('id="todo"'):html.index('id="held"')]
    # by date due: safety in 10 days, this one in 20, the bus operator's certification in 30
    assert todo.index("Safety &lt;script") < todo.index("Responsive basics") < todo.index("Bus operator &lt;script")
    action, token = launch_form(html, world.cmi5_course)
    resp = p2.post(action, data={"csrf": token}, follow_redirects=False)
    assert resp.status_code == 303
    location = resp.headers["location"]
    prefix = world.settings.content_url + "/player/cmi5/launch/"
    assert location.startswith(prefix), location
    store = open_store(world.tmp, world.backend)
    try:
        key = store.secret("launch")
    finally:
        store.close()
    claims = jwt.decode(location[len(prefix):], key, algorithms=["HS256"], audience="lrs-cmi5-launch")
    assert claims["course"] == world.cmi5_course and claims["ret"] == "https://testserver/app/me"
    assert "endpoint=https%3A%2F%2Ftestserver%2Fxapi" in claims["to"] and "registration=" + claims["reg"] in claims["to"]
    regs = [r for r in registrations(world, "mailto:p2@example.com") if r["course"]["id"] == world.cmi5_course]
    assert [r["id"] for r in regs] == [claims["reg"]]


def test_a_launch_without_the_learners_csrf_token_is_refused_and_makes_nothing(world):
    p3 = learner(world, "p3")
    action, _ = launch_form(p3.get("/app/me").text, world.course)
    assert p3.post(action, data={}).status_code == 403
    forged = p3.post(action, data={"csrf": "0" * 64})
    assert forged.status_code == 403 and "security token" in forged.text
    ada = staff(world, "ada")
    staff_token = csrf_of(ada.get("/app/people/p3").text)
    assert p3.post(action, data={"csrf": staff_token}).status_code == 403
    assert registrations(world, "mailto:p3@example.com") == []
    assert client_of(world).post(action, data={"csrf": "x"}).status_code == 401


def test_a_course_no_to_do_needs_cannot_be_launched_from_the_learner_page(world):
    p3 = learner(world, "p3")
    token = launch_form(p3.get("/app/me").text, world.course)[1]
    resp = p3.post("/app/me/courses/no-such-course/launch", data={"csrf": token})
    assert resp.status_code == 404 and "not one of the courses" in resp.text


def test_a_learner_downloads_a_certificate_they_hold_and_gets_a_404_for_one_they_do_not(world):
    p1, p2 = learner(world, "p1"), learner(world, "p2")
    html = p1.get("/app/me").text
    assert 'href="/app/me/certificates/bus-operator.pdf"' in html and 'href="/app/me/certificates/safety.pdf"' in html
    resp = p1.get("/app/me/certificates/bus-operator.pdf")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    assert resp.headers["x-chain-head"] and "attachment" in resp.headers["content-disposition"]
    text = pdf_text(resp.content)
    assert BUS_TITLE in text and "p1" in text and resp.headers["x-chain-head"] in text.replace("\n", "")
    for path in ("/app/me/certificates/bus-operator.pdf", "/app/me/certificates/no-such.pdf"):
        missing = p2.get(path)
        assert missing.status_code == 404 and "do not hold it" in missing.text and "%PDF" not in missing.text
    assert client_of(world).get("/app/me/certificates/bus-operator.pdf").status_code == 401


def test_a_title_with_a_script_and_odd_unicode_is_drawn_as_text_in_the_pdfs(world):
    p1 = learner(world, "p1")
    cert = p1.get("/app/me/certificates/safety.pdf")
    assert cert.status_code == 200
    text = pdf_text(cert.content)
    assert f"Safety {HOSTILE}" in text and world.safety_statement in text.replace("\n", "")
    transcript = p1.get("/app/me/transcript.pdf")
    assert transcript.status_code == 200
    text = pdf_text(transcript.content)
    assert "safety-course" in text and "bus-course" in text and f"Safety {HOSTILE}" in text


def test_staff_download_transcript_and_certificate_pdfs_within_their_roles(world):
    ada, aud, sam = staff(world, "ada"), staff(world, "aud"), staff(world, "sam")
    for c in (ada, aud, sam):
        resp = c.get("/app/people/p1/transcript.pdf")
        assert resp.status_code == 200 and "Training transcript" in pdf_text(resp.content)
        assert c.get("/app/people/p1/certificates/bus-operator.pdf").status_code == 200
    assert ada.get("/app/people/p2/certificates/bus-operator.pdf").status_code == 404    # not earned
    assert sam.get("/app/people/p3/transcript.pdf").status_code == 403
    assert sam.get("/app/people/p3/certificates/bus-operator.pdf").status_code == 403
    assert client_of(world).get("/app/people/p1/transcript.pdf").status_code == 401


def test_the_person_page_links_each_statement_and_the_content_version_it_was_played_on(world):
    html = staff(world, "ada").get("/app/people/p1").text
    sid = world.safety_statement
    assert f'href="/app/statements/{sid}"' in html
    assert f'href="/app/courses/{world.course}/versions/1"' in html
    bus = world.transcript("p1")["certifications"]
    bus_sid = next(c for c in bus if c["certification"] == "bus-operator")["evidence"]["statements"][0]
    assert f'href="/app/statements/{bus_sid}"' in html
    assert 'href="/app/people/p1/evidence.json"' in html and 'href="/app/people/p1/transcript.pdf"' in html
    assert 'href="/app/people/p1/certificates/safety.pdf"' in html
    assert "<script>" not in html


def test_the_evidence_pack_holds_the_statements_and_the_chain_head_for_admins_auditors_and_the_team(world):
    ada, aud, sam = staff(world, "ada"), staff(world, "aud"), staff(world, "sam")
    head = world.client.get("/rules/audit/head", headers=ADMIN).json()
    for c in (ada, aud, sam):
        resp = c.get("/app/people/p1/evidence.json")
        assert resp.status_code == 200 and resp.headers["content-type"] == "application/json"
        pack = resp.json()
        assert pack["scope"] == {"person_id": "p1"} and pack["chain_head"]["hash"] == resp.headers["x-chain-head"]
        assert "next" not in pack
        assert {e["certification"] for e in pack["entries"]} >= {"bus-operator", "safety"}
        by_id = {s["id"]: s for s in pack["statements"]}
        assert by_id[world.safety_statement]["found"] and by_id[world.safety_statement]["content"]["version"] == "1"
    assert pack["chain_head"]["hash"] == head["head"]
    assert sam.get("/app/people/p3/evidence.json").status_code == 403
    assert client_of(world).get("/app/people/p1/evidence.json").status_code == 401


@pytest.mark.parametrize("font", [None, DEJAVU], ids=["core-font", "truetype"])
def test_pdfs_draw_any_unicode_without_failing_and_replace_what_the_font_lacks(font):
    if font is not None and not font.is_file():
        pytest.skip(f"{font} is absent (Debian's fonts-dejavu-core)")
    body = pdf.certificate_pdf(person="p\u0007x\u0000", person_name=ODD, certification="c", title=SAFETY_TITLE,
                               status="certified", issued="2026-01-01", expires=None, statements=["s" * 200],
                               chain_head="f" * 64, font=str(font) if font else None)
    text = pdf_text(body)
    assert f"Safety {HOSTILE}" in text and "s" * 40 in text and "no expiry" in text
    assert ("Ωmega" in text) == (font is not None)            # Helvetica has Latin-1 only
    assert "é" in text
    rows = [{"kind": "completion", "id": f"c{i}", "status": "completed", "statements": [ODD]} for i in range(80)]
    body = pdf.transcript_pdf(person="p", rows=rows, columns=["person_id", "kind", "id", "status", "statements"],
                              chain_head="h", font=str(font) if font else None)
    assert len(PdfReader(io.BytesIO(body)).pages) > 1 and "c79" in pdf_text(body)


def test_a_font_that_cannot_be_read_falls_back_to_the_core_font(tmp_path, caplog):
    bad = tmp_path / "not-a-font.ttf"
    bad.write_bytes(b"not a font")
    body = pdf.certificate_pdf(person="p1", certification="c", title="Title é Ω", status="certified",
                               issued="2026-01-01", expires="2027-01-01", chain_head="h", font=str(bad))
    assert "Title é ?" in pdf_text(body) and "cannot be used" in caplog.text
