"""`lrs serve` listens on two ports: the main origin and the content origin (course files and the
learner's player). Both run in the same process(es), over the same stores, with the same connection
limits and graceful stop; each answers 404 for the other's paths.

A real `lrs serve` on free ports and a temporary data folder, as tests/test_service_server.py does."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).parent / "lrs"))
sys.path.insert(0, str(Path(__file__).parent / "content_store"))

from cs_helpers import scorm12_zip  # noqa: E402
from lrs_testkit import ADMIN, LiveServer, basic, create_credential, free_port  # noqa: E402

from service.config import Settings, describe  # noqa: E402

LRS = str(Path(sys.executable).parent / "lrs")
AUTH = {"Authorization": basic(*ADMIN)}
ALICE = {"objectType": "Agent", "mbox": "mailto:alice@example.com"}


# -- settings ----------------------------------------------------------------------------------------

def test_the_content_port_defaults_to_the_port_after_the_main_one():
    assert Settings().content_port == 8081
    assert Settings.from_env({"LRS_PORT": "9000"}).content_port == 9001
    assert Settings.from_env({"LRS_PORT": "9000", "LRS_CONTENT_PORT": "7000"}).content_port == 7000
    assert Settings.from_env({}, port=9000, content_port=None).content_port == 9001
    assert "LRS_PORT + 1" in describe(("content_port",))


def test_the_content_port_must_differ_from_the_main_port():
    with pytest.raises(ValueError, match="LRS_CONTENT_PORT"):
        Settings.from_env({"LRS_PORT": "9000", "LRS_CONTENT_PORT": "9000"})


@pytest.mark.parametrize("settings, url", [
    ({}, "http://127.0.0.1:8081"),
    ({"host": "0.0.0.0", "port": 9000}, "http://0.0.0.0:9001"),
    ({"public_url": "https://lrs.example.com/base/"}, "https://lrs.example.com:8081"),
    ({"content_origin": "HTTPS://Learn.Example.com:443/"}, "https://learn.example.com"),
    ({"content_origin": "http://learn.example.com:8081", "public_url": "https://lrs.example.com"},
     "http://learn.example.com:8081"),
])
def test_the_content_origins_url(settings, url):
    assert Settings(**settings).content_url == url


@pytest.mark.parametrize("bad", ["learn.example.com", "ftp://learn.example.com", "https://learn.example.com/player",
                                 "https://user@learn.example.com", "https://learn.example.com?x=1",
                                 "https://learn.example.com:99999"])
def test_a_content_origin_that_is_not_an_origin_is_refused(bad):
    with pytest.raises(ValueError, match="LRS_CONTENT_ORIGIN"):
        Settings(content_origin=bad)


# -- one server, two listeners --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("origins") / "data"
    create_credential(d, *ADMIN, ["all"])
    srv = LiveServer(d, {"LRS_MAX_HEADER_BYTES": "8192"}).start()
    yield srv
    srv.stop()


def main_url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def content_url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.content_port}{path}"


def test_both_listeners_answer_and_each_serves_only_its_own_paths(server):
    assert httpx.get(main_url(server, "/xapi/about")).status_code == 200
    assert httpx.get(content_url(server, "/player/session")).status_code == 401
    for path in ("/content/files/c/1/index.html", "/player/session", "/player/launch/x"):
        assert httpx.get(main_url(server, path), headers=AUTH).status_code == 404, path
    for method, path in (("GET", "/xapi/about"), ("GET", "/xapi/statements"), ("GET", "/content/courses"),
                         ("POST", "/content/packages"), ("POST", "/player/launches")):
        r = httpx.request(method, content_url(server, path), headers={**AUTH, "X-Experience-API-Version": "1.0.3"})
        assert r.status_code == 404 and r.json()["error"]["status"] == 404, path


def test_a_learner_opens_a_launch_link_on_the_content_origin_and_gets_the_course_files(server):
    imported = httpx.post(main_url(server, "/content/packages"), content=scorm12_zip(),
                          headers={**AUTH, "Content-Type": "application/zip"}, timeout=30)
    assert imported.status_code in (200, 201), imported.text
    course = imported.json()["course"]["id"]
    made = httpx.post(main_url(server, "/player/launches"), json={"learner": ALICE, "course_id": course},
                      headers=AUTH)
    assert made.status_code == 201, made.text
    link = made.json()["launch_url"]
    assert link.startswith(content_url(server, "/player/launch/"))
    file = content_url(server, f"/content/files/{course}/1/index.html")
    assert httpx.get(file).status_code == 401
    with httpx.Client() as browser:
        page = browser.get(link, follow_redirects=True)
        assert page.status_code == 200
        assert str(page.url).startswith(content_url(server, "/player/session?registration="))
        assert page.headers["x-frame-options"] == "SAMEORIGIN"
        served = browser.get(file)
        assert served.status_code == 200 and served.text == "<html>lesson</html>"
        assert served.headers["content-security-policy"] == "frame-ancestors 'self'"
        assert served.headers["cross-origin-resource-policy"] == "same-origin"
        # the browser sends the cookie to the main origin too (cookies ignore ports): nothing there reads it
        assert browser.get(main_url(server, "/content/courses")).status_code == 401
    about = httpx.get(main_url(server, "/xapi/about"))
    assert about.headers["x-frame-options"] == "DENY" and "access-control-allow-credentials" not in about.headers


def test_the_connection_limits_apply_to_the_content_listener_too(server):
    with socket.create_connection(("127.0.0.1", server.content_port), timeout=5) as s:
        s.sendall(b"GET /player/session HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        got = b""
        while chunk := s.recv(65536):
            got += chunk
    assert got.startswith(b"HTTP/1.1 431"), got[:100]


def test_the_startup_output_names_the_content_origin(server):
    out = server.read_output()
    assert f"(main origin) and http://127.0.0.1:{server.content_port} (content origin)" in out, out
    assert f"content origin: http://127.0.0.1:{server.content_port} " in out


# -- the command line option, workers, and the stop ------------------------------------------------------

def _wait(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
        try:
            return httpx.get(url, timeout=1).status_code
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"no answer from {url}")


def test_content_port_option_workers_and_sigterm_cover_both_listeners(tmp_path):
    """`--content-port` sets the second port; with `--workers 2` both ports answer; SIGTERM stops
    both and `lrs serve` exits 0."""
    d = tmp_path / "data"
    create_credential(d, *ADMIN, ["all"])
    port = free_port()
    content_port = free_port(avoid=port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LRS_")}
    env.update(LRS_DATA_DIR=str(d), LRS_PORT=str(port), LRS_HOST="127.0.0.1", LRS_LOG_LEVEL="info",
               PYTHONUNBUFFERED="1", LRS_CONTENT_ORIGIN="http://learn.example.com")
    proc = subprocess.Popen([LRS, "serve", "--content-port", str(content_port), "--workers", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert _wait(f"http://127.0.0.1:{port}/xapi/about", proc) == 200
        assert _wait(f"http://127.0.0.1:{content_port}/player/session", proc) == 401
        for _ in range(6):  # new connections, spread over the workers: each one routes both ports
            assert httpx.get(f"http://127.0.0.1:{content_port}/xapi/about").status_code == 404
            assert httpx.get(f"http://127.0.0.1:{port}/player/session").status_code == 404
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    out = out.decode(errors="replace")
    assert proc.returncode == 0, out
    assert re.search(rf"listening on http://127\.0\.0\.1:{port} \(main origin\) and "
                     rf"http://127\.0\.0\.1:{content_port} \(content origin\)", out), out
    assert "content origin: http://learn.example.com " in out
    for p in (port, content_port):
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", p), timeout=1).close()


def test_a_content_port_already_taken_stops_lrs_serve_with_an_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = free_port(avoid=taken.getsockname()[1])
        env = dict(os.environ, LRS_DATA_DIR=str(tmp_path / "data"), LRS_PORT=str(port), LRS_HOST="127.0.0.1",
                   LRS_CONTENT_PORT=str(taken.getsockname()[1]))
        proc = subprocess.run([LRS, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "address already in use" in (proc.stdout + proc.stderr).lower()
