// Runs scorm-again's SCORM 2004 API and sequencing engine (node_modules/scorm-again) under Node on a
// script, and prints what happened as JSON: the activities delivered, the navigation each SCO was
// allowed, the values it read, the errors of its calls, and the activities' tracking status.
//
//   node driver.mjs < script.json      (or: node driver.mjs script.json)
//
// script: {"settings": <the sequencing settings>, "seed": 1 (optional: a fixed Math.random),
//          "steps": [step, ...], "state": ["activity id", ...] (tracking data reported at the end),
//          "globals": <a global objective snapshot to restore>, "sequencing_state": <a serialized
//          tree to restore>, "save_state": true (report the serialized tree),
//          "launch": {"activity id": {"cmi.max_time_allowed": "PT1H", ...}} (loaded before a "calls"
//          step's Initialize of that activity, as the player loads its launch values),
//          "skip_lookahead_choices": true (measurement only, see below)}
// report: {"delivered": [ids], "steps": [...], "session_ended": [reasons], "globals": <snapshot>,
//          "state"?: {...}, "sequencing_state"?: "<json>"}
// step:   {"sco": {"set": [[element, value], ...], "get": [element, ...], "nav": "continue" |
//                  "previous" | "{target=x}choice" | "{target=x}jump" | "exit" | "exitAll" |
//                  "suspendAll" | "abandon" | "abandonAll", "terminate": true (default)}}
//           the delivered SCO: Initialize (after resetting the API if the SCO before it terminated),
//           the reads and writes, adl.nav.request, Terminate.
//         {"calls": [["Initialize"], ["SetValue", element, value], ["GetValue", element], ["Terminate"]]}
//           raw API calls of the delivered SCO: each call's return value, error code and time.
//         {"lms": "continue" | "previous" | "choice" | "jump" | ..., "target": "x"}
//           a navigation request from the player's own controls (processNavigationRequest; while
//           the SCO of a "calls" step without Terminate is still running, it is made as the player
//           makes it: the SCO's pending adl.nav.request replaced by it, then Terminate);
//           "else_choice": "x" then chooses x when the request delivered nothing.
//         {"state": ["activity id", ...]}  tracking data of these activities now.
// Nothing here decides anything: every answer is the engine's.
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.SCORM_AGAIN_DIR || path.resolve(here, "../../../node_modules/scorm-again");
const out = process.stdout;
console.log = (...args) => console.error(...args); // the library logs deliveries to stdout
console.info = console.debug = console.warn = console.trace = console.log;
const { Scorm2004API } = await import(pathToFileURL(path.join(root, "dist/esm/scorm2004.js")).href);

