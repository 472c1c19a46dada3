"""Tampered cursors and runaway reads against a real ``lrs serve``: no client holds the store's readers,
other clients are served meanwhile, and SIGTERM stops the server promptly."""
from __future__ import annotations

import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor

import orjson

from lrs.statements.forms import prepare
from lrs_testkit import make_statement

ATTACK = "4503599627370496.4503599627370496"
CLIENTS = 4  # as many as the server has SQLite readers


def _stop_promptly(server) -> float:
    started = time.monotonic()
    server.proc.terminate()
    server.proc.wait(15)
    return time.monotonic() - started


def test_tampered_cursors_hold_no_reader_and_sigterm_stops_the_server(live_server):
    """Issue 9 finding 1: four clients sending the reported tampered cursor at once get 400 at once,
    a normal client is served meanwhile, and SIGTERM then stops the server promptly (the attack used to
    hold every reader for good, then block every authenticated request, and SIGTERM was ignored)."""
    server = live_server()
    with server.client(timeout=5.0) as c:
        assert c.post("/statements", json=[make_statement() for _ in range(5)]).status_code == 200

        def attack(_):
            with server.client(timeout=5.0) as a:
                started = time.monotonic()
                resp = a.get("/statements", params={"cursor": ATTACK, "agent": '{"mbox": "mailto:ada@example.com"}'})
                return resp.status_code, time.monotonic() - started

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(attack, range(CLIENTS)))
        assert all(status == 400 and took < 2.0 for status, took in answers), answers
        started = time.monotonic()
        resp = c.get("/statements", params={"limit": 2})
        assert resp.status_code == 200 and time.monotonic() - started < 2.0
        more = resp.json()["more"]
        assert c.get(server.url.rsplit("/xapi", 1)[0] + more).status_code == 200
    assert _stop_promptly(server) < 5.0


# Put in the server's processes through PYTHONPATH: a term lookup that runs until its read deadline
# stops it. (A seq far past the data, which once made such a read, is answered at once: the next test.)
ENDLESS_LOOKUP = """
import lrs.storage.sqlite as store


def _endless(conn, *args):
    conn.execute("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT count(*) FROM c").fetchall()
    raise AssertionError("the endless read ended by itself")


store._term_bucket_parts = _endless
"""


def test_runaway_reads_end_at_the_read_timeout_and_sigterm_stops_the_server(live_server, tmp_path):
    """Issue 9 finding 1: reads that would run for good (the walk a seq far past the data once caused;
    here a term lookup made endless) end at LRS_READ_TIMEOUT_SECONDS with 503 and Retry-After, the
    readers come free for the next requests, and SIGTERM stops the server promptly."""
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(ENDLESS_LOOKUP)
    server = live_server(env={"LRS_READ_TIMEOUT_SECONDS": "1", "PYTHONPATH": str(hook)})
    with server.client(timeout=10.0) as c:
        assert c.post("/statements", json=[make_statement() for _ in range(3)]).status_code == 200

        def runaway(_):
            with server.client(timeout=10.0) as a:
                started = time.monotonic()
                resp = a.get("/statements", params={"verb": "urn:no-such-verb"})
                return resp.status_code, resp.headers.get("retry-after"), time.monotonic() - started

        with ThreadPoolExecutor(CLIENTS) as pool:
            answers = list(pool.map(runaway, range(CLIENTS)))
        assert all(status == 503 and retry and took < 4.0 for status, retry, took in answers), answers
        resp = c.get("/statements", params={"limit": 2})
        assert resp.status_code == 200, resp.text
    assert _stop_promptly(server) < 5.0


def test_a_row_far_past_the_data_is_answered_at_once_and_right(live_server):
    """Issue 16: a Statement row put in at seq 2^52 (the one that made reads walk 2^40 buckets of the
    term index, and a test process grow to 21.5 GB): term queries answer at once, with the Statements
    before it, and SIGTERM stops the server promptly."""
    server = live_server()
    verb = {"id": "http://example.com/verbs/before-the-gap"}
    with server.client(timeout=10.0) as c:
        assert c.post("/statements", json=[make_statement(verb=verb) for _ in range(3)]).status_code == 200
        st = prepare(make_statement(), {"mbox": "mailto:planted@example.com"}, "1.0.3")
        st["stored"] = "2000-01-01T00:00:00.000Z"
        conn = sqlite3.connect(server.data_dir / "lrs.sqlite3", isolation_level=None, timeout=10)
        conn.execute("INSERT INTO statements (seq, id, stored, body) VALUES (?, ?, ?, ?)",
                     (1 << 52, st["id"], st["stored"], orjson.dumps(st)))
        conn.close()
        started = time.monotonic()
        found = c.get("/statements", params={"verb": verb["id"]})
        absent = c.get("/statements", params={"verb": "urn:no-such-verb"})
        assert time.monotonic() - started < 2.0
        assert found.status_code == 200 and len(found.json()["statements"]) == 3, found.text
        assert absent.status_code == 200 and absent.json()["statements"] == [], absent.text
    assert _stop_promptly(server) < 5.0
