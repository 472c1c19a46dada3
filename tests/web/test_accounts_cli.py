"""``lrs accounts``: create (password from stdin or generated and shown once), list without hashes,
disable/enable, password; refusals exit 1 with a message naming the field."""
from __future__ import annotations

import io
import json

from service.cli import main
from web.accounts import Accounts, open_account_store


def run(capsys, monkeypatch, argv, stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def signs_in(data_dir, name: str, password: str) -> bool:
    store = open_account_store(data_dir)
    try:
        return Accounts(store).sign_in(name, password) is not None
    finally:
        store.close()


def test_accounts_are_created_listed_disabled_and_given_a_new_password(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    code, out, _ = run(capsys, monkeypatch, ["accounts", "create", "zoe", "--role", "admin", "--password-stdin"],
                       "a long enough password\n")
    assert code == 0 and json.loads(out)["role"] == "admin"
    assert signs_in(tmp_path, "zoe", "a long enough password")
    code, out, _ = run(capsys, monkeypatch, ["accounts", "create", "sam", "--role", "supervisor", "--person", "s1"])
    generated = out.split("password (shown once): ")[1].strip()
    assert code == 0 and signs_in(tmp_path, "sam", generated)
    code, out, _ = run(capsys, monkeypatch, ["accounts", "list"])
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["username"] for r in rows] == ["sam", "zoe"] and "scrypt" not in out
    assert run(capsys, monkeypatch, ["accounts", "disable", "sam"])[0] == 0
    assert not signs_in(tmp_path, "sam", generated)
    assert run(capsys, monkeypatch, ["accounts", "enable", "sam"])[0] == 0
    assert run(capsys, monkeypatch, ["accounts", "password", "sam", "--password-stdin"], "another long password\n")[0] == 0
    assert signs_in(tmp_path, "sam", "another long password") and not signs_in(tmp_path, "sam", generated)


def test_a_refused_account_exits_1_naming_the_field(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LRS_DATA_DIR", str(tmp_path))
    code, _, err = run(capsys, monkeypatch, ["accounts", "create", "sam", "--role", "supervisor"])
    assert code == 1 and "(person_id)" in err
    code, _, err = run(capsys, monkeypatch, ["accounts", "create", "zoe", "--role", "admin", "--password-stdin"], "short\n")
    assert code == 1 and "(password)" in err
    code, _, err = run(capsys, monkeypatch, ["accounts", "disable", "nobody"])
    assert code == 1 and "no account" in err
