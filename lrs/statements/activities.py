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
    most statements repeat their course's definitions word for word.

    Bounded in bytes, not entries: a definition larger than ``max_entry_bytes`` is not remembered
    (it is merged each time it comes), and the memory starts over when the remembered ids and
    definitions would exceed ``max_bytes``."""

    ENTRY_OVERHEAD = 200  # the two objects' headers and the dict slot, roughly

    def __init__(self, max_bytes: int = 32 * 1024 * 1024, max_entry_bytes: int = 64 * 1024):
        self.max_bytes = max_bytes
        self.max_entry_bytes = max_entry_bytes
        self._seen: dict[str, bytes] = {}
        self._bytes = 0

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
        size = len(activity_id) * 4 + len(raw) + self.ENTRY_OVERHEAD  # an id's chars: at most 4 bytes each
        if size > self.max_entry_bytes:
            self._seen.pop(activity_id, None)
            return
        old = self._seen.get(activity_id)
        if old is not None:
            self._bytes -= len(activity_id) * 4 + len(old) + self.ENTRY_OVERHEAD
        if self._bytes + size > self.max_bytes:
            self._seen.clear()
            self._bytes = 0
        self._seen[activity_id] = raw
        self._bytes += size

    def forget(self) -> None:
        """After a rollback: what was remembered may not have been stored."""
        self._seen.clear()
        self._bytes = 0
