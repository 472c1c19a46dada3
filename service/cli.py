"""The ``lrs`` command line."""
from __future__ import annotations

import argparse
import json
import secrets
import sys

import content_store.cli
from lrs.auth import SCOPES, Credentials
from lrs.storage import open_store

from .config import Settings, describe


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args) or 0
    except ValueError as exc:
        print(f"lrs: {exc}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="lrs", description="Learning record system.",
                                     epilog=describe(), formatter_class=fmt)
    sub = parser.add_subparsers(title="commands")

    serve = sub.add_parser("serve", help="run the HTTP service (xAPI at /xapi)", epilog=describe(),
                           formatter_class=fmt)
    serve.add_argument("--host", help="listen address (LRS_HOST)")
    serve.add_argument("--port", type=int, help="listen port (LRS_PORT)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    creds = sub.add_parser("credentials", help="manage xAPI client credentials (HTTP Basic)",
                           epilog=describe(), formatter_class=fmt)
    csub = creds.add_subparsers(title="credential commands")
    create = csub.add_parser("create", help="create a credential; the secret is stored hashed",
                             epilog=f"scopes: {', '.join(SCOPES)}\n\n" + describe(), formatter_class=fmt)
    create.add_argument("--key", required=True, help="the Basic auth user name")
    create.add_argument("--secret", help="the Basic auth password (default: generated and printed once)")
    create.add_argument("--scope", nargs="+", default=["all"], choices=SCOPES, metavar="SCOPE",
                        help="xAPI scopes (default: all)")
    create.add_argument("--name", help="name of the authority agent (default: the key)")
    create.add_argument("--email", help="mbox of the authority agent (default: an account on this LRS)")
    create.set_defaults(func=cmd_credentials_create)
    lst = csub.add_parser("list", help="list credentials (never their secrets)", epilog=describe(),
                          formatter_class=fmt)
    lst.set_defaults(func=cmd_credentials_list)
    revoke = csub.add_parser("revoke", help="revoke a credential", epilog=describe(), formatter_class=fmt)
    revoke.add_argument("key")
    revoke.set_defaults(func=cmd_credentials_revoke)
    creds.set_defaults(func=lambda a: creds.print_help() or 2)
    content_store.cli.add_commands(sub, Settings.from_env, epilog=describe())
    return parser


def cmd_serve(args) -> int:
    import uvicorn

    settings = Settings.from_env(host=args.host, port=args.port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.data_dir, settings.mongodb_url)
    try:
        creds = Credentials(store)
        if creds.is_empty():
            secret = secrets.token_urlsafe(24)
            creds.create("admin", secret, ["all"], name="admin")
            base = settings.public_url or f"http://{settings.host}:{settings.port}"
            print("First run: created the admin credential (shown once, stored hashed):")
            print(f"  endpoint: {base}/xapi/")
            print(f"  key:      admin")
            print(f"  secret:   {secret}")
            print("Make more with: lrs credentials create --key KEY --secret SECRET --scope all", flush=True)
    finally:
        store.close()
    uvicorn.run("service.app:create_app", factory=True, host=settings.host, port=settings.port,
                workers=args.workers, log_level="warning", access_log=False)
    return 0


def _open_credentials():
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.data_dir, settings.mongodb_url)
    return store, Credentials(store)


def cmd_credentials_create(args) -> int:
    store, creds = _open_credentials()
    try:
        secret = args.secret or secrets.token_urlsafe(24)
        cred = creds.create(args.key, secret, args.scope, name=args.name, email=args.email)
        print(json.dumps({"key": cred["key"], "scopes": cred["scopes"], "authority": cred["authority"]}))
        if not args.secret:
            print(f"secret (shown once): {secret}")
    finally:
        store.close()
    return 0


def cmd_credentials_list(args) -> int:
    store, creds = _open_credentials()
    try:
        for cred in creds.list():
            print(json.dumps({k: cred[k] for k in ("key", "scopes", "authority", "created")}))
    finally:
        store.close()
    return 0


def cmd_credentials_revoke(args) -> int:
    store, creds = _open_credentials()
    try:
        if not creds.revoke(args.key):
            print(f"lrs: no credential with key {args.key!r}", file=sys.stderr)
            return 1
        print(f"revoked {args.key}")
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
