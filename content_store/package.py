"""What kind of package a zip is, and its course model.

The format is told by the descriptor at the root of the zip: ``cmi5.xml`` (cmi5),
``imsmanifest.xml`` (SCORM 1.2 or 2004, the edition from the manifest itself) or
``tincan.xml`` (xAPI/TinCan). A zip that holds one folder with the package inside it
(an admin re-zipped the folder instead of its contents) is accepted with a warning.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import PackageRejected
from .limits import Limits
from .manifests import cmi5, scorm, tincan
from .manifests.files import FileIndex
from .report import Report
from .xmlparse import parse as parse_xml
from .zipsafe import Entry, SafeZip

# In order of preference when a zip holds more than one.
DESCRIPTORS = (
    (cmi5.STRUCTURE, cmi5.parse),
    (scorm.MANIFEST, scorm.parse),
    (tincan.DESCRIPTOR, tincan.parse),
)
_JUNK = ("__MACOSX/",)


@dataclass
class Package:
    """A parsed package: its model (None when unreadable), its report, and its files, named
    relative to the package root (``prefix`` is that root's folder inside the zip)."""

    model: dict | None
    report: Report
    files: list[tuple[str, Entry]] = field(default_factory=list)
    prefix: str = ""

    def raise_if_rejected(self) -> None:
        if self.report.ok:
            return
        first = self.report.errors[0]
        more = len(self.report.errors) - 1
        message = f"the package was rejected: {first.message}"
        if more:
            message += f" (and {more} more error{'s' if more > 1 else ''}; see the report)"
        raise PackageRejected(400, message, self.report, path=first.file)


def read_package(z: SafeZip, limits: Limits) -> Package:
    report = Report()
    names = z.by_name
    prefix = ""
    present = [d for d in DESCRIPTORS if d[0] in names]
    if not present:
        prefix = _nested_root(names)
        if prefix is None:
            nested = sorted(n for n in names if n.rsplit("/", 1)[-1] in {d for d, _ in DESCRIPTORS})
            hint = (f"; found {nested[0]!r}: the descriptor must be at the root of the zip, so zip the "
                    "contents of the course folder, not the folder") if nested else ""
            report.error("package.no_manifest", "the zip has no imsmanifest.xml (SCORM), cmi5.xml (cmi5) "
                         f"or tincan.xml (xAPI) at its root{hint}")
            return Package(None, report)
        report.warning("package.nested_root", f"the package is inside the folder {prefix!r} of the zip; "
                       "it is imported from there")
        present = [d for d in DESCRIPTORS if prefix + d[0] in names]
    files = [(e.name[len(prefix):], e) for e in z.entries
             if e.name.startswith(prefix) and not e.name.startswith(_JUNK)]
    descriptor, parse = present[0]
    if len(present) > 1:
        report.warning("package.several_descriptors", f"the zip holds {', '.join(d for d, _ in present)}; "
                       f"it is imported as {descriptor}", file=descriptor)
    data = z.read(prefix + descriptor, limits.max_manifest_bytes)
    root = parse_xml(data, descriptor, report)
    model = None
    if root is not None:
        model = parse(root, FileIndex(name for name, _ in files), report)
    return Package(model, report, files, prefix)


def read_standalone_cmi5(data: bytes) -> Package:
    """A cmi5 course structure uploaded as a bare XML file (cmi5 section 14.2)."""
    report = Report()
    root = parse_xml(data, cmi5.STRUCTURE, report)
    model = cmi5.parse(root, None, report) if root is not None else None
    return Package(model, report)


def _nested_root(names) -> str | None:
    """``folder/`` when every entry sits in that one folder and the descriptor is there."""
    tops = {n.split("/", 1)[0] for n in names if not n.startswith(_JUNK)}
    if len(tops) != 1:
        return None
    prefix = tops.pop() + "/"
    if any(prefix + d in names for d, _ in DESCRIPTORS):
        return prefix
    return None
