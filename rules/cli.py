"""The rules' commands of the ``lrs`` command line (service/cli.py adds them):

    lrs people import FILE [--partial] [--format csv|json]
    lrs audit verify
    lrs rules run [--once]
    lrs rules evidence (--person ID | --certification ID) [--csv] [--after CURSOR] [--limit N]
    lrs rules transcript PERSON [--csv]
    lrs rules roster CERTIFICATION [--status S,S] [--site S] [--role R] [--expiring-within-days N]
                     [--as-of DAY] [--after ID] [--limit N] [--all] [--csv]
    lrs rules compliance [CERTIFICATION ...] [--as-of DAY] [--site S] [--role R] [--csv]

They open the rules store the service uses (LRS_DATA_DIR/rules.sqlite3, or LRS_MONGODB_URL) and call
the same functions as the HTTP API (rules.core.Rules).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable

from . import tables
from .core import ROSTER_LIMIT, Rules, RulesError
from .derive import STATUSES
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
    tr = rsub.add_parser("transcript", help="print a person's transcript: completions and certifications with "
                         "their status, dates and evidence (JSON, or CSV with --csv)", epilog=epilog,
                         formatter_class=fmt)
    tr.add_argument("person", help="a person id")
    tr.add_argument("--csv", action="store_true", help="CSV rows instead of JSON")
    tr.set_defaults(func=lambda a: cmd_rules_read(a, settings_factory, _transcript))
    ro = rsub.add_parser("roster", help="print the people of a certification with their status, filtered "
                         "(JSON, or CSV with --csv); one page, or every page with --all", epilog=epilog,
                         formatter_class=fmt)
    ro.add_argument("certification", help="a certification id")
    ro.add_argument("--status", help="statuses, comma-separated: " + ", ".join(STATUSES))
    ro.add_argument("--site", help="people of this site")
    ro.add_argument("--role", help="people with this role")
    ro.add_argument("--expiring-within-days", type=int, metavar="N", help="people whose certification "
                    "expires within N days (certified or in renewal window unless --status says otherwise)")
    ro.add_argument("--as-of", metavar="YYYY-MM-DD", help="the status on a past day, from the history")
    ro.add_argument("--after", help="the page after this person id")
    ro.add_argument("--limit", type=int, default=100, help=f"people per page (1 to {ROSTER_LIMIT}; default 100)")
    ro.add_argument("--all", action="store_true", help="every page, one after the other")
    ro.add_argument("--csv", action="store_true", help="CSV rows instead of JSON")
    ro.set_defaults(func=lambda a: cmd_rules_read(a, settings_factory, _roster))
    co = rsub.add_parser("compliance", help="print the share of people current, in all, by site and by role, "
                         "for each certification named (default: every published one) and all of them together "
                         "(JSON, or CSV with --csv)", epilog=epilog, formatter_class=fmt)
    co.add_argument("certification", nargs="*", help="certification ids (default: every published one)")
    co.add_argument("--as-of", metavar="YYYY-MM-DD", help="compliance on a past day, from the history")
    co.add_argument("--site", help="only people of this site")
    co.add_argument("--role", help="only people with this role")
    co.add_argument("--csv", action="store_true", help="CSV rows instead of JSON")
    co.set_defaults(func=lambda a: cmd_rules_read(a, settings_factory, _compliance))
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


def cmd_rules_read(args, settings_factory, read) -> int:
    """Open both stores, ``read(rules, args)`` an answer and print it (``read`` prints CSV itself)."""
    from lrs.storage import open_store

    settings = settings_factory()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    lrs = open_store(settings.data_dir, settings.mongodb_url)
    store = open_rules_store(settings.data_dir, settings.mongodb_url)
    try:
        answer = read(Rules(store, lrs), args)
    except RulesError as exc:
        print(f"lrs: {exc.message}" + (f" ({exc.path})" if exc.path else ""), file=sys.stderr)
        return 2 if exc.status == 400 else 1
    finally:
        store.close()
        lrs.close()
    if answer is not None:
        print(json.dumps(answer, indent=1))
    return 0


def _transcript(rules: Rules, args):
    t = rules.transcript(args.person)
    if not args.csv:
        return t
    tables.write(sys.stdout, tables.TRANSCRIPT, tables.transcript_rows(t), lineterminator="\n")
    return None


def _roster(rules: Rules, args):
    status = [s for s in (args.status or "").split(",") if s] or None
    bad = next((s for s in status or () if s not in STATUSES), None)
    if bad:
        raise RulesError(400, f"status {bad!r} is not one of {', '.join(STATUSES)}", "--status")
    if not 1 <= args.limit <= ROSTER_LIMIT:
        raise RulesError(400, f"--limit is from 1 to {ROSTER_LIMIT}", "--limit")
    if args.expiring_within_days is not None and not 0 <= args.expiring_within_days <= 36500:
        raise RulesError(400, "--expiring-within-days is from 0 to 36500", "--expiring-within-days")
    after, people, first = args.after, [], True
    while True:
        page = rules.roster(args.certification, status, args.site, args.role, args.expiring_within_days,
                            args.as_of, after, args.limit)
        if args.csv:
            tables.write(sys.stdout, tables.ROSTER, tables.roster_rows(page), header=first, lineterminator="\n")
        else:
            people += page["people"]
        first, after = False, page["next"]
        if not args.all or after is None:
            break
    if args.csv:
        return None
    return {**page, "people": people, "next": after}


def _compliance(rules: Rules, args):
    report = rules.compliance_report(args.as_of, args.site, args.role, args.certification or None)
    if not args.csv:
        return report
    tables.write(sys.stdout, tables.COMPLIANCE, tables.report_rows(report), lineterminator="\n")
    return None


def cmd_rules_evidence(args, settings_factory) -> int:
    from lrs.storage import open_store

    from .evidence import CSV_COLUMNS, MAX_LIMIT, csv_rows, evidence_pack

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
        tables.write(sys.stdout, CSV_COLUMNS, csv_rows(pack), lineterminator="\n")
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
