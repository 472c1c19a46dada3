"""SCORM 2004 interaction responses: the format of ``learner_response`` and
``correct_responses.n.pattern`` for each interaction type (RTE 2004 4.2.9.1, Table 4.2.9.1a).

The checks follow the browser's data model (scorm-again 3.4.3), which refuses a malformed response
with error 406 before it is ever committed, and are never stricter than it: the server re-checks what
a forged or buggy commit could carry, without refusing what a conforming SCO wrote.

- ``true-false``: ``true`` or ``false``.
- ``choice``: up to 36 identifiers joined by ``[,]``, none twice.
- ``fill-in``: up to 10 localized strings of 250 characters joined by ``[,]``.
- ``long-fill-in``: one localized string of 4000 characters.
- ``matching``: up to 36 ``source[.]target`` pairs of short identifiers joined by ``[,]``.
- ``performance``: up to 250 ``step_name[.]step_answer`` steps joined by ``[,]``.
- ``sequencing``: up to 36 short identifiers joined by ``[,]``.
- ``likert``: one short identifier.
- ``numeric``: a learner response is a decimal; a correct pattern ``min[:]max`` (either may be empty;
  a bare ``:`` also separates them, as scorm-again splits).
- ``other``: up to 4000 characters.

A correct response pattern of fill-in, long-fill-in, matching, performance and sequencing may start
with ``{case_matters=true|false}``, ``{order_matters=true|false}`` and ``{lang=xx}`` delimiters.
Each function raises ValueError with a message naming the rule broken.
"""
from __future__ import annotations

import re

TYPES = ("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
         "likert", "numeric", "other")
DECIMAL = re.compile(r"^-?[0-9]{1,10}(?:\.[0-9]{1,18})?$")
SHORT_ID = re.compile(r"^(?=.*\w)[\w\-()+.:=@;$!*'%/#]{1,250}$")
LANG_PREFIX = re.compile(r"^\{lang=([a-zA-Z]{1,8}|i|x)?(-[a-zA-Z0-9-]{2,8})?\}")
PREFIX = re.compile(r"^\{(case_matters|order_matters|lang)=([^}]*)\}")

# type -> (most nodes, delimiter) for learner responses (RTE 2004 Table 4.2.9.1a, scorm-again 3.4.3)
_NODES = {"true-false": 1, "choice": 36, "fill-in": 10, "long-fill-in": 1, "matching": 36,
          "performance": 250, "sequencing": 36, "likert": 1, "numeric": 1, "other": 1}
# the most correct_responses entries a type may have (scorm-again refuses a second one)
SINGLE_PATTERN = {"true-false", "likert", "numeric", "other"}


def split(value: str, delimiter: str) -> list[str]:
    """Split on ``[,]``-style delimiters; a bare, unescaped ``,`` is also a delimiter, as scorm-again
    splits (``\\,`` is an escaped comma)."""
    bracketed = f"[{delimiter}]"
    if bracketed in value:
        return value.split(bracketed)
    parts = re.split(rf"(?<!\\){re.escape(delimiter)}", value)
    return [p.replace("\\" + delimiter, delimiter) for p in parts]


def _localized(text: str, limit: int, what: str) -> None:
    m = LANG_PREFIX.match(text)
    if text.startswith("{lang=") and not m:
        raise ValueError(f"{what} starts with a malformed {{lang=...}} delimiter")
    rest = text[m.end():] if m else text
    if len(rest) > limit:
        raise ValueError(f"{what} is {len(rest)} characters long; at most {limit} are allowed")


def _short_id(text: str, what: str) -> None:
    if not SHORT_ID.match(text):
        raise ValueError(f"{what} {text[:60]!r} is not a short identifier (1 to 250 URI characters, "
                         "at least one letter or digit)")


def _long_id(text: str, what: str) -> None:
    if not 1 <= len(text) <= 4000:
        raise ValueError(f"{what} must be an identifier of 1 to 4000 characters, not {text[:60]!r}")


def _strip_prefixes(text: str) -> str:
    """The pattern without its leading delimiters; the first one, if it is case_matters or
    order_matters, must be true or false (as scorm-again checks it)."""
    first = True
    while True:
        m = PREFIX.match(text)
        if not m:
            return text
        name, value = m.groups()
        if first and name != "lang" and value not in ("true", "false"):
            raise ValueError(f"{{{name}={value}}} must be {{{name}=true}} or {{{name}=false}}")
        first = False
        text = text[m.end():]


