"""What every page module shares: the templates, who is asking (staff session, role, team), the
CSRF check, forms, cookies and CSV answers. web/app.py makes one ``Site`` and hands it to each module
of web/pages/, which returns its routes.

Staff sign in with an account (web/accounts.py); the session is the ``lrs_web`` cookie (a random id
kept in the account store; Secure, HttpOnly, SameSite=Strict, Path=/app), which no API accepts: the
APIs keep their own Basic/bearer credentials. Every form carries a CSRF token (an HMAC of the session
id under the store's ``web-csrf`` key; the sign-in form a double-submit token). Roles, checked on the
server for every page and action:

    admin       everything
    supervisor  the pages, over the people whose ``supervisor`` attribute names their person
    auditor     every page, read only: every POST but sign-out is refused
"""
from __future__ import annotations

import hashlib
import hmac
import io
import threading
import time
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from rules import tables
from rules.core import ACTION_KINDS, Rules
from rules.derive import STATUSES

from .accounts import ROLES, Accounts
from .jobs import Jobs

HERE = Path(__file__).parent
SESSION_COOKIE, PRE_COOKIE, LEARNER_COOKIE = "lrs_web", "lrs_web_pre", "lrs_learner"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
MAX_FORM = 64 * 1024
PAGE = 50


class PageError(Exception):
    """What went wrong (``message``) and what to do about it (``todo``), with its HTTP status."""

    def __init__(self, status: int, message: str, todo: str = ""):
        super().__init__(message)
        self.status, self.message, self.todo = status, message, todo


