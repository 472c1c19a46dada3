"""Certifications and the other definitions (completion rules, requirements): the list with each one's
published version, newest draft and, for a certification, its people by status; a definition with
every version, its body laid out and its history; the form that saves a new version (admin); the
preview of publishing a version (who would change status) and the publishing itself (admin); the
roster of a certification with its filters, and the CSVs.

    GET  /certifications                            ?kind=&page=; certifications.csv (?kind=)
    GET  /certifications/{id}/roster                ?status=&site=&role=&expiring_within_days=&after=; roster.csv
    GET  /definitions/new                           ?kind=&id= (id: a new version of it, the form filled from its newest)
    POST /definitions/{kind}                        fields of the kind, ``advanced`` (JSON), ``reason``
    GET  /definitions/{kind}/{id}                   ?page= (versions, newest first)
    GET  /definitions/{kind}/{id}/versions/{v}/preview    ?page=
    POST /definitions/{kind}/{id}/versions/{v}/publish    ``reason``

Everything goes through rules.core.Rules (definitions, publications, create_definition, preview,
publish, compliance, roster), the functions the ``/rules`` API calls.
"""
from __future__ import annotations

import io
import json
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from rules import tables
from rules.core import RulesError
from rules.definitions import KINDS, DefinitionError
from rules.derive import STATUSES

from ..jobs import Busy
from ..site import PAGE, PageError, Site, csv_download, csv_response

KIND_ORDER = ("certification", "completion", "requirement")
KIND_NAMES = {"certification": "Certification", "completion": "Completion rule", "requirement": "Requirement"}
LIST_COLUMNS = ["kind", "id", "title", "published_version", "published_at", "newest_version", "draft_version",
                *STATUSES]
REFRESH_SECONDS = 2   # how often a preview still being computed reloads itself
BIG = 10 ** 9      # preview: every change, so the counts are whole (the page shows PAGE of them)

# The form's fields by kind: (name, label, where in the definition). Labels name the fields in errors.
FIELDS = {
    "completion": [("id", "Id", "id"), ("title", "Title", "title"),
                   ("activity", "Activity IRI (the course's activity id)", "activity"),
                   ("success", "Success required", "success")],
    "certification": [("id", "Id", "id"), ("title", "Title", "title"),
                      ("initial", "Completion it needs (completion rule id)", "initial"),
                      ("renewal", "Completion that renews it (default: the same)", "renewal"),
                      ("validity_days", "Validity (days)", "validity.days"),
                      ("validity_months", "Validity (months)", "validity.months"),
                      ("renewal_window_days", "Renewal window (days before expiry)", "renewal_window_days"),
                      ("grace_days", "Grace after expiry (days)", "grace_days")],
    "requirement": [("id", "Id", "id"), ("title", "Title", "title"),
                    ("roles", "Roles it applies to (separated by commas)", "applies_to.roles"),
                    ("sites", "Sites it applies to (separated by commas)", "applies_to.site"),
                    ("certifications", "Certifications required", "certifications"),
                    ("due_days", "Due (days)", "due.days"),
                    ("due_after", "Due counted from", "due.after")],
}
INTEGER_FIELDS = {"validity_days", "validity_months", "renewal_window_days", "grace_days", "due_days"}
EXTRA_PATHS = {"validity": "validity_days", "applies_to": "roles", "due": "due_days"}


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return text         # the schema names what is wrong with it


