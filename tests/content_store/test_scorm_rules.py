"""SCORM manifest rules, on manifests written here: each rule named in the report."""
from __future__ import annotations

import pytest

from content_store.manifests.scorm import launch_url, prerequisite_references
from cs_helpers import (ADLCP_2004, CP_2004, manifest_12, rules_of, scorm12_zip, structure_of, upload,
                        zip_bytes)

SEQ = "http://www.imsglobal.org/xsd/imsss"
ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
ADLNAV = "http://www.adlnet.org/xsd/adlnav_v1p3"


def manifest_2004(items: str, resources: str, version="2004 4th Edition", extra="", org_attrs="") -> str:
    return f"""<?xml version="1.0"?>
<manifest identifier="com.example.2004" xmlns="{CP_2004}" xmlns:adlcp="{ADLCP_2004}"
          xmlns:imsss="{SEQ}" xmlns:adlseq="{ADLSEQ}" xmlns:adlnav="{ADLNAV}">
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="org"><organization identifier="org" {org_attrs}><title>T</title>{items}</organization></organizations>
  <resources>{resources}</resources>
  {extra}
</manifest>"""


SCO_2004 = '<resource identifier="r1" type="webcontent" adlcp:scormType="sco" href="index.html"><file href="index.html"/></resource>'


@pytest.mark.parametrize("version, edition", [("1.2", "1.2")])
def test_scorm12_edition_comes_from_schemaversion(client, version, edition):
    assert structure_of(upload(client, scorm12_zip(schemaversion=version)))["edition"] == edition


@pytest.mark.parametrize("version, edition", [("CAM 1.3", "2004 2nd"), ("2004 3rd Edition", "2004 3rd"),
                                              ("2004 4th Edition", "2004 4th")])
def test_scorm2004_edition_comes_from_schemaversion(client, version, edition):
    data = zip_bytes({"imsmanifest.xml": manifest_2004('<item identifier="i1" identifierref="r1"><title>A</title></item>',
                                                       SCO_2004, version), "index.html": "x"})
    assert structure_of(upload(client, data))["edition"] == edition


def test_unknown_schema_version_is_an_error(client):
    response = upload(client, scorm12_zip(schemaversion="1.1"))
    assert response.status_code == 400
    errors, _ = rules_of(response)
    assert errors == {"scorm.schemaversion.unknown"}
    assert "'1.1'" in response.json()["error"]["message"]


def test_missing_schema_version_is_a_warning_and_the_namespace_decides(client):
    manifest = manifest_12().replace("<schemaversion>1.2</schemaversion>", "")
    response = upload(client, zip_bytes({"imsmanifest.xml": manifest, "index.html": "x"}))
    assert structure_of(response)["edition"] == "1.2"
    assert rules_of(response)[1] == {"scorm.schemaversion.missing"}


def test_duplicate_item_identifiers_are_an_error(client):
    orgs = """<organizations default="org"><organization identifier="org"><title>T</title>
      <item identifier="same" identifierref="res_1"><title>A</title></item>
      <item identifier="same" identifierref="res_1"><title>B</title></item></organization></organizations>"""
    errors, _ = rules_of(upload(client, scorm12_zip(organizations=orgs)))
    assert errors == {"scorm.identifier.duplicate"}


def test_duplicate_resource_identifiers_are_an_error(client):
    res = """<resources>
      <resource identifier="res_1" type="webcontent" adlcp:scormtype="sco" href="index.html"/>
      <resource identifier="res_1" type="webcontent" adlcp:scormtype="asset" href="index.html"/></resources>"""
    errors, _ = rules_of(upload(client, scorm12_zip(resources=res)))
    assert errors == {"scorm.identifier.duplicate"}


def test_item_and_resource_sharing_an_identifier_is_only_a_warning(client):
    orgs = """<organizations default="org"><organization identifier="org"><title>T</title>
      <item identifier="res_1" identifierref="res_1"><title>A</title></item></organization></organizations>"""
    response = upload(client, scorm12_zip(organizations=orgs))
    assert response.status_code == 201
    assert rules_of(response)[1] == {"scorm.identifier.duplicate_across"}


def test_default_organization_that_does_not_exist_is_an_error(client):
    orgs = manifest_12().split("<organizations", 1)[1].split("</organizations>")[0]
    orgs = "<organizations" + orgs.replace('default="org"', 'default="nope"') + "</organizations>"
    errors, _ = rules_of(upload(client, scorm12_zip(organizations=orgs)))
    assert errors == {"scorm.organizations.default_unknown"}


def test_package_without_organizations_is_an_error(client):
    errors, _ = rules_of(upload(client, scorm12_zip(organizations="<organizations/>")))
    assert errors == {"scorm.organizations.missing"}


def test_item_refers_to_asset_without_href_is_an_error(client):
    res = """<resources><resource identifier="res_1" type="webcontent" adlcp:scormtype="asset">
      <file href="index.html"/></resource></resources>"""
    errors, _ = rules_of(upload(client, scorm12_zip(resources=res)))
    assert errors == {"scorm.item.nothing_to_launch"}


