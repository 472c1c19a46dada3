"""The ASGI app factory: wires the parts together from ``Settings``."""
from __future__ import annotations

import contextlib
import ctypes
import functools
import sys

import anyio
import orjson

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Mount, Route

import content_store.http
from content_store.limits import Limits
from lrs.auth import AuthLimits
from lrs.http import create_app as create_lrs_app
from lrs.statements.limits import InputLimits, configure as configure_input_limits
from lrs.storage import open_store
from lrs.storage.sqlite import SqliteStore
from player.bridge import Bridge
from player.files import SessionFiles
from player.http import create_admin_app, create_learner_app
from player.registrations import Registrations
from player.runtime_http import Runtime
from player.launch import Launcher
from player.storage import open_player_store
from lrs.cmi5.lms import Cmi5LMS
from lrs.cmi5.store import open_cmi5_store
from player.cmi5.http import create_cmi5_admin_app, create_cmi5_learner_app
from player.cmi5.launch import Cmi5Launcher
from player.bridge.vocabulary import player_authority

from .config import Settings, activity_iri_base, scorm_again_dir
from .imports import IMPORT_CHECKS
from .guard import RequireAdmin
from .rules_part import RulesPart
from .web_part import WebPart
from .logs import ErrorGuard, RequestLogMiddleware, configure_logging
from .origins import CONTENT_HEADERS, MAIN_HEADERS, ByListener, SecurityHeaders, not_found

WRITER_START_WAIT = 1.0  # seconds the server waits for the SQLite writer before it listens


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameter numbers
MMAP_THRESHOLD = 8 * 1024 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024


