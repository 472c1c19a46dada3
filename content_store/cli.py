"""``lrs packages ...``: import, list, show and retire courses from the command line.

``add_commands(subparsers, settings_factory)`` adds the group to the service's parser;
``settings_factory()`` returns an object with ``data_dir`` and, optionally, the
``package_max_*`` limits (see ``Limits.from_settings``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

import orjson

from .errors import PackageRejected
from .importer import ModelCheck, import_file
from .limits import Limits
from .manifests.files import is_absolute_url
from .numbers import whole_number
from .store import ContentStore


def add_commands(subparsers, settings_factory: Callable[[], object], epilog: str | None = None,
                 checks: Sequence[ModelCheck] = ()) -> None:
    """``checks``: warnings other parts add to each import's report (``importer.ModelCheck``)."""
    fmt = argparse.RawDescriptionHelpFormatter
    packages = subparsers.add_parser("packages", help="import and manage course packages (SCORM, cmi5, xAPI)",
                                     epilog=epilog, formatter_class=fmt)
    sub = packages.add_subparsers(title="package commands")

    imp = sub.add_parser("import", help="import a package zip; prints the validation report and exits 1 "
                         "when the package is rejected", epilog=epilog, formatter_class=fmt)
    imp.add_argument("file", type=Path, help="the zip (or a standalone cmi5.xml)")
    imp.add_argument("--json", action="store_true", help="print the result as JSON")
    imp.set_defaults(func=lambda a: cmd_import(a, settings_factory, tuple(checks)))

    lst = sub.add_parser("list", help="list courses", epilog=epilog, formatter_class=fmt)
    lst.add_argument("--all", action="store_true", help="include retired courses")
    lst.add_argument("--json", action="store_true", help="print JSON lines")
    lst.set_defaults(func=lambda a: cmd_list(a, settings_factory))

    show = sub.add_parser("show", help="show a course: versions, structure and validation report",
                          epilog=epilog, formatter_class=fmt)
    show.add_argument("id", help="course id (as `list` prints it)")
    show.add_argument("--version", type=_version_number, help="version number (default: the latest)")
    show.set_defaults(func=lambda a: cmd_show(a, settings_factory))

    retire = sub.add_parser("retire", help="retire a course: it is no longer listed, its versions stay "
                            "servable and nothing that refers to it is deleted", epilog=epilog,
                            formatter_class=fmt)
    retire.add_argument("id", help="course id")
    retire.set_defaults(func=lambda a: cmd_retire(a, settings_factory))

    packages.set_defaults(func=lambda a: packages.print_help() or 2)


def _version_number(text: str) -> int:
    number = whole_number(text)
    if not number:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a version number (a whole number, digits 0-9)")
    return number


def _open(settings_factory) -> tuple[ContentStore, Limits]:
    settings = settings_factory()
    return ContentStore(Path(settings.data_dir) / "content"), Limits.from_settings(settings)


def _print_json(value) -> None:
    sys.stdout.write(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() + "\n")


def cmd_import(args, settings_factory, checks: Sequence[ModelCheck] = ()) -> int:
    if not args.file.is_file():
        print(f"lrs: no such file: {args.file}", file=sys.stderr)
        return 2
    store, limits = _open(settings_factory)
    try:
        result = import_file(store, args.file, limits, checks=checks)
    except PackageRejected as exc:
        if args.json:
            _print_json(exc.to_dict())
        else:
            print(exc.report.to_text())
        print(f"lrs: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.close()
    course, version = result.course, result.version
    if args.json:
        _print_json({"created": result.created, "course": course, "version": version})
        return 0
    print(result.report.to_text())
    verb = "imported" if result.created else "unchanged (same zip as the latest version)"
    print(f"{verb}: course {course['id']} version {version['version']} ({version['format']} "
          f"{version['edition']}, {version['file_count']} files) \"{course['title']}\"")
    for line in launch_lines(course, version, _public_base(settings_factory)):
        print(line)
    return 0


def _public_base(settings_factory) -> str:
    settings = settings_factory()
    content = getattr(settings, "content_url", "") or ""  # the service's content origin serves the files
    if content:
        return content.rstrip("/")
    public = getattr(settings, "public_url", "") or ""
    if public:
        return public.rstrip("/")
    host, port = getattr(settings, "host", None), getattr(settings, "port", None)
    return f"http://{host}:{port}" if host and port else ""


def launch_lines(course: dict, version: dict, base: str = "") -> list[str]:
    """Where a browser opens the version: the URL of its (first) launch file, which the file route
    serves (GET /content/files/{id}/{n}/{path}; the folder URL itself is no file and answers 404)."""
    files = f"{base}/content/files/{course['id']}/{version['version']}/"
    launchables = (version.get("structure") or {}).get("launchables") or []
    if not launchables:
        return [f"files under: {files}<path in the package>"]
    launch = launchables[0]["launch"]
    url = launch if is_absolute_url(launch) else files + launch.lstrip("/")
    more = f" (and {len(launchables) - 1} more launchable(s): lrs packages show {course['id']})" \
        if len(launchables) > 1 else ""
    return [f"launch: {url}{more}",
            f"  learners open it through a launch link: lrs launch create --course {course['id']} "
            "--learner mailto:NAME@EXAMPLE.COM"]


def cmd_list(args, settings_factory) -> int:
    store, _ = _open(settings_factory)
    try:
        courses = store.courses(include_retired=args.all)
    finally:
        store.close()
    for c in courses:
        if args.json:
            sys.stdout.write(orjson.dumps(c).decode() + "\n")
        else:
            state = f" retired {c['retired']}" if c["retired"] else ""
            print(f"{c['id']}  v{c['latest_version']}  {c['format']:<9} {c['title']}{state}")
    return 0


def cmd_show(args, settings_factory) -> int:
    store, _ = _open(settings_factory)
    try:
        course = store.course(args.id)
        if course is None:
            print(f"lrs: no course with id {args.id!r}", file=sys.stderr)
            return 1
        number = args.version or course["latest_version"]
        version = store.version(args.id, number)
        if version is None:
            print(f"lrs: course {args.id!r} has no version {number}", file=sys.stderr)
            return 1
    finally:
        store.close()
    course["version"] = version
    _print_json(course)
    return 0


def cmd_retire(args, settings_factory) -> int:
    store, _ = _open(settings_factory)
    try:
        course = store.retire(args.id)
    finally:
        store.close()
    if course is None:
        print(f"lrs: no course with id {args.id!r}", file=sys.stderr)
        return 1
    print(f"retired {course['id']} at {course['retired']} ({course['title']})")
    return 0
