"""Statements: a browser over the LRS's statement query, each statement shown readably with its JSON.

    GET /statements         the filters of GET /xapi/statements (agent, verb, activity, registration, since,
                            until, related_activities, related_agents, ascending), or ``person`` (a person id
                            of the directory: their first identity, or identity number ``identity``, stands for
                            ``agent``); pages with the LRS's own ``more`` cursor (``cursor``)
    GET /statements.csv     every statement the filter finds, as CSV
    GET /statements/{id}    one statement, its JSON pretty-printed (a voided one shown as such)

The query is the LRS's: ``Site.services["statements"]`` is the Statement Resource of lrs/http
(lrs.http.statements.StatementsResource), called with the parameters the form gives, so a value is
checked as ``/xapi/statements`` checks it (a 400 page names the field) and a page's ``more`` cursor is
the one the API would give. Admins and auditors see every statement; a supervisor only those of the
people they supervise: the agent filter must be one of their people's identities.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from lrs.errors import XAPIError
from lrs.http.params import parse_agent
from lrs.http.request import XRequest
from lrs.statements.terms import agent_term
from lrs.storage import StoreBusy
from rules import tables
from rules.core import RulesError

from ..site import PAGE, PageError, Site

FILTERS = ("agent", "verb", "activity", "registration", "since", "until", "related_activities", "related_agents",
           "ascending")
FLAGS = ("related_activities", "related_agents", "ascending")
CSV_COLUMNS = ["id", "timestamp", "stored", "actor", "verb", "verb_display", "object", "object_name", "registration",
               "score_scaled", "score_raw", "score_max", "success", "completion", "duration", "response", "voids"]
READER = {"key": "web-pages", "scopes": ["statements/read"], "authority": {"objectType": "Agent",
                                                                          "account": {"homePage": "urn:lrs",
                                                                                      "name": "web-pages"}}}
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def pick(lang_map) -> str:
    """One text of a language map: en-US, en, then the first."""
    if not isinstance(lang_map, dict) or not lang_map:
        return ""
    for tag in ("en-US", "en-GB", "en"):
        if isinstance(lang_map.get(tag), str):
            return lang_map[tag]
    first = next(iter(lang_map.values()))
    return first if isinstance(first, str) else ""


def who(actor) -> str:
    """An Agent or Group in words: its name, else its identifier."""
    if not isinstance(actor, dict):
        return ""
    if actor.get("name"):
        return str(actor["name"])
    if actor.get("mbox"):
        return str(actor["mbox"]).removeprefix("mailto:")
    account = actor.get("account")
    if isinstance(account, dict):
        return f"{account.get('name', '')} ({account.get('homePage', '')})"
    if actor.get("openid"):
        return str(actor["openid"])
    if actor.get("mbox_sha1sum"):
        return "sha1:" + str(actor["mbox_sha1sum"])
    members = actor.get("member") or []
    return f"a group of {len(members)}" if members else "an anonymous group"


def what(obj) -> dict:
    """The object in words: {"text", "id", "ref"} (ref: the id of a statement it points at)."""
    if not isinstance(obj, dict):
        return {"text": "", "id": "", "ref": ""}
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        name = pick((obj.get("definition") or {}).get("name"))
        return {"text": name or obj.get("id", ""), "id": obj.get("id", "") if name else "", "ref": ""}
    if kind in ("Agent", "Group"):
        return {"text": who(obj), "id": "", "ref": ""}
    if kind == "StatementRef":
        return {"text": "statement " + str(obj.get("id", "")), "id": "", "ref": str(obj.get("id", ""))}
    if kind == "SubStatement":
        verb = obj.get("verb") or {}
        inner = what(obj.get("object"))
        return {"text": f"(sub-statement) {who(obj.get('actor'))} {pick(verb.get('display')) or verb.get('id', '')} "
                        f"{inner['text']}", "id": "", "ref": ""}
    return {"text": str(obj.get("id", "")), "id": "", "ref": ""}


def readable(st: dict) -> dict:
    """What a row of the browser shows of a statement."""
    verb = st.get("verb") or {}
    result = st.get("result") or {}
    score = result.get("score") or {}
    obj = what(st.get("object"))
    return {"id": st.get("id", ""), "when": st.get("timestamp", ""), "stored": st.get("stored", ""),
            "who": who(st.get("actor")), "verb": pick(verb.get("display")) or verb.get("id", "").rsplit("/", 1)[-1],
            "verb_id": verb.get("id", ""), "object": obj,
            "registration": (st.get("context") or {}).get("registration", ""),
            "score_scaled": score.get("scaled"), "score_raw": score.get("raw"), "score_max": score.get("max"),
            "success": result.get("success"), "completion": result.get("completion"),
            "duration": result.get("duration"), "response": result.get("response"),
            "voids": obj["ref"] if verb.get("id") == VOIDED else "",
            "json": orjson.dumps(st, option=orjson.OPT_INDENT_2).decode()}


def csv_row(st: dict) -> dict:
    r = readable(st)
    return {**r, "timestamp": r["when"], "actor": r["who"], "verb": r["verb_id"], "verb_display": r["verb"],
            "object": (st.get("object") or {}).get("id", ""), "object_name": r["object"]["text"]}


def routes(site: Site) -> list[Route]:
    prefix = site.prefix

    def resource():
        found = site.services.get("statements")
        if found is None:
            raise PageError(503, "This service runs without the LRS part the statement pages need.",
                            "Ask an admin to check how the service is set up.")
        return found

    def in_team(team: set[str], term: str | None) -> bool:
        """Whether an identity (agent term) is one of a supervisor's people's (``team``: their ids)."""
        return bool(term) and site.rules.owners([term]).get(term) in team

    def filters_of(q) -> tuple[dict, dict]:
        """(the form's values as given, the LRS query parameters they make)."""
        form = {k: q.get(k, "").strip() for k in (*FILTERS, "person", "identity")}
        form["identities"] = []
        params = {k: v for k, v in form.items() if v and k in FILTERS}
        for flag in FLAGS:
            if flag in params and params[flag] == "on":
                params[flag] = "true"
        if form["agent"] and form["person"]:
            raise PageError(400, "Give a person or an agent, not both (field: person; or clear the field: agent).",
                            "Clear one of the two fields and search again.")
        agent = form["agent"]
        if agent and not agent.startswith("{"):   # a person's e-mail address or mailto: IRI
            params["agent"] = orjson.dumps({"objectType": "Agent", "mbox": agent if agent.startswith("mailto:")
                                            else "mailto:" + agent}).decode()
        if form["person"]:
            try:
                person = site.rules.person(form["person"])
            except RulesError:
                raise PageError(400, f"There is no person {form['person'][:80]!r} (field: person).",
                                "Enter a person id from the people list.") from None
            if not person["agents"]:
                raise PageError(400, "This person has no identity to look statements up by (field: person).",
                                "Add their e-mail address to the people directory.")
            n = form["identity"] or "0"
            if not n.isascii() or not n.isdigit() or int(n) >= len(person["agents"]):
                raise PageError(400, f"This person has no identity number {n[:10]!r} (field: identity).",
                                "Pick one of the person's identities from the list.")
            params["agent"] = orjson.dumps({"objectType": "Agent", **person["agents"][int(n)]}).decode()
            form["identity"] = int(n)
            form["identities"] = [who({"objectType": "Agent", **{k: v for k, v in a.items() if k != "name"}})
                                  for a in person["agents"]]
        return form, params

    def restrict(account, params: dict) -> None:
        team = site.team_of(account)
        if team is None:
            return
        if "agent" not in params:
            raise PageError(403, "Supervisors see the statements of the people they supervise only, and no person "
                                 "was picked.", "Pick a person you supervise (field: person) and search again.")
        try:
            term = agent_term(parse_agent(params["agent"], "agent"))
        except XAPIError as exc:
            raise PageError(400, f"{exc.message} (field: agent).", "Correct the agent and search again.") from None
        if not in_team(team, term):
            raise PageError(403, "This person is not one you supervise.",
                            "Pick a person you supervise (field: person) and search again.")
        if params.get("related_agents") == "true":
            raise PageError(403, "Supervisors see their people's own statements; “related agents” would show "
                                 "other people's too.", "Clear “related agents” and search again.")

    async def query(params: dict, limit: int) -> tuple[list[dict], str | None]:
        """One page from the LRS: (statements, the cursor of its more link)."""
        req = XRequest(method="GET", path="/statements", root_path="/xapi", params={**params, "limit": str(limit)},
                       headers={}, body=b"", credential=READER)
        try:
            resp = await resource().get(req)
        except StoreBusy:
            raise PageError(503, "The statement store is busy and did not answer in time.",
                            "Try again in a minute, or narrow the filters.") from None
        except XAPIError as exc:
            field = exc.path or "filter"
            raise PageError(exc.status if exc.status < 500 else 503, f"{exc.message} (field: {field}).",
                            f"Correct the {field} field and search again." if exc.status == 400 else
                            "Try again in a minute.") from None
        body = orjson.loads(resp.body)
        cursor = dict(parse_qsl(urlsplit(body["more"]).query)).get("cursor") if body.get("more") else None
        return body["statements"], cursor

    async def browse(request: Request) -> Response:
        account = await site.need(request)
        form, params = filters_of(request.query_params)
        await run_in_threadpool(restrict, account, params)
        cursor = request.query_params.get("cursor", "")
        statements, more = await query({**params, **({"cursor": cursor} if cursor else {})}, PAGE)
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor" and v]
        next_url = "?" + urlencode(kept + [("cursor", more)]) if more else None
        csv_url = f"{prefix}/statements.csv" + ("?" + urlencode(kept) if kept else "")
        first_url = "?" + urlencode(kept) if kept else "?"
        identity_urls = [(text, "?" + urlencode([(k, v) for k, v in kept if k != "identity"] + [("identity", i)]))
                         for i, text in enumerate(form["identities"])]
        return site.render(request, "statements.html", rows=[readable(s) for s in statements], form=form,
                           next_url=next_url, csv_url=csv_url, paged=bool(cursor), first_url=first_url,
                           identity_urls=identity_urls,
                           supervisor=account.role == "supervisor")

    async def export(request: Request) -> Response:
        account = await site.need(request)
        _, params = filters_of(request.query_params)
        await run_in_threadpool(restrict, account, params)
        first, more = await query(params, PAGE)      # a bad filter is a 400 page before the download starts

        async def lines():
            buf = _Lines()
            tables.write(buf, CSV_COLUMNS, [])
            yield buf.take()
            page, cursor = first, more
            while True:
                tables.write(buf, CSV_COLUMNS, [csv_row(s) for s in page], header=False)
                yield buf.take()
                if not cursor:
                    return
                page, cursor = await query({**params, "cursor": cursor}, 500)

        return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={
            "Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="statements.csv"'})

    async def one(request: Request) -> Response:
        account = await site.need(request)
        sid = request.path_params["sid"]
        voided = False
        try:
            found = await resource().get(XRequest(method="GET", path="/statements", root_path="/xapi",
                                                  params={"statementId": sid}, headers={}, body=b"",
                                                  credential=READER))
        except XAPIError as exc:
            if exc.status == 400:
                raise PageError(400, f"{sid[:80]!r} is not a statement id (a UUID).",
                                "Check the link, or search the statements.") from None
            try:
                found = await resource().get(XRequest(method="GET", path="/statements", root_path="/xapi",
                                                      params={"voidedStatementId": sid}, headers={}, body=b"",
                                                      credential=READER))
                voided = True
            except XAPIError:
                raise PageError(404, "There is no statement with this id.", "Search the statements.") from None
        st = orjson.loads(found.body)
        team = await run_in_threadpool(site.team_of, account)
        if team is not None and not await run_in_threadpool(in_team, team, agent_term(st.get("actor") or {})):
            raise PageError(403, "This statement is not of a person you supervise.",
                            "Pick a person you supervise on the statements page.")
        return site.render(request, "statement.html", s=readable(st), voided=voided)

    return [Route("/statements", browse), Route("/statements.csv", export), Route("/statements/{sid}", one)]


class _Lines:
    """A text buffer that hands over what was written since the last call."""

    def __init__(self):
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        out, self.parts = "".join(self.parts), []
        return out
