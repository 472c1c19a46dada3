"""Statement writes are parsed and validated off the event loop (issue 9 finding 9): a big batch
must not stop the server from answering other requests while it is checked."""
from __future__ import annotations

import asyncio

import pytest

import lrs.http.statements as statements_http
from lrs_testkit import make_statement


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_statements_are_parsed_validated_and_prepared_in_a_worker_thread(client, monkeypatch, method):
    """Issue 9 finding 9: JSON parsing, validation and term extraction of PUT/POST statements run
    in a worker thread, not on the event loop."""
    seen = []
    for name in ("validate_statement", "statement_terms"):
        original = getattr(statements_http, name)

        def spy(*args, _original=original, _name=name, **kw):
            seen.append((_name, _on_event_loop()))
            return _original(*args, **kw)

        monkeypatch.setattr(statements_http, name, spy)
    real_loads = statements_http.orjson.loads

    class Orjson:
        JSONDecodeError = statements_http.orjson.JSONDecodeError
        dumps = staticmethod(statements_http.orjson.dumps)

        @staticmethod
        def loads(data):
            seen.append(("loads", _on_event_loop()))
            return real_loads(data)

    monkeypatch.setattr(statements_http, "orjson", Orjson)
    st = make_statement()
    if method == "POST":
        resp = client.post("/statements", json=[st, make_statement()])
    else:
        resp = client.put("/statements", params={"statementId": st["id"]}, json=st)
    assert resp.status_code in (200, 204), resp.text
    names = {name for name, _ in seen}
    assert {"validate_statement", "statement_terms", "loads"} <= names
    assert [name for name, on_loop in seen if on_loop] == []
