"""Statement validation: the JSON Schema for structure, then the rules a schema cannot say.

The schema (``schemas/xapi-statement.json``) is checked by jsonschema-rs (compiled, ~9x faster
than the pure-Python validators on the ingest hot path, bench/RESULTS.md); only when it fails
is the pure-Python jsonschema run too, for its better choice of the message and path to report.

The length and nesting limits (``limits.py``) are compiled into the schema (``maxLength`` on every
string, a depth-bounded schema for extension values), so the compiled validator checks them in the
same pass; ``configure`` recompiles when the service sets its limits.
"""
from __future__ import annotations

import copy
import re
from datetime import datetime, timezone

import jsonschema
import jsonschema_rs

import schemas

from ..errors import XAPIError
from . import limits as _limits

_DIGITS = re.compile(r"[0-9]*")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"

_DEPTH_MARK = "nesting limit"
_STATEMENT_DEPTH = 16  # more than a Statement nests outside its extensions
# Strings that identify something (and so become index terms and cache keys): the IRI limit.
_IDENTIFIERS = ("iri", "mbox", "languageTag")
_IDENTIFIER_MARK = "identifier: LRS_MAX_IRI_LENGTH"


def limited_schema(lim: _limits.InputLimits) -> dict:
    """The Statement schema with ``lim`` compiled in."""
    schema = copy.deepcopy(schemas.load("xapi-statement"))
    defs = schema["definitions"]

    def cap(node):
        if isinstance(node, dict):
            if node.get("type") == "string":
                node.setdefault("maxLength", lim.max_string_length)
            for value in node.values():
                cap(value)
        elif isinstance(node, list):
            for value in node:
                cap(value)

    for node in [defs[name] for name in _IDENTIFIERS] + [defs["account"]["properties"]["name"]]:
        node["maxLength"] = lim.max_iri_length
        node["$comment"] = _IDENTIFIER_MARK
    cap(schema)
    # Extension values are any JSON: bounded in depth by unrolling, with every string and key capped.
    n = _limits.MAX_EXTENSION_DEPTH
    defs["json0"] = {"title": _DEPTH_MARK, "maxLength": lim.max_string_length, "not": {"type": ["object", "array"]}}
    for d in range(1, n + 1):
        defs[f"json{d}"] = {"maxLength": lim.max_string_length, "propertyNames": {"maxLength": lim.max_string_length},
                            "items": {"$ref": f"#/definitions/json{d - 1}"},
                            "additionalProperties": {"$ref": f"#/definitions/json{d - 1}"}}
    defs["extensions"]["additionalProperties"] = {"$ref": f"#/definitions/json{n}"}
    return schema


class _Compiled:
    def __init__(self, lim: _limits.InputLimits):
        self.limits = lim
        self.schema = limited_schema(lim)
        self.fast = jsonschema_rs.Draft7Validator(self.schema)
        self.explain = jsonschema.Draft7Validator(self.schema)
        # The agent and actor query/document parameters are checked to the same standard.
        self.agent = self._part("agent")
        self.actor = self._part("actor")

    def _part(self, definition: str):
        return jsonschema_rs.Draft7Validator({**self.schema, "allOf": [{"$ref": f"#/definitions/{definition}"}]})


def _compile(lim: _limits.InputLimits) -> None:
    global _active
    _active = _Compiled(lim)


_compile(_limits.current())
_limits.on_change(_compile)


def active() -> _Compiled:
    return _active


def validate_statement(st, version: str, path: str = "") -> None:
    """Raise ``XAPIError(400)`` naming the path and rule if ``st`` is not a valid Statement.

    ``version`` is the request's X-Experience-API-Version ("1.0.x" or "2.0.x").
    """
    if not isinstance(st, dict):
        raise XAPIError(400, "a Statement must be a JSON object", path or None)
    if not _active.fast.is_valid(st):
        raise _explained(st, path)
    _rules(st, version, path)


