"""Reminders: before expiry at configured offsets, on overdue, and escalated to the supervisor, each made
once (restarts and rebuilds included) and delivered as signed webhooks to a real local HTTP receiver,
with retries, backoff and failures listed. Driven through /xapi and /rules with the injected clock, on
both stores."""
from __future__ import annotations

import hashlib
import hmac
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from rules.webhooks import signature
from scenario_kit import ADMIN, Service, bus_definitions, wipe_rules_store

PEOPLE = ("person_id,email,roles,supervisor\nada,ada@example.com,bus_operator,sam\n"
          "sam,sam@example.com,depot_manager,\n")
SECRET = "a-secret-of-the-endpoint-0123456789"


class Receiver:
    """A webhook endpoint on a thread: records each request; answers with the next of ``statuses``
    (then 200)."""

    def __init__(self, statuses=()):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/lrs"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        return [orjson.loads(b) for _, b in self.requests]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def start(tmp_path, backend, clock, fresh=True, **settings) -> Service:
    return Service(tmp_path, backend, clock, fresh=fresh, **settings)


def hook(svc, url: str, **extra) -> dict:
    resp = svc.client.post("/rules/webhooks", json={"url": url, "secret": SECRET, **extra}, headers=ADMIN)
    assert resp.status_code == 201, resp.text
    return resp.json()


def deliver(svc) -> dict:
    resp = svc.client.post("/rules/deliveries/run", headers=ADMIN)
    assert resp.status_code == 200, resp.text
    return resp.json()


def day(svc, when: str) -> dict:
    svc.travel(when)
    return deliver(svc)


def sent(receiver) -> list[tuple]:
    return [(b["reminder"]["kind"], b["reminder"]["offset_days"], b["reminder"]["recipient"]["person_id"])
            for b in receiver.bodies()]


def test_reminders_before_expiry_on_overdue_and_to_the_supervisor_are_each_sent_once(tmp_path, backend, clock, receiver):
    clock.set("2026-01-05T09:00:00Z")
    with start(tmp_path, backend, clock) as svc:
        hook(svc, receiver.url)
        bus_definitions(svc)
        svc.people(PEOPLE)
        svc.travel("2026-03-01")
        svc.statement("ada", "bus-course")                    # expires 2027-03-01
        assert day(svc, "2026-11-30") == {"delivered": 0, "retrying": 0, "failed": 0}
        assert day(svc, "2026-12-01") == {"delivered": 1, "retrying": 0, "failed": 0}   # 90 days before
        assert day(svc, "2026-12-02")["delivered"] == 0
        day(svc, "2027-01-30")                               # 30 days
        day(svc, "2027-02-22")                               # 7 days
        day(svc, "2027-03-02")                               # overdue (grace 30 days)
        day(svc, "2027-03-08")
        day(svc, "2027-03-09")                               # 7 days overdue: the supervisor is told
        day(svc, "2027-03-10")
    assert sent(receiver) == [("expiring", 90, "ada"), ("expiring", 30, "ada"), ("expiring", 7, "ada"),
                              ("overdue", None, "ada"), ("escalation", 7, "sam")]
    escalation = receiver.bodies()[-1]["reminder"]
    assert escalation["recipient"] == {"role": "supervisor", "person_id": "sam",
                                       "agents": [{"objectType": "Agent", "mbox": "mailto:sam@example.com"}]}
    assert escalation["person"]["person_id"] == "ada" and escalation["certification"] == "bus-operator"
    assert escalation["status"] == "overdue" and escalation["due"] == "2027-03-01"
    for headers, body in receiver.requests:
        ts = headers["x-lrs-timestamp"]
        expected = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-lrs-signature"], expected)
        assert headers["x-lrs-event"] == "certification." + orjson.loads(body)["reminder"]["kind"]
        assert headers["content-type"] == "application/json"

    # a restart, then a rebuild of the rules store from nothing: nothing is sent again
    with start(tmp_path, backend, clock, fresh=False) as svc:
        assert day(svc, "2027-03-10")["delivered"] == 0
    wipe_rules_store(tmp_path, backend, keep_outbox=True)
    with start(tmp_path, backend, clock, fresh=False) as svc:
        bus_definitions(svc)
        svc.people(PEOPLE)
        assert day(svc, "2027-03-11")["delivered"] == 0
        assert svc.status("ada", "bus-operator") == "overdue"
        listed = svc.client.get("/rules/reminders", params={"person": "ada"}, headers=ADMIN).json()["reminders"]
        assert sorted(r["kind"] for r in listed) == ["escalation", "expiring", "expiring", "expiring", "overdue"]
    assert len(receiver.requests) == 5


