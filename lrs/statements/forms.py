"""The forms of a Statement: as stored (normalised, LRS properties set) and as returned
(``exact``, ``ids``, ``canonical``), and the comparison the spec defines between two."""
from __future__ import annotations

import copy
import re
import uuid
from datetime import datetime, timezone

from .agents import ifi_only
from .validate import parse_timestamp


def now_timestamp() -> str:
    return format_utc(datetime.now(timezone.utc))


def format_utc(ts: datetime) -> str:
    """The form of ``stored``: UTC with microseconds, so that text order is time order."""
    return ts.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_utc(value: str) -> str:
    """An ISO 8601 timestamp re-expressed in UTC, keeping the precision the client sent."""
    if value.endswith("Z"):
        return value
    ts = parse_timestamp(value)
    frac = ""
    if "." in value:
        digits = value.split(".", 1)[1]
        n = 0
        while n < len(digits) and digits[n].isdigit():
            n += 1
        frac = "." + digits[:n]
        if n > 6:  # precision beyond microseconds is kept as sent; the offset shift is whole minutes
            utc = ts.astimezone(timezone.utc)
            return utc.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
    utc = ts.astimezone(timezone.utc)
    if frac:
        return utc.strftime("%Y-%m-%dT%H:%M:%S") + "." + utc.strftime("%f")[: len(frac) - 1] + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_form(value: str) -> str:
    """A timestamp in the form ``stored`` is kept in (UTC, microseconds), so text order is time order."""
    utc = to_utc(value)
    head, _, frac = utc[:-1].partition(".")
    return f"{head}.{(frac + '000000')[:6]}Z"


def prepare(st: dict, authority: dict, version: str) -> dict:
    """The Statement as the LRS will store it, except ``stored`` (set at write time).

    Sets id, authority and version; returns every contextActivities value as an array;
    expresses the timestamp in UTC.
    """
    if "id" not in st:
        st["id"] = str(uuid.uuid4())
    else:
        st["id"] = st["id"].lower()
    st["authority"] = authority
    if "version" not in st:
        st["version"] = "2.0.0" if version.startswith("2.") else "1.0.0"
    _normalise(st, version)
    if st["object"].get("objectType") == "SubStatement":
        _normalise(st["object"], version)
    return st


def _normalise(st: dict, version: str) -> None:
    ctx = st.get("context")
    if ctx and "contextActivities" in ctx:
        ca = ctx["contextActivities"]
        for key, value in ca.items():
            if isinstance(value, dict):
                ca[key] = [value]
    if "timestamp" in st:  # 2.0 requires UTC; 1.0.3 allows it (Data 4.5: any zone, same instant)
        st["timestamp"] = to_utc(st["timestamp"])


def ids_form(st: dict) -> dict:
    """format=ids: Agents, Groups, Activities and Verbs reduced to their identifiers."""
    out = dict(st)
    _ids(out)
    return out


def _ids(st: dict) -> None:
    st["actor"] = ifi_only(st["actor"])
    st["verb"] = {"id": st["verb"]["id"]}
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        st["object"] = {"id": obj["id"]}
    elif kind in ("Agent", "Group"):
        st["object"] = ifi_only(obj)
    elif kind == "SubStatement":
        sub = dict(obj)
        _ids(sub)
        st["object"] = sub
    if "authority" in st:
        st["authority"] = ifi_only(st["authority"])
    ctx = st.get("context")
    if ctx:
        ctx = st["context"] = dict(ctx)
        for key in ("instructor", "team"):
            if key in ctx:
                ctx[key] = ifi_only(ctx[key])
        if "contextActivities" in ctx:
            ctx["contextActivities"] = {k: [{"id": a["id"]} for a in v] for k, v in ctx["contextActivities"].items()}


def canonical_form(st: dict, activities: dict[str, dict], languages: list[str]) -> dict:
    """format=canonical: Activity definitions from the LRS's canonical copy and every
    language map reduced to the one language that best fits Accept-Language."""
    out = copy.deepcopy(st)
    _canon(out, activities, languages)
    return out


