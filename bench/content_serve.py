"""Bench: serve one 1 MB file of a course version to 100 concurrent clients.

Starts the real service (`lrs serve` subprocess, temp LRS_DATA_DIR, loopback only),
imports a small package holding a 1 MiB file, opens a launch link for its session cookie,
then runs 100 keep-alive clients (a minimal asyncio HTTP/1.1 client, so the load tool costs
little CPU next to the server) that GET the file from the content origin, with the cookie,
until --requests responses or --seconds have passed.
Target (issue 4): at least 200 MB/s.

    .venv/bin/python bench/content_serve.py [--clients 100] [--requests 3000] [--seconds 30]
"""
from __future__ import annotations

import argparse
import asyncio
import io
import os
import tempfile
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from content_server import Server, machine

FILE_BYTES = 1024 * 1024


def package() -> bytes:
    manifest = """<?xml version="1.0"?>
<manifest identifier="bench.content.serve" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Serve</title>
    <item identifier="i" identifierref="r"><title>Video</title></item></organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html">
    <file href="index.html"/><file href="media/clip.mp4"/></resource></resources>
</manifest>"""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("imsmanifest.xml", manifest)
        z.writestr("index.html", "<html></html>")
        z.writestr("media/clip.mp4", os.urandom(FILE_BYTES))
    return buf.getvalue()


async def client(port: int, path: str, cookie: str, state: dict) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: lrs_player={cookie}\r\n\r\n".encode()
    try:
        while state["sent"] < state["max_requests"] and time.perf_counter() < state["deadline"]:
            state["sent"] += 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
            if status != 200 or len(body) != FILE_BYTES:
                state["errors"] += 1
            state["bytes"] += len(body)
            state["done"] += 1
    finally:
        writer.close()


async def load(port: int, path: str, cookie: str, clients: int, max_requests: int, seconds: float) -> dict:
    state = {"sent": 0, "done": 0, "bytes": 0, "errors": 0, "max_requests": max_requests,
             "deadline": time.perf_counter() + seconds}
    start = time.perf_counter()
    await asyncio.gather(*(client(port, path, cookie, state) for _ in range(clients)))
    state["elapsed"] = time.perf_counter() - start
    return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        server = Server(Path(tmp) / "data")
        try:
            imported = httpx.post(server.base + "/content/packages", auth=server.auth, content=package(), timeout=60).json()
            files = urlsplit(imported["version"]["files_url"])
            assert files.port == server.content_port and files.path.startswith("/content/files/"), files
            path = files.path + "media/clip.mp4"
            cookie = server.session_cookie(imported["course"]["id"])
            asyncio.run(load(server.content_port, path, cookie, args.clients, 200, 10))  # warm-up
            cpu = server.cpu_seconds()
            result = asyncio.run(load(server.content_port, path, cookie, args.clients, args.requests, args.seconds))
            result["server_cpu"] = server.cpu_seconds() - cpu
            result["rss"] = server.rss_kib()
        finally:
            server.stop()
    rate = result["bytes"] / 1e6 / result["elapsed"]
    print(f"served {result['done']} x 1 MiB to {args.clients} concurrent keep-alive clients in "
          f"{result['elapsed']:.2f} s, {result['errors']} errors")
    print(f"throughput: {rate:.0f} MB/s ({result['done'] / result['elapsed']:.0f} requests/s); "
          f"target >= 200 MB/s: {'PASS' if rate >= 200 and not result['errors'] else 'MISS'}")
    print(f"server CPU: {result['server_cpu']:.2f} s over {result['elapsed']:.2f} s "
          f"({100 * result['server_cpu'] / result['elapsed']:.0f}% of one core; one uvicorn worker)")
    print(f"server RSS after the run: {result['rss'][0] / 1024:.0f} MiB (peak VmHWM {result['rss'][1] / 1024:.0f} MiB)")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
