"""``cmi5.xml``: the cmi5 course structure (cmi5 spec section 13, package rules section 14)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lxml import etree

from ..report import Report
from ..xmlparse import local, ns, text, where
from .files import FileIndex, is_absolute_url, is_iri, package_path, unsafe_launch_message, unsafe_scheme

STRUCTURE = "cmi5.xml"
NAMESPACE = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
MOVE_ON = ("Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed", "NotApplicable")
LAUNCH_METHODS = ("AnyWindow", "OwnWindow")


def parse(root: etree._Element, files: FileIndex | None, report: Report) -> dict | None:
    """The course model of a cmi5 course structure; ``files`` is None for a standalone XML
    file, where every AU url must then be fully qualified (section 14.2)."""
    return _Parser(root, files, report).run()


class _Parser:
    def __init__(self, root, files: FileIndex | None, report: Report) -> None:
        self.root = root
        self.files = files
        self.report = report
        self.ns = ns(root)
        self.ids: dict[str, etree._Element] = {}
        self.objective_ids: set[str] = set()
        self.objective_refs: list[tuple[str, etree._Element]] = []
        self.launchables: list[dict] = []
        self.au_count = 0

    def error(self, rule, message, el):
        self.report.error(rule, message, file=STRUCTURE, element=where(el), line=el.sourceline)

    def warning(self, rule, message, el):
        self.report.warning(rule, message, file=STRUCTURE, element=where(el), line=el.sourceline)

    def children(self, el, name):
        return [c for c in el if isinstance(c.tag, str) and ns(c) == self.ns and local(c) == name]

    def child(self, el, name):
        found = self.children(el, name)
        return found[0] if found else None

    def run(self) -> dict | None:
        root = self.root
        if local(root) != "courseStructure":
            self.error("xml.wrong_root", f"the root element of {STRUCTURE} must be <courseStructure>, "
                       f"not <{local(root)}>", root)
            return None
        if self.ns != NAMESPACE:
            self.warning("cmi5.namespace.unknown", f"the namespace {self.ns!r} is not the cmi5 course "
                         f"structure namespace {NAMESPACE}", root)
        course_el = self.child(root, "course")
        if course_el is None:
            self.error("cmi5.course.missing", "<courseStructure> has no <course> element", root)
            return None
        course = {"id": self.identifier(course_el, "course")}
        course.update(self.texts(course_el, "course"))
        objectives = []
        objectives_el = self.child(root, "objectives")
        if objectives_el is not None:
            for obj_el in self.children(objectives_el, "objective"):
                obj = {"id": self.identifier(obj_el, "objective")}
                obj.update(self.texts(obj_el, "objective"))
                if obj["id"]:
                    self.objective_ids.add(obj["id"])
                objectives.append(obj)
        children = self.members(root)
        for ref, el in self.objective_refs:
            if ref not in self.objective_ids:
                self.error("cmi5.objective.unknown", f"the objective reference {ref!r} names no "
                           "<objective> of the course structure", el)
        if not self.au_count:
            self.error("cmi5.au.none", "the course structure has no <au>: there is nothing to launch", root)
        title = course.get("title") or {}
        return {
            "format": "cmi5",
            "edition": "cmi5",
            "identifier": course["id"] or "",
            "version": None,
            "title": next(iter(title.values()), None) or course["id"],
            "launchables": self.launchables,
            "cmi5": {"course": course, "objectives": objectives, "children": children},
        }

    # -- pieces -------------------------------------------------------------------------

    def identifier(self, el, what: str) -> str | None:
        value = (el.get("id") or "").strip()
        if not value:
            self.error("cmi5.id.missing", f"a <{what}> has no id; cmi5 requires an IRI", el)
            return None
        if not is_iri(value):
            self.error("cmi5.id.not_iri", f"the {what} id {value!r} is not an IRI (it needs a scheme, "
                       "such as https://, and no spaces)", el)
        if value in self.ids:
            self.error("cmi5.id.duplicate", f"the id {value!r} is used more than once; ids must be "
                       "unique within the course structure", el)
        else:
            self.ids[value] = el
        return value

    def texts(self, el, what: str) -> dict:
        out = {}
        for name in ("title", "description"):
            holder = self.child(el, name)
            strings = {}
            if holder is not None:
                for ls in self.children(holder, "langstring"):
                    strings[ls.get("lang") or ""] = text(ls) or ""
            if not strings:
                if name == "title":
                    self.error("cmi5.title.missing", f"the {what} has no <title><langstring>", el)
                else:
                    self.warning("cmi5.description.missing", f"the {what} has no "
                                 "<description><langstring>", el)
            out[name] = strings
        return out

    def refs(self, el) -> list[str]:
        holder = self.child(el, "objectives")
        found = []
        if holder is not None:
            for ref_el in self.children(holder, "objective"):
                ref = (ref_el.get("idref") or "").strip()
                self.objective_refs.append((ref, ref_el))
                found.append(ref)
        return found

    def members(self, parent) -> list[dict]:
        out = []
        for el in parent:
            if not isinstance(el.tag, str) or ns(el) != self.ns:
                continue
            if local(el) == "block":
                block = {"type": "block", "id": self.identifier(el, "block")}
                block.update(self.texts(el, "block"))
                block["objectives"] = self.refs(el)
                before = self.au_count
                block["children"] = self.members(el)
                if self.au_count == before:
                    self.warning("cmi5.block.empty", f"the block {block['id']!r} holds no <au>", el)
                out.append(block)
            elif local(el) == "au":
                out.append(self.au(el))
        return out

    def au(self, el) -> dict:
        self.au_count += 1
        au = {"type": "au", "id": self.identifier(el, "au")}
        au.update(self.texts(el, "au"))
        au["objectives"] = self.refs(el)
        move_on = (el.get("moveOn") or "NotApplicable").strip()
        if move_on not in MOVE_ON:
            self.error("cmi5.moveOn.invalid", f"moveOn {move_on!r} must be one of {', '.join(MOVE_ON)}", el)
        au["move_on"] = move_on
        raw_mastery = el.get("masteryScore")
        if raw_mastery is not None:
            try:
                mastery = Decimal(raw_mastery.strip())
                if not 0 <= mastery <= 1 or mastery.as_tuple().exponent < -4:
                    raise InvalidOperation
                au["mastery_score"] = float(mastery)
            except InvalidOperation:
                self.error("cmi5.masteryScore.invalid", f"masteryScore {raw_mastery!r} must be a decimal "
                           "from 0 to 1 with at most 4 decimal places", el)
        method = (el.get("launchMethod") or "AnyWindow").strip()
        if method not in LAUNCH_METHODS:
            self.error("cmi5.launchMethod.invalid", f"launchMethod {method!r} must be AnyWindow or "
                       "OwnWindow", el)
        au["launch_method"] = method
        activity_type = el.get("activityType")
        if activity_type is not None:
            if not is_iri(activity_type.strip()):
                self.error("cmi5.activityType.not_iri", f"activityType {activity_type!r} is not an IRI", el)
            au["activity_type"] = activity_type.strip()
        for name, key in (("launchParameters", "launch_parameters"), ("entitlementKey", "entitlement_key")):
            value = text(self.child(el, name))
            if value is not None:
                au[key] = value
        url_el = self.child(el, "url")
        url = text(url_el)
        au["url"] = url
        if not url:
            self.error("cmi5.url.missing", f"the AU {au['id']!r} has no <url> to launch", el)
        else:
            self.check_url(url, url_el)
            self.launchables.append({"id": au["id"], "title": next(iter(au["title"].values()), None),
                                     "type": "au", "launch": url})
        return au

    def check_url(self, url: str, el) -> None:
        scheme = unsafe_scheme(url)
        if scheme:
            self.error("launch.unsafe_scheme", unsafe_launch_message(url, scheme), el)
            return
        if any(c.isspace() for c in url):
            self.error("cmi5.url.invalid", f"the url {url!r} contains whitespace; encode it (RFC 1738)", el)
            return
        if is_absolute_url(url):
            return
        if self.files is None:
            self.error("cmi5.url.not_fully_qualified", f"the url {url!r} is relative, but a course "
                       "structure without a zip must use fully qualified URLs (cmi5 14.2)", el)
            return
        if url.startswith("//"):
            self.error("cmi5.url.invalid", f"the url {url!r} has a host but no scheme; write https://...", el)
            return
        path = package_path(url)
        if path is None:
            self.error("cmi5.url.outside_package", f"the relative url {url!r} points outside the package",
                       el)
            return
        found, exact = self.files.find(path)
        if found is None:
            self.error("cmi5.url.file_missing", f"the relative url {url!r} names {path!r}, which is not in "
                       "the zip; an AU outside the package needs a fully qualified URL (cmi5 14.1)", el)
        elif not exact:
            self.warning("cmi5.url.case_mismatch", f"the url names {path!r} but the zip holds {found!r}", el)
