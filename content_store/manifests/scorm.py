"""``imsmanifest.xml``: SCORM 1.2 and SCORM 2004 (2nd, 3rd and 4th editions).

Elements are found by namespace, never by prefix: the content packaging namespace is
the root's own, and the ADL namespaces are matched for both SCORM generations, since
tools mix them up. Local names of ADL elements are compared without case
(``dataFromLMS`` and ``datafromlms`` both occur in the field).
"""
from __future__ import annotations

import re

from lxml import etree

from ..report import Report
from ..xmlparse import XML_NS, local, ns, text, where
from . import sequencing
from .files import FileIndex, is_absolute_url, join_base, package_path, unsafe_launch_message, unsafe_scheme

MANIFEST = "imsmanifest.xml"
CP_12 = "http://www.imsproject.org/xsd/imscp_rootv1p1p2"
CP_2004 = "http://www.imsglobal.org/xsd/imscp_v1p1"
ADLCP = {"http://www.adlnet.org/xsd/adlcp_rootv1p2", "http://www.adlnet.org/xsd/adlcp_v1p3"}
ADLSEQ = sequencing.ADLSEQ
ADLNAV = sequencing.ADLNAV
IMSSS = sequencing.IMSSS

# schemaversion text (lower case) -> edition
EDITIONS = {
    "1.2": "1.2",
    "cam 1.3": "2004 2nd",
    "2004 2nd edition": "2004 2nd",
    "2004 3rd edition": "2004 3rd",
    "2004 4th edition": "2004 4th",
}
KNOWN_VERSIONS = "'1.2', 'CAM 1.3', '2004 3rd Edition' or '2004 4th Edition'"
TIME_LIMIT_ACTIONS = {"exit,message", "exit,no message", "continue,message", "continue,no message"}
_TIMESPAN_12 = re.compile(r"^\d{2,4}:\d{2}:\d{2}(\.\d{1,2})?$")
_AICC_WORDS = {"and", "or", "not", "passed", "completed", "browsed", "failed", "incomplete",
               "not attempted", "p", "c", "b", "f", "i", "n"}


def parse(root: etree._Element, files: FileIndex, report: Report) -> dict | None:
    """The course model of a SCORM package, or None when it cannot be built at all."""
    return _Parser(root, files, report).run()


