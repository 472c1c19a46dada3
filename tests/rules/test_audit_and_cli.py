"""`lrs audit verify` finds a history event modified, deleted or reordered behind the service's back
(the tests edit the database directly), on both stores; `lrs people import` reports bad rows by line."""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import orjson
import pytest

from service.cli import main

from rules_kit import START, Clock, World, statement


@pytest.fixture
def world(tmp_path, backend, monkeypatch):
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LRS_MONGODB_URL", backend)
    w = World(tmp_path, backend, Clock(START))
    w.insert([statement(0, "bus-course", START + timedelta(days=1)), statement(1, "bus-course", START)])
    w.clock.now = START + timedelta(days=800)
    w.rules.engine.run_until_idle()
    assert len(w.store.history()) >= 6
    yield w
    w.close()


def _edit(world, backend, tmp_path, what: str) -> None:
    if backend:
        from pymongo import MongoClient

        client = MongoClient(backend)
        coll = client.get_default_database()["rules_history"]
        if what == "modify":
            doc = coll.find_one({"_id": 3})
            body = orjson.loads(doc["body"])
            body["status"] = "certified" if body.get("status") != "certified" else "expired"
            coll.update_one({"_id": 3}, {"$set": {"body": orjson.dumps(body)}})
        elif what == "delete":
            coll.delete_one({"_id": 3})
        else:
            a, b = coll.find_one({"_id": 3}), coll.find_one({"_id": 4})
            coll.delete_many({"_id": {"$in": [3, 4]}})
            coll.insert_many([{**b, "_id": 3}, {**a, "_id": 4}])
        client.close()
        return
    conn = sqlite3.connect(tmp_path / "rules.sqlite3")
    if what == "modify":
        body = orjson.loads(conn.execute("SELECT body FROM history WHERE n = 3").fetchone()[0])
        body["status"] = "certified" if body.get("status") != "certified" else "expired"
        conn.execute("UPDATE history SET body = ? WHERE n = 3", (orjson.dumps(body),))
    elif what == "delete":
        conn.execute("DELETE FROM history WHERE n = 3")
    else:
        conn.execute("UPDATE history SET n = -4 WHERE n = 4")
        conn.execute("UPDATE history SET n = 4 WHERE n = 3")
        conn.execute("UPDATE history SET n = 3 WHERE n = -4")
    conn.commit()
    conn.close()


def test_audit_verify_passes_an_untouched_history(world, capsys):
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


@pytest.mark.parametrize("what", ["modify", "delete", "reorder"])
def test_audit_verify_names_the_first_broken_link(world, backend, tmp_path, capsys, what):
    _edit(world, backend, tmp_path, what)
    assert main(["audit", "verify", "--json"]) == 1
    result = orjson.loads(capsys.readouterr().out)
    assert result["ok"] is False and result["broken"]["n"] == 3 and result["events"] == 3


def test_people_import_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LRS_MONGODB_URL", raising=False)
    f = tmp_path / "people.csv"
    f.write_text("person_id,email,roles\nada,ada@example.com,driver\nbob,bob@,driver\ncy,cy@example.com,\n")
    assert main(["people", "import", str(f)]) == 1
    err = capsys.readouterr().err
    assert f"{f}:3: email:" in err and "nothing imported" in err
    assert main(["people", "import", str(f), "--partial"]) == 0
    assert orjson.loads(capsys.readouterr().out) == {"imported": 2, "unchanged": 0, "bad_rows": 1}
    assert main(["people", "import", str(f), "--partial"]) == 0
    assert orjson.loads(capsys.readouterr().out) == {"imported": 0, "unchanged": 2, "bad_rows": 1}
    j = tmp_path / "people.json"
    j.write_text('[{"person_id": "dee", "agents": [{"mbox": "mailto:dee@example.com"}]}]')
    assert main(["people", "import", str(j)]) == 0
    assert orjson.loads(capsys.readouterr().out)["imported"] == 1


def test_rules_run_once_catches_up_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LRS_MONGODB_URL", raising=False)
    w = World(tmp_path, "", Clock(START))
    try:
        w.insert([statement(0, "bus-course", START - timedelta(days=1))])
        assert main(["rules", "run", "--once"]) == 0
        done = orjson.loads(capsys.readouterr().out)
        # the statement, then the rules' own "earned" statement about it (read past, no fact)
        assert done["statements"] == 2 and done["checkpoint"]["seq"] == w.lrs.last_seq() == 2
        assert w.store.records_for("p0")[0].valid_from == "2025-12-31"   # (the status depends on the real day)
        w.store.take_lease("someone-else", 9e12, 60)
        assert main(["rules", "run", "--once"]) == 1
        assert "another process holds" in capsys.readouterr().err
    finally:
        w.close()


def test_transcript_roster_and_compliance_from_the_command_line(tmp_path, monkeypatch, capsys):
    from rules.core import Rules
    from rules.tables import COMPLIANCE, ROSTER, TRANSCRIPT

    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LRS_MONGODB_URL", raising=False)
    w = World(tmp_path, "", Clock(START))
    try:
        w.insert([statement(0, "bus-course", START)])
        w.rules.engine.run_until_idle()
        today = Rules(w.store, w.lrs)          # the command line reads with the real clock, as this does

        assert main(["rules", "transcript", "p0"]) == 0
        assert orjson.loads(capsys.readouterr().out) == orjson.loads(orjson.dumps(today.transcript("p0")))
        assert main(["rules", "transcript", "p0", "--csv"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == ",".join(TRANSCRIPT) and lines[1].startswith("p0,certification,bus-operator,")
        assert main(["rules", "transcript", "nobody"]) == 1
        assert "no person 'nobody'" in capsys.readouterr().err

        assert main(["rules", "roster", "bus-operator", "--limit", "2"]) == 0
        page = orjson.loads(capsys.readouterr().out)
        assert [r["person_id"] for r in page["people"]] == ["p0", "p1"] and page["next"] == "p1"
        assert main(["rules", "roster", "bus-operator", "--limit", "1", "--all", "--csv"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == ",".join(ROSTER) and [line.split(",")[0] for line in lines[1:]] == ["p0", "p1", "p2"]
        assert main(["rules", "roster", "bus-operator", "--status", "certified,nope"]) == 2
        assert "status 'nope' is not one of" in capsys.readouterr().err
        assert main(["rules", "roster", "bus-operator", "--as-of", "2026-01-02", "--status", "certified"]) == 0
        assert [r["person_id"] for r in orjson.loads(capsys.readouterr().out)["people"]] == ["p0"]

        assert main(["rules", "compliance", "bus-operator"]) == 0
        report = orjson.loads(capsys.readouterr().out)
        assert report == orjson.loads(orjson.dumps(today.compliance_report(certifications=["bus-operator"])))
        assert report["certifications"][0]["people"] == 3
        assert main(["rules", "compliance", "--csv", "--as-of", "2026-01-02"]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert lines[0] == ",".join(COMPLIANCE)
        assert lines[1].startswith("bus-operator,all,,3,1,0.3333,")
        assert main(["rules", "compliance", "nope"]) == 1
        assert "no published certification 'nope'" in capsys.readouterr().err
    finally:
        w.close()
