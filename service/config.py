"""Settings, read once from environment variables that all start with ``LRS_``.

Every setting is listed here with its default; the README and ``lrs --help``
print this same table (``describe()``), so the three never disagree.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("./var")
    mongodb_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""
    max_request_bytes: int = 50 * 1024 * 1024
    max_batch_statements: int = 1000
    max_query_limit: int = 100
    read_timeout_seconds: float = 10.0
    log_json: bool = False
    log_level: str = "info"
    package_max_upload_bytes: int = 1024 * 1024 * 1024
    package_max_uncompressed_bytes: int = 2048 * 1024 * 1024
    package_max_files: int = 5000
    package_max_ratio: int = 200

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get("LRS_" + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.type, raw, f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


HELP = {
    "data_dir": "folder that holds the embedded store and uploaded content",
    "mongodb_url": "MongoDB connection URL (mongodb://host/db); when set the LRS keeps its data there, "
                   "not in the embedded store",
    "host": "address `lrs serve` listens on",
    "port": "port `lrs serve` listens on",
    "public_url": "base URL of this service as clients reach it (shown on first run); default http://HOST:PORT",
    "max_request_bytes": "largest request body accepted; larger gets 413",
    "max_batch_statements": "most statements in one POST; more gets 413",
    "max_query_limit": "most statements one GET returns per page",
    "read_timeout_seconds": "longest a store read may take, waiting for a connection included; "
                            "past it the request gets 503 with Retry-After",
    "log_json": "write logs as JSON lines (true/false)",
    "log_level": "debug, info, warning or error",
    "package_max_upload_bytes": "largest package zip accepted; larger gets 413",
    "package_max_uncompressed_bytes": "most bytes a package's files may add up to once extracted",
    "package_max_files": "most entries a package zip may hold",
    "package_max_ratio": "most a file over 1 MiB may expand when unzipped (zip bomb guard)",
}


def describe() -> str:
    """The settings table as text, for ``--help``."""
    lines = ["environment variables (default):"]
    for f in fields(Settings):
        lines.append(f"  LRS_{f.name.upper():<24} {HELP[f.name]} ({f.default})")
    return "\n".join(lines)


def _parse(kind, raw: str, name: str):
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"LRS_{name.upper()} must be true or false, not {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"LRS_{name.upper()} must be an integer, not {raw!r}") from None
    if kind == "float":
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            raise ValueError(f"LRS_{name.upper()} must be a positive number, not {raw!r}")
        return value
    if kind == "Path":
        return Path(raw)
    return raw
