"""The rules' storage: the port (ports.py) and its adapters; ``open_rules_store`` picks one from configuration."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from .ports import (GENESIS, Action, DefinitionVersion, Fact, HistoryEvent, LeaseLost, PersonVersion,  # noqa: F401
                    Publication, Record, RulesStore, Void, utc_now)


def open_rules_store(data_dir: Path | str, mongodb_url: str = "",
                     clock: Callable[[], datetime] = utc_now) -> RulesStore:
    """The mongo adapter when a MongoDB URL is configured (collections ``rules_*`` in the LRS's database),
    else the embedded SQLite store ``rules.sqlite3`` in ``data_dir``."""
    if mongodb_url:
        from .mongo import MongoRulesStore

        return MongoRulesStore(mongodb_url, clock=clock)
    from .sqlite import SqliteRulesStore

    return SqliteRulesStore(Path(data_dir) / "rules.sqlite3", clock=clock)
