"""The SCORM 2004 activity tree as scorm-again's sequencing engine takes it, built from a stored version.

The content store keeps every ``imsss:sequencing`` element as JSON that mirrors the XML
(``content_store/manifests/sequencing.py``). ``settings_for`` turns one organization of that
structure into the ``sequencing`` settings object of scorm-again 3.4.3's ``Scorm2004API``
(``SequencingSettings`` in its ``dist/types/types/sequencing_types.d.ts``): an ``activityTree``
whose activity ids are the organization and item identifiers.

Everything the manifest leaves out is written with the default of IMS Simple Sequencing /
SCORM 2004 SN, not left to the engine, because the engine's own defaults differ in places
(``flow`` is true in scorm-again, false in IMS SS; an objective's ``minNormalizedMeasure``
is null there, 1.0 in IMS SS; ``minimumPercent`` is 0..100 there, 0..1 in the manifest).
A ``sequencing IDRef`` is resolved here against the manifest's ``sequencingCollection``: the
referenced set combined with the local sequencing, the local value winning where both give one
(IMS SS binding, CAM 4th ed. 5.1.1), so the engine never sees collections. (scorm-again's own
collection support drops every collection rule as soon as the item has a local rule, which
breaks the common "shared skip rule + local post rule" pattern.)

``check`` lists what the engine cannot honour, for the import report.

Pure functions: no I/O.
"""
from __future__ import annotations

from urllib.parse import unquote

# IMS SS ruleCondition@condition values the engine evaluates in sequencing rules.
RULE_CONDITIONS = {
    "satisfied", "objectiveStatusKnown", "objectiveMeasureKnown", "objectiveMeasureGreaterThan",
    "objectiveMeasureLessThan", "completed", "activityProgressKnown", "attempted",
    "attemptLimitExceeded", "timeLimitExceeded", "outsideAvailableTimeRange", "always",
}
PRE_ACTIONS = {"skip", "disabled", "hiddenFromChoice", "stopForwardTraversal"}
POST_ACTIONS = {"exitParent", "exitAll", "retry", "retryAll", "continue", "previous"}
EXIT_ACTIONS = {"exit"}
# rollupCondition@condition (manifest) -> the engine's name. The engine has no rollup condition
# for time limits or the available time range.
ROLLUP_CONDITIONS = {
    "satisfied": "satisfied", "objectiveStatusKnown": "objectiveStatusKnown",
    "objectiveMeasureKnown": "objectiveMeasureKnown", "completed": "completed",
    "activityProgressKnown": "progressKnown", "attempted": "attempted",
    "attemptLimitExceeded": "attemptLimitExceeded", "always": "always",
}
ROLLUP_ACTIONS = {"satisfied", "notSatisfied", "completed", "incomplete"}
CHILD_SETS = {"all", "any", "none", "atLeastCount", "atLeastPercent"}
HIDE_LMS_UI = {"continue", "previous", "exit", "exitAll", "abandon", "abandonAll", "suspendAll"}
REQUIRED_FOR = {"always", "ifAttempted", "ifNotSkipped", "ifNotSuspended"}
TIMINGS = {"never", "once", "onEachNewAttempt"}
# IMS SS defaults of the control elements, by element: (manifest attribute, engine field, default).
CONTROLS = {
    "controlMode": [
        ("choice", "choice", True), ("choiceExit", "choiceExit", True), ("flow", "flow", False),
        ("forwardOnly", "forwardOnly", False),
        ("useCurrentAttemptObjectiveInfo", "useCurrentAttemptObjectiveInfo", True),
        ("useCurrentAttemptProgressInfo", "useCurrentAttemptProgressInfo", True),
    ],
    "adlseq:constrainedChoiceConsiderations": [
        ("preventActivation", "preventActivation", False), ("constrainChoice", "constrainChoice", False),
    ],
    "rollupRules": [
        ("rollupObjectiveSatisfied", "rollupObjectiveSatisfied", True),
        ("rollupProgressCompletion", "rollupProgressCompletion", True),
        ("objectiveMeasureWeight", "objectiveMeasureWeight", 1.0),
    ],
    "deliveryControls": [
        ("tracked", "tracked", True), ("completionSetByContent", "completionSetByContent", False),
        ("objectiveSetByContent", "objectiveSetByContent", False),
    ],
    "randomizationControls": [
        ("selectionTiming", "selectionTiming", "never"), ("randomizationTiming", "randomizationTiming", "never"),
        ("reorderChildren", "randomizeChildren", False),
    ],
}
# adlseq:mapInfo attributes (4th edition), all read* default true and write* false inside one.
ADL_MAP_FIELDS = ("readRawScore", "readMinScore", "readMaxScore", "readCompletionStatus",
                  "readProgressMeasure", "writeRawScore", "writeMinScore", "writeMaxScore",
                  "writeCompletionStatus", "writeProgressMeasure")
