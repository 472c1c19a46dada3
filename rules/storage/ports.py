"""The rules store's port: what the rules engine and its API keep, whatever the backend.

Every adapter passes the same contract tests (tests/rules/test_rules_store_contract.py). Calls are
blocking; the HTTP layer runs them off the event loop. Everything is written as inserts under a
unique key where it can be (people versions, definition versions, publications, facts, voids,
actions, history events, lease terms); the engine's checkpoint and the records (a cache of what the
facts, definitions and history say) are replaced whole.

- **People**: a person is a series of versions (identities and attributes as an HR export gave
  them, and since when); an identity (an xAPI agent key, ``lrs.statements.terms.agent_term``)
  belongs to one person.
- **Definitions**: each save makes a new immutable version (who, when, why); a publication (who,
  when, why) makes a version the one in force. Publications are numbered 1, 2, ...
- **Facts**: one per statement whose object is an Activity (what a completion rule can match),
  keyed by the statement's seq; **voids**: which statement voided which, keyed by the voided id.
  Replaying the stream stores nothing twice.
- **Lease**: terms numbered 1, 2, ...; a holder takes or renews the lease by inserting the next
  term, so of two processes only one gets each term.
- **History**: events numbered 0, 1, 2, ... each with ``prev`` (the hash of the event before) and
  ``hash`` = sha256(prev + canonical JSON of the event's body): a hash chain.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Protocol

PAGE_LIMIT = 1000
GENESIS = "0" * 64          # ``prev`` of the first history event


@dataclass(frozen=True)
class PersonVersion:
    person_id: str
    version: int            # 1, 2, ...
    since: str              # ISO timestamp (the store's clock) from which this version holds
    identities: tuple[str, ...]   # agent keys (lrs.statements.terms.agent_term), sorted
    agents: tuple[dict, ...]      # the xAPI Agents as imported
    attributes: dict        # roles (list), site, department, supervisor, hire_date (ISO date), active (bool)
    source: str = ""        # who imported it (credential key or "cli")


@dataclass(frozen=True)
class DefinitionVersion:
    kind: str               # "completion", "certification" or "requirement"
    id: str
    version: int            # 1, 2, ...
    body: dict
    created: str
    who: str
    why: str


@dataclass(frozen=True)
class Publication:
    n: int                  # 1, 2, ... across all definitions
    kind: str
    id: str
    version: int
    at: str
    who: str
    why: str


@dataclass(frozen=True)
class Fact:
    """What the rules need of a statement whose object is an Activity."""
    statement_id: str
    seq: int
    agent_key: str
    activity_id: str
    verb: str
    timestamp: str          # the statement's timestamp (placing it in time), as sent
    success: bool | None = None
    completion: bool | None = None
    scaled: float | None = None
    registration: str | None = None


@dataclass(frozen=True)
class Void:
    voided_id: str
    by_id: str
    seq: int


@dataclass(frozen=True)
class Action:
    """An admin action on a person: ``kind`` is manual_completion, external_certificate, exemption or
    revocation; ``target`` the certification (or completion rule) id; ``body`` its dates and details."""
    id: str
    person_id: str
    kind: str
    target: str
    body: dict
    reason: str
    who: str
    recorded: str


@dataclass(frozen=True)
class Record:
    """The current state of one person on one certification: a cache of what facts, definitions,
    actions and the clock give (rules.derive), rewritten whole."""
    person_id: str
    certification: str
    status: str
    earned: str | None = None
    valid_from: str | None = None
    expires: str | None = None
    due: str | None = None
    next_change: str | None = None     # the next day the status changes with no new input
    definition_version: int | None = None
    evidence: dict = field(default_factory=dict)
    site: str | None = None
    roles: tuple[str, ...] = ()
    timeline: tuple[tuple[str, str], ...] = ()   # (day, status) transitions up to the evaluation day
    updated: str = ""                  # when the engine last wrote it (it writes a record only when it changed)


@dataclass(frozen=True)
class HistoryEvent:
    n: int
    prev: str
    hash: str
    body: dict              # person, certification, kind (status | retract | action), at, status, cause, recorded


class LeaseLost(Exception):
    """Another process holds the engine's lease (or took it while this one worked)."""


