"""What a learner may open next in a multi-SCO course: the SCOs in order, their status, and SCORM 1.2
``adlcp:prerequisites`` (aicc_script) evaluated against those statuses.

The expression language is the AICC CMI001 script SCORM 1.2 uses (CAM 1.2, 2.3.2.5.1): item
identifiers, ``&`` (and), ``|`` (or), ``~`` (not), parentheses, ``id = status`` and ``id <> status``
(status words or their initials: passed/p, completed/c, failed/f, incomplete/i, browsed/b,
not attempted/n), and ``N*{id, id, ...}`` (at least N of the set). An identifier alone is true when
its SCO is passed or completed. Our manifests also spell and/or/not as words (the fixture does): both
are read. An expression that cannot be read does not lock its SCO (an LMS must never trap a learner
behind a typo); the import report already warns about unknown identifiers.

SCORM 2004 multi-SCO courses are sequenced by the engine in the browser from the activity tree of
player/sequencing/; one whose tree cannot be built gets flow and choice navigation (every SCO available).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

DONE = {"passed", "completed"}
STATUS_WORDS = {"p": "passed", "passed": "passed", "c": "completed", "completed": "completed",
                "f": "failed", "failed": "failed", "i": "incomplete", "incomplete": "incomplete",
                "b": "browsed", "browsed": "browsed", "n": "not attempted", "not attempted": "not attempted"}
TOKEN = re.compile(r"\s*(?:(<>|=|&|\||~|\(|\)|\{|\}|,|\*)|(\d+)(?=\s*\*)|([^\s&|~(){},=<>*]+(?:\s+attempted)?))")


@dataclass(frozen=True)
class Sco:
    id: str
    title: str
    launch: str
    prerequisites: str = ""


def scos(structure: dict) -> list[Sco]:
    """The launchable items of a version, in organisation order, with their prerequisites expression."""
    expressions: dict[str, str] = {}

    def walk(items):
        for item in items or []:
            pre = item.get("prerequisites") or {}
            if pre.get("type", "aicc_script") in (None, "aicc_script") and pre.get("expression"):
                expressions[item["identifier"]] = pre["expression"]
            walk(item.get("items"))

    for org in (structure.get("scorm") or {}).get("organizations") or []:
        walk(org.get("items"))
    return [Sco(i["id"], i.get("title") or i["id"], i["launch"], expressions.get(i["id"], ""))
            for i in structure.get("launchables") or []]


def available(expression: str, statuses: dict[str, str]) -> bool:
    """Whether an aicc_script prerequisites expression holds for these SCO statuses (1.2 lesson_status
    words; a SCO never launched is "not attempted")."""
    if not expression.strip():
        return True
    try:
        parser = _Parser(_tokens(expression), statuses)
        value = parser.expression()
        if parser.pos != len(parser.tokens):
            return True
        return value
    except (ValueError, IndexError):
        return True


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r}")
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    words = {"and": "&", "or": "|", "not": "~"}
    return [words.get(t.lower(), t) for t in out]


class _Parser:
    def __init__(self, tokens: list[str], statuses: dict[str, str]):
        self.tokens, self.statuses, self.pos = tokens, statuses, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.pos]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.pos += 1
        return token

    def expression(self) -> bool:
        value = self.term()
        while self.peek() == "|":
            self.take()
            value = self.term() or value
        return value

    def term(self) -> bool:
        value = self.factor()
        while self.peek() == "&":
            self.take()
            value = self.factor() and value
        return value

    def factor(self) -> bool:
        token = self.take()
        if token == "~":
            return not self.factor()
        if token == "(":
            value = self.expression()
            self.take(")")
            return value
        if token.isdigit():
            self.take("*")
            self.take("{")
            count = 0
            while True:
                count += self.factor()
                if self.take() == "}":
                    break
            return count >= int(token)
        if token in "&|)}{,=<>*":
            raise ValueError(f"unexpected {token!r}")
        status = self.statuses.get(token, "not attempted")
        if self.peek() in ("=", "<>"):
            op = self.take()
            wanted = STATUS_WORDS.get(self.take().lower())
            if wanted is None:
                raise ValueError("unknown status")
            return (status == wanted) == (op == "=")
        return status in DONE
