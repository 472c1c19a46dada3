"""The pages, mounted at ``/app`` on the main origin: server-rendered HTML (Jinja2, autoescaped), a
little CSS, no script needed.

Staff sign in with an account (web/accounts.py); the session is the ``lrs_web`` cookie (a random id
kept in the account store; Secure, HttpOnly, SameSite=Strict, Path=/app), which no API accepts: the
APIs keep their own Basic/bearer credentials. Every form carries a CSRF token (an HMAC of the session
id under the store's ``web-csrf`` key; the sign-in form a double-submit token). Roles, checked on the
server for every page and action:

    admin       everything
    supervisor  the pages, over the people whose ``supervisor`` attribute names their person
    auditor     every page, read only: every POST but sign-out is refused

Learners need no password: an admin makes a sign-in link (an HS256 JWT under the store's
``web-learner`` key, as the player's launch links are made), which opens their page and leaves a
learner session cookie (``lrs_learner``).

    GET  /                        dashboard (compliance by site and role, expiring, overdue)
    GET  /sign-in, POST /sign-in, POST /sign-out
    GET  /people                  search (?q=&site=&role=&after=)
    GET  /people/{id}             transcript; POST /people/{id}/actions (admin), POST /people/{id}/link (admin)
    GET  /people/{id}/transcript.csv
    GET  /certifications/{id}/roster (?status=&site=&role=&expiring_within_days=&after=), roster.csv
    GET  /audit                   chain head; ?verify=1 recomputes the chain
    GET  /accounts, POST /accounts, POST /accounts/{name}/disable|enable|password   (admin)
    GET  /learn/{token}, GET /me, POST /me/sign-out                                (learner)

The pages call the rules' public functions (rules.core.Rules), the same the ``/rules`` API calls.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import jwt
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from rules import tables
from rules.compliance import across, summarise
from rules.core import ACTION_KINDS, ROSTER_LIMIT, Rules, RulesError
from rules.derive import STATUSES

from .accounts import ROLES, AccountError, Accounts, TooManyFailures

HERE = Path(__file__).parent
SESSION_COOKIE, PRE_COOKIE, LEARNER_COOKIE = "lrs_web", "lrs_web_pre", "lrs_learner"
LINK_AUDIENCE, LEARNER_AUDIENCE = "lrs-web-learner-link", "lrs-web-learner"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
MAX_FORM = 64 * 1024
PAGE = 50
HORIZONS = (30, 60, 90)
TODO = ("assigned", "in_progress", "overdue", "expired", "in_renewal_window", "revoked")
HELD = ("certified", "in_renewal_window")


class PageError(Exception):
    """What went wrong (``message``) and what to do about it (``todo``), with its HTTP status."""

    def __init__(self, status: int, message: str, todo: str = ""):
        super().__init__(message)
        self.status, self.message, self.todo = status, message, todo


def _share(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def create_app(rules: Rules, accounts: Accounts, key: Callable[[str], bytes], *, prefix: str = "/app",
               base_url: str = "", link_seconds: int = 7 * 86400, learner_session_seconds: int = 8 * 3600,
               secure: bool = True) -> Starlette:
    """``key(name)``: the LRS store's named secrets (lrs.storage ports ``secret``); ``prefix``: where the
    app is mounted; ``base_url``: the main origin as browsers reach it, for learner links (default: the
    request's own); ``secure``: the Secure attribute on the cookies (browsers keep Secure cookies over
    HTTPS and on localhost only)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["share"] = _share
    env.globals.update(p=prefix, statuses=STATUSES, roles=ROLES, action_kinds=ACTION_KINDS)
    keys: dict[str, bytes] = {}

    def secret(name: str) -> bytes:
        if name not in keys:
            keys[name] = key(name)
        return keys[name]

    def csrf_for(session_id: str) -> str:
        return hmac.new(secret("web-csrf"), session_id.encode(), hashlib.sha256).hexdigest()

    def render(request: Request, name: str, status: int = 200, **ctx) -> HTMLResponse:
        me = request.scope.get("web.account")
        sid = request.scope.get("web.session")
        html = env.get_template(name).render(me=me, csrf=csrf_for(sid) if sid else "",
                                             learner=request.scope.get("web.learner"), **ctx)
        return HTMLResponse(html, status, headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP,
                                                   "Referrer-Policy": "same-origin"})

    def cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=prefix, secure=secure, httponly=True, samesite="strict")

    # -- who is asking -------------------------------------------------------------------

    async def signed_in(request: Request):
        sid = request.cookies.get(SESSION_COOKIE)
        account = await run_in_threadpool(accounts.signed_in, sid) if sid else None
        if account is not None:
            request.scope["web.account"], request.scope["web.session"] = account, sid
        return account

    async def need(request: Request, *roles: str):
        account = await signed_in(request)
        if account is None:
            raise PageError(401, "You are not signed in, or your session has ended.",
                            "Sign in, then open this page again.")
        if roles and account.role not in roles:
            raise PageError(403, f"Your role ({account.role}) may not open this page or do this.",
                            "Ask an admin if you need it.")
        return account

    async def form(request: Request) -> dict:
        size = request.headers.get("content-length", "")
        if not size.isdigit() or int(size) > MAX_FORM:
            raise PageError(413 if size.isdigit() else 411, "The form sent was too large or had no length.",
                            "Go back and send the form again.")
        return dict(await request.form())

    async def act(request: Request, *roles: str) -> tuple:
        """A POST from a staff page: a session, its CSRF token, a role that may write."""
        account = await need(request)
        data = await form(request)
        if not hmac.compare_digest(str(data.get("csrf", "")), csrf_for(request.scope["web.session"])):
            raise PageError(403, "The form's security token is missing or does not match your session.",
                            "Reload the page and send the form again.")
        if account.role == "auditor":
            raise PageError(403, "Auditors read only: this change was refused.", "Ask an admin to make it.")
        if roles and account.role not in roles:
            raise PageError(403, f"Your role ({account.role}) may not do this.", "Ask an admin to do it.")
        return account, data

    def team_of(account) -> set[str] | None:
        """The people a supervisor sees (None: everyone)."""
        if account.role != "supervisor":
            return None
        team, after = set(), None
        while True:
            page = rules.people(after, 1000)
            team.update(p["person_id"] for p in page if p["attributes"].get("supervisor") == account.person_id)
            if len(page) < 1000:
                return team
            after = page[-1]["person_id"]

    def may_see(account, person_id: str) -> None:
        team = team_of(account)
        if team is not None and person_id not in team:
            raise PageError(403, "This person is not one you supervise.", "Open the people list to see your team.")

    def certifications() -> dict[str, dict]:
        """Published certifications by id: their definition body."""
        return {d["id"]: d["definition"] for d in rules.definitions()["definitions"]
                if d["kind"] == "certification" and d["published"]}

    # -- sign-in -------------------------------------------------------------------------

    async def sign_in_page(request: Request, message: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = render(request, "sign_in.html", status, pre=token, message=message)
        cookie(response, PRE_COOKIE, token, 600)
        return response

    async def sign_in(request: Request) -> Response:
        if request.method == "GET":
            if await signed_in(request):
                return RedirectResponse(prefix + "/", 303)
            return await sign_in_page(request)
        data = await form(request)
        pre = request.cookies.get(PRE_COOKIE, "")
        if not pre or not hmac.compare_digest(str(data.get("csrf", "")), pre):
            raise PageError(403, "The sign-in form's security token is missing or does not match.",
                            "Open the sign-in page again and send the form from there.")
        address = (request.client.host if request.client else "") or ""
        try:
            done = await run_in_threadpool(accounts.sign_in, str(data.get("username", "")),
                                           str(data.get("password", "")), address)
        except TooManyFailures as exc:
            raise PageError(429, "Too many failed sign-ins for this name or from this address.",
                            f"Wait {exc.retry_after} seconds, then try again; an admin can reset a "
                            "forgotten password.") from None
        if done is None:
            return await sign_in_page(request, "The user name or password is wrong, or the account is disabled.", 401)
        _, session = done
        response = RedirectResponse(prefix + "/", 303)
        cookie(response, SESSION_COOKIE, session.id, accounts.session_seconds)
        response.delete_cookie(PRE_COOKIE, path=prefix)
        return response

    async def sign_out(request: Request) -> Response:
        account = await signed_in(request)
        if account is not None:
            data = await form(request)
            if not hmac.compare_digest(str(data.get("csrf", "")), csrf_for(request.scope["web.session"])):
                raise PageError(403, "The form's security token does not match your session.",
                                "Reload the page and sign out again.")
            await run_in_threadpool(accounts.sign_out, request.scope["web.session"])
        response = RedirectResponse(prefix + "/sign-in", 303)
        response.delete_cookie(SESSION_COOKIE, path=prefix, secure=secure, httponly=True, samesite="strict")
        return response

    # -- dashboard -----------------------------------------------------------------------

    def count_roster(cid: str, team: set[str] | None, **filters) -> int:
        n, after = 0, None
        while True:
            page = rules.roster(cid, after=after, limit=ROSTER_LIMIT, **filters)
            n += sum(1 for r in page["people"] if team is None or r["person_id"] in team)
            if not page["next"]:
                return n
            after = page["next"]

    def dashboard_data(account) -> dict:
        certs = certifications()
        team = team_of(account)
        if team is None:
            report = rules.compliance_report()
        else:   # the same sums, over the supervisor's people only
            answers = []
            for cid in sorted(certs):
                groups, after = [], None
                while True:
                    page = rules.roster(cid, after=after, limit=ROSTER_LIMIT)
                    groups += [(r["status"], r["site"], tuple(r["roles"]), 1)
                               for r in page["people"] if r["person_id"] in team]
                    if not page["next"]:
                        break
                    after = page["next"]
                answers.append({"certification": cid, **summarise(groups)})
            report = {"as_of": rules.today().isoformat(), "total": across(answers), "certifications": answers}
        expiring = {cid: {n: count_roster(cid, team, expiring_within_days=n) for n in HORIZONS} for cid in sorted(certs)}
        return {"report": report, "certs": certs, "expiring": expiring, "horizons": HORIZONS,
                "team": None if team is None else len(team)}

    async def dashboard(request: Request) -> Response:
        account = await signed_in(request)
        if account is None:
            return RedirectResponse(prefix + "/sign-in", 303)
        return render(request, "dashboard.html", **await run_in_threadpool(dashboard_data, account))

    # -- people --------------------------------------------------------------------------

    def search(account, q: str, site: str, role: str, after: str | None) -> tuple[list[dict], str | None]:
        team, q = team_of(account), q.strip().lower()
        found, cursor = [], after
        while len(found) <= PAGE:
            page = rules.people(cursor, 1000)
            for p in page:
                a = p["attributes"]
                if team is not None and p["person_id"] not in team:
                    continue
                if site and a.get("site") != site or role and role not in (a.get("roles") or []):
                    continue
                text = " ".join([p["person_id"], *(str(v) for g in p["agents"] for v in g.values())]).lower()
                if q and q not in text:
                    continue
                found.append(p)
            if len(page) < 1000:
                break
            cursor = page[-1]["person_id"]
        more = len(found) > PAGE
        found = found[:PAGE]
        return found, found[-1]["person_id"] if more else None

    async def people(request: Request) -> Response:
        account = await need(request)
        q = request.query_params
        found, nxt = await run_in_threadpool(search, account, q.get("q", ""), q.get("site", ""), q.get("role", ""),
                                             q.get("after") or None)
        next_url = "?" + urlencode({**q, "after": nxt}) if nxt else None
        return render(request, "people.html", people=found, q=q.get("q", ""), site=q.get("site", ""),
                      role=q.get("role", ""), next_url=next_url)

    def person_data(account, pid: str) -> dict:
        may_see(account, pid)
        return {"person": rules.person(pid), "t": rules.transcript(pid), "certs": certifications()}

    async def person(request: Request, notice: str = "", link: str = "", status: int = 200) -> Response:
        account = await need(request)
        data = await run_in_threadpool(person_data, account, request.path_params["pid"])
        return render(request, "person.html", status, notice=notice, link=link, **data)

    async def transcript_csv(request: Request) -> Response:
        account = await need(request)
        t = (await run_in_threadpool(person_data, account, request.path_params["pid"]))["t"]
        return _csv(tables.transcript_rows(t), tables.TRANSCRIPT, f"transcript-{t['person_id']}.csv", t["chain_head"])

    async def add_action(request: Request) -> Response:
        account, data = await act(request, "admin")
        pid = request.path_params["pid"]
        body = {k: v.strip() for k, v in data.items() if k in ("kind", "reason", "date", "until", "expires", "issuer",
                                                                "reference") and v.strip()}
        body["certification"] = data.get("certification", "")
        await run_in_threadpool(rules.add_action, pid, body, f"web:{account.username}")
        return await person(request, notice=f"Recorded: {body['kind'].replace('_', ' ')}. "
                                            "Statuses are recomputed within seconds.")

    async def learner_link(request: Request) -> Response:
        await act(request, "admin")
        pid = request.path_params["pid"]
        await run_in_threadpool(rules.person, pid)     # 404 for an unknown person
        now = int(time.time())
        token = jwt.encode({"sub": pid, "aud": LINK_AUDIENCE, "iat": now, "exp": now + link_seconds},
                           secret("web-learner"), algorithm="HS256")
        url = (base_url or str(request.base_url)).rstrip("/") + prefix + "/learn/" + token
        return await person(request, notice="A sign-in link for this person (valid "
                                            f"{link_seconds // 86400 or 1} day(s)); send it to them only.", link=url)

    # -- certifications ------------------------------------------------------------------

    def roster_data(account, cid: str, q) -> dict:
        status = [s for s in q.getlist("status") if s] or None
        for s in status or ():
            if s not in STATUSES:
                raise PageError(400, f"There is no status {s!r}.", "Pick a status from the list.")
        days = q.get("expiring_within_days") or None
        if days is not None:
            if not days.isdigit() or int(days) > 36500:
                raise PageError(400, "“Expiring within” is a number of days.", "Enter a whole number of days.")
            days = int(days)
        team = team_of(account)
        rows, after = [], q.get("after") or None
        while True:
            page = rules.roster(cid, status, q.get("site") or None, q.get("role") or None, days, None, after, PAGE)
            rows += [r for r in page["people"] if team is None or r["person_id"] in team]
            after = page["next"]
            if not after or len(rows) >= PAGE:
                break
        return {"cid": cid, "cert": certifications().get(cid, {}), "rows": rows, "next": after, "wanted": status or [],
                "site": q.get("site", ""), "role": q.get("role", ""), "days": "" if days is None else days,
                "as_of": page["as_of"], "chain_head": page["chain_head"]}

    async def roster(request: Request) -> Response:
        account = await need(request)
        data = await run_in_threadpool(roster_data, account, request.path_params["cid"], request.query_params)
        base = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        next_url = "?" + urlencode(base + [("after", data["next"])]) if data["next"] else None
        csv_url = f"{prefix}/certifications/{request.path_params['cid']}/roster.csv" + ("?" + urlencode(base) if base else "")
        return render(request, "roster.html", next_url=next_url, csv_url=csv_url, **data)

    async def roster_csv(request: Request) -> Response:
        account = await need(request)
        cid = request.path_params["cid"]
        q = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        from starlette.datastructures import QueryParams

        rows, after, head = [], None, ""
        while True:
            data = await run_in_threadpool(roster_data, account, cid, QueryParams(q + ([("after", after)] if after else [])))
            rows += data["rows"]
            head = data["chain_head"]
            if not data["next"]:
                break
            after = data["next"]
        return _csv(tables.roster_rows({"people": rows}), tables.ROSTER, f"roster-{cid}.csv", head)

    # -- audit ---------------------------------------------------------------------------

    async def audit(request: Request) -> Response:
        await need(request)
        chain = await run_in_threadpool(rules.chain_head)
        result = await run_in_threadpool(rules.verify_chain) if request.query_params.get("verify") else None
        return render(request, "audit.html", events=chain["events"], head=chain["head"], result=result)

    # -- accounts ------------------------------------------------------------------------

    async def accounts_page(request: Request, notice: str = "", status: int = 200) -> Response:
        await need(request, "admin")
        return render(request, "accounts.html", status, accounts=await run_in_threadpool(accounts.list), notice=notice)

    async def create_account(request: Request) -> Response:
        _, data = await act(request, "admin")
        a = await run_in_threadpool(accounts.create, data.get("username", ""), data.get("role", ""),
                                    data.get("password", ""), data.get("person_id", "").strip() or None)
        return await accounts_page(request, f"Account {a.username} ({a.role}) created.")

    async def change_account(request: Request) -> Response:
        account, data = await act(request, "admin")
        name, what = request.path_params["name"], request.path_params["what"]
        if what == "disable" and name == account.username:
            raise PageError(400, "You cannot disable your own account.", "Ask another admin to do it.")
        if what in ("disable", "enable"):
            await run_in_threadpool(accounts.disable, name, what == "disable")
        elif what == "password":
            await run_in_threadpool(accounts.set_password, name, data.get("password", ""))
        else:
            raise PageError(404, "There is no such account action.", "Use the buttons on the accounts page.")
        return await accounts_page(request, f"Account {name}: {what} done.")

    # -- learners ------------------------------------------------------------------------

    def learner_page(request: Request, pid: str) -> Response:
        t = rules.transcript(pid)
        certs = certifications()
        todo = [c for c in t["certifications"] if c["status"] in TODO]
        held = [c for c in t["certifications"] if c["status"] in HELD]
        request.scope["web.learner"] = pid
        return render(request, "me.html", t=t, todo=todo, held=held, certs=certs,
                      csrf_learner=hmac.new(secret("web-csrf"), b"learner:" + request.cookies.get(LEARNER_COOKIE, "")
                                            .encode(), hashlib.sha256).hexdigest())

    def learner_of(token: str | None, audience: str) -> str | None:
        if not token:
            return None
        try:
            return jwt.decode(token, secret("web-learner"), algorithms=["HS256"], audience=audience,
                              options={"require": ["sub", "exp", "aud"]})["sub"]
        except jwt.InvalidTokenError:
            return None

    async def learn(request: Request) -> Response:
        pid = learner_of(request.path_params["token"], LINK_AUDIENCE)
        if pid is None:
            raise PageError(403, "This sign-in link is not valid or has expired.",
                            "Ask your supervisor or training admin for a new link.")
        now = int(time.time())
        session = jwt.encode({"sub": pid, "aud": LEARNER_AUDIENCE, "iat": now, "exp": now + learner_session_seconds},
                             secret("web-learner"), algorithm="HS256")
        request.cookies[LEARNER_COOKIE] = session
        # rendered here, not redirected: a SameSite=Strict cookie set by a link opened from a mail or chat
        # is not sent on a redirect that follows it, and the page would look signed out.
        response = await run_in_threadpool(learner_page, request, pid)
        cookie(response, LEARNER_COOKIE, session, learner_session_seconds)
        return response

    async def me(request: Request) -> Response:
        pid = learner_of(request.cookies.get(LEARNER_COOKIE), LEARNER_AUDIENCE)
        if pid is None:
            raise PageError(401, "You are not signed in, or your session has ended.",
                            "Open the sign-in link you were sent again, or ask for a new one.")
        return await run_in_threadpool(learner_page, request, pid)

    async def me_sign_out(request: Request) -> Response:
        data = await form(request)
        expected = hmac.new(secret("web-csrf"), b"learner:" + request.cookies.get(LEARNER_COOKIE, "").encode(),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(str(data.get("csrf", "")), expected):
            raise PageError(403, "The form's security token does not match your session.", "Reload the page and try again.")
        response = HTMLResponse("<!doctype html><html lang=en><title>Signed out</title><p>You are signed out.</p></html>",
                                headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})
        response.delete_cookie(LEARNER_COOKIE, path=prefix, secure=secure, httponly=True, samesite="strict")
        return response

    # -- errors --------------------------------------------------------------------------

    async def page_error(request: Request, exc: PageError) -> Response:
        return render(request, "error.html", exc.status, message=exc.message, todo=exc.todo)

    async def rules_error(request: Request, exc: RulesError) -> Response:
        todo = "Correct the field named and send the form again." if exc.status == 400 else "Go back and try again."
        field = f" (field: {exc.path})" if exc.path else ""
        return render(request, "error.html", exc.status, message=exc.message + field, todo=todo)

    async def account_error(request: Request, exc: AccountError) -> Response:
        field = f" (field: {exc.path})" if exc.path else ""
        return render(request, "error.html", exc.status, message=exc.message + field,
                      todo="Correct it and send the form again.")

    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = {404: "There is no such page.", 405: "This page does not take that kind of request."}.get(
            exc.status_code, str(exc.detail))
        return render(request, "error.html", exc.status_code, message=message, todo="Go back to the dashboard.")

    async def internal_error(request: Request, exc: Exception) -> Response:
        return render(request, "error.html", 500, message="Something went wrong on our side; nothing was changed "
                      "by the failed step.", todo="Try again in a minute. If it keeps happening, give an admin the "
                      f"time ({time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC) and the page's address.")

    routes = [
        Route("/", dashboard), Route("/sign-in", sign_in, methods=["GET", "POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/people", people), Route("/people/{pid}", person),
        Route("/people/{pid}/transcript.csv", transcript_csv),
        Route("/people/{pid}/actions", add_action, methods=["POST"]),
        Route("/people/{pid}/link", learner_link, methods=["POST"]),
        Route("/certifications/{cid}/roster", roster), Route("/certifications/{cid}/roster.csv", roster_csv),
        Route("/audit", audit),
        Route("/accounts", accounts_page), Route("/accounts", create_account, methods=["POST"]),
        Route("/accounts/{name}/{what}", change_account, methods=["POST"]),
        Route("/learn/{token}", learn), Route("/me", me), Route("/me/sign-out", me_sign_out, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=HERE / "static")),
    ]
    return Starlette(routes=routes, exception_handlers={
        PageError: page_error, RulesError: rules_error, AccountError: account_error, HTTPException: http_error,
        Exception: internal_error})


def _csv(rows: list[dict], columns: list[str], filename: str, head: str) -> Response:
    buf = io.StringIO()
    tables.write(buf, columns, rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Chain-Head": head,
                             "Content-Disposition": f'attachment; filename="{filename}"'})
