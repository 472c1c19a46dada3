"""The rules part of the composition root: its store, its API at ``/rules`` (admin credential) and the
engine's background task. Kept apart from app.py so the wiring of each part stays in its own place."""
from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio
from datetime import datetime
from typing import Callable

from starlette.routing import Mount

from rules.core import Rules
from rules.http import create_app as create_rules_app
from rules.outbox import Outbox
from rules.storage import open_rules_store, utc_now
from rules.storage.outbox import open_outbox_store

from .config import Settings, activity_iri_base, reminder_days

log = logging.getLogger("lrs.rules")


class RulesPart:
    def __init__(self, settings: Settings, lrs_store, admin_only: Callable, clock: Callable[[], datetime] | None = None):
        """``admin_only``: the composition root's RequireAdmin with its credentials and refused origins."""
        self.settings = settings
        self.store = open_rules_store(settings.data_dir, settings.mongodb_url, clock=clock or utc_now)
        self.rules = Rules(self.store, lrs_store, clock=clock or utc_now, lease_seconds=settings.rules_lease_seconds)
        # what the rules send out: statements into the LRS, reminders through webhooks (rules/outbox.py)
        self.outbox_store = open_outbox_store(settings.data_dir, settings.mongodb_url)
        self.rules.outbox = Outbox(
            self.store, self.outbox_store, lrs_store, clock or utc_now, activity_iri_base(settings),
            reminder_days(settings), None if settings.rules_escalation_days < 0 else settings.rules_escalation_days,
            retry_seconds=settings.rules_webhook_retry_seconds, max_attempts=settings.rules_webhook_max_attempts,
            timeout=settings.rules_webhook_timeout_seconds)
        self.rules.outbox.attach(self.rules.engine)
        app = create_rules_app(self.rules)
        self.mount = Mount("/rules", app=admin_only(app, public=(), what="the rules API",
                                                    action="managing people, definitions and records",
                                                    realm="rules"))
        self._task: asyncio.Task | None = None
        self._deliveries: asyncio.Task | None = None

    def start(self) -> None:
        """Run the engine in the background of this app (when ``settings.rules_engine``): apps built in
        process (tests, with ``rules_clock``). `lrs serve` builds its app with ``rules_engine`` false and runs
        the engine in a child process instead (service/server.py); call inside the app's lifespan."""
        if self.settings.rules_engine:
            self._task = asyncio.get_running_loop().create_task(
                self.rules.engine.run_forever(self.settings.rules_engine_interval_seconds))
            self._deliveries = asyncio.get_running_loop().create_task(self._deliver_forever())

    async def _deliver_forever(self) -> None:
        """Send the reminder deliveries that are due, apart from the engine (a slow endpoint never holds it
        up); each delivery is claimed by one process at a time."""
        while True:
            try:
                done = await anyio.to_thread.run_sync(self.rules.outbox.deliver)
            except Exception:
                log.exception("rules reminder deliveries failed")
                done = {}
            if not any(done.values()):
                await asyncio.sleep(self.settings.rules_delivery_interval_seconds)

    async def stop(self) -> None:
        if self._deliveries is not None:
            self._deliveries.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._deliveries
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        # cancelling the task does not stop a pass already running in a worker thread: wait for it, then
        # give the lease back (also one taken by POST /rules/engine/run), before the stores close under it
        await anyio.to_thread.run_sync(self.rules.engine.wait_idle)
        with contextlib.suppress(Exception):
            await anyio.to_thread.run_sync(self.rules.engine.release)
        self.store.close()
        self.outbox_store.close()
