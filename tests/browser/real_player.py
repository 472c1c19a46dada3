"""The learner scripts' ``Player`` over the real launch page (``/player/session`` after a launch link).

This is the one place that knows the launch page's markup (player/pages.py ``player_page``):

- ``#sco``: the frame that holds the SCO;
- ``#save-state`` with ``data-state`` saved / pending / saving / opening / retrying / offline / session /
  error;
- ``#prev`` / ``#next`` and ``<details class="toc"><ol id="contents">``, one ``<button>`` per SCO in the
  course's order (disabled while its prerequisites are unmet, ``aria-current="step"`` on the open one)
  and a ``.sco-status`` span (courses of several SCOs only);
- ``#suspend`` ("Save and exit"), ``#notice``, ``#ended`` with ``#ended-message``;
- the config JSON in ``<script type="application/json" id="player-config">``;
- ``window.lrsPlayer``: ``drain()`` (a Promise of true once every queued commit is stored), ``queue()``
  (the commits waiting in this browser), ``state()``, ``open(scoId)``.

The page's Content-Security-Policy forbids eval, so ``page.wait_for_function`` with a string fails there:
waits are locator waits, or ``evaluate`` of a function (which the policy allows)."""
from __future__ import annotations

import json
import time

from learners import DialogAnswers, Page, Sco, dialog_answers, frame_of

STATES = ("saved", "pending", "saving", "opening", "retrying", "offline", "session", "error")


