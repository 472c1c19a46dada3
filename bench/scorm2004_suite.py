"""Runs the sequencing cases of ADL's SCORM 2004 4th Edition LMS test (github adlnet/SCORM-2004-4ed-Test-Suite)
through our activity tree builder and scorm-again's engine, and prints how many behaved as the suite says.

    python bench/scorm2004_suite.py SUITE_DIR [--case SX-04b ...] [--json] [-v]

SUITE_DIR is a checkout (or ``git archive``) of the suite; nothing of it is kept here. What its build
file (``software_development/buildTestPackages.xml``) builds: one zip per test case, the case's
``TestSuite/LMSRTE/Courses/LMSTestPackage_<case>/imsmanifest.xml`` plus shared content (the test SCO
``SCODepot/SequencingTest.htm``, a Java applet driver, scripts). The SCO is the same page for every
activity; what it does on each visit is data: ``TestCases/<case>.properties`` lists, in the order the
suite expects the activities to be delivered, ``Act<n>V<k>`` (activity n, its k-th delivery) with the
API calls to make (``commands``, in the abbreviations of ``Commands.properties``, each with its expected
return value and error code) and the instruction shown to the tester afterwards (``CUI``: press
Continue, choose an activity, exit...). Only the manifest matters to sequencing, so the cases are run
on the manifests read by the content store's parser (files the build would copy in are not needed):

- each SCO is launched with the values the player takes from the manifest (scaled passing score,
  max time allowed, time limit action, launch data: ``player.runtime.attempts.ScoContext``);
- the learner's side is replayed: a Start (the learner choosing the first activity from the table of
  contents when Start finds nothing, as under the default flow="false"), each expected visit's calls,
  then Terminate, then the CUI as a navigation request from the player's controls (continue,
  previous, choice, exitAll), or a relaunch of the same package (the saved activity state and global
  objectives restored in a new API; resumeAll after a suspendAll);
- the cases run in name order for one learner: global objectives of packages whose
  objectivesGlobalToSystem is true (the default) carry over from case to case, as the suite needs
  (CO-07b, OB-03b/c, OB-09b, SX-11b/c read what the case before them wrote);
- a case behaved as documented when every activity was delivered in the listed order and nothing was
  delivered after the last one ("order"); separately, each listed call's return value and error
  code are compared ("calls": these include run-time data checks, e.g. objectives read from globals).

Not automated (counted, listed with -v): the 3 RTE API/data-model cases (no sequencing), cases that go
on in another package (DDMa/DDMb, DMB), and the answers to "which buttons do you see" questions (UIQ),
which are skipped while the calls of those visits are still run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from content_store.manifests import scorm  # noqa: E402
from content_store.report import Report  # noqa: E402
from content_store.xmlparse import parse as parse_xml  # noqa: E402
from player.runtime.attempts import ScoContext  # noqa: E402
from player.sequencing import global_to_system, settings_for  # noqa: E402

DRIVER = REPO / "tests" / "player" / "sequencing" / "driver.mjs"
SEQUENCING_PURPOSES = ("purposeSequence", "purposeUInteraction")
END_KEYS = {"Exit", "OKEnd", "HasEnded", "AutoTest"}
# Instructions the tester carries out with the player's own navigation controls.
LEARNER_MOVES = {"Continue", "Previous", "Choice", "ChoiceExit"}


class AnyFile:
    """Every file is there: the shared content the build copies in does not matter to sequencing."""

    def find(self, path):
        return path, True


def read_properties(path: Path) -> list[tuple[str, str]]:
    """Java .properties, keys in file order (the order is the suite's expected delivery order)."""
    pairs: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text(encoding="latin-1").splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        if not line or line.startswith(("#", "!")):
            continue
        key, _, value = line.partition("=")
        pairs.append((key.strip(), value.strip()))
    return pairs


class Abbreviations:
    def __init__(self, table: dict[str, str]):
        self.table = table

    def word(self, token: str) -> str:
        return self.table.get(token, token)

    def tokens(self, text: str) -> list[str]:
        out, parts, i = [], text.split("~"), 0
        while i < len(parts):
            part = parts[i]
            if part == "tar" and i + 1 < len(parts):
                out.append("{target=%s}" % parts[i + 1])
                i += 2
                continue
            out.append(self.word(part))
            i += 1
        return out

    def element(self, text: str) -> str:
        return ".".join(self.tokens(text))

    def value(self, text: str) -> str:
        return "".join(self.tokens(text))


def load_case(path: Path) -> dict:
    info: dict = {"visits": []}
    current = None
    for key, value in read_properties(path):
        m = re.match(r"Act(\d+)V(\d+)\.(\w+)", key)
        if not m:
            info[key] = value
            continue
        visit_key = (int(m.group(1)), int(m.group(2)))
        if current is None or current["key"] != visit_key:
            current = {"key": visit_key, "act": visit_key[0], "commands": [], "cui": "", "uiq": ""}
            info["visits"].append(current)
        field = m.group(3)
        if field == "commands":
            current["commands"].append(value)
        elif field == "CUI":
            current["cui"] = value
        elif field == "UIQ":
            current["uiq"] = value
    return info


def calls_for(commands: list[str], abbr: Abbreviations) -> tuple[list[list[str]], list[dict | None]]:
    """API calls for a visit and, for each, what the suite expects back (None: not checked)."""
    calls: list[list[str]] = []
    expected: list[dict | None] = []
    for command in commands:
        parts = command.split("->")
        fn = parts[0]
        if fn in ("I", "C", "T"):
            name = {"I": "Initialize", "C": "Commit", "T": "Terminate"}[fn]
            calls.append([name, ""])
            want = {"ret": abbr.word(parts[2]) if len(parts) > 2 and parts[2] else None,
                    "err": parts[3] if len(parts) > 3 else None}
            expected.append(want if fn != "T" else None)
        elif fn == "SET":
            element, _, value = parts[1].partition("!")
            calls.append(["SetValue", abbr.element(element), abbr.value(value)])
            expected.append({"ret": abbr.word(parts[-2]) if len(parts) > 3 else None, "err": parts[-1]})
        elif fn == "GET":
            element = re.sub(r"!\w+", "", parts[1])
            calls.append(["GetValue", abbr.element(element)])
            checked = not re.search(r"(^|~)(LN|LI)(~|$)", parts[1])
            want_value = parts[2] if len(parts) > 3 else ""
            want_value = abbr.word(want_value) if want_value else ""
            checked = checked and want_value != ""  # an empty expectation checks only the error code
            expected.append({"ret": want_value if checked else None, "err": parts[-1]})
        # GES/GLE/GeDi (error strings) and COI (objective id comparison) are not about sequencing
    return calls, expected


def items_of(structure: dict, organization: str) -> tuple[dict[int, str], dict[str, str], str]:
    org = next(o for o in structure["scorm"]["organizations"] if o["identifier"] == organization)
    by_act: dict[int, str] = {}
    by_title: dict[str, str] = {}

    def walk(items):
        for item in items:
            m = re.search(r"act=(\d+)", item.get("parameters") or "")
            if m:
                by_act.setdefault(int(m.group(1)), item["identifier"])
            by_title.setdefault((item.get("title") or "").strip(), item["identifier"])
            walk(item.get("items") or [])

    walk(org["items"])
    by_title.setdefault((org.get("title") or "").strip(), org["identifier"])
    return by_act, by_title, org["identifier"]


def launch_values(structure: dict) -> dict[str, dict[str, str]]:
    """The read-only values the player launches each SCO with that come from the manifest
    (player.runtime.attempts.ScoContext; the engine sets only cmi.completion_threshold itself)."""
    out: dict[str, dict[str, str]] = {}
    for launchable in structure.get("launchables") or []:
        if launchable.get("type") != "sco":
            continue
        sco = ScoContext.from_structure(structure, launchable["id"])
        values = {"cmi.time_limit_action": sco.time_limit_action() or "continue,no message"}
        if sco.scaled_passing_score() is not None:
            values["cmi.scaled_passing_score"] = repr(sco.scaled_passing_score())
        if sco.max_time_allowed():
            values["cmi.max_time_allowed"] = sco.max_time_allowed()
        if sco.launch_data() is not None:
            values["cmi.launch_data"] = sco.launch_data()
        out[launchable["id"]] = values
    return out


def _package_key(name: str) -> str:
    """CM-05, CM5 and cm05 name the same package."""
    return re.sub(r"(?<=[a-z])0+(?=\d)", "", name.replace("-", "").lower())


def _same(expected: str, got: str) -> bool:
    """Values as SCORM compares them: 1.0 and 1 are the same real number."""
    if expected == got:
        return True
    try:
        return float(expected) == float(got)
    except ValueError:
        return False


def run_driver(node: str, script: dict) -> dict:
    done = subprocess.run([node, str(DRIVER)], input=json.dumps(script), capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout)


def run_case(name: str, info: dict, manifest: Path, abbr: Abbreviations, node: str,
             learner_globals: dict | None = None) -> dict:
    """One case; ``learner_globals``: the learner's global objectives from the cases run before (the
    suite runs every package for one learner, and some cases read what an earlier one wrote)."""
    report = Report()
    root = parse_xml(manifest.read_bytes(), "imsmanifest.xml", report)
    structure = scorm.parse(root, AnyFile(), report) if root is not None else None
    if structure is None or not report.ok:
        return {"case": name, "status": "manifest rejected", "detail": report.to_text()}
    settings = settings_for(structure)
    org_id = structure["scorm"]["default_organization"]
    system_wide = global_to_system(structure)["objectives"]
    launch = launch_values(structure)
    by_act, by_title, root_id = items_of(structure, org_id)

    sessions: list[list[dict]] = [[]]
    plan: list[tuple[int, int, str]] = []  # (session, step index, expected activity)
    start = info.get("start", ".")
    if start not in (".", ""):
        target = by_title.get(start)
        if target is None:
            return {"case": name, "status": "not automated", "detail": f"starts at {start!r} (not an item)"}
        sessions[-1].append({"lms": "choice", "target": target})
    expected_order: list[str] = []
    call_expectations: list[tuple[int, int, list]] = []
    for visit in info["visits"]:
        activity = by_act.get(visit["act"])
        if activity is None:
            return {"case": name, "status": "not automated", "detail": f"no item for activity {visit['act']}"}
        calls, expected = calls_for(visit["commands"], abbr)
        if not calls or calls[0][0] != "Initialize":
            calls.insert(0, ["Initialize", ""])
            expected.insert(0, None)
        cui_key = visit["cui"].partition("~")[0]
        running = cui_key in LEARNER_MOVES or re.match(r"(SuspendCM|ExitCM|ContinueExitCM)", cui_key)
        if not any(c[0] == "Terminate" for c in calls) and not running:
            calls.append(["Terminate", ""])  # the SCO is unloaded after its commands
            expected.append(None)
        # else: the SCO is still running when the tester presses the player's button; the player
        # terminates it with the learner's request in place of any the SCO left pending (CM-09*)
        if not sessions[-1]:
            # the launch: Start, and when it finds nothing to deliver (flow="false" at the root, the
            # default) the learner chooses the activity from the table of contents, as the tester does
            sessions[-1].append({"lms": "start", "else_choice": activity})
        sessions[-1].append({"calls": calls})
        plan.append((len(sessions) - 1, len(sessions[-1]) - 1, activity))
        call_expectations.append((len(sessions) - 1, len(sessions[-1]) - 1, expected))
        expected_order.append(activity)
        key, _, arg = visit["cui"].partition("~")
        if not key or key in END_KEYS:
            continue
        if key in ("Continue", "Previous"):
            sessions[-1].append({"lms": key.lower()})
        elif key in ("Choice", "ChoiceExit") or key.startswith("Root"):
            if key.startswith("Root") or arg.startswith("the activity that corresponds to the root"):
                target = root_id
            else:
                target = by_title.get(arg.strip())
            if target is None:
                return {"case": name, "status": "not automated", "detail": f"choice of {arg!r}"}
            sessions[-1].append({"lms": "choice", "target": target})
        elif key == "TRIGExitAll":
            sessions[-1].append({"lms": "exitAll"})
        elif re.match(r"(Re[lL]aunch|relaunch|autoendrelaunch|ExitCM|SuspendCM|ContinueExitCM)", key):
            other = arg or re.sub(r"^(Re[lL]aunch|Exit|Suspend|ContinueExit)", "", key)
            if _package_key(other) != _package_key(name):
                return {"case": name, "status": "not automated", "detail": f"goes on in package {other}"}
            if key.startswith("SuspendCM"):
                sessions[-1].append({"lms": "suspendAll"})
            elif key.startswith("ContinueExitCM"):
                sessions[-1].append({"lms": "continue"})
            elif key.startswith("ExitCM"):
                sessions[-1].append({"lms": "exitAll"})  # the learner leaves the course from the player
            sessions.append([])  # relaunch: a new API over the saved state
            if key == "RelaunchCM10":
                sessions[-1].append({"lms": "choice", "target": by_title.get("Activity 4")})
        else:
            return {"case": name, "status": "not automated", "detail": f"instruction {visit['cui']!r}"}

    delivered_order: list[str] = []
    ms: list[float] = []
    outputs = []
    saved: dict = {}
    for number, steps in enumerate(sessions):
        script = {"settings": settings, "steps": steps, "save_state": True, "launch": launch}
        if not saved and system_wide and learner_globals:
            script["globals"] = learner_globals
        if saved:
            script["sequencing_state"] = saved["sequencing_state"]
            script["globals"] = saved["globals"]
            if saved.get("suspended") and steps and steps[0].get("lms") == "start":
                steps[0] = {**steps[0], "lms": "resumeAll"}
        out = run_driver(node, script)
        outputs.append(out)
        saved = {"sequencing_state": out.get("sequencing_state"), "globals": out.get("globals", {}),
                 "suspended": "suspend_all" in out.get("session_ended", [])}
    if system_wide and learner_globals is not None and outputs:
        learner_globals.update(outputs[-1].get("globals") or {})
    visits_seen = 0
    order_ok = True
    first_wrong = None
    for session, index, activity in plan:
        step = outputs[session]["steps"][index]
        got = step.get("activity")
        delivered_order.append(got)
        visits_seen += 1
        for call in step.get("calls", []):
            if call["fn"] == "Terminate":
                ms.append(call["ms"])
        if got != activity:
            order_ok = False
            first_wrong = first_wrong or f"visit {visits_seen}: expected {activity}, delivered {got}"
            break
    if order_ok:
        last_session, last_index, _ = plan[-1]
        tail = []
        for step in outputs[last_session]["steps"][last_index:]:
            tail.extend(step.get("delivered", []))
        last_delivery = outputs[last_session]["steps"][last_index].get("activity")
        extra = [a for a in tail if a != last_delivery] if tail[:1] == [last_delivery] else tail
        if extra:
            order_ok = False
            first_wrong = f"after the last visit, also delivered {extra}"
    call_total = call_bad = 0
    call_first_bad = None
    for session, index, expected in call_expectations:
        steps = outputs[session]["steps"]
        if index >= len(steps) or "calls" not in steps[index]:
            continue
        for want, call in zip(expected, steps[index]["calls"]):
            if want is None:
                continue
            call_total += 1
            ok = (want["err"] in (None, "", call["err"])) and (want["ret"] is None or _same(want["ret"], call["ret"]))
            if not ok:
                call_bad += 1
                call_first_bad = call_first_bad or (f"{call['fn']}({', '.join(call['args'])}) -> {call['ret']!r} "
                                                    f"err {call['err']}, expected {want['ret']!r} err {want['err']}")
    covers = "; ".join(re.findall(r"<li>(.*?)</li>", info.get("seqInfo", "")))
    return {"case": name, "status": "run", "covers": covers, "order_ok": order_ok, "expected": expected_order,
            "delivered": delivered_order, "detail": first_wrong, "calls": call_total, "calls_bad": call_bad,
            "call_detail": call_first_bad, "terminate_ms": ms, "sessions": len(sessions)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("suite", type=Path, help="the suite's folder (git archive of adlnet/SCORM-2004-4ed-Test-Suite)")
    parser.add_argument("--case", action="append", help="run only these cases (e.g. SX-04b)")
    parser.add_argument("--json", action="store_true", help="print every case's result as JSON lines")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the cases that did not behave")
    args = parser.parse_args(argv)
    base = args.suite / "software_development"
    courses = base / "TestSuite" / "LMSRTE" / "Courses"
    table_file = base / "resources" / "org" / "adl" / "testsuite" / "rte" / "lms" / "util" / "resources" / "Commands.properties"
    if not courses.is_dir() or not table_file.is_file():
        print(f"{args.suite} does not look like the suite: no {courses} or {table_file}", file=sys.stderr)
        return 2
    node = os.environ.get("NODE", "node")
    abbr = Abbreviations(dict(read_properties(table_file)))
    results = []
    learner_globals: dict = {}  # objectivesGlobalToSystem: one learner's globals across the packages
    started = time.perf_counter()
    for path in sorted((courses / "TestCases").glob("*.properties")):
        name = path.stem
        if args.case and name not in args.case:
            continue
        info = load_case(path)
        if not info.get("purpose", "").startswith(SEQUENCING_PURPOSES):
            results.append({"case": name, "status": "not sequencing", "detail": info.get("purpose")})
            continue
        manifest = courses / f"LMSTestPackage_{name}" / "imsmanifest.xml"
        if not manifest.is_file():
            results.append({"case": name, "status": "not automated", "detail": "no manifest"})
            continue
        try:
            results.append(run_case(name, info, manifest, abbr, node, learner_globals))
        except Exception as exc:  # a crash of one case is a result, not the end of the run
            results.append({"case": name, "status": "error", "detail": f"{type(exc).__name__}: {exc}"[:500]})
    elapsed = time.perf_counter() - started
    if args.json:
        for r in results:
            print(json.dumps(r))
    ran = [r for r in results if r["status"] == "run"]
    ordered = [r for r in ran if r["order_ok"]]
    calls_ok = [r for r in ordered if r["calls_bad"] == 0]
    by_status: dict[str, int] = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    terminate = sorted(ms for r in ran for ms in r["terminate_ms"])
    print(f"cases: {len(results)} ({', '.join(f'{k} {v}' for k, v in sorted(by_status.items()))})")
    print(f"sequencing cases run: {len(ran)}; delivered in the documented order: {len(ordered)}; "
          f"and every checked call as documented: {len(calls_ok)}")
    print(f"calls checked: {sum(r['calls'] for r in ran)}, not as documented: {sum(r['calls_bad'] for r in ran)}")
    if terminate:
        p = lambda q: terminate[min(len(terminate) - 1, int(q * len(terminate)))]  # noqa: E731
        print(f"Terminate (with its navigation request) in the engine: p50 {p(0.5):.2f} ms, p95 {p(0.95):.2f} ms, "
              f"n={len(terminate)}")
    print(f"wall time {elapsed:.1f} s")
    if args.verbose:
        for r in results:
            if r["status"] != "run":
                print(f"  {r['case']}: {r['status']}: {r.get('detail')}")
            elif not r["order_ok"]:
                print(f"  {r['case']}: order: {r['detail']} [{r['covers']}]")
            elif r["calls_bad"]:
                print(f"  {r['case']}: calls: {r['calls_bad']} of {r['calls']}, first: {r['call_detail']} "
                      f"[{r['covers']}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
