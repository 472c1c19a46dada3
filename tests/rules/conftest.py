"""Fixtures of the rules tests: a hand-moved clock, and the store on each backend."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402
from rules_kit import Clock  # noqa: E402


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request) -> str:
    """The MongoDB URL of a fresh database for the mongo adapters, "" for the embedded stores."""
    return fresh_mongodb_url() if request.param == "mongo" else ""
