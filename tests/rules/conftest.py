"""Fixtures of the rules tests: a hand-moved clock, and the store on each backend."""
from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402


class Clock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None):
        self.now = start or datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1.0) -> None:
        self.now += timedelta(seconds=seconds)

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request) -> str:
    """The MongoDB URL of a fresh database for the mongo adapters, "" for the embedded stores."""
    return fresh_mongodb_url() if request.param == "mongo" else ""
