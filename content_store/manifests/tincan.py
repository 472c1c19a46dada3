"""``tincan.xml``: the TinCan (xAPI) package descriptor that authoring tools write."""
from __future__ import annotations

from lxml import etree

from ..report import Report
from ..xmlparse import local, ns, text, where
from .files import FileIndex, is_absolute_url, is_iri, package_path, unsafe_launch_message, unsafe_scheme

DESCRIPTOR = "tincan.xml"
NAMESPACE = "http://projecttincan.com/tincan.xsd"
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"


def parse(root: etree._Element, files: FileIndex, report: Report) -> dict | None:
    def error(rule, message, el):
        report.error(rule, message, file=DESCRIPTOR, element=where(el), line=el.sourceline)

    def children(el, name):
        return [c for c in el if isinstance(c.tag, str) and ns(c) == ns(root) and local(c) == name]

    if local(root) != "tincan":
        error("xml.wrong_root", f"the root element of {DESCRIPTOR} must be <tincan>, not <{local(root)}>", root)
        return None
    if ns(root) != NAMESPACE:
        report.warning("tincan.namespace.unknown", f"the namespace {ns(root)!r} is not {NAMESPACE}",
                       file=DESCRIPTOR, element=where(root), line=root.sourceline)
    activities = []
    seen: set[str] = set()
    for holder in children(root, "activities"):
        for el in children(holder, "activity"):
            ident = (el.get("id") or "").strip()
            if not ident:
                error("tincan.id.missing", "an <activity> has no id", el)
            elif not is_iri(ident):
                error("tincan.id.not_iri", f"the activity id {ident!r} is not an IRI", el)
            elif ident in seen:
                error("tincan.id.duplicate", f"the activity id {ident!r} is used more than once", el)
            seen.add(ident)
            activity = {"id": ident, "type": el.get("type"),
                        "name": {n.get("lang") or "": text(n) or "" for n in children(el, "name")},
                        "description": {d.get("lang") or "": text(d) or "" for d in children(el, "description")}}
            launch_el = (children(el, "launch") or [None])[0]
            launch = text(launch_el)
            if launch:
                activity["launch"] = launch
                scheme = unsafe_scheme(launch)
                if scheme:
                    error("launch.unsafe_scheme", unsafe_launch_message(launch, scheme), launch_el)
                elif not is_absolute_url(launch):
                    path = package_path(launch)
                    found = files.find(path)[0] if path else None
                    if found is None:
                        error("tincan.launch.file_missing", f"the launch file {launch!r} is not in the zip",
                              launch_el)
            activities.append((activity, el))
    if not activities:
        error("tincan.activity.none", f"{DESCRIPTOR} declares no <activity>", root)
        return None
    launchable = [a for a, _ in activities if a.get("launch")]
    if not launchable:
        error("tincan.launch.missing", "no <activity> has a <launch> element: there is nothing to launch",
              activities[0][1])
        return None
    main = next((a for a in launchable if a.get("type") == COURSE_TYPE), launchable[0])
    title = next(iter(main["name"].values()), None)
    return {
        "format": "tincan",
        "edition": "tincan",
        "identifier": main["id"],
        "version": None,
        "title": title or main["id"],
        "launchables": [{"id": a["id"], "title": next(iter(a["name"].values()), None), "type": "activity",
                         "launch": a["launch"]} for a in launchable],
        "tincan": {"activities": [a for a, _ in activities], "launch_activity": main["id"]},
    }
