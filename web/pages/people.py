"""People: search, a person's transcript (with its CSV and PDF), its evidence (each certification's
and completion's statements, linked to the statements page, and the content version each was played
on, linked to the course page), certificate PDFs, the evidence pack (rules/evidence.py, every page
joined), admin actions, learner sign-in links."""
from __future__ import annotations

import bisect
import re
import time
from urllib.parse import unquote, urlencode

import jwt
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules import tables
from rules.evidence import MAX_LIMIT, content_of, evidence_pack

from ..site import PAGE, Site, csv_response
from .learner import LINK_AUDIENCE, CourseIndex, certificate_pdf, completion_definitions, transcript_pdf


def routes(site: Site) -> list[Route]:
    rules, prefix = site.rules, site.prefix
    index = CourseIndex(site)

    def search(account, q: str, place: str, role: str, after: str | None) -> tuple[list[dict], str | None]:
        team, q = site.team_of(account), q.strip().lower()
        people = site.directory()
        found = []
        for pid, text, p in people[bisect.bisect_right(people, after, key=lambda e: e[0]) if after else 0:]:
            a = p["attributes"]
            if team is not None and pid not in team:
                continue
            if place and a.get("site") != place or role and role not in (a.get("roles") or []):
                continue
            if q and q not in text:
                continue
            found.append(p)
            if len(found) > PAGE:
                break
        more = len(found) > PAGE
        found = found[:PAGE]
        return found, found[-1]["person_id"] if more else None

    async def people(request: Request) -> Response:
        account = await site.need(request)
        q = request.query_params
        found, nxt = await run_in_threadpool(search, account, q.get("q", ""), q.get("site", ""), q.get("role", ""),
                                             q.get("after") or None)
        next_url = "?" + urlencode({**q, "after": nxt}) if nxt else None
        return site.render(request, "people.html", people=found, q=q.get("q", ""), site=q.get("site", ""),
                           role=q.get("role", ""), next_url=next_url)

    def person_data(account, pid: str) -> dict:
        site.may_see(account, pid)
        return {"person": rules.person(pid), "t": rules.transcript(pid), "certs": site.certifications()}

    def course_id_of(iri: str | None, courses: dict[str, dict]) -> str | None:
        if not iri:
            return None
        if iri in courses:
            return courses[iri]["course"]
        base = (site.services.get("activity_iri_base") or "").rstrip("/") + "/courses/"
        rest = iri[len(base):] if base != "/courses/" and iri.startswith(base) else ""
        return unquote(rest) if rest and "/" not in rest else None

    def evidence_of(t: dict) -> dict[str, dict]:
        """Each statement id the transcript names: the course and version it says it was played on
        (``course`` None where it names no course of the content store), ``found`` False when the LRS no
        longer has it."""
        lrs = site.services.get("lrs") or rules.lrs
        ids = {s for c in t["certifications"] for s in (c["evidence"].get("statements") or [])}
        ids |= {s for c in t["completions"] for s in c["statements"]}
        courses = index.current() if ids else {}
        out = {}
        for sid in sorted(ids):
            raw = lrs.get(sid, False) if lrs is not None else None
            if raw is None:
                out[sid] = {"found": False, "course": None, "version": None}
                continue
            content = content_of(orjson.loads(raw))
            version = content.get("version")
            out[sid] = {"found": True, "course": course_id_of(content.get("course"), courses),
                        "version": int(version) if isinstance(version, str) and version.isdigit() else None}
        return out

    async def person(request: Request, notice: str = "", link: str = "", status: int = 200) -> Response:
        account = await site.need(request)
        data = await run_in_threadpool(person_data, account, request.path_params["pid"])
        data["evidence"] = await run_in_threadpool(evidence_of, data["t"])
        data["comps"] = await run_in_threadpool(completion_definitions, site)
        return site.render(request, "person.html", status, notice=notice, link=link,
                           may_pack=account.role in ("admin", "auditor", "supervisor"), **data)

    async def transcript_csv(request: Request) -> Response:
        account = await site.need(request)
        t = (await run_in_threadpool(person_data, account, request.path_params["pid"]))["t"]
        return csv_response(tables.transcript_rows(t), tables.TRANSCRIPT, f"transcript-{t['person_id']}.csv",
                            t["chain_head"])

    async def transcript_pdf_page(request: Request) -> Response:
        account = await site.need(request)
        pid = request.path_params["pid"]
        await run_in_threadpool(site.may_see, account, pid)
        return await run_in_threadpool(transcript_pdf, site, pid)

    async def certificate_pdf_page(request: Request) -> Response:
        account = await site.need(request)
        pid = request.path_params["pid"]
        await run_in_threadpool(site.may_see, account, pid)
        return await run_in_threadpool(certificate_pdf, site, pid, request.path_params["cid"], False)

    def whole_pack(pid: str) -> dict:
        """The person's evidence pack, every page joined into one: entries in order, each statement and
        definition once, the chain head of the first page (the pack was read at it or later)."""
        pack = evidence_pack(rules, person_id=pid, limit=MAX_LIMIT)
        while pack.get("next"):
            more = evidence_pack(rules, person_id=pid, after=pack["next"], limit=MAX_LIMIT)
            known = {s["id"] for s in pack["statements"]}
            defs = {(d["kind"], d["id"], d["version"]) for d in pack["definitions"]}
            pack["entries"] += more["entries"]
            pack["statements"] += [s for s in more["statements"] if s["id"] not in known]
            pack["definitions"] += [d for d in more["definitions"] if (d["kind"], d["id"], d["version"]) not in defs]
            pack["next"] = more["next"]
        pack.pop("next", None)
        return pack

    async def evidence_json(request: Request) -> Response:
        account = await site.need(request, "admin", "auditor", "supervisor")
        pid = request.path_params["pid"]
        await run_in_threadpool(site.may_see, account, pid)
        pack = await run_in_threadpool(whole_pack, pid)
        return Response(orjson.dumps(pack, option=orjson.OPT_INDENT_2), media_type="application/json", headers={
            "Cache-Control": "no-store", "X-Chain-Head": pack["chain_head"]["hash"],
            "Content-Disposition": f'attachment; filename="evidence-{_safe(pid)}.json"'})

    async def add_action(request: Request) -> Response:
        account, data = await site.act(request, "admin")
        pid = request.path_params["pid"]
        body = {k: v.strip() for k, v in data.items() if k in ("kind", "reason", "date", "until", "expires", "issuer",
                                                                "reference") and v.strip()}
        body["certification"] = data.get("certification", "")
        await run_in_threadpool(rules.add_action, pid, body, f"web:{account.username}")
        return await person(request, notice=f"Recorded: {body['kind'].replace('_', ' ')}. "
                                            "Statuses are recomputed within seconds.")

    async def learner_link(request: Request) -> Response:
        await site.act(request, "admin")
        pid = request.path_params["pid"]
        await run_in_threadpool(rules.person, pid)     # 404 for an unknown person
        now = int(time.time())
        token = jwt.encode({"sub": pid, "aud": LINK_AUDIENCE, "iat": now, "exp": now + site.link_seconds},
                           site.secret("web-learner"), algorithm="HS256")
        url = (site.base_url or str(request.base_url)).rstrip("/") + prefix + "/learn/" + token
        return await person(request, notice="A sign-in link for this person (valid "
                                            f"{site.link_seconds // 86400 or 1} day(s)); send it to them only.",
                            link=url)

    return [Route("/people", people), Route("/people/{pid}", person),
            Route("/people/{pid}/transcript.csv", transcript_csv),
            Route("/people/{pid}/transcript.pdf", transcript_pdf_page),
            Route("/people/{pid}/certificates/{cid}.pdf", certificate_pdf_page),
            Route("/people/{pid}/evidence.json", evidence_json),
            Route("/people/{pid}/actions", add_action, methods=["POST"]),
            Route("/people/{pid}/link", learner_link, methods=["POST"])]


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:100] or "x"
