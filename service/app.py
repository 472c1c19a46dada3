"""The ASGI app factory: wires the parts together from ``Settings``."""
from __future__ import annotations

import contextlib

import anyio

from starlette.applications import Starlette
from starlette.routing import Mount

import content_store.http
from content_store.limits import Limits
from lrs.http import create_app as create_lrs_app
from lrs.storage import open_store

from .config import Settings
from .guard import RequireAdmin
from .logs import RequestLogMiddleware, configure_logging


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    configure_logging(settings)
    store = open_store(settings.data_dir, settings.mongodb_url, serving=True,
                       read_timeout=settings.read_timeout_seconds)
    lrs_app = create_lrs_app(
        store,
        max_request_bytes=settings.max_request_bytes,
        max_batch_statements=settings.max_batch_statements,
        max_query_limit=settings.max_query_limit,
    )
    content_app = content_store.http.create_app(settings.data_dir / "content", Limits.from_settings(settings))
    guarded_content = RequireAdmin(content_app, lrs_app.credentials)
    routes = [Mount("/xapi", app=lrs_app), Mount("/content", app=guarded_content)]

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await anyio.to_thread.run_sync(store.start)  # before uvicorn listens
        yield
        store.close()
        content_app.state.store.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestLogMiddleware)
    return app
