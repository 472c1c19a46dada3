"""settings_for: the activity tree scorm-again takes, from the stored manifest (no engine needed)."""
from __future__ import annotations

import json

import pytest
from seq_kit import flow, item, manifest, seq, settings, structure, warnings

from player.sequencing import check, global_to_system, settings_for


def test_activity_ids_are_the_organization_and_item_identifiers_in_manifest_order():
    xml = manifest(item("m1", children=item("a") + item("b")) + item("c"))
    tree = settings(xml)["activityTree"]
    assert tree["id"] == "org" and tree["title"] == "Course"
    assert [c["id"] for c in tree["children"]] == ["m1", "c"]
    assert [c["id"] for c in tree["children"][0]["children"]] == ["a", "b"]
    json.dumps(settings(xml))  # JSON-serialisable as it is


def test_control_modes_absent_from_the_manifest_take_the_ims_ss_defaults_not_the_engines():
    controls = settings(manifest(item("a")))["activityTree"]["sequencingControls"]
    # IMS SS: choice and choiceExit true, flow and forwardOnly false (scorm-again defaults flow to true)
    assert (controls["choice"], controls["choiceExit"], controls["flow"], controls["forwardOnly"]) == \
        (True, True, False, False)
    assert controls["tracked"] is True and controls["completionSetByContent"] is False
    assert controls["rollupObjectiveSatisfied"] is True and controls["objectiveMeasureWeight"] == 1.0


def test_sequencing_idref_combines_the_collections_set_with_the_local_one_local_winning():
    collection = """<imsss:sequencingCollection>
      <imsss:sequencing ID="common">
        <imsss:controlMode choice="false" flow="true" forwardOnly="true"/>
        <imsss:limitConditions attemptLimit="2"/>
        <imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>
          <imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
          <imsss:ruleAction action="skip"/></imsss:preConditionRule></imsss:sequencingRules>
      </imsss:sequencing></imsss:sequencingCollection>"""
    local = """<imsss:controlMode forwardOnly="false"/>
      <imsss:sequencingRules><imsss:postConditionRule><imsss:ruleConditions>
        <imsss:ruleCondition condition="always"/></imsss:ruleConditions>
        <imsss:ruleAction action="exitParent"/></imsss:postConditionRule></imsss:sequencingRules>"""
    xml = manifest(item("a", seq(local, 'IDRef="common"')) + item("b", seq("", 'IDRef="common"')),
                   collection=collection)
    a, b = settings(xml)["activityTree"]["children"]
    assert a["attemptLimit"] == 2 and b["attemptLimit"] == 2
    assert a["sequencingControls"]["choice"] is False and a["sequencingControls"]["forwardOnly"] is False
    assert b["sequencingControls"]["choice"] is False and b["sequencingControls"]["forwardOnly"] is True
    # the collection's skip rule and the local exitParent rule both apply to a
    assert [r["action"] for r in a["sequencingRules"]["preConditionRules"]] == ["skip"]
    assert [r["action"] for r in a["sequencingRules"]["postConditionRules"]] == ["exitParent"]
    assert "postConditionRules" not in b["sequencingRules"]


def test_rules_objectives_and_rollup_are_carried_in_the_engines_vocabulary():
    body = """
      <imsss:sequencingRules>
        <imsss:preConditionRule><imsss:ruleConditions conditionCombination="any">
          <imsss:ruleCondition condition="objectiveMeasureGreaterThan" measureThreshold="0.5"
            referencedObjective="obj2" operator="not"/></imsss:ruleConditions>
          <imsss:ruleAction action="skip"/></imsss:preConditionRule>
      </imsss:sequencingRules>
      <imsss:rollupRules objectiveMeasureWeight="0.5">
        <imsss:rollupRule childActivitySet="atLeastPercent" minimumPercent="0.75">
          <imsss:rollupConditions><imsss:rollupCondition condition="activityProgressKnown"/></imsss:rollupConditions>
          <imsss:rollupAction action="completed"/></imsss:rollupRule>
      </imsss:rollupRules>
      <imsss:objectives>
        <imsss:primaryObjective satisfiedByMeasure="true"><imsss:minNormalizedMeasure>0.8</imsss:minNormalizedMeasure>
        </imsss:primaryObjective>
        <imsss:objective objectiveID="obj2"><imsss:mapInfo targetObjectiveID="g1" writeSatisfiedStatus="true"/>
        </imsss:objective>
      </imsss:objectives>
      <adlseq:objectives><adlseq:objective objectiveID="obj2">
        <adlseq:mapInfo targetObjectiveID="g1" writeRawScore="true"/></adlseq:objective></adlseq:objectives>"""
    a = settings(manifest(item("m", seq(body), children=item("a"))))["activityTree"]["children"][0]
    rule = a["sequencingRules"]["preConditionRules"][0]
    assert rule == {"action": "skip", "conditionCombination": "any", "conditions": [
        {"condition": "objectiveMeasureGreaterThan", "operator": "not", "referencedObjective": "obj2",
         "parameters": {"threshold": 0.5}}]}
    rollup = a["rollupRules"]["rules"][0]
    assert rollup["consideration"] == "atLeastPercent" and rollup["minimumPercent"] == 75.0
    assert rollup["conditions"] == [{"condition": "progressKnown", "operator": "noOp"}]
    assert a["sequencingControls"]["objectiveMeasureWeight"] == 0.5
    assert a["primaryObjective"]["satisfiedByMeasure"] is True
    assert a["primaryObjective"]["minNormalizedMeasure"] == 0.8
    mapping = a["objectives"][0]["mapInfo"][0]
    assert mapping["targetObjectiveID"] == "g1" and mapping["writeSatisfiedStatus"] is True
    assert mapping["readSatisfiedStatus"] is True and mapping["writeRawScore"] is True
    assert mapping["readRawScore"] is True  # adlseq:mapInfo read* default true


