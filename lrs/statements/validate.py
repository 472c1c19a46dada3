"""Statement validation: the JSON Schema for structure, then the rules a schema cannot say.

The schema (``schemas/xapi-statement.json``) is checked by jsonschema-rs (compiled, ~9x faster
than the pure-Python validators on the ingest hot path, bench/RESULTS.md); only when it fails
is the pure-Python jsonschema run too, for its better choice of the message and path to report.
"""
from __future__ import annotations

from datetime import datetime, timezone

import jsonschema
import jsonschema_rs

import schemas

from ..errors import XAPIError

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"

_SCHEMA = schemas.load("xapi-statement")
_fast = jsonschema_rs.Draft7Validator(_SCHEMA)
_explain = jsonschema.Draft7Validator(_SCHEMA)


def validate_statement(st, version: str, path: str = "") -> None:
    """Raise ``XAPIError(400)`` naming the path and rule if ``st`` is not a valid Statement.

    ``version`` is the request's X-Experience-API-Version ("1.0.x" or "2.0.x").
    """
    if not isinstance(st, dict):
        raise XAPIError(400, "a Statement must be a JSON object", path or None)
    if not _fast.is_valid(st):
        raise _explained(st, path)
    _rules(st, version, path)


def _explained(st, prefix: str) -> XAPIError:
    err = jsonschema.exceptions.best_match(_explain.iter_errors(st))
    if err is None:  # the two validators disagree: report what the fast one said
        fast = next(iter(_fast.iter_errors(st)))
        where = _join(prefix, fast.instance_path)
        return XAPIError(400, f"invalid Statement at {where or 'statement'}: {fast.message}", where or None)
    # Descend to the most specific error under if/then/else and oneOf branches.
    while err.context:
        deeper = jsonschema.exceptions.best_match(err.context)
        if deeper is None or len(deeper.absolute_path) < len(err.absolute_path):
            break
        err = deeper
    parts = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        parts += extra[:1]  # name the property itself, not only the object that holds it
    where = _join(prefix, parts)
    return XAPIError(400, f"invalid Statement at {where or 'statement'}: {_message(err)}", where or None)


def _message(err) -> str:
    if err.validator == "additionalProperties":
        return f"{err.message} (the property is not allowed by the xAPI specification)"
    if err.validator == "pattern":
        return f"{err.instance!r} is not in the required format"
    if err.validator in ("oneOf", "allOf") and isinstance(err.instance, dict):
        return "an Agent or identified Group needs exactly one of mbox, mbox_sha1sum, openid, account " \
               "(and an anonymous Group needs member)"
    return err.message


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
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        s = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    if len(s) >= 5 and s[-5] in "+-" and s[-3] != ":" and s[-4:].isdigit():
        s = s[:-2] + ":" + s[-2:]
    elif len(s) >= 3 and s[-3] in "+-" and s[-2:].isdigit() and "T" in s[:-3]:
        s = s + ":00"
    ts = datetime.fromisoformat(s)
    return ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)
