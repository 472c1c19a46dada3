"""Issue 10, acceptance 2: a package built by the test, whose script tries everything a hostile course
could, played in a browser that ALSO holds an admin's Basic credentials for the main origin. It reads
nothing of /xapi or the admin API, writes nothing there, and cannot write to another learner's
registration (403; that registration's attempts unchanged).

The probe runs as a SCORM 1.2 SCO; what it is to attack (the main origin, another learner's registration
and SCO) comes in its launch data (adlcp:datafromlms). It writes what it could see into its page."""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from html import escape

from browser_kit import ADMIN, LrsServer
from learners import Stop, play_runtime_basic_calls
from real_player import open_launch_link

PROBE_JS = r"""
(async function () {
  var report = {ran: false, reads: {}, writes: {}, seen: {}};
  function done() {
    var el = document.getElementById('report');
    el.textContent = JSON.stringify(report);
    el.setAttribute('data-done', '1');
  }
  try {
    var api = window.parent.API;
    api.LMSInitialize('');
    var given = JSON.parse(api.LMSGetValue('cmi.launch_data'));
    var M = given.main, other = given.registration;
    report.ran = true;

    async function read(name, url, opts) {
      try {
        var r = await fetch(url, opts);
        report.reads[name] = {status: r.status, type: r.type, body: (await r.text()).slice(0, 300)};
      } catch (e) { report.reads[name] = {error: String(e)}; }
    }
    var v = {'X-Experience-API-Version': '1.0.3'};
    await read('xapi statements', M + '/xapi/statements', {credentials: 'include', headers: v});
    await read('xapi statements, no preflight', M + '/xapi/statements', {credentials: 'include'});
    await read('xapi state', M + '/xapi/activities/state?activityId=' + encodeURIComponent(given.activity) +
               '&agent=' + encodeURIComponent(JSON.stringify(given.agent)) + '&stateId=' +
               encodeURIComponent('https://w3id.org/xapi/scorm/attempt-state'), {credentials: 'include', headers: v});
    await read('admin courses', M + '/content/courses', {credentials: 'include'});
    await read('admin courses, no-cors', M + '/content/courses', {credentials: 'include', mode: 'no-cors'});
    await read('admin launch', M + '/player/launches', {
      method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({learner: {mbox: 'mailto:mallory@example.com'}, course_id: given.course})});
    await read('admin launch, text/plain', M + '/player/launches', {
      method: 'POST', credentials: 'include', mode: 'no-cors', headers: {'Content-Type': 'text/plain'},
      body: JSON.stringify({learner: {mbox: 'mailto:mallory@example.com'}, course_id: given.course})});
    await new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      x.open('GET', M + '/xapi/statements');
      x.withCredentials = true;
      x.onload = function () { report.reads.xhr = {status: x.status, body: x.responseText.slice(0, 300)}; resolve(); };
      x.onerror = function () { report.reads.xhr = {error: 'network error'}; resolve(); };
      x.send();
    });

    // xAPI's alternate request syntax as a form post: no preflight, and the browser would answer a
    // Basic challenge with the admin's credentials.
    await new Promise(function (resolve) {
      var sink = document.createElement('iframe');
      sink.name = 'sink';
      document.body.appendChild(sink);
      var form = document.createElement('form');
      form.method = 'POST';
      form.target = 'sink';
      form.action = M + '/xapi/statements?method=PUT';
      var fields = {statementId: given.forged, 'X-Experience-API-Version': '1.0.3', 'Content-Type': 'application/json',
                    content: JSON.stringify({actor: {mbox: 'mailto:mallory@example.com'},
                                             verb: {id: 'http://adlnet.gov/expapi/verbs/passed'},
                                             object: {id: 'http://example.com/forged'}})};
      Object.keys(fields).forEach(function (k) {
        var input = document.createElement('input');
        input.type = 'hidden'; input.name = k; input.value = fields[k];
        form.appendChild(input);
      });
      document.body.appendChild(form);
      sink.addEventListener('load', function () { resolve(); }, {once: true});
      setTimeout(resolve, 3000);
      form.submit();
    });
    report.writes.form = 'sent';

    // What the launch page's origin holds: the session cookie is HttpOnly; storage of other registrations.
    report.seen.cookie = document.cookie;
    report.seen.parentCookie = window.parent.document.cookie;
    report.seen.topCookie = window.top.document.cookie;
    report.seen.storage = {};
    [window.localStorage, window.parent.localStorage, window.top.localStorage, window.sessionStorage].forEach(function (s) {
      for (var i = 0; i < s.length; i++) report.seen.storage[s.key(i)] = s.getItem(s.key(i));
    });

    async function write(name, url, body) {
      try {
        var r = await fetch(url, {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},
                                  body: JSON.stringify(body)});
        report.writes[name] = {status: r.status, body: (await r.text()).slice(0, 300)};
      } catch (e) { report.writes[name] = {error: String(e)}; }
    }
    var commit = {registration: other, sco: given.sco, attempt: 1, seq: given.seq, event: 'commit',
                  at: new Date().toISOString(), data: {'cmi.core.lesson_status': 'passed', 'cmi.core.score.raw': '100'}};
    await write('attempts', '/player/attempts', {registration: other, sco: given.sco});
    await write('commits', '/player/commits', commit);
    await write('commits batch', '/player/commits', {commits: [commit]});
    await write('commits upper case', '/player/commits', Object.assign({}, commit, {registration: other.toUpperCase()}));
  } catch (e) {
    report.error = String(e);
  }
  done();
})();
"""

