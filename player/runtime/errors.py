"""The one error the runtime modules raise for a commit they refuse."""
from __future__ import annotations

from lrs.errors import XAPIError


class CommitRejected(XAPIError):
    """A commit (or one of its values) the server refuses.

    ``status`` is the HTTP status (400 for a bad value or shape), ``message`` says what is wrong and
    what to send instead, ``path`` names where: a SCORM element (``cmi.core.score.raw``) or a field of
    the commit body (``seq``). It is an ``XAPIError``, so the HTTP layer answers it like every other
    client error: ``{"error": {"status": ..., "message": ..., "path": ...}}``.
    """

    def __init__(self, status: int, message: str, path: str | None = None):
        super().__init__(status, message, path)


def bad(message: str, path: str | None) -> CommitRejected:
    return CommitRejected(400, message, path)
