"""The player store's contract: every adapter (player/storage/) passes these.

Each test runs once per adapter: the embedded SQLite store, and the mongo adapter on a fresh database
of the server LRS_TEST_MONGODB_URL names (skipped when it is not set).
"""
from __future__ import annotations

import dataclasses
import sys
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402

from player.storage import (Attempt, AttemptEnded, NotFound, OutOfOrder, RegistrationConflict,  # noqa: E402
                            open_player_store)
from player.storage.ports import PAGE_LIMIT  # noqa: E402

ALICE = {"objectType": "Agent", "name": "Alice", "mbox": "mailto:alice@example.com"}
ALICE_BARE = {"mbox": "mailto:alice@example.com"}
BOB = {"account": {"homePage": "https://hr.example.com", "name": "bob-17"}}
COURSE = "c0ffee0000000001"
OTHER_COURSE = "c0ffee0000000002"


class Clock:
    """A clock tests move by hand."""

    def __init__(self):
        self.now = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request) -> str:
    """The MongoDB URL of a fresh database for the mongo adapter, "" for the embedded store."""
    return fresh_mongodb_url() if request.param == "mongo" else ""


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def open_store(tmp_path, backend, clock):
    """Open a store (as many as a test wants, all on the same data) and close them after the test."""
    opened = []

    def factory():
        store = open_player_store(tmp_path / "data", backend, clock=clock)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store):
    return open_store()


def race(n: int, fn) -> list:
    """Run ``fn(i)`` on ``n`` threads released together; their results (or exceptions) in order."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def answer(value: str):
    """A commit's change: record an answer in the runtime data."""
    def change(attempt: Attempt) -> Attempt:
        answers = attempt.data.get("answers", []) + [value]
        return dataclasses.replace(attempt, data={**attempt.data, "answers": answers})
    return change


# -- registrations -------------------------------------------------------------------------

def test_registration_for_makes_one_registration_and_then_returns_it(store, clock):
    first = store.registration_for(ALICE, COURSE, 1)
    assert str(uuid.UUID(first.id)) == first.id
    assert (first.learner, first.course_id, first.version) == (ALICE, COURSE, 1)
    assert first.created == first.updated == "2026-01-02T03:04:05.678Z"
    clock.tick()
    assert store.registration_for(ALICE, COURSE, 1) == first
    assert store.get_registration(first.id) == first


def test_a_registration_keeps_its_version_after_a_newer_one_is_imported(store):
    v1 = store.registration_for(ALICE, COURSE, 1)
    assert store.registration_for(ALICE, COURSE, 2) == v1
    assert store.registration_for(ALICE, COURSE, 2).version == 1
    newcomer = store.registration_for(BOB, COURSE, 2)
    assert newcomer.version == 2 and newcomer.id != v1.id


