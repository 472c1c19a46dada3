"""The preview of a definition change reads people a page at a time and derives only the certifications
the change can affect: its answer is the one deriving everyone's every certification gives, for every
kind of change, on a varied world (statements, voids, admin actions, people's new versions)."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from rules.core import Rules, _day
from rules.definitions import published
from rules.derive import derive
from rules.people import parse_csv

from lrs_testkit import fresh_mongodb_url
from rules_kit import START, Clock, World, statement, voiding

N = 40


def full_preview(rules: Rules, kind: str, def_id: str, version: int) -> dict:
    """What the preview answered before it was made fast: every person, every certification."""
    d = rules.store.definition(kind, def_id, version)
    before = published(rules.store)
    after = before.with_version(kind, d.body, version)
    today = rules.today()
    changes, people, cursor = [], 0, None
    while True:
        page = rules.store.people(after=cursor)
        if not page:
            break
        for v in page:
            people += 1
            versions = rules.store.person(v.person_id)
            facts = rules.store.facts_for(list(v.identities))
            actions = rules.store.actions_for(v.person_id)
            old = derive(versions, facts, actions, before, today)
            new = derive(versions, facts, actions, after, today)
            for cert in sorted(set(old) | set(new)):
                o, n = old.get(cert), new.get(cert)
                ov = (o.status, _day(o.period.expires) if o and o.period else None) if o else ("not_required", None)
                nv = (n.status, _day(n.period.expires) if n and n.period else None) if n else ("not_required", None)
                if ov != nv:
                    changes.append({"person_id": v.person_id, "certification": cert, "status_before": ov[0],
                                    "status_after": nv[0], "expires_before": ov[1], "expires_after": nv[1]})
        cursor = page[-1].person_id
    return {"kind": kind, "id": def_id, "version": version, "as_of": today.isoformat(), "people": people,
            "changes": changes}


@pytest.fixture(scope="module", params=["sqlite", "mongo"])
def world(request, tmp_path_factory):
    backend = fresh_mongodb_url() if request.param == "mongo" else ""
    clock = Clock(START)
    w = World(tmp_path_factory.mktemp("preview"), backend, clock)
    rules = w.rules
    for kind, body in [
        ("certification", {"id": "bus-plus", "initial": "bus-course", "equivalents": ["bus-operator"],
                           "validity": {"months": 6}}),
        ("certification", {"id": "yard-chief", "initial": "bus-refresher", "prerequisites": ["yard-lead"]}),
        ("requirement", {"id": "yard", "applies_to": {"site": ["north"]}, "certifications": ["forklift", "yard-lead"],
                         "due": {"days": 20}}),
    ]:
        rules.create_definition(kind, body, "admin", "test")
        rules.publish(kind, body["id"], 1, "admin", "test")
    rng = random.Random(15)
    rows = ["person_id,email,roles,site"] + [
        f"p{i},p{i}@example.com,{rng.choice(['bus_operator', 'mechanic', ''])},{rng.choice(['north', 'south'])}"
        for i in range(N)]
    rules.import_people(parse_csv("\n".join(rows) + "\n"), "test")
    statements = []
    for i in range(N):
        for _ in range(rng.randrange(0, 6)):
            when = START + timedelta(days=rng.randrange(-400, 60))
            statements.append(statement(i, rng.choice(["bus-course", "bus-refresher", "forklift"]), when,
                                        success=rng.random() < 0.8, scaled=rng.choice([None, 0.5, 0.9])))
    statements.append(voiding(statements[0]["id"]))
    w.insert(statements)
    clock.set("2026-03-01T12:00:00Z")
    rows = ["person_id,email,roles,site"] + [
        f"p{i},p{i}@example.com,bus_operator,{rng.choice(['north', 'south'])}" for i in range(0, N, 3)]
    rules.import_people(parse_csv("\n".join(rows) + "\n"), "test", partial=True)
    for i in range(0, N, 7):
        rules.add_action(f"p{i}", {"kind": "exemption", "certification": "forklift", "reason": "leave",
                                   "until": "2026-12-31"}, "admin")
        rules.add_action(f"p{i + 1}", {"kind": "manual_completion", "completion": "forklift-course",
                                       "reason": "paper", "date": "2026-02-01"}, "admin")
    rules.engine.run_until_idle()
    drafts = [
        ("certification", {"id": "bus-operator", "initial": "bus-course", "renewal": "bus-refresher",
                           "validity": {"months": 3}, "grace_days": 5}),
        ("certification", {"id": "forklift", "initial": "forklift-course", "validity": {"days": 20}}),
        ("certification", {"id": "new-cert", "initial": "both", "validity": {"months": 1}}),
        ("completion", {"id": "bus-course", "activity": "http://example.com/activities/bus-course"}),
        ("completion", {"id": "forklift-course", "activity": "http://example.com/activities/forklift",
                        "min_score": 0.4}),
        ("completion", {"id": "unused", "activity": "http://example.com/activities/unused"}),
        ("requirement", {"id": "ops", "applies_to": {"roles": ["mechanic"]}, "certifications": ["bus-operator",
                                                                                                "forklift"]}),
        ("requirement", {"id": "yard", "applies_to": {"site": ["south"]}, "certifications": ["yard-chief"],
                         "due": {"days": 1}}),
    ]
    w.drafts = [(kind, body["id"], rules.create_definition(kind, body, "admin", "draft")["version"])
                for kind, body in drafts]
    yield w
    w.close()


@pytest.mark.parametrize("i", range(8))
def test_the_fast_preview_gives_what_deriving_everything_gives(world, i):
    kind, def_id, version = world.drafts[i]
    fast = world.rules.preview(kind, def_id, version, 10 ** 6)
    assert fast == full_preview(world.rules, kind, def_id, version)
    assert fast["people"] == N


def test_the_drafts_change_someone(world):
    """The comparison above is not empty: most drafts change some people's status."""
    changed = [d for d in world.drafts if world.rules.preview(*d, 10 ** 6)["changes"]]
    assert len(changed) >= 5


def test_the_preview_tells_its_progress_a_page_at_a_time(world):
    seen = []
    world.rules.preview(*world.drafts[0], progress=seen.append)
    assert seen == [N]