def body_from_form(kind: str, form) -> tuple[dict, str]:
    """The definition the form describes; (body, the field an error in the advanced JSON names)."""
    v = {name: str(form.get(name, "")).strip() for name, _, _ in FIELDS[kind]}
    body: dict = {}
    for key in ("id", "title"):
        if v[key]:
            body[key] = v[key]
    if kind == "completion":
        if v["activity"]:
            body["activity"] = v["activity"]
        if v["success"]:
            body["success"] = True
    elif kind == "certification":
        for key in ("initial", "renewal"):
            if v[key]:
                body[key] = v[key]
        validity = {unit: _number(v["validity_" + unit]) for unit in ("days", "months") if v["validity_" + unit]}
        if validity:
            body["validity"] = validity
        for key in ("renewal_window_days", "grace_days"):
            if v[key]:
                body[key] = _number(v[key])
    else:
        applies = {}
        if _split(v["roles"]):
            applies["roles"] = _split(v["roles"])
        if _split(v["sites"]):
            applies["site"] = _split(v["sites"])
        body["applies_to"] = applies
        certs = [c for raw in form.getlist("certifications") for c in _split(str(raw))]
        body["certifications"] = list(dict.fromkeys(certs))
        if v["due_days"]:
            body["due"] = {"days": _number(v["due_days"])}
            if v["due_after"]:
                body["due"]["after"] = v["due_after"]
    raw = str(form.get("advanced", "")).strip()
    if raw:
        try:
            extra = json.loads(raw)
        except ValueError as exc:
            raise DefinitionError(f"the advanced field is not JSON: {exc}", "@advanced", "json") from None
        if not isinstance(extra, dict):
            raise DefinitionError("the advanced field is a JSON object ({...})", "@advanced", "type")
        body.update(extra)
    return body, "advanced"


def values_from_body(kind: str, body: dict) -> dict:
    """The form's fields filled from a definition; what the fields do not cover goes in ``advanced``."""
    rest = dict(body)
    values = {"id": rest.pop("id", ""), "title": rest.pop("title", "")}
    if kind == "completion":
        values["activity"] = rest.pop("activity", "")
        if rest.get("success") is True:
            values["success"] = rest.pop("success") and "on"
    elif kind == "certification":
        for key in ("initial", "renewal"):
            values[key] = rest.pop(key, "")
        validity = rest.get("validity")
        if isinstance(validity, dict) and set(validity) <= {"days", "months"}:
            rest.pop("validity")
            values["validity_days"] = validity.get("days", "")
            values["validity_months"] = validity.get("months", "")
        for key in ("renewal_window_days", "grace_days"):
            values[key] = rest.pop(key, "")
    else:
        applies = rest.get("applies_to") or {}
        if set(applies) <= {"roles", "site"}:
            rest.pop("applies_to", None)
            values["roles"] = ", ".join(applies.get("roles", []))
            values["sites"] = ", ".join(applies.get("site", []))
        values["certifications"] = list(rest.pop("certifications", []))
        due = rest.pop("due", None) or {}
        values["due_days"] = due.get("days", "")
        values["due_after"] = due.get("after", "")
    values["advanced"] = json.dumps(rest, indent=2, ensure_ascii=False) if rest else ""
    return {k: ("" if v is None else v) for k, v in values.items()}


def field_of(kind: str, path: str) -> tuple[str, str]:
    """The form field (name, label) an error at ``path`` of the definition concerns."""
    if path == "reason":
        return "reason", "Reason"
    if path == "@advanced":
        return "advanced", "Advanced (JSON)"
    best = None
    for name, label, where in FIELDS.get(kind, ()):
        if path == where or path.startswith(where + "."):
            if best is None or len(where) > len(best[2]):
                best = (name, label, where)
    if best:
        return best[0], best[1]
    top = path.split(".")[0]
    if top in EXTRA_PATHS and not path.startswith(top + "."):
        name = EXTRA_PATHS[top]
        return name, next(label for n, label, _ in FIELDS[kind] if n == name)
    return "advanced", "Advanced (JSON)" + (f", at {path}" if path else "")


