"""IMS Simple Sequencing and ADL sequencing/navigation elements, kept whole.

A SCORM 2004 sequencing engine needs every rule, condition, objective map and control
of the manifest, in document order. Rather than pick out the parts one engine uses
today, each ``imsss:sequencing`` (and ``adlnav:presentation``) element is turned into
plain JSON that mirrors the XML: element and attribute names as the specifications
spell them (``controlMode``, ``preConditionRule``, ``minNormalizedMeasure``...),
elements that may repeat as lists in document order, ``true``/``false`` as booleans,
numeric attributes as numbers. Elements from ADL namespaces keep their prefix
(``adlseq:objectives`` sits beside ``objectives``), so nothing collides and nothing is
dropped.
"""
from __future__ import annotations

from lxml import etree

IMSSS = "http://www.imsglobal.org/xsd/imsss"
ADLSEQ = "http://www.adlnet.org/xsd/adlseq_v1p3"
ADLNAV = "http://www.adlnet.org/xsd/adlnav_v1p3"
_PREFIX = {IMSSS: "", ADLSEQ: "adlseq:", ADLNAV: "adlnav:"}

# Elements that may occur more than once under their parent (IMS SS 1.0, ADL SN 4th ed.).
REPEATING = {
    "preConditionRule", "exitConditionRule", "postConditionRule", "ruleCondition",
    "rollupRule", "rollupCondition", "objective", "mapInfo", "auxiliaryResource",
    "adlseq:objective", "adlseq:mapInfo", "adlnav:hideLMSUI", "sequencing",
}
_INTEGER = {"attemptLimit", "minimumCount", "selectCount"}
_DECIMAL = {"minNormalizedMeasure", "measureThreshold", "minimumPercent", "objectiveMeasureWeight",
            "minProgressMeasure", "progressWeight"}


def _key(name: str) -> str:
    qname = etree.QName(name)
    if qname.namespace is None:
        return qname.localname
    prefix = _PREFIX.get(qname.namespace)
    if prefix is None:
        return "{%s}%s" % (qname.namespace, qname.localname)
    return prefix + qname.localname


def _value(key: str, raw: str):
    raw = raw.strip()
    bare = key.split(":")[-1]
    if raw in ("true", "false"):
        return raw == "true"
    try:
        if bare in _INTEGER:
            return int(raw)
        if bare in _DECIMAL:
            return float(raw)
    except ValueError:
        return raw
    return raw


def to_json(el: etree._Element):
    """The element as JSON (see module doc): a dict, or a scalar for a text-only element."""
    out: dict = {}
    for name, raw in el.attrib.items():
        key = _key(name)
        if key.startswith("{"):  # xsi:schemaLocation and the like
            continue
        out[key] = _value(key, raw)
    children = [c for c in el if isinstance(c.tag, str)]
    key_self = _key(el.tag)
    text = (el.text or "").strip()
    if not children and text:
        value = _value(key_self, text)
        if not out:
            return value
        out["value"] = value
    for child in children:
        key = _key(child.tag)
        value = to_json(child)
        if key in REPEATING:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    return out


def objectives(seq: dict | None) -> list[dict]:
    """The learning objectives a sequencing element declares, primary first, in a flat form
    the runtime can initialise ``cmi.objectives`` from."""
    if not seq or not isinstance(seq.get("objectives"), dict):
        return []
    block = seq["objectives"]
    found = []
    primary = block.get("primaryObjective")
    for obj, is_primary in [(primary, True)] + [(o, False) for o in block.get("objective", [])]:
        if not isinstance(obj, dict):
            continue
        item = {"id": obj.get("objectiveID"), "primary": is_primary,
                "satisfied_by_measure": obj.get("satisfiedByMeasure", False)}
        if "minNormalizedMeasure" in obj:
            item["min_normalized_measure"] = obj["minNormalizedMeasure"]
        if obj.get("mapInfo"):
            item["map_info"] = obj["mapInfo"]
        found.append({k: v for k, v in item.items() if v is not None})
    return found
