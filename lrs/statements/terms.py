"""The terms a Statement is found by: one string per filter value a query can ask for.

``v:`` verb id; ``au:`` authority (``statements/read/mine``); ``a:`` agent as actor or object (the ``agent`` filter); ``ra:`` any agent
anywhere (``related_agents``); ``o:`` activity as object (``activity``); ``ro:`` any
activity anywhere (``related_activities``); ``r:`` registration.
"""
from __future__ import annotations

from .agents import agent_key


def agent_term(agent: dict) -> str | None:
    """Agents and identified Groups match when objectType and IFI are the same (Communication 2.1.3)."""
    key = agent_key(agent)
    return f"{agent.get('objectType', 'Agent')}|{key}" if key else None


def statement_terms(st: dict) -> set[str]:
    terms: set[str] = {"v:" + st["verb"]["id"]}
    _add(st, terms, top=True)
    return terms


def _agent_terms(agent: dict | None, terms: set, direct: bool) -> None:
    if not agent:
        return
    key = agent_term(agent)
    if key:
        terms.add("ra:" + key)
        if direct:
            terms.add("a:" + key)
    for member in agent.get("member") or ():
        mkey = agent_term(member)
        if mkey:
            terms.add("ra:" + mkey)


def _add(st: dict, terms: set, top: bool) -> None:
    _agent_terms(st["actor"], terms, direct=top)
    obj = st["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        if top:
            terms.add("o:" + obj["id"])
        terms.add("ro:" + obj["id"])
    elif kind in ("Agent", "Group"):
        _agent_terms(obj, terms, direct=top)
    elif kind == "SubStatement":
        _add(obj, terms, top=False)
    if top:
        authority = st.get("authority")
        _agent_terms(authority, terms, direct=False)
        if authority:
            terms.add("au:" + agent_term(authority))
    ctx = st.get("context")
    if ctx:
        if top and "registration" in ctx:
            terms.add("r:" + ctx["registration"].lower())
        _agent_terms(ctx.get("instructor"), terms, direct=False)
        _agent_terms(ctx.get("team"), terms, direct=False)
        for ca in ctx.get("contextAgents") or ():
            _agent_terms(ca.get("agent"), terms, direct=False)
        for cg in ctx.get("contextGroups") or ():
            _agent_terms(cg.get("group"), terms, direct=False)
        for acts in (ctx.get("contextActivities") or {}).values():
            for act in (acts if isinstance(acts, list) else (acts,)):
                terms.add("ro:" + act["id"])