INDEX = """<!doctype html><html><head><meta charset="utf-8"><title>Probe</title></head>
<body><h1>Probe</h1><pre id="report"></pre><script src="probe.js"></script></body></html>"""


def probe_package(given: dict) -> bytes:
    manifest = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="probe.{uuid.uuid4().hex}" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org"><title>Probe</title>
      <item identifier="probe" identifierref="r"><title>Probe</title>
        <adlcp:datafromlms>{escape(json.dumps(given), quote=False)}</adlcp:datafromlms></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/><file href="probe.js"/></resource>
  </resources>
</manifest>"""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("imsmanifest.xml", manifest)
        z.writestr("index.html", INDEX)
        z.writestr("probe.js", PROBE_JS)
    return out.getvalue()


def registrations_of(srv: LrsServer, mbox: str) -> list:
    from player.storage.ports import learner_key
    from player.storage.sqlite import SqlitePlayerStore

    store = SqlitePlayerStore(srv.data_dir / "player.sqlite3")
    try:
        return store.registrations(learner_key({"mbox": mbox}))
    finally:
        store.close()


def bob_plays(srv: LrsServer, ctx) -> tuple[dict, str, list, list]:
    """Bob, another learner, plays three pages of a golf course in ``ctx`` and leaves with "Save and exit".
    (the course, his registration, his attempts as stored, the ids of every statement stored so far)."""
    imported = srv.__dict__.setdefault("imported", {})
    if "basic" not in imported:
        imported["basic"] = srv.import_package("RuntimeBasicCalls_SCORM12")["course"]
    basic = imported["basic"]
    bob = {"objectType": "Agent", "name": "Bob", "mbox": f"mailto:bob.{uuid.uuid4().hex[:8]}@example.com"}
    link = srv.launch(basic["id"], bob)
    page = ctx.new_page()
    player, _ = open_launch_link(page, link["launch_url"], resume=False)
    play_runtime_basic_calls(player.sco(), stop=Stop.AFTER_PAGES, pages=3)
    player.save_and_exit()
    page.close()
    reg = link["registration"]["id"]
    before = srv.stored_attempts(reg)
    assert before and before[0]["data"]["cmi"]["cmi.core.lesson_location"] == "2"
    return basic, reg, before, [st["id"] for st in srv.statements()]


def run_probe(srv: LrsServer, ctx, basic: dict, bob_reg: str, bob_before: list) -> tuple[dict, str, str]:
    """Build the hostile course aimed at Bob's registration, open it in ``ctx`` as Ana; (its report, Ana's
    registration, the forged statement id)."""
    forged = str(uuid.uuid4())
    sco_iri = f"{srv.url}/courses/{basic['id']}/scos/item_1"
    given = {"main": srv.url, "registration": bob_reg, "sco": "item_1", "seq": bob_before[0]["commits"] + 1,
             "course": basic["id"], "forged": forged, "agent": {"mbox": "mailto:bob@example.com"},
             "activity": f"{sco_iri}/attempts/{bob_reg}/1"}
    r = srv.request("POST", "/content/packages", content=probe_package(given), headers={"Content-Type": "application/zip"})
    assert r.status_code in (200, 201), r.text
    probe = r.json()["course"]
    admin_page = ctx.new_page()
    assert admin_page.goto(srv.url + "/content/courses").status == 200, "the browser does not hold the credentials"
    assert probe["id"] in admin_page.content()
    admin_page.close()
    page = ctx.new_page()
    player, _ = open_launch_link(page, srv.launch(probe["id"])["launch_url"])
    done = player.sco().locator("#report[data-done='1']")
    done.wait_for(state="attached", timeout=30000)
    return json.loads(done.text_content()), player.registration, forged


def assert_nothing_gained(srv: LrsServer, report: dict, own_reg: str, forged: str, bob_reg: str, bob_before: list,
                          statements_before: list) -> None:
    assert report["ran"] and "error" not in report, report
    # Nothing of the main origin could be read: every attempt failed or came back opaque and empty.
    for name, answer in report["reads"].items():
        assert "error" in answer or (answer["type"] == "opaque" and answer["body"] == "" and answer["status"] == 0), \
            (name, answer)
    # The forged statement (alternate request syntax) was not stored, nor anything else, and no launch
    # link was made for anyone.
    assert srv.request("GET", "/xapi/statements", params={"statementId": forged}).status_code == 404
    assert [st["id"] for st in srv.statements() if st["context"].get("registration") != own_reg] == statements_before
    assert registrations_of(srv, "mailto:mallory@example.com") == []
    # The session cookie is invisible to scripts; the browser's storage holds nothing of another registration.
    assert (report["seen"]["cookie"], report["seen"]["parentCookie"], report["seen"]["topCookie"]) == ("", "", "")
    assert set(report["seen"]["storage"]) <= {f"lrs-player:{own_reg}"}, report["seen"]["storage"]
    assert bob_reg not in json.dumps(report["seen"])
    # Every write to Bob's registration was refused as not this session's.
    for name in ("attempts", "commits", "commits batch", "commits upper case"):
        answer = report["writes"][name]
        assert answer["status"] == 403 and '"path":"registration"' in answer["body"].replace(" ", ""), (name, answer)
    assert srv.stored_attempts(bob_reg) == bob_before


def admin_context(browser, srv: LrsServer):
    """A browser context that holds an admin's Basic credentials for the main origin."""
    return browser.new_context(http_credentials={"username": ADMIN[0], "password": ADMIN[1], "origin": srv.url})


def test_a_hostile_package_in_a_browser_holding_admin_credentials_reads_and_writes_nothing_but_its_own(
        module_server, browser, context):
    srv = module_server
    basic, bob_reg, bob_before, statements_before = bob_plays(srv, context)   # Bob, on his own device
    ctx = admin_context(browser, srv)
    try:
        report, own_reg, forged = run_probe(srv, ctx, basic, bob_reg, bob_before)
    finally:
        ctx.close()
    assert_nothing_gained(srv, report, own_reg, forged, bob_reg, bob_before, statements_before)


def test_on_a_shared_device_a_hostile_package_gets_nothing_of_the_learner_who_played_before(module_server, browser):
    """One phone between shifts: Bob played and left, then Ana opens the hostile course in the same browser
    (which also holds admin credentials). Nothing of Bob's stays readable, and his registration takes no
    write from Ana's course."""
    srv = module_server
    ctx = admin_context(browser, srv)
    try:
        basic, bob_reg, bob_before, statements_before = bob_plays(srv, ctx)
        report, own_reg, forged = run_probe(srv, ctx, basic, bob_reg, bob_before)
    finally:
        ctx.close()
    assert_nothing_gained(srv, report, own_reg, forged, bob_reg, bob_before, statements_before)
