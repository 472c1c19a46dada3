"""Fixtures of the browser tests: Debian's Chromium through Playwright's sync API, a page per test,
phone-sized contexts, a folder for artefacts (screenshots), and a real ``lrs serve`` to play courses on.

The browser is /usr/bin/chromium (Debian's package), never one that Playwright downloads. Without
Playwright or Chromium the browser tests skip, saying why; under CI (``CI=true``) they fail instead,
so a CI run can never pass without having run them."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from browser_kit import ARTEFACTS_ROOT, CHROMIUM, CHROMIUM_ARGS, PHONE, LrsServer

try:  # imported here only to say why the browser tests cannot run
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None
    PlaywrightError = Exception


HERE = Path(__file__).resolve().parent


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives Chromium (every test in tests/browser)")
    config.addinivalue_line("markers", "scorm_harness: a learner script against the stand-in LMS; it documents what a "
                                       "fixture package calls and when (tests/browser/README.md): keep it")


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def unavailable(reason: str) -> None:
    """Skip, or under CI fail: a CI run must not pass without its browser tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


# Module scope, not session: Playwright's sync API runs an event loop in the main thread while it is
# open, and the tests after the browser tests (asyncio.run, anyio) fail inside a running loop.
@pytest.fixture(scope="module")
def playwright():
    if sync_playwright is None:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    if not os.access(CHROMIUM, os.X_OK):
        unavailable(f"{CHROMIUM} is missing (apt-get install -y chromium); Playwright's own browsers are never used")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright):
    """One headless Chromium per test module."""
    try:
        b = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except PlaywrightError as exc:
        unavailable(f"{CHROMIUM} did not start: {str(exc).splitlines()[0]}")
    yield b
    b.close()


_used_artefacts: list[Path] = []


@pytest.fixture(scope="session")
def artefacts_root() -> Path:
    ARTEFACTS_ROOT.mkdir(parents=True, exist_ok=True)
    _used_artefacts.append(ARTEFACTS_ROOT)
    return ARTEFACTS_ROOT


@pytest.fixture
def artefacts(artefacts_root, request) -> Path:
    """This test's folder for artefacts: var/test-artifacts/browser/<test name>/ (kept after the run)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:120]
    d = artefacts_root / name
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


def _failed(request) -> bool:
    return any(getattr(getattr(request.node, f"rep_{w}", None), "failed", False) for w in ("setup", "call"))


@pytest.fixture
def context(browser, request, artefacts):
    """A fresh browser context (its own cookies and storage) for this test."""
    ctx = browser.new_context()
    yield ctx
    _screenshot_on_failure(ctx, request, artefacts)
    _close(ctx)


@pytest.fixture
def page(context):
    """A page in a fresh context; a screenshot of it is kept if the test fails."""
    return context.new_page()


@pytest.fixture
def phone_context(browser, request, artefacts):
    """Make contexts like a phone: 360x740 CSS pixels, touch, mobile, device scale factor 2."""
    made = []

    def make(**overrides):
        ctx = browser.new_context(**{**PHONE, **overrides})
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        _screenshot_on_failure(ctx, request, artefacts)
        _close(ctx)


def _close(ctx) -> None:
    """Close a context once its pages' navigations have settled: closing it while a page is between two
    documents (a test that ends on a click that navigates) can leave Chromium without an answer until
    the test's timeout."""
    for pg in ctx.pages:
        try:
            pg.wait_for_load_state("load", timeout=5_000)
        except PlaywrightError:
            pass
    ctx.close()


def _screenshot_on_failure(ctx, request, artefacts: Path) -> None:
    if not _failed(request):
        return
    for i, pg in enumerate(ctx.pages):
        try:
            pg.screenshot(path=str(artefacts / f"failure-{i}.png"), full_page=True)
        except PlaywrightError:
            pass


@pytest.fixture
def lrs_server(tmp_path):
    """Start real ``lrs serve`` processes on free ports, each with its own temporary LRS_DATA_DIR
    and an admin credential; all are stopped at the end of the test."""
    started: list[LrsServer] = []

    def start(**env) -> LrsServer:
        srv = LrsServer(tmp_path / f"lrs{len(started)}", env=env)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()


def pytest_terminal_summary(terminalreporter):
    if _used_artefacts:
        terminalreporter.write_line(f"browser test artefacts (screenshots): {ARTEFACTS_ROOT}")


@pytest.fixture(scope="module")
def module_server(tmp_path_factory):
    """One real ``lrs serve`` for the tests of a module that can share it (each uses its own learner or
    course); stopped when the module ends."""
    srv = LrsServer(tmp_path_factory.mktemp("lrs"))
    srv.start()
    yield srv
    srv.stop()
