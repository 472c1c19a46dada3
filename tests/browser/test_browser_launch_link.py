"""A launch link of a real ``lrs serve`` opened in Chromium, on a desktop and at phone size; and the server
killed and started again keeps its courses and still makes links that open."""
from __future__ import annotations

import httpx

from learners import ALL_QUESTIONS, FAIL, PASS, Stop, golf_submit, golf_wait_ready, play_runtime_basic_calls
from real_player import open_launch_link

COURSE = "RuntimeBasicCalls_SCORM12"
TITLE = "Golf Explained - Run-time Basic Calls"


def test_a_launch_link_opens_the_course_in_chromium(lrs_server, page):
    srv = lrs_server()
    course = srv.import_package(COURSE)["course"]
    link = srv.launch(course["id"])
    response = page.goto(link["launch_url"])
    assert response.ok, response.status
    assert page.locator("h1").first.inner_text() == TITLE
    sco = page.frame_locator("iframe").first
    # The golf sample's own launch page loaded in the frame: its previous/next/exit controls are there.
    sco.locator("#butNext").wait_for()


def test_a_reused_launch_link_is_refused_in_the_browser(lrs_server, page):
    srv = lrs_server()
    course = srv.import_package(COURSE)["course"]
    url = srv.launch(course["id"])["launch_url"]
    assert page.goto(url).ok
    assert page.goto(url).status == 410


def test_the_launch_page_at_phone_size_is_kept_as_a_screenshot(lrs_server, phone_context, artefacts):
    srv = lrs_server()
    course = srv.import_package(COURSE)["course"]
    ctx = phone_context()
    pg = ctx.new_page()
    assert pg.goto(srv.launch(course["id"])["launch_url"]).ok
    assert pg.evaluate("[innerWidth, devicePixelRatio, 'ontouchstart' in window]") == [360, 2, True]
    pg.frame_locator("iframe").first.locator("#butNext").wait_for()
    shot = artefacts / "launch-page-phone.png"
    pg.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    # Nothing on the launch page is wider than the phone (no sideways scrolling).
    assert pg.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_killed_server_restarted_on_its_data_keeps_its_courses_and_makes_links(lrs_server, page):
    srv = lrs_server()
    course = srv.import_package(COURSE)["course"]
    port = srv.port
    srv.kill()
    assert not srv.running
    try:
        httpx.get(srv.url + "/xapi/about", timeout=1)
        raise AssertionError("the killed server still answers")
    except httpx.HTTPError:
        pass
    srv.start()
    assert srv.port == port and srv.starts == 2
    listed = srv.request("GET", "/content/courses").json()["courses"]
    assert [c["id"] for c in listed] == [course["id"]]
    assert page.goto(srv.launch(course["id"])["launch_url"]).ok
    assert page.locator("h1").first.inner_text() == TITLE


# -- the learner scripts in the real launch page ------------------------------------------------------
# The scripts drive the SCO's own pages, quiz and buttons inside the launch page's frame; what the
# player records of them is checked in test_browser_acceptance_*.py.

def test_the_golf_learner_script_plays_inside_the_real_launch_page(lrs_server, page):
    srv = lrs_server()
    course = srv.import_package(COURSE)["course"]
    player, _ = open_launch_link(page, srv.launch(course["id"])["launch_url"], resume=False)
    assert player.title() == TITLE
    out = play_runtime_basic_calls(player.sco(), plan=PASS, stop=Stop.END)
    assert out.pages == list(range(15)) and out.score == PASS.score(ALL_QUESTIONS) == 87 and out.exited
    # The same script given the SCO's Frame instead of a FrameLocator.
    page.reload()
    again = play_runtime_basic_calls(player.sco_frame(), plan=FAIL, stop=Stop.AFTER_SUBMIT)
    assert again.score == 60


def test_a_course_played_on_a_phone_with_touch_keeps_screenshots(lrs_server, phone_context, artefacts):
    srv = lrs_server()
    course = srv.import_package(COURSE)["course"]
    pg = phone_context().new_page()
    player, _ = open_launch_link(pg, srv.launch(course["id"])["launch_url"], resume=False)
    sco = player.sco()
    golf_wait_ready(sco)
    pg.screenshot(path=str(artefacts / "1-launch-page.png"))
    sco.locator("#butNext").tap()  # a finger, not a mouse
    out = play_runtime_basic_calls(sco, plan=PASS, stop=Stop.AFTER_ANSWER, k=15)
    assert out.pages[0] == 1 and len(out.answered) == 15
    pg.screenshot(path=str(artefacts / "2-quiz-answered.png"))
    assert golf_submit(sco) == 87
    pg.screenshot(path=str(artefacts / "3-quiz-submitted.png"), full_page=True)
    for name in ("1-launch-page.png", "2-quiz-answered.png", "3-quiz-submitted.png"):
        assert (artefacts / name).stat().st_size > 1000


def test_the_server_helper_reads_every_statement_across_pages_oldest_first(lrs_server):
    srv = lrs_server()
    ids = []
    for n in range(3):
        statement = {"actor": {"mbox": "mailto:ana@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                     "object": {"id": f"http://example.com/activities/{n}"}}
        r = srv.request("POST", "/xapi/statements", json=statement)
        assert r.status_code == 200, r.text
        ids += r.json()
    got = srv.statements(limit="2", agent='{"mbox": "mailto:ana@example.com"}')
    assert [s["id"] for s in got] == ids
