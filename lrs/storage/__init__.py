"""Storage: the ports (ports.py) and their adapters; ``open_store`` picks one from configuration."""
from __future__ import annotations

from pathlib import Path

from .ports import READ_TIMEOUT, Conflict, Document, NewStatement, StatementQuery, StoreBusy  # noqa: F401


def open_store(data_dir: Path | str, mongodb_url: str = "", serving: bool = False,
               read_timeout: float = READ_TIMEOUT):
    """The mongo adapter when a MongoDB URL is configured, else the embedded SQLite store in ``data_dir``
    (``serving``: for the server, which writes Statements from a writer process). ``read_timeout``:
    the seconds a read may take, waiting for a connection included, before it raises StoreBusy."""
    if mongodb_url:
        from .mongo import MongoStore

        return MongoStore(mongodb_url, read_timeout=read_timeout)
    from .sqlite import SqliteStore

    return SqliteStore(Path(data_dir) / "lrs.sqlite3", writer_process=serving, read_timeout=read_timeout)
