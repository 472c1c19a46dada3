"""The rules' commands of the ``lrs`` command line (service/cli.py adds them):

    lrs people import FILE [--partial] [--format csv|json]
    lrs audit verify
    lrs rules run [--once]
    lrs rules evidence (--person ID | --certification ID) [--csv] [--after CURSOR] [--limit N]

They open the rules store the service uses (LRS_DATA_DIR/rules.sqlite3, or LRS_MONGODB_URL) and call
the same functions as the HTTP API (rules.core.Rules).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from .core import Rules, RulesError
from .storage import open_rules_store


def add_commands(subparsers, settings_factory: Callable[[], object], epilog: str | None = None,
                 engine_epilog: str | None = None) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    people = subparsers.add_parser("people", help="the people directory of the rules (who needs which certification)",
                                   epilog=epilog, formatter_class=fmt)
    psub = people.add_subparsers(title="people commands")
    imp = psub.add_parser("import", help="import people from a CSV (an HR export) or JSON file; the same file "
                          "twice changes nothing; with bad rows nothing is imported unless --partial",
                          epilog=epilog, formatter_class=fmt)
    imp.add_argument("file", type=Path, help="the file (.csv or .json)")
    imp.add_argument("--partial", action="store_true", help="import the good rows even when some are bad")
    imp.add_argument("--format", choices=["csv", "json"], help="default: from the file name (.json is JSON)")
    imp.set_defaults(func=lambda a: cmd_people_import(a, settings_factory))
    people.set_defaults(func=lambda a: people.print_help() or 2)

    audit = subparsers.add_parser("audit", help="check the rules' tamper-evident history", epilog=epilog,
                                  formatter_class=fmt)
    asub = audit.add_subparsers(title="audit commands")
    verify = asub.add_parser("verify", help="recompute the history's hash chain; exits 1 and names the first "
                             "broken link when an event was modified, deleted or reordered", epilog=epilog,
                             formatter_class=fmt)
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    verify.set_defaults(func=lambda a: cmd_audit_verify(a, settings_factory))
    audit.set_defaults(func=lambda a: audit.print_help() or 2)

    rules = subparsers.add_parser("rules", help="the rules engine", epilog=engine_epilog, formatter_class=fmt)
    rsub = rules.add_subparsers(title="rules commands")
    run = rsub.add_parser("run", help="run the rules engine in this process until stopped (SIGINT/SIGTERM); it "
                          "takes the lease like the engine of `lrs serve`, so the service processes can run "
                          "with LRS_RULES_ENGINE=false and leave the work to this one (the statements it writes out, "
                          "the reminders and their webhook deliveries included)", epilog=engine_epilog,
                          formatter_class=fmt)
    run.add_argument("--once", action="store_true", help="stop once caught up; prints what was done, exits 1 "
                     "when another process holds the lease")
    run.set_defaults(func=lambda a: cmd_rules_run(a, settings_factory))
    ev = rsub.add_parser("evidence", help="print the evidence pack of a person or a certification (JSON, or CSV "
                         "with --csv): records, the statements that met each requirement and the content they "
                         "were played on, the history events with their hashes, the definition versions and the "
                         "chain head; one page (the JSON's next, or --after, goes on)", epilog=epilog,
                         formatter_class=fmt)
    who = ev.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", help="a person id")
    who.add_argument("--certification", help="a certification id")
    ev.add_argument("--csv", action="store_true", help="CSV rows instead of JSON")
    ev.add_argument("--after", help="the page after this certification id (person) or person id (certification)")
    ev.add_argument("--limit", type=int, default=20, help="entries per page (1 to 100; default 20)")
    ev.set_defaults(func=lambda a: cmd_rules_evidence(a, settings_factory))
    rules.set_defaults(func=lambda a: rules.print_help() or 2)


def _open(settings_factory):
    settings = settings_factory()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return open_rules_store(settings.data_dir, settings.mongodb_url)


def cmd_people_import(args, settings_factory) -> int:
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"lrs: cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    fmt = args.format or ("json" if args.file.suffix.lower() == ".json" else "csv")
    store = _open(settings_factory)
    try:
        result = Rules(store, None).import_people_text(text, fmt, "cli", args.partial)
    except RulesError as exc:
        print(f"lrs: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    for err in result["errors"]:
        print(f"{args.file}:{err['line']}: {err['path'] or '-'}: {err['message']}", file=sys.stderr)
    if not result["applied"]:
        print(f"lrs: {len(result['errors'])} bad rows; nothing imported (--partial imports the good rows)",
              file=sys.stderr)
        return 1
    print(json.dumps({k: result[k] for k in ("imported", "unchanged")} | {"bad_rows": len(result["errors"])}))
    return 0


def cmd_audit_verify(args, settings_factory) -> int:
    store = _open(settings_factory)
    try:
        result = Rules(store, None).verify_chain()
    finally:
        store.close()
    if args.json:
        print(json.dumps(result))
    elif result["ok"]:
        print(f"ok: {result['events']} events, chain head {result['head']}")
    else:
        b = result["broken"]
        print(f"broken: event {b['n']}: {b['reason']} ({result['events']} events before it are intact, "
              f"last good hash {result['head']})")
    return 0 if result["ok"] else 1


def cmd_rules_evidence(args, settings_factory) -> int:
    import csv

    from lrs.storage import open_store

    from .evidence import CSV_COLUMNS, MAX_LIMIT, csv_rows, evidence_pack
    from .http import _cell

    if not 1 <= args.limit <= MAX_LIMIT:
        print(f"lrs: --limit is from 1 to {MAX_LIMIT}", file=sys.stderr)
        return 2
    settings = settings_factory()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lrs = open_store(settings.data_dir, settings.mongodb_url)
    store = open_rules_store(settings.data_dir, settings.mongodb_url)
    try:
        pack = evidence_pack(Rules(store, lrs), args.person, args.certification, args.after, args.limit)
    except RulesError as exc:
        print(f"lrs: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
        lrs.close()
    if args.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for row in csv_rows(pack):
            w.writerow([_cell(row.get(c)) for c in CSV_COLUMNS])
    else:
        print(json.dumps(pack, indent=1))
    return 0


def cmd_rules_run(args, settings_factory) -> int:
    import signal
    import time

    from lrs.storage import open_store

    from .engine import Engine

    settings = settings_factory()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lrs = open_store(settings.data_dir, settings.mongodb_url)
    store = open_rules_store(settings.data_dir, settings.mongodb_url)
    engine = Engine(lrs, store, lease_seconds=settings.rules_lease_seconds)
    outbox = _outbox(settings, store, lrs)
    outbox.attach(engine)       # statements out and reminders, as in `lrs serve`
    stop = []
    sender = None
    try:
        if args.once:
            done = engine.run_until_idle()
            print(json.dumps(done))
            if not done["leased"]:
                print("lrs: another process holds the rules engine's lease", file=sys.stderr)
                return 1
            return 0
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
        sender = _sender(outbox, settings.rules_delivery_interval_seconds, stop)
        _watch_parent(stop)
        try:
            while not stop:
                if not engine.run_once().get("more"):
                    time.sleep(settings.rules_engine_interval_seconds)
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        return 0
    finally:
        stop.append(True)
        if sender is not None:
            sender.join(settings.rules_webhook_timeout_seconds + 5)
        engine.release()
        outbox.outbox.close()
        store.close()
        lrs.close()


# Set by `lrs serve` when it starts this command as its engine's child process (service/server.py): the
# pid of the server. Not a setting.
PARENT_PID_ENV = "LRS_RULES_PARENT_PID"


def _watch_parent(stop: list, every: float = 0.2):
    """When started by `lrs serve` (``LRS_RULES_PARENT_PID``), a thread that stops this command once its
    parent is no longer that server (it died, say of SIGKILL, and this process was handed to another
    parent): the engine finishes its pass, gives the lease back and exits."""
    import os
    import threading
    import time

    raw = os.environ.get(PARENT_PID_ENV, "")
    if not raw.isdigit():
        return None
    parent = int(raw)

    def run():
        while not stop:
            if os.getppid() != parent:
                print(f"lrs: the server (process {parent}) is gone: the rules engine stops", file=sys.stderr)
                stop.append(True)
                return
            time.sleep(every)

    t = threading.Thread(target=run, name="lrs-rules-parent", daemon=True)
    t.start()
    return t


def _sender(outbox, interval: float, stop: list):
    """A thread that sends the reminder deliveries due, apart from the engine (a dead endpoint never holds
    it up), until ``stop`` is not empty."""
    import threading
    import time

    def run():
        while not stop:
            try:
                done = outbox.deliver()
            except Exception as exc:
                print(f"lrs: reminder deliveries failed: {exc}", file=sys.stderr)
                done = {}
            if not any(done.values()):
                for _ in range(max(1, int(interval * 10))):
                    if stop:
                        return
                    time.sleep(0.1)

    t = threading.Thread(target=run, name="lrs-rules-deliveries", daemon=True)
    t.start()
    return t


def _outbox(settings, store, lrs):
    from service.config import activity_iri_base, reminder_days

    from .outbox import Outbox
    from .storage import utc_now
    from .storage.outbox import open_outbox_store

    return Outbox(store, open_outbox_store(settings.data_dir, settings.mongodb_url), lrs, utc_now,
                  activity_iri_base(settings), reminder_days(settings),
                  None if settings.rules_escalation_days < 0 else settings.rules_escalation_days,
                  retry_seconds=settings.rules_webhook_retry_seconds, max_attempts=settings.rules_webhook_max_attempts,
                  timeout=settings.rules_webhook_timeout_seconds)
