"""A service for the web tests: the whole main app (service.app.create_app) over a fresh store, with
people, definitions and a statement put in through the public APIs (/rules, /xapi), and one staff
account of each role. The TestClient talks https so the pages' Secure cookies are kept."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from starlette.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "rules"))

from rules_kit import Clock  # noqa: E402
from scenario_kit import ADMIN, Service  # noqa: E402

from web.accounts import Accounts, open_account_store  # noqa: E402

HOSTILE = "<script>alert('x')</script>"
PASSWORD = "a long enough password"
PEOPLE = ("person_id,email,roles,site,supervisor\n"
          f"p1,p1@example.com,bus_operator,\"Depot {HOSTILE}\",s1\n"
          "p2,p2@example.com,bus_operator,North,s1\n"
          "p3,p3@example.com,bus_operator,South,s9\n"
          "s1,s1@example.com,supervisor,North,\n")
BUS_TITLE = f"Bus operator {HOSTILE}"


def make_world(tmp_path, backend: str = "", start: str = "2026-03-01") -> Service:
    """A started service (use as a context manager) with the people, definitions and accounts in place."""
    accounts = Accounts(open_account_store(tmp_path, backend))
    accounts.create("ada", "admin", PASSWORD)
    accounts.create("sam", "supervisor", PASSWORD, "s1")
    accounts.create("aud", "auditor", PASSWORD)
    accounts.store.close()
    clock = Clock()
    clock.set(start + "T12:00:00Z")
    svc = Service(tmp_path, backend, clock, public_url="https://testserver")
    svc.client = TestClient(svc.client.app, base_url="https://testserver")
    return svc


def populate(svc: Service) -> None:
    svc.people(PEOPLE)
    svc.define("completion", {"id": "bus-course", "title": f"Bus course {HOSTILE}",
                              "activity": "http://example.com/activities/bus-course", "success": True})
    svc.define("certification", {"id": "bus-operator", "title": BUS_TITLE, "initial": "bus-course",
                                 "validity": {"days": 60}, "renewal_window_days": 20})
    svc.define("requirement", {"id": "ops", "applies_to": {"roles": ["bus_operator"]},
                               "certifications": ["bus-operator"], "due": {"days": 30}})
    svc.statement("p1", "bus-course")
    svc.run()


def client_of(svc: Service) -> TestClient:
    """Another browser on the same app."""
    c = TestClient(svc.client.app, base_url="https://testserver")
    return c


def sign_in(client: TestClient, username: str, password: str = PASSWORD):
    page = client.get("/app/sign-in")
    token = csrf_of(page.text)
    return client.post("/app/sign-in", data={"csrf": token, "username": username, "password": password},
                       follow_redirects=False)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]*)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


__all__ = ["ADMIN", "BUS_TITLE", "HOSTILE", "PASSWORD", "client_of", "csrf_of", "make_world", "populate", "sign_in"]
