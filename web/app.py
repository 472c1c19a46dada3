"""The pages, mounted at ``/app`` on the main origin: server-rendered HTML (Jinja2, autoescaped), a
little CSS, no script needed. Who may see and do what is in web/site.py; each area's pages are a module
of web/pages/:

    GET  /                        dashboard.py: compliance by site and role, expiring, overdue
    GET  /sign-in, POST /sign-in, POST /sign-out                                     sign_in.py
    GET  /people                  people.py: search (?q=&site=&role=&after=)
    GET  /people/{id}             transcript; POST /people/{id}/actions (admin), POST /people/{id}/link (admin)
    GET  /people/{id}/transcript.csv
    GET  /certifications/{id}/roster (?status=&site=&role=&expiring_within_days=&after=), roster.csv
                                  certifications.py
    GET  /audit                   audit.py: chain head; ?verify=1 recomputes the chain
    GET  /accounts, POST /accounts, POST /accounts/{name}/disable|enable|password   staff.py (admin)
    GET  /learn/{token}, GET /me, POST /me/sign-out                                learner.py

The pages call the rules' public functions (rules.core.Rules), the same the ``/rules`` API calls.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from rules.core import Rules, RulesError

from .accounts import AccountError, Accounts
from .pages import audit, certifications, dashboard, learner, people, sign_in, staff
from .site import HERE, PageError, Site

AREAS = (dashboard, sign_in, people, certifications, audit, staff, learner)


def create_app(rules: Rules, accounts: Accounts, key: Callable[[str], bytes], *, prefix: str = "/app",
               base_url: str = "", link_seconds: int = 7 * 86400, learner_session_seconds: int = 8 * 3600,
               secure: bool = True, services: dict[str, Any] | None = None) -> Starlette:
    """The pages' app; the arguments are web/site.py's ``Site``'s."""
    site = Site(rules, accounts, key, prefix=prefix, base_url=base_url, link_seconds=link_seconds,
                learner_session_seconds=learner_session_seconds, secure=secure, services=services)

    async def page_error(request: Request, exc: PageError) -> Response:
        return site.render(request, "error.html", exc.status, message=exc.message, todo=exc.todo)

    async def rules_error(request: Request, exc: RulesError) -> Response:
        todo = "Correct the field named and send the form again." if exc.status == 400 else "Go back and try again."
        field = f" (field: {exc.path})" if exc.path else ""
        return site.render(request, "error.html", exc.status, message=exc.message + field, todo=todo)

    async def account_error(request: Request, exc: AccountError) -> Response:
        field = f" (field: {exc.path})" if exc.path else ""
        return site.render(request, "error.html", exc.status, message=exc.message + field,
                           todo="Correct it and send the form again.")

    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = {404: "There is no such page.", 405: "This page does not take that kind of request."}.get(
            exc.status_code, str(exc.detail))
        return site.render(request, "error.html", exc.status_code, message=message, todo="Go back to the dashboard.")

    async def internal_error(request: Request, exc: Exception) -> Response:
        return site.render(request, "error.html", 500, message="Something went wrong on our side; nothing was "
                           "changed by the failed step.", todo="Try again in a minute. If it keeps happening, give an "
                           f"admin the time ({time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC) and the "
                           "page's address.")

    routes = [route for area in AREAS for route in area.routes(site)]
    routes.append(Mount("/static", app=StaticFiles(directory=HERE / "static")))
    return Starlette(routes=routes, exception_handlers={
        PageError: page_error, RulesError: rules_error, AccountError: account_error, HTTPException: http_error,
        Exception: internal_error})