def _explained(st, prefix: str) -> XAPIError:
    deep = _too_deep(st)
    if deep is not None:  # before jsonschema, whose messages repr the (deep) value recursively
        where = _join(prefix, deep[0])
        return XAPIError(400, f"invalid Statement at {where}: {deep[1]}", where)
    err = jsonschema.exceptions.best_match(_active.explain.iter_errors(st))
    if err is None:  # the two validators disagree: report what the fast one said
        fast = next(iter(_active.fast.iter_errors(st)))
        where = _join(prefix, fast.instance_path)
        return XAPIError(400, f"invalid Statement at {where or 'statement'}: {shorten(fast.message)}", where or None)
    # Descend to the most specific error under if/then/else and oneOf branches.
    while err.context:
        deeper = jsonschema.exceptions.best_match(err.context)
        if deeper is None or len(deeper.absolute_path) < len(err.absolute_path):
            break
        err = deeper
    parts = list(err.absolute_path)
    if err.schema.get("title") == _DEPTH_MARK and "extensions" in parts:
        parts = parts[:parts.index("extensions") + 2]  # name the extension, not each of its levels
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        parts += extra[:1]  # name the property itself, not only the object that holds it
    where = _join(prefix, parts)
    return XAPIError(400, f"invalid Statement at {where or 'statement'}: {_message(err)}", where or None)


def _too_deep(st) -> tuple[list, str] | None:
    """The path of the first extension whose value nests deeper than the limit, or of a value nested
    deeper than any Statement can be, and what is wrong (no recursion)."""
    most = _limits.MAX_EXTENSION_DEPTH
    todo = [(st, [], None)]  # (value, its path, the path of the extension it is in)
    while todo:
        value, path, ext = todo.pop()
        if ext is not None and len(path) - len(ext) > most:
            return ext, f"JSON nested more than {most} levels deep inside an extension"
        if len(path) > most + _STATEMENT_DEPTH:
            return path[:_STATEMENT_DEPTH], f"JSON nested more than {most + _STATEMENT_DEPTH} levels deep"
        if isinstance(value, dict):
            for key, child in value.items():
                if ext is None and path and path[-1] == "extensions" and isinstance(key, str):
                    todo.append((child, path + [key], path + [key]))
                else:
                    todo.append((child, path + [key], ext))
        elif isinstance(value, list):
            todo.extend((child, path + [i], ext) for i, child in enumerate(value))
    return None


def _message(err) -> str:
    if err.validator == "maxLength":
        setting = "LRS_MAX_IRI_LENGTH" if err.schema.get("$comment") == _IDENTIFIER_MARK else "LRS_MAX_STRING_LENGTH"
        what = "a property name" if "propertyNames" in err.absolute_schema_path else "the value"
        return f"{what} is longer than {err.validator_value} characters, the limit ({setting})"
    if err.schema.get("title") == _DEPTH_MARK:
        return f"JSON nested more than {_limits.MAX_EXTENSION_DEPTH} levels deep inside an extension"
    if err.validator == "propertyNames" and isinstance(err.instance, dict):
        return "a property name is not allowed here (an extension key must be an IRI, a language map key " \
               "a language tag, each within the length limits)"
    if err.validator == "additionalProperties":
        return f"{err.message} (the property is not allowed by the xAPI specification)"
    if err.validator == "pattern":
        return f"{shorten(repr(err.instance))} is not in the required format"
    if err.validator in ("oneOf", "allOf") and isinstance(err.instance, dict):
        return "an Agent or identified Group needs exactly one of mbox, mbox_sha1sum, openid, account " \
               "(and an anonymous Group needs member)"
    return shorten(err.message)


def shorten(text: str, most: int = 200) -> str:
    """A message never echoes more than ``most`` characters of the input."""
    return text if len(text) <= most else text[:most] + f"... ({len(text) - most} more characters)"


def _join(prefix: str, parts) -> str:
    out = prefix
    for p in parts:
        out = f"{out}[{p}]" if isinstance(p, int) else (f"{out}.{p}" if out else str(p))
    return out


