"""Small SCORM 2004 manifests built in tests, read by the content store's own parser, and played
through scorm-again's real sequencing engine by ``driver.mjs`` under Node."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from content_store.manifests import scorm
from content_store.manifests.files import FileIndex
from content_store.report import Report
from content_store.xmlparse import parse as parse_xml
from player.sequencing import check, settings_for

ROOT = Path(__file__).resolve().parents[3]
DRIVER = Path(__file__).with_name("driver.mjs")
ENGINE = ROOT / "node_modules" / "scorm-again" / "dist" / "esm" / "scorm2004.js"
NS = ('xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" '
      'xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" '
      'xmlns:imsss="http://www.imsglobal.org/xsd/imsss" '
      'xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3" '
      'xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3"')


def node_or_skip() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the sequencing engine (scorm-again) runs under Node")
    if not ENGINE.exists():
        pytest.skip("node_modules/scorm-again is missing: run `npm ci`")
    return node


def item(ident: str, body: str = "", *, children: str = "", title: str | None = None,
         leaf: bool | None = None, attrs: str = "") -> str:
    """An <item>: a leaf (launches the SCO) unless it has children."""
    leaf = (not children) if leaf is None else leaf
    ref = ' identifierref="sco"' if leaf else ""
    return (f'<item identifier="{ident}"{ref}{(" " + attrs) if attrs else ""}>'
            f'<title>{title or ident}</title>{children}{body}</item>')


def seq(body: str = "", attrs: str = "") -> str:
    return f'<imsss:sequencing{(" " + attrs) if attrs else ""}>{body}</imsss:sequencing>'


def flow(choice: bool = True, extra: str = "") -> str:
    return f'<imsss:controlMode choice="{str(choice).lower()}" flow="true" {extra}/>'


def manifest(items: str, org_seq: str = "", *, collection: str = "", edition: str = "2004 4th Edition",
             org_attrs: str = "") -> str:
    return f"""<?xml version="1.0"?>
<manifest identifier="test.course" version="1" {NS}>
  <metadata><schema>ADL SCORM</schema><schemaversion>{edition}</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org"{(" " + org_attrs) if org_attrs else ""}><title>Course</title>
      {items}
      {org_seq}
    </organization>
  </organizations>
  <resources>
    <resource identifier="sco" type="webcontent" adlcp:scormType="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
  {collection}
</manifest>"""


def structure(xml: str) -> dict:
    report = Report()
    root = parse_xml(xml.encode(), "imsmanifest.xml", report)
    model = scorm.parse(root, FileIndex(["index.html"]), report)
    assert report.ok, report.to_text()
    return model


def settings(xml: str) -> dict:
    return settings_for(structure(xml))


def warnings(xml: str) -> list[dict]:
    return check(structure(xml))


def run(settings_or_xml, steps: list[dict], *, state: list[str] | None = None, seed: int | None = None,
        timeout: float = 30, **extra) -> dict:
    """The driver's report for these steps (see driver.mjs)."""
    node = node_or_skip()
    settings_obj = settings(settings_or_xml) if isinstance(settings_or_xml, str) else settings_or_xml
    script = {"settings": settings_obj, "steps": steps}
    if state:
        script["state"] = state
    if seed is not None:
        script["seed"] = seed
    script.update(extra)  # globals, sequencing_state, save_state (see driver.mjs)
    done = subprocess.run([node, str(DRIVER)], input=json.dumps(script), capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def sco(nav: str | None = None, **values) -> dict:
    """A SCO step: set these cmi values (``completion_status="completed"`` -> cmi.completion_status),
    then request ``nav`` and Terminate."""
    step: dict = {"set": [[k if k.startswith(("cmi.", "adl.")) else "cmi." + k, v] for k, v in values.items()]}
    if nav:
        step["nav"] = nav
    return {"sco": step}


def passed(nav: str | None = "continue", score: float | None = None) -> dict:
    values = {"completion_status": "completed", "success_status": "passed"}
    if score is not None:
        values["score.scaled"] = score
    return sco(nav, **values)


def failed(nav: str | None = "continue", score: float | None = None) -> dict:
    values = {"completion_status": "completed", "success_status": "failed"}
    if score is not None:
        values["score.scaled"] = score
    return sco(nav, **values)


def completed(nav: str | None = "continue") -> dict:
    return sco(nav, completion_status="completed")
