"""The SQLite store's statement writer in a process of its own, for the serving process.

In one process the writer thread shares the GIL with the event loop that parses and validates
requests: py-spy showed the writer spending about 40 % of its time waiting to retake the GIL
after each SQLite call, while it was the bottleneck of ingest. In its own process it runs on
the other core. The server sends each batch through a pipe and waits for the answer; the
writer process takes every batch waiting in the pipe into one transaction (group commit, one
savepoint a batch, as ``SqliteStore._write_group`` does in-process) and answers once it is
committed. Document changes sent with a batch (the player's: pickled callables) are written in its
savepoint, so their writer never waits for this one. It exits when the pipe closes, so it never outlives the server by more than the
batch it is writing, and a SIGKILL of either leaves every batch all or nothing.
"""
from __future__ import annotations

import gc
import itertools
import multiprocessing
import threading
from concurrent.futures import Future
from pathlib import Path

import orjson

from .ports import NewStatement

GROUP_MAX = 64   # batches in one transaction at most
DUMP_SLICE = 100  # Statements a batch is written to the pipe in, per orjson call


class WriterProcess:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()         # starting the process, sending
        self._waiting: dict[int, Future] = {}
        self._numbers = itertools.count()
        self._conn = None
        self._proc = None

    def start(self, wait: float | None = None) -> None:
        """Start the process now, and wait until it is ready to write (its id filter read back or
        built), ``wait`` seconds at most (None: until it is). Past that it goes on starting in the
        background and the first write waits for it."""
        starter = threading.Thread(target=self._start_once, name="lrs-writer-start", daemon=True)
        starter.start()
        starter.join(wait)

    def _start_once(self) -> None:
        try:
            with self._lock:
                if self._conn is None:
                    self._start()
        except RuntimeError:
            pass  # the first write tries again and says why

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")  # fork would copy the server's threads and connections
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(str(self.path), child), name="lrs-sqlite-writer", daemon=True)
        self._proc.start()
        child.close()
        try:
            parent.recv()  # "ready"
        except (EOFError, OSError):
            parent.close()
            raise RuntimeError("the SQLite writer process stopped while starting") from None
        self._conn = parent
        threading.Thread(target=self._receive, args=(parent,), name="lrs-writer-answers", daemon=True).start()

    def insert(self, batch: list[NewStatement], attachments: dict[str, tuple[str, bytes]], define: bool = True,
               documents: list | None = None) -> None:
        done: Future = Future()
        # JSON rather than pickle: orjson writes a batch about 5x faster, and this runs in the server.
        # In slices: one orjson call holds the GIL, and with it the server's event loop, for all it writes.
        rows = [(n.statement, n.terms, n.voids, n.ref) for n in batch]
        payload = b"[" + b",".join(orjson.dumps(rows[k:k + DUMP_SLICE])[1:-1]
                                   for k in range(0, len(rows), DUMP_SLICE)) + b"]"
        with self._lock:
            if self._conn is None:
                self._start()
            number = next(self._numbers)
            self._waiting[number] = done
            try:
                self._conn.send((number, payload, attachments, define, documents or []))
            except (OSError, ValueError):
                self._waiting.pop(number, None)
                self._conn = None
                raise RuntimeError("the SQLite writer process stopped; the batch was not stored") from None
        error = done.result()
        if error is not None:
            raise error

    def _receive(self, conn) -> None:
        try:
            while True:
                number, error = conn.recv()
                self._waiting.pop(number).set_result(error)
        except (EOFError, OSError):
            pass
        with self._lock:  # the process is gone: what it did not answer was not committed
            if self._conn is conn:
                self._conn = None
            lost, self._waiting = self._waiting, {}
        for done in lost.values():
            done.set_result(RuntimeError("the SQLite writer process stopped; the batch was not stored"))

    def close(self) -> None:
        with self._lock:
            conn, proc, self._conn = self._conn, self._proc, None
        if conn is not None:
            # A close alone would not reach the child while our answer thread is blocked reading
            # this pipe (the read holds the file open): ask it to stop, then it closes its end.
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        if proc is not None:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
        if conn is not None:
            conn.close()


def _serve(path: str, conn) -> None:
    from .sqlite import SqliteStore, _Job

    store = SqliteStore(Path(path))
    store.load_ids()
    conn.send("ready")
    # Every batch arrives as thousands of fresh dicts; with the default thresholds the collector
    # took 7 % of this process's time (py-spy), finding nothing: the writer makes no cycles.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        while True:
            try:
                messages = [conn.recv()]
                while len(messages) < GROUP_MAX and messages[-1] is not None and conn.poll():
                    messages.append(conn.recv())
            except (EOFError, OSError):
                return
            stop = messages[-1] is None
            if stop:
                messages.pop()
            jobs = [_Job([NewStatement(*row) for row in orjson.loads(payload)], attachments, define, documents)
                    for _, payload, attachments, define, documents in messages]
            if jobs:
                store._write_group(jobs)
            for (number, *_), job in zip(messages, jobs):
                conn.send((number, job.error))
            if stop:
                return
    finally:
        store.close()
