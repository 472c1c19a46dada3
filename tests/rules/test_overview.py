"""The fast reads the dashboard uses give exactly what the slow ones give: the compliance report from one
read of the records' counts against one read a certification, the expiring counts against counting the
rosters, a supervisor's team against scanning every person, the newest events against the history."""
from __future__ import annotations

import random

import pytest

from rules.derive import STATUSES
from rules.people import parse_csv
from rules.storage import Record

from lrs_testkit import fresh_mongodb_url
from rules_kit import Clock, World

SITES = ("north", "south", None)
ROLES = (("driver",), ("mechanic",), ("driver", "mechanic"), ())
CERTS = ("bus-operator", "forklift", "yard-lead")


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    """One world a backend for the module's tests, which only read it."""
    backend = fresh_mongodb_url() if request.param == "mongo" else ""
    clock = Clock()
    clock.set("2026-03-01T12:00:00Z")
    w = World(tmp_path_factory.mktemp("overview"), backend, clock)
    rng = random.Random(3)
    rows = ["person_id,email,roles,site,supervisor"]
    for i in range(40):
        rows.append(f"q{i:02d},q{i}@example.com,driver,north,{'s1' if i % 3 == 0 else 's2' if i % 3 == 1 else ''}")
    w.rules.import_people(parse_csv("\n".join(rows) + "\n"), "test")
    records = []
    for i in range(40):
        for cert in CERTS:
            if rng.random() < 0.2:
                continue
            status = rng.choice(STATUSES)
            expires = rng.choice((None, "2026-02-20", "2026-03-15", "2026-04-10", "2026-05-20", "2026-08-01"))
            records.append(Record(f"q{i:02d}", cert, status, None, None, expires, None, None, 1, {},
                                  rng.choice(SITES), rng.choice(ROLES), (), "2026-03-01T00:00:00.000Z"))
    w.store.put_records(records)
    w.store.take_lease("t", 0.0, 1e12)
    w.store.append_history([{"kind": "status", "person": f"q{i:02d}", "certification": "forklift", "at": "2026-03-01",
                             "status": "certified", "recorded": f"2026-03-01T00:00:{i:02d}.000Z"} for i in range(40)],
                           holder="t")
    yield w
    w.close()


def roster_count(rules, cid, people=None, **filters) -> int:
    n, after = 0, None
    while True:
        page = rules.roster(cid, after=after, limit=500, **filters)
        n += sum(1 for r in page["people"] if people is None or r["person_id"] in people)
        if not page["next"]:
            return n
        after = page["next"]


def test_the_compliance_report_from_one_read_is_the_one_read_a_certification_gives(world):
    rules = world.rules
    for site, role in [(None, None), ("north", None), (None, "mechanic"), ("south", "driver")]:
        fast = rules.compliance_report(site=site, role=role)
        slow = [rules.compliance(cid, site=site, role=role) for cid in sorted(CERTS)]
        for a in slow:
            del a["chain_head"], a["as_of"]
        assert fast["certifications"] == slow
        assert fast["total"]["requirements"] > 0


@pytest.mark.parametrize("site, role", [(None, None), ("north", None), (None, "driver"), ("south", "mechanic")])
def test_the_overview_counts_what_the_rosters_list(world, site, role):
    rules = world.rules
    ov = rules.overview((10, 40, 90), site, role)
    assert {k: v for k, v in ov.items() if k != "expiring"} == {**rules.compliance_report(site=site, role=role)}
    for cid in CERTS:
        for n in (10, 40, 90):
            assert ov["expiring"][cid][n] == roster_count(rules, cid, site=site, role=role, expiring_within_days=n)


def test_the_overview_of_a_team_counts_their_records_only(world):
    rules = world.rules
    team = rules.team("s1")
    assert team == sorted(p["person_id"] for p in rules.people(None, 1000) if p["attributes"].get("supervisor") == "s1")
    ov = rules.overview((40,), people=team)
    for c in ov["certifications"]:
        cid = c["certification"]
        concerned = [s for s in STATUSES if s != "not_required"]
        assert c["people"] == roster_count(rules, cid, set(team), status=concerned)
        assert c["by_status"].get("overdue", 0) == roster_count(rules, cid, set(team), status=["overdue"])
        assert ov["expiring"][cid][40] == roster_count(rules, cid, set(team), expiring_within_days=40)
        page = rules.roster(cid, limit=500, people=team)
        assert [r["person_id"] for r in page["people"]] == [r["person_id"] for r in rules.roster(cid, limit=500)["people"]
                                                          if r["person_id"] in team]
    assert rules.team(None) == [] and rules.team("nobody") == []


def test_recent_events_are_the_newest_of_the_history_newest_first(world):
    rules = world.rules
    events = rules.recent_events(5)
    assert [e["n"] for e in events] == [39, 38, 37, 36, 35] and events[0]["person"] == "q39"
    team = rules.team("s1")
    mine = rules.recent_events(3, team)
    assert [e["person"] for e in mine] == ["q39", "q36", "q33"]
    assert rules.recent_events(100)[-1]["n"] == 0