def test_dependency_on_unknown_resource_is_an_error(client):
    res = """<resources><resource identifier="res_1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <dependency identifierref="ghost"/></resource></resources>"""
    errors, _ = rules_of(upload(client, scorm12_zip(resources=res)))
    assert errors == {"scorm.dependency.unknown"}


def test_invalid_mastery_score_is_an_error(client):
    orgs = """<organizations default="org"><organization identifier="org"><title>T</title>
      <item identifier="i" identifierref="res_1"><title>A</title><adlcp:masteryscore>150</adlcp:masteryscore></item>
      </organization></organizations>"""
    errors, _ = rules_of(upload(client, scorm12_zip(organizations=orgs)))
    assert errors == {"scorm.masteryscore.invalid"}


def test_launch_href_leaving_the_package_is_an_error(client):
    res = """<resources><resource identifier="res_1" type="webcontent" adlcp:scormtype="sco"
      href="../index.html"/></resources>"""
    errors, _ = rules_of(upload(client, scorm12_zip(resources=res)))
    assert errors == {"scorm.file.outside_package"}


def test_absolute_launch_url_is_not_looked_for_in_the_zip(client):
    res = """<resources><resource identifier="res_1" type="webcontent" adlcp:scormtype="sco"
      href="https://cdn.example.com/course/index.html"/></resources>"""
    s = structure_of(upload(client, scorm12_zip(resources=res)))
    assert s["launchables"][0]["launch"] == "https://cdn.example.com/course/index.html"


def test_file_referenced_with_other_case_is_a_warning(client):
    res = """<resources><resource identifier="res_1" type="webcontent" adlcp:scormtype="sco"
      href="Index.HTML"/></resources>"""
    response = upload(client, scorm12_zip(resources=res))
    assert response.status_code == 201
    assert rules_of(response)[1] == {"scorm.file.case_mismatch"}
    assert client.get(response.json()["version"]["files_url"] + "Index.HTML").text == "<html>lesson</html>"


def test_xml_base_prefixes_launch_and_file_paths(client):
    res = """<resources xml:base="content/"><resource identifier="res_1" type="webcontent"
      adlcp:scormtype="sco" xml:base="lesson1" href="start.html?x=1"><file href="start.html"/></resource></resources>"""
    data = scorm12_zip(resources=res, files={"content/lesson1/start.html": "<html>start</html>"})
    s = structure_of(upload(client, data))
    assert s["launchables"][0]["launch"] == "content/lesson1/start.html?x=1"
    assert s["scorm"]["resources"][0]["files"] == ["content/lesson1/start.html"]


@pytest.mark.parametrize("href, parameters, expected", [
    ("a.html", None, "a.html"),
    ("a.html", "?x=1", "a.html?x=1"),
    ("a.html?y=2", "x=1", "a.html?y=2&x=1"),
    ("a.html?y=2", "&x=1", "a.html?y=2&x=1"),
    ("a.html", "#part", "a.html#part"),
    ("a.html#top", "#part", "a.html#top"),
    ("a.html#top", "?x=1", "a.html?x=1#top"),
])
def test_item_parameters_join_the_launch_href_as_the_cam_says(href, parameters, expected):
    assert launch_url(href, parameters) == expected


def test_prerequisite_references_skip_operators_and_statuses():
    assert prerequisite_references("~mod1 & (mod2=passed | mod3)") == ["mod1", "mod2", "mod3"]
    assert prerequisite_references("m1 AND NOT m2 OR m3") == ["m1", "m2", "m3"]


def test_prerequisite_naming_an_unknown_item_is_a_warning(client):
    orgs = """<organizations default="org"><organization identifier="org"><title>T</title>
      <item identifier="i" identifierref="res_1"><title>A</title>
      <adlcp:prerequisites type="aicc_script">ghost</adlcp:prerequisites></item></organization></organizations>"""
    response = upload(client, scorm12_zip(organizations=orgs))
    assert response.status_code == 201
    assert rules_of(response)[1] == {"scorm.prerequisites.unknown_identifier"}


def test_sco_resource_without_scormtype_is_an_asset_with_a_warning(client):
    res = '<resources><resource identifier="res_1" type="webcontent" href="index.html"/></resources>'
    response = upload(client, scorm12_zip(resources=res))
    assert structure_of(response)["launchables"][0]["type"] == "asset"
    assert rules_of(response)[1] == {"scorm.resource.scormtype_missing"}


