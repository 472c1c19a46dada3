"""Learner pages: a learner opens a sign-in link (an HS256 JWT under the store's ``web-learner`` key,
made by an admin on the person's page), which opens their page and leaves a learner session cookie
(``lrs_learner``); no password is needed on a shared phone.

The page (mobile first) shows what the learner must do and by when (overdue first), the courses each
to-do needs, with a button that starts or resumes it, the certifications they hold with their expiry
and a certificate PDF each, and their transcript (completions, and the transcript as a PDF).

Which course a to-do needs: the certification's completion rules (``initial``, and ``renewal`` first
when it is due for renewal), followed through their children to the activity IRIs; an activity IRI is
a course of the content store when it is the player's course IRI (``{activity_iri_base}/courses/{id}``)
or one of its SCOs' IRIs (``.../scos/{item}``: a course of one SCO has no course-level statements), or for a cmi5 course its own course id, one of its AU ids (then that AU is launched) or the ids the
LMS generates for them, or for a TinCan package one of its activity ids. The launch is a POST (the
learner's CSRF token) that makes or reuses the learner's registration through the player's public
launchers (``Launcher.create`` for SCORM, ``Cmi5Launcher.create`` for cmi5 and TinCan), for the
person's first agent in the directory, with ``/app/me`` as the return URL, and redirects the browser
to the launch link on the content origin.

Services used (``Site.services``): ``content``, ``launcher``, ``cmi5``, ``registrations``,
``content_origin``, ``activity_iri_base``, ``pdf_font``, ``lrs``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time

import jwt
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from lrs.errors import XAPIError
from rules import tables

from .. import pdf
from ..site import CSP, LEARNER_COOKIE, PageError, Site

LINK_AUDIENCE, LEARNER_AUDIENCE = "lrs-web-learner-link", "lrs-web-learner"
TODO = ("assigned", "in_progress", "overdue", "expired", "in_renewal_window", "revoked")
HELD = ("certified", "in_renewal_window")
RENEWING = ("in_renewal_window", "overdue")
URGENT = ("overdue", "expired")
OTHER_FORMATS = ("cmi5", "tincan")


# -- what the pages share with people.py -----------------------------------------------------------

def completion_definitions(site: Site) -> dict[str, dict]:
    """Published completion rules by id: their definition body."""
    return {d["id"]: d["definition"] for d in site.rules.definitions()["definitions"]
            if d["kind"] == "completion" and d["published"]}


def activities_of(completion_ids: list[str], completions: dict[str, dict]) -> list[str]:
    """The activity IRIs the completion rules name, through their children, in order, each once."""
    out: list[str] = []
    seen: set[str] = set()

    def walk(cid: str) -> None:
        if cid in seen or cid not in completions:
            return
        seen.add(cid)
        body = completions[cid]
        if body.get("activity"):
            if body["activity"] not in out:
                out.append(body["activity"])
        for child in body.get("children") or ():
            walk(child)

    for cid in completion_ids:
        walk(cid)
    return out


class CourseIndex:
    """Activity IRIs to the content store's courses (not retired), from each course's latest version;
    the structure of a version is read once (versions never change)."""

    def __init__(self, site: Site):
        self.site = site
        self._versions: dict[tuple[str, int], dict] = {}

    def _entries(self, course: dict) -> dict[str, dict]:
        key = (course["id"], course["latest_version"])
        if key in self._versions:
            return self._versions[key]
        content, base = self.site.services["content"], self.site.services.get("activity_iri_base") or ""
        version = content.version(course["id"], course["latest_version"]) or {}
        structure = version.get("structure") or {}
        fmt = version.get("format") or structure.get("format")
        entry = {"course": course["id"], "title": course.get("title") or course["id"], "format": fmt, "au": 0,
                 "version": course["latest_version"]}
        found: dict[str, dict] = {}
        if base:
            from player.bridge.vocabulary import course_iri, sco_iri
            found[course_iri(base, course["id"])] = entry
            if fmt not in OTHER_FORMATS:    # SCORM: a course of one SCO reports on its SCO only
                from player.runtime.status import sco_ids
                for sco in sco_ids(structure):
                    found.setdefault(sco_iri(course_iri(base, course["id"]), sco), entry)
        try:
            if fmt == "cmi5" and base:
                from player.cmi5.launch import course_tree
                tree = course_tree(course["id"], structure, base)
                found.setdefault(tree["course"]["pub"], entry)
                found.setdefault(tree["course"]["lms"], entry)
                for i, au in enumerate(tree["aus"]):
                    found.setdefault(au["pub"], {**entry, "au": i})
                    found.setdefault(au["activity_id"], {**entry, "au": i})
            elif fmt == "tincan":
                for act in (structure.get("tincan") or {}).get("activities") or ():
                    if isinstance(act, dict) and act.get("id"):
                        found.setdefault(act["id"], entry)
        except (KeyError, TypeError):   # a structure without what a launch needs: only the player's IRI
            pass
        self._versions[key] = found
        return found

    def current(self) -> dict[str, dict]:
        content = self.site.services.get("content")
        if content is None:
            return {}
        out: dict[str, dict] = {}
        for course in content.courses():
            if course.get("latest_version") is None:
                continue
            for iri, entry in self._entries(course).items():
                out.setdefault(iri, entry)
        return out

    def course_of(self, iri: str | None) -> str | None:
        """The course id an activity IRI (a statement's course) names, or None."""
        if not iri:
            return None
        entry = self.current().get(iri)
        return entry["course"] if entry else None


def title_of(certs: dict, cid: str) -> str:
    return (certs.get(cid) or {}).get("title") or cid


def person_name(person: dict) -> str:
    return next((a["name"] for a in person.get("agents") or () if isinstance(a.get("name"), str) and a["name"]), "")


def _filename(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:100] or "x"


def pdf_response(body: bytes, filename: str, head: str) -> Response:
    return Response(body, media_type="application/pdf", headers={
        "Cache-Control": "no-store", "X-Chain-Head": head, "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{_filename(filename)}.pdf"'})


def transcript_pdf(site: Site, pid: str) -> Response:
    """The person's transcript as a PDF: the transcript CSV's rows (rules/tables.py)."""
    t = site.rules.transcript(pid)
    person = site.rules.person(pid)
    titles = {k: (v.get("title") or "") for k, v in {**completion_definitions(site), **site.certifications()}.items()}
    body = pdf.transcript_pdf(person=pid, person_name=person_name(person), rows=tables.transcript_rows(t),
                              columns=tables.TRANSCRIPT, chain_head=t["chain_head"], as_of=t["as_of"],
                              made=site.rules.clock(), font=site.services.get("pdf_font") or None, titles=titles)
    return pdf_response(body, f"transcript-{pid}", t["chain_head"])


def certificate_pdf(site: Site, pid: str, cid: str, held_only: bool) -> Response:
    """The certificate of ``cid`` for ``pid``: 404 when the person has no record of it (or, with
    ``held_only``, does not hold it now)."""
    t = site.rules.transcript(pid)
    cert = next((c for c in t["certifications"] if c["certification"] == cid), None)
    if cert is None or not cert.get("earned") or held_only and cert["status"] not in HELD:
        raise PageError(404, "There is no certificate for this certification: "
                             + ("you do not hold it now." if held_only else "this person has not earned it."),
                        "Open the list of certifications held and choose one from there.")
    person = site.rules.person(pid)
    body = pdf.certificate_pdf(person=pid, person_name=person_name(person), certification=cid,
                               title=(site.certifications().get(cid) or {}).get("title") or "",
                               status=cert["status"], issued=cert.get("valid_from") or cert.get("earned"),
                               expires=cert.get("expires"), statements=cert["evidence"].get("statements") or [],
                               action=cert["evidence"].get("action"), chain_head=t["chain_head"],
                               definition_version=cert.get("definition_version"), made=site.rules.clock(),
                               font=site.services.get("pdf_font") or None)
    return pdf_response(body, f"certificate-{pid}-{cid}", t["chain_head"])


# -- routes ----------------------------------------------------------------------------------------

def routes(site: Site) -> list[Route]:
    rules = site.rules
    index = CourseIndex(site)

    def learner_csrf(request: Request) -> str:
        return hmac.new(site.secret("web-csrf"), b"learner:" + request.cookies.get(LEARNER_COOKIE, "").encode(),
                        hashlib.sha256).hexdigest()

    def agent_of(pid: str, account_first: bool = False) -> dict | None:
        """The person's first agent in the directory; with ``account_first`` their first account agent
        if they have one (cmi5 launches an account actor: another identifier becomes an account the
        directory does not know, cmi5_actor in player/cmi5/launch.py)."""
        agents = rules.person(pid)["agents"]
        if account_first:
            agents = sorted(agents, key=lambda a: "account" not in a)
        return dict(agents[0]) if agents else None

    def plan(pid: str) -> dict:
        """The learner's page: to-dos (overdue first, then by date) with the courses each needs and
        where the learner is in each, the certifications held, the transcript."""
        t = rules.transcript(pid)
        certs, comps = site.certifications(), completion_definitions(site)
        courses_by_iri = index.current()
        agents = {False: agent_of(pid), True: agent_of(pid, account_first=True)}
        regs = site.services.get("registrations")
        states: dict[str, str] = {}

        def state(course_id: str, fmt: str | None) -> str:
            agent = agents[fmt == "cmi5"]
            if course_id not in states:
                states[course_id] = "start"
                if regs is not None and agent is not None:
                    try:
                        found = regs.page(learner=orjson.dumps(agent).decode(), course=course_id)["registrations"]
                    except XAPIError:
                        found = []
                    if found:
                        latest = max(found, key=lambda r: r.get("updated") or "")
                        s = latest.get("status") or {}
                        done = s.get("satisfied") or s.get("completion_status") == "completed" \
                            or s.get("success_status") == "passed"
                        states[course_id] = "again" if done else "resume"
            return states[course_id]

        def courses_for(c: dict) -> list[dict]:
            body = certs.get(c["certification"]) or {}
            ids = [body.get("initial")]
            if c["status"] in RENEWING and body.get("renewal"):
                ids.insert(0, body["renewal"])
            out, seen = [], set()
            for iri in activities_of([i for i in ids if i], comps):
                entry = courses_by_iri.get(iri)
                if entry and entry["course"] not in seen:
                    seen.add(entry["course"])
                    out.append({**entry, "state": state(entry["course"], entry["format"])})
            return out

        todo = [c for c in t["certifications"] if c["status"] in TODO]
        todo.sort(key=lambda c: (c["status"] not in URGENT, c.get("due") or c.get("expires") or "9999-99-99",
                                 c["certification"]))
        todo = [{**c, "title": title_of(certs, c["certification"]), "courses": courses_for(c)} for c in todo]
        held = [{**c, "title": title_of(certs, c["certification"])} for c in t["certifications"] if c["status"] in HELD]
        done = [{**c, "title": (comps.get(c["completion"]) or {}).get("title") or c["completion"]}
                for c in sorted(t["completions"], key=lambda c: c["at"], reverse=True)]
        return {"t": t, "todo": todo, "held": held, "done": done}

    def learner_page(request: Request, pid: str) -> Response:
        request.scope["web.learner"] = pid
        response = site.render(request, "me.html", **plan(pid), csrf_learner=learner_csrf(request))
        origin = site.services.get("content_origin")
        if origin:   # a launch form's answer redirects there: form-action covers the redirect's target too
            response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'",
                                                                      f"form-action 'self' {origin}")
        return response

    def learner_of(token: str | None, audience: str) -> str | None:
        if not token:
            return None
        try:
            return jwt.decode(token, site.secret("web-learner"), algorithms=["HS256"], audience=audience,
                              options={"require": ["sub", "exp", "aud"]})["sub"]
        except jwt.InvalidTokenError:
            return None

    def signed_in_learner(request: Request) -> str:
        pid = learner_of(request.cookies.get(LEARNER_COOKIE), LEARNER_AUDIENCE)
        if pid is None:
            raise PageError(401, "You are not signed in, or your session has ended.",
                            "Open the sign-in link you were sent again, or ask for a new one.")
        request.scope["web.learner"] = pid
        return pid

    async def learner_form(request: Request) -> tuple[str, dict]:
        pid = signed_in_learner(request)
        data = await site.form(request)
        if not hmac.compare_digest(str(data.get("csrf", "")), learner_csrf(request)):
            raise PageError(403, "The form's security token does not match your session.", "Reload the page and try again.")
        return pid, data

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
        pid = signed_in_learner(request)
        return await run_in_threadpool(learner_page, request, pid)

    def start(pid: str, course_id: str, return_url: str) -> str:
        entries = [e for c in plan(pid)["todo"] for e in c["courses"] if e["course"] == course_id]
        if not entries:
            raise PageError(404, "This course is not one of the courses you must take.",
                            "Go back to your page and choose a course from the list there.")
        entry = entries[0]
        agent = agent_of(pid, account_first=entry["format"] == "cmi5")
        if agent is None:
            raise PageError(409, "Your record has no e-mail address or account to record your learning under.",
                            "Ask your training admin to add one to your record.")
        try:
            if entry["format"] in OTHER_FORMATS:
                cmi5 = site.services.get("cmi5")
                if cmi5 is None:
                    raise PageError(503, "cmi5 and xAPI courses cannot be launched here.", "Ask your training admin.")
                return cmi5.create(agent, course_id, entry["au"], None, "Normal", return_url)["launch_url"]
            launcher, origin = site.services.get("launcher"), site.services.get("content_origin")
            if launcher is None or not origin:
                raise PageError(503, "Courses cannot be launched here.", "Ask your training admin.")
            return launcher.create(agent, course_id, origin, return_url=return_url).url
        except XAPIError as exc:
            raise PageError(exc.status, f"The course could not be opened: {exc.message}.",
                            "Go back to your page and try again; if it keeps failing, tell your training admin.") \
                from None

    async def launch(request: Request) -> Response:
        pid, _ = await learner_form(request)
        return_url = (site.base_url or str(request.base_url)).rstrip("/") + site.prefix + "/me"
        url = await run_in_threadpool(start, pid, request.path_params["course"], return_url)
        return RedirectResponse(url, 303, headers={"Cache-Control": "no-store"})

    async def my_transcript_pdf(request: Request) -> Response:
        pid = signed_in_learner(request)
        return await run_in_threadpool(transcript_pdf, site, pid)

    async def my_certificate_pdf(request: Request) -> Response:
        pid = signed_in_learner(request)
        return await run_in_threadpool(certificate_pdf, site, pid, request.path_params["cid"], True)

    async def me_sign_out(request: Request) -> Response:
        await learner_form(request)
        response = HTMLResponse("<!doctype html><html lang=en><title>Signed out</title><p>You are signed out.</p></html>",
                                headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})
        site.drop_cookie(response, LEARNER_COOKIE)
        return response

    return [Route("/learn/{token}", learn), Route("/me", me), Route("/me/sign-out", me_sign_out, methods=["POST"]),
            Route("/me/courses/{course}/launch", launch, methods=["POST"]),
            Route("/me/transcript.pdf", my_transcript_pdf),
            Route("/me/certificates/{cid}.pdf", my_certificate_pdf)]

