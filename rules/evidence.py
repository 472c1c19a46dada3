"""Evidence packs: what an auditor asks for about one person or one certification, in one document.

A pack is a page of entries, one per (person, certification): the status and dates derived now, the
periods with the statement ids that met each requirement, and the person's history events on it with
their hashes (each verifiable against the chain: ``hash = sha256(prev + canonical JSON of body)``); then,
once per page, the statements themselves as the LRS stores them (read by id), the content each was
played on where the statement says it (``context.revision``: the course version; the context
extension ``.../extensions/package-sha256``: the package digest; the grouping activity of type course,
or the object when it is a course: the course; ``found`` false for a statement the LRS no longer has,
``voided`` true for one voided since), the definition versions the entries name, the chain
head (number and hash) and when and by what the pack was made.

A person's pack pages over their certifications (``after`` a certification id), a certification's over
its people (``after`` a person id).
"""
from __future__ import annotations

import orjson

from .core import RulesError
from .definitions import published
from .derive import derive
from .storage.ports import timestamp

COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
PACKAGE_EXTENSION = "/extensions/package-sha256"
MAX_LIMIT = 100
GENERATOR = "lrs rules evidence"


def content_of(st: dict) -> dict:
    """Course, version and package digest a statement says it was played on (None where it does not)."""
    ctx = st.get("context") or {}
    course = None
    obj = st.get("object") or {}
    if ((obj.get("definition") or {}).get("type")) == COURSE_TYPE:
        course = obj.get("id")
    for act in (ctx.get("contextActivities") or {}).get("grouping") or ():
        if isinstance(act, dict) and (act.get("definition") or {}).get("type") == COURSE_TYPE:
            course = act.get("id")
            break
    digest = next((v for k, v in (ctx.get("extensions") or {}).items() if k.endswith(PACKAGE_EXTENSION)), None)
    return {"course": course, "version": ctx.get("revision"), "package_sha256": digest}


def _day(d):
    return d.isoformat() if d else None