def _rules(st: dict, version: str, path: str) -> None:
    v = st.get("version")
    if v is not None:
        allowed = ("1.0",) if version.startswith("1.") else ("1.0", "2.0")
        if not v.startswith(allowed):
            raise XAPIError(400, f"Statement version {v!r} is not accepted under xAPI {version}", _join(path, ["version"]))
    for key in ("timestamp", "stored"):
        if key in st:
            check_timestamp(st[key], version, _join(path, [key]))
    _statement_rules(st, version, path)
    obj = st["object"]
    if obj.get("objectType") == "SubStatement":
        _statement_rules(obj, version, _join(path, ["object"]))
        if "timestamp" in obj:
            check_timestamp(obj["timestamp"], version, _join(path, ["object", "timestamp"]))
    if st["verb"]["id"] == VOIDED and obj.get("objectType") != "StatementRef":
        raise XAPIError(400, "a voiding Statement's object must be a StatementRef", _join(path, ["object", "objectType"]))


def _statement_rules(st: dict, version: str, path: str) -> None:
    ctx = st.get("context")
    obj = st["object"]
    if ctx is not None:
        if obj.get("objectType", "Activity") != "Activity":
            for key in ("revision", "platform"):
                if key in ctx:
                    raise XAPIError(400, f"context.{key} may only be used when the object is an Activity",
                                    _join(path, ["context", key]))
        if version.startswith("1."):
            for key in ("contextAgents", "contextGroups"):
                if key in ctx:
                    raise XAPIError(400, f"context.{key} is an xAPI 2.0 property, not allowed under {version}",
                                    _join(path, ["context", key]))
    score = (st.get("result") or {}).get("score")
    if score:
        lo, hi, raw = score.get("min"), score.get("max"), score.get("raw")
        if lo is not None and hi is not None and lo >= hi:
            raise XAPIError(400, "result.score.max must be greater than min", _join(path, ["result", "score", "max"]))
        if raw is not None and ((lo is not None and raw < lo) or (hi is not None and raw > hi)):
            raise XAPIError(400, "result.score.raw must lie between min and max", _join(path, ["result", "score", "raw"]))
    definition = obj.get("definition") if obj.get("objectType", "Activity") == "Activity" else None
    if definition:
        for key in ("choices", "scale", "source", "target", "steps"):
            comps = definition.get(key)
            if comps:
                ids = [c["id"] for c in comps]
                if len(set(ids)) != len(ids):
                    raise XAPIError(400, f"interaction component ids in {key} must be distinct",
                                    _join(path, ["object", "definition", key]))
    for i, att in enumerate(st.get("attachments") or ()):
        if att["usageType"] == SIGNATURE and att["contentType"] != "application/octet-stream":
            raise XAPIError(400, "a signature attachment must have contentType application/octet-stream",
                            _join(path, ["attachments", i, "contentType"]))


def check_timestamp(value: str, version: str, path: str) -> datetime:
    """Parse an ISO 8601 timestamp the schema already shaped; reject dates that do not exist."""
    try:
        ts = parse_timestamp(value)
        ts.astimezone(timezone.utc)
    except ValueError:
        raise XAPIError(400, f"{value!r} is not a valid ISO 8601 timestamp", path) from None
    except OverflowError:
        raise XAPIError(400, f"{value!r} lies outside the years 1 to 9999 once expressed in UTC", path) from None
    if value.endswith("-00:00") or value.endswith("-0000") or value.endswith("-00"):
        raise XAPIError(400, f"{value!r}: the offset -00:00 (unknown local offset) is not allowed", path)
    return ts


def parse_timestamp(value: str) -> datetime:
    """ISO 8601 to an aware datetime (UTC assumed when no offset is given)."""
    s = value
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    # Python accepts at most 6 fractional digits; more precision is kept in the stored text.
    if "." in s:
        head, _, rest = s.partition(".")
        digits = _DIGITS.match(rest).group()  # linear: a long fraction must not cost quadratic time
        s = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits):]}"
    if len(s) >= 5 and s[-5] in "+-" and s[-3] != ":" and s[-4:].isdigit():
        s = s[:-2] + ":" + s[-2:]
    elif len(s) >= 3 and s[-3] in "+-" and s[-2:].isdigit() and "T" in s[:-3]:
        s = s + ":00"
    ts = datetime.fromisoformat(s)
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
