"""A service for the rules' scenario tests: the whole app (create_app) with an injected clock, driven
only through HTTP: xAPI statements at /xapi/statements, people and definitions at /rules, the engine
run on demand (POST /rules/engine/run) instead of in the background."""
from __future__ import annotations

import base64
import uuid

from starlette.testclient import TestClient

from lrs.auth import Credentials
from lrs.storage import open_store
from service.app import create_app
from service.config import Settings

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin-secret").decode()}
XAPI = {**ADMIN, "X-Experience-API-Version": "1.0.3"}
BASE = "http://example.com/activities/"
PASSED = "http://adlnet.gov/expapi/verbs/passed"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"


class Service:
    def __init__(self, tmp_path, mongodb_url: str, clock, engine: bool = False, fresh: bool = True, **settings):
        """``fresh``: a new store (the admin credential is made); False: the store of an earlier Service."""
        if fresh:
            store = open_store(tmp_path, mongodb_url)
            Credentials(store).create("admin", "admin-secret", ["all"])
            store.close()
        self.clock = clock
        self.settings = Settings(data_dir=tmp_path, mongodb_url=mongodb_url, log_level="warning",
                                 rules_engine=engine, rules_engine_interval_seconds=0.05, **settings)
        self.client = TestClient(create_app(self.settings, rules_clock=clock))

    def __enter__(self):
        self.client.__enter__()
        return self

    def __exit__(self, *exc):
        self.client.__exit__(*exc)

    # -- time -------------------------------------------------------------------------------
    def travel(self, day: str) -> None:
        """Move the clock to ``day`` (noon UTC) and let the engine catch up."""
        self.clock.set(day + ("T12:00:00Z" if len(day) == 10 else ""))
        self.run()

    def run(self) -> dict:
        resp = self.client.post("/rules/engine/run", headers=ADMIN)
        assert resp.status_code == 200, resp.text
        return resp.json()

    # -- xAPI -------------------------------------------------------------------------------
    def statement(self, who: str, activity: str, verb: str = PASSED, success: bool | None = True,
                  scaled: float | None = None, timestamp: str | None = None, completion: bool | None = None) -> str:
        st = {"id": str(uuid.uuid4()), "actor": {"objectType": "Agent", "mbox": f"mailto:{who}@example.com"},
              "verb": {"id": verb}, "object": {"objectType": "Activity", "id": BASE + activity}}
        result = {}
        if success is not None:
            result["success"] = success
        if completion is not None:
            result["completion"] = completion
        if scaled is not None:
            result["score"] = {"scaled": scaled}
        if result:
            st["result"] = result
        st["timestamp"] = timestamp or self.clock().isoformat().replace("+00:00", "Z")
        resp = self.client.post("/xapi/statements", json=st, headers=XAPI)
        assert resp.status_code == 200, resp.text
        self.run()
        return st["id"]

    def void(self, statement_id: str, who: str = "admin") -> None:
        st = {"actor": {"mbox": f"mailto:{who}@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
              "object": {"objectType": "StatementRef", "id": statement_id}}
        resp = self.client.post("/xapi/statements", json=st, headers=XAPI)
        assert resp.status_code == 200, resp.text
        self.run()

    # -- rules API ---------------------------------------------------------------------------
    def people(self, csv_text: str, **params):
        resp = self.client.post("/rules/people", content=csv_text.encode(), params=params,
                                headers={**ADMIN, "Content-Type": "text/csv"})
        self.run()
        return resp

    def define(self, kind: str, body: dict, publish: bool = True, reason: str = "new") -> dict:
        resp = self.client.post(f"/rules/definitions/{kind}", json={"definition": body, "reason": reason}, headers=ADMIN)
        assert resp.status_code == 201, resp.text
        made = resp.json()
        if publish:
            self.publish(kind, body["id"], made["version"])
        return made

    def publish(self, kind: str, def_id: str, version: int, reason: str = "in force") -> dict:
        resp = self.client.post(f"/rules/definitions/{kind}/{def_id}/versions/{version}/publish",
                                json={"reason": reason}, headers=ADMIN)
        assert resp.status_code == 200, resp.text
        self.run()
        return resp.json()

    def record(self, person: str, cert: str) -> dict:
        rows = [r for r in self.roster(cert)["people"] if r["person_id"] == person]
        return rows[0] if rows else {"person_id": person, "status": "not_required"}

    def status(self, person: str, cert: str) -> str:
        return self.record(person, cert)["status"]

    def roster(self, cert: str, **params) -> dict:
        resp = self.client.get(f"/rules/certifications/{cert}/roster", params=params, headers=ADMIN)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def transcript(self, person: str) -> dict:
        resp = self.client.get(f"/rules/people/{person}/transcript", headers=ADMIN)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def action(self, person: str, body: dict):
        resp = self.client.post(f"/rules/people/{person}/actions", json=body, headers=ADMIN)
        self.run()
        return resp


def bus_definitions(svc: Service, basis: str = "previous_expiry", late: str = "restart") -> None:
    """Bus operator: the full course passed, valid 12 months, renewal window 60 days, grace 30 days,
    renewed by a shorter refresher; required of every bus operator."""
    svc.define("completion", {"id": "bus-course", "activity": BASE + "bus-course", "success": True})
    svc.define("completion", {"id": "bus-refresher", "activity": BASE + "bus-refresher", "verbs": [COMPLETED, PASSED]})
    svc.define("certification", {"id": "bus-operator", "initial": "bus-course", "renewal": "bus-refresher",
                                 "validity": {"months": 12}, "expiry": {"basis": basis}, "renewal_window_days": 60,
                                 "grace_days": 30, "late_renewal": late})
    svc.define("requirement", {"id": "bus-operators", "applies_to": {"roles": ["bus_operator"]},
                               "certifications": ["bus-operator"]})


def wipe_rules_store(tmp_path, mongodb_url: str, keep_outbox: bool = False) -> None:
    """Empty the rules store behind the service's back, for a rebuild from nothing; the outbox's tables too
    unless ``keep_outbox``. The LRS's statements stay."""
    if mongodb_url:
        from pymongo import MongoClient

        client = MongoClient(mongodb_url)
        try:
            db = client.get_default_database()
            for name in db.list_collection_names():
                if name.startswith("rules_") and not (keep_outbox and name.startswith("rules_outbox_")):
                    db.drop_collection(name)
        finally:
            client.close()
        return
    import sqlite3

    conn = sqlite3.connect(tmp_path / "rules.sqlite3")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
        if not (keep_outbox and name.startswith("outbox_")):
            conn.execute(f"DELETE FROM {name}")
    conn.commit()
    conn.close()
