"""The rules' HTTP API, mounted at ``/rules`` on the main origin behind an admin (``all``) credential.

    POST /people                                   import people (text/csv or application/json); ?partial=true
    GET  /people                                   people, paginated (?after=&limit=)
    GET  /people/{id}                              one person with their attribute history
    GET  /people/{id}/transcript                   completions and certifications with evidence (JSON or CSV)
    POST /people/{id}/actions                      an admin action (manual completion, external certificate,
                                                   exemption, revocation) with a reason
    GET  /definitions                              every version of every definition
    POST /definitions/{kind}                       a new version: {"definition": {...}, "reason": "..."}
    GET  /definitions/{kind}/{id}/versions/{v}
    POST /definitions/{kind}/{id}/versions/{v}/preview   who would change status if it were published
    POST /definitions/{kind}/{id}/versions/{v}/publish   {"reason": "..."}
    GET  /certifications/{id}/roster               ?status=a,b&site=&role=&expiring_within_days=&as_of=&after=&limit= (<= 500)
    GET  /certifications/{id}/compliance           ?as_of=&site=&role=: the share compliant, in all, by site, by role
    GET  /compliance                               ?as_of=&site=&role=&certification=a,b: every published
                                                   certification's compliance and their sum, by site and role
    GET  /engine                                   the engine's checkpoint and lag
    POST /engine/run                               run the engine until it has caught up (under the lease)
    GET  /audit/head                               the history's length and chain head
    GET  /audit/verify                             recompute the history's hash chain
    ... and the evidence, reminder and webhook routes of rules/http_outbox.py

``Accept: text/csv`` gives the transcript, the roster and compliance as CSV (rules/tables.py). Errors: 4xx with
``{"error": {"status", "message", "path"}}``; an import with bad rows adds ``"errors"`` (line, path, message).
"""
from __future__ import annotations

import io
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import tables
from .core import ROSTER_LIMIT, Rules, RulesError
from .definitions import DefinitionError
from .derive import STATUSES

MAX_BODY = 32 * 1024 * 1024
MAX_LIMIT = 1000


def _json(body, status: int = 200, headers: dict | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers={"Cache-Control": "no-store", **(headers or {})})


def _error(status: int, message: str, path: str = "", **extra) -> Response:
    return _json({"error": {"status": status, "message": message, "path": path}, **extra}, status)


def _who(request: Request) -> str:
    return request.scope.get("lrs.credential") or "unknown"


def _wants_csv(request: Request) -> bool:
    return "text/csv" in request.headers.get("accept", "").lower()


def _csv(rows: list[dict], columns: list[str], headers: dict | None = None) -> Response:
    buf = io.StringIO()
    tables.write(buf, columns, rows)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Cache-Control": "no-store", **(headers or {})})


