"""Courses: the list with completion figures (and its CSV), a package upload with its validation report,
a course with its versions, a version with its structure, retiring a course and an admin's preview launch.

    GET  /courses                   ?retired=1 shows retired courses too; ?start=N pages (PAGE a page)
    GET  /courses.csv               the same courses, every page
    POST /courses                   admin: a package upload (multipart/form-data: csrf first, then the file)
    GET  /courses/{course}          the course, its versions and figures
    GET  /courses/{course}/versions/{n}          one version: date, digest, report, structure
    POST /courses/{course}/retire                admin: with a reason and a confirmation
    POST /courses/{course}/versions/{n}/preview  admin: a launch for the signed-in admin, then a 303 to it

They call what the content and player APIs call, handed over by the composition root in
``Site.services``: ``content`` (content_store.store.ContentStore), ``content_limits``
(content_store.limits.Limits) and ``import_checks`` (for content_store.importer.import_file, as
``POST /content/packages`` calls it), ``registrations`` (player.registrations.Registrations, as
``GET /player/registrations``), ``launcher`` (player.launch.Launcher, as ``POST /player/launches``),
``cmi5`` (player.cmi5.launch.Cmi5Launcher), ``content_origin`` (where launch links point) and
``activity_iri_base`` (the player's activity IRIs, for the link to a course's statements).

The upload is streamed to the content store's ``tmp/`` within its ``max_upload_bytes`` (not the pages'
64 KB form limit); the form's CSRF token must come before the file and is checked before any byte of
the file is written.
"""
from __future__ import annotations

import logging
import uuid
from urllib.parse import urlencode

from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from content_store.errors import PackageRejected
from content_store.importer import import_file
from content_store.numbers import is_digits, whole_number
from content_store.upload import receive_upload
from lrs.errors import XAPIError
from player.bridge.vocabulary import course_iri
from player.cmi5.launch import course_tree

from ..site import CSP, PAGE, PageError, Site, csv_response

log = logging.getLogger("lrs.web")

FIGURES_LIMIT = 1000       # registrations counted per course for its figures; past that, "1000+"
COURSE_COLUMNS = ["id", "title", "format", "identifier", "latest_version", "versions", "updated", "retired",
                  "registrations", "started", "completed", "passed"]
ADVICE = (   # what to do about an issue, by its rule (the first prefix that matches)
    ("upload.too_large", "Make the package smaller (compress media, remove unused files) or ask an admin to raise "
                         "LRS_PACKAGE_MAX_UPLOAD_BYTES."),
    ("upload.", "Choose the package's .zip file in the form and send it again."),
    ("zip.too_large", "The package expands beyond the limits: remove unused files, or ask an admin to raise them."),
    ("zip.", "Export the package again from the authoring tool as a plain zip (no password, standard "
             "compression) and upload it again."),
    ("xml.", "Fix the XML of the file named, at the line shown (a tag not closed, a stray character), then "
             "upload the package again."),
    ("package.", "Put the course descriptor (imsmanifest.xml, cmi5.xml or tincan.xml) at the top level of the "
                 "zip, one descriptor only, then upload again."),
    ("launch.", "Point the launch at a file in the package (or an https URL), then upload again."),
)


def advice(issue: dict) -> str:
    rule = issue.get("rule", "")
    for prefix, text in ADVICE:
        if rule.startswith(prefix):
            return text
    if issue.get("severity") == "warning":
        return ("The package was accepted: check that the course behaves as intended, or correct the element in "
                "the authoring tool and upload a new version.")
    return ("Correct the element named in the file named (in the authoring tool, if it wrote the file), export "
            "the package again and upload it.")


def issues_view(report: dict) -> list[dict]:
    """The report's issues, errors first then warnings, each with where it is and what to do."""
    out = []
    for severity in ("errors", "warnings"):
        for i in report.get(severity) or []:
            i = {**i, "severity": i.get("severity") or severity[:-1]}
            where = (i.get("file") or "") + (f", line {i['line']}" if i.get("line") else "")
            out.append({**i, "where": where or "the package as a whole", "element": i.get("element") or "",
                        "todo": advice(i)})
    return out


def format_label(fmt: str | None, edition: str | None = None) -> str:
    if fmt == "scorm12":
        return "SCORM 1.2"
    if fmt == "scorm2004":
        return "SCORM " + (f"{edition} edition" if edition and edition != "2004" else "2004")
    return {"cmi5": "cmi5", "tincan": "xAPI (TinCan)"}.get(fmt or "", fmt or "–")


