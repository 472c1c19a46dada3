"""The HTTP server `lrs serve` runs: uvicorn with its httptools protocol, plus the connection limits
uvicorn does not have.

One server accepts on two sockets, the main origin's port and the content origin's
(``bind_sockets``; service/origins.py): everything below holds for both, and the connection cap
counts the connections of both together.

- Request headers (request line and header fields) larger than ``max_header_bytes`` get 431 and
  the connection is closed; they are counted as they arrive, so an oversized header is never
  buffered whole.
- A connection that does not send complete request headers within ``header_timeout`` (a silent
  socket, or headers sent a byte at a time) is closed, with 408 if it had started a request.
- A request body must arrive within ``body_timeout`` of its headers, else 408 and the connection
  is closed.
- Request bodies in flight (by Content-Length when the app first reads the body, counted as they
  come for chunked bodies) may add up to ``max_inflight_body_bytes`` per process; a request that
  would go over gets 503 with Retry-After before any of its body is handed to the app (one request
  is always admitted when none is in flight, so a single large upload still works). A request
  answered without reading its body (say a 401) reserves nothing.
- At most ``max_connections`` connections are open per process; one more gets 503 and is closed.
- The keep-alive idle timeout is uvicorn's ``timeout_keep_alive``.

SIGTERM and SIGINT stop the server gracefully (requests in flight finish, for at most
``shutdown_timeout`` seconds), log it, and `lrs serve` exits with status 0.

The rules engine (``LRS_RULES_ENGINE``) runs in a child process of its own, `lrs rules run`
(``start_rules_engine``), not in the server's processes: in them it would compete for the GIL with
the requests (bench/RESULTS.md, "Rules engine"). There is one such child whatever ``--workers``
says; it is stopped when the server stops, and it stops by itself when the server dies (it watches
its parent process: rules/cli.py).
"""
from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .config import Settings

log = logging.getLogger("lrs.server")


@dataclass(frozen=True)
class ConnectionLimits:
    max_header_bytes: int = 32 * 1024
    max_inflight_body_bytes: int = 256 * 1024 * 1024
    header_timeout: float = 10.0
    body_timeout: float = 120.0
    max_connections: int = 1000
    max_request_bytes: int = 50 * 1024 * 1024  # the most one request can count in the budget

    @classmethod
    def from_settings(cls, settings: Settings) -> "ConnectionLimits":
        return cls(max_header_bytes=settings.max_header_bytes,
                   max_inflight_body_bytes=settings.max_inflight_body_bytes,
                   header_timeout=settings.header_timeout_seconds, body_timeout=settings.body_timeout_seconds,
                   max_connections=settings.max_connections, max_request_bytes=settings.max_request_bytes)


class _BodyBudget:
    """Request body bytes in flight in this process (one event loop, so no lock)."""

    def __init__(self):
        self.in_flight = 0

    def admit(self, n: int, limit: int) -> bool:
        if self.in_flight and self.in_flight + n > limit:
            return False
        self.in_flight += n
        return True

    def release(self, n: int) -> None:
        self.in_flight -= n