async def _body(request: Request) -> bytes:
    size = request.headers.get("content-length")
    if size is not None and size.isdigit() and int(size) > MAX_BODY:
        raise RulesError(413, f"the body is larger than {MAX_BODY} bytes")
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > MAX_BODY:
            raise RulesError(413, f"the body is larger than {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _json_body(request: Request) -> dict:
    raw = await _body(request)
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError as exc:
        raise RulesError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RulesError(400, "the body is a JSON object")
    return data


def _int(request: Request, name: str, default: int | None, lo: int = 0, hi: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RulesError(400, f"{name} is a whole number", name) from None
    if value < lo or (hi is not None and value > hi):
        raise RulesError(400, f"{name} is from {lo}" + (f" to {hi}" if hi is not None else ""), name)
    return value


def _next_link(request: Request, cursor: str | None) -> dict:
    if not cursor:
        return {}
    params = {**request.query_params, "after": cursor}
    return {"Link": f'<{request.url.path}?{urlencode(params)}>; rel="next"'}


def create_app(rules: Rules) -> Starlette:
    def handler(fn):
        async def endpoint(request: Request) -> Response:
            try:
                return await fn(request)
            except RulesError as exc:
                return _error(exc.status, exc.message, exc.path, **exc.extra)
            except DefinitionError as exc:
                return _error(exc.status, exc.message, exc.path, rule=exc.rule)
        return endpoint

    async def import_people(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype not in ("text/csv", "application/json"):
            raise RulesError(415, "send people as text/csv or application/json", "Content-Type")
        partial = request.query_params.get("partial", "false").lower() in ("true", "1", "yes")
        raw = await _body(request)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RulesError(400, "the body is not UTF-8 text") from None
        result = await run_in_threadpool(rules.import_people_text, text, "csv" if ctype == "text/csv" else "json",
                                         _who(request), partial)
        if not result["applied"]:
            first = result["errors"][0]
            return _json({"error": {"status": 400, "message": f"line {first['line']}: {first['message']} "
                                    f"({len(result['errors'])} bad rows; nothing imported; ?partial=true imports the good rows)",
                                    "path": first["path"]}, **result}, 400)
        return _json(result)

    async def list_people(request: Request) -> Response:
        limit = _int(request, "limit", 100, 1, MAX_LIMIT)
        rows = await run_in_threadpool(rules.people, request.query_params.get("after"), limit)
        cursor = rows[-1]["person_id"] if len(rows) == limit else None
        return _json({"people": rows, "next": cursor}, headers=_next_link(request, cursor))

    async def get_person(request: Request) -> Response:
        return _json(await run_in_threadpool(rules.person, request.path_params["pid"]))

    async def transcript(request: Request) -> Response:
        t = await run_in_threadpool(rules.transcript, request.path_params["pid"])
        if not _wants_csv(request):
            return _json(t)
        return _csv(tables.transcript_rows(t), tables.TRANSCRIPT, {"X-Chain-Head": t["chain_head"]})

    async def add_action(request: Request) -> Response:
        body = await _json_body(request)
        return _json(await run_in_threadpool(rules.add_action, request.path_params["pid"], body, _who(request)), 201)

    async def list_definitions(request: Request) -> Response:
        return _json(await run_in_threadpool(rules.definitions))

    async def create_definition(request: Request) -> Response:
        body = await _json_body(request)
        if "definition" not in body:
            raise RulesError(400, 'the body is {"definition": {...}, "reason": "..."}', "definition")
        kind = request.path_params["kind"]
        try:
            d = await run_in_threadpool(rules.create_definition, kind, body["definition"], _who(request), body.get("reason"))
        except DefinitionError as exc:
            path = "definition" + (f".{exc.path}" if exc.path else "") if exc.status == 400 else exc.path
            raise RulesError(exc.status, exc.message, path, rule=exc.rule) from None
        return _json(d, 201)

    def _version(request: Request) -> tuple[str, str, int]:
        raw = request.path_params["version"]
        if not raw.isdigit():
            raise RulesError(404, f"no version {raw!r}", "version")
        return request.path_params["kind"], request.path_params["def_id"], int(raw)

    async def get_definition(request: Request) -> Response:
        kind, def_id, version = _version(request)
        d = await run_in_threadpool(rules._version, kind, def_id, version)
        return _json(rules.definition_view(d))

    async def preview(request: Request) -> Response:
        kind, def_id, version = _version(request)
        return _json(await run_in_threadpool(rules.preview, kind, def_id, version))

    async def publish(request: Request) -> Response:
        kind, def_id, version = _version(request)
        body = await _json_body(request)
        return _json(await run_in_threadpool(rules.publish, kind, def_id, version, _who(request), body.get("reason")))

    async def roster(request: Request) -> Response:
        q = request.query_params
        status = [s for s in q.get("status", "").split(",") if s] or None
        bad = next((s for s in status or () if s not in STATUSES), None)
        if bad:
            raise RulesError(400, f"status {bad!r} is not one of {', '.join(STATUSES)}", "status")
        limit = _int(request, "limit", 100, 1, ROSTER_LIMIT)
        page = await run_in_threadpool(rules.roster, request.path_params["cert"], status, q.get("site"), q.get("role"),
                                       _int(request, "expiring_within_days", None, 0, 36500), q.get("as_of"),
                                       q.get("after"), limit)
        link = _next_link(request, page["next"])
        if _wants_csv(request):
            return _csv(tables.roster_rows(page), tables.ROSTER, {**link, "X-Chain-Head": page["chain_head"]})
        return _json(page, headers=link)

    async def compliance(request: Request) -> Response:
        q = request.query_params
        answer = await run_in_threadpool(rules.compliance, request.path_params["cert"], q.get("as_of"),
                                         q.get("site"), q.get("role"))
        if _wants_csv(request):
            return _csv(tables.compliance_rows(answer), tables.COMPLIANCE, {"X-Chain-Head": answer["chain_head"]})
        return _json(answer)

    async def compliance_report(request: Request) -> Response:
        q = request.query_params
        named = [c for c in q.get("certification", "").split(",") if c] or None
        report = await run_in_threadpool(rules.compliance_report, q.get("as_of"), q.get("site"), q.get("role"), named)
        if _wants_csv(request):
            return _csv(tables.report_rows(report), tables.COMPLIANCE, {"X-Chain-Head": report["chain_head"]})
        return _json(report)

    async def engine_state(request: Request) -> Response:
        cp = await run_in_threadpool(rules.store.checkpoint)
        last = await run_in_threadpool(rules.lrs.last_seq)
        return _json({"checkpoint": cp, "last_seq": last, "behind": last > cp.get("derived", cp.get("seq", 0))})

    async def engine_run(request: Request) -> Response:
        done = await run_in_threadpool(rules.engine.run_until_idle)
        return _json(done, 200 if done["leased"] else 409)

    async def audit_head(request: Request) -> Response:
        return _json(await run_in_threadpool(rules.chain_head))

    async def audit_verify(request: Request) -> Response:
        return _json(await run_in_threadpool(rules.verify_chain))

    routes = [
        Route("/people", handler(import_people), methods=["POST"]),
        Route("/people", handler(list_people), methods=["GET"]),
        Route("/people/{pid}", handler(get_person), methods=["GET"]),
        Route("/people/{pid}/transcript", handler(transcript), methods=["GET"]),
        Route("/people/{pid}/actions", handler(add_action), methods=["POST"]),
        Route("/definitions", handler(list_definitions), methods=["GET"]),
        Route("/definitions/{kind}", handler(create_definition), methods=["POST"]),
        Route("/definitions/{kind}/{def_id}/versions/{version}", handler(get_definition), methods=["GET"]),
        Route("/definitions/{kind}/{def_id}/versions/{version}/preview", handler(preview), methods=["POST"]),
        Route("/definitions/{kind}/{def_id}/versions/{version}/publish", handler(publish), methods=["POST"]),
        Route("/certifications/{cert}/roster", handler(roster), methods=["GET"]),
        Route("/certifications/{cert}/compliance", handler(compliance), methods=["GET"]),
        Route("/compliance", handler(compliance_report), methods=["GET"]),
        Route("/engine", handler(engine_state), methods=["GET"]),
        Route("/engine/run", handler(engine_run), methods=["POST"]),
        Route("/audit/head", handler(audit_head), methods=["GET"]),
        Route("/audit/verify", handler(audit_verify), methods=["GET"]),
    ]
    from .http_outbox import extra_routes

    routes += extra_routes(rules, handler)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return _error(exc.status_code, exc.detail or "error", request.url.path)

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})
