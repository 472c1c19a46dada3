"""The mongo adapter of the rules store when a writer died between its two writes of a person."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402

from rules.storage.mongo import MongoRulesStore  # noqa: E402

ADA = "Agent|mbox:mailto:ada@example.com"


def test_a_person_whose_current_pointer_was_left_behind_gets_the_next_version_and_is_listed():
    url = fresh_mongodb_url()
    store = MongoRulesStore(url)
    try:
        store.put_person("ada", [], [ADA], {"site": "north"}, "cli")
        store.put_person("ada", [], [ADA], {"site": "south"}, "cli")
        # the writer of version 2 died before moving the pointer: put it back to version 1
        v1 = store._run(store.aio.people_.find_one({"_id": "ada|000000001"}))
        store._run(store.aio.current.replace_one({"_id": "ada"}, {"_id": "ada", "d": v1}))
        assert store.people()[0].version == 1
        assert store.put_person("ada", [], [ADA], {"site": "south"}, "cli") is None   # repairs the pointer
        assert store.people()[0].version == 2
        v3 = store.put_person("ada", [], [ADA], {"site": "east"}, "cli")
        assert v3.version == 3 and store.people()[0].attributes == {"site": "east"}
    finally:
        store.close()


def test_current_pointers_written_before_they_carried_the_supervisor_get_it_at_start_up():
    url = fresh_mongodb_url()
    store = MongoRulesStore(url)
    try:
        store.put_person("ada", [], [ADA], {"supervisor": "s1"}, "cli")
        # a pointer as the earlier layout wrote it: the version alone
        v1 = store._run(store.aio.people_.find_one({"_id": "ada|000000001"}))
        store._run(store.aio.current.replace_one({"_id": "ada"}, {"_id": "ada", "d": v1}))
        assert store.supervised_by("s1") == []
    finally:
        store.close()
    again = MongoRulesStore(url)
    try:
        assert again.supervised_by("s1") == ["ada"]
    finally:
        again.close()
