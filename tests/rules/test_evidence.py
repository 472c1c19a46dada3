"""Evidence packs for one person or one certification: the statements themselves, the content version
and package digest they were played on, the definition versions, the history events with their hashes
and the chain head; JSON and CSV, paginated; through /rules and `lrs rules evidence`, on both stores."""
from __future__ import annotations

import csv
import io
import uuid

import orjson
import pytest

from rules.chain import link
from scenario_kit import ADMIN, BASE, XAPI, Service, bus_definitions
from service.cli import main

PEOPLE = ("person_id,email,roles\nada,ada@example.com,bus_operator\nbob,bob@example.com,bus_operator\n"
          "cyd,cyd@example.com,bus_operator\n")
IRI = "http://127.0.0.1:8080"
DIGEST = "ab" * 32


@pytest.fixture
def svc(tmp_path, backend, clock):
    clock.set("2026-03-01T09:00:00Z")
    with Service(tmp_path, backend, clock) as s:
        bus_definitions(s)
        s.people(PEOPLE)
        yield s


def played(svc, who: str) -> str:
    """A passing statement as the player sends it: course version in context.revision, package digest in
    the package-sha256 extension, the course as a grouping activity."""
    st = {"id": str(uuid.uuid4()), "actor": {"mbox": f"mailto:{who}@example.com"},
          "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
          "object": {"id": BASE + "bus-course", "definition": {"type": "http://adlnet.gov/expapi/activities/lesson"}},
          "result": {"success": True},
          "context": {"registration": str(uuid.uuid4()), "revision": "3",
                      "contextActivities": {"grouping": [{"id": IRI + "/courses/bus",
                                                          "definition": {"type": "http://adlnet.gov/expapi/activities/course"}}]},
                      "extensions": {IRI + "/extensions/package-sha256": DIGEST}},
          "timestamp": "2026-03-01T10:00:00Z"}
    resp = svc.client.post("/xapi/statements", json=st, headers=XAPI)
    assert resp.status_code == 200, resp.text
    svc.run()
    return st["id"]


def test_a_persons_pack_holds_the_statements_content_definitions_and_hashed_history(svc):
    sid = played(svc, "ada")
    resp = svc.client.get("/rules/people/ada/evidence", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    pack = resp.json()
    [entry] = pack["entries"]
    assert (entry["person_id"], entry["certification"], entry["status"], entry["valid_from"], entry["expires"]) == \
           ("ada", "bus-operator", "certified", "2026-03-01", "2027-03-01")
    assert entry["statements"] == [sid] and entry["definition_version"] == 1
    [st] = pack["statements"]
    assert st["id"] == sid and st["statement"]["result"] == {"success": True} and st["statement"]["stored"]
    assert st["content"] == {"course": IRI + "/courses/bus", "version": "3", "package_sha256": DIGEST}
    assert sorted((d["kind"], d["id"], d["version"]) for d in pack["definitions"]) == \
           [("certification", "bus-operator", 1), ("completion", "bus-course", 1), ("completion", "bus-refresher", 1)]
    assert all(d["why"] and d["who"] == "admin" for d in pack["definitions"])
    statuses = [e["body"]["status"] for e in entry["history"] if e["body"]["kind"] == "status"]
    assert statuses == ["assigned", "certified"]
    for e in entry["history"]:
        assert link(e["prev"], e["body"]) == e["hash"]       # each event checks against its own hash
    verify = svc.client.get("/rules/audit/verify", headers=ADMIN).json()
    assert pack["chain_head"] == {"n": verify["events"] - 1, "hash": verify["head"]}
    assert pack["scope"] == {"person_id": "ada"} and pack["generated"].startswith("2026-03-01")


def test_the_pack_as_csv_has_entry_statement_event_and_chain_head_rows(svc):
    sid = played(svc, "ada")
    resp = svc.client.get("/rules/people/ada/evidence", headers={**ADMIN, "Accept": "text/csv"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    assert [r["row"] for r in rows][:2] == ["entry", "statement"] and rows[-1]["row"] == "chain_head"
    stmt = rows[1]
    assert (stmt["statement_id"], stmt["course"], stmt["version"], stmt["package_sha256"]) == \
           (sid, IRI + "/courses/bus", "3", DIGEST)
    assert rows[-1]["chain_head"] == resp.headers["X-Chain-Head"]
    assert {r["event_status"] for r in rows if r["row"] == "event"} == {"assigned", "certified"}


def test_a_certifications_pack_pages_over_its_people(svc):
    for who in ("ada", "bob", "cyd"):
        played(svc, who)
    first = svc.client.get("/rules/certifications/bus-operator/evidence", params={"limit": 2}, headers=ADMIN)
    page = first.json()
    assert [e["person_id"] for e in page["entries"]] == ["ada", "bob"] and page["next"] == "bob"
    assert len(page["statements"]) == 2 and 'rel="next"' in first.headers["Link"]
    rest = svc.client.get("/rules/certifications/bus-operator/evidence", params={"limit": 2, "after": "bob"},
                          headers=ADMIN).json()
    assert [e["person_id"] for e in rest["entries"]] == ["cyd"] and rest["next"] is None


def test_evidence_requests_that_name_nothing_known_are_refused(svc):
    for url, params, status, path in [("/rules/people/zed/evidence", {}, 404, "person_id"),
                                      ("/rules/certifications/nope/evidence", {}, 404, "certification"),
                                      ("/rules/people/ada/evidence", {"limit": "0"}, 400, "limit"),
                                      ("/rules/people/ada/evidence", {"limit": "x"}, 400, "limit")]:
        resp = svc.client.get(url, params=params, headers=ADMIN)
        assert resp.status_code == status and resp.json()["error"]["path"] == path, resp.text


def test_lrs_rules_evidence_prints_the_pack(tmp_path, backend, svc, monkeypatch, capsys):
    sid = played(svc, "ada")
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LRS_MONGODB_URL", backend)
    assert main(["rules", "evidence", "--person", "ada"]) == 0
    pack = orjson.loads(capsys.readouterr().out)
    assert pack["entries"][0]["statements"] == [sid] and pack["statements"][0]["content"]["version"] == "3"
    assert main(["rules", "evidence", "--certification", "bus-operator", "--csv", "--limit", "1"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["person_id"] == "ada" and rows[-1]["row"] == "chain_head"
    assert main(["rules", "evidence", "--person", "zed"]) == 1
    assert "no person" in capsys.readouterr().err
