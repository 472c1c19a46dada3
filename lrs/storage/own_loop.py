"""A blocking adapter over an asyncio one: the async adapter runs on an event loop of its own
thread, so one client and its connection pool serve every caller, whatever thread it is on.

The mongo adapters (lrs/storage/mongo.py, player/storage/mongo.py) are blocking ports over
PyMongo's asyncio API this way.
"""
from __future__ import annotations

import asyncio
import threading
from typing import Awaitable, Callable


class OnOwnLoop:
    """Makes the async adapter with ``make`` (a coroutine function, so the client is created on the
    loop it will run on), awaits its ``setup()``, and runs coroutines with ``_run``."""

    def __init__(self, thread_name: str, make: Callable[[], Awaitable]):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=thread_name, daemon=True)
        self._thread.start()
        self.aio = None
        try:
            self.aio = self._run(make())
            self._run(self.aio.setup())
        except BaseException:
            self.close()
            raise

    def _run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        if self.aio is not None:
            try:
                self._run(self.aio.close())
            except Exception:
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def add_blocking_methods(cls: type, names: list[str]) -> None:
    """Give ``cls`` (an ``OnOwnLoop``) a blocking method for each named coroutine method of its async
    adapter: ``store.x(...)`` runs ``store.aio.x(...)`` on the adapter's loop and returns its result."""
    def blocking(name):
        def call(self, *args, **kwargs):
            return self._run(getattr(self.aio, name)(*args, **kwargs))
        call.__name__ = name
        return call

    for name in names:
        setattr(cls, name, blocking(name))