def routes(site: Site) -> list[Route]:
    rules, prefix = site.rules, site.prefix

    # -- the list ------------------------------------------------------------------------

    def listing(account, kind: str | None) -> list[dict]:
        """One entry per definition: its title, published and newest versions (kind order, then id)."""
        pubs = {}
        for p in rules.publications():
            pubs[(p["kind"], p["id"])] = p
        found: dict[tuple[str, str], dict] = {}
        for d in rules.definitions()["definitions"]:
            if kind and d["kind"] != kind:
                continue
            e = found.setdefault((d["kind"], d["id"]), {"kind": d["kind"], "id": d["id"], "published": None,
                                                         "newest": None, "published_at": None})
            e["newest"] = d
            if d["published"]:
                e["published"] = d
        out = []
        for key, e in found.items():
            shown = e["published"] or e["newest"]
            p = pubs.get(key)
            pv = e["published"]["version"] if e["published"] else None
            nv = e["newest"]["version"]
            out.append({"kind": e["kind"], "id": e["id"], "title": shown["definition"].get("title", ""),
                        "published_version": pv, "published_at": p["at"] if p and pv else None,
                        "newest_version": nv, "draft_version": nv if pv is None or nv > pv else None,
                        "counts": None})
        out.sort(key=lambda e: (KIND_ORDER.index(e["kind"]), e["id"]))
        return out

    def with_counts(account, entries: list[dict]) -> list[dict]:
        """Each published certification's people by status (a supervisor: their team's), from one read of
        the records' counts (``Rules.overview``)."""
        wanted = [e for e in entries if e["kind"] == "certification" and e["published_version"] is not None]
        if wanted:
            team = site.team_of(account)
            by_cert = {a["certification"]: a["by_status"] for a in
                       rules.overview((), people=None if team is None else sorted(team))["certifications"]}
            for e in wanted:
                e["counts"] = by_cert.get(e["id"], {})
        return entries

    def kind_param(q) -> str | None:
        kind = q.get("kind") or None
        if kind is not None and kind not in KINDS:
            raise PageError(400, f"There is no kind of definition {kind!r}.", "Pick a kind from the list.")
        return kind

    def page_param(q) -> int:
        raw = q.get("page") or "1"
        if not raw.isdigit() or not 1 <= int(raw) <= 10 ** 6:
            raise PageError(400, "The page number is a whole number from 1.", "Use the page links.")
        return int(raw)

    async def list_page(request: Request) -> Response:
        account = await site.need(request)
        q = request.query_params
        kind, page = kind_param(q), page_param(q)

        def data():
            entries = listing(account, kind)
            shown = with_counts(account, entries[(page - 1) * PAGE:page * PAGE])
            return entries, shown
        entries, shown = await run_in_threadpool(data)
        base = {"kind": kind} if kind else {}
        next_url = "?" + urlencode({**base, "page": page + 1}) if len(entries) > page * PAGE else None
        prev_url = "?" + urlencode({**base, "page": page - 1}) if page > 1 else None
        csv_url = f"{prefix}/certifications.csv" + ("?" + urlencode(base) if base else "")
        return site.render(request, "certifications.html", entries=shown, total=len(entries), kind=kind,
                           kinds=KIND_ORDER, kind_names=KIND_NAMES, next_url=next_url, prev_url=prev_url,
                           csv_url=csv_url)

    async def list_csv(request: Request) -> Response:
        account = await site.need(request)
        kind = kind_param(request.query_params)

        def data():
            entries = with_counts(account, listing(account, kind))
            rows = [{**{k: e[k] for k in LIST_COLUMNS[:7]}, **(e["counts"] or {})} for e in entries]
            return rows, rules.chain_head()["head"]
        rows, head = await run_in_threadpool(data)
        return csv_response(rows, LIST_COLUMNS, "definitions.csv", head)

    # -- one definition ------------------------------------------------------------------

    def known_kind(kind: str) -> str:
        if kind not in KINDS:
            raise PageError(404, f"There is no kind of definition {kind!r}.",
                            "Open the certifications page and pick a definition there.")
        return kind

    def versions_of(kind: str, def_id: str) -> list[dict]:
        return [d for d in rules.definitions()["definitions"] if d["kind"] == kind and d["id"] == def_id]

    def definition_data(kind: str, def_id: str) -> dict:
        versions = versions_of(kind, def_id)
        if not versions:
            raise PageError(404, f"There is no {KIND_NAMES[kind].lower()} {def_id!r}.",
                            "Open the certifications page to see the definitions there are.")
        pubs = rules.publications(kind, def_id)
        by_version: dict[int, list[dict]] = {}
        for p in pubs:
            by_version.setdefault(p["version"], []).append(p)
        history = [{"at": d["created"], "what": "saved", "version": d["version"], "who": d["who"], "why": d["why"]}
                   for d in versions]
        history += [{"at": p["at"], "what": "published", "version": p["version"], "who": p["who"], "why": p["why"]}
                    for p in pubs]
        history.sort(key=lambda h: (h["at"], h["what"] == "published"))
        in_force = next((d["version"] for d in versions if d["published"]), None)
        return {"versions": versions, "by_version": by_version, "history": history, "in_force": in_force}

    async def definition(request: Request) -> Response:
        await site.need(request)
        kind, def_id = known_kind(request.path_params["kind"]), request.path_params["def_id"]
        page = page_param(request.query_params)
        data = await run_in_threadpool(definition_data, kind, def_id)
        newest_first = list(reversed(data["versions"]))
        shown = newest_first[(page - 1) * PAGE:page * PAGE]
        newest = newest_first[0]
        return site.render(
            request, "definition.html", kind=kind, kind_name=KIND_NAMES[kind], def_id=def_id,
            title=(next((d for d in data["versions"] if d["published"]), newest))["definition"].get("title", ""),
            shown=shown, newest=newest, by_version=data["by_version"], history=data["history"],
            in_force=data["in_force"], notice=_notice(request.query_params),
            next_url=f"?page={page + 1}" if len(newest_first) > page * PAGE else None,
            prev_url=f"?page={page - 1}" if page > 1 else None,
            as_json=lambda body: json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True))

    def _notice(q) -> str:
        if (q.get("published") or "").isdigit():
            return (f"Version {q['published']} is published. Statuses are recomputed within seconds; "
                    "the roster follows.")
        return ""

    # -- defining ------------------------------------------------------------------------

    def choices() -> dict:
        defs = rules.definitions()["definitions"]
        return {"completion_ids": sorted({d["id"] for d in defs if d["kind"] == "completion"}),
                "certification_ids": sorted({d["id"] for d in defs if d["kind"] == "certification"})}

    def form_page(request: Request, kind: str | None, values: dict, status: int = 200, error: dict | None = None,
                  of: str = "") -> Response:
        return site.render(request, "definition_form.html", status, kind=kind, kinds=KIND_ORDER,
                           kind_names=KIND_NAMES, fields={n: label for n, label, _ in FIELDS.get(kind, ())},
                           values=values, error=error, of=of, **(choices() if kind else {}))

    async def new_form(request: Request) -> Response:
        await site.need(request, "admin")
        q = request.query_params
        kind = kind_param(q)
        def_id = q.get("id") or ""
        values: dict = {}
        if kind and def_id:
            versions = await run_in_threadpool(versions_of, kind, def_id)
            if not versions:
                raise PageError(404, f"There is no {KIND_NAMES[kind].lower()} {def_id!r}.",
                                "Leave the id out to define a new one.")
            values = values_from_body(kind, versions[-1]["definition"])
        return await run_in_threadpool(form_page, request, kind, values, 200, None, def_id)

    async def create(request: Request) -> Response:
        account, _ = await site.act(request, "admin")
        form = await request.form()     # the same form site.act read, with every value of a repeated field
        kind = known_kind(request.path_params["kind"])
        values = {n: str(form.get(n, "")) for n, _, _ in FIELDS[kind]}
        values["certifications"] = [c for raw in form.getlist("certifications") for c in _split(str(raw))]
        values["advanced"], values["reason"] = str(form.get("advanced", "")), str(form.get("reason", ""))
        try:
            body, _ = body_from_form(kind, form)
            made = await run_in_threadpool(rules.create_definition, kind, body, f"web:{account.username}",
                                           values["reason"])
        except (DefinitionError, RulesError) as exc:
            status = exc.status if 400 <= exc.status < 500 else 400
            name, label = field_of(kind, exc.path)
            return await run_in_threadpool(form_page, request, kind, values, status,
                                           {"field": name, "label": label, "message": exc.message},
                                           str(form.get("of", "")))
        return RedirectResponse(f"{prefix}/definitions/{kind}/{quote(made['id'], safe='')}/versions/"
                                f"{made['version']}/preview", 303)

    # -- preview and publishing ------------------------------------------------------------

    def version_param(request: Request) -> tuple[str, str, int]:
        kind = known_kind(request.path_params["kind"])
        raw = request.path_params["version"]
        if not raw.isdigit():
            raise PageError(404, f"There is no version {raw!r}.", "Pick a version on the definition's page.")
        return kind, request.path_params["def_id"], int(raw)

    def preview_data(account, kind: str, def_id: str, version: int, page: int) -> dict:
        d = next((x for x in versions_of(kind, def_id) if x["version"] == version), None)
        if d is None:
            raise PageError(404, f"There is no version {version} of {KIND_NAMES[kind].lower()} {def_id!r}.",
                            "Pick a version on the definition's page.")
        out = {"d": d, "problem": None, "changes": [], "counts": [], "people": 0, "total": 0, "as_of": "",
               "computing": None}
        # one computation per version, day and state of the definitions, the people and the history
        key = ("preview", kind, def_id, version, rules.today().isoformat(), rules.chain_head()["head"],
               len(rules.publications()), rules.directory_version())

        def work(job):
            job.total = len(site.directory())
            return rules.preview(kind, def_id, version, BIG, progress=lambda n: setattr(job, "done", n))
        try:
            job = site.jobs.run(key, work)
        except Busy:
            raise PageError(503, "Too many previews are being computed at the moment.",
                            "Open this page again in a minute.") from None
        if job.running:
            out["computing"] = {"done": job.done, "total": job.total, "seconds": int(job.seconds),
                                "refresh": REFRESH_SECONDS}
            return out
        exc = site.jobs.take_failure(job)
        if isinstance(exc, RulesError) and exc.status == 409:
            out["problem"] = {"message": exc.message, "path": exc.path}
            return out
        if exc is not None:
            raise PageError(500, f"Computing who would change status failed ({type(exc).__name__}).",
                            "Open this page again to compute it again; if it fails again, tell whoever runs "
                            "the service.")
        p = job.result
        team = site.team_of(account)
        changes = [c for c in p["changes"] if team is None or c["person_id"] in team]
        counts: dict[tuple[str, str], int] = {}
        for c in changes:
            key = (c["status_before"], c["status_after"])
            counts[key] = counts.get(key, 0) + 1
        out.update(changes=changes[(page - 1) * PAGE:page * PAGE], total=len(changes), as_of=p["as_of"],
                   people=len(team) if team is not None else p["people"],
                   counts=sorted(({"before": b, "after": a, "n": n} for (b, a), n in counts.items()),
                                 key=lambda r: (-r["n"], r["before"], r["after"])))
        return out

    async def preview(request: Request, error: dict | None = None, status: int = 200, reason: str = "") -> Response:
        account = await site.need(request)
        kind, def_id, version = version_param(request)
        page = page_param(request.query_params) if request.method == "GET" else 1
        data = await run_in_threadpool(preview_data, account, kind, def_id, version, page)
        return site.render(request, "preview.html", status, kind=kind, kind_name=KIND_NAMES[kind], def_id=def_id,
                           version=version, error=error, reason=reason,
                           next_url=f"?page={page + 1}" if data["total"] > page * PAGE else None,
                           prev_url=f"?page={page - 1}" if page > 1 else None, first=(page - 1) * PAGE, **data)

    async def publish(request: Request) -> Response:
        account, data = await site.act(request, "admin")
        kind, def_id, version = version_param(request)
        reason = str(data.get("reason", ""))
        try:
            await run_in_threadpool(rules.publish, kind, def_id, version, f"web:{account.username}", reason)
        except RulesError as exc:
            if exc.status == 404:
                raise
            return await preview(request, {"message": exc.message, "path": exc.path}, exc.status, reason)
        return RedirectResponse(f"{prefix}/definitions/{kind}/{quote(def_id, safe='')}?published={version}", 303)

    # -- the roster ----------------------------------------------------------------------

    def roster_filters(q) -> tuple[list[str] | None, int | None]:
        status = [s for s in q.getlist("status") if s] or None
        for s in status or ():
            if s not in STATUSES:
                raise PageError(400, f"There is no status {s!r}.", "Pick a status from the list.")
        days = q.get("expiring_within_days") or None
        if days is not None:
            if not days.isdigit() or int(days) > 36500:
                raise PageError(400, "“Expiring within” is a number of days.", "Enter a whole number of days.")
            days = int(days)
        return status, days

    def roster_data(account, cid: str, q, limit: int = PAGE) -> dict:
        status, days = roster_filters(q)
        team = site.team_of(account)
        rows, after = [], q.get("after") or None
        while True:
            page = rules.roster(cid, status, q.get("site") or None, q.get("role") or None, days, None, after, limit,
                                people=None if team is None else sorted(team))
            rows += page["people"]
            after = page["next"]
            if not after or len(rows) >= limit:
                break
        return {"cid": cid, "rows": rows, "next": after,
                "wanted": status or [], "site": q.get("site", ""), "role": q.get("role", ""),
                "days": "" if days is None else days, "as_of": page["as_of"], "chain_head": page["chain_head"]}

    async def roster(request: Request) -> Response:
        account = await site.need(request)
        data = await run_in_threadpool(roster_data, account, request.path_params["cid"], request.query_params)
        data["cert"] = (await run_in_threadpool(site.certifications)).get(data["cid"], {})
        base = [(k, v) for k, v in request.query_params.multi_items() if k != "after"]
        next_url = "?" + urlencode(base + [("after", data["next"])]) if data["next"] else None
        csv_url = f"{prefix}/certifications/{request.path_params['cid']}/roster.csv" + ("?" + urlencode(base) if base else "")
        return site.render(request, "roster.html", next_url=next_url, csv_url=csv_url, **data)

    def roster_csv_text(account, cid: str, q) -> tuple[str, str]:
        """The whole roster the filters keep (not a page of it) in one read, as CSV."""
        status, days = roster_filters(q)
        team = site.team_of(account)
        rows, head = rules.roster_table(cid, status, q.get("site") or None, q.get("role") or None, days,
                                        None if team is None else sorted(team))
        buf = io.StringIO()
        tables.write_roster(buf, rows)
        return buf.getvalue(), head

    async def roster_csv(request: Request) -> Response:
        account = await site.need(request)
        cid = request.path_params["cid"]
        text, head = await run_in_threadpool(roster_csv_text, account, cid, request.query_params)
        return csv_download(text, f"roster-{cid}.csv", head)

    return [Route("/certifications", list_page), Route("/certifications.csv", list_csv),
            Route("/certifications/{cid}/roster", roster), Route("/certifications/{cid}/roster.csv", roster_csv),
            Route("/definitions", lambda request: RedirectResponse(f"{prefix}/certifications", 303)),
            Route("/definitions/new", new_form),
            Route("/definitions/{kind}", create, methods=["POST"]),
            Route("/definitions/{kind}/{def_id}", definition),
            Route("/definitions/{kind}/{def_id}/versions/{version}/preview", preview),
            Route("/definitions/{kind}/{def_id}/versions/{version}/publish", publish, methods=["POST"])]