# An objective the SCO cannot see: a primary objective without objectiveID still carries
# satisfiedByMeasure; the engine drops objectives without an id and never seeds cmi.objectives
# with a blank one.
UNNAMED_PRIMARY = " "


def objective_id(value) -> str:
    """An objective identifier as the activity knows it: objectiveID and referencedObjective are
    xs:anyURI, whose whitespace collapses, and the same identifier may be written percent-encoded
    ("ob%20j%201" and " ob j 1 " name one objective: ADL test OB-12a). "" when there is none."""
    return " ".join(unquote(value).split()) if isinstance(value, str) else ""


def settings_for(structure: dict, organization: str | None = None) -> dict:
    """The ``sequencing`` settings of scorm-again's Scorm2004API for one organization of a stored
    SCORM 2004 version structure (the default organization when ``organization`` is None).

    Returns ``{"activityTree": <ActivitySettings of the organization>}``; an activity is
    ``{"id", "title", "isVisible", "sequencingControls", "children"?, "sequencingRules"?,
    "rollupRules"?, "rollupConsiderations"?, "attemptLimit"?, "timeLimitDuration"? (the
    manifest's attemptAbsoluteDurationLimit),
    "primaryObjective"?, "objectives"?, "completionThreshold"?, "hideLmsUi"?, "sharedDataMaps"?}``.
    Raises ValueError when the structure has no such organization.
    """
    org = _organization(structure, organization)
    collection = (structure.get("scorm") or {}).get("sequencing_collection") or {}
    edition = structure.get("edition") or ""
    return {"activityTree": _activity(org, collection, edition, is_org=True)}


def global_to_system(structure: dict, organization: str | None = None) -> dict:
    """Whether the organization's global objectives and shared data belong to the learner across
    every course and registration (True, the default of CAM 4th ed.) or to one attempt on this
    course (False): ``{"objectives": bool, "shared_data": bool}``. The player keeps the engine's
    global objective snapshot per learner or per registration accordingly."""
    org = _organization(structure, organization)
    return {"objectives": org.get("objectives_global_to_system", True) is not False,
            "shared_data": org.get("shared_data_global_to_system", True) is not False}


def check(structure: dict) -> list[dict]:
    """Warnings ``{"code", "message", "element"}`` for each sequencing construct of the structure
    that the engine cannot honour; ``element`` names the item and the element within it."""
    found: list[dict] = []
    if structure.get("format") != "scorm2004":
        return found
    collection = (structure.get("scorm") or {}).get("sequencing_collection") or {}
    for org in (structure.get("scorm") or {}).get("organizations") or []:
        _check_node(org, collection, found, is_org=True)
    return found


# -- building -------------------------------------------------------------------------------


def _organization(structure: dict, wanted: str | None) -> dict:
    scorm = structure.get("scorm") or {}
    orgs = scorm.get("organizations") or []
    wanted = wanted or scorm.get("default_organization")
    for org in orgs:
        if wanted is None or org.get("identifier") == wanted:
            return org
    raise ValueError(f"the version has no organization {wanted!r}")


def resolved_sequencing(node: dict, collection: dict) -> dict:
    """The node's sequencing with its IDRef resolved: the collection's set combined with the local
    elements, the local value winning where both give one (an attribute, or a repeating element such
    as ``postConditionRule`` as a whole); what only one of them gives is kept."""
    local = node.get("sequencing") or {}
    ref = local.get("IDRef")
    base = collection.get(ref) if isinstance(ref, str) else None
    merged = _combine(base if isinstance(base, dict) else {}, local)
    merged.pop("ID", None)
    merged.pop("IDRef", None)
    return merged


def _combine(base: dict, local: dict) -> dict:
    out = dict(base)
    for key, value in local.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _combine(out[key], value)
        else:
            out[key] = value
    return out