def test_scorm2004_4th_edition_item_elements_and_sequencing_are_kept(client):
    items = """<item identifier="i1" identifierref="r1"><title>A</title>
      <adlcp:completionThreshold completedByMeasure="true" minProgressMeasure="0.75" progressWeight="2"/>
      <adlcp:timeLimitAction>exit,message</adlcp:timeLimitAction>
      <adlcp:dataFromLMS>launch data</adlcp:dataFromLMS>
      <adlcp:data><adlcp:map targetID="shared.notes" readSharedData="true" writeSharedData="true"/></adlcp:data>
      <imsss:sequencing>
        <imsss:limitConditions attemptLimit="3" attemptAbsoluteDurationLimit="PT1H"/>
        <imsss:rollupRules rollupObjectiveSatisfied="true" objectiveMeasureWeight="0.5">
          <imsss:rollupRule childActivitySet="atLeastCount" minimumCount="2">
            <imsss:rollupConditions conditionCombination="any">
              <imsss:rollupCondition condition="satisfied"/><imsss:rollupCondition operator="not" condition="attempted"/>
            </imsss:rollupConditions>
            <imsss:rollupAction action="satisfied"/>
          </imsss:rollupRule>
        </imsss:rollupRules>
        <imsss:objectives>
          <imsss:primaryObjective objectiveID="p" satisfiedByMeasure="true">
            <imsss:minNormalizedMeasure>0.6</imsss:minNormalizedMeasure>
          </imsss:primaryObjective>
        </imsss:objectives>
        <imsss:randomizationControls randomizationTiming="onEachNewAttempt" selectCount="1"/>
        <adlseq:constrainedChoiceConsiderations preventActivation="true"/>
        <adlseq:objectives><adlseq:objective objectiveID="p">
          <adlseq:mapInfo targetObjectiveID="g1" readRawScore="true" writeRawScore="true"/>
        </adlseq:objective></adlseq:objectives>
      </imsss:sequencing>
      <adlnav:presentation><adlnav:navigationInterface>
        <adlnav:hideLMSUI>continue</adlnav:hideLMSUI><adlnav:hideLMSUI>previous</adlnav:hideLMSUI>
      </adlnav:navigationInterface></adlnav:presentation>
    </item>"""
    data = zip_bytes({"imsmanifest.xml": manifest_2004(items, SCO_2004, org_attrs='adlcp:sharedDataGlobalToSystem="false"'),
                      "index.html": "x"})
    s = structure_of(upload(client, data))
    assert s["edition"] == "2004 4th"
    item = s["scorm"]["organizations"][0]["items"][0]
    assert s["scorm"]["organizations"][0]["shared_data_global_to_system"] is False
    assert item["completion_threshold"] == {"completed_by_measure": True, "min_progress_measure": 0.75,
                                            "progress_weight": 2.0}
    assert item["time_limit_action"] == "exit,message" and item["data_from_lms"] == "launch data"
    assert item["shared_data"] == [{"target_id": "shared.notes", "read": True, "write": True}]
    seq = item["sequencing"]
    assert seq["limitConditions"] == {"attemptLimit": 3, "attemptAbsoluteDurationLimit": "PT1H"}
    rule = seq["rollupRules"]["rollupRule"][0]
    assert rule["minimumCount"] == 2 and rule["rollupAction"] == {"action": "satisfied"}
    assert [c["condition"] for c in rule["rollupConditions"]["rollupCondition"]] == ["satisfied", "attempted"]
    assert seq["randomizationControls"] == {"randomizationTiming": "onEachNewAttempt", "selectCount": 1}
    assert seq["adlseq:constrainedChoiceConsiderations"] == {"preventActivation": True}
    assert seq["adlseq:objectives"]["adlseq:objective"][0]["adlseq:mapInfo"][0]["targetObjectiveID"] == "g1"
    assert item["objectives"] == [{"id": "p", "primary": True, "satisfied_by_measure": True,
                                   "min_normalized_measure": 0.6}]
    assert item["presentation"] == {"adlnav:navigationInterface": {"adlnav:hideLMSUI": ["continue", "previous"]}}


def test_sequencing_idref_to_missing_collection_entry_is_an_error(client):
    items = '<item identifier="i1" identifierref="r1"><title>A</title><imsss:sequencing IDRef="nope"/></item>'
    data = zip_bytes({"imsmanifest.xml": manifest_2004(items, SCO_2004), "index.html": "x"})
    errors, _ = rules_of(upload(client, data))
    assert errors == {"scorm.sequencing.idref_unknown"}


def test_package_zipped_inside_its_folder_is_accepted_with_a_warning(client):
    data = zip_bytes({"mycourse/imsmanifest.xml": manifest_12(), "mycourse/index.html": "<html>hi</html>",
                      "__MACOSX/mycourse/._index.html": "junk"})
    response = upload(client, data)
    assert response.status_code == 201
    assert rules_of(response)[1] == {"package.nested_root"}
    assert client.get(response.json()["version"]["files_url"] + "index.html").text == "<html>hi</html>"


def test_manifest_with_entity_expansion_is_not_expanded(client):
    evil = manifest_12().replace('<?xml version="1.0"?>', '<?xml version="1.0"?>\n<!DOCTYPE manifest ['
                                 '<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    evil = evil.replace("<title>Example</title>", "<title>&b;</title>")
    response = upload(client, zip_bytes({"imsmanifest.xml": evil, "index.html": "x"}))
    assert response.status_code == 201
    assert response.json()["course"]["title"] == "com.example.course"  # &b; left unexpanded
