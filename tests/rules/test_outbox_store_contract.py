"""The outbox store's contract: the SQLite tables in rules.sqlite3 and the mongo collections (fresh
database; skipped when LRS_TEST_MONGODB_URL is not set) pass the same tests."""
from __future__ import annotations

import pytest

from rules.storage.outbox import DELIVERED, FAILED, PENDING, RETRYING, Delivery, Endpoint, Reminder, open_outbox_store


@pytest.fixture
def store(tmp_path, backend):
    s = open_outbox_store(tmp_path, backend)
    yield s
    s.close()


def reminder(rid: str, person: str = "ada") -> Reminder:
    return Reminder(rid, person, "bus", "expiring", "2027-03-01", 30, "2027-01-30",
                    {"role": "person", "person_id": person, "agents": []}, {"status": "certified"}, "2027-01-30T12:00:00.000Z")


def test_a_cursor_is_empty_until_set_and_then_replaced_whole(store):
    assert store.cursor("statements") == {}
    store.set_cursor("statements", {"n": 3, "hash": "ab"})
    store.set_cursor("statements", {"n": 4})
    assert store.cursor("statements") == {"n": 4}
    assert store.cursor("reminders") == {}


def test_a_reminder_is_stored_once_whatever_how_often_it_is_added(store):
    assert [r.id for r in store.add_reminders([reminder("r1"), reminder("r2", "bob")])] == ["r1", "r2"]
    assert store.add_reminders([reminder("r1"), reminder("r3")]) == [reminder("r3")]
    assert store.reminder("r1") == reminder("r1")
    assert store.reminder("nope") is None
    assert [r.id for r in store.reminders()] == ["r1", "r2", "r3"]
    assert [r.id for r in store.reminders(person_id="ada")] == ["r1", "r3"]
    assert [r.id for r in store.reminders(after="r1", limit=1)] == ["r2"]


def test_endpoints_are_put_listed_and_deleted(store):
    a = Endpoint("a", "webhook", "http://127.0.0.1:1/hook", "s3cret", ("overdue",), True, "2027-01-01", "admin")
    store.put_endpoint(a)
    store.put_endpoint(Endpoint("b", "webhook", "http://127.0.0.1:2/hook", "x"))
    assert store.endpoint("a") == a
    assert [e.id for e in store.endpoints()] == ["a", "b"]
    assert store.delete_endpoint("b") is True
    assert store.delete_endpoint("b") is False
    assert [e.id for e in store.endpoints()] == ["a"]


def test_a_delivery_is_added_once_claimed_by_one_caller_and_finished(store):
    d = Delivery("r1|a", "r1", "a", PENDING, next_at=100.0, created="2027-01-30T12:00:00.000Z")
    assert store.add_deliveries([d, Delivery("r2|a", "r2", "a", PENDING, next_at=500.0)]) == 2
    assert store.add_deliveries([d]) == 0
    assert store.claim_deliveries(50.0, 80.0) == []                 # not due yet
    claimed = store.claim_deliveries(200.0, 260.0)
    assert [c.id for c in claimed] == ["r1|a"] and claimed[0].claimed_until == 260.0
    assert store.claim_deliveries(210.0, 270.0) == []               # claimed by someone else until 260
    store.finish_delivery(Delivery("r1|a", "r1", "a", RETRYING, 1, 300.0, "connection refused", "t1",
                                   d.created, 0.0, ({"at": "t1", "error": "connection refused"},)))
    assert store.claim_deliveries(250.0, 280.0) == []               # retry not due before 300
    again = store.claim_deliveries(300.0, 330.0)
    assert [(c.id, c.attempts, c.last_error, c.log) for c in again] == \
           [("r1|a", 1, "connection refused", ({"at": "t1", "error": "connection refused"},))]
    store.finish_delivery(Delivery("r1|a", "r1", "a", DELIVERED, 2, 300.0, "", "t2", d.created))
    assert store.claim_deliveries(10_000.0, 10_100.0)[0].id == "r2|a"   # a delivered one is never claimed again
    store.finish_delivery(Delivery("r2|a", "r2", "a", FAILED, 8, 0.0, "HTTP 500", "t3"))
    assert store.claim_deliveries(20_000.0, 20_100.0) == []
    assert [x.id for x in store.deliveries([FAILED, RETRYING])] == ["r2|a"]
    assert [x.state for x in store.deliveries()] == [DELIVERED, FAILED]
    assert [x.id for x in store.deliveries(after="r1|a")] == ["r2|a"]
