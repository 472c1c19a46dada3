"""A realistic world for the rules benchmarks: people, definitions and a statement stream.

People: ``learner{i}@example.com`` (the same learners as bench/common.py, so bench/ingest.py's
statements concern them), three in ten also with an HR account identity; one or two roles, a site
(40), a department (8), a supervisor, a hire date, three in a hundred have left.

Definitions: ``certs`` certifications over the courses of bench/common.py (course k for
certification k). Completion rules: pass the course's final module (module 9) with a scaled score of
at least 0.6, or, for one in three, pass modules 0, 1 and 2 within 90 days; every other one is
renewed by a shorter refresher (module 8). Validity 12, 24 or 36 months; expiry from the completion,
from the previous expiry, or each 31 December; renewal windows of 30-90 days; grace 0-30 days; late
renewal restart or credit; the last ten need a prerequisite (one of the first ten), two accept an
equivalent. Requirements: each role needs 10 of them (due 30 days after hire), every role needs
certification 3 (a yearly safety course: the roster of everyone), ten sites need 5 more (due 60
days after assignment).

Statements: learning sessions in time order over ``months`` months up to a day: each session is a
person taking a course module on one day (launched, initialized, 4-14 experienced/answered/progressed,
passed or failed with a score, completed, terminated), with the context and result a SCORM/cmi5 course
sends; seven in ten sessions on the courses the person's requirements name, the others on any of the
200 courses; besides, nine in ten people take the safety course's final module each year; three in
ten of a person's sessions are sent with their account identity. About one
passed statement in 500 is voided later.
"""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Iterator

from common import COURSES, NS, course_id, module_id, registration

ROLES = ("operator", "driver", "mechanic", "dispatcher", "supervisor")
SITES = 40
ADL = "http://adlnet.gov/expapi/verbs/"
HR = "https://hr.example.com"
ALL_STAFF = 3       # the certification every role needs (a yearly safety course): a roster of everyone


def email(i: int) -> str:
    return f"learner{i}@example.com"


