"""Launch links: make a learner's registration and a signed, short-lived, single-use launch token.

``Launcher.create`` is what ``POST /player/launches`` and ``lrs launch create`` both call. The token
is an HS256 JWT signed with the LRS store's ``launch`` secret (shared by every process on the store):
``jti`` (random, consumed once through the player store), ``reg``, ``sub`` (the learner key),
``course``, ``ver``, optional ``ret`` (return URL), ``aud`` = ``lrs-launch``, ``iat`` and ``exp``.
``Launcher.open`` checks a token fully and only then consumes it. The ``lrs_player`` cookie is a
second JWT (the store's ``player-session`` secret) holding the browser's course sessions, newest
first (``s``: up to MAX_SESSIONS entries of one learner, each bound to one registration with its own
expiry), so a learner can have two courses open in two tabs; every request names the registration it acts on, and
is refused unless the cookie holds a session for it.

Every refusal a client can cause is an ``XAPIError`` (status, message, path), as elsewhere in the LRS.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable
from urllib.parse import urlsplit

import jwt
import orjson

from lrs.errors import XAPIError
from lrs.http.params import parse_agent, parse_uuid

from .storage import PlayerStore, Registration, RegistrationConflict

AUDIENCE = "lrs-launch"
SESSION_AUDIENCE = "lrs-player-session"
LAUNCH_SECRET = "launch"
SESSION_SECRET = "player-session"
LAUNCH_PATH = "/player/launch/"
TOKEN_CLAIMS = ("jti", "reg", "sub", "course", "ver", "iat", "exp", "aud")
SESSION_CLAIMS = ("s", "iat", "exp", "aud")
SESSION_FIELDS = ("reg", "sub", "course", "ver", "exp")
MAX_SESSIONS = 8      # course sessions one browser holds at once (one cookie, newest first)


class TokenRejected(Exception):
    """A launch token that cannot be used: ``reason`` is ``expired``, ``invalid`` (forged, malformed,
    or for a registration that no longer matches) or ``used``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Launch:
    url: str
    token: str
    registration: Registration
    expires: str      # ISO 8601 UTC

    def body(self) -> dict:
        r = self.registration
        return {"launch_url": self.url, "expires": self.expires,
                "registration": {"id": r.id, "course": r.course_id, "version": r.version, "learner": r.learner}}


def learner_from_text(text: str) -> dict:
    """The learner as the command line takes it: ``mailto:x@y`` or an Agent as JSON."""
    text = text.strip()
    if text.startswith("{"):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            raise XAPIError(400, "learner must be an xAPI Agent as JSON or a mailto: IRI", "learner") from None
    return {"objectType": "Agent", "mbox": text}


def check_learner(learner) -> dict:
    """An identified xAPI Agent, validated as the statement schema validates an Agent (400 naming ``learner``)."""
    if not isinstance(learner, dict):
        raise XAPIError(400, "learner must be an xAPI Agent (a JSON object)", "learner")
    agent = parse_agent(orjson.dumps(learner).decode(), "learner", groups=False)
    if agent.get("objectType", "Agent") != "Agent":
        raise XAPIError(400, "learner must be an Agent, not a Group", "learner")
    return agent


def check_return_url(url) -> str:
    if not isinstance(url, str):
        raise XAPIError(400, "return_url must be an http or https URL (text)", "return_url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or len(url) > 2048 \
            or any(c in url for c in "\r\n\t \"<>\\"):
        raise XAPIError(400, "return_url must be an absolute http or https URL", "return_url")
    return url


