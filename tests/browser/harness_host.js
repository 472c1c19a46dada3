// The harness's host page (tests/browser/scorm_harness.py): a stand-in LMS that exposes the SCORM API
// to the framed SCO and records every call. Test code only; the player has its own runtime.
(function () {
  "use strict";
  const cfg = HARNESS; // {name, version: "1.2"|"2004", api: "fake"|"scorm-again", base, items: [{identifier, href, preload}]}
  const v12 = cfg.version === "1.2";
  const NAMES = v12
    ? ["LMSInitialize", "LMSFinish", "LMSGetValue", "LMSSetValue", "LMSCommit", "LMSGetLastError", "LMSGetErrorString", "LMSGetDiagnostic"]
    : ["Initialize", "Terminate", "GetValue", "SetValue", "Commit", "GetLastError", "GetErrorString", "GetDiagnostic"];
  const DEFAULTS = v12
    ? {"cmi.core.student_id": "ana", "cmi.core.student_name": "Learner, Ana", "cmi.core.lesson_location": "",
       "cmi.core.credit": "credit", "cmi.core.lesson_status": "not attempted", "cmi.core.entry": "ab-initio",
       "cmi.core.total_time": "0000:00:00", "cmi.core.lesson_mode": "normal", "cmi.suspend_data": "", "cmi.launch_data": ""}
    : {"cmi.learner_id": "ana", "cmi.learner_name": "Learner, Ana", "cmi.location": "", "cmi.credit": "credit",
       "cmi.completion_status": "unknown", "cmi.success_status": "unknown", "cmi.entry": "ab-initio",
       "cmi.total_time": "PT0S", "cmi.mode": "normal", "cmi.suspend_data": "", "cmi.launch_data": ""};

  // A minimal data model: stores what is set, counts collections, refuses calls outside a session.
  function fakeApi(load) {
    const data = Object.assign({}, DEFAULTS, load);
    let state = 0; // 0 not initialized, 1 running, 2 terminated
    let err = "0";
    const ok = (r) => { err = "0"; return r; };
    const fail = (code, r) => { err = String(code); return r; };
    const outside = (before, after) => fail(v12 ? 301 : (state === 0 ? before : after), "");
    function count(prefix) {
      let n = 0;
      const head = prefix + ".";
      for (const k in data) {
        if (k.startsWith(head)) { const i = parseInt(k.slice(head.length), 10); if (i + 1 > n) n = i + 1; }
      }
      return n;
    }
    const m = {};
    m[NAMES[0]] = () => (state === 0 ? (state = 1, ok("true")) : fail(v12 ? 101 : (state === 1 ? 103 : 104), "false"));
    m[NAMES[1]] = () => (state === 1 ? (state = 2, ok("true")) : fail(v12 ? 301 : (state === 0 ? 112 : 113), "false"));
    m[NAMES[2]] = (el) => {
      if (state !== 1) return outside(122, 123);
      if (el.endsWith("._count")) return ok(String(count(el.slice(0, -7))));
      return ok(el in data ? data[el] : "");
    };
    m[NAMES[3]] = (el, value) => (state === 1 ? (data[el] = String(value), ok("true")) : (outside(132, 133), "false"));
    m[NAMES[4]] = () => (state === 1 ? ok("true") : (outside(142, 143), "false"));
    m[NAMES[5]] = () => err;
    m[NAMES[6]] = (c) => "error " + c;
    m[NAMES[7]] = () => "";
    m.values = () => Object.assign({}, data);
    return m;
  }

  function flatten(obj, prefix, out) {
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      const key = prefix ? prefix + "." + k : k;
      if (v !== null && typeof v === "object") flatten(v, key, out);
      else if (v !== undefined && v !== null && v !== "") out[key] = String(v);
    }
    return out;
  }

  function scormAgainApi(load) {
    const settings = {autocommit: false, lmsCommitUrl: false, logLevel: 5};
    const api = v12 ? new window.Scorm12API(settings) : new window.Scorm2004API(settings);
    api.loadFromFlattenedJSON(Object.assign({}, load), "");
    api.values = () => flatten(JSON.parse(JSON.stringify(api.cmi)), "cmi", {});
    return api;
  }

  const calls = [];
  const load = {};   // item -> values loaded before its next Initialize
  const left = {};   // item -> values its API held when it was unloaded
  let current = null; // {item, api}

  function recorder(api, item) {
    const wrapped = {};
    for (const name of NAMES) {
      wrapped[name] = function () {
        const args = Array.prototype.slice.call(arguments);
        const result = api[name].apply(api, args);
        if (!/Error|Diagnostic/.test(name)) {
          calls.push({item: item, fn: name, args: args.map(String), result: String(result), error: String(api[NAMES[5]]())});
        }
        return result;
      };
    }
    return wrapped;
  }

  const frame = document.getElementById("sco");
  function navigate(src) {
    return new Promise((resolve) => {
      frame.addEventListener("load", () => resolve(), {once: true});
      frame.src = src;
    });
  }

  async function close() {
    if (!current) return;
    await navigate("about:blank");
    left[current.item] = current.api.values();
    current = null;
    delete window.API; delete window.API_1484_11;
  }

  async function open(identifier) {
    const item = cfg.items.find((i) => i.identifier === identifier);
    if (!item) throw new Error("no item " + identifier);
    await close();
    const values = Object.assign({}, item.preload, load[identifier] || {});
    const api = cfg.api === "scorm-again" ? scormAgainApi(values) : fakeApi(values);
    current = {item: identifier, api: api};
    window[v12 ? "API" : "API_1484_11"] = recorder(api, identifier);
    await navigate(cfg.base + item.href);
  }

  const toc = document.getElementById("toc");
  for (const item of cfg.items) {
    const li = document.createElement("li");
    li.textContent = item.identifier;
    toc.appendChild(li);
  }

  // When the page is hidden or closed, send every call so far, as a runtime's last commit would.
  if (cfg.beacon) {
    window.addEventListener("pagehide", () => {
      navigator.sendBeacon(cfg.beacon, new Blob([JSON.stringify(calls)], {type: "application/json"}));
    });
  }

  window.harness = {
    ready: true,
    calls: calls,
    open: open,
    close: close,
    enabled: () => cfg.items.map((i) => i.identifier), // the harness does not sequence: every item is open
    values: (id) => (current && current.item === id ? current.api.values() : (left[id] || {})),
    setLoad: (id, values) => { load[id] = values; },
  };
})();
