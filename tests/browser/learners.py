"""Learner scripts: each plays one fixture package in a browser as a learner would, through the package's
own pages and buttons, and stops where the test asks.

A script takes the SCO's frame (a Playwright ``Frame`` or ``FrameLocator``), never a URL, so the same
script runs in the local harness (tests/browser/scorm_harness.py) and inside the real player's launch
page. Courses with several items take a ``Player``: what moves between items (the harness's, or the
real launch page's table of contents and next/previous).

What each package calls and when is in tests/browser/README.md; the answers are deterministic
(``Plan``), so a test knows every response, result and score the SCO reports."""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol, Union

try:
    from playwright.sync_api import Frame, FrameLocator, Page
except ImportError:  # the browser tests then skip (conftest.py) rather than fail to import
    Frame = FrameLocator = Page = None

Sco = Union[Frame, FrameLocator]

# -- the golf samples' quiz (identical questions.js in all five golf packages) ------------------------


@dataclass(frozen=True)
class Question:
    id: str
    type: str  # "choice", "true-false" or "numeric", as the SCO reports it
    answers: tuple  # the choices (choice); () otherwise
    correct: object  # the correct choice text, True/False, or the number
    objective: str

    def response(self, right: bool) -> tuple[str, object]:
        """(what the learner does, what the SCO records as the response) for a right or wrong answer.

        What is recorded: choice -> the index of the choice (as a number), true-false -> "true"/"false",
        numeric -> the text typed."""
        if self.type == "choice":
            i = self.answers.index(self.correct)
            if not right:
                i = (i + 1) % len(self.answers)
            return f"question_{self.id}_{i}", i
        if self.type == "true-false":
            value = self.correct if right else not self.correct
            return f"question_{self.id}_{'True' if value else 'False'}", "true" if value else "false"
        value = str(self.correct if right else int(self.correct) + 7)
        return f"question_{self.id}_Text", value


def _q(id_, type_, answers, correct, objective):
    return Question("com.scorm.golfsamples.interactions." + id_, type_, tuple(answers or ()), correct, objective)


QUIZ = {
    "Playing": [
        _q("playing_1", "choice", ["The UN", "USGA and Royal and Ancient", "The PGA", "Each course has it's own rules"],
           "USGA and Royal and Ancient", "obj_playing"),
        _q("playing_2", "choice", ["opportity for improvement", "birdie", "double bogie", "eagle"], "eagle",
           "obj_playing"),
        _q("playing_3", "numeric", None, 18, "obj_playing"),
        _q("playing_4", "true-false", None, True, "obj_playing"),
        _q("playing_5", "numeric", None, 3, "obj_playing"),
    ],
    "Etiquette": [
        _q("etiquette_1", "choice", ["On top of his ball", "Directly in his line of fire",
                                     "Out of the player's line of sight"], "Out of the player's line of sight",
           "obj_etiquette"),
        _q("etiquette_2", "true-false", None, True, "obj_etiquette"),
        _q("etiquette_3", "choice", ["First", "Last", "With a putter"], "First", "obj_etiquette"),
    ],
    "Handicapping": [
        _q("handicap_1", "choice", [
            "Course Handicap = Handicap index + number of holes * number of lost balls in last round",
            "Course Handicap = Number of years experience / annual equipment spending",
            "Course Handicap = Handicap index * Slope Rating / 113"],
           "Course Handicap = Handicap index * Slope Rating / 113", "obj_handicapping"),
        _q("handicap_2", "numeric", None, 1, "obj_handicapping"),
        _q("handicap_3", "numeric", None, 0, "obj_handicapping"),
        _q("handicap_4", "numeric", None, 2, "obj_handicapping"),
    ],
    "HavingFun": [
        _q("fun_1", "true-false", None, False, "obj_havingfun"),
        _q("fun_2", "true-false", None, False, "obj_havingfun"),
        _q("fun_3", "true-false", None, False, "obj_havingfun"),
    ],
}
SECTIONS = ("Playing", "Etiquette", "Handicapping", "HavingFun")
ALL_QUESTIONS = [q for s in SECTIONS for q in QUIZ[s]]


