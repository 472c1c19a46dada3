from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from content_store.store import ContentStore
from cs_helpers import make_client


@pytest.fixture
def packages_dir(shared_dir: Path) -> Path:
    folder = shared_dir / "fixtures" / "packages"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent")
    return folder


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    return tmp_path / "content"


@pytest.fixture
def store(content_root: Path):
    s = ContentStore(content_root)
    yield s
    s.close()


@pytest.fixture
def client(store: ContentStore) -> TestClient:
    return make_client(store)
