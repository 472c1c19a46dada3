"""The validation report: errors reject a package, warnings do not.

Every issue names the file it is about, the element within it (a readable path with
identifiers, and the line where known), and the rule it breaks as a stable code, so an
author knows what to fix and a test can check the exact rule.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Issue:
    severity: str
    rule: str
    message: str
    file: str = ""
    element: str = ""
    line: int | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}"
        if self.element:
            where += f" {self.element}"
        return f"{self.severity}: {where.strip() or '(package)'}: {self.message} [{self.rule}]"


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)

    def error(self, rule: str, message: str, file: str = "", element: str = "", line: int | None = None) -> None:
        self.issues.append(Issue(ERROR, rule, message, file, element, line))

    def warning(self, rule: str, message: str, file: str = "", element: str = "", line: int | None = None) -> None:
        self.issues.append(Issue(WARNING, rule, message, file, element, line))

    @property
    def errors(self) -> list[Issue]:
        return sorted((i for i in self.issues if i.severity == ERROR), key=_order)

    @property
    def warnings(self) -> list[Issue]:
        return sorted((i for i in self.issues if i.severity == WARNING), key=_order)

    @property
    def ok(self) -> bool:
        return not self.errors

    def rules(self) -> set[str]:
        return {i.rule for i in self.issues}

    def to_dict(self) -> dict:
        return {
            "accepted": self.ok,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
        }

    def to_text(self) -> str:
        head = "accepted" if self.ok else "rejected"
        lines = [f"{head}: {len(self.errors)} error(s), {len(self.warnings)} warning(s)"]
        lines += [f"  {i}" for i in self.errors + self.warnings]
        return "\n".join(lines)


def _order(issue: Issue) -> tuple:
    return (issue.file, issue.line or 0)