@dataclass(frozen=True)
class Plan:
    """Which questions the learner gets wrong (by question id suffix, e.g. "playing_2"); all others right."""
    wrong: frozenset = frozenset()

    def right(self, q: Question) -> bool:
        return q.id.rsplit(".", 1)[-1] not in self.wrong

    def score(self, questions) -> int:
        """The score the golf quiz reports: round(100 * right / asked)."""
        questions = list(questions)
        return round(sum(self.right(q) for q in questions) * 100 / len(questions))


# 13 of 15 right: 87 (passes 70 and 0.8); 9 of 15 right: 60 (fails both).
PASS = Plan(frozenset({"playing_2", "handicap_4"}))
FAIL = Plan(frozenset({"playing_2", "playing_5", "etiquette_1", "handicap_2", "handicap_4", "fun_3"}))
ALL_RIGHT = Plan()


class Stop(Enum):
    """Where a golf single-SCO script stops. Nothing after the stop point is done; the test decides
    what comes next (close the tab, go offline, kill the server, relaunch)."""
    AFTER_PAGES = "after_pages"  # after viewing `pages` content pages (bookmark set, nothing answered)
    AFTER_ANSWER = "after_answer"  # after answering question `k` on the quiz page (not submitted: nothing reported)
    AFTER_SUBMIT = "after_submit"  # right after "Submit Answers": interactions/score set, no Commit, no Terminate
    SUSPEND = "suspend"  # Exit before the end, "save your progress" accepted: exit=suspend, then Finish/Terminate
    END = "end"  # quiz submitted, then Exit: normal exit, Finish/Terminate


@dataclass
class Outcome:
    """What the learner did, for the test's assertions."""
    pages: list = field(default_factory=list)  # content page indexes shown, in order (the SCO's bookmark values)
    answered: list = field(default_factory=list)  # (Question, recorded response, right)
    submitted: bool = False
    score: int | None = None  # what the SCO computed and reported, when submitted
    exited: bool = False
    suspended: bool = False
    resumed_at: int | None = None  # the page the SCO resumed on, when it offered to resume
    dialogs: list = field(default_factory=list)  # every alert/confirm the content raised


# -- dialogs --------------------------------------------------------------------------------------------


@dataclass
class DialogAnswers:
    """How the learner answers the golf samples' confirm() boxes, and every dialog seen."""
    resume: bool = True  # "Would you like to resume from where you previously left off?"
    save_progress: bool = True  # "Would you like to save your progress to resume later?"
    seen: list = field(default_factory=list)  # (type, message)

    def handle(self, dialog) -> None:
        self.seen.append((dialog.type, dialog.message))
        text = dialog.message.lower()
        if dialog.type == "confirm" and "resume from where" in text:
            dialog.accept() if self.resume else dialog.dismiss()
        elif dialog.type == "confirm" and "save your progress" in text:
            dialog.accept() if self.save_progress else dialog.dismiss()
        elif dialog.type in ("alert", "beforeunload"):
            dialog.accept()
        else:
            dialog.dismiss()

    @property
    def alerts(self) -> list[str]:
        """The content's alerts: the golf samples alert only on a SCORM error (or a missing API)."""
        return [m for t, m in self.seen if t == "alert"]


_ANSWERS: "weakref.WeakKeyDictionary[Page, DialogAnswers]" = weakref.WeakKeyDictionary()


def dialog_answers(page: Page) -> DialogAnswers:
    """The one dialog handler of ``page`` (installed on first use): a page must have exactly one, or a
    confirm() would be answered twice, or hang."""
    if page not in _ANSWERS:
        answers = _ANSWERS[page] = DialogAnswers()
        page.on("dialog", answers.handle)
    return _ANSWERS[page]


def page_of(sco: Sco) -> Page:
    return sco.page if isinstance(sco, Frame) else sco.owner.page


def frame_of(sco: Sco) -> Frame:
    """The ``Frame`` of a SCO given as a frame or a frame locator."""
    if isinstance(sco, Frame):
        return sco
    frame = sco.owner.element_handle().content_frame()
    assert frame is not None, "the frame locator does not point at a frame"
    return frame


def _wait(sco: Sco, predicate, what: str, timeout: float = 10.0) -> None:
    page = page_of(sco)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - the frame may be navigating
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(40)


# -- golf single-SCO packages (RuntimeBasicCalls_SCORM12, RunTimeAdvancedCalls_SCORM20043rdEdition) ----

GOLF_PAGES = 15  # 14 content pages and the quiz (index 14) in shared/launchpage.html's pageArray
QUIZ_PAGE = 14