def test_a_certification_can_set_its_own_reminders(tmp_path, backend, clock, receiver):
    clock.set("2026-01-05T09:00:00Z")
    with start(tmp_path, backend, clock) as svc:
        hook(svc, receiver.url)
        bus_definitions(svc)
        svc.define("completion", {"id": "first-aid-course", "activity": "http://example.com/activities/first-aid"})
        svc.define("certification", {"id": "first-aid", "initial": "first-aid-course", "validity": {"days": 20},
                                     "reminders": {"before_expiry_days": [14], "overdue": False,
                                                   "escalate_after_days": None}})
        svc.define("requirement", {"id": "aiders", "applies_to": {"roles": ["bus_operator"]},
                                   "certifications": ["first-aid"]})
        svc.people(PEOPLE)
        svc.travel("2026-03-01")
        svc.statement("ada", "first-aid")                     # expires 2026-03-21: 20 days
        assert deliver(svc)["delivered"] == 0
        day(svc, "2026-03-07")                               # 14 days before 21 March
        day(svc, "2026-03-25")                               # expired (no grace): no overdue reminder asked
    assert sent(receiver) == [("expiring", 14, "ada")]
    assert receiver.bodies()[0]["reminder"]["certification"] == "first-aid"


def test_a_failing_endpoint_is_retried_with_backoff_and_a_dead_one_is_listed_as_failed(tmp_path, backend, clock):
    flaky = Receiver(statuses=[500, 503])
    with socket.socket() as s:                              # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/gone"
    clock.set("2026-01-05T09:00:00Z")
    try:
        with start(tmp_path, backend, clock, rules_webhook_retry_seconds=60.0, rules_webhook_max_attempts=3,
                   rules_webhook_timeout_seconds=1.0) as svc:
            hook(svc, flaky.url, kinds=["expiring"])
            gone = hook(svc, dead)
            bus_definitions(svc)
            svc.people(PEOPLE)
            svc.travel("2026-03-01")
            svc.statement("ada", "bus-course")
            svc.travel("2027-02-22")                          # only the 7-day reminder: the 90 and 30 have passed
            assert deliver(svc) == {"delivered": 0, "retrying": 2, "failed": 0}
            failing = svc.client.get("/rules/deliveries", params={"state": "retrying"}, headers=ADMIN).json()
            errors = sorted(d["last_error"] for d in failing["deliveries"])
            assert {d["next_at"] for d in failing["deliveries"]} == {"2027-02-22T12:01:00.000Z"}   # 60 s later
            assert errors[0].startswith("ConnectError") and errors[1] == "HTTP 500"
            assert deliver(svc)["retrying"] == 0                   # not due for 60 s
            clock.tick(60)
            assert deliver(svc) == {"delivered": 0, "retrying": 2, "failed": 0}   # 503; refused again
            svc.run()                                          # the engine goes on whatever the endpoints do
            clock.tick(119)
            assert deliver(svc) == {"delivered": 0, "retrying": 0, "failed": 0}   # the backoff doubled: 120 s
            clock.tick(1)
            assert deliver(svc) == {"delivered": 1, "retrying": 0, "failed": 1}
            failed = svc.client.get("/rules/deliveries", params={"state": "failed"}, headers=ADMIN).json()["deliveries"]
            assert [(d["endpoint_id"], d["attempts"], len(d["log"])) for d in failed] == [(gone["id"], 3, 3)]
            assert svc.client.get("/rules/deliveries", params={"state": "nope"}, headers=ADMIN).json()["error"]["path"] == "state"
    finally:
        flaky.close()
    assert len(flaky.requests) == 3
    assert len({h["x-lrs-delivery"] for h, _ in flaky.requests}) == 1     # the same delivery each time


