"""How long a navigation request takes in the sequencing engine on a 200-activity SCORM 2004 course.

    python bench/sequencing_navigation.py [--modules 20] [--leaves 9] [--choices 100]

The course is built here: a manifest with ``--modules`` clusters of ``--leaves`` SCOs each (20 x 9:
200 activities under the root, 201 with it), every cluster with choice and flow, a "skip if
satisfied" precondition and an "any child not satisfied -> notSatisfied" rollup rule, every SCO
with a primary objective mapped to a global and a "retry if not satisfied" postcondition
(``--globals module``: one global per module, written by its last SCO and read by the others, the
remediation pattern; ``--globals sco``: one global per SCO, read and written by it). It is read by the content store's parser, turned into the engine's settings by
``player.sequencing.settings_for`` and played by scorm-again under Node (tests/player/sequencing/driver.mjs):
one learner passes every SCO in turn with a content ``continue`` request (adl.nav.request then
Terminate: end of attempt, rollup, the request, the next delivery), then makes ``--choices``
choice requests to random activities and as many ``previous`` requests from the player's controls.
Times are measured inside the engine run (performance.now around Terminate / processNavigationRequest),
so they leave out Node's start-up and the pipe; the first request of the run (the engine's warm-up)
is counted too. The CPU time of the Node process over the same calls is printed as well: on a
shared machine the wall clock also counts the time other processes held the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from content_store.manifests import scorm  # noqa: E402
from content_store.manifests.files import FileIndex  # noqa: E402
from content_store.report import Report  # noqa: E402
from content_store.xmlparse import parse as parse_xml  # noqa: E402
from player.sequencing import settings_for  # noqa: E402

DRIVER = REPO / "tests" / "player" / "sequencing" / "driver.mjs"
NS = ('xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" '
      'xmlns:imsss="http://www.imsglobal.org/xsd/imsss" xmlns:adlseq="http://www.adlnet.org/xsd/adlseq_v1p3"')


def course(modules: int, leaves: int, globals_per: str = "module") -> str:
    items = []
    for m in range(modules):
        scos = []
        for n in range(leaves):
            ident = f"m{m}_s{n}"
            if globals_per == "sco":
                target, read, write = f"g_{ident}", "true", "true"
            else:  # the module's last SCO (its test) writes the module's global, the others read it
                target, read, write = f"g_m{m}", "true", "true" if n == leaves - 1 else "false"
            scos.append(f"""<item identifier="{ident}" identifierref="sco"><title>SCO {m}.{n}</title>
  <imsss:sequencing>
    <imsss:sequencingRules>
      <imsss:preConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied"/></imsss:ruleConditions>
        <imsss:ruleAction action="skip"/></imsss:preConditionRule>
      <imsss:postConditionRule><imsss:ruleConditions><imsss:ruleCondition condition="satisfied" operator="not"/>
        </imsss:ruleConditions><imsss:ruleAction action="retry"/></imsss:postConditionRule>
    </imsss:sequencingRules>
    <imsss:objectives><imsss:primaryObjective objectiveID="p_{ident}">
      <imsss:mapInfo targetObjectiveID="{target}" readSatisfiedStatus="{read}" writeSatisfiedStatus="{write}"/>
    </imsss:primaryObjective></imsss:objectives>
  </imsss:sequencing></item>""")
        items.append(f"""<item identifier="m{m}"><title>Module {m}</title>{''.join(scos)}
  <imsss:sequencing><imsss:controlMode choice="true" flow="true"/>
    <imsss:rollupRules><imsss:rollupRule childActivitySet="any"><imsss:rollupConditions>
      <imsss:rollupCondition condition="satisfied" operator="not"/></imsss:rollupConditions>
      <imsss:rollupAction action="notSatisfied"/></imsss:rollupRule></imsss:rollupRules>
  </imsss:sequencing></item>""")
    return f"""<?xml version="1.0"?>
<manifest identifier="bench.course" version="1" {NS}>
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Bench course</title>
    {''.join(items)}
    <imsss:sequencing><imsss:controlMode choice="true" flow="true"/></imsss:sequencing>
  </organization></organizations>
  <resources><resource identifier="sco" type="webcontent" adlcp:scormType="sco" href="index.html">
    <file href="index.html"/></resource></resources>
</manifest>"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modules", type=int, default=20)
    parser.add_argument("--leaves", type=int, default=9)
    parser.add_argument("--choices", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--globals", choices=("module", "sco"), default="module",
                        help="one global objective per module (its last SCO writes it, the others read it: "
                             "20 globals) or one per SCO (180 globals)")
    parser.add_argument("--skip-lookahead-choices", action="store_true",
                        help="measurement only: replace the engine's NavigationLookAhead choice pass (computed on "
                             "every validity refresh, read by nothing) with nothing, to show its cost")
    args = parser.parse_args(argv)
    report = Report()
    structure = scorm.parse(parse_xml(course(args.modules, args.leaves, args.globals).encode(), "imsmanifest.xml", report),
                            FileIndex(["index.html"]), report)
    assert report.ok, report.to_text()
    settings = settings_for(structure)
    leaves = [f"m{m}_s{n}" for m in range(args.modules) for n in range(args.leaves)]
    activities = 1 + args.modules + len(leaves)
    passed = [["Initialize", ""], ["SetValue", "cmi.completion_status", "completed"],
              ["SetValue", "cmi.success_status", "passed"], ["SetValue", "adl.nav.request", "continue"],
              ["Terminate", ""]]
    steps: list[dict] = [{"calls": passed} for _ in leaves]
    rng = random.Random(args.seed)
    targets = [rng.choice(leaves + [f"m{m}" for m in range(args.modules)]) for _ in range(args.choices)]
    for target in targets:
        steps.append({"lms": "choice", "target": target})
        steps.append({"lms": "previous"})
    script = {"settings": settings, "steps": steps, "skip_lookahead_choices": args.skip_lookahead_choices}
    node = os.environ.get("NODE", "node")
    done = subprocess.run([node, str(DRIVER)], input=json.dumps(script), capture_output=True, text=True,
                          timeout=600, cwd=REPO)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    out = json.loads(done.stdout)
    delivered_in_order = out["delivered"][:len(leaves)] == leaves
    globals_count = args.modules if args.globals == "module" else len(leaves)
    print(f"course: {activities} activities ({args.modules} clusters x {args.leaves} SCOs + root), "
          f"{globals_count} global objectives, "
          f"scorm-again 3.4.3 under Node {subprocess.run([node, '--version'], capture_output=True, text=True).stdout.strip()}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} "
          f"{os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"flow: every SCO delivered in order: {delivered_in_order} ({len(out['delivered'])} deliveries in all)")
    for clock, key in (("wall clock", "ms"), ("CPU time of the process", "cpu_ms")):
        flow_ms = [c[key] for s in out["steps"] if "calls" in s for c in s["calls"] if c["fn"] == "Terminate"]
        lms_ms: dict[str, list[float]] = {"choice": [], "previous": []}
        for step, result in zip(steps, out["steps"]):
            if "lms" in step:
                lms_ms[step["lms"]].append(result[key])
        every = flow_ms + lms_ms["choice"] + lms_ms["previous"]
        print(f"{clock}:")
        for name, values in (("continue (content, with Terminate)", flow_ms), ("choice (player)", lms_ms["choice"]),
                             ("previous (player)", lms_ms["previous"]), ("all", every)):
            if values:
                print(f"  {name:36} n={len(values):4}  p50 {percentile(values, 0.5):7.2f} ms  "
                      f"p95 {percentile(values, 0.95):7.2f} ms  max {max(values):7.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
