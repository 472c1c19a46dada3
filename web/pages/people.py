"""People: search, a person's transcript (with its CSV), admin actions, learner sign-in links."""
from __future__ import annotations

import time
from urllib.parse import urlencode

import jwt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules import tables

from ..site import PAGE, Site, csv_response
from .learner import LINK_AUDIENCE


def routes(site: Site) -> list[Route]:
    rules, prefix = site.rules, site.prefix

    def search(account, q: str, place: str, role: str, after: str | None) -> tuple[list[dict], str | None]:
        team, q = site.team_of(account), q.strip().lower()
        found, cursor = [], after
        while len(found) <= PAGE:
            page = rules.people(cursor, 1000)
            for p in page:
                a = p["attributes"]
                if team is not None and p["person_id"] not in team:
                    continue
                if place and a.get("site") != place or role and role not in (a.get("roles") or []):
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

    async def person(request: Request, notice: str = "", link: str = "", status: int = 200) -> Response:
        account = await site.need(request)
        data = await run_in_threadpool(person_data, account, request.path_params["pid"])
        return site.render(request, "person.html", status, notice=notice, link=link, **data)

    async def transcript_csv(request: Request) -> Response:
        account = await site.need(request)
        t = (await run_in_threadpool(person_data, account, request.path_params["pid"]))["t"]
        return csv_response(tables.transcript_rows(t), tables.TRANSCRIPT, f"transcript-{t['person_id']}.csv",
                            t["chain_head"])

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
            Route("/people/{pid}/actions", add_action, methods=["POST"]),
            Route("/people/{pid}/link", learner_link, methods=["POST"])]
