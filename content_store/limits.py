"""The limits an upload must stay within; each one answers a way to hurt the server."""
from __future__ import annotations

from dataclasses import dataclass, fields

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Limits on one package import.

    ``max_upload_bytes`` bounds the zip itself, ``max_uncompressed_bytes`` the sum of its
    files once extracted, ``max_files`` the number of entries, and ``max_ratio`` how much
    the package may expand (uncompressed / compressed size): each entry larger than
    ``ratio_floor_bytes``, and all entries together once they add up to more than
    ``archive_ratio_floor_bytes`` (so many small files cannot add up to a bomb either).
    So no package expands more than ``max_ratio`` times beyond its first MiB, however its
    bytes are split into files. The floors exist because tiny files compress absurdly well;
    real packages expand 1-3 times overall and at most ~10 times a file (shared/fixtures).
    """

    max_upload_bytes: int = 1024 * MiB
    max_uncompressed_bytes: int = 2048 * MiB
    max_files: int = 5000
    max_ratio: int = 200
    ratio_floor_bytes: int = 1 * MiB
    archive_ratio_floor_bytes: int = 1 * MiB
    max_manifest_bytes: int = 16 * MiB

    @classmethod
    def from_settings(cls, settings: object) -> "Limits":
        """Read ``package_<name>`` attributes from a settings object, where present."""
        values = {}
        for f in fields(cls):
            value = getattr(settings, "package_" + f.name, None)
            if value is not None:
                values[f.name] = value
        return cls(**values)
