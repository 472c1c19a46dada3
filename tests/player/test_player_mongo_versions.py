"""The mongo player store keeps an attempt as versions (one insert a commit) and deletes superseded ones."""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from pymongo import MongoClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402

from player.storage import mongo  # noqa: E402


def test_superseded_attempt_versions_are_deleted_and_the_newest_stays(monkeypatch):
    url = fresh_mongodb_url()
    monkeypatch.setattr(mongo, "KEEP_VERSIONS", -1.0)  # every superseded version is old enough to delete
    store = mongo.MongoPlayerStore(url)
    try:
        reg = store.registration_for({"mbox": "mailto:a@example.com"}, "course", 1)
        store.start_attempt(reg.id, "sco")
        for seq in (1, 2, 3):
            store.apply_commit(reg.id, "sco", 1, seq, lambda a: dataclasses.replace(a, data={"n": a.applied_seq + 1}))
        assert store.current_attempt(reg.id, "sco").data == {"n": 3}
        assert store.apply_commit(reg.id, "sco", 1, 2, lambda a: a).duplicate
        assert [a.data for a in store.attempts(reg.id)] == [{"n": 3}]
    finally:
        store.close()
    client = MongoClient(url)
    try:
        kept = list(client.get_default_database()["player_attempts"].find({}, {"q": 1}))
        assert [d["q"] for d in kept] == [3]
    finally:
        client.close()
