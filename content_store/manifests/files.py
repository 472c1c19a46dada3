"""What a manifest may point at: files of the package, or absolute URLs outside it."""
from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote, urlsplit

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


def is_absolute_url(href: str) -> bool:
    """True for ``http://...``, ``https://...`` and application schemes (not ``C:\\...``)."""
    m = _SCHEME.match(href)
    return bool(m) and len(m.group(0)) > 2


def is_iri(value: str | None) -> bool:
    """An absolute IRI: a scheme, then no whitespace (RFC 3987, as far as a loader can tell)."""
    return bool(value) and bool(_SCHEME.match(value)) and not re.search(r"\s", value)


def join_base(bases: list[str | None], href: str) -> str:
    """An href under its xml:base values (manifest, resources, resource), each taken as a
    folder, the way authoring tools mean them; an absolute base or href starts over."""
    out = ""
    for base in bases:
        if base:
            out = base if is_absolute_url(base) or base.startswith("/") else out + base
            if not out.endswith("/"):
                out += "/"
    if is_absolute_url(href) or href.startswith("/"):
        return href
    return out + href


def package_path(href: str) -> str | None:
    """The path inside the package that a relative href points at (query and fragment
    dropped, %-escapes decoded), or None when it leaves the package."""
    path = unquote(urlsplit(href).path)
    if not path or path.startswith("/"):
        return None
    norm = posixpath.normpath(path)
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


class FileIndex:
    """The files of a package, looked up exactly, then ignoring case (as Windows authors expect)."""

    def __init__(self, names) -> None:
        self.names = set(names)
        self._lower: dict[str, str] = {}
        for name in self.names:
            self._lower.setdefault(name.lower(), name)

    def find(self, path: str) -> tuple[str | None, bool]:
        """``(name, exact)``: the stored name for ``path``, and whether the case matched."""
        if path in self.names:
            return path, True
        other = self._lower.get(path.lower())
        return other, False

    def __len__(self) -> int:
        return len(self.names)
