"""Audit: the chain head and its latest events; ``?verify=1`` recomputes the chain."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..site import Site


def routes(site: Site) -> list[Route]:
    async def audit(request: Request) -> Response:
        await site.need(request)
        chain = await run_in_threadpool(site.rules.chain_head)
        result = await run_in_threadpool(site.rules.verify_chain) if request.query_params.get("verify") else None
        return site.render(request, "audit.html", events=chain["events"], head=chain["head"], result=result)

    return [Route("/audit", audit)]
