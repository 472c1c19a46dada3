"""cmi5 course structure rules (cmi5 spec sections 13 and 14) and tincan.xml rules."""
from __future__ import annotations

import pytest

from cs_helpers import au, cmi5_xml, rules_of, structure_of, upload, zip_bytes


def cmi5_zip(xml: str, files=None) -> bytes:
    return zip_bytes({"cmi5.xml": xml, "index.html": "<html>au</html>", **(files or {})})


def test_blocks_nest_aus_and_objectives_are_resolved(client):
    objectives = """<objectives><objective id="https://example.com/obj/1">
      <title><langstring lang="en">O</langstring></title><description><langstring lang="en">D</langstring></description>
      </objective></objectives>"""
    inner = '<objectives><objective idref="https://example.com/obj/1"/></objectives>'
    blocks = f"""<block id="https://example.com/block/1">
      <title><langstring lang="en">B</langstring></title><description><langstring lang="en">BD</langstring></description>
      {au("https://example.com/au/1", attrs='moveOn="Passed" masteryScore="0.8" launchMethod="OwnWindow" activityType="http://adlnet.gov/expapi/activities/media"',
          inner=inner + "<launchParameters>Start=1,QuizMode=1</launchParameters><entitlementKey>xyz-123</entitlementKey>")}
      {au("https://example.com/au/2", url="index.html?lang=en")}
    </block>"""
    s = structure_of(upload(client, cmi5_zip(cmi5_xml(blocks, extra=objectives))))
    (block,) = s["cmi5"]["children"]
    assert block["type"] == "block" and block["objectives"] == []
    first, second = block["children"]
    assert first == {"type": "au", "id": "https://example.com/au/1", "title": {"en-US": "AU"},
                     "description": {"en-US": "AU about"}, "objectives": ["https://example.com/obj/1"],
                     "move_on": "Passed", "mastery_score": 0.8, "launch_method": "OwnWindow",
                     "activity_type": "http://adlnet.gov/expapi/activities/media",
                     "launch_parameters": "Start=1,QuizMode=1", "entitlement_key": "xyz-123", "url": "index.html"}
    assert second["move_on"] == "NotApplicable" and second["launch_method"] == "AnyWindow"
    assert [x["launch"] for x in s["launchables"]] == ["index.html", "index.html?lang=en"]
    assert s["cmi5"]["objectives"][0]["id"] == "https://example.com/obj/1"


@pytest.mark.parametrize("course_id", ["not an iri", "course-1", ""])
def test_course_id_must_be_an_iri(client, course_id):
    errors, _ = rules_of(upload(client, cmi5_zip(cmi5_xml(au(), course_id=course_id))))
    assert errors == {"cmi5.id.not_iri"} if course_id else {"cmi5.id.missing"}


def test_au_id_must_be_an_iri(client):
    errors, _ = rules_of(upload(client, cmi5_zip(cmi5_xml(au(id="au-1")))))
    assert errors == {"cmi5.id.not_iri"}


def test_duplicate_ids_are_an_error(client):
    xml = cmi5_xml(au("https://example.com/au/1") + au("https://example.com/au/1"))
    response = upload(client, cmi5_zip(xml))
    assert response.status_code == 400
    assert rules_of(response)[0] == {"cmi5.id.duplicate"}


def test_au_reusing_the_course_id_is_a_duplicate(client):
    errors, _ = rules_of(upload(client, cmi5_zip(cmi5_xml(au("https://example.com/course/1")))))
    assert errors == {"cmi5.id.duplicate"}


def test_relative_url_must_name_a_file_of_the_zip(client):
    errors, _ = rules_of(upload(client, cmi5_zip(cmi5_xml(au(url="missing/start.html")))))
    assert errors == {"cmi5.url.file_missing"}


@pytest.mark.parametrize("url, rule", [("../outside.html", "cmi5.url.outside_package"),
                                       ("/index.html", "cmi5.url.outside_package"),
                                       ("//cdn.example.com/x.html", "cmi5.url.invalid"),
                                       ("index file.html", "cmi5.url.invalid")])
