"""Concurrent clients against a real ``lrs serve``: several writers POST batches at once while a
reader pages through the store; no request gets a 5xx and every acknowledged id is retrievable."""
from __future__ import annotations

import random
import threading
import time

import httpx

from lrs_testkit import make_statement

WRITERS = 4
SECONDS = 2.5


def test_concurrent_batches_are_all_acknowledged_and_retrievable(live_server):
    server = live_server(env={"LRS_MAX_QUERY_LIMIT": "100000"})
    acknowledged: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def writer(seed: int):
        rnd = random.Random(seed)
        with server.client() as c:
            while time.monotonic() < deadline:
                batch = [make_statement() for _ in range(rnd.randint(50, 100))]
                try:
                    resp = c.post("/statements", json=batch)
                except httpx.HTTPError as exc:
                    with lock:
                        failures.append(f"writer {seed}: {exc!r}")
                    return
                with lock:
                    if resp.status_code != 200:
                        failures.append(f"writer {seed}: {resp.status_code} {resp.text[:200]}")
                        return
                    if resp.json() != [s["id"] for s in batch]:
                        failures.append(f"writer {seed}: ids not returned in order")
                        return
                    acknowledged.extend(resp.json())

    def reader():
        with server.client() as c:
            while time.monotonic() < deadline:
                resp = c.get("/statements", params={"limit": 50})
                if resp.status_code != 200:
                    with lock:
                        failures.append(f"reader: {resp.status_code} {resp.text[:200]}")
                    return
                more = resp.json()["more"]
                if more:
                    page = c.get(f"http://127.0.0.1:{server.port}{more}")
                    if page.status_code != 200:
                        with lock:
                            failures.append(f"reader more: {page.status_code}")
                        return

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    threads.append(threading.Thread(target=reader))
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert not failures, failures
    assert len(acknowledged) >= WRITERS * 50, "the writers got almost nothing done"
    assert len(set(acknowledged)) == len(acknowledged)

    with server.client() as c:
        body = c.get("/statements", params={"limit": 0, "format": "ids", "ascending": "true"}).json()
    stored = [s["id"] for s in body["statements"]]
    assert body["more"] == ""
    assert set(acknowledged) == set(stored)
    assert len(stored) == len(set(stored))
