"""The rules store's contract: every adapter (rules/storage/) passes these, the embedded SQLite store
and the mongo adapter on a fresh database (skipped when LRS_TEST_MONGODB_URL is not set)."""
from __future__ import annotations

import threading

import pytest

from rules.chain import verify
from rules.storage import GENESIS, Action, Fact, LeaseLost, Record, Void, open_rules_store


@pytest.fixture
def open_store(tmp_path, backend, clock):
    opened = []

    def make():
        s = open_rules_store(tmp_path, backend, clock=clock)
        opened.append(s)
        return s

    yield make
    for s in opened:
        s.close()


@pytest.fixture
def store(open_store):
    return open_store()


ADA = "Agent|mbox:mailto:ada@example.com"
ADA2 = "Agent|account:https://hr.example.com|ada-1"
BOB = "Agent|mbox:mailto:bob@example.com"


def test_a_person_gets_a_new_version_only_when_something_changed(store, clock):
    v1 = store.put_person("p1", [{"mbox": "mailto:ada@example.com"}], [ADA], {"site": "north", "roles": ["driver"]}, "cli")
    assert v1.version == 1
    assert store.put_person("p1", [{"mbox": "mailto:ada@example.com"}], [ADA], {"site": "north", "roles": ["driver"]}, "cli") is None
    clock.tick(60)
    v2 = store.put_person("p1", [], [ADA, ADA2], {"site": "south", "roles": ["driver"]}, "api")
    assert v2.version == 2 and v2.since > v1.since
    assert [v.attributes["site"] for v in store.person("p1")] == ["north", "south"]
    assert store.persons_for([ADA, ADA2, BOB]) == {ADA: "p1", ADA2: "p1"}
    assert [p.person_id for p in store.people()] == ["p1"]
    assert store.people()[0].version == 2


def test_an_identity_belongs_to_one_person(store):
    store.put_person("p1", [], [ADA], {}, "cli")
    with pytest.raises(ValueError, match="p1"):
        store.put_person("p2", [], [ADA], {}, "cli")
    assert store.person("p2") == []


def test_an_identity_a_person_drops_is_free_again(store):
    store.put_person("p1", [], [ADA, ADA2], {}, "cli")
    store.put_person("p1", [], [ADA], {}, "cli")
    assert store.persons_for([ADA2]) == {}
    store.put_person("p2", [], [ADA2], {}, "cli")
    assert store.persons_for([ADA2]) == {ADA2: "p2"}


def test_people_page_in_id_order(store):
    for pid in ["c", "a", "b"]:
        store.put_person(pid, [], [f"Agent|mbox:mailto:{pid}@x"], {}, "cli")
    assert [p.person_id for p in store.people(limit=2)] == ["a", "b"]
    assert [p.person_id for p in store.people(after="b")] == ["c"]


def test_definitions_are_versioned_and_publications_numbered(store):
    d1 = store.save_definition("certification", "bus", {"id": "bus", "v": 1}, "admin", "first")
    d2 = store.save_definition("certification", "bus", {"id": "bus", "v": 2}, "admin", "longer window")
    assert (d1.version, d2.version) == (1, 2)
    assert store.definition("certification", "bus").body == {"id": "bus", "v": 2}
    assert store.definition("certification", "bus", 1).why == "first"
    assert store.definition("certification", "nope") is None
    p1 = store.publish("certification", "bus", 1, "admin", "go")
    p2 = store.publish("certification", "bus", 2, "boss", "go again")
    assert (p1.n, p2.n) == (1, 2)
    assert [(p.version, p.who) for p in store.publications()] == [(1, "admin"), (2, "boss")]
    with pytest.raises(KeyError):
        store.publish("certification", "bus", 9, "admin", "no such version")
    assert [d.version for d in store.definition_versions("certification")] == [1, 2]


def _fact(sid, seq, agent=ADA, activity="http://x/a", ts="2026-01-01T00:00:00Z"):
    return Fact(sid, seq, agent, activity, "http://adlnet.gov/expapi/verbs/passed", ts, True, True, 0.9, None)