def _activity(node: dict, collection: dict, edition: str, *, is_org: bool = False) -> dict:
    seq = resolved_sequencing(node, collection)
    ident = node.get("identifier") or ""
    act: dict = {"id": ident, "title": node.get("title") or ident}
    act["isVisible"] = bool(node.get("isvisible", True))
    act["sequencingControls"] = _controls(seq)
    rules = _sequencing_rules(seq.get("sequencingRules"))
    if rules:
        act["sequencingRules"] = rules
    rollup = seq.get("rollupRules") if isinstance(seq.get("rollupRules"), dict) else {}
    rollup_rules = [r for r in (_rollup_rule(r) for r in rollup.get("rollupRule") or []) if r]
    if rollup_rules:
        act["rollupRules"] = {"rules": rollup_rules}
    considerations = _considerations(seq.get("adlseq:rollupConsiderations"))
    if considerations:
        act["rollupConsiderations"] = considerations
    limits = seq.get("limitConditions") if isinstance(seq.get("limitConditions"), dict) else {}
    if isinstance(limits.get("attemptLimit"), int) and limits["attemptLimit"] > 0:
        act["attemptLimit"] = limits["attemptLimit"]
    if isinstance(limits.get("attemptAbsoluteDurationLimit"), str):
        # Given as the engine's timeLimitDuration, which its timeLimitExceeded condition reads: in
        # scorm-again 3.4.3 an attemptAbsoluteDurationLimit makes the activity undeliverable (its
        # attemptAbsoluteDuration getter returns the limit, so the limit check always fails, DB.1.1-3).
        # cmi.max_time_allowed is then the player's to set from the manifest.
        act["timeLimitDuration"] = limits["attemptAbsoluteDurationLimit"]
    primary, others = _objectives(seq)
    if primary:
        act["primaryObjective"] = primary
    if others:
        act["objectives"] = others
    threshold = _threshold(node.get("completion_threshold"), edition)
    if threshold:
        act["completionThreshold"] = threshold
    hide = _hide_lms_ui(node.get("presentation"))
    if hide:
        act["hideLmsUi"] = hide
    shared = [{"targetID": m["target_id"], "readSharedData": bool(m.get("read", True)),
               "writeSharedData": bool(m.get("write", False))}
              for m in node.get("shared_data") or [] if m.get("target_id")]
    if shared:
        act["sharedDataMaps"] = shared
    children = [_activity(child, collection, edition) for child in node.get("items") or []]
    if children:
        act["children"] = children
    return act


def _controls(seq: dict) -> dict:
    out: dict = {}
    for element, fields in CONTROLS.items():
        given = seq.get(element) if isinstance(seq.get(element), dict) else {}
        for attr, key, default in fields:
            value = given.get(attr, default)
            if isinstance(default, bool):
                value = value if isinstance(value, bool) else default
            elif isinstance(default, float):
                value = float(value) if isinstance(value, (int, float)) else default
            else:
                value = value if value in TIMINGS else default
            out[key] = value
    randomization = seq.get("randomizationControls") if isinstance(seq.get("randomizationControls"), dict) else {}
    count = randomization.get("selectCount")
    if isinstance(count, int) and count >= 0 and out["selectionTiming"] != "never":
        out["selectCount"] = count
    elif out["selectionTiming"] != "never":
        out["selectionTiming"] = "never"  # no selectCount: nothing to select (IMS SS 5.1.7)
    return out


def _sequencing_rules(block) -> dict:
    if not isinstance(block, dict):
        return {}
    out: dict = {}
    for xml_key, key in (("preConditionRule", "preConditionRules"), ("exitConditionRule", "exitConditionRules"),
                         ("postConditionRule", "postConditionRules")):
        rules = [r for r in (_rule(r) for r in block.get(xml_key) or []) if r]
        if rules:
            out[key] = rules
    return out


def _rule(rule) -> dict | None:
    if not isinstance(rule, dict):
        return None
    action = (rule.get("ruleAction") or {}).get("action") if isinstance(rule.get("ruleAction"), dict) else None
    conds = rule.get("ruleConditions") if isinstance(rule.get("ruleConditions"), dict) else {}
    conditions = []
    for cond in conds.get("ruleCondition") or []:
        if not isinstance(cond, dict) or cond.get("condition") not in RULE_CONDITIONS:
            continue
        c: dict = {"condition": cond["condition"]}
        if cond.get("operator") == "not":
            c["operator"] = "not"
        if objective_id(cond.get("referencedObjective")):
            c["referencedObjective"] = objective_id(cond["referencedObjective"])
        if isinstance(cond.get("measureThreshold"), (int, float)):
            c["parameters"] = {"threshold": float(cond["measureThreshold"])}
        conditions.append(c)
    if not action or not conditions:
        return None
    combination = conds.get("conditionCombination")
    return {"action": action, "conditionCombination": combination if combination in ("all", "any") else "all",
            "conditions": conditions}


