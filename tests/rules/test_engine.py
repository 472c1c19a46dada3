"""The engine over the statement stream: incremental processing in any chunks, with restarts, gives
what one rebuild gives; arrival order matters only through timestamps; one engine at a time holds the
lease, also across store instances (processes) on one database; the hash chain stays whole."""
from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from rules.engine import Engine
from rules.storage import open_rules_store

from rules_kit import START, Clock, World, statement, voiding


def stream_of(draw_items) -> list[dict]:
    out = []
    for person, activity, day, success, scaled, void in draw_items:
        s = statement(person, activity, START + timedelta(days=day), success, scaled)
        out.append(s)
        if void:
            out.append(voiding(s["id"]))
    return out


ITEMS = st.lists(st.tuples(st.integers(0, 2), st.sampled_from(["bus-course", "bus-refresher", "forklift"]),
                           st.integers(0, 900), st.booleans(), st.sampled_from([None, 0.5, 0.9]),
                           st.sampled_from([False, False, True])),
                 min_size=1, max_size=14)


BUS_DEFINITIONS = st.builds(
    lambda months, days, basis, window, grace, late: {
        "validity": {"months": months, "days": days},
        "expiry": {"basis": basis, **({"month": 12, "day": 31} if basis == "fixed_date" else {})},
        "renewal_window_days": window, "grace_days": grace, "late_renewal": late},
    st.integers(0, 24), st.integers(1, 40), st.sampled_from(["completion", "previous_expiry", "fixed_date"]),
    st.integers(0, 90), st.integers(0, 60), st.sampled_from(["restart", "credit"]))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(items=ITEMS, chunks=st.lists(st.integers(1, 4), min_size=1, max_size=6), seed=st.integers(0, 10**6),
       bus=BUS_DEFINITIONS)
def test_incremental_processing_in_chunks_with_restarts_equals_one_rebuild(tmp_path_factory, items, chunks, seed, bus):
    statements = stream_of(items)
    end = START + timedelta(days=1000)
    clock_a, clock_b = Clock(START), Clock(START)
    a = World(tmp_path_factory.mktemp("a"), "", clock_a, bus)
    b = World(tmp_path_factory.mktemp("b"), "", clock_b, bus)
    try:
        rnd = random.Random(seed)
        i, k = 0, 0
        engine = Engine(a.lrs, a.store, clock=clock_a, batch=rnd.randint(1, 3))
        while i < len(statements):
            n = chunks[k % len(chunks)]
            a.insert(statements[i:i + n])
            i, k = i + n, k + 1
            clock_a.now = min(end, clock_a.now + timedelta(days=rnd.randint(0, 200)))
            if rnd.random() < 0.4:
                engine.release()
                engine = Engine(a.lrs, a.store, clock=clock_a, batch=rnd.randint(1, 3))   # a restart
            engine.run_until_idle()
        clock_a.now = end
        engine.run_until_idle()
        b.insert(statements)
        clock_b.now = end
        Engine(b.lrs, b.store, clock=clock_b).run_until_idle()
        assert a.records() == b.records()
        assert a.known() == b.known()
        assert a.rules.verify_chain()["ok"] and b.rules.verify_chain()["ok"]
    finally:
        a.close()
        b.close()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(items=ITEMS, seed=st.integers(0, 10**6), bus=BUS_DEFINITIONS)
def test_arrival_order_does_not_matter_beyond_timestamps(tmp_path_factory, items, seed, bus):
    statements = [s for s in stream_of(items) if not s["verb"]["id"].endswith("/voided")]
    shuffled = list(statements)
    random.Random(seed).shuffle(shuffled)
    end = START + timedelta(days=1000)
    worlds = []
    try:
        for order in (statements, shuffled):
            w = World(tmp_path_factory.mktemp("w"), "", Clock(START), bus)
            worlds.append(w)
            w.insert(order)
            w.clock.now = end
            Engine(w.lrs, w.store, clock=w.clock).run_until_idle()
        strip = {k: v[:-2] + (v[-1],) for k, v in worlds[0].records().items()}   # evidence may name equal twins
        assert strip == {k: v[:-2] + (v[-1],) for k, v in worlds[1].records().items()}
    finally:
        for w in worlds:
            w.close()


def assert_history_consistent(store) -> None:
    """Each status event adds a transition the history did not have, each retraction removes one it had:
    what two engines working at once would break by appending the same change twice."""
    known: dict = {}
    for e in store.history():
        b = e.body
        if b["kind"] == "status":
            assert known.get((b["person"], b["certification"], b["at"])) != b["status"], e
            known[(b["person"], b["certification"], b["at"])] = b["status"]
        elif b["kind"] == "retract":
            assert known.pop((b["person"], b["certification"], b["at"])) == b["status"], e


@pytest.fixture
def world(tmp_path, backend):
    w = World(tmp_path, backend, Clock(START))
    yield w
    w.close()


def test_replaying_the_stream_changes_nothing(world):
    world.insert([statement(0, "bus-course", START)])
    world.clock.now = START + timedelta(days=2)
    world.rules.engine.run_until_idle()
    before, head = world.records(), world.store.chain_head()
    world.store.set_checkpoint({})                    # as if the checkpoint write had been lost
    Engine(world.lrs, world.store, clock=world.clock).run_until_idle()
    assert world.records() == before and world.store.chain_head() == head


def test_the_engine_only_reads_the_statement_store(world):
    world.insert([statement(0, "bus-course", START)])
    last = world.lrs.last_seq()
    world.clock.now = START + timedelta(days=2)
    world.rules.engine.run_until_idle()
    assert world.lrs.last_seq() == last


