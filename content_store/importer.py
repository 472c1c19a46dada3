"""Import a package from a file on disk: check, parse, extract, store — or refuse whole.

Used by the HTTP upload (after the body is streamed to ``tmp/``) and by the command line.
Blocking work: call it from a worker thread, never on the event loop.
"""
from __future__ import annotations

import hashlib
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .errors import PackageRejected, reject
from .limits import Limits
from .manifests import cmi5, scorm, tincan
from .package import Package, read_package, read_standalone_cmi5
from .report import Report
from .store import ContentStore, StagedFile
from .zipsafe import CHUNK, SafeZip


# A check another part adds to the import (the composition root wires them): given the course model,
# it returns warnings {"code", "message", "element"} about what that part cannot honour. They go
# into the package's report as warnings on its descriptor (an admin sees them at import).
ModelCheck = Callable[[dict], "list[dict]"]
DESCRIPTOR_OF = {"scorm12": scorm.MANIFEST, "scorm2004": scorm.MANIFEST, "cmi5": cmi5.STRUCTURE,
                 "tincan": tincan.DESCRIPTOR}


@dataclass
class ImportResult:
    course: dict
    version: dict
    report: Report
    created: bool  # False when the zip is byte for byte the course's latest version


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(store: ContentStore, path: str | Path, limits: Limits,
                package_sha256: str | None = None, checks: Sequence[ModelCheck] = ()) -> ImportResult:
    """Import the package at ``path``; raise ``PackageRejected`` (with its report) if refused.

    ``path`` is only read; the caller owns it. Nothing is kept from a refused package.
    ``checks`` add their warnings to the report of a package that parsed (see ``ModelCheck``).
    """
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_upload_bytes:
        raise reject(413, "upload.too_large", f"the package is {size} bytes; at most "
                     f"{limits.max_upload_bytes} are accepted")
    sha = package_sha256 or file_sha256(path)
    if not zipfile.is_zipfile(path) and _looks_like_xml(path):
        if size > limits.max_manifest_bytes:
            raise reject(413, "upload.too_large", f"the course structure is {size} bytes; at most "
                         f"{limits.max_manifest_bytes} are accepted")
        package = read_standalone_cmi5(path.read_bytes())
        run_checks(package, checks)
        package.raise_if_rejected()
        return _store(store, package, None, sha, size)
    with SafeZip(path, limits) as z:
        package = read_package(z, limits)
        run_checks(package, checks)
        package.raise_if_rejected()
        return _store(store, package, z, sha, size)


def run_checks(package: Package, checks: Sequence[ModelCheck]) -> None:
    """Each check's warnings in the package's report, on the descriptor the model came from."""
    if package.model is None:
        return
    file = DESCRIPTOR_OF.get(package.model.get("format"), "")
    for check in checks:
        for found in check(package.model):
            package.report.warning(found["code"], found["message"], file=file, element=found.get("element", ""))


def _store(store: ContentStore, package: Package, z: SafeZip | None, sha: str, size: int) -> ImportResult:
    model = package.model
    identical = store.find_identical(model["identifier"], sha)
    if identical is not None:
        return ImportResult(identical[0], identical[1], package.report, created=False)
    staging = store.temp_path()
    staging.mkdir()
    try:
        staged = _extract(z, package, staging) if z is not None else []
        course, version = store.add_version(model, package.report.to_dict(), staged, sha, size)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ImportResult(course, version, package.report, created=True)


def _extract(z: SafeZip, package: Package, staging: Path) -> list[StagedFile]:
    limit = z.limits.max_uncompressed_bytes
    total = 0
    staged = []
    for n, (name, entry) in enumerate(package.files):
        dest = staging / str(n)
        with open(dest, "wb") as out:
            sha, written = z.copy(entry.name, out)
        total += written
        if total > limit:
            raise reject(413, "zip.too_large", f"the files in the zip add up to more than {limit} bytes "
                         "once extracted", file=entry.name)
        staged.append(StagedFile(name, sha, written, dest))
    return staged


def _looks_like_xml(path: Path) -> bool:
    with open(path, "rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


__all__ = ["ImportResult", "PackageRejected", "import_file"]