def _rollup_rule(rule) -> dict | None:
    if not isinstance(rule, dict):
        return None
    action = rule.get("rollupAction", {}).get("action") if isinstance(rule.get("rollupAction"), dict) else None
    conds = rule.get("rollupConditions") if isinstance(rule.get("rollupConditions"), dict) else {}
    conditions = []
    for cond in conds.get("rollupCondition") or []:
        if not isinstance(cond, dict) or cond.get("condition") not in ROLLUP_CONDITIONS:
            continue
        c = {"condition": ROLLUP_CONDITIONS[cond["condition"]],
             "operator": "not" if cond.get("operator") == "not" else "noOp"}
        conditions.append(c)
    if action not in ROLLUP_ACTIONS or not conditions:
        return None
    child_set = rule.get("childActivitySet", "all")
    count = rule.get("minimumCount", 0)
    percent = rule.get("minimumPercent", 0.0)
    combination = conds.get("conditionCombination", "any")
    return {"action": action, "consideration": child_set if child_set in CHILD_SETS else "all",
            "minimumCount": count if isinstance(count, int) and count >= 0 else 0,
            "minimumPercent": round(float(percent) * 100, 6) if isinstance(percent, (int, float)) else 0.0,
            "conditionCombination": combination if combination in ("all", "any") else "any",
            "conditions": conditions}


def _considerations(block) -> dict:
    if not isinstance(block, dict):
        return {}
    out: dict = {}
    for key in ("requiredForSatisfied", "requiredForNotSatisfied", "requiredForCompleted",
                "requiredForIncomplete"):
        if block.get(key) in REQUIRED_FOR:
            out[key] = block[key]
    if isinstance(block.get("measureSatisfactionIfActive"), bool):
        out["measureSatisfactionIfActive"] = block["measureSatisfactionIfActive"]
    return out


def _objectives(seq: dict) -> tuple[dict | None, list[dict]]:
    block = seq.get("objectives") if isinstance(seq.get("objectives"), dict) else {}
    adl = seq.get("adlseq:objectives") if isinstance(seq.get("adlseq:objectives"), dict) else {}
    adl_maps: dict[str, list[dict]] = {}
    for obj in adl.get("adlseq:objective") or []:
        if isinstance(obj, dict) and isinstance(obj.get("objectiveID"), str):
            adl_maps.setdefault(objective_id(obj["objectiveID"]), []).extend(
                m for m in obj.get("adlseq:mapInfo") or [] if isinstance(m, dict))

    def convert(obj, is_primary: bool) -> dict | None:
        if not isinstance(obj, dict):
            return None
        ident = objective_id(obj.get("objectiveID"))
        if not ident and not is_primary:
            return None
        by_measure = obj.get("satisfiedByMeasure") is True
        measure = obj.get("minNormalizedMeasure")
        out: dict = {"objectiveID": ident or UNNAMED_PRIMARY, "isPrimary": is_primary,
                     "satisfiedByMeasure": by_measure,
                     "minNormalizedMeasure": float(measure) if isinstance(measure, (int, float)) else 1.0}
        maps: list[dict] = []
        extended = {(m.get("targetObjectiveID") or "").strip(): m for m in adl_maps.get(ident, [])}
        for info in obj.get("mapInfo") or []:
            target = (info.get("targetObjectiveID") or "").strip() if isinstance(info, dict) else ""
            if not target:
                continue
            m = {"targetObjectiveID": target,
                 "readSatisfiedStatus": info.get("readSatisfiedStatus", True) is True,
                 "readNormalizedMeasure": info.get("readNormalizedMeasure", True) is True,
                 "writeSatisfiedStatus": info.get("writeSatisfiedStatus", False) is True,
                 "writeNormalizedMeasure": info.get("writeNormalizedMeasure", False) is True}
            m.update(_adl_map(extended.pop(target, None)))
            maps.append(m)
        for target, info in extended.items():  # 4th ed.: a target only the adlseq map names
            if not target:
                continue
            m = {"targetObjectiveID": target, "readSatisfiedStatus": False, "readNormalizedMeasure": False,
                 "writeSatisfiedStatus": False, "writeNormalizedMeasure": False}
            m.update(_adl_map(info))
            maps.append(m)
        if maps:
            out["mapInfo"] = maps
        return out

    primary = convert(block.get("primaryObjective"), True)
    others = [o for o in (convert(o, False) for o in block.get("objective") or []) if o]
    return primary, others