def course_figures(registrations, course: dict, limit: int | None = None) -> dict:
    """Counts over the player's registrations of the course (``Registrations.page``, what
    ``GET /player/registrations`` answers), at most ``limit`` (FIGURES_LIMIT) of them: ``registrations``;
    ``started`` (SCORM: with an attempt; cmi5, TinCan: every registration, made by a launch); ``completed``
    (completion status completed, or a cmi5 course's moveOn met); ``passed`` (success status passed:
    SCORM only). ``tracked``/``passed_tracked``: whether the format reports them to the player at all."""
    limit = FIGURES_LIMIT if limit is None else limit
    fmt = course.get("format")
    scorm = fmt in ("scorm12", "scorm2004")
    out = {"registrations": 0, "started": 0, "completed": 0, "passed": 0, "capped": False,
           "tracked": fmt != "tincan", "passed_tracked": scorm}
    if registrations is None:
        return {**out, "tracked": False, "passed_tracked": False}
    after = None
    while True:
        page = registrations.page(course=course["id"], limit=100, after=after)
        for r in page["registrations"]:
            if out["registrations"] >= limit:     # at least one more than the limit: shown as "limit+"
                out["capped"] = True
                return out
            s = r["status"]
            out["registrations"] += 1
            out["started"] += bool(s.get("attempts")) if scorm else 1
            out["completed"] += bool(s.get("completion_status") == "completed" or s.get("satisfied"))
            out["passed"] += s.get("success_status") == "passed"
        if "more" not in page:
            return out
        after = page["registrations"][-1]["id"]


def course_activity(version: dict, iri_base: str) -> str | None:
    """The activity the statements about a course version are on (with their SCOs and AUs as related
    activities): the player's course IRI (SCORM), the LMS's cmi5 course id, a TinCan package's launch activity."""
    fmt, structure = version.get("format"), version.get("structure") or {}
    if fmt == "tincan":
        return (structure.get("tincan") or {}).get("launch_activity")
    if not iri_base:
        return None
    if fmt == "cmi5" and structure.get("cmi5"):
        return course_tree(version["course_id"], structure, iri_base)["course"]["lms"]
    return course_iri(iri_base, version["course_id"]) if fmt in ("scorm12", "scorm2004") else None


def staff_agent(account, base: str) -> dict:
    """The learner a preview launches as: the staff account itself, never a person of the directory, so a
    preview counts towards nobody's records."""
    return {"objectType": "Agent", "name": f"{account.username} (preview)",
            "account": {"homePage": base.rstrip("/") + "/accounts", "name": account.username}}


