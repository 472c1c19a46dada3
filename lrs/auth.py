"""Credentials and HTTP Basic authentication, with xAPI scopes.

Secrets are stored as scrypt hashes, never in plain text. Verifying scrypt on every request
would cost milliseconds, so a verified (key, secret digest) pair is remembered in memory; the
credential list is re-read from the store every few seconds, so a revocation made by the
command line takes effect within ``REFRESH_SECONDS``.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
from datetime import datetime, timezone

import anyio

SCOPES = ("all", "all/read", "statements/write", "statements/read", "statements/read/mine",
          "state", "define", "profile")
REFRESH_SECONDS = 5.0
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


class Credentials:
    """The credentials of one store: create, list, revoke, and authenticate requests."""

    def __init__(self, store, homepage: str = "urn:lrs:credentials"):
        self.store = store
        self.homepage = homepage
        self._lock = threading.Lock()
        self._by_key: dict[str, dict] = {}
        self._loaded = float("-inf")  # stale: load on first use
        self._verified: dict[tuple[str, bytes], float] = {}

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

    def authenticate(self, authorization: str | None) -> dict | None:
        """The credential an ``Authorization: Basic`` header names, or None (blocking)."""
        parsed = _parse_basic(authorization)
        if parsed is None:
            return None
        if self._stale():
            self._refresh()
        cred, token = self._candidate(*parsed)
        if cred is None or token in self._verified:
            return cred
        return self._remember(cred, token) if verify_secret(parsed[1], cred["secret_hash"]) else None

    async def authenticate_async(self, authorization: str | None) -> dict | None:
        """As ``authenticate``, for the event loop: the store read and the scrypt check of a
        secret not seen before run in a worker thread, so neither blocks other requests."""
        parsed = _parse_basic(authorization)
        if parsed is None:
            return None
        if self._stale():
            await anyio.to_thread.run_sync(self._refresh)
        cred, token = self._candidate(*parsed)
        if cred is None or token in self._verified:
            return cred
        ok = await anyio.to_thread.run_sync(verify_secret, parsed[1], cred["secret_hash"])
        return self._remember(cred, token) if ok else None

    def _stale(self) -> bool:
        return time.monotonic() - self._loaded > REFRESH_SECONDS

    def _refresh(self) -> None:
        by_key = {c["key"]: c for c in self.store.credentials()}
        with self._lock:
            self._by_key = by_key
            self._loaded = time.monotonic()

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
