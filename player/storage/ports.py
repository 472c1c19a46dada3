"""The player's storage port: registrations, attempts, commit sequencing and single-use launch tokens.

Every adapter passes the same contract tests (tests/player/test_player_store_contract.py).
Calls are blocking; the HTTP layer runs them off the event loop.

- A **registration** is one learner (an xAPI Agent) on one course version. Each learner has at
  most one *current* registration per course: the one ``registration_for`` returns, made on the
  first call and bound to the course's latest version then. It keeps that version for good: a
  learner who started on version 1 finishes on version 1 after version 2 is imported.
  ``close_registration`` ends that role, so the next ``registration_for`` makes a new registration
  on the latest version.
- An **attempt** is one try at one SCO of a registration, numbered from 1. It holds the SCO's
  runtime data and is changed only by commits, each carrying a sequence number (1, 2, ...) that
  the store applies exactly once and in order, whatever the browser retries.
- A **launch token** id is consumed once: the first ``consume_token`` of an id wins, on any process.
- The **sequencing state** of a registration (SCORM 2004): what scorm-again's sequencing engine
  serialized (the activity tree's tracking state, the current and suspended activity, the
  registration's global objectives), kept as opaque text, with the course's rollup (completion,
  success, score) as the engine decided it. Each save carries the browser's counter ``seq``; a save
  whose ``seq`` is not above the stored one is stale and changes nothing.
- **Global objectives** of a learner (SCORM 2004 ``objectivesGlobalToSystem``, the default): the
  objective map entries, by objective id, shared by every course the learner takes.

Timestamps are UTC ISO 8601 text with milliseconds (``2026-01-02T03:04:05.678Z``) from the
store's clock (injectable for tests). ``total_time`` is an ISO 8601 duration with a precision of
0.01 s (``PT1H2M3.45S``), the form the profile's attempt state document holds it in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Protocol

from lrs.statements.terms import agent_term

PAGE_LIMIT = 100    # most registrations one call of ``registrations`` returns


@dataclass(frozen=True)
class Registration:
    id: str                 # a UUID, lower-case text (the xAPI context registration)
    learner: dict           # the learner's xAPI Agent, as the launch gave it
    learner_key: str        # the Agent's identity (lrs.statements.terms.agent_term): equal for two spellings
    course_id: str
    version: int            # the course version the registration is bound to
    created: str
    updated: str


@dataclass(frozen=True)
class Attempt:
    registration_id: str
    sco_id: str
    number: int             # 1, 2, ... per (registration, SCO)
    started: str
    updated: str
    data: dict = field(default_factory=dict)   # the SCO's runtime data (cmi.*), as a JSON object
    applied_seq: int = 0    # the sequence number of the last commit applied (0: none yet)
    completion_status: str | None = None       # e.g. "completed", "incomplete"
    success_status: str | None = None          # "passed", "failed" or None (unknown)
    score_scaled: float | None = None          # -1..1
    total_time: str | None = None              # ISO 8601 duration, 0.01 s precision
    ended: bool = False                        # terminated (not suspended): the next launch starts a new attempt


@dataclass(frozen=True)
class Applied:
    """What ``apply_commit`` did: the attempt after it, and whether the commit had been applied before."""
    attempt: Attempt
    duplicate: bool


@dataclass(frozen=True)
class SequencingState:
    registration_id: str
    seq: int                # the browser's save counter (1, 2, ...)
    state: str              # scorm-again's serialized sequencing state (JSON text, opaque here)
    rollup: dict            # {"completion_status", "success_status", "score_scaled"} of the course
    updated: str


MAX_SEQUENCING_STATE = 2 * 1024 * 1024   # characters of serialized state a registration may keep


class PlayerStoreError(Exception):
    """Base of the errors the player store raises on purpose."""


class RegistrationConflict(PlayerStoreError):
    """The registration id is taken by another learner or course."""

    def __init__(self, registration_id: str, message: str):
        super().__init__(message)
        self.registration_id = registration_id
        self.message = message


class NotFound(PlayerStoreError):
    """No such registration or attempt."""


class OutOfOrder(PlayerStoreError):
    """A commit arrived before the one it follows: ``expected`` is the sequence number to send next."""

    def __init__(self, seq: int, expected: int):
        super().__init__(f"commit {seq} arrived before commit {expected}: send {expected} first")
        self.seq = seq
        self.expected = expected


class AttemptEnded(PlayerStoreError):
    """A new commit for an attempt that has ended: start a new attempt."""


class PlayerStore(Protocol):
    def close(self) -> None: ...

    # -- registrations -------------------------------------------------------------------
    def registration_for(self, learner: dict, course_id: str, latest_version: int) -> Registration:
        """The learner's current registration on ``course_id`` (it keeps its own version), or a new one
        bound to ``latest_version`` that becomes the current one. Atomic: concurrent callers, in any
        process, get the same registration. Raises ValueError for a learner that is not an identified Agent."""
    def new_registration(self, learner: dict, course_id: str, version: int,
                         registration_id: str | None = None) -> Registration:
        """A registration with the given (or a new) id, which becomes the learner's current one on the
        course. An id already stored for the same learner and course answers that registration as it is;
        one stored for another learner or course raises RegistrationConflict. ValueError for a bad id."""
    def close_registration(self, registration_id: str) -> bool:
        """The registration is no longer its learner's current one on its course (its data stays);
        True if it was. Raises NotFound for an unknown id."""
    def get_registration(self, registration_id: str) -> Registration | None: ...
    def registrations(self, learner_key: str | None = None, course_id: str | None = None,
                      limit: int = PAGE_LIMIT, after: str | None = None) -> list[Registration]:
        """One page of registrations in id order, those whose id is above ``after`` (the last id of the
        previous page), filtered by learner key and course. ``limit`` is capped at PAGE_LIMIT."""

    # -- attempts ------------------------------------------------------------------------
    def current_attempt(self, registration_id: str, sco_id: str) -> Attempt | None:
        """The latest attempt on the SCO (ended or not), or None."""
    def start_attempt(self, registration_id: str, sco_id: str) -> Attempt:
        """The current attempt if it has not ended, else a new one numbered one higher (1 for the
        first). Atomic: concurrent callers get the same attempt. NotFound for an unknown registration."""
    def attempts(self, registration_id: str) -> list[Attempt]:
        """Every attempt of the registration, by SCO id then number."""
    def apply_commit(self, registration_id: str, sco_id: str, attempt_number: int, seq: int,
                     change: Callable[[Attempt], Attempt]) -> Applied:
        """Apply commit ``seq`` of the attempt exactly once and in order.

        ``seq <= applied_seq``: already applied; answers the attempt unchanged with ``duplicate`` set.
        ``seq == applied_seq + 1``: stores ``change(attempt)`` (a pure function; what it returns is
        stored whole with ``applied_seq = seq`` and a new ``updated``, or nothing is stored if it
        raises; its identity fields are ignored). Of concurrent callers with one seq, one applies it
        and the others get ``duplicate``. ``seq > applied_seq + 1``: raises OutOfOrder. A new seq for
        an ended attempt raises AttemptEnded; an unknown attempt NotFound; seq < 1 ValueError."""

    # -- sequencing (SCORM 2004) ----------------------------------------------------------
    def sequencing_state(self, registration_id: str) -> SequencingState | None:
        """The registration's last saved sequencing state, or None."""
    def save_sequencing_state(self, registration_id: str, seq: int, state: str,
                              rollup: dict) -> tuple[SequencingState, bool]:
        """Store the state if ``seq`` is above the stored one: (the state now stored, True); else
        (the stored one, False), nothing changed. Concurrent saves of one seq store one of them.
        NotFound for an unknown registration; ValueError for seq < 1 or a state that is not text."""
    def global_objectives(self, learner_key: str) -> dict[str, dict]:
        """The learner's global objectives, by objective id ({} for none)."""
    def save_global_objectives(self, learner_key: str, objectives: dict[str, dict]) -> None:
        """Store each objective (replacing the stored entry of that id); others are kept."""

    # -- launch tokens -------------------------------------------------------------------
    def consume_token(self, token_id: str, expires_at: float) -> bool:
        """True the first time ``token_id`` is consumed, False every time after, across processes.
        ``expires_at`` (Unix seconds, as a JWT's ``exp``) is when the record may be forgotten."""
    def purge_tokens(self, now: float) -> int:
        """Forget the tokens that expired before ``now`` (Unix seconds); the number forgotten."""