def test_bad_relative_urls_are_errors(client, url, rule):
    errors, _ = rules_of(upload(client, cmi5_zip(cmi5_xml(au(url=url)))))
    assert errors == {rule}


def test_fully_qualified_url_may_point_outside_the_package(client):
    s = structure_of(upload(client, cmi5_zip(cmi5_xml(au(url="https://content.example.com/au1/")))))
    assert s["launchables"][0]["launch"] == "https://content.example.com/au1/"


def test_au_without_url_is_an_error(client):
    xml = cmi5_xml(au()).replace("<url>index.html</url>", "")
    assert rules_of(upload(client, cmi5_zip(xml)))[0] == {"cmi5.url.missing"}


@pytest.mark.parametrize("attrs, rule", [('moveOn="Finished"', "cmi5.moveOn.invalid"),
                                         ('masteryScore="80"', "cmi5.masteryScore.invalid"),
                                         ('masteryScore="0.12345"', "cmi5.masteryScore.invalid"),
                                         ('launchMethod="Popup"', "cmi5.launchMethod.invalid"),
                                         ('activityType="media"', "cmi5.activityType.not_iri")])
def test_au_attribute_values_are_checked(client, attrs, rule):
    assert rules_of(upload(client, cmi5_zip(cmi5_xml(au(attrs=attrs)))))[0] == {rule}


def test_unknown_objective_reference_is_an_error(client):
    inner = '<objectives><objective idref="https://example.com/obj/none"/></objectives>'
    assert rules_of(upload(client, cmi5_zip(cmi5_xml(au(inner=inner)))))[0] == {"cmi5.objective.unknown"}


def test_course_structure_without_au_is_an_error(client):
    assert rules_of(upload(client, cmi5_zip(cmi5_xml(""))))[0] == {"cmi5.au.none"}


def test_standalone_course_structure_with_absolute_urls_is_accepted(client, store):
    xml = cmi5_xml(au(url="https://content.example.com/au1/index.html")).encode()
    response = client.post("/packages", content=xml, headers={"content-type": "application/xml"})
    assert response.status_code == 201
    assert response.json()["version"]["file_count"] == 0


def test_standalone_course_structure_with_relative_url_is_refused(client):
    response = client.post("/packages", content=cmi5_xml(au()).encode(), headers={"content-type": "text/xml"})
    assert response.status_code == 400
    assert rules_of(response)[0] == {"cmi5.url.not_fully_qualified"}


TINCAN = """<?xml version="1.0"?><tincan xmlns="http://projecttincan.com/tincan.xsd"><activities>
  <activity id="{id}" type="http://adlnet.gov/expapi/activities/course">
    <name lang="en">Course</name>{launch}
  </activity>
  <activity id="http://example.com/q1" type="http://adlnet.gov/expapi/activities/cmi.interaction">
    <name lang="en">Question</name>
  </activity></activities></tincan>"""


def test_tincan_launch_activity_is_the_course(client):
    xml = TINCAN.format(id="http://example.com/c", launch='<launch lang="en">story.html</launch>')
    s = structure_of(upload(client, zip_bytes({"tincan.xml": xml, "story.html": "x"})))
    assert s["identifier"] == "http://example.com/c"
    assert len(s["tincan"]["activities"]) == 2 and s["tincan"]["launch_activity"] == "http://example.com/c"


@pytest.mark.parametrize("activity_id, launch, rule", [
    ("http://example.com/c", "", "tincan.launch.missing"),
    ("http://example.com/c", '<launch lang="en">nothere.html</launch>', "tincan.launch.file_missing"),
    ("course", '<launch lang="en">story.html</launch>', "tincan.id.not_iri"),
])
def test_tincan_rules(client, activity_id, launch, rule):
    xml = TINCAN.format(id=activity_id, launch=launch)
    response = upload(client, zip_bytes({"tincan.xml": xml, "story.html": "x"}))
    assert response.status_code == 400
    assert rules_of(response)[0] == {rule}