def test_facts_are_stored_once_and_voided_ones_left_out(store):
    store.add_facts([_fact("s1", 1), _fact("s2", 2), _fact("s3", 3, agent=BOB)], [])
    store.add_facts([_fact("s1", 1), _fact("s2", 2)], [])  # replayed
    store.add_facts([_fact("s1", 1)], [Void("s2", "v0", 3)])
    store.add_facts([], [Void("s2", "v9", 9)])             # replayed void: the first one stays
    assert [f.statement_id for f in store.facts_for([ADA])] == ["s1"]
    assert store.facts_for([ADA])[0] == _fact("s1", 1)
    assert [f.statement_id for f in store.facts_for([BOB])] == ["s3"]


def test_facts_of_many_agents_on_some_activities_only(store):
    store.add_facts([_fact("s1", 1), _fact("s2", 2, activity="http://x/b"), _fact("s3", 3, agent=BOB),
                     _fact("s4", 4, agent=BOB, activity="http://x/c")], [Void("s1", "v0", 5)])
    assert [f.statement_id for f in store.facts_for([ADA, BOB])] == ["s2", "s3", "s4"]
    assert [f.statement_id for f in store.facts_for([ADA, BOB], ["http://x/b", "http://x/c"])] == ["s2", "s4"]
    assert [f.statement_id for f in store.facts_for([BOB], ["http://x/b"])] == []
    assert store.facts_for([ADA, BOB], []) == []


def test_actions_are_kept_per_person(store):
    a = Action("a1", "p1", "exemption", "bus", {"from": "2026-01-01"}, "medical", "admin", "2026-01-02T00:00:00.000Z")
    store.add_action(a)
    assert store.actions_for("p1") == [a]
    assert store.actions_for("p2") == []


def test_actions_of_many_people_are_read_at_once_per_person_in_order(store):
    a2 = Action("a2", "p1", "revocation", "bus", {}, "fraud", "admin", "2026-01-03T00:00:00.000Z")
    a1 = Action("a1", "p1", "exemption", "bus", {"from": "2026-01-01"}, "medical", "admin", "2026-01-02T00:00:00.000Z")
    b1 = Action("b1", "p2", "exemption", "bus", {}, "leave", "admin", "2026-01-01T00:00:00.000Z")
    for a in (a2, b1, a1):
        store.add_action(a)
    assert store.actions_of(["p1", "p2", "p3"]) == {"p1": [a1, a2], "p2": [b1]}
    assert store.actions_of(["p2"]) == {"p2": [b1]}
    assert store.actions_of([]) == {}
    assert store.actions_of(["p1"])["p1"] == store.actions_for("p1")


def test_persons_reads_every_version_of_many_people_at_once(store, clock):
    store.put_person("p1", [{"mbox": "mailto:ada@example.com"}], [ADA], {"site": "north"}, "cli")
    store.put_person("p2", [{"mbox": "mailto:bob@example.com"}], [BOB], {"site": "south"}, "cli")
    store.put_person("p1", [{"mbox": "mailto:ada@example.com"}], [ADA], {"site": "east"}, "cli")
    got = store.persons(["p2", "p1", "nobody"])
    assert set(got) == {"p1", "p2"}
    assert got["p1"] == store.person("p1") and [v.version for v in got["p1"]] == [1, 2]
    assert got["p2"] == store.person("p2")
    assert store.persons([]) == {}


def test_one_lease_holder_at_a_time_until_it_expires(store):
    assert store.take_lease("A", 1000.0, 30)
    assert not store.take_lease("B", 1010.0, 30)
    assert store.take_lease("A", 1020.0, 30)       # renewal
    assert not store.take_lease("B", 1049.0, 30)
    assert store.take_lease("B", 1051.0, 30)       # A's lease expired
    assert not store.take_lease("A", 1052.0, 30)
    store.release_lease("B", 1053.0)
    assert store.take_lease("A", 1054.0, 30)


