"""Work too long for one page answer (the preview of a definition change over every person), done once in
the background while the page says how far it is.

``Jobs.run(key, work)`` starts ``work(job)`` on a thread of its own unless a job of that key is already
there (running or finished): a second request for the same key joins it. ``work`` sets ``job.total`` and
``job.done`` as it goes and returns the result. ``Jobs.wait`` seconds (a twentieth) are waited for the job to finish
before the page answers, so a small store's page shows the result at once. At most ``keep`` jobs are
kept; the oldest finished one is dropped to make room, and when every kept job is still running a new
one is refused (``Busy``). A job that failed is dropped once its error has been shown (``take_failure``),
so opening the page again tries again.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable


class Busy(Exception):
    """Every kept job is still running: no room for another."""


class Job:
    def __init__(self, key: Hashable):
        self.key = key
        self.done = 0
        self.total: int | None = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.finished = threading.Event()

    @property
    def running(self) -> bool:
        return not self.finished.is_set()

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started


class Jobs:
    wait = 0.05     # seconds a page waits for its job before it shows the progress instead

    def __init__(self, keep: int = 8, wait: float | None = None):
        self.keep = keep
        if wait is not None:
            self.wait = wait
        self._jobs: "OrderedDict[Hashable, Job]" = OrderedDict()
        self._lock = threading.Lock()

    def run(self, key: Hashable, work: Callable[[Job], Any]) -> Job:
        """The job of ``key``: the one there is, or a new one running ``work``; waited for up to ``wait``
        seconds."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None:
                if len(self._jobs) >= self.keep:
                    old = next((k for k, j in self._jobs.items() if not j.running), None)
                    if old is None:
                        raise Busy()
                    del self._jobs[old]
                job = self._jobs[key] = Job(key)
                threading.Thread(target=self._work, args=(job, work), name="web-job", daemon=True).start()
        job.finished.wait(self.wait)
        return job

    @staticmethod
    def _work(job: Job, work: Callable[[Job], Any]) -> None:
        try:
            job.result = work(job)
        except BaseException as exc:   # shown on the page as an error
            job.error = exc
        finally:
            job.finished.set()

    def take_failure(self, job: Job) -> BaseException | None:
        """The job's error, if it failed (the job is then dropped: the next request starts it again)."""
        if job.running or job.error is None:
            return None
        with self._lock:
            if self._jobs.get(job.key) is job:
                del self._jobs[job.key]
        return job.error

    def __len__(self) -> int:
        return len(self._jobs)
