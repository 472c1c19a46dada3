"""Fuzz: mutated requests to every resource of a real ``lrs serve``, over one keep-alive connection.

Every test here starts from valid requests of one group of resources (statements written,
statements read, documents, agents/activities/about, the alternate request syntax, the content
store) and lets hypothesis mutate them: structurally (dropped, duplicated and retyped fields,
wrong JSON types, huge/negative/unicode/non-ASCII-digit numbers, deep nesting, long strings,
bad UTF-8, odd or malformed headers and Authorization) and parameter by parameter. Requests
carry credentials of several scopes (all, statements/write, statements/read/mine, state),
none, or wrong ones.

What must hold for every request: the answer is not a 5xx, it comes within the per-request
timeout, and it comes on the same keep-alive connection as the request before (a connection
the server dropped, any transport error, or ``Connection: close`` on anything but a 4xx
refusal fails; a 4xx that announces ``Connection: close`` is counted, not failed).

All requests of the module go through ONE ``httpx.Client`` to one server process (course files, which
the content origin serves, through a second one to its port, with a learner's session cookie). A failing
request does not stop the run: each distinct failure (method, resource, outcome) is kept with
its first example and the test fails at the end listing them all. After a timeout the server
is restarted (its readers may be stuck) so the rest of the run still says something.

Settings (environment variables):
    LRS_FUZZ_EXAMPLES  total cases over the whole file (default 3000), shared between the tests
    LRS_FUZZ_SECONDS   wall-clock budget for the whole file (default 100); a test that runs out
                       of its share stops sending and says how many cases it ran
    LRS_FUZZ_TIMEOUT   seconds one request may take (default 5)
    LRS_FUZZ_SEED      an integer: generate other requests from that seed (to explore)
The generation is seeded (``derandomize=True`` unless LRS_FUZZ_SEED is set): the same code gives the
same requests. Run with ``-s`` and LRS_FUZZ_DEBUG=1 to print every request's outcome.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "lrs"))
sys.path.insert(0, str(HERE / "content_store"))

from lrs_testkit import ADMIN, VERSION, LiveServer, basic, create_credential, multipart_body, sha256  # noqa: E402

from cs_helpers import manifest_12, scorm12_zip, zip_bytes  # noqa: E402

TOTAL_EXAMPLES = int(os.environ.get("LRS_FUZZ_EXAMPLES", "3000"))
TOTAL_SECONDS = float(os.environ.get("LRS_FUZZ_SECONDS", "100"))
REQUEST_TIMEOUT = float(os.environ.get("LRS_FUZZ_TIMEOUT", "5"))
SEED = os.environ.get("LRS_FUZZ_SEED")  # explore other requests: any integer (default: the fixed derandomized run)
DEBUG = os.environ.get("LRS_FUZZ_DEBUG") == "1"  # print every request's outcome (with -s)
MAX_RESTARTS = 3  # after this many timeouts in one test the server is left alone and the test stops

# Share of the cases and of the time each test gets.
WEIGHTS = {"statements_write": 0.22, "statements_read": 0.24, "documents": 0.2, "resources": 0.08,
           "alternate_syntax": 0.1, "content_store": 0.16}


def examples(name: str) -> int:
    return max(10, int(TOTAL_EXAMPLES * WEIGHTS[name]))


def fuzz_settings(name: str):
    # Hypothesis repeats some examples (not sent again): generate more, stop at the case target.
    return settings(max_examples=int(examples(name) * 2.5), derandomize=SEED is None, database=None, deadline=None,
                    phases=(Phase.explicit, Phase.generate), print_blob=False,
                    suppress_health_check=list(HealthCheck))


# -- credentials --------------------------------------------------------------------------

WRITER = ("fuzz-writer", "writer-secret-1234")
MINE = ("fuzz-mine", "mine-secret-1234")
STATE = ("fuzz-state", "state-secret-1234")
CREDENTIALS = {"admin": (ADMIN, ["all"]), "writer": (WRITER, ["statements/write"]),
               "mine": (MINE, ["statements/read/mine", "statements/write"]), "state": (STATE, ["state"])}

# Repeats weight the draw: valid credentials most of the time; a wrong secret for a known key is
# rare because the server spends ~100 ms of scrypt on each.
AUTH_CHOICES = (["admin"] * 2 + ["writer"] * 2 + ["mine"] * 2 + ["state"] * 2
                + ["none", "unknown_key", "bad_base64", "no_colon", "bearer", "empty_basic", "lower_basic",
                   "non_ascii", "long", "two_headers"]
                + ["wrong_secret"])


def auth_header(choice: str) -> list[tuple[str, str | bytes]]:
    """The Authorization header(s) for one credential choice (a label is logged, never the secret)."""
    if choice in CREDENTIALS:
        return [("Authorization", basic(*CREDENTIALS[choice][0]))]
    return {
        "none": [],
        "wrong_secret": [("Authorization", basic(ADMIN[0], "not-the-secret"))],
        "unknown_key": [("Authorization", basic("nobody-" + "k" * 8, "whatever"))],
        "bad_base64": [("Authorization", "Basic !!!not*base64===")],
        "no_colon": [("Authorization", "Basic " + base64.b64encode(b"justakey").decode())],
        "bearer": [("Authorization", "Bearer abc.def.ghi")],
        "empty_basic": [("Authorization", "Basic ")],
        "lower_basic": [("Authorization", basic(*ADMIN).replace("Basic", "basic"))],
        "non_ascii": [("Authorization", "Basic " + base64.b64encode("ключ:秘密\xff".encode()).decode())],
        "long": [("Authorization", "Basic " + "QUFB" * 4000)],
        "two_headers": [("Authorization", basic(*ADMIN)), ("Authorization", basic(*WRITER))],
    }[choice]


# -- the target: one server, one keep-alive client, and the failures seen ----------------------------

@dataclass
class Req:
    method: str
    path: str
    params: list = field(default_factory=list)  # (name, value) pairs, value str
    headers: list = field(default_factory=list)  # (name, value) pairs
    body: bytes | None = None
    raw_query: bytes | None = None  # extra bytes appended to the query string as is
    route: str = ""  # the resource, for grouping failures
    notes: list = field(default_factory=list)  # what was mutated
    origin: str = "main"  # or "content": course files are served on the content origin's port

    def query(self) -> bytes:
        parts = [_pct(k).encode() + b"=" + _pct(v).encode() for k, v in self.params]
        if self.raw_query:
            parts.append(self.raw_query)
        return b"&".join(parts)

    def describe(self) -> str:
        def cut(text, n=240):
            text = repr(text)
            return text if len(text) <= n else text[:n] + f"...({len(text)} chars)"
        shown_headers = [(k, v if k.lower() != "authorization" else f"<{self.auth}>") for k, v in self.headers]
        body = None if self.body is None else cut(self.body[:400]) + ("" if len(self.body) <= 400 else
                                                                      f" [{len(self.body)} bytes]")
        return (f"{self.method} {cut(self.path, 300)[1:-1]}?{cut(self.query().decode('latin-1'), 400)}\n"
                f"      headers={cut(shown_headers, 300)}\n      body={body}\n      mutations={self.notes}")

    auth: str = "admin"


def _pct(value) -> str:
    """Percent-encoded UTF-8 of ``value``; lone surrogates (from bytes that were not UTF-8) go back to
    the bytes they came from, so a mutated value reaches the server as it was made."""
    if isinstance(value, str):
        try:
            value = value.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            value = value.encode("utf-8", "surrogatepass")
    return quote(value, safe="")


class Target:
    def __init__(self, tmp: Path, report):
        self.tmp = tmp
        self.report = report
        self.data_dir = tmp / "data"
        self.server: LiveServer | None = None
        self.client: httpx.Client | None = None
        self.content: httpx.Client | None = None  # the content origin (course files)
        self.streams: dict = {}  # the kept connection of each origin
        self.previous = "none"
        self.cases = 0
        self.fixtures: dict = {}
        self.begin("setup", 0)

    # server life
    def start(self) -> None:
        self.server = LiveServer(self.data_dir).start()
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.server.port}", timeout=REQUEST_TIMEOUT,
                                   limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self.content = httpx.Client(base_url=f"http://127.0.0.1:{self.server.content_port}", timeout=REQUEST_TIMEOUT,
                                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        if "session" in self.fixtures:  # a session outlives a restart (same data, same key)
            self.content.cookies.set("lrs_player", self.fixtures["session"])
        self.streams = {}

    def restart(self) -> None:
        """A new server on the same data: the old one is killed (a stuck one may ignore SIGTERM)."""
        self.restarts += 1
        if self.client:
            self.client.close()
            self.content.close()
        if self.server:
            self.server.kill()
        self.start()

    def close(self) -> None:
        healthy = self.healthy()
        if self.client:
            self.client.close()
            self.content.close()
        if self.server:
            self.server.stop() if healthy else self.server.kill()

    def healthy(self) -> bool:
        try:
            return self.client.get("/xapi/about", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    # one test's run
    def begin(self, name: str, seconds: float) -> None:
        self.name = name
        self.deadline = time.monotonic() + seconds
        self.failures: dict = {}
        self.test_cases = 0
        self.restarts = 0
        self.skipped = 0
        self.client_refused = 0
        self.duplicates = 0
        self.announced_closes = 0
        self.target_cases = examples(name) if name in WEIGHTS else 0
        self.seen: set = set()
        self.statuses: Counter = Counter()
        self.streams = {}

    def stopped(self) -> bool:
        return (time.monotonic() > self.deadline or self.restarts >= MAX_RESTARTS
                or self.test_cases >= self.target_cases)

    def fail(self, req: Req, outcome: str, detail: str) -> None:
        key = (req.method, req.route or req.path, outcome)
        if key in self.failures:
            self.failures[key][0] += 1
        else:
            self.failures[key] = [1, f"{req.describe()}\n      -> {detail}"]

    def send(self, req: Req) -> httpx.Response | None:
        """Send ``req``; record a failure when the answer is a 5xx, late, or not on the kept connection."""
        if self.stopped():
            self.skipped += 1
            return None
        fingerprint = hashlib.sha256(repr((req.method, req.path, req.query(), req.headers)).encode()
                                     + (req.body or b"")).digest()
        if fingerprint in self.seen:  # hypothesis repeats examples; a repeat tells nothing new
            self.duplicates += 1
            return None
        self.seen.add(fingerprint)
        try:
            url = httpx.URL(req.path, query=req.query())
        except httpx.InvalidURL:  # httpx will not build it (a query over 64 KiB): not the server's doing
            self.client_refused += 1
            return None
        self.cases += 1
        self.test_cases += 1
        headers = httpx.Headers([(k, v.encode("utf-8") if isinstance(v, str) else v) for k, v in req.headers])
        client = self.content if req.origin == "content" else self.client
        try:
            resp = client.request(req.method, url, headers=headers, content=req.body)
        except httpx.LocalProtocolError:  # httpx itself refused to send it: not the server's doing
            self.client_refused += 1
            self.cases -= 1
            self.test_cases -= 1
            self.streams.pop(req.origin, None)
            return None
        except httpx.TimeoutException as exc:
            self.fail(req, "timeout", f"no answer in {REQUEST_TIMEOUT} s ({type(exc).__name__}); server restarted")
            began = time.monotonic()
            self.restart()
            self.previous = "none (a new server)"
            # the time lost waiting and restarting does not count against this test's budget
            self.deadline += REQUEST_TIMEOUT + time.monotonic() - began
            return None
        except httpx.TransportError as exc:
            self.fail(req, "dropped", f"the connection failed: {type(exc).__name__}: {exc} (the request before this "
                                      f"one on it: {self.previous})")
            self.streams.pop(req.origin, None)
            if not self.healthy():
                self.restart()
            return None
        self.statuses[resp.status_code] += 1
        if DEBUG:
            print(f"DEBUG {resp.status_code} {req.method} {req.route} {req.notes} {resp.content[:120]!r}")
        stream = resp.extensions.get("network_stream")
        snippet = resp.content[:300]
        if resp.status_code >= 500:
            self.fail(req, str(resp.status_code), f"{resp.status_code} {snippet!r}")
        if resp.headers.get("connection", "").lower() == "close":
            # A refusal may end its connection if it says so (e.g. a 401 or 413 that does not read the
            # body): announced, not dropped. Any other answer must leave the connection open.
            if 400 <= resp.status_code < 500:
                self.announced_closes += 1
            else:
                self.fail(req, "connection-close", f"{resp.status_code} with Connection: close {snippet!r}")
            stream = None  # the next request needs a new connection: not counted against it
        elif self.streams.get(req.origin) is not None and stream is not self.streams[req.origin]:
            self.fail(req, "reconnect", f"{resp.status_code} {snippet!r} came on a new connection: the server "
                                        f"dropped the keep-alive connection after the request before this one "
                                        f"({self.previous})")
        self.streams[req.origin] = stream
        self.previous = f"{req.method} {req.path[:100]}?{req.query()[:200]!r} -> {resp.status_code}"
        return resp

    def fuzz(self, name: str, case) -> None:
        """Run ``case(self, data)`` for this test's share of examples, then fail listing every distinct
        failure seen (the run itself never stops at the first one)."""
        @fuzz_settings(name)
        @given(data=st.data())
        def one(data):
            case(self, data)

        if SEED is not None:
            one = seed(int(SEED))(one)

        one()
        message = self.finish()
        if message:
            pytest.fail(message, pytrace=False)

    def finish(self) -> str | None:
        line = (f"fuzz {self.name}: {self.test_cases} cases sent, {self.skipped} not sent (case target, time or "
                f"restart budget reached), {self.duplicates} repeats not sent, {self.client_refused} refused by httpx, "
                f"{self.announced_closes} 4xx with Connection: close, "
                f"{len(self.failures)} distinct failures, {self.restarts} server restarts; "
                f"statuses {dict(sorted(self.statuses.items()))}")
        self.report(line)
        if not self.failures:
            return None
        out = [line + " (first example of each; count in brackets):"]
        for (method, route, outcome), (count, example) in sorted(self.failures.items(), key=lambda kv: kv[0]):
            out.append(f"  [{count}] {method} {route} -> {outcome}\n      {example}")
        return "\n".join(out)


@pytest.fixture(scope="module")
def target(tmp_path_factory, request):
    tr = request.config.pluginmanager.get_plugin("terminalreporter")
    lines: list[str] = []

    def report(line):
        lines.append(line)
        print(line)

    tmp = tmp_path_factory.mktemp("fuzz")
    (tmp / "data").mkdir()
    for (key, secret), scopes in CREDENTIALS.values():
        create_credential(tmp / "data", key, secret, scopes, name=key, email=f"{key}@example.com")
    t = Target(tmp, report)
    t.start()
    try:
        _load_fixtures(t)
        yield t
    finally:
        t.close()
        total = f"fuzz total: {t.cases} requests over one keep-alive client"
        lines.append(total)
        capture = request.config.pluginmanager.getplugin("capturemanager")
        if tr is not None and capture is not None:
            with capture.global_and_fixture_disabled():
                tr.write_line("")
                for line in lines:
                    tr.write_line(line)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def run(target, request):
    """Start one fuzz test on ``target`` (restarting the server if an earlier test left it stuck)."""
    name = request.node.name.removeprefix("test_fuzz_")
    if not target.healthy():
        target.restart()
    target.begin(name, TOTAL_SECONDS * WEIGHTS[name])
    return target


def _xapi_headers(auth: str = "admin", content_type: str | None = "application/json") -> list:
    h = [("X-Experience-API-Version", VERSION)] + auth_header(auth)
    if content_type:
        h.append(("Content-Type", content_type))
    return h


def _load_fixtures(t: Target) -> None:
    """Valid data the mutated requests refer to: statements (with a voided one and an attachment),
    documents, a course with a file, and a real ``more`` cursor."""
    ids = [str(uuid.UUID(int=i + 1, version=4)) for i in range(12)]
    batch = [_statement(sid, i) for i, sid in enumerate(ids)]
    r = t.client.post("/xapi/statements", content=json.dumps(batch), headers=_xapi_headers())
    assert r.status_code == 200, r.text
    void = _statement(str(uuid.UUID(int=99, version=4)), 0, verb="http://adlnet.gov/expapi/verbs/voided",
                      obj={"objectType": "StatementRef", "id": ids[-1]})
    r = t.client.post("/xapi/statements", content=json.dumps(void), headers=_xapi_headers())
    assert r.status_code == 200, r.text
    attachment = b"fuzz attachment bytes"
    st_att = _statement(str(uuid.UUID(int=100, version=4)), 1)
    st_att["attachments"] = [_attachment_meta(attachment)]
    body, ctype = multipart_body(st_att, [("text/plain", attachment)])
    r = t.client.post("/xapi/statements", content=body, headers=_xapi_headers(content_type=ctype))
    assert r.status_code == 200, r.text
    mine_st = _statement(str(uuid.UUID(int=101, version=4)), 2)
    r = t.client.post("/xapi/statements", content=json.dumps(mine_st), headers=_xapi_headers("mine"))
    assert r.status_code == 200, r.text
    r = t.client.get("/xapi/statements", params={"limit": "2"}, headers=_xapi_headers(content_type=None))
    assert r.status_code == 200 and r.json()["more"], r.text
    more = r.json()["more"]
    cursor = httpx.URL(more).params.get("cursor")
    for kind, params in (("state", DOC_PARAMS["state"]), ("activity_profile", DOC_PARAMS["activity_profile"]),
                         ("agent_profile", DOC_PARAMS["agent_profile"])):
        r = t.client.put(DOC_PATHS[kind], params=params, content=b'{"a": 1, "b": {"c": [1, 2]}}',
                         headers=_xapi_headers() + ([("If-None-Match", "*")] if kind != "state" else []))
        assert r.status_code == 204, r.text
    r = t.client.post("/content/packages", content=scorm12_zip("com.example.fuzz"),
                      headers=[("Authorization", basic(*ADMIN)), ("Content-Type", "application/zip")])
    assert r.status_code in (200, 201), r.text
    course = r.json()["course"]["id"]
    r = t.client.post("/player/launches", json={"learner": {"mbox": "mailto:fuzz@example.com"}, "course_id": course},
                      headers=[("Authorization", basic(*ADMIN))])
    assert r.status_code == 201, r.text
    opened = t.content.get(httpx.URL(r.json()["launch_url"]).path, follow_redirects=True)
    assert opened.status_code == 200, opened.text
    t.fixtures.update(ids=ids, voided=ids[-1], attached=str(uuid.UUID(int=100, version=4)), attachment=attachment,
                      more=more, cursor=cursor, course=course, session=t.content.cookies["lrs_player"])


# -- valid requests ------------------------------------------------------------------------------

AGENTS = [
    {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.com"},
    {"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"},
    {"openid": "http://openid.example.com/ada"},
    {"account": {"homePage": "http://www.example.com", "name": "ada-1"}},
    {"objectType": "Group", "name": "Team", "member": [{"mbox": "mailto:b@example.com"}]},
    {"objectType": "Group", "mbox": "mailto:team@example.com", "member": []},
]
VERBS = ["http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/attempted"]
ACTIVITY = "http://example.com/courses/safety-101"
REGISTRATION = str(uuid.UUID(int=7, version=4))


def _statement(sid: str, i: int, verb: str | None = None, obj: dict | None = None) -> dict:
    s = {
        "id": sid,
        "actor": AGENTS[i % 4] if i % 5 else AGENTS[4],
        "verb": {"id": verb or VERBS[i % 2], "display": {"en-US": "did", "fr": "a fait"}},
        "object": obj or {"objectType": "Activity", "id": ACTIVITY if i % 3 else f"{ACTIVITY}/m{i}",
                          "definition": {"name": {"en-US": "Safety 101"}, "description": {"en-US": "Basics"},
                                         "type": "http://adlnet.gov/expapi/activities/course",
                                         "extensions": {"http://example.com/ext/x": {"deep": [1, 2]}}}},
        "result": {"score": {"scaled": 0.9, "raw": 90, "min": 0, "max": 100}, "success": True,
                   "completion": True, "duration": "PT1H12M30S", "response": "answer"},
        "context": {"registration": REGISTRATION, "platform": "Example LMS", "language": "en-US",
                    "instructor": AGENTS[0],
                    "contextActivities": {"parent": [{"id": "http://example.com/programs/onboarding"}],
                                          "grouping": [{"id": "http://example.com/catalog"}]},
                    "extensions": {"http://example.com/ext/shift": "night"}},
        "timestamp": "2024-03-01T10:15:30.123Z",
    }
    if obj is not None and obj.get("objectType", "Activity") != "Activity":
        del s["context"]["platform"]  # only allowed when the object is an Activity
    return s


def _substatement_object() -> dict:
    return {"objectType": "SubStatement", "actor": AGENTS[0], "verb": {"id": VERBS[0]},
            "object": {"id": ACTIVITY}, "result": {"success": False},
            "context": {"extensions": {"http://example.com/e": 1}}}


def _attachment_meta(content: bytes, usage="http://example.com/usage/notes") -> dict:
    return {"usageType": usage, "display": {"en-US": "notes"}, "contentType": "text/plain",
            "length": len(content), "sha2": sha256(content)}


DOC_PATHS = {"state": "/xapi/activities/state", "activity_profile": "/xapi/activities/profile",
             "agent_profile": "/xapi/agents/profile"}
DOC_PARAMS = {
    "state": {"activityId": ACTIVITY, "agent": json.dumps(AGENTS[0]), "stateId": "bookmark",
              "registration": REGISTRATION},
    "activity_profile": {"activityId": ACTIVITY, "profileId": "prefs"},
    "agent_profile": {"agent": json.dumps(AGENTS[0]), "profileId": "prefs"},
}


# -- mutations ---------------------------------------------------------------------------------

WEIRD_NUMBERS = [10 ** 400, -10 ** 400, -1, 0, 2 ** 63, 2 ** 64, -(2 ** 63) - 1, 4503599627370496, 1e308,
                 -1e-320, 1.5, -0.0, 10 ** 20]
WEIRD_TEXT = ["", " ", "²", "١٢", "٣", "𝟙𝟚", "１０", "1e5", "-1", "0x10", "+5", "1_000", " 7",
              "99999999999999999999999",
              "18446744073709551617", "4503599627370496.4503599627370496", "NaN", "Infinity", "null", "true", "[]",
              "{}", "\u0000", "\x7f", "é", "😀", "\u202e", "%00", "%", "../../etc/passwd", "<b>x</b>", "mailto:",
              "http://", "javascript:alert(1)", "urn:", "a" * 300, "0", "00000000-0000-0000-0000-000000000000",
              "2024-02-30T00:00:00Z", "2024-03-01T10:15:30.123+25:00", "9999-12-31T23:59:59Z", "-0001-01-01T00:00:00Z",
              "P", "PT-1S", "1.0.3", "mailto:a@b", "{\"mbox\": 1}"]
NEST_DEPTHS = [32, 100, 250, 500, 1022, 1100, 3000]
LONG_LENGTHS = [4097, 70_000, 300_000]

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                      st.text(max_size=20), st.sampled_from(WEIRD_NUMBERS), st.sampled_from(WEIRD_TEXT))
json_value = st.recursive(json_leaf, lambda c: st.one_of(st.lists(c, max_size=3),
                                                         st.dictionaries(st.text(max_size=8), c, max_size=3)),
                          max_leaves=6)

_MARK = "\u2063FUZZ"  # a placeholder replaced after serialising: nesting too deep for json.dumps


def _nest_marker(depth: int, kind: str) -> str:
    return f"{_MARK}{kind}{depth}{_MARK}"


def _expand_markers(text: str) -> str:
    def expand(m):
        kind, depth = m.group(1), int(m.group(2))
        if kind == "L":
            return "[" * depth + "1" + "]" * depth
        return '{"a":' * depth + "1" + "}" * depth
    return re.sub(rf'"{_MARK}([LO])(\d+){_MARK}"', expand, text)


def _paths(doc, prefix=()):
    """Every (path) to a value inside ``doc``."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _container(doc, path):
    node = doc
    for k in path[:-1]:
        node = node[k]
    return node


