"""The one exception an import raises when it refuses a package."""
from __future__ import annotations

from .report import Report


class PackageRejected(Exception):
    """The package is refused; ``status`` is the HTTP status that says why.

    400: the package is broken or unsafe (the report says where); 413: it is over a limit.
    Nothing of a rejected package is kept.
    """

    def __init__(self, status: int, message: str, report: Report, path: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.report = report
        self.path = path

    def to_dict(self) -> dict:
        return {"error": {"status": self.status, "message": self.message, "path": self.path,
                          "report": self.report.to_dict()}}


def reject(status: int, rule: str, message: str, file: str = "", element: str = "",
           report: Report | None = None) -> PackageRejected:
    """A rejection with a one-issue report (or the issue added to ``report``)."""
    report = report if report is not None else Report()
    report.error(rule, message, file=file, element=element)
    return PackageRejected(status, message, report, path=file)