const script = JSON.parse(readFileSync(process.argv[2] || 0, "utf8"));
if (script.seed !== undefined) {
  let s = script.seed >>> 0 || 1;
  Math.random = () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

const delivered = [];
const ended = [];
const api = new Scorm2004API({
  logLevel: 5,
  ...(script.api || {}),
  sequencing: {
    ...script.settings,
    eventListeners: {
      onActivityDelivery: (activity) => delivered.push(activity.id),
      onSequencingSessionEnd: (data) => ended.push(data?.reason ?? "end"),
    },
  },
});

if (script.skip_lookahead_choices) {
  // Measurement only (bench/sequencing_navigation.py --skip-lookahead-choices): the engine's
  // NavigationLookAhead computes a choice set on every validity refresh that nothing reads (the
  // refresh validates each choice again itself); this shows what that costs. Never used by the player.
  const la = api.getSequencingService().getOverallSequencingProcess().navigationValidityService.getNavigationLookAhead();
  la.calculateAvailableChoices = () => {};
}
function ids(activity, acc = []) {
  if (!activity) return acc;
  acc.push(activity.id);
  for (const child of activity.children || []) ids(child, acc);
  return acc;
}
const allIds = ids(api.getSequencingState().rootActivity);

function tracking(id) {
  const a = api._sequencing?.activityTree?.getActivity(id);
  if (!a) return null;
  return {
    completion: a.completionStatus || "unknown",
    success: a.successStatus || "unknown",
    satisfied_known: !!a.objectiveSatisfiedStatusKnown,
    satisfied: !!a.objectiveSatisfiedStatus,
    measure: a.objectiveMeasureStatus ? a.objectiveNormalizedMeasure : null,
    attempts: a.attemptCount,
    active: !!a.isActive,
    suspended: !!a.isSuspended,
    available: a.isAvailable !== false,
    hidden_from_choice: !!a.isHiddenFromChoice,
    children: (a.children || []).map((c) => c.id),
    available_children: (a.getAvailableChildren ? a.getAvailableChildren() : a.children || []).map((c) => c.id),
  };
}

function current() {
  return api.getSequencingState().currentActivity?.id ?? null;
}

function validity() {
  const choice = {};
  const jump = {};
  for (const id of allIds) {
    choice[id] = api.GetValue(`adl.nav.request_valid.choice.{target=${id}}`);
    jump[id] = api.GetValue(`adl.nav.request_valid.jump.{target=${id}}`);
  }
  return {
    continue: api.GetValue("adl.nav.request_valid.continue"),
    previous: api.GetValue("adl.nav.request_valid.previous"),
    choice,
    jump,
    hide_lms_ui: api._sequencing?.getCurrentActivity?.()?.hideLmsUi ?? [],
  };
}

// A learner's saved state from an earlier session: global objectives (what the player keeps per
// learner when objectivesGlobalToSystem is true, per registration otherwise) and the activity tree.
if (script.globals) api.restoreGlobalObjectiveSnapshot(script.globals);
if (script.sequencing_state) api.deserializeSequencingState(script.sequencing_state);

function resolveIndex(element) {
  return element.replace(/^(cmi\.objectives|adl\.data)\.&([^&]*)&/, (_, base, id) => {
    const count = Number(api.GetValue(`${base}._count`)) || 0;
    for (let n = 0; n < count; n++) {
      if (api.GetValue(`${base}.${n}.id`) === id) return `${base}.${n}`;
    }
    return `${base}.${count}`;
  });
}

let needsReset = false;
const results = [];
for (const step of script.steps || []) {
  const before = delivered.length;
  const r = {};
  if (step.sco) {
    const sco = step.sco;
    if (needsReset) {
      api.reset();
      needsReset = false;
    }
    r.initialize = api.Initialize("");
    r.initialize_error = api.GetLastError();
    r.activity = current();
    r.valid = validity();
    r.get = {};
    for (const element of sco.get || []) r.get[element] = api.GetValue(element);
    r.set_errors = {};
    const pairs = Array.isArray(sco.set) ? sco.set : Object.entries(sco.set || {});
    for (const [element, value] of pairs) {
      api.SetValue(element, String(value));
      const code = api.GetLastError();
      if (code !== "0" && code !== 0) r.set_errors[element] = String(code);
    }
    if (sco.nav) {
      api.SetValue("adl.nav.request", sco.nav);
      r.nav_error = String(api.GetLastError());
    }
    if (sco.terminate !== false) {
      const t0 = performance.now();
      r.terminate = api.Terminate("");
      r.terminate_ms = performance.now() - t0;
      r.terminate_error = String(api.GetLastError());
      needsReset = true;
    }
  } else if (step.calls) {
    // Raw API calls of the delivered SCO, in order: [["Initialize"], ["SetValue", el, v],
    // ["GetValue", el], ["Commit"], ["Terminate"], ["GetLastError"], ...]. "&x&" in an element
    // stands for the index of the objective (or adl.data store) whose id is x.
    r.calls = [];
    for (const [fn, ...args] of step.calls) {
      if (fn === "Initialize" && needsReset) {
        api.reset();
        needsReset = false;
      }
      if (fn === "Initialize" && script.launch?.[current()]) {
        api.loadFromFlattenedJSON(script.launch[current()], ""); // what the player launches the SCO with
      }
      if (args.length && typeof args[0] === "string" && args[0].includes("&")) args[0] = resolveIndex(args[0]);
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const ret = api[fn](...args.map(String));
      const ms = performance.now() - t0;
      const c1 = process.cpuUsage(c0);
      const err = fn === "GetLastError" ? "" : String(api.GetLastError());
      r.calls.push({ fn, args, ret: String(ret), err, ms, cpu_ms: (c1.user + c1.system) / 1000 });
      if (fn === "Initialize") r.activity = current();
      if (fn === "Terminate") needsReset = true;
    }
  } else if (step.lms && api.isInitialized() && !api.isTerminated()) {
    // The learner's move while the SCO is still running, as the player makes it (runtime.js
    // lmsMove): the learner's request takes the place of any adl.nav.request the SCO left pending
    // (RTE 4th ed.: a navigation event of the learner wins), and the SCO is terminated with it.
    api.adl.nav.request = step.target ? `{target=${step.target}}${step.lms}` : step.lms;
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    r.result = api.Terminate("") === "true";
    r.while_running = true;
    r.ms = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    r.cpu_ms = (c1.user + c1.system) / 1000;
    needsReset = true;
  } else if (step.lms) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    r.result = api.processNavigationRequest(step.lms, step.target ?? null);
    r.ms = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    r.cpu_ms = (c1.user + c1.system) / 1000;
    if (delivered.length === before && step.else_choice) {
      // nothing to deliver (a Start under flow="false"): the learner picks from the table of contents
      r.else_choice = api.processNavigationRequest("choice", step.else_choice);
    }
    if (delivered.length > before) needsReset = true;
  }
  if (step.state) {
    r.state = Object.fromEntries(step.state.map((id) => [id, tracking(id)]));
  }
  r.delivered = delivered.slice(before);
  r.current = current();
  results.push(r);
}

const report = { delivered, steps: results, session_ended: ended };
report.globals = api._globalObjectiveManager?.captureGlobalObjectiveSnapshot?.() ?? {};
if (script.save_state) report.sequencing_state = api.serializeSequencingState();
if (script.state) report.state = Object.fromEntries(script.state.map((id) => [id, tracking(id)]));
out.write(JSON.stringify(report));