@st.composite
def mutated_json(draw, doc, notes: list, on: bool = True, max_ops: int = 3):
    """``doc`` (deep-copied) with 1..max_ops structural mutations, serialised to bytes, maybe broken
    (``doc`` as it is when not ``on``)."""
    if not on:
        return json.dumps(doc).encode()
    doc = json.loads(json.dumps(doc))
    dup = None
    for _ in range(draw(st.integers(1, max_ops))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        node, key = _container(doc, path), path[-1]
        op = draw(st.sampled_from(["drop", "retype", "weird", "weird", "nest", "long", "add", "dup", "wrap"]))
        notes.append(f"{op} {'.'.join(map(str, path))}")
        if op == "drop":
            del node[key]
        elif op == "retype":
            node[key] = draw(json_value)
        elif op == "weird":
            node[key] = draw(st.sampled_from(WEIRD_NUMBERS + WEIRD_TEXT))
        elif op == "nest":
            node[key] = _nest_marker(draw(st.sampled_from(NEST_DEPTHS)), draw(st.sampled_from("LO")))
        elif op == "long":
            node[key] = draw(st.sampled_from(["a", "é", "😀", "/"])) * draw(st.sampled_from(LONG_LENGTHS))
            if isinstance(node[key], str) and draw(st.booleans()):
                node[key] = "http://example.com/" + node[key]
        elif op == "add":
            target = node[key] if isinstance(node[key], dict) else node
            if isinstance(target, dict):
                target[draw(st.sampled_from(["extra", "objectType", "id", "", "😀", "mbox", "member"]))] = \
                    draw(json_value)
        elif op == "dup" and isinstance(node, dict):
            dup = (path, draw(json_value))
        elif op == "wrap":
            node[key] = [node[key]] if draw(st.booleans()) else {"value": node[key]}
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    if dup is not None and isinstance(doc, dict) and len(dup[0]) == 1 and dup[0][0] in doc:
        text = text[:-1] + ", " + json.dumps(dup[0][0]) + ": " + json.dumps(dup[1]) + "}"
    text = _expand_markers(text)
    data = text.encode("utf-8", "surrogatepass")
    return draw(mutated_bytes(data, notes))


@st.composite
def mutated_bytes(draw, data: bytes, notes: list, on: bool = True):
    if not on:
        return data
    op = draw(st.sampled_from(["none"] * 8 + ["truncate", "bad_utf8", "bom", "utf16", "garbage", "empty", "nul",
                                                 "trailing"]))
    if op == "none":
        return data
    notes.append(f"bytes:{op}")
    if op == "truncate":
        return data[:draw(st.integers(0, max(0, len(data) - 1)))]
    if op == "bad_utf8":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80",
                                                 b"\x80"])) + data[at:]
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    if op == "utf16":
        return data.decode("utf-8", "replace").encode("utf-16")
    if op == "garbage":
        return draw(st.binary(max_size=64))
    if op == "empty":
        return b""
    if op == "nul":
        return data + b"\x00"
    return data + draw(st.sampled_from([b" x", b"}", b"]", b",", b"\n{}"]))


