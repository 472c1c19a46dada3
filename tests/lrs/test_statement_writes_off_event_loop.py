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


BODIES = [b'[]', b' [ ] ', b'[1, 2 ,3]', '[{"é": "ü"}, {"x": "€😀"} ,\n{"y":[1,{}]}]'.encode(), b'[1,]', b'[1',
          b'[1 2]', b'[1] x', b'{"a":1}', b'[[1],[2]]', b'["a]", "b,"]', b'[1,2]]', b'[\xff]', b'[1, {"a": NaN}]',
          b'[123456, 7]', b'[ 1 , 2 ]  \n', b'[1,2,', b' \t', b'[true, false, null, -1.5e3, "\\u00e9\\"]"]',
          '["ééé€€😀😀", 12345678901234567890123]'.encode(), b'[1.]', b'[-]', b'[tru]', b'[{"a": 1}}]']


@pytest.mark.parametrize("window", [1, 2, 3, 7, 1 << 16])
def test_a_big_batch_is_parsed_one_statement_at_a_time_with_the_same_result(monkeypatch, window):
    """Issue 9 finding 9: one orjson call holds the GIL (and so the event loop) for all it parses, so
    a big array is parsed element by element; the value, or the error, is exactly orjson's."""
    import orjson

    monkeypatch.setattr(statements_http, "ELEMENTWISE_FROM", 0)
    monkeypatch.setattr(statements_http, "ELEMENT_WINDOW", window)
    calls = []
    real = statements_http.orjson.loads
    for body in BODIES + [orjson.dumps([make_statement() for _ in range(5)])]:
        try:
            want = ("value", real(body))
        except orjson.JSONDecodeError as exc:
            want = ("error", str(exc))
        try:
            got = ("value", statements_http._loads(body))
        except orjson.JSONDecodeError as exc:
            got = ("error", str(exc))
        assert got == want, body
    big = orjson.dumps([make_statement() for _ in range(20)])
    monkeypatch.setattr(statements_http.orjson, "loads", lambda data: calls.append(len(data)) or real(data))
    assert statements_http._loads(big) == real(big)
    if window < len(big):
        assert max(calls) < len(big) / 5  # no call was given the whole batch
