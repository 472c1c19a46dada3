"""Acceptance 1: every real package in ../shared/fixtures/packages imports with the
structure its manifest declares, and every invalid one is refused with its own rule.
(The numbers asserted here were read from each package's manifest.)"""
from __future__ import annotations

import jsonschema
import pytest

from cs_helpers import upload
from schemas import load

VALIDATOR = jsonschema.Draft202012Validator(load("course"))


def import_fixture(client, packages_dir, name):
    response = upload(client, (packages_dir / f"{name}.zip").read_bytes())
    assert response.status_code == 201, response.text
    body = response.json()
    structure = client.get(f"/courses/{body['course']['id']}").json()["version"]["structure"]
    VALIDATOR.validate(structure)
    return body, structure


def launch_of(structure):
    return {x["id"]: x["launch"] for x in structure["launchables"]}


def all_items(items):
    for item in items:
        yield item
        yield from all_items(item["items"])


def items_of(structure):
    return {i["identifier"]: i for org in structure["scorm"]["organizations"] for i in all_items(org["items"])}


def scos(structure):
    return [x for x in structure["launchables"] if x["type"] == "sco"]


def test_scorm12_single_sco_imports_with_its_launch_page(client, packages_dir):
    body, s = import_fixture(client, packages_dir, "RuntimeBasicCalls_SCORM12")
    assert (s["format"], s["edition"]) == ("scorm12", "1.2")
    assert s["identifier"] == "com.scorm.golfsamples.runtime.basicruntime.12"
    assert launch_of(s) == {"item_1": "shared/launchpage.html"}
    assert len(scos(s)) == 1
    assert body["version"]["file_count"] == 44  # 49 zip entries, 5 of them folders
    launch = client.get(body["version"]["files_url"] + "shared/launchpage.html")
    assert launch.status_code == 200 and launch.headers["content-type"] == "text/html"


def test_scorm12_multi_item_package_keeps_aggregations_and_item_parameters(client, packages_dir):
    _, s = import_fixture(client, packages_dir, "ContentPackagingOneFilePerSCO_SCORM12")
    org = s["scorm"]["organizations"][0]
    assert s["scorm"]["default_organization"] == org["identifier"] == "golf_sample_default_org"
    assert [i["identifier"] for i in org["items"]] == ["playing_item", "etiquette_item", "handicapping_item",
                                                       "havingfun_item"]
    assert [len(i["items"]) for i in org["items"]] == [6, 4, 5, 3]
    assert scos(s) == []  # every resource of this package is an asset
    assert len(s["launchables"]) == 18
    launch = launch_of(s)
    assert launch["playing_playing_item"] == "Playing/Playing.html"
    assert launch["playing_quiz_item"] == "shared/assessmenttemplate.html?questions=Playing"
    assert launch["havingfun_quiz_item"] == "shared/assessmenttemplate.html?questions=HavingFun"
    common = next(r for r in s["scorm"]["resources"] if r["identifier"] == "common_files")
    assert common["href"] is None and len(common["files"]) == 7


def test_scorm12_prerequisites_mastery_and_time_limits_are_read(client, packages_dir):
    _, s = import_fixture(client, packages_dir, "PrerequisitesTest_SCORM12")
    assert len(scos(s)) == 4
    items = items_of(s)
    assert items["module1"]["mastery_score"] == 80
    assert items["module1"]["max_time_allowed"] == "02:30:00"
    assert items["module1"]["prerequisites"] == {"type": "aicc_script", "expression": "", "references": []}
    assert items["module2"]["prerequisites"]["expression"] == "module1"
    assert items["module2"]["data_from_lms"] == "custom_data_for_module2"
    assert items["module3"]["prerequisites"]["expression"] == "module1 AND module2"
    assert items["module3"]["time_limit_action"] == "exit,message"
    assert items["module4"]["prerequisites"]["expression"] == "(module1 AND module2) OR module3"
    assert items["module4"]["prerequisites"]["references"] == ["module1", "module2", "module3"]
    assert items["module4"]["mastery_score"] == 90
    assert "mastery_score" not in items["module2"]
    assert launch_of(s)["module3"] == "module3.html"


def test_scorm2004_2nd_edition_single_sco(client, packages_dir):
    _, s = import_fixture(client, packages_dir, "ContentPackagingSingleSCO_SCORM20042ndEdition")
    assert (s["format"], s["edition"]) == ("scorm2004", "2004 2nd")
    assert launch_of(s) == {"item_1": "shared/launchpage.html"}
    assert len(scos(s)) == 1
    assert "sequencing" not in items_of(s)["item_1"]


def test_scorm2004_3rd_edition_objectives_and_control_mode(client, packages_dir):
    _, s = import_fixture(client, packages_dir, "RunTimeAdvancedCalls_SCORM20043rdEdition")
    assert s["edition"] == "2004 3rd"
    assert len(scos(s)) == 1
    org = s["scorm"]["organizations"][0]
    assert org["objectives_global_to_system"] is False
    assert org["sequencing"]["controlMode"] == {"choice": True, "flow": True}
    item = items_of(s)["item_1"]
    assert item["objectives"][0] == {"id": "PRIMARYOBJ", "primary": True, "satisfied_by_measure": True,
                                     "min_normalized_measure": 0.8}
    assert [o["id"] for o in item["objectives"][1:]] == ["obj_etiquette", "obj_handicapping",
                                                         "obj_havingfun", "obj_playing"]
    assert item["sequencing"]["deliveryControls"] == {"completionSetByContent": True,
                                                       "objectiveSetByContent": True}


