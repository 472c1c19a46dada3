"""The history's hash chain: each event's hash is sha256 over the previous hash and the canonical
JSON (sorted keys, no spaces, UTF-8) of its body. ``verify`` recomputes it and names the first
broken link: an event modified, deleted or moved behind the service's back breaks it there."""
from __future__ import annotations

import hashlib
from typing import Iterable

import orjson

from .storage.ports import GENESIS


def canonical(body: dict) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def link(prev: str, body: dict) -> str:
    return hashlib.sha256(prev.encode("ascii") + canonical(body)).hexdigest()


def verify(events: Iterable) -> dict:
    """{"ok": bool, "events": count checked, "head": last good hash, "broken": None or
    {"n": number, "reason": ...}} over ``events`` (HistoryEvent, in chain order from the first)."""
    prev, expected, count = GENESIS, 0, 0
    for ev in events:
        if ev.n != expected:
            return _broken(count, prev, expected, f"event {expected} is missing (found {ev.n} next)")
        if ev.prev != prev:
            return _broken(count, prev, ev.n, "its prev is not the hash of the event before it")
        if link(prev, ev.body) != ev.hash:
            return _broken(count, prev, ev.n, "its hash does not match its content")
        prev, expected, count = ev.hash, expected + 1, count + 1
    return {"ok": True, "events": count, "head": prev, "broken": None}


def _broken(count: int, head: str, n: int, reason: str) -> dict:
    return {"ok": False, "events": count, "head": head, "broken": {"n": n, "reason": reason}}
