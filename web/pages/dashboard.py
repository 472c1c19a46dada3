"""The dashboard: compliance by site and role (share current, drawn as a bar chart in inline SVG with the
same figures as a table), certifications expiring within 30/60/90 days, overdue people, recent activity.
Every figure links to the list behind it: a certification's roster with the matching filters (status,
site, role, expiring_within_days), or the dashboard narrowed to a site or role (``?site=``, ``?role=``),
whose figures link to the rosters narrowed the same way. A supervisor sees the same over their team.

All figures come from one read of the records' counts (``Rules.overview``) and the history's newest
events (``Rules.recent_events``)."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from rules.derive import COMPLIANT, STATUSES

from ..site import Site

HORIZONS = (30, 60, 90)
RECENT = 20
CONCERNED = tuple(s for s in STATUSES if s != "not_required")          # who a certification concerns
CURRENT = tuple(s for s in STATUSES if s in COMPLIANT and s != "not_required")   # who is compliant
# the chart: a row per site or role, its name above a bar (viewBox units; the SVG scales to the width)
WIDTH, ROW, BAR, LABEL = 400, 40, 14, 16


def chart(rows: list[dict], key: str) -> dict:
    """The bars of a chart: each row's name, share and where it is drawn."""
    bars = []
    for i, r in enumerate(rows):
        share = r["share"] or 0.0
        bars.append({"name": r[key] if r[key] is not None else f"(no {key})", "none": r[key] is None,
                     "share": r["share"], "compliant": r["compliant"], "requirements": r["requirements"],
                     "y": i * ROW, "bar_y": i * ROW + LABEL + 4, "width": round(share * (WIDTH - 60), 1)})
    return {"bars": bars, "width": WIDTH, "height": max(ROW, len(bars) * ROW), "bar": BAR, "scale": WIDTH - 60}


def routes(site: Site) -> list[Route]:
    rules, prefix = site.rules, site.prefix

    def dashboard_data(account, where: str | None, role: str | None) -> dict:
        certs = site.certifications()
        team = site.team_of(account)
        people = None if team is None else sorted(team)
        ov = rules.overview(HORIZONS, where, role, people)
        narrow = urlencode([(k, v) for k, v in (("site", where), ("role", role)) if v is not None])
        queries = {"compliant": urlencode([("status", s) for s in CURRENT]),
                   "people": urlencode([("status", s) for s in CONCERNED]), "overdue": "status=overdue",
                   **{n: f"expiring_within_days={n}" for n in HORIZONS}}
        queries = {k: "?" + q + ("&" + narrow if narrow else "") for k, q in queries.items()}
        links = {}
        for c in ov["certifications"]:
            base = f"{prefix}/certifications/{quote(c['certification'], safe='')}/roster"
            links[c["certification"]] = {k: base + q for k, q in queries.items()}
        overdue = sorted(((c["by_status"].get("overdue", 0), c["certification"]) for c in ov["certifications"]
                          if c["by_status"].get("overdue")), key=lambda x: (-x[0], x[1]))
        expiring_total = {n: sum(e[n] for e in ov["expiring"].values()) for n in HORIZONS}
        return {"report": ov, "certs": certs, "expiring": ov["expiring"], "horizons": HORIZONS, "links": links,
                "overdue": overdue, "overdue_total": sum(n for n, _ in overdue), "expiring_total": expiring_total,
                "by_site": chart(ov["total"]["by_site"], "site"), "by_role": chart(ov["total"]["by_role"], "role"),
                "events": rules.recent_events(RECENT, people), "team": None if team is None else len(team),
                "site_filter": where, "role_filter": role}

    async def dashboard(request: Request) -> Response:
        account = await site.signed_in(request)
        if account is None:
            return RedirectResponse(site.prefix + "/sign-in", 303)
        q = request.query_params
        data = await run_in_threadpool(dashboard_data, account, q.get("site") or None, q.get("role") or None)
        return site.render(request, "dashboard.html", **data)

    return [Route("/", dashboard)]
