"""A service with an admin credential and a course imported through /content, for the launch tests.

The client speaks to both origins, as a browser would: relative URLs go to the main origin
(``MAIN``, port 8080), absolute ones on ``CONTENT`` (port 8081) to the content origin; the service
app picks by the port (service.origins.ByListener). Cookies, as in browsers, do not depend on the port."""
from __future__ import annotations

import base64

from starlette.testclient import TestClient

from lrs.auth import Credentials
from lrs.storage import open_store
from service.app import create_service
from service.config import Settings

ADMIN = {"Authorization": "Basic " + base64.b64encode(b"admin:admin-secret").decode()}
READER = {"Authorization": "Basic " + base64.b64encode(b"reader:reader-secret").decode()}
ALICE = {"objectType": "Agent", "mbox": "mailto:alice@example.com"}
BOB = {"objectType": "Agent", "mbox": "mailto:bob@example.com"}
MAIN = "http://lrs.test:8080"
CONTENT = "http://lrs.test:8081"


def make_credentials(data_dir, mongodb_url: str = "") -> None:
    store = open_store(data_dir, mongodb_url)
    creds = Credentials(store)
    if creds.is_empty():
        creds.create("admin", "admin-secret", ["all"])
        creds.create("reader", "reader-secret", ["statements/read"])
    store.close()


def service(data_dir, mongodb_url: str = "", **settings) -> TestClient:
    """The whole service (both origins) on ``data_dir`` (and the database ``mongodb_url`` names, if any)."""
    make_credentials(data_dir, mongodb_url)
    settings = {"content_origin": CONTENT, "log_level": "warning", **settings}
    return TestClient(create_service(Settings(data_dir=data_dir, mongodb_url=mongodb_url, **settings)),
                      base_url=MAIN)


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
