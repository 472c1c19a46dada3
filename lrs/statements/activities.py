"""Activity definitions: the ones a Statement carries, and the canonical definition the LRS
keeps for each Activity (what the Activities resource and format=canonical return)."""
from __future__ import annotations

from typing import Iterator

import orjson


def statement_activities(st: dict) -> Iterator[dict]:
    """Every Activity object in a Statement: its object (or its SubStatement's) and context activities."""
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        yield obj
    elif kind == "SubStatement":
        yield from statement_activities(obj)
    ctx = st.get("context") or {}
    for acts in (ctx.get("contextActivities") or {}).values():
        yield from (acts if isinstance(acts, list) else (acts,))


def merge_definition(old: dict, new: dict) -> dict:
    """The canonical definition: the newest value of each property, language maps merged."""
    out = dict(old)
    for key, value in new.items():
        if key in ("name", "description") and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


class SeenDefinitions:
    """The definition last merged for each Activity, so a store merges only what changed:
    most statements repeat their course's definitions word for word."""

    def __init__(self, size: int = 100_000):
        self.size = size
        self._seen: dict[str, bytes] = {}

    def changed(self, statements: list[dict]) -> Iterator[tuple[str, dict, bytes]]:
        """(activity id, definition, its canonical bytes) for each definition not merged before."""
        for st in statements:
            for act in statement_activities(st):
                definition = act.get("definition")
                if not definition:
                    continue
                raw = orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)
                if self._seen.get(act["id"]) != raw:
                    yield act["id"], definition, raw

    def remember(self, activity_id: str, raw: bytes) -> None:
        if len(self._seen) >= self.size:
            self._seen.clear()
        self._seen[activity_id] = raw

    def forget(self) -> None:
        """After a rollback: what was remembered may not have been stored."""
        self._seen.clear()