def routes(site: Site) -> list[Route]:
    prefix = site.prefix

    def service(name: str):
        found = site.services.get(name)
        if found is None:
            raise PageError(503, f"This service runs without the {name} part the course pages need.",
                            "Ask an admin to check how the service is set up.")
        return found

    # -- figures ---------------------------------------------------------------------------

    def figures(course: dict) -> dict:
        return course_figures(site.services.get("registrations"), course)

    # -- list ------------------------------------------------------------------------------

    def listing(q) -> dict:
        content = service("content")
        retired = q.get("retired", "") in ("1", "true", "yes", "on")
        start = q.get("start", "0")
        if not is_digits(start) or whole_number(start) is None:
            raise PageError(400, "The page position (field: start) must be a whole number.",
                            "Use the Next and Previous links.")
        start = whole_number(start)
        courses = content.courses(retired)
        shown = courses[start:start + PAGE]
        rows = [{**c, "format_label": format_label(c["format"]), "figures": figures(c)} for c in shown]
        return {"courses": rows, "total": len(courses), "start": start, "retired": retired,
                "next_start": start + PAGE if start + PAGE < len(courses) else None,
                "prev_start": max(0, start - PAGE) if start else None}

    def page_url(retired: bool, start: int | None) -> str | None:
        if start is None:
            return None
        params = ([("retired", "1")] if retired else []) + ([("start", str(start))] if start else [])
        return f"{prefix}/courses" + ("?" + urlencode(params) if params else "")

    async def courses_page(request: Request, notice: str = "", status: int = 200, **extra) -> Response:
        await site.need(request)
        data = await run_in_threadpool(listing, request.query_params)
        return site.render(request, "courses.html", status, notice=notice, limits=site.services.get("content_limits"),
                           next_url=page_url(data["retired"], data["next_start"]),
                           prev_url=page_url(data["retired"], data["prev_start"]),
                           csv_url=f"{prefix}/courses.csv" + ("?retired=1" if data["retired"] else ""),
                           figures_limit=FIGURES_LIMIT, **data, **extra)

    async def courses_csv(request: Request) -> Response:
        await site.need(request)
        content = service("content")
        retired = request.query_params.get("retired", "") in ("1", "true", "yes", "on")

        def rows() -> list[dict]:
            out = []
            for c in content.courses(retired):
                f = figures(c)
                out.append({**c, "versions": c["version_count"], "format": format_label(c["format"]),
                            "registrations": f"{f['registrations']}+" if f["capped"] else f["registrations"],
                            "started": f["started"] if f["tracked"] else None,
                            "completed": f["completed"] if f["tracked"] else None,
                            "passed": f["passed"] if f["passed_tracked"] else None})
            return out
        return csv_response(await run_in_threadpool(rows), COURSE_COLUMNS, "courses.csv", "")

    # -- upload ----------------------------------------------------------------------------

    async def upload(request: Request) -> Response:
        account = await site.need(request)
        site.may_write(account, "admin")         # before a byte of the body is read
        content, limits = service("content"), service("content_limits")
        checks = tuple(site.services.get("import_checks") or ())
        dest = content.temp_path(".upload")
        try:
            sha, _, filename = await receive_package(request, dest, limits.max_upload_bytes,
                                                     lambda token: site.check_csrf(request, {"csrf": token}))
            result = await run_in_threadpool(import_file, content, dest, limits, sha, checks)
        except PackageRejected as exc:
            return site.render(request, "courses_report.html", exc.status, message=exc.message,
                               issues=issues_view(exc.report.to_dict()), limits=limits)
        finally:
            await run_in_threadpool(dest.unlink, True)
        course, version = result.course, result.version
        log.info("package imported from the pages", extra={"fields": {
            "who": account.username, "course": course["id"], "version": version["version"],
            "created": result.created, "file": filename[:200]}})
        return RedirectResponse(f"{prefix}/courses/{course['id']}/versions/{version['version']}?imported="
                                + ("new" if result.created else "same"), 303)

    # -- one course, one version -----------------------------------------------------------

    def course_of(course_id: str) -> dict:
        course = service("content").course(course_id)
        if course is None:
            raise PageError(404, "There is no such course.", "Open the courses list and pick one there.")
        return course

    def course_data(course_id: str) -> dict:
        course = course_of(course_id)
        for v in course["versions"]:
            v["format_label"] = format_label(v["format"], v.get("edition"))
        return {"course": course, "figures": figures(course), "format_label": format_label(course["format"])}

    def with_launch_csp(response: Response) -> Response:
        """A preview form posts here and is redirected to the content origin: the page's form-action
        must allow that origin too (browsers check a form's redirects against it)."""
        origin = site.services.get("content_origin") or ""
        if origin:
            response.headers["Content-Security-Policy"] = CSP.replace("form-action 'self'",
                                                                      f"form-action 'self' {origin}")
        return response

    async def course_page(request: Request, notice: str = "", status: int = 200) -> Response:
        await site.need(request)
        data = await run_in_threadpool(course_data, request.path_params["course"])
        return with_launch_csp(site.render(request, "courses_course.html", status, notice=notice,
                                           figures_limit=FIGURES_LIMIT, **data))

    def version_data(course_id: str, number: str) -> dict:
        course = course_of(course_id)
        n = whole_number(number) if is_digits(number) else None
        version = service("content").version(course_id, n) if n else None
        if version is None:
            raise PageError(404, "This course has no such version.", "Open the course and pick one of its versions.")
        report = version.get("report") or {}
        return {"course": course, "version": version, "issues": issues_view(report),
                "errors": len(report.get("errors") or []), "warnings": len(report.get("warnings") or []),
                "format_label": format_label(version["format"], version.get("edition")),
                "launchables": (version.get("structure") or {}).get("launchables") or [],
                "activity": course_activity(version, site.services.get("activity_iri_base") or ""),
                "latest": version["version"] == course["latest_version"]}

    async def version_page(request: Request) -> Response:
        await site.need(request)
        data = await run_in_threadpool(version_data, request.path_params["course"], request.path_params["n"])
        imported = request.query_params.get("imported")
        notice = {"new": f"Imported as version {data['version']['version']}.",
                  "same": "This package is already the course's latest version, byte for byte: nothing was added."
                  }.get(imported or "", "")
        return with_launch_csp(site.render(request, "courses_version.html", notice=notice, **data))

    # -- admin actions ---------------------------------------------------------------------

    async def retire(request: Request) -> Response:
        account, data = await site.act(request, "admin")
        course_id = request.path_params["course"]
        reason = str(data.get("reason", "")).strip()
        if not reason:
            raise PageError(400, "Retiring a course needs a reason (field: reason).",
                            "Go back, say why the course is retired, and send the form again.")
        if len(reason) > 1000:
            raise PageError(400, "The reason is longer than 1000 characters (field: reason).", "Shorten it.")
        if data.get("confirm") != "yes":
            raise PageError(400, "Retiring was not confirmed (field: confirm).",
                            "Go back, tick the box that confirms it, and send the form again.")
        content = service("content")
        course = await run_in_threadpool(content.retire, course_id)
        if course is None:
            raise PageError(404, "There is no such course.", "Open the courses list and pick one there.")
        log.info("course retired from the pages", extra={"fields": {
            "who": account.username, "course": course_id, "reason": reason}})
        return await course_page(request, notice="Retired: learners can no longer launch this course; its "
                                                 "versions and records stay.")

    async def preview(request: Request) -> Response:
        account, data = await site.act(request, "admin")
        course_id, number = request.path_params["course"], request.path_params["n"]
        info = await run_in_threadpool(version_data, course_id, number)
        course, version = info["course"], info["version"]
        if course.get("retired"):
            raise PageError(409, "This course is retired: it cannot be launched.",
                            "Import a new version to bring it back, then preview that.")
        base = (site.base_url or str(request.base_url)).rstrip("/") + prefix
        learner = staff_agent(account, base)
        try:
            if version["format"] in ("cmi5", "tincan"):
                if not info["latest"]:
                    raise PageError(409, f"A {format_label(version['format'])} course previews its latest "
                                         f"version only (version {course['latest_version']}).",
                                    "Open the latest version and preview it there.")
                au = str(data.get("au") or "0")
                if not is_digits(au) or len(au) > 6:
                    raise PageError(400, "The AU to preview (field: au) is a number from the list.",
                                    "Pick an AU from the list.")
                made = await run_in_threadpool(service("cmi5").create, learner, course_id, int(au),
                                               str(uuid.uuid4()), "Normal", None)
                url = made["launch_url"]
            else:
                origin = site.services.get("content_origin") or str(request.base_url).rstrip("/")
                launch = await run_in_threadpool(service("launcher").create, learner, course_id, origin,
                                                 version=version["version"])
                url = launch.url
        except XAPIError as exc:
            field = f" (field: {exc.path})" if exc.path else ""
            raise PageError(exc.status, f"The launch was refused: {exc.message}{field}.",
                            "Go back to the course and try again.") from None
        log.info("preview launch from the pages", extra={"fields": {
            "who": account.username, "course": course_id, "version": version["version"]}})
        return RedirectResponse(url, 303, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})

    return [Route("/courses", courses_page), Route("/courses", upload, methods=["POST"]),
            Route("/courses.csv", courses_csv),
            Route("/courses/{course}", course_page),
            Route("/courses/{course}/retire", retire, methods=["POST"]),
            Route("/courses/{course}/versions/{n}", version_page),
            Route("/courses/{course}/versions/{n}/preview", preview, methods=["POST"])]


# -- the upload ------------------------------------------------------------------------------

async def receive_package(request: Request, dest, max_bytes: int, check_csrf) -> tuple[str, int, str]:
    """Stream the file of the page's ``multipart/form-data`` upload to ``dest`` (content_store/upload.py);
    return (sha256, bytes, file name). ``check_csrf(token)`` is called with the ``csrf`` field when the
    file part begins (it raises to refuse), so nothing of a forged form is written. Raises
    PackageRejected (the report page) for an upload the content store refuses as such."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise PageError(400, "The upload must be sent as the page's form (multipart/form-data).",
                        "Open the courses page and send the package from its form.")
    names = []

    def before_file(fields: dict[str, str], filename: str) -> None:
        check_csrf(fields.get("csrf", ""))
        names.append(filename)

    sha, size = await receive_upload(request, dest, max_bytes, before_file)
    return sha, size, names[0] if names else ""
