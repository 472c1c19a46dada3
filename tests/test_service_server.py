"""The HTTP server of `lrs serve` (service/server.py): bounded headers, slow and idle connections
timed out, request bodies in flight budgeted, connections capped, bodies of unauthenticated
requests never read, a 500 that keeps the connection, and a graceful SIGTERM.

Most tests share one live `lrs serve` with small limits (one second timeouts) so that they are fast."""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "lrs"))

from lrs_testkit import ADMIN, LiveServer, basic, create_credential, free_port  # noqa: E402

LIMITS = {"LRS_HEADER_TIMEOUT_SECONDS": "1", "LRS_BODY_TIMEOUT_SECONDS": "1", "LRS_KEEPALIVE_TIMEOUT_SECONDS": "1",
          "LRS_MAX_HEADER_BYTES": "16384", "LRS_MAX_CONNECTIONS": "30", "LRS_MAX_INFLIGHT_BODY_BYTES": "1000000"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("server") / "data"
    create_credential(d, *ADMIN, ["all"])
    srv = LiveServer(d, LIMITS).start()
    yield srv
    srv.stop()


def connect(server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    return s


def read_response(s: socket.socket) -> tuple[int, dict, bytes]:
    """One HTTP/1.1 response with a Content-Length body, read off the socket."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {buf!r}")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", 0))
    while len(rest) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), headers, rest[:length]


def closed_within(s: socket.socket, seconds: float) -> tuple[bool, bytes]:
    """Whether the server closes ``s`` within ``seconds``; and what it sent before closing."""
    s.settimeout(seconds)
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return True, got
            got += chunk
    except socket.timeout:
        return False, got
    except ConnectionResetError:
        return True, got


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


# -- finding 2: headers bounded, bodies not read before authentication ------------------------------

def test_an_8_mb_header_is_refused_with_431_without_being_buffered(server):
    """Issue 9 finding 2: a request whose headers go over LRS_MAX_HEADER_BYTES gets 431 and the
    connection is closed while the client is still sending (the 8 MB is never buffered)."""
    s = connect(server)
    before = rss_kib(server.proc.pid)
    s.sendall(b"GET /xapi/about HTTP/1.1\r\nHost: x\r\nX-Big: ")
    sent = 0
    try:
        while sent < 8 * 1024 * 1024:
            s.sendall(b"a" * 65536)
            sent += 65536
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed, got = closed_within(s, 3)
    assert closed
    assert got.startswith(b"HTTP/1.1 431"), got[:100]
    assert sent < 8 * 1024 * 1024 or rss_kib(server.proc.pid) - before < 4096


def test_unauthenticated_40_mb_posts_are_refused_without_reading_their_bodies(server):
    """Issue 9 finding 2: four unauthenticated 40 MB POSTs get 401 as soon as their headers are in,
    and the server's memory does not grow by their bodies."""
    before = rss_kib(server.proc.pid)
    size = 40 * 1024 * 1024
    statuses = []

    def post():
        s = connect(server)
        s.sendall(f"POST /xapi/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"X-Experience-API-Version: 1.0.3\r\nContent-Length: {size}\r\n\r\n".encode())
        s.sendall(b"[" + b" " * 1_000_000)  # the start of the body, as a real client would
        statuses.append(read_response(s)[0])
        s.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    after = rss_kib(server.proc.pid)
    print(f"RSS of lrs serve: {before} KiB before, {after} KiB after four 40 MB unauthenticated POSTs")
    assert statuses == [401] * 4
    assert after - before < 20 * 1024


def test_a_request_with_neither_credentials_nor_version_header_is_401(server):
    """Issue 9 finding 2: without credentials and without the version header the answer is 401, not 400."""
    s = connect(server)
    s.sendall(b"GET /xapi/statements HTTP/1.1\r\nHost: x\r\n\r\n")
    status, headers, body = read_response(s)
    assert status == 401
    assert headers["www-authenticate"].startswith("Basic")


def test_bodies_in_flight_over_the_budget_get_503_with_retry_after(server):
    """Issue 9 finding 2: request bodies in flight are budgeted (LRS_MAX_INFLIGHT_BODY_BYTES): a request
    that would go over gets 503 with Retry-After before its body is read."""
    import httpx

    assert httpx.get(server.url + "/statements", headers=server.headers).status_code == 200  # secret verified
    first = connect(server)
    first.sendall(f"POST /xapi/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"X-Experience-API-Version: 1.0.3\r\nAuthorization: {basic(*ADMIN)}\r\n"
                  f"Content-Length: 800000\r\n\r\n[".encode())
    # The first request holds 800,000 bytes of the budget once the app starts reading its body;
    # until then a second one is admitted (and, being complete, answered): try again.
    body = b"[" + b" " * 299_998 + b"]"
    for _ in range(20):
        second = connect(server)
        second.sendall(f"POST /xapi/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       f"X-Experience-API-Version: 1.0.3\r\nAuthorization: {basic(*ADMIN)}\r\n"
                       f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status, headers, out = read_response(second)
        second.close()
        if status == 503:
            break
        time.sleep(0.1)
    assert status == 503
    assert int(headers["retry-after"]) > 0
    assert json.loads(out)["error"]["status"] == 503
    first.close()


# -- finding 9: slow and idle connections ----------------------------------------------------------

def test_a_silent_connection_is_closed_after_the_header_timeout(server):
    """Issue 9 finding 9: a connection that sends nothing is closed after LRS_HEADER_TIMEOUT_SECONDS."""
    s = connect(server)
    start = time.monotonic()
    closed, _ = closed_within(s, 4)
    assert closed and time.monotonic() - start < 3


def test_headers_sent_a_byte_at_a_time_get_408_after_the_header_timeout(server):
    """Issue 9 finding 9: a client trickling its headers (slowloris) is answered 408 and closed."""
    s = connect(server)
    start = time.monotonic()
    request = b"GET /xapi/about HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    got = b""
    try:
        for byte in request:
            s.sendall(bytes([byte]))
            time.sleep(0.05)
            if time.monotonic() - start > 4:
                break
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed, got = closed_within(s, 3)
    assert closed and got.startswith(b"HTTP/1.1 408"), got
    assert time.monotonic() - start < 4


def test_a_body_sent_a_byte_a_second_gets_408_after_the_body_timeout(server):
    """Issue 9 finding 9: a request body must arrive within LRS_BODY_TIMEOUT_SECONDS, else 408."""
    s = connect(server)
    s.sendall(f"PUT /xapi/activities/state?activityId=http%3A%2F%2Fx.example.com&stateId=s&agent=%7B%22mbox%22%3A"
              f"%22mailto%3Aa%40example.com%22%7D HTTP/1.1\r\nHost: x\r\nX-Experience-API-Version: 1.0.3\r\n"
              f"Authorization: {basic(*ADMIN)}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
              .encode())
    start = time.monotonic()
    try:
        for _ in range(6):
            s.sendall(b" ")
            time.sleep(0.5)
    except (BrokenPipeError, ConnectionResetError):
        pass
    closed, got = closed_within(s, 3)
    assert closed
    assert got.startswith(b"HTTP/1.1 408"), got
    assert time.monotonic() - start < 4.5


def test_an_idle_keep_alive_connection_is_closed_after_the_keep_alive_timeout(server):
    """Issue 9 finding 9: after a response, a connection idle for LRS_KEEPALIVE_TIMEOUT_SECONDS is closed."""
    s = connect(server)
    s.sendall(b"GET /xapi/about HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(s)[0] == 200
    start = time.monotonic()
    closed, _ = closed_within(s, 4)
    assert closed and time.monotonic() - start < 3


def test_connections_over_the_cap_get_503_and_are_closed(server):
    """Issue 9 finding 9: at most LRS_MAX_CONNECTIONS connections are open; one more gets 503."""
    held = [connect(server) for _ in range(30)]
    try:
        time.sleep(0.2)
        extra = connect(server)
        closed, got = closed_within(extra, 2)
        assert closed and got.startswith(b"HTTP/1.1 503"), got
    finally:
        for s in held:
            s.close()


# -- finding 12 / 8: a 500 keeps the keep-alive connection ---------------------------------------

def test_a_500_does_not_close_the_keep_alive_connection(tmp_path, monkeypatch):
    """Issue 9 finding 12 (and 8): when an exception escapes an app, the answer is a JSON 500 and
    the same keep-alive connection still answers the next request."""
    import uvicorn

    from content_store.store import ContentStore

    from service.app import create_app
    from service.config import Settings

    def broken(*args, **kwargs):
        raise RuntimeError("injected defect")

    monkeypatch.setattr(ContentStore, "courses", broken)
    create_credential(tmp_path / "data", *ADMIN, ["all"])
    port = free_port()
    app = create_app(Settings(data_dir=tmp_path / "data", log_level="error"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, http="httptools",
                                           log_level="critical", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /content/courses HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic(*ADMIN).encode()
                  + b"\r\n\r\n")
        status, headers, body = read_response(s)
        assert status == 500
        assert json.loads(body)["error"]["status"] == 500
        s.sendall(b"GET /xapi/about HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(s)[0] == 200
        s.close()
    finally:
        server.should_exit = True
        thread.join(10)


# -- finding 13: SIGTERM ---------------------------------------------------------------------------

def test_sigterm_stops_gracefully_with_a_log_line_and_status_0(tmp_path):
    """Issue 9 finding 13: SIGTERM makes a graceful shutdown that logs it and exits with status 0."""
    import subprocess

    import httpx

    d = tmp_path / "data"
    create_credential(d, *ADMIN, ["all"])
    port = free_port()
    env = dict(os.environ, LRS_DATA_DIR=str(d), LRS_PORT=str(port), LRS_CONTENT_PORT=str(free_port()),
               LRS_LOG_LEVEL="info", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "lrs"), "serve"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/xapi/about", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert b"SIGTERM" in out and b"stopped" in out, out