_CONTENT_READY = """f => {
  const w = f.ownerDocument.defaultView;
  const d = f.contentDocument;
  return w.currentPage !== null && w.currentPage !== undefined && d && d.readyState === 'complete'
      && d.location.href.endsWith(f.getAttribute('src').replace(/^\\.\\.\\//, '')) ? w.currentPage : -1;
}"""


def _golf_current(sco: Sco) -> int:
    return sco.locator("#contentFrame").evaluate(_CONTENT_READY)


def golf_wait_ready(sco: Sco, timeout: float = 15.0) -> int:
    """Wait until the golf launch page has started (Initialize done, a content page loaded); its page index."""
    sco.locator("#butNext").wait_for(timeout=timeout * 1000)
    _wait(sco, lambda: _golf_current(sco) >= 0, "the golf SCO's first page", timeout)
    return _golf_current(sco)


def golf_next(sco: Sco) -> int:
    before = _golf_current(sco)
    sco.locator("#butNext").click()
    _wait(sco, lambda: _golf_current(sco) == before + 1, f"page {before + 1}")
    return before + 1


def answer_quiz(quiz: Sco, questions, plan: Plan, upto: int | None = None) -> list:
    """Answer ``questions`` on a golf quiz page (shared/assessmenttemplate.html; ``quiz`` is its frame),
    the first ``upto`` of them, as ``plan`` says; not submitted. Returns (Question, recorded, right)."""
    done = []
    for q in list(questions)[:upto]:
        control, recorded = q.response(plan.right(q))
        target = quiz.locator(f'[id="{control}"]')
        if q.type == "numeric":
            target.fill(recorded)
            target.dispatch_event("change")
        else:
            target.check()
        done.append((q, recorded, plan.right(q)))
    return done


def submit_quiz(quiz: Sco) -> int:
    """Press "Submit Answers" on a golf quiz page; the score it shows (and reports through RecordTest)."""
    quiz.locator("input[type=button][value='Submit Answers']").click()
    heading = quiz.locator("#test h3").first
    heading.wait_for()
    return int(heading.inner_text().split(":")[1])


def golf_answer(sco: Sco, questions, plan: Plan, upto: int | None = None) -> list:
    """``answer_quiz`` on the quiz page framed in a golf launch page (its #contentFrame)."""
    return answer_quiz(sco.frame_locator("#contentFrame"), questions, plan, upto)


def golf_submit(sco: Sco) -> int:
    """``submit_quiz`` on the quiz page framed in a golf launch page (its #contentFrame)."""
    return submit_quiz(sco.frame_locator("#contentFrame"))


def play_golf_single_sco(sco: Sco, *, plan: Plan = PASS, stop: Stop = Stop.END, pages: int = 3,
                         k: int = 1, resume: bool | None = None) -> Outcome:
    """Play a golf sample whose one SCO is shared/launchpage.html with its own Previous/Next/Exit.

    The learner reads the pages in order with Next, answers the 15 questions of the final quiz as
    ``plan`` says, submits and exits. ``stop`` ends the script early: after ``pages`` content pages,
    after answering question ``k``, right after submitting, or by suspending (Exit before the end,
    "save your progress" accepted). When the SCO offers to resume (a bookmark exists), the page's
    ``dialog_answers(page).resume`` answers its confirm() (default yes); the SCO asks while it starts,
    so it is set before the SCO loads (``open_launch_link(..., resume=False)``); ``resume`` here
    changes it for any later launch in the same page."""
    answers = dialog_answers(page_of(sco))
    if resume is not None:
        answers.resume = resume
    answers.save_progress = True
    seen_before = len(answers.seen)
    out = Outcome()
    current = golf_wait_ready(sco)
    # The SCO asks while it starts: set dialog_answers(page).resume before opening it to say no.
    if answers.resume and any("resume from where" in m for _, m in answers.seen):
        out.resumed_at = current
    out.pages.append(current)

    if stop in (Stop.AFTER_PAGES, Stop.SUSPEND):
        while len(out.pages) < pages and current < QUIZ_PAGE - 1:
            current = golf_next(sco)
            out.pages.append(current)
        if stop is Stop.SUSPEND:
            sco.locator("#butExit").click()
            out.exited = out.suspended = True
        out.dialogs = answers.seen[seen_before:]
        return out

    while current < QUIZ_PAGE:
        current = golf_next(sco)
        out.pages.append(current)
    sco.frame_locator("#contentFrame").locator("#frmTest").wait_for()
    out.answered = golf_answer(sco, ALL_QUESTIONS, plan, upto=k if stop is Stop.AFTER_ANSWER else None)
    if stop is not Stop.AFTER_ANSWER:
        out.score = golf_submit(sco)
        out.submitted = True
        if stop is Stop.END:
            sco.locator("#butExit").click()
            out.exited = True
    out.dialogs = answers.seen[seen_before:]
    return out


