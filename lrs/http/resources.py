"""The small resources: About, Agents (the combined Person) and Activities (the canonical definition)."""
from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..errors import XAPIError
from ..statements.agents import IFIS
from .params import parse_agent, parse_iri
from .request import XRequest
from .responses import json_response

SUPPORTED_VERSIONS = ["1.0.0", "1.0.1", "1.0.2", "1.0.3", "2.0.0"]
READ_SCOPES = {"all", "all/read", "define", "profile", "state", "statements/read", "statements/read/mine"}


def _check(req: XRequest, allowed_params: set[str]) -> None:
    if req.method not in ("GET", "HEAD"):
        raise XAPIError(405, f"{req.method} is not allowed here", headers={"Allow": "GET, HEAD"})
    unknown = set(req.params) - allowed_params
    if unknown:
        raise XAPIError(400, f"unknown parameter(s): {', '.join(sorted(unknown))}")
    if not READ_SCOPES.intersection(req.credential["scopes"]):
        raise XAPIError(403, "these credentials do not have a scope allowing reading")


async def about(req: XRequest) -> Response:
    if req.method not in ("GET", "HEAD"):
        raise XAPIError(405, f"{req.method} is not allowed here", headers={"Allow": "GET, HEAD"})
    return json_response({"version": SUPPORTED_VERSIONS, "extensions": {}})


async def agents(req: XRequest) -> Response:
    _check(req, {"agent"})
    if "agent" not in req.params:
        raise XAPIError(400, "the agent parameter is required", "agent")
    agent = parse_agent(req.params["agent"], "agent", groups=False)
    person: dict = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for key in IFIS:
        if key in agent:
            person[key] = [agent[key]]
    return json_response(person)


class ActivitiesResource:
    def __init__(self, store):
        self.store = store

    async def __call__(self, req: XRequest) -> Response:
        _check(req, {"activityId"})
        if "activityId" not in req.params:
            raise XAPIError(400, "the activityId parameter is required", "activityId")
        activity_id = parse_iri(req.params["activityId"], "activityId")
        definition = await run_in_threadpool(self.store.activity, activity_id)
        out = {"objectType": "Activity", "id": activity_id}
        if definition:
            out["definition"] = definition
        return json_response(out)