def test_the_lease_is_taken_by_one_of_two_processes(open_store):
    stores = [open_store(), open_store()]
    won = []

    def race(i):
        if stores[i].take_lease(f"h{i}", 5000.0, 30):
            won.append(i)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_checkpoint_and_dirty_marks(store):
    assert store.checkpoint() == {}
    store.set_checkpoint({"seq": 5, "publications": 1, "day": "2026-01-01"})
    store.set_checkpoint({"seq": 7, "publications": 1, "day": "2026-01-01"})
    assert store.checkpoint()["seq"] == 7
    store.mark_dirty(["p1", "p2"])
    marks = store.dirty()
    assert [m[0] for m in marks] == ["p1", "p2"]
    store.mark_dirty(["p1"])            # marked again while the engine works: the mark stays
    store.clear_dirty(marks)
    assert [m[0] for m in store.dirty()] == ["p1"]


def test_dirty_marks_are_read_page_by_page_after_a_person_id(store):
    store.mark_dirty(["p3", "p1", "p4", "p2"])
    first = store.dirty(limit=2)
    assert [m[0] for m in first] == ["p1", "p2"]
    assert [m[0] for m in store.dirty(limit=2, after=first[-1][0])] == ["p3", "p4"]
    assert store.dirty(after="p4") == []


def _record(pid, cert="bus", status="certified", expires="2027-01-01", site="north", roles=("driver",), nxt=None):
    return Record(pid, cert, status, "2026-01-01", "2026-01-01", expires, None, nxt, 1, {"statements": ["s1"]},
                  site, roles, (("2026-01-01", "certified"),), "2026-01-02T00:00:00.000Z")


def test_records_are_replaced_and_filtered_for_a_roster(store):
    store.put_records([_record("p1"), _record("p2", status="expired", site="south"),
                       _record("p3", expires="2026-02-01", roles=("mechanic",), nxt="2026-01-20"),
                       _record("p1", cert="forklift")])
    store.put_records([_record("p1", expires="2026-03-01")])
    assert [r.person_id for r in store.roster("bus")] == ["p1", "p2", "p3"]
    assert store.roster("bus")[0] == _record("p1", expires="2026-03-01")
    assert [r.person_id for r in store.roster("bus", status=["certified"])] == ["p1", "p3"]
    assert [r.person_id for r in store.roster("bus", site="south")] == ["p2"]
    assert [r.person_id for r in store.roster("bus", role="mechanic")] == ["p3"]
    assert [r.person_id for r in store.roster("bus", expires_by="2026-02-15")] == ["p3"]
    assert [r.person_id for r in store.roster("bus", after="p1", limit=1)] == ["p2"]
    assert [r.certification for r in store.records_for("p1")] == ["bus", "forklift"]
    assert store.due_people("2026-01-19") == []
    assert store.due_people("2026-01-20") == ["p3"]


def test_status_counts_add_records_up_by_status_site_and_roles(store):
    store.put_records([_record("p1"), _record("p2"), _record("p3", status="expired", site="south"),
                       _record("p4", site=None, roles=()), _record("p5", roles=("driver", "mechanic")),
                       _record("p1", cert="forklift")])
    assert sorted(store.status_counts("bus"), key=repr) == sorted([
        ("certified", "north", ("driver",), 2), ("expired", "south", ("driver",), 1),
        ("certified", None, (), 1), ("certified", "north", ("driver", "mechanic"), 1)], key=repr)
    assert store.status_counts("none") == []


