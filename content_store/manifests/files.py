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


SAFE_LAUNCH_SCHEMES = ("http", "https")
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")


def unsafe_scheme(url: str) -> str | None:
    """The scheme of an absolute launch URL that is not http(s) (``javascript:``, ``data:``,
    ``file:``...), or None. Read as a browser would: leading spaces and control characters are
    dropped and tabs and newlines removed anywhere (``java\tscript:`` runs script)."""
    cleaned = _TAB_OR_NEWLINE.sub("", url.lstrip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f"
                                                 "\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d"
                                                 "\x1e\x1f \t\n\r"))
    if not is_absolute_url(cleaned):
        return None
    scheme = cleaned.split(":", 1)[0].lower()
    return None if scheme in SAFE_LAUNCH_SCHEMES else scheme


def unsafe_launch_message(url: str, scheme: str) -> str:
    shown = url if len(url) <= 80 else url[:80] + "..."
    return (f"the launch URL {shown!r} uses the scheme {scheme}:, which a browser would run or open "
            "as content of the player's origin; a launch URL is a file of the package or an http(s) URL")


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
