"""Serving a version's files: types, validators, caching, ranges, and no way out."""
from __future__ import annotations

import asyncio
import os

import pytest

from cs_helpers import scorm12_zip, upload

MEDIA = os.urandom(100_000)


@pytest.fixture
def files_url(client):
    data = scorm12_zip(files={"media/clip.mp4": MEDIA, "js/app.js": "var a = 1;", "css/s.css": "a{}",
                              "Images/Logo.PNG": b"\x89PNG....", "data/x.unknownext": b"?"})
    return upload(client, data).json()["version"]["files_url"]


@pytest.mark.parametrize("path, content_type", [
    ("index.html", "text/html"), ("js/app.js", "text/javascript; charset=utf-8"),
    ("css/s.css", "text/css; charset=utf-8"), ("media/clip.mp4", "video/mp4"),
    ("Images/Logo.PNG", "image/png"), ("data/x.unknownext", "application/octet-stream"),
    ("imsmanifest.xml", "application/xml"),
])
def test_content_type_follows_the_extension(client, files_url, path, content_type):
    response = client.get(files_url + path)
    assert response.status_code == 200 and response.headers["content-type"] == content_type


def test_validators_and_caching_headers(client, files_url):
    response = client.get(files_url + "media/clip.mp4")
    assert response.content == MEDIA
    assert response.headers["etag"].startswith('"') and len(response.headers["etag"]) == 66
    assert response.headers["last-modified"].endswith("GMT")
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(len(MEDIA))
    assert response.headers["x-content-type-options"] == "nosniff"


def test_if_none_match_gets_304(client, files_url):
    etag = client.get(files_url + "index.html").headers["etag"]
    again = client.get(files_url + "index.html", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    other = client.get(files_url + "index.html", headers={"if-none-match": '"other"'})
    assert other.status_code == 200


def test_if_modified_since_gets_304(client, files_url):
    modified = client.get(files_url + "index.html").headers["last-modified"]
    assert client.get(files_url + "index.html", headers={"if-modified-since": modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(files_url + "index.html", headers={"if-modified-since": old}).status_code == 200


def test_range_request_gets_206_with_the_slice(client, files_url):
    response = client.get(files_url + "media/clip.mp4", headers={"range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.content == MEDIA[1000:2000]
    assert response.headers["content-range"] == f"bytes 1000-1999/{len(MEDIA)}"
    tail = client.get(files_url + "media/clip.mp4", headers={"range": "bytes=-100"})
    assert tail.content == MEDIA[-100:]


def test_unsatisfiable_range_gets_416(client, files_url):
    response = client.get(files_url + "media/clip.mp4", headers={"range": "bytes=200000-300000"})
    assert response.status_code == 416


def test_head_sends_headers_only(client, files_url):
    response = client.head(files_url + "media/clip.mp4")
    assert response.status_code == 200 and response.content == b""
    assert response.headers["content-length"] == str(len(MEDIA))


def test_path_case_is_forgiven(client, files_url):
    assert client.get(files_url + "images/logo.png").content == b"\x89PNG...."


def test_missing_file_and_unknown_version_are_404(client, files_url):
    assert client.get(files_url + "nothing.html").status_code == 404
    other = files_url.replace("/1/", "/2/")
    assert client.get(other + "index.html").json()["error"]["status"] == 404


def raw_get(app, path: str) -> int:
    """GET ``path`` exactly as given (clients normalise '..' away before sending)."""
    messages = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    asyncio.run(app(scope, receive, send))
    return messages[0]["status"]


@pytest.mark.parametrize("tail", ["../../../content.sqlite3", "../2/index.html",
                                  "media/../index.html", "..%2f..%2fcontent.sqlite3", "/etc/passwd",
                                  "%2e%2e/%2e%2e/content.sqlite3"])
def test_no_way_out_of_the_version(client, files_url, tail):
    status = raw_get(client.app, files_url + tail)
    assert status in (400, 404)
    encoded = client.get(files_url + tail.replace("..", "%2e%2e"))
    assert encoded.status_code in (400, 404)


def test_file_over_one_mib_is_streamed_whole_and_in_ranges(client):
    big = os.urandom(3 * 1024 * 1024 + 17)
    url = upload(client, scorm12_zip(files={"media/long.mp4": big})).json()["version"]["files_url"]
    response = client.get(url + "media/long.mp4")
    assert response.content == big and response.headers["content-length"] == str(len(big))
    assert response.headers["etag"] == client.head(url + "media/long.mp4").headers["etag"]
    part = client.get(url + "media/long.mp4", headers={"range": "bytes=2097152-2097161"})
    assert part.status_code == 206 and part.content == big[2097152:2097162]
