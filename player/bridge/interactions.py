"""SCORM interactions as xAPI interaction activities and ``responded`` results (xAPI 1.0.3 Data
2.4.4.1 "Interaction Activities"; profile 6.0 "Interactions").

SCORM 2004 response formats are xAPI's (``[,]``, ``[.]``, ``[:]`` delimiters and ``{...}``
parameters), so its values pass through; a fill-in learner response loses its ``{lang=..}`` tags,
which xAPI responses do not have. SCORM 1.2 formats are converted: ``t``/``f``/``1``/``0`` to
``true``/``false``; comma lists (optionally in braces) of choice, sequencing and matching to
``[,]`` lists, with ``.`` between the two sides of a matching pair becoming ``[.]``.

The component lists (``choices``, ``scale``, ``source``/``target``, ``steps``) hold the ids that
the correct response patterns and the learner's response name: SCORM does not tell the others.
"""
from __future__ import annotations

import re

from . import values

INTERACTION_TYPES = ("true-false", "choice", "fill-in", "long-fill-in", "matching", "performance",
                     "sequencing", "likert", "numeric", "other")
_PARAMS = re.compile(r"^(?:\{(?:case_matters|order_matters|lang)=[^}]*\})+")
_RESULTS = {"correct": True, "incorrect": False, "wrong": False}   # 1.2 says "wrong", 2004 "incorrect"


def indexed(cmi: dict, prefix: str) -> dict[int, dict[str, str]]:
    """The entries of an indexed element family (``cmi.interactions.``) as {n: {"id": ..., ...}}."""
    out: dict[int, dict[str, str]] = {}
    for key, value in cmi.items():
        if not key.startswith(prefix):
            continue
        n, _, rest = key[len(prefix):].partition(".")
        if n.isdigit() and rest and value is not None:
            out.setdefault(int(n), {})[rest] = value if isinstance(value, str) else str(value)
    return dict(sorted(out.items()))


def response_key(scorm_version: str) -> str:
    return "student_response" if scorm_version == "1.2" else "learner_response"


def interaction_type(entry: dict) -> str | None:
    kind = (entry.get("type") or "").strip()
    return kind if kind in INTERACTION_TYPES else None


def xapi_response(kind: str | None, value: str, scorm_version: str, pattern: bool = False) -> str:
    """A learner response (or, with ``pattern``, a correct response pattern) in xAPI's format."""
    if scorm_version == "1.2":
        return _from_12(kind, value)
    if kind in ("fill-in", "long-fill-in") and not pattern:
        return "[,]".join(values.strip_lang(part) for part in value.split("[,]"))
    return value


def _from_12(kind: str | None, value: str) -> str:
    text = value.strip()
    if kind == "true-false":
        low = text.lower()
        if low in ("t", "1", "true"):
            return "true"
        if low in ("f", "0", "false"):
            return "false"
        return value
    if kind in ("choice", "sequencing", "matching"):
        if text.startswith("{") and text.endswith("}"):
            text = text[1:-1]
        items = [item.strip() for item in text.split(",") if item.strip()]
        if kind == "matching":
            items = ["[.]".join(side.strip() for side in item.split(".", 1)) for item in items]
        return "[,]".join(items)
    return value


def _components(kind: str, patterns: list[str], response: str | None) -> dict[str, list[dict]]:
    """The interaction component lists the patterns and the response name, first named first."""
    texts = [_PARAMS.sub("", p) for p in patterns]
    if response is not None:
        texts.append(response)
    lists: dict[str, list[str]] = {}

    def add(name: str, ident: str) -> None:
        ident = ident.strip()
        ids = lists.setdefault(name, [])
        if ident and ident not in ids:
            ids.append(ident)

    for text in texts:
        items = [i for i in text.split("[,]") if i]
        if kind in ("choice", "sequencing"):
            for item in items:
                add("choices", item)
        elif kind == "likert":
            add("scale", text)
        elif kind == "matching":
            for item in items:
                source, sep, target = item.partition("[.]")
                if sep:
                    add("source", source)
                    add("target", target)
        elif kind == "performance":
            for item in items:
                step, sep, _ = item.partition("[.]")
                if sep:
                    add("steps", step)
    return {name: [{"id": i} for i in ids] for name, ids in lists.items() if ids}


def definition(entry: dict, scorm_version: str, name: dict, activity_type: str) -> dict:
    """The interaction activity's definition: name, description (2004), type, interactionType,
    correctResponsesPattern and the component lists that can be derived."""
    out: dict = {"name": name}
    description = values.localized(entry.get("description"))
    if description:
        out["description"] = description
    out["type"] = activity_type
    kind = interaction_type(entry)
    if kind is None:
        return out
    out["interactionType"] = kind
    patterns = [xapi_response(kind, entry[key], scorm_version, pattern=True)
                for key in _pattern_keys(entry)]
    if patterns:
        out["correctResponsesPattern"] = patterns
    key = response_key(scorm_version)
    response = xapi_response(kind, entry[key], scorm_version) if key in entry else None
    out.update(_components(kind, patterns, response))
    return out


def _pattern_keys(entry: dict) -> list[str]:
    found = []
    for key in entry:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "correct_responses" and parts[1].isdigit() and parts[2] == "pattern":
            found.append((int(parts[1]), key))
    return [key for _, key in sorted(found)]


def result(entry: dict, scorm_version: str) -> dict:
    """``result`` of a responded statement: the response, success from the SCORM result
    (correct/incorrect), and the latency as the duration."""
    out: dict = {}
    key = response_key(scorm_version)
    if key in entry:
        out["response"] = xapi_response(interaction_type(entry), entry[key], scorm_version)
    success = _RESULTS.get((entry.get("result") or "").strip().lower())
    if success is not None:
        out["success"] = success
    latency = values.iso_duration(entry.get("latency"))
    if latency is not None:
        out["duration"] = latency
    return out


def answered(entry: dict, scorm_version: str) -> bool:
    """Whether the learner responded: a response or a result has been recorded."""
    return response_key(scorm_version) in entry or "result" in entry