class Launcher:
    def __init__(self, player_store: PlayerStore, content_store, secret: Callable[[str], bytes],
                 token_seconds: int = 300, session_seconds: int = 8 * 3600,
                 clock: Callable[[], float] = time.time):
        self.player = player_store
        self.content = content_store
        self._secret = secret
        self._keys: dict[str, bytes] = {}
        self.token_seconds = token_seconds
        self.session_seconds = session_seconds
        self.clock = clock

    def key(self, name: str) -> bytes:
        if name not in self._keys:
            self._keys[name] = self._secret(name)
        return self._keys[name]

    # -- making a launch link ------------------------------------------------------------

    def create(self, learner, course_id, base_url: str, registration=None, version=None,
               return_url=None) -> Launch:
        """A launch link for ``learner`` on ``course_id``: the registration given (or a new one with that
        id), a new one on ``version``, or the learner's current one (made on the latest version)."""
        agent = check_learner(learner)
        if not isinstance(course_id, str) or not course_id:
            raise XAPIError(400, "course_id must be a course id (text)", "course_id")
        if return_url is not None:
            return_url = check_return_url(return_url)
        if version is not None and (not isinstance(version, int) or isinstance(version, bool) or version < 1):
            raise XAPIError(400, "version must be a whole number from 1", "version")
        if registration is not None:
            if not isinstance(registration, str):
                raise XAPIError(400, "registration must be a UUID (text)", "registration")
            registration = parse_uuid(registration, "registration").lower()
        course = self.content.course(course_id)
        if course is None:
            raise XAPIError(404, f"no course with id {course_id!r}", "course_id")
        if course.get("retired"):
            raise XAPIError(409, f"course {course_id!r} is retired: it cannot be launched", "course_id")
        if course.get("latest_version") is None:
            raise XAPIError(409, f"course {course_id!r} has no version to launch", "course_id")
        if version is not None and self.content.version(course_id, version) is None:
            raise XAPIError(404, f"course {course_id!r} has no version {version}", "version")
        reg = self._registration(agent, course_id, course["latest_version"], registration, version)
        return self._mint(reg, base_url, return_url)

    def _registration(self, agent: dict, course_id: str, latest: int, registration: str | None,
                      version: int | None) -> Registration:
        if registration is not None:
            existing = self.player.get_registration(registration)
            if existing is not None and version is not None and existing.version != version:
                raise XAPIError(409, f"registration {registration} exists on version {existing.version}; "
                                     "a version can be chosen only for a new registration", "version")
            try:
                reg = self.player.new_registration(agent, course_id, version or latest, registration)
            except RegistrationConflict as exc:
                raise XAPIError(409, f"registration {registration} belongs to another learner or course",
                                "registration") from exc
            return reg
        if version is not None:
            return self.player.new_registration(agent, course_id, version)
        return self.player.registration_for(agent, course_id, latest)

    def _mint(self, reg: Registration, base_url: str, return_url: str | None) -> Launch:
        now = int(self.clock())
        exp = now + self.token_seconds
        claims = {"jti": secrets.token_urlsafe(16), "reg": reg.id, "sub": reg.learner_key,
                  "course": reg.course_id, "ver": reg.version, "aud": AUDIENCE, "iat": now, "exp": exp}
        if return_url:
            claims["ret"] = return_url
        token = jwt.encode(claims, self.key(LAUNCH_SECRET), algorithm="HS256")
        expires = datetime.fromtimestamp(exp, timezone.utc).isoformat().replace("+00:00", "Z")
        return Launch(base_url.rstrip("/") + LAUNCH_PATH + token, token, reg, expires)

    # -- opening a launch link -----------------------------------------------------------

    def open(self, token: str) -> dict:
        """The claims of a fully valid token, which is consumed (once, across processes); else
        TokenRejected, with nothing written."""
        claims = _decode(token, self.key(LAUNCH_SECRET), AUDIENCE, TOKEN_CLAIMS)
        if claims is None or not isinstance(claims["jti"], str) or not isinstance(claims["exp"], int):
            raise TokenRejected("invalid")
        if claims["exp"] <= self.clock():
            raise TokenRejected("expired")
        reg = self.player.get_registration(claims["reg"]) if isinstance(claims["reg"], str) else None
        if reg is None or (reg.learner_key, reg.course_id, reg.version) != \
                (claims["sub"], claims["course"], claims["ver"]):
            raise TokenRejected("invalid")
        if not self.player.consume_token(claims["jti"], claims["exp"]):
            raise TokenRejected("used")
        return claims

    def session_token(self, claims: dict, cookie: str | None = None) -> str:
        """The cookie after opening a launch link: a session for its registration, first, before the
        valid sessions ``cookie`` already held for the same learner (other registrations; at most
        MAX_SESSIONS in all). Another learner's link replaces them all."""
        now = int(self.clock())
        entry = {k: claims[k] for k in ("reg", "sub", "course", "ver")}
        entry["exp"] = now + self.session_seconds
        if claims.get("ret"):
            entry["ret"] = claims["ret"]
        # Sessions of the same learner only: on a shared device the next learner's courses must never
        # act on the registrations of the learner who used it before.
        kept = [e for e in self.sessions(cookie)
                if e["reg"] != entry["reg"] and e["sub"] == entry["sub"]][:MAX_SESSIONS - 1]
        held = [entry] + kept
        return jwt.encode({"s": held, "aud": SESSION_AUDIENCE, "iat": now, "exp": max(e["exp"] for e in held)},
                          self.key(SESSION_SECRET), algorithm="HS256")

    def sessions(self, cookie: str | None) -> list[dict]:
        """The valid, unexpired course sessions of a cookie, newest first ([] for none or a bad one)."""
        if not cookie:
            return []
        claims = _decode(cookie, self.key(SESSION_SECRET), SESSION_AUDIENCE, SESSION_CLAIMS)
        if claims is None or not isinstance(claims["s"], list):
            return []
        now = self.clock()
        return [e for e in claims["s"][:MAX_SESSIONS]
                if isinstance(e, dict) and all(k in e for k in SESSION_FIELDS)
                and isinstance(e["exp"], int) and e["exp"] > now]

    def session(self, cookie: str | None, registration: str | None = None) -> dict | None:
        """The cookie's session for ``registration`` (the newest one when None), else None."""
        held = self.sessions(cookie)
        if registration is None:
            return held[0] if held else None
        return next((e for e in held if e["reg"] == registration), None)


def _decode(token: str, key: bytes, audience: str, required: tuple[str, ...]) -> dict | None:
    """The claims if the signature (HS256 only) and audience check and every required claim is there.
    Expiry is checked by the caller against its own clock."""
    try:
        return jwt.decode(token, key, algorithms=["HS256"], audience=audience,
                          options={"verify_exp": False, "verify_iat": False, "require": list(required)})
    except jwt.InvalidTokenError:
        return None
