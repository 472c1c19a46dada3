"""Issue 10, acceptance 3: a course of several SCOs played on a phone (360x740 CSS pixels, touch, a mobile
viewport) with the player's own controls tapped; screenshots of the launch page kept in
var/test-artifacts/browser/<test>/. Nothing scrolls sideways, every control is at least 44 px each way
and reachable (nothing covers it), and the open table of contents never covers the SCO."""
from __future__ import annotations

from learners import PASS, QUIZ, golf_answer, golf_next, golf_submit, golf_wait_ready, play_simple_remediation
from real_player import open_launch_link

PACKAGE = "SequencingSimpleRemediation_SCORM20043rdEdition"
WIDTH = 360


def no_sideways_scroll(page) -> None:
    widths = page.evaluate("[document.documentElement.scrollWidth, document.body.scrollWidth, innerWidth]")
    assert max(widths[:2]) <= WIDTH == widths[2], widths


def reachable(page, locator, what: str) -> None:
    """At least 44x44 CSS px, inside the viewport's width, and the element a finger at its centre touches."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44, (what, box)
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (what, box)
    hit = locator.evaluate("""el => {
      const r = el.getBoundingClientRect();
      const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return at === el || el.contains(at);
    }""")
    assert hit, f"{what} is covered by something else"


def test_a_course_of_several_scos_played_on_a_phone_with_touch_keeps_screenshots(lrs_server, phone_context,
                                                                                   artefacts):
    srv = lrs_server()
    course = srv.import_package(PACKAGE)["course"]
    link = srv.launch(course["id"])
    page = phone_context().new_page()
    player, answers = open_launch_link(page, link["launch_url"])
    assert page.evaluate("[innerWidth, devicePixelRatio, 'ontouchstart' in window, matchMedia('(pointer: coarse)').matches]") \
        == [WIDTH, 2, True, True]
    golf_wait_ready(player.sco())
    page.screenshot(path=str(artefacts / "1-launch-page.png"))
    no_sideways_scroll(page)
    for selector in ("#prev", "#next", "#suspend", "details.toc > summary"):
        if selector != "#prev":   # disabled on the first SCO: nothing to reach
            reachable(page, page.locator(selector), selector)
    frame_box = page.locator("#sco").bounding_box()
    assert frame_box["width"] >= WIDTH - 2 and frame_box["height"] >= 0.5 * 740, frame_box

    # The first SCO read to its end, then the next one with a tap on the player's Next.
    play_simple_remediation(player, plan=PASS, upto=1)
    page.locator("#next").tap()
    player.wait_opened("etuqiette_item")
    sco = player.sco()
    golf_wait_ready(sco)
    while golf_next(sco) < 2:
        pass

    # The contents opened with a tap: below the SCO, never over it; each item reachable.
    page.locator("details.toc > summary").tap()
    page.locator("#contents").wait_for()
    no_sideways_scroll(page)
    toc_box = page.locator("details.toc").bounding_box()
    frame_box = page.locator("#sco").bounding_box()
    assert toc_box["y"] >= frame_box["y"] + frame_box["height"] - 1, (toc_box, frame_box)
    buttons = page.locator("#contents button")
    assert buttons.count() == 8
    for i in range(8):
        reachable(page, buttons.nth(i), f"contents item {i + 1}")
    page.screenshot(path=str(artefacts / "2-contents-open.png"), full_page=True)

    # flow only (choice="false"): the contents show where the learner is; Next moves on
    assert [buttons.nth(i).is_disabled() for i in range(8)] == [True] * 8
    for ident in ("handicapping_item", "havingfun_item", "test_1"):
        page.locator("#next").tap()
        player.wait_opened(ident)
        golf_wait_ready(player.sco())
    sco = player.sco()
    golf_wait_ready(sco)
    sco.frame_locator("#contentFrame").locator("#frmTest").wait_for()
    golf_answer(sco, QUIZ["Playing"], PASS)
    page.screenshot(path=str(artefacts / "3-quiz-answered.png"))
    assert golf_submit(sco) == 80
    page.screenshot(path=str(artefacts / "4-quiz-submitted.png"))
    no_sideways_scroll(page)

    page.locator("#suspend").tap()
    player.wait_ended()
    page.screenshot(path=str(artefacts / "5-course-closed.png"))
    no_sideways_scroll(page)
    assert answers.alerts == []
    for name in ("1-launch-page", "2-contents-open", "3-quiz-answered", "4-quiz-submitted", "5-course-closed"):
        assert (artefacts / f"{name}.png").stat().st_size > 1000
    attempts = {a["sco"]: a for a in srv.attempts(link["registration"]["id"])}
    assert {k: (a["success_status"], a["ended"]) for k, a in attempts.items()} == {
        "playing_item": ("passed", True), "etuqiette_item": ("passed", True), "handicapping_item": (None, True),
        "havingfun_item": (None, True), "test_1": ("passed", True)}
    assert attempts["test_1"]["score_scaled"] == 0.8
