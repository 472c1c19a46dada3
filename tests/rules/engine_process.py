"""A rules engine in a process of its own, for the tests of engines in several processes."""
from __future__ import annotations

import time
from datetime import datetime


def run_engine(path: str, mongodb_url: str, holder: str, now_iso: str, seconds: float, out) -> None:
    from lrs.storage import open_store
    from rules.engine import Engine
    from rules.storage import open_rules_store

    now = datetime.fromisoformat(now_iso)
    lrs = open_store(path, mongodb_url)
    store = open_rules_store(path, mongodb_url, clock=lambda: now)
    engine = Engine(lrs, store, clock=lambda: now, holder=holder, lease_seconds=0.3, batch=3)
    leased = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if engine.run_once()["leased"]:
                leased += 1
            else:
                time.sleep(0.01)
        engine.release()
    finally:
        store.close()
        lrs.close()
    out.put((holder, leased))