def test_scorm2004_remediation_sequencing_rules_are_kept_whole(client, packages_dir):
    _, s = import_fixture(client, packages_dir, "SequencingSimpleRemediation_SCORM20043rdEdition")
    assert len(scos(s)) == 8
    launch = launch_of(s)
    assert launch["playing_item"] == "shared/launchpage.html?content=playing"
    assert launch["test_1"] == "shared/launchpage.html?content=assessment1"
    org = s["scorm"]["organizations"][0]
    assert org["sequencing"]["controlMode"] == {"choice": False, "flow": True}
    items = items_of(s)
    wrapper = items["content_wrapper"]
    assert wrapper["isvisible"] is False
    post = wrapper["sequencing"]["sequencingRules"]["postConditionRule"]
    assert [r["ruleAction"]["action"] for r in post] == ["retry", "exitAll"]
    assert post[0]["ruleConditions"] == {"conditionCombination": "any", "ruleCondition": [
        {"operator": "not", "condition": "satisfied"}, {"operator": "not", "condition": "objectiveStatusKnown"}]}
    assert wrapper["sequencing"]["controlMode"] == {"choice": False, "flow": True, "choiceExit": False}
    last = items["test_4"]["sequencing"]
    assert last["IDRef"] == "test_seq_rules"
    assert last["sequencingRules"]["postConditionRule"][0]["ruleAction"] == {"action": "exitParent"}
    assert last["objectives"]["primaryObjective"]["mapInfo"][0]["writeSatisfiedStatus"] is True
    collection = s["scorm"]["sequencing_collection"]
    assert set(collection) == {"content_seq_rules", "test_seq_rules"}
    pre = collection["content_seq_rules"]["sequencingRules"]["preConditionRule"][0]
    assert pre["ruleAction"]["action"] == "skip"
    assert collection["content_seq_rules"]["rollupRules"]["objectiveMeasureWeight"] == 0
    assert collection["test_seq_rules"]["rollupRules"]["objectiveMeasureWeight"] == 1
    assert collection["test_seq_rules"]["adlseq:rollupConsiderations"] == {"requiredForCompleted": "ifNotSkipped"}


def test_cmi5_single_au_package(client, packages_dir):
    body, s = import_fixture(client, packages_dir, "cmi5_single_au_basic_responsive")
    course_id = "https://w3id.org/xapi/cmi5/catapult/lts/course/geology-intro-single-au-basic-responsive"
    assert (s["format"], s["identifier"]) == ("cmi5", course_id)
    (only,) = s["cmi5"]["children"]
    assert only["type"] == "au" and only["id"] == course_id + "/1"
    assert only["move_on"] == "CompletedOrPassed"
    assert only["launch_method"] == "AnyWindow"  # the default
    assert "mastery_score" not in only
    assert only["url"] == "index.html"
    assert launch_of(s) == {course_id + "/1": "index.html"}
    video = client.get(body["version"]["files_url"] + "video/mountains_31175.mp4", headers={"range": "bytes=0-99"})
    assert video.status_code == 206 and video.headers["content-type"] == "video/mp4"


def test_tincan_package(client, packages_dir):
    _, s = import_fixture(client, packages_dir, "xapi_tincan_basic_course")
    assert s["format"] == "tincan"
    assert s["identifier"] == "http://example.com/activities/basic-course"
    assert s["title"] == "Basic xAPI Course"
    assert launch_of(s) == {"http://example.com/activities/basic-course": "index.html"}


@pytest.mark.parametrize("name, rule, element", [
    ("InvalidFileReferences_SCORM12", "scorm.file.missing", "resource[resource_1]"),
    ("InvalidMissingOrgIdentifier_SCORM20043rdEdition", "scorm.organization.identifier_missing", "organization"),
    ("ItemWithNonExistentResourceId_SCORM12", "scorm.item.identifierref_unknown", "item[item_1]"),
    ("MalformedXml_SCORM12", "xml.malformed", ""),
    ("MissingLaunchUrl_SCORM12", "scorm.sco.href_missing", "resource[resource_1]"),
])
def test_invalid_fixture_is_rejected_with_its_rule(client, store, packages_dir, name, rule, element):
    response = upload(client, (packages_dir / f"{name}.zip").read_bytes())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["path"] == "imsmanifest.xml"
    report = error["report"]
    assert report["accepted"] is False
    matching = [e for e in report["errors"] if e["rule"] == rule]
    assert matching, report
    assert matching[0]["file"] == "imsmanifest.xml" and matching[0]["line"] > 0
    assert element in matching[0].get("element", "")
    assert store.courses(include_retired=True) == [] and store.blob_count() == 0


def test_missing_files_are_each_named(client, packages_dir):
    response = upload(client, (packages_dir / "InvalidFileReferences_SCORM12.zip").read_bytes())
    missing = {e["message"].split("(")[1].split(")")[0] for e in response.json()["error"]["report"]["errors"]}
    assert missing == {"'content/nonexistent.html'", "'content/nonexistent.js'", "'content/nonexistent.css'",
                       "'content/nonexistent_asset.html'"}


def test_malformed_xml_names_the_line(client, packages_dir):
    response = upload(client, (packages_dir / "MalformedXml_SCORM12.zip").read_bytes())
    (issue,) = response.json()["error"]["report"]["errors"]
    assert issue["line"] == 27 and "tag mismatch" in issue["message"]
