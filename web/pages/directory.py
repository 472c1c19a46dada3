"""The people directory's import (admin): a CSV or JSON people file uploaded from a form, applied with
``Rules.import_people_text`` (what ``POST /rules/people`` calls), and its report shown as a list: the
errors first, each with its line and field, then how many people were created, updated and unchanged.

    GET  /people/import     the form
    POST /people/import     multipart/form-data: ``csrf``, ``file`` (at most MAX_FILE bytes), ``format``
                            (auto, csv, json), ``partial`` (a checkbox: import the good rows of a file
                            with errors)

The upload is refused before it is read when its declared length is above MAX_UPLOAD (413); the file
part is spooled by the multipart parser, never held whole in memory beyond MAX_FILE.
"""
from __future__ import annotations

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from rules.core import RulesError
from rules.people import parse_csv, parse_json

from ..site import PageError, Site

MAX_FILE = 5 * 1024 * 1024                  # the people file
MAX_UPLOAD = MAX_FILE + 64 * 1024           # the whole form: the file, the other fields, the part headers
FORMATS = ("auto", "csv", "json")


def _format(chosen: str, filename: str, text: str) -> str:
    if chosen in ("csv", "json"):
        return chosen
    name = filename.lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    return "json" if text.lstrip()[:1] in ("[", "{") else "csv"


def _row_ids(text: str, fmt: str) -> dict[int, str]:
    """Line -> person id of the rows the file gives (as the rules read them), to tell new people from
    updated ones in the report."""
    if fmt == "csv":
        parsed = parse_csv(text)
    else:
        try:
            parsed = parse_json(orjson.loads(text))
        except orjson.JSONDecodeError:
            return {}
    return {r.line: r.person_id for r in parsed.rows}


def routes(site: Site) -> list[Route]:
    rules = site.rules

    def form_page(request: Request, status: int = 200, **ctx) -> Response:
        return site.render(request, "people_import.html", status, formats=FORMATS,
                           max_mb=MAX_FILE // (1024 * 1024), **ctx)

    async def import_form(request: Request) -> Response:
        await site.need(request, "admin")
        return form_page(request, chosen="auto", partial=False)

    def existing_ids() -> set[str]:
        ids, after = set(), None
        while True:
            page = rules.people(after, 1000)
            ids.update(p["person_id"] for p in page)
            if len(page) < 1000:
                return ids
            after = page[-1]["person_id"]

    def apply(text: str, fmt: str, who: str, partial: bool) -> dict:
        rows = _row_ids(text, fmt)
        before = existing_ids() if rows else set()
        result = rules.import_people_text(text, fmt, who, partial)
        bad = {e["line"] for e in result["errors"]}
        created = sum(1 for line, pid in rows.items() if line not in bad and pid not in before) \
            if result["applied"] else 0
        created = min(created, result["imported"])
        return {**result, "created": created, "updated": result["imported"] - created}

    async def import_people(request: Request) -> Response:
        account = await site.need(request)
        site.may_write(account, "admin")          # refused before a large body is read
        size = request.headers.get("content-length", "")
        if not size.isdigit():
            raise PageError(411, "The upload had no length.", "Send the file again from the import page.")
        if int(size) > MAX_UPLOAD:
            raise PageError(413, f"The file is larger than {MAX_FILE // (1024 * 1024)} MB; nothing was imported.",
                            "Split the file into smaller ones (for example by site) and import each.")
        if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
            raise PageError(415, "The import takes a file sent from the import form.",
                            "Open the import page, choose the file and send it.")
        form = await request.form(max_files=1, max_fields=10)
        site.check_csrf(request, form)
        chosen = str(form.get("format") or "auto")
        partial = bool(form.get("partial"))
        if chosen not in FORMATS:
            raise PageError(400, f"There is no format {chosen!r}.", "Pick auto, CSV or JSON.")
        upload = form.get("file")
        ctx = {"chosen": chosen, "partial": partial}
        if not isinstance(upload, UploadFile) or not upload.filename:
            return form_page(request, 400, problem="Choose a file to import (field: file).", **ctx)
        raw = await upload.read(MAX_FILE + 1)
        if len(raw) > MAX_FILE:
            raise PageError(413, f"The file is larger than {MAX_FILE // (1024 * 1024)} MB; nothing was imported.",
                            "Split the file into smaller ones (for example by site) and import each.")
        ctx["filename"] = upload.filename
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            return form_page(request, 400, problem="The file is not UTF-8 text (field: file); nothing was imported.",
                             **ctx)
        fmt = _format(chosen, upload.filename, text)
        try:
            report = await run_in_threadpool(apply, text, fmt, f"web:{account.username}", partial)
        except RulesError as exc:
            field = f" (field: {exc.path})" if exc.path else " (field: file)"
            return form_page(request, exc.status, problem=f"{exc.message}{field}; nothing was imported.", **ctx)
        return form_page(request, 200 if report["applied"] else 400, report=report, fmt=fmt, **ctx)

    return [Route("/people/import", import_form), Route("/people/import", import_people, methods=["POST"])]
