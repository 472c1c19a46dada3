"""Credentials and HTTP Basic authentication, with xAPI scopes.

Secrets are stored as scrypt hashes, never in plain text. Verifying scrypt on every request
would cost milliseconds, so a verified (key, secret digest) pair is remembered in memory; the
credential list is re-read from the store every few seconds, so a revocation made by the
command line takes effect within ``REFRESH_SECONDS``.

Guessing is made slow and uninformative: a secret that is not in the verified cache costs one
scrypt check whether or not its key exists (an unknown key is checked against a dummy hash, so
the two answers take the same time); at most ``AuthLimits.max_concurrent_checks`` checks run at
once; and failed attempts are counted per key and per client address, over a sliding window,
beyond which the answer is ``TooManyAttempts`` (429) without any scrypt work. A secret already
verified is accepted from the cache even then, so a legitimate client stays fast while its key
or its network is being attacked.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import datetime, timezone

import anyio

SCOPES = ("all", "all/read", "statements/write", "statements/read", "statements/read/mine",
          "state", "define", "profile")
REFRESH_SECONDS = 5.0
# A request that finds the list older than REFRESH_SECONDS waits for a re-read, so a revocation
# takes effect within REFRESH_SECONDS. When the re-read fails, or takes longer than
# FRESH_WAIT_SECONDS (the store is busy or down), the last list keeps serving until it is
# STALE_GRACE_SECONDS past due (re-read every RETRY_SECONDS meanwhile); after that,
# authentication waits for a successful read, and gives up with CredentialsUnavailable (503)
# after WAIT_SECONDS.
FRESH_WAIT_SECONDS = 0.5
STALE_GRACE_SECONDS = 5.0
RETRY_SECONDS = 1.0
WAIT_SECONDS = 5.0
_N, _R, _P = 2 ** 14, 8, 1


def hash_secret(secret: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


# Checked for a key that does not exist, so that an unknown key costs what a wrong secret costs.
_DUMMY_HASH = f"scrypt${_N}${_R}${_P}${'00' * 16}${'00' * 64}"


class TooManyAttempts(Exception):
    """Too many failed attempts for this key or from this address: try again in ``retry_after`` s."""

    def __init__(self, retry_after: int, what: str):
        super().__init__(f"too many failed authentication attempts {what}; retry in {retry_after} s")
        self.retry_after = retry_after


class CredentialsUnavailable(Exception):
    """The credential list could not be read from the store in time (answer 503)."""

    retry_after = 5


class NotAuthenticated(Exception):
    """Why a request has no credential: the HTTP ``status`` (401, 429 or 503), the message and the
    headers (``WWW-Authenticate`` or ``Retry-After``) to answer with. Every API answers these alike."""

    def __init__(self, status: int, message: str, headers: dict[str, str]):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers


def unauthorized(message: str | None = None, realm: str = "xAPI") -> NotAuthenticated:
    return NotAuthenticated(401, message or "authentication required: send HTTP Basic credentials",
                            {"WWW-Authenticate": f'Basic realm="{realm}"'})


@dataclass(frozen=True)
class AuthLimits:
    max_concurrent_checks: int = 2
    max_failures_per_key: int = 20
    max_failures_per_address: int = 100
    failure_window_seconds: int = 60


class _FailureCounter:
    """Failures per name over a sliding window, for at most ``max_names`` names (oldest forgotten)."""

    def __init__(self, limit: int, window: float, max_names: int = 10_000):
        self.limit, self.window, self.max_names = limit, window, max_names
        self._times: OrderedDict[str, deque] = OrderedDict()

    def retry_after(self, name: str, now: float) -> int:
        """0 when ``name`` may try again now, else the seconds until its oldest counted failure expires."""
        times = self._times.get(name)
        if not times:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limit:
            return 0
        return max(1, int(times[0] + self.window - now + 0.999))

    def add(self, name: str, now: float) -> None:
        times = self._times.pop(name, None) or deque()
        times.append(now)
        while len(times) > self.limit:
            times.popleft()
        self._times[name] = times
        while len(self._times) > self.max_names:
            self._times.popitem(last=False)


class Credentials:
    """The credentials of one store: create, list, revoke, and authenticate requests."""

    def __init__(self, store, homepage: str = "urn:lrs:credentials", limits: AuthLimits | None = None):
        self.store = store
        self.homepage = homepage
        self.limits = limits or AuthLimits()
        self._lock = threading.Lock()
        self._by_key: dict[str, dict] = {}
        self._loaded = float("-inf")  # time of the last successful read; -inf: stale, read on first use
        self._retry_at = float("-inf")
        self._refreshing = False
        self._failed = False  # the last re-read failed
        self._verified: dict[tuple[str, bytes], float] = {}
        self._per_key = _FailureCounter(self.limits.max_failures_per_key, self.limits.failure_window_seconds)
        self._per_address = _FailureCounter(self.limits.max_failures_per_address,
                                            self.limits.failure_window_seconds)
        self._checks: anyio.CapacityLimiter | None = None  # made on first use, inside the event loop

    def is_empty(self) -> bool:
        return not self.store.credentials()

    def create(self, key: str, secret: str, scopes: list[str], name: str | None = None,
               email: str | None = None) -> dict:
        if not key or ":" in key:
            raise ValueError("the key must be non-empty and must not contain ':'")
        if not secret:
            raise ValueError("the secret must be non-empty")
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise ValueError(f"unknown scope(s) {', '.join(bad)}; choose from {', '.join(SCOPES)}")
        if email:
            authority = {"objectType": "Agent", "name": name or key, "mbox": f"mailto:{email}"}
        else:
            authority = {"objectType": "Agent", "name": name or key,
                         "account": {"homePage": self.homepage, "name": key}}
        cred = {"key": key, "secret_hash": hash_secret(secret), "scopes": list(scopes), "authority": authority,
                "created": datetime.now(timezone.utc).isoformat()}
        self.store.add_credential(cred)
        self._loaded = float("-inf")  # stale: load on first use
        return cred

    def list(self) -> list[dict]:
        return self.store.credentials()

    def revoke(self, key: str) -> bool:
        removed = self.store.remove_credential(key)
        self._loaded = float("-inf")  # stale: load on first use
        return removed

    def authenticate(self, authorization: str | None, client: str | None = None) -> dict | None:
        """The credential an ``Authorization: Basic`` header names, or None (blocking)."""
        parsed = _parse_basic(authorization)
        if parsed is None:
            return None
        if self._age() > REFRESH_SECONDS:
            self._refresh()
        cred, token = self._candidate(*parsed)
        if token is not None and token in self._verified:
            return cred
        self._check_limits(parsed[0], client)
        ok = verify_secret(parsed[1], cred["secret_hash"] if cred else _DUMMY_HASH) and cred is not None
        return self._settle(cred, token, ok, parsed[0], client)

    async def authenticate_async(self, authorization: str | None, client: str | None = None) -> dict | None:
        """As ``authenticate``, for the event loop: the store read and the scrypt check of a
        secret not seen before run in worker threads, so neither blocks other requests.

        Raises ``TooManyAttempts`` when the key or the client address ``client`` has failed too
        often lately, and ``CredentialsUnavailable`` when the credential list cannot be read."""
        parsed = _parse_basic(authorization)
        if parsed is None:
            return None
        await self._fresh_enough()
        cred, token = self._candidate(*parsed)
        if token is not None and token in self._verified:
            return cred
        self._check_limits(parsed[0], client)
        if self._checks is None:
            self._checks = anyio.CapacityLimiter(self.limits.max_concurrent_checks)
        ok = await anyio.to_thread.run_sync(verify_secret, parsed[1], cred["secret_hash"] if cred else _DUMMY_HASH,
                                            limiter=self._checks)
        return self._settle(cred, token, ok and cred is not None, parsed[0], client)

    async def require(self, authorization: str | None, client: str | None = None, realm: str = "xAPI") -> dict:
        """The credential ``authorization`` names, or ``NotAuthenticated`` saying why not: 401 for no or
        refused credentials (the two told apart, an unknown key and a wrong secret not), 429 after too
        many failures, 503 when the credential list cannot be read."""
        try:
            credential = await self.authenticate_async(authorization, client)
        except TooManyAttempts as exc:
            raise NotAuthenticated(429, str(exc), {"Retry-After": str(exc.retry_after)}) from None
        except CredentialsUnavailable as exc:
            raise NotAuthenticated(503, "the credential list cannot be read right now; try again",
                                   {"Retry-After": str(exc.retry_after)}) from None
        if credential is None:
            refused = bool(authorization) and authorization[:6].lower() == "basic "
            raise unauthorized("the credentials were refused: unknown key or wrong secret" if refused else None, realm)
        return credential

    # -- failed attempts -----------------------------------------------------------------------------

    def _check_limits(self, key: str, client: str | None) -> None:
        now = time.monotonic()
        with self._lock:
            wait = self._per_key.retry_after(key, now)
            if wait:
                raise TooManyAttempts(wait, "for this key")
            if client:
                wait = self._per_address.retry_after(client, now)
                if wait:
                    raise TooManyAttempts(wait, "from this address")

    def _settle(self, cred, token, ok: bool, key: str, client: str | None) -> dict | None:
        if ok:
            return self._remember(cred, token)
        now = time.monotonic()
        with self._lock:
            self._per_key.add(key, now)
            if client:
                self._per_address.add(client, now)
        return None

    # -- the credential list ---------------------------------------------------------------------------

    def _age(self) -> float:
        return time.monotonic() - self._loaded

    async def _fresh_enough(self) -> None:
        """Re-read the list when it is older than REFRESH_SECONDS (see FRESH_WAIT_SECONDS for what
        happens when the store does not answer)."""
        if self._age() <= REFRESH_SECONDS:
            return
        self._start_refresh()
        start = time.monotonic()
        while self._age() > REFRESH_SECONDS:
            waited = time.monotonic() - start
            if (self._failed or waited > FRESH_WAIT_SECONDS) and \
                    self._age() <= REFRESH_SECONDS + STALE_GRACE_SECONDS:
                return  # keep serving the last list a little longer
            if waited > WAIT_SECONDS:
                raise CredentialsUnavailable("the credential list could not be read from the store")
            await anyio.sleep(0.005)
            self._start_refresh()

    def _start_refresh(self) -> None:
        """One re-read at a time, in a thread of its own (a slow store never holds a request's
        worker thread), and after a failure not again before RETRY_SECONDS."""
        with self._lock:
            if self._refreshing or time.monotonic() < self._retry_at:
                return
            self._refreshing = True
        threading.Thread(target=self._refresh_quietly, name="lrs-credentials", daemon=True).start()

    def _refresh_quietly(self) -> None:
        try:
            self._refresh()
        except Exception:  # the store is busy or down: keep the last list; _fresh_enough bounds its age
            logging.getLogger("lrs.auth").warning("could not re-read the credential list; retrying in %s s",
                                                  RETRY_SECONDS, exc_info=True)
            with self._lock:
                self._retry_at = time.monotonic() + RETRY_SECONDS
                self._failed = True
        finally:
            with self._lock:
                self._refreshing = False

    def _refresh(self) -> None:
        started = time.monotonic()
        by_key = {c["key"]: c for c in self.store.credentials()}
        with self._lock:
            self._by_key = by_key
            self._loaded = started
            self._failed = False

    def _candidate(self, key: str, secret: str):
        cred = self._by_key.get(key)
        if cred is None:
            return None, None
        return cred, (key, hashlib.sha256((cred["secret_hash"] + "\0" + secret).encode()).digest())

    def _remember(self, cred: dict, token) -> dict:
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[token] = time.monotonic()
        return cred


def _parse_basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or authorization[:6].lower() != "basic ":
        return None
    try:
        key, _, secret = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return key, secret