class LaunchPagePlayer:
    SCO_FRAME = "#sco"  # the frame that holds the SCO

    def __init__(self, page: Page):
        self.page = page

    # -- what is on the page -----------------------------------------------------------------------

    def sco(self) -> Sco:
        return self.page.frame_locator(self.SCO_FRAME)

    def sco_frame(self):
        return frame_of(self.sco())

    def title(self) -> str:
        return self.page.locator("h1").first.inner_text()

    def config(self) -> dict:
        """The launch page's configuration (registration, SCORM version, SCOs, URLs) as the server wrote it."""
        return json.loads(self.page.locator("#player-config").text_content())

    @property
    def registration(self) -> str:
        return self.config()["registration"]

    def state(self) -> str:
        return self.page.locator("#save-state").get_attribute("data-state")

    def wait_state(self, *states: str, timeout: float = 15.0) -> str:
        """Wait until the save state is one of ``states``; the state then."""
        assert all(s in STATES for s in states), states
        selector = ", ".join(f"#save-state[data-state={s}]" for s in states)
        self.page.locator(selector).wait_for(state="attached", timeout=timeout * 1000)
        return self.state()

    def queue(self) -> list[dict]:
        """The commits waiting in this browser's storage, oldest first."""
        return self.page.evaluate("() => window.lrsPlayer.queue()")

    def drain(self, timeout: float = 20.0) -> bool:
        """Wait until every queued commit is stored (True), or the runtime says it cannot send them now."""
        self.page.set_default_timeout(timeout * 1000)
        try:
            return self.page.evaluate("() => window.lrsPlayer.drain()")
        finally:
            self.page.set_default_timeout(30000)

    def sco_value(self, element: str) -> str:
        """GetValue of ``element`` as the SCO sees it (through the API the launch page hosts)."""
        return self.sco_frame().evaluate("""element => {
          const p = window.parent;
          return p.API ? p.API.LMSGetValue(element) : p.API_1484_11.GetValue(element);
        }""", element)

    def notice(self) -> str | None:
        el = self.page.locator("#notice")
        return None if el.is_hidden() else el.inner_text()

    # -- moving between SCOs -------------------------------------------------------------------------

    def item_ids(self) -> list[str]:
        return [s["id"] for s in self.config()["scos"]]

    def _button(self, identifier: str):
        index = self.item_ids().index(identifier)
        return self.page.locator("#contents > li").nth(index).locator("button")

    def open_contents(self) -> None:
        toc = self.page.locator("details.toc")
        if toc.get_attribute("open") is None:
            toc.locator("summary").click()

    def current_item(self) -> str | None:
        buttons = self.page.locator("#contents button")
        ids = self.item_ids()
        for i in range(buttons.count()):
            if buttons.nth(i).get_attribute("aria-current") == "step":
                return ids[i]
        return None

    def open_item(self, identifier: str) -> None:
        """Open an item from the table of contents as a learner does, and wait until it is framed; the
        item already open stays as it is (a learner does not reopen the page in front of them)."""
        if self.current_item() == identifier:
            self.wait_opened(identifier)
            return
        self.open_contents()
        button = self._button(identifier)
        button.click()
        self.wait_opened(identifier)

    def wait_opened(self, identifier: str, timeout: float = 15.0) -> None:
        """Wait until ``identifier`` is the open SCO and its launch file is in the frame."""
        index = self.item_ids().index(identifier)
        self.page.locator("#contents > li").nth(index).locator("button[aria-current=step]").wait_for(
            state="attached", timeout=timeout * 1000)
        self.page.locator("#save-state:not([data-state=opening])").wait_for(state="attached", timeout=timeout * 1000)
        frame = self.sco_frame()
        deadline = time.monotonic() + timeout
        while frame.url in ("", "about:blank"):
            assert time.monotonic() < deadline, f"{identifier} did not load in the frame"
            self.page.wait_for_timeout(30)
        frame.wait_for_load_state("domcontentloaded")

    def status_of(self, identifier: str) -> str:
        index = self.item_ids().index(identifier)
        return self.page.locator("#contents > li").nth(index).locator(".sco-status").inner_text()

    def enabled_items(self, timeout: float = 10.0) -> list[str]:
        """The items the table of contents lets the learner open now, once it shows what the server holds
        (after the commits of the SCO just left are stored and the contents refreshed)."""
        self.drain()
        truth = self.page.evaluate("""async () => {
          const cfg = JSON.parse(document.getElementById('player-config').textContent);
          const res = await fetch(cfg.urls.contents, {credentials: 'same-origin'});
          return (await res.json()).scos.filter(s => s.available).map(s => s.id);
        }""")
        deadline = time.monotonic() + timeout
        while True:
            shown = self._enabled_shown()
            if shown == truth or time.monotonic() > deadline:
                return shown
            self.page.wait_for_timeout(30)

    def _enabled_shown(self) -> list[str]:
        ids = self.item_ids()
        flags = self.page.locator("#contents button").evaluate_all("bs => bs.map(b => !b.disabled)")
        return [i for i, on in zip(ids, flags) if on]

    def next(self) -> None:
        before = self.current_item()
        self.page.locator("#next").click()
        self._wait_moved(before)

    def prev(self) -> None:
        before = self.current_item()
        self.page.locator("#prev").click()
        self._wait_moved(before)

    def _wait_moved(self, before: str | None, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.current_item() in (before, None):
            assert time.monotonic() < deadline, "the launch page did not move to another SCO"
            self.page.wait_for_timeout(30)
        self.wait_opened(self.current_item())

    # -- leaving ---------------------------------------------------------------------------------------

    def save_and_exit(self, timeout: float = 20.0) -> str:
        """Press "Save and exit"; wait for the closed-course section and every commit stored. Its message."""
        self.page.locator("#suspend").click()
        return self.wait_ended(timeout)

    def wait_ended(self, timeout: float = 20.0) -> str:
        """Wait until the launch page shows the course closed and has sent everything; its message."""
        self.page.locator("#ended").wait_for(timeout=timeout * 1000)
        assert self.drain(timeout), f"commits left in the browser: {self.queue()}"
        return self.page.locator("#ended-message").inner_text()


def open_launch_link(page: Page, launch_url: str, *, resume: bool = True) -> tuple[LaunchPagePlayer, DialogAnswers]:
    """Open a launch link as the learner: the dialog answers are set before anything loads (the golf SCOs
    ask whether to resume while they start); returns the player once the launch page has opened its SCO."""
    answers = dialog_answers(page)
    answers.resume = resume
    response = page.goto(launch_url)
    assert response is not None and response.ok, f"{launch_url}: {response.status if response else 'no response'}"
    player = LaunchPagePlayer(page)
    page.locator(LaunchPagePlayer.SCO_FRAME).wait_for(state="attached")
    page.locator("#save-state:not([data-state=opening])").wait_for(state="attached")
    return player, answers