BODY_BUDGET = _BodyBudget()


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header size, header and body timeouts, a body budget and a
    connection cap (see the module docstring)."""

    def __init__(self, *args, limits: ConnectionLimits = ConnectionLimits(), budget: _BodyBudget = BODY_BUDGET,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.budget = budget
        self._reading_head = True
        self._head_received = 0  # raw bytes received while reading the head of a request
        self._head_size = 0  # request line and header fields as parsed
        self._head_timer = None
        self._body_timer = None
        self._reserved = 0
        self._chunked = False
        self._refused = False

    # -- connection --------------------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, "too many open connections; try again", [(b"retry-after", b"1")])
            return
        self._arm_head_timer()

    def connection_lost(self, exc) -> None:
        self._cancel_timers()
        self._release()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_head:
            self._head_received += len(data)
            if self._head_timer is None:
                self._arm_head_timer()
        super().data_received(data)
        # Still reading a head after more than the limit has arrived: refuse before buffering more.
        if not self._refused and self._reading_head and self._head_received > self.limits.max_header_bytes:
            self._refuse(431, f"the request headers are larger than {self.limits.max_header_bytes} bytes")

    # -- parser callbacks ----------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._head_size = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._head_size += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_size += len(name) + len(value) + 4
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._reading_head = False
        self._head_received = 0
        self._cancel_head_timer()
        if self._head_size > self.limits.max_header_bytes:
            self._refuse(431, f"the request headers are larger than {self.limits.max_header_bytes} bytes")
            return
        declared, self._chunked = None, False
        for name, value in self.headers:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                self._chunked = True
        if declared or self._chunked:
            self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)
        super().on_headers_complete()
        if declared and self.cycle is not None and self.cycle.scope is self.scope:
            # Bodies over LRS_MAX_REQUEST_BYTES are refused by the xAPI before they are read; only a
            # streaming reader (a package upload, written to disk) takes one: it counts as the most
            # one buffered body can be.
            self._reserve_on_first_read(self.cycle, min(declared, self.limits.max_request_bytes))

    def _reserve_on_first_read(self, cycle, declared: int) -> None:
        """Reserve the declared body when the app first asks for it: a request the app answers
        without reading its body (a 401) reserves nothing; one that would go over the budget gets
        503 before any of its body is handed to the app. (Until then uvicorn holds at most its
        read buffer, about 64 KiB, then stops reading.)"""
        receive = cycle.receive
        reserved = False

        async def receive_within_budget():
            nonlocal reserved
            if not reserved:
                reserved = True
                if not self._reserve(declared):
                    return {"type": "http.disconnect"}
            return await receive()

        cycle.receive = receive_within_budget

    def on_body(self, body: bytes) -> None:
        if self._refused:
            return
        if self._chunked and not self.cycle.response_complete and self._reserved < self.limits.max_request_bytes \
                and not self._reserve(len(body)):
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        if self._refused:
            return
        self._cancel_body_timer()
        self._reading_head = True
        self._head_received = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        self._release()
        super().on_response_complete()

    # -- limits --------------------------------------------------------------------------------------

    def _reserve(self, n: int) -> bool:
        if self.budget.admit(n, self.limits.max_inflight_body_bytes):
            self._reserved += n
            return True
        self._refuse(503, "the server is receiving too many request bodies at once; try again",
                     [(b"retry-after", b"2")])
        return False

    def _release(self) -> None:
        if self._reserved:
            self.budget.release(self._reserved)
            self._reserved = 0

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_timers(self) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._reading_head:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # the previous request is still being answered: wait for it
            return
        if self._head_received:
            self._refuse(408, f"the request headers did not arrive within {self.limits.header_timeout:g} s")
        else:  # a connection that never sent a request, or stayed silent after one
            self._refused = True
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and self.cycle.response_started:  # answered already (say 401): just close
            self._refused = True
            self.transport.close()
            return
        self._refuse(408, f"the request body did not arrive within {self.limits.body_timeout:g} s")

    def _refuse(self, status: int, message: str, headers: list | None = None) -> None:
        """Answer ``status`` with a JSON error (unless a response is already under way) and close
        the connection; the app, if it is running, sees a disconnect."""
        self._refused = True
        self._cancel_timers()
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            body = orjson.dumps({"error": {"status": status, "message": message}})
            head = [f"HTTP/1.1 {status} {_PHRASES.get(status, '')}".encode(), b"content-type: application/json",
                    b"content-length: " + str(len(body)).encode(), b"connection: close"]
            head += [name + b": " + value for name, value in headers or []]
            self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


_PHRASES = {408: "Request Timeout", 431: "Request Header Fields Too Large", 503: "Service Unavailable"}


class LRSServer(uvicorn.Server):
    """uvicorn's server, except that a stop signal ends in a log line and a normal exit (uvicorn
    re-raises the signal after its graceful shutdown, so the process would die of it: status 143)."""

    def handle_exit(self, sig, frame) -> None:
        if not self.should_exit:  # logged outside whatever request the signal interrupted
            contextvars.Context().run(log.info, "received %s: stopping; requests in flight may finish",
                                      signal.Signals(sig).name)
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def make_config(settings: Settings, app=None, workers: int = 1, **kw) -> uvicorn.Config:
    """uvicorn's configuration for ``settings``: by default both origins' app (``create_service``,
    made in each worker process), the limited protocol, the timeouts."""
    if app is None:
        from .app import create_service

        app = functools.partial(create_service, settings)
    factory = kw.pop("factory", isinstance(app, (str, functools.partial)))
    return uvicorn.Config(
        app, factory=factory, host=settings.host, port=settings.port, workers=workers,
        http=functools.partial(LimitedHttpToolsProtocol, limits=ConnectionLimits.from_settings(settings)),
        timeout_keep_alive=settings.keepalive_timeout_seconds,
        timeout_graceful_shutdown=settings.shutdown_timeout_seconds,
        log_level="warning", access_log=False, **kw)


def bind_sockets(config: uvicorn.Config, settings: Settings) -> list[socket.socket]:
    """The two listening sockets: the main origin's (``LRS_PORT``), then the content origin's
    (``LRS_CONTENT_PORT``), on the same host. One server (and each worker) accepts on both, so the
    protocol's limits, the connection cap (per process, both ports together), the timeouts and the
    graceful shutdown cover both; ``service.origins.ByListener`` picks the app by the port."""
    content = uvicorn.Config(config.app, host=settings.host, port=settings.content_port, log_level="warning")
    return [config.bind_socket(), content.bind_socket()]


def start_rules_engine(settings: Settings) -> subprocess.Popen:
    """Start the rules engine and its webhook deliveries in a child process, `lrs rules run`, with this
    process's environment and the settings resolved here (command-line host and ports included, so the
    activity IRIs it writes out are the server's), and the server's pid in ``LRS_RULES_PARENT_PID``: the
    child exits when its parent is no longer that process (the server died, say of SIGKILL)."""
    from rules.cli import PARENT_PID_ENV

    env = dict(os.environ, LRS_HOST=settings.host, LRS_PORT=str(settings.port),
               LRS_CONTENT_PORT=str(settings.content_port), LRS_DATA_DIR=str(settings.data_dir),
               **{PARENT_PID_ENV: str(os.getpid())})
    return subprocess.Popen([sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())",
                             "rules", "run"], env=env)


def stop_rules_engine(child: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM the engine's child process and wait for it (it finishes its pass and gives the lease back);
    SIGKILL after ``timeout`` seconds."""
    if child.poll() is None:
        child.terminate()
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("the rules engine (process %d) did not stop within %g s: killed", child.pid, timeout)
        child.kill()
        child.wait()


def serve(settings: Settings, workers: int = 1, rules_engine: subprocess.Popen | None = None) -> int:
    """Run the service until SIGTERM or SIGINT; 0 after a graceful stop. ``rules_engine``: the engine's
    child process (``start_rules_engine``), stopped when the server stops; the server's own app then
    runs no engine."""
    from dataclasses import replace

    from .logs import configure_logging

    configure_logging(settings)
    if rules_engine is not None:
        settings = replace(settings, rules_engine=False)
    try:
        config = make_config(settings, workers=workers)
        sockets = bind_sockets(config, settings)
        if workers > 1:  # uvicorn's supervisor: it stops its workers on SIGTERM and returns
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=sockets).run()
        else:
            LRSServer(config).run(sockets=sockets)
    finally:
        if rules_engine is not None:
            stop_rules_engine(rules_engine)
    log.info("stopped")
    return 0