def play_runtime_basic_calls(sco: Sco, **kw) -> Outcome:
    """RuntimeBasicCalls_SCORM12 (item_1): see ``play_golf_single_sco``."""
    return play_golf_single_sco(sco, **kw)


def play_runtime_advanced_calls(sco: Sco, **kw) -> Outcome:
    """RunTimeAdvancedCalls_SCORM20043rdEdition (item_1): see ``play_golf_single_sco``."""
    return play_golf_single_sco(sco, **kw)


def play_single_sco_2004_2nd(sco: Sco) -> Outcome:
    """ContentPackagingSingleSCO_SCORM20042ndEdition (item_1): its launch page only says "Not implemented
    yet" and makes no SCORM call; the learner reads it."""
    sco.locator("h1").wait_for()
    assert sco.locator("h1").inner_text() == "Not implemented yet"
    return Outcome(pages=[0])


# -- courses of several items -------------------------------------------------------------------------


class Player(Protocol):
    """What moves a learner between the items of a course: the harness's host page, or the real
    launch page's table of contents (``open_item``) and next/previous."""

    def sco(self) -> Sco:
        """The frame of the item on screen."""

    def open_item(self, identifier: str) -> None:
        """Open an item (by its manifest identifier) as a learner would from the table of contents,
        and wait until its page has loaded. The item on screen before is unloaded first; the item already
        on screen stays as it is (a learner does not reopen the page they are on)."""

    def enabled_items(self) -> list[str]:
        """The items the table of contents lets the learner open now (prerequisites honoured)."""


ONE_FILE_PER_SCO_ITEMS = [
    ("playing_playing_item", None), ("playing_par_item", None), ("playing_scoring_item", None),
    ("playing_otherscoring_item", None), ("playing_rules_item", None), ("playing_quiz_item", "Playing"),
    ("etiquette_course_item", None), ("etiquette_distracting_item", None), ("etiquette_play_item", None),
    ("etiquette_quiz_item", "Etiquette"),
    ("handicapping_overview_item", None), ("handicapping_calchandi_item", None),
    ("handicapping_calcscore_item", None), ("handicapping_example_item", None),
    ("handicapping_quiz_item", "Handicapping"),
    ("havingfun_howto_item", None), ("havingfun_makefriends_item", None), ("havingfun_quiz_item", "HavingFun"),
]


def play_one_file_per_sco(player: Player, *, plan: Plan = PASS, upto: int | None = None, start: int = 0) -> dict:
    """ContentPackagingOneFilePerSCO_SCORM12: 18 assets (no SCO, no SCORM call). The learner opens each
    item in order (the first ``upto``, from index ``start``), reads it, and on the four quiz items answers
    and submits the section's questions. Returns {item identifier: Outcome}."""
    outcomes = {}
    for identifier, section in ONE_FILE_PER_SCO_ITEMS[start:upto]:
        player.open_item(identifier)
        sco = player.sco()
        out = Outcome(pages=[0])
        sco.locator("h1").first.wait_for()
        if section:
            sco.locator("#frmTest").wait_for()
            out.answered = answer_quiz(sco, QUIZ[section], plan)
            out.score = submit_quiz(sco)
            out.submitted = True
        outcomes[identifier] = out
    return outcomes


PREREQUISITE_ITEMS = ["module1", "module2", "module3", "module4"]
# What the learner scores when a module is played as a SCO (see play_prerequisites); None: no score.
PREREQUISITE_SCORES = {"module1": 85, "module2": None, "module3": None, "module4": 85}