def evidence_pack(rules, person_id: str | None = None, certification: str | None = None, after: str | None = None,
                  limit: int = 20) -> dict:
    if (person_id is None) == (certification is None):
        raise RulesError(400, "name a person or a certification", "person_id" if person_id is None else "certification")
    limit = max(1, min(int(limit), MAX_LIMIT))
    store = rules.store
    defs = published(store)
    today = rules.today()
    head = store.chain_head()
    pairs: list[tuple[str, str]] = []
    if person_id is not None:
        if not store.person(person_id):
            raise RulesError(404, f"no person {person_id!r}", "person_id")
        certs = sorted({r.certification for r in store.records_for(person_id)} |
                       {ev.body["certification"] for ev in store.history_for(person_id)
                        if ev.body.get("certification") in defs.certifications})
        certs = [c for c in certs if after is None or c > after]
        pairs = [(person_id, c) for c in certs[:limit + 1]]
    else:
        if certification not in defs.certifications:
            raise RulesError(404, f"no published certification {certification!r}", "certification")
        recs = store.roster(certification, None, None, None, None, after, limit + 1)
        pairs = [(r.person_id, certification) for r in recs]
    more = len(pairs) > limit
    pairs = pairs[:limit]
    derived_of: dict[str, dict] = {}
    entries, statement_ids, versions = [], [], set()
    for pid, cid in pairs:
        if pid not in derived_of:
            vs = store.person(pid)
            derived_of[pid] = derive(vs, store.facts_for(list(vs[-1].identities)), store.actions_for(pid), defs,
                                     today) if vs else {}
        d = derived_of[pid].get(cid)
        history = store.history_for(pid, cid)
        ids: list[str] = []
        periods = []
        for p in (d.periods if d else []):
            for sid in p.evidence.get("statements", []):
                if sid not in ids:
                    ids.append(sid)
            periods.append({"kind": p.kind, "earned": _day(p.earned), "valid_from": _day(p.valid_from),
                            "expires": _day(p.expires), "ended": _day(p.ended), "revoked": _day(p.revoked),
                            "lapsed": _day(p.lapsed), "evidence": p.evidence})
        for ev in history:
            if ev.body.get("definition_version") is not None:
                versions.add(("certification", cid, ev.body["definition_version"]))
        if d and d.definition_version is not None:
            versions.add(("certification", cid, d.definition_version))
        cert = defs.certifications.get(cid) or {}
        for rule in {cert.get("initial"), cert.get("renewal")} - {None}:
            if ("completion", rule) in defs.versions:
                versions.add(("completion", rule, defs.versions[("completion", rule)]))
        p = d.period if d else None
        entries.append({"person_id": pid, "certification": cid, "status": d.status if d else "not_required",
                        "earned": _day(p.earned) if p else None, "valid_from": _day(p.valid_from) if p else None,
                        "expires": _day(p.expires) if p else None, "due": _day(d.due) if d else None,
                        "definition_version": d.definition_version if d else None, "periods": periods,
                        "statements": ids,
                        "history": [{"n": ev.n, "prev": ev.prev, "hash": ev.hash, "body": ev.body} for ev in history]})
        statement_ids += [s for s in ids if s not in statement_ids]
    statements = []
    for sid in statement_ids:
        body, voided = (rules.lrs.get(sid, False), False) if rules.lrs is not None else (None, False)
        if body is None and rules.lrs is not None:
            body, voided = rules.lrs.get(sid, True), True
        st = orjson.loads(body) if body else None
        statements.append({"id": sid, "statement": st, "content": content_of(st) if st else None,
                           "found": st is not None, "voided": voided and st is not None})
    definitions = []
    for kind, did, v in sorted(versions):
        dv = store.definition(kind, did, v)
        if dv is not None:
            definitions.append({"kind": kind, "id": did, "version": v, "created": dv.created, "who": dv.who,
                                "why": dv.why, "definition": dv.body})
    cursor = (pairs[-1][1] if person_id is not None else pairs[-1][0]) if more and pairs else None
    return {"generated": timestamp(rules.clock()), "generator": GENERATOR, "as_of": today.isoformat(),
            "scope": {"person_id": person_id} if person_id is not None else {"certification": certification},
            "chain_head": {"n": head[0], "hash": head[1]}, "entries": entries, "statements": statements,
            "definitions": definitions, "next": cursor}


CSV_COLUMNS = ["row", "person_id", "certification", "status", "valid_from", "expires", "definition_version",
               "statement_id", "verb", "activity", "timestamp", "course", "version", "package_sha256",
               "event_n", "event_at", "event_kind", "event_status", "event_hash", "chain_head"]


def csv_rows(pack: dict) -> list[dict]:
    """The pack as CSV rows: an ``entry`` row per person and certification, a ``statement`` row per
    statement that met a requirement, an ``event`` row per history event, and a last ``chain_head`` row."""
    by_id = {s["id"]: s for s in pack["statements"]}
    rows = []
    for e in pack["entries"]:
        base = {"person_id": e["person_id"], "certification": e["certification"]}
        rows.append({"row": "entry", **base, "status": e["status"], "valid_from": e["valid_from"],
                     "expires": e["expires"], "definition_version": e["definition_version"]})
        for sid in e["statements"]:
            s = by_id.get(sid) or {}
            st = s.get("statement") or {}
            content = s.get("content") or {}
            rows.append({"row": "statement", **base, "statement_id": sid, "verb": (st.get("verb") or {}).get("id"),
                         "activity": (st.get("object") or {}).get("id"), "timestamp": st.get("timestamp"),
                         "course": content.get("course"), "version": content.get("version"),
                         "package_sha256": content.get("package_sha256")})
        for ev in e["history"]:
            b = ev["body"]
            rows.append({"row": "event", **base, "event_n": ev["n"], "event_at": b.get("at") or b.get("recorded"),
                         "event_kind": b.get("kind"), "event_status": b.get("status") or (b.get("action") or {}).get("kind"),
                         "definition_version": b.get("definition_version"), "event_hash": ev["hash"]})
    rows.append({"row": "chain_head", "event_n": pack["chain_head"]["n"], "chain_head": pack["chain_head"]["hash"]})
    return rows
