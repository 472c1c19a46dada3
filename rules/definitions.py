"""Definitions: completion rules, certifications and requirements.

Each kind's structure is a JSON Schema in ``schemas/`` (rules-completion.json, rules-certification.json,
rules-requirement.json). ``check`` refuses a body that breaks its schema, naming the path and the
rule (schema keyword) broken; ``check_set`` refuses a set of definitions with a reference to nothing
or a cycle (a completion rule among its own children, a certification among its own prerequisites).
"""
from __future__ import annotations

import contextlib
import weakref
from dataclasses import dataclass, field, replace
from datetime import date

import jsonschema

import schemas

KINDS = {"completion": "rules-completion", "certification": "rules-certification", "requirement": "rules-requirement"}
DEFAULT_VERBS = ("http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed")


class DefinitionError(Exception):
    """A definition the rules refuse: ``path`` (dotted, "" for the whole) and ``rule`` (what was broken)."""

    def __init__(self, message: str, path: str = "", rule: str = "", status: int = 400):
        super().__init__(message)
        self.message, self.path, self.rule, self.status = message, path, rule, status


_validators: dict[str, jsonschema.Draft202012Validator] = {}


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    if kind not in _validators:
        schema = schemas.load(KINDS[kind])
        _validators[kind] = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return _validators[kind]


def check(kind: str, body) -> dict:
    """``body`` if it is a valid definition of ``kind``; else DefinitionError with the path and rule."""
    if kind not in KINDS:
        raise DefinitionError(f"no definition kind {kind!r}; one of {', '.join(KINDS)}", "kind", "enum", 404)
    if kind == "completion" and isinstance(body, dict):
        if "activity" in body and "children" in body:
            raise DefinitionError("a completion rule has an activity or children, not both", "children", "oneOf")
        if "activity" not in body and "children" not in body:
            raise DefinitionError("a completion rule needs an activity or children", "activity", "required")
    err = jsonschema.exceptions.best_match(_validator(kind).iter_errors(body))
    if err is not None:
        while err.context:  # oneOf/anyOf: the deepest reason is the useful one
            deeper = jsonschema.exceptions.best_match(err.context)
            if deeper is None:
                break
            err = deeper
        path = ".".join(str(p) for p in err.absolute_path)
        raise DefinitionError(f"{err.message} (schema {KINDS[kind]}.json, rule {err.validator})",
                              path, str(err.validator))
    if kind == "completion" and "children" in body:
        req = body.get("require", "all")
        if isinstance(req, dict) and req["at_least"] > len(body["children"]):
            raise DefinitionError(f"require.at_least {req['at_least']} is more than the {len(body['children'])} children",
                                  "require.at_least", "at_least <= children")
    if kind == "certification":
        validity = body.get("validity")
        if body.get("expiry", {}).get("basis") in ("completion", "previous_expiry") and not validity:
            raise DefinitionError("an expiry counted from the completion or the previous expiry needs a validity",
                                  "validity", "required")
    return body


@dataclass(frozen=True)
class Definitions:
    """The definitions in force (or in force plus a draft): id -> body, and (kind, id) -> version."""
    completions: dict = field(default_factory=dict)
    certifications: dict = field(default_factory=dict)
    requirements: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    since: dict = field(default_factory=dict)      # (kind, id) -> day of its first publication

    def of(self, kind: str) -> dict:
        return {"completion": self.completions, "certification": self.certifications,
                "requirement": self.requirements}[kind]

    def with_version(self, kind: str, body: dict, version: int) -> "Definitions":
        """These definitions with ``body`` (version ``version``) in force instead of its kind and id's."""
        parts = {k: dict(self.of(k)) for k in KINDS}
        parts[kind][body["id"]] = body
        versions = {**self.versions, (kind, body["id"]): version}
        return replace(self, completions=parts["completion"], certifications=parts["certification"],
                       requirements=parts["requirement"], versions=versions)

    def activities(self) -> set[str]:
        return {c["activity"] for c in self.completions.values() if "activity" in c}