def _param_value_strategy(name: str, valid: str):
    """Mutations of one query parameter's value."""
    agentish = [json.dumps(a) for a in AGENTS] + [
        json.dumps({"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),  # anonymous Group
        json.dumps({"objectType": "Group", "member": []}), json.dumps({"mbox": "ada@example.com"}),
        json.dumps({"mbox": "mailto:a@example.com", "openid": "http://x"}), json.dumps([AGENTS[0]]),
        json.dumps({"account": {"homePage": "x", "name": 1}}), '{"mbox":', "mailto:ada@example.com"]
    choices = [st.sampled_from(WEIRD_TEXT), st.text(max_size=30),
               st.sampled_from([valid + valid, valid[:-1], valid.upper(), " " + valid, valid + "\n",
                                valid + "\u0000"])]
    if name in ("agent",):
        choices.append(st.sampled_from(agentish))
        choices.append(st.builds(lambda t: t, mutated_json(AGENTS[0], []).map(lambda b: b.decode("utf-8",
                                                                                                  "replace"))))
    if name in ("limit", "version"):
        choices.append(st.integers(-2 ** 70, 2 ** 70).map(str))
        choices.append(st.sampled_from(["²", "١٢", "٣", "𝟙", "１０", "0²", "1²", "٠", "1.0", "1e2", "-0"]))
    if name in ("since", "until"):
        choices.append(st.sampled_from(["2024-03-01T10:15:30Z", "2024-03-01", "2024-03-01T10:15:30.123456789Z",
                                        "20240301T101530Z", "2024-13-01T00:00:00Z", "1970-01-01T00:00:00Z",
                                        "2024-03-01T10:15:30\u2212 01:00", "٢٠٢٤-03-01T10:15:30Z"]))
    return st.one_of(*choices)


@st.composite
def mutated_params(draw, valid: dict, names: list[str], notes: list, on: bool = True, allow_raw: bool = True):
    """``valid`` params, then (when ``on``): change values, drop, duplicate, or add parameters from ``names``."""
    params = list(valid.items())
    if not on:
        return params, None
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(["value", "value", "drop", "dup", "add", "unknown"]))
        if op == "value" and params:
            i = draw(st.integers(0, len(params) - 1))
            name, value = params[i]
            params[i] = (name, draw(_param_value_strategy(name, value)))
            notes.append(f"param {name}={params[i][1][:60]!r}")
        elif op == "drop" and params:
            i = draw(st.integers(0, len(params) - 1))
            notes.append(f"drop param {params[i][0]}")
            del params[i]
        elif op == "dup" and params:
            name, value = params[draw(st.integers(0, len(params) - 1))]
            params.append((name, draw(st.sampled_from([value, "x", ""]))))
            notes.append(f"duplicate param {name}")
        elif op == "add":
            name = draw(st.sampled_from(names))
            params.append((name, draw(_param_value_strategy(name, "x"))))
            notes.append(f"add param {name}={params[-1][1][:60]!r}")
        elif op == "unknown":
            name = draw(st.sampled_from(["foo", "Limit", "", "statementid", "agent[]", "é"]))
            params.append((name, "1"))
            notes.append(f"unknown param {name!r}")
    raw = None
    if allow_raw and draw(st.integers(0, 15)) == 0:
        raw = draw(st.sampled_from([b"limit=%FF", b"agent=%C3%28", b"%", b"a=%G0", b"&&", b"=x", b"cursor=%00",
                                    b"since=%ED%A0%80"]))
        notes.append(f"raw query {raw!r}")
    return params, raw


VERSION_VALUES = ["1.0.3"] * 12 + ["1.0.0", "1.0", "1.0.9", "2.0.0", "0.95", "", "1.0.3, 1.0.3", " 1.0.3 ",
                                   "1.0.3.1", "2", "１.０.３", "1.0.3\t", "1.0.99999999999999999999"]


@st.composite
def headers_for(draw, notes: list, auth: str, content_type: str | None, on: bool = True):
    """The version, auth and content type headers; when ``on``, maybe odd ones and an extra header."""
    if not on:
        return ([("X-Experience-API-Version", VERSION)] + auth_header(auth)
                + ([("Content-Type", content_type)] if content_type is not None else []))
    version = draw(st.sampled_from(VERSION_VALUES + [None]))
    h = []
    if version is not None:
        h.append(("X-Experience-API-Version", version.encode("utf-8")))
    if version != "1.0.3":
        notes.append(f"version {version!r}")
    h += auth_header(auth)
    if content_type is not None:
        ct = draw(st.sampled_from([content_type] * 6 + ["", "text/plain", "application/json; charset=latin-1",
                                                         "application/x-www-form-urlencoded", "multipart/mixed",
                                                         "multipart/mixed; boundary=", "application/octet-stream",
                                                         "application/json;;;", "*/*", "application/jsonx"]))
        if ct != content_type:
            notes.append(f"content-type {ct!r}")
        h.append(("Content-Type", ct))
    extra = draw(st.sampled_from([None] * 10 + ["accept-language", "if-match", "if-none-match", "long-header",
                                               "non-ascii", "x-forwarded-for", "accept", "expect", "cookie"]))
    if extra:
        notes.append(f"header {extra}")
        h.append({
            "accept-language": ("Accept-Language", draw(st.sampled_from(["fr;q=0.5, en", "*;q=abc", "é", ",,,",
                                                                         "x" * 2000 + ";q=1"]))),
            "if-match": ("If-Match", draw(st.sampled_from(['"abc"', "*", "", 'W/"x"', '"' + "a" * 5000 + '"']))),
            "if-none-match": ("If-None-Match", draw(st.sampled_from(['"abc"', "*", "", "garbage"]))),
            "long-header": ("X-Long", "a" * draw(st.sampled_from([8000, 60000]))),
            "non-ascii": ("X-Note", "é😀".encode("utf-8")),
            "x-forwarded-for": ("X-Forwarded-For", "999.1.1.1, ::::, " + "1." * 100),
            "accept": ("Accept", "application/json;q=NaN"),
            "expect": ("Expect", "100-continue"),
            "cookie": ("Cookie", "session=abc; lrs=1"),
        }[extra])
    return h


VALID_AUTH = ["admin"] * 6 + ["writer", "mine", "state"]
# What one case mutates: mostly one thing at a time, so most requests get past the checks before it.
AXES = ["params"] * 4 + ["body"] * 4 + ["auth", "headers", "none", "params+body"]


def _auths(axis: str):
    return st.sampled_from(AUTH_CHOICES if axis == "auth" else VALID_AUTH)


def _on(axis: str, what: str) -> bool:
    return what in axis.split("+")


# -- the tests --------------------------------------------------------------------------------------

STATEMENT_SHAPES = ["plain", "group_actor", "agent_object", "statement_ref", "substatement", "attachment_url",
                    "minimal", "account_actor"]


def _statement_shape(shape: str, sid: str, fixtures: dict) -> dict:
    s = _statement(sid, 1)
    if shape == "group_actor":
        s["actor"] = AGENTS[4]
    elif shape == "agent_object":
        s["object"] = dict(AGENTS[0], objectType="Agent")
    elif shape == "statement_ref":
        s["object"] = {"objectType": "StatementRef", "id": fixtures["ids"][0]}
    elif shape == "substatement":
        s["object"] = _substatement_object()
    elif shape == "attachment_url":
        s["attachments"] = [dict(_attachment_meta(b"x"), fileUrl="http://example.com/f.txt")]
    if s["object"].get("objectType", "Activity") != "Activity":
        s["context"].pop("platform", None)
    if shape == "minimal":
        s = {"id": sid, "actor": {"mbox": "mailto:m@example.com"}, "verb": {"id": VERBS[0]},
             "object": {"id": ACTIVITY}}
    elif shape == "account_actor":
        s["actor"] = AGENTS[3]
    return s


def _statements_write_case(t: Target, data) -> None:
    notes: list = []
    axis = data.draw(st.sampled_from(AXES))
    notes.append(f"axis {axis}")
    auth = data.draw(_auths(axis))
    sid = str(data.draw(st.uuids(version=4)))
    shape = data.draw(st.sampled_from(STATEMENT_SHAPES))
    statement = _statement_shape(shape, sid, t.fixtures)
    kind = data.draw(st.sampled_from(["put", "post", "batch", "multipart"]))
    notes.append(f"{kind} {shape}")
    params: list = []
    ctype = "application/json"
    if kind == "put":
        params = [("statementId", sid)]
        params, raw = data.draw(mutated_params(dict(params), ["statementId", "limit"], notes, _on(axis, "params")))
        body = data.draw(mutated_json(statement, notes, _on(axis, "body")))
        method = "PUT"
    elif kind == "post":
        raw = None
        body = data.draw(mutated_json(statement, notes, _on(axis, "body")))
        method = "POST"
    elif kind == "batch":
        raw = None
        n = data.draw(st.integers(1, 4))
        batch = [statement] + [_statement_shape(data.draw(st.sampled_from(STATEMENT_SHAPES)),
                                                str(data.draw(st.uuids(version=4))), t.fixtures) for _ in range(n)]
        if data.draw(st.booleans()):
            batch.append(json.loads(json.dumps(batch[0])))  # the same id twice
            notes.append("same id twice")
        body = data.draw(mutated_json(batch, notes, _on(axis, "body")))
        method = "POST"
    else:
        raw = None
        method = "POST"
        content = data.draw(st.sampled_from([b"hello", b"", "é😀".encode(), bytes(range(256))]))
        meta = _attachment_meta(content)
        statement["attachments"] = [meta]
        sent = content
        op = "none" if not _on(axis, "body") else data.draw(st.sampled_from([
                                        "none", "wrong_hash", "no_hash", "no_part", "extra_part",
                                        "bad_boundary", "length", "sha_weird", "part_ct", "mutate_statement",
                                        "truncate", "two_statements"]))
        notes.append(f"multipart {op}")
        part_headers = None
        parts = [("text/plain", sent)]
        statements = statement
        if op == "wrong_hash":
            part_headers = {"X-Experience-API-Hash": "0" * 64}
        elif op == "no_hash":
            part_headers = {"X-Experience-API-Hash": None}
        elif op == "no_part":
            parts = []
        elif op == "extra_part":
            parts.append(("application/octet-stream", b"more"))
        elif op == "length":
            meta["length"] = data.draw(st.sampled_from(WEIRD_NUMBERS))
        elif op == "sha_weird":
            meta["sha2"] = data.draw(st.sampled_from(WEIRD_TEXT + ["A" * 64, "g" * 64, "0" * 64]))
        elif op == "part_ct":
            part_headers = {"Content-Type": data.draw(st.sampled_from(["", "x", "text/plain; charset=\xe9"])),
                            "Content-Transfer-Encoding": data.draw(st.sampled_from(["binary", "base64", "7bit"]))}
        elif op == "two_statements":
            statements = [statement, _statement_shape("plain", str(data.draw(st.uuids(version=4))), t.fixtures)]
        body, ctype = multipart_body(statements, parts, part_headers=part_headers)
        if op == "mutate_statement":
            head = f"--xapi-test-boundary\r\nContent-Type: application/json\r\n\r\n".encode()
            rest = body[len(head) + len(json.dumps(statements).encode()):]
            body = head + data.draw(mutated_json(statements, notes, _on(axis, "body"))) + rest
        elif op == "truncate":
            body = body[:data.draw(st.integers(0, len(body)))]
        elif op == "bad_boundary":
            ctype = data.draw(st.sampled_from(["multipart/mixed", 'multipart/mixed; boundary=""',
                                               "multipart/mixed; boundary=other", "multipart/mixed; boundary=" +
                                               "b" * 200, "multipart/related; boundary=xapi-test-boundary"]))
    headers = data.draw(headers_for(notes, auth, ctype, axis == "headers"))
    t.send(Req(method, "/xapi/statements", params, headers, body, raw, route=f"/xapi/statements ({kind})",
               notes=notes, auth=auth))


QUERY_NAMES = ["agent", "verb", "activity", "registration", "related_activities", "related_agents", "since",
               "until", "limit", "format", "attachments", "ascending", "cursor"]


def _statements_read_case(t: Target, data) -> None:
    notes: list = []
    f = t.fixtures
    axis = data.draw(st.sampled_from(AXES))
    notes.append(f"axis {axis}")
    auth = data.draw(_auths(axis))
    axis = axis.replace("body", "params")  # a GET has no body: mutate its parameters instead
    kind = data.draw(st.sampled_from(["by_id", "voided", "query", "query", "query", "cursor", "cursor", "more"]))
    notes.append(kind)
    if kind == "by_id":
        valid = {"statementId": data.draw(st.sampled_from(f["ids"] + [f["attached"]])),
                 "format": data.draw(st.sampled_from(["exact", "ids", "canonical"])),
                 "attachments": data.draw(st.sampled_from(["true", "false"]))}
        names = ["statementId", "voidedStatementId", "format", "attachments", "limit"]
    elif kind == "voided":
        valid = {"voidedStatementId": f["voided"]}
        names = ["statementId", "voidedStatementId", "format", "attachments"]
    elif kind == "more":
        valid = dict(httpx.URL(f["more"]).params.multi_items())
        names = QUERY_NAMES
    else:
        valid = {}
        for name in data.draw(st.lists(st.sampled_from(QUERY_NAMES[:-1]), max_size=5, unique=True)):
            valid[name] = {
                "agent": json.dumps(data.draw(st.sampled_from(AGENTS))),
                "verb": data.draw(st.sampled_from(VERBS)),
                "activity": ACTIVITY,
                "registration": REGISTRATION,
                "related_activities": data.draw(st.sampled_from(["true", "false"])),
                "related_agents": data.draw(st.sampled_from(["true", "false"])),
                "since": "2000-01-01T00:00:00Z",
                "until": "2100-01-01T00:00:00.000+01:00",
                "limit": data.draw(st.sampled_from(["0", "1", "2", "100", "101"])),
                "format": data.draw(st.sampled_from(["exact", "ids", "canonical"])),
                "attachments": data.draw(st.sampled_from(["true", "false"])),
                "ascending": data.draw(st.sampled_from(["true", "false"])),
            }[name]
        if kind == "cursor":  # a filter too: the store walks its index up to the cursor's numbers
            filt = data.draw(st.sampled_from(["verb", "agent", "activity", "registration"]))
            valid.setdefault(filt, {"verb": VERBS[0], "agent": json.dumps(AGENTS[0]), "activity": ACTIVITY,
                                    "registration": REGISTRATION}[filt])
            real = f["cursor"]
            valid["cursor"] = real if not _on(axis, "params") else data.draw(st.one_of(
                st.just(real),
                st.sampled_from(["4503599627370496.4503599627370496", "9223372036854775808.1",
                                 "1.9223372036854775808", "18446744073709551616.18446744073709551616",
                                 "-1.-1", "0.0", "1.0", "0.1", "99999999999999999999999.1", "1", ".", "1.2.3",
                                 "²." + real.split(".")[-1], "abc", "", real + "0", real[::-1],
                                 real.replace(".", ".9"), "1e3.5"]),
                st.tuples(st.integers(-2 ** 70, 2 ** 70), st.integers(-2 ** 70, 2 ** 70)).map(
                    lambda p: f"{p[0]}.{p[1]}"),
                st.text(max_size=20)))
            if valid["cursor"] != real:
                notes.append(f"cursor={valid['cursor'][:50]!r}")
        names = QUERY_NAMES
    # a forged cursor is the one mutation of its request: it must get past the other parameters' checks
    params, raw = data.draw(mutated_params(valid, names, notes, _on(axis, "params") and kind != "cursor"))
    headers = data.draw(headers_for(notes, auth, None, axis == "headers"))
    method = data.draw(st.sampled_from(["GET"] * 12 + ["HEAD"]))
    t.send(Req(method, "/xapi/statements", params, headers, None, raw, route=f"/xapi/statements ({kind})",
               notes=notes, auth=auth))


def _documents_case(t: Target, data) -> None:
    notes: list = []
    axis = data.draw(st.sampled_from(AXES))
    notes.append(f"axis {axis}")
    auth = data.draw(st.sampled_from(AUTH_CHOICES if axis == "auth" else VALID_AUTH + ["state"] * 3))
    kind = data.draw(st.sampled_from(list(DOC_PATHS)))
    method = data.draw(st.sampled_from(["GET", "GET", "PUT", "POST", "POST", "DELETE", "HEAD"]))
    valid = dict(DOC_PARAMS[kind])
    id_param = "stateId" if kind == "state" else "profileId"
    if method in ("GET", "DELETE", "HEAD") and data.draw(st.booleans()):
        del valid[id_param]  # the list / delete-all form
        if data.draw(st.booleans()):
            valid["since"] = "2000-01-01T00:00:00Z"
    if kind == "state" and data.draw(st.booleans()):
        del valid["registration"]
    names = list(DOC_PARAMS[kind]) + ["since", "registration", "stateId", "profileId", "activityId", "agent"]
    params, raw = data.draw(mutated_params(valid, names, notes, _on(axis, "params")))
    body = None
    ctype = None
    if method in ("PUT", "POST"):
        doc = data.draw(st.one_of(
            st.just({"a": 2, "b": {"c": [3]}, "new": "é"}),
            st.dictionaries(st.text(max_size=6), json_value, max_size=4)))
        ctype = data.draw(st.sampled_from(["application/json", "application/json", "text/plain",
                                           "application/octet-stream"]))
        body = data.draw(mutated_json(doc, notes, _on(axis, "body")))
    headers = data.draw(headers_for(notes, auth, ctype, axis == "headers"))
    if kind != "state" and method in ("PUT", "POST", "DELETE"):
        etag = data.draw(st.sampled_from([None, None, ("If-None-Match", "*"), ("If-Match", '"nomatch"'),
                                          ("If-Match", "*")]))
        if etag:
            headers.append(etag)
    notes.append(f"{method} {kind}")
    t.send(Req(method, DOC_PATHS[kind], params, headers, body, raw, route=DOC_PATHS[kind], notes=notes, auth=auth))


def _resources_case(t: Target, data) -> None:
    notes: list = []
    axis = data.draw(st.sampled_from(AXES))
    notes.append(f"axis {axis}")
    auth = data.draw(_auths(axis))
    path, valid, names = data.draw(st.sampled_from([
        ("/xapi/agents", {"agent": json.dumps(AGENTS[0])}, ["agent"]),
        ("/xapi/activities", {"activityId": ACTIVITY}, ["activityId"]),
        ("/xapi/about", {}, ["format"]),
        ("/xapi/statements/", {}, ["limit"]),
        ("/xapi/", {}, ["x"]),
        ("/xapi/nonexistent", {}, ["x"]),
    ]))
    params, raw = data.draw(mutated_params(valid, names, notes, _on(axis, "params")))
    method = data.draw(st.sampled_from(["GET"] * 8 + ["HEAD", "OPTIONS", "POST", "PUT", "DELETE", "PATCH"]))
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = data.draw(mutated_json({"a": 1}, notes, _on(axis, "body")))
    headers = data.draw(headers_for(notes, auth, "application/json" if body is not None else None, axis == "headers"))
    t.send(Req(method, path, params, headers, body, raw, route=path, notes=notes, auth=auth))


ALT_METHODS = ["GET", "PUT", "POST", "DELETE"]


def _alternate_syntax_case(t: Target, data) -> None:
    notes: list = []
    f = t.fixtures
    axis = data.draw(st.sampled_from(AXES))
    notes.append(f"axis {axis}")
    auth = data.draw(_auths(axis))
    target_kind = data.draw(st.sampled_from(["statements", "state", "activity_profile", "agent_profile"]))
    method = data.draw(st.sampled_from(ALT_METHODS))
    path = "/xapi/statements" if target_kind == "statements" else DOC_PATHS[target_kind]
    form: list = []
    if target_kind == "statements":
        sid = str(data.draw(st.uuids(version=4)))
        if method == "GET":
            form += [("statementId", data.draw(st.sampled_from(f["ids"])))] if data.draw(st.booleans()) else \
                [("limit", "2"), ("agent", json.dumps(AGENTS[0]))]
        elif method == "PUT":
            form += [("statementId", sid), ("content", json.dumps(_statement(sid, 1)))]
        else:
            form += [("content", json.dumps(_statement(sid, 2)))]
    else:
        form += list(DOC_PARAMS[target_kind].items())
        if method in ("PUT", "POST"):
            form.append(("content", '{"x": 1}'))
    auth_form = data.draw(st.sampled_from(["form", "header", "none", "both"])) if axis == "auth" else "form"
    creds = auth_header(auth)
    if auth_form in ("form", "both") and creds:
        form.append(("Authorization", creds[0][1] if isinstance(creds[0][1], str) else creds[0][1].decode()))
    if axis != "headers" or data.draw(st.booleans()):
        form.append(("X-Experience-API-Version", "1.0.3"))
    if method in ("PUT", "POST"):
        form.append(("Content-Type", "application/json"))
    form, _ = data.draw(mutated_params(dict(form), ["content", "Authorization", "Content-Type", "statementId",
                                                     "X-Experience-API-Version", "method", "agent", "limit"],
                                       notes, _on(axis, "params"), allow_raw=False))
    if _on(axis, "body") and data.draw(st.booleans()):  # the content itself mutated, as JSON
        try:
            content = json.loads(dict(form).get("content") or "")
        except ValueError:  # no content, or the parameter mutation already replaced it
            content = None
        if content is not None:
            mutated = data.draw(mutated_json(content, notes)).decode("utf-8", "surrogateescape")
            form = [(k, mutated if k == "content" else v) for k, v in form]
    body = "&".join(_pct(k) + "=" + _pct(v) for k, v in form).encode()
    body = data.draw(mutated_bytes(body, notes, _on(axis, "body")))
    query_method = method
    ctype = "application/x-www-form-urlencoded"
    params = [("method", query_method)]
    headers = []
    if axis == "headers":
        query_method = data.draw(st.sampled_from([method, method.lower(), "PATCH", "", "GET,PUT", "OPTIONS"]))
        params = [("method", query_method)]
        if data.draw(st.booleans()):
            params.append(("limit", "1"))
            notes.append("extra query parameter")
        ctype = data.draw(st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain",
                                           "application/x-www-form-urlencoded; charset=latin-1"]))
        if data.draw(st.booleans()):
            headers.append(("X-Experience-API-Version", data.draw(st.sampled_from(VERSION_VALUES))))
    headers.append(("Content-Type", ctype))
    if auth_form in ("header", "both"):
        headers += creds
    notes.append(f"alt {query_method} {target_kind} auth in {auth_form}")
    t.send(Req("POST", path, params, headers, body, None, route=f"{path}?method=", notes=notes, auth=auth))


