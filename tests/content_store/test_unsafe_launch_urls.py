"""Launch URLs a browser would run as script or open as content of the player's origin
(issue 9 finding 10): refused in every package format with the rule launch.unsafe_scheme."""
from __future__ import annotations

import pytest

from cs_helpers import au, cmi5_xml, manifest_12, rules_of, structure_of, upload, zip_bytes

UNSAFE = ["javascript:alert(document.cookie)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
          "java&#9;script:alert(1)", "vbscript:msgbox(1)", "file:///etc/passwd"]

TINCAN = """<?xml version="1.0"?><tincan xmlns="http://projecttincan.com/tincan.xsd"><activities>
  <activity id="http://example.com/c" type="http://adlnet.gov/expapi/activities/course">
    <name lang="en">Course</name><launch lang="en">{launch}</launch>
  </activity></activities></tincan>"""


def xml_text(url: str) -> str:
    """The URL as XML text: escaped, except a character reference the case spells on purpose."""
    if "&#" in url:
        return url
    return url.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


def scorm_with_href(href: str) -> bytes:
    resources = f"""<resources>
    <resource identifier="res_1" type="webcontent" adlcp:scormtype="sco" href="{xml_text(href)}">
      <file href="index.html"/>
    </resource></resources>"""
    return zip_bytes({"imsmanifest.xml": manifest_12(resources=resources), "index.html": "x"})


def _refused_with_rule(response, line_expected=True):
    assert response.status_code == 400, response.text
    errors = response.json()["error"]["report"]["errors"]
    unsafe = [e for e in errors if e["rule"] == "launch.unsafe_scheme"]
    assert unsafe, errors
    assert unsafe[0]["file"] and unsafe[0]["element"] and unsafe[0]["line"]
    return unsafe[0]


@pytest.mark.parametrize("url", UNSAFE)
def test_scorm_resource_with_unsafe_launch_scheme_is_refused(client, url):
    """Issue 9 finding 10: a SCORM resource href with a non-http(s) scheme is an error naming the
    manifest, the resource element and its line."""
    issue = _refused_with_rule(upload(client, scorm_with_href(url)))
    assert issue["file"] == "imsmanifest.xml" and "res_1" in issue["message"]


def test_scorm_xml_base_with_unsafe_scheme_is_refused(client):
    """Issue 9 finding 10: the scheme is checked on the launch URL after xml:base is applied."""
    resources = """<resources xml:base="javascript:alert(1)//">
    <resource identifier="res_1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/></resource></resources>"""
    data = zip_bytes({"imsmanifest.xml": manifest_12(resources=resources), "index.html": "x"})
    _refused_with_rule(upload(client, data))


@pytest.mark.parametrize("url", UNSAFE)
def test_cmi5_au_with_unsafe_url_scheme_is_refused(client, url):
    """Issue 9 finding 10: a cmi5 AU url with a non-http(s) scheme is an error naming cmi5.xml and the <url>."""
    data = zip_bytes({"cmi5.xml": cmi5_xml(au(url=xml_text(url))),
                      "index.html": "x"})
    issue = _refused_with_rule(upload(client, data))
    assert issue["file"] == "cmi5.xml" and "url" in issue["element"]


@pytest.mark.parametrize("url", UNSAFE)
def test_tincan_launch_with_unsafe_scheme_is_refused(client, url):
    """Issue 9 finding 10: a tincan.xml <launch> with a non-http(s) scheme is an error naming tincan.xml."""
    xml = TINCAN.format(launch=xml_text(url))
    issue = _refused_with_rule(upload(client, zip_bytes({"tincan.xml": xml, "story.html": "x"})))
    assert issue["file"] == "tincan.xml"


@pytest.mark.parametrize("url", ["index.html", "https://cdn.example.com/course/index.html",
                                 "HTTP://example.com/a.html"])
def test_relative_and_http_launch_urls_are_still_accepted(client, url):
    """Issue 9 finding 10: relative URLs and http(s) absolute ones stay accepted in all three formats."""
    assert upload(client, scorm_with_href(url)).status_code == 201
    structure_of(upload(client, zip_bytes({"cmi5.xml": cmi5_xml(au(url=url), course_id=f"https://e.com/{url}"),
                                          "index.html": "x"})))
    xml = TINCAN.format(launch=url).replace("http://example.com/c", f"http://example.com/c/{url}")
    structure_of(upload(client, zip_bytes({"tincan.xml": xml, "index.html": "x"})))