def _adl_map(info: dict | None) -> dict:
    """The extended map fields: those of an adlseq:mapInfo, or all off without one."""
    out = {}
    for field in ADL_MAP_FIELDS:
        default = field.startswith("read") if info is not None else False
        value = info.get(field, default) if info is not None else False
        out[field] = value is True
    return out


def _threshold(threshold, edition: str) -> dict:
    if not isinstance(threshold, dict):
        return {}
    out: dict = {}
    by_measure = threshold.get("completed_by_measure") is True
    measure = threshold.get("min_progress_measure")
    if not by_measure and isinstance(measure, (int, float)) and not edition.endswith("4th"):
        by_measure = True  # 2nd/3rd edition: the threshold is the element's text and always applies
    if isinstance(measure, (int, float)):
        out["minProgressMeasure"] = float(measure)
    elif by_measure:
        out["minProgressMeasure"] = 1.0
    out["completedByMeasure"] = by_measure
    if isinstance(threshold.get("progress_weight"), (int, float)):
        out["progressWeight"] = float(threshold["progress_weight"])
    return out


def _hide_lms_ui(presentation) -> list[str]:
    if not isinstance(presentation, dict):
        return []
    interface = presentation.get("adlnav:navigationInterface")
    if not isinstance(interface, dict):
        return []
    out: list[str] = []
    for value in interface.get("adlnav:hideLMSUI") or []:
        value = value.get("value") if isinstance(value, dict) else value
        if value in HIDE_LMS_UI and value not in out:
            out.append(value)
    return out


# -- checking -------------------------------------------------------------------------------