class _Parser:
    def __init__(self, root, files: FileIndex, report: Report) -> None:
        self.root = root
        self.files = files
        self.report = report
        self.cp = ns(root)
        self.resources: dict[str, dict] = {}
        self.collection: dict[str, dict] = {}
        self.launchables: list[dict] = []
        self.activity_ids: dict[str, etree._Element] = {}

    # -- helpers ------------------------------------------------------------------------

    def error(self, rule, message, el=None):
        self.report.error(rule, message, file=MANIFEST, element=where(el) if el is not None else "",
                          line=el.sourceline if el is not None else None)

    def warning(self, rule, message, el=None):
        self.report.warning(rule, message, file=MANIFEST, element=where(el) if el is not None else "",
                            line=el.sourceline if el is not None else None)

    def cp_children(self, el, name):
        return [c for c in el if isinstance(c.tag, str) and ns(c) == self.cp and local(c) == name]

    def cp_child(self, el, name):
        found = self.cp_children(el, name)
        return found[0] if found else None

    @staticmethod
    def adlcp_children(el) -> dict[str, etree._Element]:
        return {local(c).lower(): c for c in el if isinstance(c.tag, str) and ns(c) in ADLCP}

    @staticmethod
    def adlcp_attr(el, name: str) -> str | None:
        for key, value in el.attrib.items():
            q = etree.QName(key)
            if q.namespace in ADLCP and q.localname.lower() == name:
                return value
        return None

    # -- manifest -----------------------------------------------------------------------

    def run(self) -> dict | None:
        root = self.root
        if local(root) != "manifest":
            self.error("xml.wrong_root", f"the root element of {MANIFEST} must be <manifest>, "
                       f"not <{local(root)}>", root)
            return None
        if self.cp not in (CP_12, CP_2004):
            self.warning("scorm.namespace.unknown", f"the manifest namespace {self.cp!r} is neither "
                         f"SCORM 1.2's ({CP_12}) nor SCORM 2004's ({CP_2004})", root)
        edition = self.edition()
        identifier = (root.get("identifier") or "").strip()
        if not identifier:
            self.error("scorm.manifest.identifier_missing",
                       "the <manifest> has no identifier; it names the course across versions", root)
        base = root.get(f"{{{XML_NS}}}base")
        res_el = self.cp_child(root, "resources")
        if res_el is None:
            self.error("scorm.resources.missing", "the manifest has no <resources> element", root)
        else:
            self.read_resources(res_el, base)
        for coll in root.iter(f"{{{IMSSS}}}sequencingCollection"):
            for seq in coll.iter(f"{{{IMSSS}}}sequencing"):
                seq_id = (seq.get("ID") or "").strip()  # xs:ID collapses whitespace, as IDRef does
                if not seq_id:
                    self.error("scorm.sequencing.id_missing", "a <sequencing> in the "
                               "<sequencingCollection> has no ID", seq)
                elif seq_id in self.collection:
                    self.error("scorm.identifier.duplicate", f"the sequencing ID {seq_id!r} is used "
                               "twice in the <sequencingCollection>", seq)
                else:
                    self.collection[seq_id] = sequencing.to_json(seq)
        for nested in root.iter(f"{{{self.cp}}}manifest"):
            if nested is not root:
                self.warning("scorm.submanifest.unsupported", "sub-manifests are ignored; items "
                             "that refer to them cannot be launched", nested)
        orgs = self.read_organizations()
        for other in self.resources:
            if other in self.activity_ids:
                self.warning("scorm.identifier.duplicate_across",
                             f"the identifier {other!r} names both an item and a resource",
                             self.activity_ids[other])
        default = orgs["default"]
        chosen = [o for o in orgs["organizations"] if o.get("identifier") == default]
        chosen = chosen or orgs["organizations"][:1]
        title = chosen[0].get("title") if chosen else None
        return {
            "format": "scorm12" if edition == "1.2" else "scorm2004",
            "edition": edition,
            "identifier": identifier,
            "version": root.get("version"),
            "title": title or identifier,
            "launchables": self.launchables,
            "scorm": {
                "default_organization": default,
                "organizations": orgs["organizations"],
                "resources": list(self.resources.values()),
                "sequencing_collection": self.collection,
            },
        }

    def edition(self) -> str:
        metadata = self.cp_child(self.root, "metadata")
        version_el = self.cp_child(metadata, "schemaversion") if metadata is not None else None
        raw = text(version_el)
        if raw is None:
            guess = "1.2" if self.cp == CP_12 else "2004 3rd"
            self.warning("scorm.schemaversion.missing", f"the manifest has no <metadata><schemaversion>; "
                         f"taken as SCORM {guess} from its namespace", metadata if metadata is not None
                         else self.root)
            return guess
        edition = EDITIONS.get(raw.lower())
        if edition is None:
            self.error("scorm.schemaversion.unknown", f"schemaversion {raw!r} is not a SCORM version "
                       f"this service knows; use {KNOWN_VERSIONS}", version_el)
            return "1.2" if self.cp == CP_12 else "2004 3rd"
        if (edition == "1.2") != (self.cp == CP_12) and self.cp in (CP_12, CP_2004):
            self.warning("scorm.schemaversion.namespace_mismatch", f"schemaversion {raw!r} does not "
                         f"match the manifest namespace {self.cp}", version_el)
        return edition

    # -- resources ----------------------------------------------------------------------

    def read_resources(self, res_el, manifest_base) -> None:
        resources_base = res_el.get(f"{{{XML_NS}}}base")
        for el in self.cp_children(res_el, "resource"):
            ident = (el.get("identifier") or "").strip()
            if not ident:
                self.error("scorm.resource.identifier_missing", "a <resource> has no identifier", el)
                continue
            if ident in self.resources:
                self.error("scorm.identifier.duplicate", f"the resource identifier {ident!r} is used "
                           "more than once", el)
                continue
            bases = [manifest_base, resources_base, el.get(f"{{{XML_NS}}}base")]
            raw_type = self.adlcp_attr(el, "scormtype")
            scorm_type = (raw_type or "asset").strip().lower()
            if raw_type is None:
                self.warning("scorm.resource.scormtype_missing", f"the resource {ident!r} has no "
                             "adlcp:scormType; it is taken as an asset (no runtime API)", el)
            elif scorm_type not in ("sco", "asset"):
                self.error("scorm.resource.scormtype_invalid", f"adlcp:scormType {raw_type!r} of the "
                           f"resource {ident!r} must be 'sco' or 'asset'", el)
            href = (el.get("href") or "").strip() or None
            launch = join_base(bases, href) if href else None
            resource = {"identifier": ident, "type": el.get("type"), "scorm_type": scorm_type,
                        "href": href, "launch": launch,
                        "files": [], "dependencies": []}
            if scorm_type == "sco" and not href:
                self.error("scorm.sco.href_missing", f"the SCO resource {ident!r} has no href: a SCO "
                           "must name the file the player launches", el)
            scheme = unsafe_scheme(launch) if launch else None
            if scheme:
                self.error("launch.unsafe_scheme", f"resource {ident!r}: {unsafe_launch_message(launch, scheme)}", el)
            elif launch:
                self.check_file(launch, el, f"the launch file of resource {ident!r}")
            for file_el in self.cp_children(el, "file"):
                file_href = (file_el.get("href") or "").strip()
                if not file_href:
                    self.error("scorm.file.href_missing", f"a <file> of resource {ident!r} has no href",
                               file_el)
                    continue
                path = join_base(bases, file_href)
                resource["files"].append(path)
                if path != launch:
                    self.check_file(path, file_el, f"a file of resource {ident!r}")
            for dep in self.cp_children(el, "dependency"):
                resource["dependencies"].append((dep.get("identifierref") or "").strip())
            resource["_el"] = el
            self.resources[ident] = resource
        for ident, resource in self.resources.items():
            el = resource.pop("_el")
            for dep in resource["dependencies"]:
                if dep not in self.resources:
                    self.error("scorm.dependency.unknown", f"the resource {ident!r} depends on "
                               f"{dep!r}, which is not a resource of this manifest", el)

    def check_file(self, href: str, el, what: str) -> None:
        if is_absolute_url(href):
            return
        path = package_path(href)
        if path is None:
            self.error("scorm.file.outside_package", f"{what} ({href!r}) points outside the package", el)
            return
        found, exact = self.files.find(path)
        if found is None:
            self.error("scorm.file.missing", f"{what} ({path!r}) is not in the zip; add it to the "
                       "package or remove the reference", el)
        elif not exact:
            self.warning("scorm.file.case_mismatch", f"{what} is referenced as {path!r} but stored as "
                         f"{found!r}; it is served either way, but fix the case for other systems", el)

    # -- organizations ------------------------------------------------------------------

    def read_organizations(self) -> dict:
        orgs_el = self.cp_child(self.root, "organizations")
        out: list[dict] = []
        if orgs_el is None or not self.cp_children(orgs_el, "organization"):
            self.error("scorm.organizations.missing", "the manifest has no <organization>: there is "
                       "nothing a learner could launch", orgs_el if orgs_el is not None else self.root)
            return {"default": None, "organizations": out}
        for org_el in self.cp_children(orgs_el, "organization"):
            ident = (org_el.get("identifier") or "").strip()
            if not ident:
                self.error("scorm.organization.identifier_missing", "an <organization> has no identifier "
                           "attribute; every organization needs one", org_el)
            else:
                self.note_activity(ident, org_el)
            org = {"identifier": ident or None, "title": text(self.cp_child(org_el, "title")),
                   "structure": org_el.get("structure")}
            if org["title"] is None:
                self.warning("scorm.organization.title_missing", f"the organization {ident!r} has no <title>; "
                             "the course is shown under the manifest identifier instead", org_el)
            for attr in ("objectivesGlobalToSystem",):
                value = org_el.get(f"{{{ADLSEQ}}}{attr}")
                if value is not None:
                    org["objectives_global_to_system"] = value.strip() == "true"
            shared = self.adlcp_attr(org_el, "shareddataglobaltosystem")
            if shared is not None:
                org["shared_data_global_to_system"] = shared.strip() == "true"
            seq_el = org_el.find(f"{{{IMSSS}}}sequencing")
            if seq_el is not None:
                org["sequencing"] = self.read_sequencing(seq_el)
            org["items"] = [self.read_item(i, ident) for i in self.cp_children(org_el, "item")]
            if not org["items"]:
                self.error("scorm.organization.empty", f"the organization {ident!r} has no <item>", org_el)
            out.append({k: v for k, v in org.items() if v is not None})
        default = (orgs_el.get("default") or "").strip() or None
        idents = [o.get("identifier") for o in out]
        if default is None:
            default = idents[0]
            if len(out) > 1:
                self.warning("scorm.organizations.default_missing", "<organizations> has no default; "
                             "the first organization is used", orgs_el)
        elif default not in idents:
            self.error("scorm.organizations.default_unknown", f"<organizations default={default!r}> names "
                       "no organization of this manifest", orgs_el)
        self.check_prerequisites(out)
        return {"default": default, "organizations": out}

    def note_activity(self, ident: str, el) -> None:
        if ident in self.activity_ids:
            self.error("scorm.identifier.duplicate", f"the identifier {ident!r} is used by more than one "
                       "organization or item", el)
        else:
            self.activity_ids[ident] = el

    def read_sequencing(self, seq_el) -> dict:
        seq = sequencing.to_json(seq_el)
        ref = seq.get("IDRef")
        if ref is not None and ref not in self.collection:
            self.error("scorm.sequencing.idref_unknown", f"<sequencing IDRef={ref!r}> names no "
                       "<sequencing> of the <sequencingCollection>", seq_el)
        return seq

    def read_item(self, el, org_id: str) -> dict:
        ident = (el.get("identifier") or "").strip()
        if not ident:
            self.error("scorm.item.identifier_missing", "an <item> has no identifier", el)
        else:
            self.note_activity(ident, el)
        item: dict = {"identifier": ident or None, "title": text(self.cp_child(el, "title"))}
        if item["title"] is None:
            self.warning("scorm.item.title_missing", f"the item {ident!r} has no <title>", el)
        visible = el.get("isvisible")
        item["isvisible"] = visible is None or visible.strip() != "false"
        ref = (el.get("identifierref") or "").strip() or None
        children = self.cp_children(el, "item")
        if ref:
            item["identifierref"] = ref
            if children:
                self.warning("scorm.item.ref_with_children", f"the item {ident!r} has child items and "
                             "also refers to a resource; only leaf items can be launched", el)
            self.link_resource(item, el, ref, org_id)
        elif not children:
            self.warning("scorm.item.empty", f"the item {ident!r} has neither child items nor a "
                         "resource", el)
        self.read_adlcp(item, el)
        seq_el = el.find(f"{{{IMSSS}}}sequencing")
        if seq_el is not None:
            item["sequencing"] = self.read_sequencing(seq_el)
            seq = item["sequencing"]
            if "objectives" not in seq and seq.get("IDRef") in self.collection:
                seq = self.collection[seq["IDRef"]]
            item["objectives"] = sequencing.objectives(seq)
        pres = el.find(f"{{{ADLNAV}}}presentation")
        if pres is not None:
            item["presentation"] = sequencing.to_json(pres)
        item["items"] = [self.read_item(c, org_id) for c in children]
        return {k: v for k, v in item.items() if v is not None and (v != [] or k == "items")}

    def link_resource(self, item: dict, el, ref: str, org_id: str) -> None:
        resource = self.resources.get(ref)
        if resource is None:
            self.error("scorm.item.identifierref_unknown", f"the item {item['identifier']!r} refers to "
                       f"resource {ref!r}, which does not exist in <resources>", el)
            return
        item["scorm_type"] = resource["scorm_type"]
        if not resource["launch"]:
            if resource["scorm_type"] != "sco":  # a SCO without href is reported with its resource
                self.error("scorm.item.nothing_to_launch", f"the item {item['identifier']!r} refers to "
                           f"resource {ref!r}, which has no href to launch", el)
            return
        parameters = el.get("parameters")
        if parameters:
            item["parameters"] = parameters
        item["launch"] = launch_url(resource["launch"], parameters)
        self.launchables.append({"id": item["identifier"], "title": item["title"],
                                 "type": resource["scorm_type"], "launch": item["launch"],
                                 "organization": org_id})

    def read_adlcp(self, item: dict, el) -> None:
        found = self.adlcp_children(el)
        mastery = found.get("masteryscore")
        if mastery is not None:
            raw = text(mastery)
            try:
                value = float(raw)
                if not 0 <= value <= 100:
                    raise ValueError
                item["mastery_score"] = value
            except (TypeError, ValueError):
                self.error("scorm.masteryscore.invalid", f"adlcp:masteryscore {raw!r} must be a number "
                           "from 0 to 100", mastery)
        max_time = found.get("maxtimeallowed")
        if max_time is not None and text(max_time):
            item["max_time_allowed"] = text(max_time)
            if not _TIMESPAN_12.match(item["max_time_allowed"]):
                self.warning("scorm.maxtimeallowed.invalid", f"adlcp:maxtimeallowed "
                             f"{item['max_time_allowed']!r} is not HHHH:MM:SS.SS", max_time)
        action = found.get("timelimitaction")
        if action is not None and text(action):
            item["time_limit_action"] = text(action)
            if item["time_limit_action"].lower() not in TIME_LIMIT_ACTIONS:
                self.warning("scorm.timelimitaction.invalid", f"timelimitaction "
                             f"{item['time_limit_action']!r} is not one of {sorted(TIME_LIMIT_ACTIONS)}",
                             action)
        data = found.get("datafromlms")
        if data is not None and text(data):
            item["data_from_lms"] = text(data)
        prereq = found.get("prerequisites")
        if prereq is not None:
            item["prerequisites"] = {"type": prereq.get("type"), "expression": text(prereq) or "",
                                     "_el": prereq}
        threshold = found.get("completionthreshold")
        if threshold is not None:
            item["completion_threshold"] = self.completion_threshold(threshold)
        data_el = found.get("data")
        if data_el is not None:
            item["shared_data"] = [
                {"target_id": m.get("targetID"),
                 "read": (m.get("readSharedData") or "true") == "true",
                 "write": (m.get("writeSharedData") or "false") == "true"}
                for m in data_el if isinstance(m.tag, str) and local(m) == "map"]

    def completion_threshold(self, el) -> dict:
        out: dict = {}
        value = text(el)
        if value is not None:  # 3rd edition: the threshold is the element's text
            out["min_progress_measure"] = value
        for attr, key in (("minProgressMeasure", "min_progress_measure"),
                          ("progressWeight", "progress_weight")):
            if el.get(attr) is not None:
                out[key] = el.get(attr)
        for key in list(out):
            try:
                out[key] = float(out[key])
            except ValueError:
                self.error("scorm.completionthreshold.invalid", f"completionThreshold {key} "
                           f"{out[key]!r} must be a number from 0 to 1", el)
                del out[key]
        out["completed_by_measure"] = (el.get("completedByMeasure") or "false").strip() == "true"
        return out

    def check_prerequisites(self, orgs: list[dict]) -> None:
        def walk(items):
            for item in items:
                pre = item.get("prerequisites")
                if pre:
                    el = pre.pop("_el")
                    refs = prerequisite_references(pre["expression"])
                    pre["references"] = refs
                    for ref in refs:
                        if ref not in self.activity_ids:
                            self.warning("scorm.prerequisites.unknown_identifier", f"the prerequisites "
                                         f"of item {item.get('identifier')!r} name {ref!r}, which is "
                                         "not an item of this manifest", el)
                walk(item["items"])
        for org in orgs:
            walk(org["items"])


def prerequisite_references(expression: str) -> list[str]:
    """Item identifiers an ``aicc_script`` prerequisites expression refers to, in order."""
    refs: list[str] = []
    for token in re.findall(r"[A-Za-z_][\w.\-]*", expression):
        if token.lower() not in _AICC_WORDS and token not in refs:
            refs.append(token)
    return refs


def launch_url(href: str, parameters: str | None) -> str:
    """A resource href with an item's parameters appended (SCORM 2004 CAM 3.4.1.10 rules)."""
    if not parameters:
        return href
    params = parameters.lstrip("?&")
    if not params:
        return href
    if params.startswith("#"):
        return href if "#" in href else href + params
    joiner = "&" if "?" in href else "?"
    if "#" in href:
        base, frag = href.split("#", 1)
        return base + joiner + params + "#" + frag
    return href + joiner + params
