// The player's launch page: hosts the SCORM API (scorm-again) for the SCO in the frame, and sends
// what the SCO records to the server so that nothing is lost.
//
// Every commit is a full snapshot of the SCO-writable elements with a sequence number per attempt.
// Commits wait in this browser's storage (localStorage) until the server has them, and are sent in
// order, in batches, retried with backoff while the network or the server is away, and sent with
// keepalive when the page is hidden or closed. The server applies each sequence number once, so a
// commit sent twice is harmless. A commit left here when a tab closed is sent at the next launch.
(function () {
  'use strict';

  var cfg = JSON.parse(document.getElementById('player-config').textContent);
  var twelve = cfg.scorm_version === '1.2';
  var frame = document.getElementById('sco');
  var stateEl = document.getElementById('save-state');
  var QUEUE = 'lrs-player:' + cfg.registration;
  var KEEPALIVE_LIMIT = 60000;   // browsers cap the bodies of a page's keepalive requests in flight at 64 KiB, together
  var BATCH = 20;
  var DEBOUNCE_MS = 1000;   // the learner's work is saved at most a second after it is done
  var WRITABLE = twelve ? [
    /^cmi\.core\.(lesson_location|lesson_status|exit|session_time)$/,
    /^cmi\.core\.score\.(raw|min|max)$/,
    /^cmi\.(suspend_data|comments)$/,
    /^cmi\.objectives\.\d+\.(id|status|score\.(raw|min|max))$/,
    /^cmi\.student_preference\.(audio|language|speed|text)$/,
    /^cmi\.interactions\.\d+\.(id|time|type|weighting|student_response|result|latency|objectives\.\d+\.id|correct_responses\.\d+\.pattern)$/
  ] : [
    /^cmi\.(location|completion_status|success_status|progress_measure|exit|session_time|suspend_data)$/,
    /^cmi\.score\.(scaled|raw|min|max)$/,
    /^cmi\.comments_from_learner\.\d+\.(comment|location|timestamp)$/,
    /^cmi\.learner_preference\.(audio_level|language|delivery_speed|audio_captioning)$/,
    /^cmi\.objectives\.\d+\.(id|success_status|completion_status|progress_measure|description|score\.(scaled|raw|min|max))$/,
    /^cmi\.interactions\.\d+\.(id|type|timestamp|weighting|learner_response|result|latency|description|objectives\.\d+\.id|correct_responses\.\d+\.pattern)$/
  ];

  var skew = 0;            // the server's clock minus this device's, when they differ by over a minute
  var api = null;          // the scorm-again API object of the open SCO
  var current = null;      // {sco, attempt, key, started}
  var scos = cfg.scos;
  var debounce = null;
  var memory = null;       // the queue when localStorage is unavailable (private mode, quota)
  var seqs = {};           // this page's sequence counters (the server gives them again at each open)

  // SCORM 2004 sequencing (cfg.sequencing): one API object, scorm-again's engine, for the whole
  // course. The engine decides what is delivered; this page delivers it (a new attempt from the
  // server, the API reset for the SCO, the frame swapped), shows only the navigation the engine
  // allows, and saves the engine's state (and the course rollup) after every move.
  var seqCfg = cfg.sequencing || null;
  var engine = null;
  var validity = null;       // the engine's last NavigationValidityUpdate
  var sessionEnd = null;     // {reason} once the engine ended the sequencing session
  var seqError = null;       // the exception code of the engine's last refusal (NB.2.1-11, ...)
  var pendingNav = null;     // {request, target}: the learner's move while a SCO is open, carried by its Terminate
  var deliveredIds = [];     // every activity delivered on this page, in order
  var terminateMark = 0;     // deliveredIds.length when the SCO called Terminate
  var contentRequest = null; // the adl.nav.request the SCO set (the engine clears it once processed)
  var askedAtTerminate = null;
  var seqSeq = seqCfg ? (seqCfg.seq || 0) : 0;

  // -- the queue ---------------------------------------------------------------------------------

  function load() {
    if (memory) return memory;
    try {
      var q = JSON.parse(window.localStorage.getItem(QUEUE) || 'null');
      if (q && Array.isArray(q.items)) return q;
    } catch (e) { /* unreadable: start afresh */ }
    return {items: [], seqs: Object.assign({}, seqs)};
  }

  // The queue is in storage only while it holds commits: once the server has them nothing of this
  // registration stays on the device, where any page of the content origin (another learner's course on
  // a shared phone) could read it.
  function save(q) {
    if (memory) { memory = q; return; }
    seqs = q.seqs;
    try {
      if (q.items.length) window.localStorage.setItem(QUEUE, JSON.stringify(q));
      else window.localStorage.removeItem(QUEUE);
    } catch (e) {
      memory = q;   // storage full or refused: keep going in memory
    }
  }

  function snapshot() {
    var flat = api.getFlattenedCMI(), out = {};
    Object.keys(flat).forEach(function (k) {
      var v = flat[k];
      if (typeof v === 'string' && v !== '' && WRITABLE.some(function (r) { return r.test(k); })) out[k] = v;
    });
    var timeKey = twelve ? 'cmi.core.session_time' : 'cmi.session_time';
    if (!out[timeKey] && current) out[timeKey] = elapsed(Date.now() - current.started);
    return out;
  }

  function elapsed(ms) {
    var cs = Math.floor(ms / 10), s = Math.floor(cs / 100), frac = cs % 100;
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (twelve) {
      return pad(h, 4) + ':' + pad(m, 2) + ':' + pad(sec, 2) + '.' + pad(frac, 2);
    }
    return 'PT' + h + 'H' + m + 'M' + sec + '.' + pad(frac, 2) + 'S';
  }

  function pad(n, width) { var s = String(n); while (s.length < width) s = '0' + s; return s; }

  // Add a commit of the open attempt. A plain commit replaces the data of a plain commit of the same
  // attempt still waiting at the end of the queue, never sent (nothing is lost: each is a full snapshot).
  function enqueue(event) {
    if (!current || !api) return;
    var q = load(), key = current.key, last = q.items[q.items.length - 1];
    var data = snapshot(), at = new Date(Date.now() + skew).toISOString();
    if (event === 'commit' && last && last.key === key && last.event === 'commit' && !isSending(last) && !last.sent) {
      last.data = data; last.at = at;
    } else {
      var seq = (q.seqs[key] || 0) + 1;
      q.seqs[key] = seq;
      q.items.push({key: key, registration: cfg.registration, sco: current.sco, attempt: current.attempt,
                    seq: seq, event: event, at: at, data: data});
    }
    save(q);
    setState('pending');
    if (hidden) beacon(); else pump();
  }

  // -- sending -----------------------------------------------------------------------------------

  var sending = null, retryTimer = null, backoff = 0, waiters = [];

  function isSending(item) {
    return !!sending && sending.some(function (s) { return s.key === item.key && s.seq === item.seq; });
  }

  function wire(i) {
    return {registration: i.registration, sco: i.sco, attempt: i.attempt, seq: i.seq, event: i.event,
            at: i.at, data: i.data};
  }

  function body(items) { return JSON.stringify({commits: items.map(wire)}); }

  function pump() {
    if (sending) return;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    var q = load();
    if (!q.items.length) { setState('saved'); settle(true); return; }
    var items = q.items.slice(0, BATCH), payload = body(items);
    sending = items;
    setState('saving');
    // Not keepalive: if the page goes away meanwhile, its pagehide sends these again (beacon), and the
    // keepalive budget is kept for that.
    fetch(cfg.urls.commits, {method: 'POST', credentials: 'same-origin',
                             headers: {'Content-Type': 'application/json'}, body: payload})
      .then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (answer) { done(items, res.status, answer); });
      }, function () { retry('offline'); });
  }

  function done(items, status, answer) {
    sending = null;
    if (status === 200) {
      backoff = 0;
      forget(items);
      return pump();
    }
    var error = (answer && answer.error) || {};
    var index = typeof error.index === 'number' ? error.index : 0;   // the commit of the batch it stopped at
    forget(items.slice(0, index));
    var failed = items[index];
    // No session, or this browser's session now holds another registration (a launch link of
    // another course was opened since): keep everything here; the next launch of this course sends it.
    if (status === 401 || status === 403) { setState('session'); settle(false); return; }
    if (status >= 500 || status === 429 || status === 408 || !failed) { return retry('server'); }
    if (status === 409 && typeof error.expected === 'number' && error.expected < failed.seq) {
      renumber(failed.key, error.expected);   // earlier commits were lost here: snapshots are whole, go on from there
    } else {
      forget([failed]);                        // refused for good (already applied, ended or invalid)
      if (status !== 409 && status !== 410) report(error.message || ('the server refused a commit (' + status + ')'));
    }
    pump();
  }

  function forget(items) {
    if (!items.length) return;
    var q = load();
    q.items = q.items.filter(function (i) {
      return !items.some(function (s) { return s.key === i.key && s.seq === i.seq; });
    });
    save(q);
  }

  function renumber(key, from) {
    var q = load(), seq = from;
    q.items.forEach(function (i) { if (i.key === key) i.seq = seq++; });
    q.seqs[key] = seq - 1;
    save(q);
  }

  function retry(why) {
    sending = null;
    setState(why === 'offline' || !navigator.onLine ? 'offline' : 'retrying');
    backoff = Math.min(backoff ? backoff * 2 : 1000, 15000);
    retryTimer = setTimeout(pump, backoff);
  }

  // Resolves when the queue is empty (true) or cannot be emptied now (false).
  function drain() {
    return new Promise(function (resolve) {
      if (!load().items.length && !sending) return resolve(true);
      waiters.push(resolve);
      pump();
    });
  }

  function settle(ok) {
    var w = waiters; waiters = [];
    w.forEach(function (resolve) { resolve(ok); });
  }

  // The page is going away or out of sight: save now, in one request that outlives the page. While it
  // is hidden every new commit goes the same way (pump's responses would never come back): a SCO that
  // Terminates from its own unload handler, after this page's pagehide, is sent at once, not left in
  // storage until the learner comes back. The server skips what it already has.
  var hidden = false;
  // Bytes of keepalive requests not answered yet: the browser refuses one that would take the page's
  // total past 64 KiB. And the commits a request since the page was hidden carried (key#seq).
  var keepaliveBytes = 0, beaconed = {};

  function keepalive(url, payload) {
    if (keepaliveBytes + payload.length >= KEEPALIVE_LIMIT) return false;
    try {
      var done = function () { keepaliveBytes -= payload.length; };
      fetch(url, {method: 'POST', credentials: 'same-origin', keepalive: true,
                  headers: {'Content-Type': 'application/json'}, body: payload}).then(done, done);
    } catch (e) { return false; }
    keepaliveBytes += payload.length;
    return true;
  }

  function flushNow() {
    hidden = true;
    if (engine) saveSequencing(true);
    if (api && current && api.isInitialized() && !api.isTerminated()) enqueue('commit'); else beacon();
  }

  // The commits no request since the page was hidden carried, oldest first, as many as the keepalive
  // budget left holds. Each goes once: sending the whole queue each time (a snapshot is about 10 KB with
  // 15 interactions) ran the pagehide commit, the SCO's commit and its Terminate past the budget, and the
  // Terminate waited for the next launch. The server applies them in order whatever order they arrive
  // in; what does not fit is sent at the next launch.
  function beacon() {
    var q = load(), items = [], size = body([]).length;
    for (var k = 0; k < q.items.length && items.length < BATCH; k++) {
      var item = q.items[k];
      if (beaconed[item.key + '#' + item.seq]) continue;
      var more = JSON.stringify(wire(item)).length + 1;
      if (keepaliveBytes + size + more >= KEEPALIVE_LIMIT) break;
      items.push(item);
      size += more;
    }
    if (!items.length) return;
    items.forEach(function (i) { i.sent = true; });   // may be stored already: never rewritten under its seq
    save(q);
    if (keepalive(cfg.urls.commits, body(items))) {
      items.forEach(function (i) { beaconed[i.key + '#' + i.seq] = true; });
    }
  }

  function shown() {
    if (!hidden) return;
    hidden = false;
    beaconed = {};
    pump();   // what was sent while hidden is confirmed (and forgotten) now
  }

  window.addEventListener('online', function () { backoff = 0; pump(); });
  window.addEventListener('offline', function () { setState('offline'); });
  window.addEventListener('pagehide', flushNow);
  window.addEventListener('pageshow', shown);
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') flushNow(); else shown();
  });

  // -- the SCO -----------------------------------------------------------------------------------

  function post(url, data) {
    return fetch(url, {method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
                       body: JSON.stringify(data)})
      .then(function (res) {
        var served = Date.parse(res.headers.get('Date') || '');
        if (!isNaN(served)) skew = Math.abs(served - Date.now()) > 60000 ? served - Date.now() : 0;
        return res.json().catch(function () { return {}; }).then(function (answer) {
          if (!res.ok) {
            var e = new Error((answer.error && answer.error.message) || ('HTTP ' + res.status));
            e.status = res.status;
            throw e;
          }
          return answer;
        });
      });
  }

  var API_SETTINGS = {autocommit: false, lmsCommitUrl: false, logLevel: 5, sendFullCommit: true};

  function makeApi(opened) {
    var made = twelve ? new window.Scorm12API(API_SETTINGS) : new window.Scorm2004API(API_SETTINGS);
    made.loadFromFlattenedJSON(opened.values, '');
    return bindApi(made);
  }

  function bindApi(made) {
    var prefix = twelve ? 'LMS' : '';
    made.on(prefix + 'Initialize', function () { current.started = Date.now(); enqueue('initialize'); });
    made.on(prefix + 'Commit', function () { enqueue('commit'); });
    made.on(twelve ? 'LMSFinish' : 'Terminate', function () {
      enqueue('terminate');
      if (!engine) return afterTerminate();
      // This listener runs before the engine acts on the SCO's request; what it does is seen after.
      terminateMark = deliveredIds.length;
      askedAtTerminate = contentRequest;
      contentRequest = null;
      seqError = null;
      setTimeout(afterSequencedTerminate, 0);
    });
    if (!twelve) made.on('SetValue.adl.nav.request', function (element, value) {
      contentRequest = String(value);
      // the learner has already moved: a request the SCO sets now (e.g. in its unload handler) loses
      if (pendingNav) impose(made, pendingNav);
    });
    made.on(prefix + 'SetValue.cmi.*', function () {
      // throttled: the first change schedules a save a second later, and the changes made meanwhile
      // ride along with it, so a SCO writing all the time (a video's position) still saves each second
      if (debounce) return;
      var key = current && current.key;   // one API object serves every SCO of a sequenced course
      debounce = setTimeout(function () {
        debounce = null;
        if (made.isInitialized() && !made.isTerminated() && current && current.key === key) enqueue('commit');
      }, DEBOUNCE_MS);
    });
    return made;
  }

  function openSco(id) {
    if (engine) return deliver(id);
    setState('opening');
    return leaveSco().then(drain).then(function (ok) {
      if (!ok && !navigator.onLine) throw Object.assign(new Error('offline'), {status: 0});
      return post(cfg.urls.attempts, {registration: cfg.registration, sco: id});
    }).then(function (opened) {
      if (opened.asset) {
        // an asset: shown without a SCORM API, nothing tracked
        current = {sco: id, attempt: null, key: null, started: Date.now(), asset: true};
        api = null;
        if (twelve) window.API = null; else window.API_1484_11 = null;
        return show(opened);
      }
      var q = load(), key = id + '|' + opened.attempt;
      if (!q.items.some(function (i) { return i.key === key; })) { q.seqs[key] = opened.seq; save(q); }
      current = {sco: id, attempt: opened.attempt, key: key, started: Date.now()};
      api = makeApi(opened);
      if (twelve) window.API = api; else window.API_1484_11 = api;
      if (window.performance && performance.mark) performance.mark('lrs-api-ready');
      show(opened);
    }).catch(function (e) {
      setState(e.status === 0 || e.message === 'offline' ? 'offline' : 'error', e.message);
      report(e.status === 0 || e.message === 'offline'
        ? 'You are offline. The course opens when the connection is back.'
        : e.message);
    });
  }

  function show(opened) {
    scos = opened.scos;
    renderContents();
    frame.src = cfg.urls.files + opened.launch;
    document.body.classList.remove('ended');
    setState(load().items.length ? 'pending' : 'saved');
  }

  // Unload the SCO (its own unload handler usually terminates it); terminate it if it did not.
  function leaveSco(exit) {
    if (!api || !current) return Promise.resolve();
    var leaving = api;
    if (exit && leaving.isInitialized() && !leaving.isTerminated()) setValue(leaving, twelve ? 'cmi.core.exit' : 'cmi.exit', exit);
    return new Promise(function (resolve) {
      var finished = false;
      function finish() {
        if (finished) return;
        finished = true;
        if (leaving.isInitialized() && !leaving.isTerminated()) {
          // the SCO did not terminate itself: suspend it, so the learner resumes it later
          setValue(leaving, twelve ? 'cmi.core.exit' : 'cmi.exit', exit || 'suspend');
          if (twelve) leaving.LMSFinish(''); else leaving.Terminate('');
        }
        resolve();
      }
      var src = frame.getAttribute('src');
      if (!src || src === 'about:blank') return finish();
      frame.addEventListener('load', finish, {once: true});
      setTimeout(finish, 2000);
      frame.src = 'about:blank';
    });
  }

  function setValue(target, element, value) {
    if (twelve) target.LMSSetValue(element, value); else target.SetValue(element, value);
  }

  var leavingOnPurpose = false;

  function afterTerminate() {
    if (leavingOnPurpose || !current) return;
    var request = (!twelve && api.adl && api.adl.nav && api.adl.nav.request) || '_none_';
    var index = scoIndex(current.sco);
    var target = null;
    if (request === 'continue') target = nextAvailable(index, 1);
    else if (request === 'previous') target = nextAvailable(index, -1);
    else if (request.indexOf('{target=') === 0) target = request.slice(8, request.indexOf('}'));
    drain().then(function () { return refreshContents(); }).then(function () {
      if (target) return openSco(target);
      if (/exit|suspendAll|exitAll/.test(request) || scos.length === 1) return ended();
      document.body.classList.add('between');
    });
  }

  function refreshContents() {
    // the statuses of the SCOs (and so what is available) after the commits just sent
    return fetch(cfg.urls.contents, {credentials: 'same-origin'}).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (answer) {
      if (answer && answer.scos) scos = answer.scos;
      renderContents();
    }, function () { renderContents(); });
  }

  function scoIndex(id) {
    for (var i = 0; i < scos.length; i++) if (scos[i].id === id) return i;
    return -1;
  }

  function nextAvailable(index, step) {
    for (var i = index + step; i >= 0 && i < scos.length; i += step) if (scos[i].available) return scos[i].id;
    return null;
  }

  function ended(suspended, finished) {
    leavingOnPurpose = false;
    document.body.classList.add('ended');
    var message = document.getElementById('ended-message');
    message.textContent = suspended
      ? 'Your progress is saved. Open your launch link again to continue where you left off.'
      : finished ? 'You have finished the course. Your progress is saved.'
      : 'You have left the course. Your progress is saved.';
    return drain().then(function (ok) {
      if (!ok) message.textContent += ' Some of it is still on this device: keep this page open until it says Saved.';
      if (ok && cfg.urls.return) window.location.assign(cfg.urls.return);
    });
  }

  // -- SCORM 2004 sequencing ---------------------------------------------------------------------

  function startSequencing() {
    var listeners = {
      onActivityDelivery: function (activity) {
        deliveredIds.push(activity.id);
        setTimeout(function () { deliver(activity.id); }, 0);   // after the engine's own call returns
      },
      onNavigationValidityUpdate: function (v) { validity = v; renderContents(); },
      onSequencingSessionEnd: function (data) { sessionEnd = data || {reason: 'end'}; },
      onSequencingError: function (error) { seqError = error; }
    };
    engine = new window.Scorm2004API(Object.assign({}, API_SETTINGS, {
      sequencing: Object.assign({}, seqCfg.settings, {eventListeners: listeners})}));
    bindApi(engine);
    api = engine;
    window.API_1484_11 = engine;
    var saved = null;
    if (seqCfg.state) {
      try { saved = JSON.parse(seqCfg.state); } catch (e) { saved = null; }
      if (saved && !engine.deserializeSequencingState(seqCfg.state)) saved = null;
    }
    // The learner's global objectives (objectivesGlobalToSystem) are the newest there are: another
    // course may have changed them since this registration's state was saved.
    if (seqCfg.global_to_system && seqCfg.global_objectives && Object.keys(seqCfg.global_objectives).length) {
      engine.restoreGlobalObjectiveSnapshot(seqCfg.global_objectives);
    }
    var seqState = saved && saved.sequencing ? saved.sequencing : {};
    if (seqState.suspendedActivity) return navigate('resumeAll');
    var active = engine.getSequencingState().currentActivity;
    var states = seqState.activityStates || {};
    var rootSaved = states[(seqCfg.settings.activityTree || {}).id];
    if (saved && active && rootSaved && rootSaved.isActive === false) {
      // the sequencing session had ended (the learner went past the end of the course): the
      // activity the engine still names as current is not one to reopen, and Start is refused
      // while it is; the course stays as it ended. (The saved tree says so: restoring it marks the
      // current activity's path active again.)
      sessionEnd = {reason: 'end'};
      return endSequenced();
    }
    if (saved && active) {
      // left without suspending (the tab closed in or just after a SCO): it is still the current one
      deliveredIds.push(active.id);
      return deliver(active.id);
    }
    return navigate('start');
  }

  // A navigation request of the player (its buttons, the table of contents, the start): the engine
  // answers; a refusal is shown with its exception code, never dropped.
  function navigate(request, target) {
    seqError = null;
    var mark = deliveredIds.length;
    var ok = false;
    try { ok = engine.processNavigationRequest(request, target); } catch (e) { seqError = seqError || e.message; }
    if (sessionEnd) return endSequenced();
    if (!ok || (deliveredIds.length === mark && request !== 'exit')) {
      refused(request, target);
      saveSequencing();
      return Promise.resolve(false);
    }
    return Promise.resolve(true);
  }

  function refused(request, target) {
    var code = seqError || (engine.GetLastError && engine.GetLastError()) || 'unknown';
    var what = request + (target ? ' ' + target : '');
    window.lrsPlayer.refusals.push({request: request, target: target || null, code: String(code)});
    if (!validity) validity = startValidity();
    renderContents();
    var toc = document.querySelector('details.toc');
    if (request === 'start' && toc && document.querySelector('#contents button:not([disabled])')) {
      // a course without flow from its root (choice only): the learner picks where to begin
      toc.open = true;
      report('Choose where to begin in the contents below.');
      return;
    }
    report('That move is not allowed now (' + what + ': ' + code + ').');
  }

  // Before anything is delivered the engine publishes no validity: ask it, request by request, which
  // choices it would take (a course without flow from its root starts with the learner's choice).
  function startValidity() {
    try {
      var service = engine.getSequencingService().getOverallSequencingProcess().navigationValidityService;
      var choice = {};
      (function walk(node) {
        choice[node.id] = service.validateRequest('choice', node.id).valid ? 'true' : 'false';
        (node.children || []).forEach(walk);
      })(seqCfg.settings.activityTree);
      return {continue: false, previous: false, choice: choice, jump: {}, hideLmsUi: []};
    } catch (e) {
      return null;
    }
  }

  function deliver(id) {
    setState('opening');
    return leaveSco().then(drain).then(function (ok) {
      if (!ok && !navigator.onLine) throw Object.assign(new Error('offline'), {status: 0});
      return post(cfg.urls.attempts, {registration: cfg.registration, sco: id});
    }).then(function (opened) {
      var q = load(), key = id + '|' + opened.attempt;
      if (!q.items.some(function (i) { return i.key === key; })) { q.seqs[key] = opened.seq; save(q); }
      if (debounce) { clearTimeout(debounce); debounce = null; }   // the SCO before has terminated
      current = {sco: id, attempt: opened.attempt, key: key, started: Date.now()};
      engine.reset(API_SETTINGS, {preserveListeners: true});
      engine.loadFromFlattenedJSON(opened.values, '');
      window.API_1484_11 = engine;
      hideNotice();
      if (window.performance && performance.mark) performance.mark('lrs-api-ready');
      saveSequencing();
      show(opened);
    }).catch(function (e) {
      setState(e.status === 0 || e.message === 'offline' ? 'offline' : 'error', e.message);
      report(e.status === 0 || e.message === 'offline'
        ? 'You are offline. The course opens when the connection is back.' : e.message);
    });
  }

  // After the SCO's Terminate: the engine has already acted on the SCO's own adl.nav.request
  // (delivered the next activity, or ended the session). Otherwise the learner's pending move is made
  // now; a request of the SCO the engine refused is reported.
  function afterSequencedTerminate() {
    var request = pendingNav;
    pendingNav = null;
    var asked = askedAtTerminate;
    askedAtTerminate = null;
    if (suspending) return;                                    // the Suspend button ends the session itself
    if (sessionEnd) return endSequenced();
    if (deliveredIds.length > terminateMark) return;          // the engine delivered the next activity
    if (request) {
      refused(request.request, request.target);               // the learner's move, refused by the engine
    } else if (asked && asked !== '_none_') {
      refused(asked, null);                                    // the SCO's request, refused by the engine
    }
    saveSequencing();
    document.body.classList.add('between');
    renderContents();
  }

  function endSequenced() {
    var suspended = sessionEnd && /suspend/i.test(sessionEnd.reason || '');
    saveSequencing();
    sessionEnd = sessionEnd || {reason: 'end'};
    return ended(suspended, !suspended && rollup().completion_status === 'completed');
  }

  // A learner's move while a SCO is open. A navigation event of the learner takes precedence over
  // a request the SCO has left pending in adl.nav.request (SCORM 2004 4th ed.; ADL's LMS test cases
  // CM-09aa-cb check "that learner invoked Navigation Events take precedence over Navigation Events
  // triggered within the content"): the learner's request replaces it, and the SCO is unloaded (it terminates
  // itself, or is terminated), so the engine processes the learner's request at that Terminate
  // with the activity still active, exactly as it processes a content request (termination, post
  // condition rules, then the request).
  function lmsMove(request, target) {
    if (api && api.isInitialized() && !api.isTerminated()) {
      pendingNav = {request: request, target: target};
      impose(api, pendingNav);
      leavingOnPurpose = true;
      return leaveSco('').then(function () { leavingOnPurpose = false; });
    }
    return navigate(request, target);
  }

  function impose(target, move) {
    if (target.adl && target.adl.nav) {
      target.adl.nav.request = move.target ? '{target=' + move.target + '}' + move.request : move.request;
    }
  }

  var suspending = false;

  function rollup() {
    var root = engine.getSequencingState().rootActivity;
    if (!root) return {completion_status: 'unknown', success_status: 'unknown', score_scaled: null};
    var measure = root.objectiveMeasureStatus && typeof root.objectiveNormalizedMeasure === 'number'
      ? root.objectiveNormalizedMeasure : null;
    var completion = root.completionStatus;
    if (['completed', 'incomplete', 'not attempted', 'unknown'].indexOf(completion) < 0) completion = 'unknown';
    var success = root.successStatus;
    if (['passed', 'failed'].indexOf(success) < 0) success = 'unknown';
    return {completion_status: completion, success_status: success,
            score_scaled: measure !== null && measure >= -1 && measure <= 1 ? measure : null};
  }

  var seqSending = null;

  // Only the objectives this course knows something about: an entry it never touched must not
  // overwrite what another course of the learner recorded.
  function known(snapshot) {
    var out = {};
    Object.keys(snapshot).forEach(function (id) {
      var o = snapshot[id] || {};
      if (o.satisfiedStatusKnown || o.normalizedMeasureKnown || o.completionStatusKnown || o.progressMeasureKnown ||
          o.rawScoreKnown) out[id] = o;
    });
    return out;
  }

  // The engine's state, the course rollup and the global objectives, newest save wins on the server.
  function saveSequencing(leaving) {
    if (!engine || !cfg.urls.sequencing) return Promise.resolve(false);
    var globals = {};
    try {
      var process = engine.getSequencingService().getOverallSequencingProcess();
      if (seqCfg.global_to_system && process) globals = known(process.getGlobalObjectiveMapSnapshot() || {});
    } catch (e) { globals = {}; }
    seqSeq += 1;
    var body = {registration: cfg.registration, seq: seqSeq, state: engine.serializeSequencingState(),
                rollup: rollup(), global_objectives: globals, at: new Date(Date.now() + skew).toISOString()};
    var payload = JSON.stringify(body);
    if (leaving) {
      // the page is going away: one request that outlives it, when the keepalive budget holds it (if
      // not, the state saved at the last move stands)
      keepalive(cfg.urls.sequencing, payload);
      return Promise.resolve(true);
    }
    var send = function () {
      return fetch(cfg.urls.sequencing, {method: 'POST', credentials: 'same-origin', keepalive: false,
                                         headers: {'Content-Type': 'application/json'}, body: payload})
        .then(function (res) {
          if (res.status >= 500 || res.status === 429) throw new Error('retry');
          return res.ok;
        });
    };
    var attempt = function (delay) {
      return send().catch(function () {
        return new Promise(function (r) { setTimeout(r, delay); }).then(function () { return attempt(Math.min(delay * 2, 15000)); });
      });
    };
    seqSending = (seqSending || Promise.resolve()).then(function () { return attempt(1000); });
    return seqSending;
  }

  function visibleLeaves(node, out) {
    (node.children || []).forEach(function (child) {
      if (child.children && child.children.length) visibleLeaves(child, out);
      else if (child.isVisible !== false) out.push(child);
    });
    return out;
  }

  function hidden_(token) { return !!(validity && validity.hideLmsUi && validity.hideLmsUi.indexOf(token) >= 0); }

  function renderSequenced() {
    var list = document.getElementById('contents');
    var statuses = {};
    scos.forEach(function (s) { statuses[s.id] = s.status; });
    var choice = (validity && validity.choice) || {};
    if (list) {
      list.textContent = '';
      visibleLeaves(seqCfg.settings.activityTree || {}, []).forEach(function (a) {
        var li = document.createElement('li');
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = a.title || a.id;
        b.dataset.activity = a.id;
        b.disabled = choice[a.id] !== 'true';
        b.setAttribute('aria-current', current && current.sco === a.id ? 'step' : 'false');
        b.addEventListener('click', function () { lmsMove('choice', a.id); });
        var status = document.createElement('span');
        status.className = 'sco-status';
        status.textContent = statuses[a.id] || 'not attempted';
        li.appendChild(b); li.appendChild(status);
        list.appendChild(li);
      });
    }
    var prev = document.getElementById('prev'), next = document.getElementById('next');
    var exit = document.getElementById('suspend');
    if (prev) { prev.disabled = !(validity && validity.previous); prev.hidden = hidden_('previous'); }
    if (next) { next.disabled = !(validity && validity.continue); next.hidden = hidden_('continue'); }
    if (exit) exit.hidden = hidden_('suspendAll');
  }

  function hideNotice() {
    var el = document.getElementById('notice');
    if (el) el.hidden = true;
  }

  // -- page controls -----------------------------------------------------------------------------

  function renderContents() {
    if (engine) return renderSequenced();
    var list = document.getElementById('contents');
    if (!list) return;
    list.textContent = '';
    scos.forEach(function (s) {
      var li = document.createElement('li');
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = s.title;
      b.disabled = !s.available;
      b.setAttribute('aria-current', current && current.sco === s.id ? 'step' : 'false');
      b.addEventListener('click', function () { leavingOnPurpose = true; openSco(s.id).then(function () { leavingOnPurpose = false; }); });
      var status = document.createElement('span');
      status.className = 'sco-status';
      status.textContent = s.available ? s.status : 'locked';
      li.appendChild(b); li.appendChild(status);
      list.appendChild(li);
    });
    var i = current ? scoIndex(current.sco) : -1;
    var prev = document.getElementById('prev'), next = document.getElementById('next');
    if (prev) prev.disabled = nextAvailable(i, -1) === null;
    if (next) next.disabled = nextAvailable(i, 1) === null;
  }

  function move(step) {
    var target = nextAvailable(scoIndex(current.sco), step);
    if (!target) return;
    leavingOnPurpose = true;
    openSco(target).then(function () { leavingOnPurpose = false; });
  }

  function bind(id, handler) {
    var el = document.getElementById(id);
    if (el) el.addEventListener('click', handler);
  }

  bind('prev', function () { if (engine) lmsMove('previous'); else move(-1); });
  bind('next', function () { if (engine) lmsMove('continue'); else move(1); });
  bind('suspend', function () {
    leavingOnPurpose = true;
    if (engine) {
      // suspendAll: the engine keeps where the learner is; the next launch resumes there
      var open = api && api.isInitialized() && !api.isTerminated();
      suspending = true;
      // the learner's Suspend All wins over a request the SCO left pending (as lmsMove)
      pendingNav = open ? {request: 'suspendAll', target: null} : null;
      if (open) impose(api, pendingNav);
      (open ? leaveSco('suspend') : Promise.resolve()).then(function () {
        if (!sessionEnd) navigate('suspendAll');
        if (!sessionEnd) { sessionEnd = {reason: 'suspend_all'}; }
        return endSequenced();
      });
      return;
    }
    leaveSco('suspend').then(function () { return ended(true); });
  });

  var LABELS = {saved: 'Saved', pending: 'Saving…', saving: 'Saving…', opening: 'Opening…',
                retrying: 'The server is not answering; trying again…',
                offline: 'Offline: your progress is kept on this device and sent when you are back online',
                session: 'Your session has ended: open your launch link again (your progress on this device is kept)',
                error: 'Something went wrong'};

  function setState(state, detail) {
    if (!stateEl) return;
    stateEl.dataset.state = state;
    stateEl.textContent = LABELS[state] + (detail && state === 'error' ? ': ' + detail : '');
  }

  function report(message) {
    var el = document.getElementById('notice');
    if (el) { el.textContent = message; el.hidden = false; }
  }

  // Start: send what an earlier visit left here, then open the SCO.
  window.lrsPlayer = {drain: drain, queue: function () { return load().items.slice(); },
                      state: function () { return stateEl ? stateEl.dataset.state : ''; },
                      open: openSco, delivered: function () { return deliveredIds.slice(); },
                      current: function () { return current ? current.sco : null; },
                      validity: function () { return validity; }, refusals: [],
                      sequencingSaved: function () { return seqSending || Promise.resolve(true); },
                      ended: function () { return sessionEnd; }};
  if (seqCfg && seqCfg.settings && window.Scorm2004API) startSequencing(); else openSco(cfg.start);
})();