def test_an_objective_map_without_adlseq_extension_reads_and_writes_no_score_or_completion():
    body = """<imsss:objectives><imsss:primaryObjective objectiveID="p">
        <imsss:mapInfo targetObjectiveID="g"/></imsss:primaryObjective></imsss:objectives>"""
    mapping = settings(manifest(item("a", seq(body))))["activityTree"]["children"][0]["primaryObjective"]["mapInfo"][0]
    assert mapping["readSatisfiedStatus"] and mapping["readNormalizedMeasure"]
    assert not any(mapping[k] for k in ("readRawScore", "readCompletionStatus", "readProgressMeasure",
                                        "writeRawScore", "writeCompletionStatus"))


def test_hide_lms_ui_comes_from_the_items_presentation():
    pres = """<adlnav:presentation><adlnav:navigationInterface>
        <adlnav:hideLMSUI>continue</adlnav:hideLMSUI><adlnav:hideLMSUI>previous</adlnav:hideLMSUI>
        </adlnav:navigationInterface></adlnav:presentation>"""
    a = settings(manifest(item("a", pres)))["activityTree"]["children"][0]
    assert a["hideLmsUi"] == ["continue", "previous"]


def test_another_organization_is_chosen_by_identifier_and_an_unknown_one_is_refused():
    model = structure(manifest(item("a")))
    assert settings_for(model, "org")["activityTree"]["id"] == "org"
    with pytest.raises(ValueError, match="nope"):
        settings_for(model, "nope")


def test_check_names_the_item_and_element_the_engine_cannot_honour():
    body = """<imsss:rollupRules><imsss:rollupRule>
        <imsss:rollupConditions><imsss:rollupCondition condition="timeLimitExceeded"/></imsss:rollupConditions>
        <imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>
        <imsss:auxiliaryResources/>"""
    found = warnings(manifest(item("m", seq(body), children=item("a"))))
    codes = {w["code"]: w for w in found}
    assert "sequencing.rollup_condition_unsupported" in codes
    assert "item 'm'" in codes["sequencing.rollup_condition_unsupported"]["element"]
    assert "timeLimitExceeded" in codes["sequencing.rollup_condition_unsupported"]["message"]


def test_check_finds_nothing_in_a_plain_flow_course():
    assert check(structure(manifest(item("a") + item("b"), seq(flow())))) == []


def test_global_to_system_defaults_to_true_and_follows_the_organization_attributes():
    assert global_to_system(structure(manifest(item("a")))) == {"objectives": True, "shared_data": True}
    attrs = 'adlseq:objectivesGlobalToSystem="false" adlcp:sharedDataGlobalToSystem="false"'
    assert global_to_system(structure(manifest(item("a"), org_attrs=attrs))) == \
        {"objectives": False, "shared_data": False}


def test_check_warns_of_the_engine_deviations_a_manifest_can_run_into():
    body = """<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions>
        <imsss:ruleCondition condition="always"/></imsss:ruleConditions>
        <imsss:ruleAction action="stopForwardTraversal"/></imsss:preConditionRule></imsss:sequencingRules>
        <imsss:limitConditions attemptAbsoluteDurationLimit="PT1H"/>
        <imsss:deliveryControls tracked="false"/>"""
    found = {w["code"]: w for w in warnings(manifest(item("a", seq(body)) + item("b")))}
    assert set(found) == {"sequencing.stop_forward_traversal_choice", "sequencing.untracked_status_recorded",
                          "sequencing.time_limit_unenforced"}
    assert all(w["element"].startswith("item 'a'") for w in found.values())
