"""The terms a Statement is found by: one string per filter value a query can ask for, each
with a flag saying whether the Statement has it directly.

``v:`` verb id; ``r:`` registration; ``au:`` authority (``statements/read/mine``);
``A:`` an Agent or identified Group, direct as actor or object (the ``agent`` filter),
anywhere else as related (``related_agents``); ``O:`` an Activity, direct as object (the
``activity`` filter), in context or a SubStatement as related (``related_activities``).
One term per value, not one per filter, keeps the index small: a related query takes
every row of a term, a direct query only the rows flagged direct.
"""
from __future__ import annotations

import hashlib
import sys

from .agents import agent_key

Terms = dict[str, bool]
AUTHORITY = "au:"  # the authority term: a Statement's own, never inherited through StatementRef


def agent_term(agent: dict) -> str | None:
    """Agents and identified Groups match when objectType and IFI are the same (Communication 2.1.3)."""
    key = agent_key(agent)
    return f"{agent.get('objectType', 'Agent')}|{key}" if key else None


def statement_terms(st: dict) -> Terms:
    terms: Terms = {"v:" + st["verb"]["id"]: True}
    _add(st, terms, top=True)
    return terms


def inheritable(terms: Terms) -> Terms:
    """The terms a Statement passes on to the Statements that target it (StatementRef): all but its
    authority. Who stored the target says nothing of who stored a Statement targeting it, and ``au:``
    is what keeps a ``statements/read/mine`` credential to the Statements it stored itself."""
    return {t: d for t, d in terms.items() if not t.startswith(AUTHORITY)}


def merge(into: Terms, other: Terms) -> None:
    """Add to a Statement's terms ``into`` what it inherits from the full terms of its target."""
    for term, direct in other.items():
        if (direct or term not in into) and not term.startswith(AUTHORITY):
            into[term] = direct


def _put(terms: Terms, term: str, direct: bool) -> None:
    if direct or term not in terms:
        terms[term] = direct


def _agent_terms(agent: dict | None, terms: Terms, direct: bool) -> None:
    if not agent:
        return
    key = agent_term(agent)
    if key:
        _put(terms, "A:" + key, direct)
    for member in agent.get("member") or ():  # a Group's members match the agent filter (Communication 2.1.3)
        mkey = agent_term(member)
        if mkey:
            _put(terms, "A:" + mkey, direct)


def _add(st: dict, terms: Terms, top: bool) -> None:
    _agent_terms(st["actor"], terms, direct=top)
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        _put(terms, "O:" + obj["id"], top)
    elif kind in ("Agent", "Group"):
        _agent_terms(obj, terms, direct=top)
    elif kind == "SubStatement":
        _add(obj, terms, top=False)
    if top:
        authority = st.get("authority")
        if authority:
            _agent_terms(authority, terms, direct=False)
            terms[AUTHORITY + agent_term(authority)] = True
    ctx = st.get("context")
    if ctx:
        if top and "registration" in ctx:
            terms["r:" + ctx["registration"].lower()] = True
        _agent_terms(ctx.get("instructor"), terms, direct=False)
        _agent_terms(ctx.get("team"), terms, direct=False)
        for ca in ctx.get("contextAgents") or ():
            _agent_terms(ca.get("agent"), terms, direct=False)
        for cg in ctx.get("contextGroups") or ():
            _agent_terms(cg.get("group"), terms, direct=False)
        for acts in (ctx.get("contextActivities") or {}).values():
            for act in (acts if isinstance(acts, list) else (acts,)):
                _put(terms, "O:" + act["id"], False)


def hash64(text: str) -> int:
    """The first 8 bytes of the text's BLAKE2b digest, as a signed 64-bit int."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True)


# A term's key in a store's index. Terms repeat (verbs, activities, learners), so their hashes
# are remembered; Statement ids, each hashed about once, use hash64 and stay out of the cache.
# The memory is bounded in bytes, not entries: a term longer than TERM_CACHE_MAX_CHARS is hashed
# each time (real IRIs and IFIs are far shorter), and the cache starts over when its entries would
# take more than TERM_CACHE_BYTES (each counted as its key's size plus a fixed overhead for the
# dict slot and the int). Starting over is one dict clear; a dict lookup is all a hit costs.
TERM_CACHE_BYTES = 16 * 1024 * 1024
TERM_CACHE_MAX_CHARS = 512
_ENTRY_OVERHEAD = 120  # dict slot and spare room (~60) + the int (32) + rounding
_term_hashes: dict[str, int] = {}
_term_bytes = 0


def term_hash(term: str) -> int:
    h = _term_hashes.get(term)
    if h is not None:
        return h
    h = hash64(term)
    if len(term) <= TERM_CACHE_MAX_CHARS:
        global _term_bytes
        size = sys.getsizeof(term) + _ENTRY_OVERHEAD
        if _term_bytes + size > TERM_CACHE_BYTES:
            _term_hashes.clear()
            _term_bytes = 0
        _term_hashes[term] = h
        _term_bytes += size
    return h


def term_cache_bytes() -> int:
    """The bytes the term hash cache holds now, as it counts them."""
    return _term_bytes
