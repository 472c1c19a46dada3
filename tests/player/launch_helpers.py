"""A service with an admin credential and a course imported through /content, for the launch tests."""
from __future__ import annotations

import base64

from starlette.testclient import TestClient

from lrs.auth import Credentials
from lrs.storage import open_store
from service.app import create_app
from service.config import Settings

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin-secret").decode()}
READER = {"Authorization": "Basic " + base64.b64encode(b"reader:reader-secret").decode()}
ALICE = {"objectType": "Agent", "mbox": "mailto:alice@example.com"}
BOB = {"objectType": "Agent", "mbox": "mailto:bob@example.com"}


def make_credentials(data_dir, mongodb_url: str = "") -> None:
    store = open_store(data_dir, mongodb_url)
    creds = Credentials(store)
    if creds.is_empty():
        creds.create("admin", "admin-secret", ["all"])
        creds.create("reader", "reader-secret", ["statements/read"])
    store.close()


def service(data_dir, mongodb_url: str = "", **settings) -> TestClient:
    """The whole service on ``data_dir`` (and the database ``mongodb_url`` names, if any)."""
    make_credentials(data_dir, mongodb_url)
    return TestClient(create_app(Settings(data_dir=data_dir, mongodb_url=mongodb_url, log_level="warning",
                                          **settings)),
                      base_url="http://lrs.test")


def import_package(client: TestClient, data: bytes) -> dict:
    r = client.post("/content/packages", content=data, headers={"content-type": "application/zip", **ADMIN})
    assert r.status_code in (200, 201), r.text
    return r.json()


def launch(client: TestClient, **body):
    return client.post("/player/launches", json=body, headers=ADMIN)


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def player_config(html: str) -> dict:
    """The configuration the launch page hands to runtime.js (its JSON script element)."""
    import json

    start = html.index('<script type="application/json" id="player-config">') + len(
        '<script type="application/json" id="player-config">')
    return json.loads(html[start:html.index("</script>", start)])
