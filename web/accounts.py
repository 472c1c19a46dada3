"""Staff accounts of the web pages and their sign-in sessions: the port, and the functions the pages and
the ``lrs accounts`` command call.

An account: a user name, a role (admin, supervisor or auditor), the password hashed as LRS credential
secrets are (lrs.auth.hash_secret: scrypt), optionally the person it is in the rules' people directory
(a supervisor sees the people whose ``supervisor`` attribute names that person), and whether it is
disabled. A session: a random id, the account, and when it ends; signing out deletes it, disabling an
account or changing its password deletes all of its sessions.

Every adapter passes the same contract tests (tests/web/test_account_store_contract.py).
"""
from __future__ import annotations

import re
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from lrs.auth import hash_secret, verify_secret

ROLES = ("admin", "supervisor", "auditor")
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
MIN_PASSWORD = 12
_DUMMY = hash_secret("not a password of anyone")   # checked for unknown names, so they take as long


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    password_hash: str
    person_id: str | None = None
    disabled: bool = False
    created: str = ""


@dataclass(frozen=True)
class Session:
    id: str
    username: str
    expires: float          # Unix time
    created: str = ""


class AccountStore(Protocol):
    def close(self) -> None: ...

    def add_account(self, account: Account) -> bool:
        """Insert; False (nothing stored) when the user name is taken."""
    def put_account(self, account: Account) -> None:
        """Replace an existing account whole."""
    def account(self, username: str) -> Account | None: ...
    def accounts(self) -> list[Account]:
        """Every account, in user name order."""

    def add_session(self, session: Session) -> None: ...
    def session(self, session_id: str) -> Session | None: ...
    def delete_session(self, session_id: str) -> None: ...
    def delete_sessions(self, username: str) -> int:
        """End every session of an account; how many there were."""


class AccountError(Exception):
    """A request about accounts that is refused: HTTP ``status``, ``message`` and the field (``path``)."""

    def __init__(self, status: int, message: str, path: str = ""):
        super().__init__(message)
        self.status, self.message, self.path = status, message, path


def now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_password(password) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise AccountError(400, f"a password has at least {MIN_PASSWORD} characters", "password")
    if len(password) > 1024:
        raise AccountError(400, "a password has at most 1024 characters", "password")
    return password


class TooManyFailures(Exception):
    """Sign-in refused without a password check: too many recent failures for the name or the address."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


class _Failures:
    """Recent sign-in failures per key (a user name, a client address) in this process, for ``window`` s."""

    def __init__(self, limit: int, window: float, max_keys: int = 10_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self.times: dict[str, list[float]] = {}

    def retry_after(self, key: str, now: float) -> int:
        recent = [t for t in self.times.get(key, ()) if t > now - self.window]
        if recent:
            self.times[key] = recent
        else:
            self.times.pop(key, None)
        return int(recent[0] + self.window - now) + 1 if len(recent) >= self.limit else 0

    def add(self, key: str, now: float) -> None:
        if key not in self.times and len(self.times) >= self.max_keys:
            self.times.pop(next(iter(self.times)))
        self.times.setdefault(key, []).append(now)


class Accounts:
    """What the pages and the CLI do with accounts, over an ``AccountStore``. Sign-in failures are
    counted per user name (``max_failures_per_name``) and per client address within ``failure_window``
    seconds; past either limit sign-in is refused without a password check until the window moves on."""

    def __init__(self, store: AccountStore, session_seconds: int = 8 * 3600, clock=None,
                 max_failures_per_name: int = 10, max_failures_per_address: int = 100, failure_window: float = 300):
        import time

        self.store, self.session_seconds, self.clock = store, session_seconds, clock or time.time
        self._by_name = _Failures(max_failures_per_name, failure_window)
        self._by_address = _Failures(max_failures_per_address, failure_window)
        self._lock = threading.Lock()

    def create(self, username: str, role: str, password: str, person_id: str | None = None) -> Account:
        if not isinstance(username, str) or not USERNAME.match(username):
            raise AccountError(400, "a user name is 1-100 letters, digits and . _ - @, starting with a letter "
                                    "or digit", "username")
        if role not in ROLES:
            raise AccountError(400, f"role is one of {', '.join(ROLES)}", "role")
        if role == "supervisor" and not person_id:
            raise AccountError(400, "a supervisor account names its person in the people directory (the people "
                                    "they supervise name that person as supervisor)", "person_id")
        account = Account(username, role, hash_secret(check_password(password)), person_id or None, False, now_text())
        if not self.store.add_account(account):
            raise AccountError(409, f"there is already an account {username!r}", "username")
        return account

    def list(self) -> list[Account]:
        return self.store.accounts()

    def _existing(self, username: str) -> Account:
        account = self.store.account(username)
        if account is None:
            raise AccountError(404, f"no account {username!r}", "username")
        return account

    def disable(self, username: str, disabled: bool = True) -> Account:
        account = replace(self._existing(username), disabled=disabled)
        self.store.put_account(account)
        if disabled:
            self.store.delete_sessions(username)
        return account

    def set_password(self, username: str, password: str) -> Account:
        account = replace(self._existing(username), password_hash=hash_secret(check_password(password)))
        self.store.put_account(account)
        self.store.delete_sessions(username)
        return account

    def sign_in(self, username: str, password: str, address: str = "") -> tuple[Account, Session] | None:
        """A new session for a right name and password of an enabled account, else None (the same work
        whether or not the name exists); ``TooManyFailures`` past the failure limits."""
        username = username if isinstance(username, str) else ""
        now = self.clock()
        with self._lock:
            wait = max(self._by_name.retry_after(username.lower(), now), self._by_address.retry_after(address, now))
        if wait:
            raise TooManyFailures(wait)
        account = self.store.account(username) if username else None
        ok = verify_secret(password if isinstance(password, str) else "", account.password_hash if account else _DUMMY)
        if not ok or account is None or account.disabled:
            with self._lock:
                self._by_name.add(username.lower(), now)
                self._by_address.add(address, now)
            return None
        session = Session(secrets.token_urlsafe(32), account.username, self.clock() + self.session_seconds, now_text())
        self.store.add_session(session)
        return account, session

    def signed_in(self, session_id: str | None) -> Account | None:
        """The enabled account of a live session, else None."""
        if not session_id or len(session_id) > 100:
            return None
        session = self.store.session(session_id)
        if session is None or session.expires <= self.clock():
            return None
        account = self.store.account(session.username)
        return None if account is None or account.disabled else account

    def sign_out(self, session_id: str | None) -> None:
        if session_id and len(session_id) <= 100:
            self.store.delete_session(session_id)


def open_account_store(data_dir, mongodb_url: str = "") -> AccountStore:
    """The mongo adapter when a MongoDB URL is configured (collections ``web_accounts``, ``web_sessions``),
    else the embedded one: ``web.sqlite3`` in ``data_dir``."""
    if mongodb_url:
        from .accounts_mongo import MongoAccountStore

        return MongoAccountStore(mongodb_url)
    from .accounts_sqlite import SqliteAccountStore

    return SqliteAccountStore(Path(data_dir) / "web.sqlite3")
