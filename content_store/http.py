"""The content store's HTTP API, a Starlette app to mount (at ``/content`` by the service).

    POST /packages                          import a package (body: the zip, or a form with it)
    GET  /courses[?include_retired=true]    list courses
    GET  /courses/{id}[?version=N]          a course, its versions, one version's structure and report
    GET  /courses/{id}/versions/{n}         one version's structure and report
    POST /courses/{id}/retire               retire a course (its versions stay servable)
    GET  /files/{id}/{n}/{path}             a file of version n (HEAD, Range, ETag supported)

Every client error is a 4xx with ``{"error": {"status", "message", "path"}}``; a refused
package adds ``"report"``, the full validation report.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import PackageRejected
from .importer import ModelCheck, import_file
from .limits import Limits
from .numbers import is_digits, whole_number
from .serve import file_response
from .store import ContentStore
from .upload import receive_upload


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, message: str, path: str = "", **extra) -> JSONResponse:
    body = {"status": status, "message": message, "path": path, **extra}
    return JSONResponse({"error": body}, status_code=status)


def create_app(root: str | Path, limits: Limits | None = None, store: ContentStore | None = None,
               files_url: str | None = None, checks: Sequence[ModelCheck] = ()) -> Starlette:
    """The content store app over the store in ``root`` (``<data_dir>/content``).

    ``checks``: warnings other parts add to each import's report (``importer.ModelCheck``).

    ``files_url``: where the files of a version are served, for the ``files_url`` links (the service
    serves them on another origin: ``http://host:8081/content/files``); default: this app's ``/files``."""
    limits = limits or Limits()
    store = store or ContentStore(root)

    def links(request: Request, course_id: str, version: int | None = None) -> dict:
        base = request.scope.get("root_path", "")
        out = {"self": f"{base}/courses/{course_id}"}
        if version is not None:
            out["files"] = f"{files_url or base + '/files'}/{course_id}/{version}/"
        return out

    def course_view(request: Request, course: dict) -> dict:
        course = dict(course)
        for v in course.get("versions", []):
            v["files_url"] = links(request, course["id"], v["version"])["files"]
        course["links"] = links(request, course["id"], course.get("latest_version"))
        return course

    def version_view(request: Request, version: dict) -> dict:
        version = dict(version)
        version["files_url"] = links(request, version["course_id"], version["version"])["files"]
        return version

    async def upload(request: Request) -> Response:
        dest = store.temp_path(".upload")
        try:
            sha, _ = await receive_upload(request, dest, limits.max_upload_bytes)
            result = await run_in_threadpool(import_file, store, dest, limits, sha, tuple(checks))
        except PackageRejected as exc:
            return JSONResponse(exc.to_dict(), status_code=exc.status)
        finally:
            await run_in_threadpool(dest.unlink, True)
        course = course_view(request, result.course)
        body = {"created": result.created, "course": course,
                "version": version_view(request, result.version)}
        return JSONResponse(body, status_code=201 if result.created else 200,
                            headers={"location": course["links"]["self"]})

    async def list_courses(request: Request) -> Response:
        include = request.query_params.get("include_retired", "").lower() in ("1", "true", "yes")
        courses = await run_in_threadpool(store.courses, include)
        for c in courses:
            c["links"] = links(request, c["id"], c["latest_version"])
        return JSONResponse({"courses": courses})

    async def show_course(request: Request) -> Response:
        course_id = request.path_params["course_id"]
        course = await run_in_threadpool(store.course, course_id)
        if course is None:
            return error_response(404, f"no course with id {course_id!r}", "course_id")
        wanted = request.query_params.get("version")
        number = course["latest_version"]
        if wanted is not None:
            if not is_digits(wanted):
                return error_response(400, "version must be a positive whole number (digits 0-9)", "version")
            number = whole_number(wanted)  # None past any version the store can hold: a 404 below
        version = await run_in_threadpool(store.version, course_id, number) if number else None
        if version is None:
            return error_response(404, f"course {course_id!r} has no version {number}", "version")
        body = course_view(request, course)
        body["version"] = version_view(request, version)
        return JSONResponse(body)

    async def show_version(request: Request) -> Response:
        course_id, number = request.path_params["course_id"], whole_number(request.path_params["version"])
        version = await run_in_threadpool(store.version, course_id, number) if number else None
        if version is None:
            return error_response(404, f"course {course_id!r} has no version "
                                       f"{request.path_params['version'][:40]}", "version")
        return JSONResponse(version_view(request, version))

    async def retire(request: Request) -> Response:
        course_id = request.path_params["course_id"]
        course = await run_in_threadpool(store.retire, course_id)
        if course is None:
            return error_response(404, f"no course with id {course_id!r}", "course_id")
        return JSONResponse(course_view(request, course))

    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(exc.status_code, exc.detail, request.url.path)

    routes = [
        Route("/packages", upload, methods=["POST"]),
        Route("/courses", list_courses, methods=["GET"]),
        Route("/courses/{course_id}", show_course, methods=["GET"]),
        # {version} as text, read by whole_number: Starlette's int convertor passes numbers past SQLite's range
        Route("/courses/{course_id}/versions/{version}", show_version, methods=["GET"]),
        Route("/courses/{course_id}/retire", retire, methods=["POST"]),
        Route("/files/{course_id}/{version}/{path:path}", file_endpoint(store), methods=["GET", "HEAD"]),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.store = store
    app.state.limits = limits
    return app


def create_files_app(store: ContentStore) -> Starlette:
    """Only the files: ``GET``/``HEAD /{id}/{n}/{path}``, to mount at ``/content/files`` on its own."""
    async def http_error(request: Request, exc: HTTPException) -> Response:
        return error_response(exc.status_code, exc.detail, request.url.path)

    routes = [Route("/{course_id}/{version}/{path:path}", file_endpoint(store), methods=["GET", "HEAD"])]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.store = store
    return app


def file_endpoint(store: ContentStore):
    """The endpoint that sends a file of a version (HEAD, Range, ETag supported)."""
    async def serve_file(request: Request) -> Response:
        p = request.path_params
        path = p["path"]
        number = whole_number(p["version"])
        if not number:
            return error_response(404, "no such version (a version is a whole number, digits 0-9)", "version")
        if not path or path.endswith("/") or any(s in ("", ".", "..") for s in path.split("/")) \
                or "\x00" in path:
            return error_response(404, "no such file in this version", "path")
        stored = store.cached_file(p["course_id"], number, path)
        if stored is None:
            stored = await run_in_threadpool(store.file, p["course_id"], number, path)
        if stored is None:
            return error_response(404, f"version {number} of course {p['course_id']!r} has no file "
                                  f"{path!r}", "path")
        return file_response(request, stored)

    return serve_file
