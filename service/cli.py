"""The ``lrs`` command line."""
from __future__ import annotations

import argparse
import json
import secrets
import string
import sys
from importlib import metadata

import content_store.cli
from lrs.auth import SCOPES, Credentials
from lrs.storage import open_store

from .config import Settings, describe, scorm_again_dir
from .imports import IMPORT_CHECKS

# The settings each command reads (``serve`` reads them all).
STORE_SETTINGS = ("data_dir", "mongodb_url")
PACKAGE_SETTINGS = ("data_dir", "package_*")
LAUNCH_SETTINGS = ("data_dir", "mongodb_url", "host", "port", "public_url", "content_port", "content_origin",
                   "launch_token_seconds")
SECRET_ALPHABET = string.ascii_letters + string.digits + "-_"


def generate_secret(length: int = 32) -> str:
    """A random secret from the URL-safe alphabet that starts with a letter or digit, so that it is
    never taken for an option on a command line."""
    first = secrets.choice(string.ascii_letters + string.digits)
    return first + "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length - 1))


def _version() -> str:
    try:
        return metadata.version("learning-record-system")
    except metadata.PackageNotFoundError:
        return "unknown"


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
    parser.add_argument("--version", action="version", version=f"lrs {_version()}")
    sub = parser.add_subparsers(title="commands")
    store_vars = describe(STORE_SETTINGS)

    serve = sub.add_parser("serve", help="run the HTTP service (xAPI at /xapi)", epilog=describe(),
                           formatter_class=fmt)
    serve.add_argument("--host", help="listen address (LRS_HOST)")
    serve.add_argument("--port", type=int, help="listen port of the main origin (LRS_PORT)")
    serve.add_argument("--content-port", type=int, help="listen port of the content origin: course files and "
                                                        "the learner's player (LRS_CONTENT_PORT; default: port + 1)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.set_defaults(func=cmd_serve)

    creds = sub.add_parser("credentials", help="manage xAPI client credentials (HTTP Basic)",
                           epilog=store_vars, formatter_class=fmt)
    csub = creds.add_subparsers(title="credential commands")
    create = csub.add_parser("create", help="create a credential; the secret is stored hashed",
                             epilog=f"scopes: {', '.join(SCOPES)}\n\n" + store_vars, formatter_class=fmt)
    create.add_argument("--key", required=True, help="the Basic auth user name")
    create.add_argument("--secret", help="the Basic auth password (default: generated and printed once)")
    create.add_argument("--scope", nargs="+", default=["all"], choices=SCOPES, metavar="SCOPE",
                        help="xAPI scopes (default: all)")
    create.add_argument("--name", help="name of the authority agent (default: the key)")
    create.add_argument("--email", help="mbox of the authority agent (default: an account on this LRS)")
    create.set_defaults(func=cmd_credentials_create)
    lst = csub.add_parser("list", help="list credentials (never their secrets)", epilog=store_vars,
                          formatter_class=fmt)
    lst.set_defaults(func=cmd_credentials_list)
    revoke = csub.add_parser("revoke", help="revoke a credential", epilog=store_vars, formatter_class=fmt)
    revoke.add_argument("key")
    revoke.set_defaults(func=cmd_credentials_revoke)
    creds.set_defaults(func=lambda a: creds.print_help() or 2)
    content_store.cli.add_commands(sub, Settings.from_env, epilog=describe(PACKAGE_SETTINGS), checks=IMPORT_CHECKS)

    launch_vars = describe(LAUNCH_SETTINGS)
    launch = sub.add_parser("launch", help="make launch links for learners", epilog=launch_vars,
                            formatter_class=fmt)
    lsub = launch.add_subparsers(title="launch commands")
    lcreate = lsub.add_parser("create", help="print a single-use launch link for a learner on a course "
                                             "(and the registration id)", epilog=launch_vars, formatter_class=fmt)
    lcreate.add_argument("--course", required=True, help="the course id (lrs packages list)")
    lcreate.add_argument("--learner", required=True,
                         help="the learner: mailto:name@example.com, or an xAPI Agent as JSON")
    lcreate.add_argument("--registration", help="a registration id (UUID): an existing one of this learner "
                                                "and course, or a new one")
    lcreate.add_argument("--version", type=int, help="the course version, for a new registration only "
                                                     "(default: the learner's current one, else the latest)")
    lcreate.add_argument("--return-url", help="where the player sends the learner at the end (http or https)")
    lcreate.set_defaults(func=cmd_launch_create)
    launch.set_defaults(func=lambda a: launch.print_help() or 2)
    # -- rules (issue 11) --
    import rules.cli

    rules.cli.add_commands(sub, Settings.from_env, epilog=describe(STORE_SETTINGS),
                           engine_epilog=describe(STORE_SETTINGS + ("rules_*",)))
    # -- web pages (issue 15) --
    import web.cli

    web.cli.add_commands(sub, Settings.from_env, epilog=describe(STORE_SETTINGS))
    return parser


def cmd_serve(args) -> int:
    from .server import serve, start_rules_engine

    settings = Settings.from_env(host=args.host, port=args.port, content_port=args.content_port)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    base = settings.main_url
    store = open_store(settings.data_dir, settings.mongodb_url)
    try:
        creds = Credentials(store)
        if creds.is_empty():
            secret = generate_secret()
            creds.create("admin", secret, ["all"], name="admin")
            print("First run: created the admin credential (shown once, stored hashed):")
            print(f"  endpoint: {base}/xapi/")
            print("  key:      admin")
            print(f"  secret:   {secret}")
            print("Make more with: lrs credentials create --key KEY --scope all")
    finally:
        store.close()
    print(f"lrs {_version()} listening on http://{settings.host}:{settings.port} (main origin) and "
          f"http://{settings.host}:{settings.content_port} (content origin)")
    print(f"  xAPI endpoint:  {base}/xapi/")
    print(f"  content API:    {base}/content/")
    print(f"  launch links:   POST {base}/player/launches (or: lrs launch create)")
    print(f"  content origin: {settings.content_url} (course files and the learner's player; launch links "
          "open there)")
    print(f"  data:           {_data_location(settings)}", flush=True)
    engine = None
    if settings.rules_engine:  # one child process, whatever --workers says (service/server.py)
        engine = start_rules_engine(settings)
        print(f"  rules engine:   process {engine.pid} (lrs rules run, started and stopped with this server)",
              flush=True)
    else:
        print("  rules engine:   not run here (LRS_RULES_ENGINE=false; run it with lrs rules run)", flush=True)
    browser = scorm_again_dir(settings)
    if not (browser / "scorm12.min.js").is_file():
        print(f"  warning: scorm-again is not installed at {browser}: courses cannot talk to the player. Run "
              "`npm ci --omit=dev` in the project folder, or set LRS_SCORM_AGAIN_DIR.", flush=True)
    return serve(settings, workers=args.workers, rules_engine=engine)


def _data_location(settings: Settings) -> str:
    content = settings.data_dir.resolve() / "content"
    if settings.mongodb_url:
        from urllib.parse import urlsplit

        url = urlsplit(settings.mongodb_url)
        where = url._replace(netloc=url.hostname + (f":{url.port}" if url.port else "")).geturl() \
            if url.hostname else settings.mongodb_url
        return f"{where} (xAPI), {content} (content)"
    return f"{settings.data_dir.resolve()} (xAPI store lrs.sqlite3, content in {content})"


def _open_credentials():
    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(settings.data_dir, settings.mongodb_url)
    return store, Credentials(store)


def cmd_credentials_create(args) -> int:
    store, creds = _open_credentials()
    try:
        secret = args.secret or generate_secret()
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


def cmd_launch_create(args) -> int:
    from content_store.store import ContentStore
    from lrs.errors import XAPIError
    from player.launch import Launcher, learner_from_text
    from player.storage import open_player_store

    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    base = settings.content_url  # the launch link opens on the content origin
    store = open_store(settings.data_dir, settings.mongodb_url)
    players = open_player_store(settings.data_dir, settings.mongodb_url)
    content = ContentStore(settings.data_dir / "content")
    try:
        launcher = Launcher(players, content, store.secret, token_seconds=settings.launch_token_seconds)
        made = launcher.create(learner_from_text(args.learner), args.course, base, registration=args.registration,
                               version=args.version, return_url=args.return_url)
    except XAPIError as exc:
        print(f"lrs: {exc.message}", file=sys.stderr)
        return 1
    finally:
        content.close()
        players.close()
        store.close()
    print(made.url)
    print(f"registration: {made.registration.id} (course {made.registration.course_id}, "
          f"version {made.registration.version}); the link works once, until {made.expires}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