def _canon(st: dict, activities: dict, languages: list[str]) -> None:
    verb = st["verb"]
    if "display" in verb:
        verb["display"] = pick_language(verb["display"], languages)
    objs = [st["object"]]
    ctx = st.get("context") or {}
    for acts in (ctx.get("contextActivities") or {}).values():
        objs.extend(acts)
    for obj in objs:
        kind = obj.get("objectType", "Activity")
        if kind == "Activity":
            definition = activities.get(obj["id"], obj.get("definition"))
            if definition:
                obj["definition"] = _canon_definition(definition, languages)
        elif kind == "SubStatement":
            _canon(obj, activities, languages)
    for att in st.get("attachments") or ():
        for key in ("display", "description"):
            if key in att:
                att[key] = pick_language(att[key], languages)


def _canon_definition(definition: dict, languages: list[str]) -> dict:
    out = dict(definition)
    for key in ("name", "description"):
        if key in out:
            out[key] = pick_language(out[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if key in out:
            out[key] = [dict(c, description=pick_language(c["description"], languages)) if "description" in c else c
                        for c in out[key]]
    return out


def pick_language(langmap: dict, languages: list[str]) -> dict:
    if not langmap:
        return langmap
    lower = {k.lower(): k for k in langmap}
    for lang in languages:
        lang = lang.lower()
        if lang == "*":
            break
        if lang in lower:
            key = lower[lang]
            return {key: langmap[key]}
        for k_low, key in lower.items():
            if k_low.split("-")[0] == lang.split("-")[0]:
                return {key: langmap[key]}
    key = next(iter(langmap))
    return {key: langmap[key]}


def parse_accept_language(header: str | None) -> list[str]:
    if not header:
        return []
    items = []
    for part in header.split(","):
        lang, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if lang:
            items.append((q, lang.strip()))
    items.sort(key=lambda x: -x[0])
    return [lang for q, lang in items if q > 0]


_EXCEPTIONS = ("id", "authority", "stored", "timestamp", "version")
_SECONDS = re.compile(r"(\d+)(?:\.(\d+))?S$")


def same_statement(a: dict, b: dict) -> bool:
    """Statement comparison (Data 2.3.1.s9): differences the immutability exceptions allow are
    ignored: the LRS-set properties, Verb display, Activity definitions, the order of Group
    members, attachments' data, case-insensitive mbox domains, durations beyond 0.01 s."""
    return _comparable(a) == _comparable(b)


def _duration_key(duration: str) -> str:
    """Durations compare to 0.01 s: finer precision is not part of the comparison (xAPI 2.0 4.2.7)."""
    return _SECONDS.sub(lambda m: f"{m.group(1)}.{(m.group(2) or '')[:2].ljust(2, '0')}S", duration)


def _agent(agent: dict) -> dict:
    out = dict(agent)
    out.setdefault("objectType", "Agent")
    if "mbox" in out:
        local, _, domain = out["mbox"].rpartition("@")
        out["mbox"] = f"{local}@{domain.lower()}"
    if "member" in out:
        out["member"] = sorted((_agent(m) for m in out["member"]), key=repr)
    return out


def _activity(activity: dict) -> dict:
    return {"id": activity["id"]}


def _comparable(st: dict) -> dict:
    out = {k: v for k, v in st.items() if k not in _EXCEPTIONS and k != "attachments"}
    out["actor"] = _agent(st["actor"])
    out["verb"] = {"id": st["verb"]["id"]}
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = _activity(obj)
    elif kind in ("Agent", "Group"):
        out["object"] = _agent(obj)
    elif kind == "SubStatement":
        out["object"] = _comparable(obj)
    result = out.get("result")
    if result and "duration" in result:
        out["result"] = dict(result, duration=_duration_key(result["duration"]))
    ctx = out.get("context")
    if ctx:
        ctx = out["context"] = dict(ctx)
        for key in ("instructor", "team"):
            if key in ctx:
                ctx[key] = _agent(ctx[key])
        if "contextActivities" in ctx:
            ctx["contextActivities"] = {k: [_activity(a) for a in (v if isinstance(v, list) else [v])]
                                        for k, v in ctx["contextActivities"].items()}
    if "attachments" in st:
        out["attachments"] = sorted((a.get("sha2"), a.get("usageType")) for a in st["attachments"])
    return out
