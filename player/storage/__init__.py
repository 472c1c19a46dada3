"""The player's storage: the port (ports.py) and its adapters; ``open_player_store`` picks one from configuration."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from .ports import (Applied, Attempt, AttemptEnded, NotFound, OutOfOrder, PlayerStore,  # noqa: F401
                    PlayerStoreError, Registration, RegistrationConflict, SequencingState, utc_now)


def open_player_store(data_dir: Path | str, mongodb_url: str = "",
                      clock: Callable[[], datetime] = utc_now) -> PlayerStore:
    """The mongo adapter when a MongoDB URL is configured (collections ``player_*`` in the LRS's database),
    else the embedded SQLite store ``player.sqlite3`` in ``data_dir``."""
    if mongodb_url:
        from .mongo import MongoPlayerStore

        return MongoPlayerStore(mongodb_url, clock=clock)
    from .sqlite import SqlitePlayerStore

    return SqlitePlayerStore(Path(data_dir) / "player.sqlite3", clock=clock)
