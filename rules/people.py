"""The people directory's import format: CSV (an HR export) or JSON, checked row by row.

CSV: a header row, then one person a row. Columns (order free; unknown columns are refused):

    person_id   required; letters, digits and . _ - @ (at most 200)
    email       one or more addresses separated by ";" (each becomes an mbox identity)
    account     one or more "homePage|name" separated by ";" (each an account identity)
    roles       separated by ";"
    site, department, supervisor (a person id)
    hire_date   YYYY-MM-DD
    active      true/false (also yes/no, 1/0); default true

A person needs at least one identity (email or account). JSON: a list of objects with ``person_id``,
``agents`` (xAPI Agents: mbox, mbox_sha1sum, openid or account), and the same attributes (``roles`` a
list, ``active`` a boolean).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from lrs.statements.terms import agent_term

COLUMNS = ("person_id", "email", "account", "roles", "site", "department", "supervisor", "hire_date", "active")
ATTRIBUTES = ("roles", "site", "department", "supervisor", "hire_date", "active")
PERSON_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")
EMAIL = re.compile(r"^[^@\s;|]+@[^@\s;|]+$")
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}


@dataclass
class Row:
    line: int
    person_id: str
    agents: list[dict]
    identities: list[str]
    attributes: dict


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    def error(self, line: int, path: str, message: str) -> None:
        self.errors.append({"line": line, "path": path, "message": message})


def parse_csv(text: str) -> Parsed:
    out = Parsed()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        out.error(1, "", "the file is empty; the first line names the columns")
        return out
    header = [h.strip().lower() for h in header]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown or "person_id" not in header:
        what = f"unknown column {unknown[0]!r}" if unknown else "no person_id column"
        out.error(1, unknown[0] if unknown else "person_id", f"{what}; columns are {', '.join(COLUMNS)}")
        return out
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            out.error(line, "", f"{len(values)} values for {len(header)} columns")
            continue
        raw = dict(zip(header, (v.strip() for v in values)))
        agents = []
        for email in _split(raw.get("email", "")):
            if not EMAIL.match(email):
                out.error(line, "email", f"{email!r} is not an email address")
                break
            agents.append({"objectType": "Agent", "mbox": f"mailto:{email}"})
        else:
            for account in _split(raw.get("account", "")):
                home, sep, name = account.partition("|")
                if not sep or not home.strip() or not name.strip():
                    out.error(line, "account", f"{account!r} is not homePage|name")
                    break
                agents.append({"objectType": "Agent", "account": {"homePage": home.strip(), "name": name.strip()}})
            else:
                attrs = {"roles": _split(raw.get("roles", ""))}
                for key in ("site", "department", "supervisor", "hire_date"):
                    if raw.get(key):
                        attrs[key] = raw[key]
                if raw.get("active"):
                    flag = raw["active"].lower()
                    if flag not in TRUE | FALSE:
                        out.error(line, "active", f"{raw['active']!r} is not true or false")
                        continue
                    attrs["active"] = flag in TRUE
                _add(out, line, raw.get("person_id", ""), agents, attrs)
    _duplicates(out)
    return out


def parse_json(data) -> Parsed:
    out = Parsed()
    if not isinstance(data, list):
        out.error(0, "", "the body is a JSON array of people")
        return out
    for i, item in enumerate(data, 1):
        if not isinstance(item, dict):
            out.error(i, str(i - 1), "each person is a JSON object")
            continue
        unknown = [k for k in item if k not in ("person_id", "agents") + ATTRIBUTES]
        if unknown:
            out.error(i, f"{i - 1}.{unknown[0]}", f"unknown property {unknown[0]!r}")
            continue
        agents = item.get("agents")
        if not isinstance(agents, list) or not all(isinstance(a, dict) for a in agents):
            out.error(i, f"{i - 1}.agents", "agents is a list of xAPI Agents")
            continue
        attrs = {"roles": item.get("roles", [])}
        if not isinstance(attrs["roles"], list) or not all(isinstance(r, str) and r for r in attrs["roles"]):
            out.error(i, f"{i - 1}.roles", "roles is a list of names")
            continue
        bad = next((k for k in ("site", "department", "supervisor", "hire_date")
                    if k in item and not isinstance(item[k], str)), None)
        if bad:
            out.error(i, f"{i - 1}.{bad}", f"{bad} is a string")
            continue
        attrs.update({k: item[k] for k in ("site", "department", "supervisor", "hire_date") if item.get(k)})
        if "active" in item:
            if not isinstance(item["active"], bool):
                out.error(i, f"{i - 1}.active", "active is true or false")
                continue
            attrs["active"] = item["active"]
        _add(out, i, item.get("person_id", ""), agents, attrs, prefix=f"{i - 1}.")
    _duplicates(out)
    return out


def _split(text: str) -> list[str]:
    return [p.strip() for p in text.split(";") if p.strip()]


def _add(out: Parsed, line: int, person_id, agents: list[dict], attrs: dict, prefix: str = "") -> None:
    if not isinstance(person_id, str) or not PERSON_ID.match(person_id):
        out.error(line, prefix + "person_id", f"{person_id!r} is not a person id (letters, digits, . _ - @)")
        return
    if "hire_date" in attrs:
        try:
            date.fromisoformat(attrs["hire_date"])
            if len(attrs["hire_date"]) != 10:
                raise ValueError
        except ValueError:
            out.error(line, prefix + "hire_date", f"{attrs['hire_date']!r} is not a day (YYYY-MM-DD)")
            return
    identities = []
    for j, agent in enumerate(agents):
        try:
            key = agent_term({**agent, "objectType": "Agent"}) if agent.get("objectType", "Agent") == "Agent" else None
        except (KeyError, TypeError, AttributeError):
            key = None
        if not key:
            out.error(line, f"{prefix}agents.{j}" if prefix else "email",
                      "an identity needs mbox, mbox_sha1sum, openid or account")
            return
        identities.append(key)
    if not identities:
        out.error(line, prefix + ("agents" if prefix else "email"), "a person needs at least one identity (email or account)")
        return
    out.rows.append(Row(line, person_id, agents, identities, attrs))


def _duplicates(out: Parsed) -> None:
    seen_people: dict[str, int] = {}
    seen_ids: dict[str, str] = {}
    keep = []
    for row in out.rows:
        if row.person_id in seen_people:
            out.error(row.line, "person_id", f"person {row.person_id} is also on line {seen_people[row.person_id]}")
            continue
        clash = next((i for i in row.identities if seen_ids.get(i, row.person_id) != row.person_id), None)
        if clash:
            out.error(row.line, "email", f"identity {clash} is also person {seen_ids[clash]}'s")
            continue
        seen_people[row.person_id] = row.line
        seen_ids.update((i, row.person_id) for i in row.identities)
        keep.append(row)
    out.rows = keep
    out.errors.sort(key=lambda e: e["line"])