def play_prerequisites(player: Player, *, as_sco: bool = True, upto: int = 4, start: int = 0) -> dict:
    """PrerequisitesTest_SCORM12: four static pages that make NO SCORM call. The learner opens the
    modules in order (the first ``upto``, from index ``start``), each when the table of contents allows it.

    Since the pages never talk to an LMS, ``as_sco`` plays each module as a SCO would, from inside its
    frame: LMSInitialize, lesson_status incomplete, a score where PREREQUISITE_SCORES has one (else
    lesson_status completed), LMSCommit, session_time, LMSFinish. Module 1 scores 85 (mastery 80:
    passed), module 4 scores 85 (mastery 90: failed). Returns {item identifier: recorded calls}."""
    played = {}
    for identifier in PREREQUISITE_ITEMS[start:upto]:
        assert identifier in player.enabled_items(), f"{identifier} is not open to the learner"
        player.open_item(identifier)
        sco = player.sco()
        sco.locator("h1").wait_for()
        if as_sco:
            played[identifier] = frame_of(sco).evaluate(_SCO_12_STAND_IN, PREREQUISITE_SCORES[identifier])
        else:
            played[identifier] = []
    return played


_SCO_12_STAND_IN = """score => {
  let w = window, api = null;
  for (let i = 0; i < 8 && w; i++) { if (w.API) { api = w.API; break; } if (w.parent === w) break; w = w.parent; }
  if (!api) throw new Error('no SCORM 1.2 API (window.API) above this frame');
  const calls = [];
  const call = (fn, ...args) => { const r = api[fn](...args); calls.push([fn, ...args, String(r)]); return r; };
  call('LMSInitialize', '');
  call('LMSSetValue', 'cmi.core.lesson_status', 'incomplete');
  if (score === null) {
    call('LMSSetValue', 'cmi.core.lesson_status', 'completed');
  } else {
    call('LMSSetValue', 'cmi.core.score.raw', String(score));
    call('LMSSetValue', 'cmi.core.score.min', '0');
    call('LMSSetValue', 'cmi.core.score.max', '100');
  }
  call('LMSCommit', '');
  call('LMSSetValue', 'cmi.core.session_time', '0000:00:05.00');
  call('LMSFinish', '');
  return calls;
}"""

REMEDIATION_ITEMS = [
    ("playing_item", None), ("etuqiette_item", None), ("handicapping_item", None), ("havingfun_item", None),
    ("test_1", "Playing"), ("test_2", "Etiquette"), ("test_3", "Handicapping"), ("test_4", "HavingFun"),
]
# Content SCOs have these many pages in shared/launchpage.html?content=...
REMEDIATION_PAGES = {"playing_item": 5, "etuqiette_item": 3, "handicapping_item": 4, "havingfun_item": 2}


def play_simple_remediation(player: Player, *, plan: Plan = PASS, upto: int | None = None, start: int = 0) -> dict:
    """SequencingSimpleRemediation_SCORM20043rdEdition: eight SCOs played in flow order (the first
    ``upto``, from index ``start``). On each content SCO the learner pages to the end with Next (the SCO then sets completed
    and passed and calls Commit); on each test SCO answers the section's questions as ``plan`` says and
    submits (score, completed, passed when >= 70 else failed). Moving to the next item unloads the SCO,
    which then sets session_time and exit "" and calls Terminate (it never suspends).
    Returns {item identifier: Outcome}."""
    outcomes = {}
    for identifier, section in REMEDIATION_ITEMS[start:upto]:
        player.open_item(identifier)
        sco = player.sco()
        dialog_answers(page_of(sco))
        out = Outcome()
        out.pages.append(golf_wait_ready(sco))
        if section is None:
            while out.pages[-1] < REMEDIATION_PAGES[identifier] - 1:
                out.pages.append(golf_next(sco))
        else:
            sco.frame_locator("#contentFrame").locator("#frmTest").wait_for()
            out.answered = golf_answer(sco, QUIZ[section], plan)
            out.score = golf_submit(sco)
            out.submitted = True
        outcomes[identifier] = out
    return outcomes


# The script for each valid SCORM fixture package.
LEARNERS = {
    "RuntimeBasicCalls_SCORM12": play_runtime_basic_calls,
    "ContentPackagingOneFilePerSCO_SCORM12": play_one_file_per_sco,
    "PrerequisitesTest_SCORM12": play_prerequisites,
    "ContentPackagingSingleSCO_SCORM20042ndEdition": play_single_sco_2004_2nd,
    "RunTimeAdvancedCalls_SCORM20043rdEdition": play_runtime_advanced_calls,
    "SequencingSimpleRemediation_SCORM20043rdEdition": play_simple_remediation,
}


