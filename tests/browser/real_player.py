"""The learner scripts' ``Player`` over the real launch page (``/player/session`` after a launch link).

This is the one place that knows the launch page's markup; when the page changes (table of contents,
previous/next, exit and suspend controls, the content origin), change the selectors here and every
learner script follows."""
from __future__ import annotations

from learners import DialogAnswers, Page, Sco, dialog_answers, frame_of


class LaunchPagePlayer:
    SCO_FRAME = "iframe.sco"  # the frame that holds the SCO (player/pages.py launch_page)

    def __init__(self, page: Page):
        self.page = page

    def sco(self) -> Sco:
        return self.page.frame_locator(self.SCO_FRAME)

    def sco_frame(self):
        return frame_of(self.sco())

    def title(self) -> str:
        return self.page.locator("h1").first.inner_text()

    def open_item(self, identifier: str) -> None:
        raise NotImplementedError("the launch page has no table of contents to open an item from yet; "
                                  "wire its selectors in tests/browser/real_player.py")

    def enabled_items(self) -> list[str]:
        raise NotImplementedError("the launch page has no table of contents yet; "
                                  "wire its selectors in tests/browser/real_player.py")


def open_launch_link(page: Page, launch_url: str, *, resume: bool = True) -> tuple[LaunchPagePlayer, DialogAnswers]:
    """Open a launch link as the learner: the dialog answers are set before anything loads (the golf SCOs
    ask whether to resume while they start); returns the player once the launch page is there."""
    answers = dialog_answers(page)
    answers.resume = resume
    response = page.goto(launch_url)
    assert response is not None and response.ok, f"{launch_url}: {response.status if response else 'no response'}"
    player = LaunchPagePlayer(page)
    page.locator(LaunchPagePlayer.SCO_FRAME).wait_for()
    return player, answers