def check_learner_response(kind: str, value: str) -> None:
    """Raise ValueError unless ``value`` is a learner response of interaction type ``kind``."""
    if kind == "true-false":
        if value not in ("true", "false"):
            raise ValueError(f"a true-false response is 'true' or 'false', not {value[:60]!r}")
        return
    if kind == "numeric":
        if not DECIMAL.match(value):
            raise ValueError(f"a numeric response is a decimal number, not {value[:60]!r}")
        return
    if kind == "other":
        if len(value) > 4000:
            raise ValueError(f"an 'other' response is at most 4000 characters, not {len(value)}")
        return
    if kind == "long-fill-in":
        _localized(value, 4000, "a long-fill-in response")
        return
    if kind == "likert":
        _short_id(value, "a likert response")
        return
    nodes = split(value, ",")
    if len(nodes) > _NODES[kind]:
        raise ValueError(f"a {kind} response has {len(nodes)} parts joined by [,]; at most "
                         f"{_NODES[kind]} are allowed")
    for node in nodes:
        if kind == "choice":
            _long_id(node, "each choice")
        elif kind == "fill-in":
            _localized(node, 250, "each fill-in answer")
        elif kind == "sequencing":
            _short_id(node, "each sequencing step")
        elif kind == "matching":
            pair = split(node, ".")
            if len(pair) != 2:
                raise ValueError(f"each matching pair is source[.]target, not {node[:60]!r}")
            _short_id(pair[0], "a matching source")
            _short_id(pair[1], "a matching target")
        elif kind == "performance":
            _performance_step(node)
    if kind == "choice" and len(set(nodes)) != len(nodes):
        raise ValueError("a choice response names the same choice twice")


def _performance_step(node: str) -> None:
    name, _, answer = node.partition("[.]") if "[.]" in node else node.partition(".")
    if name == "" and answer == "":
        raise ValueError("a performance step needs a step name or an answer (step_name[.]answer)")
    if name:
        _short_id(name, "a performance step name")
    if len(answer) > 250:
        raise ValueError(f"a performance step answer is at most 250 characters, not {len(answer)}")


def check_correct_pattern(kind: str, value: str) -> None:
    """Raise ValueError unless ``value`` is a correct response pattern of interaction type ``kind``."""
    if value == "" and kind != "true-false":
        return
    if kind == "numeric":
        bounds = split(value, ":")
        if len(bounds) > 2 or any(b and not DECIMAL.match(b) for b in bounds):
            raise ValueError(f"a numeric pattern is a decimal or a range min[:]max, not {value[:60]!r}")
        if len(bounds) == 2 and all(bounds) and float(bounds[0]) > float(bounds[1]):
            raise ValueError(f"the numeric range {value!r} has its minimum above its maximum")
        return
    if kind in ("fill-in", "long-fill-in", "matching", "performance", "sequencing"):
        value = _strip_prefixes(value)
        if kind in ("fill-in", "long-fill-in"):
            if kind == "long-fill-in":
                _localized(value, 4000, "a long-fill-in pattern")
                return
            nodes = split(value, ",")
            if len(nodes) > _NODES[kind]:
                raise ValueError(f"a fill-in pattern has {len(nodes)} parts; at most 10 are allowed")
            return
        nodes = [_strip_prefixes(n) for n in split(value, ",")]
        if len(nodes) > _NODES[kind]:
            raise ValueError(f"a {kind} pattern has {len(nodes)} parts joined by [,]; at most "
                             f"{_NODES[kind]} are allowed")
        if kind == "sequencing":
            for node in nodes:
                _short_id(node, "each sequencing step")
        elif kind == "matching":
            for node in nodes:
                pair = split(node, ".")
                if len(pair) != 2:
                    raise ValueError(f"each matching pair is source[.]target, not {node[:60]!r}")
                _short_id(pair[0], "a matching source")
                _short_id(pair[1], "a matching target")
        else:
            for node in nodes:
                name, _, answer = node.partition("[.]") if "[.]" in node else node.partition(".")
                if name == "" and answer == "":
                    raise ValueError("a performance step needs a step name or an answer")
                if name:
                    _short_id(name, "a performance step name")
        return
    check_learner_response(kind, value)
