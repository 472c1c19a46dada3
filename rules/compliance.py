"""Compliance: the share of the people a certification concerns who are current, in all and broken
down by site and by role, in one answer.

The input is counts per (status, site, roles): the store adds up the current records
(``RulesStore.status_counts``), and a past day's statuses come from the history one person at a
time. A person with two roles counts under each; a person with no site or no role counts under
``null``. People whose status is ``not_required`` are not concerned and count nowhere.
"""
from __future__ import annotations

from typing import Iterable

from .derive import COMPLIANT, STATUSES

Group = tuple[str, "str | None", tuple, int]    # (status, site, roles, how many people)


def _tally(counts: dict[str, int]) -> dict:
    concerned = sum(n for s, n in counts.items() if s != "not_required")
    current = sum(n for s, n in counts.items() if s in COMPLIANT and s != "not_required")
    return {"people": concerned, "compliant": current, "share": (current / concerned) if concerned else None,
            "by_status": {s: counts[s] for s in STATUSES if counts.get(s)}}


def summarise(groups: Iterable[Group], site: str | None = None, role: str | None = None) -> dict:
    """``people``, ``compliant``, ``share`` and ``by_status`` in all, then ``by_site`` and ``by_role``
    (lists sorted by name, ``null`` last), of the groups matching ``site`` and ``role`` when given."""
    total: dict[str, int] = {}
    sites: dict[str | None, dict[str, int]] = {}
    roles: dict[str | None, dict[str, int]] = {}
    for status, where, their_roles, n in groups:
        if site is not None and where != site:
            continue
        if role is not None and role not in their_roles:
            continue
        total[status] = total.get(status, 0) + n
        by_site = sites.setdefault(where, {})
        by_site[status] = by_site.get(status, 0) + n
        for r in their_roles or (None,):
            by_role = roles.setdefault(r, {})
            by_role[status] = by_role.get(status, 0) + n

    def breakdown(parts: dict, key: str) -> list[dict]:
        rows = [{key: name, **_tally(counts)} for name, counts in parts.items()]
        rows = [r for r in rows if r["people"]]
        return sorted(rows, key=lambda r: (r[key] is None, r[key] or ""))

    return {**_tally(total), "by_site": breakdown(sites, "site"), "by_role": breakdown(roles, "role")}


def across(answers: list[dict]) -> dict:
    """Every certification's answer added up: ``requirements`` (a person needing two certifications
    counts twice), ``compliant`` and ``share``, in all and by site and role."""
    def add(key: str) -> list[dict]:
        sums: dict = {}
        for a in answers:
            for row in a["by_" + key]:
                s = sums.setdefault(row[key], [0, 0])
                s[0] += row["people"]
                s[1] += row["compliant"]
        return sorted(({key: k, "requirements": r, "compliant": c, "share": c / r if r else None}
                       for k, (r, c) in sums.items()), key=lambda row: (row[key] is None, row[key] or ""))

    required = sum(a["people"] for a in answers)
    current = sum(a["compliant"] for a in answers)
    return {"requirements": required, "compliant": current, "share": current / required if required else None,
            "by_site": add("site"), "by_role": add("role")}
