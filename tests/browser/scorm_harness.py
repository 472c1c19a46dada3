"""A stand-in LMS for the learner scripts, used only by tests/browser/test_browser_learners_harness.py:
a small HTTP server that serves an unzipped fixture package and a host page which exposes a SCORM
API object (``API`` for 1.2, ``API_1484_11`` for 2004) and frames the SCO, recording every call.

The API is scorm-again (the library the player uses) when its dist folder is found, else a minimal
fake written here. scorm-again is looked up in node_modules/scorm-again/dist (``npm ci``) or in
``LRS_TEST_SCORM_AGAIN_DIR``; it is never committed."""
from __future__ import annotations

import json
import mimetypes
import os
import threading
import uuid
import zipfile
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from browser_kit import REPO, package_path
from learners import Sco, frame_of

HOST_JS = Path(__file__).with_name("harness_host.js")


def scorm_again_dist() -> Path | None:
    """scorm-again's dist folder: LRS_TEST_SCORM_AGAIN_DIR, or node_modules/scorm-again/dist."""
    for candidate in (os.environ.get("LRS_TEST_SCORM_AGAIN_DIR", ""), REPO / "node_modules" / "scorm-again" / "dist"):
        if candidate and (Path(candidate) / "scorm12.js").is_file():
            return Path(candidate)
    return None


@dataclass
class Item:
    """A launchable item of a package as the harness launches it."""
    identifier: str
    href: str  # the resource href with the item's parameters, relative to the package root
    preload: dict = field(default_factory=dict)  # what the LMS loads before Initialize (from the manifest)


@dataclass
class Package:
    name: str
    version: str  # "1.2" or "2004"
    items: list


def _golf_objectives(*ids: str) -> dict:
    return {f"cmi.objectives.{i}.id": oid for i, oid in enumerate(ids)}


# The launchable items of each valid SCORM fixture, read from its imsmanifest.xml: href + parameters,
# and the manifest values an LMS loads into the data model before Initialize.
PACKAGES = {p.name: p for p in [
    Package("RuntimeBasicCalls_SCORM12", "1.2", [Item("item_1", "shared/launchpage.html")]),
    Package("ContentPackagingOneFilePerSCO_SCORM12", "1.2", [
        Item(i, h) for i, h in [
            ("playing_playing_item", "Playing/Playing.html"), ("playing_par_item", "Playing/Par.html"),
            ("playing_scoring_item", "Playing/Scoring.html"), ("playing_otherscoring_item", "Playing/OtherScoring.html"),
            ("playing_rules_item", "Playing/RulesOfGolf.html"),
            ("playing_quiz_item", "shared/assessmenttemplate.html?questions=Playing"),
            ("etiquette_course_item", "Etiquette/Course.html"), ("etiquette_distracting_item", "Etiquette/Distracting.html"),
            ("etiquette_play_item", "Etiquette/Play.html"),
            ("etiquette_quiz_item", "shared/assessmenttemplate.html?questions=Etiquette"),
            ("handicapping_overview_item", "Handicapping/Overview.html"),
            ("handicapping_calchandi_item", "Handicapping/CalculatingHandicap.html"),
            ("handicapping_calcscore_item", "Handicapping/CalculatingScore.html"),
            ("handicapping_example_item", "Handicapping/Example.html"),
            ("handicapping_quiz_item", "shared/assessmenttemplate.html?questions=Handicapping"),
            ("havingfun_howto_item", "HavingFun/HowToHaveFun.html"),
            ("havingfun_makefriends_item", "HavingFun/MakeFriends.html"),
            ("havingfun_quiz_item", "shared/assessmenttemplate.html?questions=HavingFun"),
        ]]),
    Package("PrerequisitesTest_SCORM12", "1.2", [
        Item("module1", "module1.html", {"cmi.student_data.mastery_score": "80",
                                         "cmi.student_data.max_time_allowed": "02:30:00"}),
        Item("module2", "module2.html", {"cmi.launch_data": "custom_data_for_module2"}),
        Item("module3", "module3.html", {"cmi.student_data.time_limit_action": "exit,message"}),
        Item("module4", "module4.html", {"cmi.student_data.mastery_score": "90"}),
    ]),
    Package("ContentPackagingSingleSCO_SCORM20042ndEdition", "2004", [Item("item_1", "shared/launchpage.html")]),
    Package("RunTimeAdvancedCalls_SCORM20043rdEdition", "2004", [
        Item("item_1", "shared/launchpage.html",
             {**_golf_objectives("PRIMARYOBJ", "obj_etiquette", "obj_handicapping", "obj_havingfun", "obj_playing"),
              "cmi.scaled_passing_score": "0.8"})]),
    Package("SequencingSimpleRemediation_SCORM20043rdEdition", "2004", [
        Item(i, h, _golf_objectives("learning_objective_satisfied")) for i, h in [
            ("playing_item", "shared/launchpage.html?content=playing"),
            ("etuqiette_item", "shared/launchpage.html?content=etiquette"),
            ("handicapping_item", "shared/launchpage.html?content=handicapping"),
            ("havingfun_item", "shared/launchpage.html?content=havingfun"),
            ("test_1", "shared/launchpage.html?content=assessment1"),
            ("test_2", "shared/launchpage.html?content=assessment2"),
            ("test_3", "shared/launchpage.html?content=assessment3"),
            ("test_4", "shared/launchpage.html?content=assessment4"),
        ]]),
]}


HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>harness: {name}</title>{library}
<style>body{{margin:0;font:14px sans-serif}} iframe{{width:100%;height:640px;border:0}}</style>
</head><body><h1 id="title">{name}</h1><ol id="toc"></ol><iframe id="sco" name="sco"></iframe>
<script>const HARNESS = {config};</script><script src="/harness/host.js"></script>
</body></html>"""


class HarnessServer:
    """Serves ``/pkg/{name}/...`` (the unzipped package), ``/host/{name}?api=fake|scorm-again`` (the
    host page), ``/harness/host.js`` and ``/scorm-again/...`` on 127.0.0.1 and a free port."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.dist = scorm_again_dist()
        self._lock = threading.Lock()
        self.beacons: dict[str, list] = {}  # page id -> the call lists its host page sent when hidden
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                server._serve(self)

            def do_POST(self):
                server._beacon(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "HarnessServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def host_url(self, name: str, api: str = "fake", page_id: str = "") -> str:
        return f"{self.url}/host/{name}?api={api}&page={page_id}"

    def _beacon(self, h: BaseHTTPRequestHandler) -> None:
        """POST /harness/beacon?page=ID: what the host page sends on pagehide (navigator.sendBeacon)."""
        parts = urlsplit(h.path)
        query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        if parts.path != "/harness/beacon" or not query.get("page"):
            return self._send(h, 404, b"not found", "text/plain")
        with self._lock:
            self.beacons.setdefault(query["page"], []).append(json.loads(body))
        self._send(h, 204, b"", "text/plain")

    def _unzipped(self, name: str) -> Path:
        with self._lock:
            d = self.root / name
            if not d.is_dir():
                with zipfile.ZipFile(package_path(name)) as z:
                    z.extractall(d)
            return d

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        if path.startswith("/host/"):
            name = path[len("/host/"):]
            query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
            api = query.get("api", "fake")
            pkg = PACKAGES.get(name)
            if pkg is None or api not in ("fake", "scorm-again") or (api == "scorm-again" and self.dist is None):
                return self._send(h, 404, b"unknown package or api", "text/plain")
            config = {"name": name, "version": pkg.version, "api": api, "base": f"/pkg/{name}/",
                      "beacon": f"/harness/beacon?page={query['page']}" if query.get("page") else "",
                      "items": [{"identifier": i.identifier, "href": i.href, "preload": i.preload} for i in pkg.items]}
            library = ""
            if api == "scorm-again":
                library = f'<script src="/scorm-again/{"scorm12" if pkg.version == "1.2" else "scorm2004"}.js"></script>'
            body = HOST_PAGE.format(name=name, library=library, config=json.dumps(config))
            return self._send(h, 200, body.encode(), "text/html; charset=utf-8")
        if path == "/harness/host.js":
            return self._send(h, 200, HOST_JS.read_bytes(), "text/javascript")
        if path.startswith("/scorm-again/") and self.dist is not None:
            return self._file(h, self.dist, path[len("/scorm-again/"):])
        if path.startswith("/pkg/"):
            name, _, rest = path[len("/pkg/"):].partition("/")
            if name in PACKAGES:
                return self._file(h, self._unzipped(name), rest)
        self._send(h, 404, b"not found", "text/plain")

    def _file(self, h, root: Path, rel: str) -> None:
        target = (root / rel).resolve()
        if not target.is_file() or root.resolve() not in target.parents:
            return self._send(h, 404, b"not found", "text/plain")
        ctype = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(h, 200, target.read_bytes(), ctype)

    @staticmethod
    def _send(h, status: int, body: bytes, ctype: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Cache-Control", "no-store")
        h.end_headers()
        h.wfile.write(body)


class HarnessPlayer:
    """The ``Player`` of the learner scripts over the harness's host page."""

    def __init__(self, page, server: HarnessServer, name: str, api: str = "fake"):
        self.page = page
        self.name = name
        self.server = server
        self.page_id = uuid.uuid4().hex
        page.goto(server.host_url(name, api, self.page_id))
        page.wait_for_function("window.harness && window.harness.ready")

    def beacons(self) -> list[list[dict]]:
        """The call lists the host page sent with sendBeacon each time it was hidden (pagehide), also
        after the page was closed."""
        return list(self.server.beacons.get(self.page_id, []))

    def sco(self) -> Sco:
        return self.page.frame_locator("#sco")

    def sco_frame(self):
        return frame_of(self.sco())

    def open_item(self, identifier: str) -> None:
        self.page.evaluate("id => window.harness.open(id)", identifier)

    def enabled_items(self) -> list[str]:
        return self.page.evaluate("window.harness.enabled()")

    def close_item(self) -> None:
        """Unload the item on screen (its unload handlers run: the golf SCOs Terminate then)."""
        self.page.evaluate("window.harness.close()")

    # -- what the SCOs did ---------------------------------------------------------------------------

    def calls(self, item: str | None = None) -> list[dict]:
        """Every API call so far: {"item", "fn", "args", "result", "error"}; GetLastError and friends left out."""
        calls = self.page.evaluate("window.harness.calls")
        return [c for c in calls if item is None or c["item"] == item]

    def values(self, item: str) -> dict:
        """The data model of ``item``'s API as the SCO left it (flat, element name to string)."""
        return self.page.evaluate("id => window.harness.values(id)", item)

    def set_values(self, item: str, values: dict) -> None:
        """Data the LMS loads into ``item``'s next launch (a resume: entry, location, suspend data...)."""
        self.page.evaluate("([id, v]) => window.harness.setLoad(id, v)", [item, values])
