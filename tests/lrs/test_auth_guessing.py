"""Guessing Basic credentials is slow and uninformative: an unknown key costs what a wrong secret
costs, secret checks are limited in number, failed attempts are limited per key and per client
address (429 with Retry-After), and a store that cannot be read does not stop authentication for
a bounded time (issue 9 finding 7)."""
from __future__ import annotations

import threading
import time

import anyio
import pytest

import lrs.auth as auth
from lrs.auth import Credentials, hash_secret
from lrs_testkit import ADMIN, basic, error_of


class ListStore:
    """Just enough of a store for Credentials: a list of credentials that can be made to fail."""

    def __init__(self, creds):
        self.creds = list(creds)
        self.fail = False
        self.reads = 0

    def credentials(self):
        self.reads += 1
        if self.fail:
            raise RuntimeError("store busy")
        return list(self.creds)


@pytest.fixture(scope="module")
def known():
    return {"key": "known", "secret_hash": hash_secret("right-secret"), "scopes": ["all"], "authority": {}}


def _time(fn, n=3) -> float:
    best = float("inf")
    for _ in range(n):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def test_an_unknown_key_takes_as_long_as_a_wrong_secret(known):
    """Issue 9 finding 7: a refused unknown key and a refused wrong secret of a known key take the
    same time (both pay one scrypt check), so the answer time does not tell which keys exist."""
    creds = Credentials(ListStore([known]))
    unknown = _time(lambda: creds.authenticate(basic("nobody", "guess")))
    wrong = _time(lambda: creds.authenticate(basic("known", "guess")))
    assert creds.authenticate(basic("nobody", "guess")) is None
    assert unknown > 0.5 * wrong, (unknown, wrong)
    assert wrong > 0.5 * unknown, (unknown, wrong)


def test_failed_attempts_per_key_get_429_with_retry_after_and_a_verified_secret_stays_accepted(make_client):
    """Issue 9 finding 7: more than LRS_AUTH_MAX_FAILURES_PER_KEY failures for a key within the window
    get 429 with Retry-After, with no secret check; the key's owner, whose secret was verified before,
    is still let in (from the verified cache)."""
    client = make_client(auth_max_failures_per_key=3)
    assert client.get("/statements").status_code == 200  # the owner's secret is verified and cached
    for _ in range(3):
        assert client.get("/statements", headers={"Authorization": basic(ADMIN[0], "guess")}).status_code == 401
    refused = client.get("/statements", headers={"Authorization": basic(ADMIN[0], "guess")})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    error_of(refused)
    assert client.get("/statements").status_code == 200


def test_failed_attempts_per_client_address_get_429(make_client):
    """Issue 9 finding 7: more than LRS_AUTH_MAX_FAILURES_PER_ADDRESS failures from one address within
    the window get 429, whatever keys they try."""
    client = make_client(auth_max_failures_per_address=3)
    for i in range(3):
        assert client.get("/statements", headers={"Authorization": basic(f"key{i}", "guess")}).status_code == 401
    refused = client.get("/statements", headers={"Authorization": basic("another", "guess")})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


def test_secret_checks_run_at_most_the_configured_number_at_once(known, monkeypatch):
    """Issue 9 finding 7: guesses cannot take every CPU: at most max_concurrent_checks scrypt checks
    run at the same time."""
    running, most = 0, 0
    lock = threading.Lock()

    def slow_verify(secret, stored):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return False

    monkeypatch.setattr(auth, "verify_secret", slow_verify)
    limits = auth.AuthLimits(max_concurrent_checks=2, max_failures_per_key=100)
    creds = Credentials(ListStore([known]), limits=limits)

    async def main():
        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(creds.authenticate_async, basic("known", f"guess{i}"))

    anyio.run(main)
    assert most == 2


def test_a_failing_credential_reload_keeps_the_last_list_for_a_bounded_time(known, monkeypatch):
    """Issue 9 finding 7: when re-reading the credential list fails, the last list keeps serving (no
    500), re-read again later; once it is older than the refresh interval plus the grace, requests
    get CredentialsUnavailable (503) rather than a list that may still hold a revoked key."""
    from lrs.auth import CredentialsUnavailable

    monkeypatch.setattr(auth, "REFRESH_SECONDS", 0.2)
    monkeypatch.setattr(auth, "STALE_GRACE_SECONDS", 0.4)
    monkeypatch.setattr(auth, "RETRY_SECONDS", 0.05)
    monkeypatch.setattr(auth, "WAIT_SECONDS", 0.3)
    store = ListStore([known])
    creds = Credentials(store)
    header = basic("known", "right-secret")
    assert anyio.run(creds.authenticate_async, header) is not None
    store.fail = True
    time.sleep(0.3)  # stale, within the grace
    assert anyio.run(creds.authenticate_async, header) is not None
    time.sleep(0.1)
    reads = store.reads
    time.sleep(0.4)  # past the grace
    with pytest.raises(CredentialsUnavailable):
        anyio.run(creds.authenticate_async, header)
    assert store.reads > reads + 1  # it kept retrying
    store.fail = False
    store.creds = []  # the key was revoked meanwhile
    assert anyio.run(creds.authenticate_async, header) is None


def test_the_503_when_credentials_cannot_be_read_says_retry_after(make_client, monkeypatch):
    """Issue 9 finding 7: a credential list that cannot be read is a 503 with Retry-After, not a 500."""
    from lrs.auth import CredentialsUnavailable

    client = make_client()

    async def unavailable(self, *args, **kwargs):
        raise CredentialsUnavailable("store busy")

    monkeypatch.setattr(Credentials, "authenticate_async", unavailable)
    resp = client.get("/statements")
    assert resp.status_code == 503
    assert int(resp.headers["Retry-After"]) > 0
    error_of(resp)
