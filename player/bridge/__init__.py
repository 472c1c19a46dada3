"""The bridge: each applied commit of SCORM runtime data as the xAPI statements and documents of
ADL's xAPI Profile for SCORM, written through the LRS's storage port with the player's authority.

    plan(before, after, commit, ctx) -> Plan          # pure: what the commit means in xAPI
    Bridge(store, authority, iri_base).write(plan)    # stores it, idempotently; the statement ids
    Bridge(...).record(before, after, commit, registration, course, version, sco)   # both, for the commit route
"""
from __future__ import annotations

from .documents import DocumentWrite  # noqa: F401
from .plan import CommitInfo, Context, Plan, context_for, overall_result, plan, score, statuses  # noqa: F401
from .vocabulary import (ACTIVITY_PROFILE, ACTIVITY_STATE, AGENT_PROFILE, ATTEMPT_STATE, PROFILE,  # noqa: F401
                         SUSPEND_DATA, attempt_iri, course_iri, interaction_iri, objective_iri, player_authority,
                         sco_iri, statement_id)
from .write import Bridge, BridgeError  # noqa: F401