def test_count_records_adds_up_every_certification_and_what_expires_by_each_day(store):
    store.put_records([_record("p1"), _record("p2", expires="2026-02-01"), _record("p3", status="expired", site="south",
                                                                             expires=None),
                       _record("p4", site=None, roles=(), expires="2026-01-10"),
                       _record("p5", roles=("driver", "mechanic"), expires="2026-03-01"),
                       _record("p1", cert="forklift", expires="2026-01-31")])
    got = sorted(store.count_records(["2026-01-31", "2026-02-28"]), key=repr)
    assert got == sorted([
        ("bus", "certified", "north", ("driver",), 2, (0, 1)), ("bus", "expired", "south", ("driver",), 1, (0, 0)),
        ("bus", "certified", None, (), 1, (1, 1)), ("bus", "certified", "north", ("driver", "mechanic"), 1, (0, 0)),
        ("forklift", "certified", "north", ("driver",), 1, (1, 1))], key=repr)
    # without days: the counts alone, the same as status_counts of each certification
    for cert in ("bus", "forklift"):
        assert sorted((g[1:5] for g in store.count_records() if g[0] == cert), key=repr) == sorted(
            store.status_counts(cert), key=repr)
    assert sorted(store.count_records(["2026-02-28"], people=["p2", "p4", "nobody"]), key=repr) == sorted([
        ("bus", "certified", "north", ("driver",), 1, (1,)), ("bus", "certified", None, (), 1, (1,))], key=repr)
    assert store.count_records(people=[]) == []
    only = sorted(store.count_records(["2026-02-28"], expiring=["expired"]), key=repr)
    assert only == sorted([("bus", "certified", "north", ("driver",), 2, (0,)), ("bus", "expired", "south", ("driver",), 1, (0,)),
                           ("bus", "certified", None, (), 1, (0,)), ("bus", "certified", "north", ("driver", "mechanic"), 1, (0,)),
                           ("forklift", "certified", "north", ("driver",), 1, (0,))], key=repr)
    assert (("bus", "certified", None, (), 1, (1,)) in store.count_records(["2026-02-28"], ["p4"], ["certified"])
            and store.count_records(["2026-02-28"], ["p4"], ["expired"]) == [("bus", "certified", None, (), 1, (0,))])


def test_count_records_follows_records_rewritten_with_another_status_site_or_roles(store):
    store.put_records([_record(f"p{i}", site=("north", "south", None)[i % 3]) for i in range(9)])
    store.put_records([_record("p0", status="expired"), _record("p1", site=None), _record("p2", roles=("mechanic",)),
                       _record("p3", expires="2026-01-05"), _record("p4", cert="forklift"),
                       _record("p5", site="south", status="overdue", roles=())])
    store.put_records([_record("p0", status="certified", site="north")])   # and back
    want: dict = {}
    for cert in ("bus", "forklift"):
        for r in store.roster(cert):
            key = (cert, r.status, r.site, r.roles)
            n, within = want.get(key, (0, 0))
            want[key] = (n + 1, within + (r.expires is not None and r.expires <= "2026-01-31"))
    assert sorted(store.count_records(["2026-01-31"]), key=repr) == sorted(
        ((*k, n, (w,)) for k, (n, w) in want.items()), key=repr)


def test_the_roster_of_some_people_only(store):
    store.put_records([_record(p) for p in ("p1", "p2", "p3", "p4")] + [_record("p2", cert="forklift")])
    assert [r.person_id for r in store.roster("bus", people=["p4", "p2", "zz"])] == ["p2", "p4"]
    assert [r.person_id for r in store.roster("bus", people=["p1", "p2", "p4"], after="p1", limit=1)] == ["p2"]
    assert store.roster("bus", people=[]) == []


