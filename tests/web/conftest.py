"""Fixtures of the web tests: the account store on each backend."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request) -> str:
    """The MongoDB URL of a fresh database for the mongo adapter, "" for the embedded store."""
    return fresh_mongodb_url() if request.param == "mongo" else ""
