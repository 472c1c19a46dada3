"""Launch links for cmi5 AUs and TinCan packages.

cmi5 (spec section 8): ``Cmi5Launcher.create`` makes (or reuses) the learner's player registration,
the cmi5 registration with the course tree and the LMS's generated activity ids (lrs/cmi5/lms.py), a
new AU session (LaunchData, launched statement) and a single-use launch link on the content origin.
Opening it sets the player session cookie (so the AU's files load) and redirects the window to the
AU's URL with ``endpoint``, ``fetch``, ``actor``, ``registration`` and ``activityId`` (OwnWindow and
AnyWindow both run the AU in the window that opened the link).

TinCan: ``tincan_launch`` redirects to the package's launch file with ``endpoint``, ``auth``,
``actor``, ``registration`` and ``activity_id``, ``auth`` being a session token of lrs/cmi5 limited
to that registration and activity and valid for the session timeout.
"""
from __future__ import annotations

import secrets
import time
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import jwt
import orjson

from lrs.cmi5.lms import Cmi5Error, Cmi5LMS
from lrs.errors import XAPIError

from ..launch import LAUNCH_SECRET, Launcher, check_learner, check_return_url

AUDIENCE = "lrs-cmi5-launch"
LAUNCH_PATH = "/player/cmi5/launch/"
FETCH_PATH = "/player/cmi5/fetch/"
CMI5_PARAMS = ("endpoint", "fetch", "actor", "registration", "activityId")


def course_tree(course_id: str, structure: dict, iri_base: str) -> dict:
    """The cmi5 course tree with the ids the LMS generates: the same for every registration of the
    course, never the publisher's (cmi5 8.1.5, 9.4)."""
    base = f"{iri_base.rstrip('/')}/courses/{quote(course_id, safe='')}/cmi5"
    cmi5 = structure["cmi5"]
    aus: list[dict] = []
    blocks: list[dict] = []

    def walk(children) -> list[str]:
        found = []
        for node in children:
            if node["type"] == "au":
                aus.append({"pub": node["id"], "activity_id": f"{base}/aus/{quote(node['id'], safe='')}",
                            "move_on": node.get("move_on", "NotApplicable"), "mastery_score": node.get("mastery_score"),
                            "launch_parameters": node.get("launch_parameters"),
                            "entitlement_key": node.get("entitlement_key"),
                            "launch_method": node.get("launch_method", "AnyWindow"), "url": node.get("url")})
                found.append(node["id"])
            else:
                inner = walk(node.get("children", []))
                blocks.append({"pub": node["id"], "lms": f"{base}/blocks/{quote(node['id'], safe='')}", "aus": inner})
                found.extend(inner)
        return found

    walk(cmi5["children"])
    course = cmi5["course"]
    return {"course": {"pub": course["id"], "lms": f"{base}/course"}, "blocks": blocks, "aus": aus}


def cmi5_actor(learner: dict, iri_base: str) -> dict:
    """The actor of a cmi5 launch: cmi5 9.2 wants an Agent identified by an account. A learner given
    with another identifier (mbox, openid) gets an account under ``{iri_base}/learners`` named by a
    digest of that identifier: stable for the learner, and no e-mail address in the launch URL."""
    if "account" in learner:
        return {k: v for k, v in learner.items() if k in ("objectType", "name", "account")}
    import hashlib

    from lrs.statements.terms import agent_term

    actor = {"objectType": "Agent",
             "account": {"homePage": f"{iri_base.rstrip('/')}/learners",
                         "name": hashlib.sha256(agent_term(learner).encode()).hexdigest()[:32]}}
    if learner.get("name"):
        actor["name"] = learner["name"]
    return actor