def test_one_engine_holds_the_lease_until_it_expires(world):
    now = [1000.0]
    a = Engine(world.lrs, world.store, clock=world.clock, holder="a", lease_seconds=30, wall=lambda: now[0])
    b = Engine(world.lrs, world.store, clock=world.clock, holder="b", lease_seconds=30, wall=lambda: now[0])
    world.insert([statement(0, "bus-course", START)])
    assert a.run_once()["leased"]
    assert not b.run_once()["leased"]
    now[0] += 31
    assert b.run_once()["leased"]
    assert not a.run_once()["leased"]
    b.release()
    assert a.run_once()["leased"]


def test_two_engines_on_two_store_instances_keep_one_whole_history(tmp_path, backend):
    """Two engines, each on its own store instance, run at once in threads
    with short leases: the history is one unbroken chain with each transition once."""
    w = World(tmp_path, backend, Clock(START))
    other = open_rules_store(tmp_path, backend, clock=w.clock)
    try:
        engines = [Engine(w.lrs, w.store, clock=w.clock, holder="one", lease_seconds=0.05, batch=2),
                   Engine(w.lrs, other, clock=w.clock, holder="two", lease_seconds=0.05, batch=2)]
        w.insert([statement(i % 3, "bus-course", START + timedelta(days=i)) for i in range(8)])
        w.clock.now = START + timedelta(days=500)
        stop = threading.Event()
        errors = []

        def spin(e):
            try:
                while not stop.is_set():
                    e.run_once()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=spin, args=(e,)) for e in engines]
        for t in threads:
            t.start()
        threading.Event().wait(1.5)
        stop.set()
        for t in threads:
            t.join()
        assert not errors
        engines[0].release()
        engines[1].release()
        Engine(w.lrs, w.store, clock=w.clock).run_until_idle()
        assert w.rules.verify_chain()["ok"]
        assert_history_consistent(w.store)
        assert w.store.checkpoint()["seq"] == w.lrs.last_seq()
    finally:
        other.close()
        w.close()


def test_engines_in_two_processes_share_one_store_one_at_a_time(tmp_path, backend):
    """Acceptance 3: two processes (as two service processes) run the engine on one database while
    statements arrive; the lease lets one work at a time: one unbroken history, each change once."""
    import multiprocessing

    from engine_process import run_engine

    w = World(tmp_path, backend, Clock(START))
    try:
        end = START + timedelta(days=700)
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=run_engine, args=(str(tmp_path), backend, name, end.isoformat(), 1.6, out))
                 for name in ("proc-a", "proc-b")]
        for p in procs:
            p.start()
        for i in range(12):
            w.insert([statement(i % 3, "bus-course" if i % 4 else "forklift", START + timedelta(days=40 * i),
                                scaled=0.9)])
            threading.Event().wait(0.07)
        results = dict(out.get(timeout=30) for _ in procs)
        for p in procs:
            p.join(30)
            assert p.exitcode == 0
        assert sum(results.values()) > 0
        w.clock.now = end
        Engine(w.lrs, w.store, clock=w.clock).run_until_idle()
        assert w.rules.verify_chain()["ok"]
        assert_history_consistent(w.store)
        assert w.store.checkpoint()["seq"] == w.lrs.last_seq()
    finally:
        w.close()


def test_far_behind_the_engine_only_reads_then_derives_each_person_once(world):
    world.rules.engine.run_until_idle()               # the import and the publications are done with
    world.rules.engine.release()
    world.insert([statement(i % 3, "bus-course", START + timedelta(minutes=i)) for i in range(12)])
    engine = Engine(world.lrs, world.store, clock=world.clock, batch=4)
    first = engine.run_once()                         # 8 statements behind after it: only read
    cp = world.store.checkpoint()
    assert first["people"] == 0 and first["more"]
    assert cp["seq"] == world.lrs.last_seq() - 8 and cp["derived"] < cp["seq"]
    assert {p for p, _ in world.store.dirty()} == {"p0", "p1", "p2"}
    done = engine.run_until_idle()
    assert done["people"] == 3                        # once each, not once per batch they appear in
    cp = world.store.checkpoint()
    assert cp["derived"] == cp["seq"] == world.lrs.last_seq() and world.store.dirty() == []
    assert world.records()[("p0", "bus-operator")][0] == "certified"


def test_a_statement_on_an_activity_no_rule_names_recomputes_nobody(world):
    world.rules.engine.run_until_idle()
    world.insert([statement(0, "canteen-menu", START)])
    assert world.rules.engine.run_until_idle()["people"] == 0
    world.insert([statement(0, "bus-course", START)])
    assert world.rules.engine.run_until_idle()["people"] == 1


def test_a_derivation_that_changes_nothing_leaves_the_records_as_they_were(world):
    world.insert([statement(0, "bus-course", START)])
    world.rules.engine.run_until_idle()
    before = {r.certification: r for r in world.store.records_for("p0")}
    world.clock.tick(3600)
    world.insert([statement(0, "bus-course", START, success=False)])   # counts for nothing
    assert world.rules.engine.run_until_idle()["people"] == 1
    after = {r.certification: r for r in world.store.records_for("p0")}
    assert after == before                            # same records, same `updated`: none rewritten


def test_a_publication_is_seen_by_the_next_pass_of_an_engine_that_kept_the_definitions(world):
    world.insert([statement(0, "bus-course", START)])
    world.rules.engine.run_until_idle()
    assert world.records()[("p0", "bus-operator")][3] == "2027-01-01"
    world.rules.create_definition("certification", {"id": "bus-operator", "initial": "bus-course",
                                                    "validity": {"months": 24}}, "admin", "longer")
    world.rules.publish("certification", "bus-operator", 2, "admin", "longer")
    world.rules.engine.run_until_idle()
    assert world.records()[("p0", "bus-operator")][3] == "2028-01-01"
