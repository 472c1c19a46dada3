"""Status as a pure function of (person, facts, admin actions, definitions, day).

Nothing here reads a store or a clock: the engine gives it what it needs, so processing the stream
incrementally and rebuilding from nothing give the same records by construction.

Days are UTC calendar days. A certification's ``expires`` is the last day it is valid; its renewal
window opens ``renewal_window_days`` before that day; it is ``overdue`` for ``grace_days`` days
after it, then ``expired``. Statuses: not_required, assigned, in_progress, certified,
in_renewal_window, overdue (past the due day of a first assignment, or past expiry within the grace
period), expired, revoked, exempt.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from .definitions import DEFAULT_VERBS, Definitions, order
from .storage.ports import Action, Fact, PersonVersion

STATUSES = ("not_required", "assigned", "in_progress", "certified", "in_renewal_window", "overdue", "expired",
            "revoked", "exempt")
COMPLIANT = frozenset({"certified", "in_renewal_window", "exempt", "not_required"})
LIVE = ("certified", "in_renewal_window", "overdue")   # a period in force (overdue: within grace)
FAR = date(9999, 12, 31)


def parse_instant(ts: str) -> datetime:
    moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def parse_day(text: str) -> date:
    return date.fromisoformat(text[:10])


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


# -- completions ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Completion:
    at: datetime            # when (UTC) the completing statement says it happened
    statements: tuple[str, ...]
    action: str | None = None

    @property
    def day(self) -> date:
        return self.at.date()


def matches(rule: dict, f: Fact) -> bool:
    if f.verb not in rule.get("verbs", DEFAULT_VERBS):
        return False
    if "success" in rule and f.success is not rule["success"]:
        return False
    if rule.get("completion") and f.completion is not True:
        return False
    if "min_score" in rule and (f.scaled is None or f.scaled < rule["min_score"]):
        return False
    window = rule.get("window")
    if window:
        day = parse_instant(f.timestamp).date().isoformat()
        if ("from" in window and day < window["from"]) or ("until" in window and day > window["until"]):
            return False
    return True


def completions(defs: Definitions, facts: list[Fact], actions: list[Action] = (), today: date = FAR,
                rules=None) -> dict[str, list[Completion]]:
    """Completion rule id -> its completions in time order (facts after ``today`` not counted yet);
    ``rules``: only these rules (and, to compute them, their children)."""
    by_activity: dict[str, list[Fact]] = {}
    for f in facts:
        by_activity.setdefault(f.activity_id, []).append(f)
    manual: dict[str, list[Completion]] = {}
    for a in actions:
        if a.kind == "manual_completion" and a.target in defs.completions:
            manual.setdefault(a.target, []).append(Completion(_action_instant(a), (), a.id))
    memo: dict[str, list[Completion]] = {}

    def of(rule_id: str) -> list[Completion]:
        if rule_id in memo:
            return memo[rule_id]
        memo[rule_id] = []  # a cycle (refused on save) ends here
        rule = defs.completions.get(rule_id)
        out: list[Completion] = list(manual.get(rule_id, ()))
        if rule is None:
            pass
        elif "activity" in rule:
            candidates = by_activity.get(rule["activity"])
            if not candidates and not out:
                return []   # memo[rule_id] is already []
            for f in candidates or ():
                if matches(rule, f):
                    out.append(Completion(parse_instant(f.timestamp), (f.statement_id,)))
        else:
            out.extend(_composite(rule, [of(c) for c in rule["children"]]))
        out = sorted((c for c in out if c.day <= today), key=lambda c: (c.at, c.statements, c.action or ""))
        memo[rule_id] = out
        return out

    return {rule_id: of(rule_id) for rule_id in (defs.completions if rules is None else
                                                 [r for r in rules if r in defs.completions])}


def _composite(rule: dict, children: list[list[Completion]]) -> list[Completion]:
    req = rule.get("require", "all")
    need = len(children) if req == "all" else 1 if req == "any" else req["at_least"]
    within = timedelta(days=rule["within_days"]) if "within_days" in rule else None
    moments = sorted({c.at for cs in children for c in cs})
    out, last = [], None
    for t in moments:
        met = []
        for cs in children:
            latest = None
            for c in cs:
                if c.at <= t:
                    latest = c
            if latest is not None and (within is None or t - latest.at <= within):
                met.append(latest)
        if len(met) >= need:
            stmts = tuple(sorted({s for c in met for s in c.statements}))
            acts = tuple(sorted({c.action for c in met if c.action}))
            key = (stmts, acts)
            if key != last:
                out.append(Completion(t, stmts, ",".join(acts) or None))
                last = key
    return out


def rule_activities(defs: Definitions, rule_id: str, seen: set | None = None) -> set[str]:
    seen = set() if seen is None else seen
    if rule_id in seen:
        return set()
    seen.add(rule_id)
    rule = defs.completions.get(rule_id) or {}
    if "activity" in rule:
        return {rule["activity"]}
    return set().union(*(rule_activities(defs, c, seen) for c in rule.get("children", ())), set())


class _Plan:
    """What derive needs of one set of definitions, whoever the person: computed once per
    Definitions object (they are immutable) and kept on it."""

    def __init__(self, defs: Definitions):
        self.order = order(defs)
        self.activities: dict[str, frozenset[str]] = {}     # certification -> activities of its rules
        self.requirements: dict[str, dict[str, dict]] = {}  # certification -> requirements naming it
        self.targets: dict[str, frozenset[str]] = {}        # certification -> action targets that concern it
        for cert_id, cert in defs.certifications.items():
            rules = {cert["initial"], cert.get("renewal", cert["initial"])}
            self.activities[cert_id] = frozenset(a for rule in rules for a in rule_activities(defs, rule))
            self.requirements[cert_id] = {rid: r for rid, r in defs.requirements.items()
                                          if cert_id in r["certifications"]}
            self.targets[cert_id] = frozenset(t for t in (cert_id, cert["initial"], cert.get("renewal")) if t)
        self.all_activities = frozenset().union(*self.activities.values()) if self.activities else frozenset()


def plan(defs: Definitions) -> _Plan:
    p = defs.__dict__.get("_plan")
    if p is None:
        p = _Plan(defs)
        object.__setattr__(defs, "_plan", p)   # a cache, not a field: Definitions stays frozen
    return p


# -- certification periods -------------------------------------------------------------------

@dataclass
class Period:
    valid_from: date
    expires: date | None
    earned: date
    kind: str                       # initial, renewal, external, manual, equivalent
    evidence: dict
    window_open: date | None = None
    grace_end: date | None = None
    ended: date | None = None       # superseded by a renewal on this day
    revoked: date | None = None
    lapsed: date | None = None      # a prerequisite stopped being current on this day
    lapse_cause: str | None = None

    def last_current_day(self) -> date:
        """The last day this period keeps the certification current (in force or in grace)."""
        end = self.grace_end or FAR
        for cut in (self.ended, self.revoked, self.lapsed):
            if cut is not None:
                end = min(end, cut - timedelta(days=1))
        return end


class Calendar:
    """The expiry arithmetic of one certification."""

    def __init__(self, cert: dict):
        self.cert = cert
        self.validity = cert.get("validity") or {}
        self.basis = (cert.get("expiry") or {}).get("basis", "completion" if self.validity else None)
        self.window = timedelta(days=cert.get("renewal_window_days", 0))
        self.grace = timedelta(days=cert.get("grace_days", 0))
        self.late = cert.get("late_renewal", "restart")

    def add(self, d: date) -> date:
        return add_months(d, self.validity.get("months", 0)) + timedelta(days=self.validity.get("days", 0))

    def next_fixed(self, after: date) -> date:
        month, day = self.cert["expiry"]["month"], self.cert["expiry"]["day"]
        for year in (after.year, after.year + 1):
            candidate = date(year, month, min(day, calendar.monthrange(year, month)[1]))
            if candidate > after:
                return candidate
        raise AssertionError("unreachable")

    def first(self, d: date) -> date | None:
        if self.basis == "fixed_date":
            return self.next_fixed(d)
        return self.add(d) if self.validity else None

    def renewed(self, previous: date, d: date) -> date:
        if d > previous and self.late == "restart":
            return self.first(d)
        if self.basis == "fixed_date":
            return self.next_fixed(previous)
        if self.basis == "previous_expiry" or (d > previous and self.late == "credit"):
            return self.add(previous)
        return self.add(d)

    def period(self, valid_from: date, expires: date | None, earned: date, kind: str, evidence: dict) -> Period:
        p = Period(valid_from, expires, earned, kind, evidence)
        if expires is not None:
            p.window_open = expires - self.window
            p.grace_end = expires + self.grace
        return p


def _action_instant(a: Action) -> datetime:
    text = a.body.get("date") or a.recorded
    return datetime.combine(parse_day(text), datetime.min.time(), timezone.utc) if len(text) == 10 else parse_instant(text)


def _cover(periods: list[Period]) -> list[tuple[date, date]]:
    spans = sorted((p.valid_from, p.last_current_day()) for p in periods)
    merged: list[list[date]] = []
    for start, end in spans:
        if end < start:
            continue
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _first_uncovered(cover: list[tuple[date, date]], start: date, end: date) -> date | None:
    """The first day in [start, end] that ``cover`` leaves out, or None."""
    day = start
    for a, b in cover:
        if b < day:
            continue
        if a > day:
            return day if day <= end else None
        day = b + timedelta(days=1)
        if day > end:
            return None
    return day if day <= end else None


def certification_periods(cert_id: str, defs: Definitions, comps: dict[str, list[Completion]],
                          actions: list[Action], covers: dict[str, list[tuple[date, date]]], today: date) -> list[Period]:
    """The periods of one certification, from its completions and the admin actions on it; ``covers``:
    the days each prerequisite is current."""
    cert = defs.certifications[cert_id]
    events = []
    initial, renewal = cert["initial"], cert.get("renewal", cert["initial"])
    for c in comps.get(initial, ()):
        events.append((c.at, 1, "completion", True, {"rule": initial, "statements": list(c.statements),
                                                     "at": c.at.isoformat().replace("+00:00", "Z"),
                                                     **({"action": c.action} if c.action else {})}))
    if renewal != initial:
        for c in comps.get(renewal, ()):
            events.append((c.at, 1, "completion", False, {"rule": renewal, "statements": list(c.statements),
                                                          "at": c.at.isoformat().replace("+00:00", "Z"),
                                                          **({"action": c.action} if c.action else {})}))
    for a in actions:
        if a.target != cert_id:
            continue
        if a.kind in ("manual_completion", "external_certificate", "revocation"):
            kind = {"manual_completion": "completion", "external_certificate": "external", "revocation": "revoke"}[a.kind]
            ev = {"action": a.id, "reason": a.reason, "who": a.who}
            if a.kind == "external_certificate":
                ev.update({k: a.body[k] for k in ("issuer", "reference", "expires") if k in a.body})
            events.append((_action_instant(a), 3 if kind == "revoke" else 2, kind, True, ev))
    events = [e for e in events if e[0].date() <= today]
    if not events:
        return []
    cal = Calendar(cert)
    events.sort(key=lambda e: (e[0], e[1], str(e[4])))
    prereqs = cert.get("prerequisites", ())
    periods: list[Period] = []
    cur: Period | None = None

    def lapse(p: Period, upto: date) -> None:
        for pre in prereqs:
            gap = _first_uncovered(covers.get(pre, []), p.valid_from, min(upto, p.last_current_day()))
            if gap is not None and (p.lapsed is None or gap < p.lapsed):
                p.lapsed, p.lapse_cause = gap, pre

    for at, _, kind, counts_initial, evidence in events:
        d = at.date()
        if cur is not None and prereqs:
            lapse(cur, d)
            if cur.lapsed is not None:
                cur = None
        if kind == "revoke":
            if cur is not None:
                cur.revoked = d
                cur = None
            else:
                periods.append(_marker(d, evidence))
            continue
        if any(_first_uncovered(covers.get(pre, []), d, d) is not None for pre in prereqs):
            continue  # a prerequisite is not current: this completion earns nothing here
        alive = cur is not None and d <= cur.last_current_day()
        if kind == "external":
            expires = parse_day(evidence["expires"]) if evidence.get("expires") else cal.first(d)
            new = cal.period(d, expires, cur.earned if alive else d, "external", evidence)
        elif not alive:
            if not counts_initial:
                continue
            new = cal.period(d, cal.first(d), d, "manual" if "action" in evidence and not evidence.get("statements")
                             else "initial", evidence)
        else:
            if cur.expires is None or d < cur.window_open:
                continue  # never expires, or too early to renew
            new = cal.period(d, cal.renewed(cur.expires, d), cur.earned, "renewal", evidence)
        if alive:
            cur.ended = d
        periods.append(new)
        cur = new
    if cur is not None and prereqs:
        lapse(cur, today)
    return periods


def _marker(d: date, evidence: dict) -> Period:
    """A revocation with no period in force: the status is revoked from that day."""
    p = Period(d, d, d, "revocation", evidence)
    p.revoked = d
    return p


def period_status(p: Period, x: date) -> str | None:
    if x < p.valid_from or (p.ended is not None and x >= p.ended):
        return None
    if p.revoked is not None and x >= p.revoked:
        return "revoked"
    if p.lapsed is not None and x >= p.lapsed:
        return "expired"
    if p.expires is None:
        return "certified"
    if x > p.grace_end:
        return "expired"
    if x > p.expires:
        return "overdue"
    if x >= p.window_open:
        return "in_renewal_window"
    return "certified"


# -- assignments -----------------------------------------------------------------------------

def _applies(req: dict, attrs: dict) -> bool:
    if attrs.get("active", True) is False:
        return False
    for key, values in req["applies_to"].items():
        if key == "roles":
            if not set(attrs.get("roles") or ()) & set(values):
                return False
        elif attrs.get(key) not in values:
            return False
    return True


@dataclass
class Assignment:
    start: date
    end: date | None                # the first day it no longer applies
    requirements: tuple[str, ...]
    due: date | None


def assignments(cert_id: str, defs: Definitions, versions: list[PersonVersion],
                version_days: list[date] | None = None, ever: set[str] | None = None) -> list[Assignment]:
    """When requirements that name ``cert_id`` applied to the person: from the later of the person
    version that matched and the requirement's first publication (``defs.since``). ``version_days``:
    the day of each version's ``since``, and ``ever``: the requirements some version of the person
    matches, when the caller has them."""
    reqs = plan(defs).requirements.get(cert_id)
    if not reqs or (ever is not None and ever.isdisjoint(reqs)):
        return []   # no requirement names it, or none ever applies to the person: never assigned
    if version_days is None:
        version_days = [parse_instant(v.since).date() for v in versions]
    starts = {rid: defs.since.get(("requirement", rid), date.min) for rid in reqs}
    moments = sorted(set(version_days) | {d for d in starts.values() if d != date.min})
    out: list[Assignment] = []
    cur: Assignment | None = None
    for day in moments:
        in_force = [v for v, vd in zip(versions, version_days) if vd <= day]
        if not in_force:
            continue
        v = in_force[-1]
        matching = tuple(sorted(rid for rid, r in reqs.items() if starts[rid] <= day and _applies(r, v.attributes)))
        if matching and cur is None:
            cur = Assignment(day, None, matching, None)
            out.append(cur)
        elif not matching and cur is not None:
            cur.end = day
            cur = None
        if cur is not None:
            cur.requirements = tuple(sorted(set(cur.requirements) | set(matching)))
            dues = []
            for rid in matching:
                due = reqs[rid].get("due")
                if due is None:
                    continue
                if due.get("after", "assignment") == "hire":
                    hire = v.attributes.get("hire_date")
                    base = parse_day(hire) if hire else cur.start
                else:
                    base = cur.start
                dues.append(base + timedelta(days=due["days"]))
            cur.due = min(dues) if dues else None
    return out


# -- records ---------------------------------------------------------------------------------

@dataclass
class Derived:
    certification: str
    status: str
    period: Period | None
    periods: list[Period]
    due: date | None
    timeline: list[tuple[str, str, dict]]      # (day, status, cause) transitions up to the day evaluated
    next_change: date | None
    definition_version: int | None
    assigned: bool
    extra: dict = field(default_factory=dict)


def derive(versions: list[PersonVersion], facts: list[Fact], actions: list[Action], defs: Definitions,
           today: date, only=None) -> dict[str, Derived]:
    """Certification id -> what a person's status on it is on ``today`` and how it got there; ``only``:
    just these certifications (each the same as in the whole answer: what they depend on is computed)."""
    pl = plan(defs)
    if only is None:
        needed, rules, activities = None, None, pl.all_activities
    else:
        needed = _needs(defs, only)
        rules = {r for c in needed for r in (defs.certifications[c]["initial"], defs.certifications[c].get("renewal"))
                 if r is not None}
        activities = frozenset().union(*(pl.activities[c] for c in only if c in pl.activities))
    comps = completions(defs, facts, actions, today, rules)
    fact_days: dict[str, list[date]] = {}
    for f in facts:
        if f.activity_id in activities:
            fact_days.setdefault(f.activity_id, []).append(parse_instant(f.timestamp).date())
    own: dict[str, list[Period]] = {}
    covers: dict[str, list[tuple[date, date]]] = {}
    for cert_id in pl.order:
        if needed is not None and cert_id not in needed:
            continue
        own[cert_id] = certification_periods(cert_id, defs, comps, actions, covers, today)
        covers[cert_id] = _cover(own[cert_id])
    version_days = [parse_instant(v.since).date() for v in versions]
    ever = {rid for rid, r in defs.requirements.items() if any(_applies(r, v.attributes) for v in versions)}
    out = {}
    for cert_id, cert in defs.certifications.items():
        if only is not None and cert_id not in only:
            continue
        periods = list(own[cert_id])
        for other in cert.get("equivalents", ()):
            for p in own.get(other, ()):
                if p.kind == "revocation":
                    continue
                copy = Period(**{**p.__dict__, "kind": "equivalent", "evidence": {**p.evidence, "via": other}})
                periods.append(copy)
        days = sorted(d for a in pl.activities[cert_id] for d in fact_days.get(a, ()))
        progress = [d for d in days if d <= today]
        # statements and actions dated after today count from their day: the status may change then
        targets = pl.targets[cert_id]
        upcoming = [d for d in days if d > today] + [
            _action_instant(a).date() for a in actions
            if a.target in targets and _action_instant(a).date() > today]
        exemptions = [(_action_instant(a).date(), parse_day(a.body["until"]) if a.body.get("until") else None, a)
                      for a in actions if a.kind == "exemption" and a.target == cert_id]
        assigns = assignments(cert_id, defs, versions, version_days, ever)
        if not (periods or days or upcoming or exemptions or assigns):
            # nothing concerns the person: what _evaluate gives for no marks at all, without its work
            out[cert_id] = Derived(cert_id, "not_required", None, [], None, [], None,
                                   defs.versions.get(("certification", cert_id)), False)
            continue
        d = _evaluate(cert_id, defs, periods, progress, exemptions, assigns, today)
        if upcoming and (d.next_change is None or min(upcoming) < d.next_change):
            d.next_change = min(upcoming)
        out[cert_id] = d
    return out


def _needs(defs: Definitions, certs) -> set[str]:
    """The certifications whose periods ``certs`` are derived from: themselves, their prerequisites and
    equivalents, and theirs in turn."""
    out: set[str] = set()
    todo = [c for c in certs if c in defs.certifications]
    while todo:
        c = todo.pop()
        if c in out:
            continue
        out.add(c)
        cert = defs.certifications[c]
        todo += [o for o in (*cert.get("prerequisites", ()), *cert.get("equivalents", ())) if o in defs.certifications]
    return out


def activities_for(defs: Definitions, certs) -> set[str]:
    """The activities whose facts ``derive(..., only=certs)`` reads: those of the completion rules of the
    certifications it derives them from (``_needs``)."""
    out: set[str] = set()
    for c in _needs(defs, certs):
        cert = defs.certifications[c]
        for rule in {cert["initial"], cert.get("renewal", cert["initial"])}:
            out |= rule_activities(defs, rule)
    return out


def affected(before: Definitions, after: Definitions, kind: str, def_id: str) -> set[str]:
    """The certifications whose derived status can differ between ``before`` and ``after``, two sets of
    definitions that differ only in the definition ``kind``/``def_id``: those it is (a certification),
    names (a requirement) or gives completions to (a completion rule, through the rules built on it), in
    either set, and every certification that has one of those among its prerequisites or equivalents,
    and so on."""
    direct: set[str] = set()
    for defs in (before, after):
        if kind == "certification":
            direct.add(def_id)
        elif kind == "requirement":
            direct.update(defs.requirements.get(def_id, {}).get("certifications", ()))
        elif kind == "completion":
            for cid, cert in defs.certifications.items():
                for rule in (cert["initial"], cert.get("renewal")):
                    if rule is not None and def_id in _rule_closure(defs, rule):
                        direct.add(cid)
    out = set(direct)
    changed = True
    while changed:
        changed = False
        for defs in (before, after):
            for cid, cert in defs.certifications.items():
                if cid not in out and out.intersection((*cert.get("prerequisites", ()), *cert.get("equivalents", ()))):
                    out.add(cid)
                    changed = True
    return out


def _rule_closure(defs: Definitions, rule_id: str, seen: set | None = None) -> set[str]:
    """A completion rule and every rule among its children, and theirs."""
    seen = set() if seen is None else seen
    if rule_id in seen:
        return seen
    seen.add(rule_id)
    for child in (defs.completions.get(rule_id) or {}).get("children", ()):
        _rule_closure(defs, child, seen)
    return seen


def _evaluate(cert_id, defs, periods, progress, exemptions, assigns, today) -> Derived:
    marks: dict[date, list[dict]] = {}

    def mark(d: date | None, cause: dict) -> None:
        if d is not None:
            marks.setdefault(d, []).append(cause)

    one = timedelta(days=1)
    for p in periods:
        if p.kind == "revocation":
            mark(p.revoked, {"action": p.evidence.get("action"), "event": "revoked"})
            continue
        mark(p.valid_from, {"event": p.kind, **{k: v for k, v in p.evidence.items() if k in ("statements", "rule", "action", "via", "reason", "who")}})
        if p.expires is not None:
            mark(p.window_open, {"event": "renewal window opened"})
            mark(p.expires + one, {"event": "expiry day passed"})
            mark(p.grace_end + one, {"event": "grace period ended"})
        mark(p.revoked, {"event": "revoked", "action": p.evidence.get("action")})
        if p.lapsed is not None:
            mark(p.lapsed, {"event": "prerequisite lapsed", "prerequisite": p.lapse_cause})
    for start, until, a in exemptions:
        mark(start, {"event": "exempted", "action": a.id})
        mark(until + one if until else None, {"event": "exemption ended", "action": a.id})
    for asg in assigns:
        mark(asg.start, {"event": "assigned", "requirements": list(asg.requirements)})
        mark(asg.end, {"event": "unassigned"})
        mark(asg.due + one if asg.due else None, {"event": "due day passed"})
    if progress:
        mark(progress[0], {"event": "started"})
        for d in progress:
            mark(d, {"event": "activity"})

    def assignment_on(x: date) -> Assignment | None:
        for asg in assigns:
            if asg.start <= x and (asg.end is None or x < asg.end):
                return asg
        return None

    def status_on(x: date) -> tuple[str, Period | None]:
        for start, until, _ in exemptions:
            if start <= x and (until is None or x <= until):
                return "exempt", None
        best, best_p = None, None
        for p in sorted(periods, key=lambda q: q.valid_from):
            s = period_status(p, x)
            if s is None:
                continue
            if best is None or s in LIVE and (best not in LIVE or LIVE.index(s) < LIVE.index(best)) or \
                    best not in LIVE and s not in LIVE:
                best, best_p = s, p
        if best in LIVE:
            return best, best_p
        asg = assignment_on(x)
        if best is not None and asg is None:
            return best, best_p
        if asg is None:
            return "not_required", None
        if best is not None:
            return best, best_p
        if asg.due is not None and x > asg.due:
            return "overdue", None
        if any(asg.start <= d <= x for d in progress):
            return "in_progress", None
        return "assigned", None

    timeline: list[tuple[str, str, dict]] = []
    previous = "not_required"
    for d in sorted(k for k in marks if k <= today):
        s, _ = status_on(d)
        if s != previous:
            causes = ([c for c in marks[d] if c["event"] not in ("activity", "started")]
                      or [c for c in marks[d] if c["event"] == "started"] or marks[d][:1])
            timeline.append((d.isoformat(), s, causes[0] if len(causes) == 1 else {"events": causes}))
            previous = s
    status, period = status_on(today)
    next_change = None
    for d in sorted(k for k in marks if k > today):
        if status_on(d)[0] != status:
            next_change = d
            break
    asg = assignment_on(today)
    due = period.expires if period is not None and status in LIVE else (asg.due if asg else None)
    return Derived(cert_id, status, period, [p for p in periods if p.kind != "revocation"], due, timeline,
                   next_change, defs.versions.get(("certification", cert_id)), asg is not None)