# -- content store ---------------------------------------------------------------------------------

def _valid_zip(identifier: str) -> bytes:
    return scorm12_zip(identifier)


@st.composite
def mutated_package(draw, notes: list, on: bool = True):
    if not on:
        return _valid_zip(draw(st.sampled_from(["com.example.fuzz", "com.example.fuzz2", "com.example.fuzz3"])))
    ident = draw(st.sampled_from(["com.example.fuzz", "com.example.fuzz2", "  com.example.pad  ", "é😀", "",
                                  "a" * 3000, "../x", "com.example.\u0000"]))
    op = draw(st.sampled_from(["manifest", "manifest", "manifest", "zip_bytes", "entries", "empty",
                               "random", "launch", "no_manifest"]))
    notes.append(f"package {op} id={ident[:30]!r}")
    if op == "valid":
        return _valid_zip(ident)
    if op == "manifest":
        m = manifest_12(ident)
        edit = draw(st.sampled_from(["drop_org", "drop_res", "bad_ref", "deep", "dtd", "encoding", "truncate",
                                     "long_title", "weird_version", "no_ns", "dup_id"]))
        notes.append(f"manifest {edit}")
        m = {
            "drop_org": lambda: re.sub(r"<organizations.*?</organizations>", "", m, flags=re.S),
            "drop_res": lambda: re.sub(r"<resources>.*?</resources>", "", m, flags=re.S),
            "bad_ref": lambda: m.replace('identifierref="res_1"', 'identifierref="nope"'),
            "deep": lambda: m.replace("<title>Lesson</title>", "<item>" * 500 + "</item>" * 500 + "<title>L</title>"),
            "dtd": lambda: m.replace('<?xml version="1.0"?>', '<?xml version="1.0"?><!DOCTYPE manifest [<!ENTITY x '
                                     '"xxxxxxxxxx"><!ENTITY y "&x;&x;&x;&x;&x;&x;&x;&x;&x;&x;">]>').replace(
                "<title>Example</title>", "<title>&y;</title>"),
            "encoding": lambda: m.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>'),
            "truncate": lambda: m[:draw(st.integers(0, len(m)))],
            "long_title": lambda: m.replace("<title>Example</title>", "<title>" + "é" * 100_000 + "</title>"),
            "weird_version": lambda: m.replace("<schemaversion>1.2</schemaversion>",
                                               f"<schemaversion>{draw(st.sampled_from(WEIRD_TEXT))}</schemaversion>"),
            "no_ns": lambda: m.replace(' xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"', ""),
            "dup_id": lambda: m.replace('identifier="item_1"', 'identifier="org"'),
        }[edit]()
        return zip_bytes({"imsmanifest.xml": m, "index.html": "<html>x</html>"})
    if op == "launch":
        href = draw(st.sampled_from(["javascript:alert(1)", "data:text/html,x", "http://example.com/a", "//evil",
                                     "../../etc/passwd", "index.html?x=1#y", "%2e%2e/x", "C:\\x", ""]))
        m = manifest_12(ident).replace('href="index.html"', f'href="{href}"')
        return zip_bytes({"imsmanifest.xml": m, "index.html": "x"})
    if op == "zip_bytes":
        z = bytearray(_valid_zip(ident))
        for _ in range(draw(st.integers(1, 8))):
            z[draw(st.integers(0, len(z) - 1))] = draw(st.integers(0, 255))
        return bytes(z)
    if op == "entries":
        name = draw(st.sampled_from(["../evil.html", "/abs.html", "a\\b.html", "é😀.html", "x" * 300 + ".html",
                                     "dir/", "a/../../b", "IMSMANIFEST.XML", "con.html"]))
        return zip_bytes({"imsmanifest.xml": manifest_12(ident), "index.html": "x", name: "y"})
    if op == "empty":
        return draw(st.sampled_from([b"", zip_bytes({})]))
    if op == "no_manifest":
        return zip_bytes({"index.html": "x"})
    return draw(st.binary(max_size=200))