def person_roles(i: int) -> list[str]:
    roles = [ROLES[i % len(ROLES)]]
    if i % 7 == 0:
        roles.append(ROLES[(i // 7) % len(ROLES)])
    return sorted(set(roles))


def people_csv(n: int) -> str:
    rng = random.Random(7)
    lines = ["person_id,email,account,roles,site,department,supervisor,hire_date,active"]
    for i in range(n):
        account = f"{HR}|emp{i}" if i % 10 < 3 else ""
        hire = date(2015, 1, 1) + timedelta(days=rng.randrange(4300))
        active = "false" if i % 100 == 99 else "true"
        lines.append(f"p{i:05d},{email(i)},{account},{';'.join(person_roles(i))},site-{i % SITES},"
                     f"dept-{i % 8},p{(i // 25) * 25:05d},{hire.isoformat()},{active}")
    return "\n".join(lines) + "\n"


def role_certs(role: str, certs: int) -> list[int]:
    r = ROLES.index(role)
    return sorted({(r * 7 + j * 3) % certs for j in range(10)})


def site_certs(site: int, certs: int) -> list[int]:
    return [(30 + site + j) % certs for j in range(5)] if site < 10 else []


def definitions(certs: int) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    for k in range(certs):
        initial = f"c{k:02d}-initial"
        if k % 3 == 2:
            for m in range(3):
                out.append(("completion", {"id": f"c{k:02d}-m{m}", "activity": module_id(k, m),
                                           "verbs": [ADL + "passed"], "min_score": 0.6}))
            out.append(("completion", {"id": initial, "children": [f"c{k:02d}-m{m}" for m in range(3)],
                                       "require": "all", "within_days": 90}))
        else:
            out.append(("completion", {"id": initial, "activity": module_id(k, 9),
                                       "verbs": [ADL + "passed", ADL + "completed"], "success": True,
                                       "min_score": 0.6}))
        cert = {"id": f"cert-{k:02d}", "title": f"Certification {k}", "initial": initial,
                "validity": {"months": (12, 24, 36)[k % 3]}, "renewal_window_days": (30, 60, 90)[k % 3],
                "grace_days": (0, 14, 30)[k % 3], "late_renewal": ("restart", "credit")[k % 2]}
        if k % 2 == 0:
            out.append(("completion", {"id": f"c{k:02d}-refresher", "activity": module_id(k, 8),
                                       "verbs": [ADL + "passed"], "min_score": 0.7}))
            cert["renewal"] = f"c{k:02d}-refresher"
        if k % 5 == 0:
            cert["expiry"] = {"basis": "fixed_date", "month": 12, "day": 31}
        elif k % 5 == 1:
            cert["expiry"] = {"basis": "previous_expiry"}
        if k >= certs - 10 and certs > 10:
            cert["prerequisites"] = [f"cert-{k - (certs - 10):02d}"]
        if k in (3, 4) and certs > 6:
            cert["equivalents"] = [f"cert-{k + 2:02d}"]
        out.append(("certification", cert))
    for role in ROLES:
        out.append(("requirement", {"id": f"role-{role}", "applies_to": {"roles": [role]},
                                    "certifications": [f"cert-{k:02d}" for k in role_certs(role, certs)],
                                    "due": {"days": 30, "after": "hire"}}))
    if certs > ALL_STAFF:
        out.append(("requirement", {"id": "all-staff", "applies_to": {"roles": list(ROLES)},
                                    "certifications": [f"cert-{ALL_STAFF:02d}"], "due": {"days": 30, "after": "hire"}}))
    for site in range(10):
        out.append(("requirement", {"id": f"site-{site}", "applies_to": {"site": [f"site-{site}"]},
                                    "certifications": [f"cert-{k:02d}" for k in site_certs(site, certs)],
                                    "due": {"days": 60}}))
    return out


def actor(i: int, rng: random.Random) -> dict:
    if i % 10 < 3 and rng.random() < 0.3:
        return {"objectType": "Agent", "name": f"Learner {i}", "account": {"homePage": HR, "name": f"emp{i}"}}
    return {"objectType": "Agent", "name": f"Learner {i}", "mbox": f"mailto:{email(i)}"}


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _statement(rng, i, who, verb, c, m, t, result=None) -> dict:
    st = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "actor": who,
          "verb": {"id": ADL + verb, "display": {"en-US": verb}},
          "object": {"objectType": "Activity", "id": module_id(c, m),
                     "definition": {"name": {"en-US": f"Course {c} module {m}"},
                                    "type": "http://adlnet.gov/expapi/activities/module"}},
          "context": {"registration": registration(i, c),
                      "platform": "bench", "language": "en-US",
                      "contextActivities": {"parent": [{"id": course_id(c), "objectType": "Activity"}],
                                            "grouping": [{"id": "https://courses.example.com/catalog"}],
                                            "category": [{"id": "https://w3id.org/xapi/scorm"}]}},
          "timestamp": _iso(t)}
    if result is not None:
        st["result"] = result
    return st


def session(rng: random.Random, i: int, c: int, day: date, m: int | None = None) -> list[dict]:
    """One person's session on module ``m`` (default: a random one) of course ``c`` on ``day``."""
    if m is None:
        m = rng.choice((9, 9, 9, 8, 8, 0, 1, 2, rng.randrange(3, 8)))
    who = actor(i, rng)
    t = datetime(day.year, day.month, day.day, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(6 * 3600, 18 * 3600))
    out = [_statement(rng, i, who, "launched", c, m, t), _statement(rng, i, who, "initialized", c, m, t)]
    for _ in range(rng.randrange(4, 15)):
        t += timedelta(seconds=rng.randrange(20, 240))
        verb = rng.choice(("experienced", "answered", "answered", "progressed"))
        res = {"success": rng.random() < 0.7, "response": "a"} if verb == "answered" else None
        out.append(_statement(rng, i, who, verb, c, m, t, res))
    raw = rng.choice((rng.randrange(40, 101), rng.randrange(60, 101), rng.randrange(70, 101)))
    t += timedelta(seconds=rng.randrange(20, 240))
    ok = raw >= 70
    score = {"score": {"scaled": raw / 100, "raw": raw, "min": 0, "max": 100}, "success": ok, "completion": True,
             "duration": f"PT{rng.randrange(300, 3600)}S"}
    out.append(_statement(rng, i, who, "passed" if ok else "failed", c, m, t, score))
    out.append(_statement(rng, i, who, "completed", c, m, t, {"completion": True, "success": ok}))
    out.append(_statement(rng, i, who, "terminated", c, m, t + timedelta(seconds=5)))
    return out


def statements(people: int, certs: int, total: int, last_day: date, months: int = 36,
               seed: int = 1) -> Iterator[list[dict]]:
    """About ``total`` statements, a month at a time (each list in timestamp order); the last list
    holds the voiding statements."""
    rng = random.Random(seed)
    per_session = 12.5
    sessions = int(total / per_session)
    first = last_day - timedelta(days=months * 30)
    span = (last_day - first).days + 1
    needs = {}
    for i in range(people):
        ks = set()
        for role in person_roles(i):
            ks.update(role_certs(role, certs))
        ks.update(site_certs(i % SITES, certs))
        needs[i] = sorted(ks)
    yearly = 0.9 * people * months / 12 if certs > ALL_STAFF else 0   # the all-staff course, most people yearly
    sessions = max(0, int(sessions - yearly))
    per_month = sessions // months
    made = 0
    voided: list[tuple[str, datetime]] = []
    for month in range(months):
        batch = []
        n = per_month if month < months - 1 else sessions - per_month * (months - 1)
        for _ in range(n):
            i = rng.randrange(people)
            c = rng.choice(needs[i]) if rng.random() < 0.7 and needs[i] else rng.randrange(COURSES)
            day = first + timedelta(days=min(span - 1, month * span // months + rng.randrange(max(1, span // months))))
            batch.extend(session(rng, i, c, day))
        if yearly:
            for i in range(people):
                if rng.random() < 0.9 / 12:
                    day = first + timedelta(days=min(span - 1, month * span // months
                                                     + rng.randrange(max(1, span // months))))
                    batch.extend(session(rng, i, ALL_STAFF, day, 9))
        batch.sort(key=lambda s: s["timestamp"])
        for st in batch:
            if st["verb"]["id"] == ADL + "passed" and rng.random() < 0.002:
                voided.append((st["id"], st))
        made += len(batch)
        yield batch
    vs = []
    for sid, st in voided:
        vs.append({"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                   "actor": {"objectType": "Agent", "mbox": "mailto:admin@example.com"},
                   "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
                   "object": {"objectType": "StatementRef", "id": sid}, "timestamp": _iso(datetime.now(timezone.utc))})
    yield vs
