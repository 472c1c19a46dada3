"""Logs (issue 9 finding 12): an operator finds the cause of any 500 from one log line, which holds
the request id, method, path and traceback; every log line written during a request carries its id."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from lrs.http import resources
from player.launch import Launcher
from service.app import create_app, create_service
from service.config import Settings


def _broken(*args, **kwargs):
    raise RuntimeError("injected defect")


MAIN, CONTENT = "http://testserver:8080", "http://testserver:8081"  # the default ports: the two origins


def _client(settings: Settings) -> TestClient:
    return TestClient(create_service(settings), base_url=MAIN)


@pytest.fixture(params=["content", "xapi"])
def broken_path(request, monkeypatch):
    """A path whose handler raises: a course file on the content origin (its session check), or the
    xAPI About resource."""
    if request.param == "content":
        monkeypatch.setattr(Launcher, "sessions", _broken)
        return CONTENT + "/content/files/c/1/index.html"

    async def about(req):
        raise RuntimeError("injected defect")

    monkeypatch.setattr(resources, "about", about)
    return "/xapi/about"


def _lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_a_500_is_one_json_log_line_with_request_id_method_path_and_traceback(tmp_path, capsys, broken_path):
    """Issue 9 finding 12: with LRS_LOG_JSON, a 500 logs one line holding the request id (the one in
    the X-Request-Id answer), the method, the path and the traceback."""
    with _client(Settings(data_dir=tmp_path, log_json=True, log_level="error")) as client:
        resp = client.get(broken_path)
    assert resp.status_code == 500
    assert resp.json()["error"]["status"] == 500
    rid = resp.headers["X-Request-Id"]
    errors = [json.loads(line) for line in _lines(capsys) if '"ERROR"' in line]
    assert len(errors) == 1, errors
    err = errors[0]
    assert err["request_id"] == rid
    assert err["method"] == "GET" and err["path"] == urlsplit(broken_path).path
    assert "RuntimeError: injected defect" in err["traceback"]


def test_a_500_is_one_text_log_line_with_request_id_method_path_and_traceback(tmp_path, capsys, broken_path):
    """Issue 9 finding 12: in text logs too, the 500 is one line with request id, method, path and the
    traceback (its newlines escaped)."""
    with _client(Settings(data_dir=tmp_path, log_level="error")) as client:
        resp = client.get(broken_path)
    rid = resp.headers["X-Request-Id"]
    errors = [line for line in _lines(capsys) if " ERROR " in line]
    assert len(errors) == 1, errors
    line = errors[0]
    assert f"request_id={rid}" in line and "method=GET" in line and f"path={urlsplit(broken_path).path}" in line
    assert "RuntimeError: injected defect" in line and "traceback=" in line


def test_log_lines_written_during_a_request_carry_its_id(tmp_path, capsys):
    """Issue 9 finding 12: the request id is in a context variable, so a log line any module writes
    while the request runs carries it."""
    import logging

    async def about(req):
        logging.getLogger("lrs.somewhere").warning("something happened")
        from starlette.responses import Response
        return Response(b"{}", media_type="application/json")

    mp = pytest.MonkeyPatch()
    mp.setattr(resources, "about", about)
    try:
        with TestClient(create_app(Settings(data_dir=tmp_path, log_level="warning"))) as client:
            resp = client.get("/xapi/about")
    finally:
        mp.undo()
    line = next(line for line in _lines(capsys) if "something happened" in line)
    assert f"request_id={resp.headers['X-Request-Id']}" in line