# -- what the xAPI Profile for SCORM expects from a full play (README.md's table, as data) --------------


@dataclass(frozen=True)
class Expected:
    """What one SCO attempt of a full play should leave in the LRS, per ADL's xAPI Profile for SCORM.

    ``verbs``: how many statements of each verb (last word of the ADL verb IRI) about the SCO itself,
    ``initialized`` first and ``terminated`` last; SCORM 1.2 passed/failed count as completed (one
    ``completed``, completion true) whether or not a commit carried "completed" before.
    ``progress``: for 2004 SCOs that set progress_measure, at least one ``progressed`` statement and the
    last one's scaled score (how many depends on when the runtime commits: these SCOs never Commit).
    ``result``: the terminated statement's result (duration left out: it is the session time).
    ``interactions``: (id, interactionType, response, success) of each ``responded`` statement, in
    order. ``objectives``: objective id -> its score (raw, min, max, scaled) as the SCO set it."""
    item: str
    verbs: dict
    result: dict
    progress: float | None = None
    interactions: tuple = ()
    objectives: dict = field(default_factory=dict)


def _score(percent: int) -> dict:
    return {"scaled": round(percent / 100, 2), "raw": percent, "min": 0, "max": 100}


def _interactions(questions, plan: Plan) -> tuple:
    out = []
    for q in questions:
        _, recorded = q.response(plan.right(q))
        out.append((q.id, q.type, str(recorded), plan.right(q)))
    return tuple(out)


def expected_full_play(package: str, plan: Plan = PASS) -> list[Expected]:
    """The attempts a full play of ``package`` with ``plan`` should produce (one per SCO played), for
    the scripts' default path (END for the golf single SCOs, every item for the others; the
    Prerequisites modules played ``as_sco``). Empty for packages that never call the API."""
    if package in ("RuntimeBasicCalls_SCORM12", "RunTimeAdvancedCalls_SCORM20043rdEdition"):
        score = plan.score(ALL_QUESTIONS)
        passed = score >= (70 if package.endswith("SCORM12") else 80)
        verbs = {"initialized": 1, "completed": 1, "passed" if passed else "failed": 1, "scored": 1, "terminated": 1}
        if package.endswith("SCORM12"):
            return [Expected("item_1", verbs, {"completion": True, "success": passed, "score": _score(score)})]
        objectives = {}
        for section in SECTIONS:
            qs = QUIZ[section]
            right = sum(plan.right(q) for q in qs)
            objectives[qs[0].objective] = {"raw": right, "min": 0, "max": len(qs), "scaled": round(right / len(qs), 2)}
        return [Expected("item_1", {**verbs, "responded": 15},
                         {"completion": True, "success": passed, "score": _score(score)},
                         1.0, _interactions(ALL_QUESTIONS, plan), objectives)]
    if package == "SequencingSimpleRemediation_SCORM20043rdEdition":
        out = []
        for identifier, section in REMEDIATION_ITEMS:
            if section is None:
                out.append(Expected(identifier, {"initialized": 1, "completed": 1, "passed": 1, "terminated": 1},
                                    {"completion": True, "success": True}))
            else:
                score = plan.score(QUIZ[section])
                verdict = "passed" if score >= 70 else "failed"
                out.append(Expected(identifier, {"initialized": 1, "scored": 1, "completed": 1, verdict: 1,
                                                 "terminated": 1},
                                    {"completion": True, "success": score >= 70, "score": _score(score)}))
        return out
    if package == "PrerequisitesTest_SCORM12":
        out = []
        for identifier, mastery in (("module1", 80), ("module2", None), ("module3", None), ("module4", 90)):
            score = PREREQUISITE_SCORES[identifier]
            if score is None:
                out.append(Expected(identifier, {"initialized": 1, "completed": 1, "terminated": 1}, {"completion": True}))
            else:  # the LMS decides from masteryscore (SCORM 1.2): the SCO left lesson_status "incomplete"
                verdict = "passed" if score >= mastery else "failed"
                out.append(Expected(identifier, {"initialized": 1, "scored": 1, "completed": 1, verdict: 1,
                                                 "terminated": 1},
                                    {"completion": True, "success": score >= mastery, "score": _score(score)}))
        return out
    return []
