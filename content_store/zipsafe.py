"""Opening an uploaded zip without trusting it.

Every entry is checked before a byte is extracted: its name must stay inside the
package (no ``..``, no absolute or drive paths), it must be a plain file or folder (no
symlinks), unencrypted, with a compression method we can read, and the archive as a
whole must stay within the file count, total size and compression ratio limits. While
extracting, the bytes really produced are counted again, so a header that lies about
sizes cannot get past the limits either.
"""
from __future__ import annotations

import hashlib
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import PackageRejected, reject
from .limits import Limits

CHUNK = 1024 * 1024
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CORRUPT = (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, NotImplementedError)


@dataclass(frozen=True)
class Entry:
    """A file in the package: its normalised path and its sizes as the zip declares them."""

    name: str
    size: int
    compressed: int
    info: zipfile.ZipInfo


def normalise_name(raw: str) -> str:
    """The entry name as a relative POSIX path, or ValueError saying why it is unsafe."""
    name = raw.replace("\\", "/")
    if _CONTROL.search(name):
        raise ValueError("has control characters in its name")
    if name.startswith("/") or _DRIVE.match(name):
        raise ValueError("is an absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ValueError("climbs out of the package with '..'")
    return "/".join(parts)


class SafeZip:
    """A zip whose entries have all passed the safety checks (see module doc).

    Raises ``PackageRejected`` (400 for a broken or unsafe archive, 413 over a limit).
    """

    def __init__(self, path: str | Path, limits: Limits) -> None:
        self.limits = limits
        self._check_entry_count(path)
        try:
            self._zip = zipfile.ZipFile(path)
        except _CORRUPT as exc:
            raise reject(400, "zip.not_a_zip",
                         f"the upload is not a readable zip file ({exc}); it may be truncated: "
                         "upload the whole .zip that the authoring tool published") from None
        try:
            self.entries = self._inspect()
        except BaseException:
            self._zip.close()
            raise
        self.by_name = {e.name: e for e in self.entries}

    # -- checks -------------------------------------------------------------------------

    def _check_entry_count(self, path) -> None:
        """Refuse an archive with too many entries before zipfile parses them all."""
        try:  # zipfile's private reader of the end-of-central-directory record; _inspect re-checks
            with open(path, "rb") as fp:
                end = zipfile._EndRecData(fp)
            total = end[zipfile._ECD_ENTRIES_TOTAL] if end else 0
        except (OSError, AttributeError, IndexError):  # AttributeError: a Python without the private API
            return
        if total > self.limits.max_files:
            raise reject(413, "zip.too_many_files",
                         f"the zip has {total} entries; at most {self.limits.max_files} are accepted")

    def _inspect(self) -> list[Entry]:
        limits = self.limits
        infos = self._zip.infolist()
        if len(infos) > limits.max_files:
            raise reject(413, "zip.too_many_files",
                         f"the zip has {len(infos)} entries; at most {limits.max_files} are accepted")
        entries: list[Entry] = []
        seen: set[str] = set()
        total = compressed = 0
        for info in infos:
            try:
                name = normalise_name(info.filename)
            except ValueError as exc:
                rule = "zip.absolute_path" if "absolute" in str(exc) else "zip.unsafe_path"
                raise reject(400, rule, f"the entry '{info.filename}' {exc}; only paths inside the "
                             "package are allowed", file=info.filename) from None
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                raise reject(400, "zip.symlink", f"the entry {info.filename!r} is a symbolic link; "
                             "packages may hold only plain files and folders", file=info.filename)
            if info.is_dir() or not name:
                continue
            if info.flag_bits & 0x1:
                raise reject(400, "zip.encrypted", f"the entry {name!r} is encrypted; publish the "
                             "package without a password", file=name)
            if info.compress_type not in _METHODS:
                raise reject(400, "zip.unsupported_compression",
                             f"the entry {name!r} uses compression method {info.compress_type}; "
                             "use deflate (the default of every zip tool)", file=name)
            if name in seen:
                raise reject(400, "zip.duplicate_entry", f"the path {name!r} occurs twice in the zip",
                             file=name)
            seen.add(name)
            if (info.file_size > limits.ratio_floor_bytes
                    and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
                ratio = info.file_size / max(info.compress_size, 1)
                raise reject(413, "zip.ratio",
                             f"the entry {name!r} expands {ratio:.0f} times ({info.compress_size} to "
                             f"{info.file_size} bytes); at most {limits.max_ratio} times is accepted "
                             "(zip bomb protection)", file=name)
            total += info.file_size
            compressed += info.compress_size
            if total > limits.max_uncompressed_bytes:
                raise reject(413, "zip.too_large",
                             f"the files in the zip add up to more than {limits.max_uncompressed_bytes} "
                             "bytes once extracted", file=name)
            entries.append(Entry(name, info.file_size, info.compress_size, info))
        if total > limits.archive_ratio_floor_bytes and total > limits.max_ratio * max(compressed, 1):
            raise reject(413, "zip.ratio",
                         f"the files of the zip expand {total / max(compressed, 1):.0f} times together "
                         f"({compressed} to {total} bytes); at most {limits.max_ratio} times is accepted "
                         "(zip bomb protection)")
        self._check_overlap(infos)
        return entries

    def _check_overlap(self, infos: list[zipfile.ZipInfo]) -> None:
        """Entries whose compressed data overlap are a zip bomb trick (one stream, many files)."""
        spans = sorted((i.header_offset, i.header_offset + i.compress_size, i.filename) for i in infos)
        for (start, end, name), (next_start, _, next_name) in zip(spans, spans[1:]):
            if end > next_start:
                raise reject(400, "zip.overlapping_entries",
                             f"the entries {name!r} and {next_name!r} share compressed data; "
                             "this is how zip bombs are built", file=next_name)

    # -- reading ------------------------------------------------------------------------

    def read(self, name: str, max_bytes: int) -> bytes:
        """The whole of a small entry (a manifest), refused when larger than ``max_bytes``."""
        entry = self.by_name[name]
        if entry.size > max_bytes:
            raise reject(413, "zip.manifest_too_large",
                         f"{name} is {entry.size} bytes; at most {max_bytes} are accepted", file=name)
        try:
            with self._zip.open(entry.info) as src:
                data = src.read(max_bytes + 1)
        except _CORRUPT as exc:
            raise self._corrupt(name, exc) from None
        return data[:max_bytes]

    def copy(self, name: str, dest: BinaryIO) -> tuple[str, int]:
        """Stream one entry into ``dest``; return its sha256 and the bytes really written."""
        entry = self.by_name[name]
        digest = hashlib.sha256()
        written = 0
        try:
            with self._zip.open(entry.info) as src:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    if written > entry.size:
                        raise reject(413, "zip.size_mismatch",
                                     f"the entry {name!r} holds more data than its header declares",
                                     file=name)
                    digest.update(chunk)
                    dest.write(chunk)
        except PackageRejected:
            raise
        except _CORRUPT as exc:
            raise self._corrupt(name, exc) from None
        return digest.hexdigest(), written

    @staticmethod
    def _corrupt(name: str, exc: Exception) -> PackageRejected:
        return reject(400, "zip.corrupt", f"the entry {name!r} cannot be extracted ({exc}); the zip "
                      "is damaged or truncated", file=name)

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "SafeZip":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
