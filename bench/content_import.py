"""Bench: import a 2,000-file, 200 MB package over HTTP into the real service.

Builds the package in a temp folder (half the bytes random, half compressible text),
starts the service (uvicorn subprocess, temp LRS_DATA_DIR), streams the zip to
POST /content/packages and samples the server's RSS (/proc/PID/status) every 20 ms.
Targets (issue 4): peak RSS at most 200 MB, at most 20 s.

    .venv/bin/python bench/content_import.py [--files 2000] [--mb 200]
"""
from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import httpx

from content_server import Server, machine

WORDS = ("learner course module score passed failed completed attempt objective sequencing rollup "
         "interaction response result duration session resume suspend bookmark progress mastery").split()


def build_package(folder: Path, files: int, total_mb: int) -> tuple[Path, int]:
    rng = random.Random(4)
    per_file = total_mb * 1024 * 1024 // files
    text_pool = " ".join(rng.choice(WORDS) + str(rng.randrange(1000)) for _ in range(400_000)).encode()
    names = [f"content/{'media' if n % 2 else 'text'}/{n:05d}.{'bin' if n % 2 else 'html'}"
             for n in range(files - 1)]
    file_xml = "\n".join(f'      <file href="{n}"/>' for n in names)
    manifest = f"""<?xml version="1.0"?>
<manifest identifier="bench.content.import" version="1" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
          xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Bench</title>
    <item identifier="i1" identifierref="r1"><title>All</title></item></organization></organizations>
  <resources>
    <resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="{names[0]}">
{file_xml}
    </resource>
  </resources>
</manifest>"""
    path = folder / "bench-package.zip"
    uncompressed = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("imsmanifest.xml", manifest)
        for n, name in enumerate(names):
            if name.endswith(".bin"):
                data = os.urandom(per_file)
            else:
                start = rng.randrange(len(text_pool) - per_file)
                data = text_pool[start:start + per_file]
            uncompressed += len(data)
            z.writestr(name, data)
    return path, uncompressed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        package, uncompressed = build_package(tmp, args.files, args.mb)
        size = package.stat().st_size
        print(f"package: {args.files} files, {uncompressed / 1e6:.1f} MB uncompressed, {size / 1e6:.1f} MB zip "
              f"(built in {time.perf_counter() - t0:.1f} s)")
        server = Server(tmp / "data")
        try:
            base_rss, _ = server.rss_kib()
            peak = [base_rss]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], server.rss_kib()[0])
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()

            def body():
                with open(package, "rb") as f:
                    while chunk := f.read(1024 * 1024):
                        yield chunk

            start = time.perf_counter()
            response = httpx.post(server.base + "/content/packages", auth=server.auth, content=body(), timeout=300,
                                  headers={"content-type": "application/zip", "content-length": str(size)})
            elapsed = time.perf_counter() - start
            done.set()
            sampler.join()
            _, hwm = server.rss_kib()
        finally:
            server.stop()
        body_json = response.json()
        assert response.status_code == 201, response.text[:500]
        stored = body_json["version"]["file_count"]
        print(f"import: HTTP {response.status_code}, {stored} files stored, {elapsed:.2f} s "
              f"({size / 1e6 / elapsed:.0f} MB/s of zip)")
        print(f"server RSS: {base_rss / 1024:.0f} MiB before, peak {max(peak[0], hwm) / 1024:.0f} MiB "
              f"(sampled {peak[0] / 1024:.0f} MiB, VmHWM {hwm / 1024:.0f} MiB)")
        verdict = "PASS" if elapsed <= 20 and max(peak[0], hwm) * 1024 <= 200e6 else "MISS"
        print(f"targets (<= 20 s, <= 200 MB RSS): {verdict}")
        print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