def with_params(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode(params)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class Cmi5Launcher:
    def __init__(self, launcher: Launcher, lms: Cmi5LMS, content_store, main_url: str, content_url: str,
                 iri_base: str, clock=time.time):
        self.launcher = launcher
        self.lms = lms
        self.content = content_store
        self.main_url = main_url.rstrip("/")
        self.content_url = content_url.rstrip("/")
        self.iri_base = iri_base
        self.clock = clock

    def create(self, learner, course_id, au=0, registration=None, launch_mode="Normal", return_url=None) -> dict:
        """A launch link for AU ``au`` (index in the course structure, or publisher id) of a cmi5 course,
        or for a TinCan course (``au`` ignored)."""
        agent = check_learner(learner)
        if return_url is not None:
            return_url = check_return_url(return_url)
        if launch_mode not in ("Normal", "Browse", "Review"):
            raise XAPIError(400, "launch_mode must be Normal, Browse or Review", "launch_mode")
        course = self.content.course(course_id) if isinstance(course_id, str) else None
        if course is None or course.get("latest_version") is None:
            raise XAPIError(404, f"no course with id {course_id!r} to launch", "course_id")
        if registration is not None:
            existing = self.launcher.player.get_registration(str(registration).lower())
            version_no = existing.version if existing is not None else course["latest_version"]
        else:
            version_no = course["latest_version"]
        version = self.content.version(course_id, version_no)
        fmt = version.get("format") or version["structure"].get("format")
        if fmt not in ("cmi5", "tincan"):
            raise XAPIError(409, f"course {course_id!r} is {fmt}, not cmi5 or TinCan: use /player/launches",
                            "course_id")
        reg = self.launcher._registration(agent, course_id, course["latest_version"],
                                          str(registration).lower() if registration else None, None)
        if fmt == "tincan":
            return self._tincan(reg, version, return_url)
        tree = course_tree(course_id, version["structure"], self.iri_base)
        if isinstance(au, int) and not isinstance(au, bool):
            if not 0 <= au < len(tree["aus"]):
                raise XAPIError(404, f"the course has no AU number {au}", "au")
            node = tree["aus"][au]
        else:
            node = next((a for a in tree["aus"] if a["pub"] == au), None)
            if node is None:
                raise XAPIError(404, f"the course has no AU {au!r}", "au")
        actor = cmi5_actor(reg.learner, self.iri_base)
        try:
            self.lms.register(reg.id, actor, course_id, reg.version, tree)
            au_url = self._au_url(course_id, reg.version, node["url"])
            ret = return_url or f"{self.content_url}/player/cmi5/returned"
            session = self.lms.start_session(reg.id, node["pub"], launch_mode, ret, au_url)
        except Cmi5Error as exc:
            raise XAPIError(exc.status, exc.message, exc.path) from None
        target = with_params(au_url, {
            "endpoint": self.main_url + "/xapi", "fetch": self.content_url + FETCH_PATH + self.lms.fetch_token(session["id"]),
            "actor": orjson.dumps(actor).decode(), "registration": reg.id, "activityId": node["activity_id"]})
        url = self._mint(reg, target, return_url)
        return {"launch_url": url, "registration": reg.id, "session": session["id"], "au": node["pub"], "actor": actor,
                "activity_id": node["activity_id"], "launch_method": node["launch_method"]}

    def for_player_launches(self, body: dict) -> dict | None:
        """``POST /player/launches`` for a cmi5 or TinCan course (its first AU; ``version`` is not
        taken: a registration keeps its version); None for any other course."""
        course_id = body.get("course_id")
        course = self.content.course(course_id) if isinstance(course_id, str) else None
        if course is None or course.get("latest_version") is None:
            return None
        version = self.content.version(course_id, course["latest_version"]) or {}
        if version.get("format") not in ("cmi5", "tincan"):
            return None
        if body.get("version") is not None:
            raise XAPIError(400, "version cannot be chosen for a cmi5 or TinCan launch", "version")
        return self.create(body.get("learner"), course_id, 0, body.get("registration"), "Normal",
                           body.get("return_url"))

    def _tincan(self, reg, version, return_url) -> dict:
        tincan = version["structure"]["tincan"]
        main = next(a for a in tincan["activities"] if a["id"] == tincan["launch_activity"])
        try:
            sid, auth = self.lms.tincan_session(reg.id, reg.learner, main["id"])
        except Cmi5Error as exc:
            raise XAPIError(exc.status, exc.message, exc.path) from None
        target = with_params(self._au_url(reg.course_id, reg.version, main["launch"]), {
            "endpoint": self.main_url + "/xapi/", "auth": auth, "actor": orjson.dumps(reg.learner).decode(),
            "registration": reg.id, "activity_id": main["id"]})
        return {"launch_url": self._mint(reg, target, return_url), "registration": reg.id, "session": sid,
                "activity_id": main["id"]}

    def _au_url(self, course_id: str, version: int, url: str) -> str:
        if url.lower().startswith(("http://", "https://")):
            return url
        return f"{self.content_url}/content/files/{quote(course_id, safe='')}/{int(version)}/{url.lstrip('/')}"

    def _mint(self, reg, target: str, return_url) -> str:
        now = int(self.clock())
        claims = {"jti": secrets.token_urlsafe(16), "reg": reg.id, "sub": reg.learner_key, "course": reg.course_id,
                  "ver": reg.version, "aud": AUDIENCE, "iat": now, "exp": now + self.launcher.token_seconds,
                  "to": target}
        if return_url:
            claims["ret"] = return_url
        token = jwt.encode(claims, self.launcher.key(LAUNCH_SECRET), algorithm="HS256")
        return self.content_url + LAUNCH_PATH + token

    def open(self, token: str) -> dict | None:
        """The claims of a valid launch token, consumed once; None otherwise (nothing written)."""
        try:
            claims = jwt.decode(token, self.launcher.key(LAUNCH_SECRET), algorithms=["HS256"], audience=AUDIENCE,
                                options={"require": ["jti", "reg", "sub", "course", "ver", "exp", "to"]})
        except jwt.InvalidTokenError:
            return None
        if not self.launcher.player.consume_token(claims["jti"], claims["exp"]):
            return None
        return claims