def test_two_spellings_of_one_agent_are_one_learner(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    assert store.registration_for(ALICE_BARE, COURSE, 1).id == reg.id
    assert store.registration_for({"objectType": "Agent", "mbox": "mailto:alice@example.com", "name": "A. Smith"},
                                  COURSE, 1).id == reg.id
    assert reg.learner_key == store.registration_for(ALICE_BARE, OTHER_COURSE, 1).learner_key


@pytest.mark.parametrize("learner", [{}, {"name": "no identifier"}, "mailto:alice@example.com",
                                     {"objectType": "Group", "mbox": "mailto:team@example.com"}])
def test_a_learner_must_be_an_identified_agent(store, learner):
    with pytest.raises(ValueError):
        store.registration_for(learner, COURSE, 1)


def test_each_learner_and_course_has_its_own_registration(store):
    ids = {store.registration_for(who, course, 1).id for who in (ALICE, BOB) for course in (COURSE, OTHER_COURSE)}
    assert len(ids) == 4


def test_concurrent_registration_for_gives_every_caller_the_same_registration(open_store):
    stores = [open_store() for _ in range(2)]
    results = race(8, lambda i: stores[i % 2].registration_for(ALICE, COURSE, 1))
    assert all(not isinstance(r, Exception) for r in results), results
    assert len({r.id for r in results}) == 1
    assert len(stores[0].registrations(course_id=COURSE)) == 1


def test_new_registration_with_an_explicit_id_becomes_the_current_one(store):
    old = store.registration_for(ALICE, COURSE, 1)
    rid = str(uuid.uuid4()).upper()
    new = store.new_registration(ALICE_BARE, COURSE, 2, rid)
    assert new.id == rid.lower() and new.version == 2
    assert store.registration_for(ALICE, COURSE, 3) == new
    assert store.get_registration(old.id) == old
    assert store.get_registration(rid) == new


def test_new_registration_again_with_the_same_id_answers_the_stored_one(store, clock):
    rid = str(uuid.uuid4())
    first = store.new_registration(ALICE, COURSE, 1, rid)
    clock.tick()
    assert store.new_registration(ALICE_BARE, COURSE, 1, rid) == first


@pytest.mark.parametrize("learner, course", [(BOB, COURSE), (ALICE, OTHER_COURSE)])
def test_new_registration_with_an_id_of_another_learner_or_course_is_a_conflict(store, learner, course):
    rid = str(uuid.uuid4())
    store.new_registration(ALICE, COURSE, 1, rid)
    with pytest.raises(RegistrationConflict) as caught:
        store.new_registration(learner, course, 1, rid)
    assert caught.value.registration_id == rid
    assert store.get_registration(rid).learner == ALICE


def test_new_registration_refuses_an_id_that_is_not_a_uuid(store):
    with pytest.raises(ValueError):
        store.new_registration(ALICE, COURSE, 1, "not-a-uuid")
    assert store.get_registration("not-a-uuid") is None


def test_new_registration_without_an_id_makes_a_fresh_one(store):
    a = store.new_registration(ALICE, COURSE, 1)
    b = store.new_registration(ALICE, COURSE, 1)
    assert a.id != b.id and store.registration_for(ALICE, COURSE, 1) == b


def test_a_closed_registration_stays_but_the_next_launch_makes_a_new_one_on_the_latest_version(store):
    v1 = store.registration_for(ALICE, COURSE, 1)
    assert store.close_registration(v1.id) is True
    assert store.close_registration(v1.id) is False
    v2 = store.registration_for(ALICE, COURSE, 2)
    assert v2.id != v1.id and v2.version == 2
    assert store.get_registration(v1.id) == v1
    with pytest.raises(NotFound):
        store.close_registration(str(uuid.uuid4()))


def test_get_registration_of_an_unknown_id_is_none(store):
    assert store.get_registration(str(uuid.uuid4())) is None


def test_registrations_are_paged_in_id_order_and_filtered(store):
    learners = [{"mbox": f"mailto:learner{i}@example.com"} for i in range(7)]
    made = [store.registration_for(who, COURSE, 1) for who in learners]
    made.append(store.registration_for(learners[0], OTHER_COURSE, 1))
    ids = sorted(r.id for r in made)
    pages, after = [], None
    while True:
        page = store.registrations(limit=3, after=after)
        if not page:
            break
        pages.append([r.id for r in page])
        after = page[-1].id
    assert pages == [ids[0:3], ids[3:6], ids[6:8]]
    assert sorted(r.id for r in store.registrations(course_id=OTHER_COURSE)) == [made[-1].id]
    mine = store.registrations(learner_key=made[0].learner_key)
    assert sorted(r.id for r in mine) == sorted([made[0].id, made[-1].id])
    assert [r.id for r in store.registrations(learner_key=made[0].learner_key, course_id=COURSE)] == [made[0].id]
    assert len(store.registrations(limit=10 * PAGE_LIMIT)) == 8


# -- attempts ------------------------------------------------------------------------------

def test_attempts_are_numbered_from_one_and_a_new_one_starts_only_after_the_last_ended(store, clock):
    reg = store.registration_for(ALICE, COURSE, 1)
    assert store.current_attempt(reg.id, "sco-1") is None
    first = store.start_attempt(reg.id, "sco-1")
    assert (first.number, first.applied_seq, first.ended, first.data) == (1, 0, False, {})
    assert first.started == "2026-01-02T03:04:05.678Z"
    clock.tick()
    assert store.start_attempt(reg.id, "sco-1") == first      # not ended: resumed
    store.apply_commit(reg.id, "sco-1", 1, 1, lambda a: dataclasses.replace(a, ended=True))
    second = store.start_attempt(reg.id, "sco-1")
    assert second.number == 2 and second.started == "2026-01-02T03:04:06.678Z"
    assert store.current_attempt(reg.id, "sco-1") == second
    other = store.start_attempt(reg.id, "sco-2")
    assert other.number == 1
    assert [(a.sco_id, a.number) for a in store.attempts(reg.id)] == [("sco-1", 1), ("sco-1", 2), ("sco-2", 1)]
    assert store.attempts(str(uuid.uuid4())) == []


def test_start_attempt_needs_a_registration(store):
    with pytest.raises(NotFound):
        store.start_attempt(str(uuid.uuid4()), "sco-1")


def test_concurrent_start_attempt_gives_every_caller_the_same_attempt(open_store):
    stores = [open_store() for _ in range(2)]
    reg = stores[0].registration_for(ALICE, COURSE, 1)
    results = race(8, lambda i: stores[i % 2].start_attempt(reg.id, "sco-1"))
    assert all(not isinstance(r, Exception) for r in results), results
    assert {r.number for r in results} == {1}
    assert len(stores[0].attempts(reg.id)) == 1


# -- commits -------------------------------------------------------------------------------

def test_a_commit_stores_what_change_returns_with_its_seq(store, clock):
    reg = store.registration_for(ALICE, COURSE, 1)
    started = store.start_attempt(reg.id, "sco-1")
    clock.tick(2)

    def change(a: Attempt) -> Attempt:
        return dataclasses.replace(a, data={"cmi.location": "page-3", "cmi.suspend_data": "x" * 5000},
                                   completion_status="completed", success_status="passed", score_scaled=0.85,
                                   total_time="PT1M2.5S", number=99, sco_id="forged")

    applied = store.apply_commit(reg.id, "sco-1", 1, 1, change)
    assert not applied.duplicate
    a = applied.attempt
    assert (a.sco_id, a.number, a.started) == ("sco-1", 1, started.started)   # identity is not the change's
    assert a.updated == "2026-01-02T03:04:07.678Z" and a.applied_seq == 1
    assert (a.completion_status, a.success_status, a.score_scaled, a.total_time, a.ended) == \
        ("completed", "passed", 0.85, "PT1M2.5S", False)
    assert store.current_attempt(reg.id, "sco-1") == a
    assert store.attempts(reg.id) == [a]


def test_commits_apply_in_order_and_a_repeated_one_is_a_duplicate(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    store.start_attempt(reg.id, "sco-1")
    for seq, value in enumerate("abc", start=1):
        assert not store.apply_commit(reg.id, "sco-1", 1, seq, answer(value)).duplicate
    for seq in (1, 2, 3):
        again = store.apply_commit(reg.id, "sco-1", 1, seq, answer("again"))
        assert again.duplicate and again.attempt.data["answers"] == ["a", "b", "c"]
    assert store.current_attempt(reg.id, "sco-1").applied_seq == 3


def test_a_commit_ahead_of_the_next_one_is_out_of_order(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    store.start_attempt(reg.id, "sco-1")
    store.apply_commit(reg.id, "sco-1", 1, 1, answer("a"))
    with pytest.raises(OutOfOrder) as caught:
        store.apply_commit(reg.id, "sco-1", 1, 3, answer("c"))
    assert (caught.value.seq, caught.value.expected) == (3, 2)
    assert "2" in str(caught.value)
    assert store.current_attempt(reg.id, "sco-1").data == {"answers": ["a"]}


def test_a_change_that_raises_leaves_nothing_applied(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    store.start_attempt(reg.id, "sco-1")
    store.apply_commit(reg.id, "sco-1", 1, 1, answer("a"))
    before = store.current_attempt(reg.id, "sco-1")

    def refuse(a: Attempt) -> Attempt:
        raise ValueError("cmi.score.raw: not a number")

    with pytest.raises(ValueError):
        store.apply_commit(reg.id, "sco-1", 1, 2, refuse)
    assert store.current_attempt(reg.id, "sco-1") == before
    assert not store.apply_commit(reg.id, "sco-1", 1, 2, answer("b")).duplicate


def test_a_new_commit_for_an_ended_attempt_is_refused(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    store.start_attempt(reg.id, "sco-1")
    store.apply_commit(reg.id, "sco-1", 1, 1, lambda a: dataclasses.replace(a, ended=True))
    assert store.apply_commit(reg.id, "sco-1", 1, 1, answer("late retry")).duplicate
    with pytest.raises(AttemptEnded):
        store.apply_commit(reg.id, "sco-1", 1, 2, answer("late"))


def test_a_commit_needs_an_existing_attempt_and_a_positive_seq(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    with pytest.raises(NotFound):
        store.apply_commit(reg.id, "sco-1", 1, 1, answer("a"))
    store.start_attempt(reg.id, "sco-1")
    with pytest.raises(NotFound):
        store.apply_commit(reg.id, "sco-1", 2, 1, answer("a"))
    for seq in (0, -1, 1.0, True):
        with pytest.raises(ValueError):
            store.apply_commit(reg.id, "sco-1", 1, seq, answer("a"))


def test_commits_to_an_earlier_attempt_do_not_touch_the_current_one(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    store.start_attempt(reg.id, "sco-1")
    store.apply_commit(reg.id, "sco-1", 1, 1, lambda a: dataclasses.replace(a, ended=True, data={"n": 1}))
    store.start_attempt(reg.id, "sco-1")
    store.apply_commit(reg.id, "sco-1", 2, 1, answer("second"))
    assert store.apply_commit(reg.id, "sco-1", 1, 1, answer("retry")).duplicate
    assert [a.data for a in store.attempts(reg.id)] == [{"n": 1}, {"answers": ["second"]}]


def test_concurrent_commits_with_one_seq_are_applied_exactly_once(open_store):
    stores = [open_store() for _ in range(2)]
    reg = stores[0].registration_for(ALICE, COURSE, 1)
    stores[0].start_attempt(reg.id, "sco-1")
    for seq in (1, 2):
        results = race(6, lambda i: stores[i % 2].apply_commit(reg.id, "sco-1", 1, seq, answer(f"{seq}/{i}")))
        assert all(not isinstance(r, Exception) for r in results), results
        assert [r.duplicate for r in results].count(False) == 1
    answers = stores[1].current_attempt(reg.id, "sco-1").data["answers"]
    assert len(answers) == 2 and [a.split("/")[0] for a in answers] == ["1", "2"]


# -- launch tokens -------------------------------------------------------------------------

def test_a_token_is_consumed_once(store):
    assert store.consume_token("jti-1", 2_000_000_000) is True
    assert store.consume_token("jti-1", 2_000_000_000) is False
    assert store.consume_token("jti-2", 2_000_000_000) is True


def test_concurrent_consumers_of_one_token_have_exactly_one_winner(open_store):
    stores = [open_store() for _ in range(2)]
    results = race(8, lambda i: stores[i % 2].consume_token("jti-race", 2_000_000_000))
    assert results.count(True) == 1 and results.count(False) == 7


def test_purge_forgets_only_expired_tokens(store):
    store.consume_token("old", 1000.0)
    store.consume_token("new", 3000.0)
    assert store.purge_tokens(2000.0) == 1
    assert store.consume_token("new", 3000.0) is False
    assert store.consume_token("old", 1000.0) is True   # forgotten: its JWT has expired, which the caller checks


# -- several stores on one data set (processes) -------------------------------------------

def test_two_stores_on_the_same_data_see_each_others_writes(open_store):
    one, two = open_store(), open_store()
    reg = one.registration_for(ALICE, COURSE, 1)
    assert two.registration_for(ALICE_BARE, COURSE, 2) == reg
    assert two.get_registration(reg.id) == reg
    two.start_attempt(reg.id, "sco-1")
    one.apply_commit(reg.id, "sco-1", 1, 1, answer("a"))
    assert two.apply_commit(reg.id, "sco-1", 1, 1, answer("a")).duplicate
    assert two.apply_commit(reg.id, "sco-1", 1, 2, answer("b")).attempt.data == {"answers": ["a", "b"]}
    assert one.current_attempt(reg.id, "sco-1").applied_seq == 2
    assert one.consume_token("jti", 2_000_000_000) and not two.consume_token("jti", 2_000_000_000)


# -- sequencing (SCORM 2004) -----------------------------------------------------------------

ROLLUP = {"completion_status": "incomplete", "success_status": None, "score_scaled": None}


def test_a_registration_has_no_sequencing_state_until_one_is_saved(store):
    reg = store.registration_for(ALICE, COURSE, 1)
    assert store.sequencing_state(reg.id) is None


def test_a_saved_sequencing_state_is_read_back_whole(store, clock):
    reg = store.registration_for(ALICE, COURSE, 1)
    saved, stored = store.save_sequencing_state(reg.id, 1, '{"tree": "x"}', ROLLUP)
    assert stored is True
    assert store.sequencing_state(reg.id) == saved
    assert (saved.seq, saved.state, saved.rollup, saved.updated) == (1, '{"tree": "x"}', ROLLUP,
                                                                    "2026-01-02T03:04:05.678Z")


def test_a_sequencing_save_not_newer_than_the_stored_one_is_stale_and_changes_nothing(store, clock):
    reg = store.registration_for(ALICE, COURSE, 1)
    store.save_sequencing_state(reg.id, 1, "one", ROLLUP)
    clock.tick()
    newer, _ = store.save_sequencing_state(reg.id, 3, "three", {**ROLLUP, "completion_status": "completed"})
    for seq in (3, 2):
        kept, stored = store.save_sequencing_state(reg.id, seq, "late", ROLLUP)
        assert stored is False and kept == newer
    assert store.sequencing_state(reg.id).state == "three"
    assert store.sequencing_state(reg.id).rollup["completion_status"] == "completed"


def test_sequencing_state_is_kept_per_registration(store):
    one = store.registration_for(ALICE, COURSE, 1)
    two = store.registration_for(ALICE, OTHER_COURSE, 1)
    store.save_sequencing_state(one.id, 1, "one", ROLLUP)
    assert store.sequencing_state(two.id) is None


def test_sequencing_state_needs_a_registration_and_a_valid_seq(store):
    with pytest.raises(NotFound):
        store.save_sequencing_state(str(uuid.uuid4()), 1, "x", ROLLUP)
    reg = store.registration_for(ALICE, COURSE, 1)
    for seq, state in ((0, "x"), (True, "x"), (1, {"not": "text"})):
        with pytest.raises(ValueError):
            store.save_sequencing_state(reg.id, seq, state, ROLLUP)
    assert store.sequencing_state(reg.id) is None


def test_concurrent_sequencing_saves_with_one_seq_store_exactly_one(open_store):
    stores = [open_store() for _ in range(4)]
    reg = stores[0].registration_for(ALICE, COURSE, 1)
    results = race(4, lambda i: stores[i].save_sequencing_state(reg.id, 1, f"state {i}", ROLLUP))
    assert sum(1 for _, stored in results if stored) == 1
    winner = next(saved for saved, stored in results if stored)
    assert stores[0].sequencing_state(reg.id).state == winner.state


def test_global_objectives_are_kept_per_learner_and_replaced_per_objective(store):
    alice = store.registration_for(ALICE, COURSE, 1).learner_key
    bob = store.registration_for(BOB, COURSE, 1).learner_key
    assert store.global_objectives(alice) == {}
    store.save_global_objectives(alice, {"obj.a": {"satisfiedStatus": False}, "obj.b": {"satisfiedStatus": True}})
    store.save_global_objectives(alice, {"obj.a": {"satisfiedStatus": True, "normalizedMeasure": 0.9}})
    assert store.global_objectives(alice) == {"obj.a": {"satisfiedStatus": True, "normalizedMeasure": 0.9},
                                              "obj.b": {"satisfiedStatus": True}}
    assert store.global_objectives(bob) == {}


def test_global_objectives_must_be_entries_by_objective_id(store):
    key = store.registration_for(ALICE, COURSE, 1).learner_key
    for bad in ([], {"": {}}, {"obj": "satisfied"}):
        with pytest.raises(ValueError):
            store.save_global_objectives(key, bad)
    assert store.global_objectives(key) == {}
