"""Building packages and zips in tests (never copies of third-party fixtures)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

from starlette.testclient import TestClient

from content_store.http import create_app
from content_store.limits import Limits
from content_store.store import ContentStore

CP_12 = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
ADLCP_12 = "http://www.adlnet.org/xsd/adlcp_rootv1p2"
CP_2004 = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP_2004 = "http://www.adlnet.org/xsd/adlcp_v1p3"
CMI5_NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"


def zip_bytes(entries: dict[str, bytes | str], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


def manifest_12(identifier="com.example.course", *, organizations: str | None = None,
                resources: str | None = None, schemaversion="1.2", extra_root="") -> str:
    if organizations is None:
        organizations = """
  <organizations default="org">
    <organization identifier="org">
      <title>Example</title>
      <item identifier="item_1" identifierref="res_1"><title>Lesson</title></item>
    </organization>
  </organizations>"""
    if resources is None:
        resources = """
  <resources>
    <resource identifier="res_1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>"""
    return f"""<?xml version="1.0"?>
<manifest identifier="{identifier}" version="1" xmlns="{CP_12}" xmlns:adlcp="{ADLCP_12}" {extra_root}>
  <metadata><schema>ADL SCORM</schema><schemaversion>{schemaversion}</schemaversion></metadata>
  {organizations}
  {resources}
</manifest>"""


def scorm12_zip(identifier="com.example.course", files: dict | None = None, **manifest) -> bytes:
    entries = {"imsmanifest.xml": manifest_12(identifier, **manifest), "index.html": "<html>lesson</html>"}
    entries.update(files or {})
    return zip_bytes(entries)


def cmi5_xml(aus: str, course_id="https://example.com/course/1", extra="") -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="{CMI5_NS}">
  <course id="{course_id}">
    <title><langstring lang="en-US">Course</langstring></title>
    <description><langstring lang="en-US">About</langstring></description>
  </course>
  {extra}
  {aus}
</courseStructure>"""


def au(id="https://example.com/au/1", url="index.html", attrs="", inner="") -> str:
    return f"""<au id="{id}" {attrs}>
    <title><langstring lang="en-US">AU</langstring></title>
    <description><langstring lang="en-US">AU about</langstring></description>
    {inner}
    <url>{url}</url>
  </au>"""


def write(tmp: Path, name: str, data: bytes) -> Path:
    path = tmp / name
    path.write_bytes(data)
    return path


def make_client(store: ContentStore, limits: Limits | None = None) -> TestClient:
    return TestClient(create_app(store.root, limits=limits, store=store))


def upload(client: TestClient, data: bytes):
    return client.post("/packages", content=data, headers={"content-type": "application/zip"})


def assert_nothing_left(store: ContentStore) -> None:
    """A refused import leaves no temporary file, no blob and no record."""
    assert list(store.tmp.iterdir()) == []
    assert [p for p in store.blobs.rglob("*") if p.is_file()] == []
    assert store.blob_count() == 0
    assert store.courses(include_retired=True) == []


def rules_of(response) -> tuple[set[str], set[str]]:
    """(error rules, warning rules) of an upload response, accepted or refused."""
    body = response.json()
    report = body["error"]["report"] if "error" in body else body["version"]["report"]
    return {e["rule"] for e in report["errors"]}, {w["rule"] for w in report["warnings"]}


def structure_of(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()["version"]["structure"]