# store -> (its publications as last read, the Definitions they give): publications are only ever
# appended and a definition version never changes, so the same publications give the same definitions
_published: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def published(store) -> Definitions:
    """The definitions in force: the version of the last publication of each (kind, id). One read of
    the publications; the definitions are read again only when they changed (kept per store)."""
    pubs = store.publications()
    key = tuple((p.n, p.kind, p.id, p.version, p.at) for p in pubs)
    try:
        hit = _published.get(store)
    except TypeError:       # a store that cannot be weakly referenced: nothing kept
        hit = None
    if hit is not None and hit[0] == key:
        return hit[1]
    current: dict[tuple[str, str], int] = {}
    since: dict[tuple[str, str], date] = {}
    for p in pubs:
        current[(p.kind, p.id)] = p.version
        since.setdefault((p.kind, p.id), date.fromisoformat(p.at[:10]))
    parts: dict[str, dict] = {k: {} for k in KINDS}
    versions: dict[tuple[str, str], int] = {}
    for (kind, def_id), version in sorted(current.items()):
        d = store.definition(kind, def_id, version)
        if d is not None:
            parts[kind][d.body["id"]] = d.body
            versions[(kind, d.body["id"])] = version
    defs = Definitions(parts["completion"], parts["certification"], parts["requirement"], versions, since)
    with contextlib.suppress(TypeError):
        _published[store] = (key, defs)
    return defs


def check_set(defs: Definitions, complete: bool = True) -> None:
    """Refuse cycles and, when ``complete``, references to definitions not in ``defs``."""
    for cid, c in defs.completions.items():
        for i, child in enumerate(c.get("children", ())):
            if complete and child not in defs.completions:
                raise DefinitionError(f"completion rule {cid!r} names child {child!r}, which is not defined",
                                      f"children.{i}", "reference")
    _no_cycle(defs.completions, lambda c: c.get("children", ()), "completion rule", "children")
    for cert_id, cert in defs.certifications.items():
        for key in ("initial", "renewal"):
            if complete and key in cert and cert[key] not in defs.completions:
                raise DefinitionError(f"certification {cert_id!r} names completion rule {cert[key]!r} as {key}, "
                                      "which is not defined", key, "reference")
        for key in ("prerequisites", "equivalents"):
            for i, other in enumerate(cert.get(key, ())):
                if other == cert_id:
                    raise DefinitionError(f"certification {cert_id!r} names itself in {key}", f"{key}.{i}", "cycle")
                if complete and other not in defs.certifications:
                    raise DefinitionError(f"certification {cert_id!r} names {other!r} in {key}, which is not defined",
                                          f"{key}.{i}", "reference")
    _no_cycle(defs.certifications, lambda c: c.get("prerequisites", ()), "certification", "prerequisites")
    for req_id, req in defs.requirements.items():
        for i, cert in enumerate(req["certifications"]):
            if complete and cert not in defs.certifications:
                raise DefinitionError(f"requirement {req_id!r} names certification {cert!r}, which is not defined",
                                      f"certifications.{i}", "reference")


def _no_cycle(items: dict, edges, what: str, path: str) -> None:
    state: dict[str, int] = {}   # 1: on the current path, 2: done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in edges(items.get(node, {})):
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [node, nxt] if nxt in trail else [node, nxt]
                raise DefinitionError(f"{what}s form a cycle through {path}: {' -> '.join(dict.fromkeys(cycle))} -> {nxt}",
                                      path, "cycle")
            if state.get(nxt) is None and nxt in items:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(items):
        if node not in state:
            visit(node, [])


def order(defs: Definitions) -> list[str]:
    """Certification ids with each one's prerequisites before it."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(c: str) -> None:
        if c in seen or c not in defs.certifications:
            return
        seen.add(c)
        for p in defs.certifications[c].get("prerequisites", ()):
            visit(p)
        out.append(c)

    for c in sorted(defs.certifications):
        visit(c)
    return out
