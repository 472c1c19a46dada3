"""Fixtures of the web tests: the account store on each backend."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lrs"))

from lrs_testkit import fresh_mongodb_url  # noqa: E402
from web_kit import client_of, sign_in  # noqa: E402


@pytest.fixture(params=["sqlite", "mongo"])
def backend(request) -> str:
    """The MongoDB URL of a fresh database for the mongo adapter, "" for the embedded store."""
    return fresh_mongodb_url() if request.param == "mongo" else ""


@pytest.fixture
def browser_as(world):
    """``browser_as(username)``: a client of the module's ``world`` signed in as that staff account
    (closed after the test)."""
    made = []

    def make(username: str):
        c = client_of(world)
        assert sign_in(c, username).status_code == 303
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()