def test_webhook_endpoints_are_checked_and_their_secret_shown_once(tmp_path, backend, clock):
    with start(tmp_path, backend, clock) as svc:
        for body, path in [({"url": "ftp://example.com/x"}, "url"), ({"url": "http://x.test/h", "secret": "short"}, "secret"),
                           ({"url": "http://x.test/h", "kinds": ["birthday"]}, "kinds"),
                           ({"url": "http://x.test/h", "transport": "pigeon"}, "transport"),
                           ({"url": "http://x.test/h", "colour": "red"}, "colour")]:
            resp = svc.client.post("/rules/webhooks", json=body, headers=ADMIN)
            assert resp.status_code == 400 and resp.json()["error"]["path"] == path, resp.text
        made = svc.client.post("/rules/webhooks", json={"url": "https://hooks.example.com/lrs"}, headers=ADMIN).json()
        assert len(made["secret"]) >= 32
        listed = svc.client.get("/rules/webhooks", headers=ADMIN).json()["endpoints"]
        assert [e["url"] for e in listed] == ["https://hooks.example.com/lrs"] and "secret" not in listed[0]
        assert svc.client.delete(f"/rules/webhooks/{made['id']}", headers=ADMIN).status_code == 204
        resp = svc.client.delete(f"/rules/webhooks/{made['id']}", headers=ADMIN)
        assert resp.status_code == 404 and resp.json()["error"]["path"] == "endpoint_id"
        assert svc.client.get("/rules/webhooks").status_code == 401


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body():
    assert signature("k", 1700000000, b'{"a":1}') == \
        "sha256=" + hmac.new(b"k", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()


def test_reminder_days_come_from_a_comma_list_setting():
    from service.config import Settings, reminder_days

    assert reminder_days(Settings(rules_reminder_days="90, 30,7")) == (90, 30, 7)
    for bad in ("90,x", "0", "4000"):
        with pytest.raises(ValueError, match="LRS_RULES_REMINDER_DAYS"):
            reminder_days(Settings(rules_reminder_days=bad))


def test_a_record_calls_for_the_nearest_passed_offset_and_no_escalation_without_a_supervisor():
    from datetime import date

    from rules.reminders import Policy, due
    from rules.storage.ports import PersonVersion, Record

    ada = PersonVersion("ada", 1, "2026-01-01T00:00:00Z", (), ({"mbox": "mailto:ada@example.com"},), {})
    pol = Policy((90, 30, 7), True, 0)
    rec = Record("ada", "bus", "certified", expires="2027-03-01", due="2027-03-01")
    assert due(rec, ada, None, pol, date(2026, 12, 1), "t") != []
    assert [r.offset_days for r in due(rec, ada, None, pol, date(2027, 2, 1), "t")] == [30]
    assert due(rec, ada, None, pol, date(2026, 11, 30), "t") == []
    over = Record("ada", "bus", "overdue", expires="2027-03-01", due="2027-03-01")
    assert [r.kind for r in due(over, ada, None, pol, date(2027, 3, 2), "t")] == ["overdue"]   # no supervisor
    boss = PersonVersion("ada", 2, "2026-01-01T00:00:00Z", (), (), {"supervisor": "sam"})
    assert [r.kind for r in due(over, boss, None, pol, date(2027, 3, 2), "t")] == ["overdue", "escalation"]
    assert due(over, boss, None, Policy((), False, None), date(2027, 3, 2), "t") == []


def test_a_person_who_has_left_is_not_reminded(tmp_path, backend, clock, receiver):
    clock.set("2026-01-05T09:00:00Z")
    with start(tmp_path, backend, clock) as svc:
        hook(svc, receiver.url)
        bus_definitions(svc)
        svc.people(PEOPLE)
        svc.travel("2026-03-01")
        svc.statement("ada", "bus-course")
        assert svc.people("person_id,email,roles,active\nada,ada@example.com,bus_operator,false\n").status_code == 200
        assert day(svc, "2026-12-01")["delivered"] == 0
        assert day(svc, "2027-03-20")["delivered"] == 0
    assert receiver.requests == []


def test_lrs_rules_run_sends_deliveries_on_a_thread_of_its_own_until_stopped():
    import time

    from rules.cli import _sender

    calls, stop = [], []

    class Box:
        def deliver(self):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("store away")          # a failure does not end the loop
            return {"delivered": 0, "retrying": 0, "failed": 0}

    t = _sender(Box(), 0.05, stop)
    deadline = time.monotonic() + 3
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.append(True)
    t.join(2)
    assert len(calls) >= 3 and not t.is_alive()


def test_the_days_sweep_goes_a_page_a_pass_and_misses_nobody(tmp_path, backend, clock, monkeypatch):
    import rules.outbox

    monkeypatch.setattr(rules.outbox, "SWEEP_PAGE", 2)
    clock.set("2026-01-05T09:00:00Z")
    with start(tmp_path, backend, clock) as svc:
        svc.define("completion", {"id": "c", "activity": "http://example.com/activities/c"})
        for cert in ("a", "b"):
            svc.define("certification", {"id": cert, "initial": "c", "validity": {"days": 100}})
        svc.define("requirement", {"id": "all", "applies_to": {"roles": ["r"]}, "certifications": ["a", "b"]})
        svc.people("person_id,email,roles\n" + "".join(f"p{i},p{i}@example.com,r\n" for i in range(5)))
        for i in range(5):
            svc.statement(f"p{i}", "c")
        svc.run()
        assert svc.client.get("/rules/reminders", headers=ADMIN).json()["reminders"] == []
        # 90 days before expiry falls on 15 January: nothing changes status that day, only the sweep
        # over every record near expiry finds the 10 reminders, 2 records a pass
        svc.clock.set("2026-01-20T09:00:00Z")
        done = svc.run()
        assert done["passes"] >= 5
        listed = svc.client.get("/rules/reminders", params={"limit": 100}, headers=ADMIN).json()["reminders"]
        assert sorted((r["person_id"], r["certification"], r["kind"], r["offset_days"]) for r in listed) == [
            (f"p{i}", c, "expiring", 90) for i in range(5) for c in ("a", "b")]
