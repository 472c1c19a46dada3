"""Staff sign-in and sign-out."""
from __future__ import annotations

import hmac
import secrets

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..accounts import TooManyFailures
from ..site import PRE_COOKIE, SESSION_COOKIE, PageError, Site


def routes(site: Site) -> list[Route]:
    prefix, accounts = site.prefix, site.accounts

    async def sign_in_page(request: Request, message: str = "", status: int = 200) -> Response:
        token = secrets.token_urlsafe(24)
        response = site.render(request, "sign_in.html", status, pre=token, message=message)
        site.cookie(response, PRE_COOKIE, token, 600)
        return response

    async def sign_in(request: Request) -> Response:
        if request.method == "GET":
            if await site.signed_in(request):
                return RedirectResponse(prefix + "/", 303)
            return await sign_in_page(request)
        data = await site.form(request)
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
        site.cookie(response, SESSION_COOKIE, session.id, accounts.session_seconds)
        response.delete_cookie(PRE_COOKIE, path=prefix)
        return response

    async def sign_out(request: Request) -> Response:
        account = await site.signed_in(request)
        if account is not None:
            data = await site.form(request)
            if not hmac.compare_digest(str(data.get("csrf", "")), site.csrf_for(request.scope["web.session"])):
                raise PageError(403, "The form's security token does not match your session.",
                                "Reload the page and sign out again.")
            await run_in_threadpool(accounts.sign_out, request.scope["web.session"])
        response = RedirectResponse(prefix + "/sign-in", 303)
        site.drop_cookie(response, SESSION_COOKIE)
        return response

    return [Route("/sign-in", sign_in, methods=["GET", "POST"]), Route("/sign-out", sign_out, methods=["POST"])]
