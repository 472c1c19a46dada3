"""The one error type a client can cause; the HTTP layer turns it into a 4xx JSON body."""
from __future__ import annotations


class XAPIError(Exception):
    """A request the LRS refuses: ``status`` is the HTTP status, ``path`` where in the input."""

    def __init__(self, status: int, message: str, path: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.path = path
        self.headers = headers or {}

    def body(self) -> dict:
        err = {"status": self.status, "message": self.message}
        if self.path:
            err["path"] = self.path
        return {"error": err}


def bad_request(message: str, path: str | None = None) -> XAPIError:
    return XAPIError(400, message, path)