# -- helpers both adapters use -----------------------------------------------------------

def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def learner_key(learner: dict) -> str:
    """The identity of a learner's Agent: two spellings of one Agent (with or without objectType or
    name) have the same key. ValueError for anything but an Agent with an identifier."""
    if not isinstance(learner, dict) or learner.get("objectType", "Agent") != "Agent":
        raise ValueError("the learner must be an xAPI Agent")
    try:
        key = agent_term(learner)
    except (KeyError, TypeError, AttributeError):
        key = None
    if not key:
        raise ValueError("the learner Agent needs an identifier: mbox, mbox_sha1sum, openid or account")
    return key


def registration_id_text(registration_id: str) -> str:
    """A registration id as stored: a UUID in lower-case text. ValueError otherwise."""
    import uuid

    try:
        return str(uuid.UUID(str(registration_id)))
    except ValueError:
        raise ValueError(f"the registration id {registration_id!r} is not a UUID") from None


def page_limit(limit: int) -> int:
    return max(1, min(int(limit), PAGE_LIMIT))


def check_seq(seq: int) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise ValueError(f"a commit sequence number is an integer from 1, not {seq!r}")


def decide(current: Attempt, seq: int) -> bool:
    """Whether commit ``seq`` is new for ``current`` (True) or a duplicate (False); raises OutOfOrder
    or AttemptEnded when it cannot be applied."""
    if seq <= current.applied_seq:
        return False
    if seq > current.applied_seq + 1:
        raise OutOfOrder(seq, current.applied_seq + 1)
    if current.ended:
        raise AttemptEnded(f"attempt {current.number} of SCO {current.sco_id!r} has ended; start a new attempt")
    return True


def check_sequencing(seq: int, state: str, rollup: dict) -> None:
    check_seq(seq)
    if not isinstance(state, str) or len(state) > MAX_SEQUENCING_STATE:
        raise ValueError(f"a sequencing state is text of at most {MAX_SEQUENCING_STATE} characters")
    if not isinstance(rollup, dict):
        raise ValueError("a sequencing rollup is a JSON object")


def check_objectives(objectives: dict) -> None:
    if not isinstance(objectives, dict) or not all(isinstance(k, str) and k and isinstance(v, dict)
                                                   for k, v in objectives.items()):
        raise ValueError("global objectives are a JSON object of objective id -> JSON object")


def changed(current: Attempt, new: Attempt, seq: int, now: str) -> Attempt:
    """The attempt to store: what ``change`` returned, with the identity of ``current``."""
    if not isinstance(new, Attempt):
        raise TypeError("a commit's change must return an Attempt")
    if not isinstance(new.data, dict):
        raise TypeError("an attempt's data must be a JSON object (dict)")
    return Attempt(current.registration_id, current.sco_id, current.number, current.started, now,
                   new.data, seq, new.completion_status, new.success_status, new.score_scaled,
                   new.total_time, bool(new.ended))
