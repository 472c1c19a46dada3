"""``lrs accounts``: staff accounts of the web pages (create, list, disable, password).

A password is read from standard input (``--password-stdin``, so it is never in the process list or the
shell history) or generated and printed once."""
from __future__ import annotations

import argparse
import json
import secrets
import sys

from .accounts import ROLES, AccountError, Accounts, open_account_store


def add_commands(sub, settings_factory, epilog: str = "") -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    accounts = sub.add_parser("accounts", help="manage staff accounts of the web pages (/app)", epilog=epilog,
                              formatter_class=fmt)
    asub = accounts.add_subparsers(title="account commands")
    create = asub.add_parser("create", help="create an account; its password is stored hashed", epilog=epilog,
                             formatter_class=fmt)
    create.add_argument("username")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--person", help="the account's person id in the people directory (required for a "
                                         "supervisor: they see the people whose supervisor it is)")
    create.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input (default: generate one and print it once)")
    create.set_defaults(func=lambda a: _run(settings_factory, _create, a))
    lst = asub.add_parser("list", help="list accounts (never their password hashes)", epilog=epilog,
                          formatter_class=fmt)
    lst.set_defaults(func=lambda a: _run(settings_factory, _list, a))
    for name, enable in (("disable", False), ("enable", True)):
        p = asub.add_parser(name, help=f"{name} an account" + ("; its sessions end" if not enable else ""),
                            epilog=epilog, formatter_class=fmt)
        p.add_argument("username")
        p.set_defaults(func=lambda a, enable=enable: _run(settings_factory, _disable, a, not enable))
    pw = asub.add_parser("password", help="set an account's password; its sessions end", epilog=epilog,
                         formatter_class=fmt)
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from standard input "
                                                                   "(default: generate one and print it once)")
    pw.set_defaults(func=lambda a: _run(settings_factory, _password_cmd, a))
    accounts.set_defaults(func=lambda a: accounts.print_help() or 2)


def _run(settings_factory, fn, args, *more) -> int:
    settings = settings_factory()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_account_store(settings.data_dir, settings.mongodb_url)
    try:
        return fn(Accounts(store), args, *more)
    except AccountError as exc:
        print(f"lrs: {exc.message}" + (f" ({exc.path})" if exc.path else ""), file=sys.stderr)
        return 1
    finally:
        store.close()


def _read_password(args_or_none) -> tuple[str, bool]:
    if args_or_none.password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return secrets.token_urlsafe(18), True


def _view(a) -> dict:
    return {"username": a.username, "role": a.role, "person_id": a.person_id, "disabled": a.disabled,
            "created": a.created}


def _create(accounts: Accounts, args) -> int:
    password, generated = _read_password(args)
    a = accounts.create(args.username, args.role, password, args.person)
    print(json.dumps(_view(a)))
    if generated:
        print(f"password (shown once): {password}")
    return 0


def _list(accounts: Accounts, args) -> int:
    for a in accounts.list():
        print(json.dumps(_view(a)))
    return 0


def _disable(accounts: Accounts, args, disabled: bool) -> int:
    print(json.dumps(_view(accounts.disable(args.username, disabled))))
    return 0


def _password_cmd(accounts: Accounts, args) -> int:
    password, generated = _read_password(args)
    accounts.set_password(args.username, password)
    print(f"password of {args.username} changed; its sessions ended")
    if generated:
        print(f"password (shown once): {password}")
    return 0

