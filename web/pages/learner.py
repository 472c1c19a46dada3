"""Learner pages: a learner opens a sign-in link (an HS256 JWT under the store's ``web-learner`` key,
made by an admin on the person's page), which opens their page and leaves a learner session cookie
(``lrs_learner``); no password is needed on a shared phone."""
from __future__ import annotations

import hashlib
import hmac
import time

import jwt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ..site import CSP, LEARNER_COOKIE, PageError, Site

LINK_AUDIENCE, LEARNER_AUDIENCE = "lrs-web-learner-link", "lrs-web-learner"
TODO = ("assigned", "in_progress", "overdue", "expired", "in_renewal_window", "revoked")
HELD = ("certified", "in_renewal_window")


def routes(site: Site) -> list[Route]:
    rules = site.rules

    def learner_csrf(request: Request) -> str:
        return hmac.new(site.secret("web-csrf"), b"learner:" + request.cookies.get(LEARNER_COOKIE, "").encode(),
                        hashlib.sha256).hexdigest()

    def learner_page(request: Request, pid: str) -> Response:
        t = rules.transcript(pid)
        todo = [c for c in t["certifications"] if c["status"] in TODO]
        held = [c for c in t["certifications"] if c["status"] in HELD]
        request.scope["web.learner"] = pid
        return site.render(request, "me.html", t=t, todo=todo, held=held, certs=site.certifications(),
                           csrf_learner=learner_csrf(request))

    def learner_of(token: str | None, audience: str) -> str | None:
        if not token:
            return None
        try:
            return jwt.decode(token, site.secret("web-learner"), algorithms=["HS256"], audience=audience,
                              options={"require": ["sub", "exp", "aud"]})["sub"]
        except jwt.InvalidTokenError:
            return None

    async def learn(request: Request) -> Response:
        pid = learner_of(request.path_params["token"], LINK_AUDIENCE)
        if pid is None:
            raise PageError(403, "This sign-in link is not valid or has expired.",
                            "Ask your supervisor or training admin for a new link.")
        now = int(time.time())
        session = jwt.encode({"sub": pid, "aud": LEARNER_AUDIENCE, "iat": now,
                              "exp": now + site.learner_session_seconds},
                             site.secret("web-learner"), algorithm="HS256")
        request.cookies[LEARNER_COOKIE] = session
        # rendered here, not redirected: a SameSite=Strict cookie set by a link opened from a mail or chat
        # is not sent on a redirect that follows it, and the page would look signed out.
        response = await run_in_threadpool(learner_page, request, pid)
        site.cookie(response, LEARNER_COOKIE, session, site.learner_session_seconds)
        return response

    async def me(request: Request) -> Response:
        pid = learner_of(request.cookies.get(LEARNER_COOKIE), LEARNER_AUDIENCE)
        if pid is None:
            raise PageError(401, "You are not signed in, or your session has ended.",
                            "Open the sign-in link you were sent again, or ask for a new one.")
        return await run_in_threadpool(learner_page, request, pid)

    async def me_sign_out(request: Request) -> Response:
        data = await site.form(request)
        if not hmac.compare_digest(str(data.get("csrf", "")), learner_csrf(request)):
            raise PageError(403, "The form's security token does not match your session.", "Reload the page and try again.")
        response = HTMLResponse("<!doctype html><html lang=en><title>Signed out</title><p>You are signed out.</p></html>",
                                headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})
        site.drop_cookie(response, LEARNER_COOKIE)
        return response

    return [Route("/learn/{token}", learn), Route("/me", me), Route("/me/sign-out", me_sign_out, methods=["POST"])]
