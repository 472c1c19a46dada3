"""The rules' public functions: what the HTTP API (rules/http.py), the CLI and the pages call.

``Rules(store, lrs_store, clock)`` wraps the rules store, the LRS store (the engine reads its
statement stream) and the clock (injectable: tests travel in time).
"""
from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Callable

from .chain import verify
from .compliance import across, summarise
from .definitions import KINDS, DefinitionError, check, check_set, published
from .derive import activities_for, affected, completions, derive
from .engine import Engine, replay, status_as_of
from .people import Parsed, parse_csv, parse_json
from .storage.ports import PAGE_LIMIT, Action, timestamp, utc_now

ROSTER_LIMIT = 500   # most rows of a roster page (the store reads one more, to know whether a next page exists)
ACTION_KINDS = ("manual_completion", "external_certificate", "exemption", "revocation")
EXPIRING = ("certified", "in_renewal_window")   # the statuses a roster "expiring within n days" lists


class RulesError(Exception):
    """A request the rules refuse: HTTP ``status``, ``message`` and ``path``; ``extra`` goes in the body."""

    def __init__(self, status: int, message: str, path: str = "", **extra):
        super().__init__(message)
        self.status, self.message, self.path, self.extra = status, message, path, extra


class Rules:
    def __init__(self, store, lrs_store, clock: Callable[[], datetime] = utc_now, **engine_options):
        self.store, self.lrs, self.clock = store, lrs_store, clock
        self.engine = Engine(lrs_store, store, clock=clock, **engine_options)

    def today(self) -> date:
        return self.clock().date()

    # -- people --------------------------------------------------------------------------

    def import_people(self, parsed: Parsed, source: str, partial: bool = False) -> dict:
        """Apply parsed rows: with errors, nothing unless ``partial`` (then the good rows). Idempotent."""
        errors = list(parsed.errors)
        rows = parsed.rows
        owners = self.store.persons_for([i for r in rows for i in r.identities])
        good = []
        for row in rows:
            clash = next((i for i in row.identities if owners.get(i, row.person_id) != row.person_id), None)
            if clash:
                errors.append({"line": row.line, "path": "email",
                               "message": f"identity {clash} belongs to person {owners[clash]}"})
            else:
                good.append(row)
        errors.sort(key=lambda e: e["line"])
        if errors and not partial:
            return {"applied": False, "imported": 0, "unchanged": 0, "errors": errors}
        changed, unchanged = [], 0
        for row in good:
            try:
                v = self.store.put_person(row.person_id, row.agents, row.identities, row.attributes, source)
            except ValueError as exc:
                errors.append({"line": row.line, "path": "email", "message": str(exc)})
                continue
            if v is None:
                unchanged += 1
            else:
                changed.append(row.person_id)
        if changed:
            self.store.mark_dirty(changed)
        return {"applied": True, "imported": len(changed), "unchanged": unchanged, "errors": errors}

    def import_people_text(self, text: str, fmt: str, source: str, partial: bool = False) -> dict:
        if fmt == "csv":
            return self.import_people(parse_csv(text), source, partial)
        import orjson

        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise RulesError(400, f"the body is not JSON: {exc}") from None
        return self.import_people(parse_json(data), source, partial)

    def person(self, person_id: str) -> dict:
        versions = self.store.person(person_id)
        if not versions:
            raise RulesError(404, f"no person {person_id!r}", "person_id")
        cur = versions[-1]
        return {"person_id": person_id, "agents": list(cur.agents), "attributes": cur.attributes,
                "versions": [{"version": v.version, "since": v.since, "attributes": v.attributes,
                              "identities": list(v.identities), "source": v.source} for v in versions]}

    def people(self, after: str | None, limit: int) -> list[dict]:
        return [{"person_id": v.person_id, "agents": list(v.agents), "attributes": v.attributes, "version": v.version}
                for v in self.store.people(after, limit)]

    # -- definitions ---------------------------------------------------------------------

    def create_definition(self, kind: str, body, who: str, why: str) -> dict:
        body = check(kind, body)
        if not isinstance(why, str) or not why.strip():
            raise RulesError(400, "a definition change needs a reason", "reason")
        current = published(self.store)
        check_set(current.with_version(kind, body, 0), complete=False)
        d = self.store.save_definition(kind, body["id"], body, who, why)
        return self.definition_view(d)

    def certifications(self) -> dict[str, dict]:
        """The published certifications by id: the definition in force of each (one read of the
        publications; the definitions themselves are kept while the publications are unchanged)."""
        return dict(published(self.store).certifications)

    @staticmethod
    def definition_view(d) -> dict:
        return {"kind": d.kind, "id": d.id, "version": d.version, "created": d.created, "who": d.who, "why": d.why,
                "definition": d.body}

    def definitions(self) -> dict:
        in_force = {(p.kind, p.id): p for p in self.store.publications()}
        out = []
        for d in self.store.definition_versions():
            p = in_force.get((d.kind, d.id))
            out.append({**self.definition_view(d), "published": bool(p and p.version == d.version)})
        return {"definitions": out}

    def publications(self, kind: str | None = None, def_id: str | None = None) -> list[dict]:
        """Every publication (which version of a definition was put in force, when, by whom and why), in
        order; of one kind, or one definition, when named."""
        return [asdict(p) for p in self.store.publications()
                if (kind is None or p.kind == kind) and (def_id is None or p.id == def_id)]

    def _version(self, kind: str, def_id: str, version: int):
        if kind not in KINDS:
            raise RulesError(404, f"no definition kind {kind!r}", "kind")
        d = self.store.definition(kind, def_id, version)
        if d is None:
            raise RulesError(404, f"no version {version} of {kind} {def_id!r}", "version")
        return d

    def preview(self, kind: str, def_id: str, version: int, limit: int = PAGE_LIMIT,
                progress: Callable[[int], None] | None = None) -> dict:
        """Who would change status (today) if this version were published. People are read a page at a
        time (their versions, facts and actions in one read each) and only the certifications the
        definition can affect are derived (rules.derive.affected); ``progress(n)`` is told how many
        people are done after each page."""
        d = self._version(kind, def_id, version)
        before = published(self.store)
        after = before.with_version(kind, d.body, version)
        try:
            check_set(after)
        except DefinitionError as exc:
            raise RulesError(409, f"publishing it would leave the definitions broken: {exc.message}", exc.path,
                             rule=exc.rule) from None
        today = self.today()
        only = affected(before, after, kind, def_id)
        activities = sorted(activities_for(before, only) | activities_for(after, only))
        changes, people, cursor = [], 0, None
        while only:
            page = self.store.people(after=cursor)
            if not page:
                break
            ids = [v.person_id for v in page]
            versions_of = self.store.persons(ids)
            actions_of = self.store.actions_of(ids)
            owner = {i: v.person_id for v in page for i in v.identities}
            facts_of: dict[str, list] = {}
            for f in self.store.facts_for(list(owner), activities):
                facts_of.setdefault(owner[f.agent_key], []).append(f)
            for v in page:
                people += 1
                versions = versions_of.get(v.person_id) or [v]
                facts, actions = facts_of.get(v.person_id, []), actions_of.get(v.person_id, [])
                old = derive(versions, facts, actions, before, today, only)
                new = derive(versions, facts, actions, after, today, only)
                for cert in sorted(set(old) | set(new)):
                    o, n = old.get(cert), new.get(cert)
                    ov = (o.status, _day(o.period.expires) if o and o.period else None) if o else ("not_required", None)
                    nv = (n.status, _day(n.period.expires) if n and n.period else None) if n else ("not_required", None)
                    if ov != nv and len(changes) < limit:
                        changes.append({"person_id": v.person_id, "certification": cert, "status_before": ov[0],
                                        "status_after": nv[0], "expires_before": ov[1], "expires_after": nv[1]})
            cursor = page[-1].person_id
            if progress is not None:
                progress(people)
        if not only:    # nothing it can change (a completion rule no certification uses): count the people
            while True:
                page = self.store.people(after=cursor)
                if not page:
                    break
                people += len(page)
                cursor = page[-1].person_id
                if progress is not None:
                    progress(people)
        return {"kind": kind, "id": def_id, "version": version, "as_of": today.isoformat(), "people": people,
                "changes": changes}

    def publish(self, kind: str, def_id: str, version: int, who: str, why: str) -> dict:
        d = self._version(kind, def_id, version)
        if not isinstance(why, str) or not why.strip():
            raise RulesError(400, "publishing needs a reason", "reason")
        try:
            check_set(published(self.store).with_version(kind, d.body, version))
        except DefinitionError as exc:
            raise RulesError(409, f"publishing it would leave the definitions broken: {exc.message}", exc.path,
                             rule=exc.rule) from None
        p = self.store.publish(kind, def_id, version, who, why)
        return asdict(p)

    # -- admin actions -------------------------------------------------------------------

    def add_action(self, person_id: str, body, who: str) -> dict:
        if not isinstance(body, dict):
            raise RulesError(400, "the body is a JSON object", "")
        if not self.store.person(person_id):
            raise RulesError(404, f"no person {person_id!r}", "person_id")
        kind = body.get("kind")
        if kind not in ACTION_KINDS:
            raise RulesError(400, f"kind is one of {', '.join(ACTION_KINDS)}", "kind")
        reason = body.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise RulesError(400, "an admin action needs a reason", "reason")
        target = body.get("certification") or body.get("completion")
        defs = published(self.store)
        if "certification" in body:
            if target not in defs.certifications:
                raise RulesError(400, f"no published certification {target!r}", "certification")
            if kind == "external_certificate" and defs.certifications[target].get("accept_external", True) is False:
                raise RulesError(400, f"certification {target!r} does not accept external certificates", "kind")
        elif "completion" in body and kind == "manual_completion":
            if target not in defs.completions:
                raise RulesError(400, f"no published completion rule {target!r}", "completion")
        else:
            raise RulesError(400, "name the certification (or, for a manual completion, the completion rule)",
                             "certification")
        details = {}
        for key in ("date", "until", "expires"):
            if key in body:
                if not _is_day(body[key]):
                    raise RulesError(400, f"{key} is a day (YYYY-MM-DD)", key)
                details[key] = body[key]
        for key in ("issuer", "reference"):
            if key in body:
                if not isinstance(body[key], str):
                    raise RulesError(400, f"{key} is a string", key)
                details[key] = body[key]
        if "until" in details and "date" in details and details["until"] < details["date"]:
            raise RulesError(400, "until is before date", "until")
        if "expires" in details and "date" in details and details["expires"] < details["date"]:
            raise RulesError(400, "expires is before date", "expires")
        if kind == "external_certificate" and "issuer" not in details:
            raise RulesError(400, "an external certificate names its issuer", "issuer")
        details.setdefault("date", timestamp(self.clock()))   # no day given: the moment it was recorded
        action = Action(str(uuid.uuid4()), person_id, kind, target, details, reason.strip(), who, timestamp(self.clock()))
        self.store.add_action(action)
        self.store.mark_dirty([person_id])
        return asdict(action)

    # -- reading -------------------------------------------------------------------------

    def transcript(self, person_id: str) -> dict:
        """A person's completions and certifications (status derived now from the facts), with evidence."""
        versions = self.store.person(person_id)
        if not versions:
            raise RulesError(404, f"no person {person_id!r}", "person_id")
        defs = published(self.store)
        facts = self.store.facts_for(list(versions[-1].identities))
        actions = self.store.actions_for(person_id)
        today = self.today()
        comps = completions(defs, facts, actions, today)
        derived = derive(versions, facts, actions, defs, today)
        out_comps = [{"completion": rid, "at": c.at.isoformat().replace("+00:00", "Z"),
                      "statements": list(c.statements), "action": c.action,
                      "definition_version": defs.versions.get(("completion", rid))}
                     for rid, cs in sorted(comps.items()) for c in cs]
        certs = []
        for cid in sorted(derived):
            d = derived[cid]
            if d.status == "not_required" and not d.periods:
                continue
            p = d.period
            certs.append({"certification": cid, "status": d.status, "earned": _day(p.earned) if p else None,
                          "valid_from": _day(p.valid_from) if p else None, "expires": _day(p.expires) if p else None,
                          "due": _day(d.due), "definition_version": d.definition_version,
                          "evidence": p.evidence if p else {},
                          "periods": [{"kind": q.kind, "valid_from": _day(q.valid_from), "expires": _day(q.expires),
                                       "ended": _day(q.ended), "revoked": _day(q.revoked), "lapsed": _day(q.lapsed),
                                       "evidence": q.evidence} for q in d.periods],
                          "timeline": [{"at": day, "status": s, "cause": c} for day, s, c in d.timeline]})
        return {"person_id": person_id, "as_of": today.isoformat(), "attributes": versions[-1].attributes,
                "completions": out_comps, "certifications": certs, "chain_head": self.store.chain_head()[1]}

    def roster(self, certification: str, status: list[str] | None = None, site: str | None = None,
               role: str | None = None, expiring_within_days: int | None = None, as_of: str | None = None,
               after: str | None = None, limit: int = 100, people: list[str] | None = None) -> dict:
        """A certification's records, filtered, a page in person id order; ``people``: only theirs (a
        supervisor's team)."""
        head = self._roster_head(certification)
        limit = max(1, min(int(limit), ROSTER_LIMIT))
        if as_of is not None:
            return self._roster_as_of(certification, as_of, status, site, role, after, limit, head,
                                      None if people is None else set(people))
        status, expires_by = self._expiring(status, expiring_within_days)
        recs = self.store.roster(certification, status, site, role, expires_by, after, limit + 1,
                                 **({} if people is None else {"people": sorted(people)}))
        more = len(recs) > limit
        recs = recs[:limit]
        rows = [{"person_id": r.person_id, "status": r.status, "earned": r.earned, "valid_from": r.valid_from,
                 "expires": r.expires, "due": r.due, "site": r.site, "roles": list(r.roles),
                 "definition_version": r.definition_version, "evidence": r.evidence} for r in recs]
        return {"certification": certification, "as_of": self.today().isoformat(), "people": rows,
                "next": recs[-1].person_id if more and recs else None, "chain_head": head}

    def roster_table(self, certification: str, status: list[str] | None = None, site: str | None = None,
                     role: str | None = None, expiring_within_days: int | None = None,
                     people: list[str] | None = None) -> tuple[list[tuple], str]:
        """The whole of today's roster ``roster`` pages through, as rows of ``tables.ROSTER`` (an
        export), and the audit chain head it was read at."""
        head = self._roster_head(certification)
        status, expires_by = self._expiring(status, expiring_within_days)
        rows = self.store.roster_table(certification, status, site, role, expires_by,
                                       **({} if people is None else {"people": sorted(people)}))
        return rows, head

    def _roster_head(self, certification: str) -> str:
        """The audit chain head a roster is read at; 404 for a certification not published."""
        if certification not in published(self.store).certifications:
            raise RulesError(404, f"no published certification {certification!r}", "certification")
        return self.store.chain_head()[1]

    def _expiring(self, status: list[str] | None, within_days: int | None) -> tuple[list[str] | None, str | None]:
        """A roster's statuses and the last expiry day it keeps: "expiring within n days" keeps the
        records certified or in their renewal window (unless statuses are named) expiring by then."""
        if within_days is None:
            return status, None
        return list(status or EXPIRING), (self.today() + timedelta(days=within_days)).isoformat()

    def _roster_as_of(self, certification, as_of, status, site, role, after, limit, head, people=None) -> dict:
        """Status on a past day, from the history (transitions effective by then), not from the records.
        Site and role are the person's attributes on that day."""
        rows = []
        for row in self._statuses_as_of(certification, as_of, after):
            if people is not None and row["person_id"] not in people:
                continue
            if status and row["status"] not in status:
                continue
            if site is not None and row["site"] != site:
                continue
            if role is not None and role not in row["roles"]:
                continue
            rows.append(row)
            if len(rows) > limit:
                break
        more = len(rows) > limit
        rows = rows[:limit]
        return {"certification": certification, "as_of": as_of, "people": rows,
                "next": rows[-1]["person_id"] if more else None, "chain_head": head}

    def _statuses_as_of(self, certification: str, as_of: str, after: str | None = None,
                        attributes: dict | None = None):
        """(person id, status, site, roles) on a past day of everyone the certification's history names,
        in person id order above ``after``; ``attributes`` keeps people's attributes on that day from one
        certification to the next."""
        attributes = {} if attributes is None else attributes
        if not _is_day(as_of):
            raise RulesError(400, "as_of is a day (YYYY-MM-DD)", "as_of")
        by_person: dict[str, list] = {}
        for ev in self.store.history_of(certification):
            by_person.setdefault(ev.body["person"], []).append(ev)
        for pid in sorted(p for p in by_person if after is None or p > after):
            known, _ = replay(by_person[pid])
            attrs = attributes.get(pid)
            if attrs is None:
                attrs = attributes[pid] = self._attributes_on(pid, as_of)
            yield {"person_id": pid, "status": status_as_of(known.get(certification, {}), as_of),
                   "site": attrs.get("site"), "roles": list(attrs.get("roles") or [])}

    def _attributes_on(self, person_id: str, day: str) -> dict:
        attrs = {}
        for v in self.store.person(person_id):
            if v.since[:10] <= day or not attrs:
                attrs = v.attributes
        return attrs

    def compliance(self, certification: str, as_of: str | None = None, site: str | None = None,
                   role: str | None = None) -> dict:
        """Share of the people it concerns who are compliant (certified, in renewal window or exempt),
        in all and by site and role (rules/compliance.py); on a past day when ``as_of`` is given."""
        if certification not in published(self.store).certifications:
            raise RulesError(404, f"no published certification {certification!r}", "certification")
        return self._compliance(certification, as_of, site, role, self.store.chain_head()[1])

    def _compliance(self, certification: str, as_of: str | None, site: str | None, role: str | None,
                    head: str, attributes: dict | None = None) -> dict:
        if as_of is None:
            groups = self.store.status_counts(certification)
        else:
            groups = [(r["status"], r["site"], tuple(r["roles"]), 1)
                      for r in self._statuses_as_of(certification, as_of, None, attributes)]
        return {"certification": certification, "as_of": as_of or self.today().isoformat(),
                **summarise(groups, site, role), "chain_head": head}

    def compliance_report(self, as_of: str | None = None, site: str | None = None, role: str | None = None,
                          certifications: list[str] | None = None) -> dict:
        """Compliance of every published certification (or those named), and all of them added up,
        by site and by role."""
        published_ids = sorted(published(self.store).certifications)
        for cid in certifications or ():
            if cid not in published_ids:
                raise RulesError(404, f"no published certification {cid!r}", "certification")
        head = self.store.chain_head()[1]
        if as_of is None:   # one read of the records' counts for every certification
            by_cert = self._counts(())
            answers = [{"certification": cid, **summarise((g[:4] for g in by_cert.get(cid, ())), site, role)}
                       for cid in (certifications or published_ids)]
        else:
            attributes: dict = {}
            answers = [self._compliance(cid, as_of, site, role, head, attributes)
                       for cid in (certifications or published_ids)]
            for a in answers:
                del a["chain_head"], a["as_of"]
        return {"as_of": as_of or self.today().isoformat(), "site": site, "role": role,
                "total": across(answers), "certifications": answers, "chain_head": head}

    def _counts(self, days, people: list[str] | None = None) -> dict[str, list]:
        """The store's record counts (``count_records``) by certification."""
        by_cert: dict[str, list] = {}
        for c, *group in self.store.count_records([(self.today() + timedelta(days=n)).isoformat() for n in days],
                                                  None if people is None else sorted(people), list(EXPIRING)):
            by_cert.setdefault(c, []).append(group)
        return by_cert

    def overview(self, horizons: tuple[int, ...] = (30, 60, 90), site: str | None = None, role: str | None = None,
                 people: list[str] | None = None) -> dict:
        """What the dashboard shows, from one read of the records' counts: compliance today of every published
        certification and their sum, by site and role (``compliance_report``'s answer), and ``expiring``:
        certification -> {n: how many people ``roster(certification, site=site, role=role,
        expiring_within_days=n)`` lists} for each n of ``horizons``. ``people``: over theirs only (a
        supervisor's team)."""
        ids = sorted(published(self.store).certifications)
        head = self.store.chain_head()[1]
        by_cert = self._counts(horizons, people)
        answers, expiring = [], {}
        for cid in ids:
            groups = by_cert.get(cid, ())
            answers.append({"certification": cid, **summarise((g[:4] for g in groups), site, role)})
            sums = [0] * len(horizons)
            for status, where, roles, _, within in groups:
                if status in EXPIRING and (site is None or where == site) and (role is None or role in roles):
                    sums = [a + b for a, b in zip(sums, within)]
            expiring[cid] = dict(zip(horizons, sums))
        return {"as_of": self.today().isoformat(), "site": site, "role": role, "total": across(answers),
                "certifications": answers, "expiring": expiring, "chain_head": head}

    def owners(self, identities: list[str]) -> dict[str, str]:
        """identity (an agent key, lrs.statements.terms.agent_term) -> the id of the person it belongs to, for
        those of ``identities`` that belong to someone."""
        return self.store.persons_for([i for i in identities if i])

    def directory_version(self) -> int:
        """A number that grows with every change of the people directory (what a cache of ``people`` checks)."""
        return self.store.people_versions()

    def team(self, person_id: str | None) -> list[str]:
        """The people a supervisor supervises: those whose ``supervisor`` attribute is ``person_id``."""
        return [] if person_id is None else self.store.supervised_by(person_id)

    def recent_events(self, limit: int = 20, people: list[str] | None = None) -> list[dict]:
        """The newest events of the history (status changes, retractions, admin actions), newest first,
        each its body with its number ``n``; ``people``: theirs only."""
        limit = max(1, min(int(limit), PAGE_LIMIT))
        if people is None:
            n, _ = self.store.chain_head()
            events = self.store.history(max(-1, n - limit), limit)
        else:
            events = sorted((e for p in set(people) for e in self.store.history_for(p)), key=lambda e: e.n)[-limit:]
        return [{"n": e.n, **e.body} for e in reversed(events)]

    def chain_head(self) -> dict:
        """How many events the history holds and the hash of the last (what every export carries)."""
        n, head = self.store.chain_head()
        return {"events": n + 1, "head": head}

    def verify_chain(self, progress: Callable[[int], None] | None = None) -> dict:
        """Recompute the history's hash chain (rules.chain.verify); ``progress(n)`` is told how many events
        have been read after each page of them."""
        def events():
            after = -1
            while True:
                page = self.store.history(after)
                if not page:
                    return
                yield from page
                after = page[-1].n
                if progress is not None:
                    progress(after + 1)

        return verify(events())


def _day(d) -> str | None:
    return d.isoformat() if d else None


def _is_day(text) -> bool:
    if not isinstance(text, str) or len(text) != 10:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


__all__ = ["Rules", "RulesError"]
