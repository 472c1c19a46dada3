"""Content store details (issue 9 finding 14): xs:ID whitespace, organizations without a title,
and the zip bomb ratio over small files and the whole archive."""
from __future__ import annotations

import random
import zipfile

from cs_helpers import CP_2004, ADLCP_2004, manifest_12, rules_of, structure_of, upload, zip_bytes

SEQ = "http://www.imsglobal.org/xsd/imsss"


def manifest_2004(items: str, collection: str) -> str:
    return f"""<?xml version="1.0"?>
<manifest identifier="com.example.2004" xmlns="{CP_2004}" xmlns:adlcp="{ADLCP_2004}" xmlns:imsss="{SEQ}">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>T</title>{items}</organization></organizations>
  <resources><resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html">
    <file href="index.html"/></resource></resources>
  {collection}
</manifest>"""


def test_sequencing_id_padded_with_spaces_matches_its_idref(client):
    """Issue 9 finding 14: xs:ID and xs:IDREF collapse whitespace, so ID=" seq_common " in the
    sequencingCollection is the ID an IDRef="seq_common" names (a conformance-suite package does this)."""
    items = '<item identifier="i1" identifierref="r1"><title>A</title><imsss:sequencing IDRef="seq_common"/></item>'
    collection = f"""<imsss:sequencingCollection>
      <imsss:sequencing ID="  seq_common  "><imsss:limitConditions attemptLimit="2"/></imsss:sequencing>
    </imsss:sequencingCollection>"""
    s = structure_of(upload(client, zip_bytes({"imsmanifest.xml": manifest_2004(items, collection), "index.html": "x"})))
    item = s["scorm"]["organizations"][0]["items"][0]
    assert item["sequencing"]["IDRef"] == "seq_common"
    assert s["scorm"]["sequencing_collection"]["seq_common"]["limitConditions"] == {"attemptLimit": 2}


def test_organization_without_title_gets_a_warning(client):
    """Issue 9 finding 14: an organization without <title> is accepted with the warning
    scorm.organization.title_missing, rather than silently titled with the manifest identifier."""
    orgs = """<organizations default="org"><organization identifier="org">
      <item identifier="item_1" identifierref="res_1"><title>Lesson</title></item>
    </organization></organizations>"""
    data = zip_bytes({"imsmanifest.xml": manifest_12(organizations=orgs), "index.html": "x"})
    response = upload(client, data)
    assert response.status_code == 201, response.text
    errors, warnings = rules_of(response)
    assert errors == set() and "scorm.organization.title_missing" in warnings
    issue = next(w for w in response.json()["version"]["report"]["warnings"]
                 if w["rule"] == "scorm.organization.title_missing")
    assert issue["file"] == "imsmanifest.xml" and issue["line"]


def test_many_small_highly_compressed_files_are_refused_as_a_bomb(client):
    """Issue 9 finding 14: the ratio check covers the whole archive, so files under 1 MiB each cannot
    add up to a bomb (300 files of 900 KiB of zeros: a ~300 KiB zip that expands ~900 times)."""
    entries = {"imsmanifest.xml": manifest_12(), "index.html": "x"}
    entries.update({f"pad/{n}.bin": bytes(900 * 1024) for n in range(300)})
    data = zip_bytes(entries)
    assert len(data) < 400 * 1024
    response = upload(client, data)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["report"]["errors"][0]["rule"] == "zip.ratio"


def test_a_package_of_ordinary_small_files_is_accepted(client):
    """Issue 9 finding 14: text-like files that compress 5-20 times stay accepted."""
    rng = random.Random(9)
    words = ["lesson", "safety", "module", "the", "a", "learner", "quiz", "score", "page", "next", "<p>", "</p>"]
    entries = {"imsmanifest.xml": manifest_12(), "index.html": "x"}
    entries.update({f"pages/{n}.html": " ".join(rng.choice(words) for _ in range(4000)) for n in range(60)})
    data = zip_bytes(entries, zipfile.ZIP_DEFLATED)
    assert sum(len(v) for v in entries.values()) > 1024 * 1024  # past the archive floor: the ratio is checked
    assert upload(client, data).status_code == 201
