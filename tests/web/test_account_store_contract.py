"""The account store's contract: the SQLite file and the mongo collections (fresh database; skipped when
LRS_TEST_MONGODB_URL is not set) pass the same tests; and the Accounts functions over it."""
from __future__ import annotations

import pytest

from web.accounts import Account, AccountError, Accounts, Session, open_account_store


@pytest.fixture
def store(tmp_path, backend):
    s = open_account_store(tmp_path, backend)
    yield s
    s.close()


def test_an_account_is_added_once_read_listed_and_replaced(store):
    a = Account("zoe", "admin", "scrypt$x", None, False, "2026-01-01T00:00:00.000Z")
    assert store.add_account(a) is True
    assert store.add_account(Account("zoe", "auditor", "other")) is False
    assert store.account("zoe") == a
    assert store.account("nobody") is None
    store.add_account(Account("amy", "supervisor", "h", "p1", False, "t"))
    assert [x.username for x in store.accounts()] == ["amy", "zoe"]
    store.put_account(Account("zoe", "admin", "new", None, True, a.created))
    assert store.account("zoe").disabled is True and store.account("zoe").password_hash == "new"


def test_sessions_are_read_deleted_one_at_a_time_and_all_of_an_account(store):
    store.add_session(Session("s1", "zoe", 100.5, "t"))
    store.add_session(Session("s2", "zoe", 200.0, "t"))
    store.add_session(Session("s3", "amy", 300.0, "t"))
    assert store.session("s1") == Session("s1", "zoe", 100.5, "t")
    store.delete_session("s1")
    assert store.session("s1") is None
    assert store.delete_sessions("zoe") == 1
    assert store.session("s2") is None and store.session("s3") is not None


def test_sign_in_needs_the_right_password_of_an_enabled_account(store):
    now = [1000.0]
    accounts = Accounts(store, session_seconds=60, clock=lambda: now[0])
    accounts.create("zoe", "admin", "correct horse battery")
    assert store.account("zoe").password_hash.startswith("scrypt$")
    assert accounts.sign_in("zoe", "wrong password here") is None
    assert accounts.sign_in("nobody", "correct horse battery") is None
    account, session = accounts.sign_in("zoe", "correct horse battery")
    assert account.username == "zoe" and accounts.signed_in(session.id).username == "zoe"
    now[0] += 61
    assert accounts.signed_in(session.id) is None            # expired
    _, s2 = accounts.sign_in("zoe", "correct horse battery")
    accounts.sign_out(s2.id)
    assert accounts.signed_in(s2.id) is None


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(store):
    accounts = Accounts(store)
    accounts.create("zoe", "admin", "correct horse battery")
    _, s = accounts.sign_in("zoe", "correct horse battery")
    accounts.set_password("zoe", "another long password")
    assert accounts.signed_in(s.id) is None
    assert accounts.sign_in("zoe", "correct horse battery") is None
    _, s = accounts.sign_in("zoe", "another long password")
    accounts.disable("zoe")
    assert accounts.signed_in(s.id) is None
    assert accounts.sign_in("zoe", "another long password") is None
    accounts.disable("zoe", False)
    assert accounts.sign_in("zoe", "another long password") is not None


@pytest.mark.parametrize("args, path", [
    (("bad name!", "admin", "correct horse battery"), "username"),
    (("zoe", "root", "correct horse battery"), "role"),
    (("zoe", "admin", "short"), "password"),
    (("zoe", "supervisor", "correct horse battery"), "person_id"),
])
def test_an_account_with_a_bad_field_is_refused_naming_it(store, args, path):
    with pytest.raises(AccountError) as exc:
        Accounts(store).create(*args)
    assert exc.value.status == 400 and exc.value.path == path
    assert store.accounts() == []


def test_a_taken_user_name_is_refused_with_409(store):
    accounts = Accounts(store)
    accounts.create("zoe", "auditor", "correct horse battery")
    with pytest.raises(AccountError) as exc:
        accounts.create("zoe", "admin", "correct horse battery")
    assert exc.value.status == 409 and store.account("zoe").role == "auditor"


def test_sign_in_is_refused_without_a_check_after_too_many_failures_for_a_name_until_the_window_moves(store):
    from web.accounts import TooManyFailures

    now = [1000.0]
    accounts = Accounts(store, clock=lambda: now[0], max_failures_per_name=3, max_failures_per_address=5,
                        failure_window=60)
    accounts.create("zoe", "admin", "correct horse battery")
    for _ in range(3):
        assert accounts.sign_in("Zoe", "wrong password here", "10.0.0.1") is None
    with pytest.raises(TooManyFailures) as exc:
        accounts.sign_in("zoe", "correct horse battery", "10.0.0.2")      # the right password, still refused
    assert 0 < exc.value.retry_after <= 61
    assert accounts.sign_in("nobody", "x", "10.0.0.1") is None           # another name from that address
    assert accounts.sign_in("nobody", "x", "10.0.0.1") is None
    with pytest.raises(TooManyFailures):
        accounts.sign_in("amy", "x", "10.0.0.1")                          # the address's limit (5)
    now[0] += 61
    assert accounts.sign_in("zoe", "correct horse battery", "10.0.0.1") is not None
