"""The /rules routes of evidence packs, reminders and webhook endpoints (rules/http.py adds them):

    GET    /people/{id}/evidence             a person's evidence pack (JSON, or CSV with Accept: text/csv);
                                             ?after=<certification id>&limit= (<= 100)
    GET    /certifications/{id}/evidence     a certification's evidence pack; ?after=<person id>&limit=
    GET    /webhooks                         the endpoints reminders are delivered to (secrets not shown)
    POST   /webhooks                         {"url": ..., "secret"?: ..., "kinds"?: [...], "transport"?: "webhook",
                                             "active"?: true}: 201 with the secret (made when not given)
    DELETE /webhooks/{id}
    GET    /reminders                        ?person=&after=&limit=
    GET    /deliveries                       ?state=failed,retrying (comma list)&after=&limit=
    POST   /deliveries/run                   send the deliveries due now
"""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .core import RulesError
from .evidence import CSV_COLUMNS, MAX_LIMIT, csv_rows, evidence_pack


def extra_routes(rules, handler) -> list[Route]:
    from .http import _csv, _int, _json, _json_body, _next_link, _wants_csv, _who

    def outbox():
        box = getattr(rules, "outbox", None)
        if box is None:
            raise RulesError(404, "reminders and webhooks are not configured in this process", "")
        return box

    async def evidence(request: Request, person=None, cert=None) -> Response:
        limit = _int(request, "limit", 20, 1, MAX_LIMIT)
        pack = await run_in_threadpool(evidence_pack, rules, person, cert, request.query_params.get("after"), limit)
        link = _next_link(request, pack["next"])
        if _wants_csv(request):
            return _csv(csv_rows(pack), CSV_COLUMNS, {**link, "X-Chain-Head": pack["chain_head"]["hash"]})
        return _json(pack, headers=link)

    async def person_evidence(request: Request) -> Response:
        return await evidence(request, person=request.path_params["pid"])

    async def certification_evidence(request: Request) -> Response:
        return await evidence(request, cert=request.path_params["cert"])

    async def list_webhooks(request: Request) -> Response:
        return _json(await run_in_threadpool(outbox().endpoints))

    async def add_webhook(request: Request) -> Response:
        body = await _json_body(request)
        return _json(await run_in_threadpool(outbox().add_endpoint, body, _who(request)), 201)

    async def delete_webhook(request: Request) -> Response:
        await run_in_threadpool(outbox().delete_endpoint, request.path_params["eid"])
        return Response(status_code=204)

    async def reminders(request: Request) -> Response:
        limit = _int(request, "limit", 100, 1, 1000)
        page = await run_in_threadpool(outbox().reminders, request.query_params.get("person"),
                                       request.query_params.get("after"), limit)
        return _json(page, headers=_next_link(request, page["next"]))

    async def deliveries(request: Request) -> Response:
        limit = _int(request, "limit", 100, 1, 1000)
        states = [s for s in request.query_params.get("state", "").split(",") if s] or None
        page = await run_in_threadpool(outbox().deliveries, states, request.query_params.get("after"), limit)
        return _json(page, headers=_next_link(request, page["next"]))

    async def run_deliveries(request: Request) -> Response:
        return _json(await run_in_threadpool(outbox().deliver))

    return [
        Route("/people/{pid}/evidence", handler(person_evidence), methods=["GET"]),
        Route("/certifications/{cert}/evidence", handler(certification_evidence), methods=["GET"]),
        Route("/webhooks", handler(list_webhooks), methods=["GET"]),
        Route("/webhooks", handler(add_webhook), methods=["POST"]),
        Route("/webhooks/{eid}", handler(delete_webhook), methods=["DELETE"]),
        Route("/reminders", handler(reminders), methods=["GET"]),
        Route("/deliveries", handler(deliveries), methods=["GET"]),
        Route("/deliveries/run", handler(run_deliveries), methods=["POST"]),
    ]
