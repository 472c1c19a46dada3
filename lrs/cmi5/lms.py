"""The LMS side of cmi5 in the LRS: registrations and AU sessions, the session's auth token (a
credential for one registration and AU, valid while the session is), the rules on the statements
of a session (rules.py), moveOn, and the LMS's own statements: launched, satisfied, abandoned, waived.

``Cmi5LMS`` is blocking (the HTTP layers run it off the event loop). It writes through the LRS's own
storage port with the LMS's authority; course trees come from the caller (player/cmi5), so nothing
here knows the content store.

A course tree (``register``): ``{"course": {"pub", "lms", "title"}, "blocks": [{"pub", "lms", "aus":
[au pub ids, nested blocks' included]}] (innermost first), "aus": [{"pub", "activity_id", "move_on",
"mastery_score", "launch_parameters", "entitlement_key", "launch_method"}]}``.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import time
import uuid
from datetime import datetime, timezone
from typing import Callable

import orjson

from ..errors import XAPIError
from ..http.documents import etag_of
from ..statements.agents import agent_key
from ..statements.forms import format_utc, now_timestamp, prepare
from ..statements.terms import statement_terms
from ..statements.validate import validate_statement
from ..storage import Document, NewStatement
from . import rules
from .rules import Rejected
from .store import ACTIVE, Cmi5Store

TOKEN_PREFIX = "cmi5-"
TOKEN_B64_PREFIX = "Y21pNS"           # how base64 of "cmi5-..." starts: a cheap test of an Authorization header
LAUNCH_DATA = "LMS.LaunchData"
LEARNER_PREFS = "cmi5LearnerPreferences"
TOKEN_SCOPES = ["statements/write", "state", "profile"]
BLOCK_TYPE = "https://w3id.org/xapi/cmi5/activitytype/block"
COURSE_TYPE = "https://w3id.org/xapi/cmi5/activitytype/course"
VERB_NAMES = {rules.LAUNCHED: "launched", rules.SATISFIED: "satisfied", rules.ABANDONED: "abandoned",
              rules.WAIVED: "waived"}
REG_CACHE_SECONDS = 2.0


class Cmi5Error(Exception):
    def __init__(self, status: int, message: str, path: str | None = None):
        super().__init__(message)
        self.status, self.message, self.path = status, message, path


class _PutJson:
    """A document change that stores a JSON body (picklable for the SQLite writer process)."""

    def __init__(self, body: dict):
        self.content = orjson.dumps(body)

    def __call__(self, current):
        return Document(self.content, "application/json", etag_of(self.content), now_timestamp())


def _iso_duration(seconds: float) -> str:
    return f"PT{max(0.0, seconds):.2f}S"


class Cmi5LMS:
    def __init__(self, lrs_store, store: Cmi5Store, secret: bytes, authority: dict,
                 session_timeout: float = 1800, clock: Callable[[], float] = time.time):
        self.lrs = lrs_store
        self.store = store
        self.secret = secret
        self.authority = authority
        self.au_authority = {**authority, "name": "cmi5 AU session"}
        self.session_timeout = session_timeout
        self.clock = clock
        self._regs: dict[str, tuple[float, bool]] = {}

    # -- signing -------------------------------------------------------------------------

    def _sign(self, purpose: str, value: str) -> str:
        mac = hmac.new(self.secret, f"{purpose}|{value}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")

    def fetch_token(self, session_id: str) -> str:
        return f"{session_id}.{self._sign('fetch', session_id)}"

    def auth_token(self, session_id: str) -> str:
        key = TOKEN_PREFIX + session_id
        return base64.b64encode(f"{key}:{self._sign('auth', session_id)}".encode()).decode()

    # -- registrations -------------------------------------------------------------------

    def register(self, registration_id: str, actor: dict, course_id: str, version: int, tree: dict) -> dict:
        """The registration (made with ``tree`` when new: moveOn is evaluated then, so NotApplicable AUs
        satisfy their blocks and the course at once, cmi5 9.6.1)."""
        reg = self.store.get_registration(registration_id)
        if reg is not None:
            if agent_key(reg["actor"]) != agent_key(actor) or reg["course_id"] != course_id:
                raise Cmi5Error(409, f"registration {registration_id} belongs to another learner or course",
                                "registration")
            return reg
        reg = {"id": registration_id, "actor": actor, "course_id": course_id, "version": version, "tree": tree,
               "aus": {a["pub"]: {} for a in tree["aus"]}, "satisfied": [], "created": now_timestamp()}
        if not self.store.put_registration(reg, 0):
            return self.register(registration_id, actor, course_id, version, tree)
        self._regs[registration_id] = (self.clock(), True)
        reg = self.store.get_registration(registration_id)
        self._satisfy(reg, str(uuid.uuid4()))
        return self.store.get_registration(registration_id)

    def is_cmi5_registration(self, registration_id: str) -> bool:
        now = self.clock()
        hit = self._regs.get(registration_id)
        if hit and (hit[1] or now - hit[0] < REG_CACHE_SECONDS):
            return hit[1]
        found = self.store.get_registration(registration_id) is not None
        if len(self._regs) > 50_000:
            self._regs.clear()
        self._regs[registration_id] = (now, found)
        return found

    def status(self, registration_id: str) -> dict | None:
        reg = self.store.get_registration(registration_id)
        if reg is None:
            return None
        tree = reg["tree"]
        return {"registration": reg["id"], "course_id": reg["course_id"], "version": reg["version"],
                "satisfied": tree["course"]["lms"] in reg["satisfied"],
                "aus": [{"id": a["pub"], "activity_id": a["activity_id"], "move_on": a["move_on"],
                         **{k: bool(reg["aus"].get(a["pub"], {}).get(k)) for k in ("completed", "passed", "failed", "waived")},
                         "satisfied": rules.au_satisfied(a["move_on"], reg["aus"].get(a["pub"], {}))}
                        for a in tree["aus"]],
                "blocks": [{"id": b["pub"], "satisfied": b["lms"] in reg["satisfied"]} for b in tree["blocks"]]}

    # -- sessions ------------------------------------------------------------------------

    def start_session(self, registration_id: str, au_pub: str, launch_mode: str = "Normal",
                      return_url: str | None = None, launch_url: str = "") -> dict:
        """A new AU session: earlier active sessions of the registration are abandoned (cmi5 9.3.6),
        then LMS.LaunchData is written and the launched statement recorded (cmi5 9.3.1, 10)."""
        reg = self.store.get_registration(registration_id)
        if reg is None:
            raise Cmi5Error(404, f"no cmi5 registration {registration_id}", "registration")
        au = next((a for a in reg["tree"]["aus"] if a["pub"] == au_pub), None)
        if au is None:
            raise Cmi5Error(404, f"the course has no AU {au_pub!r}", "au")
        if launch_mode not in ("Normal", "Browse", "Review"):
            raise Cmi5Error(400, "launch_mode must be Normal, Browse or Review", "launch_mode")
        for old in self.store.active_sessions(registration_id):
            self.abandon(old["id"])
        now = self.clock()
        sid = str(uuid.uuid4())
        session = {"id": sid, "registration": registration_id, "au": au_pub, "activity_id": au["activity_id"],
                   "actor_key": rules._actor_key(reg["actor"]), "state": "launched", "verbs": [],
                   "mastery_score": au.get("mastery_score"), "launch_mode": launch_mode, "move_on": au["move_on"],
                   "fetched": False, "prefs_read": False, "started": now, "last": now}
        self.store.put_session(session, 0)
        template = {"contextActivities": {"grouping": [{"id": au["pub"]}]}, "extensions": {rules.EXT_SESSION: sid}}
        data = {"contextTemplate": template, "launchMode": launch_mode, "moveOn": au["move_on"]}
        if au.get("launch_parameters") is not None:
            data["launchParameters"] = au["launch_parameters"]
        if au.get("mastery_score") is not None:
            data["masteryScore"] = au["mastery_score"]
        if return_url:
            data["returnURL"] = return_url
        if au.get("entitlement_key") is not None:
            data["entitlementKey"] = {"courseStructure": au["entitlement_key"]}
        ext = {rules.EXT_SESSION: sid, rules.EXT_LAUNCHMODE: launch_mode, rules.EXT_MOVEON: au["move_on"]}
        if launch_url:
            ext[rules.EXT_LAUNCHURL] = launch_url
        if au.get("mastery_score") is not None:
            ext[rules.EXT_MASTERY] = au["mastery_score"]
        if au.get("launch_parameters") is not None:
            ext[rules.EXT_LAUNCHPARAMS] = au["launch_parameters"]
        launched = self._statement(reg, rules.LAUNCHED, {"id": au["activity_id"]}, sid, au["pub"], extensions=ext)
        scope = (au["activity_id"], agent_key(reg["actor"]), registration_id)
        self._write([launched], documents=[("state", scope, LAUNCH_DATA, _PutJson(data))])
        return session

    def session(self, session_id: str) -> dict | None:
        return self.store.get_session(session_id)

    def _live(self, session: dict | None) -> dict | None:
        """The session if the AU may still act in it; one idle past the timeout is abandoned now."""
        if session is None or session["state"] not in ACTIVE:
            return None
        if self.clock() - session["last"] > self.session_timeout:
            self.abandon(session["id"])
            return None
        return session

    def fetch(self, token: str) -> dict:
        """The fetch URL's answer (cmi5 8.2): the auth token the first time, an error object after."""
        sid, _, sig = token.partition(".")
        if not sig or not hmac.compare_digest(sig, self._sign("fetch", sid)):
            return {"error-code": "2", "error-text": "this fetch URL is not valid"}
        while True:
            session = self._live(self.store.get_session(sid))
            if session is None:
                return {"error-code": "1", "error-text": "the AU session has ended or expired"}
            if session["fetched"]:
                return {"error-code": "1", "error-text": "the authorization token has already been returned"}
            if self.store.put_session({**session, "fetched": True, "last": self.clock()}, session["rev"]):
                return {"auth-token": self.auth_token(sid)}

    def credential(self, authorization: str | None) -> dict | None:
        """The credential an AU session's auth token stands for; None when the header is not such a
        token; Cmi5Error(401) when it is one whose session is over or that is forged."""
        if not authorization or authorization[6:].lstrip()[:6] != TOKEN_B64_PREFIX \
                or authorization[:6].lower() != "basic ":
            return None
        try:
            key, _, secret = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        sid = key[len(TOKEN_PREFIX):]
        if not hmac.compare_digest(secret, self._sign("auth", sid)):
            raise Cmi5Error(401, "the cmi5 authorization token is not valid")
        session = self._live(self.store.get_session(sid))
        if session is None:
            raise Cmi5Error(401, "the cmi5 session of this authorization token has ended (terminated, abandoned "
                                 "or expired)")
        return {"key": key, "scopes": list(TOKEN_SCOPES), "authority": self.au_authority,
                "cmi5": {"session": sid, "registration": session["registration"], "kind": session.get("kind", "cmi5"),
                         "activity": session["activity_id"], "actor_key": session["actor_key"]}}

    def tincan_session(self, registration_id: str, actor: dict, activity_id: str) -> tuple[str, str]:
        """A TinCan launch's session: (its id, the ``auth`` value: a Basic token limited to the
        registration and the learner, valid until the session has been idle for the timeout)."""
        now = self.clock()
        sid = str(uuid.uuid4())
        self.store.put_session({"id": sid, "registration": registration_id, "kind": "tincan", "au": None,
                                "activity_id": activity_id, "actor_key": rules._actor_key(actor),
                                "state": "initialized", "started": now, "last": now}, 0)
        return sid, "Basic " + self.auth_token(sid)

    def limit(self, cred: dict, method: str, path: str, params: dict) -> None:
        """What an AU session's token may do (raises Cmi5Error 403): write statements of its session,
        read and write its own state documents (LMS.LaunchData read only), read its learner's agent
        profiles (the learner preferences belong to the LMS) and its AU's activity profiles."""
        c = cred["cmi5"]
        reading = method in ("GET", "HEAD")
        tincan = c["kind"] == "tincan"
        if path == "/statements":
            if reading:
                raise Cmi5Error(403, "an AU session's token cannot read statements")
            return
        if path in ("/activities", "/agents", "/about"):
            return
        if path == "/activities/profile":
            if not reading or (params.get("activityId") != c["activity"] and not tincan):
                raise Cmi5Error(403, "an AU session's token reads only its AU's activity profiles", "activityId")
            return
        agent = params.get("agent")
        if agent is not None:
            try:
                key = rules._actor_key(orjson.loads(agent))
            except orjson.JSONDecodeError:
                key = None
            if key is not None and key != c["actor_key"]:
                raise Cmi5Error(403, "an AU session's token reaches only its learner's documents", "agent")
        if path == "/activities/state":
            if params.get("activityId") != c["activity"] and not tincan:
                raise Cmi5Error(403, "an AU session's token reaches only its AU's state", "activityId")
            if str(params.get("registration", "")).lower() != c["registration"]:
                raise Cmi5Error(403, "an AU session's token reaches only its registration's state", "registration")
            if params.get("stateId") == LAUNCH_DATA and not reading:
                raise Cmi5Error(403, "LMS.LaunchData is written by the LMS only (cmi5 10.2.1)", "stateId")
            if method == "DELETE" and "stateId" not in params:
                raise Cmi5Error(403, "an AU session's token cannot delete every state document", "stateId")
            return
        if path == "/agents/profile":
            if agent is None:
                return          # the resource answers 400: agent is required
            if not reading:
                raise Cmi5Error(403, "the learner's agent profile is kept by the LMS (cmi5 11)", "profileId")
            if params.get("profileId") == LEARNER_PREFS:
                self._update_session(c["session"], lambda s: {**s, "prefs_read": True})
            return
        raise Cmi5Error(403, f"an AU session's token cannot use {path}")

    def _update_session(self, sid: str, change) -> dict | None:
        while True:
            s = self.store.get_session(sid)
            if s is None:
                return None
            new = change(s)
            if new is s or self.store.put_session(new, s["rev"]):
                return new

    # -- statements of a session ---------------------------------------------------------------

    def begin(self, credential: dict, batch: list) -> "StatementCheck | TincanCheck | None":
        """A check for a batch that holds statements of a cmi5 session: all of a batch sent with a
        session's token; from any other credential, the statements that carry the cmi5 session id
        extension. None for any other batch, after a look at each statement's context extensions
        and no I/O: statements outside cmi5 sessions cost nothing more."""
        token = credential.get("cmi5")
        if token is not None:
            return TincanCheck(self, token) if token["kind"] == "tincan" else StatementCheck(self, token)
        for st in batch:
            ctx = st.get("context") if isinstance(st, dict) else None
            ext = ctx.get("extensions") if isinstance(ctx, dict) else None
            if isinstance(ext, dict) and rules.EXT_SESSION in ext:
                return StatementCheck(self, None)
        return None

    # -- LMS statements ------------------------------------------------------------------

    def _statement(self, reg: dict, verb: str, obj: dict, sid: str, grouping: str, extensions: dict | None = None,
                   result: dict | None = None, moveon: bool = False) -> dict:
        cats = [{"id": rules.CAT_CMI5}] + ([{"id": rules.CAT_MOVEON}] if moveon else [])
        st = {"id": str(uuid.uuid4()), "actor": copy.deepcopy(reg["actor"]),
              "verb": {"id": verb, "display": {"en-US": VERB_NAMES[verb]}},
              "object": {"objectType": "Activity", **obj},
              "context": {"registration": reg["id"],
                          "contextActivities": {"category": cats, "grouping": [{"id": grouping}]},
                          "extensions": {rules.EXT_SESSION: sid, **(extensions or {})}},
              "timestamp": format_utc(datetime.now(timezone.utc))}
        if result:
            st["result"] = result
        return st

    def _write(self, statements: list[dict], documents=()) -> None:
        batch = []
        for st in statements:
            validate_statement(st, "1.0.3", "")
            prepare(st, self.authority, "1.0.3")
            batch.append(NewStatement(st, statement_terms(st)))
        self.lrs.insert(batch, {}, True, documents=list(documents))

    def _satisfy(self, reg: dict, sid: str) -> None:
        """Satisfied statements for the blocks and the course whose AUs all meet moveOn now (once each)."""
        tree = reg["tree"]
        met = {a["pub"] for a in tree["aus"] if rules.au_satisfied(a["move_on"], reg["aus"].get(a["pub"], {}))}
        new = [b for b in tree["blocks"] if b["lms"] not in reg["satisfied"] and set(b["aus"]) <= met]
        course = tree["course"]
        if course["lms"] not in reg["satisfied"] and len(met) == len(tree["aus"]):
            new.append({**course, "course": True})
        if not new:
            return
        while True:
            fresh = self.store.get_registration(reg["id"])
            todo = [n for n in new if n["lms"] not in fresh["satisfied"]]
            if not todo:
                return
            if self.store.put_registration({**fresh, "satisfied": fresh["satisfied"] + [n["lms"] for n in todo]},
                                           fresh["rev"]):
                break
        self._write([self._statement(fresh, rules.SATISFIED,
                                     {"id": n["lms"], "definition": {"type": COURSE_TYPE if n.get("course") else BLOCK_TYPE}},
                                     sid, n["pub"]) for n in todo])

    def abandon(self, session_id: str) -> bool:
        """Abandon an active session (the abandoned statement, once; cmi5 9.3.6). False if not active."""
        while True:
            s = self.store.get_session(session_id)
            if s is None or s["state"] not in ACTIVE:
                return False
            if self.store.put_session({**s, "state": "abandoned"}, s["rev"]):
                break
        reg = self.store.get_registration(s["registration"])
        st = self._statement(reg, rules.ABANDONED, {"id": s["activity_id"]}, session_id, s["au"],
                             result={"duration": _iso_duration(s["last"] - s["started"])})
        self._write([st])
        return True

    def waive(self, registration_id: str, au_pub: str, reason: str) -> dict:
        """Waive an AU (the waived statement with ``reason``, then satisfied ones; cmi5 9.3.7)."""
        if not isinstance(reason, str) or not reason:
            raise Cmi5Error(400, "reason is required (Tested, Excused, Administrative, ...)", "reason")
        while True:
            reg = self.store.get_registration(registration_id)
            if reg is None:
                raise Cmi5Error(404, f"no cmi5 registration {registration_id}", "registration")
            au = next((a for a in reg["tree"]["aus"] if a["pub"] == au_pub), None)
            if au is None:
                raise Cmi5Error(404, f"the course has no AU {au_pub!r}", "au")
            state = reg["aus"].get(au_pub, {})
            if state.get("waived"):
                raise Cmi5Error(409, "the AU is already waived in this registration (cmi5 9.3.7)", "au")
            if rules.au_satisfied(au["move_on"], state):
                raise Cmi5Error(409, "the AU already meets its moveOn criteria", "au")
            aus = {**reg["aus"], au_pub: {**state, "waived": True}}
            if self.store.put_registration({**reg, "aus": aus}, reg["rev"]):
                break
        sid = str(uuid.uuid4())
        st = self._statement(reg, rules.WAIVED, {"id": au["activity_id"]}, sid, au_pub, moveon=True,
                             result={"success": True, "completion": True, "extensions": {rules.EXT_REASON: reason}})
        self._write([st])
        self._satisfy(self.store.get_registration(registration_id), sid)
        return {"session": sid, "statement": st["id"]}

    def sweep(self) -> int:
        """Abandon the sessions idle past the timeout; the number abandoned."""
        n = 0
        for s in self.store.stale_sessions(self.clock() - self.session_timeout):
            n += self.abandon(s["id"])
        return n