def _content_store_case(t: Target, data) -> None:
    notes: list = []
    course = t.fixtures["course"]
    axis = data.draw(st.sampled_from(["params"] * 4 + ["body"] * 3 + ["headers"] * 3 + ["auth", "none"]))
    notes.append(f"axis {axis}")
    auth = "admin" if axis != "auth" else data.draw(st.sampled_from(["writer", "mine", "state", "none", "bad_base64",
                                                                      "unknown_key", "long", "wrong_secret"]))
    headers = list(auth_header(auth))
    kind = data.draw(st.sampled_from(["upload"] * 3 + ["courses", "course", "course", "version", "version"]
                                     + ["file"] * 4 + ["retire"]))
    cid, number, fpath = course, "1", "index.html"
    if _on(axis, "params"):
        cid = data.draw(st.sampled_from([course, "nope", "é😀", "a" * 3000, "%2e%2e", "..", " ", "x%00y",
                                         "course/../../x", course.upper(), course + "%20"]))
        number = data.draw(st.sampled_from(["1", "0", "2", "99999999999999999999999", "18446744073709551616",
                                            "9223372036854775808", "-1", "²", "١", "٣", "01", "1.0", "1e3"]))
        fpath = data.draw(st.sampled_from(["index.html", "imsmanifest.xml", "nope.html", "..%2Findex.html", "%00",
                                           "a/b/c", "index.html/", "%C3%28", "é.html", "x" * 5000, "INDEX.HTML"]))
    method, path, params, body, origin = "GET", "", [], None, "main"
    if kind == "upload":
        method, path = "POST", "/content/packages"
        body = data.draw(mutated_package(notes, _on(axis, "body")))
        form = data.draw(st.sampled_from(["raw", "form", "form_no_file", "form_bad"])) if axis == "headers" else \
            data.draw(st.sampled_from(["raw", "form"]))
        if form == "raw":
            headers.append(("Content-Type", data.draw(st.sampled_from(["application/zip", "application/octet-stream",
                                                                      "text/html"]))))
        elif form == "form":
            b = "fuzzb"
            body = (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.zip\"\r\n"
                    f"Content-Type: application/zip\r\n\r\n").encode() + body + f"\r\n--{b}--\r\n".encode()
            headers.append(("Content-Type", f"multipart/form-data; boundary={b}"))
        elif form == "form_no_file":
            body = b"--fuzzb\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue\r\n--fuzzb--\r\n"
            headers.append(("Content-Type", "multipart/form-data; boundary=fuzzb"))
        else:
            headers.append(("Content-Type", data.draw(st.sampled_from(["multipart/form-data",
                                                                      "multipart/form-data; boundary=",
                                                                      "multipart/form-data; boundary=zz"]))))
        notes.append(f"upload as {form}")
    elif kind == "courses":
        path = "/content/courses"
        if _on(axis, "params"):
            params = [("include_retired", data.draw(st.sampled_from(["true", "1", "", "²", "é", "yes" * 1000])))]
    elif kind == "course":
        path = f"/content/courses/{quote(cid, safe='%/')}"
        if _on(axis, "params") or data.draw(st.booleans()):
            params = [("version", number)]
    elif kind == "version":
        path = f"/content/courses/{quote(cid, safe='%/')}/versions/{quote(number, safe='')}"
    elif kind == "retire":
        method = "POST"  # retiring the fixture course is fine: its versions stay servable
        path = f"/content/courses/{quote(cid, safe='%/')}/retire"
    else:
        method = data.draw(st.sampled_from(["GET", "GET", "HEAD"]))
        path = f"/content/files/{quote(cid, safe='%/')}/{quote(number, safe='')}/{fpath}"
        origin = "content"  # served there, to the session cookie the content client holds
        auth = "none" if axis != "auth" else auth  # course files take no credentials
        headers = [] if axis != "auth" else headers
        if axis == "auth":  # the session instead: none, forged, damaged, huge
            cookie = data.draw(st.sampled_from(["", "x", t.fixtures["session"][:-4] + "AAAA",
                                                t.fixtures["session"] + ".x", "a" * 3000]))
            headers.append(("Cookie", f"lrs_player={cookie}"))
            notes.append(f"cookie {cookie[:20]!r}")
        if axis == "headers":
            rng = data.draw(st.sampled_from([None, "bytes=0-3", "bytes=-5", "bytes=5-", "bytes=10-0",
                                             "bytes=99999999999999999999-", "bytes=0-99999999999999999999",
                                             "bytes=0-1,2-3", "bytes=²-3", "bytes=١-3", "items=0-1", "bytes=",
                                             "bytes=-0", "bytes=-99999999999999999999", "bytes=a-b",
                                             "bytes=0-1," * 200]))
            if rng:
                headers.append(("Range", rng))
            inm = data.draw(st.sampled_from([None, "*", '"abc"', 'W/"x"', "", "garbage,,,", '"' + "e" * 4000]))
            if inm is not None:
                headers.append(("If-None-Match", inm))
            ims = data.draw(st.sampled_from([None, "Wed, 21 Oct 2015 07:28:00 GMT", "garbage",
                                             "Wed, 21 Oct 99999 07:28:00 GMT"]))
            if ims:
                headers.append(("If-Modified-Since", ims))
            if data.draw(st.booleans()):
                headers.append(("If-Range", data.draw(st.sampled_from(['"abc"', "garbage",
                                                                       "Wed, 21 Oct 2015 07:28:00 GMT"]))))
            notes.append(f"range={rng!r} if-none-match={inm!r} if-modified-since={ims!r}")
        else:
            headers.append(("Range", data.draw(st.sampled_from(["bytes=0-3", "bytes=-5", "bytes=2-"]))))
    notes.append(f"{kind} id={cid[:30]!r} n={number!r} path={fpath[:30]!r}")
    route = {"upload": "/content/packages", "courses": "/content/courses", "course": "/content/courses/{id}",
             "version": "/content/courses/{id}/versions/{n}", "file": "/content/files/{id}/{n}/{path}",
             "retire": "/content/courses/{id}/retire"}[kind]
    t.send(Req(method, path, params, headers, body, None, route=route, notes=notes, auth=auth, origin=origin))


# -- the tests (each sends its share of LRS_FUZZ_EXAMPLES cases; see the module docstring) --------

def test_fuzz_statements_write(run):
    """PUT and POST (single, batch, multipart/mixed with attachments) of mutated Statements."""
    run.fuzz("statements_write", _statements_write_case)


def test_fuzz_statements_read(run):
    """GET by statementId/voidedStatementId and queries with every parameter, including mutated cursors."""
    run.fuzz("statements_read", _statements_read_case)


def test_fuzz_documents(run):
    """State, activity profile and agent profile: GET (one and list), PUT, POST (JSON merge), DELETE."""
    run.fuzz("documents", _documents_case)


def test_fuzz_resources(run):
    """/xapi/agents, /xapi/activities and /xapi/about with mutated parameters, and other methods on them."""
    run.fuzz("resources", _resources_case)


def test_fuzz_alternate_syntax(run):
    """The alternate request syntax: POST ...?method=X with the headers, parameters and content as a form."""
    run.fuzz("alternate_syntax", _alternate_syntax_case)


def test_fuzz_content_store(run):
    """Package uploads (raw and form, mutated zips and manifests), course listings and versions, and
    course files with Range / If-None-Match headers."""
    run.fuzz("content_store", _content_store_case)