def _check_node(node: dict, collection: dict, found: list[dict], *, is_org: bool = False) -> None:
    ident = node.get("identifier") or "?"
    where = f"{'organization' if is_org else 'item'} {ident!r}"
    seq = resolved_sequencing(node, collection)

    def warn(code: str, element: str, message: str) -> None:
        found.append({"code": code, "element": f"{where} {element}".strip(), "message": message})

    ref = (node.get("sequencing") or {}).get("IDRef")
    if isinstance(ref, str) and ref not in collection:
        warn("sequencing.idref_unknown", "<imsss:sequencing IDRef>",
             f"the sequencing of {where} refers to {ref!r}, which is not in the sequencingCollection; "
             "its own elements are used alone")
    rules = seq.get("sequencingRules") if isinstance(seq.get("sequencingRules"), dict) else {}
    for xml_key, allowed in (("preConditionRule", PRE_ACTIONS), ("exitConditionRule", EXIT_ACTIONS),
                             ("postConditionRule", POST_ACTIONS)):
        for n, rule in enumerate(rules.get(xml_key) or [], 1):
            element = f"<imsss:{xml_key}> {n}"
            action = (rule.get("ruleAction") or {}).get("action") if isinstance(rule, dict) and \
                isinstance(rule.get("ruleAction"), dict) else None
            if action not in allowed:
                warn("sequencing.rule_action_unsupported", element,
                     f"the rule action {action!r} is not one the {xml_key} allows "
                     f"({', '.join(sorted(allowed))}); the engine still applies it where it can")
            conds = rule.get("ruleConditions") if isinstance(rule, dict) and \
                isinstance(rule.get("ruleConditions"), dict) else {}
            for cond in conds.get("ruleCondition") or []:
                name = cond.get("condition") if isinstance(cond, dict) else None
                if name not in RULE_CONDITIONS:
                    warn("sequencing.rule_condition_unsupported", element,
                         f"the rule condition {name!r} is unknown; the condition is left out of the rule")
            if not action or not any(isinstance(c, dict) and c.get("condition") in RULE_CONDITIONS
                                     for c in conds.get("ruleCondition") or []):
                warn("sequencing.rule_ignored", element, "the rule has no action or no usable condition; "
                     "it is ignored")
    rollup = seq.get("rollupRules") if isinstance(seq.get("rollupRules"), dict) else {}
    for n, rule in enumerate(rollup.get("rollupRule") or [], 1):
        element = f"<imsss:rollupRule> {n}"
        conds = rule.get("rollupConditions") if isinstance(rule, dict) and \
            isinstance(rule.get("rollupConditions"), dict) else {}
        for cond in conds.get("rollupCondition") or []:
            name = cond.get("condition") if isinstance(cond, dict) else None
            if name not in ROLLUP_CONDITIONS:
                warn("sequencing.rollup_condition_unsupported", element,
                     f"the rollup condition {name!r} is not evaluated by the sequencing engine; "
                     "the condition is left out of the rule")
    for n, rule in enumerate(rules.get("preConditionRule") or [], 1):
        action = (rule.get("ruleAction") or {}).get("action") if isinstance(rule, dict) and \
            isinstance(rule.get("ruleAction"), dict) else None
        if action == "stopForwardTraversal":
            warn("sequencing.stop_forward_traversal_choice", f"<imsss:preConditionRule> {n}",
                 "the engine applies stopForwardTraversal to flow only: a choice of an activity after "
                 "this one is not refused (SN SB.2.4)")
    delivery = seq.get("deliveryControls") if isinstance(seq.get("deliveryControls"), dict) else {}
    if delivery.get("tracked") is False:
        warn("sequencing.untracked_status_recorded", "<imsss:deliveryControls tracked=false>",
             "the engine leaves this activity out of rollup but still records the status its SCO "
             "reports (SN 3.13.1: an untracked activity records none)")
    limits = seq.get("limitConditions") if isinstance(seq.get("limitConditions"), dict) else {}
    if "attemptAbsoluteDurationLimit" in limits:
        warn("sequencing.time_limit_unenforced", "<imsss:limitConditions attemptAbsoluteDurationLimit>",
             "the attempt duration limit is only seen by the timeLimitExceeded rule condition; the "
             "player does not end an attempt when it runs out")
    if "activityAbsoluteDurationLimit" in limits:
        warn("sequencing.limit_unsupported", "<imsss:limitConditions activityAbsoluteDurationLimit>",
             "activityAbsoluteDurationLimit is not part of SCORM 2004 and is ignored")
    if seq.get("auxiliaryResources"):
        warn("sequencing.auxiliary_resources_unsupported", "<imsss:auxiliaryResources>",
             "auxiliary resources are not offered to the learner")
    random = seq.get("randomizationControls") if isinstance(seq.get("randomizationControls"), dict) else {}
    if random.get("selectionTiming") in ("once", "onEachNewAttempt") and "selectCount" not in random:
        warn("sequencing.selection_without_count", "<imsss:randomizationControls>",
             "selectionTiming is set but selectCount is not: no children are selected")
    objectives = seq.get("objectives") if isinstance(seq.get("objectives"), dict) else {}
    ids = set()
    for obj in [objectives.get("primaryObjective")] + list(objectives.get("objective") or []):
        if isinstance(obj, dict) and isinstance(obj.get("objectiveID"), str):
            ids.add(objective_id(obj["objectiveID"]))
    adl = seq.get("adlseq:objectives") if isinstance(seq.get("adlseq:objectives"), dict) else {}
    for obj in adl.get("adlseq:objective") or []:
        oid = objective_id(obj.get("objectiveID")) if isinstance(obj, dict) else ""
        if oid not in ids:
            warn("sequencing.adlseq_objective_unknown", f"<adlseq:objective objectiveID={oid!r}>",
                 "the extended objective map names no objective of this activity; it is ignored")
    for xml_key in ("preConditionRule", "exitConditionRule", "postConditionRule"):
        for rule in rules.get(xml_key) or []:
            conds = rule.get("ruleConditions") if isinstance(rule, dict) and \
                isinstance(rule.get("ruleConditions"), dict) else {}
            for cond in conds.get("ruleCondition") or []:
                ref_obj = cond.get("referencedObjective") if isinstance(cond, dict) else None
                if objective_id(ref_obj) and objective_id(ref_obj) not in ids:
                    warn("sequencing.referenced_objective_unknown", f"<imsss:{xml_key}>",
                         f"the rule condition refers to objective {ref_obj!r}, which this activity "
                         "does not declare; the condition is false")
    pres = node.get("presentation")
    if isinstance(pres, dict):
        interface = pres.get("adlnav:navigationInterface")
        values = interface.get("adlnav:hideLMSUI") if isinstance(interface, dict) else []
        for value in values or []:
            value = value.get("value") if isinstance(value, dict) else value
            if value not in HIDE_LMS_UI:
                warn("sequencing.hide_lms_ui_unknown", "<adlnav:hideLMSUI>",
                     f"{value!r} is not a navigation control that can be hidden; it is ignored")
    for child in node.get("items") or []:
        _check_node(child, collection, found)
