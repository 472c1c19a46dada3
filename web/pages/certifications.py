"""Certifications: the roster of one, with filters, and its CSV."""
from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules import tables
from rules.derive import STATUSES

from ..site import PAGE, PageError, Site, csv_response


def routes(site: Site) -> list[Route]:
    rules, prefix = site.rules, site.prefix

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
        team = site.team_of(account)
        rows, after = [], q.get("after") or None
        while True:
            page = rules.roster(cid, status, q.get("site") or None, q.get("role") or None, days, None, after, PAGE)
            rows += [r for r in page["people"] if team is None or r["person_id"] in team]
            after = page["next"]
            if not after or len(rows) >= PAGE:
                break
        return {"cid": cid, "cert": site.certifications().get(cid, {}), "rows": rows, "next": after,
                "wanted": status or [], "site": q.get("site", ""), "role": q.get("role", ""),
                "days": "" if days is None else days, "as_of": page["as_of"], "chain_head": page["chain_head"]}

    async def roster(request: Request) -> Response:
        account = await site.need(request)
        data = await run_in_threadpool(roster_data, account, request.path_params["cid"], request.query_params)
        base = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        next_url = "?" + urlencode(base + [("after", data["next"])]) if data["next"] else None
        csv_url = f"{prefix}/certifications/{request.path_params['cid']}/roster.csv" + ("?" + urlencode(base) if base else "")
        return site.render(request, "roster.html", next_url=next_url, csv_url=csv_url, **data)

    async def roster_csv(request: Request) -> Response:
        account = await site.need(request)
        cid = request.path_params["cid"]
        q = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        rows, after, head = [], None, ""
        while True:
            data = await run_in_threadpool(roster_data, account, cid,
                                           QueryParams(q + ([("after", after)] if after else [])))
            rows += data["rows"]
            head = data["chain_head"]
            if not data["next"]:
                break
            after = data["next"]
        return csv_response(tables.roster_rows({"people": rows}), tables.ROSTER, f"roster-{cid}.csv", head)

    return [Route("/certifications/{cid}/roster", roster), Route("/certifications/{cid}/roster.csv", roster_csv)]