def _share(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


class Site:
    """``key(name)``: the LRS store's named secrets (lrs.storage ports ``secret``); ``prefix``: where the
    app is mounted; ``base_url``: the main origin as browsers reach it, for learner links (default: the
    request's own); ``secure``: the Secure attribute on the cookies (browsers keep Secure cookies over
    HTTPS and on localhost only). ``services``: what other parts the pages use, by name (for example
    the content store), as the composition root hands them over; a page module reads the ones it needs."""

    def __init__(self, rules: Rules, accounts: Accounts, key: Callable[[str], bytes], *, prefix: str = "/app",
                 base_url: str = "", link_seconds: int = 7 * 86400, learner_session_seconds: int = 8 * 3600,
                 secure: bool = True, services: dict[str, Any] | None = None):
        self.rules, self.accounts, self.prefix, self.base_url = rules, accounts, prefix, base_url
        self.link_seconds, self.learner_session_seconds, self.secure = link_seconds, learner_session_seconds, secure
        self.services = dict(services or {})
        self.jobs = Jobs()    # work done in the background while a page shows its progress (web/jobs.py)
        self._key, self._keys = key, {}
        self._directory: tuple[int, list[tuple[str, str, dict]]] | None = None
        self._directory_lock = threading.Lock()
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["share"] = _share
        self.env.globals.update(p=prefix, statuses=STATUSES, roles=ROLES, action_kinds=ACTION_KINDS)

    def secret(self, name: str) -> bytes:
        if name not in self._keys:
            self._keys[name] = self._key(name)
        return self._keys[name]

    def csrf_for(self, session_id: str) -> str:
        return hmac.new(self.secret("web-csrf"), session_id.encode(), hashlib.sha256).hexdigest()

    def render(self, request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        sid = request.scope.get("web.session")
        html = self.env.get_template(name).render(me=request.scope.get("web.account"),
                                                  csrf=self.csrf_for(sid) if sid else "",
                                                  learner=request.scope.get("web.learner"), **ctx)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP,
                                                   "Referrer-Policy": "same-origin"})

    def cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=self.prefix, secure=self.secure, httponly=True,
                            samesite="strict")

    def drop_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path=self.prefix, secure=self.secure, httponly=True, samesite="strict")

    # -- who is asking -------------------------------------------------------------------

    async def signed_in(self, request: Request):
        sid = request.cookies.get(SESSION_COOKIE)
        account = await run_in_threadpool(self.accounts.signed_in, sid) if sid else None
        if account is not None:
            request.scope["web.account"], request.scope["web.session"] = account, sid
        return account

    async def need(self, request: Request, *roles: str):
        """The staff account asking, which must hold one of ``roles`` (any role when none is named)."""
        account = await self.signed_in(request)
        if account is None:
            raise PageError(401, "You are not signed in, or your session has ended.",
                            "Sign in, then open this page again.")
        if roles and account.role not in roles:
            raise PageError(403, f"Your role ({account.role}) may not open this page or do this.",
                            "Ask an admin if you need it.")
        return account

    async def form(self, request: Request) -> dict:
        size = request.headers.get("content-length", "")
        if not size.isdigit() or int(size) > MAX_FORM:
            raise PageError(413 if size.isdigit() else 411, "The form sent was too large or had no length.",
                            "Go back and send the form again.")
        return dict(await request.form())

    def check_csrf(self, request: Request, data: dict) -> None:
        if not hmac.compare_digest(str(data.get("csrf", "")), self.csrf_for(request.scope["web.session"])):
            raise PageError(403, "The form's security token is missing or does not match your session.",
                            "Reload the page and send the form again.")

    async def act(self, request: Request, *roles: str) -> tuple:
        """A POST from a staff page: a session, its CSRF token, a role that may write. Returns
        (account, form fields)."""
        account = await self.need(request)
        data = await self.form(request)
        self.check_csrf(request, data)
        self.may_write(account, *roles)
        return account, data

    def may_write(self, account, *roles: str) -> None:
        if account.role == "auditor":
            raise PageError(403, "Auditors read only: this change was refused.", "Ask an admin to make it.")
        if roles and account.role not in roles:
            raise PageError(403, f"Your role ({account.role}) may not do this.", "Ask an admin to do it.")

    def team_of(self, account) -> set[str] | None:
        """The people a supervisor sees (None: everyone)."""
        if account.role != "supervisor":
            return None
        return set(self.rules.team(account.person_id))

    def directory(self) -> list[tuple[str, str, dict]]:
        """Every person (``Rules.people``'s form) with the text the people search looks in (their id and
        their identities' values, lower case), in person id order: read once and kept while the directory
        is unchanged (``Rules.directory_version``), so a search reads no person."""
        version = self.rules.directory_version()
        kept = self._directory
        if kept is not None and kept[0] == version:
            return kept[1]
        with self._directory_lock:
            if self._directory is not None and self._directory[0] == version:
                return self._directory[1]
            people, after = [], None
            while True:
                page = self.rules.people(after, 1000)
                people += [(p["person_id"], " ".join([p["person_id"], *(str(v) for g in p["agents"]
                                                                          for v in g.values())]).lower(), p)
                           for p in page]
                if len(page) < 1000:
                    break
                after = page[-1]["person_id"]
            self._directory = (version, people)
            return people

    def may_see(self, account, person_id: str) -> None:
        team = self.team_of(account)
        if team is not None and person_id not in team:
            raise PageError(403, "This person is not one you supervise.", "Open the people list to see your team.")

    def certifications(self) -> dict[str, dict]:
        """Published certifications by id: their definition body."""
        return self.rules.certifications()


class ServerTiming:
    """ASGI middleware: every answer carries ``Server-Timing: app;dur=<ms>``, the time from the request
    reaching the pages' app to the answer's headers being sent (what bench/web_pages.py reports)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()

        async def timed_send(message):
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - start) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={took:.1f}".encode())]}
            await send(message)

        await self.app(scope, receive, timed_send)


def csv_response(rows: list[dict], columns: list[str], filename: str, head: str) -> Response:
    """A CSV download (rules/tables.py's form), with the audit chain head it was read at."""
    buf = io.StringIO()
    tables.write(buf, columns, rows)
    return csv_download(buf.getvalue(), filename, head)


def csv_download(text: str, filename: str, head: str) -> Response:
    """CSV text already written, as a download with the audit chain head it was read at."""
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Chain-Head": head,
                             "Content-Disposition": f'attachment; filename="{filename}"'})
