"""The cmi5 store port: both adapters keep the same contract (SQLite always; mongo with LRS_TEST_MONGODB_URL)."""
from __future__ import annotations

import os
import uuid

import pytest

from lrs.cmi5.store import SqliteCmi5Store

MONGO_URL = os.environ.get("LRS_TEST_MONGODB_URL", "")


@pytest.fixture(params=["sqlite", "mongo"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteCmi5Store(tmp_path / "cmi5.sqlite3")
    else:
        if not MONGO_URL:
            pytest.skip("LRS_TEST_MONGODB_URL is not set")
        from lrs.cmi5.mongo import MongoCmi5Store

        s = MongoCmi5Store(MONGO_URL, database=f"cmi5_test_{uuid.uuid4().hex[:8]}")
    yield s
    if request.param == "mongo":
        s._run(s.aio.client.drop_database(s.aio.db.name))
    s.close()


def session(sid, reg, state="launched", last=100.0):
    return {"id": sid, "registration": reg, "state": state, "last": last}


def test_a_registration_is_stored_once_and_then_only_over_its_current_revision(store):
    assert store.put_registration({"id": "r1", "x": 1}, 0)
    assert not store.put_registration({"id": "r1", "x": 2}, 0)
    assert store.get_registration("r1") == {"id": "r1", "x": 1, "rev": 1}
    assert store.put_registration({"id": "r1", "x": 3}, 1)
    assert not store.put_registration({"id": "r1", "x": 4}, 1)   # a writer that read rev 1 lost
    assert store.get_registration("r1")["x"] == 3
    assert store.get_registration("nope") is None


def test_sessions_keep_revisions_and_active_ones_are_found_by_registration(store):
    assert store.put_session(session("s1", "r1"), 0)
    assert store.put_session(session("s2", "r1", "terminated"), 0)
    assert store.put_session(session("s3", "r2"), 0)
    assert [s["id"] for s in store.active_sessions("r1")] == ["s1"]
    s1 = store.get_session("s1")
    assert store.put_session({**s1, "state": "abandoned"}, s1["rev"])
    assert not store.put_session({**s1, "state": "initialized"}, s1["rev"])
    assert store.active_sessions("r1") == []
    assert store.get_session("s1")["state"] == "abandoned"


def test_stale_sessions_are_the_active_ones_idle_since_before_a_time(store):
    store.put_session(session("old", "r1", last=10.0), 0)
    store.put_session(session("new", "r1", last=500.0), 0)
    store.put_session(session("done", "r1", "terminated", last=10.0), 0)
    assert [s["id"] for s in store.stale_sessions(100.0)] == ["old"]
