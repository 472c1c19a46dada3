"""The dashboard: compliance by site and role, certifications expiring within 30/60/90 days, overdue."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from rules.compliance import across, summarise
from rules.core import ROSTER_LIMIT

from ..site import Site

HORIZONS = (30, 60, 90)


def routes(site: Site) -> list[Route]:
    rules = site.rules

    def count_roster(cid: str, team: set[str] | None, **filters) -> int:
        n, after = 0, None
        while True:
            page = rules.roster(cid, after=after, limit=ROSTER_LIMIT, **filters)
            n += sum(1 for r in page["people"] if team is None or r["person_id"] in team)
            if not page["next"]:
                return n
            after = page["next"]

    def dashboard_data(account) -> dict:
        certs = site.certifications()
        team = site.team_of(account)
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
        account = await site.signed_in(request)
        if account is None:
            return RedirectResponse(site.prefix + "/sign-in", 303)
        return site.render(request, "dashboard.html", **await run_in_threadpool(dashboard_data, account))

    return [Route("/", dashboard)]