class RulesStore(Protocol):
    def close(self) -> None: ...

    # -- people --------------------------------------------------------------------------
    def put_person(self, person_id: str, agents: list[dict], identities: list[str], attributes: dict,
                   source: str) -> PersonVersion | None:
        """A new version of the person when identities or attributes differ from the current one
        (None when nothing changed). Raises ValueError when an identity belongs to another person."""
    def person(self, person_id: str) -> list[PersonVersion]:
        """Every version of the person, oldest first ([] for an unknown id)."""
    def people(self, after: str | None = None, limit: int = PAGE_LIMIT) -> list[PersonVersion]:
        """Current versions in person id order, those above ``after``."""
    def persons(self, person_ids: list[str]) -> dict[str, list[PersonVersion]]:
        """``person`` of many people in one read: person id -> every version, oldest first (unknown ids
        left out)."""
    def persons_for(self, identities: list[str]) -> dict[str, str]:
        """identity -> person id, for those of ``identities`` that belong to someone."""
    def people_versions(self) -> int:
        """How many person versions the store holds: it grows with every change of the directory (a cache
        of the directory is current while it is unchanged)."""
    def supervised_by(self, person_id: str) -> list[str]:
        """Ids (in order) of the people whose current version's ``supervisor`` attribute is ``person_id``."""

    # -- definitions ---------------------------------------------------------------------
    def save_definition(self, kind: str, def_id: str, body: dict, who: str, why: str) -> DefinitionVersion: ...
    def definition(self, kind: str, def_id: str, version: int | None = None) -> DefinitionVersion | None:
        """One version (the newest when ``version`` is None)."""
    def definition_versions(self, kind: str | None = None) -> list[DefinitionVersion]: ...
    def publish(self, kind: str, def_id: str, version: int, who: str, why: str) -> Publication: ...
    def publications(self) -> list[Publication]:
        """Every publication, in order: the last one of each (kind, id) is in force."""

    # -- facts ---------------------------------------------------------------------------
    def add_facts(self, facts: list[Fact], voids: list[Void]) -> None:
        """Idempotent: a fact is keyed by its statement's seq (appended in stream order), a void by the
        id of the statement it voids; one already stored is left as it is."""
    def facts_for(self, identities: list[str], activities: list[str] | None = None) -> list[Fact]:
        """The facts of these agents whose statements are not voided, in seq order; ``activities``: only
        those on these activities."""
    # -- admin actions -------------------------------------------------------------------
    def add_action(self, action: Action) -> None: ...
    def actions_for(self, person_id: str) -> list[Action]: ...
    def actions_of(self, person_ids: list[str]) -> dict[str, list[Action]]:
        """``actions_for`` of many people in one read: person id -> their actions (those with none left out)."""

    # -- engine --------------------------------------------------------------------------
    def take_lease(self, holder: str, now: float, seconds: float) -> bool:
        """Take or renew the engine's lease until ``now + seconds`` (Unix time); False when another
        holder's lease has not expired, or another process took this term first."""
    def release_lease(self, holder: str, now: float) -> None: ...
    def checkpoint(self) -> dict:
        """The engine's position: {"seq": last statement seq read, "derived": last statement seq whose
        people are derived (below ``seq`` while a rebuild only reads), "publications": last
        publication number applied, "day": last day evaluated} ({} before the first pass)."""
    def set_checkpoint(self, checkpoint: dict) -> None: ...
    def mark_dirty(self, person_ids: list[str]) -> None:
        """Ask the engine to recompute these people (after an import or an admin action)."""
    def dirty(self, limit: int = PAGE_LIMIT, after: str | None = None) -> list[tuple[str, str]]:
        """(person id, stamp) of people marked, by person id (those after ``after``); ``clear_dirty``
        removes a mark only if its stamp is unchanged."""
    def clear_dirty(self, marks: list[tuple[str, str]]) -> None: ...

    # -- records -------------------------------------------------------------------------
    def put_records(self, records: list[Record]) -> None: ...
    def records_for(self, person_id: str) -> list[Record]: ...
    def roster(self, certification: str, status: list[str] | None = None, site: str | None = None,
               role: str | None = None, expires_by: str | None = None, after: str | None = None,
               limit: int = PAGE_LIMIT, people: list[str] | None = None) -> list[Record]:
        """Records of a certification in person id order above ``after``, filtered; ``expires_by``:
        those whose ``expires`` is on or before that day; ``people``: only theirs (a supervisor's team)."""
    def roster_table(self, certification: str, status: list[str] | None = None, site: str | None = None,
                     role: str | None = None, expires_by: str | None = None,
                     people: list[str] | None = None) -> list[tuple]:
        """Every record of a certification ``roster`` would list with these filters, in person id order,
        as tuples of the roster table's columns (rules/tables.py ``ROSTER``: person id, status, earned,
        valid from, expires, due, site, roles, definition version, the evidence's statement ids): an
        export of a whole roster in one read, with no ``Record`` built per row."""
    def status_counts(self, certification: str) -> list[tuple[str, str | None, tuple[str, ...], int]]:
        """How many records of a certification there are per (status, site, roles): what compliance
        by site and role adds up, without reading every record."""
    def count_records(self, expires_by: list[str] = (), people: list[str] | None = None,
                      expiring: list[str] | None = None
                      ) -> list[tuple[str, str, str | None, tuple[str, ...], int, tuple[int, ...]]]:
        """(certification, status, site, roles, how many records, how many of them have an ``expires`` on or
        before each day of ``expires_by``) over the records of every certification (of ``people`` only,
        when given): what the compliance report and the dashboard add up. ``expiring``: the statuses whose
        expiries are counted (the others count 0 for each day); None: every status."""
    def due_people(self, day: str, limit: int = PAGE_LIMIT) -> list[str]:
        """People with a record whose ``next_change`` is on or before ``day``."""

    # -- history -------------------------------------------------------------------------
    def append_history(self, bodies: list[dict], holder: str | None = None,
                       after: int | None = None) -> list[HistoryEvent]:
        """Chain the bodies after the current head and store them. Raises LeaseLost, storing nothing, when
        ``holder`` is given and the newest lease term is not that holder's, or ``after`` is given and the
        head is not event ``after`` (another writer appended since the caller read the history); of two
        writers appending after the same head, one wins."""
    def history(self, after: int = -1, limit: int = PAGE_LIMIT) -> list[HistoryEvent]:
        """Events in chain order, numbers above ``after``."""
    def history_for(self, person_id: str, certification: str | None = None) -> list[HistoryEvent]: ...
    def history_of(self, certification: str) -> list[HistoryEvent]: ...
    def chain_head(self) -> tuple[int, str]:
        """(number, hash) of the last event; (-1, GENESIS) when there is none."""


# -- helpers both adapters use -----------------------------------------------------------

def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def page_limit(limit: int) -> int:
    return max(1, min(int(limit), PAGE_LIMIT))