class StatementCheck:
    """The cmi5 check of one batch: ``inspect`` each statement as the client sent it (after xAPI
    validation, before the LRS prepares it), ``commit`` the sessions' state before the batch is stored,
    ``after`` it is stored (satisfied statements)."""

    def __init__(self, lms: Cmi5LMS, token: dict | None):
        self.lms, self.token = lms, token
        self.sessions: dict[str, dict] = {}
        self.regs: dict[str, dict] = {}
        self.orig: dict[str, tuple[int, int]] = {}

    def inspect(self, st: dict, path: str) -> None:
        lms = self.lms
        ctx = st.get("context") if isinstance(st.get("context"), dict) else {}
        ext = ctx.get("extensions") if isinstance(ctx.get("extensions"), dict) else {}
        if self.token is not None:
            sid = self.token["session"]
            if st["verb"]["id"] == rules.VOIDED:
                raise XAPIError(403, "an AU session's token cannot void statements (cmi5 6.3)", path + "verb.id")
        else:
            sid = ext.get(rules.EXT_SESSION)
            if not isinstance(sid, str):
                return          # not a statement of a cmi5 session
            stored = self.sessions.get(sid) or lms.store.get_session(sid)
            if stored is not None and stored.get("kind") == "tincan":
                return          # TinCan sessions have no cmi5 rules
            if stored is None:
                reg_id = str(ctx.get("registration", "")).lower()
                if reg_id and lms.is_cmi5_registration(reg_id):
                    raise XAPIError(403, f"cmi5 session {sid} is not a session of registration {reg_id}",
                                    path + "context.extensions")
                return          # a session id no launch of this LMS made: not its business
        session = self.sessions.get(sid)
        if session is None:
            session = lms._live(lms.store.get_session(sid))
            if session is None:
                raise XAPIError(403, f"cmi5 session {sid} is not active", path + "context.extensions")
            self.sessions[sid] = session
            self.orig[sid] = session["rev"]
        reg = self._reg(session["registration"])
        au_state = reg["aus"].get(session["au"], {})
        had_id = "id" in st
        try:
            new_session, new_au = rules.check(st, session, au_state, path.rstrip("."), had_id)
        except Rejected as exc:
            raise XAPIError(exc.status, exc.message, exc.path) from None
        self.sessions[sid] = {**new_session, "last": lms.clock()}
        if new_au != au_state:
            reg["aus"] = {**reg["aus"], session["au"]: new_au}
            reg["_changed"] = True

    def _reg(self, reg_id: str) -> dict:
        if reg_id not in self.regs:
            self.regs[reg_id] = dict(self.lms.store.get_registration(reg_id))
        return self.regs[reg_id]

    def commit(self) -> None:
        for sid, s in self.sessions.items():
            if not self.lms.store.put_session(s, self.orig[sid]):
                raise XAPIError(409, f"another request changed cmi5 session {sid} meanwhile; send the statements again")
        for reg in self.regs.values():
            if reg.pop("_changed", False):
                while True:
                    fresh = self.lms.store.get_registration(reg["id"])
                    aus = dict(fresh["aus"])
                    for au, state in reg["aus"].items():
                        aus[au] = {**aus.get(au, {}), **{k: v for k, v in state.items() if v}}
                    if self.lms.store.put_registration({**fresh, "aus": aus}, fresh["rev"]):
                        break

    def after(self) -> None:
        for sid, s in self.sessions.items():
            self.lms._satisfy(self.lms.store.get_registration(s["registration"]), sid)


class TincanCheck:
    """A TinCan launch's token writes statements of its registration and learner only."""

    def __init__(self, lms: Cmi5LMS, token: dict):
        self.lms, self.token = lms, token

    def inspect(self, st: dict, path: str) -> None:
        ctx = st.get("context") if isinstance(st.get("context"), dict) else {}
        if str(ctx.get("registration", "")).lower() != self.token["registration"]:
            raise XAPIError(403, "this launch's credential writes statements of its registration only",
                            path + "context.registration")
        if rules._actor_key(st.get("actor")) != self.token["actor_key"]:
            raise XAPIError(403, "this launch's credential writes statements of its learner only", path + "actor")
        if st["verb"]["id"] == rules.VOIDED:
            raise XAPIError(403, "this launch's credential cannot void statements", path + "verb.id")

    def commit(self) -> None:
        now = self.lms.clock()
        self.lms._update_session(self.token["session"], lambda s: {**s, "last": now})

    def after(self) -> None:
        pass