def _fix_malloc_thresholds() -> None:
    """Keep glibc from moving its mmap threshold, so a freed scrypt buffer goes back to the system.

    A secret check (lrs.auth: scrypt, n=2**14, r=8) takes a 16 MiB buffer. glibc serves the first
    ones with mmap, but freeing one raises its mmap threshold to 16 MiB (and the trim threshold to
    32 MiB), so every later check puts its buffer on the heap of its thread's malloc arena, which
    is not given back: each arena that ran one kept 16 MiB for the life of the process (+32 MB
    after the ingest bench, with two checks at a time). Fixing the thresholds where the dynamic
    ones end up for everything but scrypt (8 MiB: request bodies and their JSON stay on the heap,
    as before; 32 MiB trim) keeps the speed and returns the scrypt buffers. Fixing the mmap
    threshold at glibc's 128 KiB default did the same for memory, but mapped every request body
    and cost 7 % of ingest (bench/RESULTS.md)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
        libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl has mallopt, as a no-op)
        pass


def create_apps(settings: Settings | None = None, *,
                rules_clock=None) -> tuple[RequestLogMiddleware, RequestLogMiddleware]:
    """The main origin's app and the content origin's app (service/origins.py), over the same stores.

    The stores are opened and closed by the main app's lifespan: run that one (a TestClient of the
    main app as a context manager, or ``create_service``); the content app has none of its own.
    ``rules_clock``: the rules' clock (a function returning an aware datetime), injected by tests."""
    settings = settings or Settings.from_env()
    _fix_malloc_thresholds()
    configure_logging(settings)
    configure_input_limits(InputLimits(settings.max_iri_length, settings.max_string_length))
    content_origin = settings.content_url
    store = open_store(settings.data_dir, settings.mongodb_url, serving=True,
                       read_timeout=settings.read_timeout_seconds)
    lrs_app = create_lrs_app(
        store,
        max_request_bytes=settings.max_request_bytes,
        max_batch_statements=settings.max_batch_statements,
        max_query_limit=settings.max_query_limit,
        alternate_auth_prefix_bytes=settings.alternate_auth_prefix_bytes,
        auth_limits=AuthLimits(max_concurrent_checks=settings.auth_max_concurrent_checks,
                               max_failures_per_key=settings.auth_max_failures_per_key,
                               max_failures_per_address=settings.auth_max_failures_per_address,
                               failure_window_seconds=settings.auth_failure_window_seconds),
    )
    content_api = content_store.http.create_app(settings.data_dir / "content", Limits.from_settings(settings),
                                                files_url=content_origin + "/content/files",
                                                checks=IMPORT_CHECKS)
    content_api.add_exception_handler(Exception, _internal_error)  # a JSON 500; ErrorGuard logs it
    content_files = content_store.http.create_files_app(content_api.state.store)
    content_files.add_exception_handler(Exception, _internal_error)
    # The content origin is another origin of this site: the admin APIs refuse its pages' requests
    # (Origin, or Sec-Fetch-Site: same-site) even when the browser holds an admin's credentials.
    admin_only = functools.partial(RequireAdmin, credentials=lrs_app.credentials, public_url=settings.public_url,
                                   refused_origins=(content_origin,))
    guarded_content = admin_only(content_api, public=())
    player_store = open_player_store(settings.data_dir, settings.mongodb_url)
    launcher = Launcher(player_store, content_api.state.store, store.secret,
                        token_seconds=settings.launch_token_seconds,
                        session_seconds=settings.player_session_seconds)
    guard_launches = functools.partial(admin_only, public=(), what="the player admin API",
                                       action="making launch links and reading registrations",
                                       realm="player")
    player_registrations = Registrations(player_store, content_api.state.store, store)
    other_formats: list = []    # the cmi5 and TinCan launcher, made below
    player_admin = create_admin_app(launcher, content_origin, guard=guard_launches,
                                    registrations=player_registrations,
                                    other_formats=lambda body: other_formats[0](body) if other_formats else None)
    player_admin.add_exception_handler(Exception, _internal_error)
    bridge = Bridge(store, iri_base=activity_iri_base(settings))
    player_learner = create_learner_app(launcher, content_origin, runtime=Runtime(launcher, bridge, scorm_again_dir(settings)))
    player_learner.add_exception_handler(Exception, _internal_error)

    rules_part = RulesPart(settings, store, admin_only, rules_clock)

    # cmi5 and TinCan launch (player/cmi5) and the LRS's side of cmi5 sessions (lrs/cmi5)
    cmi5_store = open_cmi5_store(settings.data_dir, settings.mongodb_url)
    cmi5_lms = Cmi5LMS(store, cmi5_store, store.secret("cmi5"), player_authority(activity_iri_base(settings)),
                       session_timeout=settings.cmi5_session_timeout_seconds)
    lrs_app.cmi5 = cmi5_lms
    player_registrations.cmi5 = cmi5_lms
    lrs_app.routes["/statements"].cmi5 = cmi5_lms
    cmi5_launcher = Cmi5Launcher(launcher, cmi5_lms, content_api.state.store, settings.main_url, content_origin,
                                 activity_iri_base(settings))
    other_formats.append(cmi5_launcher.for_player_launches)
    cmi5_admin = create_cmi5_admin_app(cmi5_launcher, guard=functools.partial(
        admin_only, public=(), what="the cmi5 admin API", action="launching cmi5 and TinCan courses", realm="player"))
    cmi5_learner = create_cmi5_learner_app(cmi5_launcher, secure_cookie=content_origin.lower().startswith("https:"))

    # what the pages use (web/pages/courses.py, statements.py, learner.py, people.py): the same objects
    # the /content, /player and /xapi routes call
    web_services = {"content": content_api.state.store, "content_limits": content_api.state.limits,
                    "import_checks": IMPORT_CHECKS, "launcher": launcher, "cmi5": cmi5_launcher,
                    "registrations": player_registrations, "statements": lrs_app.routes["/statements"],
                    "lrs": store, "content_origin": content_origin, "activity_iri_base": activity_iri_base(settings)}
    web_part = WebPart(settings, rules_part.rules, store.secret, services=web_services)

    main_routes = [Route("/xapi", _WithSlash(lrs_app, "/xapi"), methods=None), Mount("/xapi", app=lrs_app),
                   Mount("/content/files", app=not_found),  # served on the content origin only
                   Mount("/content", app=guarded_content), Mount("/player/cmi5", app=cmi5_admin),
                   Mount("/player", app=player_admin),
                   rules_part.mount, web_part.mount]
    content_routes = [Mount("/content/files", app=SessionFiles(content_files, launcher)),
                      Mount("/player/cmi5", app=cmi5_learner),
                      Mount("/player", app=player_learner)]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        # Before uvicorn listens, for a second at most: the SQLite writer reads back its saved id filter in
        # well under that; one it must rebuild (no filter saved, or one that does not check out) goes on in
        # the background while reads are served, and writes wait for it.
        start = functools.partial(store.start, wait=WRITER_START_WAIT) if isinstance(store, SqliteStore) else store.start
        await anyio.to_thread.run_sync(start)
        rules_part.start()
        sweeper = anyio.create_task_group()
        await sweeper.__aenter__()
        sweeper.start_soon(_sweep_cmi5, cmi5_lms, settings.cmi5_sweep_seconds)
        yield
        sweeper.cancel_scope.cancel()
        await sweeper.__aexit__(None, None, None)
        await rules_part.stop()
        web_part.close()
        cmi5_store.close()
        store.close()
        content_api.state.store.close()
        player_store.close()

    errors = {Exception: _internal_error, HTTPException: _http_error}
    main = Starlette(routes=main_routes, lifespan=lifespan, exception_handlers=errors)
    content = Starlette(routes=content_routes, exception_handlers=errors)
    # Outermost first: the request id is set before anything runs, every answer gets its origin's
    # headers (ErrorGuard's 500 too), then ErrorGuard keeps any exception that escapes from closing
    # the connection.
    return (RequestLogMiddleware(SecurityHeaders(ErrorGuard(main), MAIN_HEADERS)),
            RequestLogMiddleware(SecurityHeaders(ErrorGuard(content), CONTENT_HEADERS)))


