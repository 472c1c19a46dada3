"""The document resources: State, Activity Profile and Agent Profile (Communication 2.2-2.7)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..errors import XAPIError
from ..statements.agents import agent_key
from ..statements.forms import now_timestamp, stored_form
from ..statements.validate import check_timestamp
from ..storage import Document
from .params import parse_agent, parse_id, parse_iri, parse_uuid
from .request import XRequest
from .responses import http_date, json_response, no_content


@dataclass(frozen=True)
class Kind:
    name: str            # the store's kind
    id_param: str        # stateId / profileId
    activity: bool       # takes activityId
    agent: bool          # takes agent
    registration: bool   # takes registration
    write_scope: str     # "state" or "profile"
    concurrency: bool    # PUT without If-Match/If-None-Match on an existing document is a 409
    delete_all: bool     # DELETE without an id deletes every document of the scope


STATE = Kind("state", "stateId", True, True, True, "state", False, True)
ACTIVITY_PROFILE = Kind("activity_profile", "profileId", True, False, False, "profile", True, False)
AGENT_PROFILE = Kind("agent_profile", "profileId", False, True, False, "profile", True, False)


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


class DocumentsResource:
    def __init__(self, store, kind: Kind):
        self.store = store
        self.kind = kind

    async def __call__(self, req: XRequest) -> Response:
        kind = self.kind
        method = req.method
        if method not in ("GET", "HEAD", "PUT", "POST", "DELETE"):
            raise XAPIError(405, f"{method} is not allowed here", headers={"Allow": "GET, HEAD, PUT, POST, DELETE"})
        reading = method in ("GET", "HEAD")
        allowed = {"all", kind.write_scope} | ({"all/read"} if reading else set())
        if not allowed.intersection(req.credential["scopes"]):
            raise XAPIError(403, f"these credentials do not have a scope allowing {method} here "
                                 f"(needs one of {', '.join(sorted(allowed))})")
        scope = self._scope(req)
        _check_learner(req, scope[1])
        doc_id = req.params.get(kind.id_param)
        if doc_id is not None:
            parse_id(doc_id, kind.id_param)
        known = {kind.id_param}
        known.update(name for name, used in (("activityId", kind.activity), ("agent", kind.agent),
                                             ("registration", kind.registration)) if used)
        if reading and doc_id is None:
            known.add("since")
        unknown = set(req.params) - known
        if unknown:
            raise XAPIError(400, f"unknown parameter(s): {', '.join(sorted(unknown))}")
        if doc_id is None:
            if reading:
                return await self._list(req, scope)
            if method == "DELETE" and kind.delete_all:
                await run_in_threadpool(self.store.delete_documents, kind.name, scope)
                return no_content()
            raise XAPIError(400, f"{method} needs the {kind.id_param} parameter", kind.id_param)
        if reading:
            doc = await run_in_threadpool(self.store.get_document, kind.name, scope, doc_id)
            if doc is None:
                raise XAPIError(404, f"no document with {kind.id_param} {doc_id!r}", kind.id_param)
            return Response(doc.content, media_type=None, headers={
                "Content-Type": doc.content_type, "ETag": f'"{doc.etag}"', "Last-Modified": http_date(doc.updated)})
        if method == "DELETE":
            change = self._deleter(req)
        else:
            change = self._writer(req, merge=(method == "POST"))
        await run_in_threadpool(self.store.update_document, kind.name, scope, doc_id, change)
        return no_content()

    def _scope(self, req: XRequest) -> tuple[str, str, str]:
        kind = self.kind
        activity = agent = registration = ""
        if kind.activity:
            if "activityId" not in req.params:
                raise XAPIError(400, "the activityId parameter is required", "activityId")
            activity = parse_iri(req.params["activityId"], "activityId")
        if kind.agent:
            if "agent" not in req.params:
                raise XAPIError(400, "the agent parameter is required", "agent")
            agent = agent_key(parse_agent(req.params["agent"], "agent"))
        if kind.registration and "registration" in req.params:
            registration = parse_uuid(req.params["registration"], "registration").lower()
        return activity, agent, registration

    async def _list(self, req: XRequest, scope) -> Response:
        since = req.params.get("since")
        if since is not None:
            check_timestamp(since, req.version, "since")
            since = stored_form(since)
        ids, updated = await run_in_threadpool(self.store.document_ids, self.kind.name, scope, since)
        return json_response(ids, headers={"Last-Modified": http_date(updated)} if updated else None)

    def _preconditions(self, req: XRequest, current: Document | None, method: str) -> None:
        if_match = req.headers.get("if-match")
        if_none_match = req.headers.get("if-none-match")
        if if_match is not None:
            tags = {t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")}
            if current is None or ("*" not in tags and current.etag not in tags):
                raise XAPIError(412, "If-Match does not match the document's current ETag; fetch it again")
        if if_none_match is not None and if_none_match.strip() == "*" and current is not None:
            raise XAPIError(412, "If-None-Match: * but the document already exists")
        if if_match is None and if_none_match is None and method == "PUT":
            # Profiles always need a precondition on PUT; under 2.0 so does State once the document exists.
            if current is not None and (self.kind.concurrency or req.v2):
                raise XAPIError(409, "the document already exists: check its current state and send If-Match with "
                                     "its ETag to replace it")
            if current is None and self.kind.concurrency:
                raise XAPIError(400, "PUT of a profile document needs an If-Match or If-None-Match header "
                                     "(If-None-Match: * to create it)")

    def _writer(self, req: XRequest, merge: bool):
        content = req.body
        content_type = req.headers.get("content-type") or "application/octet-stream"
        is_json = content_type.split(";")[0].strip().lower() == "application/json"
        posted = None
        if merge and is_json:
            posted = _json_object(content)
            if posted is not None:
                _merged_json(posted)  # a document POST stores must be one later POSTs can merge
        method = req.method

        def change(current: Document | None) -> Document:
            self._preconditions(req, current, method)
            body, ctype = content, content_type
            if merge and current is not None:
                current_json = current.content_type.split(";")[0].strip().lower() == "application/json"
                if not (is_json and current_json):
                    raise XAPIError(400, "POST merges JSON documents: both the stored and the posted document "
                                         "must be application/json objects; use PUT to replace it")
                existing = _json_object(current.content)
                if posted is None or existing is None:
                    raise XAPIError(400, "POST merges JSON objects: a document is not a JSON object")
                existing.update(posted)
                body = _merged_json(existing)
                ctype = "application/json"
            elif merge and is_json and posted is None:
                raise XAPIError(400, "a POSTed application/json document must be a JSON object")
            return Document(body, ctype, etag_of(body), now_timestamp())

        return change

    def _deleter(self, req: XRequest):
        def change(current: Document | None) -> None:
            self._preconditions(req, current, "DELETE")
            return None

        return change


FULL_READ_SCOPES = {"all", "all/read", "statements/read"}


def _check_learner(req: XRequest, agent: str) -> None:
    """A learner's credential (its Statement reading limited to statements/read/mine) reaches only
    the State and Agent Profile documents of its own authority Agent (README, "Scopes")."""
    scopes = set(req.credential["scopes"])
    if not agent or "statements/read/mine" not in scopes or FULL_READ_SCOPES & scopes:
        return
    if agent != agent_key(req.credential["authority"]):
        raise XAPIError(403, "these credentials reach only the documents of their own Agent (their authority)",
                        "agent")


def _json_object(content: bytes):
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):
            raise XAPIError(400, f"the JSON document nests more than {MAX_MERGE_DEPTH} levels deep; POST cannot "
                                 "merge it (PUT stores a document as it is)") from None
        return None
    return value if isinstance(value, dict) else None


# orjson reads JSON up to 1024 levels deep but writes at most 254 (its recursion limit); a merge
# writes the merged document back, so that is as deep as a merged document may be. PUT stores a
# document as sent and is not limited.
MAX_MERGE_DEPTH = 254


def _merged_json(document: dict) -> bytes:
    try:
        return orjson.dumps(document)
    except orjson.JSONEncodeError:
        raise XAPIError(400, f"the merged JSON document would nest more than {MAX_MERGE_DEPTH} levels deep; POST "
                             "cannot merge it (PUT stores a document as it is)") from None
