"""Two ``lrs serve`` processes on one MongoDB database, driven at once: the same Statement ids from
both, batches interleaved while readers follow `more` chains, and If-Match document updates racing.
Nothing may be duplicated, lost or half-written, and every `more` chain returns each Statement once."""
from __future__ import annotations

import copy
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from lrs_testkit import ADMIN, create_credential, fresh_mongodb_url, make_statement

ACTIVITY = "http://example.com/activities/race"
AGENT = '{"mbox": "mailto:race@example.com"}'


@pytest.fixture
def two_servers(live_server, tmp_path):
    url = fresh_mongodb_url()
    servers = []
    for i in range(2):
        d = tmp_path / f"proc{i}"
        d.mkdir()
        if i == 0:  # one database, one credential
            create_credential(d, *ADMIN, ["all"], name="LRS admin", email="admin@example.com", mongodb_url=url)
        servers.append(live_server(data_dir=d, env={"LRS_MONGODB_URL": url, "LRS_MAX_QUERY_LIMIT": "100000"}))
    return servers


def chain(server, limit: int) -> list[str]:
    """Every id a `more` chain returns, in order."""
    ids = []
    with server.client() as c:
        body = c.get("/statements", params={"limit": limit}).json()
        while True:
            ids += [s["id"] for s in body["statements"]]
            if not body["more"]:
                return ids
            body = c.get("http://127.0.0.1:%d%s" % (server.port, body["more"])).json()


def test_two_processes_on_one_database_lose_and_duplicate_nothing(two_servers):
    a, b = two_servers
    failures: list[str] = []

    # 1. the same ids from both processes: same content is accepted by both, never stored twice
    same = [make_statement() for _ in range(20)]

    def post_same(server, order):
        with server.client() as c:
            for i in order:
                resp = c.post("/statements", json=[same[i], same[(i + 1) % len(same)]])
                if resp.status_code != 200:
                    failures.append(f"same ids: {resp.status_code} {resp.text[:200]}")

    # ... and different content for one id: one wins, the other gets 409
    contested = [make_statement() for _ in range(10)]
    variants = [copy.deepcopy(st) for st in contested]
    for st in variants:
        st["verb"] = {"id": "http://adlnet.gov/expapi/verbs/failed"}
    outcomes: dict[str, list[int]] = {st["id"]: [] for st in contested}

    def put_contested(server, statements):
        with server.client() as c:
            for st in statements:
                resp = c.put("/statements", params={"statementId": st["id"]}, json=st)
                outcomes[st["id"]].append(resp.status_code)

    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(post_same, a, range(len(same))), pool.submit(post_same, b, reversed(range(len(same)))),
                pool.submit(put_contested, a, contested), pool.submit(put_contested, b, variants)]
        for job in jobs:
            job.result()
    assert not failures, failures[:5]
    for sid, codes in outcomes.items():
        assert sorted(codes) == [204, 409], (sid, codes)

    # 2. batches interleaved from both processes while readers follow `more` chains
    posted: list[str] = []
    lock = threading.Lock()
    writing = threading.Event()
    writing.set()

    def writer(server, rounds):
        with server.client() as c:
            for _ in range(rounds):
                batch = [make_statement() for _ in range(25)]
                resp = c.post("/statements", json=batch)
                if resp.status_code != 200:
                    failures.append(f"batch: {resp.status_code} {resp.text[:200]}")
                    continue
                with lock:
                    posted.extend(s["id"] for s in batch)

    def reader(server):
        while writing.is_set():
            try:
                ids = chain(server, 37)
            except Exception as exc:
                failures.append(f"reader: {exc!r}; server alive: {server.proc.poll() is None}; "
                                f"{server.read_output()[-4000:] if server.proc.poll() is not None else ''}")
                return
            if len(ids) != len(set(ids)):
                failures.append("a `more` chain returned a Statement twice")

    # 3. If-Match document updates racing on both processes: a counter no increment of which is lost
    params = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "counter"}
    with a.client() as c:
        assert c.put("/activities/state", params=params, json={"n": 0}).status_code == 204
    applied = []

    def incrementer(server, times):
        with server.client() as c:
            done = 0
            while done < times:
                got = c.get("/activities/state", params=params)
                n = got.json()["n"]
                resp = c.put("/activities/state", params=params, json={"n": n + 1},
                             headers={"If-Match": got.headers["ETag"]})
                if resp.status_code == 204:
                    done += 1
                    with lock:
                        applied.append(n + 1)
                elif resp.status_code != 412:
                    failures.append(f"If-Match PUT: {resp.status_code} {resp.text[:200]}")
                    return

    with ThreadPoolExecutor(10) as pool:
        readers = [pool.submit(reader, s) for s in (a, b)]
        jobs = [pool.submit(writer, s, 4) for s in (a, b, a, b)]
        jobs += [pool.submit(incrementer, s, 5) for s in (a, b, a, b)]
        for job in jobs:
            job.result()
        writing.clear()
        for job in readers:
            job.result()
    assert not failures, failures[:5]

    # nothing lost or duplicated, whichever process is asked
    expected = {s["id"] for s in same} | set(outcomes) | set(posted)
    for server in (a, b):
        ids = chain(server, 50)
        assert len(ids) == len(set(ids)), "duplicates in the final chain"
        assert set(ids) == expected
    with b.client() as c:
        assert c.get("/activities/state", params=params).json() == {"n": 20}
    assert sorted(applied) == list(range(1, 21))  # each acknowledged If-Match write built on the one before