def test_roster_table_is_the_whole_filtered_roster_as_rows_of_its_columns(store):
    store.put_records([_record("p1"), _record("p2", status="expired", site="south", expires=None),
                       _record("p3", expires="2026-02-01", roles=("mechanic", "driver")),
                       _record("p4", site=None, roles=()), _record("p1", cert="forklift")])

    def rows(recs):
        return [(r.person_id, r.status, r.earned, r.valid_from, r.expires, r.due, r.site, r.roles,
                 r.definition_version, tuple(r.evidence.get("statements", ()))) for r in recs]

    for filters in ({}, {"status": ["certified"]}, {"site": "south"}, {"role": "mechanic"},
                    {"expires_by": "2026-02-15"}, {"people": ["p4", "p2", "zz"]}, {"status": ["overdue"]},
                    {"status": ["certified"], "role": "driver", "site": "north", "people": ["p1", "p3"]}):
        got = store.roster_table("bus", **filters)
        assert got == rows(store.roster("bus", **filters)), filters
    assert store.roster_table("bus")[2] == ("p3", "certified", "2026-01-01", "2026-01-01", "2026-02-01", None, "north",
                                             ("mechanic", "driver"), 1, ("s1",))
    assert len(store.roster_table("bus")) == 4 and store.roster_table("none") == []


def test_supervised_by_names_the_people_whose_current_version_names_the_supervisor(store):
    store.put_person("p2", [], ["Agent|mbox:mailto:p2@x"], {"supervisor": "s1"}, "cli")
    store.put_person("p1", [], ["Agent|mbox:mailto:p1@x"], {"supervisor": "s1", "site": "north"}, "cli")
    store.put_person("p3", [], ["Agent|mbox:mailto:p3@x"], {"supervisor": "s2"}, "cli")
    store.put_person("p4", [], ["Agent|mbox:mailto:p4@x"], {}, "cli")
    assert store.supervised_by("s1") == ["p1", "p2"]
    store.put_person("p2", [], ["Agent|mbox:mailto:p2@x"], {"supervisor": "s2"}, "cli")   # moved to another team
    assert store.supervised_by("s1") == ["p1"]
    assert store.supervised_by("s2") == ["p2", "p3"]
    assert store.supervised_by("nobody") == []


def test_people_versions_grow_with_every_change_of_the_directory(store):
    assert store.people_versions() == 0
    store.put_person("p1", [], ["Agent|mbox:mailto:p1@x"], {"site": "north"}, "cli")
    store.put_person("p2", [], ["Agent|mbox:mailto:p2@x"], {}, "cli")
    store.put_person("p1", [], ["Agent|mbox:mailto:p1@x"], {"site": "north"}, "cli")    # unchanged
    assert store.people_versions() == 2
    store.put_person("p1", [], ["Agent|mbox:mailto:p1@x"], {"site": "south"}, "cli")
    assert store.people_versions() == 3


def test_history_is_a_hash_chain(store):
    assert store.chain_head() == (-1, GENESIS)
    store.take_lease("A", 1000.0, 1e9)
    evs = store.append_history([{"person": "p1", "certification": "bus", "status": "certified"},
                                {"person": "p2", "certification": "bus", "status": "assigned"}], holder="A")
    store.append_history([{"person": "p1", "certification": "forklift", "status": "assigned"}], holder="A")
    assert [e.n for e in store.history()] == [0, 1, 2]
    assert evs[1].prev == evs[0].hash
    assert store.chain_head() == (2, store.history()[-1].hash)
    assert [e.n for e in store.history_for("p1")] == [0, 2]
    assert [e.n for e in store.history_for("p1", "bus")] == [0]
    assert [e.n for e in store.history_of("bus")] == [0, 1]
    assert [e.n for e in store.history(after=0, limit=1)] == [1]
    assert verify(store.history())["ok"]


def test_history_refuses_a_writer_whose_view_is_stale(store):
    store.take_lease("A", 1000.0, 1e9)
    store.append_history([{"person": "p1"}], holder="A", after=-1)
    with pytest.raises(LeaseLost):
        store.append_history([{"person": "p2"}], holder="A", after=-1)
    store.append_history([{"person": "p3"}], holder="A", after=0)
    assert [e.body["person"] for e in store.history()] == ["p1", "p3"]


def test_history_refuses_a_writer_without_the_lease(store):
    store.take_lease("A", 1000.0, 30)
    with pytest.raises(LeaseLost):
        store.append_history([{"person": "p1"}], holder="B")
    assert store.history() == []
