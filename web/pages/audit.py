"""Audit: the chain head and its latest events; ``?verify=1`` recomputes the chain, in the background
(web/jobs.py: one job per chain head) while the page shows how many events are checked and reloads itself."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..jobs import Busy
from ..site import PageError, Site

REFRESH_SECONDS = 2


def routes(site: Site) -> list[Route]:
    def verification(chain: dict) -> tuple[dict | None, dict | None]:
        """(the result, or None and how far the verification of this chain head is)."""
        def work(job):
            job.total = chain["events"]
            return site.rules.verify_chain(progress=lambda n: setattr(job, "done", n))
        try:
            job = site.jobs.run(("verify", chain["head"], chain["events"]), work)
        except Busy:
            raise PageError(503, "Too much is being computed at the moment.", "Open this page again in a minute.") from None
        if job.running:
            return None, {"done": job.done, "total": job.total, "seconds": int(job.seconds),
                          "refresh": REFRESH_SECONDS}
        exc = site.jobs.take_failure(job)
        if exc is not None:
            raise PageError(500, f"Verifying the chain failed ({type(exc).__name__}).",
                            "Open this page again to verify it again; if it fails again, tell whoever runs the "
                            "service.")
        return job.result, None

    async def audit(request: Request) -> Response:
        await site.need(request)
        chain = await run_in_threadpool(site.rules.chain_head)
        result, computing = None, None
        if request.query_params.get("verify"):
            result, computing = await run_in_threadpool(verification, chain)
        return site.render(request, "audit.html", events=chain["events"], head=chain["head"], result=result,
                           computing=computing)

    return [Route("/audit", audit)]
