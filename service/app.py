"""The ASGI app factory: wires the parts together from ``Settings``."""
from __future__ import annotations

import contextlib
import ctypes
import sys

import anyio
import orjson

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Mount, Route

import content_store.http
from content_store.limits import Limits
from lrs.auth import AuthLimits
from lrs.http import create_app as create_lrs_app
from lrs.statements.limits import InputLimits, configure as configure_input_limits
from lrs.storage import open_store
from player.http import create_app as create_player_app
from player.launch import Launcher
from player.storage import open_player_store

from .config import Settings
from .guard import RequireAdmin
from .rules_part import RulesPart
from .logs import ErrorGuard, RequestLogMiddleware, configure_logging


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


def create_app(settings: Settings | None = None, *, rules_clock=None) -> RequestLogMiddleware:
    """``rules_clock``: the rules' clock (a function returning an aware datetime), injected by tests."""
    settings = settings or Settings.from_env()
    _fix_malloc_thresholds()
    configure_logging(settings)
    configure_input_limits(InputLimits(settings.max_iri_length, settings.max_string_length))
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
    content_app = content_store.http.create_app(settings.data_dir / "content", Limits.from_settings(settings))
    content_app.add_exception_handler(Exception, _internal_error)  # a JSON 500; ErrorGuard logs it
    guarded_content = RequireAdmin(content_app, lrs_app.credentials, settings.public_url)
    player_store = open_player_store(settings.data_dir, settings.mongodb_url)
    launcher = Launcher(player_store, content_app.state.store, store.secret,
                        token_seconds=settings.launch_token_seconds,
                        session_seconds=settings.player_session_seconds)
    player_app = create_player_app(launcher, settings.public_url)
    player_app.add_exception_handler(Exception, _internal_error)
    guarded_player = RequireAdmin(player_app, lrs_app.credentials, settings.public_url,
                                  public=("/launch/", "/session"), what="the launch API",
                                  action="making launch links", realm="player")

    routes = [Route("/xapi", _WithSlash(lrs_app, "/xapi"), methods=None), Mount("/xapi", app=lrs_app),
              Mount("/content", app=guarded_content), Mount("/player", app=guarded_player)]
    # -- rules (issue 11) --
    rules_part = RulesPart(settings, store, lrs_app.credentials, rules_clock)
    routes.append(rules_part.mount)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await anyio.to_thread.run_sync(store.start)  # before uvicorn listens
        rules_part.start()
        yield
        await rules_part.stop()
        store.close()
        content_app.state.store.close()
        player_store.close()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={Exception: _internal_error})
    # Outermost first: the request id is set before anything runs, then ErrorGuard keeps any
    # exception that escapes from closing the connection.
    return RequestLogMiddleware(ErrorGuard(app))


class _WithSlash:
    """``/xapi`` without the slash answers as ``/xapi/`` (the index), not with a redirect."""

    def __init__(self, app, prefix: str):
        self.app, self.prefix = app, prefix

    async def __call__(self, scope, receive, send):
        await self.app({**scope, "root_path": scope.get("root_path", "") + self.prefix, "path": scope["path"] + "/"},
                       receive, send)


async def _internal_error(request, exc) -> Response:
    body = {"error": {"status": 500, "message": "internal error; the request id is in the X-Request-Id header"}}
    return Response(orjson.dumps(body), status_code=500, media_type="application/json",
                    headers={"X-Content-Type-Options": "nosniff"})
