"""The CSV forms of the rules' answers, one table per answer, shared by the HTTP API (``Accept:
text/csv``) and the CLI (``--csv``): the columns, the rows, and cells a spreadsheet cannot run."""
from __future__ import annotations

import csv
from typing import Iterable, TextIO

from .derive import STATUSES

TRANSCRIPT = ["person_id", "kind", "id", "status", "at", "expires", "due", "definition_version", "statements",
              "action"]
ROSTER = ["person_id", "status", "earned", "valid_from", "expires", "due", "site", "roles", "definition_version",
          "statements"]
COMPLIANCE = ["certification", "by", "value", "people", "compliant", "share", *STATUSES]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @ first) is quoted with '."""
    if value is None:
        return ""
    text = ";".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
    return "'" + text if text[:1] in FORMULA_START else text


def write(out: TextIO, columns: list[str], rows: Iterable[dict], header: bool = True,
          lineterminator: str = "\r\n") -> None:
    w = csv.writer(out, lineterminator=lineterminator)
    if header:
        w.writerow(columns)
    for row in rows:
        w.writerow([cell(row.get(c)) for c in columns])


def write_roster(out: TextIO, rows: Iterable[tuple], lineterminator: str = "\r\n") -> None:
    """``Rules.roster_table``'s rows as the ``ROSTER`` table: what ``write`` makes of ``roster_rows``,
    with the formula guard of ``cell`` only on the columns free text can reach (person id, site, roles):
    status, days and the version are the engine's own, statement ids are UUIDs."""
    w = csv.writer(out, lineterminator=lineterminator)
    w.writerow(ROSTER)
    risky = FORMULA_START
    for pid, status, earned, valid_from, expires, due, site, roles, version, statements in rows:
        roles = ";".join(roles)
        w.writerow(("'" + pid if pid[:1] in risky else pid, status, earned, valid_from, expires, due,
                    "" if site is None else "'" + site if site[:1] in risky else site,
                    "'" + roles if roles[:1] in risky else roles, version, ";".join(statements)))


def transcript_rows(t: dict) -> list[dict]:
    rows = [{"person_id": t["person_id"], "kind": "certification", "id": c["certification"], "status": c["status"],
             "at": c["valid_from"], "expires": c["expires"], "due": c["due"],
             "definition_version": c["definition_version"], "statements": c["evidence"].get("statements", []),
             "action": c["evidence"].get("action")} for c in t["certifications"]]
    rows += [{"person_id": t["person_id"], "kind": "completion", "id": c["completion"], "status": "completed",
              "at": c["at"], "definition_version": c["definition_version"], "statements": c["statements"],
              "action": c["action"]} for c in t["completions"]]
    return rows


def roster_rows(page: dict) -> list[dict]:
    return [{**r, "statements": (r.get("evidence") or {}).get("statements", [])} for r in page["people"]]


def compliance_rows(answer: dict) -> list[dict]:
    """One answer of ``Rules.compliance`` (or each of ``Rules.compliance_report``'s): a row in all,
    then one per site and one per role, with a column per status."""
    def row(by: str, value, part: dict) -> dict:
        share = part["share"]
        return {"certification": answer["certification"], "by": by, "value": value, "people": part["people"],
                "compliant": part["compliant"], "share": "" if share is None else f"{share:.4f}",
                **part["by_status"]}
    return ([row("all", None, answer)] + [row("site", s["site"], s) for s in answer["by_site"]]
            + [row("role", r["role"], r) for r in answer["by_role"]])


def report_rows(report: dict) -> list[dict]:
    """``Rules.compliance_report`` as rows: each certification's, then the sum of them all with an
    empty certification (its ``people`` counts requirements: a person needing two counts twice)."""
    rows = [row for answer in report["certifications"] for row in compliance_rows(answer)]
    total = report["total"]

    def row(by: str, value, part: dict) -> dict:
        share = part["share"]
        return {"certification": "", "by": by, "value": value, "people": part["requirements"],
                "compliant": part["compliant"], "share": "" if share is None else f"{share:.4f}"}
    return (rows + [row("all", None, total)] + [row("site", s["site"], s) for s in total["by_site"]]
            + [row("role", r["role"], r) for r in total["by_role"]])