def create_app(settings: Settings | None = None, *, rules_clock=None) -> RequestLogMiddleware:
    """The main origin's app alone (its lifespan opens and closes the stores)."""
    return create_apps(settings, rules_clock=rules_clock)[0]


def create_service(settings: Settings | None = None) -> ByListener:
    """Both origins in one ASGI app, as `lrs serve` runs it: a request that came in on the content
    port goes to the content origin's app, any other to the main one's."""
    settings = settings or Settings.from_env()
    main, content = create_apps(settings)
    return ByListener(main, content, settings.content_port)


async def _sweep_cmi5(lms, every: float) -> None:
    """Abandon idle cmi5 sessions now and then (the next launch of a registration also does)."""
    import logging

    while True:
        await anyio.sleep(every)
        try:
            await anyio.to_thread.run_sync(lms.sweep)
        except Exception:
            logging.getLogger("lrs.cmi5").exception("the sweep of idle cmi5 sessions failed")


class _WithSlash:
    """``/xapi`` without the slash answers as ``/xapi/`` (the index), not with a redirect."""

    def __init__(self, app, prefix: str):
        self.app, self.prefix = app, prefix

    async def __call__(self, scope, receive, send):
        await self.app({**scope, "root_path": scope.get("root_path", "") + self.prefix, "path": scope["path"] + "/"},
                       receive, send)


async def _http_error(request, exc: HTTPException) -> Response:
    body = {"error": {"status": exc.status_code, "message": str(exc.detail), "path": request.url.path}}
    return Response(orjson.dumps(body), status_code=exc.status_code, media_type="application/json",
                    headers=exc.headers)


async def _internal_error(request, exc) -> Response:
    body = {"error": {"status": 500, "message": "internal error; the request id is in the X-Request-Id header"}}
    return Response(orjson.dumps(body), status_code=500, media_type="application/json",
                    headers={"X-Content-Type-Options": "nosniff"})
